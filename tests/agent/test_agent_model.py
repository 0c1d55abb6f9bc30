"""NitroGen engine: parity with upstream, strict loading, decoding, batching, hoisting."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from demos.agent.actions import BUTTONS, UNTRAINED_BUTTONS, chunk_to_dict, decode
from demos.agent.checkpoint import (
    build_empty, load_checkpoint, load_state_strict, read_checkpoint, released_ckpt_config, tiny_ckpt_config,
    write_tiny,
)
from demos.agent.config import parse_ckpt_config, siglip_config_dict
from demos.agent.engine import AgentEngine, load, to_pixels
from demos.agent.plans import plan
from shared.errors import ModelLoadError
from shared.models.hardware import HardwareInfo

DATA = Path(__file__).resolve().parents[1] / "data" / "nitrogen"
TOL = 1e-5


@pytest.fixture(scope="module")
def fixture_ckpt():
    return read_checkpoint(DATA / "nitrogen_tiny_ckpt.pt")


@pytest.fixture(scope="module")
def reference():
    return torch.load(DATA / "nitrogen_tiny_reference.pt", weights_only=True)


def _model_for(ckpt, max_sequence_length):
    cc = copy.deepcopy(ckpt["ckpt_config"])
    cc["tokenizer_cfg"]["max_sequence_length"] = max_sequence_length
    cfg = parse_ckpt_config(cc)
    model = build_empty(cfg, siglip_config_dict(cfg, ckpt["siglip_vision_config"]))
    load_state_strict(model, ckpt["model"], "fixture")
    return model.eval()


@pytest.mark.parametrize("msl", [16, 20])
def test_parity_with_upstream_get_action(fixture_ckpt, reference, msl):
    model = _model_for(fixture_ckpt, msl)
    run = reference["runs"][f"max_sequence_length={msl}"]
    inter = run["intermediates"]
    pixels = reference["pixel_values"][:, 0]
    with torch.inference_mode():
        feats = model.encode_frames(pixels)
        assert (feats - inter["vision_last_hidden_state"]).abs().max() <= TOL
        vl = model.vl_stream(feats)
        assert vl.shape[1] == msl
        assert (vl - inter["vl_mixer_input"][0]).abs().max() <= TOL
        assert (model.vl_self_attention_model(vl) - inter["vl_mixer_output"][0]).abs().max() <= TOL
        # Per-step intermediates, replaying upstream's actions trajectory step by step.
        x = run["initial_noise"].clone()
        for i, t_d in enumerate(model.timesteps()):
            sa = model.action_stream(x, float(t_d))
            assert (model.action_encoder(x, float(t_d)) - inter["action_encoder_output"][i]).abs().max() <= TOL
            assert (sa - inter["dit_input_sa_embs"][i]).abs().max() <= TOL
            temb = model.model.timestep_encoder(t_d, torch.float32, "cpu")
            assert (temb - inter["dit_temb"][i]).abs().max() <= TOL
            out = model.model(sa, t_d, context=model.vl_self_attention_model(vl))
            assert (out - inter["dit_output"][i]).abs().max() <= TOL
            v = model.action_decoder(out)
            assert (v - inter["action_decoder_output"][i]).abs().max() <= TOL
            x = x + v / len(model.timesteps())
    final = model.sample(pixels, run["initial_noise"])
    assert (final - run["action_tensor"]).abs().max() <= TOL
    dec, ref = decode(final), run["decoded"]
    # Sticks are 2 * raw - 1, clamped (1-Lipschitz after the x2): within twice the raw tolerance.
    for name in ("j_left", "j_right"):
        assert (dec[name] - ref[name]).abs().max() <= 2 * TOL
    # A button is raw > 0.5: exact wherever upstream's raw value is further than TOL from the
    # threshold (another CPU's SIMD path may flip one that sits on it, and that is not a bug).
    raw_ref = run["action_tensor"][..., : dec["buttons"].shape[-1]]
    clear = (raw_ref - 0.5).abs() > TOL
    assert clear.float().mean() > 0.9, "the reference should decide most buttons by a margin"
    assert torch.equal(dec["buttons"][clear], ref["buttons"][clear])


def test_padding_length_changes_the_output(fixture_ckpt, reference):
    # Guards against "fixing" the unmasked zero pads: 16 and 20 must differ.
    pixels = reference["pixel_values"][:, 0]
    noise = reference["runs"]["max_sequence_length=16"]["initial_noise"]
    a = _model_for(fixture_ckpt, 16).sample(pixels, noise)
    b = _model_for(fixture_ckpt, 20).sample(pixels, noise)
    assert (a - b).abs().max() > 1e-4


def test_timesteps_are_truncated_buckets(fixture_ckpt):
    model = _model_for(fixture_ckpt, 16)
    assert model.timesteps() == [0, 250, 500, 750]
    cfg = dict(copy.deepcopy(fixture_ckpt["ckpt_config"]))
    cfg["model_cfg"]["num_inference_timesteps"] = 16
    m16 = build_empty(parse_ckpt_config(cfg), siglip_config_dict(parse_ckpt_config(cfg), fixture_ckpt["siglip_vision_config"]))
    assert m16.timesteps()[-3:] == [812, 875, 937]


# ------------------------------------------------------------------ loading
def test_tiny_checkpoint_has_the_real_layout(tmp_path):
    path = write_tiny(tmp_path)
    assert path.name == "ng.pt"
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"model", "ckpt_config", "step", "epoch", "siglip_vision_config"}
    fixture_keys = set(torch.load(DATA / "nitrogen_tiny_ckpt.pt", weights_only=True)["ckpt_config"]["model_cfg"])
    assert set(raw["ckpt_config"]["model_cfg"]) == fixture_keys
    loaded = load_checkpoint(path)
    # Same key families as the real checkpoint (layer indices aside).
    strip = lambda k: ".".join(p for p in k.split(".") if not p.isdigit())  # noqa: E731
    fixture_model = torch.load(DATA / "nitrogen_tiny_ckpt.pt", weights_only=True)["model"]
    assert {strip(k) for k in loaded.model.state_dict()} == {strip(k) for k in fixture_model}


def test_missing_and_extra_keys_are_named(tmp_path, fixture_ckpt):
    ckpt = dict(fixture_ckpt)
    state = dict(ckpt["model"])
    state.pop("model.proj_out_2.bias")
    state["model.transformer_blocks.0.attn1.to_q.lora"] = torch.zeros(1)
    torch.save({**ckpt, "model": state}, tmp_path / "ng.pt")
    with pytest.raises(ModelLoadError) as err:
        load_checkpoint(tmp_path / "ng.pt")
    msg = str(err.value)
    assert "model.proj_out_2.bias" in msg and "missing" in msg
    assert "model.transformer_blocks.0.attn1.to_q.lora" in msg and "unexpected" in msg


def test_wrong_shape_is_named(tmp_path, fixture_ckpt):
    state = dict(fixture_ckpt["model"])
    state["position_embedding.weight"] = torch.zeros(7, 32)
    torch.save({**fixture_ckpt, "model": state}, tmp_path / "ng.pt")
    with pytest.raises(ModelLoadError, match=r"position_embedding.weight \(7, 32\)"):
        load_checkpoint(tmp_path / "ng.pt")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_arbitrary_pickles_are_refused(tmp_path, fixture_ckpt):
    path = tmp_path / "ng.pt"
    torch.save({**fixture_ckpt, "evil": _Evil()}, path)
    with pytest.raises(ModelLoadError, match="refused"):
        read_checkpoint(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError):
        read_checkpoint(tmp_path / "junk.pt")


def test_tower_config_from_the_name_table():
    cfg = parse_ckpt_config(_real_config())
    kw = siglip_config_dict(cfg)
    assert (kw["hidden_size"], kw["num_hidden_layers"], kw["num_attention_heads"], kw["intermediate_size"]) == (1024, 24, 16, 4096)
    assert (kw["image_size"], kw["patch_size"]) == (256, 16)
    bad = _real_config()
    bad["model_cfg"]["vision_hidden_size"] = 768
    bad["model_cfg"]["diffusion_model_cfg"]["cross_attention_dim"] = 768
    bad["model_cfg"]["vl_self_attention_cfg"]["num_attention_heads"] = 12
    with pytest.raises(ModelLoadError, match="768"):
        siglip_config_dict(parse_ckpt_config(bad))
    odd = _real_config()
    odd["model_cfg"]["vision_encoder_name"] = "openai/clip-vit-large"
    with pytest.raises(ModelLoadError, match="not a known SigLIP"):
        siglip_config_dict(parse_ckpt_config(odd))


def _real_config() -> dict:
    return released_ckpt_config()


def test_real_config_builds_the_published_parameter_count():
    cfg = parse_ckpt_config(_real_config())
    model = build_empty(cfg, siglip_config_dict(cfg))
    assert sum(p.numel() for p in model.parameters()) == 493_631_513


def test_bad_config_values_are_model_load_errors():
    cfg = tiny_ckpt_config()
    cfg["model_cfg"]["hidden_size"] = "big"
    with pytest.raises(ModelLoadError, match="hidden_size"):
        parse_ckpt_config(cfg)
    with pytest.raises(ModelLoadError):
        parse_ckpt_config(["not", "a", "dict"])


# ------------------------------------------------------------------- engine
@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> AgentEngine:
    d = tmp_path_factory.mktemp("tiny-nitrogen")
    write_tiny(d)
    hw = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0, vram_free_gb=0, ram_total_gb=8,
                      ram_available_gb=8, zerogpu=False)
    return load(d, plan("cpu", hw))


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (90 + 7 * i, 160, 3), dtype=np.uint8) for i in range(n)]


def test_decode_ranges_and_layout(engine):
    result = engine.run(_frames(3), seed=1)
    assert result.raw.shape == (3, 18, 25)
    for chunk in result.chunks:
        b = np.array(chunk["buttons"])
        assert b.shape == (18, 21) and set(np.unique(b)) <= {0, 1}
        for stick in ("j_left", "j_right"):
            s = np.array(chunk[stick])
            assert s.shape == (18, 2) and s.min() >= -1 and s.max() <= 1
        assert chunk["button_names"] == list(BUTTONS)
        assert chunk["untrained_buttons"] == list(UNTRAINED_BUTTONS)
        for step in chunk["steps"]:
            assert not set(step["pressed"]) & set(UNTRAINED_BUTTONS)
            assert set(step["pressed_untrained"]) <= set(UNTRAINED_BUTTONS)


def test_decode_thresholds_exactly_like_upstream():
    raw = torch.zeros(1, 25)
    raw[0, 0], raw[0, 1], raw[0, 20] = 0.5, 0.5001, 7.0  # 0.5 is not pressed
    raw[0, 21:25] = torch.tensor([0.0, 1.0, 2.0, 0.75])
    d = decode(raw)
    assert d["buttons"][0, :2].tolist() == [0.0, 1.0] and d["buttons"][0, 20] == 1.0
    assert d["j_left"][0].tolist() == [-1.0, 1.0] and d["j_right"][0].tolist() == [1.0, 0.5]
    assert chunk_to_dict(raw)["steps"][0]["pressed"] == ["DPAD_DOWN", "WEST"]


def test_same_seed_same_actions_other_seed_differs(engine):
    frames = _frames(1)
    a, b, c = (engine.run(frames, seed=s).raw for s in (5, 5, 6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_batched_equals_single(engine):
    frames = _frames(5)
    batched = engine.run(frames, seed=11, batch_size=5).raw
    single = torch.cat([engine.run(frames, seed=11, batch_size=1).raw])
    assert (batched - single).abs().max() <= TOL
    # and each frame alone with its own noise row
    noise = engine.noise(5, 11)
    for i in (0, 3):
        alone = engine.run([frames[i]], seed=0, noise=noise[i:i + 1]).raw
        assert (alone[0] - batched[i]).abs().max() <= TOL


def test_hoisted_mixer_equals_per_step_mixer(engine):
    pixels = torch.stack([to_pixels(f, engine.image_size) for f in _frames(3)])
    noise = engine.noise(3, 2)
    hoisted = engine.predict_raw(pixels, noise, hoist=True)
    per_step = engine.predict_raw(pixels, noise, hoist=False)
    assert (hoisted - per_step).abs().max() <= 1e-6


def test_preprocessing_squashes_whole_frame_to_minus1_plus1(engine):
    frame = np.zeros((50, 400, 3), dtype=np.uint8)
    frame[:, 200:] = 255  # right half white: must survive (no centre crop)
    px = to_pixels(frame, engine.image_size)
    assert px.shape == (3, engine.image_size, engine.image_size)
    assert px.min() == -1.0 and px.max() == 1.0
    assert px[:, :, 0].max() == -1.0 and px[:, :, -1].min() == 1.0


def test_cancel_returns_finished_frames(engine):
    from shared.tasks.cancel import CancelToken

    token = CancelToken()
    calls = {"n": 0}

    def progress(frac, desc=""):
        calls["n"] += 1
        if calls["n"] == engine.config.num_inference_timesteps + 1:  # inside the second batch
            token.cancel()

    result = engine.run(_frames(6), seed=0, batch_size=2, progress=progress, cancel=token)
    assert result.cancelled and result.raw.shape[0] == 2


def test_bf16_placement_runs_with_fp32_euler_state(fixture_ckpt, reference):
    # The GPU plan's dtype, exercised on CPU: close to fp32, state stays fp32.
    model = _model_for(fixture_ckpt, 16).to(torch.bfloat16)
    run = reference["runs"]["max_sequence_length=16"]
    out = model.sample(reference["pixel_values"][:, 0], run["initial_noise"])
    assert out.dtype == torch.float32
    assert (out - run["action_tensor"]).abs().max() < 5e-2


def test_plans_fp32_on_cpu_bf16_on_every_gpu_profile():
    from shared.models.profiles import PROFILES

    gpu = HardwareInfo(cuda=True, device_name="gpu", vram_total_gb=6, vram_free_gb=5.5, ram_total_gb=16,
                       ram_available_gb=12, zerogpu=False)
    cpu = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0, vram_free_gb=0, ram_total_gb=8,
                       ram_available_gb=6, zerogpu=False)
    assert (plan("cpu", gpu).device, plan("cpu", gpu).dtype) == ("cpu", "float32")
    for profile in PROFILES:
        if profile in ("cpu", "auto"):
            continue
        p = plan(profile, gpu)
        assert (p.device, p.dtype, p.offload) == ("cuda", "bfloat16", "none")
        assert p.vram_gb <= 6  # fits the smallest profile
    assert plan("auto", cpu).device == "cpu"
