"""The test-only faults of shared/tasks/faults.py on a plain torch module."""
from __future__ import annotations

import time

import pytest
import torch

from shared.tasks import faults


class TwoStage(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(4, 4)
        self.decoder = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_slow_sleeps_before_each_submodule_call_and_changes_no_number(monkeypatch):
    torch.manual_seed(0)
    model, x = TwoStage(), torch.randn(3, 4)
    expected = model(x)
    monkeypatch.setenv(faults.ENV, "oom:other:1,slow:toy:0.3")
    faults.arm(model, "toy")
    start = time.perf_counter()
    got = model(x)
    assert time.perf_counter() - start >= 0.6  # two sub-module calls, 0.3 s each
    assert torch.equal(got, expected)


def test_oom_counts_down_and_other_keys_are_untouched(monkeypatch):
    monkeypatch.setenv(faults.ENV, "oom:toy:2")
    armed, other = faults.arm(TwoStage(), "toy"), faults.arm(TwoStage(), "other")
    x = torch.randn(1, 4)
    for _ in range(2):
        with pytest.raises(torch.OutOfMemoryError, match="simulated"):
            armed(x)
    armed(x)
    other(x)


def test_unset_installs_nothing(monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    model = faults.arm(TwoStage(), "toy")
    assert not model._forward_pre_hooks and not any(m._forward_pre_hooks for m in model.children())
