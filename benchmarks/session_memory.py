"""Memory per visitor session: `release-hub --tiny` against a bare Gradio app, in the same run.

    python benchmarks/session_memory.py --sessions 500
    python benchmarks/session_memory.py --sessions 500 --session-ttl 30   # and wait for expiry

Starts both servers (each its own subprocess), warms each up, then creates N
new sessions against each, interleaved: every session is one raw
`POST /gradio_api/call/status` with a fresh `session_hash`, then its SSE
result, as a script or a stranger's browser would. The servers' RSS (psutil)
is read before and after the N sessions and, with --session-ttl, again once
that many seconds (plus the sweep's period) have passed with no traffic, and
after a second wave of N new sessions (memory that came back is reused, so
the second wave grows RSS less): the app is started with
RELEASE_HUB_SESSION_TTL_S set to it, the bare app keeps Gradio's defaults.
Prints KiB per session for each, their ratio, how many sessions the app's
sweep dropped and the load average, as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from serving import free_port, start_server, stop_server, wait_for_http  # noqa: E402

# The floor: one Blocks with one endpoint named like the app's cheapest one (/status, outside the queue).
BARE_GRADIO = """
import sys, gradio as gr
with gr.Blocks() as app:
    report = gr.JSON()
    gr.Button("Refresh").click(lambda: {"profile": "bare"}, None, report, api_name="status", queue=False)
app.queue()
app.launch(server_port=int(sys.argv[1]))
"""
WARMUP_SESSIONS = 20
CALL_TIMEOUT_S = 120
SETTLE_S = 3  # let the servers finish logging and freeing after the last answer before reading RSS


def new_session(base: str, api_name: str = "status") -> None:
    """One call under a session_hash nobody used before; waits for its result."""
    body = json.dumps({"data": [], "session_hash": uuid.uuid4().hex}).encode()
    request = urllib.request.Request(f"{base}gradio_api/call/{api_name}", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_S) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/{api_name}/{event_id}", timeout=CALL_TIMEOUT_S) as response:
        stream = response.read().decode(errors="replace")
    if "event: complete" not in stream:
        raise RuntimeError(f"{base}: /{api_name} did not complete: {stream[-500:]}")


def start_bare(tmp: Path):
    port = free_port()
    log_path = tmp / f"bare-{port}.log"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-c", BARE_GRADIO, str(port)], env=env, cwd=tmp,
                               stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, process, log_path, timeout=240)
    except Exception:
        process.kill()
        raise
    return process, url


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1024**2


def create_sessions(servers: dict, count: int, workers: int) -> None:
    """`count` new sessions on each server, interleaved (app, bare, app, ...) so both see the same load."""
    urls = [url for url, _ in servers.values()]
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(new_session, urls[i % len(urls)]) for i in range(count * len(urls))]:
            future.result()


def measure(servers: dict, sessions: int, workers: int, ttl_s: float | None) -> dict:
    """RSS of each server before/after `sessions` new sessions (and after expiry), KiB per session."""
    create_sessions(servers, WARMUP_SESSIONS, workers)  # first calls import and cache things once
    time.sleep(SETTLE_S)
    before = {name: rss_mb(pid) for name, (_, pid) in servers.items()}
    started = time.perf_counter()
    create_sessions(servers, sessions, workers)
    seconds = time.perf_counter() - started
    time.sleep(SETTLE_S)
    after = {name: rss_mb(pid) for name, (_, pid) in servers.items()}
    result = {"sessions": sessions, "seconds": round(seconds, 1), "load_average": os.getloadavg()}
    for name in servers:
        result[name] = {"rss_before_mb": round(before[name], 1), "rss_after_mb": round(after[name], 1),
                        "kib_per_session": round((after[name] - before[name]) * 1024 / sessions, 1)}
    if ttl_s is not None:
        expire_and_refill(servers, result, sessions, workers, ttl_s)
    result["ratio_app_to_bare"] = round(result["app"]["kib_per_session"] / max(result["bare"]["kib_per_session"], 1.0), 2)
    return result


def expire_and_refill(servers: dict, result: dict, sessions: int, workers: int, ttl_s: float) -> None:
    """RSS once the sessions expired, then after as many new sessions again: where expired sessions'
    memory came back to the process, the second wave reuses it instead of growing RSS."""
    from shared.web.sessions import sweep_period_s

    time.sleep(ttl_s + sweep_period_s(ttl_s) + SETTLE_S)
    expired = {name: rss_mb(pid) for name, (_, pid) in servers.items()}
    create_sessions(servers, sessions, workers)
    time.sleep(SETTLE_S)
    for name, (_, pid) in servers.items():
        again = rss_mb(pid)
        result[name].update(rss_after_expiry_mb=round(expired[name], 1), rss_after_second_wave_mb=round(again, 1),
                            second_wave_kib_per_session=round((again - expired[name]) * 1024 / sessions, 1))


def dropped_sessions(log_path: Path) -> int:
    """Sessions the app's idle sweep reported dropping (shared/web/sessions.py logs each sweep)."""
    found = re.findall(r"Dropped (\d+) idle session", log_path.read_text(errors="replace"))
    return sum(int(n) for n in found)


def run(sessions: int, workers: int = 4, ttl_s: float | None = None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        env = {"RELEASE_HUB_SESSION_TTL_S": str(ttl_s)} if ttl_s is not None else None
        app, app_url, app_log = start_server(tmp, env_extra=env)
        bare = None
        try:
            bare, bare_url = start_bare(tmp)
            result = measure({"app": (app_url, app.pid), "bare": (bare_url, bare.pid)}, sessions, workers, ttl_s)
            result["app"]["sessions_dropped_by_sweep"] = dropped_sessions(app_log)
            return result
        finally:
            stop_server(app)
            if bare is not None:
                stop_server(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--session-ttl", type=float, default=None,
                        help="start the app with this session time-to-live (s) and measure again after it")
    args = parser.parse_args()
    print(json.dumps(run(args.sessions, args.workers, args.session_ttl), indent=1))


if __name__ == "__main__":
    main()
