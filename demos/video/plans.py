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
"""
from __future__ import annotations

from shared.hardware import HardwareInfo
from shared.profiles import ComponentPlacement, PlacementPlan

from .limits import MAX_FRAMES, RESOLUTIONS

TRANSFORMER_BF16_GB = 28.6
TRANSFORMER_FP8_GB = 14.3
TEXT_ENCODER_GB = 11.4
VAE_GB = 0.5
RUNTIME_OVERHEAD_GB = 5.0  # torch, CUDA context, the Python process, decoded frames in flight
ALL_RESOLUTIONS = tuple(RESOLUTIONS)
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


def _offloaded_plan(key: str, profile: str, hw: HardwareInfo, *, offload: str, blocks: int, prefer_fp8: bool,
                    vram_gb: float, notes: str) -> PlacementPlan:
    """A group-offloading plan sized to the host: fp8 when RAM is short, pinned copies only when RAM allows."""
    fp8 = prefer_fp8 or hw.ram_available_gb < _weights_gb(False) + RUNTIME_OVERHEAD_GB
    weights = _weights_gb(fp8)
    # Pre-pinned copies double the offloaded weights in host RAM; pin on the fly otherwise.
    pinned_ok = hw.ram_available_gb >= 2 * weights + RUNTIME_OVERHEAD_GB
    host_ram = weights * (2 if pinned_ok else 1) + RUNTIME_OVERHEAD_GB
    return PlacementPlan(
        model_key=key, profile=profile, device="cuda", dtype="bfloat16", components=_components("cuda"),
        offload=offload, blocks_per_group=blocks, use_stream=True, low_cpu_mem_usage=not pinned_ok,
        fp8_layerwise=fp8, vae_tiling=vram_gb <= 6.5, caps=_caps(), vram_gb=vram_gb, host_ram_gb=round(host_ram, 1),
        notes=notes + (" Transformer stored as fp8 (computes in bf16)." if fp8 else "")
        + (" Offloaded weights pre-pinned." if pinned_ok else " Pinned on the fly (less host RAM, a little slower)."),
    )


def plan(key: str, profile: str, hw: HardwareInfo) -> PlacementPlan:
    if profile == "cpu":
        return PlacementPlan(
            model_key=key, profile="cpu", device="cpu", dtype="bfloat16", components=_components("cpu"),
            offload="none", low_cpu_mem_usage=True, caps=_caps(CPU_RESOLUTIONS, "192x320", 231),
            vram_gb=0.0, host_ram_gb=round(_weights_gb(False) + RUNTIME_OVERHEAD_GB, 1),
            notes="Everything on the CPU (bf16 weights, fp32 VAE). A 14B video model on a CPU takes hours per "
                  "chunk at 384x640, so this profile offers the half-size draft resolutions and at most 231 frames.",
        )
    if profile in ("full", "zerogpu"):
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
