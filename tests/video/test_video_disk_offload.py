"""Helios on small hosts (tiny checkpoints, CPU as the onload device).

- disk-offloaded pipelines give the in-RAM pipeline's output, per variant and layout;
- offload folders are written once, reused without reading the checkpoint, and
  rebuilt (old folder removed) when the checkpoint changes;
- the prompt-embedding cache skips the real encoder on a repeated prompt and
  misses on a changed negative prompt;
- `auto` picks the disk plan when host RAM is short, the in-RAM plan otherwise,
  and the two-GPU profiles on two cards.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from shared.models import disk_offload, model_files
from shared.models.hardware import HardwareInfo
from shared.models.profiles import plan_for, resolve_profile

from demos.video import checkpoint, engine, plans, specs
from demos.video.limits import Resolution
from demos.video.variants import VARIANTS

RES = {"distilled": Resolution("64x64", 64, 64, "test"), "base": Resolution("64x64", 64, 64, "test"),
       "mid": Resolution("128x128", 128, 128, "test")}  # Mid's CFG-Zero* needs >2x2 first-stage grids
BIG_HOST = HardwareInfo(False, "cpu", 0, 0, 256, 200, False)
SMALL_HOST = HardwareInfo(False, "cpu", 0, 0, 16, 12, False)


def gpu_host(vram, ram, gpus=1):
    return HardwareInfo(True, "gpu", vram, vram, ram, ram, False, gpu_count=gpus)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("helios-disk")
    for name in VARIANTS:
        checkpoint.write_tiny(name, root / name)
    return root


def request(name, seed=3):
    v = VARIANTS[name]
    return engine.VideoRequest(prompt="a red fox runs in the snow", mode="t2v", num_frames=33, resolution=RES[name],
                               seed=seed, settings=v.defaults.with_steps(1))


def frames(eng, req):
    return eng.pipe(**eng.pipeline_kwargs(req), output_type="np").frames[0]


def disk_plan(name, profile="cpu", **changes):
    plan = plans.plan(VARIANTS[name].key, profile, SMALL_HOST)
    assert plan.offload_to_disk
    return dataclasses.replace(plan, **changes)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_disk_offloaded_output_equals_in_ram_output(tiny, tmp_path, name):
    v = VARIANTS[name]
    in_ram_plan = plans.plan(v.key, "cpu", BIG_HOST)
    assert not in_ram_plan.offload_to_disk
    in_ram = engine.load(v)(tiny / name, in_ram_plan)
    req = request(name)
    if name == "distilled":  # the cheapest variant covers bf16 storage: the files hold the checkpoint's values
        reference = frames(in_ram, req)
        native = engine.load(v, tmp_path / "a")(tiny / name, disk_plan(name, fp8_layerwise=False))
        np.testing.assert_array_equal(frames(native, req), reference)
    # fp8 storage: equal to the in-RAM pipeline with the same layerwise casting
    # (what the in-RAM GPU plans apply).
    in_ram.pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.bfloat16)
    fp8_reference = frames(in_ram, req)
    if name == "distilled":
        assert np.abs(fp8_reference.astype(float) - reference).max() > 0  # fp8 really changed the weights
    fp8 = engine.load(v, tmp_path / "b")(tiny / name, disk_plan(name))
    np.testing.assert_array_equal(frames(fp8, req), fp8_reference)
    files = {p.name.split("-")[0]: p for p in (model_files.offload_root(tmp_path / "b") / v.key).iterdir()}
    stored = {}
    for f in files["transformer"].glob("*.safetensors"):
        stored.update(load_file(f))
    assert any(t.dtype == torch.float8_e4m3fn for t in stored.values())
    assert not any(t.dtype == torch.float8_e4m3fn for f in files["text_encoder"].glob("*.safetensors")
                   for t in load_file(f).values())  # T5 stays bf16


def test_leaf_level_disk_plan_equals_in_ram(tiny, tmp_path, monkeypatch):
    import safetensors.torch

    v = VARIANTS["distilled"]
    plan = plans.plan(v.key, "6gb", HardwareInfo(True, "gpu", 6, 6, 16, 12, False))
    assert plan.offload_to_disk and plan.offload == "group_leaf"
    in_ram = engine.load(v)(tiny / "distilled", plans.plan(v.key, "cpu", BIG_HOST))
    in_ram.pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.bfloat16)
    saves = []  # every safetensors file written while loading, with its tensors' dtypes
    real_save = safetensors.torch.save_file
    monkeypatch.setattr(safetensors.torch, "save_file", lambda tensors, path, *a, **k: (
        saves.append((str(path), {t.dtype for t in tensors.values()})), real_save(tensors, path, *a, **k))[1])
    leaf = engine.load(v, tmp_path)(tiny / "distilled", plan)  # no CUDA here: the CPU is the onload device
    monkeypatch.setattr(safetensors.torch, "save_file", real_save)
    req = request("distilled")
    np.testing.assert_array_equal(frames(leaf, req), frames(in_ram, req))
    folder = next((model_files.offload_root(tmp_path) / v.key).glob("transformer-leaf-fp8-*"))
    files = sorted(str(f) for f in folder.glob("*.safetensors"))
    assert len(files) > 20  # one file per leaf
    # Each group file is written once, fp8 groups already as fp8 (no bf16 write and re-store).
    written = sorted(path for path, _ in saves if path.startswith(str(folder)))
    assert written == files
    assert any(dtypes == {torch.float8_e4m3fn} for path, dtypes in saves if path.startswith(str(folder)))


def test_offload_files_reused_then_rebuilt_when_the_checkpoint_changes(tiny, tmp_path, monkeypatch):
    v = VARIANTS["distilled"]
    ckpt = tmp_path / "ckpt"
    checkpoint.write_tiny("distilled", ckpt)
    plan = disk_plan("distilled")
    req = request("distilled")
    messages = []
    first = engine.load(v, tmp_path / "cache", lambda f, m: messages.append((f, m)))(ckpt, plan)
    out_first = frames(first, req)
    assert any("written" in m for _, m in messages) and messages[-1][0] == 1.0
    root = model_files.offload_root(tmp_path / "cache") / v.key
    folders = sorted(root.iterdir())
    assert [f.name.split("-")[0] for f in folders] == ["text_encoder", "transformer"]
    assert all(disk_offload.is_complete(f) for f in folders)
    stamps = {p: p.stat().st_mtime_ns for f in folders for p in f.iterdir()}

    # Second load: the same folders, untouched, and the checkpoint's weights are not even read.
    with monkeypatch.context() as m:
        m.setattr(disk_offload, "assign_lazy_checkpoint",
                  lambda *a, **k: pytest.fail("a complete offload folder must be reused"))
        second = engine.load(v, tmp_path / "cache")(ckpt, plan)
    assert sorted(root.iterdir()) == folders
    assert {p: p.stat().st_mtime_ns for f in folders for p in f.iterdir()} == stamps
    np.testing.assert_array_equal(frames(second, req), out_first)

    # Change the transformer's weights: its folder is rebuilt, the stale one removed, the output follows.
    shard = next((ckpt / "transformer").glob("*.safetensors"))
    weights = load_file(shard)
    weights["proj_out.weight"] = weights["proj_out.weight"] * 2
    save_file(weights, shard, metadata={"format": "pt"})
    third = engine.load(v, tmp_path / "cache")(ckpt, plan)
    now = sorted(root.iterdir())
    assert now[0] == folders[0]  # text encoder unchanged: reused
    assert now[1] != folders[1] and not folders[1].exists() and len(now) == 2
    out_third = frames(third, req)
    assert np.abs(out_third.astype(float) - out_first).max() > 0
    reference = engine.load(v)(ckpt, plans.plan(v.key, "cpu", BIG_HOST))
    reference.pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                                        compute_dtype=torch.bfloat16)
    np.testing.assert_array_equal(out_third, frames(reference, req))
    record = json.loads((now[1] / disk_offload.MARKER).read_text())
    assert record["bytes"] == model_files.folder_bytes(now[1]) - (now[1] / disk_offload.MARKER).stat().st_size

    assert model_files.remove_offload_files(tmp_path / "cache", v.key) > 0
    assert not root.exists()


def test_prompt_embedding_cache_skips_the_encoder_and_misses_on_a_new_negative_prompt(tiny):
    v = VARIANTS["base"]  # classifier-free guidance: prompt and negative prompt are both encoded
    eng = engine.load(v)(tiny / "base", plans.plan(v.key, "cpu", BIG_HOST))
    calls = []
    eng.pipe.text_encoder.register_forward_pre_hook(lambda module, args: calls.append(1))
    req = request("base")
    assert req.settings.guidance_scale > 1 and req.settings.negative_prompt
    first = frames(eng, req)
    assert len(calls) == 2  # prompt + negative prompt
    again = frames(eng, dataclasses.replace(req, seed=3))
    assert len(calls) == 2 and eng.prompts.hits == 1  # the encoder did not run
    np.testing.assert_array_equal(again, first)
    # The stock pipeline, given the strings, encodes the same embeddings.
    kwargs = eng.pipeline_kwargs(req)
    for key in ("prompt_embeds", "negative_prompt_embeds"):
        kwargs.pop(key)
    stock = eng.pipe(**kwargs, prompt=req.prompt, negative_prompt=req.settings.negative_prompt,
                     output_type="np").frames[0]
    np.testing.assert_array_equal(stock, first)
    calls.clear()
    changed = dataclasses.replace(req, settings=dataclasses.replace(req.settings, negative_prompt="blurry"))
    frames(eng, changed)
    assert len(calls) == 2 and eng.prompts.misses == 2
    calls.clear()
    frames(eng, changed)
    assert calls == []


def test_prompt_cache_is_lru_and_keyed_by_sequence_length(tiny):
    from demos.video.prompts import PromptEmbeddingCache

    v = VARIANTS["distilled"]
    eng = engine.load(v)(tiny / "distilled", plans.plan(v.key, "cpu", BIG_HOST))
    cache = PromptEmbeddingCache(max_entries=2)
    cpu = torch.device("cpu")
    a16, _ = cache.get(eng.pipe, "a cat", None, guidance=False, device=cpu, max_sequence_length=16)
    a32, _ = cache.get(eng.pipe, "a cat", None, guidance=False, device=cpu, max_sequence_length=32)
    assert a16.shape[1] == 16 and a32.shape[1] == 32 and cache.misses == 2
    cache.get(eng.pipe, "a cat", None, guidance=False, device=cpu, max_sequence_length=16)  # hit, now newest
    cache.get(eng.pipe, "a dog", None, guidance=False, device=cpu, max_sequence_length=16)  # evicts the 32
    assert len(cache) == 2 and cache.hits == 1
    cache.get(eng.pipe, "a cat", None, guidance=False, device=cpu, max_sequence_length=32)
    assert cache.misses == 4


def test_auto_picks_the_disk_plan_on_a_small_host_and_in_ram_otherwise():
    fns = [spec.plan for spec in specs.SPECS]
    small, roomy = gpu_host(8, 16), gpu_host(8, 64)
    assert resolve_profile("auto", small, fns) == "8gb"
    p_small = plans.plan("helios-distilled", "8gb", small)
    assert p_small.offload_to_disk and p_small.fp8_layerwise and p_small.disk_gb > 20
    assert p_small.host_ram_gb <= 16 and "disk" in p_small.notes
    assert resolve_profile("auto", roomy, fns) == "8gb"
    assert not plans.plan("helios-distilled", "8gb", roomy).offload_to_disk
    assert plans.plan("helios-distilled", "8gb", gpu_host(8, plans.in_ram_host_gb())).offload_to_disk is False
    # The CPU profile too: 45 GB of bf16 weights do not fit a 24 GB box.
    assert plans.plan("helios-base", "cpu", SMALL_HOST).offload_to_disk
    assert not plans.plan("helios-base", "cpu", BIG_HOST).offload_to_disk


def test_two_gpu_profiles_are_chosen_on_two_cards_and_shown():
    fns = [spec.plan for spec in specs.SPECS]
    assert resolve_profile("auto", gpu_host(24, 64, gpus=2), fns) == "2x24gb"
    assert resolve_profile("auto", gpu_host(12, 64, gpus=2), fns) == "2x12gb"
    assert resolve_profile("auto", gpu_host(24, 64, gpus=1), fns) == "16gb"
    two = plans.plan("helios-mid", "2x12gb", gpu_host(12, 64, gpus=2))
    assert two.gpus == 2 and two.fp8_layerwise and sum(two.max_memory_gb.values()) >= plans.TRANSFORMER_FP8_GB
    assert two.component("text_encoder").device == "cuda:1" and two.vram_gb <= 12
    big = plans.plan("helios-mid", "2x24gb", gpu_host(24, 64, gpus=2))
    assert not big.fp8_layerwise and sum(big.max_memory_gb.values()) >= plans.TRANSFORMER_BF16_GB
    assert "Two GPUs" in big.notes and big.to_dict()["gpus"] == 2

    # A model without two-GPU plans runs its one-GPU plan for one of the cards.
    def one_gpu(profile, hw):
        return dataclasses.replace(plans.plan("helios-mid", "12gb", hw), profile=profile)

    assert plan_for(one_gpu, "2x24gb", gpu_host(24, 64, gpus=2)).profile == "16gb"
    assert plan_for(specs.SPECS[0].plan, "2x24gb", gpu_host(24, 64, gpus=2)).profile == "2x24gb"


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="GPU-only: needs two CUDA devices")
def test_two_gpu_plan_runs_on_two_cards(tiny):
    v = VARIANTS["distilled"]
    eng = engine.load(v)(tiny / "distilled", plans.plan(v.key, "2x12gb", gpu_host(12, 64, gpus=2)))
    devices = {p.device.index for p in eng.pipe.transformer.parameters()}
    assert devices <= {0, 1}
    assert frames(eng, request("distilled")).shape == (33, 64, 64, 3)


def _layerwise_cast_modules(model):
    from diffusers.hooks.layerwise_casting import _LAYERWISE_CASTING_HOOK

    return {name for name, m in model.named_modules() if disk_offload._hook(m, _LAYERWISE_CASTING_HOOK) is not None}


def test_fp8_in_ram_load_equals_from_pretrained_then_layerwise_casting(tiny):
    """In-RAM fp8 plans read the transformer as fp8 tensor by tensor; it must be exactly what
    `from_pretrained` + `enable_layerwise_casting` gives (which holds the whole bf16 model first)."""
    from diffusers import HeliosTransformer3DModel

    component = tiny / "distilled" / "transformer"
    reference = HeliosTransformer3DModel.from_pretrained(component, torch_dtype=torch.bfloat16)
    reference.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.bfloat16)
    ours = disk_offload.load_fp8_in_ram(HeliosTransformer3DModel, component, torch.bfloat16)
    theirs, mine = reference.state_dict(), ours.state_dict()
    assert theirs.keys() == mine.keys()
    assert sum(t.dtype == torch.float8_e4m3fn for t in mine.values()) > 10
    for name, tensor in theirs.items():
        assert mine[name].dtype == tensor.dtype and mine[name].device.type == "cpu", name
        same = tensor.view(torch.uint8) if tensor.dtype == torch.float8_e4m3fn else tensor
        got = mine[name].view(torch.uint8) if tensor.dtype == torch.float8_e4m3fn else mine[name]
        assert torch.equal(got, same), name
    assert _layerwise_cast_modules(ours) == _layerwise_cast_modules(reference) != set()


def test_gpu_fp8_in_ram_plans_load_the_transformer_as_fp8(tiny, monkeypatch):
    """The pipeline takes that transformer for a single-GPU in-RAM fp8 plan (CUDA placement itself is
    GPU-only: the placement step is skipped here), and apply_plan_to_pipeline does not cast it twice."""
    v = VARIANTS["distilled"]
    plan = plans.plan(v.key, "6gb", gpu_host(6, plans.in_ram_host_gb() + 1))
    assert not plan.offload_to_disk and plan.fp8_layerwise and plan.gpus == 1
    calls = []
    real = disk_offload.load_fp8_in_ram
    monkeypatch.setattr(engine, "load_fp8_in_ram", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(engine, "execution_device", lambda plan: torch.device("cuda"))
    monkeypatch.setattr(engine, "apply_plan_to_pipeline", lambda pipe, plan: pipe)
    pipe = engine.load_pipeline(tiny / "distilled", v, plan)
    assert len(calls) == 1 and pipe.transformer.dtype in (torch.bfloat16, torch.float8_e4m3fn)
    assert any(p.dtype == torch.float8_e4m3fn for p in pipe.transformer.parameters())
    assert disk_offload.has_layerwise_casting(pipe.transformer)
