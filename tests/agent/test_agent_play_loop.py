"""examples/agent_play_loop.py: the pipelined play loop.

The real test runs the example as a subprocess against the session's
`release-hub --tiny` server (gradio_client over HTTP). The scheduling rules
themselves are checked exactly on a virtual clock.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_play_loop.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("agent_play_loop", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_play_loop"] = module
    spec.loader.exec_module(module)
    return module


loop = _load_example()
HORIZON, HZ = 18, 60
ACTIONS = {"horizon": HORIZON, "control_hz": HZ}


# ---------------------------------------------------------------- virtual clock
class Clock:
    """Virtual time; answers complete (and run their callbacks) when time passes their ready time."""

    def __init__(self):
        self.t = 0.0
        self.pending: list[Answer] = []

    def __call__(self) -> float:
        return self.t

    def advance_to(self, target: float) -> None:
        for answer in sorted(self.pending, key=lambda a: a.ready):
            if answer.ready <= target:
                self.t = max(self.t, answer.ready)
                answer.complete()
        self.t = max(self.t, target)

    def sleep(self, s: float) -> None:
        self.advance_to(self.t + max(0.0, s))


class Answer:
    """A future that is done `latency` seconds (virtual) after it was made."""

    def __init__(self, clock: Clock, latency: float):
        self.clock, self.ready, self.callbacks, self.finished = clock, clock.t + latency, [], False
        clock.pending.append(self)

    def complete(self) -> None:
        self.finished = True
        self.clock.pending.remove(self)
        for fn in self.callbacks:
            fn(self)

    def done(self) -> bool:
        return self.finished

    def add_done_callback(self, fn) -> None:
        self.callbacks.append(fn)

    def result(self):
        if not self.finished:
            self.clock.advance_to(self.ready)  # blocking until the answer arrives
        return dict(ACTIONS)


def _run(latencies, chunks):
    clock = Clock()
    it = iter(latencies)
    applied, released = [], []
    stats = loop.play_pipelined(lambda frame: Answer(clock, next(it)), lambda: "frame.png", chunks,
                                apply=lambda a, i: applied.append((clock.t, i)),
                                release=lambda: released.append(clock.t), clock=clock, sleep=clock.sleep)
    return stats, applied, released


def test_fast_answers_keep_the_pad_busy_at_60_actions_per_s():
    stats, applied, _ = _run([0.1] * 10, chunks=10)
    assert stats.chunks == 10 and stats.actions == 180 and stats.late_chunks == 0 and stats.idle_s == 0
    assert stats.summary()["actions_per_s"] == pytest.approx(60.0)
    # One action every 1/60 s without a gap, across chunk boundaries.
    times = [t for t, _ in applied]
    assert np.allclose(np.diff(times), 1 / HZ)
    # Chunk k+1 was requested when chunk k started playing, not after it ended.
    ev = stats.events
    for k in range(9):
        req = next(t for what, c, t in ev if what == "request" and c == k + 1)
        play = next(t for what, c, t in ev if what == "play" and c == k)
        end = next(t for what, c, t in ev if what == "end" and c == k)
        assert req <= play < end
    assert stats.round_trips_s == pytest.approx([0.1] * 10)


def test_slow_answers_are_late_and_counted():
    # 0.5 s per round trip: each chunk after the first arrives 0.2 s after the previous one ended.
    stats, applied, released = _run([0.5] * 5, chunks=5)
    assert stats.late_chunks == 4
    assert stats.idle_s == pytest.approx(4 * 0.2)
    assert stats.play_s == pytest.approx(0.3 + 4 * 0.5)
    assert stats.summary()["actions_per_s"] == pytest.approx(90 / 2.3, rel=1e-3)
    assert len(released) >= 4  # the pad is let go while it waits


def test_exactly_one_chunk_time_is_not_late():
    stats, _, _ = _run([0.05] + [HORIZON / HZ] * 4, chunks=5)
    assert stats.late_chunks == 0 and stats.summary()["actions_per_s"] == pytest.approx(60.0)


# ------------------------------------------------------------ real tiny server
def test_pipelined_loop_against_the_tiny_server(tiny_server, tmp_path):
    shot = tmp_path / "shot.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)).save(shot)
    out = tmp_path / "stats.json"
    chunks = 6
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--server", tiny_server, "--image", str(shot), "--loop",
         "--chunks", str(chunks), "--quiet", "--summary-json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(out.read_text())
    assert stats["chunks"] == chunks and stats["actions"] == chunks * HORIZON
    assert len(stats["round_trips_s"]) == chunks and min(stats["round_trips_s"]) > 0
    assert stats["actions_per_s"] == pytest.approx(stats["actions"] / stats["play_s"], rel=1e-2)
    events = stats["events"]

    def at(what, k):
        return next(t for w, c, t in events if w == what and c == k)

    late = {c for w, c, _ in events if w == "late"}
    assert len(late) == stats["late_chunks"]
    for k in range(chunks - 1):
        # Pipelined: chunk k+1's request went out before chunk k started playing.
        assert at("request", k + 1) <= at("play", k) < at("end", k)
        # Late means "not back when chunk k ended"; an answer back by then is never late.
        if k + 1 in late:
            assert at("answer", k + 1) > at("end", k)
        if at("answer", k + 1) <= at("end", k):
            assert k + 1 not in late
    if stats["late_chunks"] == 0:
        assert stats["actions_per_s"] > 55
    # The per-chunk lines and the summary line are printed.
    assert proc.stdout.count("round trip") == chunks
    assert json.loads(proc.stdout.strip().splitlines()[-1])["late_chunks"] == stats["late_chunks"]
