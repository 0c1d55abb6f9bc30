"""The History index: one small JSON file listing every result of the outputs dir.

Listing thousands of results must not read thousands of sidecars, so the
facts History filters and sorts on (id, time, owner, model, voice, variant,
prompt, sizes) live in `<outputs>/.history-index.json`. The file is a cache:
when it is missing, unreadable, of another version, or a demo folder changed
since it was written (a run of an older app, a file copied in by hand), the
changed folders are scanned again and only the sidecars that changed are read.
Results written by this app update it directly (`shared.io.outputs` tells the
store about every sidecar it writes).
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared.io.outputs import (INPUTS_FOLDER, PARTIALS_SUFFIX, SidecarError, missing_fields, read_sidecar, was_stopped,
                               write_json_atomic)

log = logging.getLogger(__name__)

INDEX_NAME = ".history-index.json"
INDEX_VERSION = 2  # 2: entries say stopped, frames and game (labels and the Stopped badge)
TEXT_CHARS = 300  # prompt/text kept in the index for free-text search and the list
# A folder modified this close to the last scan may have changed again within the
# file system's time granularity (seconds on some network mounts): scan it again.
MTIME_SLACK_S = 2.0

KINDS = {"wav": "audio", "flac": "audio", "mp3": "audio", "ogg": "audio", "mp4": "video", "webm": "video",
         "png": "image", "jpg": "image", "jpeg": "image", "webp": "image", "json": "json"}


@dataclass
class Entry:
    """One result (a sidecar and the files of its stem), or an orphan (files without a sidecar)."""

    id: str  # "<folder>/<stem>"
    folder: str  # the demo folder under the outputs dir
    demo: str  # the output kind (sidecar "demo"; the folder name for orphans and old sidecars)
    stem: str
    created_ts: float
    bytes: int
    files: list[str] = field(default_factory=list)  # names in the demo folder (partials dirs end in .partials)
    sidecar: bool = True
    sidecar_mtime_ns: int = 0
    sidecar_size: int = 0
    schema_ok: bool = False
    owner: str | None = None
    favourite: bool = False
    model: str = ""
    voice: str = ""
    variant: str = ""
    mode: str = ""
    text: str = ""
    main: str = ""
    kind: str = ""
    inputs: list[str] = field(default_factory=list)  # saved input files (relative to the outputs dir)
    stopped: bool = False  # Stop ended the run; what was made so far was kept
    frames: int = 0  # video frames made (video results)
    game: str = ""  # the game played (agent Play results)


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _stem_time(stem: str, fallback: float) -> float:
    try:
        return time.mktime(time.strptime(stem[:15], "%Y%m%d-%H%M%S"))
    except ValueError:
        return fallback


def entry_from_sidecar(folder: str, stem: str, data: dict, fallback_ts: float) -> Entry:
    """What the index keeps of one sidecar (schema 1, or an older flat one as far as it goes)."""
    schema_ok = not missing_fields(data) and data.get("schema_version") == 1
    inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
    info = data.get("info") if isinstance(data.get("info"), dict) else (data if not schema_ok else {})
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    main = str(files.get("main") or info.get("file") or "")
    text = inputs.get("text") or inputs.get("prompt") or info.get("prompt") or info.get("text") or ""
    saved = data.get("saved_inputs") if isinstance(data.get("saved_inputs"), dict) else {}
    try:
        created = float(data.get("created_ts"))
    except (TypeError, ValueError):
        created = _stem_time(stem, fallback_ts)
    demo = data.get("demo") if isinstance(data.get("demo"), str) and data.get("demo") else folder
    return Entry(
        id=f"{folder}/{stem}", folder=folder, demo=demo, stem=stem, created_ts=created, bytes=0, schema_ok=schema_ok,
        owner=data.get("owner") if isinstance(data.get("owner"), str) else None,
        favourite=data.get("favourite") is True,
        model=str(info.get("model") or ""), voice=str(inputs.get("voice") or info.get("voice") or ""),
        variant=str(inputs.get("variant") or info.get("variant") or ""),
        mode=str(inputs.get("mode") or info.get("mode") or ""), text=str(text)[:TEXT_CHARS], main=main,
        kind=KINDS.get(main.rsplit(".", 1)[-1].lower(), "file") if main else "",
        inputs=sorted({str(v.get("file")) for v in saved.values() if isinstance(v, dict) and v.get("file")}),
        stopped=data.get("stopped") is True or was_stopped(info), frames=_whole(info.get("frames")),
        game=str(inputs.get("game") or ""),
    )


def _whole(value) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def scan_folder(folder: Path, previous: dict[str, Entry]) -> list[Entry]:
    """Every result and orphan of one demo folder; sidecars unchanged since `previous` are not read again."""
    demo = folder.name
    groups: dict[str, list[os.DirEntry]] = {}
    with os.scandir(folder) as listing:
        for item in listing:
            if item.name.startswith("."):
                continue  # temporary files of atomic writes
            groups.setdefault(item.name.split(".", 1)[0], []).append(item)
    entries = []
    for stem, items in groups.items():
        size, newest, sidecar = 0, 0.0, None
        for item in items:
            try:
                if item.is_dir(follow_symlinks=False):
                    size += _dir_bytes(Path(item.path)) if item.name.endswith(PARTIALS_SUFFIX) else 0
                    newest = max(newest, item.stat(follow_symlinks=False).st_mtime)
                    continue
                stat = item.stat(follow_symlinks=False)
            except OSError:
                continue
            size += stat.st_size
            newest = max(newest, stat.st_mtime)
            if item.name == stem + ".json":
                sidecar = stat
        names = sorted(item.name for item in items)
        if sidecar is None:
            entries.append(Entry(id=f"{demo}/{stem}", folder=demo, demo=demo, stem=stem, created_ts=newest, bytes=size,
                                 files=names, sidecar=False))
            continue
        old = previous.get(f"{demo}/{stem}")
        if old and old.sidecar and old.sidecar_mtime_ns == sidecar.st_mtime_ns and old.sidecar_size == sidecar.st_size:
            entry = old
        else:
            try:
                data = read_sidecar(folder / f"{stem}.json")
            except SidecarError as exc:
                log.warning("History: %s", exc)
                data = {}
            entry = entry_from_sidecar(demo, stem, data, newest)
            entry.sidecar_mtime_ns, entry.sidecar_size = sidecar.st_mtime_ns, sidecar.st_size
        entry.bytes, entry.files = size, names
        entries.append(entry)
    return entries


@dataclass
class Index:
    entries: dict[str, Entry] = field(default_factory=dict)  # id -> entry (results and orphans)
    folders: dict[str, int] = field(default_factory=dict)  # demo folder -> mtime_ns when scanned
    root_mtime_ns: int = 0
    scanned_at: float = 0.0
    inputs: dict[str, int] = field(default_factory=dict)  # saved input file -> bytes
    inputs_mtime_ns: int = 0

    # ------------------------------------------------------------ file
    def to_json(self) -> dict:
        return {"version": INDEX_VERSION, "folders": self.folders, "root_mtime_ns": self.root_mtime_ns,
                "scanned_at": self.scanned_at, "inputs": self.inputs, "inputs_mtime_ns": self.inputs_mtime_ns,
                "entries": [asdict(e) for e in self.entries.values()]}

    @classmethod
    def load(cls, path: Path) -> "Index":
        """The index file, or an empty index (so everything is scanned) when it is missing or unusable."""
        try:
            data = json.loads(path.read_text())
            if data.get("version") != INDEX_VERSION:
                raise ValueError(f"index version {data.get('version')!r}")
            return cls(entries={e["id"]: Entry(**e) for e in data["entries"]}, folders=dict(data["folders"]),
                       root_mtime_ns=int(data["root_mtime_ns"]), scanned_at=float(data["scanned_at"]),
                       inputs={str(k): int(v) for k, v in data["inputs"].items()},
                       inputs_mtime_ns=int(data["inputs_mtime_ns"]))
        except FileNotFoundError:
            return cls()
        except Exception as exc:  # noqa: BLE001 - any damage means: rebuild
            log.warning("History index %s is unusable (%s: %s); rebuilding it", path, type(exc).__name__, exc)
            return cls()

    def save(self, path: Path) -> None:
        try:
            write_json_atomic(path, self.to_json())
        except OSError as exc:  # a read-only outputs dir still lists
            log.warning("History index %s not written: %s", path, exc)

    # ------------------------------------------------------------ refresh
    def _stale(self, mtime_ns: int, recorded: int | None) -> bool:
        return recorded != mtime_ns or mtime_ns / 1e9 >= self.scanned_at - MTIME_SLACK_S

    def refresh(self, root: Path) -> bool:
        """Scan the folders that changed since the last scan; True when anything was scanned."""
        try:
            root_mtime = root.stat().st_mtime_ns
        except FileNotFoundError:
            changed = bool(self.entries or self.inputs)
            self.entries, self.folders, self.inputs = {}, {}, {}
            return changed
        folders = {}
        with os.scandir(root) as listing:
            for item in listing:
                if item.is_dir(follow_symlinks=False) and not item.name.startswith(".") and item.name != INPUTS_FOLDER:
                    folders[item.name] = item.stat(follow_symlinks=False).st_mtime_ns
        now = time.time()
        changed = False
        for gone in set(self.folders) - set(folders):
            self.entries = {k: e for k, e in self.entries.items() if e.folder != gone}
            changed = True
        for demo, mtime in folders.items():
            if not self._stale(mtime, self.folders.get(demo)):
                continue
            previous = {k: e for k, e in self.entries.items() if e.folder == demo}
            for key in previous:
                del self.entries[key]
            for entry in scan_folder(root / demo, previous):
                self.entries[entry.id] = entry
            changed = True
        inputs_dir = root / INPUTS_FOLDER
        inputs_mtime = inputs_dir.stat().st_mtime_ns if inputs_dir.is_dir() else 0
        if self._stale(inputs_mtime, self.inputs_mtime_ns) and (inputs_mtime or self.inputs):
            self.inputs = {}
            if inputs_mtime:
                with os.scandir(inputs_dir) as listing:
                    for item in listing:
                        if item.is_file(follow_symlinks=False) and not item.name.startswith("."):
                            self.inputs[f"{INPUTS_FOLDER}/{item.name}"] = item.stat().st_size
            self.inputs_mtime_ns = inputs_mtime
            changed = True
        if changed:
            # Not the outputs dir's own mtime: saving the index file changes it.
            self.folders, self.root_mtime_ns, self.scanned_at = folders, root_mtime, now
        return changed
