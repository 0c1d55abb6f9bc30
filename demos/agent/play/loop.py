"""The closed loop: the latest frame -> an agent's 18 actions -> the game advances -> the next frame.

Two timing modes:
- lockstep: the game waits for each chunk. With `pace`, tics are also never played ahead of the
  wall clock, so a fast model shows the game at its real speed; a slow one makes it slower, and the
  record says by how much (`slowdown`).
- realtime: the game runs on at its tic rate on the wall clock. At the start of chunk k the agent
  gets the frame and computes chunk k+1 in a second thread while chunk k plays (the pipelining of
  examples/agent_play_loop.py). A chunk not ready when the previous one ends is *late*: the pad is
  released (neutral controls) until it arrives, and the game keeps running.

An episode ends at game over, at its time limit (game seconds), or on cancel (Stop), keeping what was
played. Events go out through `emit` (plain values: they cross ZeroGPU's process boundary).
"""
from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field

import numpy as np

from shared.tasks.cancel import Cancelled, CancelToken

from ..actions import BUTTONS, UNTRAINED_BUTTONS
from ..overlay import overlay_frame
from .agents import HORIZON
from .catalog import MODES
from .mapping import Mapping, TicSchedule
from .record import Recorder

DISPLAY_EVERY = 3  # tics between live frames: 35 / 3 = 11.7 frames per second of game time
DISPLAY_MAX_SIDE = 480


@dataclass(frozen=True)
class PlayFrame:
    """A live frame (gamepad overlay drawn on it) and the stats as of that tic."""

    tic: int
    image: np.ndarray
    stats: dict
    pad: dict  # the action being played: pressed buttons, j_left, j_right


@dataclass(frozen=True)
class PlayChunk:
    """One chunk played: its index, its actions (decoded) and the stats after it."""

    index: int
    actions: dict
    stats: dict


@dataclass
class _Clock:
    tic_rate: int
    started: float = field(default_factory=time.perf_counter)

    def wait_for(self, tic: int) -> None:
        """Sleep until `tic` is due on the wall clock (at once if the game is behind)."""
        delay = self.started + tic / self.tic_rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)

    def wall(self) -> float:
        return time.perf_counter() - self.started


