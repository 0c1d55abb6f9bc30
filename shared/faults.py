"""Fault injection for tests: simulate a CUDA out-of-memory inside an engine.

Set `RELEASE_HUB_FAULTS=oom:<model key>[:<count>]` (comma-separated for
several) before starting the app: the first `count` (default 1) forward
calls of that model's torch modules raise `torch.OutOfMemoryError`, exactly
as a real CUDA OOM would surface mid-inference. Unset, this costs nothing.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ENV = "RELEASE_HUB_FAULTS"


def _armed_count(key: str) -> int:
    for item in os.environ.get(ENV, "").split(","):
        kind, _, rest = item.strip().partition(":")
        target, _, count = rest.partition(":")
        if kind == "oom" and target == key:
            return int(count or 1)
    return 0


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
    """Install the OOM fault on `model` if the environment asks for it."""
    remaining = _armed_count(key)
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
