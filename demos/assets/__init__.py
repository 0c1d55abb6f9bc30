"""Example files the tabs offer in their gr.Examples, made by `make.py` here (see PROVENANCE.md)."""
from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent


def asset(name: str) -> str:
    """Path of one example file; a missing one is a packaging bug, so it fails loudly."""
    path = ASSETS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"example file {path} is missing: run python -m demos.assets.make")
    return str(path)


# Made by make.py in browser-playable formats (h264 mp4, FLAC): the page skips Gradio's ffprobe of them at
# start (shared/web/example_media.py); tests/shared/test_example_media.py asks the probe about each.
PLAYABLE_MEDIA = ("agent_clip.mp4", "video_clip.mp4", "voice_reference.flac")


def playable_media() -> list[str]:
    """Paths of the example videos and audio that need no playability probe."""
    return [asset(name) for name in PLAYABLE_MEDIA]
