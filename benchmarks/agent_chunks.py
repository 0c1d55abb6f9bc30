"""NitroGen chunks/s at the real size with random weights: ours vs upstream.

"ours":     `NitroGen.sample(hoist=True)`: the VL mixer and the image-token
            cross-attention K/V run once per call.
"hoist=False": our model run the way upstream's get_action is structured: mixer
            and K/V recomputed at every one of the 16 Euler steps.
"upstream": with `--upstream-src DIR` (a checkout of MineDojo/NitroGen; needs
            `pip install einops`), upstream's own `NitroGen.get_action`, built from
            the same ckpt_config and loaded strictly with the same weights. Its
            SigLIP tower is built from the config instead of downloaded (ng.pt
            overwrites every tower weight anyway). Upstream draws its noise with
            torch.randn after the same manual_seed, so outputs are compared too.
All variants run in one process with the same weights, pixels and noise, calls
interleaved (ours, hoist=False, upstream, ours, ...), so other load hits all alike.

The model is built from the released config (no download): ~494 M parameters.

    python benchmarks/agent_chunks.py --threads 2 --repeats 5
    python benchmarks/agent_chunks.py --threads 2 --repeats 5 --upstream-src /path/to/NitroGen
    python benchmarks/agent_chunks.py --device cuda --dtype bfloat16 --batch 1 --repeats 20

On CUDA it also reports peak VRAM (torch.cuda.max_memory_allocated).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import types

import torch

from demos.agent.checkpoint import build_empty, load_state_strict, random_state_dict, released_ckpt_config
from demos.agent.config import parse_ckpt_config, siglip_config_dict


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_call(fn, device: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). On a shared CPU the CPU time is the steadier
    measure of the work done, since wall time also counts the time other processes held the cores."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def build_upstream(src: str, ckpt_config: dict, siglip: dict, state: dict, device: str, dtype: torch.dtype):
    """Upstream's own NitroGen from a checkout at `src`, loaded strictly with `state`."""
    sys.path.insert(0, str(src))
    import nitrogen.flow_matching_transformer.nitrogen as upstream  # not nitrogen.cfg: that pulls in polars
    from transformers import SiglipVisionConfig, SiglipVisionModel

    class TowerFromConfig:  # instead of downloading google/siglip2-large-patch16-256
        @staticmethod
        def from_pretrained(name, **kwargs):
            tower = SiglipVisionModel(SiglipVisionConfig(**siglip))
            # Upstream takes `.vision_model` (transformers 4.x nesting); in 5.x the model is the tower.
            return tower if hasattr(tower, "vision_model") else types.SimpleNamespace(vision_model=tower)

    model_cfg = upstream.NitroGen_Config.model_validate(ckpt_config["model_cfg"])
    saved, upstream.SiglipVisionModel = upstream.SiglipVisionModel, TowerFromConfig
    try:
        model = upstream.NitroGen(config=model_cfg)
    finally:
        upstream.SiglipVisionModel = saved
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False).to(device=device, dtype=dtype)


def upstream_inputs(pixels: torch.Tensor, ckpt_config: dict) -> dict:
    """The tokenized dict upstream's NitrogenTokenizer gives get_action for one frame per row (ctx 1)."""
    b = pixels.shape[0]
    tok = ckpt_config["tokenizer_cfg"]
    n_img = tok["num_visual_tokens_per_frame"]
    ids = [0] * (tok["max_sequence_length"] - n_img) + [1] * n_img
    vl = torch.tensor(ids, device=pixels.device).expand(b, -1)  # left-padded _PAD_TOKEN, then _IMG_TOKEN
    return {
        "images": pixels[:, None], "vl_token_ids": vl, "vl_attn_mask": torch.ones_like(vl, dtype=torch.bool),
        "sa_token_ids": torch.full((b, tok["action_horizon"]), 4, device=pixels.device),  # _ACT_TOKEN
        "dropped_images": torch.zeros((b, 1), dtype=torch.bool, device=pixels.device),
        "embodiment_id": torch.zeros(b, dtype=torch.long, device=pixels.device), "game_ids": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default=None, choices=["float32", "bfloat16"],
                        help="default: float32 on CPU, bfloat16 on CUDA (the app's plans)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 avoids OpenMP spin-waits skewing a shared machine)")
    parser.add_argument("--upstream-src", default=None,
                        help="a MineDojo/NitroGen checkout: also time upstream's own get_action")
    parser.add_argument("--no-hoist-false", action="store_true", help="skip our hoist=False variant")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype_name = args.dtype or ("float32" if args.device == "cpu" else "bfloat16")
    dtype = getattr(torch, dtype_name)

    load_before = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    ckpt_config = released_ckpt_config()
    cfg = parse_ckpt_config(ckpt_config)
    siglip = siglip_config_dict(cfg)
    model = build_empty(cfg, siglip)
    state = random_state_dict(model, seed=0, scale=0.02)
    load_state_strict(model, state, "random")
    model = model.eval().requires_grad_(False).to(device=args.device, dtype=dtype)
    upstream = None
    if args.upstream_src:
        upstream = build_upstream(args.upstream_src, ckpt_config, siglip, state, args.device, dtype)
    del state
    build_s = time.perf_counter() - t0
    gen = torch.Generator().manual_seed(0)
    size = model.image_size
    pixels = (torch.rand((args.batch, 3, size, size), generator=gen) * 2 - 1).to(args.device)
    noise_shape = (args.batch, cfg.action_horizon, cfg.action_dim)

    def ours(hoist: bool):
        def run():
            torch.manual_seed(1234)  # the same noise upstream draws after the same seed
            noise = torch.randn(noise_shape, dtype=pixels.dtype, device=args.device)
            with torch.inference_mode():
                return model.sample(pixels, noise, hoist=hoist)
        return run

    variants = {"ours": ours(True)}
    if not args.no_hoist_false:
        variants["hoist_false"] = ours(False)
    if upstream is not None:
        data = upstream_inputs(pixels, ckpt_config)

        def run_upstream():
            torch.manual_seed(1234)
            return upstream.get_action(data)["action_tensor"]
        variants["upstream"] = run_upstream

    peak = None
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        time_call(variants["ours"], args.device)
        peak = torch.cuda.max_memory_allocated() / 2**30
    for fn in variants.values():  # warm-up
        time_call(fn, args.device)
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            times[name].append(time_call(fn, args.device))
    reference = variants["ours"]().float()
    diffs = {name: (fn().float() - reference).abs().max().item() for name, fn in variants.items() if name != "ours"}

    med = {name: statistics.median(w for w, _ in t) for name, t in times.items()}
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "dtype": dtype_name,
        "batch": args.batch,
        "params": sum(p.numel() for p in model.parameters()),
        "euler_steps": cfg.num_inference_timesteps,
        "build_s": round(build_s, 2),
        "wall_s_per_call": {n: [round(w, 3) for w, _ in t] for n, t in times.items()},
        "cpu_s_per_call": {n: [round(c, 3) for _, c in t] for n, t in times.items()},
        "chunks_per_s_median": {n: round(args.batch / m, 3) for n, m in med.items()},
        "speedup_wall_median_vs": {n: round(m / med["ours"], 2) for n, m in med.items() if n != "ours"},
        "speedup_cpu_time_median_vs": {
            n: round(statistics.median(c for _, c in t) / statistics.median(c for _, c in times["ours"]), 2)
            for n, t in times.items() if n != "ours"},
        "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "max_abs_diff_vs_ours": diffs,
        "peak_vram_gib_ours": None if peak is None else round(peak, 3),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
