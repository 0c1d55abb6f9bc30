"""What the Voice tab's streaming audio player is fed, shared by the Voxtral
and the cloning sections."""
from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.audio_stream_encoder import segment_from_frames
from gradio.components import audio as gradio_audio

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



# Seconds the first piece of a stream may wait for the AAC encoder's first frames: its ffmpeg takes
# about 0.5 s to start on a busy 2-core machine (measured), while Gradio 6.31 waits 0.1 s.
FIRST_SEGMENT_WAIT_S = 3.0


def streaming_player(**kwargs) -> gr.Audio:
    """`gr.Audio(**kwargs)` for streamed speech whose stream opens with audio in it.

    Gradio hands the browser the stream's playlist with its first chunk. When the encoder has not
    produced a frame within its 0.1 s start-up wait, that first playlist is empty: hls.js logs "No
    Segments found in Playlist" and recovers by reloading, and a stopped run's player could show a
    length other than what was kept. This player waits (once per stream, in Gradio's worker thread)
    for the first frames, so the first playlist the browser reads already holds a segment.

    The wait is bound on the instance, not in a subclass: Gradio writes a .pyi next to the module of
    every Component subclass and builds the page's config from the constructor's signature."""
    player = gr.Audio(**kwargs)
    FirstSegmentWait(player).install()
    return player


class FirstSegmentWait:
    """Gradio 6.31's `Audio._encode_chunk`, made to wait for the encoder's first frames once per stream."""

    def __init__(self, player: gr.Audio) -> None:
        self.player = player
        self.opened: set[str] = set()  # streams whose first segment is out
        self._encode = player._encode_chunk
        self._end = player.end_stream_output
        self._flush = player.flush_stream_output

    def install(self) -> None:
        self.player._encode_chunk = self.encode_chunk
        self.player.end_stream_output = self.end_stream_output
        self.player.flush_stream_output = self.flush_stream_output

    def encode_chunk(self, output_id: str, data: bytes):
        chunk = self._encode(output_id, data)
        if chunk is None and output_id not in self.opened:
            slot = gradio_audio._stream_encoders.get(output_id)
            encoder = getattr(slot, "encoder", None)
            if encoder is not None:
                chunk = segment_from_frames(encoder, encoder.take(timeout=FIRST_SEGMENT_WAIT_S))
        if chunk is not None:
            self.opened.add(output_id)
        return chunk

    def end_stream_output(self, output_id: str) -> None:
        self.opened.discard(output_id)
        self._end(output_id)

    async def flush_stream_output(self, output_id: str):
        self.opened.discard(output_id)
        return await self._flush(output_id)
