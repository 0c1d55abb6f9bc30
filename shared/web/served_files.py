"""Stored files reach a browser or a client only as owner-bound copies (DESIGN.md 3a, "Files out").

Nothing under the outputs dir is in Gradio's `allowed_paths`: the file routes never read it.
When an event hands a stored file to one of its file components (Audio, Video, Image, File,
Gallery ...), `hand_out` puts a hard link (or a copy) of it at

    <Gradio's cache>/rh-served/<owner tag>/<random>/<file name>

and gives Gradio that path instead. Gradio serves files in its cache, so the page plays and
downloads it as before. The owner tag is a keyed hash of who asked (`user:<login>`, or the
browser's visit cookie); `FileRouteGuard` answers a request for a tagged copy only when the
requester has the same tag, and answers anyone else exactly as it answers for a file that does
not exist. A caller with neither a login nor a cookie (a bare HTTP client) gets an `open`
copy: its random 128-bit folder name, handed only to that caller, is the capability.

Every file route answer also gets a type from an allow-list, `X-Content-Type-Options: nosniff`,
and `Content-Disposition: attachment` unless it is audio, video or an image (played inline).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from shared.web import access

SERVED_FOLDER = "rh-served"
OPEN_TAG = "open"
INLINE_TYPES = ("audio/", "video/", "image/png", "image/jpeg", "image/webp", "image/gif")
DOWNLOAD_TYPES = ("application/json", "text/plain")
FILE_ROUTE_PREFIXES = ("/gradio_api/file=", "/file=", "/gradio_api/file/", "/file/")


def cache_root() -> Path:
    """Gradio's upload/cache folder (GRADIO_TEMP_DIR, else <tmp>/gradio), resolved."""
    from gradio.utils import get_upload_folder  # no gradio import at module level: engines import shared/

    return Path(get_upload_folder()).resolve()


def owner_tag(owner: str | None) -> str:
    return access.keyed_hash("files:" + owner, 24) if owner else OPEN_TAG


def is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def hand_out(path: str | Path, owner: str | None, root: Path | None = None) -> str:
    """A copy of the stored file `path` in Gradio's cache, bound to `owner` (None: open)."""
    source = Path(path)
    folder = (root or cache_root()) / SERVED_FOLDER / owner_tag(owner) / secrets.token_hex(16)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    try:
        os.link(source, target)  # same disk: no bytes copied; the copy outlives a deleted original
    except OSError:
        shutil.copyfile(source, target)
    return str(target)


class OutputsHandout:
    """Replaces stored files in an event's results with owner-bound copies."""

    def __init__(self, outputs_dir: str | Path) -> None:
        self.outputs_dir = Path(outputs_dir).resolve()
        self.cache = cache_root()

    def _stored(self, value: str) -> bool:
        if not value or "\0" in value or value.startswith(("http://", "https://", "data:")):
            return False
        try:
            resolved = Path(value).resolve()
        except (OSError, ValueError):
            return False
        return is_inside(resolved, self.outputs_dir) and resolved.is_file()

    def replace(self, value: Any, owner: str | None) -> Any:
        """`value` with every stored-file path in it (str, Path, {"path": ...}, lists, tuples,
        gr.update dicts) swapped for a handed-out copy."""
        if isinstance(value, (str, Path)):
            return hand_out(value, owner, self.cache) if self._stored(str(value)) else value
        if isinstance(value, dict):
            return {k: (self.replace(v, owner) if k in ("value", "path", "video", "image", "audio") else v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.replace(v, owner) for v in value)
        path = getattr(value, "path", None)  # gr.FileData / ImageData / the like
        if isinstance(path, str) and self._stored(path):
            return value.model_copy(update={"path": hand_out(path, owner, self.cache)})
        return value


# ------------------------------------------------------------------ the file routes
def file_route_target(path: str) -> str | None:
    """The file a file route asks for (as Gradio reads it), or None when `path` is no file route."""
    for prefix in FILE_ROUTE_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix):]
    return None


def refusal_body(asked: str) -> bytes:
    """Gradio's own answer for a file it will not serve: the same for missing, stored and another's files."""
    return json.dumps({"detail": f"File not allowed: {asked}."}).encode()


def safe_headers(raw_headers: list) -> list:
    """A file route's response headers with an allow-listed type, nosniff and the right disposition."""
    kept = [(k, v) for k, v in raw_headers
            if k.lower() not in (b"content-type", b"content-disposition", b"x-content-type-options")]
    given = next((v.decode("latin-1") for k, v in raw_headers if k.lower() == b"content-type"), "")
    base = given.split(";")[0].strip().lower()
    if base.startswith(INLINE_TYPES) and base not in ("image/svg+xml",):
        content_type, disposition = given, "inline"
    elif base in DOWNLOAD_TYPES:
        content_type, disposition = given, "attachment"
    else:
        content_type, disposition = "application/octet-stream", "attachment"
    return kept + [(b"content-type", content_type.encode("latin-1")),
                   (b"content-disposition", disposition.encode()),
                   (b"x-content-type-options", b"nosniff")]


class FileRouteGuard:
    """Decides, before Gradio, whether a file route may answer; rewrites the headers when it does."""

    def __init__(self, outputs_dir: str | Path) -> None:
        self.outputs_dir = Path(outputs_dir).resolve()
        self.served = cache_root() / SERVED_FOLDER  # read once: every file request compares against it

    @staticmethod
    def target(path: str) -> str | None:
        return file_route_target(path)

    def allowed(self, asked: str, requester: str | None) -> bool:
        if asked.startswith(("http://", "https://")):
            return True  # Gradio's own SSRF-safe proxy decides
        try:
            resolved = Path(os.path.abspath(asked)).resolve()
            exists = resolved.is_file()
        except (OSError, ValueError):
            return False
        if not exists or is_inside(resolved, self.outputs_dir):
            return False
        if is_inside(resolved, self.served):
            tag = resolved.relative_to(self.served).parts[0]
            return tag in (OPEN_TAG, owner_tag(requester))
        return True

    async def refuse(self, asked: str, send) -> None:
        body = refusal_body(asked)
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def with_safe_headers(send):
        async def send_safely(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": safe_headers(list(message.get("headers", [])))}
            await send(message)

        return send_safely
