"""The app shell end to end: a real `release-hub --tiny` process, HTTP, a browser."""
import re

from demos.registry import DEMO_PACKAGES

EXPECTED_TABS = ["Voice", "Long video", "Game agent", "System"]


def test_status_endpoint(client):
    status = client.predict(api_name="/status")
    assert status["profile"] == "cpu"  # no CUDA on the test machine
    assert status["device"]["cuda"] is False
    plans = status["placement_plans"]
    for key in ("voxtral", "pocket", "helios-distilled", "helios-mid", "helios-base", "nitrogen"):
        assert key in plans, f"no placement plan for {key}"
        assert plans[key]["source"]["kind"] == "tiny"
        assert plans[key]["profile"] == "cpu" and plans[key]["device"] == "cpu"
    assert "rss_gb" in status["memory"]
    assert isinstance(status["resident_models"], list)


def test_named_endpoints_are_published(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    for name in ("/status", "/tts", "/clone_voice", "/video", "/agent_frame", "/agent_video"):
        assert name in names, f"{name} missing from the API"


def test_page_has_every_tab_and_system_shows_the_profile(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    for title in EXPECTED_TABS:
        page.get_by_role("tab", name=title, exact=True).wait_for()
    assert len(DEMO_PACKAGES) == len(EXPECTED_TABS) - 1
    assert page.get_by_text("could not be loaded").count() == 0
    page.get_by_role("tab", name="System", exact=True).click()
    summary = page.locator("#system-summary")
    summary.wait_for()
    assert re.search(r"Profile:\s*cpu", summary.inner_text())
    page.locator("#system-plans-fold").get_by_text("How each model runs here").click()  # folded at first
    plans = page.locator("#system-plans")
    plans.locator("table").first.wait_for()
    table_text = plans.inner_text()
    for title in ("Voxtral-4B-TTS-2603", "Pocket TTS", "Helios-Distilled", "Helios-Mid", "Helios-Base", "NitroGen"):
        assert title in table_text, table_text
    page.locator("#system-refresh").click()
    page.locator("#system-resident").get_by_text("Resident models").wait_for()


def test_mcp_flag_serves_the_endpoints_as_tools(tmp_path):
    import json
    import urllib.request

    from serving import start_server, stop_server

    process, url, _ = start_server(tmp_path, "--mcp")
    try:
        with urllib.request.urlopen(url + "gradio_api/mcp/schema", timeout=30) as response:
            tools = {tool["name"] for tool in json.loads(response.read())}
    finally:
        stop_server(process)
    # The names an agent sees (shared/web/mcp_tools.py; tests/mcp checks them with the real client).
    for name in ("text_to_speech", "clone_voice", "generate_video", "game_actions_for_frame",
                 "game_actions_for_video", "server_status"):
        assert name in tools, (name, sorted(tools))
