"""CPU: time of `/video` on the tiny server against a direct pipeline call with the same settings.

    python benchmarks/video_cpu.py --runs 2

Starts `release-hub --tiny` (profile cpu: 192x320, Distilled [2,2,2], amplified first chunk), calls
/video (t2v, 33 frames, seed 1) `--runs` times after one warm-up, then runs diffusers'
HeliosPyramidPipeline directly on the same tiny checkpoint with the same arguments
(output_type="np" + mp4 export). Prints medians and the ratio (hub overhead).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    import torch
    from gradio_client import Client

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from serving import start_server, stop_server

    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp(prefix="video-bench-"))
    process, url, _ = start_server(tmp)
    try:
        client = Client(url, verbose=False)
        call = dict(prompt="a red cat in the snow", mode="t2v", image=None, video=None, num_frames=33,
                    variant="distilled", seed=1, api_name="/video")
        client.predict(**call)  # warm-up: writes and loads the tiny checkpoint
        hub_times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.predict(**call)
            hub_times.append(time.perf_counter() - start)
    finally:
        stop_server(process)

    from shared.models.hardware import detect
    from shared.io.media import write_video
    from demos.video import engine, limits, plans
    from demos.video.variants import VARIANTS

    v = VARIANTS["distilled"]
    plan = plans.plan(v.key, "cpu", detect())
    pipe = engine.load_pipeline(tmp / "cache" / "tiny" / v.key, v, plan)
    eng = engine.HeliosEngine(pipe, v, plan)
    req = engine.VideoRequest(prompt=call["prompt"], mode="t2v", num_frames=33,
                              resolution=limits.RESOLUTIONS["192x320"], seed=1, settings=v.defaults)
    direct_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        frames = pipe(**eng.pipeline_kwargs(req), output_type="np").frames[0]
        write_video(tmp / "direct.mp4", [(f * 255).round().astype("uint8") for f in frames], 24)
        direct_times.append(time.perf_counter() - start)
    hub, direct = statistics.median(hub_times), statistics.median(direct_times)
    print(f"/video median {hub:.2f} s, direct pipeline median {direct:.2f} s, ratio {hub / direct:.3f} "
          f"(runs {args.runs}: hub {[round(t, 2) for t in hub_times]}, direct {[round(t, 2) for t in direct_times]})")


if __name__ == "__main__":
    main()
