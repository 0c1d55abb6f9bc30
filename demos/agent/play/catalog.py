"""The games Play offers and their licences. No game or model library is imported here: the page reads it.

Game content always comes from the installed `vizdoom` wheel (its Freedoom IWADs and scenario
files), by names declared here; nothing a visitor sends ever names a file.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    goal: str
    config: str | None  # a .cfg shipped in vizdoom/scenarios (its .wad is beside it); None: the IWAD's map
    doom_map: str = "map01"


@dataclass(frozen=True)
class Game:
    key: str
    title: str
    tic_rate: int  # game steps per second
    scenarios: tuple[Scenario, ...]
    licence: str  # markdown: code and content licences

    def scenario(self, key: str) -> Scenario:
        return next(s for s in self.scenarios if s.key == key)


DOOM = Game(
    key="vizdoom",
    title="ViZDoom with Freedoom",
    tic_rate=35,
    scenarios=(
        Scenario("basic", "Basic", "One monster on the far wall: strafe in front of it and shoot (about 8.6 s).",
                 "basic.cfg"),
        Scenario("defend_the_center", "Defend the center",
                 "Monsters close in from all sides: turn and shoot; ends when you die.", "defend_the_center.cfg"),
        Scenario("deadly_corridor", "Deadly corridor",
                 "Run down a corridor past shooting monsters to the armour at its end.", "deadly_corridor.cfg"),
        Scenario("health_gathering", "Health gathering",
                 "The floor hurts: walk over medkits to stay alive.", "health_gathering.cfg"),
        Scenario("freedoom2_map01", "Freedoom: Phase 2, MAP01",
                 "The whole first level of Freedoom: Phase 2 (score 1 for reaching the exit).", None),
    ),
    licence=("**Game:** [ViZDoom](https://github.com/Farama-Foundation/ViZDoom) 1.3 (code original to ViZDoom: MIT; "
             "its ZDoom engine carries [ZDoom's mixed licences](https://zdoom.org/wiki/license)), scenarios from the "
             "ViZDoom wheel (MIT). **Content:** [Freedoom](https://freedoom.github.io/) (`freedoom2.wad`, shipped in the "
             "`vizdoom` wheel; modified BSD licence, BSD-3-Clause). No commercial game data is used."),
)

GAMES: dict[str, Game] = {DOOM.key: DOOM}
MODES = ("lockstep", "realtime")  # see loop.py
DEFAULT_GAME = DOOM.key
DEFAULT_SCENARIO = "defend_the_center"

# ale-py 0.12 ships 100+ Atari 2600 ROMs inside its wheel, but states no licence for them (its own code is
# GPL-2.0; the ROMs are the publishers' commercial games), so Atari is not offered (docs/agent_api.md).
ATARI_NOTE = ("Atari (ale-py) is not offered: its wheel ships the commercial Atari 2600 ROMs without a stated "
              "licence for them.")
