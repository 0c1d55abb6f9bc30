"""Model specs of the video tab: the three Helios checkpoints (Apache-2.0)."""
from __future__ import annotations

import functools

from shared.models.hub import ModelSpec
from shared.lazy import OnFirstCall
from shared.models.profiles import multi_gpu

from . import plans

# diffusers and torch load with the first tiny checkpoint, not with the page.
WRITE_TINY = OnFirstCall("demos.video.checkpoint:write_tiny")
from .variants import VARIANTS

LICENCE = "Apache-2.0"
LICENCE_URL = "https://www.apache.org/licenses/LICENSE-2.0"
# The diffusers layout: configs, safetensors shards and the tokenizer files.
ALLOW_PATTERNS = (
    "model_index.json", "*/config.json", "*/*.safetensors", "*/*.safetensors.index.json",
    "scheduler/scheduler_config.json", "tokenizer/*", "README.md", "LICENSE*",
)

SPECS = [
    ModelSpec(
        key=v.key, title=v.title, default_source=v.repo, licence=LICENCE, licence_url=LICENCE_URL,
        write_tiny=functools.partial(WRITE_TINY, v.name),
        plan=multi_gpu(functools.partial(plans.plan, v.key)), allow_patterns=ALLOW_PATTERNS,
        notes="14B Wan-based autoregressive video model by PKU-YuanGroup; diffusers format.",
        # bf16 transformer + UMT5-XXL encoder + fp32 VAE, from the configs (plans.py).
        download_gb=round(plans.TRANSFORMER_BF16_GB + plans.TEXT_ENCODER_GB + plans.VAE_GB, 1),
    )
    for v in VARIANTS.values()
]
