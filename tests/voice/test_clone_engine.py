"""Pocket TTS cloning engine on the tiny checkpoint (real transformers layout, random weights)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from shared.errors import ModelFilesMissing, ModelLoadError, UserInputError
from shared.models.hardware import HardwareInfo
from shared.tasks.cancel import CancelToken, Cancelled
from demos.voice.cloning import engine, plans, specs
from demos.voice.cloning.checkpoint import CODEC_SUBDIR, write_tiny
from demos.voice.cloning.reference import SAMPLE_RATE, check_reference, prepare_reference

FRAME = 1920  # samples per latent frame at 24 kHz


def voiced_tone(seconds: float, sr: int = SAMPLE_RATE, f0: float = 200.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.25 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t))).astype(np.float32)


CPU = HardwareInfo(cuda=False, device_name="", vram_total_gb=0, vram_free_gb=0, ram_total_gb=24,
                   ram_available_gb=20, zerogpu=False)
GPU = HardwareInfo(cuda=True, device_name="test", vram_total_gb=16, vram_free_gb=15, ram_total_gb=64,
                   ram_available_gb=60, zerogpu=False)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("pocket-tiny")
    write_tiny(dest)
    return dest


@pytest.fixture(scope="module")
def cloner(tiny_dir):
    return engine.load(tiny_dir, plans.plan("cpu", CPU))


@pytest.fixture
def encode_calls(cloner, monkeypatch):
    """Counts calls of the codec's encoder (the spy wraps the real method)."""
    codec = cloner.processor.audio_tokenizer
    calls = []
    real = codec.encode

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(codec, "encode", spy)
    return calls


def test_tiny_layout_is_the_transformers_one(tiny_dir):
    names = {p.relative_to(tiny_dir).as_posix() for p in tiny_dir.rglob("*") if p.is_file()}
    assert {
        "config.json", "generation_config.json", "model.safetensors", "processor_config.json",
        "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
        f"{CODEC_SUBDIR}/config.json", f"{CODEC_SUBDIR}/model.safetensors",
    } <= names
    config = json.loads((tiny_dir / "config.json").read_text())
    assert config["model_type"] == "pocket_tts"
    assert config["architectures"] == ["PocketTTSForConditionalGeneration"]
    processor = json.loads((tiny_dir / "processor_config.json").read_text())
    assert processor["processor_class"] == "PocketTTSProcessor"
    assert processor["audio_tokenizer"]["audio_tokenizer_class"] == "PocketTTSAudioTokenizerModel"


def test_tiny_loads_with_plain_transformers_from_pretrained(tiny_dir):
    from transformers import AutoTokenizer, PocketTTSAudioTokenizerModel, PocketTTSForConditionalGeneration

    model = PocketTTSForConditionalGeneration.from_pretrained(tiny_dir)
    codec = PocketTTSAudioTokenizerModel.from_pretrained(tiny_dir / CODEC_SUBDIR)
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    assert codec.config.frame_size == FRAME
    ids = tokenizer.convert_tokens_to_ids(
        [tokenizer.audio_prompt_bos_token, tokenizer.audio_prompt_token, tokenizer.audio_latent_token,
         tokenizer.audio_bos_token]
    )
    assert ids == [model.config.audio_prompt_bos_token_id, model.config.audio_prompt_token_id,
                   model.config.audio_latent_token_id, model.config.audio_bos_token_id]


def test_load(cloner):
    from transformers import PocketTTSForConditionalGeneration, PocketTTSProcessor

    assert isinstance(cloner.model, PocketTTSForConditionalGeneration)
    assert isinstance(cloner.processor, PocketTTSProcessor)
    assert cloner.processor.audio_tokenizer.config.encoder_config is not None
    assert cloner.device == "cpu" and cloner.model.dtype == torch.float32
    assert not cloner.model.training


def test_clone_from_tone(cloner):
    wave, stats = cloner.synthesize("Hello world.", check_reference(voiced_tone(3.0)), seed=1)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) > 0 and len(wave) % FRAME == 0
    assert np.all(np.isfinite(wave)) and np.abs(wave).max() > 0
    assert stats["chunks"] == 1 and stats["frames"] == len(wave) // FRAME
    assert stats["first_audio_s"] is not None


