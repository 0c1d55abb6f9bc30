"""The declared parameters of Play (shared.io.params): what the tab's controls and the API check."""
from __future__ import annotations

from shared.io.params import Choice, Number

from .catalog import DEFAULT_GAME, DEFAULT_SCENARIO, GAMES, MODES

MAX_EPISODE_S = 60  # game seconds: bounds the GPU task's duration and the recording

GAME = Choice.of("game", "Game", [(g.title, g.key) for g in GAMES.values()], default=DEFAULT_GAME)
SCENARIO = Choice.of("scenario", "Scenario",
                     [(s.title, s.key) for g in GAMES.values() for s in g.scenarios], default=DEFAULT_SCENARIO)
MODE = Choice.of("mode", "Timing", [("Lockstep: the game waits for each chunk", "lockstep"),
                                    ("Real time: the game runs on while the next chunk is computed", "realtime")],
                 default="lockstep")
assert tuple(MODE.values) == MODES
MAX_SECONDS = Number("max_seconds", "Episode limit (seconds of game time)", minimum=1, maximum=MAX_EPISODE_S,
                     default=20, integer=True, unit=" s")


def scenario_for(game: str) -> Choice:
    """The scenario spec of one game (a scenario of another game is refused, naming this game's)."""
    return SCENARIO.only([s.key for s in GAMES[game].scenarios])
