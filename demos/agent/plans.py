"""Placement of NitroGen per profile: fp32 on CPU, bf16 on the GPU.

The model is ~494 M parameters (about 1 GB in bf16, 2 GB in fp32), so every
GPU profile, 6 GB included, holds it whole: no offloading. Caps bound the
work one request may ask for.
"""

from __future__ import annotations

from shared.models.hardware import HardwareInfo
from shared.models.profiles import PlacementPlan

MODEL_KEY = "nitrogen"
PARAMS = 493_631_513
GB = 1e9

# Per request: frames of a video the agent may run on, and frames per batch.
CPU_CAPS = {"max_video_frames": 48, "batch_size": 4, "max_image_pixels": 40_000_000}
GPU_CAPS = {"max_video_frames": 300, "batch_size": 16, "max_image_pixels": 40_000_000}


def plan(profile: str, hw: HardwareInfo) -> PlacementPlan:
    # Loading reads the fp32 file (memory-mapped) before any cast, so host RAM
    # needs about the fp32 size either way.
    host_ram = round(PARAMS * 4 / GB + 0.5, 1)
    if profile == "cpu" or (not hw.cuda and profile != "zerogpu"):
        return PlacementPlan(
            model_key=MODEL_KEY, profile=profile, device="cpu", dtype="float32",
            caps=dict(CPU_CAPS), vram_gb=0.0, host_ram_gb=host_ram,
            notes="fp32 on CPU (upstream's reference precision); a chunk takes seconds.",
        )
    return PlacementPlan(
        model_key=MODEL_KEY, profile=profile, device="cuda", dtype="bfloat16",
        caps=dict(GPU_CAPS), vram_gb=round(PARAMS * 2 / GB + 0.6, 1), host_ram_gb=host_ram,
        notes="bf16 weights, whole model resident (fits every profile); Euler state kept in fp32.",
    )
