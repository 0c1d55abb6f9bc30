"""Chunk streaming: take each decoded chunk off the GPU and write it to mp4 as it arrives.

The stock Helios pipelines decode every 33-frame chunk inside their chunk
loop and keep concatenating the decoded video on the execution device in
fp32 (~97 MB per chunk at 384x640, ~4.3 GB for 60 s, plus a transient copy
per `torch.cat`). `decoded_chunks_to(vae, on_chunk)` wraps the VAE's
`decode` for the duration of one call: the real decode runs unchanged, the
frames are converted to uint8 and copied to the host at once, handed to
`on_chunk`, and the pipeline receives a zero-frame placeholder, so its
`history_video` never grows. Called with `output_type="latent"`, the
pipeline then skips its own post-processing of the (empty) video.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from shared.io.media import VideoWriter

from .limits import CHUNK_FRAMES


def to_uint8_frames(video: torch.Tensor) -> np.ndarray:
    """(B, 3, T, H, W) in [-1, 1] -> (T, H, W, 3) uint8 on the host, first batch item.

    Same mapping as the pipeline's own post-processing ((x/2+0.5) clamped,
    then x255 rounded as diffusers does for uint8), done on the device so
    only a quarter of the bytes cross to the host.
    """
    frames = ((video[0].float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
    return frames.permute(1, 2, 3, 0).contiguous().cpu().numpy()


@contextmanager
def decoded_chunks_to(vae, on_chunk: Callable[[np.ndarray], None], *, on_decoding: Callable[[], None] | None = None,
                      on_frame: Callable[[], None] | None = None):
    """Route every `vae.decode` during the block to `on_chunk` (host uint8 frames).

    `on_decoding` is called as a decode starts and `on_frame` after each call of the VAE's decoder
    (once per latent frame; per tile and frame when tiling), so a long decode is not a silent one.
    """
    original = vae.decode
    shadowed = vars(vae).get("decode")  # an instance attribute we must put back (e.g. a test spy)
    decoder = getattr(vae, "decoder", None)
    hook = decoder.register_forward_hook(lambda *_: on_frame()) if on_frame and decoder is not None else None

    def decode(z, return_dict: bool = True, **kwargs):
        if on_decoding is not None:
            on_decoding()
        video = original(z, return_dict=False, **kwargs)[0]
        frames = to_uint8_frames(video)
        shape = (video.shape[0], video.shape[1], 0, *video.shape[3:])
        del video  # the decoded chunk leaves the device here
        on_chunk(frames)
        placeholder = torch.empty(shape, device=z.device, dtype=z.dtype)
        if return_dict:
            from diffusers.models.autoencoders.vae import DecoderOutput

            return DecoderOutput(sample=placeholder)
        return (placeholder,)

    vae.decode = decode
    try:
        yield
    finally:
        if hook is not None:
            hook.remove()
        if shadowed is None:
            del vae.decode  # back to the class method
        else:
            vae.decode = shadowed


def kept_frames(decoded: int) -> int:
    """Frames of `decoded` that survive the pipeline's final trim to 4k+1."""
    return (decoded - 1) // 4 * 4 + 1 if decoded else 0


class ChunkWriter:
    """Writes chunks to one mp4 progressively and makes playable partial copies.

    Frames beyond the 4k+1 length the pipeline would return are held back
    (at most 3) until the next chunk shows they are kept, so every partial is
    a prefix of the final video and the final video equals the pipeline's.
    """

    def __init__(self, path: Path, fps: float) -> None:
        self.path = Path(path)
        self.writer = VideoWriter(self.path, fps)
        self.partial_dir = self.path.with_name(self.path.stem + ".partials")
        self.decoded = 0
        self.chunks = 0
        self._pending: list[np.ndarray] = []

    @property
    def frames_written(self) -> int:
        return self.writer.frames_written

    def add_chunk(self, frames: np.ndarray) -> None:
        self._pending.extend(frames)
        self.decoded += len(frames)
        self.chunks += 1
        ready = kept_frames(self.decoded) - self.writer.frames_written
        self.writer.write(self._pending[:ready])
        self._pending = self._pending[ready:]
        self.writer.end_segment()

    def snapshot(self) -> Path | None:
        """A playable mp4 of the video so far (a new file per chunk: players cache by name)."""
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        return self.writer.snapshot(self.partial_dir / f"chunk-{self.chunks:03d}.mp4")

    def finish(self) -> Path | None:
        """Close the mp4 (None when no chunk finished).

        The partial copies stay until `drop_partials`: the UI may still be
        fetching the last one when the run ends.
        """
        self._pending = []
        return self.writer.close()


def drop_partials(video_path: Path) -> None:
    """Remove the partial copies made while `video_path` was being written."""
    shutil.rmtree(Path(video_path).with_name(Path(video_path).stem + ".partials"), ignore_errors=True)


_END = object()


__all__ = ["CHUNK_FRAMES", "ChunkWriter", "decoded_chunks_to", "drop_partials", "kept_frames", "to_uint8_frames"]
