"""Make the example files the tabs offer (python -m demos.assets.make).

Everything here is drawn or spoken by this script, from code in this repo:
pictures with Pillow, clips encoded with PyAV (through shared.io.media), speech
with espeak-ng. No third-party art, footage or recordings. The outputs are
committed so that a Space without espeak-ng still has them; PROVENANCE.md
beside them says what made each one.
"""
from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
REFERENCE_TEXT = ("The quick brown fox jumps over the lazy dog. A gentle breeze drifts across the quiet harbour, "
                  "and the boats rock slowly in the evening light.")
FILES = {
    "voice_reference.flac": "espeak-ng (voice en-us, 150 words per minute) reading REFERENCE_TEXT, resampled to 24 kHz",
    "video_first_frame.png": "a lake at dawn drawn with Pillow (sky gradient, sun, mountains, water)",
    "video_clip.mp4": "48 frames of that drawing with the sun rising, 24 fps, encoded with PyAV",
    "agent_screenshot.png": "a side-scrolling platform game scene drawn with Pillow (tiles, player, coins, HUD)",
    "agent_clip.mp4": "72 frames of that scene scrolling while the player jumps, 30 fps, encoded with PyAV",
}


# ------------------------------------------------------------------ drawings
def lake(width: int = 640, height: int = 384, sun: float = 0.3) -> Image.Image:
    """A lake at dawn; `sun` in [0, 1] is how high the sun has risen."""
    sky = np.linspace(0, 1, height // 2)[:, None]
    top, low = np.array([70, 110, 190]), np.array([250, 180, 120])
    rows = (top * (1 - sky) + low * sky).astype(np.uint8)
    img = Image.new("RGB", (width, height))
    img.paste(Image.fromarray(np.repeat(rows[:, None, :], width, axis=1)), (0, 0))
    d = ImageDraw.Draw(img)
    horizon = height // 2
    sy = horizon - int(sun * horizon * 0.8)
    d.ellipse((width * 0.62 - 28, sy - 28, width * 0.62 + 28, sy + 28), fill=(255, 220, 120))
    d.polygon([(0, horizon), (width * 0.25, horizon * 0.45), (width * 0.45, horizon)], fill=(80, 90, 120))
    d.polygon([(width * 0.3, horizon), (width * 0.55, horizon * 0.55), (width * 0.85, horizon)], fill=(95, 100, 135))
    d.polygon([(width * 0.7, horizon), (width * 0.9, horizon * 0.6), (width, horizon * 0.8), (width, horizon)],
              fill=(85, 95, 125))
    for y in range(horizon, height):
        t = (y - horizon) / (height - horizon)
        d.line([(0, y), (width, y)], fill=(int(60 + 40 * (1 - t)), int(90 + 50 * (1 - t)), int(140 + 40 * (1 - t))))
    for k in range(6):  # the sun's reflection
        y = horizon + 10 + k * 14
        d.line([(width * 0.62 - 30 + k * 3, y), (width * 0.62 + 30 - k * 3, y)], fill=(250, 200, 130), width=3)
    return img


def platformer(width: int = 640, height: int = 360, scroll: int = 0, jump: float = 0.0) -> Image.Image:
    """A platform-game frame: `scroll` pixels along the level, the player `jump` (0..1) off the ground."""
    img = Image.new("RGB", (width, height), (110, 170, 250))
    d = ImageDraw.Draw(img)
    for k in range(-1, 5):  # clouds, slower than the ground (parallax)
        x = (k * 190 - scroll // 3) % (width + 190) - 95
        d.ellipse((x, 40 + 20 * (k % 2), x + 110, 80 + 20 * (k % 2)), fill=(245, 248, 255))
    ground = height - 64
    tile = 32
    for x in range(-(scroll % tile), width, tile):
        d.rectangle((x, ground, x + tile - 1, ground + 15), fill=(70, 170, 60))
        d.rectangle((x, ground + 16, x + tile - 1, height), fill=(150, 95, 50))
        d.line([(x, ground + 16), (x, height)], fill=(120, 75, 40))
    for k in range(6):  # floating blocks and coins
        x = k * 230 + 140 - scroll
        x = (x % (width + 230)) - 115
        d.rectangle((x, ground - 120, x + 3 * tile - 1, ground - 120 + tile - 1), fill=(200, 120, 50),
                    outline=(90, 50, 20), width=2)
        d.ellipse((x + tile, ground - 170, x + tile + 20, ground - 146), fill=(250, 210, 40), outline=(180, 130, 0))
    ex = (width - (scroll * 2) % (width + 80))  # a walking enemy
    d.ellipse((ex, ground - 28, ex + 30, ground), fill=(140, 60, 160))
    d.ellipse((ex + 7, ground - 22, ex + 13, ground - 14), fill="white")
    px, py = 150, ground - 48 - int(90 * math.sin(math.pi * jump))
    d.rectangle((px, py, px + 28, py + 48), fill=(220, 40, 40), outline=(90, 10, 10), width=2)
    d.rectangle((px + 6, py + 8, px + 24, py + 20), fill=(250, 220, 180))
    d.rectangle((0, 0, width, 28), fill=(20, 20, 40))
    d.text((10, 8), f"SCORE {1200 + scroll * 5:06d}", fill="white")
    d.text((width - 120, 8), "LIVES x3", fill="white")
    return img


# ------------------------------------------------------------------ outputs
def _write_clip(path: Path, frames, fps: float) -> None:
    from shared.io.media import VideoWriter

    writer = VideoWriter(path, fps)
    writer.write([np.asarray(f) for f in frames])
    writer.close()


def _speak(path: Path) -> None:
    import soundfile as sf

    from shared.io.media import resample

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is needed to make the reference clip (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(wav), REFERENCE_TEXT], check=True)
        wave, rate = sf.read(wav, dtype="float32")
    sf.write(path, resample(wave, rate, 24000), 24000, format="FLAC")


def make(dest: Path = HERE) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    lake().save(dest / "video_first_frame.png", optimize=True)
    _write_clip(dest / "video_clip.mp4", (lake(320, 192, sun=i / 47) for i in range(48)), 24)
    platformer().save(dest / "agent_screenshot.png", optimize=True)
    _write_clip(dest / "agent_clip.mp4", (platformer(320, 180, scroll=4 * i, jump=(i % 24) / 24) for i in range(72)), 30)
    _speak(dest / "voice_reference.flac")
    lines = ["# Example files: provenance", "", "Made by `python -m demos.assets.make` (this folder's `make.py`) "
             "from code in this repository. No third-party art, footage or recordings.", ""]
    lines += [f"- `{name}`: {what}." for name, what in FILES.items()]
    lines += ["", f"REFERENCE_TEXT: \"{REFERENCE_TEXT}\"", ""]
    (dest / "PROVENANCE.md").write_text("\n".join(lines))
    return [dest / name for name in FILES]


if __name__ == "__main__":
    for made in make():
        print(made, made.stat().st_size, "bytes")
