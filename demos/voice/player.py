"""What the Voice tab's streaming audio player is fed, shared by the Voxtral
and the cloning sections."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from shared.io.media import save_audio
from shared.io.outputs import new_output_path


def streaming_player_available() -> bool:
    """Gradio encodes streamed audio with ffmpeg; without it the player gets growing WAV files instead."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def to_int16(wave: np.ndarray) -> np.ndarray:
    """A float chunk as the 16-bit PCM Gradio's streaming player takes."""
    return (np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)


class GrowingWav:
    """Fallback without ffmpeg: after each chunk, one WAV holding the audio so far.

    The same file is rewritten each time, so a long run leaves one file, not
    one per chunk.
    """

    def __init__(self, outputs_dir: str | Path, demo: str, sample_rate: int) -> None:
        self.path = new_output_path(outputs_dir, demo, "wav")
        self.sample_rate = sample_rate
        self._chunks: list[np.ndarray] = []

    def add(self, samples: np.ndarray) -> str:
        self._chunks.append(samples)
        save_audio(self.path, np.concatenate(self._chunks), self.sample_rate)
        return str(self.path)
