"""Input limits of the video tab and the arithmetic of Helios' chunked output.

Helios generates 33-frame chunks (9 latent frames decoded to 33 frames each);
at the end the pipeline trims the decoded video to the longest 4k+1 length,
so N chunks give (33N-1)//4*4+1 frames. As 33N leaves N mod 4 when divided
by 4, the trim drops 0, 1, 2 or 3 frames in turn: 33 -> 33, 66 -> 65,
99 -> 97, 132 -> 129, 165 -> 165, 198 -> 197. `frames_made` is that one
rule; the tab says it beside the slider and the result line repeats it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from shared.io.params import Choice, Flag, Number, Text

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


def frames_made(num_frames: int) -> int:
    """Frames the video will have for a request of `num_frames` (whole chunks, trimmed to 4k+1)."""
    return output_frames(chunks_for(num_frames))


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def seconds_of_video(frames: int, fps: int = FPS) -> str:
    """"1.4 s of video at 24 frames a second": the playing time, said once the same way everywhere."""
    return f"{frames / fps:.1f} s of video at {fps} frames a second"


def describe_length(num_frames: int, fps: int = FPS) -> str:
    """The line beside the frames slider: what a request of `num_frames` makes, and why when it differs."""
    chunks = chunks_for(num_frames)
    made = frames_made(num_frames)
    line = f"You get **{plural(made, 'frame')}** ({seconds_of_video(made, fps)}), made as {plural(chunks, 'chunk')} of 33"
    if made == num_frames:
        return line + "."
    return (line + f". Not {num_frames:,}: Helios trims a video to a length of 4k+1 frames, so "
            f"{plural(num_frames - made, 'frame')} of the last chunk {'goes' if num_frames - made == 1 else 'go'}.")


def length_lines(max_frames: int = MAX_FRAMES) -> dict[int, str]:
    """`describe_length` of every value the slider offers: the page looks these up as the slider moves."""
    return {n: describe_length(n) for n in range(CHUNK_FRAMES, max_frames + 1, CHUNK_FRAMES)}


# ---------------------------------------------------------------- parameter specs
# One spec per /video parameter: the tab builds its controls from these and
# checks every value with them (shared.io.params), so slider, message and check agree.
PROMPT = Text("prompt", "Prompt", max_chars=MAX_PROMPT_CHARS, hint="describe the video you want",
              placeholder="A red fox trots through fresh snow at dawn, tracking shot.")
MODE = Choice.of("mode", "Mode", [(title, key) for key, title in MODE_TITLES.items()], default="t2v")
NUM_FRAMES = Number("num_frames", f"Frames to make (whole chunks of 33, up to {MAX_FRAMES:,})", minimum=CHUNK_FRAMES,
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
    return replace(spec, label=f"Frames to make (whole chunks of 33, up to {int(spec.maximum):,})")


def check_prompt(prompt) -> str:
    return PROMPT.check(prompt)


def check_mode(mode) -> str:
    return MODE.check(mode)


def check_frames(num_frames, max_frames: int = MAX_FRAMES, notes: dict | None = None) -> int:
    """A whole number of 33-frame chunks: in-range values between two chunk sizes are rounded (noted)."""
    return frames_spec(max_frames).check(num_frames, notes)


def check_resolution(label, allowed: list[str] | tuple[str, ...]) -> Resolution:
    """One of the resolutions the profile offers (`allowed`)."""
    return RESOLUTIONS[RESOLUTION.only(allowed).check(label)]


def check_steps(steps, max_steps: int, notes: dict | None = None) -> int:
    return STEPS.capped(max_steps).check(steps, notes)


def check_guidance(scale) -> float:
    return GUIDANCE.check(scale)
