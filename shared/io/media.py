"""Decode, validate and encode audio, images and video with explicit limits.

Every failure a user can cause raises `UserInputError` naming the problem and
the limit. Limits are checked from headers before decoding wherever the
format allows it, so a decompression bomb is refused before it is expanded.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from shared.errors import UserInputError

MAX_UPLOAD_BYTES = 200 * 1024**2  # also passed to Gradio's max_file_size


def _check_file(path: str | os.PathLike | None, kind: str, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    if path is None or str(path).strip() == "":
        raise UserInputError(f"No {kind} was given.")
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"The {kind} file could not be found.")
    size = path.stat().st_size
    if size == 0:
        raise UserInputError(f"The {kind} file is empty (0 bytes).")
    if size > max_bytes:
        raise UserInputError(f"The {kind} file is {size / 1024**2:.0f} MB; the limit is {max_bytes / 1024**2:.0f} MB.")
    return path


# ---------------------------------------------------------------- audio

def resample(wave: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """High-quality resampling (soxr); `wave` is (samples,) or (samples, channels)."""
    if sr_from == sr_to:
        return wave.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(wave, sr_from, sr_to, quality="HQ").astype(np.float32, copy=False)


def _decode_audio_av(path: Path) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise UserInputError("The file has no audio track.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono")
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        sr = stream.rate
    if not chunks:
        raise UserInputError("The audio file holds no samples.")
    return np.concatenate(chunks).astype(np.float32), int(sr)


def load_audio(
    path: str | os.PathLike | None,
    *,
    min_seconds: float = 0.0,
    max_seconds: float = 600.0,
    target_sr: int | None = None,
    mono: bool = True,
) -> tuple[np.ndarray, int]:
    """Decode an audio file to float32 in [-1, 1]: (samples,) if mono else (samples, channels)."""
    import soundfile as sf

    path = _check_file(path, "audio")
    try:
        info = sf.info(str(path))
        if info.frames / max(info.samplerate, 1) > max_seconds + 1:
            raise UserInputError(f"The audio is {info.frames / info.samplerate:.1f} s long; the limit is {max_seconds:g} s.")
        wave, sr = sf.read(str(path), dtype="float32", always_2d=True)
        wave = wave.mean(axis=1) if mono else wave
    except UserInputError:
        raise
    except Exception:
        # Formats libsndfile lacks (m4a, webm from a browser microphone): FFmpeg.
        try:
            wave, sr = _decode_audio_av(path)
        except UserInputError:
            raise
        except Exception:
            raise UserInputError("The file could not be read as audio (supported: WAV, FLAC, OGG, MP3, M4A, WebM).") from None
        if not mono:
            wave = wave[:, None]
    if not np.all(np.isfinite(wave)):
        raise UserInputError("The audio holds invalid (NaN or infinite) samples.")
    seconds = wave.shape[0] / sr
    if seconds > max_seconds:
        raise UserInputError(f"The audio is {seconds:.1f} s long; the limit is {max_seconds:g} s.")
    if seconds < min_seconds:
        raise UserInputError(f"The audio is {seconds:.1f} s long; at least {min_seconds:g} s are needed.")
    if target_sr is not None and sr != target_sr:
        wave, sr = resample(wave, sr, target_sr), target_sr
    return np.clip(wave, -1.0, 1.0).astype(np.float32, copy=False), int(sr)


def save_audio(path: str | os.PathLike, wave: np.ndarray, sr: int) -> Path:
    """Write WAV (16-bit) or FLAC according to the suffix."""
    import soundfile as sf

    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"Unsupported audio suffix {path.suffix!r}; use .wav or .flac.")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(np.asarray(wave, dtype=np.float32), -1, 1), sr, format=fmt, subtype="PCM_16")
    return path


def trim_silence(wave: np.ndarray, sr: int, threshold_db: float = -40.0, pad_seconds: float = 0.05) -> np.ndarray:
    """Drop leading/trailing audio quieter than `threshold_db` below the peak (20 ms frames)."""
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak <= 1e-6:
        return wave[:0]
    frame = max(1, int(0.02 * sr))
    n = len(wave) // frame
    if n == 0:
        return wave
    rms = np.sqrt(np.mean(wave[: n * frame].reshape(n, frame) ** 2, axis=1))
    loud = np.nonzero(rms >= peak * 10 ** (threshold_db / 20))[0]
    if loud.size == 0:
        return wave[:0]
    pad = int(pad_seconds * sr)
    start = max(0, loud[0] * frame - pad)
    end = min(len(wave), (loud[-1] + 1) * frame + pad)
    return wave[start:end]


# ---------------------------------------------------------------- images

def load_image(path: str | os.PathLike | None, *, max_pixels: int = 40_000_000, max_side: int = 16384):
    """Open an image as RGB, refusing bombs from the header before decoding."""
    from PIL import Image, UnidentifiedImageError

    path = _check_file(path, "image")
    try:
        with Image.open(path) as probe:
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise UserInputError("The image has zero size.")
            if width > max_side or height > max_side or width * height > max_pixels:
                raise UserInputError(
                    f"The image is {width}x{height}; the limit is {max_pixels / 1e6:g} megapixels and {max_side} px per side."
                )
            probe.load()
            return probe.convert("RGB")
    except UserInputError:
        raise
    except Image.DecompressionBombError:
        raise UserInputError(
            f"The image is far larger than the limit of {max_pixels / 1e6:g} megapixels (a decompression bomb?)."
        ) from None
    except UnidentifiedImageError:
        raise UserInputError("The file is not an image Pillow can read (PNG, JPEG, WebP, BMP, GIF).") from None
    except (OSError, SyntaxError, ValueError):
        raise UserInputError("The image file is truncated or corrupt.") from None


# ---------------------------------------------------------------- video

@dataclass(frozen=True)
class VideoInfo:
    frames: int
    fps: float
    width: int
    height: int

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


def _open_video(path: Path):
    import av

    try:
        container = av.open(str(path))
    except Exception:
        raise UserInputError("The file is not a video FFmpeg can read (MP4, WebM, MOV, MKV, AVI, GIF).") from None
    if not container.streams.video:
        container.close()
        raise UserInputError("The file has no video track.")
    # FFmpeg happily opens a still image as a one-frame "video"; refuse it.
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        container.close()
        raise UserInputError("The file is a still image, not a video.")
    return container


def probe_video(path: str | os.PathLike | None, *, max_pixels: int = 4096 * 2160) -> VideoInfo:
    path = _check_file(path, "video")
    container = _open_video(path)
    try:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise UserInputError("The video has zero size.")
        if width * height > max_pixels:
            raise UserInputError(f"The video is {width}x{height}; the limit is {max_pixels / 1e6:.1f} megapixels per frame.")
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 24.0
        frames = stream.frames
        if not frames and stream.duration and stream.time_base:
            frames = int(round(float(stream.duration * stream.time_base) * fps))
        return VideoInfo(frames=int(frames), fps=fps, width=width, height=height)
    finally:
        container.close()


def _shrink(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale so the longer side is at most `max_side` (area averaging)."""
    h, w = frame.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return frame
    from PIL import Image

    scale = max_side / max(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BOX))


