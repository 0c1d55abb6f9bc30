"""Start-up time: process start to the first HTTP 200, no model loaded.

    python benchmarks/startup.py --runs 5

Runs `release-hub --tiny` (tiny checkpoints are only written when a model is
first used, so nothing is loaded at start) on a free port, interleaved with a
bare Gradio app (one Textbox: the floor no Gradio app can beat on this box),
and reports each run's wall and CPU seconds, the medians, their ratios, which model
libraries the app process had imported at start, and the load average.

    python benchmarks/startup.py --runs 3 --baseline /tmp/before

also times the checkout in /tmp/before (e.g. `git archive <commit> | tar -x -C /tmp/before`) in
the same interleaved loop, for a before/after ratio measured side by side.
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


BARE_GRADIO = """
import sys, gradio as gr
with gr.Blocks() as app:
    gr.Textbox()
app.launch(server_port=int(sys.argv[1]))
"""
HEAVY = ("torch", "transformers", "diffusers", "torchao", "matplotlib", "mistral_common")


def cpu_seconds(pid: int) -> float:
    """CPU seconds the process (and the children it has waited for, e.g. ffprobe) used so far: on a
    busy shared box this varies far less than wall time, which waits for the other jobs too."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def one_run(tmp: str, bare: bool = False, repo: Path = REPO) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from process start to the first HTTP 200."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    cmd = ([sys.executable, "-c", BARE_GRADIO, str(port)] if bare else
           [sys.executable, "-m", "demos.app", "--tiny", "--port", str(port), "--cache-dir", tmp, "--outputs-dir", tmp])
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start, cpu_seconds(process.pid)
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("release-hub exited during start-up")
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)


def imported_at_start() -> list[str]:
    """The model libraries `build_app` imports (building the page, as start-up does, no launch)."""
    code = ("import sys; from shared.web.settings import Settings; from demos.app import build_app; "
            "build_app(Settings.from_args(['--tiny'])); print(' '.join(m for m in %r if m in sys.modules))" % (HEAVY,))
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def report(label: str, runs: list[tuple[float, float]], bare: list[tuple[float, float]]) -> None:
    """Each run's wall and CPU seconds, the medians and their ratios to the bare Gradio app."""
    for i, what in ((0, "wall"), (1, "CPU")):
        mine, floor = statistics.median(r[i] for r in runs), statistics.median(r[i] for r in bare)
        print(f"{label} {what} s: " + ", ".join(f"{r[i]:.2f}" for r in runs)
              + f"; median {mine:.2f}, ratio to bare Gradio {mine / floor:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout of the repo, timed in the same loop")
    args = parser.parse_args()
    app, bare, base = [], [], []
    print("load average at start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):  # interleaved: all see the same machine load
            if args.baseline:
                base.append(one_run(tmp, repo=args.baseline))
            app.append(one_run(tmp))
            bare.append(one_run(tmp, bare=True))
    print("load average at end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    report("bare Gradio app", bare, bare)
    if base:
        report(f"baseline {args.baseline}", base, bare)
    report("release-hub --tiny", app, bare)
    if base:
        for i, what in ((0, "wall"), (1, "CPU")):
            print(f"this checkout / baseline, {what}: "
                  f"{statistics.median(r[i] for r in app) / statistics.median(r[i] for r in base):.2f}")
    print("model libraries imported while building the page:", ", ".join(imported_at_start()) or "none")


if __name__ == "__main__":
    main()
