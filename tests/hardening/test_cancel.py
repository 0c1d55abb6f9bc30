"""A client that cancels mid-generation stops the run within a step, and the
next request runs normally.

Timing-safe on a busy machine: every wait is for an event (the first chunk, the
server going idle) with a deadline derived from how long the run itself took,
never a fixed short sleep.
"""
import json
import time

import psutil

from serving import patient_client

# t2v needs neither `image` nor `video`: they are left out on purpose.
VIDEO = dict(prompt="a slow pan over a harbour", mode="t2v", num_frames=99, variant="distilled", seed=11)
FIRST_CHUNK_DEADLINE_S = 600


def busy_seconds(process: psutil.Process, window: float) -> float:
    """CPU seconds the server spends during `window` wall seconds."""
    before = sum(process.cpu_times()[:2])
    time.sleep(window)
    return sum(process.cpu_times()[:2]) - before


def test_cancelled_stream_stops_the_run_and_frees_the_queue(tiny_server, tiny_server_dirs):
    server = psutil.Process(tiny_server_dirs["pid"])
    client = patient_client(tiny_server)
    started = time.perf_counter()
    job = client.submit(**VIDEO, api_name="/video_stream")
    real = []
    while not real and time.perf_counter() - started < FIRST_CHUNK_DEADLINE_S:  # the first of three chunks
        real = [o for o in job.outputs() if isinstance(o, (list, tuple)) and "partial" in o[1]]
        time.sleep(0.2)
    assert real, "no chunk arrived"
    first_chunk_s = time.perf_counter() - started
    job.cancel()
    cancelled = time.perf_counter()
    # Had the run gone on, the two remaining chunks would keep a core busy for about
    # 2 x first_chunk_s; a stopped run goes idle within a step. Wait for idle (3 s windows
    # under 1 CPU-second), allowing half the remaining run's time, and at least 30 s.
    deadline = max(30.0, first_chunk_s)
    while busy_seconds(server, 3.0) >= 1.0:
        assert time.perf_counter() - cancelled < deadline, \
            f"server still busy {deadline:.0f} s after the cancel (first chunk took {first_chunk_s:.0f} s)"
    # What it finished is kept like a stopped run (sidecar: listed in History, counted by the disk limit);
    # its partial mp4s go, also one it wrote while winding down after the cancel.
    videos = tiny_server_dirs["outputs"] / "video"
    assert not list(videos.glob("*.partials"))
    assert [p.name for p in videos.glob("*.mp4") if not p.with_suffix(".json").exists()] == []
    kept = [json.loads(p.read_text())["info"] for p in videos.glob("*.json")]
    assert any(k["seed"] == 11 and k["cancelled"] and k["chunks_done"] >= 1 for k in kept), kept
    status = client.predict(api_name="/status")
    assert status["profile"] == "cpu"
    path, info = client.predict(**{**VIDEO, "num_frames": 33, "seed": 12}, api_name="/video")
    assert info["seed"] == 12 and info["chunks_done"] == 1 and not info["cancelled"]
