"""Where generated files go, and the sidecar every result carries.

Layout under the outputs dir (names are generated, never built from user input):

    <demo>/<stem>.<ext>            the main output (wav, flac, mp4, json ...)
    <demo>/<stem>.<role>.<ext>     companion files of the same result (plot, actions ...)
    <demo>/<stem>.partials/        partial files written while the result was being made
    <demo>/<stem>.json             the sidecar (schema below)
    inputs/<sha256>.<ext>          inputs a result depends on, stored once per content

`<stem>` is `YYYYmmdd-HHMMSS-<12 hex>`; the result's id is `<demo folder>/<stem>`.

Sidecar schema, version 1 (JSON object; docs/HISTORY.md documents each field):

    schema          "release-hub.output"
    schema_version  1
    id              "<folder>/<stem>" (the folder is the tab's outputs folder, e.g. "agent")
    demo            output kind, the tab section whose inputs it fills, e.g. "voice_voxtral", "voice_clone", "video", "agent_frame", "agent_video"
    created         ISO 8601 UTC time; created_ts: the same as seconds since the epoch
    owner           "user:<name>", "visit:<session>" or null (local app, nobody signed in)
    favourite       bool (kept by the disk limit)
    files           role -> file name in the demo folder; "main" is always there
    inputs          every input of the tab as the run used it (seed resolved); media inputs are null here
                    and described in saved_inputs
    saved_inputs    input name -> {sha256, file (relative to the outputs dir), bytes, consent (or null)}
    info            the info dict the endpoint returned
    stopped         bool: Stop ended the run and what was made so far was kept (optional; older sidecars
                    lack it and `was_stopped(info)` reads their info)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

_SAFE_PART = re.compile(r"^[a-z0-9_-]+$")

SCHEMA = "release-hub.output"
SCHEMA_VERSION = 1
REQUIRED_FIELDS = ("schema", "schema_version", "id", "demo", "created", "created_ts", "files", "inputs", "info")
INPUTS_FOLDER = "inputs"
PARTIALS_SUFFIX = ".partials"


class SidecarError(ValueError):
    """A sidecar that is not a schema-1 release-hub sidecar; the message says what is missing."""


def new_output_path(outputs_dir: str | Path, demo: str, suffix: str) -> Path:
    """`outputs_dir/<demo>/<timestamp>-<random>.<suffix>`; never built from user input."""
    if not _SAFE_PART.match(demo) or not _SAFE_PART.match(suffix.lstrip(".")):
        raise ValueError(f"Unsafe output name parts: {demo!r}, {suffix!r}")
    folder = Path(outputs_dir) / demo
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"{stamp}-{uuid.uuid4().hex[:12]}.{suffix.lstrip('.')}"


def stem_of(path: str | Path) -> str:
    """The result's stem: the file name up to its first dot."""
    return Path(path).name.split(".", 1)[0]


def companion_path(main: str | Path, role: str, suffix: str) -> Path:
    """`<stem>.<role>.<suffix>` beside `main`: another file of the same result."""
    if not _SAFE_PART.match(role) or not _SAFE_PART.match(suffix.lstrip(".")):
        raise ValueError(f"Unsafe output name parts: {role!r}, {suffix!r}")
    main = Path(main)
    return main.with_name(f"{stem_of(main)}.{role}.{suffix.lstrip('.')}")


def sidecar_path(main: str | Path) -> Path:
    """`<stem>.json` beside the main output."""
    main = Path(main)
    return main.with_name(stem_of(main) + ".json")


def partials_dir(main: str | Path) -> Path:
    main = Path(main)
    return main.with_name(stem_of(main) + PARTIALS_SUFFIX)


# ---------------------------------------------------------------- saved inputs
def save_input(outputs_dir: str | Path, source: str | Path, *, consent: dict | None = None) -> dict:
    """Keep a copy of an input file under `inputs/`, named by its SHA-256 (stored once per content).

    Returns the `saved_inputs` entry for the sidecar. `consent` records what the
    person confirmed for this input (the cloning reference), or None.
    """
    source = Path(source)
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    name = f"{sha}.{format_extension(source)}"  # never from the uploaded name: "frame.html" is kept as .png
    folder = Path(outputs_dir) / INPUTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    if not dest.exists():
        tmp = dest.with_name(f".{name}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    return {"sha256": sha, "file": f"{INPUTS_FOLDER}/{name}", "bytes": dest.stat().st_size, "consent": consent}


# Leading bytes of the formats our decoders accept -> the extension a saved input gets.
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"fLaC", "flac"), (b"OggS", "ogg"),
          (b"\x1a\x45\xdf\xa3", "webm"), (b"ID3", "mp3"))


