"""Valid media that also carry an HTML page with a script: what a hostile upload looks like."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

SCRIPT = b"<html><body><script>document.title='pwned';alert(1)</script></body></html>"
ASSETS = Path(__file__).resolve().parents[1] / "demos" / "assets"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def polyglot_png() -> bytes:
    """A valid 2x2 PNG whose text chunk holds an HTML page with a script."""
    pixels = zlib.compress(b"\x00" + b"\x80\x40\x20" * 2 + b"\x00" + b"\x20\x40\x80" * 2)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + _chunk(b"tEXt", b"Comment\x00" + SCRIPT) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b""))


def polyglot_wav() -> bytes:
    """The example reference voice as WAV with an HTML page in a LIST chunk."""
    import soundfile as sf

    wave, rate = sf.read(ASSETS / "voice_reference.flac", dtype="int16")
    buffer = io.BytesIO()
    sf.write(buffer, wave, rate, format="WAV", subtype="PCM_16")
    riff = buffer.getvalue()
    extra = b"LIST" + struct.pack("<I", len(SCRIPT)) + SCRIPT
    return b"RIFF" + struct.pack("<I", len(riff) - 8 + len(extra)) + riff[8:] + extra