def iter_video_frames(
    path: str | os.PathLike | None,
    *,
    stride: int = 1,
    max_decoded: int | None = None,
    max_side: int | None = None,
    max_pixels: int = 4096 * 2160,
) -> Iterator[np.ndarray]:
    """Decode every `stride`-th frame (RGB uint8) lazily, validating as it goes.

    Frames are shrunk to `max_side` right after decoding, so a long 4K upload
    never sits in RAM at full size. More than `max_decoded` decoded frames is
    refused. A corrupt tail ends the iteration after the frames that decoded.
    """
    if stride < 1:
        raise UserInputError(f"The stride must be at least 1 (got {stride}).")
    probe_video(path, max_pixels=max_pixels)
    container = _open_video(Path(path))
    decoded = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = container.decode(stream)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except Exception:
                if decoded == 0:
                    raise UserInputError("The video file is truncated or corrupt: no frame could be decoded.") from None
                break  # a truncated tail: keep what decoded
            decoded += 1
            if max_decoded is not None and decoded > max_decoded:
                raise UserInputError(f"The video has more than {max_decoded} frames; the limit is {max_decoded}.")
            if (decoded - 1) % stride == 0:
                yield _shrink(frame.to_ndarray(format="rgb24"), max_side)
    finally:
        container.close()
    if decoded == 0:
        raise UserInputError("The video holds no frames.")


