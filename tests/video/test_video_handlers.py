"""The Long video tab's handlers as plain functions, without building Gradio or loading Helios:
checks, settings from the Advanced options, info and its Reuse inputs, keeping a (stopped) run."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from demos.video import handlers as video
from demos.video.variants import VARIANTS
from shared.models import hardware, hub
from shared.errors import UserInputError
from shared.web.settings import Settings
from shared.web.ui import AppContext, Timer


@pytest.fixture
def ctx(tmp_path) -> AppContext:
    from demos.video.specs import SPECS

    for spec in SPECS:
        hub.register(spec)
    settings = Settings(tiny=True, cache_dir=tmp_path / "cache", outputs_dir=tmp_path / "outputs")
    return AppContext(settings=settings, hw=hardware.detect(), profile="cpu")


def prepare(ctx, **overrides):
    values = dict(prompt="a red fox in the snow", mode="t2v", image=None, video=None, num_frames=33,
                  variant="distilled", seed=5, options={"resolution": "192x320"})
    values.update(overrides)
    return video.prepare(ctx, video.VideoLimits.of(ctx), **values)


def test_prepare_names_what_is_wrong(ctx):
    with pytest.raises(UserInputError, match="image: image-to-video needs an image"):
        prepare(ctx, mode="i2v")
    with pytest.raises(UserInputError, match="video: video-to-video needs a clip"):
        prepare(ctx, mode="v2v")
    with pytest.raises(UserInputError, match="variant"):
        prepare(ctx, variant="huge")
    with pytest.raises(UserInputError, match="resolution"):
        prepare(ctx, options={"resolution": "4096x4096"})


def test_zerogpu_serves_only_preloaded_variants():
    space = SimpleNamespace(profile="zerogpu", cache=SimpleNamespace(is_resident=lambda key: key == "helios-distilled"))
    video.check_served(space, VARIANTS["distilled"])
    with pytest.raises(UserInputError, match=r"variant 'mid' is not preloaded.*serves: distilled.*RELEASE_HUB_ZEROGPU"):
        video.check_served(space, VARIANTS["mid"])


def test_advanced_options_apply_per_variant_and_repairs_are_noted(ctx):
    options = {"resolution": "192x320", "steps": 3.4, "guidance_scale": 9.0, "use_zero_init": False}
    v, req, upload, notes = prepare(ctx, options=options)
    assert (v.name, req.settings.steps, req.settings.guidance_scale) == ("distilled", (3, 3, 3), 1.0)  # no CFG
    assert "steps" in notes and upload == {} and req.resolution.label == "192x320"
    _, mid, _, _ = prepare(ctx, variant="mid", options=options)
    assert (mid.settings.guidance_scale, mid.settings.use_zero_init) == (9.0, False)


def test_info_carries_every_reuse_input(ctx):
    from demos.video.engine import VideoResult

    v, req, upload, _ = prepare(ctx, num_frames=66, seed=8)
    result = VideoResult(path=None, frames=61, chunks_done=2, chunks_total=2, cancelled=False)
    info = video.video_info({"seed": req.seed}, v, req, result, upload, Timer(), video.VideoLimits.of(ctx).plan)
    assert info["seconds_of_video"] == pytest.approx(61 / 24, abs=1e-3) and info["requested_frames"] == 66
    inputs = video.reuse_inputs(info)
    assert set(inputs) == {"prompt", "mode", "image", "video", "num_frames", "variant", "seed", "resolution", "steps",
                           "guidance_scale", "amplify_first_chunk", "use_zero_init"}
    assert (inputs["num_frames"], inputs["seed"], inputs["resolution"], inputs["steps"]) == (66, 8, "192x320", 2)
    assert "Done in" in video.summary_of(info)


def test_a_stopped_run_is_kept_only_with_a_file(ctx):
    from demos.video.engine import ChunkUpdate

    handlers = video.VideoHandlers(ctx)
    v, req, upload, _ = prepare(ctx, num_frames=99)
    out = ctx.outputs_dir / "video" / "run.mp4"
    result, info = handlers._keep_stopped_run(v, req, out, None, upload, Timer(), {}, {})
    assert result.path is None and info["cancelled"] is True and info["chunks_done"] == 0
    assert not out.with_suffix(".json").exists()  # nothing finished: no sidecar, nothing in History
    out.parent.mkdir(parents=True)
    out.write_bytes(b"mp4")
    last = ChunkUpdate(chunk=2, chunks=3, frames=61, partial=None)
    result, info = handlers._keep_stopped_run(v, req, out, last, upload, Timer(), {"num_frames": "rounded"}, {})
    assert (result.path, info["chunks_done"], info["chunks_total"], info["frames"]) == (out, 2, 3, 61)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["inputs"]["num_frames"] == 99 and sidecar["info"]["adjusted"] == {"num_frames": "rounded"}
    assert "Kept 2 of 3 chunks" in video.summary_of(info)


def test_summary_says_the_announced_frame_count_and_where_the_video_is():
    from demos.video.limits import describe_length, frames_made

    done = {"frames": frames_made(99), "fps": 24, "resolution": "192x320", "seed": 3, "elapsed_s": 12.0}
    assert f"**{frames_made(99)} frames**" in describe_length(99)
    assert video.summary_of(done) == ("**Done in 12.0 s:** 97 frames (4.0 s of video at 24 frames a second, "
                                      "192x320), seed 3.")
    # The video sits above the line under it, at every width: the words say so.
    stopped = {**done, "frames": 33, "cancelled": True, "chunks_done": 1, "chunks_total": 3}
    assert "Kept 1 of 3 chunks: 33 frames" in video.summary_of(stopped)
    assert "above" in video.summary_of(stopped) and "below" not in video.summary_of(stopped)
    partial = {"partial": True, "chunk": 1, "chunks": 3, "frames": 33, "seconds_of_video": 1.375}
    assert "playing above" in video.summary_of(partial)
    assert "1 chunk)" not in video.summary_of({**stopped, "chunks_total": 1}) and \
        "Kept 1 of 1 chunk:" in video.summary_of({**stopped, "chunks_total": 1})


def test_reuse_settings_keep_the_variants_advanced_values():
    steps, guidance, amplify, zero_init, pending = video.advanced_for("mid", {"variant": "mid", "steps": 7})
    assert steps["value"] == 7 and steps["maximum"] == 50 and guidance["interactive"] is True
    assert zero_init["visible"] is True and amplify["visible"] is False and pending is None
    steps, *_ = video.advanced_for("base", {"variant": "mid", "steps": 7})  # another variant's values: defaults
    assert steps["value"] == 50 and steps["label"] == "Denoising steps"
    gallery, _ = video.add_to_gallery("/x.mp4", {"variant": "mid", "mode": "t2v", "frames": 33, "seed": 2,
                                                 "cancelled": True}, [])
    assert gallery == [("/x.mp4", "Helios-Mid · Text to video · 33 frames · seed 2 · stopped")]
