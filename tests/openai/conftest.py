"""Servers for the /v1 tests: A and B are `release-hub --tiny` with an API key (the remotes; B's
Pocket TTS files are missing), F forwards Voxtral to A and B, and Pocket TTS to a port where nothing
listens and to A."""
from __future__ import annotations

import subprocess
import sys

import pytest

from serving import REPO, SERVER_START_TIMEOUT_S, free_port, stop_server, wait_for_http

from openai_client import KEY, make_client  # noqa: F401 - shared with the tests


def _spawn(tmp, name: str, *extra: str, env_extra: dict | None = None, port: int | None = None):
    import os

    port = port or free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1",
               RELEASE_HUB_CHECK_PICKLE="1", **(env_extra or {}))  # GPU-task values pickled as spaces would
    log_path = tmp / f"{name}.log"
    cmd = [sys.executable, "-m", "demos.app", "--tiny", "--port", str(port), "--cache-dir", str(tmp / "cache"),
           "--outputs-dir", str(tmp / f"outputs-{name}"), *extra]
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                               start_new_session=True)  # stop_server ends its process group
    return process, f"http://127.0.0.1:{port}", log_path


@pytest.fixture(scope="session")
def openai_servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openai")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    # Start all three at once (start-up dominates on a busy box); F's health checks find A and B when up.
    a = _spawn(tmp, "a", env_extra={"RELEASE_HUB_API_KEY": KEY})
    b = _spawn(tmp, "b", "--source", f"pocket={tmp / 'no-such-dir'}", env_extra={"RELEASE_HUB_API_KEY": KEY})
    f = _spawn(tmp, "f", "--remote", f"voxtral={a[1]},{b[1]}", "--remote", f"pocket={dead},{a[1]}",
               env_extra={"RELEASE_HUB_REMOTE_API_KEY": KEY})
    servers = {"a": a, "b": b, "f": f}
    spawn_args = {"a": ((), {"RELEASE_HUB_API_KEY": KEY}),
                  "b": (("--source", f"pocket={tmp / 'no-such-dir'}"), {"RELEASE_HUB_API_KEY": KEY})}

    def respawn(name: str) -> None:
        """Start a killed remote again on its own port, so later tests (in any order) find it up."""
        old_process, url, _ = servers[name]
        if old_process.poll() is None:
            return
        extra, env_extra = spawn_args[name]
        servers[name] = _spawn(tmp, f"{name}-respawned", *extra, env_extra=env_extra, port=int(url.rsplit(":", 1)[1]))
        process, url, log_path = servers[name]
        wait_for_http(url + "/", process, log_path, SERVER_START_TIMEOUT_S * 2)
        info[name] = {"process": process, "url": url, "log": log_path}

    try:
        for process, url, log_path in servers.values():
            wait_for_http(url + "/", process, log_path, SERVER_START_TIMEOUT_S * 2)
        info = {**{name: {"process": p, "url": u, "log": lg} for name, (p, u, lg) in servers.items()}, "dead": dead,
                "respawn": respawn}
        yield info
    finally:
        for process, _, _ in servers.values():
            if process.poll() is None:
                stop_server(process)
