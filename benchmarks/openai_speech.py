"""Overhead of /v1/audio/speech over a direct engine call, and of one forwarding hop (tiny Voxtral, CPU).

Three ways to make the same audio (same text, voice, seed, frame count), interleaved round by round:
  direct   VoxtralEngine.synthesize in this process (the tiny checkpoint, CPU fp32)
  api      POST /v1/audio/speech (pcm) on a `release-hub --tiny` server R: JSON parsing, the Gradio
           queue hand-over, the GPU-task wrapper, PCM encoding, HTTP
  forward  the same request to a server F started with `--remote voxtral=R`: one more HTTP hop,
           PCM -> float -> PCM on F
The audio bytes of `api` and `forward` are checked equal. Ratios are medians of the rounds.

    python benchmarks/openai_speech.py --rounds 7 --frames 8
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def start(tmp: Path, name: str, port: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    cmd = [sys.executable, "-m", "demos.app", "--tiny", "--port", str(port), "--cache-dir", str(tmp / "cache"),
           "--outputs-dir", str(tmp / f"out-{name}"), *extra]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(tmp / f"{name}.log", "w"), stderr=subprocess.STDOUT)


def wait(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/", timeout=5), urllib.request.urlopen(url + "/v1/models", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not start")


def speech(url: str, body: dict) -> tuple[float, bytes]:
    request = urllib.request.Request(url + "/v1/audio/speech", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        data = response.read()
    return time.perf_counter() - t0, data


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from demos.app import build_context
    from demos.voice.voxtral.engine import SynthesisOptions, load_engine
    from shared.web.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-openai-"))
    ports = free_port(), free_port()
    remote_url, front_url = (f"http://127.0.0.1:{p}" for p in ports)
    servers = [start(tmp, "remote", ports[0]), start(tmp, "front", ports[1], "--remote", f"voxtral={remote_url}")]
    try:
        ctx, _ = build_context(Settings(tiny=True, cache_dir=tmp / "cache", outputs_dir=tmp / "out-direct"))
        engine = ctx.load("voxtral", load_engine)
        wait(remote_url)
        wait(front_url)
        body = {"model": "voxtral-4b-tts", "input": "Hello there.", "voice": "casual_male", "response_format": "pcm",
                "seed": 7, "max_new_tokens": args.frames}
        options = SynthesisOptions(max_seconds=(args.frames + 0.5) / 12.5)
        times = {"direct": [], "api": [], "forward": []}
        for name, url in (("api", remote_url), ("forward", front_url)):  # warm-up: model load on R
            speech(url, body)
        engine.synthesize("Hello there.", "casual_male", 7, options)
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            wave, _ = engine.synthesize("Hello there.", "casual_male", 7, options)
            times["direct"].append(time.perf_counter() - t0)
            seconds, api_bytes = speech(remote_url, body)
            times["api"].append(seconds)
            seconds, forward_bytes = speech(front_url, body)
            times["forward"].append(seconds)
            assert api_bytes == forward_bytes and len(api_bytes) == 2 * len(wave), "forwarded audio differs"
            print({k: round(v[-1], 4) for k, v in times.items()}, file=sys.stderr, flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(json.dumps({
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg(),
            "rounds": args.rounds, "frames": args.frames,
            "median_s": {k: round(v, 4) for k, v in med.items()},
            "api_over_direct": round(med["api"] / med["direct"], 3),
            "forward_over_api": round(med["forward"] / med["api"], 3),
            "api_minus_direct_ms": round(1000 * (med["api"] - med["direct"]), 1),
            "forward_minus_api_ms": round(1000 * (med["forward"] - med["api"]), 1),
            "all_s": {k: [round(x, 4) for x in v] for k, v in times.items()},
        }, indent=2))
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
