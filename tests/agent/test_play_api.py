"""Play through gradio_client on the session's `release-hub --tiny` server: the streaming /agent_play
(frames and stats per chunk, then the final record), /agent_play_episode, History, bad input, one
episode per visitor, and a client's job.cancel() freeing the queue."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

ARGS = dict(game="vizdoom", scenario="defend_the_center", seed=0, mode="lockstep")


def new_client(url: str) -> Client:
    return Client(url, verbose=False, httpx_kwargs={"timeout": httpx.Timeout(300)})


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_agent_play_streams_frames_and_chunks_then_the_final_record(client, tiny_server_dirs):
    job = client.submit(**ARGS, max_seconds=3, api_name="/agent_play")
    frames, chunks = set(), {}
    for frame, status, record, video, actions in job:
        assert isinstance(status, str) and (frame is None or isinstance(frame, str))  # plain values, no markers
        if frame:
            frames.add(frame)
        if isinstance(record, dict) and "chunk" in record:
            chunks[record["chunk"]] = record
    frame, status, record, video, actions = job.result()
    assert len(frames) >= 20  # 105 tics, a live frame every 3rd
    assert sorted(chunks) == list(range(10))  # 3 s = 10 chunks of 0.3 s
    first = chunks[0]
    assert len(first["actions"]["buttons"]) == 18 and len(first["actions"]["j_left"]) == 18
    assert {"score", "health", "kills", "game_time_s", "slowdown", "model_s_last"} <= set(first["stats"])
    assert chunks[9]["stats"]["game_time_s"] == pytest.approx(3.0)
    # The final record: the agent's and the baseline's episodes on the same scenario and seed.
    assert record["episode"] == {**ARGS, "max_seconds": 3.0}
    assert record["agent"]["end_reason"] == "time limit" and record["agent"]["tics"] == 105
    assert record["baseline"]["agent"] == "random" and record["baseline"]["tics"] == 105
    assert "Episode over" in status and "baseline" in status
    saved = json.loads(Path(actions).read_text())
    assert len(saved["rewards_per_tic"]) == 105 and len(saved["chunks"]) == 10
    assert Path(video).stat().st_size > 1000
    # Kept in History: a sidecar beside the episode's mp4, with the inputs Reuse fills back.
    sidecars = [json.loads(p.read_text()) for p in (tiny_server_dirs["outputs"] / "agent").glob("*.json")
                if not p.name.endswith(".actions.json")]
    mine = [s for s in sidecars if s["demo"] == "agent_play" and s["info"]["agent"]["tics"] == 105]
    assert mine and mine[-1]["inputs"] == {**ARGS, "max_seconds": 3}
    assert set(mine[-1]["files"]) == {"main", "actions"}


def test_agent_play_episode_returns_the_finished_episode_reproducibly(client):
    runs = [client.predict(**{**ARGS, "scenario": "basic", "seed": 3}, max_seconds=2,
                           api_name="/agent_play_episode") for _ in range(2)]
    (record, video, actions), (again, _, _) = runs
    assert record["agent"]["paced"] is False and record["agent"]["tics"] == 70
    assert record["agent"]["stats"]["angle"] == again["agent"]["stats"]["angle"]
    assert record["agent"]["score"] == again["agent"]["score"]
    assert record["baseline"]["score"] == again["baseline"]["score"]
    assert Path(video).exists() and Path(actions).exists()


@pytest.mark.parametrize(("change", "names"), [
    ({"game": "doom"}, ("game", "doom", "vizdoom")),
    ({"scenario": "../../etc/passwd"}, ("scenario", "defend_the_center")),
    ({"mode": "turbo"}, ("mode", "lockstep", "realtime")),
    ({"max_seconds": 0}, ("max_seconds", "1", "60")),
    ({"max_seconds": 61}, ("max_seconds", "60")),
    ({"seed": "abc"}, ("seed",)),
])
def test_bad_play_input_gets_our_message(client, change, names):
    with pytest.raises(Exception) as info:
        client.predict(**{**ARGS, "max_seconds": 1, **change}, api_name="/agent_play_episode")
    message = str(info.value)
    assert all(name in message for name in names), message
    assert "Traceback" not in message


def test_a_second_episode_from_the_same_visitor_is_refused(tiny_server):
    visitor = new_client(tiny_server)
    first = visitor.submit(**ARGS, max_seconds=30, api_name="/agent_play")
    wait_until(lambda: len(first.outputs()) > 3, 120, "the first episode's frames")
    with pytest.raises(Exception) as info:
        visitor.predict(**ARGS, max_seconds=1, api_name="/agent_play_episode")
    assert "already playing" in str(info.value)
    first.cancel()


def test_job_cancel_ends_the_episode_and_frees_the_queue(tiny_server):
    leaver = new_client(tiny_server)
    job = leaver.submit(**ARGS, max_seconds=60, api_name="/agent_play")
    wait_until(lambda: len(job.outputs()) > 3, 120, "the episode's first frames")
    started = time.monotonic()
    job.cancel()
    # The next visitor's episode runs at once: the cancelled one let go of the GPU turn within a chunk or so.
    record, video, _ = new_client(tiny_server).predict(**ARGS, max_seconds=1, api_name="/agent_play_episode")
    assert record["agent"]["tics"] == 35 and Path(video).exists()
    assert time.monotonic() - started < 60  # far less than the 60 s episode it replaced
