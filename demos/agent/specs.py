"""Model specs of the game-agent demo (registered by demos.registry)."""

from __future__ import annotations

from shared.models.hub import ModelSpec
from shared.lazy import OnFirstCall

from .config import CHECKPOINT_FILE
from .plans import MODEL_KEY, plan

LICENCE = "NVIDIA License (non-commercial research use only)"
LICENCE_URL = "https://huggingface.co/nvidia/NitroGen"

SPECS = [
    ModelSpec(
        key=MODEL_KEY,
        title="NVIDIA NitroGen",
        default_source="nvidia/NitroGen",
        licence=LICENCE,
        licence_url=LICENCE_URL,
        allow_patterns=(CHECKPOINT_FILE,),
        write_tiny=OnFirstCall("demos.agent.checkpoint:write_tiny"),  # torch loads with the first tiny checkpoint
        plan=plan,
        notes="ng.pt: {model, ckpt_config, step, epoch}; SigLIP tower built from config, weights from ng.pt.",
        download_gb=2.0,  # 493.6 M parameters; fp32 (the config's model_dtype default), so an upper bound
    )
]
