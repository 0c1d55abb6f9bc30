"""The History trash: a deleted result is kept 24 hours so that Undo can bring it back.

`<outputs>/.trash/<folder>/<stem>/` holds the result's files as they were, `inputs/` with the saved inputs
no other result used, and `manifest.json` (id, owner, when, what was moved). The index never scans dot
folders and no route serves the outputs dir, so trashed files are neither listed nor served; restoring
checks the owner like every History action. Gradio-free: `HistoryStore` moves entries in and out.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from shared.errors import UserInputError
from shared.io.outputs import INPUTS_FOLDER, write_json_atomic

log = logging.getLogger(__name__)

TRASH_FOLDER = ".trash"
KEEP_S = 24 * 3600
MANIFEST = "manifest.json"


def place(root: Path, item_id: str) -> Path:
    folder, stem = item_id.split("/", 1)
    return root / TRASH_FOLDER / folder / stem


def move_in(root: Path, item_id: str, owner: str | None, files: list[str], inputs: list[str]) -> Path:
    """Move a result's files (names in its demo folder) and unused saved inputs (relative to `root`)
    into its trash place; a result deleted before, restored and deleted again replaces its old copy."""
    folder = item_id.split("/", 1)[0]
    target = place(root, item_id)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    (target / INPUTS_FOLDER).mkdir(parents=True)
    write_json_atomic(target / MANIFEST, {"id": item_id, "owner": owner, "deleted_ts": time.time(),
                                          "files": files, "inputs": inputs})
    for name in files:
        _move(root / folder / name, target / name)
    for rel in inputs:
        _move(root / rel, target / INPUTS_FOLDER / Path(rel).name)
    return target


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except FileNotFoundError:
        pass  # already gone (a partials folder removed by its run)


def manifest(root: Path, item_id: str) -> dict | None:
    try:
        return json.loads((place(root, item_id) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def move_out(root: Path, item_id: str, scope: str | None) -> list[str]:
    """Put a trashed result back where it was; the files moved back (relative to `root`).
    The same message whether it is not in the trash or is someone else's."""
    found = manifest(root, item_id)
    if found is None or (scope is not None and found.get("owner") != scope):
        raise UserInputError(f"'{item_id}' is not in the trash (deleted results are kept {KEEP_S // 3600} hours).")
    source = place(root, item_id)
    folder = root / item_id.split("/", 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    (root / INPUTS_FOLDER).mkdir(parents=True, exist_ok=True)
    moved = []
    for rel in found.get("inputs", []):
        kept, back = source / INPUTS_FOLDER / Path(rel).name, root / rel
        if kept.exists() and not back.exists():  # the same content may have been saved again meanwhile
            os.replace(kept, back)
            moved.append(rel)
    # The sidecar last: the result is listed again only once its files are back.
    sidecar = item_id.split("/", 1)[1] + ".json"
    for name in sorted(found.get("files", []), key=lambda n: n == sidecar):
        if (source / name).exists():
            os.replace(source / name, folder / name)
            moved.append(f"{folder.name}/{name}")
    shutil.rmtree(source, ignore_errors=True)
    return moved


def purge(root: Path, now: float | None = None, keep_s: float = KEEP_S) -> list[str]:
    """Remove what has been in the trash longer than `keep_s`; the ids removed."""
    now = time.time() if now is None else now
    gone = []
    base = root / TRASH_FOLDER
    for place_dir in sorted(base.glob("*/*")) if base.is_dir() else []:
        found = manifest(root, f"{place_dir.parent.name}/{place_dir.name}")
        deleted = float(found.get("deleted_ts", 0)) if found else place_dir.stat().st_mtime
        if now - deleted > keep_s:
            shutil.rmtree(place_dir, ignore_errors=True)
            gone.append(f"{place_dir.parent.name}/{place_dir.name}")
    if gone:
        log.info("History trash: removed %d results deleted over %d hours ago", len(gone), keep_s // 3600)
    return gone
