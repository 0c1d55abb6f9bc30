"""A client that cancels mid-generation stops the run within a step, and the
next request runs normally."""
import time

import psutil
from gradio_client import Client

VIDEO = dict(prompt="a slow pan over a harbour", mode="t2v", image=None, video=None, num_frames=99,
             variant="distilled", seed=11)


def busy_seconds(process: psutil.Process, window: float) -> float:
    """CPU seconds the server spends during `window` wall seconds."""
    before = sum(process.cpu_times()[:2])
    time.sleep(window)
    return sum(process.cpu_times()[:2]) - before


def test_cancelled_stream_stops_the_run_and_frees_the_queue(tiny_server, tiny_server_dirs):
    server = psutil.Process(tiny_server_dirs["pid"])
    client = Client(tiny_server, verbose=False)
    job = client.submit(**VIDEO, api_name="/video_stream")
    deadline = time.time() + 300
    while time.time() < deadline:  # wait for the first finished chunk (of three)
        real = [o for o in job.outputs() if isinstance(o, (list, tuple)) and "partial" in o[1]]
        if real:
            break
        time.sleep(0.2)
    assert real, "no chunk arrived"
    job.cancel()
    time.sleep(2.0)  # one denoising step of the tiny model, plus the close
    # Had the run gone on, the two remaining chunks would keep a core busy for many seconds.
    assert busy_seconds(server, 3.0) < 1.0
    status = client.predict(api_name="/status")
    assert status["profile"] == "cpu"
    path, info = client.predict(**{**VIDEO, "num_frames": 33, "seed": 12}, api_name="/video")
    assert info["seed"] == 12 and info["chunks_done"] == 1 and not info["cancelled"]
