"""Play's live frames reach Gradio as files written once (shared/web/cached_images.py): repeating the latest
frame in later updates must not rewrite a file a client may still be downloading."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from shared.web.cached_images import image_file
from shared.web.served_files import cache_root


def _stamp(path: str) -> tuple:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


def _frame(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)


def test_an_image_file_is_in_gradios_cache_once_per_call(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    first, again = image_file(_frame(1)), image_file(_frame(1))
    assert first != again  # a new file per call: none is ever written twice
    for path in (first, again):
        assert Path(path).parent.parent == cache_root() and Path(path).name == "image.jpeg"
        assert Image.open(path).size == (64, 48)
    assert not list(Path(first).parent.glob(".*.part"))


def test_play_repeats_a_frame_as_the_same_untouched_file(tmp_path, monkeypatch):
    from demos.agent.play_tab import _Outputs

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    outputs = _Outputs()
    frame_path = outputs({"frame": _frame(2), "status": "tic 3"})[0]
    before = _stamp(frame_path)
    repeats = [outputs({"chunk": {"chunk": k}})[0] for k in range(3)]
    final = outputs({"status": "Episode over", "record": {}, "video": None, "actions": None})[0]
    assert repeats == [frame_path] * 3 and final == frame_path
    assert _stamp(frame_path) == before
    assert outputs({"frame": _frame(3), "status": "tic 6"})[0] != frame_path


def test_gradio_rewrites_a_repeated_numpy_image_in_place(tmp_path, monkeypatch):
    """Why: Gradio's own cache write of a numpy image opens the same file again for writing each time."""
    from gradio.processing_utils import save_img_array_to_cache

    frame = _frame(4)
    path = save_img_array_to_cache(frame, str(tmp_path), format="jpeg")
    os.utime(path, ns=(0, 0))
    assert save_img_array_to_cache(frame, str(tmp_path), format="jpeg") == path
    assert os.stat(path).st_mtime_ns != 0  # written again, in place, under the same name
