"""GPU tasks: one shape for work that holds the GPU, locally and on a ZeroGPU Space.

A GPU task is a **generator function of plain values** (str/int/float/bool,
small dataclasses of them, numpy arrays, PIL images, paths) that **yields
plain events**: `ProgressEvent`s at least once per denoising step / audio
chunk / frame batch, the demo's own partial results, and last a
`TaskResult`. Engines and models never cross the task boundary: the task
finds its model in the app's model cache (on ZeroGPU loaded at start-up in
the main process, locally on first use).

Why this shape: on ZeroGPU `spaces.GPU` runs the task in a forked worker and
pickles its arguments and every yielded value across the process boundary;
closing the generator is the only way to stop the worker (spaces then sets
the worker's stop event and closes the task's generator there). The same
code runs locally, where the decorator is a no-op and the task runs on the
request thread.

- `gpu_task(duration=..., size=None)`: the decorator (`spaces.GPU` on ZeroGPU).
- `engine_events(work)`: inside a task, run the blocking engine call
  `work(emit, cancel)` in a thread with a cancel token made *inside* the task,
  and yield what it emits; closing the task cancels that token.
- `drive(events, cancel)`: on the request thread, iterate a task and close it
  as soon as the session's Stop token is set. When `close()` returns the task
  is over (on ZeroGPU, the worker has finished), so files it wrote are complete.
  One task runs at a time (`_GPU_TURN`), a stopping one included.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable, Iterator

from shared.tasks.cancel import CancelToken, Progress, run_in_thread

log = logging.getLogger("release_hub")


def on_zerogpu() -> bool:
    """True inside a Hugging Face ZeroGPU Space."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


# How an error leaves spaces' worker: the web layer installs its gr.Error mapping (set_error_mapping);
# a hook, so that this layer does not import the web layer above it.
_error_mapping: dict[str, Callable[[BaseException], BaseException]] = {}


def set_error_mapping(to_user_error: Callable[[BaseException], BaseException]) -> None:
    _error_mapping["map"] = to_user_error

# ZeroGPU refuses a request longer than this outside start-up (spaces' client
# answers "The requested GPU duration ... is larger than the maximum allowed").
MAX_DURATION_S = 300
# Packed size above which spaces schedules every call on an `xlarge` slice, at
# double quota (spaces/zero/configs.json, RTX Pro 6000: 45097156608 bytes).
XLARGE_THRESHOLD_BYTES = 45_097_156_608

# Set by tests: every task's arguments and events are pickled as spaces would.
CHECK_PICKLE_ENV = "RELEASE_HUB_CHECK_PICKLE"


@dataclass(frozen=True)
class ProgressEvent:
    fraction: float
    description: str = ""


@dataclass(frozen=True)
class TaskResult:
    """The last event of a task: its plain result."""

    value: Any


def clamp_duration(seconds: float) -> int:
    return int(max(1, min(MAX_DURATION_S, round(seconds))))


def check_picklable(value: Any, what: str) -> None:
    """Pickle `value` exactly as spaces does across the worker boundary."""
    from multiprocessing.reduction import ForkingPickler

    try:
        ForkingPickler.dumps(value)
    except Exception as exc:
        raise TypeError(f"{what} cannot cross the ZeroGPU process boundary: {type(exc).__name__}: {exc}") from exc


# How many argument tuples and events of each task were pickled (tests read it).
PICKLED: dict[str, dict[str, int]] = {}


def _checked(fn: Callable) -> Callable:
    counts = PICKLED.setdefault(fn.__qualname__, {"calls": 0, "events": 0})

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Iterator:
        check_picklable((args, kwargs), f"the arguments of GPU task {fn.__qualname__}")
        counts["calls"] += 1
        for event in fn(*args, **kwargs):
            check_picklable(event, f"an event of GPU task {fn.__qualname__}")
            counts["events"] += 1
            yield event

    return run


