"""`gpu_task`: `spaces.GPU` on a ZeroGPU Space, a no-op everywhere else.

ZeroGPU charges the requested duration against the caller's quota, so the
request should fit the job: `duration` may be a callable taking the same
arguments as the task and returning seconds (e.g. more for more frames).
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from shared.hardware import on_zerogpu

MAX_DURATION_S = 300  # ZeroGPU refuses longer requests outside start-up


def clamp_duration(seconds: float) -> int:
    return int(max(1, min(MAX_DURATION_S, round(seconds))))


def gpu_task(duration: int | Callable[..., float] = 60) -> Callable:
    def decorate(fn: Callable) -> Callable:
        if not on_zerogpu():
            return fn
        import spaces  # only importable/meaningful on a Space

        if callable(duration):
            # The wrapper must accept exactly fn's arguments (spaces passes them through).
            @functools.wraps(fn)
            def estimate(*args: Any, **kwargs: Any) -> int:
                return clamp_duration(duration(*args, **kwargs))

            return spaces.GPU(duration=estimate)(fn)
        return spaces.GPU(duration=clamp_duration(duration))(fn)

    return decorate
