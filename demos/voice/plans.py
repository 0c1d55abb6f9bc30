"""Placement of Voxtral-4B-TTS per memory profile.

4.0 B parameters (8.0 GB in bf16): backbone 3.03 B, text embeddings 0.40 B,
flow-matching transformer 0.39 B, codec decoder 0.15 B. The KV cache for the
4,096-position serving context is 26 x 2 x 8 x 128 x 4096 x 2 B = 0.44 GB.

- `12gb`, `16gb`, `full`, `zerogpu`: everything bf16 on the GPU (~9 GB peak).
- `8gb`, `6gb`: int8 weight-only Linear layers (torchao) in the backbone and the
  flow transformer (quantized on the CPU, then moved), the rest bf16 (~5.5 GB).
- `cpu`: on the CPU in float32 where the host's RAM holds its measured peak, else bf16
  (`shared.models.profiles.cpu_dtype_for_host`); where even bf16 does not fit, the plan says so.
"""
from __future__ import annotations

from shared.models.hardware import HardwareInfo
from shared.models.profiles import ComponentPlacement, PlacementPlan, cpu_dtype_for_host, host_ram_needed

KEY = "voxtral"
_BF16_PROFILES = ("12gb", "16gb", "full", "zerogpu")
_INT8_PROFILES = ("6gb", "8gb")

TEXT_CHARS = 2000
GPU_MAX_SECONDS = 120.0
CPU_MAX_SECONDS = 60.0
DEFAULT_SECONDS = 30.0

# Real-size Voxtral-4B on the CPU, 2 threads, random weights at the release's config, loaded through
# load_engine: benchmarks/voice_voxtral_cpu_realsize.py, docs/BENCHMARKS.md "Voice: real-size
# Voxtral-4B on the CPU" (method, command, load average, date: 2026-12-06).
# Peak RSS of the whole process (GiB, loading included): what the `cpu` plan sizes host RAM against.
# float32 was 20.5 before loading stopped converting from the memory-mapped bf16 file.
MEASURED_CPU_PEAK_RSS_GB = {"float32": 16.0, "bfloat16": 7.1}
# Speed of the `cpu` profile per dtype on a 2-core x86_64 box (AVX2, no AVX-512/AMX, so bf16
# matmuls are emulated and slower than float32): seconds to the first audio and the real-time
# factor (seconds of work per second of speech), from the process's CPU time over its 2 threads
# (the box was shared: wall-clock times were longer, see BENCHMARKS). The System tab's sentences
# ("Voice: about 39x slower than real time here") read these.
MEASURED_CPU_SPEED = {
    "float32": {"first_audio_s": 37.0, "real_time_factor": 39.0},
    "bfloat16": {"first_audio_s": 89.0, "real_time_factor": 80.0},
}


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
        device, quant, vram = "cpu", None, 0.0
        dtype, notes = _cpu_dtype_and_notes(hw)
        host = host_ram_needed(MEASURED_CPU_PEAK_RSS_GB[dtype])
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


def _cpu_dtype_and_notes(hw: HardwareInfo) -> tuple[str, str]:
    """float32 where the host holds its measured peak, else bf16; said plainly where neither fits."""
    dtype = cpu_dtype_for_host(MEASURED_CPU_PEAK_RSS_GB, hw)
    fp32_gb = host_ram_needed(MEASURED_CPU_PEAK_RSS_GB["float32"])
    bf16_gb = host_ram_needed(MEASURED_CPU_PEAK_RSS_GB["bfloat16"])
    have = f"this machine has {hw.ram_total_gb:.1f} GB"
    if dtype is None:
        return "bfloat16", (
            f"Voxtral does not fit this machine's RAM: even in bf16 it needs about {bf16_gb:g} GB, {have}."
        )
    speed = MEASURED_CPU_SPEED[dtype]
    pace = f"about {speed['real_time_factor']:.0f}× slower than real time on 2 CPU cores"
    if dtype == "float32":
        return dtype, f"Voxtral in float32 on the CPU (needs about {fp32_gb:g} GB of RAM); {pace}."
    return dtype, (
        f"Voxtral in bf16 on the CPU: float32 would need about {fp32_gb:g} GB of RAM and {have}; "
        f"bf16 needs about {bf16_gb:g} GB; {pace}."
    )
