"""Start-up time: process start to the first HTTP 200, no model loaded.

    python benchmarks/startup.py --runs 3

Runs `release-hub --tiny` (tiny checkpoints are only written when a model is
first used, so nothing is loaded at start) on a free port and reports each
run's seconds and the median.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(tmp: str) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "demos.app", "--tiny", "--port", str(port), "--cache-dir", tmp, "--outputs-dir", tmp],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("release-hub exited during start-up")
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times = [one_run(tmp) for _ in range(args.runs)]
    print("runs (s):", ", ".join(f"{t:.2f}" for t in times))
    print(f"median: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
