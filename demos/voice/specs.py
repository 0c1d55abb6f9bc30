"""Model specs of the Voice tab: Voxtral-4B-TTS (preset voices) and, when its
package is present, the Pocket TTS cloning model."""
from __future__ import annotations

import importlib

from shared.models.expected_speed import TWO_CORE_CPU, Measured
from shared.models.hub import ModelSpec
from shared.lazy import OnFirstCall

from demos.voice import plans
from demos.voice.voxtral.files import ALLOW_PATTERNS, HUB_REPO_ID

VOXTRAL_LICENCE = "CC BY-NC 4.0"
VOXTRAL_LICENCE_URL = "https://creativecommons.org/licenses/by-nc/4.0/"

# What the System tab and the readiness line say to expect on the CPU, per dtype the plan may pick.
CPU_SPEED = tuple(
    Measured("cpu", TWO_CORE_CPU, "docs/BENCHMARKS.md, Voice: real-size Voxtral-4B on the CPU", dtype=dtype,
             realtime_factor=figures["real_time_factor"], first_output_s=figures["first_audio_s"])
    for dtype, figures in plans.MEASURED_CPU_SPEED.items()
)

VOXTRAL = ModelSpec(
    key=plans.KEY,
    title="Voxtral-4B-TTS-2603",
    default_source=HUB_REPO_ID,
    licence=VOXTRAL_LICENCE,
    licence_url=VOXTRAL_LICENCE_URL,
    write_tiny=OnFirstCall("demos.voice.voxtral.tiny:write_tiny"),  # torch loads with the first tiny checkpoint
    plan=plans.plan,
    allow_patterns=ALLOW_PATTERNS,
    notes="Mistral's 4B text-to-speech model with 20 preset voices in 9 languages; non-commercial licence.",
    download_gb=8.0,  # 4,002,353,392 parameters in bf16 (consolidated.safetensors); the voices are small
    speed=CPU_SPEED,
)


def _cloning_specs() -> list[ModelSpec]:
    try:
        module = importlib.import_module("demos.voice.cloning.specs")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("demos.voice.cloning"):
            return []  # the cloning package is optional
        raise
    return list(module.SPECS)


SPECS: list[ModelSpec] = [VOXTRAL, *_cloning_specs()]
