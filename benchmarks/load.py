"""Load: N concurrent gradio_client users mixing the model endpoints.

    python benchmarks/load.py --clients 20 --rounds 3            # starts its own --tiny server
    python benchmarks/load.py --url http://127.0.0.1:7860/ ...   # or targets a running one

Each client sends one request per round, cycling through /tts, /clone_voice,
/agent_frame and a short /video, each with its own seed. A request counts as
`ok` when it returns its own seed (no cross-talk between clients), `rejected`
when the server said its queue was full, `error` otherwise. The server's RSS
is sampled after the warm-up round and after the last round.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ENDPOINTS = ("/tts", "/clone_voice", "/agent_frame", "/video")


def make_inputs(folder: Path) -> dict:
    sr = 24000
    t = np.arange(3 * sr) / sr
    wave = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) * np.sin(2 * np.pi * 180 * t)
    sf.write(folder / "ref.wav", (0.3 * wave).astype(np.float32), sr)
    return {"ref": str(folder / "ref.wav"), "folder": folder}


def frame_for(seed: int, folder: Path) -> str:
    """A frame whose width encodes the request: /agent_frame echoes the input size."""
    path = folder / f"frame-{seed}.png"
    if not path.exists():
        Image.new("RGB", (200 + seed % 997, 240), (30, 120, 200)).save(path)
    return str(path)


# httpx's default 5 s is too short for a config fetch or an upload on a busy 2-core box
# running a model: each HTTP step may take this long (the result itself has no limit).
HTTP_TIMEOUT_S = 300


def client_for(url: str):
    import httpx
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(HTTP_TIMEOUT_S)})


def call(url: str, endpoint: str, seed: int, inputs: dict):
    from gradio_client import handle_file

    client = client_for(url)
    if endpoint == "/tts":
        _, info = client.predict(text=f"Request {seed}.", voice="neutral_female", seed=seed, api_name="/tts")
        return info["seed"]
    if endpoint == "/clone_voice":
        _, info = client.predict(text=f"Request {seed}.", reference_audio=handle_file(inputs["ref"]), seed=seed,
                                 api_name="/clone_voice")
        return info["seed"]
    if endpoint == "/agent_frame":
        actions = client.predict(frame=handle_file(frame_for(seed, inputs["folder"])), api_name="/agent_frame")
        width = actions["info"]["input_size"][0]
        return seed if width == 200 + seed % 997 else f"a frame {width} px wide"
    _, info = client.predict(prompt=f"a red ball, request {seed}", mode="t2v", num_frames=33, variant="distilled",
                             seed=seed, api_name="/video")
    return info["seed"]


def classify(url: str, endpoint: str, seed: int, inputs: dict) -> tuple[str, str, float]:
    start = time.perf_counter()
    try:
        got = call(url, endpoint, seed, inputs)
        outcome = "ok" if got == seed else f"crosstalk (sent {seed}, got {got})"
    except Exception as exc:  # noqa: BLE001 - every failure is classified and reported
        text = str(exc)
        outcome = "rejected" if "queue" in text.lower() and "full" in text.lower() else f"error: {text[:200]}"
    return endpoint, outcome, time.perf_counter() - start


def run_load(url: str, pid: int | None, clients: int, rounds: int, folder: Path) -> dict:
    inputs = make_inputs(folder)
    process = psutil.Process(pid) if pid else None
    rss = lambda: process.memory_info().rss / 1024**2 if process else None  # noqa: E731
    results, rss_samples = [], {"start_mb": rss()}
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for round_index in range(rounds):
            jobs = [
                pool.submit(classify, url, ENDPOINTS[(i + round_index) % len(ENDPOINTS)], 1000 * round_index + i, inputs)
                for i in range(clients)
            ]
            results += [job.result() for job in jobs]
            rss_samples[f"after_round_{round_index + 1}_mb"] = rss()
    summary = {"clients": clients, "rounds": rounds, "requests": len(results), "rss": rss_samples, "by_endpoint": {}}
    for endpoint in ENDPOINTS:
        mine = [r for r in results if r[0] == endpoint]
        summary["by_endpoint"][endpoint] = {
            "sent": len(mine),
            "ok": sum(r[1] == "ok" for r in mine),
            "rejected": sum(r[1] == "rejected" for r in mine),
            "other": sorted({r[1] for r in mine if r[1] not in ("ok", "rejected")}),
            "mean_latency_s": round(sum(r[2] for r in mine) / max(len(mine), 1), 2),
            "max_latency_s": round(max((r[2] for r in mine), default=0), 2),
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from serving import start_server, stop_server

    with tempfile.TemporaryDirectory() as tmp:
        process = None
        url, pid = args.url, None
        if url is None:
            process, url, _ = start_server(Path(tmp))
            pid = process.pid
        try:
            print(json.dumps(run_load(url, pid, args.clients, args.rounds, Path(tmp)), indent=2))
        finally:
            if process is not None:
                stop_server(process)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
