"""20 concurrent clients against a --tiny server, through real HTTP.

Every request must complete with its own result or be refused with a clear
queue-full message; the server's memory must come back near its level after
the warm-up round; no temporary files may be left behind; /status must keep
answering while the GPU queue is busy.
"""
import importlib.util
import json
import threading

import pytest
from serving import REPO, start_server, stop_server

spec = importlib.util.spec_from_file_location("load_benchmark", REPO / "benchmarks" / "load.py")
load_benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(load_benchmark)

CLIENTS = 20
ROUNDS = 2
RSS_SLACK_MB = 400  # allocator caches, Gradio's per-session state


@pytest.fixture(scope="module")
def load_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    process, url, _ = start_server(tmp, env_extra={"GRADIO_TEMP_DIR": str(tmp / "gradio-tmp")})
    yield url, process.pid, tmp
    stop_server(process)


def test_concurrent_mixed_load(load_server):
    url, pid, tmp = load_server
    status_answers = []
    done = threading.Event()

    def poll_status():
        client = load_benchmark.client_for(url)
        while not done.is_set():
            status_answers.append(client.predict(api_name="/status")["profile"])
            done.wait(1.0)

    poller = threading.Thread(target=poll_status, daemon=True)
    poller.start()
    try:
        summary = load_benchmark.run_load(url, pid, CLIENTS, ROUNDS, tmp)
    finally:
        done.set()
        poller.join(timeout=load_benchmark.HTTP_TIMEOUT_S)

    print(json.dumps(summary, indent=1))  # the figures docs/RELIABILITY.md quotes
    assert summary["requests"] == CLIENTS * ROUNDS
    for endpoint, counts in summary["by_endpoint"].items():
        assert counts["other"] == [], f"{endpoint}: {counts['other']}"
        assert counts["ok"] + counts["rejected"] == counts["sent"]
        assert counts["ok"] > 0, f"{endpoint} never succeeded"
    rss = summary["rss"]
    assert rss[f"after_round_{ROUNDS}_mb"] - rss["after_round_1_mb"] < RSS_SLACK_MB, rss
    # /status is outside the GPU queue: it kept answering during the whole run.
    assert len(status_answers) >= 3 and set(status_answers) == {"cpu"}

    outputs = tmp / "outputs"
    leftovers = [p for p in outputs.rglob("*") if "segments-" in str(p) or p.name.endswith(".part.mp4")]
    assert leftovers == []
