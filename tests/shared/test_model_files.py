"""Offload folders go once their checkpoint is gone (shared/models/model_files.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from demos.registry import load_demos
from shared.models import hub, model_files
from shared.web.settings import Settings


@pytest.fixture(scope="module", autouse=True)
def registered_models():
    load_demos()  # registers every model spec, as building the app does before the prune


def offload_folder(cache: Path, key: str, name: str = "transformer-leaf-fp8-0123456789abcdef") -> Path:
    folder = model_files.offload_root(cache) / key / name
    folder.mkdir(parents=True)
    (folder / "group_0.safetensors").write_bytes(b"\0" * 4096)
    return folder


def test_folders_of_missing_checkpoints_are_removed_and_the_rest_kept(tmp_path):
    cache, local = tmp_path / "cache", tmp_path / "my-helios-base"
    local.mkdir()
    settings = Settings.from_args(["--tiny", "--cache-dir", str(cache), "--source", f"helios-base={local}",
                                   "--source", f"helios-mid={tmp_path / 'deleted-folder'}"])
    hub.tiny_dir("helios-distilled", settings).mkdir(parents=True)  # written on first use, still there
    kept = [offload_folder(cache, "helios-distilled"), offload_folder(cache, "helios-base")]
    gone = [offload_folder(cache, "helios-mid"),  # its local source folder was deleted
            offload_folder(cache, "nitrogen"),  # tiny checkpoint never written (or cleared)
            offload_folder(cache, "helios-old-name")]  # no model of that name any more

    freed = model_files.prune_orphaned_offload_files(settings)

    assert all(folder.is_dir() for folder in kept)
    assert not any(folder.parent.exists() for folder in gone)
    assert freed == {"helios-mid": 4096, "helios-old-name": 4096, "nitrogen": 4096}
    assert model_files.prune_orphaned_offload_files(settings) == {}  # nothing left to do


def test_no_offload_root_is_a_no_op(tmp_path):
    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp_path / "cache")])
    assert model_files.prune_orphaned_offload_files(settings) == {}
    assert not (tmp_path / "cache").exists()
