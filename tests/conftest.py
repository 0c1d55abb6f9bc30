"""Shared test fixtures: one `release-hub --tiny` server per test session,
a gradio_client on it, and a Playwright page in Debian's chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SERVER_START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> float:
    """Seconds until `url` answers 200; fails with the server log if it dies or times out."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"release-hub exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"release-hub did not answer within {timeout}s:\n{log_path.read_text()[-4000:]}")


def start_server(tmp: Path, *extra_args: str, env_extra: dict | None = None, entry: tuple = ("-m", "demos.app"),
                 timeout: float = SERVER_START_TIMEOUT_S):
    """`release-hub --tiny` in a subprocess on a free port (`entry`: how Python starts it).
    Every GPU task's arguments and events are pickled as spaces would (RELEASE_HUB_CHECK_PICKLE)."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1",
               RELEASE_HUB_CHECK_PICKLE="1")
    env.update(env_extra or {})
    log_path = tmp / f"server-{port}.log"
    cmd = [sys.executable, *entry, "--tiny", "--port", str(port),
           "--cache-dir", str(tmp / "cache"), "--outputs-dir", str(tmp / "outputs"), *extra_args]
    log_file = open(log_path, "w")
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, log_path, timeout)
    except Exception:
        process.kill()
        raise
    return process, url, log_path


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


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
