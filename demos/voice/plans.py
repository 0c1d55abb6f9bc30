"""Placement of Voxtral-4B-TTS per memory profile.

4.0 B parameters (8.0 GB in bf16): backbone 3.03 B, text embeddings 0.40 B,
flow-matching transformer 0.39 B, codec decoder 0.15 B. The KV cache for the
4,096-position serving context is 26 x 2 x 8 x 128 x 4096 x 2 B = 0.44 GB.

- `12gb`, `16gb`, `full`, `zerogpu`: everything bf16 on the GPU (~9 GB peak).
- `8gb`, `6gb`: int8 weight-only Linear layers (torchao) in the backbone and the
  flow transformer (quantized on the CPU, then moved), the rest bf16 (~5.5 GB).
- `cpu`: float32 on the CPU (16 GB of host RAM; slow, but it runs).
"""
from __future__ import annotations

from shared.models.hardware import HardwareInfo
from shared.models.profiles import ComponentPlacement, PlacementPlan

KEY = "voxtral"
_BF16_PROFILES = ("12gb", "16gb", "full", "zerogpu")
_INT8_PROFILES = ("6gb", "8gb")

TEXT_CHARS = 2000
GPU_MAX_SECONDS = 120.0
CPU_MAX_SECONDS = 60.0
DEFAULT_SECONDS = 30.0


def plan(profile: str, hw: HardwareInfo) -> PlacementPlan:
    if profile in _BF16_PROFILES:
        device, dtype, quant = "cuda", "bfloat16", None
        vram, host = 9.0, 3.0
        notes = "Voxtral in bf16 on the GPU: 8.0 GB of weights + 0.44 GB KV cache."
    elif profile in _INT8_PROFILES:
        device, dtype, quant = "cuda", "bfloat16", "int8_weight_only"
        vram, host = 5.5, 10.0
        notes = (
            "Voxtral with int8 weight-only Linear layers (torchao) in the backbone and flow transformer, "
            "embeddings and codec in bf16; quantized on the CPU before moving to the GPU (needs ~10 GB host RAM while loading)."
        )
    else:
        device, dtype, quant = "cpu", "float32", None
        vram, host = 0.0, 17.0
        notes = "Voxtral in float32 on the CPU (16 GB of weights); expect much slower than real time."
    on_gpu = device == "cuda"
    components = {
        name: ComponentPlacement(device, dtype) for name in ("backbone", "acoustic_transformer", "codec", "embeddings")
    }
    return PlacementPlan(
        model_key=KEY,
        profile=profile,
        device=device,
        dtype=dtype,
        components=components,
        offload="none",
        quantization=quant,
        caps={
            "text_chars": TEXT_CHARS,
            "max_seconds": GPU_MAX_SECONDS if on_gpu else CPU_MAX_SECONDS,
            "default_seconds": DEFAULT_SECONDS,
            "context_positions": 4096,
        },
        vram_gb=vram,
        host_ram_gb=host,
        notes=notes,
    )
