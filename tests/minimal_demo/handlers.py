"""The Tone tab's work as plain functions (no Gradio): check the inputs, run the GPU task, keep the result.

`make_tone_task(ctx)` is the GPU task (shared/tasks/zerogpu.py): a generator of plain values yielding
ProgressEvents and last TaskResult(samples); it finds its model through `ctx.load`, never takes
one as an argument, so on ZeroGPU only numbers cross the process boundary. `make_tone` drives it on
the request thread and writes the WAV with its sidecar (History lists it; Reuse reads `inputs`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from shared.errors import UserInputError
from shared.io.outputs import save_audio_output
from shared.tasks.cancel import Progress, no_progress
from shared.tasks.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from .limits import PITCH_HZ, SECONDS, SEED
from .plans import KEY

DEMO = "tone"  # the outputs folder and the sidecar's "demo": the name Reuse registers under


@dataclass(frozen=True)
class ToneRequest:
    """What the task gets: plain, checked values (they are pickled on ZeroGPU)."""

    pitch_hz: float
    seconds: float
    seed: int


def check_inputs(pitch_hz, seconds, seed, notes: dict | None = None) -> ToneRequest:
    """Raw API values -> a ToneRequest, or our message naming the bad parameter."""
    return ToneRequest(float(PITCH_HZ.check(pitch_hz, notes)), float(SECONDS.check(seconds, notes)),
                       SEED.check(seed, notes))


def task_seconds(request: ToneRequest) -> float:
    """ZeroGPU reservation: model start plus the tone, with a wide margin."""
    return 10 + 5 * request.seconds


def make_tone_task(ctx) -> Callable:
    @gpu_task(duration=task_seconds)
    def tone_task(request: ToneRequest):
        def work(emit, cancel):
            from .engine import load_engine

            engine = ctx.load(KEY, load_engine)
            samples = engine.generate(request.pitch_hz, request.seconds, request.seed,
                                      progress_emitter(emit), cancel)
            return {"samples": samples, "sample_rate": engine.sample_rate, "device": str(engine.device)}

        yield from engine_events(work)

    return tone_task


def make_tone(ctx, tone_task: Callable, pitch_hz, seconds, seed, progress: Progress = no_progress,
              cancel=None) -> tuple[str, dict]:
    """Check, run the task, save the WAV and its sidecar: (path, info)."""
    adjusted: dict = {}
    request = check_inputs(pitch_hz, seconds, seed, adjusted)
    result = None
    for event in drive(tone_task(request), cancel):
        if isinstance(event, ProgressEvent):
            progress(event.fraction, event.description)
        elif isinstance(event, TaskResult):
            result = event.value
    if result is None:
        raise UserInputError("Stopped before the tone was made; nothing was kept.")
    info = {**ctx.base_info(KEY, request.seed), "pitch_hz": request.pitch_hz, "seconds": request.seconds,
            "sample_rate": result["sample_rate"], "device": result["device"],
            **({"adjusted": adjusted} if adjusted else {})}
    path = save_audio_output(ctx.outputs_dir, DEMO, result["samples"], result["sample_rate"], info,
                             inputs=asdict(request))
    return str(path), info
