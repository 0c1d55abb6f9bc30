"""How far a request is: frames made against the most it can still make, in words.

The most is an upper bound: the frames made, the current sentence group's budget and the later
groups' budgets, within the request's duration limit. A group that reads its text to the end stops
sooner, and the bound shrinks at the next group. The engine reports through it once per frame.
"""
from __future__ import annotations

from typing import Callable

from shared.tasks.cancel import Progress


class FramePlan:
    def __init__(self, segments: list[str], budget: Callable[[str, float], int], max_frames: int, frame_rate: float,
                 progress: Progress) -> None:
        self.budgets = [budget(segment, frame_rate) for segment in segments]  # per sentence group, in frames
        self.max_frames = max_frames
        self.frame_rate = frame_rate
        self.progress = progress
        self.group = 0
        self.most = max(1, min(max_frames, sum(self.budgets)))

    def start_group(self, group: int, frames_done: int, budget: int) -> None:
        """Group `group` starts with `budget` frames allowed; report where the request stands."""
        self.group = group
        self.most = max(1, min(self.max_frames, frames_done + budget + sum(self.budgets[group + 1:])))
        self.report(frames_done)

    def report(self, frames_done: int) -> None:
        made = f"{frames_done / self.frame_rate:.1f} s of audio made" if frames_done else "reading the text"
        group = f" (sentence group {self.group + 1} of {len(self.budgets)})" if len(self.budgets) > 1 else ""
        self.progress(min(1.0, frames_done / self.most), f"Generating: {made}{group}")
