"""What a result hands out reaches its owner's browser only, and nothing uploaded runs script (issue 19).

A Space-like `release-hub --tiny` (SPACE_ID set). Browser A makes a voice result and opens every file URL
the page holds; browser B (another context: another visit cookie) asks for the same URLs and gets what a
missing file gets. A polyglot PNG uploaded as `frame.html` is then opened as a page in A: it downloads,
never renders, and no script of it runs."""
from __future__ import annotations

import pytest
from browser_helpers import RUN_WAIT_MS, save_screenshot, set_slider, wait_idle

from hostile_files import polyglot_png
from serving import start_server, stop_server


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private-browser")
    process, url, _ = start_server(tmp, env_extra={"SPACE_ID": "test/space", "GRADIO_TEMP_DIR": str(tmp / "uploads")})
    yield url
    stop_server(process)


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return context, page


def file_urls(page) -> list[str]:
    """Every file URL the page holds: players' sources and download links."""
    return page.evaluate(
        "() => [...document.querySelectorAll('audio[src], video[src], img[src], a[href]')]"
        ".map(e => e.src || e.href).filter(u => u.includes('/gradio_api/file='))")


def test_results_reach_their_owner_only_and_uploads_never_run(space, _browser):
    context_a, a = new_page(_browser)
    context_b, b = new_page(_browser)
    try:
        a.goto(space)
        a.get_by_role("tab", name="Voice", exact=True).click()
        a.locator("#tts-text textarea").fill("Only Alice hears this.")
        a.locator("#tts-advanced").get_by_text("Advanced").click()
        set_slider(a, "#tts-max-seconds", "1")
        a.locator("#tts-run").click()
        a.locator("#tts-download a").first.wait_for(timeout=RUN_WAIT_MS)
        wait_idle(a, "#tts-run", "Speak")
        save_screenshot(a, "private-owner-result")
        urls = file_urls(a)
        assert urls and all("/rh-served/" in u for u in urls), urls
        b.goto(space)
        for url in urls:
            mine = a.request.get(url)
            assert mine.status == 200 and mine.headers["x-content-type-options"] == "nosniff"
            other, missing = b.request.get(url), b.request.get(url + "x")
            assert other.status == missing.status == 403
            assert other.json()["detail"] == f"File not allowed: {url.split('file=', 1)[1]}."
            assert missing.json()["detail"] == f"File not allowed: {url.split('file=', 1)[1]}x."
        b.goto(urls[0])  # what B sees opening A's link: the missing-file answer
        assert "File not allowed" in b.content()
        save_screenshot(b, "private-other-browser-refused")

        upload = a.request.post(space + "gradio_api/upload", multipart={
            "files": {"name": "frame.html", "mimeType": "text/html", "buffer": polyglot_png()}})
        served = space + "gradio_api/file=" + upload.json()[0]
        dialogs = []
        a.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        with a.expect_download() as download:
            try:
                a.goto(served)
            except Exception as exc:  # noqa: BLE001 - chromium reports a navigation that became a download
                assert "Download is starting" in str(exc), exc
        assert download.value.suggested_filename
        a.goto(space)
        assert not dialogs and a.title() != "pwned"
    finally:
        context_a.close()
        context_b.close()
