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
