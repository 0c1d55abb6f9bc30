"""Model spec of the cloning engine (Pocket TTS, transformers format)."""
from __future__ import annotations

from shared.models.hub import ModelSpec

from demos.voice.cloning import checkpoint, plans
from demos.voice.cloning.checkpoint import CODEC_REPO

# The transformers-format checkpoint transformers' own documentation names
# (PocketTTSConfig / PocketTTSForConditionalGeneration docstrings). Its
# processor config names the codec repo (documented as
# `eustlb/pocket-tts-audio-tokenizer`), which is fetched through the Hub cache.
DEFAULT_SOURCE = "eustlb/pocket-tts"
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = (
    "Pocket TTS by [Kyutai](https://kyutai.org) ([kyutai-labs/pocket-tts](https://github.com/kyutai-labs/pocket-tts)), "
    "weights under CC BY 4.0; transformers port by Hugging Face."
)

SPECS = [
    ModelSpec(
        key=plans.KEY,
        title="Pocket TTS (voice cloning)",
        default_source=DEFAULT_SOURCE,
        licence=LICENCE,
        licence_url=LICENCE_URL,
        write_tiny=checkpoint.write_tiny,
        plan=plans.plan,
        allow_patterns=("*.json", "*.safetensors", "*.jinja", "*.model"),
        notes="Zero-shot voice cloning from 2-30 s of reference audio; the codec repo is named in processor_config.json.",
        # ~100 M parameters in fp32 plus the 20.1 M-parameter fp32 codec: an estimate, about 0.5 GB.
        download_gb=0.5,
        companions=(CODEC_REPO,),
    )
]
