"""Images a stream hands to Gradio as files already in its cache, each written once and atomically.

Gradio caches a returned numpy image by writing `<cache>/<hash of its bytes>/image.<format>` again,
in place, every time it is returned (`gradio.processing_utils.save_pil_to_cache`). A stream that repeats
one frame in several updates (Play repeats the latest frame, so an API reader gets plain values each
time) then truncates the very file a client is still downloading from the update before: the server
logs "Too little data for declared Content-Length" and gradio_client's item becomes `[exception]`
(seen once in a whole-suite run under load). Here every image gets a new random folder, is written
under a temporary name and renamed into place, and is never written again; Gradio serves a path that is
already in its cache as it is, and the file routes treat it like Gradio's own cached images.
"""
from __future__ import annotations

import os
import secrets

import numpy as np

from shared.web.served_files import cache_root

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def image_file(pixels: np.ndarray, fmt: str = "jpeg") -> str:
    """`pixels` (HxWx3 uint8) saved as `<Gradio's cache>/<random>/image.<fmt>`; returns its path."""
    from PIL import Image

    folder = cache_root() / secrets.token_hex(16)  # unguessable, like Gradio's seeded hashes
    folder.mkdir(parents=True)
    target = folder / f"image.{fmt}"
    staging = folder / f".image.{fmt}.part"
    Image.fromarray(np.ascontiguousarray(pixels)).save(staging, format=_PIL_FORMATS[fmt])
    os.replace(staging, target)
    return str(target)


__all__ = ["image_file"]
