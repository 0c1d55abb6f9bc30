"""One gate (issue 19, finding 4): with RELEASE_HUB_API_KEY set, every route that runs a model, reads a
stored file or lists anything needs the key (bearer) or a login; the key as a password logs a browser in.
Without a key or login on a non-loopback address, the app warns at start and in the System tab."""
from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest

from serving import REPO, patient_client, start_server, stop_server
from shared.web.access import exposure_warning
from shared.web.settings import Settings

KEY = "gate-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
MCP_INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate")
    process, url, log = start_server(tmp, "--mcp", env_extra={"RELEASE_HUB_API_KEY": KEY,
                                                               "GRADIO_TEMP_DIR": str(tmp / "uploads")})
    yield {"url": url, "log": log, "tmp": tmp}
    stop_server(process)


@pytest.fixture(scope="module")
def made_with_key(keyed):
    client = patient_client(keyed["url"], headers=AUTH, download_files=False)
    audio, info = client.predict(text="Only with the key.", voice="neutral_female", seed=1, api_name="/tts")
    return {"client": client, "audio": audio}


def route_classes(keyed, made) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) for each kind of route: Gradio's HTTP API, queue and SSE, uploads,
    files, info, MCP, run history and /v1."""
    served = made["audio"]["url"].split(keyed["url"], 1)[1]
    join = {"data": ["Hi.", "neutral_female", 1, 1.2, 8, 0], "fn_index": 0, "session_hash": "s1"}
    return [
        ("POST", "gradio_api/call/tts", {"json": {"data": ["Hi.", "neutral_female", 1]}}),
        ("GET", "gradio_api/call/tts/abc", {}),
        ("POST", "gradio_api/queue/join", {"json": join}),
        ("GET", "gradio_api/queue/data?session_hash=s1", {}),
        ("POST", "gradio_api/upload", {"files": [("files", ("a.png", b"\x89PNG\r\n\x1a\n", "image/png"))]}),
        ("GET", served, {}),
        ("GET", "gradio_api/info", {}),
        ("GET", "gradio_api/runs", {}),
        ("GET", "gradio_api/heartbeat/s1", {}),
        ("POST", "gradio_api/mcp/", {"json": MCP_INIT, "headers": {"Accept": "application/json, text/event-stream"}}),
        ("GET", "gradio_api/mcp/schema", {}),
        ("GET", "v1/models", {}),
        ("POST", "v1/audio/speech", {"json": {"model": "voxtral-4b-tts", "input": "Hi.", "voice": "neutral_female"}}),
    ]


def send(keyed, method: str, path: str, kwargs: dict, auth: dict | None) -> tuple[int, str]:
    """(status, body for a refusal): streams (SSE, MCP) are read no further than their status."""
    headers = {**kwargs.get("headers", {}), **(auth or {})}
    rest = {k: v for k, v in kwargs.items() if k != "headers"}
    with httpx.Client(timeout=60) as http:
        with http.stream(method, keyed["url"] + path, headers=headers, **rest) as answer:
            return answer.status_code, answer.read().decode() if answer.status_code == 401 else ""


def test_every_route_class_needs_the_key(keyed, made_with_key):
    for method, path, kwargs in route_classes(keyed, made_with_key):
        for auth, says in ((None, "No API key was sent"), ({"Authorization": "Bearer wrong"}, "not valid")):
            status, body = send(keyed, method, path, kwargs, auth)
            assert status == 401, (method, path, auth, status)
            assert says in json.loads(body)["error"]["message"], (path, body[:200])
        status, _ = send(keyed, method, path, kwargs, AUTH)
        assert status not in (401, 403), (method, path, status)


def test_a_script_with_the_key_works_end_to_end(keyed, made_with_key):
    from gradio_client import Client

    client = Client(keyed["url"], headers=AUTH, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(300)})
    path, info = client.predict(text="Downloaded with the key.", voice="neutral_male", seed=2, api_name="/tts")
    assert open(path, "rb").read(4) == b"RIFF" and info["seed"] == 2
    with pytest.raises(Exception, match="401|credentials|Unauthorized|login"):
        Client(keyed["url"], verbose=False)


def test_the_login_page_shows_nothing_of_the_app(keyed):
    page = httpx.get(keyed["url"], timeout=60)
    assert page.status_code == 200
    assert "auth_required" in page.text and "Only with the key" not in page.text
    assert "/tts" not in page.text and "neutral_female" not in page.text


def test_a_browser_logs_in_with_the_key(keyed, _browser):
    context = _browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(keyed["url"])
        page.get_by_label("username").fill("me")
        page.get_by_label("password").fill("not the key")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect Credentials").wait_for()
        page.get_by_label("username").fill("me")  # Gradio empties the form after a refusal
        page.get_by_label("password").fill(KEY)
        page.get_by_role("button", name="Login").click()
        page.get_by_role("tab", name="System").wait_for()
        shots = REPO / "tests" / "artifacts" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "gate-logged-in-with-key.png"))
        status = page.request.get(keyed["url"] + "gradio_api/info")
        assert status.status == 200 and "/tts" in status.text()
    finally:
        context.close()


def settings(**kw) -> Settings:
    return Settings(**{"host": "127.0.0.1", "port": 7860, **kw})


def test_exposure_warning_rules():
    from shared.web.access import Gate

    assert exposure_warning(settings(), Gate()) is None
    assert "0.0.0.0:7860" in exposure_warning(settings(host="0.0.0.0"), Gate())
    assert exposure_warning(settings(host="0.0.0.0"), Gate(api_key="k")) is None
    assert exposure_warning(settings(host="0.0.0.0"), Gate(logins=[("a", "b")])) is None
    assert exposure_warning(settings(host="0.0.0.0", on_space=True), Gate()) is None  # public by design
    assert "share link" in exposure_warning(settings(share=True), Gate())


def test_an_open_server_on_the_network_warns(tmp_path):
    process, url, log = start_server(tmp_path, "--host", "0.0.0.0")
    try:
        text = log.read_text()
        assert "WARNING" in text and "can run every model and read every result" in text
        page = httpx.get(url, timeout=60).text  # the System tab's warning is in the page's config
        assert "can run every model and read every result" in page
    finally:
        stop_server(process)
