"""Loading reports real fractions: each model's loader names its parts, and the long part (reading the
weights) moves inside, so no bar sits at 0 % while gigabytes are read (issue #23, "Progress that talks")."""
from __future__ import annotations

import pytest
import torch

from shared.tasks.load_progress import Parts, bytes_read_words, reporting_to


class Recorder:
    def __init__(self):
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction, description=None):
        self.calls.append((float(fraction), description or ""))

    @property
    def fractions(self):
        return [f for f, _ in self.calls]


@pytest.fixture
def every_report(monkeypatch):
    """Reports from inside a part unthrottled, so a tiny checkpoint's few tensors each show."""
    monkeypatch.setattr(Parts, "interval", 0.0)


def _non_decreasing(values):
    return all(b >= a - 1e-9 for a, b in zip(values, values[1:]))


def _assert_talks(calls, long_part: str):
    fractions = [f for f, _ in calls]
    assert _non_decreasing(fractions) and fractions[-1] == pytest.approx(1.0), calls
    inside = [(f, d) for f, d in calls if f"{long_part}, " in d and not d.endswith(", done")]
    # The long part reports from inside itself, with bytes read, at fractions strictly inside (0, 1)
    # until its last tensor is read.
    assert inside and all(0.0 < f <= 1.0 for f, _ in inside) and any(f < 1.0 for f, _ in inside[:-1]), calls
    assert any("B" in d.rsplit(", ", 1)[-1] for _, d in inside), calls


def test_parts_report_inside_a_part_at_most_every_interval(monkeypatch):
    clock = iter([0.0, 0.1, 0.2, 0.3, 0.6, 0.7, 1.0, 1.0])
    monkeypatch.setattr("shared.tasks.load_progress.time.monotonic", lambda: next(clock))
    seen = Recorder()
    parts = Parts(seen, {"a": 1, "b": 3}, "Loading X")
    with parts.part("a"):
        pass
    with parts.part("b") as within:  # starts at t=0.1
        within(0.25, "1 of 4 MB")  # t=0.2: too soon, dropped
        within(0.5, "2 of 4 MB")  # t=0.3: too soon, dropped
        within(0.75, "3 of 4 MB")  # t=0.6: reported
        within(0.9, "3.6 of 4 MB")  # t=0.7: too soon
    assert seen.calls == [(0.0, "Loading X: a (1 of 2)"), (0.25, "Loading X: a (1 of 2), done"),
                          (0.25, "Loading X: b (2 of 2)"), (0.25 + 0.75 * 0.75, "Loading X: b (2 of 2), 3 of 4 MB"),
                          (1.0, "Loading X: b (2 of 2), done")]


def test_bytes_read_words():
    assert bytes_read_words(3.2 * 1024**3, 8 * 1024**3) == "3.2 of 8.0 GB"
    assert bytes_read_words(12 * 1024**2, 40 * 1024**2) == "12 of 40 MB"
    assert bytes_read_words(0.5 * 1024**2, 3 * 1024**2) == "0.5 of 3.0 MB"


@pytest.fixture(scope="module")
def voxtral_dir(tmp_path_factory):
    from demos.voice.voxtral.tiny import write_tiny

    dest = tmp_path_factory.mktemp("voxtral-tiny")
    write_tiny(dest)
    return dest


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["converted", "as-stored"])
def test_voxtral_loading_reports_the_weights_read(voxtral_dir, every_report, dtype):
    from demos.voice.voxtral.engine import VoxtralEngine

    seen = Recorder()
    with reporting_to(seen):
        VoxtralEngine.load(voxtral_dir, dtype=dtype)
    assert seen.calls[0] == (0.0, "Loading Voxtral: tokenizer (1 of 2)")
    _assert_talks(seen.calls, "weights (2 of 2)")


def test_voxtral_int8_loading_names_the_quantization(voxtral_dir, every_report):
    from demos.voice.voxtral.engine import VoxtralEngine

    seen = Recorder()
    with reporting_to(seen):
        VoxtralEngine.load(voxtral_dir, quantization="int8_weight_only")
    assert any(d == "Loading Voxtral: int8 quantization (3 of 3)" for _, d in seen.calls), seen.calls
    _assert_talks(seen.calls, "weights (2 of 3)")


def test_agent_loading_reports_the_weights_read(tmp_path, every_report):
    from demos.agent.checkpoint import write_tiny
    from demos.agent.engine import load

    write_tiny(tmp_path)
    seen = Recorder()
    with reporting_to(seen):
        load(tmp_path, None)
    assert seen.calls[0] == (0.0, "Loading NitroGen: weights (1 of 2)")
    assert seen.calls[-1] == (1.0, "Loading NitroGen: placing it (2 of 2), done")
    _assert_talks(seen.calls, "weights (1 of 2)")


def test_pocket_loading_names_each_part(tmp_path, every_report):
    from demos.voice.cloning.checkpoint import write_tiny
    from demos.voice.cloning.engine import load
    from demos.voice.cloning.specs import SPECS
    from shared.models.hardware import detect
    from shared.models.profiles import plan_for

    write_tiny(tmp_path)
    seen = Recorder()
    with reporting_to(seen):
        load(tmp_path, plan_for(SPECS[0].plan, "cpu", detect()))
    texts = [d for _, d in seen.calls]
    for part in ("model (1 of 3)", "audio tokenizer (2 of 3)", "processor (3 of 3)"):
        assert f"Loading Pocket TTS: {part}" in texts and f"Loading Pocket TTS: {part}, done" in texts, texts
    fractions = seen.fractions
    assert _non_decreasing(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any(0.0 < f < 1.0 for f in fractions), seen.calls


def test_writing_the_tiny_pocket_checkpoint_names_its_stages(tmp_path):
    from demos.voice.cloning.checkpoint import write_tiny

    seen = Recorder()
    with reporting_to(seen):
        write_tiny(tmp_path)
    texts = [d for _, d in seen.calls]
    assert texts[0] == "Writing the tiny Pocket TTS checkpoint: loading transformers (1 of 3)"
    assert texts[-1] == "Writing the tiny Pocket TTS checkpoint: building and saving its models (3 of 3), done"
    assert _non_decreasing(seen.fractions) and seen.fractions[-1] == pytest.approx(1.0)
    assert any(0.0 < f < 1.0 for f in seen.fractions), seen.calls
