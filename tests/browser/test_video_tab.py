"""The Long video tab as a person sees it, in headless chromium against `release-hub --tiny`:
the video so far is visible (not under the progress overlay) after every chunk, it is the partial
mp4's picture, it moves on between chunks, and Stop returns the tab to idle keeping what was made."""
from __future__ import annotations

import re
import time

from browser_helpers import (coverage, decoded_frames, mean_abs_difference, record_stop_latency, save_screenshot,
                             shown_video_frame, video_state)

CHUNK_WAIT_MS = 600_000  # a chunk of the tiny model on a busy 2-core box
# Mean absolute difference (0-255) allowed between the painted video and the decoded frame: the
# browser's scaling and the codec differ by a few levels; a cover or a wrong frame by far more.
FRAME_TOLERANCE = 12.0


def _assert_shown_and_uncovered(page, video, label: str) -> dict:
    """The <video> has a picture, nothing covers it, and what it paints is the mp4's frame three
    quarters in (for a longer partial: a frame the newest chunk made), or a neighbour of it."""
    for _ in range(3):  # the next chunk's mp4 may replace the src while we look: look again
        state = video_state(video)
        assert state["ready"] >= 2 and state["width"] > 0, f"{label}: the video has no picture yet: {state}"
        covered = coverage(video)
        assert covered["hits"] == [] and covered["overlaps"] == [], f"{label}: something covers the video: {covered}"
        frames = decoded_frames(page.request.get(state["src"]).body())
        index = len(frames) * 3 // 4
        period = frames[1][0] - frames[0][0]
        pixels, shown_src = shown_video_frame(page, video, at=frames[index][0] + period / 2)
        if shown_src == state["src"]:
            break
    else:
        raise AssertionError(f"{label}: the video's src kept changing while it was looked at")
    differences = {frames[i][0]: mean_abs_difference(pixels, frames[i][1])
                   for i in range(max(0, index - 1), min(len(frames), index + 2))}
    difference = min(differences.values())
    assert difference <= FRAME_TOLERANCE, (
        f"{label}: the page shows something else than frame {index} (t={frames[index][0]:.3f}) or its neighbours: "
        f"{ {round(t, 3): round(d, 1) for t, d in differences.items()} }")
    return state


def test_partial_video_is_visible_per_chunk_and_stop_keeps_it(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Long video").click()
    page.locator("#video-prompt textarea").fill("a red cat in the snow")
    frames = page.locator("#video-frames input[type=number]")
    # A value the server would refuse snaps to whole chunks, and the page says so.
    frames.fill("50")
    frames.press("Enter")
    page.locator("#video-length").get_by_text("rounded to 66").wait_for(timeout=30_000)
    assert frames.input_value() == "66"
    frames.fill("99")
    frames.press("Enter")
    page.locator("#video-length").get_by_text("3 chunks").wait_for(timeout=30_000)

    run = page.locator("#video-run")
    run.click()
    # While it runs the button says so and cannot be pressed twice.
    page.wait_for_function("document.querySelector('#video-run').disabled", timeout=60_000)
    assert "Generating" in run.inner_text()

    video = page.locator("#video-output video")
    video.wait_for(state="visible", timeout=CHUNK_WAIT_MS)
    page.wait_for_function("document.querySelector('#video-output video').readyState >= 2", timeout=60_000)
    first = _assert_shown_and_uncovered(page, video, "after chunk 1")
    assert abs(first["duration"] - 33 / 24) < 0.1, first
    # Progress is shown, in its own box.
    assert re.search(r"Chunk [23] of 3", page.locator("#video-progress").inner_text()), page.locator("#video-progress").inner_text()
    assert "Chunk 1 of 3 done" in page.locator("#video-status").inner_text()

    # The preview moves on: a new, longer mp4 after chunk 2.
    page.wait_for_function(
        "(src) => { const v = document.querySelector('#video-output video');"
        " return v && v.currentSrc && v.currentSrc !== src && v.readyState >= 2; }",
        arg=first["src"], timeout=CHUNK_WAIT_MS)
    second = _assert_shown_and_uncovered(page, video, "after chunk 2")
    assert second["duration"] > first["duration"] + 1.0, (first, second)

    stop_clicked = time.perf_counter()
    page.locator("#video-stop").click()
    status = page.locator("#video-status")
    status.get_by_text("Stopped after").wait_for(timeout=CHUNK_WAIT_MS)
    record_stop_latency("video", time.perf_counter() - stop_clicked)
    assert re.search(r"Kept [23] of 3 chunks", status.inner_text()), status.inner_text()
    # Idle again, the finished chunks still playable.
    page.wait_for_function("!document.querySelector('#video-run').disabled", timeout=60_000)
    assert run.inner_text() == "Generate"
    kept = _assert_shown_and_uncovered(page, video, "after Stop")
    assert kept["duration"] >= second["duration"] - 0.05
    save_screenshot(page, "video_stopped_keeps_partial")
