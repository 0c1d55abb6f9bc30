"""Play under the real `spaces` package in ZeroGPU mode (on this CPU): an episode is one GPU task in the
forked worker, created there from plain settings, its events pickled back, its reservation from the
episode's limit, and a client's cancel closes it and releases the GPU."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_zerogpu_spaces import zerogpu  # noqa: E402,F401  (the module's own ZeroGPU server)

ARGS = dict(game="vizdoom", scenario="defend_the_center", seed=2, mode="lockstep")


def test_an_episode_runs_as_one_gpu_task_in_the_worker(zerogpu):  # noqa: F811
    client, api = zerogpu["client"], zerogpu["api"]
    before = len(api.of("/schedule"))
    record, video, actions = client.predict(**ARGS, max_seconds=2, api_name="/agent_play_episode")
    assert record["profile"] == "zerogpu" and record["agent"]["tics"] == 70
    assert record["baseline"]["tics"] == 70 and Path(video).stat().st_size > 1000
    assert len(json.loads(Path(actions).read_text())["rewards_per_tic"]) == 70
    new = api.of("/schedule")[before:]
    # One reservation, sized from the limit: 30 s + 2.5 x 2 s of game time.
    assert [c.params["durationSeconds"] for c in new] == ["35"]
    worker = int(api.of("/allow")[-1].params["pid"])
    assert worker != zerogpu["pid"]


def test_streamed_episode_and_cancel_release_the_gpu(zerogpu):  # noqa: F811
    client, api = zerogpu["client"], zerogpu["api"]
    released_before = len(api.of("/release"))
    job = client.submit(**ARGS, max_seconds=60, api_name="/agent_play")
    deadline = time.time() + 300
    while time.time() < deadline and not any(isinstance(o[2], dict) and o[2].get("chunk") == 2
                                             for o in job.outputs()):
        time.sleep(0.2)
    chunks = [o[2] for o in job.outputs() if isinstance(o[2], dict) and "chunk" in o[2]]
    assert chunks and chunks[0]["stats"]["game_time_s"] > 0, "no chunk came back from the worker"
    assert any(o[0] for o in job.outputs()), "no live frame came back from the worker"
    job.cancel()
    assert api.wait_for(lambda a: len(a.of("/release")) > released_before, timeout=120), "GPU never released"
    worker = psutil.Process(int(api.of("/allow")[-1].params["pid"]))
    cpu = sum(worker.cpu_times()[:2])
    time.sleep(3.0)
    assert sum(worker.cpu_times()[:2]) - cpu < 1.0  # the episode no longer plays in the worker
    record, _, _ = client.predict(**ARGS, max_seconds=1, api_name="/agent_play_episode")
    assert record["agent"]["tics"] == 35
