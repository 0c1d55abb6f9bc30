"""The declared gamepad -> game mapping of each game, dead zones, and 60 Hz -> tic resampling.

NitroGen's chunk is 18 actions at 60 Hz (0.3 s). A game steps at its own tic rate (ViZDoom: 35
tics/s), so each tic takes the action in effect at its start: time runs in units of 1/lcm(60, 35)
s, action i of a chunk starting at unit S covers [S + 7i, S + 7i + 7) and tic t sits at unit 12t.
A chunk therefore lasts 10 or 11 tics (10.5 on average) and no action is stretched or skipped by
more than one tic. Plain numpy; no game library here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..actions import BUTTONS, CONTROL_HZ

STICK_DEAD_ZONE = 0.15  # stick values within this of centre count as centred (model noise, like a worn pad)
_IDX = {name: i for i, name in enumerate(BUTTONS)}
STICKS = {"left_x": ("j_left", 0), "left_y": ("j_left", 1), "right_x": ("j_right", 0), "right_y": ("j_right", 1)}


def dead_zone(values: np.ndarray, zone: float = STICK_DEAD_ZONE) -> np.ndarray:
    """Axial dead zone, rescaled so the output still spans [-1, 1] without a jump at the zone's edge."""
    v = np.clip(np.asarray(values, dtype=np.float64), -1.0, 1.0)
    return np.sign(v) * np.clip((np.abs(v) - zone) / (1.0 - zone), 0.0, 1.0)


@dataclass(frozen=True)
class Axis:
    """An analogue game control driven by a stick axis (after the dead zone), plus d-pad buttons at full scale."""

    control: str  # the game's control name
    stick: str  # one of STICKS
    scale: float  # game units per tic at full deflection
    sign: float = 1.0  # -1 where the model's axis points the other way (its +y is stick *down*)
    plus: str | None = None  # a d-pad button adding +scale
    minus: str | None = None  # ... and -scale
    what: str = ""


@dataclass(frozen=True)
class Press:
    """A game button held while any of `buttons` is pressed."""

    control: str
    buttons: tuple[str, ...]
    what: str = ""


@dataclass(frozen=True)
class Mapping:
    game: str
    axes: tuple[Axis, ...]
    presses: tuple[Press, ...]
    ignored: tuple[str, ...]  # pad inputs that drive nothing, each said

    @property
    def controls(self) -> list[str]:
        """The game's controls in the order of `to_game`'s columns."""
        return [a.control for a in self.axes] + [p.control for p in self.presses]

    def to_game(self, chunk: dict) -> np.ndarray:
        """A decoded chunk (buttons [H, 21], j_left / j_right [H, 2]) -> [H, len(controls)] game values."""
        buttons = np.asarray(chunk["buttons"], dtype=np.float64) > 0.5
        cols = []
        for axis in self.axes:
            key, k = STICKS[axis.stick]
            value = axis.sign * dead_zone(np.asarray(chunk[key], dtype=np.float64)[:, k])
            if axis.plus:
                value = value + buttons[:, _IDX[axis.plus]]
            if axis.minus:
                value = value - buttons[:, _IDX[axis.minus]]
            cols.append(np.clip(value, -1.0, 1.0) * axis.scale)
        for press in self.presses:
            cols.append(np.any(buttons[:, [_IDX[b] for b in press.buttons]], axis=1).astype(np.float64))
        return np.stack(cols, axis=1)

    def table(self) -> list[list[str]]:
        """Rows [pad input, game control, how] for the tab and the docs."""
        rows = []
        for a in self.axes:
            pad = f"{a.stick.replace('_', ' stick ')}" + (f" (+ {a.plus} / {a.minus})" if a.plus else "")
            rows.append([pad, a.control, f"{a.what}; dead zone {STICK_DEAD_ZONE}, full deflection = {a.scale:g}/tic"])
        rows += [[" or ".join(p.buttons), p.control, p.what] for p in self.presses]
        rows += [[name, "-", "ignored"] for name in self.ignored]
        return rows


DOOM_MAPPING = Mapping(
    game="vizdoom",
    axes=(
        # The model's +y is the stick pushed down (back): forward is -y.
        Axis("MOVE_FORWARD_BACKWARD_DELTA", "left_y", 25.0, sign=-1.0, plus="DPAD_UP", minus="DPAD_DOWN",
             what="walk forward (stick up, d-pad up) / back"),
        Axis("MOVE_LEFT_RIGHT_DELTA", "left_x", 25.0, plus="DPAD_RIGHT", minus="DPAD_LEFT",
             what="strafe right (+x) / left"),
        Axis("TURN_LEFT_RIGHT_DELTA", "right_x", 6.0, what="turn right (+x) / left, degrees"),
    ),
    presses=(
        Press("ATTACK", ("RIGHT_TRIGGER", "LEFT_TRIGGER"), "fire"),
        Press("USE", ("WEST",), "use: open doors, press switches"),
        Press("JUMP", ("SOUTH",), "jump"),
        Press("SPEED", ("LEFT_THUMB",), "run (click the left stick)"),
        Press("SELECT_NEXT_WEAPON", ("RIGHT_SHOULDER", "NORTH"), "next weapon"),
        Press("SELECT_PREV_WEAPON", ("LEFT_SHOULDER",), "previous weapon"),
    ),
    ignored=("right stick y (no looking up/down)", "EAST", "RIGHT_THUMB", "START, BACK, GUIDE (menus, as upstream)",
             "RIGHT_BOTTOM/LEFT/RIGHT/UP (untrained slots)"),
)
MAPPINGS = {"vizdoom": DOOM_MAPPING}


@dataclass(frozen=True)
class TicSchedule:
    """Which action of a chunk each game tic takes (zero-order hold of the 60 Hz actions)."""

    tic_rate: int
    control_hz: int = CONTROL_HZ

    @property
    def unit_hz(self) -> int:
        return math.lcm(self.tic_rate, self.control_hz)

    @property
    def units_per_tic(self) -> int:
        return self.unit_hz // self.tic_rate

    @property
    def units_per_action(self) -> int:
        return self.unit_hz // self.control_hz

    def chunk_tics(self, start_unit: int, horizon: int, first_tic: int) -> list[tuple[int, int]]:
        """(tic, action index) for the tics of a chunk that starts at `start_unit`, from `first_tic` on."""
        end = start_unit + horizon * self.units_per_action
        out, tic = [], first_tic
        while tic * self.units_per_tic < end:
            unit = tic * self.units_per_tic
            if unit >= start_unit:
                out.append((tic, (unit - start_unit) // self.units_per_action))
            tic += 1
        return out

    def start_unit(self, tic: int) -> int:
        """The unit of `tic`: where a chunk that arrives at that tic starts."""
        return tic * self.units_per_tic
