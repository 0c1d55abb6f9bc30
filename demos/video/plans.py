"""Placement plan per memory profile for the Helios checkpoints.

All three variants share the 14B architecture, so they share the plans.
Sizes (from the configs, not measured): transformer 14.3 B params = 28.6 GB
in bf16 (0.7 GB per block, 40 blocks) or 14.3 GB stored as fp8; UMT5-XXL
encoder 5.7 B = 11.4 GB bf16; Wan VAE ~0.5 GB fp32.

Host RAM is planned as carefully as VRAM: upstream's "6 GB" recipe (whole
pipeline leaf-level with CUDA streams and pre-pinned copies) needs 80-85 GB
of host RAM (Helios issue #141). Our low-VRAM plans store the transformer as
fp8 (halves both host RAM and PCIe traffic) and pin on the fly
(`low_cpu_mem_usage=True`) unless the host has room for pinned copies; the
plan's `host_ram_gb` is what it needs, and `auto` respects it.
The VRAM figures are estimates from sizes and token counts (384x640, 33
frames per chunk); the GPU benchmark script measures them where a GPU exists.

Small hosts: when the host has less RAM than a plan's in-RAM variant needs,
the plan keeps the offloaded transformer (fp8) and text encoder in files under
the cache dir instead (diffusers' `offload_to_disk_path`, see
shared/models/disk_offload.py); their `host_ram_gb` is the peak RSS measured at the
real size by benchmarks/video_host_ram.py (docs/BENCHMARKS.md), plus an
allowance for the CUDA context and pinned staging copies.

Two GPUs (`2x12gb`, `2x24gb`): accelerate places the transformer's blocks
across both cards (`device_map` from its `_no_split_modules`), the text encoder
is offloaded leaf by leaf onto the second card, the VAE sits on the first.
"""
from __future__ import annotations

from shared.models.hardware import HardwareInfo
from shared.models.profiles import MULTI_GPU_PROFILES, PROFILE_VRAM_GB, ComponentPlacement, PlacementPlan

from .limits import MAX_FRAMES, RESOLUTIONS

TRANSFORMER_BF16_GB = 28.6
TRANSFORMER_FP8_GB = 14.3
TEXT_ENCODER_GB = 11.4
VAE_GB = 0.5
RUNTIME_OVERHEAD_GB = 5.0  # torch, CUDA context, the Python process, decoded frames in flight
ALL_RESOLUTIONS = tuple(RESOLUTIONS)
# Disk plans at the real size with the CPU as onload device (benchmarks/video_host_ram.py, docs/BENCHMARKS.md,
# "Helios host RAM"): peak RSS while loading, encoding once and running one transformer pass; `None` = not measured.
# 14.3 B transformer + 5.7 B UMT5-XXL, busy 2-core VM, 2026-12-02 (with the 1 MiB mmap threshold and fp8 cast at
# write; the block-level figures of 2026-12-01, before both, were 10.2 GB peak and a 739 s first load).
DISK_PLAN_MEASURED = {
    # Block level 1, fp8: transformer folder written in 158 s (encoder folder reused; writing it is inside the 6gb
    # run's 196 s for both, so a first load is at most ~5.9 min), encode 66 s, one pass 370 s wall / 382 CPU s;
    # peak RSS 1.94 GB sampled, 1.96 GB ru_maxrss.
    "8gb": {"peak_rss_gb": 2.0, "build_minutes": 5.9, "forward_s": 370, "source": "measured at the real size"},
    # Leaf level, fp8: first load (both folders written, 28.1 GB) 196 s, encode 151 s, one pass 648 s wall /
    # 391 CPU s (a test run shared the cores); peak RSS 2.33 GB sampled, 2.34 GB ru_maxrss.
    "6gb": {"peak_rss_gb": 2.3, "build_minutes": 3.3, "forward_s": 648, "source": "measured at the real size"},
}
# With CUDA streams diffusers forces one block per group, so on a GPU the 16gb disk plan has the 8gb layout.
DISK_PLAN_MEASURED["16gb"] = DISK_PLAN_MEASURED["8gb"]
DISK_PLAN_MEASURED["12gb"] = DISK_PLAN_MEASURED["8gb"]  # the same layout (block by block, fp8)
DISK_PLAN_MEASURED["cpu"] = DISK_PLAN_MEASURED["8gb"]  # the same layout (block by block, fp8) on the CPU
CUDA_HOST_ALLOWANCE_GB = 1.5  # not measured here: CUDA context and pinned staging copies of one group
# In-RAM fp8 plans (one GPU, transformer read as fp8 tensor by tensor, pinned on the fly): peak RSS while loading,
# encoding once and running one transformer pass, CPU as onload device, measured with the real UMT5-XXL and 1 and
# 8 real-size transformer blocks (10.0 and 12.3 GB; the whole 40-block model does not fit our 23 GB machine) and
# extrapolated linearly to 40 blocks (0.33 GB a block; 13.7 GB of it anonymous, the rest the encoder's mapped
# checkpoint): docs/BENCHMARKS.md, `video_host_ram.py --in-ram-compare`. Loading with from_pretrained and casting
# afterwards peaked at 17.6 GB with 8 blocks: 49.3 GB extrapolated.
IN_RAM_FP8_MEASURED = {"peak_rss_gb": 22.9, "source": "measured at 1 and 8 real-size blocks, extrapolated to 40"}
# Text encoder per new prompt, disk-offloaded, page cache dropped (median of 2; docs/BENCHMARKS.md,
# `video_host_ram.py --encoder-compare --drop-caches`): the reason the small-host plans do not reload it.
ENCODER_COLD_PROMPT_S = 23.1
ENCODER_PEAK_RSS_GB = 0.47
ENCODER_RELOAD_RSS_GB = 9.0
ENCODER_RELOAD_TIME_RATIO = 0.89  # reload / disk, cold
DISK_GB = 28.1  # measured offload files: transformer fp8 14.6 GB + text encoder bf16 13.5 GB
# Transformer weight per GPU (GB) in the two-GPU plans.
TWO_GPU_TRANSFORMER_GB = {"2x12gb": (8.5, 6.0), "2x24gb": (18.0, 11.0)}
CPU_RESOLUTIONS = ("192x320", "320x192")


