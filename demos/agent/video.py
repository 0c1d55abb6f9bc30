"""Reading the frames of a clip that the agent runs on, shrunk as they are decoded.

`shared.media.read_video_frames` keeps full-resolution frames; with a 300-frame
GPU cap and 4K input that would hold ~7 GB of pixels in host RAM. The agent
only needs the model's input size (and the overlay at most `max_side`), so
each sampled frame is shrunk right after decoding. Validation (not a video,
zero size, too many pixels, too many frames, corrupt) matches shared.media.
"""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

from shared.errors import UserInputError
from shared.media import VideoInfo, probe_video


def _shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if max(h, w) <= max_side:
        return frame
    scale = max_side / max(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BOX))


def read_sampled_frames(path: str, *, stride: int, max_frames: int,
                        max_side: int = 640) -> tuple[list[np.ndarray], VideoInfo]:
    """Every `stride`-th frame (RGB uint8, longest side <= max_side); refuses more than `max_frames`."""
    if stride < 1:
        raise UserInputError(f"The stride must be at least 1 (got {stride}).")
    info = probe_video(path)
    frames: list[np.ndarray] = []
    try:
        container = av.open(str(path))
    except Exception:
        raise UserInputError("The file is not a video FFmpeg can read (MP4, WebM, MOV, MKV, AVI, GIF).") from None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if index % stride:
                continue
            if len(frames) >= max_frames:
                raise UserInputError(
                    f"The video has more than {max_frames} frames at stride {stride}; the limit is {max_frames}. "
                    "Use a larger stride or a shorter clip."
                )
            frames.append(_shrink(frame.to_ndarray(format="rgb24"), max_side))
    except UserInputError:
        raise
    except Exception:
        if not frames:
            raise UserInputError("The video file is truncated or corrupt: no frame could be decoded.") from None
        # A truncated tail: keep the frames that decoded.
    finally:
        container.close()
    if not frames:
        raise UserInputError("The video holds no frames.")
    return frames, info
