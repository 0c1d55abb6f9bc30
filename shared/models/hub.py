"""Model sources: a Hub repo id, a local directory, or `tiny`.

Every model is described by a `ModelSpec` that its demo registers. `fetch`
turns a spec plus the settings into a local directory holding the files in
the model's real on-disk layout; the demo's loader reads that directory the
same way whatever the source was. `tiny` writes a randomly initialised
checkpoint in the real layout once, into the cache directory.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from shared.errors import ModelFilesMissing
from shared.models.profiles import PlanFn
from shared.tasks.cancel import Progress, no_progress
from shared.tasks.load_progress import reporting_to
from shared.io.text import escape_markdown

log = logging.getLogger(__name__)

TINY = "tiny"
_COMPLETE_MARKER = ".release-hub-complete"


@dataclass(frozen=True)
class CompanionRepo:
    """Another Hub repo a model needs besides its own (e.g. the codec its processor config names)."""

    repo_id: str
    allow_patterns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    default_source: str  # Hub repo id
    licence: str  # e.g. "CC BY-NC 4.0"
    licence_url: str
    write_tiny: Callable[[Path], None]
    plan: PlanFn
    allow_patterns: tuple[str, ...] | None = None  # files to download; None = all
    notes: str = ""
    # What a first run downloads, companions included: parameter count x stored dtype, from the
    # model's config (stated to users as "about"). Static on purpose: the tab states it on every
    # page load, which must not wait on the network, and it must work offline.
    download_gb: float | None = None
    companions: tuple[CompanionRepo, ...] = ()
    # Measured speeds (shared.models.expected_speed.Measured), each citing docs/BENCHMARKS.md: what the
    # System tab and the readiness lines say to expect. None measured: they say "not measured".
    speed: tuple = ()

    def hub_repos(self, source_id: str | None = None) -> list[tuple[str, tuple[str, ...] | None]]:
        """Every (repo, patterns) a Hub source of this model downloads: its own first, then companions."""
        own = (source_id or self.default_source, self.allow_patterns)
        return [own, *((c.repo_id, c.allow_patterns) for c in self.companions)]


@dataclass(frozen=True)
class Source:
    key: str
    kind: Literal["hub", "local", "tiny"]
    id: str  # repo id, directory, or "tiny"

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "id": self.id}


_SPECS: dict[str, ModelSpec] = {}
_tiny_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def register(spec: ModelSpec) -> None:
    existing = _SPECS.get(spec.key)
    if existing is not None and existing != spec:
        raise ValueError(f"Model key {spec.key!r} is registered twice with different specs.")
    _SPECS[spec.key] = spec


def spec_for(key: str) -> ModelSpec:
    try:
        return _SPECS[key]
    except KeyError:
        raise KeyError(f"Unknown model key {key!r}; known: {', '.join(sorted(_SPECS)) or 'none'}.") from None


def all_specs() -> list[ModelSpec]:
    return list(_SPECS.values())


def resolve_source(key: str, settings) -> Source:
    """Where `key`'s files come from under these settings."""
    spec = spec_for(key)
    chosen = settings.source_override(key) or spec.default_source
    if chosen == TINY:
        return Source(key, "tiny", TINY)
    if os.path.isdir(os.path.expanduser(chosen)) or chosen.startswith(("/", ".", "~")):
        return Source(key, "local", str(Path(chosen).expanduser()))
    return Source(key, "hub", chosen)


def tiny_dir(key: str, settings) -> Path:
    return Path(settings.cache_dir) / "tiny" / key


def fetch(key: str, settings, progress: Progress | None = None) -> Path:
    """A local directory with `key`'s files, downloading or writing them if needed."""
    progress = progress or no_progress
    spec = spec_for(key)
    source = resolve_source(key, settings)
    if source.kind == "tiny":
        return _ensure_tiny(spec, tiny_dir(key, settings), progress)
    if source.kind == "local":
        path = Path(source.id)
        if not path.is_dir():
            raise ModelFilesMissing(
                f"The local source for '{key}' does not exist: {path}. Point "
                f"RELEASE_HUB_SOURCE_{key.upper().replace('-', '_')} at a directory in the layout of {spec.default_source}."
            )
        return path
    return download(source.id, key=key, allow_patterns=spec.allow_patterns, progress=progress)


