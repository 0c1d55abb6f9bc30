"""End to end: the Long video tab of `release-hub --tiny` through gradio_client and a browser.

The tiny server runs the `cpu` profile, whose plan offers the 192x320 draft
resolution; Distilled at its recommended settings covers the three modes here
(Mid and Base at 60/50 CFG steps take minutes per chunk on 2 CPU cores, so
their modes are covered in test_video_engine.py with fewer steps).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from gradio_client import handle_file

from shared.io.media import probe_video, write_video

ARGS = dict(image=None, video=None, variant="distilled", seed=5)


def call_error(client, **kwargs) -> str:
    with pytest.raises(Exception) as info:
        client.predict(**{**ARGS, **kwargs}, api_name="/video")
    return str(info.value)


def real_outputs(job) -> list:
    """The (path, info) items of a /video_stream job, without the per-step no-op updates."""
    return [o for o in job if isinstance(o, (list, tuple)) and isinstance(o[1], dict) and "__type__" not in o[1]]


def test_streaming_t2v_yields_partials_before_the_final_video(client, tiny_server_dirs):
    job = client.submit(prompt="a red cat in the snow", mode="t2v", num_frames=66, **ARGS, api_name="/video_stream")
    outputs = real_outputs(job)
    partials = [o for o in outputs if o[1].get("partial")]
    final_path, info = outputs[-1]
    assert partials and partials[0][1]["chunk"] == 1 and partials[0][1]["frames"] == 33
    assert probe_video(partials[0][0]).frames == 33
    assert info["frames"] == 65 and info["chunks_done"] == 2 and not info["cancelled"]
    assert info["seed"] == 5 and info["model"] == "helios-distilled" and info["profile"] == "cpu"
    assert info["resolution"] == "192x320" and probe_video(final_path).frames == 65
    sidecars = list((tiny_server_dirs["outputs"] / "video").glob("*.json"))
    assert any(json.loads(p.read_text())["info"]["seed"] == 5 for p in sidecars)  # sidecar schema v1
    assert not list((tiny_server_dirs["outputs"] / "video").glob("*.partials"))


def test_i2v_and_v2v_through_the_api(client, tmp_path):
    rng = np.random.default_rng(0)
    image = tmp_path / "first.png"
    from PIL import Image

    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(image)
    path, info = client.predict(prompt="a red cat", mode="i2v", num_frames=33, **{**ARGS, "image": handle_file(str(image))},
                                api_name="/video")
    assert info["mode"] == "i2v" and probe_video(path).frames == 33
    clip = write_video(tmp_path / "clip.mp4", [rng.integers(0, 255, (96, 160, 3), dtype=np.uint8)] * 40, 24)
    path, info = client.predict(prompt="a red cat", mode="v2v", num_frames=33,
                                **{**ARGS, "video": handle_file(str(clip))}, api_name="/video")
    assert info["mode"] == "v2v" and info["upload"]["frames"] == 40 and probe_video(path).frames == 33


def test_bad_inputs_get_clear_errors_and_the_server_keeps_serving(client, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    short = write_video(tmp_path / "short.mp4", [np.zeros((64, 64, 3), np.uint8)] * 10, 24)
    cases = [
        (dict(prompt="  ", mode="t2v", num_frames=33), "prompt is empty"),
        (dict(prompt="x", mode="t2v", num_frames=20), "num_frames is 20; it must be a multiple of 33"),
        (dict(prompt="x", mode="t2v", num_frames=1485), "from 33 to 231"),
        (dict(prompt="x", mode="i2v", num_frames=33), "needs an image"),
        (dict(prompt="x", mode="i2v", num_frames=33, image=handle_file(str(text))), "not an image"),
        (dict(prompt="x", mode="v2v", num_frames=33, video=handle_file(str(text))), "not a video"),
        (dict(prompt="x", mode="v2v", num_frames=33, video=handle_file(str(short))), "at least 33"),
        (dict(prompt="x", mode="zoom", num_frames=33), "mode is 'zoom'; choose one of: t2v, i2v, v2v"),
        (dict(prompt="x", mode="t2v", num_frames=33, variant="huge"), "variant is 'huge'; choose one of"),
    ]
    for kwargs, needle in cases:
        assert needle in call_error(client, **kwargs), kwargs
    assert client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/video"]


def test_browser_generates_then_stop_keeps_the_finished_chunks(browser_page, tiny_server):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Long video").click()
    page.locator("#video-info-accordion").get_by_text("Details").click()  # the info JSON sits folded away
    page.locator("#video-prompt textarea").fill("a red cat in the snow")
    page.locator("#video-run").click()
    page.locator("#video-output video").wait_for(state="attached", timeout=300_000)
    page.locator("#video-info").get_by_text("192x320").wait_for(timeout=300_000)
    assert "33 frames" in page.locator("#video-length").inner_text()
    # A 3-chunk run, stopped once the first partial video is shown: the finished chunk is kept.
    page.locator("#video-frames input[type=number]").fill("99")
    page.locator("#video-frames input[type=number]").press("Enter")
    page.locator("#video-run").click()
    page.locator("#video-info").get_by_text('"partial"').wait_for(timeout=300_000)
    page.locator("#video-stop").click()
    page.locator("#video-info").get_by_text('"cancelled"').wait_for(timeout=300_000)
    page.wait_for_function("document.querySelector('#video-info').innerText.includes('chunks_done')",
                           timeout=300_000)
    text = page.locator("#video-info").inner_text().replace("\n", "")
    assert '"cancelled":true' in text.replace(" ", "") and '"chunks_total":3' in text.replace(" ", "")
    # The queue is free again: a new run finishes.
    page.locator("#video-frames input[type=number]").fill("33")
    page.locator("#video-frames input[type=number]").press("Enter")
    page.locator("#video-run").click()
    page.wait_for_function("document.querySelector('#video-info').innerText.replace(/\\s/g,'')"
                           ".includes('\"chunks_total\":1')", timeout=300_000)



@pytest.mark.parametrize("variant", ["mid", "base"])
def test_mid_and_base_through_the_api_use_their_recommended_settings(client, variant):
    from demos.video.variants import VARIANTS

    defaults = VARIANTS[variant].defaults
    path, info = client.predict(prompt="a red cat", mode="t2v", num_frames=33, **{**ARGS, "variant": variant},
                                api_name="/video")
    assert info["variant"] == variant and info["model"] == f"helios-{variant}"
    assert info["settings"]["steps"] == list(defaults.steps)
    assert info["settings"]["guidance_scale"] == defaults.guidance_scale
    assert probe_video(path).frames == 33
