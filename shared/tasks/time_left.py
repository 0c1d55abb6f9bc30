"""Time left in words, from the pace a run has measured so far: "about 1 min 20 s left".

Plain Python (no torch, no gradio): engines count their units of work and
the time each took; `TimeLeft` turns what is left into a phrase for the
progress line. Rounded so the phrase does not flicker with every step.
"""
from __future__ import annotations


def duration_words(seconds: float) -> str:
    """"40 s", "1 min 20 s", "2 h 5 min": coarser as it grows (10 s steps past a minute, minutes past 10 min)."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        minutes, rest = divmod(int(round(seconds / 10) * 10), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def time_left_phrase(seconds: float | None) -> str:
    """"about 1 min 20 s left"; "" while nothing has been measured yet."""
    if seconds is None:
        return ""
    if seconds < 1:
        return "almost done"
    return f"about {duration_words(seconds)} left"


class TimeLeft:
    """Mean seconds per unit of each kind of work ("step", "decode", ...) as measured in this run."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def record(self, kind: str, seconds: float) -> None:
        self._spent[kind] = self._spent.get(kind, 0.0) + max(0.0, seconds)
        self._count[kind] = self._count.get(kind, 0) + 1

    def mean(self, kind: str, fallback: str | None = None) -> float | None:
        """Mean seconds of one `kind` unit; a kind not timed yet borrows `fallback`'s mean."""
        if self._count.get(kind):
            return self._spent[kind] / self._count[kind]
        return self.mean(fallback) if fallback else None

    def seconds_left(self, remaining: dict[str, int], fallbacks: dict[str, str] | None = None) -> float | None:
        """Seconds for the `remaining` units of each kind; None until every kind with work left has a pace."""
        total = 0.0
        for kind, count in remaining.items():
            if count <= 0:
                continue
            pace = self.mean(kind, (fallbacks or {}).get(kind))
            if pace is None:
                return None
            total += pace * count
        return total


__all__ = ["TimeLeft", "duration_words", "time_left_phrase"]
