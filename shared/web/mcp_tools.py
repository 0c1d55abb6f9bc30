"""The MCP tools an agent sees: names, which endpoints are offered, and results as MCP content.

Gradio-free (shared/web/mcp_server.py adapts Gradio's MCP server to this). Naming scheme: each
tool is a verb phrase saying what it does (`text_to_speech`, `generate_video`,
`game_actions_for_frame`); the HTTP endpoint behind it keeps its contract name (`/tts`,
`/video`, `/agent_frame`). Stream twins (`/tts_stream`, ...) are never tools: a tool call
returns once, it cannot consume a stream. Tools that delete results or change server state
others share are offered only when the operator sets RELEASE_HUB_MCP_ADMIN=1 (`--mcp-admin`).

A result is one JSON text item holding every output by name (also as structured content), then
the media: audio as audio content, images as image content, every file also as a resource link
(an opaque URL this server serves, with MIME type and size). Never a Python repr, never a
server path.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mcp import types

FILES_ROUTE = "/gradio_api/mcp/files"  # GET <FILES_ROUTE>/<token>/<file name>
EMBED_LIMIT_BYTES = 16 << 20  # audio and images up to this size also travel inline (base64)
LINK_TTL_S = 24 * 3600  # as long as Gradio keeps the file in its cache (demos/app.py DELETE_CACHE)
MAX_LINKS = 4096


@dataclass(frozen=True)
class Tool:
    endpoint: str  # the API endpoint name, without "/"
    name: str  # the MCP tool name
    outputs: tuple[str, ...]  # one name per (non-State) output component, as the result's JSON keys
    admin: bool = False  # deletes results or changes state others share: only with the admin flag


TOOLS = (
    Tool("tts", "text_to_speech", ("audio", "info")),
    Tool("clone_voice", "clone_voice", ("audio", "info")),
    Tool("video", "generate_video", ("video", "info")),
    Tool("agent_frame", "game_actions_for_frame", ("actions",)),
    Tool("agent_video", "game_actions_for_video", ("overlay_video", "timeline_plot", "actions_file")),
    Tool("agent_play_episode", "play_game_episode", ("record", "video", "actions_file")),
    Tool("history", "list_results", ("results",)),
    Tool("history_item", "get_result", ("files", "sidecar")),
    Tool("status", "server_status", ("status",)),
    Tool("history_favourite", "set_result_favourite", ("result",), admin=True),
    Tool("history_delete", "delete_result", ("result",), admin=True),
    Tool("unload", "unload_models", ("status",), admin=True),
)
# Endpoints that are never tools: the same work as their plain twin, as a stream.
STREAM_TWINS = ("tts_stream", "clone_voice_stream", "video_stream", "agent_play")


def tool_for(endpoint: str) -> Tool | None:
    return next((t for t in TOOLS if t.endpoint == endpoint.lstrip("/")), None)


def offered_tools(endpoints: list[str], admin: bool) -> list[Tool]:
    """The tools for the endpoints this app has (a demo that failed to import has none)."""
    present = {e.lstrip("/") for e in endpoints}
    return [t for t in TOOLS if t.endpoint in present and (admin or not t.admin)]



def docstring_params(doc: str | None) -> dict[str, str]:
    """Each parameter's whole text from a Google-style `Args:` section (continuation lines joined)."""
    params: dict[str, str] = {}
    lines = (doc or "").splitlines()
    inside, indent, name = False, None, None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            inside, indent, name = True, None, None
            continue
        if not inside:
            continue
        if not stripped:
            name = None
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        if depth < indent:  # the section ended (e.g. "Returns:")
            inside = False
        elif depth == indent and ":" in stripped:
            name, _, text = stripped.partition(":")
            name = name.split("(")[0].strip()
            params[name] = text.strip()
        elif name is not None:
            params[name] += " " + stripped
    return params


# ------------------------------------------------------------------ file links
class FileLinks:
    """Opaque, expiring URLs for result files: the random token, handed only to the caller, is the key.
    (The access gate in front of every route still applies to them.)"""

    def __init__(self, ttl_s: float = LINK_TTL_S, max_links: int = MAX_LINKS) -> None:
        self.ttl_s, self.max_links = ttl_s, max_links
        self._links: OrderedDict[str, tuple[Path, float]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, path: Path) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._links[token] = (path, time.monotonic() + self.ttl_s)
            while len(self._links) > self.max_links:
                self._links.popitem(last=False)
        return token

    def resolve(self, token: str) -> Path | None:
        """The file behind `token`, or None (unknown, expired or gone)."""
        with self._lock:
            path, expires = self._links.get(token, (None, 0.0))
        if path is None or time.monotonic() > expires or not path.is_file():
            return None
        return path


PLAIN_TYPES = {"audio/x-wav": "audio/wav"}  # the registered name players and agents expect


def mime_type_of(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return PLAIN_TYPES.get(guessed, guessed)


# ------------------------------------------------------------------ results
def _is_file_data(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("path"), str) and \
        (value.get("meta") or {}).get("_type") == "gradio.FileData"


@dataclass
class ResultBuilder:
    """Turns one call's outputs into MCP content; `link(path) -> url` makes a file's URL."""

    link: Callable[[Path], str]

    def build(self, names: tuple[str, ...], values: list[Any]) -> tuple[list, dict]:
        media: list = []
        structured = {name: self._value(value, media) for name, value in zip(names, values)}
        text = types.TextContent(type="text", text=json.dumps(structured, ensure_ascii=False))
        return [text, *media], structured

    def _value(self, value: Any, media: list) -> Any:
        if _is_file_data(value):
            return self._file(Path(value["path"]), media)
        if isinstance(value, list) and value and all(_is_file_data(v) for v in value):
            return [self._file(Path(v["path"]), media) for v in value]
        return value  # JSON outputs (info, actions, history pages) pass as they are

    def _file(self, path: Path, media: list) -> dict:
        mime, size = mime_type_of(path), path.stat().st_size
        url = self.link(path)
        entry = {"name": path.name, "url": url, "mime_type": mime, "size_bytes": size}
        if size <= EMBED_LIMIT_BYTES and mime.startswith(("audio/", "image/")):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            kind = types.AudioContent if mime.startswith("audio/") else types.ImageContent
            media.append(kind(type=mime.split("/")[0], data=data, mimeType=mime))
        media.append(types.ResourceLink(type="resource_link", name=path.name, uri=url, mimeType=mime, size=size))
        return entry
