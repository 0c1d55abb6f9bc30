"""One episode from its settings: open the game, play it with an agent, record it, close it.

What the GPU task, the baseline and the benchmark all call, so they play the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from shared.tasks.cancel import CancelToken

from .agents import RandomAgent
from .doom import open_game
from .loop import play_episode
from .mapping import MAPPINGS
from .record import Recorder


@dataclass(frozen=True)
class EpisodeSpec:
    """The settings of an episode (plain values: they cross the GPU task boundary)."""

    game: str
    scenario: str
    seed: int
    mode: str
    max_seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


# The episode's mp4 keeps every 2nd tic (17.5 fps for Doom's 35): drawing and encoding every tic's overlay
# on a 2-core CPU took more of the loop's time than the tiny model itself (docs/BENCHMARKS.md, Play).
RECORD_EVERY_TICS = 2


def run_episode(spec: EpisodeSpec, agent, *, emit, cancel: CancelToken, mp4: str | Path | None = None,
                actions: str | Path | None = None, pace: bool = True) -> dict:
    """Play `spec` with `agent` to its end; the record (settings, summary, files written)."""
    mapping = MAPPINGS[spec.game]
    game = open_game(spec.game, spec.scenario, spec.seed, mapping.controls)
    recorder = Recorder(mp4, game.tic_rate, every=RECORD_EVERY_TICS)
    record = {**spec.to_dict(), "agent": agent.name, "tic_rate": game.tic_rate}
    try:
        record.update(play_episode(game, agent, mapping, mode=spec.mode, max_seconds=spec.max_seconds, emit=emit,
                                   cancel=cancel, recorder=recorder, pace=pace))
    finally:
        game.close()
        record["files"] = recorder.close(record, actions)
    return record


def baseline_spec(spec: EpisodeSpec, agent_record: dict) -> EpisodeSpec:
    """The random baseline's settings: the same game, scenario, seed and limit. When the agent was
    stopped early, the baseline plays as long as the agent did, so the scores compare."""
    seconds = spec.max_seconds
    if agent_record.get("end_reason") == "stopped":
        seconds = agent_record["tics"] / agent_record["tic_rate"]
    return replace(spec, mode="lockstep", max_seconds=seconds)


def run_baseline(spec: EpisodeSpec, agent_record: dict, cancel: CancelToken | None = None) -> dict:
    """The random-action agent on the agent's scenario and seed (no model: as fast as the game steps)."""
    base = baseline_spec(spec, agent_record)
    return run_episode(base, RandomAgent(spec.seed), emit=lambda _event: None, cancel=cancel or CancelToken(),
                       pace=False)
