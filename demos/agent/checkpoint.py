"""Read `nvidia/NitroGen`'s `ng.pt` safely; write a tiny one in the same layout.

`ng.pt` is a torch pickle of a dict `{model, ckpt_config, step, epoch}`;
`ckpt_config` is either a plain dict or upstream's pickled pydantic
`CkptConfig` (upstream accepts both). It is read with
`torch.load(weights_only=True)` only: tensors, plain containers, and upstream's
config class names mapped to inert stand-ins that keep their field values
(`pickled_config`). Any other global is refused, never unpickled, and the
message names it. The state dict must match our module tree key for key and
shape for shape (strict), and the error names the offending keys.
"""

from __future__ import annotations

import collections
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from shared.errors import ModelLoadError
from shared.tasks.load_progress import report_bytes

from . import pickled_config
from .config import CHECKPOINT_FILE, NitroGenConfig, parse_ckpt_config, siglip_config_dict
from .model import NitroGen

# Plain containers a ckpt_config might hold; nothing that runs code on load.
SAFE_GLOBALS = [collections.OrderedDict, collections.defaultdict]
_MAX_LISTED = 8


@dataclass
class LoadedCheckpoint:
    model: NitroGen
    config: NitroGenConfig
    ckpt_config: dict
    step: Any
    epoch: Any
    path: Path


def _refused_global(message: str) -> str | None:
    """The global torch's weights_only unpickler refused, from its error text."""
    found = re.search(r"GLOBAL ([\w.]+)", message)
    return found.group(1) if found else None


