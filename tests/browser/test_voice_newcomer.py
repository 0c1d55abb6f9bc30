"""The Voice tab as a newcomer sees it (issue #23), at 1280×900 and on a 390×844 phone: a sentence and
the form first, the licence as one folded line, cloning in a sub-tab of its own with the consent box
beside a button that says why it is greyed out, examples that fit, and a progress line that says how
much is made and about how long is left, with nothing painted over it."""
from __future__ import annotations

import re
import time

import pytest
from browser_helpers import RUN_WAIT_MS, coverage, save_screenshot, set_slider, wait_busy, wait_idle

VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
CLONE_TAB = "Clone a voice (Pocket TTS)"
LONG_TEXT = " ".join(["The quick brown fox jumps over the lazy dog."] * 10)


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, _browser):
    """(page, viewport name): a fresh page at each of the two sizes."""
    width, height = VIEWPORTS[request.param]
    context = _browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page, request.param
    context.close()


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not laid out"
    return box


def _open_voice(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.locator("#tts-text textarea").wait_for()


def test_the_form_comes_first_and_the_licence_is_one_folded_line(tiny_server, sized_page):
    page, size = sized_page
    width, height = VIEWPORTS[size]
    _open_voice(page, tiny_server)
    # The licence is shown, as one line naming it; its full text waits behind that line.
    line = page.locator("#tts-licence-line").get_by_text("Licence: CC BY-NC 4.0 (non-commercial)")
    assert line.is_visible()
    assert not page.get_by_text("non-commercial use only, with attribution").is_visible()
    # The plan explanation is folded too.
    assert page.get_by_text("How this runs on your machine").first.is_visible()
    assert not page.locator("#tts-readiness").is_visible()
    # The text box is on the first screen, without scrolling past licence text.
    text_box = _box(page, "#tts-text textarea")
    assert text_box["y"] + text_box["height"] <= height, text_box
    # Examples fit the screen: short labels with the voice in words ("French · female"), none cut at the edge.
    example = page.locator("#tts-examples").get_by_text("French · female: Bonjour")
    assert example.is_visible()
    page.locator("#tts-examples").scroll_into_view_if_needed()
    for button in page.locator("#tts-examples button").all():
        if button.is_visible():
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (button.inner_text(), box)
    # The result (player and status line) sits right under its button, before the examples.
    run, summary, examples = _box(page, "#tts-run"), _box(page, "#tts-summary"), _box(page, "#tts-examples")
    assert summary["y"] < examples["y"], (summary, examples)
    assert summary["y"] - (run["y"] + run["height"]) < height / 2, (run, summary)
    save_screenshot(page, f"voice_newcomer_form_{size}")
    # One click opens the licence's full text.
    line.click()
    page.get_by_text("non-commercial use only, with attribution").wait_for(timeout=10_000)


def test_clone_sub_tab_button_waits_for_consent_and_examples_leave_it_unticked(tiny_server, sized_page):
    page, size = sized_page
    _open_voice(page, tiny_server)
    page.get_by_role("tab", name=CLONE_TAB).click()
    run, reason, consent = page.locator("#clone-run"), page.locator("#clone-consent-reason"), \
        page.locator("#clone-consent input[type=checkbox]")
    run.wait_for()
    # Greyed out, with the reason beside it.
    assert run.is_disabled()
    assert reason.get_by_text("Tick the consent box to clone").is_visible()
    assert "Licence: CC BY 4.0" in page.locator("#clone-licence-line").inner_text()
    # The consent box is beside the button: the two are less than a button's height or two apart.
    box, button = _box(page, "#clone-consent"), _box(page, "#clone-run")
    assert button["y"] - (box["y"] + box["height"]) < 120, (box, button)
    # An example fills the reference and the text, never the consent box.
    page.locator("#clone-examples").get_by_text("Synthetic voice · one short sentence").click()
    page.wait_for_function("document.querySelector('#clone-text textarea').value.includes('cloned voice')",
                           timeout=30_000)
    page.locator("#clone-reference audio, #clone-reference .waveform-container").first.wait_for(
        state="attached", timeout=30_000)
    assert not consent.is_checked() and run.is_disabled()
    save_screenshot(page, f"voice_newcomer_clone_unticked_{size}")
    # Ticking the box enables the button and the reason goes; unticking greys it out again.
    consent.check()
    page.wait_for_function("!document.querySelector('#clone-run').disabled", timeout=10_000)
    reason.wait_for(state="hidden", timeout=10_000)
    save_screenshot(page, f"voice_newcomer_clone_ticked_{size}")
    consent.uncheck()
    page.wait_for_function("document.querySelector('#clone-run').disabled", timeout=10_000)
    assert reason.get_by_text("Tick the consent box to clone").is_visible()
    # A run's end re-enables its button, but the box decides: unticked during the run, it stays greyed out.
    consent.check()
    page.wait_for_function("!document.querySelector('#clone-run').disabled", timeout=10_000)
    run.click()
    page.wait_for_function("document.querySelector('#clone-run').innerText.includes('Cloning')", timeout=30_000)
    consent.uncheck()
    page.wait_for_function("""() => { const b = document.querySelector('#clone-run');
        return b.innerText.trim() === 'Clone voice' && b.disabled; }""", timeout=300_000)
    assert reason.get_by_text("Tick the consent box to clone").is_visible()


_TRACKER_PARTS = """
() => {
  const line = document.querySelector('#tts-summary').getBoundingClientRect();
  const parts = [...document.querySelectorAll('[data-testid=status-tracker] *')].filter((el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility === 'visible' && s.display !== 'none'
      && parseFloat(s.opacity) > 0.05 && (el.innerText || '').trim().length > 0;
  });
  const crossing = parts.filter((el) => {
    const r = el.getBoundingClientRect();
    return r.left < line.right && line.left < r.right && r.top < line.bottom && line.top < r.bottom;
  }).map((el) => `${el.className}: ${(el.innerText || '').trim().slice(0, 40)}`);
  return {shown: parts.length > 0, crossing};
}
"""


def test_progress_says_how_much_is_made_and_the_time_left_and_nothing_covers_it(tiny_server, sized_page):
    page, size = sized_page
    _open_voice(page, tiny_server)
    page.locator("#tts-text textarea").fill(LONG_TEXT)
    page.locator("#tts-advanced").get_by_text("Advanced").click()
    set_slider(page, "#tts-max-seconds", "60")  # random weights never say END: the run goes on to the cap
    page.locator("#tts-run").click()
    wait_busy(page, "#tts-run", "Speaking")
    page.locator("#tts-summary").scroll_into_view_if_needed()
    estimate = re.compile(r"Generating: ([\d.]+) s of audio made.*about .+ left")
    deadline = time.monotonic() + RUN_WAIT_MS / 1000
    while not estimate.search(page.locator("#tts-summary").inner_text()):
        parts = page.evaluate(_TRACKER_PARTS)  # every progress bar's words on the page, while they show
        assert not parts["crossing"], parts  # nothing of the bar lies on the status line
        assert time.monotonic() < deadline, page.locator("#tts-summary").inner_text()
        page.wait_for_timeout(250)
    # (With the model still loading the bar shows for seconds and was checked above; with it loaded,
    # the words arrive within a fraction of a second and the bar may not have been caught at all.)
    first = page.locator("#tts-summary").inner_text()
    report = coverage(page.locator("#tts-summary"))
    assert not report["hits"] and not report["overlaps"], report
    save_screenshot(page, f"voice_newcomer_progress_{size}")
    # It keeps talking: more audio is reported, with a fresh estimate (the line changes every second
    # or so; 10 s leaves room for a busy machine).
    page.wait_for_function(
        "(old) => { const t = document.querySelector('#tts-summary').innerText;"
        " return t !== old && /about .+ left/.test(t); }", arg=first, timeout=10_000)
    made = [float(estimate.search(t).group(1)) for t in (first, page.locator("#tts-summary").inner_text())]
    assert made[1] > made[0], made
    # Stop once audio is in the player (a fresh page: no earlier run's player to mistake for it).
    page.wait_for_function("document.querySelector('#tts-player audio') !== null", timeout=RUN_WAIT_MS)
    page.locator("#tts-stop").click()
    page.locator("#tts-summary").get_by_text("Stopped after").wait_for(timeout=RUN_WAIT_MS)
    wait_idle(page, "#tts-run", "Speak")
    assert "play it above, download it below" in page.locator("#tts-summary").inner_text()