def read_video_frames(
    path: str | os.PathLike | None,
    *,
    max_frames: int,
    stride: int = 1,
    max_side: int | None = None,
    max_pixels: int = 4096 * 2160,
    full_view: Callable[[np.ndarray], Any] | None = None,
) -> tuple[list[np.ndarray], VideoInfo] | tuple[list[np.ndarray], VideoInfo, list]:
    """Every `stride`-th frame (RGB uint8, longest side <= `max_side`), at most `max_frames` of them.

    Returns the frames and the clip's `VideoInfo`. A file with more frames
    than the cap is refused rather than silently cut, so users know why.
    With `full_view`, also returns `full_view(frame)` of each frame taken at
    full resolution, before any shrinking: a model's own preprocessing sees
    the decoded pixels, as upstream's would, not a shrunk copy resized twice.
    """
    info = probe_video(path, max_pixels=max_pixels)
    frames: list[np.ndarray] = []
    views: list = []
    for frame in iter_video_frames(path, stride=stride, max_pixels=max_pixels):
        if len(frames) >= max_frames:
            raise UserInputError(
                f"The video has more than {max_frames} frames at stride {stride}; the limit is {max_frames}. "
                "Use a larger stride or a shorter clip."
            )
        if full_view is not None:
            views.append(full_view(frame))
        frames.append(_shrink(frame, max_side))
    return (frames, info, views) if full_view is not None else (frames, info)


class VideoWriter:
    """Encode frames to H.264 mp4 progressively, segment by segment.

    Frames are written as they arrive (nothing accumulates in memory). Each
    `end_segment()` closes a self-contained mp4 segment; `snapshot(dest)`
    remuxes the closed segments (no re-encoding) into one playable mp4 of the
    video so far, and `close()` does the same into the final path.
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 18) -> None:
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1001)
        self.crf = crf
        self._dir = Path(tempfile.mkdtemp(prefix="segments-", dir=self.path.parent if self.path.parent.exists() else None))
        self._segments: list[Path] = []
        self._container = None
        self._stream = None
        self.frames_written = 0

    def write(self, frames) -> None:
        """Append frames: an iterable of HxWx3 uint8 arrays."""
        import av

        for frame in frames:
            frame = np.ascontiguousarray(frame)
            if self._container is None:
                segment = self._dir / f"{len(self._segments):05d}.mp4"
                self._container = av.open(str(segment), mode="w")
                self._stream = self._container.add_stream("libx264", rate=self.fps)
                height, width = frame.shape[:2]
                self._stream.width, self._stream.height = width - width % 2, height - height % 2
                self._stream.pix_fmt = "yuv420p"
                self._stream.options = {"crf": str(self.crf), "preset": "veryfast"}
                self._segments.append(segment)
            h, w = self._stream.height, self._stream.width
            video_frame = av.VideoFrame.from_ndarray(frame[:h, :w], format="rgb24")
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
            self.frames_written += 1

    def end_segment(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = self._stream = None

    def _remux(self, dest: Path) -> Path:
        import av

        dest.parent.mkdir(parents=True, exist_ok=True)
        scratch = dest.with_name(dest.name + ".part.mp4")
        with av.open(str(scratch), mode="w") as out:
            out_stream = None
            offset = 0
            for segment in self._segments:
                with av.open(str(segment)) as src:
                    in_stream = src.streams.video[0]
                    if out_stream is None:
                        out_stream = out.add_stream_from_template(in_stream)
                    last = 0
                    for packet in src.demux(in_stream):
                        if packet.dts is None:
                            continue
                        last = max(last, packet.pts + (packet.duration or 0), packet.dts + (packet.duration or 0))
                        packet.pts += offset
                        packet.dts += offset
                        packet.stream = out_stream
                        out.mux(packet)
                    offset += last
        os.replace(scratch, dest)
        return dest

    def snapshot(self, dest: str | os.PathLike) -> Path | None:
        """A playable mp4 of every closed segment so far (None if there is none)."""
        if not self._segments or (len(self._segments) == 1 and self._container is not None):
            return None
        closed = self._segments if self._container is None else self._segments[:-1]
        saved, self._segments = self._segments, closed
        try:
            return self._remux(Path(dest))
        finally:
            self._segments = saved

    def close(self) -> Path | None:
        """Finish the file at `self.path`; None if no frame was ever written."""
        self.end_segment()
        try:
            return self._remux(self.path) if self._segments else None
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_video(path: str | os.PathLike, frames, fps: float) -> Path:
    """Encode a whole clip at once."""
    writer = VideoWriter(path, fps)
    writer.write(frames)
    result = writer.close()
    if result is None:
        raise ValueError("No frames to write.")
    return result
