"""Recording an episode: the mp4 (every `every`-th tic, gamepad overlay), the actions, per-tic rewards, final stats.

Frames are encoded on a writer thread, off the loop's critical path: the loop only hands over the
frame and the action it played.
"""
from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import numpy as np

from shared.io.media import VideoWriter

from ..overlay import overlay_frame
from .agents import compact

_END = object()


class Recorder:
    def __init__(self, mp4: Path | None, fps: float, max_side: int = 640, every: int = 1):
        self.mp4 = Path(mp4) if mp4 else None
        self.max_side = max_side
        self.every, self._tics = max(1, int(every)), 0  # the mp4 keeps every `every`-th tic's frame
        self.rewards: list[float] = []
        self.chunks: list[dict] = []
        self._queue: queue.Queue = queue.Queue(maxsize=256)
        self._error: BaseException | None = None
        self._writer = VideoWriter(self.mp4, fps / self.every) if self.mp4 else None
        self._thread = threading.Thread(target=self._write, name="play-recorder", daemon=True)
        if self._writer is not None:
            self._thread.start()

    def _write(self) -> None:
        try:
            while (item := self._queue.get()) is not _END:
                frame, chunk, step = item
                self._writer.write([overlay_frame(frame, chunk, step, self.max_side)])
        except BaseException as exc:  # reported by close(); keep draining so the loop never blocks
            self._error = exc
            while self._queue.get() is not _END:
                pass

    def tic(self, frame: np.ndarray, chunk: dict, step: int, reward: float) -> None:
        self.rewards.append(round(float(reward), 5))
        if self._writer is not None and self._tics % self.every == 0:
            self._queue.put((frame, chunk, step))
        self._tics += 1

    def chunk(self, entry: dict, actions: dict) -> None:
        self.chunks.append({**entry, "actions": compact(actions)})

    def close(self, record: dict, actions_path: Path | None) -> dict:
        """Finish the mp4 and write the actions JSON; the files' paths."""
        files = {}
        if self._writer is not None:
            self._queue.put(_END)
            self._thread.join()
            if self._writer.close() is not None:  # None: no tic was played
                files["video"] = str(self.mp4)
            if self._error is not None:
                raise self._error
        if actions_path is not None:
            payload = {"record": record, "rewards_per_tic": self.rewards, "chunks": self.chunks}
            Path(actions_path).write_text(json.dumps(payload))
            files["actions"] = str(actions_path)
        return files
