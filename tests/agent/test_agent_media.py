"""Reading a gameplay clip the way the agent does (shrink on decode, caps) and the drawing helpers."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
from PIL import Image

from demos.agent.actions import chunk_to_dict
from demos.agent.overlay import chunk_panel, draw_gamepad, overlay_frame
from demos.agent.plot import timeline
from shared.errors import UserInputError
from shared.io.media import read_video_frames


def _clip(path, frames=10, w=200, h=100):
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i in range(frames):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((h, w, 3), i * 20, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def test_sampled_frames_are_shrunk_and_capped(tmp_path):
    clip = _clip(tmp_path / "c.mp4")
    frames, info = read_video_frames(str(clip), stride=3, max_frames=10, max_side=64)
    assert len(frames) == 4 and frames[0].shape == (32, 64, 3) and frames[0].dtype == np.uint8
    assert (info.width, info.height) == (200, 100)
    with pytest.raises(UserInputError, match="the limit is 3"):
        read_video_frames(str(clip), stride=3, max_frames=3)
    (tmp_path / "x.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(UserInputError):
        read_video_frames(str(tmp_path / "x.mp4"), stride=1, max_frames=3)


def _chunk(seed=0):
    return chunk_to_dict(torch.rand(18, 25, generator=torch.Generator().manual_seed(seed)))


def test_drawings_have_stable_sizes(tmp_path):
    chunk = _chunk()
    assert draw_gamepad(chunk["buttons"][0], chunk["j_left"][0], chunk["j_right"][0], width=240).size == (240, 150)
    panel = chunk_panel(chunk, step=40)  # out-of-range step is clamped
    assert isinstance(panel, Image.Image) and panel.width >= 480
    frame = np.zeros((720, 1280, 3), np.uint8)
    out = overlay_frame(frame, chunk)
    assert out.shape == (360, 640, 3)  # shrunk to max_side, even sizes for H.264
    assert out.any()  # the pad was drawn
    small = overlay_frame(np.zeros((50, 60, 3), np.uint8), chunk)
    assert small.shape[0] % 2 == 0 and small.shape[1] % 2 == 0


def test_timeline_plot_is_written(tmp_path):
    path = timeline([_chunk(0), _chunk(1), _chunk(2)], [0.0, 0.2, 0.4], tmp_path / "t.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width > 500