def _gradio_errors_inside(fn: Callable) -> Callable:
    """In spaces' worker, only a `gr.Error` keeps its message on the way back
    (anything else becomes "ZeroGPU worker error"): map ours there."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Iterator:
        to_user_error = _error_mapping.get("map", lambda exc: exc)
        try:
            yield from fn(*args, **kwargs)
        except Exception as exc:
            raise to_user_error(exc) from None

    return run


def gpu_task(duration: int | Callable[..., float] = 60, size: str | None = None) -> Callable:
    """Mark a generator function as a GPU task; `duration` (seconds, or a
    callable of the task's arguments) is what ZeroGPU reserves and charges."""

    def decorate(fn: Callable) -> Callable:
        if not inspect.isgeneratorfunction(fn):
            raise TypeError(f"GPU task {fn.__qualname__} must be a generator function yielding plain events")
        task = fn
        if os.environ.get(CHECK_PICKLE_ENV) == "1":
            task = _checked(task)
        if not on_zerogpu():
            task.off_gpu = task
            return task
        import spaces  # only importable/meaningful on a Space

        plain = task
        task = _gradio_errors_inside(task)
        if callable(duration):
            @functools.wraps(fn)
            def estimate(*args: Any, **kwargs: Any) -> int:
                return clamp_duration(duration(*args, **kwargs))

            wrapped = spaces.GPU(duration=estimate, size=size)(task)
        else:
            wrapped = spaces.GPU(duration=clamp_duration(duration), size=size)(task)
        # The same work without a GPU lease, for calls this box only forwards (--remote engines).
        wrapped.off_gpu = plain
        return wrapped

    return decorate


def engine_events(work: Callable[[Callable[[Any], None], CancelToken], Any]) -> Generator[Any, None, None]:
    """Inside a GPU task: run `work(emit, cancel)` in a thread; yield what it
    emits, then `TaskResult(return value)`. The token is made here, inside the
    task (and so inside spaces' worker on ZeroGPU): closing the task sets it,
    and the engine ends within one step."""
    cancel = CancelToken()
    result = yield from run_in_thread(lambda emit: work(emit, cancel), cancel)
    yield TaskResult(result)


def progress_emitter(emit: Callable[[Any], None]) -> Progress:
    """An engine `progress(fraction, description)` callable that emits `ProgressEvent`s."""
    return lambda fraction, description="": emit(ProgressEvent(float(fraction), str(description)))


# One GPU task at a time, including the wind-down of one whose client went away.
_GPU_TURN = threading.Lock()


def _close(gen: Any) -> None:
    close = getattr(gen, "close", None)
    if close is not None:
        close()


def _close_then_release(gen: Any, turn: threading.Lock, after: Callable[[], None] | None = None) -> None:
    try:
        _close(gen)
        if after is not None:
            after()
    except Exception:  # nobody is listening any more; the next task must still get its turn
        log.exception("A GPU task failed while stopping")
    finally:
        turn.release()


def drive(events: Iterable[Any], cancel: CancelToken | None = None, *, gpu: bool = True,
          on_abandoned: Callable[[], None] | None = None) -> Iterator[Any]:
    """Iterate a GPU task on the request thread (spaces reads the Gradio
    request from this thread's context) and close it once `cancel` is set:
    then `drive` returns only when the task is over, so its files are complete.

    When our own consumer goes away instead (a client's `job.cancel()`, a
    closed tab), the task is closed in the background: Gradio's cancel
    request need not wait for the worker to wind down, and the next task
    waits for its turn until it has.

    `gpu=False` (work this box only forwards to remote engines) takes no turn:
    it neither waits for local GPU work nor holds it up.

    `on_abandoned` runs once that background close is over: the clean-up of
    files the task may still write while it winds down (the consumer's own
    `finally` runs before that)."""
    gen = iter(events)
    turn = _GPU_TURN if gpu else threading.Lock()  # a private lock: nobody else waits on it
    turn.acquire()
    handed_off = False
    try:
        for event in gen:
            try:
                yield event
            except GeneratorExit:
                threading.Thread(target=_close_then_release, args=(gen, turn, on_abandoned), name="gpu-task-close",
                                 daemon=True).start()
                handed_off = True
                raise
            if cancel is not None and cancel.cancelled:
                break
    finally:
        if not handed_off:
            try:
                _close(gen)
            finally:
                turn.release()


__all__ = [
    "MAX_DURATION_S", "ProgressEvent", "TaskResult", "XLARGE_THRESHOLD_BYTES", "check_picklable",
    "clamp_duration", "drive", "engine_events", "gpu_task", "progress_emitter",
]


# ---------------------------------------------------------------- start-up preload
def tensor_bytes(obj: Any) -> dict[str, int]:
    """Bytes of the tensors an engine holds, by dtype (what spaces will pack):
    the parameters and buffers of every `torch.nn.Module` found in its
    attributes (two levels down; pipelines through `.components`), each once."""
    import torch

    seen: set[int] = set()
    by_dtype: dict[str, int] = {}

    def add_module(module: "torch.nn.Module") -> None:
        for tensor in [*module.parameters(), *module.buffers()]:
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            name = str(tensor.dtype).replace("torch.", "")
            by_dtype[name] = by_dtype.get(name, 0) + tensor.numel() * tensor.element_size()

    def visit(value: Any, depth: int) -> None:
        if isinstance(value, torch.nn.Module):
            add_module(value)
        elif depth > 0:
            children = getattr(value, "components", None)
            if not isinstance(children, dict):
                children = vars(value) if hasattr(value, "__dict__") else {}
            for child in children.values():
                if not isinstance(child, (str, bytes, int, float)):
                    visit(child, depth - 1)

    visit(obj, 2)
    return by_dtype


def packed_size_bytes() -> int | None:
    """The size spaces packed at launch (None off ZeroGPU or before launch)."""
    if not on_zerogpu():
        return None
    try:
        from spaces.zero import torch as zero_torch
    except Exception:  # pragma: no cover - spaces absent
        return None
    return int(zero_torch.size())
