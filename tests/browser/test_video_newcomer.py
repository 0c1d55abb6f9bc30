"""The Long video tab as a newcomer sees it (issue 23), at 1280x900 and 390x844, against `release-hub --tiny`:
the form comes first (the plan and the licence are folded), the line under the frames slider says how many
frames the video will have and the result line says the same number, the progress names its stage and the
time left while a video is made, and on a phone the result sits right under its button.
Screenshots: tests/artifacts/screenshots/video-newcomer-<viewport>-*.png."""
from __future__ import annotations

import re

import pytest

from browser_helpers import RUN_WAIT_MS, coverage, save_screenshot, set_slider, wait_idle

VIEWPORTS = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# A stage name and a time left, as the progress box shows them mid-run.
TALKING = re.compile(r"(Chunk \d of \d|The chunk) · .+ — (about .+ left|almost done)")
RESULT_GAP_PX = 48  # on a phone the progress and the video start right under the buttons' row


def _open_tab(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Long video").click()
    page.locator("#video-prompt textarea").wait_for(state="visible")


def _top(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("el => el.getBoundingClientRect().top + window.scrollY")


def _bottom(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("el => el.getBoundingClientRect().bottom + window.scrollY")


def _assert_form_first_and_details_folded(page, viewport: dict) -> None:
    intro = page.locator("#video-intro")
    assert "Helios makes the video 33 frames at a time" in intro.inner_text()
    # The prompt starts in the first screen: no paragraph of profile, plan or licence text above it.
    assert _top(page, "#video-prompt") < viewport["height"] * 0.6, _top(page, "#video-prompt")
    assert "Profile" not in intro.inner_text()
    for folded in ("#video-plan", "#video-readiness", "#video-licence"):
        assert not page.locator(folded).is_visible(), f"{folded} shows before its fold is opened"
    how = page.locator("#video-how").get_by_text("How this runs on your machine")
    licence = page.locator("#video-licence-fold").get_by_text("Licence: Helios weights are Apache-2.0")
    assert how.is_visible() and licence.is_visible()
    how.click()
    page.locator("#video-plan").get_by_text("Profile").wait_for(state="visible")
    assert not re.search(r"\d\.\d+x\b", page.locator("#video-plan").inner_text()), "a bare ratio like 0.89x"
    how.click()


def _assert_frame_rule(page) -> None:
    length = page.locator("#video-length")
    set_slider(page, "#video-frames", "99")
    length.get_by_text("You get 97 frames").wait_for(timeout=30_000)
    assert "Not 99: Helios trims a video to a length of 4k+1 frames" in length.inner_text()
    box = page.locator("#video-frames input[type=number]")
    box.fill("100")
    box.press("Enter")
    length.get_by_text("100 was rounded to 99").wait_for(timeout=30_000)
    page.wait_for_function("document.querySelector('#video-frames input[type=number]').value === '99'")
    assert "You get 97 frames" in length.inner_text()
    set_slider(page, "#video-frames", "165")
    length.get_by_text("You get 165 frames").wait_for(timeout=30_000)
    assert "Not " not in length.inner_text() and "rounded" not in length.inner_text()
    set_slider(page, "#video-frames", "66")
    length.get_by_text("You get 65 frames").wait_for(timeout=30_000)


_IDLE_HINT = "(el) => getComputedStyle(el, '::before').content"


def _assert_idle_hint(page, shown: bool) -> None:
    """While idle the progress box says what it is for; while a run shows progress that text is gone."""
    hint = page.locator("#video-progress").evaluate(_IDLE_HINT)
    assert ("Progress shows here while a video is made." in hint) == shown, hint


def _watch_progress(page, name: str) -> str:
    """Wait until the progress box names a stage and a time left; screenshot it; check nothing covers it."""
    progress = page.locator("#video-progress")
    page.wait_for_function(
        "(re) => new RegExp(re).test(document.querySelector('#video-progress').innerText)",
        arg=TALKING.pattern, timeout=RUN_WAIT_MS)
    text = progress.inner_text()
    save_screenshot(page, f"video-newcomer-{name}-running")
    assert "Progress shows here" not in text  # no placeholder under the bar
    _assert_idle_hint(page, shown=False)
    covered = coverage(progress)
    assert covered["hits"] == [] and covered["overlaps"] == [], covered
    return text


@pytest.mark.parametrize("name", ["phone", "laptop"])
def test_a_newcomer_reads_the_long_video_tab(tiny_server, _browser, name):
    viewport = VIEWPORTS[name]
    context = _browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open_tab(page, tiny_server)
        save_screenshot(page, f"video-newcomer-{name}-open")
        _assert_idle_hint(page, shown=True)
        _assert_form_first_and_details_folded(page, viewport)
        _assert_frame_rule(page)
        if name == "phone":
            # The result right under its button, the examples after the result, and none wider than the screen.
            assert abs(_top(page, "#video-run") - _top(page, "#video-stop")) < 2, "Generate and Stop side by side"
            gap = _top(page, "#video-progress") - max(_bottom(page, "#video-run"), _bottom(page, "#video-stop"))
            assert 0 <= gap <= RESULT_GAP_PX, gap
            assert _top(page, "#video-examples") > _bottom(page, "#video-status")
            assert page.locator("#video-examples").evaluate("el => el.getBoundingClientRect().right") <= 390 + 1
        page.locator("#video-prompt textarea").fill("a red fox trots through fresh snow")
        page.locator("#video-run").click()
        # The status line stops asking for a prompt as soon as the run starts.
        page.locator("#video-status").get_by_text("Generating…").wait_for(timeout=30_000)
        text = _watch_progress(page, name)
        assert TALKING.search(text), text
        status = page.locator("#video-status")
        status.get_by_text("Done in").wait_for(timeout=RUN_WAIT_MS)
        # The same number the line under the slider announced.
        assert re.search(r"Done in [\d.]+ s: ?65 frames \(2\.7 s of video at 24 frames a second", status.inner_text()), \
            status.inner_text()
        wait_idle(page, "#video-run", "Generate")
        page.wait_for_function(f"({_IDLE_HINT})(document.querySelector('#video-progress')).includes('Progress shows')",
                               timeout=60_000)
        save_screenshot(page, f"video-newcomer-{name}-done")
    finally:
        context.close()
