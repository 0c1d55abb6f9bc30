"""Stop in the Voice tab's cloning section and in the Game agent's Video tab, as a person sees it in
headless chromium against `release-hub --tiny`: the tab is idle again, what was made before Stop is
kept (playable, downloadable), and a line says it stopped."""
from __future__ import annotations

import io
import re

import pytest
import soundfile as sf
from browser_helpers import RUN_WAIT_MS, assert_audio_plays, save_screenshot, stop_run, wait_audio_loaded, wait_busy
from serving import start_server, stop_server

# 16 sentence groups for Pocket TTS (the section's 1,000-character limit): the tiny model makes one
# group at a time, so a run lasts long enough to be stopped after its first audio.
LONG_CLONE_TEXT = " ".join(["The weather is lovely today, so we walk along the river and talk."] * 15)[:1000]


def test_cloning_stop_keeps_the_audio_made_so_far(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.get_by_role("tab", name="Clone a voice (Pocket TTS)").click()
    page.locator("#clone-examples").get_by_text("one short sentence").first.click()
    page.locator("#clone-reference audio, #clone-reference .waveform-container").first.wait_for(
        state="attached", timeout=30_000)
    page.locator("#clone-text textarea").fill(LONG_CLONE_TEXT)
    page.locator("#clone-consent input").check()
    page.locator("#clone-run").click()
    wait_busy(page, "#clone-run", "Cloning")
    # The first sentence group is in the player (a fresh page: no earlier player to mistake for it).
    page.wait_for_function("document.querySelector('#clone-player audio') !== null", timeout=RUN_WAIT_MS)
    assert "Stopped" not in page.locator("#clone-summary").inner_text()
    text = stop_run(page, "cloning", stop="#clone-stop", line="#clone-summary", run="#clone-run",
                    run_label="Clone voice")
    kept = re.search(r"Kept the first ([\d.]+) s", text)
    assert kept, text
    kept_s = float(kept.group(1))
    assert kept_s > 0, text
    # It stopped part-way: less than the whole text's speech, and the line does not contradict itself.
    assert "No audio generated" not in text, text
    assert "First audio after" in text, text

    # Kept and playable in the player, with the duration the line states (AAC framing adds < 0.2 s).
    state = wait_audio_loaded(page, "#clone-player", at_least=kept_s - 0.1)
    assert abs(state["duration"] - kept_s) < 0.25, (state, kept_s)
    assert_audio_plays(page, "#clone-player")
    # Downloadable: the file holds that much audio.
    link = page.locator("#clone-download a").first
    wav = page.request.get(link.get_attribute("href")).body()
    seconds = sf.info(io.BytesIO(wav)).duration
    assert abs(seconds - kept_s) < 0.06, (seconds, kept_s)
    assert page.locator("#clone-player").get_by_text("Error", exact=True).count() == 0
    save_screenshot(page, "cloning_stopped_keeps_audio")



@pytest.fixture(scope="module")
def slow_agent_server(tmp_path_factory):
    """A tiny server whose NitroGen sleeps 0.5 s before each sub-module call (shared/tasks/faults.py): the tiny
    model does a 36-frame clip in ~11 s, over before Stop lands on a quiet machine; slowed, one frame batch
    takes ~7 s of sleep and the clip over a minute, whatever the machine's speed."""
    tmp = tmp_path_factory.mktemp("slow-agent")
    process, url, _ = start_server(tmp, env_extra={"RELEASE_HUB_FAULTS": "slow:nitrogen:0.5"})
    try:
        yield url
    finally:
        stop_server(process)


def test_agent_video_stop_keeps_the_actions_made_so_far(slow_agent_server, browser_page):
    page = browser_page
    page.goto(slow_agent_server)
    page.get_by_role("tab", name="Game agent").click()
    page.get_by_role("tab", name="Video", exact=True).click()
    page.locator("#agent-video-examples").locator("video, img, button").first.click()
    page.locator("#agent-video-input video").wait_for(state="attached", timeout=30_000)
    # Every frame of the 72-frame clip, capped at 48 on this profile: 36 frames, 9 batches of 4.
    stride = page.locator("#agent-video-stride input[type=number]")
    stride.fill("1")
    stride.press("Enter")
    page.locator("#agent-video-run").click()
    wait_busy(page, "#agent-video-run", "Running")
    # Progress runs 5 % -> 85 % over the frames (8.9 % a batch): past 15 %, one batch is done. Only the
    # frames' progress counts: loading the model reports its own 0 -> 100 % first.
    page.wait_for_function(
        "(() => { const t = document.querySelector('#agent-video-status').innerText;"
        " const m = t.match(/frame batch[^%]*?([\\d.]+)\\s*%/);"
        " return m && parseFloat(m[1]) >= 15; })()", timeout=RUN_WAIT_MS)
    text = stop_run(page, "agent_video", stop="#agent-video-stop", line="#agent-video-status",
                    run="#agent-video-run", run_label="Run the agent")
    ran = re.search(r"ran the agent on (\d+) frames? of the 72-frame clip", text)
    assert ran and "Kept what was done" in text, text
    kept = int(ran.group(1))
    assert 0 < kept < 36, text

    # The partial results are shown and downloadable: the overlay video, the timeline, the actions.
    page.wait_for_function("(() => { const v = document.querySelector('#agent-video-output video');"
                           " return v && v.readyState >= 1 && v.duration > 0; })()", timeout=60_000)
    page.locator("#agent-video-plot img").wait_for(state="visible", timeout=60_000)
    link = page.locator("#agent-video-actions a").first
    actions = page.request.get(link.get_attribute("href")).json()
    assert len(actions["chunks"]) == kept, (len(actions["chunks"]), text)
    assert actions["info"]["cancelled"] is True
    assert all(len(c["buttons"]) == 18 for c in actions["chunks"])
    save_screenshot(page, "agent_video_stopped_keeps_actions")
