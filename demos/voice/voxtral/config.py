"""Voxtral-4B-TTS configuration read from the checkpoint's own `params.json`.

Every size the model uses comes from here; nothing is hard-coded to the 4B
release so the same code loads the real checkpoint and tiny test ones.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ModelLoadError

# Not stored in params.json: vllm-omni's parser defaults (see voxtral_spec §5.2).
DEFAULT_DECODING_STEPS = 7
DEFAULT_CFG_ALPHA = 1.2
ACOUSTIC_NORM_EPS = 1e-5
# The encoder strides are not in params.json either; they fix the frame rate
# and the codec decoder's first attention window.
DEFAULT_ENCODER_STRIDES = (2, 2, 2, 1)
# Serving caps the whole context (prompt + frames) at this many positions.
SERVING_MAX_CONTEXT = 4096

EMPTY_AUDIO = 0
END_AUDIO = 1
N_SPECIAL_AUDIO_CODES = 2  # every code is shifted by 2 (0 = empty, 1 = end)


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


@dataclass(frozen=True)
class BackboneConfig:
    dim: int
    n_layers: int
    head_dim: int
    hidden_dim: int
    n_heads: int
    n_kv_heads: int
    rope_theta: float
    norm_eps: float
    vocab_size: int
    max_seq_len: int


@dataclass(frozen=True)
class AcousticConfig:
    input_dim: int
    dim: int
    n_layers: int
    head_dim: int
    hidden_dim: int
    n_heads: int
    n_kv_heads: int
    norm_eps: float
    semantic_codebook_size: int
    acoustic_codebook_size: int
    n_acoustic_codebook: int
    n_decoding_steps: int

    @property
    def semantic_head_rows(self) -> int:
        return _round_up(self.semantic_codebook_size + N_SPECIAL_AUDIO_CODES, 128)

    @property
    def n_codebooks(self) -> int:
        return 1 + self.n_acoustic_codebook

    @property
    def codebook_sizes(self) -> list[int]:
        return [self.semantic_codebook_size + N_SPECIAL_AUDIO_CODES] + [
            self.acoustic_codebook_size + N_SPECIAL_AUDIO_CODES
        ] * self.n_acoustic_codebook

    @property
    def codebook_offsets(self) -> list[int]:
        offsets, total = [], 0
        for size in self.codebook_sizes:
            offsets.append(total)
            total += size
        return offsets

    @property
    def audio_embedding_rows(self) -> int:
        return _round_up(sum(self.codebook_sizes), 128)


@dataclass(frozen=True)
class CodecConfig:
    sampling_rate: int
    patch_size: int
    patch_kernel: int
    semantic_codebook_size: int
    semantic_dim: int
    acoustic_codebook_size: int
    acoustic_dim: int
    dim: int
    hidden_dim: int
    head_dim: int
    n_heads: int
    n_kv_heads: int
    qk_norm_eps: float
    norm_eps: float
    window: int
    half_window_on_downsampling: bool
    transformer_lengths: tuple[int, ...]
    conv_kernels: tuple[int, ...]
    conv_strides: tuple[int, ...]
    encoder_strides: tuple[int, ...]

    @property
    def latent_dim(self) -> int:
        return self.semantic_dim + self.acoustic_dim

    @property
    def samples_per_frame(self) -> int:
        return self.patch_size * math.prod(self.conv_strides)

    @property
    def frame_rate(self) -> float:
        return self.sampling_rate / (self.patch_size * math.prod(self.encoder_strides))

    def stage_windows(self) -> list[int]:
        """Sliding window (in steps at that stage's rate) of each transformer stage."""
        window = self.window
        if self.half_window_on_downsampling:
            for stride in self.encoder_strides:
                if stride > 1:
                    window //= 2
        windows = []
        for stride, _length in zip(self.conv_strides, self.transformer_lengths):
            if stride > 1 and self.half_window_on_downsampling:
                window *= 2
            windows.append(window)
        return windows


@dataclass(frozen=True)
class VoxtralConfig:
    backbone: BackboneConfig
    acoustic: AcousticConfig
    codec: CodecConfig
    voices: tuple[str, ...]
    audio_token_id: int
    begin_audio_token_id: int
    bos_token_id: int

    @property
    def max_context(self) -> int:
        return min(self.backbone.max_seq_len, SERVING_MAX_CONTEXT)


def _csv_ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).split(","))


