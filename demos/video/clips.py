"""Conditioning inputs: the first frame (i2v) and the clip to continue (v2v).

Helios' history window holds 19 latent frames, so a continuation only ever
sees the clip's first frame (the anchor) and its last 99 frames (three
33-frame windows). We keep exactly those while decoding, fitted to the
output resolution, so a long or high-resolution upload never piles up in RAM.
"""
from __future__ import annotations

from collections import deque

from PIL import Image, ImageOps

from shared.errors import UserInputError
from shared.io.media import iter_video_frames, load_image, probe_video

from .limits import CHUNK_FRAMES, MIN_V2V_FRAMES, Resolution

MAX_INPUT_FRAMES = 3000  # ~2 minutes at 24 fps: decoding more is wasted time
TAIL_FRAMES = 3 * CHUNK_FRAMES


def fit(image: Image.Image, resolution: Resolution) -> Image.Image:
    """Centre-crop to the output aspect ratio, then resize (no distortion)."""
    return ImageOps.fit(image.convert("RGB"), (resolution.width, resolution.height), Image.Resampling.LANCZOS)


def first_frame(path, resolution: Resolution) -> Image.Image:
    return fit(load_image(path, max_pixels=40_000_000, max_side=16384), resolution)


def clip_to_continue(path, resolution: Resolution) -> tuple[list[Image.Image], dict]:
    """The first frame plus the last 99 frames of the clip, fitted; and facts about the upload."""
    info = probe_video(path)
    anchor, tail, count = None, deque(maxlen=TAIL_FRAMES), 0
    try:
        for frame in iter_video_frames(path, max_decoded=MAX_INPUT_FRAMES):
            count += 1
            fitted = fit(Image.fromarray(frame), resolution)
            if anchor is None:
                anchor = fitted
            else:
                tail.append(fitted)
    except UserInputError as exc:
        if "more than" in str(exc):  # a refusal, so it only says what to send instead
            raise UserInputError(f"The video has more than {MAX_INPUT_FRAMES:,} frames; video-to-video takes at most "
                                 f"{MAX_INPUT_FRAMES:,} (about {MAX_INPUT_FRAMES // (24 * 60)} minutes at 24 fps). "
                                 "Trim it to the part you want continued and upload that.") from None
        raise
    if count < MIN_V2V_FRAMES:
        raise UserInputError(f"The video has {count} frames; video-to-video needs at least {MIN_V2V_FRAMES} "
                             "(one 33-frame chunk).")
    frames = [anchor, *tail]
    return frames, {"frames": count, "fps": info.fps, "width": info.width, "height": info.height,
                    "frames_used": len(frames)}
