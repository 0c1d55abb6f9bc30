"""The streamed Voice player (issue #23 item 10), in headless chromium against `release-hub --tiny`: while a
long text streams, the browser's console shows no HLS error (an empty first playlist gave "No Segments found
in Playlist"), and after Stop the player's <audio> is as long as the audio the summary says was kept."""
from __future__ import annotations

import re

from browser_helpers import RUN_WAIT_MS, save_screenshot, set_slider, stop_run, wait_busy

LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog."] * 20)
# An empty or failing playlist, and any fatal HLS error. (hls.js's non-fatal "bufferStalledError" is the player
# waiting for audio not yet made: on CPU the tiny model speaks slower than real time.)
HLS_TROUBLE = re.compile(r"HLS error|No Segments|levelEmpty|levelLoad|manifestLoad|fragLoad|Fatal")


def test_a_stopped_stream_plays_what_was_kept_and_hls_stays_quiet(tiny_server, browser_page):
    page = browser_page
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.locator("#tts-text textarea").fill(LONG_TEXT)
    page.locator("#tts-advanced").get_by_text("Advanced").click()
    set_slider(page, "#tts-max-seconds", "0")
    page.locator("#tts-run").click()
    wait_busy(page, "#tts-run", "Speaking")
    # Stop once the stream holds over a second of audio.
    page.wait_for_function(
        "() => { const a = document.querySelector('#tts-player audio'); const b = a && a.buffered;"
        " return a && a.currentSrc && b.length && b.end(b.length - 1) >= 1.0; }", timeout=RUN_WAIT_MS)
    text = stop_run(page, "voice_player", stop="#tts-stop", line="#tts-summary", run="#tts-run", run_label="Speak")
    kept = re.search(r"Kept the first ([\d.]+) s of audio", text)
    assert kept, text
    kept_s = float(kept.group(1))
    # The stream's last playlist (with its end mark) reaches the player within a few reloads: then its
    # length is the kept audio's (AAC framing adds < 0.25 s).
    page.wait_for_function(
        "(kept) => { const a = document.querySelector('#tts-player audio');"
        " return a && Number.isFinite(a.duration) && Math.abs(a.duration - kept) < 0.25; }",
        arg=kept_s, timeout=60_000)
    duration = page.evaluate("() => document.querySelector('#tts-player audio').duration")
    save_screenshot(page, "voice_player_stopped_length")
    trouble = [line for line in console if HLS_TROUBLE.search(line)]
    assert trouble == [], trouble
    assert abs(duration - kept_s) < 0.25, (duration, kept_s)
