"""Fault injection for tests: a CUDA out-of-memory, or a slow model, inside an engine.

Set `RELEASE_HUB_FAULTS` (comma-separated items) before starting the app:
- `oom:<model key>[:<count>]`: the first `count` (default 1) forward calls of
  that model's torch modules raise `torch.OutOfMemoryError`, exactly as a real
  CUDA OOM would surface mid-inference.
- `slow:<model key>:<seconds>`: every forward call of one of the model's direct
  sub-modules (a denoiser, an encoder, a decoder) first sleeps `seconds`, so a
  tiny model's run lasts long enough for a test to press Stop part-way on any
  machine. The numbers it computes are unchanged.
Unset, this costs nothing.
"""
from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ENV = "RELEASE_HUB_FAULTS"


def _armed(fault: str, key: str) -> str | None:
    """The value after `<fault>:<key>` in the environment ("" when absent), None when not armed."""
    for item in os.environ.get(ENV, "").split(","):
        kind, _, rest = item.strip().partition(":")
        target, _, value = rest.partition(":")
        if kind == fault and target == key:
            return value
    return None


def _modules_of(model) -> list[torch.nn.Module]:
    import torch

    if isinstance(model, torch.nn.Module):
        return [model]
    found = [value for value in vars(model).values() if isinstance(value, torch.nn.Module)]
    components = getattr(model, "components", None)  # diffusers pipelines
    if isinstance(components, dict):
        found += [value for value in components.values() if isinstance(value, torch.nn.Module)]
    return found


def arm(model, key: str):
    """Install the faults the environment asks for on `model`."""
    delay = _armed("slow", key)
    if delay is not None:
        _slow_down(model, float(delay))
    oom = _armed("oom", key)
    remaining = 0 if oom is None else int(oom or 1)
    if remaining <= 0:
        return model
    import torch  # only when a fault is armed (a model is loaded, so torch already is)

    lock = threading.Lock()
    state = {"left": remaining}

    def raise_oom(module, args):
        with lock:
            if state["left"] <= 0:
                return None
            state["left"] -= 1
        raise torch.OutOfMemoryError(f"CUDA out of memory (simulated by {ENV} for '{key}').")

    for module in _modules_of(model):
        module.register_forward_pre_hook(raise_oom)
    return model


def _slow_down(model, seconds: float) -> None:
    def sleep_first(module, args):
        time.sleep(seconds)

    for module in _modules_of(model):
        for child in module.children():
            child.register_forward_pre_hook(sleep_first)
