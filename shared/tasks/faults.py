"""Fault injection for tests: a CUDA out-of-memory, or a slow model, inside an engine.

Set `RELEASE_HUB_FAULTS` (comma-separated items) before starting the app:
- `oom:<model key>[:<count>]`: the first `count` (default 1) forward calls of
  any of that model's torch modules (every sub-module of every module the
  loaded engine holds, see `_modules_of`) raise `torch.OutOfMemoryError`,
  exactly as a real CUDA OOM would surface mid-inference. One rule for every
  model family, whatever shape its engine has. The failing call holds
  `BALLAST_BYTES` when it raises and logs `RELEASED` once that is freed, so a
  test can tell that nothing keeps a failed request's memory.
- `slow:<model key>:<seconds>`: every forward call of one of the model's direct
  sub-modules (a denoiser, an encoder, a decoder) first sleeps `seconds`, so a
  tiny model's run lasts long enough for a test to press Stop part-way on any
  machine. The numbers it computes are unchanged.
Unset, this costs nothing.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ENV = "RELEASE_HUB_FAULTS"
# What a failing forward call holds when it raises, as a real one holds activations: freed only once
# nothing keeps the error (its traceback's frames) alive; the log says when (tests wait for that line).
BALLAST_BYTES = 16 * 1024 * 1024
RELEASED = "Simulated out-of-memory %d of '%s': the failed call's memory was released."

log = logging.getLogger("release_hub")


def _armed(fault: str, key: str) -> str | None:
    """The value after `<fault>:<key>` in the environment ("" when absent), None when not armed."""
    for item in os.environ.get(ENV, "").split(","):
        kind, _, rest = item.strip().partition(":")
        target, _, value = rest.partition(":")
        if kind == fault and target == key:
            return value
    return None


SEARCH_DEPTH = 3  # engine -> pipeline -> component: how far arm() looks for torch modules


def _modules_of(model) -> list[torch.nn.Module]:
    """The torch modules an engine holds, however it holds them: the engine itself, its attributes
    (a Voxtral or NitroGen engine's `model`), modules inside a held object (a Helios engine's
    diffusers `pipe`, whose transformer, VAE and text encoder are attributes), or in a list or dict,
    up to SEARCH_DEPTH objects deep. Each module once; modules are not searched inside (their
    sub-modules are reached through `.modules()` / `.children()`)."""
    import torch

    found: dict[int, torch.nn.Module] = {}
    seen: set[int] = set()

    def visit(value, depth: int) -> None:
        if id(value) in seen or depth > SEARCH_DEPTH:
            return
        seen.add(id(value))
        if isinstance(value, torch.nn.Module):
            found.setdefault(id(value), value)
        elif isinstance(value, dict):
            for item in list(value.values()):
                visit(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif hasattr(value, "__dict__") and not isinstance(value, type):
            for item in list(vars(value).values()):
                visit(item, depth + 1)

    visit(model, 0)
    return list(found.values())


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
            number = remaining - state["left"]
        ballast = torch.ones(BALLAST_BYTES, dtype=torch.uint8)  # a local: the traceback keeps it
        weakref.finalize(ballast, log.info, RELEASED, number, key)
        raise torch.OutOfMemoryError(f"CUDA out of memory (simulated by {ENV} for '{key}', {number} of "
                                     f"{remaining}).")

    # Every sub-module, not only the top ones: engines call parts directly (Voxtral's backbone and
    # codec, a diffusers pipeline's transformer), never the top module's forward.
    _hook_each((module for root in _modules_of(model) for module in root.modules()), raise_oom)
    return model


def _hook_each(modules, hook) -> None:
    """`hook` as a forward pre-hook on each module, once (a module shared by two parents is met twice)."""
    hooked: set[int] = set()
    for module in modules:
        if id(module) not in hooked:
            hooked.add(id(module))
            module.register_forward_pre_hook(hook)


def _slow_down(model, seconds: float) -> None:
    def sleep_first(module, args):
        time.sleep(seconds)

    _hook_each((child for module in _modules_of(model) for child in module.children()), sleep_first)
