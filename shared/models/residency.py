"""The model cache: load on demand, at most one GPU-resident model, unload.

Loading a GPU model first unloads whichever GPU model is resident, so two
large models never compete for VRAM. CPU-only models (small ones such as the
cloning engine on a CPU profile) may stay side by side. Unloading drops every
reference the cache holds, runs the garbage collector and empties the CUDA
cache; `memory()` reports what that actually freed.
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import psutil

log = logging.getLogger(__name__)
GIB = 1024**3


@dataclass
class _Entry:
    model: Any
    gpu: bool
    loaded_at: float
    load_seconds: float
    pid: int  # the process that loaded it (on ZeroGPU: must be the app's main process)


def loaded_torch():
    """torch if this process has imported it, else None. Without torch no model is loaded, CUDA is
    not initialised and no torch error can have been raised: importing it (seconds) only to find
    that out would put it back on the start-up path (tests/shared/test_startup_imports.py).
    While another thread is still importing torch (a model loading while /status runs), it is in
    sys.modules half made ("has no attribute 'cuda'"): that counts as not imported yet."""
    torch = sys.modules.get("torch")
    if torch is None or getattr(getattr(torch, "__spec__", None), "_initializing", False):
        return None
    return torch


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's CUDA out-of-memory error (without importing torch)."""
    torch = loaded_torch()
    return torch is not None and isinstance(exc, torch.OutOfMemoryError)


def memory() -> dict:
    """Process RSS and, where CUDA is initialised, allocated/reserved VRAM (GiB)."""
    report = {"rss_gb": round(psutil.Process().memory_info().rss / GIB, 3)}
    torch = loaded_torch()
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        report["vram_allocated_gb"] = round(torch.cuda.memory_allocated() / GIB, 3)
        report["vram_reserved_gb"] = round(torch.cuda.memory_reserved() / GIB, 3)
        report["vram_peak_gb"] = round(torch.cuda.max_memory_allocated() / GIB, 3)
    return report


def drop_failed_frames(failed: BaseException) -> None:
    """Let go of what a failed call's finished frames still hold (its activations, inputs on the GPU).

    An exception's traceback keeps every frame it passed through alive with all its locals, and
    carrying it across threads (shared.tasks.cancel) puts those frames in reference cycles that only a
    full garbage collection breaks, which a busy server may not run for minutes: an OOM would keep
    the very memory it ran out of. Clearing the frames drops the locals at once; frames still
    running (the handler's own) are left alone. Chained errors (`__cause__`, `__context__`) too."""
    seen: set[int] = set()
    while failed is not None and id(failed) not in seen:
        seen.add(id(failed))
        traceback.clear_frames(failed.__traceback__)
        failed = failed.__cause__ or failed.__context__


def release_cuda_memory(failed: BaseException | None = None) -> None:
    """Return cached CUDA blocks to the driver (after an unload or an OOM: pass the OOM as `failed`
    to drop what its traceback holds first)."""
    if failed is not None:
        drop_failed_frames(failed)
    gc.collect()
    torch = loaded_torch()
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def release_host_memory() -> bool:
    """Hand freed heap pages back to the OS: glibc keeps freed memory in its arenas, so after an
    unload the process RSS would stay at its peak. True where glibc's `malloc_trim` ran."""
    gc.collect()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return False
    return bool(libc.malloc_trim(0))


class ModelCache:
    """`max_gpu_models=1` everywhere but ZeroGPU, where every model is loaded
    on `cuda` at start (the Space's GPU is only attached inside calls)."""

    def __init__(self, max_gpu_models: int | None = 1) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self.max_gpu_models = max_gpu_models

    def get(self, key: str, loader: Callable[[], Any], *, gpu: bool) -> Any:
        """The model for `key`, calling `loader()` if it is not resident."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                return entry.model
            gpu_keys = [k for k, e in self._entries.items() if e.gpu]
            if gpu and self.max_gpu_models is not None and len(gpu_keys) >= self.max_gpu_models:
                # Oldest first: insertion order of the dict.
                for other in gpu_keys[: len(gpu_keys) - self.max_gpu_models + 1]:
                    log.info("Unloading %s to make room for %s", other, key)
                    self._drop(other)
                release_cuda_memory()
            start = time.perf_counter()
            model = loader()
            self._entries[key] = _Entry(model, gpu, time.time(), time.perf_counter() - start, os.getpid())
            return model

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        close = getattr(entry.model, "close", None)
        if callable(close):
            close()
        del entry

    def unload(self, key: str | None = None) -> list[str]:
        """Unload one model (or all with `key=None`); returns the keys unloaded."""
        with self._lock:
            keys = [key] if key is not None else list(self._entries)
            keys = [k for k in keys if k in self._entries]
            for k in keys:
                self._drop(k)
        release_cuda_memory()
        release_host_memory()
        return keys

    def peek(self, key: str) -> Any:
        """The resident model for `key` (KeyError if none), without loading."""
        with self._lock:
            return self._entries[key].model

    def is_resident(self, key: str) -> bool:
        return key in self._entries

    def resident(self) -> list[dict]:
        with self._lock:
            return [
                {"key": k, "gpu": e.gpu, "load_seconds": round(e.load_seconds, 2), "loaded_in_pid": e.pid,
                 "loaded_at": time.strftime("%H:%M:%S", time.localtime(e.loaded_at))}
                for k, e in self._entries.items()
            ]

    memory = staticmethod(memory)
