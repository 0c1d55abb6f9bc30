"""The line a voice run shows while it works: what is made so far and about how long is left.

The engines report `progress(fraction, description)`; inside the GPU task the generation's reports
travel as `GenerationEvent`s (a ProgressEvent of their own kind), so the handlers can tell them from
model loading. `RunTalker` turns both into a short line for the status line under the player, at
most one per `every_s` seconds, with the time left measured on this run's own pace.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from shared.tasks.cancel import Progress
from shared.tasks.time_left import time_left_phrase
from shared.tasks.zerogpu import ProgressEvent


@dataclass(frozen=True)
class GenerationEvent(ProgressEvent):
    """Progress of the generation itself (not of loading): `fraction` of the most it can make."""


def generation_emitter(emit: Callable[[object], None]) -> Progress:
    """An engine `progress` callable that emits `GenerationEvent`s from inside the GPU task."""
    return lambda fraction, description="": emit(GenerationEvent(float(fraction), str(description)))


class RunTalker:
    """Words for one run's progress. The time left is the pace measured so far (fraction per second
    since the first generation report, so loading does not count) applied to what remains; the
    engines' fractions are of the most a run can make, so the estimate errs long, never short."""

    def __init__(self, every_s: float = 1.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.every_s = every_s
        self.clock = clock
        self.started: tuple[float, float] | None = None  # (time, fraction) of the first generation report
        self.first_step: tuple[float, float] | None = None  # ... and of the first that made progress
        self.last_said = float("-inf")
        self.line = ""

    def hear(self, event: ProgressEvent) -> str | None:
        """The new line for `event`, or None while the last one is younger than `every_s`."""
        now = self.clock()
        if isinstance(event, GenerationEvent):
            line = self._generating(now, event)  # every report counts towards the pace
        else:
            percent = f" ({event.fraction:.0%})" if 0 < event.fraction < 1 else ""
            line = f"{event.description or 'Getting ready'}{percent}"
        if now - self.last_said < self.every_s:
            return None
        self.line, self.last_said = line, now
        return line

    def _generating(self, now: float, event: GenerationEvent) -> str:
        if self.started is None:
            self.started = (now, event.fraction)
        elif self.first_step is None and event.fraction > self.started[1]:
            self.first_step = (now, event.fraction)
        # Paced from the first step on once there is one: the first step also carried the prompt's
        # reading (Voxtral's prefill), which would make the whole run look slower than it is.
        anchor = self.first_step if self.first_step and event.fraction > self.first_step[1] else self.started
        start_time, start_fraction = anchor
        done = event.fraction - start_fraction
        if done <= 0 or event.fraction >= 1:
            return event.description
        left = (now - start_time) / done * (1 - event.fraction)
        return f"{event.description}, {time_left_phrase(left)}"
