"""The Game agent tab's Frame and Video handlers as plain functions, without building Gradio or loading
NitroGen: a stand-in engine runs inside the real GPU task (batches, one noise draw, Stop), and the
handlers decode, draw, and keep results with their sidecars as the endpoints do."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from demos.agent import handlers as agent
from demos.assets import asset
from shared.models import hardware, hub
from shared.errors import UserInputError
from shared.io.outputs import read_sidecar, sidecar_path
from shared.web.settings import Settings
from shared.web.ui import AppContext


def chunk(seed: int) -> dict:
    """A decoded 18-step chunk as the engine returns it (values from `seed`)."""
    import torch

    from demos.agent.actions import chunk_to_dict

    return chunk_to_dict(torch.rand(18, 25, generator=torch.Generator().manual_seed(seed)))


class StandInEngine:
    """NitroGen's engine surface (batch_size, image_size, noise, run, describe) without a model.
    `stop_after` batches, it reports a Stop the way the engine does (cancelled, with what it finished)."""

    batch_size = 2
    image_size = 32

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after
        self.calls: list[tuple[int, list]] = []  # (frames in the batch, its slice of the noise)

    def noise(self, n: int, seed: int) -> list:
        return [(seed, i) for i in range(n)]

    def run(self, frames, seed, *, noise, cancel, progress):
        self.calls.append((len(frames), list(noise)))
        progress(1.0, "denoising")
        stopped = self.stop_after is not None and len(self.calls) >= self.stop_after
        return SimpleNamespace(chunks=[chunk(len(self.calls) * 10 + i) for i in range(len(frames))],
                               seconds={"model": 0.25}, cancelled=stopped)

    def describe(self) -> dict:
        return {"stand_in": True}


@pytest.fixture
def ctx(tmp_path, monkeypatch) -> AppContext:
    from demos.agent.specs import SPECS

    for spec in SPECS:
        hub.register(spec)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))  # where uploaded_file accepts files
    settings = Settings(tiny=True, cache_dir=tmp_path / "cache", outputs_dir=tmp_path / "outputs")
    return AppContext(settings=settings, hw=hardware.detect(), profile="cpu")


def uploaded(tmp_path: Path, name: str) -> str:
    folder = tmp_path / "uploads" / "abc"
    folder.mkdir(parents=True, exist_ok=True)
    return str(shutil.copy(asset(name), folder / name))


def use_engine(monkeypatch, engine: StandInEngine) -> None:
    monkeypatch.setattr(agent, "engine_for", lambda ctx, progress: engine)


def test_the_frame_cap_widens_the_stride_and_says_so():
    assert agent.capped_stride(72, 6, 48) == 6  # 12 samples fit under the cap: the stride asked for
    assert agent.capped_stride(72, 6, 5) == 15  # 12 > 5: the smallest stride giving at most 5, over the whole clip
    assert agent.cap_note(72, 6, 6, 48) is None
    note = agent.cap_note(72, 6, 15, 5)
    assert "One every 6 of the 72 frames would be 12 samples, over the frame cap of 5" in note
    assert "one every 15 frames was used instead" in note


def test_the_task_runs_batches_on_one_noise_draw_and_stops_within_a_batch(ctx, monkeypatch):
    engine = StandInEngine(stop_after=2)
    use_engine(monkeypatch, engine)
    seen = []
    chunks, summary = agent.run_agent(agent.make_agent_task(ctx), ["f"] * 5, 7,
                                      progress=lambda f, d="": seen.append(f))
    # Batches of 2 sliced from one draw of 5; Stop after the second batch keeps its 4 frames.
    assert engine.calls == [(2, [(7, 0), (7, 1)]), (2, [(7, 2), (7, 3)])]
    assert len(chunks) == 4 and chunks[2] == chunk(20)
    assert summary == {"seconds": {"model": 0.5}, "engine": {"stand_in": True}}
    assert seen and all(0.0 <= f <= 1.0 for f in seen)


def test_a_frame_is_kept_with_its_sidecar_and_a_missing_one_is_named(ctx, tmp_path, monkeypatch):
    use_engine(monkeypatch, StandInEngine())
    handlers = agent.AgentHandlers(ctx)
    with pytest.raises(UserInputError, match="frame: no image was given"):
        handlers.frame_actions(None, {}, lambda f, d="": None)
    actions = handlers.frame_actions(uploaded(tmp_path, "agent_screenshot.png"), {"seed": 3}, lambda f, d="": None)
    assert len(actions["steps"]) == 18 and actions["info"]["seed"] == 3
    assert {"decode", "total", "model"} <= set(actions["info"]["timings_s"])
    kept = next((tmp_path / "outputs").rglob("*actions.json"))
    assert json.loads(kept.read_text())["steps"] == actions["steps"]
    sidecar = read_sidecar(sidecar_path(kept))
    assert sidecar["demo"] == "agent_frame" and sidecar["inputs"] == {"frame": None, "seed": 3}
    assert "frame" in sidecar["saved_inputs"]


def test_a_stopped_video_run_keeps_the_frames_it_finished(ctx, tmp_path, monkeypatch):
    use_engine(monkeypatch, StandInEngine(stop_after=2))
    handlers = agent.AgentHandlers(ctx)
    request = SimpleNamespace(session_hash="s1")
    mp4, png, actions_path = handlers.video_actions(uploaded(tmp_path, "agent_clip.mp4"), 6, {"seed": 2, "max_frames": 5},
                                                    request, lambda f, d="": None)
    payload = json.loads(Path(actions_path).read_text())
    info = payload["info"]
    # 72 frames at 30 fps, one every 15 (the cap of 5): 5 sampled, Stop after 2 batches of 2 kept 4.
    assert (info["stride"], info["stride_used"], info["sampled_frames"], info["cancelled"]) == (6, 15, 4, True)
    assert [c["frame_index"] for c in payload["chunks"]] == [0, 15, 30, 45]
    assert [c["time_s"] for c in payload["chunks"]] == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=1e-6)
    assert Path(mp4).stat().st_size > 0 and Path(png).stat().st_size > 0
    sidecar = read_sidecar(sidecar_path(mp4))
    assert sidecar["demo"] == "agent_video"
    assert sidecar["inputs"] == {"video": None, "stride": 15, "max_frames": 5, "seed": 2}
    summary = handlers.summary_after_run(request)
    assert summary.startswith("**Stopped after") and "4 frames of the 72-frame clip (one every 15 frames)" in summary
    assert "over the frame cap of 5" in summary
    assert isinstance(handlers.summary_after_run(request), type(gr.skip()))  # shown once


def test_a_video_run_checks_its_inputs_before_any_work(ctx, tmp_path, monkeypatch):
    engine = StandInEngine()
    use_engine(monkeypatch, engine)
    handlers = agent.AgentHandlers(ctx)
    clip = uploaded(tmp_path, "agent_clip.mp4")
    noop = lambda f, d="": None  # noqa: E731
    with pytest.raises(UserInputError, match="video: no clip was given"):
        handlers.video_actions(None, 6, {}, None, noop)
    with pytest.raises(UserInputError, match="stride"):
        handlers.video_actions(clip, 0, {}, None, noop)
    with pytest.raises(UserInputError, match="max_frames"):
        handlers.video_actions(clip, 6, {"max_frames": 49}, None, noop)  # the CPU plan allows 48
    assert engine.calls == []


def test_frame_views_and_table_follow_the_chosen_step():
    assert agent.frame_views(None, 1) == (None, None)
    actions = chunk(1)
    panel, rows = agent.frame_views(actions, 3)
    assert panel is not None and len(rows) == 18 and len(rows[0]) == len(agent.TABLE_HEADERS)
    first = actions["steps"][0]
    assert rows[0][:6] == [1, 0.0, *first["j_left"], *first["j_right"]]


def test_summaries_wait_per_session_and_stay_bounded(ctx):
    handlers = agent.AgentHandlers(ctx)
    info = {"sampled_frames": 1, "video": {"frames": 9}, "stride_used": 3, "elapsed_s": 1.25}
    for i in range(agent.MAX_SUMMARIES + 10):
        handlers.remember_summary(SimpleNamespace(session_hash=f"s{i}"), info)
    handlers.remember_summary(None, info)  # an API call without a session keeps nothing
    assert len(handlers.last_summary) == agent.MAX_SUMMARIES and "s0" not in handlers.last_summary
    assert handlers.summary_after_run(SimpleNamespace(session_hash="s265")) == (
        "**Done in 1.2 s:** ran the agent on 1 frame of the 9-frame clip (one every 3 frames).")


def test_reuse_fills_open_the_sub_tab_and_feed_the_options():
    frame = agent.frame_reuse_fill({"frame": "a.png", "seed": 4}, {})
    assert frame["opts"] == {"seed": 4} and frame["tabs"].selected == "agent-frame-tab" and frame["frame"] == "a.png"
    video = agent.video_reuse_fill({"video": None, "stride": 6, "max_frames": 12, "seed": 5}, {})
    assert video["opts"] == {"seed": 5, "max_frames": 12} and video["tabs"].selected == "agent-video-tab"
