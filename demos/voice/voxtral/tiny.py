"""Write random Voxtral checkpoints in the exact on-disk layout of the release.

Same file names, the same params.json keys (in the same order), every tensor
name of consolidated.safetensors (bf16), a tekken.json mistral-common loads,
and a voice_embedding/<name>.pt per preset. Only the sizes shrink. Used for
`--tiny`, the tests, and the CPU benchmark's mid-size model.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from pathlib import Path

import torch

from .checkpoint import TOKENIZER_FILE, VOICE_DIR, WEIGHTS_FILE, expected_tensor_shapes
from .config import N_SPECIAL_AUDIO_CODES, parse_params
from .voices import PRESET_VOICES  # tiny checkpoints carry every preset, with small row counts

# params.json of the release, as reconstructed in the team's notes (key order kept).
REAL_PARAMS: dict = {
    "dim": 3072, "n_layers": 26, "head_dim": 128, "hidden_dim": 9216, "n_heads": 32, "n_kv_heads": 8,
    "use_biases": False, "causal": True, "rope_theta": 1000000.0, "norm_eps": 1e-05, "vocab_size": 131072,
    "model_parallel": 1, "tied_embeddings": True,
    "multimodal": {
        "bos_token_id": 1,
        "audio_model_args": {
            "semantic_codebook_size": 8192, "acoustic_codebook_size": 21, "n_acoustic_codebook": 36,
            "audio_encoding_args": {
                "codebook_pattern": "parallel", "interleave_audio_tokens_per_segment": 8192,
                "interleave_text_tokens_per_segment": 8192, "single_trailing_segment": False,
                "num_codebooks": 37, "sampling_rate": 24000, "frame_rate": 12.5,
            },
            "audio_token_id": 24, "begin_audio_token_id": 25, "input_embedding_concat_type": "sum",
            "acoustic_transformer_args": {
                "input_dim": 3072, "dim": 3072, "n_layers": 3, "head_dim": 128, "hidden_dim": 9216,
                "n_heads": 32, "n_kv_heads": 8, "use_biases": False, "rope_theta": 10000.0,
                "sigma": 1e-05, "sigma_max": 1.0,
            },
            "p_uncond": 0.0, "text_feature_bugged": False, "condition_dropped_token_id": 42,
        },
        "audio_tokenizer_args": {
            "channels": 1, "sampling_rate": 24000, "pretransform_patch_size": 240, "patch_proj_kernel_size": 7,
            "semantic_codebook_size": 8192, "semantic_dim": 256, "acoustic_codebook_size": 21, "acoustic_dim": 36,
            "conv_weight_norm": True, "causal": True, "attn_sliding_window_size": 16,
            "half_attn_window_upon_downsampling": True, "dim": 1024, "hidden_dim": 4096, "head_dim": 128,
            "n_heads": 8, "n_kv_heads": 8, "qk_norm_eps": 1e-06, "qk_norm": True, "use_biases": False,
            "norm_eps": 0.01, "layer_scale": True, "layer_scale_init": 0.01,
            "decoder_transformer_lengths_str": "2,2,2,2", "decoder_convs_kernels_str": "3,4,4,4",
            "decoder_convs_strides_str": "1,2,2,2",
            "voice": {name: i for i, name in enumerate(PRESET_VOICES)},
        },
    },
    "max_seq_len": 65536, "model_type": "voxtral_tts", "max_position_embeddings": 128000,
}

# Special tokens whose ranks matter to mistral-common's speech path (real ids).
_SPECIALS = {
    0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]", 5: "[AVAILABLE_TOOLS]", 6: "[/AVAILABLE_TOOLS]",
    7: "[TOOL_RESULTS]", 8: "[/TOOL_RESULTS]", 9: "[TOOL_CALLS]", 10: "[IMG]", 11: "<pad>", 12: "[IMG_BREAK]",
    13: "[IMG_END]", 14: "[PREFIX]", 15: "[MIDDLE]", 16: "[SUFFIX]", 17: "[SYSTEM_PROMPT]", 18: "[/SYSTEM_PROMPT]",
    19: "[TOOL_CONTENT]", 24: "[AUDIO]", 25: "[BEGIN_AUDIO]", 26: "[OUTPUT_AUDIO]", 32: "[ARGS]", 33: "[CALL_ID]",
    34: "[TRANSCRIBE]", 35: "[REPEAT_AUDIO_TEXT]", 36: "[NEXT_AUDIO_TEXT]",
}
N_SPECIAL = 1000
# The tekken split pattern (letters, single digits, punctuation runs, spaces).
_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
    r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# A few byte-pair merges so multi-byte tokens exist; each one's halves come earlier.
_MERGES = ("th", "he", " t", "in", "er", "an", "on", "re", " a", " s", "the", " the", "ing", "en", "at", "ou", "es", "is")


def tiny_params(
    *, dim: int = 32, n_layers: int = 26, heads: tuple[int, int] = (8, 2), head_dim: int = 16,
    hidden_dim: int = 96, vocab_size: int, semantic_codebook_size: int = 64, n_acoustic: int = 36,
    codec_dim: int = 32, codec_heads: int = 8, codec_hidden: int = 64, semantic_dim: int = 16,
    acoustic_layers: int = 3,
) -> dict:
    """The release's params.json with every size replaced; keys and order unchanged."""
    p = copy.deepcopy(REAL_PARAMS)
    p.update(dim=dim, n_layers=n_layers, head_dim=head_dim, hidden_dim=hidden_dim, n_heads=heads[0],
             n_kv_heads=heads[1], vocab_size=vocab_size)
    am = p["multimodal"]["audio_model_args"]
    am.update(semantic_codebook_size=semantic_codebook_size, n_acoustic_codebook=n_acoustic)
    am["audio_encoding_args"]["num_codebooks"] = 1 + n_acoustic
    am["acoustic_transformer_args"].update(input_dim=dim, dim=dim, n_layers=acoustic_layers, head_dim=head_dim,
                                           hidden_dim=hidden_dim, n_heads=heads[0], n_kv_heads=heads[1])
    tk = p["multimodal"]["audio_tokenizer_args"]
    tk.update(semantic_codebook_size=semantic_codebook_size, semantic_dim=semantic_dim, acoustic_dim=n_acoustic,
              dim=codec_dim, hidden_dim=codec_hidden, head_dim=codec_dim // codec_heads, n_heads=codec_heads,
              n_kv_heads=codec_heads)
    return p


