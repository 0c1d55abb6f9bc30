"""Play's declared gamepad -> ViZDoom mapping: dead zones, directions, buttons, 60 Hz -> 35 tics/s."""
from __future__ import annotations

import numpy as np
import pytest

from demos.agent.actions import BUTTONS
from demos.agent.play.mapping import DOOM_MAPPING, STICK_DEAD_ZONE, TicSchedule, dead_zone


def chunk(*, left=(0.0, 0.0), right=(0.0, 0.0), pressed=(), horizon=18) -> dict:
    buttons = np.zeros((horizon, len(BUTTONS)), int)
    for name in pressed:
        buttons[:, BUTTONS.index(name)] = 1
    return {"buttons": buttons.tolist(), "j_left": [list(left)] * horizon, "j_right": [list(right)] * horizon}


def column(values: np.ndarray, control: str) -> np.ndarray:
    return values[:, DOOM_MAPPING.controls.index(control)]


def test_dead_zone_centres_small_values_and_rescales_the_rest():
    out = dead_zone(np.array([0.0, 0.1, -STICK_DEAD_ZONE, 0.575, -0.575, 1.0, -1.0, 1.7]))
    np.testing.assert_allclose(out, [0, 0, 0, 0.5, -0.5, 1, -1, 1], atol=1e-9)


@pytest.mark.parametrize(("stick", "control", "value", "expected"), [
    ("right", "TURN_LEFT_RIGHT_DELTA", (1.0, 0.0), 6.0),  # right stick right: turn right
    ("right", "TURN_LEFT_RIGHT_DELTA", (-1.0, 0.0), -6.0),
    ("right", "TURN_LEFT_RIGHT_DELTA", (0.1, 0.0), 0.0),  # inside the dead zone
    ("left", "MOVE_FORWARD_BACKWARD_DELTA", (0.0, -1.0), 25.0),  # the model's -y is stick up: forward
    ("left", "MOVE_FORWARD_BACKWARD_DELTA", (0.0, 1.0), -25.0),
    ("left", "MOVE_LEFT_RIGHT_DELTA", (1.0, 0.0), 25.0),
])
def test_sticks_drive_their_axis(stick, control, value, expected):
    values = DOOM_MAPPING.to_game(chunk(**{stick: value}))
    assert values.shape == (18, len(DOOM_MAPPING.controls))
    np.testing.assert_allclose(column(values, control), expected)
    others = [c for c in DOOM_MAPPING.controls if c != control]
    assert all(np.all(column(values, c) == 0) for c in others)


@pytest.mark.parametrize(("pressed", "control"), [
    (("RIGHT_TRIGGER",), "ATTACK"), (("LEFT_TRIGGER",), "ATTACK"), (("WEST",), "USE"), (("SOUTH",), "JUMP"),
    (("NORTH",), "SELECT_NEXT_WEAPON"), (("LEFT_SHOULDER",), "SELECT_PREV_WEAPON"), (("LEFT_THUMB",), "SPEED"),
])
def test_buttons_press_their_control(pressed, control):
    values = DOOM_MAPPING.to_game(chunk(pressed=pressed))
    assert np.all(column(values, control) == 1)
    assert values.sum() == 18  # nothing else


def test_menu_and_untrained_buttons_drive_nothing():
    values = DOOM_MAPPING.to_game(chunk(pressed=("START", "BACK", "GUIDE", "RIGHT_UP", "RIGHT_LEFT", "EAST"),
                                        right=(0.0, 1.0)))
    assert not values.any()


def test_dpad_moves_at_full_scale_and_clips_with_the_stick():
    values = DOOM_MAPPING.to_game(chunk(pressed=("DPAD_UP", "DPAD_LEFT"), left=(0.0, -1.0)))
    np.testing.assert_allclose(column(values, "MOVE_FORWARD_BACKWARD_DELTA"), 25.0)  # 1 + 1 clipped to 1
    np.testing.assert_allclose(column(values, "MOVE_LEFT_RIGHT_DELTA"), -25.0)


def test_table_lists_every_control_and_the_ignored_inputs():
    rows = DOOM_MAPPING.table()
    assert {r[1] for r in rows} == set(DOOM_MAPPING.controls) | {"-"}
    assert any("START" in r[0] and r[2] == "ignored" for r in rows)


def test_sixty_hz_actions_resample_onto_35_tics():
    sched = TicSchedule(35)
    first = sched.chunk_tics(0, 18, 0)
    second = sched.chunk_tics(126, 18, first[-1][0] + 1)
    # 18 actions = 0.3 s = 10.5 tics: chunks alternate 11 and 10 tics
    assert [len(first), len(second)] == [11, 10]
    # Each tic takes the action in effect at its start: index floor(t * 60 / 35) over the chunks.
    for tic, step in first + second:
        assert step + 18 * (tic >= 11) == (tic * 60) // 35
    assert [s for _, s in first] == [0, 1, 3, 5, 6, 8, 10, 12, 13, 15, 17]
    # Over 10 chunks (3 s) the game gets exactly 105 tics, and no tic is given twice.
    tics, start = [], 0
    for k in range(10):
        got = sched.chunk_tics(126 * k, 18, tics[-1] + 1 if tics else 0)
        tics += [t for t, _ in got]
    assert tics == list(range(105))


def test_a_late_chunk_starts_at_the_tic_it_arrives():
    sched = TicSchedule(35)
    got = sched.chunk_tics(sched.start_unit(20), 18, 20)
    assert got[0] == (20, 0) and len(got) in (10, 11)
