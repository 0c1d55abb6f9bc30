"""NitroGen chunks/s at the real size with random weights: ours vs upstream's structure.

"ours":     the VL mixer and the image-token cross-attention K/V run once per call.
"upstream": the same model run the way upstream's get_action runs it: mixer and
            K/V recomputed at every one of the 16 Euler steps.
Both run the very same weights and noise in one process, so the ratio is
a like-for-like comparison; the script also checks the outputs agree.

The model is built from the released config (no download): ~494 M parameters.

    python benchmarks/agent_chunks.py                      # CPU, fp32, batch 1
    python benchmarks/agent_chunks.py --device cuda --dtype bfloat16 --batch 1 --repeats 20

On CUDA it also reports peak VRAM (torch.cuda.max_memory_allocated).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from demos.agent.checkpoint import build_empty, load_state_strict, random_state_dict, released_ckpt_config
from demos.agent.config import parse_ckpt_config, siglip_config_dict


def build(device: str, dtype: torch.dtype):
    cfg = parse_ckpt_config(released_ckpt_config())
    model = build_empty(cfg, siglip_config_dict(cfg))
    load_state_strict(model, random_state_dict(model, seed=0, scale=0.02), "random")
    return model.eval().requires_grad_(False).to(device=device, dtype=dtype), cfg


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_call(model, pixels, noise, hoist: bool, device: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). On a shared CPU the CPU time is the steadier
    measure of the work done, since wall time also counts the time other processes held the cores."""
    t0, c0 = time.perf_counter(), time.process_time()
    model.sample(pixels, noise, hoist=hoist)
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def time_interleaved(model, pixels, noise, repeats: int, device: str) -> tuple[list, list]:
    """Alternate ours / upstream so that load from other processes hits both alike."""
    for hoist in (True, False):  # warm-up
        time_call(model, pixels, noise, hoist, device)
    ours, upstream = [], []
    for _ in range(repeats):
        ours.append(time_call(model, pixels, noise, True, device))
        upstream.append(time_call(model, pixels, noise, False, device))
    return ours, upstream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16"],
                        help="default: float32 on CPU, bfloat16 on CUDA (the app's plans)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 avoids OpenMP spin-waits skewing a shared machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype_name = args.dtype or ("float32" if args.device == "cpu" else "bfloat16")
    dtype = getattr(torch, dtype_name)

    load_before = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    model, cfg = build(args.device, dtype)
    build_s = time.perf_counter() - t0
    gen = torch.Generator().manual_seed(0)
    size = model.image_size
    pixels = (torch.rand((args.batch, 3, size, size), generator=gen) * 2 - 1).to(args.device)
    noise = torch.randn((args.batch, cfg.action_horizon, cfg.action_dim), generator=gen).to(args.device)

    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        time_call(model, pixels, noise, True, args.device)
        peak_ours = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak_ours = None
    ours, upstream = time_interleaved(model, pixels, noise, args.repeats, args.device)
    diff = (model.sample(pixels, noise, hoist=True) - model.sample(pixels, noise, hoist=False)).abs().max().item()

    wall_ours, cpu_ours = [w for w, _ in ours], [c for _, c in ours]
    wall_up, cpu_up = [w for w, _ in upstream], [c for _, c in upstream]
    med_ours, med_up = statistics.median(wall_ours), statistics.median(wall_up)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "dtype": dtype_name,
        "batch": args.batch,
        "params": sum(p.numel() for p in model.parameters()),
        "euler_steps": cfg.num_inference_timesteps,
        "build_s": round(build_s, 2),
        "ours_wall_s_per_call": [round(x, 3) for x in wall_ours],
        "upstream_structure_wall_s_per_call": [round(x, 3) for x in wall_up],
        "ours_cpu_s_per_call": [round(x, 3) for x in cpu_ours],
        "upstream_structure_cpu_s_per_call": [round(x, 3) for x in cpu_up],
        "ours_chunks_per_s": round(args.batch / med_ours, 3),
        "upstream_structure_chunks_per_s": round(args.batch / med_up, 3),
        "speedup_wall_median": round(med_up / med_ours, 2),
        "speedup_wall_best": round(min(wall_up) / min(wall_ours), 2),
        "speedup_cpu_time_median": round(statistics.median(cpu_up) / statistics.median(cpu_ours), 2),
        "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "max_abs_diff_ours_vs_upstream_structure": diff,
        "peak_vram_gib_ours": None if peak_ours is None else round(peak_ours, 3),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
