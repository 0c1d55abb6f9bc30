"""Memory per visitor session, against a bare Gradio app in the same run (issue 19, point 3).

Each new session (a raw `POST /gradio_api/call/status` under a fresh
session_hash) used to keep ~395 KiB in `release-hub --tiny` against ~12 KiB in
a bare Gradio app, and none was ever given back. benchmarks/session_memory.py
runs both servers side by side; here with fewer sessions and a short session
TTL, so the expiry is seen too.
"""
import importlib.util
import json

import pytest
from serving import REPO

spec = importlib.util.spec_from_file_location("session_memory", REPO / "benchmarks" / "session_memory.py")
session_memory = importlib.util.module_from_spec(spec)
spec.loader.exec_module(session_memory)

SESSIONS = 300
TTL_S = 10
# RSS noise on a busy 2-core box: a few MB over 300 sessions is ~10-20 KiB each.
NOISE_KIB = 25
BUDGET_KIB = 500 * 1024 / 10_000  # 10,000 sessions (Gradio's session capacity) under 500 MB


@pytest.fixture(scope="module")
def measured():
    result = session_memory.run(SESSIONS, workers=4, ttl_s=TTL_S)
    print(json.dumps(result, indent=1))  # the figures docs/BENCHMARKS.md quotes
    return result


def test_growth_per_session_is_near_a_bare_gradio_app(measured):
    app, bare = measured["app"]["kib_per_session"], measured["bare"]["kib_per_session"]
    assert app <= 2 * max(bare, 0.0) + NOISE_KIB, measured
    assert app < BUDGET_KIB, measured


def test_idle_sessions_are_dropped_and_their_memory_reused(measured):
    app = measured["app"]
    # Every session of the first wave (and its warm-up) went idle past the TTL before the second wave.
    assert app["sessions_dropped_by_sweep"] >= SESSIONS + session_memory.WARMUP_SESSIONS, measured
    assert app["second_wave_kib_per_session"] <= max(app["kib_per_session"], 0.0) + NOISE_KIB, measured
