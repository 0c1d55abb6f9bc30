"""Build `gr.Examples` without running ffprobe on example files we already know to be playable.

Gradio 6.31 asks ffprobe about every example video and audio file twice while the page is built
(`Dataset` samples and `Examples`' processed values), to decide whether to convert it: one
subprocess each, about 0.1 s apiece on a 2-core box, paid at every start. Our example files are
made by us in browser-playable formats (h264 mp4, FLAC; `tests/shared/test_example_media.py`
asks Gradio's own probe about each), so inside `known_playable(paths)` the probe answers "playable"
for exactly those files and still runs for every other file.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterable, Iterator

# Gradio's probes, by the name its components call them under in gradio.processing_utils.
PROBES = ("video_is_playable", "audio_is_playable")


@contextmanager
def known_playable(paths: Iterable[str]) -> Iterator[None]:
    """While the page is built: Gradio's playability probes skip ffprobe for these files."""
    from gradio import processing_utils

    known = {os.path.realpath(p) for p in paths}
    originals = {name: getattr(processing_utils, name) for name in PROBES}

    def skipping(original):
        def probe(path, *args, **kwargs) -> bool:
            if os.path.realpath(str(path)) in known:
                return True
            return original(path, *args, **kwargs)
        return probe

    for name, original in originals.items():
        setattr(processing_utils, name, skipping(original))
    try:
        yield
    finally:  # later uploads and results are probed as Gradio always does
        for name, original in originals.items():
            setattr(processing_utils, name, original)
