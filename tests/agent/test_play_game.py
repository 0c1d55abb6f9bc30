"""Play on the real ViZDoom: the mapped actions drive the game, seeds make it reproducible, and the
closed loop (random baseline and NitroGen on the tiny checkpoint) plays, records and stops."""
from __future__ import annotations

import json
import threading
import time

import av
import numpy as np
import pytest

from demos.agent.play import session
from demos.agent.play.agents import NitroGenAgent, RandomAgent
from demos.agent.play.doom import content_root, open_game
from demos.agent.play.loop import PlayChunk, PlayFrame
from demos.agent.play.mapping import DOOM_MAPPING
from demos.agent.play.session import EpisodeSpec, run_baseline, run_episode
from shared.tasks.cancel import CancelToken

from test_play_mapping import chunk  # tests/agent is on sys.path (pytest rootdir import)

CONTROLS = DOOM_MAPPING.controls


def play_chunks(game, chunks) -> list[np.ndarray]:
    """Play whole chunks through the mapping, one tic per 35 Hz step; the frame after each tic."""
    frames, start = [], 0
    from demos.agent.play.mapping import TicSchedule

    sched, tic = TicSchedule(35), 0
    for c in chunks:
        values = DOOM_MAPPING.to_game(c)
        for tic, step in sched.chunk_tics(start, 18, tic):
            game.step(values[step])
            frames.append(game.frame().copy())
        tic, start = tic + 1, start + 126
    return frames


def angle_after(stick_x: float, chunks: int = 2) -> float:
    game = open_game("vizdoom", "defend_the_center", 1, CONTROLS)
    try:
        before = game.stats()["angle"]
        play_chunks(game, [chunk(right=(stick_x, 0.0))] * chunks)
        return (game.stats()["angle"] - before + 180) % 360 - 180  # signed change, degrees
    finally:
        game.close()


def test_right_stick_turns_the_view_right_then_left():
    # Doom's angle grows counter-clockwise: turning right lowers it. 2 chunks = 21 tics at 6 deg/tic.
    right, left, centred = angle_after(1.0), angle_after(-1.0), angle_after(0.1)
    assert right == pytest.approx(-21 * 6, abs=2)
    assert left == pytest.approx(21 * 6, abs=2)
    assert centred == pytest.approx(0, abs=1e-6)  # inside the dead zone


def test_left_stick_up_walks_forward():
    game = open_game("vizdoom", "defend_the_center", 1, CONTROLS)
    try:
        x0 = game._vars["POSITION_X"]
        play_chunks(game, [chunk(left=(0.0, -1.0))] * 2)  # the model's -y: stick pushed up
        assert game._vars["POSITION_X"] > x0 + 10  # facing east (angle 0): forward is +x
    finally:
        game.close()


def test_same_seed_and_actions_give_identical_frames_and_other_seeds_differ():
    actions = [chunk(right=(0.5, 0.0), pressed=("RIGHT_TRIGGER",))] * 8

    def frames(seed):
        game = open_game("vizdoom", "defend_the_center", seed, CONTROLS)
        try:
            return play_chunks(game, actions)
        finally:
            game.close()

    a, b, c = frames(7), frames(7), frames(8)
    assert len(a) == len(b) == 84
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert sum(not np.array_equal(x, y) for x, y in zip(a, c)) > 40


def test_game_content_comes_from_the_wheel():
    root = content_root()
    assert (root / "freedoom2.wad").is_file() and (root / "scenarios" / "defend_the_center.cfg").is_file()
    game = open_game("vizdoom", "basic", 0, CONTROLS)
    try:
        assert game.game.get_doom_game_path() == str(root / "freedoom2.wad")
    finally:
        game.close()
    with pytest.raises(ValueError):
        open_game("../../etc", "basic", 0, CONTROLS)


def test_baseline_plays_the_agents_scenario_and_seed(monkeypatch):
    opened = []
    real_open = session.open_game
    monkeypatch.setattr(session, "open_game", lambda *a: opened.append(a[:3]) or real_open(*a))
    spec = EpisodeSpec("vizdoom", "basic", 5, "lockstep", 2)
    agent = run_episode(spec, RandomAgent(99), emit=lambda e: None, cancel=CancelToken(), pace=False)
    base = run_baseline(spec, agent)
    assert opened == [("vizdoom", "basic", 5), ("vizdoom", "basic", 5)]
    assert base["agent"] == "random" and base["max_seconds"] == 2 and base["tics"] == agent["tics"] == 70
    # Stopped after 1 s: the baseline plays that long too, so the scores compare.
    stopped = {**agent, "end_reason": "stopped", "tics": 35}
    assert session.baseline_spec(spec, stopped).max_seconds == pytest.approx(1.0)


