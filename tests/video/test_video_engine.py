"""Engine-level tests of the Helios tab on tiny checkpoints (in process, CPU).

These run at a 64x64 test resolution (the smallest the 3-stage pyramid
accepts) so that every variant x mode fits in the CI budget; the end-to-end
tests run the app's own CPU resolution.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from shared.models.hardware import HardwareInfo
from shared.io.media import probe_video
from shared.tasks.cancel import CancelToken

from demos.video import checkpoint, engine, limits, plans
from demos.video.limits import Resolution
from demos.video.streaming import ChunkWriter, decoded_chunks_to, kept_frames
from demos.video.variants import VARIANTS

TEST_RES = Resolution("64x64", 64, 64, "test only")
# At 64x64 the Mid path's CFG-Zero* `.view` meets a non-contiguous transformer output (size-1 patch grids at
# the 2x2 first pyramid stage); every real resolution has larger grids, and so does this one.
MID_RES = Resolution("128x128", 128, 128, "test only")
FAST_STEPS = {"distilled": 1, "mid": 1, "base": 2}
# Room for the in-RAM CPU plan (the disk-backed plans have their own tests, test_video_disk_offload.py).
CPU = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0, vram_free_gb=0, ram_total_gb=64,
                   ram_available_gb=60, zerogpu=False)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    root = tmp_path_factory.mktemp("helios-tiny")
    out = {}
    for name, variant in VARIANTS.items():
        checkpoint.write_tiny(name, root / name)
        out[name] = engine.load(variant)(root / name, plans.plan(variant.key, "cpu", CPU))
    return out


def request(name, mode="t2v", frames=33, seed=7, image=None, video=None, settings=None):
    v = VARIANTS[name]
    return engine.VideoRequest(prompt="a red fox runs in the snow", mode=mode, num_frames=frames,
                               resolution=MID_RES if name == "mid" else TEST_RES,
                               seed=seed, settings=settings or v.defaults.with_steps(FAST_STEPS[name]),
                               image=image, video=video)


def test_tiny_checkpoint_has_the_real_diffusers_layout(engines, tmp_path):
    for name, variant in VARIANTS.items():
        checkpoint.write_tiny(name, tmp_path / name)
        index = json.loads((tmp_path / name / "model_index.json").read_text())
        assert index["_class_name"] == ("HeliosPyramidPipeline" if variant.pyramid else "HeliosPipeline")
        assert index["scheduler"] == ["diffusers", variant.scheduler]
        assert index["transformer"] == ["diffusers", "HeliosTransformer3DModel"]
        assert index["vae"] == ["diffusers", "AutoencoderKLWan"]
        assert index["text_encoder"] == ["transformers", "UMT5EncoderModel"]
        for sub in ("transformer", "vae", "text_encoder"):
            assert (tmp_path / name / sub / "config.json").is_file()
            assert list((tmp_path / name / sub).glob("*.safetensors"))
        assert (tmp_path / name / "tokenizer" / "tokenizer.json").is_file()
        assert (tmp_path / name / "tokenizer" / "spiece.model").is_file()
    assert json.loads((tmp_path / "distilled" / "model_index.json").read_text())["is_distilled"] is True
    pipe = engines["distilled"].pipe
    ids = pipe.tokenizer("a red cat in the snow").input_ids
    assert ids[-1] == 1 and 2 not in ids  # eos, and every word is in the trained vocabulary


def test_streamed_frames_equal_the_stock_pipeline_output(engines):
    eng = engines["distilled"]
    req = request("distilled", frames=66)
    chunks = []
    with decoded_chunks_to(eng.pipe.vae, chunks.append):
        eng.pipe(**eng.pipeline_kwargs(req), output_type="latent")
    stock = eng.pipe(**eng.pipeline_kwargs(req), output_type="np").frames[0]
    streamed = np.concatenate(chunks)[: stock.shape[0]]
    assert len(chunks) == 2 and all(c.dtype == np.uint8 and c.shape == (33, 64, 64, 3) for c in chunks)
    assert stock.shape[0] == limits.output_frames(2) == 65
    np.testing.assert_array_equal(streamed, (stock * 255).round().astype(np.uint8))


def test_decoded_chunks_leave_the_device_and_the_pipeline_keeps_nothing(engines):
    eng = engines["distilled"]
    returned = []
    real_decode = eng.pipe.vae.decode

    def spy(*args, **kwargs):
        out = real_decode(*args, **kwargs)
        returned.append(out[0] if isinstance(out, tuple) else out.sample)
        return out

    received = []
    eng.pipe.vae.decode = spy  # the spy sits under our wrapper, seeing what the real decode returns
    try:
        with decoded_chunks_to(eng.pipe.vae, received.append):
            latents = eng.pipe(**eng.pipeline_kwargs(request("distilled", frames=66)), output_type="latent").frames
    finally:
        del eng.pipe.vae.decode
    assert [r.shape[2] for r in returned] == [33, 33]
    assert all(isinstance(r, np.ndarray) for r in received)
    assert latents.shape[2] == 18  # the pipeline returns latents only; its decoded history stayed empty
    assert "decode" not in vars(eng.pipe.vae)  # the wrapper is gone after the call


def test_placeholder_handed_back_to_the_pipeline_is_empty():
    class FakeVae:
        def decode(self, z, return_dict=True):
            return (torch.zeros(1, 3, 33, 16, 16),)

    vae, seen = FakeVae(), []
    with decoded_chunks_to(vae, seen.append):
        placeholder = vae.decode(torch.zeros(1, 16, 9, 2, 2), return_dict=False)[0]
    assert placeholder.shape == (1, 3, 0, 16, 16) and placeholder.numel() == 0
    assert seen[0].shape == (33, 16, 16, 3) and seen[0].dtype == np.uint8 and seen[0].max() == 128


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("mode", ["t2v", "i2v", "v2v"])
def test_every_variant_and_mode_makes_a_video(engines, tmp_path, name, mode):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)) if mode == "i2v" else None
    video = [Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)) for _ in range(40)] \
        if mode == "v2v" else None
    updates = []
    result = engines[name].generate(request(name, mode, image=image, video=video), tmp_path / "out.mp4",
                                    on_chunk=updates.append)
    assert not result.cancelled and result.chunks_done == 1 and result.frames == 33
    assert probe_video(result.path).frames == 33
    assert [u.chunk for u in updates] == [1] and updates[0].partial.is_file()


def test_same_seed_same_video_and_progress_counts_every_step(engines, tmp_path):
    eng = engines["distilled"]
    seen = []
    req = request("distilled", settings=VARIANTS["distilled"].defaults)  # [2,2,2], amplified: 12 steps
    eng.generate(req, tmp_path / "a.mp4", progress=lambda f, d: seen.append(d))
    steps = [d for d in seen if "denoising step" in d]
    assert len(steps) == eng.total_steps(req) == 12 and steps[-1].startswith("The chunk · denoising step 12 of 12")
    a, b = [], []
    for sink in (a, b):
        with decoded_chunks_to(eng.pipe.vae, sink.append):
            eng.pipe(**eng.pipeline_kwargs(request("distilled", seed=11)), output_type="latent")
    np.testing.assert_array_equal(a[0], b[0])


def test_cancel_mid_run_keeps_the_finished_chunks(engines, tmp_path):
    eng = engines["distilled"]
    cancel = CancelToken()
    steps_after_cancel = []

    def on_chunk(update):
        cancel.cancel()  # Stop pressed right after chunk 1

    def progress(fraction, description):
        if cancel.cancelled and "step" in description:
            steps_after_cancel.append(description)

    result = eng.generate(request("distilled", frames=99), tmp_path / "c.mp4", on_chunk=on_chunk,
                          progress=progress, cancel=cancel)
    assert result.cancelled and result.chunks_done == 1 and result.chunks_total == 3
    assert result.frames == 33 and probe_video(result.path).frames == 33
    assert len(steps_after_cancel) == 1  # ended within one denoising step


def test_chunk_writer_partials_are_prefixes_of_the_final_video(tmp_path):
    writer = ChunkWriter(tmp_path / "w.mp4", 24)
    for k in range(3):
        writer.add_chunk(np.full((33, 32, 32, 3), 40 * k, np.uint8))
        assert writer.frames_written == kept_frames(33 * (k + 1))
        assert probe_video(writer.snapshot()).frames == kept_frames(33 * (k + 1))
    assert probe_video(writer.finish()).frames == 97 == limits.output_frames(3)


def test_frame_limits_and_output_length():
    assert [limits.output_frames(n) for n in (1, 2, 3, 44)] == [33, 65, 97, 1449]
    assert limits.describe_length(99) == ("You get **97 frames** (4.0 s of video at 24 frames a second), made as "
                                          "3 chunks of 33. Not 99: Helios trims a video to a length of 4k+1 frames, "
                                          "so 2 frames of the last chunk go.")
    assert limits.check_frames(66) == 66
    notes = {}
    assert limits.check_frames(40, notes=notes) == 33 and limits.check_frames(50.5, notes=notes) == 66
    assert notes == {"num_frames": "50.5 was rounded to 66 (num_frames must be a multiple of 33)."}
    for bad, needle in ((0, "num_frames is 0; it must be a multiple of 33 from 33 to 1,452"), (1485, "from 33 to 1,452"),
                        ("many", "multiple of 33"), (float("nan"), "num_frames is nan"), (True, "is True")):
        with pytest.raises(ValueError, match=needle):
            limits.check_frames(bad)
    with pytest.raises(ValueError, match="resolution is '512x512'; choose one of: 384x640"):
        limits.check_resolution("512x512", ["384x640"])
    with pytest.raises(ValueError, match="prompt is empty"):
        limits.check_prompt("   ")


def test_plans_state_and_respect_host_ram():
    small_host = HardwareInfo(True, "gpu", 8, 7.5, 32, 31, False)
    big_host = HardwareInfo(True, "gpu", 8, 7.5, 256, 200, False)
    six = plans.plan("helios-distilled", "6gb", small_host)
    assert six.offload == "group_leaf" and six.use_stream and six.fp8_layerwise and six.vae_tiling
    assert six.low_cpu_mem_usage and six.host_ram_gb <= 32 and six.vram_gb <= 6.0
    assert not plans.plan("helios-distilled", "6gb", big_host).low_cpu_mem_usage  # room for pinned copies
    assert plans.plan("helios-base", "12gb", small_host).fp8_layerwise  # bf16 weights would not fit 31 GB
    assert not plans.plan("helios-base", "12gb", big_host).fp8_layerwise
    for profile in ("cpu", "6gb", "8gb", "12gb", "16gb", "full", "zerogpu"):
        plan = plans.plan("helios-mid", profile, big_host)
        assert plan.host_ram_gb > 0 and plan.caps["resolutions"] and plan.to_dict()["profile"] == profile
    assert plans.plan("helios-mid", "cpu", CPU).caps["default_resolution"] == "192x320"
