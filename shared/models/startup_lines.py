"""The terminal lines at start-up: which models are on disk, what each tab's first run downloads,
and a CUDA build of torch on a machine without a GPU (with the CPU-build install command).

Never imports torch (start-up must not: tests/shared/test_startup_imports.py): the installed
torch's build is read from the text of its `torch/version.py`. Gradio-free.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from shared.models import hub, model_files
from shared.models.hardware import HardwareInfo

CPU_TORCH_COMMAND = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def torch_cuda_build() -> str | None:
    """The CUDA version the installed torch was built for ('12.8'), None for a CPU build or no torch."""
    spec = importlib.util.find_spec("torch")  # finds the package without importing it
    if spec is None or not spec.origin:
        return None
    try:
        text = (Path(spec.origin).parent / "version.py").read_text()
    except OSError:
        return None
    found = re.search(r"^cuda(?:\s*:\s*[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return found.group(1) if found else None


def torch_build_line(hw: HardwareInfo, cuda_build: str | None) -> str | None:
    """Say so when a CUDA build of torch (GBs of CUDA libraries) sits on a machine with no GPU."""
    if hw.cuda or hw.zerogpu or cuda_build is None:
        return None
    return (f"No GPU found, but the installed torch is a CUDA {cuda_build} build (several GB of CUDA libraries "
            f"this machine cannot use). A CPU build is much smaller: {CPU_TORCH_COMMAND}")


def model_lines(settings, tab_of: dict[str, str]) -> list[str]:
    """'Models on disk: NVIDIA NitroGen (Game agent).', then one line per model not on disk with its size."""
    on_disk, to_fetch = [], []
    for spec in hub.all_specs():
        tab = tab_of.get(spec.key, "its tab")
        source = hub.resolve_source(spec.key, settings)
        if source.kind == "tiny":
            continue  # written on first use, nothing to download
        if model_files.checkpoint_on_disk(spec.key, settings):
            on_disk.append(f"{spec.title} ({tab})")
        else:
            size = f"about {spec.download_gb:g} GB" if spec.download_gb else "its files"
            to_fetch.append(f"  {tab}: {spec.title}, {size}")
    if not on_disk and not to_fetch:
        return ["Models: tiny test checkpoints (--tiny), written on first use; nothing to download."]
    lines = [f"Models on disk: {', '.join(on_disk) if on_disk else 'none yet'}."]
    if to_fetch:  # one line each: a terminal reads better than one long sentence
        lines += ["Not on disk yet; the first run of its tab downloads it (or use Download in the System tab):",
                  *to_fetch]
    return lines