class Episode:
    """The state of one episode; `run_lockstep` / `run_realtime` drive it."""

    def __init__(self, game, agent, mapping: Mapping, *, max_seconds: float, emit, cancel: CancelToken,
                 recorder: Recorder | None = None, pace: bool = True, display_every: int = DISPLAY_EVERY):
        self.game, self.agent, self.mapping = game, agent, mapping
        self.schedule = TicSchedule(game.tic_rate)
        self.max_tics = int(round(max_seconds * game.tic_rate))
        self._emit, self.cancel, self.recorder = emit, cancel, recorder
        self.pace, self.display_every = pace, display_every
        self.neutral = np.zeros(len(mapping.controls))
        self.tic = 0
        self.chunks = 0
        self.late_chunks = 0
        self.idle_tics = 0
        self.model_s: list[float] = []
        self.loop_s = {"game": 0.0, "display": 0.0, "record": 0.0}
        self.clock = _Clock(game.tic_rate)

    # ---------------------------------------------------------------- state
    def end_reason(self) -> str | None:
        if self.cancel.cancelled:
            return "stopped"
        if self.game.finished:
            return "game over"
        if self.tic >= self.max_tics:
            return "time limit"
        return None

    def stats(self) -> dict:
        wall = self.clock.wall()
        game_s = self.tic / self.game.tic_rate
        return {**self.game.stats(), "tic": self.tic, "game_time_s": round(game_s, 3), "wall_s": round(wall, 3),
                "slowdown": round(wall / game_s, 3) if game_s else None, "chunks": self.chunks,
                "late_chunks": self.late_chunks, "idle_s": round(self.idle_tics / self.game.tic_rate, 3),
                "model_s_last": round(self.model_s[-1], 4) if self.model_s else None}

    def emit(self, event) -> None:
        """Hand an event on; once the listener is gone (Stop: the token is set) the episode just ends."""
        try:
            self._emit(event)
        except Cancelled:
            self.cancel.cancel()

    # ----------------------------------------------------------------- tics
    def _one_tic(self, values: np.ndarray, chunk: dict | None, step: int) -> None:
        if self.pace:
            self.clock.wait_for(self.tic)
        t0 = time.perf_counter()
        frame = self.game.frame()
        reward = self.game.step(values)
        t1 = time.perf_counter()
        if self.recorder is not None:
            self.recorder.tic(frame, chunk or _NEUTRAL_CHUNK, step, reward)
        t2 = time.perf_counter()
        self.tic += 1
        if self.tic % self.display_every == 0:
            image = overlay_frame(self.game.frame(), chunk or _NEUTRAL_CHUNK, step, DISPLAY_MAX_SIDE)
            self.emit(PlayFrame(self.tic, image, self.stats(), pad_state(chunk or _NEUTRAL_CHUNK, step)))
        t3 = time.perf_counter()
        self.loop_s["game"] += t1 - t0
        self.loop_s["record"] += t2 - t1
        self.loop_s["display"] += t3 - t2

    def play_chunk(self, chunk: dict, start_unit: int) -> None:
        """Play the tics a chunk covers (fewer if the episode ends part-way)."""
        values = self.mapping.to_game(chunk)
        for _tic, step in self.schedule.chunk_tics(start_unit, len(values), self.tic):
            if self.end_reason() in ("game over", "time limit"):
                break
            self._one_tic(values[step], chunk, step)
        self.chunks += 1
        if self.recorder is not None:
            self.recorder.chunk({"index": self.chunks - 1, "start_unit": start_unit, "end_tic": self.tic,
                                 "model_s": round(self.model_s[-1], 4) if self.model_s else None}, chunk)
        self.emit(PlayChunk(self.chunks - 1, chunk, self.stats()))

    def act(self, frame: np.ndarray, index: int, cancel: CancelToken) -> dict:
        t0 = time.perf_counter()
        chunk = self.agent.act(frame, index, cancel)
        self.model_s.append(time.perf_counter() - t0)
        return chunk

    # ---------------------------------------------------------------- modes
    def run_lockstep(self) -> str:
        chunk_units = HORIZON * self.schedule.units_per_action
        while (reason := self.end_reason()) is None:
            try:
                chunk = self.act(self.game.frame(), self.chunks, self.cancel)
            except Cancelled:
                return "stopped"
            self.play_chunk(chunk, self.chunks * chunk_units)  # chunk k's actions follow chunk k-1's, no gap
        return reason

    def run_realtime(self) -> str:
        self.pace = True  # real time is the wall clock
        chunk_units = HORIZON * self.schedule.units_per_action
        model_cancel = CancelToken()  # ends a chunk still computing when the episode ends for any reason
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="play-model") as pool:
            try:
                chunk = self.act(self.game.frame(), 0, self.cancel)  # the game starts once the first chunk is there
            except Cancelled:
                return "stopped"
            self.clock = _Clock(self.game.tic_rate)
            start_unit = 0
            try:
                while self.end_reason() is None:
                    pending = pool.submit(self.act, self.game.frame(), self.chunks + 1, model_cancel)
                    self.play_chunk(chunk, start_unit)
                    late = not pending.done()
                    self.late_chunks += late
                    while not pending.done() and self.end_reason() is None:
                        self._one_tic(self.neutral, None, 0)  # late: the pad is released, the game runs on
                        self.idle_tics += 1
                    if self.end_reason() is not None:
                        break
                    chunk = pending.result()
                    # On time, the next chunk's actions follow on exactly (as in lockstep); late, they start now.
                    start_unit = self.schedule.start_unit(self.tic) if late else start_unit + chunk_units
            finally:
                model_cancel.cancel()
        return self.end_reason() or "stopped"


def pad_state(chunk: dict, step: int) -> dict:
    """The pad at one step of a chunk, in words: pressed buttons (trained ones) and the sticks."""
    pressed = [name for name, on in zip(BUTTONS, chunk["buttons"][step]) if on and name not in UNTRAINED_BUTTONS]
    return {"pressed": pressed, "j_left": [round(float(v), 3) for v in chunk["j_left"][step]],
            "j_right": [round(float(v), 3) for v in chunk["j_right"][step]]}


_NEUTRAL_CHUNK = {"buttons": [[0] * 21], "j_left": [[0.0, 0.0]], "j_right": [[0.0, 0.0]]}


def summary(ep: Episode, reason: str) -> dict:
    """The final numbers of an episode (no per-tic data: that is in the recording)."""
    chunks = max(ep.chunks, 1)
    model = ep.model_s
    return {"end_reason": reason, "stats": ep.stats(), "score": ep.game.stats()["score"],
            "chunks": ep.chunks, "tics": ep.tic, "late_chunks": ep.late_chunks,
            "model_s": {"mean": round(float(np.mean(model)), 4) if model else None,
                        "max": round(float(np.max(model)), 4) if model else None,
                        "total": round(float(np.sum(model)), 4)},
            "loop_s_per_chunk": {k: round(v / chunks, 5) for k, v in ep.loop_s.items()}}


def play_episode(game, agent, mapping: Mapping, *, mode: str, max_seconds: float, emit, cancel: CancelToken,
                 recorder: Recorder | None = None, pace: bool = True) -> dict:
    """Play one episode to its end; the summary (see `summary`)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    ep = Episode(game, agent, mapping, max_seconds=max_seconds, emit=emit, cancel=cancel, recorder=recorder,
                 pace=pace)
    reason = ep.run_lockstep() if mode == "lockstep" else ep.run_realtime()
    return {"mode": mode, "paced": ep.pace, **summary(ep, reason)}