def _ensure_tiny(spec: ModelSpec, dest: Path, progress: Progress) -> Path:
    if (dest / _COMPLETE_MARKER).exists():
        return dest
    with _registry_lock:
        lock = _tiny_locks.setdefault(spec.key, threading.Lock())
    with lock:
        if (dest / _COMPLETE_MARKER).exists():
            return dest
        progress(0.0, f"Writing the tiny '{spec.key}' checkpoint")
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Write into a scratch dir and rename, so a crash never leaves a
        # half-written checkpoint that later loads would trust.
        scratch = Path(tempfile.mkdtemp(prefix=f".{spec.key}-", dir=dest.parent))
        try:
            with reporting_to(progress):  # writers report their stages (shared/tasks/load_progress.py)
                spec.write_tiny(scratch)
            (scratch / _COMPLETE_MARKER).write_text("ok\n")
            if dest.exists():
                shutil.rmtree(dest)
            scratch.rename(dest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        progress(1.0, f"Tiny '{spec.key}' checkpoint ready")
    return dest


def _progress_tqdm(progress: Progress, label: str):
    """A tqdm class for huggingface_hub that forwards byte progress to `progress`."""
    from tqdm.auto import tqdm

    class ForwardingTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("disable", False)
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            result = super().update(n)
            if self.total:
                progress(min(self.n / self.total, 1.0), f"Downloading {label}: {self.desc or ''}".strip())
            return result

    return ForwardingTqdm


def download(
    repo_id: str,
    *,
    key: str,
    allow_patterns: tuple[str, ...] | list[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """A Hub repo's files in the Hugging Face cache, downloaded (resumably) if needed.

    Also for a model's companion repos (e.g. a codec its config names): every
    download reports progress and fails with the same clear message.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError

    patterns = list(allow_patterns) if allow_patterns else None
    try:
        # snapshot_download resumes partial files and skips complete ones.
        path = snapshot_download(
            repo_id,
            allow_patterns=patterns,
            tqdm_class=_progress_tqdm(progress or no_progress, repo_id),
        )
    except GatedRepoError as exc:  # the Hub wants the licence accepted: say how, not "could not be downloaded"
        log.warning("Download of %s refused: the repo is gated", repo_id)
        raise ModelFilesMissing(gated_message(repo_id)) from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        log.warning("Download of %s failed: %s: %s", repo_id, type(exc).__name__, exc)
        raise ModelFilesMissing(missing_files_message(key, repo_id, patterns, constants.HF_HUB_CACHE)) from exc
    return Path(path)


def gated_message(repo_id: str) -> str:
    """What to do when the Hub asks to accept a repo's licence first (a 401/403 GatedRepoError)."""
    return (f"The Hub asks you to accept the licence of `{repo_id}` first. Open https://huggingface.co/{repo_id}, "
            f"accept the licence, then run `hf auth login` on this machine and try again.")


def download_command(repo_id: str, patterns) -> str:
    """The `hf download` command that fetches exactly what the app would."""
    return f"hf download {repo_id}" + "".join(f" --include '{p}'" for p in (patterns or ()))


def missing_files_message(key: str, repo_id: str, patterns, cache_dir: str) -> str:
    """Why `key` cannot load and how to fix it, listing every repo the model needs (companions too)."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    files = ", ".join(patterns) if patterns else "all files"
    repos = [(repo_id, patterns)]
    spec = _SPECS.get(key)
    if spec is not None:
        own = spec.hub_repos()
        # The failing repo first, then whatever else this model downloads.
        repos += [(r, p) for r, p in own if r != repo_id]
    commands = " && ".join(f"`{download_command(r, p)}`" for r, p in repos)
    size = f" (about {spec.download_gb:g} GB in all)" if spec is not None and spec.download_gb else ""
    return (
        f"The files of '{key}' ({repo_id}: {files}) are not in the Hugging Face cache ({cache_dir})"
        + (" and HF_HUB_OFFLINE=1 forbids downloading them." if offline else " and could not be downloaded.")
        + f" Fetch {'them' if len(repos) == 1 else 'every repo it needs'}{size} on a machine with internet "
        f"access with {commands}, or set RELEASE_HUB_SOURCE_{key.upper().replace('-', '_')} to a local "
        f"directory with the same layout, or start with --tiny to try the app with tiny random weights."
    )


def licence_notice(key: str) -> str:
    spec = spec_for(key)
    return f"**{escape_markdown(spec.title)}** weights: [{spec.licence}]({spec.licence_url}) — source `{spec.default_source}`."
