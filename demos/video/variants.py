"""The three Helios checkpoints and their recommended generation settings.

Distilled and Mid run through diffusers' `HeliosPyramidPipeline` (three
resolution stages per chunk), Base through `HeliosPipeline` (one stage).
Loading Distilled with `HeliosPipeline` fails upstream (issue #72), so the
pairing lives here, in one place.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

# Wan-style negative prompt (the Base and Mid models use classifier-free guidance).
NEGATIVE_PROMPT = (
    "bright tones, overexposed, static, blurred details, subtitles, style, artwork, painting, still picture, "
    "overall gray, worst quality, low quality, JPEG artifacts, ugly, deformed, extra fingers, poorly drawn hands, "
    "poorly drawn face, malformed limbs, fused fingers, messy background, three legs, crowded background, "
    "walking backwards"
)


@dataclass(frozen=True)
class GenerationSettings:
    """What a user may tune under "Advanced"; defaults are each model's recommended call."""

    steps: tuple[int, ...]  # per pyramid stage (Distilled, Mid) or (total steps,) for Base
    guidance_scale: float
    amplify_first_chunk: bool = False  # DMD: chunk 0 runs twice the steps (Distilled only)
    use_zero_init: bool = False  # CFG-Zero* (Mid only)
    zero_steps: int = 1
    negative_prompt: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def with_steps(self, steps_per_stage: int) -> "GenerationSettings":
        return replace(self, steps=tuple(int(steps_per_stage) for _ in self.steps))


@dataclass(frozen=True)
class Variant:
    name: str  # "distilled" | "mid" | "base" (the /video `variant` values)
    key: str  # model key in the hub registry
    title: str
    repo: str
    pyramid: bool
    scheduler: str  # diffusers class name
    defaults: GenerationSettings
    max_steps: int  # upper bound of the Advanced steps slider

    def steps_per_chunk(self, settings: GenerationSettings, first_chunk: bool) -> int:
        """Denoising steps (transformer passes, ignoring CFG) the pipeline runs for one chunk."""
        total = sum(settings.steps)
        if self.name == "distilled" and settings.amplify_first_chunk and first_chunk:
            return 2 * total
        return total


VARIANTS: dict[str, Variant] = {
    "distilled": Variant(
        name="distilled", key="helios-distilled", title="Helios-Distilled (fast, DMD, no CFG)",
        repo="BestWishYsh/Helios-Distilled", pyramid=True, scheduler="HeliosDMDScheduler",
        defaults=GenerationSettings(steps=(2, 2, 2), guidance_scale=1.0, amplify_first_chunk=True),
        max_steps=10,
    ),
    "mid": Variant(
        name="mid", key="helios-mid", title="Helios-Mid (pyramid, CFG-Zero*)",
        repo="BestWishYsh/Helios-Mid", pyramid=True, scheduler="HeliosScheduler",
        defaults=GenerationSettings(steps=(20, 20, 20), guidance_scale=5.0, use_zero_init=True, zero_steps=1,
                                    negative_prompt=NEGATIVE_PROMPT),
        max_steps=50,
    ),
    "base": Variant(
        name="base", key="helios-base", title="Helios-Base (50 steps, CFG)",
        repo="BestWishYsh/Helios-Base", pyramid=False, scheduler="HeliosScheduler",
        defaults=GenerationSettings(steps=(50,), guidance_scale=5.0, negative_prompt=NEGATIVE_PROMPT),
        max_steps=100,
    ),
}
DEFAULT_VARIANT = "distilled"
VARIANT_BY_KEY = {v.key: v for v in VARIANTS.values()}
