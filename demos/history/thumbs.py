"""One small picture per result for the History list: made once, kept beside the result.

`<stem>.thumb.png` (a companion file: it counts towards the disk limit, goes to the trash and comes
back with its result). A video's first frame, an agent result's timeline plot or screenshot, a voice's
waveform. Made lazily the first time a result is listed, so results written by older versions of the
app get one too. The file never leaves the outputs dir by itself: the tab hands it to a Gallery, whose
values pass through the owner-bound hand-out (shared/web/served_files.py) like every stored file.
"""
from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ROLE = "thumb"
SUFFIX = f".{ROLE}.png"
SIZE = (192, 108)  # 16:9, small enough for a row, sharp enough on a phone's 2x screen
PICTURES = (".png", ".jpg", ".jpeg", ".webp")
WAVE_COLOUR, WAVE_BACKGROUND = (234, 88, 12), (255, 247, 237)


def thumb_name(stem: str) -> str:
    return stem + SUFFIX


def is_thumb(name: str) -> bool:
    return name.endswith(SUFFIX)


def waveform(path: Path, size: tuple[int, int] = SIZE):
    """A PIL image of the sound's envelope: one bar per column from the min to the max sample."""
    import soundfile as sf
    from PIL import Image, ImageDraw

    wave, _rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = wave.mean(axis=1) if wave.size else np.zeros(1, np.float32)
    width, height = size
    columns = np.array_split(mono, width) if len(mono) >= width else [mono] * width
    peak = max(float(np.abs(mono).max()), 1e-6)
    image = Image.new("RGB", size, WAVE_BACKGROUND)
    draw = ImageDraw.Draw(image)
    middle = height / 2
    for x, column in enumerate(columns):
        low, high = (float(column.min()), float(column.max())) if column.size else (0.0, 0.0)
        draw.line([(x, middle - high / peak * (middle - 4)), (x, middle - low / peak * (middle - 4))],
                  fill=WAVE_COLOUR)
    draw.line([(0, middle), (width, middle)], fill=WAVE_COLOUR)
    return image


def first_frame(path: Path):
    from PIL import Image

    from shared.io.media import iter_video_frames

    frames = iter_video_frames(path, max_decoded=1, max_side=max(SIZE) * 2)
    try:
        return Image.fromarray(next(frames))
    finally:
        frames.close()


def fitted(image, size: tuple[int, int] = SIZE):
    """The picture shrunk to fit `size`, centred on a neutral background (no cropping: a plot stays whole)."""
    from PIL import Image

    image = image.convert("RGB")
    image.thumbnail(size)
    canvas = Image.new("RGB", size, (243, 244, 246))
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def source_picture(files: list[Path], saved: list[Path], kind: str):
    """The picture a result is best shown by: its own picture (agent plot), a video's first frame,
    a saved input picture (the agent's screenshot), a waveform for audio; None when there is none."""
    own = [p for p in files if p.suffix.lower() in PICTURES and not is_thumb(p.name)]
    if own:
        return _open(own[0])
    main = files[0] if files else None
    if main is not None and kind == "video":
        return first_frame(main)
    pictures = [p for p in saved if p.suffix.lower() in PICTURES]
    if pictures:
        return _open(pictures[0])
    if main is not None and kind == "audio":
        return waveform(main)
    return None


def _open(path: Path):
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return image.copy()


def make_thumb(folder: Path, stem: str, files: list[Path], saved: list[Path], kind: str) -> Path | None:
    """`<stem>.thumb.png` in `folder`, made now unless it is there; None when the result has nothing to show
    or its files cannot be read (the list then shows the row without a picture)."""
    target = folder / thumb_name(stem)
    if target.is_file():
        return target
    try:
        picture = source_picture(files, saved, kind)
        if picture is None:
            return None
        tmp = folder / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"  # dot name: the index skips it
        fitted(picture).save(tmp, format="PNG")
        os.replace(tmp, target)
        return target
    except Exception as exc:  # noqa: BLE001 - a broken file must not break the list
        log.warning("History: no thumbnail for %s/%s (%s: %s)", folder.name, stem, type(exc).__name__, exc)
        return None
