"""The tone model: a learned mix of a pitch's first harmonics plus a little seeded noise."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ToneConfig:
    harmonics: int = 4
    sample_rate: int = 16_000


class ToneModel(nn.Module):
    def __init__(self, config: ToneConfig) -> None:
        super().__init__()
        self.config = config
        self.harmonic_logits = nn.Parameter(torch.zeros(config.harmonics))
        self.noise_gain = nn.Parameter(torch.zeros(()))

    def forward(self, times: torch.Tensor, pitch_hz: float, noise: torch.Tensor) -> torch.Tensor:
        """Samples at `times` (seconds): harmonics k*pitch weighted by softmax(logits), plus gated noise."""
        k = torch.arange(1, self.config.harmonics + 1, device=times.device, dtype=times.dtype)
        phases = 2 * math.pi * pitch_hz * times[:, None] * k[None, :]
        mix = torch.softmax(self.harmonic_logits, dim=0)
        return 0.5 * (torch.sin(phases) * mix).sum(-1) + 0.05 * torch.sigmoid(self.noise_gain) * noise
