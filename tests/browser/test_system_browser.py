"""The System tab as a person sees it, at 1280x900 and on a phone (390x844): the sentences first,
the plan table folded (readable headers once opened), one row per model with Download and Delete,
and Delete asking before it removes anything."""
from __future__ import annotations

import pytest

from browser_helpers import coverage, save_screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HEADERS = ["Model", "Weights from", "Runs on", "Precision", "Offloading", "GPU memory", "Host RAM"]


def open_system_tab(page) -> None:
    tab = page.get_by_role("tab", name="System", exact=True)
    tab.wait_for(state="attached")
    if not tab.is_visible():  # a narrow screen may fold some tabs into Gradio's overflow menu
        page.locator(".overflow-menu button, button.overflow-menu").first.click()
    tab.click()
    page.locator("#system-sentences").get_by_text("What to expect here").wait_for()


def header_lines(page) -> dict[str, int]:
    """How many lines each header of the plan table takes on screen (1 = not broken)."""
    return page.locator("#system-plans").evaluate("""(root) => {
        const out = {};
        for (const th of root.querySelectorAll('th')) {
            const text = th.innerText.trim();
            if (!text) continue;
            const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
            let node, lines = new Set();
            while ((node = walker.nextNode())) {
                if (!node.textContent.trim()) continue;
                const range = document.createRange();
                range.selectNodeContents(node);
                for (const r of range.getClientRects()) if (r.width > 0) lines.add(Math.round(r.top));
            }
            out[text] = lines.size;
        }
        return out;
    }""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_system_tab_leads_with_sentences_and_folds_the_table(tiny_server, tiny_server_dirs, _browser, viewport):
    offload_dir = tiny_server_dirs["cache"] / "offload"
    context = _browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(tiny_server)
        open_system_tab(page)
        sentences = page.locator("#system-sentences")
        text = sentences.inner_text()
        assert "No GPU found" in text and "Voice · Voxtral-4B-TTS-2603: about " in text, text
        assert "× slower than real time, first audio after about " in text, text
        assert "Long video · Helios-Distilled (fast, DMD, no CFG): impractical here: at least about 3 hours" in text
        assert "Game agent · NVIDIA NitroGen: about 1.8 s per action chunk" in text, text
        assert not coverage(sentences.get_by_text("No GPU found"))["hits"]
        # First: the sentences come above the models, the table and the status report.
        top = sentences.bounding_box()["y"]
        for below in ("#model-row-voxtral", "#system-plans-fold", "#system-status-fold"):
            assert page.locator(below).bounding_box()["y"] > top, below
        # The plan table is folded until asked for.
        assert not page.locator("#system-plans").is_visible()
        # One row per model with its size, and its buttons.
        row = page.locator("#model-row-voxtral")
        row.get_by_text("about 8 GB to download").wait_for()  # filled by the page-load event
        assert "Voxtral-4B-TTS-2603" in row.inner_text() and "about 8 GB to download" in row.inner_text()
        for key in ("voxtral", "pocket", "helios-distilled", "nitrogen"):
            assert page.locator(f"#model-download-{key}").is_visible() and page.locator(f"#model-delete-{key}").is_visible()
        name = "desktop" if viewport is DESKTOP else "phone"
        page.locator("#model-row-voxtral").scroll_into_view_if_needed()
        save_screenshot(page, f"system_tab_{name}")
        # Delete asks first; Cancel removes nothing, Yes removes the files (here: an offload folder).
        leftover = offload_dir / "helios-base" / "transformer-test"
        leftover.mkdir(parents=True, exist_ok=True)
        (leftover / "group_0.safetensors").write_bytes(b"x" * 2_000_000)
        page.locator("#model-delete-helios-base").click()
        question = page.locator("#model-delete-question")
        question.get_by_text("Delete Helios-Base (50 steps, CFG)?").wait_for()
        assert page.locator("#model-delete-confirm").is_visible() and page.locator("#model-delete-cancel").is_visible()
        assert not coverage(page.locator("#model-delete-confirm"))["hits"]
        save_screenshot(page, f"system_delete_asks_{name}")
        page.locator("#model-delete-cancel").click()
        page.locator("#model-manager-status").get_by_text("Nothing deleted.").wait_for()
        assert not page.locator("#model-delete-confirm").is_visible() and leftover.exists()
        page.locator("#model-delete-helios-base").click()
        page.locator("#model-delete-confirm").click()
        page.locator("#model-manager-status").get_by_text("Deleted Helios-Base").wait_for()
        assert not leftover.exists() and not page.locator("#model-delete-confirm").is_visible()
        # The table, opened: readable headers, each on one line on a desktop.
        page.locator("#system-plans-fold").get_by_text("How each model runs here").click()
        plans = page.locator("#system-plans")
        plans.locator("table").first.wait_for()
        lines = header_lines(page)
        assert [h for h in HEADERS if h in lines] == HEADERS, lines
        # No header broken inside a word ("devic e"): at most one line per word, one line on a desktop.
        assert all(n <= len(h.split()) for h, n in lines.items()), lines
        if viewport is DESKTOP:
            assert all(n == 1 for n in lines.values()), lines
        assert "tiny test checkpoint" in plans.inner_text()
        assert "group_block" not in plans.inner_text() and "tiny: tiny" not in plans.inner_text()
        plans.scroll_into_view_if_needed()
        save_screenshot(page, f"system_plans_open_{name}")
    finally:
        context.close()


def test_delete_refuses_a_loaded_model_in_words_and_download_of_tiny_says_nothing_to_fetch(tiny_server, client,
                                                                                         browser_page):
    from demos.assets import asset
    from gradio_client import handle_file

    client.predict(handle_file(asset("agent_screenshot.png")), api_name="/agent_frame")  # NitroGen loaded, files written
    page = browser_page
    page.goto(tiny_server)
    open_system_tab(page)
    page.locator("#model-download-pocket").click()
    status = page.locator("#model-manager-status")
    status.get_by_text("comes from the tiny test checkpoint: nothing to download").wait_for()
    page.locator("#model-delete-nitrogen").click()
    page.locator("#model-delete-question").get_by_text("Delete NVIDIA NitroGen?").wait_for()
    page.locator("#model-delete-confirm").click()
    status.get_by_text("NVIDIA NitroGen is loaded: press Unload (under Resident models) first").wait_for()
    assert status.inner_text().startswith("Not deleted."), status.inner_text()
    assert "not on disk" not in page.locator("#model-row-nitrogen").inner_text()  # its files are still there
    assert not coverage(status)["hits"]
    save_screenshot(page, "system_delete_refused_loaded")
