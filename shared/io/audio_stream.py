"""Encode generated speech for HTTP answers, chunk by chunk, with PyAV.

Plain Python, no Gradio. Every format goes through FFmpeg's own muxers and
encoders (PyAV); only `pcm` (raw 16-bit little-endian mono, what OpenAI and
vllm-omni call pcm) is the samples' bytes.

- `to_pcm16(wave)`: float32 [-1, 1] -> int16, scaled by 32768 and rounded like
  FFmpeg's own float->s16 conversion, so `pcm16 / 32768` round-trips exactly.
- `AudioEncoder(fmt, sample_rate, streaming)`: `feed(int16) -> bytes` and
  `finish() -> bytes`. Streaming writes to a sink that cannot seek, so a
  chunk's bytes leave as soon as the muxer writes them (WAV then carries the
  "unknown length" sizes 0xFFFFFFFF; FLAC an unknown total). Not streaming,
  the container is finished in memory with its real sizes.
- `TempoFilter(speed, sample_rate)`: FFmpeg's `atempo` filter (pitch kept),
  chained for speeds outside its 0.5-2 range.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ResponseFormat:
    name: str
    media_type: str
    container: str | None  # None: raw pcm
    codec: str | None
    options: tuple = ()  # muxer options


RESPONSE_FORMATS: dict[str, ResponseFormat] = {
    "mp3": ResponseFormat("mp3", "audio/mpeg", "mp3", "libmp3lame"),
    # Ogg pages of at most 20 ms, so a streamed page leaves with its chunk.
    "opus": ResponseFormat("opus", "audio/ogg", "ogg", "libopus", (("page_duration", "20000"),)),
    "flac": ResponseFormat("flac", "audio/flac", "flac", "flac"),
    "wav": ResponseFormat("wav", "audio/wav", "wav", "pcm_s16le"),
    "pcm": ResponseFormat("pcm", "audio/pcm", None, None),
}


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float32 samples in [-1, 1] as int16 (x * 32768, rounded half to even, clipped)."""
    scaled = np.rint(np.asarray(wave, dtype=np.float32) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def from_pcm16(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 (/ 32768): the exact inverse of `to_pcm16` on its range."""
    return np.asarray(samples, dtype=np.int16).astype(np.float32) / 32768.0


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file for the muxer: bytes are taken as written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _mono_frame(samples: np.ndarray, sample_rate: int, pts: int):
    import av

    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.int16)[None, :], format="s16", layout="mono")
    frame.sample_rate = sample_rate
    frame.pts = pts
    return frame


class AudioEncoder:
    """int16 mono chunks in, encoded bytes out (see the module docstring)."""

    def __init__(self, fmt: str, sample_rate: int, *, streaming: bool) -> None:
        self.format = RESPONSE_FORMATS[fmt]
        self.sample_rate = int(sample_rate)
        self.streaming = streaming
        self._pts = 0
        self._container = self._stream = None
        if self.format.container is None:
            return
        import av

        self._sink = _Sink() if streaming else io.BytesIO()
        self._container = av.open(self._sink, mode="w", format=self.format.container, options=dict(self.format.options))
        self._stream = self._container.add_stream(self.format.codec, rate=self.sample_rate, layout="mono")

    def _take(self) -> bytes:
        return self._sink.take() if self.streaming else b""

    def feed(self, samples: np.ndarray) -> bytes:
        samples = np.asarray(samples, dtype=np.int16)
        if samples.size == 0:
            return b""
        if self._container is None:
            return samples.astype("<i2", copy=False).tobytes()
        for packet in self._stream.encode(_mono_frame(samples, self.sample_rate, self._pts)):
            self._container.mux(packet)
        self._pts += samples.size
        return self._take()

    def finish(self) -> bytes:
        if self._container is None:
            return b""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self.streaming:
            return self._sink.take()
        return self._sink.getvalue()


def _atempo_factors(speed: float) -> list[float]:
    """atempo takes 0.5-2.0 per instance (wider ranges lose quality): chain them."""
    factors = []
    while speed > 2.0:
        factors.append(2.0)
        speed /= 2.0
    while speed < 0.5:
        factors.append(0.5)
        speed /= 0.5
    factors.append(speed)
    return factors


class TempoFilter:
    """Change the speed of int16 mono audio without changing its pitch (FFmpeg atempo)."""

    def __init__(self, speed: float, sample_rate: int) -> None:
        import av.filter

        self.sample_rate = int(sample_rate)
        self._pts = 0
        self._graph = av.filter.Graph()
        self._source = self._graph.add_abuffer(
            format="s16", sample_rate=self.sample_rate, layout="mono", time_base=f"1/{self.sample_rate}"
        )
        last = self._source
        for factor in _atempo_factors(float(speed)):
            node = self._graph.add("atempo", f"{factor:.6f}")
            last.link_to(node)
            last = node
        self._out = self._graph.add("abuffersink")
        last.link_to(self._out)
        self._graph.configure()

    def _drain(self) -> np.ndarray:
        import av

        pieces = []
        while True:
            try:
                frame = self._out.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            pieces.append(frame.to_ndarray().reshape(-1))
        return np.concatenate(pieces).astype(np.int16) if pieces else np.zeros(0, np.int16)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        samples = np.asarray(samples, dtype=np.int16)
        if samples.size == 0:
            return samples
        self._source.push(_mono_frame(samples, self.sample_rate, self._pts))
        self._pts += samples.size
        return self._drain()

    def finish(self) -> np.ndarray:
        self._source.push(None)
        return self._drain()
