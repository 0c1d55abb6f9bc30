"""Placement of the tone model per profile: whole on the GPU where there is one, float32 on the CPU.

The model holds a handful of numbers, so every profile fits it; the caps bound one request.
"""
from __future__ import annotations

from shared.models.hardware import HardwareInfo
from shared.models.profiles import PlacementPlan

KEY = "tone"
CAPS = {"max_seconds": 2.0}


def plan(profile: str, hw: HardwareInfo) -> PlacementPlan:
    on_gpu = profile == "zerogpu" or (profile != "cpu" and hw.cuda)
    return PlacementPlan(model_key=KEY, profile=profile, device="cuda" if on_gpu else "cpu", dtype="float32",
                         caps=dict(CAPS), vram_gb=0.01 if on_gpu else 0.0, host_ram_gb=0.01,
                         notes="A few parameters: fits everywhere.")
