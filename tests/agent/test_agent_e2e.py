"""Game agent end to end: /agent_frame and /agent_video through gradio_client on the
session's `release-hub --tiny` server, bad inputs, and one browser run per mode."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image

from demos.agent.actions import BUTTONS, UNTRAINED_BUTTONS
from demos.agent.plans import CPU_CAPS


def _png(path: Path, h: int = 72, w: int = 128, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _mp4(path: Path, frames: int, w: int = 96, h: int = 64, fps: int = 24) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            img = np.zeros((h, w, 3), np.uint8)
            img[:, : (i * 7) % w] = (40 + 5 * i) % 256
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("agent-media")
    return {
        "png": _png(d / "shot.png"),
        "mp4": _mp4(d / "clip.mp4", 20),
        "long_mp4": _mp4(d / "long.mp4", CPU_CAPS["max_video_frames"] + 5),
        "dir": d,
    }


def test_agent_frame_endpoint(client, media):
    actions = client.predict(frame=handle_file(str(media["png"])), api_name="/agent_frame")
    assert actions["horizon"] == 18 and actions["control_hz"] == 60
    assert actions["button_names"] == list(BUTTONS)
    assert actions["untrained_buttons"] == list(UNTRAINED_BUTTONS)
    assert np.array(actions["buttons"]).shape == (18, 21)
    for stick in ("j_left", "j_right"):
        values = np.array(actions[stick])
        assert values.shape == (18, 2) and np.abs(values).max() <= 1
    assert len(actions["steps"]) == 18
    info = actions["info"]
    assert info["seed"] == 0 and info["model"] == "nitrogen" and info["profile"] == "cpu"
    assert info["source"]["kind"] == "tiny" and "total" in info["timings_s"]
    again = client.predict(frame=handle_file(str(media["png"])), api_name="/agent_frame")
    assert again["buttons"] == actions["buttons"] and again["j_left"] == actions["j_left"]


def test_agent_video_endpoint(client, media):
    video, plot, actions_file = client.predict(video=handle_file(str(media["mp4"])), stride=4,
                                               api_name="/agent_video")
    payload = json.loads(Path(actions_file).read_text())
    chunks = payload["chunks"]
    assert [c["frame_index"] for c in chunks] == [0, 4, 8, 12, 16]
    assert all(np.array(c["buttons"]).shape == (18, 21) for c in chunks)
    assert payload["info"]["stride"] == 4 and payload["info"]["seed"] == 0
    assert payload["untrained_buttons"] == list(UNTRAINED_BUTTONS)
    with av.open(video) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    with Image.open(plot) as img:
        assert img.format == "PNG" and img.width > 300


def _error_text(client, **kwargs) -> str:
    with pytest.raises(Exception) as err:
        client.predict(**kwargs)
    return str(err.value)


def test_agent_bad_inputs_get_clear_errors_and_the_server_keeps_serving(client, media):
    d = media["dir"]
    (d / "notes.txt").write_text("not an image")
    (d / "empty.png").write_bytes(b"")
    (d / "cut.png").write_bytes(media["png"].read_bytes()[:60])
    Image.new("RGB", (17000, 1)).save(d / "huge.png")
    frame_cases = {
        "notes.txt": "not an image",
        "empty.png": "empty",
        "cut.png": "corrupt",
        "huge.png": "limit",
    }
    for name, expected in frame_cases.items():
        text = _error_text(client, frame=handle_file(str(d / name)), api_name="/agent_frame")
        assert expected in text, (name, text)
    text = _error_text(client, video=handle_file(str(d / "notes.txt")), stride=2, api_name="/agent_video")
    assert "not a video" in text
    # Over the frame cap: sampled evenly with a larger stride, never refused or cut (#15).
    _, _, actions_file = client.predict(video=handle_file(str(media["long_mp4"])), stride=1, api_name="/agent_video")
    payload = json.loads(Path(actions_file).read_text())
    cap, total = CPU_CAPS["max_video_frames"], CPU_CAPS["max_video_frames"] + 5
    assert len(payload["chunks"]) <= cap and payload["info"]["stride_used"] == -(-total // cap)
    assert payload["info"]["cap_note"]
    # Still serving.
    ok = client.predict(frame=handle_file(str(media["png"])), api_name="/agent_frame")
    assert ok["horizon"] == 18


def _open_agent_tab(page, url):
    page.goto(url)
    page.get_by_role("tab", name="Game agent").click()


def test_agent_frame_mode_in_the_browser(tiny_server, browser_page, media):
    page = browser_page
    _open_agent_tab(page, tiny_server)
    page.locator("#agent-frame-input input[type=file]").set_input_files(str(media["png"]))
    page.locator("#agent-frame-input img").first.wait_for()
    page.locator("#agent-frame-run").click()
    page.locator("#agent-frame-diagram img").first.wait_for()
    page.locator("#agent-frame-table").get_by_text("step").first.wait_for()
    page.locator("#agent-frame-actions").get_by_text("button_names").first.wait_for()
    assert page.get_by_text("non-commercial").count() >= 1


def test_agent_video_mode_in_the_browser(tiny_server, browser_page, media):
    page = browser_page
    _open_agent_tab(page, tiny_server)
    page.get_by_role("tab", name="Video", exact=True).click()
    page.locator("#agent-video-input input[type=file]").set_input_files(str(media["mp4"]))
    page.locator("#agent-video-input video").first.wait_for()
    page.locator("#agent-video-run").click()
    page.locator("#agent-video-output video").first.wait_for()
    page.locator("#agent-video-plot img").first.wait_for()
    page.locator("#agent-video-actions").get_by_text(".json").first.wait_for()


def test_example_play_loop_client_prints_the_actions(tiny_server, media):
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(repo / "examples" / "agent_play_loop.py"), "--server", tiny_server,
         "--image", str(media["png"])],
        capture_output=True, text=True, timeout=120, cwd=repo,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("-- 18 actions at 60 Hz")
    assert len(lines) == 19 and lines[1].split()[0] == "0" and "L(" in lines[1]


def test_agent_video_resizes_each_frame_once_from_full_resolution(client, tmp_path):
    """A 1280x720 clip: /agent_video's actions for a frame equal /agent_frame's for that decoded frame
    as a lossless PNG, so the model saw upstream's single cv2 resize of the full frame, not a copy
    first shrunk for the overlay (640 px) and resized again."""
    rng = np.random.default_rng(3)
    path = tmp_path / "hd.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"crf": "10"}
        for _ in range(3):
            img = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(path)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    png = tmp_path / "first.png"
    Image.fromarray(first).save(png)

    # stride 5 over 3 frames samples frame 0 alone, so both calls draw the same one-frame noise.
    _, _, actions_file = client.predict(video=handle_file(str(path)), stride=5, api_name="/agent_video")
    (chunk,) = json.loads(Path(actions_file).read_text())["chunks"]
    single = client.predict(frame=handle_file(str(png)), api_name="/agent_frame")
    assert chunk["frame_index"] == 0
    assert chunk["buttons"] == single["buttons"]
    np.testing.assert_array_equal(np.array(chunk["j_left"]), np.array(single["j_left"]))
    np.testing.assert_array_equal(np.array(chunk["j_right"]), np.array(single["j_right"]))
