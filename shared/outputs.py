"""Where generated files go: generated names under the outputs dir only."""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

_SAFE_PART = re.compile(r"^[a-z0-9_-]+$")


def new_output_path(outputs_dir: str | Path, demo: str, suffix: str) -> Path:
    """`outputs_dir/<demo>/<timestamp>-<random>.<suffix>`; never built from user input."""
    if not _SAFE_PART.match(demo) or not _SAFE_PART.match(suffix.lstrip(".")):
        raise ValueError(f"Unsafe output name parts: {demo!r}, {suffix!r}")
    folder = Path(outputs_dir) / demo
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"{stamp}-{uuid.uuid4().hex[:8]}.{suffix.lstrip('.')}"


def write_sidecar(path: str | Path, info: dict) -> Path:
    """Write `info` as JSON beside `path` (`<name>.json`)."""
    sidecar = Path(path).with_suffix(".json")
    sidecar.write_text(json.dumps(info, indent=2, default=str, ensure_ascii=False) + "\n")
    return sidecar


AUDIO_FORMATS = ("wav", "flac")


def save_audio_output(outputs_dir: str | Path, demo: str, wave, sample_rate: int, info: dict, fmt: str = "wav") -> Path:
    """Save generated audio as WAV or FLAC under the outputs dir, with its sidecar.

    `info` gains the file name and format, so the sidecar and the API answer agree.
    """
    from shared.errors import UserInputError
    from shared.media import save_audio

    fmt = (fmt or "wav").lower()
    if fmt not in AUDIO_FORMATS:
        raise UserInputError(f"Unknown format '{fmt}'; choose one of: {', '.join(AUDIO_FORMATS)}.")
    if wave.size == 0:
        raise UserInputError("Nothing was generated (the run was stopped before the first audio).")
    path = new_output_path(outputs_dir, demo, fmt)
    save_audio(path, wave, sample_rate)
    info["file"] = path.name
    info["format"] = fmt
    write_sidecar(path, info)
    return path
