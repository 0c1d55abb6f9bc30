"""Shared test fixtures: one `release-hub --tiny` server per test session,
a gradio_client on it, and a Playwright page in Debian's chromium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from serving import (CHROMIUM, CHROMIUM_FLAGS, REPO, SERVER_START_TIMEOUT_S, free_port, start_server,  # noqa: F401
                     stop_server, wait_for_http)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

@pytest.fixture(scope="session")
def _tiny_server_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny-server")
    # Its own Gradio upload folder: tests can look inside it, and no other server shares it.
    process, url, log_path = start_server(tmp, env_extra={"GRADIO_TEMP_DIR": str(tmp / "uploads")})
    yield url, tmp, log_path, process.pid
    stop_server(process)


@pytest.fixture(scope="session")
def tiny_server(_tiny_server_process) -> str:
    """Base URL of one `release-hub --tiny` server shared by the session."""
    return _tiny_server_process[0]


@pytest.fixture(scope="session")
def tiny_server_dirs(_tiny_server_process) -> dict:
    """The cache dir, outputs dir, Gradio upload folder and log file of the session's tiny server."""
    _, tmp, log_path, pid = _tiny_server_process
    return {"cache": tmp / "cache", "outputs": tmp / "outputs", "uploads": tmp / "uploads", "log": log_path,
            "pid": pid}


@pytest.fixture(scope="session")
def client(tiny_server):
    import httpx
    from gradio_client import Client

    # httpx's default 5 s per HTTP step is too short on a busy machine running a model.
    return Client(tiny_server, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(300)})


@pytest.fixture(scope="session")
def _browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser):
    """A fresh Playwright page (1280x900) in headless Debian chromium."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