def _weights_gb(fp8: bool) -> float:
    return (TRANSFORMER_FP8_GB if fp8 else TRANSFORMER_BF16_GB) + TEXT_ENCODER_GB + VAE_GB


def _components(device: str, text_encoder_device: str | None = None) -> dict[str, ComponentPlacement]:
    return {
        "transformer": ComponentPlacement(device, "bfloat16"),
        "text_encoder": ComponentPlacement(text_encoder_device or device, "bfloat16"),
        "vae": ComponentPlacement(device, "float32"),  # every upstream example decodes in fp32
    }


def _caps(resolutions=ALL_RESOLUTIONS, default="384x640", max_frames=MAX_FRAMES) -> dict:
    return {"resolutions": list(resolutions), "default_resolution": default, "max_frames": max_frames}


def in_ram_host_gb() -> float:
    """Host RAM of the leanest in-RAM offloading plan (fp8 transformer, pinned on the fly): the measured peak
    plus the CUDA allowance, as for the disk plans."""
    return round(IN_RAM_FP8_MEASURED["peak_rss_gb"] + CUDA_HOST_ALLOWANCE_GB, 1)


def _disk_plan(key: str, profile: str, *, device: str, offload: str, blocks: int, vram_gb: float,
               notes: str, caps: dict | None = None) -> PlacementPlan:
    measured = DISK_PLAN_MEASURED[profile]
    host_ram = measured["peak_rss_gb"] + (CUDA_HOST_ALLOWANCE_GB if device == "cuda" else 0.0)
    return PlacementPlan(
        model_key=key, profile=profile, device=device, dtype="bfloat16", components=_components(device),
        offload=offload, blocks_per_group=blocks, use_stream=device == "cuda", low_cpu_mem_usage=True,
        fp8_layerwise=True, offload_to_disk=True, disk_gb=DISK_GB, vae_tiling=vram_gb <= 6.5 and device == "cuda",
        caps=caps or _caps(), vram_gb=vram_gb, host_ram_gb=round(host_ram, 1),
        notes=notes + f" Host RAM is short, so the offloaded weights live on disk: {DISK_GB:g} GB of files under "
        f"the cache dir (transformer as fp8, text encoder bf16), written once per checkpoint and reused "
        f"({_measured(measured['build_minutes'], 'at most about {:g} min to write on our test disk', 'time to write')}). Every transformer "
        f"pass reads its {TRANSFORMER_FP8_GB:g} GB back from disk (page cache permitting), so a step is disk-bound: "
        f"use a fast NVMe drive. (One pass at a tiny size: "
        f"{_measured(measured['forward_s'], '{:g} s on our busy 2-core CPU test machine, CPU compute included', 'time')}; "
        f"leaf and block layouts cost the same CPU time per layer.) The text encoder is read back leaf by leaf "
        f"once per new prompt ({ENCODER_COLD_PROMPT_S:g} s for a 64-token prompt from a cold disk on our quiet 2-core test machine, "
        f"at {ENCODER_PEAK_RSS_GB:g} GB RSS; reloading it from the checkpoint instead took {ENCODER_RELOAD_TIME_RATIO:.0%} as long but held "
        f"{ENCODER_RELOAD_RSS_GB:g} GB), and a repeated prompt skips it: its embeddings are cached.",
    )