def parse_params(params: dict, source: str = "params.json") -> VoxtralConfig:
    """Build the config; a missing key raises ModelLoadError naming it."""

    def need(mapping: dict, key: str, where: str):
        if key not in mapping:
            raise ModelLoadError(f"{source}: missing key '{where}{key}'.")
        return mapping[key]

    mm = need(params, "multimodal", "")
    am = need(mm, "audio_model_args", "multimodal.")
    at = need(am, "acoustic_transformer_args", "multimodal.audio_model_args.")
    tk = need(mm, "audio_tokenizer_args", "multimodal.")
    p_am, p_at, p_tk = "multimodal.audio_model_args.", "multimodal.audio_model_args.acoustic_transformer_args.", "multimodal.audio_tokenizer_args."

    backbone = BackboneConfig(
        dim=int(need(params, "dim", "")),
        n_layers=int(need(params, "n_layers", "")),
        head_dim=int(need(params, "head_dim", "")),
        hidden_dim=int(need(params, "hidden_dim", "")),
        n_heads=int(need(params, "n_heads", "")),
        n_kv_heads=int(need(params, "n_kv_heads", "")),
        rope_theta=float(need(params, "rope_theta", "")),
        norm_eps=float(need(params, "norm_eps", "")),
        vocab_size=int(need(params, "vocab_size", "")),
        max_seq_len=int(params.get("max_seq_len", SERVING_MAX_CONTEXT)),
    )
    acoustic = AcousticConfig(
        input_dim=int(need(at, "input_dim", p_at)),
        dim=int(need(at, "dim", p_at)),
        n_layers=int(need(at, "n_layers", p_at)),
        head_dim=int(need(at, "head_dim", p_at)),
        hidden_dim=int(need(at, "hidden_dim", p_at)),
        n_heads=int(need(at, "n_heads", p_at)),
        n_kv_heads=int(need(at, "n_kv_heads", p_at)),
        norm_eps=float(at.get("norm_eps", ACOUSTIC_NORM_EPS)),
        semantic_codebook_size=int(need(am, "semantic_codebook_size", p_am)),
        acoustic_codebook_size=int(need(am, "acoustic_codebook_size", p_am)),
        n_acoustic_codebook=int(need(am, "n_acoustic_codebook", p_am)),
        n_decoding_steps=int(am.get("n_decoding_steps", DEFAULT_DECODING_STEPS)),
    )
    codec = CodecConfig(
        sampling_rate=int(need(tk, "sampling_rate", p_tk)),
        patch_size=int(need(tk, "pretransform_patch_size", p_tk)),
        patch_kernel=int(need(tk, "patch_proj_kernel_size", p_tk)),
        semantic_codebook_size=int(need(tk, "semantic_codebook_size", p_tk)),
        semantic_dim=int(need(tk, "semantic_dim", p_tk)),
        acoustic_codebook_size=int(need(tk, "acoustic_codebook_size", p_tk)),
        acoustic_dim=int(need(tk, "acoustic_dim", p_tk)),
        dim=int(need(tk, "dim", p_tk)),
        hidden_dim=int(need(tk, "hidden_dim", p_tk)),
        head_dim=int(need(tk, "head_dim", p_tk)),
        n_heads=int(need(tk, "n_heads", p_tk)),
        n_kv_heads=int(need(tk, "n_kv_heads", p_tk)),
        qk_norm_eps=float(need(tk, "qk_norm_eps", p_tk)),
        norm_eps=float(need(tk, "norm_eps", p_tk)),
        window=int(need(tk, "attn_sliding_window_size", p_tk)),
        half_window_on_downsampling=bool(need(tk, "half_attn_window_upon_downsampling", p_tk)),
        transformer_lengths=_csv_ints(need(tk, "decoder_transformer_lengths_str", p_tk)),
        conv_kernels=_csv_ints(need(tk, "decoder_convs_kernels_str", p_tk)),
        conv_strides=_csv_ints(need(tk, "decoder_convs_strides_str", p_tk)),
        encoder_strides=_csv_ints(tk.get("encoder_convs_strides_str", ",".join(map(str, DEFAULT_ENCODER_STRIDES)))),
    )
    voices = tuple(need(tk, "voice", p_tk).keys())
    config = VoxtralConfig(
        backbone=backbone,
        acoustic=acoustic,
        codec=codec,
        voices=voices,
        audio_token_id=int(am.get("audio_token_id", 24)),
        begin_audio_token_id=int(am.get("begin_audio_token_id", 25)),
        bos_token_id=int(mm.get("bos_token_id", 1)),
    )
    _check_consistency(config, source)
    return config


def _check_consistency(config: VoxtralConfig, source: str) -> None:
    a, c, b = config.acoustic, config.codec, config.backbone
    problems = []
    if a.dim != b.dim or a.input_dim != b.dim:
        problems.append("acoustic_transformer_args.dim/input_dim must equal the backbone dim")
    if a.n_acoustic_codebook != c.acoustic_dim:
        problems.append("n_acoustic_codebook must equal audio_tokenizer_args.acoustic_dim")
    if a.semantic_codebook_size != c.semantic_codebook_size:
        problems.append("semantic_codebook_size differs between audio_model_args and audio_tokenizer_args")
    if a.acoustic_codebook_size != c.acoustic_codebook_size:
        problems.append("acoustic_codebook_size differs between audio_model_args and audio_tokenizer_args")
    if not (len(c.transformer_lengths) == len(c.conv_kernels) == len(c.conv_strides)):
        problems.append("decoder_*_str lists have different lengths")
    if problems:
        raise ModelLoadError(f"{source}: " + "; ".join(problems) + ".")


def load_config(model_dir: Path) -> VoxtralConfig:
    path = Path(model_dir) / "params.json"
    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found (expected the Voxtral params.json).")
    try:
        params = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"{path}: not valid JSON ({exc}).") from exc
    return parse_params(params, str(path))
