"""NitroGen architecture config read from `ng.pt["ckpt_config"]`.

Every size the model needs comes from here; nothing is hard-coded to the
released checkpoint. Missing fields fall back to the defaults of upstream's
own config schema (so an older or trimmed `ckpt_config` still loads the way
upstream would load it); a field with the wrong type is a `ModelLoadError`.
The SigLIP tower's config is derived from `vision_encoder_name` and
`vision_hidden_size` with a table of the published SigLIP shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.errors import ModelLoadError

CHECKPOINT_FILE = "ng.pt"  # the release's one file: {model, ckpt_config, step, epoch}

# Upstream schema defaults (DiTConfig / SelfAttentionTransformerConfig /
# NitroGen_Config / tokenizer config), used only for fields a ckpt_config lacks.
_STACK_DEFAULTS: dict[str, Any] = {
    "num_attention_heads": 8,
    "attention_head_dim": 64,
    "num_layers": 12,
    "attention_bias": True,
    "activation_fn": "gelu-approximate",
    "final_dropout": True,
    "max_num_positional_embeddings": 512,
    "positional_embeddings": "sinusoidal",
    "interleave_self_attention": False,
}
_DIT_DEFAULTS: dict[str, Any] = {
    **_STACK_DEFAULTS,
    "output_dim": 26,
    "norm_type": "ada_norm",
    "norm_elementwise_affine": False,
    "norm_eps": 1e-5,
    "cross_attention_dim": None,
}
_MODEL_DEFAULTS: dict[str, Any] = {
    "add_pos_embed": False,
    "hidden_size": 1024,
    "max_seq_len": 1024,
    "num_timestep_buckets": 1000,
    "max_num_embodiments": 1,
    "vision_encoder_name": "google/siglip-large-patch16-256",
    "vision_hidden_size": 768,
}
_TOKENIZER_DEFAULTS: dict[str, Any] = {
    "num_visual_tokens_per_frame": 256,
    "max_sequence_length": 300,
    "old_layout": False,
    "game_mapping_cfg": None,
}

# Published SigLIP / SigLIP2 vision towers by size name:
# (hidden, intermediate, layers, heads). Patch and image size come from the name.
SIGLIP_FAMILIES: dict[str, tuple[int, int, int, int]] = {
    "base": (768, 3072, 12, 12),
    "large": (1024, 4096, 24, 16),
    "so400m": (1152, 4304, 27, 16),
    "giant-opt": (1536, 6144, 40, 16),
}
_SIGLIP_NAME = re.compile(r"siglip2?-(base|large|so400m|giant-opt)-patch(\d+)-(\d+)$")

# Only these SigLIP config fields are taken from an explicit tower config
# (the tiny test checkpoints carry one because no published tower is tiny).
_SIGLIP_FIELDS = (
    "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_channels", "image_size", "patch_size", "hidden_act", "layer_norm_eps",
    "attention_dropout", "vision_use_head",
)


@dataclass(frozen=True)
class StackConfig:
    """One transformer stack (the DiT or the VL mixer)."""

    num_layers: int
    num_heads: int
    head_dim: int
    positional_embeddings: str | None
    max_positions: int
    interleave_self_attention: bool = False
    cross_attention_dim: int | None = None
    output_dim: int | None = None
    norm_eps: float = 1e-5

    @property
    def width(self) -> int:
        return self.num_heads * self.head_dim


@dataclass(frozen=True)
class NitroGenConfig:
    hidden_size: int
    vision_hidden_size: int
    action_dim: int
    action_horizon: int
    num_inference_timesteps: int
    num_timestep_buckets: int
    max_num_embodiments: int
    add_pos_embed: bool
    max_seq_len: int
    vision_encoder_name: str
    dit: StackConfig
    mixer: StackConfig
    num_visual_tokens_per_frame: int
    max_sequence_length: int
    old_layout: bool


def _get(section: dict, name: str, defaults: dict, kind: type | tuple, where: str):
    if name in section and section[name] is not None:
        value = section[name]
    elif name in defaults:
        value = defaults[name]
    else:
        raise ModelLoadError(f"ckpt_config.{where}.{name} is missing; it has no upstream default.")
    if value is not None and not isinstance(value, kind):
        raise ModelLoadError(f"ckpt_config.{where}.{name} is {value!r}; expected {kind}.")
    if isinstance(value, bool) and kind in (int, float):
        raise ModelLoadError(f"ckpt_config.{where}.{name} is a bool; expected {kind.__name__}.")
    return value


def _stack(section: dict, defaults: dict, where: str, *, dit: bool) -> StackConfig:
    g = lambda n, k: _get(section, n, defaults, k, where)  # noqa: E731
    act = g("activation_fn", str)
    if act != "gelu-approximate":
        raise ModelLoadError(f"ckpt_config.{where}.activation_fn is {act!r}; only 'gelu-approximate' is supported.")
    if not g("attention_bias", bool):
        raise ModelLoadError(f"ckpt_config.{where}.attention_bias must be true (the checkpoint layout has biases).")
    pos = section.get("positional_embeddings", defaults["positional_embeddings"])
    if pos not in (None, "sinusoidal"):
        raise ModelLoadError(f"ckpt_config.{where}.positional_embeddings is {pos!r}; expected null or 'sinusoidal'.")
    extra: dict[str, Any] = {}
    if dit:
        norm = g("norm_type", str)
        if norm != "ada_norm":
            raise ModelLoadError(f"ckpt_config.{where}.norm_type is {norm!r}; only 'ada_norm' is supported.")
        if g("norm_elementwise_affine", bool):
            raise ModelLoadError(f"ckpt_config.{where}.norm_elementwise_affine must be false for the DiT.")
        extra = dict(
            interleave_self_attention=g("interleave_self_attention", bool),
            cross_attention_dim=g("cross_attention_dim", int),
            output_dim=g("output_dim", int),
            norm_eps=float(g("norm_eps", (int, float))),
        )
    return StackConfig(
        num_layers=g("num_layers", int),
        num_heads=g("num_attention_heads", int),
        head_dim=g("attention_head_dim", int),
        positional_embeddings=pos,
        max_positions=g("max_num_positional_embeddings", int),
        **extra,
    )


def parse_ckpt_config(ckpt_config: Any) -> NitroGenConfig:
    """Validate `ng.pt["ckpt_config"]` and return the sizes the model uses."""
    if not isinstance(ckpt_config, dict):
        raise ModelLoadError(f"ckpt_config is {type(ckpt_config).__name__}; expected a dict.")
    model = ckpt_config.get("model_cfg")
    tok = ckpt_config.get("tokenizer_cfg")
    if not isinstance(model, dict) or not isinstance(tok, dict):
        raise ModelLoadError("ckpt_config needs dict sections 'model_cfg' and 'tokenizer_cfg'.")
    dit_cfg = model.get("diffusion_model_cfg")
    mix_cfg = model.get("vl_self_attention_cfg")
    if not isinstance(dit_cfg, dict) or not isinstance(mix_cfg, dict):
        raise ModelLoadError("ckpt_config.model_cfg needs 'diffusion_model_cfg' and 'vl_self_attention_cfg'.")
    if tok.get("game_mapping_cfg") is not None:
        raise ModelLoadError("ckpt_config.tokenizer_cfg.game_mapping_cfg is set; game-id checkpoints are not supported.")

    m = lambda n, k: _get(model, n, _MODEL_DEFAULTS, k, "model_cfg")  # noqa: E731
    t = lambda n, k: _get(tok, n, _TOKENIZER_DEFAULTS, k, "tokenizer_cfg")  # noqa: E731
    cfg = NitroGenConfig(
        hidden_size=m("hidden_size", int),
        vision_hidden_size=m("vision_hidden_size", int),
        action_dim=m("action_dim", int),
        action_horizon=m("action_horizon", int),
        num_inference_timesteps=m("num_inference_timesteps", int),
        num_timestep_buckets=m("num_timestep_buckets", int),
        max_num_embodiments=m("max_num_embodiments", int),
        add_pos_embed=m("add_pos_embed", bool),
        max_seq_len=m("max_seq_len", int),
        vision_encoder_name=m("vision_encoder_name", str),
        dit=_stack(dit_cfg, _DIT_DEFAULTS, "model_cfg.diffusion_model_cfg", dit=True),
        mixer=_stack(mix_cfg, _STACK_DEFAULTS, "model_cfg.vl_self_attention_cfg", dit=False),
        num_visual_tokens_per_frame=t("num_visual_tokens_per_frame", int),
        max_sequence_length=t("max_sequence_length", int),
        old_layout=t("old_layout", bool),
    )
    _check_consistency(cfg)
    return cfg


def _check_consistency(cfg: NitroGenConfig) -> None:
    problems = []
    if cfg.dit.width != cfg.hidden_size:
        problems.append(f"DiT width {cfg.dit.width} != hidden_size {cfg.hidden_size}")
    if cfg.dit.output_dim != cfg.hidden_size:
        problems.append(f"DiT output_dim {cfg.dit.output_dim} != hidden_size {cfg.hidden_size}")
    if cfg.dit.cross_attention_dim not in (None, cfg.vision_hidden_size):
        problems.append(f"DiT cross_attention_dim {cfg.dit.cross_attention_dim} != vision_hidden_size")
    if cfg.mixer.width != cfg.vision_hidden_size:
        problems.append(f"VL mixer width {cfg.mixer.width} != vision_hidden_size {cfg.vision_hidden_size}")
    if cfg.hidden_size % 2:
        problems.append(f"hidden_size {cfg.hidden_size} is odd")
    if cfg.add_pos_embed and cfg.action_horizon > cfg.max_seq_len:
        problems.append(f"action_horizon {cfg.action_horizon} > max_seq_len {cfg.max_seq_len}")
    if cfg.num_visual_tokens_per_frame > cfg.max_sequence_length:
        problems.append(
            f"one frame's {cfg.num_visual_tokens_per_frame} image tokens exceed "
            f"max_sequence_length {cfg.max_sequence_length}"
        )
    if cfg.num_inference_timesteps < 1:
        problems.append("num_inference_timesteps < 1")
    if cfg.action_dim != 25:
        problems.append(f"action_dim {cfg.action_dim} != 25 (21 buttons + 2 sticks)")
    if problems:
        raise ModelLoadError("ckpt_config is inconsistent: " + "; ".join(problems) + ".")


def siglip_config_dict(cfg: NitroGenConfig, explicit: Any = None) -> dict[str, Any]:
    """Keyword arguments for `transformers.SiglipVisionConfig`.

    `explicit` is an optional tower config stored beside the weights (only our
    tiny test checkpoints have one); otherwise the shape comes from the
    published tower named by `vision_encoder_name`.
    """
    if explicit is not None:
        if not isinstance(explicit, dict):
            raise ModelLoadError("siglip_vision_config in the checkpoint is not a dict.")
        kw = {k: explicit[k] for k in _SIGLIP_FIELDS if k in explicit}
        for need in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "image_size", "patch_size"):
            if not isinstance(kw.get(need), int):
                raise ModelLoadError(f"siglip_vision_config.{need} is missing or not an int.")
    else:
        match = _SIGLIP_NAME.search(cfg.vision_encoder_name)
        if match is None:
            raise ModelLoadError(
                f"vision_encoder_name {cfg.vision_encoder_name!r} is not a known SigLIP tower "
                f"(expected e.g. google/siglip2-large-patch16-256; sizes: {', '.join(SIGLIP_FAMILIES)})."
            )
        family, patch, image = match.group(1), int(match.group(2)), int(match.group(3))
        hidden, inter, layers, heads = SIGLIP_FAMILIES[family]
        kw = dict(
            hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
            num_attention_heads=heads, image_size=image, patch_size=patch,
            hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, num_channels=3,
            attention_dropout=0.0, vision_use_head=True,
        )
    if kw["hidden_size"] != cfg.vision_hidden_size:
        raise ModelLoadError(
            f"SigLIP tower width {kw['hidden_size']} ({cfg.vision_encoder_name}) != "
            f"vision_hidden_size {cfg.vision_hidden_size} in ckpt_config."
        )
    tokens = (kw["image_size"] // kw["patch_size"]) ** 2
    if tokens != cfg.num_visual_tokens_per_frame:
        raise ModelLoadError(
            f"SigLIP tower gives {tokens} tokens per frame; ckpt_config.tokenizer_cfg."
            f"num_visual_tokens_per_frame is {cfg.num_visual_tokens_per_frame}."
        )
    return kw