def read_checkpoint(path: Path) -> dict:
    """The raw dict of an ng.pt file, loaded without arbitrary unpickling; `ckpt_config` as a plain dict."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: checkpoint file not found.")
    try:
        with torch.serialization.safe_globals([*SAFE_GLOBALS, *pickled_config.safe_globals()]):
            ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as exc:
        text = str(exc).strip()
        name = _refused_global(text)
        if name:
            why = f"its pickle needs the Python global `{name}`"
        else:
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            why = next((ln for ln in lines if "WeightsUnpickler error" in ln), lines[0] if lines else type(exc).__name__)
        raise ModelLoadError(
            f"{path}: refused to load: {why}. Only tensors, plain containers and upstream NitroGen's config "
            f"classes ({', '.join(n.rpartition('.')[2] for n in pickled_config.UPSTREAM_CONFIG_CLASSES)}) are read; "
            "nothing else in the file is unpickled or run."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path}: not a readable torch checkpoint ({exc}).") from None
    if not isinstance(ckpt, dict):
        raise ModelLoadError(f"{path}: expected a dict with 'model' and 'ckpt_config', got {type(ckpt).__name__}.")
    for key in ("model", "ckpt_config"):
        if key not in ckpt:
            raise ModelLoadError(f"{path}: the checkpoint dict has no '{key}' entry (keys: {sorted(ckpt)}).")
    if not isinstance(ckpt["model"], dict):
        raise ModelLoadError(f"{path}: 'model' is not a state dict.")
    form = pickled_config.upstream_name(ckpt["ckpt_config"])
    if form is not None and form != pickled_config.TOP_LEVEL:
        raise ModelLoadError(f"{path}: 'ckpt_config' is a pickled {form}, expected {pickled_config.TOP_LEVEL} or a dict.")
    return {**ckpt, "ckpt_config": pickled_config.to_plain(ckpt["ckpt_config"])}


def _listed(keys) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else ""
    return ", ".join(keys[:_MAX_LISTED]) + more


def build_empty(cfg: NitroGenConfig, siglip: dict) -> NitroGen:
    """The module tree on the meta device (no memory, no random init)."""
    with torch.device("meta"):
        return NitroGen(cfg, siglip)


def _restore_non_persistent_buffers(model: NitroGen) -> None:
    # SigLIP's position_ids is a non-persistent buffer, so it is not in the
    # state dict and still lives on the meta device after an assign-load.
    emb = model.vision_encoder.embeddings
    emb.position_ids = torch.arange(emb.num_positions).expand((1, -1))
    for name, buf in model.named_buffers():
        if buf.is_meta:
            raise ModelLoadError(f"internal: buffer {name} was not initialised by the checkpoint.")


def load_state_strict(model: NitroGen, state: dict, path: Path | str,
                      report: Callable[[float, str], None] | None = None) -> None:
    """Assign `state` to `model`, refusing any missing, extra or mis-shaped tensor; `report` hears the
    fraction of the stored bytes read (the file is memory-mapped: the cast below is the read)."""
    expected = model.state_dict()
    missing = expected.keys() - state.keys()
    extra = state.keys() - expected.keys()
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensor(s): {_listed(missing)}")
    if extra:
        problems.append(f"{len(extra)} unexpected tensor(s): {_listed(extra)}")
    shapes = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
              for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if shapes:
        problems.append(f"{len(shapes)} tensor(s) with the wrong shape: {_listed(shapes)}")
    not_tensors = [k for k in state if not torch.is_tensor(state[k])]
    if not_tensors:
        problems.append(f"non-tensor entries: {_listed(not_tensors)}")
    if problems:
        raise ModelLoadError(f"{path}: state dict does not match the NitroGen config: " + "; ".join(problems) + ".")
    # Cast to the module's expected dtype (fp32) so a bf16-stored file still loads.
    total = sum(state[k].nbytes for k in expected)
    done, cast = 0, {}
    for k in expected:
        cast[k] = state[k].to(torch.float32)
        done += state[k].nbytes
        report_bytes(report, done, total)
    model.load_state_dict(cast, strict=True, assign=True)
    _restore_non_persistent_buffers(model)


def load_checkpoint(path: Path, report: Callable[[float, str], None] | None = None) -> LoadedCheckpoint:
    """ng.pt -> NitroGen in fp32 on CPU, eval mode; `report` as in `load_state_strict`."""
    ckpt = read_checkpoint(path)
    cfg = parse_ckpt_config(ckpt["ckpt_config"])
    siglip = siglip_config_dict(cfg, ckpt.get("siglip_vision_config"))
    model = build_empty(cfg, siglip)
    load_state_strict(model, ckpt["model"], path, report)
    model.eval().requires_grad_(False)
    return LoadedCheckpoint(model, cfg, ckpt["ckpt_config"], ckpt.get("step"), ckpt.get("epoch"), Path(path))


# ------------------------------------------------------------ tiny writer
TINY_SIGLIP = dict(
    hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_channels=3,
    image_size=32, patch_size=8, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
    attention_dropout=0.0, vision_use_head=True,
)


def _stack_cfg(layers: int, heads: int, head_dim: int, **extra) -> dict:
    return dict(
        num_attention_heads=heads, attention_head_dim=head_dim, output_dim=heads * head_dim,
        num_layers=layers, dropout=0.2, attention_bias=True, activation_fn="gelu-approximate",
        num_embeds_ada_norm=1000, upcast_attention=False, max_num_positional_embeddings=512,
        compute_dtype="float32", final_dropout=True, positional_embeddings=None, **extra,
    )


def tiny_ckpt_config() -> dict:
    """A ckpt_config with the real schema and tiny sizes (20-token VL stream: 16 image + 4 pads)."""
    dit = _stack_cfg(2, 2, 16, norm_type="ada_norm", norm_elementwise_affine=False, norm_eps=1e-5,
                     interleave_self_attention=True, cross_attention_dim=32)
    mixer = _stack_cfg(2, 2, 16, interleave_self_attention=False)
    return {
        "experiment_name": "release-hub-tiny",
        "model_cfg": {
            "model_type": "nitrogen", "add_pos_embed": True, "model_dtype": "float32",
            "diffusion_model_cfg": dit, "vl_self_attention_cfg": mixer,
            "hidden_size": 32, "max_seq_len": 32, "action_dim": 25, "action_horizon": 18,
            "noise_beta_alpha": 1.5, "noise_beta_beta": 1.0, "noise_s": 0.999,
            "num_timestep_buckets": 1000, "num_inference_timesteps": 4, "max_num_embodiments": 1,
            "vision_encoder_name": "google/siglip2-large-patch16-256", "vision_hidden_size": 32,
            "add_view_embed": False, "tune_vision_tower": True, "tune_mm_projector": True,
            "tune_diffusion_model": True, "tune_multi_projector": True, "tune_vl_mixing": True,
        },
        "tokenizer_cfg": {
            "tokenizer_id": "nitrogen", "training": True, "num_visual_tokens_per_frame": 16,
            "max_action_dim": 25, "max_sequence_length": 20, "action_horizon": 18,
            "game_mapping_cfg": None, "old_layout": False,
        },
        "modality_cfg": {
            "frame_per_sample": 1, "frame_spacing": 18, "action_per_chunk": 18, "action_shift": 3,
            "action_interleaving": False, "token_set": "new",
        },
    }


def released_ckpt_config() -> dict:
    """The ckpt_config of the released ng.pt as far as it is known second-hand (real sizes).

    Used only to build real-size random models for benchmarks and the
    parameter-count test; loading a real ng.pt always reads its own config.
    """
    cfg = tiny_ckpt_config()
    m = cfg["model_cfg"]
    m.update(hidden_size=1024, vision_hidden_size=1024, max_seq_len=1024, num_inference_timesteps=16)
    for stack in (m["diffusion_model_cfg"], m["vl_self_attention_cfg"]):
        stack.update(num_attention_heads=16, attention_head_dim=64, output_dim=1024)
    m["diffusion_model_cfg"].update(num_layers=8, cross_attention_dim=1024)
    m["vl_self_attention_cfg"]["num_layers"] = 4
    cfg["tokenizer_cfg"].update(num_visual_tokens_per_frame=256, max_sequence_length=256)
    cfg["experiment_name"] = "released-config-random-weights"
    return cfg


def random_state_dict(model: NitroGen, seed: int, scale: float = 0.05) -> dict[str, torch.Tensor]:
    """Seeded random weights for every key of `model` (norm gains near 1, sinusoid tables kept)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, ref in model.state_dict().items():
        if name.endswith("pos_embed.pe"):
            state[name] = ref.detach().clone()
            continue
        value = torch.randn(ref.shape, generator=gen) * scale
        if any(n in name for n in ("norm1.weight", "norm3.weight", "layer_norm1.weight", "layer_norm2.weight",
                                   "post_layernorm.weight", "layernorm.weight")):
            value = value + 1.0
        state[name] = value.contiguous()
    return state


def write_tiny(dest: Path, seed: int = 0) -> Path:
    """Write `dest/ng.pt`: the real dict layout with tiny random weights.

    Beside the four real entries it stores `siglip_vision_config`, because no
    published SigLIP tower is tiny; the loader uses that key only when present.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    ckpt_config = tiny_ckpt_config()
    cfg = parse_ckpt_config(ckpt_config)
    with torch.device("cpu"):
        model = NitroGen(cfg, TINY_SIGLIP)
    state = random_state_dict(model, seed)
    path = dest / CHECKPOINT_FILE
    tmp = path.with_suffix(".pt.tmp")
    torch.save({"model": state, "ckpt_config": ckpt_config, "step": 0, "epoch": 0,
                "siglip_vision_config": dict(TINY_SIGLIP)}, tmp)
    tmp.replace(path)
    return path