def test_clone_from_espeak_speech(cloner, tmp_path):
    """Real speech as the reference (Debian espeak-ng, made at test time)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "this test needs Debian's espeak-ng (apt-get install -y espeak-ng)"
    path = tmp_path / "speech.wav"
    subprocess.run(
        [espeak, "-w", str(path), "Hello, this is the reference voice for the cloning test, spoken slowly."],
        check=True, capture_output=True,
    )
    assert sf.info(str(path)).samplerate != SAMPLE_RATE  # espeak writes 22.05 kHz: resampled on the way in
    wave, stats = cloner.synthesize("Good morning. How are you?", prepare_reference(path), seed=5)
    assert len(wave) % FRAME == 0 and np.all(np.isfinite(wave))
    assert stats["voice_frames"] > 0


def test_seed_is_deterministic_and_private(cloner):
    reference = check_reference(voiced_tone(3.0))
    torch.manual_seed(1)
    a, _ = cloner.synthesize("Hello world.", reference, seed=7)
    torch.manual_seed(2)  # the global RNG must not matter ...
    rng_before = torch.get_rng_state()
    b, _ = cloner.synthesize("Hello world.", reference, seed=7)
    assert torch.equal(torch.get_rng_state(), rng_before), "... nor be advanced"
    c, _ = cloner.synthesize("Hello world.", reference, seed=8)
    assert np.array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


def test_voice_cache_hit_skips_the_encoder(cloner, encode_calls):
    cloner.voices = engine.VoiceCache(capacity=2)
    first = check_reference(voiced_tone(3.0, f0=210.0))
    _, stats = cloner.synthesize("Hello world.", first, seed=1)
    assert stats["voice_cache"] == "miss" and len(encode_calls) == 1
    _, stats = cloner.synthesize("Another sentence.", first.copy(), seed=2)
    assert stats["voice_cache"] == "hit" and len(encode_calls) == 1, "same reference must not be re-encoded"
    second = check_reference(voiced_tone(3.0, f0=150.0))
    _, stats = cloner.synthesize("Hello world.", second, seed=1)
    assert stats["voice_cache"] == "miss" and len(encode_calls) == 2
    assert len(cloner.voices) == 2


def test_voice_cache_is_bounded():
    cache = engine.VoiceCache(capacity=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2


def test_long_text_streams_in_sentence_chunks(cloner):
    text = " ".join(f"This is sentence number {i}, which is long enough to matter." for i in range(8))
    chunks = list(cloner.stream(text, check_reference(voiced_tone(3.0)), seed=3))
    assert len(chunks) >= 2
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.count == len(chunks) for c in chunks)
    assert all(c.text.rstrip().endswith((".", ",")) for c in chunks[:-1])
    assert all(len(c.wave) % FRAME == 0 and len(c.wave) > 0 for c in chunks)


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("   \n ", "empty"), ("a" * (engine.MAX_TEXT_CHARS + 1), "limit is 1,000")],
)
def test_bad_text(cloner, text, message):
    with pytest.raises(UserInputError, match=message):
        cloner.synthesize(text, check_reference(voiced_tone(3.0)), seed=1)


def test_cancel_stops_within_a_frame(cloner):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        cloner.synthesize("Hello world.", check_reference(voiced_tone(3.0)), seed=1, cancel=token)
    # the model is usable afterwards
    wave, _ = cloner.synthesize("Hello world.", check_reference(voiced_tone(3.0)), seed=1)
    assert len(wave) > 0


def test_missing_codec_pointer_is_a_load_error(tiny_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    config = json.loads((broken / "processor_config.json").read_text())
    del config["audio_tokenizer"]
    (broken / "processor_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="names no audio tokenizer"):
        engine.load(broken, plans.plan("cpu", CPU))


def _naming_the_hub_codec(tiny_dir, tmp_path):
    """A copy of the tiny checkpoint whose processor config names the real codec repo (and no local codec)."""
    moved = tmp_path / "hubref"
    shutil.copytree(tiny_dir, moved)
    config = json.loads((moved / "processor_config.json").read_text())
    config["audio_tokenizer"]["audio_tokenizer_name_or_path"] = "eustlb/pocket-tts-audio-tokenizer"
    (moved / "processor_config.json").write_text(json.dumps(config))
    shutil.rmtree(moved / CODEC_SUBDIR)
    return moved


def test_hub_codec_offline_and_uncached_is_files_missing(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    moved = _naming_the_hub_codec(tiny_dir, tmp_path)
    with pytest.raises(ModelFilesMissing, match="eustlb/pocket-tts-audio-tokenizer"):
        engine.resolve_codec_dir(moved)


def test_plans():
    cpu = plans.plan("cpu", CPU)
    assert cpu.device == "cpu" and cpu.dtype == "float32" and cpu.offload == "none"
    assert cpu.caps["threads"] >= 1 and cpu.component("audio_tokenizer").device == "cpu"
    gpu = plans.plan("8gb", GPU)
    assert gpu.device == "cuda" and gpu.component("model").dtype == "float32" and gpu.vram_gb <= 8
    assert plans.plan("8gb", CPU).device == "cpu"  # no CUDA: stays on the CPU
    assert plans.plan("zerogpu", CPU).device == "cuda"


def test_threads_override(monkeypatch):
    monkeypatch.setenv(plans.THREADS_ENV, "1")
    assert plans.plan("cpu", CPU).caps["threads"] == 1


def test_spec():
    (spec,) = specs.SPECS
    assert spec.key == "pocket"
    assert spec.default_source == "eustlb/pocket-tts"
    assert spec.licence and spec.licence_url.startswith("https://")
    assert spec.write_tiny is write_tiny


def test_voice_prefix_cache_matches_the_full_prompt(cloner):
    """Reusing the voice prefix's key/value cache gives the audio of the full prompt."""
    reference = check_reference(voiced_tone(3.0, f0=170.0))
    text = "First sentence here. And a second one, which is longer than the first."
    try:
        cloner.use_prefix_cache = False
        full, _ = cloner.synthesize(text, reference, seed=12)
        cloner.use_prefix_cache = True
        cached, stats = cloner.synthesize(text, reference, seed=12)
    finally:
        cloner.use_prefix_cache = True
    assert stats["chunks"] >= 2
    assert full.shape == cached.shape
    np.testing.assert_allclose(cached, full, atol=1e-4)
    voice, hit = cloner.encode_voice(reference)
    assert hit and voice.prefix_cache is not None


def test_codec_missing_message_lists_every_repo_with_its_command(tiny_dir, tmp_path, monkeypatch):
    from demos.registry import load_demos

    load_demos()  # registers the pocket spec, whose repos the message lists
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    moved = _naming_the_hub_codec(tiny_dir, tmp_path)
    with pytest.raises(ModelFilesMissing) as info:
        engine.resolve_codec_dir(moved)
    message = str(info.value)
    assert "`hf download eustlb/pocket-tts-audio-tokenizer --include '*.json' --include '*.safetensors'`" in message
    assert "`hf download eustlb/pocket-tts --include '*.json'" in message  # the model's own repo too
    assert "about 0.5 GB" in message
    assert "Error" not in message and "(LocalEntryNotFound" not in message  # no exception class names
