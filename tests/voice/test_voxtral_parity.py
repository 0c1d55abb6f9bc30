"""Parity of our Voxtral engine with the reference intermediates in tests/data/voxtral.

The fixture (copied from the team's shared fixtures) is a tiny checkpoint in the
real layout plus every intermediate of one run computed in float32 with
vllm-omni 0.30.0's own flow-matching and codec modules and a faithful Mistral
backbone, with injected noise. Each stage is checked in isolation (teacher
forcing), then end to end.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from demos.voice.voxtral.engine import SynthesisOptions, VoxtralEngine

DATA = Path(__file__).resolve().parents[1] / "data" / "voxtral"
TOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Tiny matmuls are dominated by thread hand-off; one thread is faster and deterministic.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ref() -> dict:
    return torch.load(DATA / "reference.pt", weights_only=True)


@pytest.fixture(scope="module")
def engine() -> VoxtralEngine:
    return VoxtralEngine.load(DATA, device="cpu", dtype=torch.float32)


def table_noise(ref):
    return lambda k: ref["noise_table"][k]


def assert_close(actual, expected, atol=TOL, what=""):
    actual = torch.as_tensor(actual).float()
    expected = torch.as_tensor(expected).float()
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f"{what}: max |diff| {diff:.3g} > {atol:g}"


def test_prompt_ids_exact(engine, ref):
    ids = engine.prompt_ids(ref["text"], ref["voice"])
    assert ids.tolist() == ref["prompt_ids"].tolist()
    assert engine.tokenizer.text_ids(ref["text"]) == ref["text_ids"].tolist()


def test_prompt_embeddings_after_voice_substitution(engine, ref):
    embeds = engine.prompt_embeddings(ref["prompt_ids"], ref["voice"])
    assert_close(embeds, ref["prompt_embeds"], 1e-6, "prompt_embeds")


def test_backbone_prefill_every_layer(engine, ref):
    layers: list[torch.Tensor] = []
    with torch.inference_mode():
        final = engine.model.backbone(ref["prompt_embeds"][None], None, layers)
    assert len(layers) == ref["prefill_layer_outputs"].shape[0] == 26
    for i, (ours, theirs) in enumerate(zip(layers, ref["prefill_layer_outputs"])):
        # README tolerance: 1e-5 of the layer's absolute maximum.
        assert_close(ours[0], theirs, TOL * theirs.abs().max().item(), f"layer {i}")
    assert_close(final[0], ref["prefill_final_hidden"], TOL, "prefill_final_hidden")


def test_backbone_kv_cached_decode(engine, ref):
    """hidden[k] from a KV-cached step fed next_embed[k-1] (teacher forcing)."""
    model = engine.model
    with torch.inference_mode():
        cache = model.backbone.new_cache(64)
        hidden = [model.backbone(ref["prompt_embeds"][None], cache)[0, -1]]
        for k in range(1, ref["hidden"].shape[0]):
            hidden.append(model.backbone(ref["next_embed"][k - 1][None, None], cache)[0, 0])
    assert_close(torch.stack(hidden), ref["hidden"], TOL, "hidden")


def test_semantic_head_logits_and_masked_argmax(engine, ref):
    at = engine.model.acoustic_transformer
    with torch.inference_mode():
        logits = at.semantic_logits(ref["hidden"])
        codes = at.semantic_code(logits)
    assert_close(logits, ref["semantic_logits"], TOL, "semantic_logits")
    assert codes.tolist() == ref["semantic_codes"].tolist()
    # The trap: unmasked argmax lands on EMPTY or a padding row in every frame.
    assert all(c == 0 or c >= 102 for c in ref["semantic_logits"].argmax(-1).tolist())


def test_flow_matching_trajectory_and_codes(engine, ref):
    at = engine.model.acoustic_transformer
    trace: dict = {}
    with torch.inference_mode():
        steps = ref["n_decoding_steps"]
        te, tp = at.time_projections(at.timesteps(steps, "cpu"))
        x = at.sample_acoustic(ref["hidden"], ref["noise"], ref["cfg_alpha"], steps, trace)
        codes = at.quantize(x, ref["semantic_codes"])
    assert_close(at.timesteps(steps, "cpu"), ref["timesteps"], 0.0, "timesteps")
    assert_close(te, ref["time_embedding_table"], TOL, "time_embedding_table")
    assert_close(tp, ref["t_proj_table"], TOL, "t_proj_table")
    assert_close(torch.stack(trace["x"], 1), ref["x_traj"], TOL, "x_traj")
    assert_close(torch.stack(trace["v_cond"], 1), ref["v_cond"], TOL, "v_cond")
    assert_close(torch.stack(trace["v_uncond"], 1), ref["v_uncond"], TOL, "v_uncond")
    # Final states, not only codes: 8 steps or a bf16 alpha keep the codes but move x_final.
    assert_close(x, ref["x_final"], TOL, "x_final")
    assert codes.tolist() == ref["acoustic_codes"].tolist()


def test_feedback_embedding_is_offset_sum(engine, ref):
    with torch.inference_mode():
        embeds = engine.model.mm_audio_embeddings.embed_codes(ref["codes"][: ref["n_audio_frames"]])
    assert_close(embeds, ref["next_embed"], 1e-6, "next_embed")


def test_codec_latent_blocks_and_waveform(engine, ref):
    codec = engine.model.audio_tokenizer
    codes = ref["codes"][: ref["n_audio_frames"]][None]
    blocks: dict = {}
    with torch.inference_mode():
        latent = codec.latent(codes)
        wave = codec(codes, blocks)
    assert_close(latent[0], ref["codec_latent"], 1e-6, "codec_latent")
    for name, expected in ref["codec_block_outputs"].items():
        ours = blocks[name][0]
        if name in ("decoder_blocks.1", "decoder_blocks.3", "decoder_blocks.5", "decoder_blocks.7"):
            ours = ours.T  # the reference stores transformer blocks as [time, channels]
        assert_close(ours, expected, 2e-5, name)
    assert_close(wave[0], ref["waveform"], TOL, "waveform")


def test_codec_only_case_drops_end_and_after(engine, ref):
    case = ref["codec_only"]
    wave = engine.decode(case["codes"])  # must cut at the first END frame itself
    assert wave.shape == (case["n_audio_frames"] * 1920,) == tuple(case["waveform"].shape)
    assert_close(wave, case["waveform"], TOL, "codec_only waveform")


def test_end_to_end_with_injected_noise(engine, ref):
    trace: dict = {}
    result = engine.generate_segment(ref["text"], ref["voice"], table_noise(ref), max_frames=10, trace=trace)
    assert result.stop_reason == "end_audio"
    n = ref["n_audio_frames"]
    assert result.codes.tolist() == ref["codes"][:n].tolist()
    # The END frame (frame 6) was computed, then generation stopped.
    assert len(trace["codes"]) == ref["codes"].shape[0] == n + 1
    assert trace["codes"][-1].tolist() == ref["codes"][-1].tolist() == [1, 2, 2, 2, 2, 2, 2]
    assert_close(torch.stack(trace["hidden"]), ref["hidden"], TOL, "hidden")
    assert_close(torch.stack(trace["x_final"]), ref["x_final"], TOL, "x_final")
    wave, stats = engine.synthesize(ref["text"], ref["voice"], seed=0, noise=table_noise(ref))
    assert stats.stop_reason == "end_audio" and stats.frames == n
    assert wave.shape == (n * 1920,)
    assert_close(wave, ref["waveform"], TOL, "streamed waveform")


def test_max_frames_stops_before_end(engine, ref):
    result = engine.generate_segment(ref["text"], ref["voice"], table_noise(ref), max_frames=3)
    assert result.stop_reason == "max_duration"
    assert result.codes.tolist() == ref["codes"][:3].tolist()
    # max_seconds 0.24 s = 3 frames at 12.5 Hz through the streaming path.
    wave, stats = engine.synthesize(
        ref["text"], ref["voice"], seed=0, noise=table_noise(ref), options=SynthesisOptions(max_seconds=0.24)
    )
    assert stats.frames == 3 and stats.stop_reason == "max_duration"
    expected = engine.decode(ref["codes"][:3])
    np.testing.assert_allclose(wave, expected, atol=TOL)
