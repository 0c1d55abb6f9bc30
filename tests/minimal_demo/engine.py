"""The tone engine: plain Python (never imports gradio). `load_engine(model_dir, plan)`, then
`engine.generate(pitch_hz, seconds, seed, progress, cancel)` -> float32 samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shared.models.profiles import PlacementPlan
from shared.tasks.cancel import CancelToken, Progress, no_progress

from .checkpoint import load_model

CHUNK_S = 0.1  # one progress report and one cancel check per chunk


class ToneEngine:
    def __init__(self, model, device: str) -> None:
        self.model = model.to(device)
        self.sample_rate = model.config.sample_rate

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device  # on ZeroGPU the weights move to cuda in the worker

    @torch.no_grad()
    def generate(self, pitch_hz: float, seconds: float, seed: int, progress: Progress = no_progress,
                 cancel: CancelToken | None = None) -> np.ndarray:
        total = int(round(seconds * self.sample_rate))
        step = int(CHUNK_S * self.sample_rate)
        generator = torch.Generator().manual_seed(seed)
        pieces = []
        for start in range(0, total, step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            count = min(step, total - start)
            times = torch.arange(start, start + count, dtype=torch.float32) / self.sample_rate
            noise = torch.randn(count, generator=generator)
            pieces.append(self.model(times.to(self.device), pitch_hz, noise.to(self.device)).cpu().numpy())
            progress((start + count) / total, "Making the tone")
        return np.concatenate(pieces).astype(np.float32)


def load_engine(model_dir: Path, plan: PlacementPlan) -> ToneEngine:
    return ToneEngine(load_model(model_dir), plan.device)
