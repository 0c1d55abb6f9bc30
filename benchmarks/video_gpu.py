"""GPU: peak VRAM, host RAM and speed per profile for full-size Helios (random weights, no download).

    python benchmarks/video_gpu.py --profiles 6gb 8gb 12gb 16gb full --frames 33 99 231 [--baseline]

Builds the production-size components (HeliosTransformer3DModel defaults = the 14B config, UMT5-XXL
encoder config, Wan VAE) with random bf16 weights, saves them once in the diffusers layout under
--workdir, then for each profile loads them through the app's own loader (plan -> placement) and
generates Distilled t2v at 384x640. Records torch.cuda.max_memory_allocated, process RSS peak,
seconds per chunk and frames per second. --baseline runs the plain upstream-style call
(`pipe.to("cuda")`, output_type="np") at full VRAM for comparison. NOT RUN in this task (no GPU).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_full_size(dest: Path) -> None:
    import torch
    from diffusers import AutoencoderKLWan, HeliosDMDScheduler, HeliosPyramidPipeline, HeliosTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    from demos.video.checkpoint import tiny_tokenizer

    if (dest / "model_index.json").exists():
        return
    torch.set_default_dtype(torch.bfloat16)
    transformer = HeliosTransformer3DModel()
    text_encoder = UMT5EncoderModel(UMT5Config(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240,
                                               num_layers=24, num_heads=64, feed_forward_proj="gated-gelu"))
    torch.set_default_dtype(torch.float32)
    vae = AutoencoderKLWan()
    tokenizer, _ = tiny_tokenizer()  # token ids only matter for speed through the encoder's length
    pipe = HeliosPyramidPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
                                 scheduler=HeliosDMDScheduler(use_dynamic_shifting=True), transformer=transformer,
                                 is_distilled=True)
    pipe.save_pretrained(dest, safe_serialization=True)


def run_profile(workdir: Path, profile: str, frames: int) -> dict:
    import psutil
    import torch

    from shared.models.hardware import detect
    from demos.video import engine, limits, plans
    from demos.video.variants import VARIANTS

    v = VARIANTS["distilled"]
    plan = plans.plan(v.key, profile, detect())
    torch.cuda.reset_peak_memory_stats()
    eng = engine.load(v)(workdir, plan)
    req = engine.VideoRequest(prompt="a red fox trots through fresh snow at dawn", mode="t2v", num_frames=frames,
                              resolution=limits.RESOLUTIONS["384x640"], seed=0, settings=v.defaults)
    start = time.perf_counter()
    result = eng.generate(req, workdir.parent / f"{profile}-{frames}.mp4")
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    row = {"profile": profile, "frames": result.frames, "peak_vram_gb": torch.cuda.max_memory_allocated() / 1e9,
           "rss_gb": psutil.Process().memory_info().rss / 1e9,
           "max_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
           "s_per_chunk": seconds / result.chunks_done, "fps": result.frames / seconds,
           "plan_host_ram_gb": plan.host_ram_gb, "plan_vram_gb": plan.vram_gb}
    del eng
    torch.cuda.empty_cache()
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", nargs="+", default=["6gb", "8gb", "12gb", "16gb", "full"])
    parser.add_argument("--frames", nargs="+", type=int, default=[33, 99, 231])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/helios-full"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    build_full_size(args.workdir / "ckpt")
    rows = [run_profile(args.workdir / "ckpt", p, f) for p in args.profiles for f in args.frames]
    for row in rows:
        print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