def _measured(value, text: str, what: str) -> str:
    return text.format(value) if value is not None else f"{what} not measured at the real size for this layout"


def _offloaded_plan(key: str, profile: str, hw: HardwareInfo, *, offload: str, blocks: int, prefer_fp8: bool,
                    vram_gb: float, notes: str) -> PlacementPlan:
    """A group-offloading plan sized to the host: fp8 when RAM is short, pinned copies only when RAM allows,
    and the offloaded weights on disk when even the leanest in-RAM variant does not fit."""
    if hw.ram_available_gb < in_ram_host_gb():
        return _disk_plan(key, profile, device="cuda", offload=offload, blocks=blocks, vram_gb=vram_gb, notes=notes)
    fp8 = prefer_fp8 or hw.ram_available_gb < _weights_gb(False) + RUNTIME_OVERHEAD_GB
    weights = _weights_gb(fp8)
    # Pre-pinned copies double the offloaded weights in host RAM; pin on the fly otherwise.
    pinned_ok = hw.ram_available_gb >= 2 * weights + RUNTIME_OVERHEAD_GB
    # Measured for fp8 pinned on the fly; the other variants are estimates from sizes.
    host_ram = in_ram_host_gb() if fp8 and not pinned_ok else weights * (2 if pinned_ok else 1) + RUNTIME_OVERHEAD_GB
    return PlacementPlan(
        model_key=key, profile=profile, device="cuda", dtype="bfloat16", components=_components("cuda"),
        offload=offload, blocks_per_group=blocks, use_stream=True, low_cpu_mem_usage=not pinned_ok,
        fp8_layerwise=fp8, vae_tiling=vram_gb <= 6.5, caps=_caps(), vram_gb=vram_gb, host_ram_gb=round(host_ram, 1),
        notes=notes + (" Transformer stored as fp8 (computes in bf16)." if fp8 else "")
        + (" Offloaded weights pre-pinned." if pinned_ok else " Pinned on the fly (less host RAM, a little slower)."),
    )


def _two_gpu_plan(key: str, profile: str) -> PlacementPlan:
    """accelerate's placement of the transformer's blocks over cuda:0 and cuda:1 (GPU-only; not run on CPU)."""
    fp8 = profile == "2x12gb"  # 14.3 GB of fp8 blocks fit two 12 GB cards; bf16 (28.6 GB) needs two 24 GB cards
    per_gpu = TWO_GPU_TRANSFORMER_GB[profile]
    components = {
        "transformer": ComponentPlacement("cuda", "bfloat16"),
        "text_encoder": ComponentPlacement("cuda:1", "bfloat16"),
        "vae": ComponentPlacement("cuda:0", "float32"),
    }
    return PlacementPlan(
        model_key=key, profile=profile, device="cuda", dtype="bfloat16", components=components,
        offload="none", gpus=2, fp8_layerwise=fp8, max_memory_gb={"0": per_gpu[0], "1": per_gpu[1]},
        low_cpu_mem_usage=True, caps=_caps(), vram_gb=PROFILE_VRAM_GB[profile] - 1.0,
        host_ram_gb=round(TEXT_ENCODER_GB + RUNTIME_OVERHEAD_GB, 1),
        notes=f"Two GPUs: the transformer's 40 blocks split across both cards by accelerate "
              f"({per_gpu[0]:g} + {per_gpu[1]:g} GB {'of fp8' if fp8 else 'in bf16'}), no weights cross PCIe per "
              f"step; text encoder leaf by leaf on the second card (its weights stay in host RAM), VAE on the first.",
    )


