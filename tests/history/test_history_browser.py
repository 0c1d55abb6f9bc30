"""Reuse settings in headless chromium: History fills every input of each tab from real sidecars.

Items come from real runs of every endpoint (tests/history/conftest.py), plus
two sidecars written here with non-default values (FLAC voice, Helios-Mid
Advanced settings) and one sidecar from before schema 1. Screenshots go to
tests/artifacts/history/.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from demos.voice.voxtral.voices import label as voice_label
from shared.io.outputs import new_output_path, write_sidecar
from serving import patient_client

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "history"


def _value(page, selector: str) -> str:
    return page.locator(selector).first.input_value()


def _checked_radio(page, elem: str) -> str:
    return page.locator(f"#{elem} input[aria-checked=true]").get_attribute("value")


def _open(page, accordion_selector: str, inside: str) -> None:
    if not page.locator(inside).is_visible():
        page.locator(accordion_selector).get_by_text("Advanced", exact=True).first.click()
    page.locator(inside).first.wait_for()


def _reuse(page, item_id: str, tab: str) -> None:
    page.get_by_role("tab", name="History").click()
    page.locator("#history-selected textarea").fill(item_id)
    page.locator("#history-sidecar").get_by_text(item_id.split("/")[1]).first.wait_for()
    page.locator("#history-reuse").click()
    page.get_by_role("tab", name=tab, exact=True).and_(page.locator("[aria-selected=true]")).wait_for()


def _synthetic(outputs: Path, like_item: str, demo: str, inputs: dict, info: dict, created: float) -> str:
    """A result with the given inputs, its main file a copy of a real one (so it plays)."""
    folder, stem = like_item.split("/")
    source = next(p for p in (outputs / folder).iterdir() if p.name.startswith(stem + ".") and not p.name.endswith(".json"))
    main = new_output_path(outputs, folder, source.suffix.lstrip("."))
    shutil.copyfile(source, main)
    sidecar = write_sidecar(main, info, inputs=inputs, demo=demo)
    data = json.loads(sidecar.read_text())
    data["created_ts"] = created
    sidecar.write_text(json.dumps(data))
    return f"{folder}/{main.name.split('.')[0]}"


@pytest.fixture(scope="module")
def items(restarted_server):
    client = patient_client(restarted_server["url"])
    found = {i["demo"]: i["id"] for i in reversed(client.predict(page_size=100, api_name="/history")["items"])}
    outputs = restarted_server["outputs"]
    now = time.time()
    found["voice_flac"] = _synthetic(outputs, found["voice_voxtral"], "voice_voxtral", {
        "text": "Written in FLAC.", "voice": "de_male", "seed": 99, "cfg_alpha": 0.8, "euler_steps": 9,
        "max_seconds": 2.0, "format": "flac"}, {"model": "voxtral"}, now)
    found["video_mid"] = _synthetic(outputs, found["video"], "video", {
        "prompt": "a lighthouse at night", "mode": "t2v", "image": None, "video": None, "num_frames": 66,
        "variant": "mid", "seed": 1234, "resolution": "320x192", "steps": 7, "guidance_scale": 6.5,
        "amplify_first_chunk": False, "use_zero_init": False}, {"model": "helios-mid"}, now + 1)
    legacy_main = new_output_path(outputs, "voice_voxtral", "wav")
    shutil.copyfile(next((outputs / "voice_voxtral").glob("*.wav")), legacy_main)
    legacy_main.with_suffix(".json").write_text(json.dumps({"seed": 3, "voice": "casual_male", "model": "voxtral"}))
    found["legacy"] = f"voice_voxtral/{legacy_main.stem}"
    return found


@pytest.fixture
def page(browser_page, restarted_server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.goto(restarted_server["url"])
    return browser_page


def test_history_lists_and_plays_in_place(page, items):
    page.get_by_role("tab", name="History").click()
    page.locator("#history-table").get_by_text("a lighthouse at night").filter(visible=True).first.wait_for()
    page.locator("#history-table").get_by_text("Kept across restarts.").filter(visible=True).first.click()  # a row selects its item
    page.locator("#history-details").get_by_text("Voice · French female").wait_for()
    page.locator("#history-audio audio").first.wait_for(state="attached")
    assert "Space used" in page.locator("#history-usage").inner_text()
    page.locator("#history-selected textarea").fill(items["agent_video"])
    page.locator("#history-video video").first.wait_for(state="attached")
    page.locator("#history-image img").first.wait_for(state="attached")  # the timeline plot
    page.screenshot(path=str(ARTIFACTS / "history-tab.png"), full_page=True)


def test_reuse_fills_the_voice_tab(page, items):
    _reuse(page, items["voice_voxtral"], "Voice")
    assert _value(page, "#tts-text textarea") == "Kept across restarts."
    assert _value(page, "#tts-voice input") == voice_label("fr_female")
    assert _value(page, "#tts-seed input") == "11"
    assert _checked_radio(page, "tts-format") == "wav"
    _open(page, "#tts-advanced", "#tts-cfg")
    assert float(_value(page, "#tts-cfg input[type=number]")) == pytest.approx(1.5)
    assert _value(page, "#tts-steps input[type=number]") == "5"
    assert float(_value(page, "#tts-max-seconds input[type=number]")) == pytest.approx(1.0)
    _reuse(page, items["voice_flac"], "Voice")
    page.wait_for_function("document.querySelector('#tts-text textarea').value === 'Written in FLAC.'")
    assert _value(page, "#tts-text textarea") == "Written in FLAC."
    assert _value(page, "#tts-voice input") == voice_label("de_male")
    assert _value(page, "#tts-seed input") == "99" and _checked_radio(page, "tts-format") == "flac"
    assert float(_value(page, "#tts-cfg input[type=number]")) == pytest.approx(0.8)
    assert _value(page, "#tts-steps input[type=number]") == "9"
    assert float(_value(page, "#tts-max-seconds input[type=number]")) == pytest.approx(2.0)
    page.screenshot(path=str(ARTIFACTS / "reuse-voice.png"), full_page=True)


def test_reuse_fills_the_cloning_section_with_its_saved_reference(page, items):
    _reuse(page, items["voice_clone"], "Voice")
    page.locator("#clone-text textarea").wait_for()  # the accordion was opened
    assert _value(page, "#clone-text textarea") == "A cloned voice, kept."
    assert _value(page, "#clone-seed input") == "21" and _checked_radio(page, "clone-format") == "wav"
    page.locator("#clone-reference audio").first.wait_for(state="attached")  # the saved reference is back
    assert not page.locator("#clone-consent input").is_checked()  # consent is asked again
    page.screenshot(path=str(ARTIFACTS / "reuse-clone.png"), full_page=True)


def test_reuse_fills_the_video_tab(page, items):
    _reuse(page, items["video"], "Long video")
    assert _value(page, "#video-prompt textarea") == "a red fox in the snow"
    assert _checked_radio(page, "video-mode") == "i2v" and _checked_radio(page, "video-variant") == "distilled"
    page.locator("#video-image img").first.wait_for()  # the saved first frame
    assert _value(page, "#video-frames input[type=number]") == "33" and _value(page, "#video-seed input") == "5"
    _open(page, "#video-advanced", "#video-steps")
    assert _value(page, "#video-steps input[type=number]") == "2"
    assert page.locator("#video-amplify input").is_checked()
    # Helios-Mid with its own Advanced values: the variant switch must not reset them to Mid's defaults.
    _reuse(page, items["video_mid"], "Long video")
    page.wait_for_function("document.querySelector('#video-prompt textarea').value === 'a lighthouse at night'")
    assert _checked_radio(page, "video-mode") == "t2v" and _checked_radio(page, "video-variant") == "mid"
    assert _value(page, "#video-frames input[type=number]") == "66" and _value(page, "#video-seed input") == "1234"
    assert _value(page, "#video-resolution input") == "320x192"
    page.wait_for_timeout(1500)  # let the variant's own change event run: it must keep the reused values
    assert _value(page, "#video-steps input[type=number]") == "7"
    assert float(_value(page, "#video-guidance input[type=number]")) == pytest.approx(6.5)
    assert not page.locator("#video-zero-init input").is_checked()
    assert not page.locator("#video-image img").count() or not page.locator("#video-image").is_visible()
    page.screenshot(path=str(ARTIFACTS / "reuse-video.png"), full_page=True)


def test_reuse_fills_both_agent_sub_tabs_and_the_frame_runs_again(page, items):
    _reuse(page, items["agent_video"], "Game agent")
    page.get_by_role("tab", name="Video", exact=True).and_(page.locator("[aria-selected=true]")).wait_for()
    page.locator("#agent-video-input video").first.wait_for(state="attached")
    assert _value(page, "#agent-video-stride input[type=number]") == "4"
    assert _value(page, "#agent-video-max-frames input[type=number]") == "48"
    assert _value(page, "#agent-video-seed input") == "0"
    page.screenshot(path=str(ARTIFACTS / "reuse-agent-video.png"), full_page=True)
    _reuse(page, items["agent_frame"], "Game agent")
    page.get_by_role("tab", name="Frame", exact=True).and_(page.locator("[aria-selected=true]")).wait_for()
    page.locator("#agent-frame-input img").first.wait_for()
    assert _value(page, "#agent-frame-seed input") == "0"
    # The filled-in screenshot is a real input: running again works and gives the same actions.
    page.locator("#agent-frame-run").click()
    page.locator("#agent-frame-actions").get_by_text("buttons").first.wait_for(timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "reuse-agent-frame.png"), full_page=True)


def test_reuse_of_an_old_sidecar_says_what_it_lacks(page, items):
    page.get_by_role("tab", name="History").click()
    page.locator("#history-selected textarea").fill(items["legacy"])
    page.locator("#history-details").get_by_text("written before schema 1").wait_for()
    page.locator("#history-reuse").click()
    message = page.locator("#history-message").get_by_text("lacks")
    message.wait_for()
    assert "schema_version" in message.inner_text() and "inputs" in message.inner_text()
    assert page.get_by_role("tab", name="History").get_attribute("aria-selected") == "true"
