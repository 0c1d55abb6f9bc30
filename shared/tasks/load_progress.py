"""Progress of loading and checkpoint writing: a fraction per part, never a bar stuck at 0 %.

- `Parts(progress, {"text encoder": 11.4, "transformer": 28.6}, "Loading Helios")`: a job done in
  named parts, each weighted (bytes on disk, or 1 each); `with parts.part("transformer"):` reports
  "Loading Helios: transformer (2 of 2)" at the fraction done before it, and its end after it;
  `with parts.part("weights") as within: within(0.4, "3.2 of 8.0 GB")` reports inside a long part
  (at most every `Parts.interval` seconds, so a loop over 400 tensors sends a few dozen updates).
- `reporting_to(progress)` / `current_progress()`: where a callee whose signature is fixed (a
  `ModelSpec.write_tiny(dest)`) sends its progress; outside a `reporting_to` block it goes nowhere.
- `folder_bytes(path)`: the size of a component's files, the natural weight of loading it;
  `bytes_read_words(done, total)`: "3.2 of 8.0 GB" for a part that reads a large file.
Plain Python: no torch, no gradio.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator

from .cancel import Progress, no_progress

_current: ContextVar[Progress] = ContextVar("release_hub_progress", default=no_progress)


@contextmanager
def reporting_to(progress: Progress | None) -> Iterator[None]:
    """Make `progress` the one `current_progress()` returns inside the block (this thread or task)."""
    token = _current.set(progress or no_progress)
    try:
        yield
    finally:
        _current.reset(token)


def current_progress() -> Progress:
    return _current.get()


def bytes_read_words(done: float, total: float) -> str:
    """'3.2 of 8.0 GB', '12 of 40 MB': how far a read has got, in the unit that suits its size."""
    unit, scale = ("GB", 1024**3) if total >= 0.1 * 1024**3 else ("MB", 1024**2)
    digits = 1 if unit == "GB" or total < 10 * 1024**2 else 0
    return f"{done / scale:.{digits}f} of {total / scale:.{digits}f} {unit}"


def report_bytes(report: Callable[[float, str], None] | None, done: float, total: float) -> None:
    """Tell `report` (a `Parts.part` reporter, or None) how many of `total` bytes have been read."""
    if report is not None and total:
        report(done / total, bytes_read_words(done, total))


def folder_bytes(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


class Parts:
    """A job in named, weighted parts; reports the fraction done as each part starts and ends."""

    interval = 0.25  # seconds between two reports from inside one part

    def __init__(self, progress: Progress, weights: dict[str, float], what: str) -> None:
        self.progress = progress or no_progress
        # A part with no weight (an empty folder) still counts a little, so the fraction moves past it.
        self.weights = {name: max(float(w), 1e-9) for name, w in weights.items()}
        self.total = sum(self.weights.values()) or 1.0
        self.what = what
        self.done = 0.0

    @contextmanager
    def part(self, name: str) -> Iterator[Callable[[float, str], None]]:
        index = list(self.weights).index(name) + 1
        label = f"{self.what}: {name} ({index} of {len(self.weights)})"
        self.progress(self.done / self.total, label)
        last = time.monotonic()

        def within(fraction: float, detail: str = "") -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < self.interval:
                return
            last = now
            share = self.done + self.weights[name] * min(max(float(fraction), 0.0), 1.0)
            self.progress(min(share / self.total, 1.0), f"{label}, {detail}" if detail else label)

        yield within
        self.done += self.weights[name]
        self.progress(min(self.done / self.total, 1.0), label + ", done")


__all__ = ["Parts", "bytes_read_words", "current_progress", "folder_bytes", "report_bytes", "reporting_to"]
