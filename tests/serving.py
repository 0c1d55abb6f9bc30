"""Starting and stopping `release-hub` servers for tests (a module of its own: several test folders
have a conftest.py, so `from conftest import ...` would be ambiguous)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    # A process group of its own, so stop_server also ends what the server forked (spaces' GPU workers).
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, log_path, timeout)
    except Exception:
        process.kill()
        raise
    return process, url, log_path


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server and everything in its process group (forked workers outlive a SIGTERMed parent)."""
    import signal

    try:
        own_group = os.getpgid(process.pid) == process.pid
    except ProcessLookupError:
        own_group = False

    def signal_group(sig) -> None:
        if not own_group:
            return
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    process.terminate()
    signal_group(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
    signal_group(signal.SIGKILL)  # whatever it forked and left behind


def patient_client(url: str, **kwargs):
    """A gradio_client Client with a 300 s HTTP timeout per step: httpx's default 5 s is too short on a busy
    2-core machine where the server is running a model (CI failed on a ReadTimeout with the default)."""
    import httpx
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(300)}, **kwargs)
