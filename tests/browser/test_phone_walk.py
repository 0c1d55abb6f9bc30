"""A walk over every top tab as a person sees it, on a phone (390x844) and a laptop (1280x900).

Each top tab is one tap away (its button shown in the first screen, not covered, not behind Gradio's
"..." overflow menu); after the tap, the tab's form starts within the first screen (no screen of
licence or plan text above it); every example table shown fits the screen; the Game agent's sub-tabs
put their result right under their button on the phone, beside it on the laptop; a "Use via API" button
at the top (and the footer's link, which Gradio hides on a phone) opens the API page. Each first screen
is kept as tests/artifacts/screenshots/walk-<viewport>-<tab>.png.
"""
from __future__ import annotations

import pytest

from browser_helpers import SCREENSHOTS

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 900}}

# Top tab -> the first control of its form (what a person needs first after the tap).
FIRST_INPUT = {
    "Voice": "#tts-text",
    "Long video": "#video-prompt",
    "Game agent": "#agent-frame-input",
    "History": "#history-text",
    "System": "#system-sentences",
}
# Game agent sub-tab -> (its first input, its run button, what the run shows first).
AGENT_SUBTABS = {
    "Frame": ("#agent-frame-input", "#agent-frame-run", "#agent-frame-status"),
    "Video": ("#agent-video-input", "#agent-video-run", "#agent-video-status"),
    "Play": ("#agent-play-game", "#agent-play-run", "#agent-play-status"),
}
# How much of the form's first control must show in the first screen (px): enough to see and tap it.
SHOWN_PX = 48
PAGE_READY_MS = 240_000  # a 2-core box shared with other test runs mounts the page slowly
# On a phone the result may sit below the button by at most this much (px): the row's gap, not a table.
RESULT_GAP_PX = 48


def first_screen_shot(page, name: str) -> None:
    """What the person sees without scrolling (not the full page), for a reviewer."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def box(page, selector: str) -> dict:
    """The element's box in the viewport, and whether the point at its centre is the element itself."""
    return page.locator(selector).first.evaluate("""el => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 20));
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
                uncovered: hit !== null && (el === hit || el.contains(hit) || hit.contains(el))};
    }""")


def assert_in_first_screen(page, selector: str, what: str) -> None:
    """`selector` starts in the first screen with at least SHOWN_PX of it showing, uncovered."""
    page.locator(selector).first.wait_for(state="visible")
    page.evaluate("window.scrollTo(0, 0)")
    height = page.viewport_size["height"]
    b = box(page, selector)
    shown = min(b["bottom"], height) - max(b["top"], 0)
    assert b["top"] >= 0 and shown >= min(SHOWN_PX, b["height"]), \
        f"{what}: {selector} starts at {b['top']:.0f} px, {shown:.0f} px of it in a {height} px screen"
    assert b["uncovered"], f"{what}: {selector} is covered by another element"


def assert_examples_fit(page, what: str) -> None:
    """Every example table shown is as wide as the screen allows: no column cut off, no sideways scroll."""
    overflowing = page.evaluate("""() => [...document.querySelectorAll('[id$="-examples"]')]
        .filter(el => el.offsetParent !== null)
        .flatMap(el => [el, ...el.querySelectorAll('.table-wrap')])
        .filter(el => el.scrollWidth > el.clientWidth + 1)
        .map(el => `${el.closest('[id$="-examples"]').id}: ${el.scrollWidth} px in ${el.clientWidth} px`)""")
    assert not overflowing, f"{what}: example tables wider than the screen: {overflowing}"


def tab_button(page, name: str):
    return page.get_by_role("tab", name=name, exact=True)


@pytest.fixture(params=list(VIEWPORTS))
def walk_page(request, _browser, tiny_server):
    context = _browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(tiny_server)
    # Ready as a person sees it: the first form is there and Gradio's "Loading..." cover is gone from the tabs
    # (on a busy box the page mounts for a while after the tab bar first shows).
    page.wait_for_function("""() => {
        const tab = document.querySelector('#tab-voice-button'), form = document.querySelector('#tts-text textarea');
        if (!tab || !form) return false;
        const r = tab.getBoundingClientRect();
        return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === tab;
    }""", timeout=PAGE_READY_MS)
    yield request.param, page
    context.close()


def test_every_top_tab_is_one_tap_away_and_opens_on_its_form(walk_page):
    viewport, page = walk_page
    width = page.viewport_size["width"]
    first_screen_shot(page, f"walk-{viewport}-start")
    # No tab waits behind the overflow menu ("More tabs" is Gradio's "..." button).
    assert not page.get_by_role("button", name="More tabs").is_visible(), "some tabs are hidden behind '...'"
    for name, first_input in FIRST_INPUT.items():
        page.evaluate("window.scrollTo(0, 0)")
        button = tab_button(page, name)
        assert button.is_visible(), f"the {name} tab button is not shown"
        b = box(page, f"[role=tab]:text-is('{name}')")
        assert 0 <= b["left"] and b["right"] <= width and 0 <= b["top"] and b["bottom"] <= page.viewport_size["height"], \
            f"the {name} tab button is outside the first screen: {b}"
        assert b["uncovered"], f"the {name} tab button is covered"
        button.click()
        assert button.get_attribute("aria-selected") == "true"
        assert_in_first_screen(page, first_input, f"{name} tab on {viewport}")
        assert_examples_fit(page, f"{name} tab on {viewport}")
        first_screen_shot(page, f"walk-{viewport}-{name.lower().replace(' ', '-')}")


def test_game_agent_forms_first_and_results_next_to_their_buttons(walk_page):
    viewport, page = walk_page
    tab_button(page, "Game agent").click()
    # The licence is one closed line naming it; the model and plan details are folded too.
    licence = page.locator("#agent-licence-line")
    assert "non-commercial" in licence.inner_text()
    assert page.locator("#agent-licence").is_hidden() and page.locator("#agent-details").is_hidden()
    for sub, (first_input, run, result) in AGENT_SUBTABS.items():
        tab_button(page, sub).click()
        assert_in_first_screen(page, first_input, f"Game agent / {sub} on {viewport}")
        assert_examples_fit(page, f"Game agent / {sub} on {viewport}")
        first_screen_shot(page, f"walk-{viewport}-agent-{sub.lower()}")
        button, shown = box(page, run), box(page, result)
        if viewport == "phone":  # the columns stack: the result comes right under the button
            gap = shown["top"] - button["bottom"]
            assert 0 <= gap <= RESULT_GAP_PX, f"{sub}: {gap:.0f} px between {run} and {result} on the phone"
        else:  # side by side: the result starts level with the form, beside it
            assert shown["left"] >= button["right"] - 1 and shown["top"] < button["bottom"], \
                f"{sub}: {result} is not beside the form on the laptop: {shown} vs {button}"
    assert "Freedoom" in page.locator("#agent-play-licence").inner_text()
    assert page.locator("#agent-play-licence-text").is_hidden()


def test_use_via_api_is_shown_at_the_top_and_in_the_footer_and_opens_the_api_page(walk_page):
    viewport, page = walk_page
    # The footer's link too (Gradio hides it on a phone by default).
    assert page.locator("footer .show-api").is_visible(), f"no 'Use via API' in the footer on {viewport}"
    assert_in_first_screen(page, "#app-open-api", f"Use via API on {viewport}")
    page.locator("#app-open-api").click()
    docs = page.locator(".api-docs")
    docs.get_by_text("API documentation").first.wait_for(state="visible")
    docs.get_by_text("/agent_frame").first.wait_for(state="visible")
    first_screen_shot(page, f"walk-{viewport}-api")
