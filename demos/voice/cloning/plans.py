"""Placement of Pocket TTS per profile.

About 100M parameters for the TTS model plus the codec: CPU is a first-class
target (fp32, one thread per physical core, faster than real time on two
cores); on a GPU it stays fp32 too (under 1 GB, and bf16 buys nothing at this
size). No offloading in any profile.
"""
from __future__ import annotations

import os

from shared.models.hardware import HardwareInfo
from shared.models.profiles import ComponentPlacement, PlacementPlan

from demos.voice.cloning.engine import default_threads

KEY = "pocket"
# Overrides the CPU thread count: on a box whose cores are busy with other
# work, one thread beats two (see docs/bench/voice_clone.md).
THREADS_ENV = "RELEASE_HUB_POCKET_THREADS"
_GPU_PROFILES = ("6gb", "8gb", "12gb", "16gb", "full", "zerogpu")


def plan(profile: str, hw: HardwareInfo) -> PlacementPlan:
    on_gpu = profile in _GPU_PROFILES and (hw.cuda or profile == "zerogpu")
    device = "cuda" if on_gpu else "cpu"
    threads = _threads()
    caps = {"text_chars": 1000, "reference_seconds": [2.0, 30.0], "voice_cache": 8}
    if not on_gpu:
        caps["threads"] = threads
    return PlacementPlan(
        model_key=KEY,
        profile=profile,
        device=device,
        dtype="float32",
        components={
            "model": ComponentPlacement(device, "float32"),
            "audio_tokenizer": ComponentPlacement(device, "float32"),
        },
        offload="none",
        caps=caps,
        vram_gb=1.0 if on_gpu else 0.0,
        host_ram_gb=1.5,
        notes=(
            "Pocket TTS in fp32 on the GPU (under 1 GB)."
            if on_gpu
            else f"Pocket TTS in fp32 on the CPU with {threads} thread(s); faster than real time on 2 cores."
        ),
    )


def _threads() -> int:
    value = os.environ.get(THREADS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return default_threads()
