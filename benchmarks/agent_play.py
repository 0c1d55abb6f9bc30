"""Play's closed loop (NitroGen on ViZDoom), per chunk: the model's time against the loop's own overhead.

    python benchmarks/agent_play.py                                  # tiny model, lockstep, 10 s of game
    python benchmarks/agent_play.py --model real --seconds 0.9       # real size (random weights), CPU, 3 chunks
    python benchmarks/agent_play.py --mode realtime --seconds 10     # real time: late chunks, idle time

Method: one episode through `demos.agent.play.session.run_episode` exactly as the app plays it (the
/agent_frame engine and preprocessing, the mapping, the recorder writing the overlay mp4 on its thread),
with lockstep unpaced (the game never waits for the wall clock, so the loop's own cost shows) unless
`--mode realtime`. The events are handled as the app's stream handles them: each live frame is
pickled as across ZeroGPU's process boundary and JPEG-encoded as Gradio does for `gr.Image(format="jpeg")`;
each chunk's payload is pickled and JSON-encoded. Per chunk it reports the model's time (median, p90) and
the loop overhead on the loop's thread: game stepping, the live frame's overlay, the hand-off to the
recorder, and streaming (the pickling and encoding above); the recorder's own encoding runs on another
thread and is reported apart (its wait at the end). Also: wall time, game time, slow-down factor, late chunks,
load average before and after. Nothing is downloaded: real size is the released config with random weights.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHUNK_S = 0.3  # 18 actions at 60 Hz


def build_engine(kind: str, device: str = "cpu", dtype: str = "float32"):
    """An AgentEngine over the tiny test checkpoint or a real-size model with random weights."""
    import torch

    from demos.agent.checkpoint import (TINY_SIGLIP, build_empty, load_state_strict, random_state_dict,
                                        released_ckpt_config, tiny_ckpt_config)
    from demos.agent.config import parse_ckpt_config, siglip_config_dict
    cfg = parse_ckpt_config(tiny_ckpt_config() if kind == "tiny" else released_ckpt_config())
    siglip = siglip_config_dict(cfg, TINY_SIGLIP) if kind == "tiny" else siglip_config_dict(cfg)
    model = build_empty(cfg, siglip)
    load_state_strict(model, random_state_dict(model, seed=0, scale=0.02), "random")
    model = model.eval().requires_grad_(False).to(device=device, dtype=getattr(torch, dtype))
    return engine_over(model, cfg, kind)


def engine_over(model, cfg, label: str = "random"):
    """The app's AgentEngine (its preprocessing and decoding) around an already built model."""
    from demos.agent.engine import AgentEngine

    return AgentEngine(SimpleNamespace(model=model, config=cfg, path=f"<{label} random>", step=0, epoch=0))


class StreamCost:
    """The app's handling of the loop's events, timed: pickle (ZeroGPU boundary) + JPEG / JSON encoding."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.frames = 0

    def __call__(self, event) -> None:
        from PIL import Image

        from demos.agent.play.loop import PlayChunk, PlayFrame
        from demos.agent.play_handlers import chunk_payload

        t0 = time.perf_counter()
        ForkingPickler.dumps(event)
        if isinstance(event, PlayFrame):
            Image.fromarray(event.image).save(io.BytesIO(), format="JPEG")
            self.frames += 1
        elif isinstance(event, PlayChunk):
            json.dumps(chunk_payload(event))
        self.seconds += time.perf_counter() - t0


def measure_episode(engine, *, scenario: str = "defend_the_center", seconds: float = 10.0, mode: str = "lockstep",
                    seed: int = 0, pace: bool = False) -> dict:
    """Play one recorded episode with `engine`; the per-chunk split of model time and loop overhead."""
    from demos.agent.play import session
    from demos.agent.play.agents import NitroGenAgent
    from demos.agent.play.session import EpisodeSpec
    from shared.tasks.cancel import CancelToken

    stream = StreamCost()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        spec = EpisodeSpec("vizdoom", scenario, seed, mode, seconds)
        t0 = time.perf_counter()
        record = session.run_episode(spec, NitroGenAgent(engine, seed), emit=stream, cancel=CancelToken(),
                                     mp4=Path(tmp) / "ep.mp4", actions=Path(tmp) / "ep.json", pace=pace)
        wall = time.perf_counter() - t0
        saved = json.loads((Path(tmp) / "ep.json").read_text())
    model = sorted(c["model_s"] for c in saved["chunks"] if c["model_s"] is not None)
    chunks = max(record["chunks"], 1)
    loop = dict(record["loop_s_per_chunk"])
    loop["display"] = max(0.0, loop["display"] - stream.seconds / chunks)  # the loop's display time includes emit
    loop["streaming"] = stream.seconds / chunks
    overhead = sum(loop.values())
    median = statistics.median(model) if model else float("nan")
    return {
        "scenario": scenario, "mode": mode, "paced": record["paced"], "chunks": record["chunks"],
        "tics": record["tics"], "live_frames": stream.frames,
        "model_s_per_chunk": {"median": round(median, 4), "p90": round(model[int(0.9 * (len(model) - 1))], 4),
                              "max": round(model[-1], 4)},
        "loop_overhead_s_per_chunk": {k: round(v, 5) for k, v in loop.items()},
        "loop_overhead_total_s_per_chunk": round(overhead, 5),
        "overhead_vs_model_pct": round(100 * overhead / median, 1) if model else None,
        "episode_wall_s": round(wall, 2), "game_s": round(record["tics"] / record["tic_rate"], 2),
        "slowdown": record["stats"]["slowdown"], "late_chunks": record["late_chunks"],
        "idle_s": record["stats"]["idle_s"],
        "realtime_margin_s": round(CHUNK_S - (model[int(0.9 * (len(model) - 1))] + overhead), 4) if model else None,
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["tiny", "real"], default="tiny")
    parser.add_argument("--mode", choices=["lockstep", "realtime"], default="lockstep")
    parser.add_argument("--seconds", type=float, default=10.0, help="game seconds to play")
    parser.add_argument("--scenario", default="defend_the_center")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default=None, help="default: float32 on CPU, bfloat16 on CUDA")
    parser.add_argument("--out", help="also write the JSON report here")
    parser.add_argument("--record-every", type=int, default=None,
                        help="record every Nth tic in the mp4 (default: the app's RECORD_EVERY_TICS)")
    args = parser.parse_args()
    if args.record_every:
        from demos.agent.play import session

        session.RECORD_EVERY_TICS = args.record_every
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    engine = build_engine(args.model, args.device, args.dtype or ("bfloat16" if args.device == "cuda" else "float32"))
    build_s = time.perf_counter() - t0
    engine.run([__import__("numpy").zeros((240, 320, 3), "uint8")], 0)  # warm-up outside the timed episode
    report = {"model": args.model, "device": args.device, "torch_threads": torch.get_num_threads(),
              "build_s": round(build_s, 1), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              **measure_episode(engine, scenario=args.scenario, seconds=args.seconds, mode=args.mode)}
    emit(report, args.out)


def emit(report: dict, out: str | None) -> None:
    """Print the report as JSON, and write it to `out` when given (agent_gpu.py reports the same way)."""
    text = json.dumps(report, indent=1)
    print(text)
    if out:
        Path(out).write_text(text)


if __name__ == "__main__":
    main()
