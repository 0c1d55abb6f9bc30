"""Voxtral engine behaviour on the tiny random checkpoint: prompt layout,
streaming == one-shot decode, seeds, stops, long text, bad input, int8."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.errors import UserInputError
from shared.tasks.cancel import CancelToken
from demos.voice.voxtral.engine import (
    StreamingDecoder,
    SynthesisOptions,
    VoxtralEngine,
    seeded_noise,
    segment_frame_budget,
)
from demos.voice.voxtral.text import split_sentences, validate_text
from demos.voice.voxtral.tiny import write_tiny
from demos.voice.voxtral.voices import grouped_choices

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "voxtral"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("voxtral-tiny-engine")
    write_tiny(dest)
    return dest


@pytest.fixture(scope="module")
def engine(tiny_dir) -> VoxtralEngine:
    return VoxtralEngine.load(tiny_dir)


def random_codes(engine: VoxtralEngine, frames: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    sizes = engine.cfg.acoustic.codebook_sizes
    return torch.stack([torch.randint(2, size, (frames,), generator=gen) for size in sizes], dim=1)


def test_prompt_layout(engine):
    text = "Hi there. The end!"
    for voice in ("neutral_female", "ar_male"):
        ids = engine.prompt_ids(text, voice).tolist()
        n = engine.tokenizer.voice_rows[voice]
        text_ids = engine.tokenizer.text_ids(text)
        assert ids == [1, 25] + [24] * n + [36] + text_ids + [35, 25]
        assert all(i >= 1000 for i in text_ids)  # rank + 1000 specials
        embeds = engine.prompt_embeddings(engine.prompt_ids(text, voice), voice)
        torch.testing.assert_close(embeds[2 : 2 + n], engine.voice(voice), rtol=0, atol=0)


@pytest.mark.parametrize("first,chunk", [(5, 25), (1, 3), (7, 11)])
def test_chunked_decode_equals_full_decode(engine, first, chunk):
    codes = random_codes(engine, 64)
    full = engine.decode(codes)
    decoder = StreamingDecoder(engine.model)
    parts = []
    for k in range(codes.shape[0]):
        decoder.push(codes[k])
        if decoder.pending >= (first if decoder.decoded == 0 else chunk):
            parts.append(decoder.flush())
    parts.append(decoder.flush())
    streamed = np.concatenate(parts)
    assert streamed.shape == full.shape == (64 * 1920,)
    np.testing.assert_allclose(streamed, full, atol=1e-5, rtol=0)


def test_short_left_context_would_not_match(engine):
    """The check above can fail: without left context chunks differ from the full decode."""
    codes = random_codes(engine, 40, seed=3)
    full = engine.decode(codes)
    decoder = StreamingDecoder(engine.model, left_context=0)
    parts = []
    for k in range(codes.shape[0]):
        decoder.push(codes[k])
        if decoder.pending >= 10:
            parts.append(decoder.flush())
    assert np.abs(np.concatenate(parts) - full).max() > 1e-3


def test_same_seed_same_audio_other_seed_other_audio(engine):
    options = SynthesisOptions(max_seconds=1.6)
    a, stats_a = engine.synthesize("Hello there.", "casual_male", 11, options)
    b, _ = engine.synthesize("Hello there.", "casual_male", 11, options)
    c, stats_c = engine.synthesize("Hello there.", "casual_male", 12, options)
    assert a.size > 0 and np.array_equal(a, b)
    assert not torch.equal(stats_a.codes, stats_c.codes)
    # The global RNG is never touched.
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    engine.synthesize("Hello there.", "casual_male", 11, options)
    assert torch.equal(before, torch.random.get_rng_state())


def test_seeded_noise_is_per_request():
    g1 = torch.Generator().manual_seed(5)
    g2 = torch.Generator().manual_seed(5)
    n1, n2 = seeded_noise(g1, 36), seeded_noise(g2, 36)
    assert torch.equal(torch.stack([n1(k) for k in range(3)]), torch.stack([n2(k) for k in range(3)]))


def test_max_duration_stop_and_streamed_chunks(engine):
    options = SynthesisOptions(max_seconds=2.0)
    stats_chunks = []
    from demos.voice.voxtral.engine import SynthesisStats

    stats = SynthesisStats()
    for chunk in engine.stream("Hello there, the world.", "neutral_male", 3, options, stats=stats):
        stats_chunks.append(chunk)
    assert stats.frames == 25 and stats.stop_reason == "max_duration"
    assert [c.samples.size for c in stats_chunks] == [5 * 1920, 20 * 1920]
    assert stats.first_audio_s is not None and stats.real_time_factor is not None
    wave = np.concatenate([c.samples for c in stats_chunks])
    np.testing.assert_allclose(wave, engine.decode(stats.codes), atol=1e-5, rtol=0)


def test_end_audio_stop_on_reference_fixture():
    ref = torch.load(FIXTURE / "reference.pt", weights_only=True)
    fixture = VoxtralEngine.load(FIXTURE)
    result = fixture.generate_segment(ref["text"], ref["voice"], lambda k: ref["noise_table"][k], max_frames=2048)
    assert result.stop_reason == "end_audio" and result.codes.shape == (6, 7)
    assert int(result.codes[:, 0].eq(1).sum()) == 0  # END is neither emitted as audio nor fed back


def test_long_text_is_split_and_streamed_continuously(engine, monkeypatch):
    text = "One sentence here. A second one follows! And a third?"
    assert split_sentences(text, 25) == ["One sentence here.", "A second one follows!", "And a third?"]
    assert split_sentences(text, 45) == ["One sentence here. A second one follows!", "And a third?"]
    assert split_sentences(text) == [text]  # short text stays one prompt
    long_text = " ".join(f"Sentence number {i} is here." for i in range(40))
    groups = split_sentences(long_text)
    assert len(groups) >= 3 and all(len(g) <= 300 for g in groups)
    assert " ".join(groups) == long_text
    # Small groups and budgets keep this quick on the tiny model.
    from demos.voice.voxtral import engine as engine_module

    monkeypatch.setattr(engine_module, "SEGMENT_CHARS", 30)
    monkeypatch.setattr(engine_module, "SEGMENT_BASE_SECONDS", 0.2)
    monkeypatch.setattr(engine_module, "SEGMENT_SECONDS_PER_CHAR", 0.02)
    groups = split_sentences(long_text, 30)
    wave, stats = engine.synthesize(long_text, "fr_female", 4, SynthesisOptions(max_seconds=4.0))
    assert stats.segments >= 3 and len(stats.segment_stops) == stats.segments
    assert stats.frames <= 50
    budgets = [segment_frame_budget(g, 12.5) for g in groups]
    assert all(budget <= 11 for budget in budgets)
    assert wave.shape == (stats.frames * 1920,)
    # One continuous code stream: the streamed audio equals one decode of all frames.
    np.testing.assert_allclose(wave, engine.decode(stats.codes), atol=1e-5, rtol=0)


def test_split_keeps_long_sentences_under_limit():
    text = "word " * 200
    pieces = split_sentences(text, 50)
    assert all(len(p) <= 50 for p in pieces) and " ".join(pieces) == text.strip()
    assert split_sentences("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]


@pytest.mark.parametrize(
    "text,match",
    [
        ("", "text is empty"),
        ("   \n ", "text is empty"),
        ("\u200b\u2060", "text holds only invisible characters"),
        ("a" * 2001, "text is 2,001 characters; the limit is 2,000"),
        ("?!… 🙂 --- ***", "no speakable characters"),
    ],
)
def test_bad_text_is_a_clear_error(engine, text, match):
    with pytest.raises(UserInputError, match=match):
        list(engine.stream(text, "neutral_female", 1))


def test_unknown_voice_and_bad_options(engine):
    with pytest.raises(UserInputError, match="Unknown voice 'klingon'"):
        list(engine.stream("Hello", "klingon", 1))
    with pytest.raises(UserInputError, match="euler_steps is 0; it must be a whole number from 1 to 16"):
        list(engine.stream("Hello", "neutral_female", 1, SynthesisOptions(n_steps=0)))
    with pytest.raises(UserInputError, match="max_seconds is -1; it must be a number from 0 to 120 s"):
        list(engine.stream("Hello", "neutral_female", 1, SynthesisOptions(max_seconds=-1)))
    assert validate_text("  Hello\x00 world \n") == "Hello world"


def test_cancel_returns_what_is_finished(engine):
    cancel = CancelToken()
    chunks = []
    for chunk in engine.stream("Hello there.", "neutral_male", 1, SynthesisOptions(max_seconds=10), cancel=cancel):
        chunks.append(chunk)
        cancel.cancel()
    assert len(chunks) >= 1 and chunks[0].samples.size == 5 * 1920


def test_voice_choices_grouped_by_language():
    from demos.voice.voxtral.tiny import PRESET_VOICES

    choices = grouped_choices(PRESET_VOICES)
    assert len(choices) == 20 and {v for _, v in choices} == set(PRESET_VOICES)
    languages = [label.split(" · ")[0] for label, _ in choices]
    assert languages[0] == "English"
    # Grouped: each language appears as one contiguous run.
    runs = [lang for i, lang in enumerate(languages) if i == 0 or languages[i - 1] != lang]
    assert len(runs) == len(set(languages)) == 9


def test_int8_weight_only_runs(tiny_dir):
    quantized = VoxtralEngine.load(tiny_dir, quantization="int8_weight_only")
    wave, stats = quantized.synthesize("Hello.", "neutral_female", 2, SynthesisOptions(max_seconds=0.4))
    assert stats.frames == 5 and np.isfinite(wave).all()
    weight = quantized.model.layers[0].attention.wq.weight
    assert "Affine" in type(weight).__name__ or "Int8" in type(weight).__name__
