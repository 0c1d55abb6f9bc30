"""The model manager behind the System tab: each model's size, whether it is on disk and where,
Download with progress in words, Delete (Hub cache folders and offload folders), and plain
guidance when offline or when the Hub asks to accept a licence. Gradio-free.

Sizes work offline: each spec's `download_gb` records the real checkpoint's size; the Hub is
asked only when a download actually starts (its byte counts then give the exact total).
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from shared.errors import UserInputError
from shared.models import hub, model_files
from shared.models.expected_speed import duration_words
from shared.io.text import escape_markdown

GB = 1024**3
POLL_S = 0.5  # how often a running download's line is re-written


@dataclass(frozen=True)
class ModelRow:
    key: str
    title: str
    download_gb: float | None
    on_disk: bool
    where: str  # the folder(s) holding it, or "" when not on disk
    disk_bytes: int  # checkpoint + offload folders


def hub_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)  # read at call time: HF_HUB_CACHE may be set per test or per run


def repo_folder(repo_id: str) -> Path:
    """The Hugging Face cache folder of a model repo (`models--owner--name`)."""
    from huggingface_hub.file_download import repo_folder_name

    return hub_cache() / repo_folder_name(repo_id=repo_id, repo_type="model")


def tree_bytes(folder: Path) -> int:
    """Bytes under `folder`, each file once (the cache's snapshots are links to its blobs)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def model_folders(key: str, settings) -> list[Path]:
    """Every folder that holds `key`'s files here: its checkpoint (Hub repos or tiny) and offload folders."""
    source = hub.resolve_source(key, settings)
    if source.kind == "tiny":
        folders = [hub.tiny_dir(key, settings)]
    elif source.kind == "local":
        folders = []  # the person's own folder: never ours to list for deletion
    else:
        folders = [repo_folder(repo) for repo, _ in hub.spec_for(key).hub_repos(source.id)]
    folders.append(model_files.offload_root(settings.cache_dir) / key)
    return [f for f in folders if f.is_dir()]


def model_row(key: str, settings) -> ModelRow:
    spec = hub.spec_for(key)
    on_disk = model_files.checkpoint_on_disk(key, settings)
    folders = model_folders(key, settings)
    source = hub.resolve_source(key, settings)
    where = source.id if source.kind == "local" else ", ".join(str(f) for f in folders if on_disk)
    return ModelRow(key, spec.title, spec.download_gb, on_disk, where, sum(tree_bytes(f) for f in folders))


def model_rows(settings) -> list[ModelRow]:
    return [model_row(spec.key, settings) for spec in hub.all_specs()]


def size_words(nbytes: float) -> str:
    if nbytes >= 0.1 * GB:
        return f"{nbytes / GB:.1f} GB"
    return f"{nbytes / 1024**2:.0f} MB" if nbytes >= 1024**2 else "under 1 MB"


def row_words(row: ModelRow) -> str:
    """'**Voxtral-4B-TTS-2603** · about 8 GB to download · on disk (3.1 GB in /cache/...)'."""
    size = f"about {row.download_gb:g} GB to download" if row.download_gb else "download size not recorded"
    state = (f"on disk ({size_words(row.disk_bytes)} in `{row.where}`)" if row.on_disk
             else "not on disk" + (f" (leftover files: {size_words(row.disk_bytes)})" if row.disk_bytes else ""))
    return f"**{escape_markdown(row.title)}** · {size} · {state}"


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def offline_guidance(key: str, why: str) -> str:
    commands = " && ".join(f"`{hub.download_command(r, p)}`" for r, p in hub.spec_for(key).hub_repos())
    return (f"{why}: copy this command to a machine with internet: {commands}, then copy its Hugging Face "
            f"cache folder ({hub_cache()}) here.")


class ByteCounter:
    """What a running download has done: bytes, total, start time; filled by tqdm from the Hub's threads."""

    def __init__(self) -> None:
        self.done = 0.0
        self.total = 0.0
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def words(self, repo_id: str) -> str:
        """'Downloading `x`: 1.2 GB of 8.0 GB, 45 MB/s, about 3 minutes left.'"""
        with self.lock:
            done, total = self.done, self.total
        elapsed = max(time.monotonic() - self.started, 1e-6)
        speed = done / elapsed
        line = f"Downloading `{repo_id}`: {size_words(done)}" + (f" of {size_words(total)}" if total else "")
        if speed > 0:
            line += f", {size_words(speed)}/s"
            if total > done:
                line += f", {duration_words((total - done) / speed)} left"
        return line + "."


def tqdm_for(counter: ByteCounter):
    """A tqdm class for snapshot_download whose byte bars (unit B) feed `counter`."""
    from tqdm.auto import tqdm

    class Counting(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True  # nothing printed; the counter is the display
            super().__init__(*args, **kwargs)
            # Two byte bars come: bytes written (counted) and network bytes ("Downloading bytes"), which
            # for Xet storage differ in size; counting both would double the figure.
            self.counts_bytes = kwargs.get("unit") == "B" and kwargs.get("desc") != "Downloading bytes"

        def update(self, n=1):
            if self.counts_bytes:
                with counter.lock:
                    counter.done += n or 0
                    counter.total = max(counter.total, float(self.total or 0))
            return super().update(n)

    return Counting


def fetch_repo(repo_id: str, patterns, counter: ByteCounter, outcome: dict) -> None:
    """snapshot_download into the Hub cache; the outcome ("error") is left in `outcome` for the caller."""
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_id, allow_patterns=list(patterns) if patterns else None, tqdm_class=tqdm_for(counter))
    except Exception as exc:  # reported in words by the caller
        outcome["error"] = exc


def failure_words(key: str, repo_id: str, exc: Exception) -> str:
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    if isinstance(exc, GatedRepoError):
        return hub.gated_message(repo_id)
    if isinstance(exc, RepositoryNotFoundError):
        return f"The Hub has no repo `{repo_id}` (or it is private): check the model's source setting."
    if isinstance(exc, LocalEntryNotFoundError) or isinstance(exc, OSError):
        return offline_guidance(key, "No network: the Hub cannot be reached")
    return f"The download of `{repo_id}` failed ({type(exc).__name__}); try again, or fetch it elsewhere: " \
        + offline_guidance(key, "to fetch it on another machine")


def download_lines(key: str, settings) -> Iterator[str]:
    """Download `key` (every repo it needs), yielding a line every POLL_S: bytes, speed, time left."""
    spec = hub.spec_for(key)
    source = hub.resolve_source(key, settings)
    if source.kind != "hub":
        yield f"**{spec.title}** comes from {'the tiny test checkpoint' if source.kind == 'tiny' else source.id}: nothing to download."
        return
    if offline():
        yield offline_guidance(key, "HF_HUB_OFFLINE is set, so this app does not download")
        return
    for repo_id, patterns in spec.hub_repos(source.id):
        counter, outcome = ByteCounter(), {}
        worker = threading.Thread(target=fetch_repo, args=(repo_id, patterns, counter, outcome), daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(POLL_S)
            yield counter.words(repo_id)
        if "error" in outcome:
            yield failure_words(key, repo_id, outcome["error"])
            return
    yield f"**{spec.title}** is on disk: {row_words(model_row(key, settings))}."


def delete_model(key: str, settings, resident: set[str], zerogpu: bool) -> str:
    """Remove `key`'s Hub cache folders (companions no other model uses) and its offload folders.
    Refuses on ZeroGPU, for a local source, and while the model is loaded (Unload it first)."""
    spec = hub.spec_for(key)
    if zerogpu:
        raise UserInputError("Delete is off on ZeroGPU: the Space preloads every model at start-up.")
    if key in resident:
        raise UserInputError(f"{spec.title} is loaded: press Unload (under Resident models) first, then Delete "
                             f"(deleting the files of a loaded model would break a run in progress).")
    source = hub.resolve_source(key, settings)
    if source.kind == "local":
        raise UserInputError(f"{spec.title} runs from your own folder {source.id}: this app does not delete it.")
    shared_repos = {r for other in hub.all_specs() if other.key != key for r, _ in other.hub_repos()}
    folders = [f for f in model_folders(key, settings) if f.name.removeprefix("models--").replace("--", "/")
               not in shared_repos]
    freed = sum(tree_bytes(f) for f in folders)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    if not folders:
        return f"{spec.title}: nothing on disk to delete."
    return f"Deleted {spec.title}: {size_words(freed)} freed ({', '.join(str(f) for f in folders)})."
