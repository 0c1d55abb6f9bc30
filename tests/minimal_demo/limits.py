"""The declared spec of every Tone parameter (shared.io.params): slider, API check and message in one place."""
from __future__ import annotations

from shared.io.params import SEED, Number

from .plans import CAPS

PITCH_HZ = Number("pitch_hz", "Pitch (Hz)", minimum=50, maximum=2000, default=440, step=1, unit=" Hz")
SECONDS = Number("seconds", "Length (s)", minimum=0.1, maximum=CAPS["max_seconds"], default=0.5, step=0.1,
                 unit=" s")
__all__ = ["PITCH_HZ", "SECONDS", "SEED"]
