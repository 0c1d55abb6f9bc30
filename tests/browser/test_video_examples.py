"""The Long video tab's image-to-video and video-to-video examples, as a person uses them in headless
chromium against `release-hub --tiny`: a click fills the form visibly (mode, image or clip, prompt,
length), and Generate from there makes a video that shows in the page."""
from __future__ import annotations

import pytest
from demos.video.limits import MODE_TITLES
from browser_helpers import assert_no_progress, coverage, save_screenshot, video_state, wait_busy, wait_idle

CHUNK_WAIT_MS = 600_000  # a chunk of the tiny model on a busy 2-core box

EXAMPLES = {
    # mode: (example label, prompt start, the input that must show, the one that must not)
    "i2v": ("Image to video · the drawn lake", "The sun rises over a calm mountain lake", "#video-image",
            "#video-video"),
    "v2v": ("Video to video · continue the drawn sunrise", "The sun keeps rising over the lake", "#video-video",
            "#video-image"),
}


@pytest.mark.parametrize("mode", sorted(EXAMPLES))
def test_video_example_fills_the_form_and_runs(tiny_server, browser_page, mode):
    label, prompt_start, shown, hidden = EXAMPLES[mode]
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Long video").click()
    assert page.locator("#video-image").is_hidden() and page.locator("#video-video").is_hidden()  # t2v at first
    page.locator("#video-examples").get_by_text(label, exact=True).click()

    # Filled, and visibly so: the prompt, the mode, the frames, and the image or clip in its (now shown) box.
    page.wait_for_function(f"document.querySelector('#video-prompt textarea').value.startsWith({prompt_start!r})",
                           timeout=30_000)
    page.locator(f"#video-mode input[value={mode}]").wait_for(state="attached", timeout=30_000)
    page.wait_for_function(f"document.querySelector('#video-mode input[value={mode}]').checked", timeout=30_000)
    assert page.locator("#video-frames input[type=number]").input_value() == "33"
    media = page.locator(f"{shown} img" if mode == "i2v" else f"{shown} video")
    media.wait_for(state="visible", timeout=30_000)
    if mode == "i2v":
        page.wait_for_function("(() => { const i = document.querySelector('#video-image img');"
                               " return i && i.complete && i.naturalWidth > 0; })()", timeout=30_000)
    else:
        page.wait_for_function("(() => { const v = document.querySelector('#video-video video');"
                               " return v && v.readyState >= 1 && v.duration > 1; })()", timeout=30_000)
    assert page.locator(hidden).is_hidden()
    assert page.locator("#video-variant input[value=distilled]").is_checked()

    page.locator("#video-run").click()
    wait_busy(page, "#video-run", "Generating")
    status = page.locator("#video-status")
    status.get_by_text("Done in").wait_for(timeout=CHUNK_WAIT_MS)
    wait_idle(page, "#video-run", "Generate", timeout=60_000)
    assert_no_progress(page, "#video-progress")
    assert "33 frames" in status.inner_text(), status.inner_text()

    # The video is in the page, has a picture, and nothing covers it.
    video = page.locator("#video-output video")
    page.wait_for_function("(() => { const v = document.querySelector('#video-output video');"
                           " return v && v.readyState >= 2 && v.videoWidth > 0; })()", timeout=60_000)
    state = video_state(video)
    assert abs(state["duration"] - 33 / 24) < 0.1, state
    covered = coverage(video)
    assert covered["hits"] == [] and covered["overlaps"] == [], covered
    # The session gallery names what was made: this mode, from the example's variant.
    page.locator("#video-gallery").get_by_text(f"· {MODE_TITLES[mode]} ·").first.wait_for(timeout=60_000)
    save_screenshot(page, f"video_example_{mode}_done")
