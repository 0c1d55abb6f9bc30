"""Files a model leaves under the cache dir besides its checkpoint, and when they go.

Offload folders (shared/models/disk_offload.py) are built from a checkpoint and named by
its fingerprint, so once the checkpoint is gone (`hf cache delete`, a removed
local folder, a cleared tiny cache) they can never be reused: a re-download gets
new file times and a new fingerprint. They are tens of GB, so the app removes
them at start instead of leaving them behind. Gradio-free.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from shared.models import hub

log = logging.getLogger(__name__)

OFFLOAD_DIRNAME = "offload"


def offload_root(cache_dir) -> Path:
    """The folder under the cache dir that holds every model's offload folders (`<key>/<component>-...`)."""
    return Path(cache_dir) / OFFLOAD_DIRNAME


def folder_bytes(folder: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except FileNotFoundError:
        return 0


def remove_offload_files(cache_dir, model_key: str | None = None) -> int:
    """Delete the offload folders of one model (or all); returns bytes freed."""
    target = offload_root(cache_dir) / model_key if model_key else offload_root(cache_dir)
    if not target.exists():
        return 0
    freed = sum(folder_bytes(Path(d)) for d, _, _ in os.walk(target))
    shutil.rmtree(target, ignore_errors=True)
    return freed


def checkpoint_on_disk(key: str, settings) -> bool:
    """Whether `key`'s checkpoint is on this machine (no network, nothing downloaded or written)."""
    from shared.models.readiness import weights_on_disk

    source = hub.resolve_source(key, settings)
    if source.kind == "tiny":
        return hub.tiny_dir(key, settings).is_dir()
    if source.kind == "local":
        return Path(source.id).is_dir()
    return all(weights_on_disk(repo, patterns) for repo, patterns in hub.spec_for(key).hub_repos(source.id))


def prune_orphaned_offload_files(settings) -> dict[str, int]:
    """Remove the offload folders of every model whose checkpoint is gone; returns {model key: bytes freed}.
    Folders of models this app does not know (a renamed variant) go too: nothing can load them."""
    root = offload_root(settings.cache_dir)
    if not root.is_dir():
        return {}
    known = {spec.key for spec in hub.all_specs()}
    freed = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        key = folder.name
        if key in known and checkpoint_on_disk(key, settings):
            continue
        freed[key] = remove_offload_files(settings.cache_dir, key)
        log.info("Removed the offload files of '%s' (%.1f GB): its checkpoint is no longer on disk", key,
                 freed[key] / 1024**3)
    return freed
