"""Example files the tabs offer in their gr.Examples, made by `make.py` here (see PROVENANCE.md)."""
from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent


def asset(name: str) -> str:
    """Path of one example file; a missing one is a packaging bug, so it fails loudly."""
    path = ASSETS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"example file {path} is missing: run python -m demos.assets.make")
    return str(path)