def format_extension(path: str | Path) -> str:
    """The extension of the decoded format of `path` (png, jpg, webp, wav, flac, mp3, ogg, mp4, webm),
    read from its first bytes; "bin" for anything else. Inputs are decoded before they are saved, so
    this names what the decoder read."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    for magic, ext in _MAGIC:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if head[8:12] == b"WEBP" else "wav"
    if head[4:8] == b"ftyp":
        return "mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame without ID3
        return "mp3"
    return "bin"


def save_inputs(outputs_dir: str | Path, paths: dict[str, str | Path | None], *,
                consent: dict | None = None) -> dict:
    """`save_input` for each named path that is set (None values are skipped)."""
    return {name: save_input(outputs_dir, path, consent=consent) for name, path in paths.items() if path}


# ------------------------------------------------------------------- sidecars
# Who made a result written inside a Gradio event: shared/web/visitors.py installs `current_owner`
# here (a hook, so that this layer does not import the web layer above it).
_owner_source: dict[str, Callable[[], str | None]] = {}


def set_owner_source(current_owner: Callable[[], str | None]) -> None:
    _owner_source["current"] = current_owner


_listeners: list[Callable[[Path], None]] = []
_listeners_lock = threading.Lock()


def add_sidecar_listener(listener: Callable[[Path], None]) -> None:
    """Call `listener(sidecar_path)` after every sidecar written (the history index and disk limit)."""
    with _listeners_lock:
        _listeners.append(listener)


def remove_sidecar_listener(listener: Callable[[Path], None]) -> None:
    with _listeners_lock:
        if listener in _listeners:
            _listeners.remove(listener)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def was_stopped(info: dict) -> bool:
    """Whether the run was stopped and kept what it had: each tab says so in its info in its own words."""
    agent = info.get("agent") if isinstance(info.get("agent"), dict) else {}
    return bool(info.get("stopped") or info.get("cancelled") or agent.get("end_reason") == "stopped")


def build_sidecar(main: Path, info: dict, *, inputs: dict | None, saved_inputs: dict | None,
                  owner: str | None, files: dict | None, demo: str | None = None) -> dict:
    demo = demo or main.parent.name
    now = time.time()
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "id": f"{main.parent.name}/{stem_of(main)}",
        "demo": demo,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z",
        "created_ts": round(now, 3),
        "owner": owner,
        "favourite": False,
        "files": {"main": main.name, **{role: Path(p).name for role, p in (files or {}).items()}},
        "inputs": dict(inputs or {}),
        "saved_inputs": dict(saved_inputs or {}),
        "info": info,
        "stopped": was_stopped(info),
    }


def write_sidecar(path: str | Path, info: dict, *, inputs: dict | None = None, saved_inputs: dict | None = None,
                  owner: str | None = None, files: dict | None = None, demo: str | None = None) -> Path:
    """Write the schema-1 sidecar of the result whose main file is `path` (`<stem>.json` beside it).

    `inputs` are the tab's inputs as the run used them (what "Reuse settings"
    fills back), `saved_inputs` the entries `save_input` returned, `files`
    the companion files (role -> path), `owner` who made it (by default the
    visitor of the Gradio event this runs in: see shared/web/visitors.py).
    """
    main = Path(path)
    sidecar = sidecar_path(main)
    if owner is None:
        owner = _owner_source.get("current", lambda: None)()
    write_json_atomic(sidecar, build_sidecar(main, info, inputs=inputs, saved_inputs=saved_inputs,
                                             owner=owner, files=files, demo=demo))
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(sidecar)
    return sidecar


def read_sidecar(path: str | Path) -> dict:
    """A sidecar as a dict (any version); SidecarError when it is not a JSON object."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(f"Sidecar {Path(path).name} cannot be read: {type(exc).__name__}.") from None
    if not isinstance(data, dict):
        raise SidecarError(f"Sidecar {Path(path).name} is not a JSON object.")
    return data


def missing_fields(sidecar: dict) -> list[str]:
    """The schema-1 fields this sidecar lacks (empty for a complete one)."""
    missing = [name for name in REQUIRED_FIELDS if name not in sidecar]
    if not isinstance(sidecar.get("files"), dict) or "main" not in (sidecar.get("files") or {}):
        missing.append("files.main")
    return missing


def check_sidecar(sidecar: dict) -> dict:
    """The sidecar itself when it is schema 1; SidecarError naming what is missing or different otherwise."""
    version = sidecar.get("schema_version")
    if sidecar.get("schema", SCHEMA) != SCHEMA:
        raise SidecarError(f"Not a release-hub sidecar (schema {str(sidecar.get('schema'))[:40]!r}).")
    if version is not None and version != SCHEMA_VERSION:
        raise SidecarError(f"Sidecar schema_version {str(version)[:10]} is not supported (this app reads {SCHEMA_VERSION}).")
    missing = missing_fields(sidecar)
    if missing:
        written = "written before schema 1" if version is None else f"schema_version {version}"
        raise SidecarError(f"This sidecar ({written}) lacks: {', '.join(missing)}.")
    return sidecar


AUDIO_FORMATS = ("wav", "flac")


def save_audio_output(outputs_dir: str | Path, demo: str, wave, sample_rate: int, info: dict, fmt: str = "wav", *,
                      inputs: dict | None = None, saved_inputs: dict | None = None,
                      owner: str | None = None) -> Path:
    """Save generated audio as WAV or FLAC under the outputs dir, with its sidecar.

    `info` gains the file name and format, so the sidecar and the API answer agree.
    """
    from shared.errors import UserInputError
    from shared.io.media import save_audio

    fmt = (fmt or "wav").lower()
    if fmt not in AUDIO_FORMATS:
        raise UserInputError(f"Unknown format '{fmt}'; choose one of: {', '.join(AUDIO_FORMATS)}.")
    if wave.size == 0:
        raise UserInputError("Nothing was generated (the run was stopped before the first audio).")
    path = new_output_path(outputs_dir, demo, fmt)
    save_audio(path, wave, sample_rate)
    info["file"] = path.name
    info["format"] = fmt
    write_sidecar(path, info, inputs=inputs, saved_inputs=saved_inputs, owner=owner)
    return path
