"""Every form of ng.pt loads, and nothing else in a pickle runs.

Upstream (MineDojo/NitroGen @ 3260844) may store `ckpt_config` as a plain dict
or as its pydantic `CkptConfig`: `load_model` does `torch.load(weights_only=False)`
then `CkptConfig.model_validate(...)`, which takes either. The pydantic form is
written here with a test-only pydantic twin of upstream's config classes,
registered under upstream's module paths only while `torch.save` runs.
"""

from __future__ import annotations

import os
import pickletools
import sys
import types
import zipfile
from typing import Literal, Optional

import pytest
import torch
from pydantic import BaseModel, Field

from demos.agent.checkpoint import TINY_SIGLIP, load_checkpoint, read_checkpoint, tiny_ckpt_config, write_tiny
from demos.agent.pickled_config import UPSTREAM_CONFIG_CLASSES
from shared.errors import ModelLoadError


# ---- test-only twin of upstream's pydantic config classes (same names, fields and defaults)
class DiTConfig(BaseModel):
    num_attention_heads: int = 8
    attention_head_dim: int = 64
    output_dim: int = 26
    num_layers: int = 12
    dropout: float = 0.1
    attention_bias: bool = True
    activation_fn: str = "gelu-approximate"
    num_embeds_ada_norm: Optional[int] = 1000
    upcast_attention: bool = False
    norm_type: str = "ada_norm"
    norm_elementwise_affine: bool = False
    norm_eps: float = 1e-5
    max_num_positional_embeddings: int = 512
    compute_dtype: str = "float32"
    final_dropout: bool = True
    positional_embeddings: Optional[str] = "sinusoidal"
    interleave_self_attention: bool = False
    cross_attention_dim: Optional[int] = None


class SelfAttentionTransformerConfig(BaseModel):
    num_attention_heads: int = 8
    attention_head_dim: int = 64
    output_dim: int = 26
    num_layers: int = 12
    dropout: float = 0.1
    attention_bias: bool = True
    activation_fn: str = "gelu-approximate"
    num_embeds_ada_norm: Optional[int] = 1000
    upcast_attention: bool = False
    max_num_positional_embeddings: int = 512
    compute_dtype: str = "float32"
    final_dropout: bool = True
    positional_embeddings: Optional[str] = "sinusoidal"
    interleave_self_attention: bool = False


class NitroGen_Config(BaseModel):  # noqa: N801 (upstream's name)
    model_type: str = Field(default="nitrogen", frozen=True)
    add_pos_embed: bool = False
    model_dtype: str = "float32"
    diffusion_model_cfg: DiTConfig
    vl_self_attention_cfg: SelfAttentionTransformerConfig
    hidden_size: int = 1024
    max_seq_len: int = 1024
    action_dim: int = None
    action_horizon: int = None
    noise_beta_alpha: float = 1.5
    noise_beta_beta: float = 1.0
    noise_s: float = 0.999
    num_timestep_buckets: int = 1000
    num_inference_timesteps: int = None
    max_num_embodiments: int = 1
    vision_encoder_name: str = "google/siglip-large-patch16-256"
    vision_hidden_size: int = 768
    add_view_embed: bool = False
    tune_vision_tower: bool = True
    tune_mm_projector: bool = True
    tune_diffusion_model: bool = True
    tune_multi_projector: bool = True
    tune_vl_mixing: bool = True


class GameMappingConfig(BaseModel):
    src_files: list[str] = Field(default_factory=list)


class NitrogenTokenizerConfig(BaseModel):
    tokenizer_id: Literal["nitrogen"] = Field(default="nitrogen", frozen=True)
    training: bool = True
    num_visual_tokens_per_frame: int = 256
    max_action_dim: int = 25
    max_sequence_length: int = 300
    action_horizon: int = 16
    game_mapping_cfg: GameMappingConfig | None = None
    old_layout: bool = False


class ModalityConfig(BaseModel):
    frame_per_sample: int = 1
    frame_spacing: int | None = None
    action_per_chunk: int = 8
    action_shift: int = 1
    action_interleaving: bool = False
    token_set: str = "new"

    def model_post_init(self, __context):
        if self.frame_spacing is None:
            object.__setattr__(self, "frame_spacing", self.action_per_chunk)


class CkptConfig(BaseModel):
    experiment_name: str
    model_cfg: NitroGen_Config
    tokenizer_cfg: NitrogenTokenizerConfig
    modality_cfg: ModalityConfig


TWIN = {cls.__name__: cls for cls in (DiTConfig, SelfAttentionTransformerConfig, NitroGen_Config,
                                      GameMappingConfig, NitrogenTokenizerConfig, ModalityConfig, CkptConfig)}


