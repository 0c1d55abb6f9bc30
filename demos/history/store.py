"""History over the outputs dir: list, fetch, delete, favourites and the disk limit.

Gradio-free. Who may see what is decided by the caller and passed as `scope`:
None sees every result, a string only the results whose sidecar `owner` is
that string.
"""
from __future__ import annotations

import logging
import math
import re
import shutil
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.errors import UserInputError
from shared.io.params import shorten
from shared.io.outputs import (INPUTS_FOLDER, add_sidecar_listener, check_sidecar, read_sidecar,
                            remove_sidecar_listener, write_json_atomic)

from . import thumbs, trash
from .index import INDEX_NAME, Entry, Index

log = logging.getLogger(__name__)

GB = 1024**3
MIN_DEFAULT_LIMIT_GB = 2.0
DEFAULT_LIMIT_FRACTION = 0.10
ORPHAN_GRACE_S = 600  # files without a sidecar younger than this may belong to a run still going
MAX_PAGE_SIZE = 100
ITEM_ID = re.compile(r"^[a-z0-9_-]{1,40}/[A-Za-z0-9_-]{1,80}$")


def default_limit_bytes(outputs_dir: Path) -> int:
    """10 % of the free space of the outputs dir's disk, at least 2 GB."""
    probe = outputs_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    return int(max(MIN_DEFAULT_LIMIT_GB * GB, DEFAULT_LIMIT_FRACTION * free))


@dataclass
class Page:
    items: list[dict]
    page: int
    pages: int
    total: int


def _match(entry: Entry, value: str | None, field: str) -> bool:
    return not value or getattr(entry, field) == value


