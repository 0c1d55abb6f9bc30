"""The declared specs of the game-agent tab's parameters (shared.io.params)."""
from __future__ import annotations

from dataclasses import replace

from shared.io.params import Number

API_SEED = 0  # API calls are reproducible unless the UI's seed box says otherwise
MAX_STRIDE = 120

STRIDE = Number("stride", "Stride: run the agent on every k-th frame", minimum=1, maximum=MAX_STRIDE, default=10,
                integer=True)
# The cap on sampled frames; the tab lowers the maximum to the profile's plan.
MAX_FRAMES = Number("max_frames", "Frame cap (sampled frames)", minimum=1, maximum=10_000, default=None, integer=True)


def frame_cap_spec(cap: int, profile: str) -> Number:
    spec = MAX_FRAMES.capped(cap, f"the limit on profile '{profile}'")
    return replace(spec, default=cap, label=f"Frame cap (sampled frames; this profile allows {cap})")