class upstream_modules:  # noqa: N801
    """Register the twin under upstream's module paths (as pickle needs to save it), then remove it."""

    def __enter__(self):
        self.added = []
        self.saved_module = {}
        for full in UPSTREAM_CONFIG_CLASSES:
            module, _, name = full.rpartition(".")
            parts = module.split(".")
            for i in range(1, len(parts) + 1):
                mod = ".".join(parts[:i])
                if mod not in sys.modules:
                    sys.modules[mod] = types.ModuleType(mod)
                    self.added.append(mod)
            cls = TWIN[name]
            self.saved_module[cls] = cls.__module__
            cls.__module__ = module
            setattr(sys.modules[module], name, cls)
        return self

    def __exit__(self, *exc):
        for cls, module in self.saved_module.items():
            cls.__module__ = module
        for mod in self.added:
            sys.modules.pop(mod, None)


def _pickle_bytes(path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("data.pkl")))


@pytest.fixture(scope="module")
def dict_form(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("dict-form"), seed=2)


@pytest.fixture(scope="module")
def pydantic_form(tmp_path_factory, dict_form):
    raw = torch.load(dict_form, weights_only=True)
    ckpt_config = CkptConfig.model_validate(raw["ckpt_config"])
    path = tmp_path_factory.mktemp("pydantic-form") / "ng.pt"
    with upstream_modules():
        torch.save({**raw, "ckpt_config": ckpt_config}, path)
    assert not any(m == "nitrogen" or m.startswith("nitrogen.") for m in sys.modules)
    return path, ckpt_config.model_dump()


def test_pydantic_file_really_pickles_upstream_classes(pydantic_form):
    path, _ = pydantic_form
    data = _pickle_bytes(path)
    for full in UPSTREAM_CONFIG_CLASSES:
        if full.endswith("GameMappingConfig"):
            continue  # game_mapping_cfg is None in ng.pt
        module, _, name = full.rpartition(".")
        assert f"{module}\n{name}\n".encode() in data, full


def test_both_forms_load_to_the_same_config_and_model(dict_form, pydantic_form):
    path, dumped = pydantic_form
    from_dict = load_checkpoint(dict_form)
    from_pydantic = load_checkpoint(path)
    assert not any(m == "nitrogen" or m.startswith("nitrogen.") for m in sys.modules)  # nothing imported
    assert from_pydantic.ckpt_config == dumped  # every field, defaults included
    assert isinstance(from_pydantic.ckpt_config["modality_cfg"], dict)
    assert from_pydantic.ckpt_config["modality_cfg"]["frame_spacing"] == 18
    assert from_pydantic.config == from_dict.config
    pixels = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noise = torch.randn(2, 18, 25, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        assert torch.equal(from_dict.model.sample(pixels, noise), from_pydantic.model.sample(pixels, noise))


def test_plain_dict_form_is_unchanged(dict_form):
    ckpt = read_checkpoint(dict_form)
    assert ckpt["ckpt_config"] == tiny_ckpt_config()
    assert ckpt["siglip_vision_config"] == TINY_SIGLIP


class _RunsShell:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_a_pickle_that_calls_os_system_is_refused_and_never_runs(tmp_path, dict_form):
    sentinel = tmp_path / "ran"
    raw = torch.load(dict_form, weights_only=True)
    path = tmp_path / "ng.pt"
    torch.save({**raw, "step": _RunsShell(f"touch {sentinel}")}, path)
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(_pickle_bytes(path))]
    assert ("GLOBAL", f"{os.system.__module__} system") in ops  # the payload is really in the file
    with pytest.raises(ModelLoadError) as err:
        load_checkpoint(path)
    msg = str(err.value)
    assert "refused" in msg and f"{os.system.__module__}.system" in msg
    assert not sentinel.exists()


class _CallsTheConfigClass:
    def __reduce__(self):
        return (CkptConfig, ("rm -rf /",))


def test_an_allowlisted_name_cannot_be_called(tmp_path, dict_form):
    # The stand-ins only accept NEWOBJ + BUILD (a stored object); REDUCE (a call) is refused.
    raw = torch.load(dict_form, weights_only=True)
    path = tmp_path / "ng.pt"
    with upstream_modules():
        torch.save({**raw, "ckpt_config": _CallsTheConfigClass()}, path)
    with pytest.raises(ModelLoadError, match="refused"):
        read_checkpoint(path)


def test_a_payload_nested_inside_a_pydantic_config_is_refused(tmp_path, dict_form):
    sentinel = tmp_path / "ran"
    raw = torch.load(dict_form, weights_only=True)
    cfg = CkptConfig.model_validate(raw["ckpt_config"])
    object.__setattr__(cfg, "experiment_name", _RunsShell(f"touch {sentinel}"))
    path = tmp_path / "ng.pt"
    with upstream_modules():
        torch.save({**raw, "ckpt_config": cfg}, path)
    with pytest.raises(ModelLoadError, match=r"refused.*system"):
        read_checkpoint(path)
    assert not sentinel.exists()


def test_a_pickled_non_top_level_config_is_named(tmp_path, dict_form):
    raw = torch.load(dict_form, weights_only=True)
    mc = NitroGen_Config.model_validate(raw["ckpt_config"]["model_cfg"])
    path = tmp_path / "ng.pt"
    with upstream_modules():
        torch.save({**raw, "ckpt_config": mc}, path)
    with pytest.raises(ModelLoadError, match="NitroGen_Config"):
        read_checkpoint(path)
