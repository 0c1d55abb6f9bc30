"""NitroGen on one GPU, real size, random weights: latency per chunk and peak VRAM. Unattended, one call.

    python benchmarks/agent_gpu.py                    # ~3-6 min on one GPU, prints one JSON report
    python benchmarks/agent_gpu.py --repeats 50 --batch 1 --out agent_gpu.json
    python benchmarks/agent_gpu.py --play-seconds 20   # the live Play loop's real-time margin (0 skips it)

Variants, all bf16 weights with the Euler state in fp32 (the app's GPU plan), measured
interleaved after warm-up, with the same pixels and noise:

  eager:     `NitroGen.sample` as the app runs it (vision tower, VL mixer and image
             K/V once per frame; 16 Euler steps in eager mode, launch-bound).
  graphed:   the same stages, but the 16-step Euler loop (action encoder, DiT with the
             precomputed K/V, decoder, update) is compiled once with static shapes
             (`torch.compile(mode="reduce-overhead", fullgraph=True, dynamic=False)`,
             i.e. captured as CUDA graphs) and replayed; the vision tower, mixer and
             K/V still run once per frame, eagerly.
  graphed+tower: as graphed, with the once-per-frame part compiled too (no CUDA graphs).

Reported per variant: latency per chunk (median, p10, p90 of `repeats` calls, CUDA
synchronised), chunks/s and actions/s (18 per chunk; the play loop needs >= 60),
peak VRAM (`torch.cuda.max_memory_allocated` around the timed calls), compile time,
and the max abs difference of the raw actions from eager (bf16 noise, ~1e-2 expected).
A variant that fails (e.g. torch.compile unavailable) is reported with its error; the
others still run. Nothing is downloaded: the model is built from the released config.

Then (`--play-seconds`, default 10) the eager model plays ViZDoom through Play's closed loop
(benchmarks/agent_play.py), lockstep and real time: model time per chunk against the 0.3 s of play it
covers, the loop's own overhead, late chunks, and `realtime_margin_s` under `live_loop`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from demos.agent.checkpoint import build_empty, load_state_strict, random_state_dict, released_ckpt_config  # noqa: E402
from demos.agent.config import parse_ckpt_config, siglip_config_dict  # noqa: E402


def build(dtype: torch.dtype, device: str, tiny: bool):
    if tiny:  # smoke test of this script only (CPU-able): the tiny test checkpoint's sizes
        from demos.agent.checkpoint import TINY_SIGLIP, tiny_ckpt_config

        cfg = parse_ckpt_config(tiny_ckpt_config())
        siglip = siglip_config_dict(cfg, TINY_SIGLIP)
    else:
        cfg = parse_ckpt_config(released_ckpt_config())
        siglip = siglip_config_dict(cfg)
    model = build_empty(cfg, siglip)
    load_state_strict(model, random_state_dict(model, seed=0, scale=0.02), "random")
    return model.eval().requires_grad_(False).to(device=device, dtype=dtype), cfg


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def make_variants(model, dtype, backend: str = "inductor"):
    steps = model.timesteps()
    dt = 1.0 / len(steps)

    def context(pixels):
        vl = model.vl_stream(model.encode_frames(pixels.to(dtype)))
        return model.model.context_kv(model.vl_self_attention_model(vl))

    def denoise(x, kv):
        for t_d in steps:  # unrolled: the bucketed times are compile-time constants
            sa = model.action_stream(x.to(dtype), float(t_d))
            velocity = model.action_decoder(model.model(sa, t_d, kv=kv))[:, -x.shape[1]:]
            x = x + dt * velocity.to(torch.float32)
        return x

    def eager(pixels, noise):
        return model.sample(pixels, noise)

    if backend == "inductor":
        graphed_loop = torch.compile(denoise, mode="reduce-overhead", fullgraph=True, dynamic=False)
        compiled_context = torch.compile(context, fullgraph=False, dynamic=False)
    else:  # smoke runs: trace the same graphs (fullgraph) without generating kernels
        graphed_loop = torch.compile(denoise, backend=backend, fullgraph=True, dynamic=False)
        compiled_context = torch.compile(context, backend=backend, fullgraph=False, dynamic=False)

    def graphed(pixels, noise):
        with torch.inference_mode():
            kv = context(pixels)
            return graphed_loop(noise.to(torch.float32), kv).clone()

    def graphed_tower(pixels, noise):
        with torch.inference_mode():
            kv = compiled_context(pixels)
            return graphed_loop(noise.to(torch.float32), kv).clone()

    return {"eager": eager, "graphed": graphed, "graphed+tower": graphed_tower}


def timed(fn, *args) -> float:
    sync()
    t0 = time.perf_counter()
    fn(*args)
    sync()
    return time.perf_counter() - t0


def live_loop(model, cfg, seconds: float) -> dict:
    """Play's closed loop with this model (eager, as the app runs it): per mode, chunk compute against the
    0.3 s of play a chunk covers. `realtime_margin_s` = 0.3 - (p90 model time + the loop's own overhead);
    positive means real-time play keeps up (late_chunks says whether it did)."""
    from agent_play import engine_over, measure_episode  # benchmarks/ is this script's folder

    engine = engine_over(model, cfg)
    out = {}
    for mode in ("lockstep", "realtime"):
        try:
            out[mode] = measure_episode(engine, seconds=seconds, mode=mode)
        except Exception as exc:  # report it; the latency figures above still stand
            out[mode] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--out", help="also write the JSON report here")
    parser.add_argument("--play-seconds", type=float, default=10.0,
                        help="then play ViZDoom for this many game seconds with the eager model, lockstep and real "
                             "time (benchmarks/agent_play.py): the live loop's real-time margin; 0 skips it")
    parser.add_argument("--smoke-tiny-cpu", action="store_true",
                        help="check this script on CPU with the tiny model and torch.compile's eager backend "
                             "(traces the same full graphs; no timings worth reading)")
    args = parser.parse_args()
    device = "cpu" if args.smoke_tiny_cpu else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("benchmarks/agent_gpu.py needs a CUDA GPU (torch.cuda.is_available() is False).")
    dtype = getattr(torch, args.dtype)
    torch.backends.cuda.matmul.allow_tf32 = True
    cuda = device == "cuda"

    t0 = time.perf_counter()
    model, cfg = build(dtype, device, args.smoke_tiny_cpu)
    build_s = time.perf_counter() - t0
    weights_gib = torch.cuda.memory_allocated() / 2**30 if cuda else None
    gen = torch.Generator().manual_seed(0)
    size = model.image_size
    pixels = (torch.rand((args.batch, 3, size, size), generator=gen) * 2 - 1).to(device)
    noise = torch.randn((args.batch, cfg.action_horizon, cfg.action_dim), generator=gen).to(device)

    variants = make_variants(model, dtype, "eager" if args.smoke_tiny_cpu else "inductor")
    report = {"variants": {}}
    reference = variants["eager"](pixels, noise).float()
    live = {}
    for name, fn in variants.items():
        entry = report["variants"].setdefault(name, {})
        try:
            c0 = time.perf_counter()
            for _ in range(args.warmup):  # compiles / captures on the first calls
                out = fn(pixels, noise)
            sync()
            entry["warmup_and_compile_s"] = round(time.perf_counter() - c0, 2)
            entry["max_abs_diff_vs_eager"] = (out.float() - reference).abs().max().item()
            live[name] = fn
        except Exception as exc:  # report and keep going: one broken variant must not lose the run
            entry["error"] = f"{type(exc).__name__}: {exc}"[:2000]
            entry["traceback_tail"] = traceback.format_exc()[-2000:]

    times = {name: [] for name in live}
    peaks = {name: 0.0 for name in live}
    for _ in range(args.repeats):
        for name, fn in live.items():  # interleaved
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            times[name].append(timed(fn, pixels, noise))
            if cuda:
                peaks[name] = max(peaks[name], torch.cuda.max_memory_allocated() / 2**30)
    for name, t in times.items():
        t = sorted(t)
        med = statistics.median(t)
        report["variants"][name].update({
            "latency_ms_median": round(1000 * med, 2),
            "latency_ms_p10": round(1000 * t[int(0.1 * (len(t) - 1))], 2),
            "latency_ms_p90": round(1000 * t[int(0.9 * (len(t) - 1))], 2),
            "chunks_per_s": round(args.batch / med, 2),
            "actions_per_s": round(args.batch * cfg.action_horizon / med, 1),
            "keeps_up_with_60hz_play": bool(med < cfg.action_horizon / 60),
            "peak_vram_gib": round(peaks[name], 3) if cuda else None,
        })
    if args.play_seconds > 0:
        report["live_loop"] = live_loop(model, cfg, args.play_seconds)
    report.update({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "gpu": torch.cuda.get_device_name() if cuda else "none (CPU smoke run)",
        "torch": torch.__version__,
        "dtype": args.dtype,
        "batch": args.batch,
        "repeats": args.repeats,
        "params": sum(p.numel() for p in model.parameters()),
        "euler_steps": cfg.num_inference_timesteps,
        "weights_gib": None if weights_gib is None else round(weights_gib, 3),
        "build_s": round(build_s, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    })
    from agent_play import emit  # benchmarks/ is this script's folder

    emit(report, args.out)


if __name__ == "__main__":
    main()
