"""ViZDoom, headless: a scenario from the vizdoom wheel on Freedoom, stepped one tic at a time.

Everything it loads comes from the installed wheel (`vizdoom/freedoom2.wad`, `vizdoom/scenarios/*.cfg`
and their `.wad`s) by the names in catalog.py. No window, no sound; the seed fixes the game's randomness,
so the same seed and actions give the same frames.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .catalog import DOOM, Scenario

# What the stats report, in this order (ViZDoom GameVariable names).
VARIABLES = ("HEALTH", "KILLCOUNT", "AMMO2", "ARMOR", "ANGLE", "POSITION_X", "POSITION_Y")
FULL_LEVEL_CONFIG = "freedoom2.cfg"  # MAP01 of Freedoom: Phase 2, with a reward of 1 for the exit


def content_root() -> Path:
    import vizdoom

    return Path(vizdoom.__file__).resolve().parent


class DoomSession:
    """One running game. `controls` are ViZDoom Button names, in the order `step` takes values."""

    tic_rate = DOOM.tic_rate

    def __init__(self, scenario: Scenario, seed: int, controls: list[str], *, hud: bool = True):
        import vizdoom as vzd

        root = content_root()
        game = vzd.DoomGame()
        game.load_config(str(root / "scenarios" / (scenario.config or FULL_LEVEL_CONFIG)))
        game.set_doom_game_path(str(root / "freedoom2.wad"))  # the IWAD: Freedoom, whatever the config says
        game.set_doom_map(scenario.doom_map)
        # ViZDoom writes its own settings file; keep it out of the working directory (the app's folder).
        game.set_doom_config_path(str(Path(tempfile.gettempdir()) / "release-hub-vizdoom.ini"))
        game.set_window_visible(False)
        game.set_mode(vzd.Mode.PLAYER)  # synchronous: the game waits for each action
        game.set_screen_format(vzd.ScreenFormat.RGB24)
        game.set_screen_resolution(vzd.ScreenResolution.RES_320X240)
        game.set_render_hud(hud)
        game.set_sound_enabled(False)
        game.set_audio_buffer_enabled(False)
        game.set_automap_buffer_enabled(False)
        game.set_depth_buffer_enabled(False)
        game.set_labels_buffer_enabled(False)
        game.set_available_buttons([getattr(vzd.Button, name) for name in controls])
        game.set_available_game_variables([getattr(vzd.GameVariable, name) for name in VARIABLES])
        game.set_seed(int(seed) % (2**32))  # ViZDoom takes an unsigned 32-bit seed
        game.init()
        self.game = game
        self.scenario = scenario
        state = game.get_state()
        self._frame = state.screen_buffer.copy()
        self._vars = self._vars_of(state)

    @staticmethod
    def _vars_of(state) -> dict:
        return {name: float(v) for name, v in zip(VARIABLES, state.game_variables)}

    @property
    def finished(self) -> bool:
        return self.game.is_episode_finished()

    def frame(self) -> np.ndarray:
        """The latest screen, H x W x 3 uint8 RGB (the last one once the episode is over)."""
        return self._frame

    def step(self, values) -> float:
        """Advance one tic with these control values; the tic's reward."""
        reward = self.game.make_action([float(v) for v in values], 1)
        state = self.game.get_state()
        if state is not None:  # None once the episode is over: the last frame and values stay
            self._frame = state.screen_buffer  # a fresh array per state: no copy needed
            self._vars = self._vars_of(state)
        return float(reward)

    def stats(self) -> dict:
        v = self._vars
        return {"score": round(float(self.game.get_total_reward()), 3), "health": v["HEALTH"],
                "kills": int(v["KILLCOUNT"]), "ammo": int(v["AMMO2"]), "armor": v["ARMOR"],
                "angle": round(v["ANGLE"], 3), "dead": bool(self.game.is_player_dead())}

    def close(self) -> None:
        self.game.close()


def open_game(game: str, scenario: str, seed: int, controls: list[str]) -> DoomSession:
    """The session for a catalogue game and scenario (keys already checked by the specs)."""
    if game != DOOM.key:
        raise ValueError(f"unknown game {game!r}")
    return DoomSession(DOOM.scenario(scenario), seed, controls)
