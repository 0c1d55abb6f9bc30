"""Input limits of the video tab and the arithmetic of Helios' chunked output.

Helios generates 33-frame chunks (9 latent frames); the pipeline trims the
decoded frames to 4k+1, so N chunks give (33N-1)//4*4+1 frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from shared.io.params import Choice, Flag, Number, Text, as_number

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


# ---------------------------------------------------------------- parameter specs
# One spec per /video parameter: the tab builds its controls from these and
# checks every value with them (shared.io.params), so slider, message and check agree.
PROMPT = Text("prompt", "Prompt", max_chars=MAX_PROMPT_CHARS, hint="describe the video you want",
              placeholder="A red fox trots through fresh snow at dawn, tracking shot.")
MODE = Choice.of("mode", "Mode", [(title, key) for key, title in MODE_TITLES.items()], default="t2v")
NUM_FRAMES = Number("num_frames", f"Frames (steps of 33, up to {MAX_FRAMES})", minimum=CHUNK_FRAMES,
                    maximum=MAX_FRAMES, default=CHUNK_FRAMES, integer=True, multiple_of=CHUNK_FRAMES)
RESOLUTION = Choice.of("resolution", "Resolution (height x width)", list(RESOLUTIONS), default=DEFAULT_RESOLUTION)
STEPS = Number("steps", "Steps per pyramid stage (3 stages)", minimum=1, maximum=100, default=None, integer=True)
GUIDANCE = Number("guidance_scale", "Guidance scale (Distilled uses none)", minimum=1.0, maximum=20.0,
                  default=None, step=0.5)
AMPLIFY = Flag("amplify_first_chunk", "Amplify first chunk (twice the steps on chunk 1)")
ZERO_INIT = Flag("use_zero_init", "CFG-Zero* zero init")


def frames_spec(max_frames: int = MAX_FRAMES, profile: str = "") -> Number:
    """NUM_FRAMES with a profile's cap (label and limit note follow it)."""
    spec = NUM_FRAMES.capped(max_frames, f"the limit on profile '{profile}'" if profile else "")
    return replace(spec, label=f"Frames (steps of 33, up to {spec.maximum})")


def check_prompt(prompt) -> str:
    return PROMPT.check(prompt)


def check_mode(mode) -> str:
    return MODE.check(mode)


def check_frames(num_frames, max_frames: int = MAX_FRAMES, notes: dict | None = None) -> int:
    """A whole number of 33-frame chunks: in-range values between two chunk sizes are rounded (noted)."""
    return frames_spec(max_frames).check(num_frames, notes)


def snap_frames(num_frames, max_frames: int = MAX_FRAMES) -> int:
    """What the frames slider shows for a typed value: the nearest whole number of chunks in range."""
    spec = frames_spec(max_frames)
    number = as_number(num_frames)
    return spec.snap(number) if number is not None else spec.default


def check_resolution(label, allowed: list[str] | tuple[str, ...]) -> Resolution:
    """One of the resolutions the profile offers (`allowed`)."""
    return RESOLUTIONS[RESOLUTION.only(allowed).check(label)]


def check_steps(steps, max_steps: int, notes: dict | None = None) -> int:
    return STEPS.capped(max_steps).check(steps, notes)


def check_guidance(scale) -> float:
    return GUIDANCE.check(scale)