def tekken_json(voice_rows: dict[str, int]) -> dict:
    """A small tekken v7 tokenizer: 1000 specials (real speech ids), 256 bytes, a few merges."""
    vocab = [{"rank": i, "token_bytes": base64.b64encode(bytes([i])).decode(), "token_str": None} for i in range(256)]
    for text in _MERGES:
        raw = text.encode("utf-8")
        vocab.append({"rank": len(vocab), "token_bytes": base64.b64encode(raw).decode(), "token_str": text})
    specials = [
        {"rank": r, "token_str": _SPECIALS.get(r, f"<SPECIAL_{r}>"), "is_control": True} for r in range(N_SPECIAL)
    ]
    return {
        "config": {
            "pattern": _PATTERN,
            "num_vocab_tokens": len(vocab),
            "default_vocab_size": N_SPECIAL + len(vocab),
            "default_num_special_tokens": N_SPECIAL,
            "version": "v7",
        },
        "vocab": vocab,
        "special_tokens": specials,
        "audio": {
            "sampling_rate": 24000,
            "frame_rate": 12.5,
            "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
            "chunk_length_s": 30.0,
            "voice_num_audio_tokens": dict(voice_rows),
        },
    }


def _random_tensor(name: str, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    if name.endswith("cluster_usage"):
        return torch.rand(shape, generator=gen) * 4 + 0.5
    if name.endswith("original0"):  # weight-norm g
        return torch.rand(shape, generator=gen) * 0.5 + 0.75
    if name.endswith(("_scale",)):  # codec layer scales
        return torch.full(shape, 0.1) + 0.02 * torch.randn(shape, generator=gen)
    if name.endswith("norm.weight") or len(shape) == 1:
        return 1.0 + 0.05 * torch.randn(shape, generator=gen)
    if "embeddings" in name or name.endswith("embedding_sum"):
        return torch.randn(shape, generator=gen) * 0.5
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
    return torch.randn(shape, generator=gen) / math.sqrt(fan_in)


def write_random_checkpoint(dest: Path, params: dict, *, seed: int = 0, voice_rows: dict[str, int] | None = None) -> None:
    """params.json + random bf16 consolidated.safetensors + tekken.json + voices into `dest`."""
    from safetensors.torch import save_file

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    voices = list(params["multimodal"]["audio_tokenizer_args"]["voice"])
    voice_rows = voice_rows or {name: 3 + (i % 4) for i, name in enumerate(voices)}
    tekken = tekken_json(voice_rows)
    if params["vocab_size"] != tekken["config"]["default_vocab_size"]:
        raise ValueError("params vocab_size must equal the tekken default_vocab_size")
    (dest / "params.json").write_text(json.dumps(params, indent=4) + "\n", encoding="utf-8")
    (dest / TOKENIZER_FILE).write_text(json.dumps(tekken), encoding="utf-8")
    config = parse_params(params)
    tensors = {
        name: _random_tensor(name, shape, gen).to(torch.bfloat16).contiguous()
        for name, shape in expected_tensor_shapes(config).items()
    }
    save_file(tensors, str(dest / WEIGHTS_FILE), metadata={"format": "pt"})
    # Voices are built like the release's: sums of code embeddings of random
    # frames, plus the end-of-audio row with codes (1, 0, ..., 0).
    table = tensors["mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"].float()
    offsets = torch.tensor(config.acoustic.codebook_offsets)
    sizes = config.acoustic.codebook_sizes
    (dest / VOICE_DIR).mkdir(exist_ok=True)
    for name in voices:
        n = voice_rows[name]
        codes = torch.stack(
            [torch.randint(N_SPECIAL_AUDIO_CODES, size, (n - 1,), generator=gen) for size in sizes], dim=1
        )
        end_row = torch.zeros(1, len(sizes), dtype=torch.long)
        end_row[0, 0] = 1
        codes = torch.cat((codes, end_row))
        rows = table[codes + offsets].sum(dim=1).to(torch.bfloat16)
        torch.save(rows.clone(), dest / VOICE_DIR / f"{name}.pt")


def write_tiny(dest: Path) -> None:
    """The `--tiny` Voxtral checkpoint: real layout, width 32, all 26 layers, 20 voices."""
    vocab = N_SPECIAL + 256 + len(_MERGES)
    write_random_checkpoint(dest, tiny_params(vocab_size=vocab), seed=1234)


def write_mid(dest: Path) -> None:
    """A mid-size random checkpoint for CPU benchmarks (same architecture, width 512)."""
    vocab = N_SPECIAL + 256 + len(_MERGES)
    params = tiny_params(
        dim=512, heads=(8, 2), head_dim=64, hidden_dim=1536, vocab_size=vocab, semantic_codebook_size=8192,
        codec_dim=256, codec_heads=8, codec_hidden=1024, semantic_dim=256,
    )
    write_random_checkpoint(dest, params, seed=99)
