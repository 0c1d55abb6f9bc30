"""Who plays: NitroGen through the /agent_frame engine, or the random-action baseline.

Both return one decoded chunk per call, in the same layout (`buttons` [18, 21] 0/1, `j_left` /
`j_right` [18, 2] in [-1, 1]), so the same mapping and limits drive the game for either.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shared.tasks.cancel import Cancelled, CancelToken

from ..actions import BUTTONS, CONTROL_HZ

if TYPE_CHECKING:
    from ..engine import AgentEngine

HORIZON = 18


def chunk_seed(seed: int, index: int) -> int:
    """The noise seed of chunk `index`: every chunk draws fresh noise, reproducibly."""
    return (int(seed) + int(index)) % (2**63)


def compact(chunk: dict) -> dict:
    """The parts of a decoded chunk a recording keeps."""
    return {"buttons": [list(map(int, row)) for row in chunk["buttons"]],
            "j_left": [list(map(float, row)) for row in chunk["j_left"]],
            "j_right": [list(map(float, row)) for row in chunk["j_right"]]}


class NitroGenAgent:
    """The latest frame -> 18 actions, with the same engine call (and preprocessing) as /agent_frame."""

    name = "nitrogen"

    def __init__(self, engine: AgentEngine, seed: int):
        self.engine, self.seed = engine, int(seed)

    def act(self, frame: np.ndarray, index: int, cancel: CancelToken | None = None) -> dict:
        result = self.engine.run([frame], chunk_seed(self.seed, index), cancel=cancel)
        if result.cancelled or not result.chunks:
            raise Cancelled()
        return result.chunks[0]


class RandomAgent:
    """Chance: every step presses each button with probability 1/2 and puts each stick anywhere."""

    name = "random"

    def __init__(self, seed: int):
        self.seed = int(seed)

    def act(self, frame: np.ndarray, index: int, cancel: CancelToken | None = None) -> dict:
        if cancel is not None:
            cancel.raise_if_cancelled()
        rng = np.random.default_rng([self.seed, int(index)])
        return {"horizon": HORIZON, "control_hz": CONTROL_HZ,
                "buttons": (rng.random((HORIZON, len(BUTTONS))) < 0.5).astype(int).tolist(),
                "j_left": rng.uniform(-1, 1, (HORIZON, 2)).round(5).tolist(),
                "j_right": rng.uniform(-1, 1, (HORIZON, 2)).round(5).tolist()}