def test_random_baseline_is_reproducible():
    spec = EpisodeSpec("vizdoom", "defend_the_center", 3, "lockstep", 3)
    runs = [run_episode(spec, RandomAgent(3), emit=lambda e: None, cancel=CancelToken(), pace=False)
            for _ in range(2)]
    assert runs[0]["stats"]["angle"] == runs[1]["stats"]["angle"] and runs[0]["tics"] == 105


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory):
    from demos.agent.checkpoint import write_tiny
    from demos.agent.engine import load

    d = tmp_path_factory.mktemp("tiny-ng")
    write_tiny(d)
    return load(d)


def test_nitrogen_plays_on_the_tiny_checkpoint_and_records(tiny_engine, tmp_path):
    events = []
    spec = EpisodeSpec("vizdoom", "defend_the_center", 0, "lockstep", 2)
    record = run_episode(spec, NitroGenAgent(tiny_engine, 0), emit=events.append, cancel=CancelToken(),
                         mp4=tmp_path / "ep.mp4", actions=tmp_path / "ep.json", pace=False)
    assert record["end_reason"] == "time limit" and record["tics"] == 70 and record["chunks"] == 7
    chunks = [e for e in events if isinstance(e, PlayChunk)]
    frames = [e for e in events if isinstance(e, PlayFrame)]
    assert [c.index for c in chunks] == list(range(7))
    assert len(frames) == 70 // 3 and frames[-1].image.ndim == 3
    assert record["model_s"]["mean"] > 0
    with av.open(record["files"]["video"]) as container:
        assert sum(1 for _ in container.decode(video=0)) == 35  # 70 tics, every 2nd one recorded
    saved = json.loads((tmp_path / "ep.json").read_text())
    assert len(saved["rewards_per_tic"]) == 70 and len(saved["chunks"]) == 7
    assert np.array(saved["chunks"][0]["actions"]["buttons"]).shape == (18, 21)
    # The agent's actions are the engine's own for that frame and chunk seed (the /agent_frame path).
    first = open_game("vizdoom", "defend_the_center", 0, CONTROLS)
    try:
        direct = tiny_engine.run([first.frame()], 0).chunks[0]
    finally:
        first.close()
    assert saved["chunks"][0]["actions"]["buttons"] == direct["buttons"]


def test_nitrogen_same_seed_same_episode(tiny_engine):
    spec = EpisodeSpec("vizdoom", "defend_the_center", 4, "lockstep", 1)
    runs = [run_episode(spec, NitroGenAgent(tiny_engine, 4), emit=lambda e: None, cancel=CancelToken(), pace=False)
            for _ in range(2)]
    assert runs[0]["stats"] == {**runs[1]["stats"], "wall_s": runs[0]["stats"]["wall_s"],
                                "slowdown": runs[0]["stats"]["slowdown"], "model_s_last": runs[0]["stats"]["model_s_last"]}


class SlowAgent(RandomAgent):
    """A model slower than real time: 0.5 s for 0.3 s of play."""

    def act(self, frame, index, cancel=None):
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            if cancel is not None:
                cancel.raise_if_cancelled()
            time.sleep(0.01)
        return super().act(frame, index, cancel)


def test_realtime_runs_on_and_counts_late_chunks():
    spec = EpisodeSpec("vizdoom", "defend_the_center", 0, "realtime", 2)
    record = run_episode(spec, SlowAgent(0), emit=lambda e: None, cancel=CancelToken())
    assert record["end_reason"] == "time limit" and record["tics"] == 70
    assert record["late_chunks"] >= 2 and record["stats"]["idle_s"] > 0.2
    assert record["stats"]["slowdown"] == pytest.approx(1.0, abs=0.35)  # the game kept the wall clock's pace


def test_lockstep_on_a_slow_model_plays_slower_than_real_time():
    spec = EpisodeSpec("vizdoom", "defend_the_center", 0, "lockstep", 1.2)
    record = run_episode(spec, SlowAgent(0), emit=lambda e: None, cancel=CancelToken())
    assert record["late_chunks"] == 0 and record["stats"]["slowdown"] > 1.3


@pytest.mark.parametrize("mode", ["lockstep", "realtime"])
def test_stop_ends_within_one_chunk_and_keeps_what_was_played(mode, tmp_path):
    cancel, events = CancelToken(), []

    def emit(event):
        events.append(event)
        if isinstance(event, PlayChunk) and event.index == 2:
            threading.Timer(0.05, cancel.cancel).start()

    spec = EpisodeSpec("vizdoom", "defend_the_center", 0, mode, 30)
    record = run_episode(spec, SlowAgent(0), emit=emit, cancel=cancel, mp4=tmp_path / "s.mp4",
                         actions=tmp_path / "s.json")
    assert record["end_reason"] == "stopped"
    assert 3 <= record["chunks"] <= 4 and record["tics"] < 60
    assert record["files"]["video"] and json.loads((tmp_path / "s.json").read_text())["chunks"]
