"""What this machine offers: CUDA device, VRAM and host RAM.

Detection is lazy and never initialises CUDA at import time (ZeroGPU forbids
it, and it costs seconds on every start).
"""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass

import psutil

from shared.tasks.zerogpu import on_zerogpu

GIB = 1024**3


@dataclass(frozen=True)
class HardwareInfo:
    cuda: bool
    device_name: str
    vram_total_gb: float
    vram_free_gb: float
    ram_total_gb: float
    ram_available_gb: float
    zerogpu: bool
    gpu_count: int = 1  # CUDA devices; VRAM figures are those of the card with the least free memory

    def to_dict(self) -> dict:
        return asdict(self)


def no_gpu_driver() -> bool:
    """True where no GPU driver is installed, so torch.cuda could not see a device: on Linux,
    neither NVIDIA's driver library (libcuda.so.1, which every CUDA build of torch needs) loads
    nor AMD's ROCm device (/dev/kfd) exists. Loading the library does not initialise CUDA. False
    wherever that is not certain (then torch is asked, as before)."""
    if not sys.platform.startswith("linux") or os.path.exists("/dev/kfd"):
        return False
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return True
    return False


def detect() -> HardwareInfo:
    memory = psutil.virtual_memory()
    zerogpu = on_zerogpu()
    cuda = False
    count = 0
    name, total, free = "cpu", 0.0, 0.0
    if zerogpu:
        # CUDA is emulated outside @spaces.GPU; the card is a ZeroGPU slice.
        cuda, name, count = True, "ZeroGPU", 1
        total = free = float(os.environ.get("RELEASE_HUB_ZEROGPU_VRAM_GB", "48"))
    elif not no_gpu_driver():
        # Only where a GPU driver exists: importing torch costs seconds of start-up, and without
        # a driver torch.cuda.is_available() is False anyway.
        import torch

        if torch.cuda.is_available():
            cuda = True
            count = torch.cuda.device_count()
            index = torch.cuda.current_device()
            name = torch.cuda.get_device_name(index) + (f" x{count}" if count > 1 else "")
            infos = [torch.cuda.mem_get_info(i) for i in range(count)]
            free_bytes, total_bytes = min(infos)
            total, free = total_bytes / GIB, free_bytes / GIB
    return HardwareInfo(
        cuda=cuda,
        device_name=name,
        vram_total_gb=round(total, 2),
        vram_free_gb=round(free, 2),
        ram_total_gb=round(memory.total / GIB, 2),
        ram_available_gb=round(memory.available / GIB, 2),
        zerogpu=zerogpu,
        gpu_count=count,
    )
