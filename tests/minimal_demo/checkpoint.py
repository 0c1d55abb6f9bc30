"""The tone checkpoint: `config.json` + `model.safetensors`; read strictly, and written tiny for tests."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from shared.errors import ModelLoadError

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
ALLOW_PATTERNS = (CONFIG_FILE, WEIGHTS_FILE)


def write_tiny(dest: Path) -> None:
    """Random weights in the real layout (the loader reads this folder exactly as a download)."""
    import torch
    from safetensors.torch import save_file

    from .model import ToneConfig, ToneModel

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    config = ToneConfig()
    (dest / CONFIG_FILE).write_text(json.dumps(asdict(config)))
    model = ToneModel(config)
    with torch.no_grad():
        model.harmonic_logits.normal_(generator=torch.Generator().manual_seed(0))
    save_file(model.state_dict(), str(dest / WEIGHTS_FILE))


def load_model(model_dir: Path):
    """The ToneModel of `model_dir`; a missing file, a bad config or a tensor that does not fit is a
    ModelLoadError naming it."""
    from safetensors.torch import load_file

    from .model import ToneConfig, ToneModel

    model_dir = Path(model_dir)
    for name in ALLOW_PATTERNS:
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir / name}: file not found.")
    try:
        config = ToneConfig(**json.loads((model_dir / CONFIG_FILE).read_text()))
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{model_dir / CONFIG_FILE}: not a tone config ({exc}).") from None
    model = ToneModel(config)
    try:  # safetensors' own errors (a cut or foreign file) and torch's (a missing or misshapen tensor)
        model.load_state_dict(load_file(str(model_dir / WEIGHTS_FILE)), strict=True)
    except Exception as exc:  # noqa: BLE001 - every cause becomes one message naming the file
        raise ModelLoadError(f"{model_dir / WEIGHTS_FILE}: {str(exc).splitlines()[0]}") from None
    return model.eval()