def plan(key: str, profile: str, hw: HardwareInfo) -> PlacementPlan:
    if profile in MULTI_GPU_PROFILES:
        return _two_gpu_plan(key, profile)
    if profile == "cpu":
        if hw.ram_available_gb < _weights_gb(False) + RUNTIME_OVERHEAD_GB:
            return _disk_plan(key, "cpu", device="cpu", offload="group_block", blocks=1, vram_gb=0.0,
                              caps=_caps(CPU_RESOLUTIONS, "192x320", 231),
                              notes="Everything on the CPU, transformer block by block.")
        return PlacementPlan(
            model_key=key, profile="cpu", device="cpu", dtype="bfloat16", components=_components("cpu"),
            offload="none", low_cpu_mem_usage=True, caps=_caps(CPU_RESOLUTIONS, "192x320", 231),
            vram_gb=0.0, host_ram_gb=round(_weights_gb(False) + RUNTIME_OVERHEAD_GB, 1),
            notes="Everything on the CPU (bf16 weights, fp32 VAE). A 14B video model on a CPU takes hours per "
                  "chunk at 384x640, so this profile offers the half-size draft resolutions and at most 231 frames.",
        )
    if profile == "zerogpu":
        # Preloaded at start-up and packed by spaces: fp8 storage keeps one variant (~26 GB) well under
        # the 42 GiB above which every call is scheduled (and charged) as `xlarge`.
        return PlacementPlan(
            model_key=key, profile=profile, device="cuda", dtype="bfloat16", components=_components("cuda"),
            offload="none", low_cpu_mem_usage=True, fp8_layerwise=True, caps=_caps(),
            vram_gb=round(_weights_gb(True) + 4.0, 1), host_ram_gb=RUNTIME_OVERHEAD_GB + 4.0,
            notes="Preloaded on the Space's GPU at start-up; transformer stored as fp8 (computes in bf16), "
                  "text encoder bf16, VAE fp32.",
        )
    if profile == "full":
        return PlacementPlan(
            model_key=key, profile=profile, device="cuda", dtype="bfloat16", components=_components("cuda"),
            offload="none", low_cpu_mem_usage=True, caps=_caps(),
            vram_gb=round(_weights_gb(False) + 4.0, 1), host_ram_gb=RUNTIME_OVERHEAD_GB + 4.0,
            notes="All components resident on the GPU; decoded chunks leave the GPU one by one.",
        )
    if profile == "16gb":
        return _offloaded_plan(key, profile, hw, offload="group_block", blocks=2, prefer_fp8=False, vram_gb=12.0,
                               notes="Transformer offloaded two blocks at a time with CUDA streams; text encoder "
                                     "and VAE leaf by leaf.")
    if profile == "12gb":
        return _offloaded_plan(key, profile, hw, offload="group_block", blocks=1, prefer_fp8=False, vram_gb=9.0,
                               notes="Transformer offloaded block by block with CUDA streams; text encoder and VAE "
                                     "leaf by leaf.")
    if profile == "8gb":
        return _offloaded_plan(key, profile, hw, offload="group_block", blocks=1, prefer_fp8=True, vram_gb=7.0,
                               notes="Transformer offloaded block by block with CUDA streams.")
    if profile == "6gb":
        return _offloaded_plan(key, profile, hw, offload="group_leaf", blocks=1, prefer_fp8=True, vram_gb=5.5,
                               notes="Every component offloaded leaf by leaf with CUDA streams (upstream's ~6 GB "
                                     "recipe) and VAE tiling.")
    raise ValueError(f"No Helios plan for profile {profile!r}.")