class HistoryStore:
    def __init__(self, outputs_dir: str | Path, limit_bytes: int | None = None) -> None:
        self.root = Path(outputs_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.index_path = self.root / INDEX_NAME
        self.limit_bytes = int(limit_bytes) if limit_bytes else default_limit_bytes(self.root)
        self._lock = threading.RLock()
        self._index = Index.load(self.index_path)
        self.refresh()

    # -------------------------------------------------------------- index
    def refresh(self) -> None:
        with self._lock:
            if self._index.refresh(self.root):
                self._index.save(self.index_path)

    def listen(self) -> None:
        """Index every sidecar this process writes and apply the disk limit after it."""
        add_sidecar_listener(self._on_sidecar)

    def close(self) -> None:
        remove_sidecar_listener(self._on_sidecar)

    def _on_sidecar(self, sidecar: Path) -> None:
        try:
            if Path(sidecar).resolve().parent.parent != self.root.resolve():
                return
            with self._lock:
                self.refresh()
                self.enforce_limit(keep={f"{Path(sidecar).parent.name}/{Path(sidecar).stem}"})
        except Exception:  # noqa: BLE001 - history must never fail the run that produced the result
            log.exception("History could not index %s", sidecar)

    # -------------------------------------------------------------- queries
    def _visible(self, scope: str | None) -> list[Entry]:
        return [e for e in self._index.entries.values() if e.sidecar and (scope is None or e.owner == scope)]

    def query(self, scope: str | None, *, demo: str = "", model: str = "", voice: str = "", variant: str = "",
              text: str = "", favourites: bool = False, page: int = 1, page_size: int = 20) -> Page:
        """Newest first, filtered, one page of `page_size` items (pages count from 1)."""
        page_size = int(min(max(int(page_size or 20), 1), MAX_PAGE_SIZE))
        needle = (text or "").strip().lower()
        with self._lock:
            self.refresh()
            found = [e for e in self._visible(scope)
                     if _match(e, demo, "demo") and _match(e, model, "model") and _match(e, voice, "voice")
                     and _match(e, variant, "variant") and (not favourites or e.favourite)
                     and (not needle or needle in e.text.lower())]
        found.sort(key=lambda e: (e.created_ts, e.id), reverse=True)
        pages = max(1, math.ceil(len(found) / page_size))
        page = int(min(max(int(page or 1), 1), pages))
        chunk = found[(page - 1) * page_size: page * page_size]
        return Page([self.describe(e) for e in chunk], page, pages, len(found))

    def facets(self, scope: str | None) -> dict[str, list[str]]:
        """The values each filter can take among the results `scope` sees."""
        with self._lock:
            self.refresh()
            visible = self._visible(scope)
        return {name: sorted({getattr(e, name) for e in visible if getattr(e, name)})
                for name in ("demo", "model", "voice", "variant")}

    @staticmethod
    def describe(entry: Entry) -> dict:
        out = asdict(entry)
        for private in ("sidecar", "sidecar_mtime_ns", "sidecar_size", "owner", "stem", "folder"):
            out.pop(private)
        return out

    def entry(self, scope: str | None, item_id: str) -> Entry:
        """The visible result `item_id`; the same message whether it does not exist or is someone else's."""
        if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
            raise UserInputError(f"item_id is {shorten(item_id)}; it must be a history item id "
                                 "(it looks like 'video/20260101-120000-0123456789ab').")
        with self._lock:
            self.refresh()
            entry = self._index.entries.get(item_id)
        if entry is None or not entry.sidecar or (scope is not None and entry.owner != scope):
            raise UserInputError(f"No history item '{item_id}' (it may have been deleted).")
        return entry

    def entry_or_none(self, item_id: str) -> Entry | None:
        """The indexed entry as it is (no scope check: for items a query of the right scope returned)."""
        with self._lock:
            return self._index.entries.get(item_id)

    def sidecar(self, entry: Entry) -> dict:
        return read_sidecar(self.root / entry.folder / f"{entry.stem}.json")

    def files(self, entry: Entry) -> list[Path]:
        """The result's own files (main first), without the sidecar and partials."""
        folder = self.root / entry.folder
        names = [n for n in entry.files if n != f"{entry.stem}.json" and not n.endswith(".partials")
                 and not thumbs.is_thumb(n)]
        names.sort(key=lambda n: (n != entry.main, n))
        return [folder / n for n in names if (folder / n).is_file()]

    def saved_inputs(self, sidecar: dict) -> dict[str, Path]:
        """Input name -> the saved file, for the inputs whose file is still there."""
        out = {}
        for name, saved in (sidecar.get("saved_inputs") or {}).items():
            rel = saved.get("file") if isinstance(saved, dict) else None
            if isinstance(rel, str) and rel.startswith(INPUTS_FOLDER + "/") and "/" not in rel[len(INPUTS_FOLDER) + 1:]:
                path = self.root / rel
                if path.is_file():
                    out[name] = path
        return out

    def reusable(self, scope: str | None, item_id: str) -> tuple[dict, dict[str, Path]]:
        """The strict schema-1 sidecar and its saved input files, for Reuse settings."""
        sidecar = check_sidecar(self.sidecar(self.entry(scope, item_id)))
        return sidecar, self.saved_inputs(sidecar)

    # -------------------------------------------------------------- changes
    def _unused_inputs(self, entry: Entry) -> list[str]:
        """The saved inputs of `entry` that no other result uses (they go with it)."""
        still_used = {f for e in self._index.entries.values() if e.id != entry.id for f in e.inputs}
        return [rel for rel in entry.inputs if rel not in still_used and rel in self._index.inputs]

    def _remove(self, entry: Entry) -> tuple[list[str], int]:
        """Delete every file of the stem (sidecar, companions, partials) and inputs nobody uses any more;
        (what was removed, bytes freed)."""
        folder = self.root / entry.folder
        removed, freed = [], entry.bytes
        inputs = self._unused_inputs(entry)
        for name in entry.files:
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(f"{entry.folder}/{name}")
        self._index.entries.pop(entry.id, None)
        for rel in inputs:
            (self.root / rel).unlink(missing_ok=True)
            freed += self._index.inputs.pop(rel, 0)
            removed.append(rel)
        return removed, freed

    def delete(self, scope: str | None, item_id: str) -> list[str]:
        """Move a result (its files and the saved inputs only it used) to the trash, kept 24 h for `restore`;
        what was moved, relative to the outputs dir."""
        with self._lock:
            entry = self.entry(scope, item_id)
            inputs = self._unused_inputs(entry)
            trash.move_in(self.root, entry.id, entry.owner, list(entry.files), inputs)
            self._index.entries.pop(entry.id, None)
            for rel in inputs:
                self._index.inputs.pop(rel, None)
            trash.purge(self.root)
            self.refresh()
            self._index.save(self.index_path)
        return [f"{entry.folder}/{name}" for name in entry.files] + inputs

    def restore(self, scope: str | None, item_id: str) -> Entry:
        """Bring back a result deleted less than 24 h ago (Undo): its files, saved inputs and index entry."""
        if not isinstance(item_id, str) or not ITEM_ID.match(item_id):
            raise UserInputError(f"item_id is {shorten(item_id)}; it must be a history item id.")
        with self._lock:
            trash.move_out(self.root, item_id, scope)
            self.refresh()
            self._index.save(self.index_path)
        return self.entry(scope, item_id)

    def purge_trash(self, now: float | None = None) -> list[str]:
        with self._lock:
            return trash.purge(self.root, now)

    def thumbnail(self, entry: Entry) -> Path | None:
        """The result's small picture (made on first call, then kept beside it)."""
        saved = [self.root / rel for rel in entry.inputs if (self.root / rel).is_file()]
        return thumbs.make_thumb(self.root / entry.folder, entry.stem, self.files(entry), saved, entry.kind)

    def _rewrite(self, entry: Entry, change) -> Entry:
        path = self.root / entry.folder / f"{entry.stem}.json"
        data = read_sidecar(path)
        change(data)
        write_json_atomic(path, data)
        self.refresh()
        return self._index.entries[entry.id]

    def set_favourite(self, scope: str | None, item_id: str, favourite: bool) -> Entry:
        with self._lock:
            return self._rewrite(self.entry(scope, item_id), lambda data: data.__setitem__("favourite", bool(favourite)))

    def forget_input(self, scope: str | None, item_id: str, name: str) -> list[str]:
        """Drop one saved input of a result (e.g. a cloning reference); its file goes when no result uses it."""
        with self._lock:
            entry = self.entry(scope, item_id)
            data = self.sidecar(entry)
            saved = data.get("saved_inputs") or {}
            if name not in saved:
                raise UserInputError(f"History item '{item_id}' has no saved input '{str(name)[:40]}'.")

            def drop(d):
                d["saved_inputs"].pop(name)
                d.setdefault("forgotten_inputs", []).append(name)

            self._rewrite(entry, drop)
            rel = saved[name].get("file") if isinstance(saved[name], dict) else None
            still_used = {f for e in self._index.entries.values() for f in e.inputs}
            if rel and rel not in still_used and rel in self._index.inputs:
                (self.root / rel).unlink(missing_ok=True)
                self._index.inputs.pop(rel, None)
                self._index.save(self.index_path)
                return [rel]
            return []

    # -------------------------------------------------------------- disk
    def used_bytes(self) -> int:
        with self._lock:
            return sum(e.bytes for e in self._index.entries.values()) + sum(self._index.inputs.values())

    def usage(self, scope: str | None = None) -> dict:
        with self._lock:
            self.refresh()
            visible = self._visible(scope)
            return {"used_bytes": self.used_bytes(), "limit_bytes": self.limit_bytes, "items": len(visible),
                    "favourites": sum(e.favourite for e in visible),
                    "visible_bytes": sum(e.bytes for e in visible)}

    def enforce_limit(self, keep: set[str] = frozenset()) -> list[str]:
        """Delete the oldest non-favourite results (leftover partial files first) until under the limit."""
        import time

        evicted = []
        with self._lock:
            self.refresh()
            used = self.used_bytes()
            if used <= self.limit_bytes:
                return evicted
            now = time.time()
            orphans = [e for e in self._index.entries.values() if not e.sidecar and now - e.created_ts > ORPHAN_GRACE_S]
            results = [e for e in self._index.entries.values() if e.sidecar and not e.favourite and e.id not in keep]
            for entry in sorted(orphans, key=lambda e: e.created_ts) + sorted(results, key=lambda e: (e.created_ts, e.id)):
                if used <= self.limit_bytes:
                    break
                used -= self._remove(entry)[1]
                evicted.append(entry.id)
            if used > self.limit_bytes:
                log.warning("Outputs use %.2f GB, over the %.2f GB limit, with only favourites and the newest result left",
                            self.used_bytes() / GB, self.limit_bytes / GB)
            self.refresh()
            self._index.save(self.index_path)
        if evicted:
            log.info("Disk limit: removed %d oldest results (%s)", len(evicted), ", ".join(evicted[:5]))
        return evicted
