"""HTTP overhead of /agent_frame over a direct engine call, on the tiny NitroGen.

    python benchmarks/agent_http.py --repeats 15            # starts its own `release-hub --tiny`
    python benchmarks/agent_http.py --url http://127.0.0.1:7860/ --repeats 15

One 1280x720 game-like frame, saved as PNG, JPEG (q90) and WebP (q90). For each
format, interleaved, `repeats` times:

  direct: `shared.io.media.load_image(file)` + `AgentEngine.run([image], seed=0)` in this
          process, on the same tiny checkpoint the server writes (`write_tiny`, seed 0);
  http:   `gradio_client.Client.predict(frame=handle_file(file), api_name="/agent_frame")`
          (upload, queue, decode, the same engine call, JSON back).

Reports medians, the ratio http / direct and the overhead in ms, and checks
that the server's actions equal the direct call's. The tiny model's own call
takes milliseconds, so the ratio here is the worst case: against a real-size
call (seconds on CPU, tens of ms on a GPU) the same overhead weighs far less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
FORMATS = {"png": ("PNG", {}), "jpeg": ("JPEG", {"quality": 90}), "webp": ("WEBP", {"quality": 90})}


def game_like_frame(width: int = 1280, height: int = 720, seed: int = 0) -> np.ndarray:
    """Smooth background, hard-edged sprites and a HUD bar: compresses like a screenshot, not like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([40 + 60 * np.sin(x / 90.0), 80 + 50 * np.cos(y / 70.0), 120 + 40 * np.sin((x + y) / 150.0)],
                   axis=-1)
    img += rng.normal(0, 4, img.shape)  # texture, as rendered games have
    for _ in range(40):
        x0, y0 = rng.integers(0, width - 60), rng.integers(0, height - 60)
        img[y0:y0 + rng.integers(10, 60), x0:x0 + rng.integers(10, 60)] = rng.integers(0, 256, 3)
    img[:40] = (20, 20, 30)
    img[10:30, 20:400] = (200, 40, 40)
    return np.clip(img, 0, 255).astype(np.uint8)


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running release-hub --tiny server (default: start one)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "tests"))
    from gradio_client import Client, handle_file

    from serving import start_server, stop_server
    from demos.agent.checkpoint import write_tiny
    from demos.agent.engine import load
    from demos.agent.plans import plan
    from shared.models.hardware import HardwareInfo
    from shared.io.media import load_image

    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame = game_like_frame()
        files = {}
        for name, (kind, options) in FORMATS.items():
            files[name] = tmp / f"frame.{name}"
            Image.fromarray(frame).save(files[name], kind, **options)
        sizes_kib = {name: round(path.stat().st_size / 1024, 1) for name, path in files.items()}
        write_tiny(tmp / "tiny")
        hw = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0, vram_free_gb=0, ram_total_gb=8,
                          ram_available_gb=8, zerogpu=False)
        engine = load(tmp / "tiny", plan("cpu", hw))

        process, url = None, args.url
        if url is None:
            (tmp / "server").mkdir()
            # As a user runs it: without the tests' extra pickling of every GPU task.
            process, url, _ = start_server(tmp / "server", env_extra={"RELEASE_HUB_CHECK_PICKLE": "0"})
        try:
            client = Client(url, verbose=False)

            def direct(path):
                return engine.run([load_image(str(path))], seed=0).chunks[0]

            def http(path):
                return client.predict(frame=handle_file(str(path)), api_name="/agent_frame")

            for path in files.values():  # warm-up: model load on the server, caches here
                direct(path), http(path)
            times = {name: {"direct": [], "http": []} for name in files}
            max_diff = 0.0
            for _ in range(args.repeats):
                for name, path in files.items():
                    td, ours = timed(lambda: direct(path))
                    th, theirs = timed(lambda: http(path))
                    times[name]["direct"].append(td)
                    times[name]["http"].append(th)
                    for key in ("j_left", "j_right", "buttons"):
                        max_diff = max(max_diff, float(np.abs(np.array(ours[key]) - np.array(theirs[key])).max()))
        finally:
            if process is not None:
                stop_server(process)

    results = {}
    for name, t in times.items():
        d, h = statistics.median(t["direct"]), statistics.median(t["http"])
        results[name] = {
            "file_kib": sizes_kib[name],
            "direct_ms_median": round(1000 * d, 1),
            "http_ms_median": round(1000 * h, 1),
            "overhead_ms": round(1000 * (h - d), 1),
            "ratio_http_over_direct": round(h / d, 2),
            "direct_ms": [round(1000 * x, 1) for x in t["direct"]],
            "http_ms": [round(1000 * x, 1) for x in t["http"]],
        }
    print(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "frame": "1280x720 game-like",
        "repeats": args.repeats,
        "torch_threads_here": torch.get_num_threads(),
        "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "max_abs_diff_server_vs_direct_actions": max_diff,
        "formats": results,
    }, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
