"""Drawing the predicted actions: a gamepad diagram, a chunk grid, frame overlays.

Pure PIL/numpy; used by the tab for Frame mode images and Video mode overlays.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .actions import BUTTONS, UNTRAINED_BUTTONS

_IDX = {name: i for i, name in enumerate(BUTTONS)}
BODY = (52, 56, 64, 255)
OFF = (92, 98, 110, 255)
ON = (255, 196, 0, 255)
UNTRAINED_ON = (200, 90, 255, 255)
TEXT = (235, 235, 235, 255)
STICK_BG = (30, 32, 38, 255)
TRAIL = (120, 200, 255, 255)
# Xbox face labels for the cardinal names used by NitroGen.
FACE = {"NORTH": "Y", "EAST": "B", "SOUTH": "A", "WEST": "X"}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def _lit(buttons, name: str):
    on = bool(buttons[_IDX[name]] > 0.5)
    if name in UNTRAINED_BUTTONS:
        return UNTRAINED_ON if on else OFF
    return ON if on else OFF


def draw_gamepad(buttons, j_left, j_right, *, width: int = 480, trail_left=None, trail_right=None,
                 title: str | None = None) -> Image.Image:
    """An RGBA gamepad: lit buttons, stick dots (and optional trails of the whole chunk).

    `buttons` is 21 values in BUTTONS order (1 = pressed); sticks are (x, y)
    in [-1, 1] with +y drawn downwards (the model's convention).
    """
    s = width / 480.0
    h = int(300 * s)
    img = Image.new("RGBA", (width, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    f_small, f_mid = _font(max(8, int(11 * s))), _font(max(9, int(14 * s)))
    # Below half size labels would overlap; the colours still tell the state.
    put_text = d.text if s >= 0.5 else (lambda *args, **kwargs: None)

    def box(x0, y0, x1, y1):
        return [x0 * s, y0 * s, x1 * s, y1 * s]

    # Triggers and shoulders.
    for name, x0 in (("LEFT_TRIGGER", 70), ("RIGHT_TRIGGER", 350)):
        d.rounded_rectangle(box(x0, 8, x0 + 60, 30), radius=6 * s, fill=_lit(buttons, name))
        put_text(((x0 + 22) * s, 12 * s), "LT" if name.startswith("LEFT") else "RT", fill=TEXT, font=f_small)
    for name, x0 in (("LEFT_SHOULDER", 60), ("RIGHT_SHOULDER", 340)):
        d.rounded_rectangle(box(x0, 36, x0 + 80, 54), radius=6 * s, fill=_lit(buttons, name))
        put_text(((x0 + 32) * s, 38 * s), "LB" if name.startswith("LEFT") else "RB", fill=TEXT, font=f_small)
    # Body.
    d.rounded_rectangle(box(20, 58, 460, 250), radius=60 * s, fill=BODY)

    # D-pad.
    cx, cy = 150, 185
    for name, (dx, dy) in {"DPAD_UP": (0, -1), "DPAD_DOWN": (0, 1), "DPAD_LEFT": (-1, 0), "DPAD_RIGHT": (1, 0)}.items():
        x, y = cx + dx * 22, cy + dy * 22
        d.rectangle(box(x - 11, y - 11, x + 11, y + 11), fill=_lit(buttons, name))
    d.rectangle(box(cx - 11, cy - 11, cx + 11, cy + 11), fill=OFF)

    # Face buttons (Y/B/A/X).
    fx, fy = 380, 120
    for name, (dx, dy) in {"NORTH": (0, -1), "EAST": (1, 0), "SOUTH": (0, 1), "WEST": (-1, 0)}.items():
        x, y = fx + dx * 26, fy + dy * 26
        d.ellipse(box(x - 13, y - 13, x + 13, y + 13), fill=_lit(buttons, name))
        put_text(((x - 4) * s, (y - 7) * s), FACE[name], fill=TEXT, font=f_mid)

    # Menu buttons.
    for name, x, label in (("BACK", 200, "BACK"), ("GUIDE", 240, "G"), ("START", 280, "START")):
        d.ellipse(box(x - 9, 100 - 9, x + 9, 100 + 9), fill=_lit(buttons, name))
        put_text(((x - 12) * s, 112 * s), label, fill=TEXT, font=f_small)

    # Sticks: ring lit when clicked (L3/R3), dot at the stick position, faint trail.
    for name, (sx, sy), pos, trail in (("LEFT_THUMB", (100, 120), j_left, trail_left),
                                       ("RIGHT_THUMB", (300, 185), j_right, trail_right)):
        r = 30
        d.ellipse(box(sx - r - 4, sy - r - 4, sx + r + 4, sy + r + 4), fill=_lit(buttons, name))
        d.ellipse(box(sx - r, sy - r, sx + r, sy + r), fill=STICK_BG)
        if trail is not None and len(trail) > 1:
            pts = [((sx + float(x) * r) * s, (sy + float(y) * r) * s) for x, y in trail]
            d.line(pts, fill=TRAIL, width=max(1, int(2 * s)))
        px, py = sx + float(pos[0]) * r, sy + float(pos[1]) * r
        d.ellipse(box(px - 8, py - 8, px + 8, py + 8), fill=ON)

    # Right-face slots the model has but never learned: shown apart, flagged.
    put_text((330 * s, 222 * s), "untrained:", fill=TEXT, font=f_small)
    for k, name in enumerate(UNTRAINED_BUTTONS):
        x = 400 + k * 14
        d.ellipse(box(x - 5, 229 - 5, x + 5, 229 + 5), fill=_lit(buttons, name))
    if title:
        d.text((26 * s, 262 * s), title, fill=(40, 40, 40, 255), font=f_mid)
    return img


def chunk_grid(buttons, *, cell: int = 14, label_width: int = 120) -> Image.Image:
    """[steps, 21] presses as a grid: one row per button, one column per step."""
    buttons = np.asarray(buttons)
    steps = buttons.shape[0]
    w, h = label_width + steps * cell + 4, (len(BUTTONS) + 1) * cell + 4
    img = Image.new("RGB", (w, h), (250, 250, 250))
    d = ImageDraw.Draw(img)
    font = _font(max(8, cell - 4))
    for t in range(steps):
        if t % 3 == 0:
            d.text((label_width + t * cell + 1, 0), str(t + 1), fill=(90, 90, 90), font=font)
    for b, name in enumerate(BUTTONS):
        y = (b + 1) * cell
        untrained = name in UNTRAINED_BUTTONS
        d.text((2, y), name + (" *" if untrained else ""), fill=(150, 80, 190) if untrained else (30, 30, 30), font=font)
        for t in range(steps):
            on = buttons[t, b] > 0.5
            color = (UNTRAINED_ON if untrained else ON)[:3] if on else (225, 225, 230)
            d.rectangle([label_width + t * cell, y + 1, label_width + (t + 1) * cell - 2, y + cell - 1], fill=color)
    return img


def chunk_panel(chunk: dict, step: int = 0, width: int = 480) -> Image.Image:
    """Frame-mode picture: the gamepad at `step` (with the chunk's stick trails) above the grid."""
    step = int(min(max(step, 0), chunk["horizon"] - 1))
    pad = draw_gamepad(chunk["buttons"][step], chunk["j_left"][step], chunk["j_right"][step], width=width,
                       trail_left=chunk["j_left"], trail_right=chunk["j_right"],
                       title=f"step {step + 1}/{chunk['horizon']}  (t = {step / chunk['control_hz']:.3f} s)")
    grid = chunk_grid(chunk["buttons"])
    out = Image.new("RGB", (max(pad.width, grid.width), pad.height + grid.height + 8), (255, 255, 255))
    out.paste(pad, (0, 0), pad)
    out.paste(grid, (0, pad.height + 8))
    return out


def overlay_frame(frame: np.ndarray, chunk: dict, step: int = 0, max_side: int = 640) -> np.ndarray:
    """The frame (shrunk to `max_side`) with a translucent gamepad of `step` in its lower-right corner."""
    image = Image.fromarray(frame).convert("RGB")
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(2, round(image.width * scale)), max(2, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    pad_w = max(120, image.width // 3)
    pad = draw_gamepad(chunk["buttons"][step], chunk["j_left"][step], chunk["j_right"][step], width=pad_w,
                       trail_left=chunk["j_left"], trail_right=chunk["j_right"])
    alpha = pad.getchannel("A").point(lambda a: a * 0.85)
    pad.putalpha(alpha)
    x, y = image.width - pad.width - 4, image.height - pad.height - 4
    if x < 0 or y < 0:  # tiny frames: put the pad below instead of over
        canvas = Image.new("RGB", (max(image.width, pad.width), image.height + pad.height), (0, 0, 0))
        canvas.paste(image, (0, 0))
        canvas.paste(pad, (0, image.height), pad)
        image = canvas
    else:
        image.paste(pad, (x, y), pad)
    arr = np.asarray(image)
    return arr[: arr.shape[0] - arr.shape[0] % 2, : arr.shape[1] - arr.shape[1] % 2]
