"""Input limits of the video tab and the arithmetic of Helios' chunked output.

Helios generates 33-frame chunks (9 latent frames); the pipeline trims the
decoded frames to 4k+1, so N chunks give (33N-1)//4*4+1 frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from shared.errors import UserInputError
from shared.text import check_text

CHUNK_FRAMES = 33
MAX_FRAMES = 1452  # 44 chunks, ~60 s at 24 fps
FPS = 24
MAX_PROMPT_CHARS = 2000
MODES = ("t2v", "i2v", "v2v")
MODE_TITLES = {"t2v": "Text to video", "i2v": "Image to video", "v2v": "Video to video (continue a clip)"}
MIN_V2V_FRAMES = CHUNK_FRAMES
MAX_V2V_FRAMES = 1452


@dataclass(frozen=True)
class Resolution:
    label: str  # "384x640" (height x width)
    height: int
    width: int
    note: str


# Sides divisible by 64: 8x VAE, 2x patch, and the pyramid halves the latent twice.
RESOLUTIONS = {
    r.label: r
    for r in (
        Resolution("384x640", 384, 640, "native: the only training resolution"),
        Resolution("640x384", 640, 384, "portrait: not trained, expect chunk jumps (upstream issue #2)"),
        Resolution("192x320", 192, 320, "draft: half size, not trained, a quick preview"),
        Resolution("320x192", 320, 192, "draft portrait: not trained, a quick preview"),
    )
}
DEFAULT_RESOLUTION = "384x640"


def chunks_for(num_frames: int) -> int:
    return max(1, math.ceil(num_frames / CHUNK_FRAMES))


def output_frames(chunks: int) -> int:
    """Frames the pipeline returns for `chunks` finished chunks."""
    decoded = CHUNK_FRAMES * chunks
    return (decoded - 1) // 4 * 4 + 1 if chunks else 0


def describe_length(num_frames: int, fps: int = FPS) -> str:
    chunks = chunks_for(num_frames)
    frames = output_frames(chunks)
    return f"{chunks} chunk{'s' if chunks != 1 else ''} of 33 frames -> {frames} frames, {frames / fps:.2f} s at {fps} fps"


def check_prompt(prompt: str | None) -> str:
    return check_text(prompt, max_chars=MAX_PROMPT_CHARS, what="The prompt", hint="describe the video you want")


def check_mode(mode: str | None) -> str:
    if mode not in MODES:
        raise UserInputError(f"Unknown mode {mode!r}; choose one of: {', '.join(MODES)}.")
    return mode


def check_frames(num_frames, max_frames: int = MAX_FRAMES) -> int:
    try:
        value = float(num_frames)
    except (TypeError, ValueError):
        raise UserInputError(f"The number of frames must be a multiple of 33 from 33 to {max_frames}.") from None
    if not value.is_integer():
        raise UserInputError(f"The number of frames must be a whole multiple of 33 (got {num_frames}).")
    frames = int(value)
    if frames < CHUNK_FRAMES or frames > max_frames:
        raise UserInputError(f"The number of frames is {frames}; it must be from 33 to {max_frames} in steps of 33.")
    if frames % CHUNK_FRAMES:
        raise UserInputError(f"The number of frames is {frames}; it must be a multiple of 33 (33, 66, 99, ... {max_frames}).")
    return frames


def check_resolution(label: str | None, allowed: list[str] | tuple[str, ...]) -> Resolution:
    if label not in RESOLUTIONS or label not in allowed:
        raise UserInputError(f"Unsupported resolution {label!r}; this profile supports: {', '.join(allowed)} (height x width).")
    return RESOLUTIONS[label]


def check_steps(steps, max_steps: int) -> int:
    try:
        value = int(steps)
    except (TypeError, ValueError):
        raise UserInputError(f"Steps must be a whole number from 1 to {max_steps}.") from None
    if not 1 <= value <= max_steps:
        raise UserInputError(f"Steps is {value}; it must be from 1 to {max_steps}.")
    return value


def check_guidance(scale) -> float:
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise UserInputError("The guidance scale must be a number from 1 to 20.") from None
    if not 1.0 <= value <= 20.0:
        raise UserInputError(f"The guidance scale is {value:g}; it must be from 1 to 20.")
    return value
