"""What a Helios run says while it works: each stage named, a fraction that only grows, the time left.

Stages, in order: encoding the prompt (and the input), then per chunk its
denoising steps, its VAE decode (latent frame by latent frame) and writing
it to the mp4; last, closing the mp4. The fraction counts units of work
(one per step, per decoded latent frame, per chunk written, one for the
close), so it never goes back; the time left comes from this run's own
measured pace (shared/tasks/time_left.py), decode and writing borrowing
the step pace until they are timed. Plain Python: no torch, no gradio.
"""
from __future__ import annotations

import time
from typing import Callable

from shared.tasks.cancel import Progress
from shared.tasks.time_left import TimeLeft, time_left_phrase

LATENT_FRAMES_PER_CHUNK = 9  # a 33-frame chunk is 9 latent frames; the VAE decodes them one by one
FALLBACKS = {"decode": "step", "write": "step"}


class RunProgress:
    """Reports `(fraction, text)` for one run to `report`; the engine calls one method per event."""

    def __init__(self, report: Progress, steps_per_chunk: list[int], *,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.report = report
        self.steps_per_chunk = list(steps_per_chunk)
        self.clock = clock
        self.pace = TimeLeft()
        chunks = len(self.steps_per_chunk)
        self.total_units = sum(self.steps_per_chunk) + chunks * (LATENT_FRAMES_PER_CHUNK + 1) + 1
        self.units = 0
        self.chunk = 0  # 0-based chunk being made
        self.step = 0  # steps done in this chunk
        self.decoded = 0  # latent frames decoded in this chunk
        self._mark = clock()

    @property
    def chunks(self) -> int:
        return len(self.steps_per_chunk)

    def _lap(self, kind: str | None) -> None:
        now = self.clock()
        if kind:
            self.pace.record(kind, now - self._mark)
        self._mark = now

    def _remaining(self) -> dict[str, int]:
        if self.chunk >= self.chunks:
            return {}
        steps_left = self.steps_per_chunk[self.chunk] - self.step + sum(self.steps_per_chunk[self.chunk + 1:])
        chunks_left = self.chunks - self.chunk
        decodes_left = chunks_left * LATENT_FRAMES_PER_CHUNK - self.decoded
        return {"step": steps_left, "decode": decodes_left, "write": chunks_left}

    def _say(self, what: str) -> None:
        left = time_left_phrase(self.pace.seconds_left(self._remaining(), FALLBACKS))
        where = f"Chunk {self.chunk + 1} of {self.chunks}" if self.chunks > 1 else "The chunk"
        text = f"{where} · {what}" + (f" — {left}" if left else "")
        self.report(min(self.units / self.total_units, 0.999), text)

    # ------------------------------------------------------------ events, in the order they come
    def encoding(self, inputs: bool = False) -> None:
        self._lap(None)
        self.report(0.0, "Encoding the prompt" + (" and the input" if inputs else "") + " (text encoder)")

    def step_done(self) -> None:
        self._lap("step")
        self.units += 1
        per_chunk = self.steps_per_chunk[self.chunk]
        self.step = min(self.step + 1, per_chunk)
        self._say(f"denoising step {self.step} of {per_chunk}")

    def decoding(self) -> None:
        """The chunk's steps are over; the VAE starts turning its latents into frames."""
        self._lap(None)
        self._say(f"decoding frames (VAE), 0 of {LATENT_FRAMES_PER_CHUNK}")

    def frame_decoded(self) -> None:
        if self.decoded >= LATENT_FRAMES_PER_CHUNK:  # a tiled decode calls the decoder once per tile
            return
        self._lap("decode")
        self.units += 1
        self.decoded += 1
        self._say(f"decoding frames (VAE), {self.decoded} of {LATENT_FRAMES_PER_CHUNK}")

    def writing(self) -> None:
        self.units += LATENT_FRAMES_PER_CHUNK - self.decoded  # a decode that skipped the per-frame calls
        self.decoded = LATENT_FRAMES_PER_CHUNK
        self._lap(None)
        self._say("writing its frames to the mp4")

    def chunk_written(self) -> None:
        self._lap("write")
        self.units += 1
        self.chunk += 1
        self.step = self.decoded = 0
        if self.chunk < self.chunks:
            self._say(f"starting its {self.steps_per_chunk[self.chunk]} denoising steps")

    def closing(self) -> None:
        self.report(min(self.units / self.total_units, 0.999), "Closing the mp4")

    def done(self) -> None:
        self.units = self.total_units
        self.report(1.0, "Done: the video is ready")


__all__ = ["LATENT_FRAMES_PER_CHUNK", "RunProgress"]
