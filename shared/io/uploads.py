"""Files in: the one containment check every file input goes through before anything opens it.

A Gradio payload names a file by its server path, and a remote client can put
any path there. Gradio checks uploads itself only for payloads that carry
`meta: {"_type": "gradio.FileData"}`; a payload without `meta`, a bare string
or a shape its pydantic models reject reaches the handler unchecked or with a
library error. So we decide, once, here:

- a file input is accepted only when its path, after resolving symlinks and
  `..` (os.path.realpath), is a regular file inside Gradio's upload folder
  (`gradio.utils.get_upload_folder()`: `GRADIO_TEMP_DIR`, or `<tmp>/gradio`,
  where uploads, example files and Gradio's copies of outputs live), or inside
  an extra directory a caller names (our outputs dir, where an endpoint reuses
  an output);
- everything else (a path elsewhere, a symlink out, a `..` path, a directory,
  a missing file, a URL) gets one message that names the parameter and is the
  same whether or not the target exists, so it reveals nothing about the disk.

`shared.web.ui.GuardedBlocks` runs `check_event_inputs` on every event before
Gradio's own preprocessing (so the client never sees a pydantic or "cannot move"
error), and hands Gradio a clean FileData payload; handlers call
`uploaded_file(value, "param")` again right before they open the file.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shared.errors import UserInputError

FILE_META = {"_type": "gradio.FileData"}

NOT_UPLOADED = ("{param}: not a file uploaded to this app, so it was not opened. Upload the file first "
                "(from Python: gradio_client.handle_file(path)) and pass what the upload returns.")


class FileNotUploaded(UserInputError):
    """A file input that does not name a file in the upload folder (same message whatever the path)."""

    def __init__(self, param: str) -> None:
        super().__init__(NOT_UPLOADED.format(param=param))


def upload_folder() -> Path:
    """Gradio's upload folder for this process, as Gradio itself decides it, symlinks resolved."""
    from gradio.utils import get_upload_folder

    return Path(os.path.realpath(get_upload_folder()))


def payload_path(value: Any, param: str) -> str | None:
    """The path a raw file payload names, or None for "no file".

    Shapes: a str path; a FileData dict with or without `meta`; gr.Video's
    `{"video": FileData, "subtitles": ...}`; a FileData-like object with
    `.path`. A dict holding only a URL is not an upload.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, Mapping):
        if isinstance(value.get("video"), Mapping):
            return payload_path(value["video"], param)
        path = value.get("path")
        if path is None and not value.get("url"):
            return None  # an empty FileData
        if not isinstance(path, str) or not path:
            raise FileNotUploaded(param)
        return path
    path = getattr(value, "path", None)
    if isinstance(path, str):
        return path or None
    raise UserInputError(f"{param} must be an uploaded file, not {type(value).__name__}.")


def _resolved_inside(path: str, roots: Iterable[Path]) -> Path | None:
    """The real path of `path` if it is a regular file inside one of `roots`, else None."""
    if "\x00" in path or ".." in Path(path).parts:
        return None
    try:
        real = Path(os.path.realpath(path))
        if not any(real.is_relative_to(root) and real != root for root in roots):
            return None
        return real if real.is_file() else None
    except (OSError, ValueError):
        return None


def uploaded_file(value: Any, param: str, *, also_allowed: Iterable[str | os.PathLike] = ()) -> str | None:
    """The real path of the uploaded file `value` names, or None when no file was given.

    Raises FileNotUploaded (one message, naming `param`) for anything that is
    not a regular file inside the upload folder or one of `also_allowed`.
    """
    path = payload_path(value, param)
    if path is None:
        return None
    roots = [upload_folder(), *(Path(os.path.realpath(d)) for d in also_allowed)]
    real = _resolved_inside(path, roots)
    if real is None:
        raise FileNotUploaded(param)
    return str(real)


def _is_file_input(component: Any) -> bool:
    from gradio.data_classes import FileData, ImageData

    model = getattr(component, "data_model", None)
    return isinstance(model, type) and issubclass(model, (FileData, ImageData))


def _holds_file(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, Mapping):
        return "meta" in value or any(_holds_file(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_file(v, depth + 1) for v in value)
    return False


def _clean_payload(value: Any, real: str) -> dict:
    """A FileData payload Gradio's models accept: the checked path, and only well-typed extras."""
    payload = {"path": real, "meta": dict(FILE_META)}
    source = value.get("video") if isinstance(value, Mapping) and isinstance(value.get("video"), Mapping) else value
    if isinstance(source, Mapping):
        for key in ("orig_name", "mime_type"):
            if isinstance(source.get(key), str):
                payload[key] = source[key][:255]
    return payload


def _defaults(block_fn: Any) -> dict[str, Any]:
    """The API default of each parameter of the event's function that has one."""
    from gradio.utils import get_function_params

    fn = getattr(block_fn, "fn", None)
    try:
        return {name: default for name, has_default, default, _ in get_function_params(fn) if has_default} if fn \
            else {}
    except (TypeError, ValueError):
        return {}


def check_event_inputs(block_fn: Any, inputs: list) -> list:
    """One event's raw inputs, completed and with every file input checked and cleaned,
    before Gradio touches them.

    Missing trailing inputs (a raw HTTP call may send fewer) get the
    parameter's default, or a message naming what is missing. A non-file
    input that carries a file payload (a dict with `meta`) is refused: Gradio
    would otherwise try to move it into its cache.
    """
    components = list(getattr(block_fn, "inputs", []))
    names = list(getattr(block_fn, "input_parameter_names", None) or [])
    checked = list(inputs)
    defaults, missing = None, []
    for index in range(len(checked), len(components)):
        component = components[index]
        name = names[index] if index < len(names) else None
        if getattr(component, "stateful", False):
            checked.append(None)  # Gradio reads state from the session, not the payload
            continue
        defaults = _defaults(block_fn) if defaults is None else defaults
        if getattr(component, "value", None) is not None:  # the order Gradio's API page uses
            checked.append(component.value)
        elif name in defaults:
            checked.append(defaults[name])
        else:
            checked.append(None)
            missing.append(name or f"input {index}")
    if missing:
        raise UserInputError(f"Missing value for {', '.join(missing)} (sent {len(inputs)} of "
                             f"{len(components)} inputs).")
    for index, component in enumerate(components):
        if getattr(component, "stateful", False):
            continue
        param = (names[index] if index < len(names) else None) or getattr(component, "label", None) \
            or f"input {index}"
        value = checked[index]
        if _is_file_input(component):
            real = uploaded_file(value, param)
            checked[index] = None if real is None else _clean_payload(value, real)
        elif _holds_file(value):
            raise UserInputError(f"{param} does not take a file.")
    return checked


__all__ = ["FILE_META", "FileNotUploaded", "NOT_UPLOADED", "check_event_inputs", "payload_path", "upload_folder",
           "uploaded_file"]
