"""History as a newcomer sees it, at 1280×900 and on a 390×844 phone: readable labels, a picture per
result (served only to the visit that listed it), a Stopped badge, nothing wider than the screen, rows
that do not look editable, and Delete that asks first and can be undone.

A voice result and a Game agent frame result are made through the API of the session's tiny server
(no logins: everyone sees every result). The stopped result is the voice result's audio with a sidecar
as the voice tab writes it after Stop (`"stopped": true`): a real Stop is timing-dependent, and what
History shows depends only on the sidecar. Screenshots: tests/artifacts/screenshots/history-newcomer-*.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from browser_helpers import coverage, save_screenshot
from shared.io.outputs import new_output_path, write_sidecar

VOICE_TEXT = "History newcomer voice."
STOPPED_TEXT = "History newcomer stopped."
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
TABLE = "#history-table"


@pytest.fixture(scope="module")
def made(client, tiny_server_dirs, tmp_path_factory):
    """{name: item id} of a finished voice result, a stopped voice result and an agent frame result."""
    from gradio_client import handle_file

    shot = tmp_path_factory.mktemp("history-newcomer") / "shot.png"
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (72, 128, 3), dtype=np.uint8)).save(shot)
    client.predict(text=VOICE_TEXT, voice="neutral_female", seed=1, max_seconds=1.0, api_name="/tts")
    client.predict(frame=handle_file(str(shot)), api_name="/agent_frame")
    items = client.predict(page_size=100, api_name="/history")["items"]
    ids = {"voice": next(i["id"] for i in items if i["text"] == VOICE_TEXT),
           "agent": next(i["id"] for i in items if i["demo"] == "agent_frame")}
    outputs = tiny_server_dirs["outputs"]
    source = next(p for p in (outputs / "voice_voxtral").glob(ids["voice"].split("/")[1] + ".*")
                  if p.suffix in (".wav", ".flac"))
    main = new_output_path(outputs, "voice_voxtral", source.suffix.lstrip("."))
    shutil.copyfile(source, main)
    write_sidecar(main, {"model": "voxtral", "stopped": True, "stop_reason": "stopped"}, demo="voice_voxtral",
                  inputs={"text": STOPPED_TEXT, "voice": "fr_male", "seed": 2, "cfg_alpha": 1.2, "euler_steps": 4,
                          "max_seconds": 1.0, "format": source.suffix.lstrip(".")})
    ids["stopped"] = f"voice_voxtral/{main.name.split('.')[0]}"
    return ids


def open_history(page) -> None:
    page.get_by_role("tab").first.wait_for()  # the page is up
    tab = page.get_by_role("tab", name="History")
    if not tab.is_visible():  # a narrow screen may fold tabs into a menu
        page.locator("button.overflow-menu, .overflow-dropdown button, button[aria-label*='more' i]").first.click()
    tab.click()
    page.locator(TABLE).get_by_text(VOICE_TEXT).filter(visible=True).first.wait_for()


def row(page, text: str):
    # Gradio's Dataframe also keeps a hidden copy of its rows (for measuring): only visible ones count.
    return page.locator(f"{TABLE} [role=row]").filter(has_text=text).filter(visible=True).first


def select(page, text: str, label: str) -> None:
    row(page, text).locator("[role=gridcell]").nth(1).click()
    page.locator("#history-details").get_by_text(label).first.wait_for()


def no_sideways_overflow(page) -> dict:
    """Widths that exceed what is shown: the page, and every scrolling box inside the table and gallery."""
    return page.evaluate("""() => {
        const wide = [];
        const root = document.scrollingElement;
        if (root.scrollWidth > innerWidth) wide.push(`page ${root.scrollWidth} > ${innerWidth}`);
        for (const el of document.querySelectorAll('#history-table, #history-table *, #history-thumbs, #history-thumbs *')) {
            const s = getComputedStyle(el);
            if (['auto', 'scroll'].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1)
                wide.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${el.scrollWidth} > ${el.clientWidth}`);
        }
        return wide;
    }""")


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def page(request, _browser, tiny_server, made):
    width, height = VIEWPORTS[request.param]
    context = _browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(tiny_server)
    page.name = request.param
    yield page
    context.close()


def test_a_newcomer_reads_sees_and_undoes(page, made, tiny_server_dirs, client):
    open_history(page)
    table = page.locator(TABLE)
    # Readable labels, not internal names or ids.
    for label in ("Voice · English neutral female", "Game agent · frame", "Voice · French male · ■ Stopped"):
        table.get_by_text(label).filter(visible=True).first.wait_for(timeout=30_000)
    listed = " ".join(table.locator("[role=row]").filter(visible=True).all_inner_texts())
    assert "voice_voxtral" not in listed and "agent_frame" not in listed and made["voice"] not in listed
    assert "today " in row(page, VOICE_TEXT).inner_text()
    # A picture per result, loaded (it came through the owner-bound hand-out).
    thumbs = page.locator("#history-thumbs img")
    thumbs.nth(2).wait_for()
    assert thumbs.count() >= 3 and thumbs.first.is_visible()
    page.wait_for_function("[...document.querySelectorAll('#history-thumbs img')].slice(0, 3).every(i => i.naturalWidth > 0)")
    src = thumbs.first.evaluate("i => i.src")
    assert "/outputs/" not in src and page.context.request.get(src).status == 200
    stranger = page.context.browser.new_context()  # another visit: the picture is not theirs
    try:
        assert stranger.request.get(src).status == 403
    finally:
        stranger.close()
    # Nothing wider than the screen; ★ column on screen; rows that cannot be edited.
    assert no_sideways_overflow(page) == []
    star = table.get_by_text("★", exact=True).filter(visible=True).first.bounding_box()  # the column's header
    assert star and star["x"] + star["width"] <= page.viewport_size["width"]
    cell = row(page, VOICE_TEXT).locator("[role=gridcell]").nth(1)
    cell.dblclick()
    editors = table.locator("input:not([type=file]), textarea, [contenteditable=true]").filter(visible=True)
    assert editors.count() == 0  # a double click opens no editor
    assert table.locator(".selection-button").filter(visible=True).count() == 0  # no row/column arrows
    assert cell.evaluate("c => getComputedStyle(c).cursor") != "text"
    save_screenshot(page, f"history-newcomer-{page.name}-list")
    # The stopped run says so in the details too.
    select(page, STOPPED_TEXT, "Voice · French male")
    assert "■ Stopped" in page.locator("#history-details").inner_text()
    assert made["stopped"] in page.locator("#history-details").inner_text()  # the id: in the details
    _delete_asks_and_undo_restores(page, made, tiny_server_dirs, client)


def listed_ids(client) -> set[str]:
    return {item["id"] for item in client.predict(page_size=100, api_name="/history")["items"]}


def _delete_asks_and_undo_restores(page, made, dirs, client) -> None:
    # Earlier tests on the session's server may have made other "Game agent · frame" results: the newest
    # row is this module's (checked by its id in the details), and the server's list says what went.
    outputs = dirs["outputs"]
    stem = made["agent"].split("/")[1]
    files = sorted(p.name for p in (outputs / "agent").iterdir() if p.name.startswith(stem))
    select(page, "Game agent · frame", "Game agent · frame")
    page.locator("#history-details").get_by_text(made["agent"]).wait_for()
    page.locator("#history-delete").click()
    question = page.locator("#history-confirm")
    question.get_by_text("Delete this result?").wait_for()
    assert "Game agent · frame" in question.inner_text()
    for name in ("history-delete-confirm", "history-delete-cancel"):
        assert coverage(page.locator(f"#{name}"))["hits"] == [], name
    save_screenshot(page, f"history-newcomer-{page.name}-confirm")
    page.locator("#history-delete-cancel").click()
    question.wait_for(state="hidden")
    page.locator("#history-message").get_by_text("nothing was deleted").wait_for()
    assert row(page, "Game agent · frame").is_visible()
    assert sorted(p.name for p in (outputs / "agent").iterdir() if p.name.startswith(stem)) == files
    # Delete, confirmed: the row goes, its files leave the folder, Undo appears.
    page.locator("#history-delete").click()
    page.locator("#history-delete-confirm").click()
    page.locator("#history-undo").wait_for()
    assert made["agent"] not in listed_ids(client)
    assert not [p for p in (outputs / "agent").iterdir() if p.name.startswith(stem)]
    assert "Deleted Game agent · frame" in page.locator("#history-message").inner_text()
    save_screenshot(page, f"history-newcomer-{page.name}-deleted")
    # Undo: the row, its files and its picture come back.
    page.locator("#history-undo").click()
    page.locator("#history-undo").wait_for(state="hidden")
    row(page, "Game agent · frame").wait_for()
    assert made["agent"] in listed_ids(client)
    assert "Restored Game agent · frame" in page.locator("#history-message").inner_text()
    assert sorted(p.name for p in (outputs / "agent").iterdir() if p.name.startswith(stem)) == files
    save_screenshot(page, f"history-newcomer-{page.name}-undone")
