"""Stop, examples and the plain-words lines of the Voice (Voxtral and cloning) and Game agent tabs,
as a person sees them in headless chromium against `release-hub --tiny`."""
from __future__ import annotations

import io
import re

import soundfile as sf
from browser_helpers import (speak_one_second, RUN_WAIT_MS, assert_audio_plays, audio_state, save_screenshot, set_slider, stop_run,
                             wait_audio_loaded, wait_busy, wait_idle)

LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)  # 1,799 characters


def test_voice_example_runs_and_stop_keeps_the_audio(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    # An example fills the text and the voice, and runs.
    page.locator("#tts-examples").get_by_text("Bonjour").first.click()
    page.wait_for_function("document.querySelector('#tts-text textarea').value.startsWith('Bonjour')", timeout=30_000)
    assert page.locator("#tts-voice input").input_value() == "French · female"
    speak_one_second(page)
    # The limit cut it: said in plain words, with the way to raise it, and no internal names.
    summary = page.locator("#tts-summary").inner_text()
    assert "cut at the 1 s duration limit" in summary and "raise Max duration" in summary, summary
    assert "max_duration" not in summary and "segment_budget" not in summary

    # Text pasted past the limit is cut, and the counter says so.
    page.locator("#tts-text textarea").fill(LONG_TEXT + " " + LONG_TEXT)
    page.locator("#tts-counter").get_by_text("was cut off").wait_for(timeout=30_000)

    # A long run, stopped once this run's stream holds over a second of audio (the player still holds
    # the previous run's audio when it starts: waiting for "an <audio>" alone would stop it at once).
    previous = audio_state(page, "#tts-player")
    page.locator("#tts-text textarea").fill(LONG_TEXT)
    set_slider(page, "#tts-max-seconds", "0")
    page.locator("#tts-run").click()
    wait_busy(page, "#tts-run", "Speaking")
    page.wait_for_function(
        "(old) => { const a = document.querySelector('#tts-player audio'); const b = a && a.buffered;"
        " return a && a.currentSrc && a.currentSrc !== old && b.length && b.end(b.length - 1) >= 1.0; }",
        arg=(previous or {}).get("src"), timeout=RUN_WAIT_MS)
    text = stop_run(page, "voice", stop="#tts-stop", line="#tts-summary", run="#tts-run", run_label="Speak")
    kept = re.search(r"Kept the first ([\d.]+) s of audio", text)
    assert kept, text
    kept_s = float(kept.group(1))
    # The player's own time display shows the kept audio's length (whole seconds: at least 0:01),
    # the same length the line states (AAC framing adds < 0.2 s), and it plays.
    state = wait_audio_loaded(page, "#tts-player", at_least=kept_s - 0.1)
    assert state["duration"] >= 1.0 and abs(state["duration"] - kept_s) < 0.25, (state, kept_s)
    assert_audio_plays(page, "#tts-player")
    wav = page.request.get(page.locator("#tts-download a").first.get_attribute("href")).body()
    assert abs(sf.info(io.BytesIO(wav)).duration - kept_s) < 0.06
    assert page.locator("#tts-player").get_by_text("Error").count() == 0
    save_screenshot(page, "voice_stopped_keeps_audio")

    # An error is shown beside the last good result, which stays: no red badges over it.
    page.locator("#tts-text textarea").fill("   ")
    page.locator("#tts-run").click()
    page.get_by_text("Text is empty").first.wait_for(timeout=60_000)
    wait_idle(page, "#tts-run", "Speak")
    assert page.locator("#tts-download a").count() >= 1
    for kept in ("#tts-player", "#tts-download"):
        assert page.locator(kept).get_by_text("Error", exact=True).count() == 0, kept
    save_screenshot(page, "voice_error_keeps_last_result")


def test_cloning_example_runs_with_a_plain_summary(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.get_by_role("tab", name="Clone a voice (Pocket TTS)").click()
    page.locator("#clone-examples").get_by_text("one short sentence").first.click()
    page.wait_for_function("document.querySelector('#clone-text textarea').value.includes('cloned voice')",
                           timeout=30_000)
    page.locator("#clone-reference audio, #clone-reference .waveform-container").first.wait_for(
        state="attached", timeout=30_000)
    page.locator("#clone-consent input").check()
    page.locator("#clone-run").click()
    wait_busy(page, "#clone-run", "Cloning")
    summary = page.locator("#clone-summary")
    summary.get_by_text("s of audio from a").wait_for(timeout=RUN_WAIT_MS)
    wait_idle(page, "#clone-run", "Clone voice")
    assert "First audio after" in summary.inner_text()
    assert page.locator("#clone-download a").count() >= 1
    save_screenshot(page, "cloning_example_done")


def test_agent_examples_run_and_the_frame_cap_samples_evenly(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Game agent").click()
    # Frame: the drawn screenshot example, then the gamepad picture and the table (sticks first).
    page.locator("#agent-frame-examples").locator("img").first.click()
    page.locator("#agent-frame-input img").wait_for(timeout=30_000)
    page.locator("#agent-frame-run").click()
    page.locator("#agent-frame-diagram img").wait_for(timeout=RUN_WAIT_MS)
    headers = page.locator("#agent-frame-table th").all_inner_texts()
    assert [h.strip() for h in headers[:6]][2:6] == ["left x", "left y", "right x", "right y"], headers

    # Video: the drawn clip example (72 frames) with stride 1 and a cap of 8: every 9th frame, said so.
    page.get_by_role("tab", name="Video", exact=True).click()
    page.locator("#agent-video-examples").locator("video, img, button").first.click()
    page.locator("#agent-video-input video").wait_for(state="attached", timeout=30_000)
    for selector, value in (("#agent-video-stride", "1"), ("#agent-video-max-frames", "8")):
        box = page.locator(f"{selector} input[type=number]")
        box.fill(value)
        box.press("Enter")
    page.locator("#agent-video-run").click()
    wait_busy(page, "#agent-video-run", "Running")
    status = page.locator("#agent-video-status")
    status.get_by_text("Done in").wait_for(timeout=RUN_WAIT_MS)
    wait_idle(page, "#agent-video-run", "Run the agent")
    text = status.inner_text()
    assert "ran the agent on 8 frames of the 72-frame clip" in text and "one every 9 frames" in text, text
    assert "over the frame cap of 8" in text, text
    page.locator("#agent-video-output video").wait_for(state="attached", timeout=30_000)
    save_screenshot(page, "agent_video_capped")


def test_system_tab_shows_resident_models_on_arrival_and_unload_returns_memory(tiny_server, client, browser_page):
    from demos.assets import asset
    from gradio_client import handle_file

    client.predict(handle_file(asset("agent_screenshot.png")), api_name="/agent_frame")  # nitrogen is resident
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="System", exact=True).click()
    resident = page.locator("#system-resident")
    resident.get_by_text("nitrogen").wait_for(timeout=30_000)  # no Refresh click needed
    page.locator("#system-unload").click()
    note = page.locator("#system-unload-note")
    note.get_by_text("Unloaded").wait_for(timeout=120_000)
    assert re.search(r"process memory [\d.]+ GB -> [\d.]+ GB", note.inner_text()), note.inner_text()
    page.wait_for_function("!document.querySelector('#system-resident').innerText.includes('nitrogen')",
                           timeout=60_000)
    save_screenshot(page, "system_after_unload")
