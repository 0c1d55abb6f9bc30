"""Voxtral-4B-TTS modules, written from the spec (voxtral_spec.md).

Three parts, each with parameter names equal to the checkpoint's tensor
names under its prefix, so loading is a strict name-for-name copy:

* `Backbone`: Mistral decoder (`layers.*`, `norm.weight`) with interleaved-pair
  RoPE on the raw consolidated `wq`/`wk` weights, and a KV cache.
* `AcousticTransformer` (`acoustic_transformer.*`): semantic head + a 3-token
  bidirectional flow-matching transformer that predicts the 36 acoustic values.
* `CodecDecoder` (`audio_tokenizer.*`): 37 codes per 80 ms frame -> 24 kHz audio.

The embedding tables (`mm_audio_embeddings.*`) live in `AudioEmbeddings`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import (
    END_AUDIO,
    N_SPECIAL_AUDIO_CODES,
    AcousticConfig,
    BackboneConfig,
    CodecConfig,
    VoxtralConfig,
)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Normalise in fp32 and cast back, like the reference RMSNorm.
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return xf.to(x.dtype) * self.weight


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """SDPA with grouped KV heads (query head h uses KV head h // group).

    The KV heads are repeated explicitly: SDPA's enable_gqa path is ~20x
    slower on CPU for these small shapes.
    """
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)  # gate
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)  # down
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)  # up

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


# --------------------------------------------------------------------------- backbone


def rope_tables(head_dim: int, theta: float, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin [T, head_dim/2] in fp32 for absolute positions."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=positions.device) / head_dim))
    angles = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_interleaved_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (2i, 2i+1) of each head. x: [B, T, H, hd]; cos/sin: [T, hd/2]."""
    pairs = x.float().unflatten(-1, (-1, 2))
    even, odd = pairs[..., 0], pairs[..., 1]
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
    return rotated.flatten(-2).to(x.dtype)


class KVCache:
    """Preallocated keys/values for every backbone layer of one sequence."""

    def __init__(self, n_layers: int, max_len: int, n_kv_heads: int, head_dim: int, *, device, dtype):
        shape = (n_layers, 1, n_kv_heads, max_len, head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.length = 0
        self.max_len = max_len

    def write(self, layer: int, start: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        end = start + k.shape[2]
        self.k[layer, :, :, start:end] = k
        self.v[layer, :, :, start:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]


class BackboneAttention(nn.Module):
    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, cache: KVCache | None, layer: int, start: int) -> torch.Tensor:
        b, t, _ = x.shape
        q = apply_interleaved_rope(self.wq(x).view(b, t, self.n_heads, self.head_dim), cos, sin)
        k = apply_interleaved_rope(self.wk(x).view(b, t, self.n_kv_heads, self.head_dim), cos, sin)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.head_dim)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if cache is not None:
            k, v = cache.write(layer, start, k, v)
        kv_len = k.shape[2]
        if t == 1:
            mask = None  # one new token sees every cached position
        else:
            # Query i (absolute start+i) sees keys 0..start+i.
            q_pos = torch.arange(start, start + t, device=x.device)[:, None]
            mask = torch.arange(kv_len, device=x.device)[None, :] <= q_pos
        out = attend(q, k, v, mask)
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class BackboneLayer(nn.Module):
    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = BackboneAttention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = SwiGLU(cfg.dim, cfg.hidden_dim)

    def forward(self, x, cos, sin, cache, layer, start):
        x = x + self.attention(self.attention_norm(x), cos, sin, cache, layer, start)
        return x + self.feed_forward(self.ffn_norm(x))


class Backbone(nn.Module):
    """The Mistral decoder; returns final-normed hidden states."""

    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(BackboneLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)

    def new_cache(self, max_len: int) -> KVCache:
        p = self.norm.weight
        return KVCache(self.cfg.n_layers, max_len, self.cfg.n_kv_heads, self.cfg.head_dim, device=p.device, dtype=p.dtype)

    def forward(self, embeds: torch.Tensor, cache: KVCache | None = None, layer_outputs: list | None = None):
        """embeds [1, T, D] at positions cache.length.. ; advances the cache."""
        start = cache.length if cache is not None else 0
        t = embeds.shape[1]
        positions = torch.arange(start, start + t, device=embeds.device)
        cos, sin = rope_tables(self.cfg.head_dim, self.cfg.rope_theta, positions)
        x = embeds
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, cache, i, start)
            if layer_outputs is not None:
                layer_outputs.append(x)
        if cache is not None:
            cache.length = start + t
        return self.norm(x)


# --------------------------------------------------------------------------- embeddings


class AudioEmbeddings(nn.Module):
    """Text-token table and the shared table of the 37 audio codebooks."""

    def __init__(self, cfg: VoxtralConfig):
        super().__init__()
        a = cfg.acoustic
        self.tok_embeddings = nn.Embedding(cfg.backbone.vocab_size, cfg.backbone.dim)
        self.audio_codebook_embeddings = nn.Module()
        self.audio_codebook_embeddings.embeddings = nn.Embedding(a.audio_embedding_rows, cfg.backbone.dim)
        self.offsets = tuple(a.codebook_offsets)  # plain ints: survive meta-device construction

    def embed_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [..., 37] (already +2 shifted) -> summed embedding [..., D]."""
        table = self.audio_codebook_embeddings.embeddings
        offsets = torch.tensor(self.offsets, dtype=torch.long, device=codes.device)
        return table(codes + offsets).sum(dim=-2)


# --------------------------------------------------------------------------- acoustic transformer


class BidirectionalAttention(nn.Module):
    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        out = attend(q, k, v)  # no mask, no RoPE
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class AcousticLayer(nn.Module):
    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = BidirectionalAttention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = SwiGLU(cfg.dim, cfg.hidden_dim)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.feed_forward(self.ffn_norm(x))


def flow_time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """TE(t) = [cos(t*f), sin(t*f)], f_j = exp(-ln(1e4) j / (dim/2)); fp32, t in [0, 1]."""
    half = dim // 2
    inv_freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * inv_freq[None, :]
    return torch.cat((angles.cos(), angles.sin()), dim=-1)


class AcousticTransformer(nn.Module):
    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.cfg = cfg
        self.semantic_codebook_output = nn.Linear(cfg.dim, cfg.semantic_head_rows, bias=False)
        self.input_projection = nn.Linear(cfg.n_acoustic_codebook, cfg.dim, bias=False)
        self.time_projection = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.llm_projection = nn.Linear(cfg.input_dim, cfg.dim, bias=False)
        self.layers = nn.ModuleList(AcousticLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.acoustic_codebook_output = nn.Linear(cfg.dim, cfg.n_acoustic_codebook, bias=False)

    # -- semantic
    def semantic_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.semantic_codebook_output(hidden).float()

    def semantic_code(self, logits: torch.Tensor) -> torch.Tensor:
        """Greedy code with EMPTY (0) and the padding rows masked out; END (1) allowed."""
        masked = logits.clone()
        masked[..., 0] = float("-inf")
        masked[..., N_SPECIAL_AUDIO_CODES + self.cfg.semantic_codebook_size :] = float("-inf")
        return masked.argmax(dim=-1)

    # -- flow matching
    def timesteps(self, n_steps: int, device) -> torch.Tensor:
        return torch.linspace(0.0, 1.0, n_steps + 1, dtype=torch.float32, device=device)

    def time_projections(self, timesteps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = self.time_projection.weight.dtype
        table = flow_time_embedding(timesteps, self.cfg.dim).to(dtype)
        return table, self.time_projection(table)

    def predict_velocity(self, x: torch.Tensor, t_proj: torch.Tensor, llm_proj: torch.Tensor) -> torch.Tensor:
        """x [B, C], t_proj [D] or [B, D], llm_proj [B, D] -> velocity [B, C]."""
        tokens = torch.stack((self.input_projection(x), t_proj.expand_as(llm_proj), llm_proj), dim=1)
        for layer in self.layers:
            tokens = layer(tokens)
        return self.acoustic_codebook_output(self.norm(tokens[:, 0]))

    def sample_acoustic(
        self,
        hidden: torch.Tensor,
        noise: torch.Tensor,
        cfg_alpha: float,
        n_steps: int,
        trace: dict | None = None,
    ) -> torch.Tensor:
        """Euler integration with CFG from x0 = noise; returns x after the last step (unclamped).

        hidden [B, D], noise [B, C]. The unconditional branch gives the LLM token
        an all-zero hidden, batched with the conditional one.
        """
        b = hidden.shape[0]
        ts = self.timesteps(n_steps, hidden.device)
        _, t_proj = self.time_projections(ts[:-1])
        llm_cond = self.llm_projection(hidden)
        llm_both = torch.cat((llm_cond, torch.zeros_like(llm_cond)), dim=0)
        x = noise.to(hidden.dtype)
        for i in range(n_steps):
            v = self.predict_velocity(torch.cat((x, x), dim=0), t_proj[i], llm_both)
            v_cond, v_uncond = v[:b], v[b:]
            if trace is not None:
                trace.setdefault("x", []).append(x)
                trace.setdefault("v_cond", []).append(v_cond)
                trace.setdefault("v_uncond", []).append(v_uncond)
            v = cfg_alpha * v_cond + (1.0 - cfg_alpha) * v_uncond
            x = x + v * (ts[i + 1] - ts[i]).to(x.dtype)
        return x

    def quantize(self, x: torch.Tensor, semantic: torch.Tensor) -> torch.Tensor:
        """FSQ: clamp, scale to 0..levels-1, round half to even, END frames -> 0; then +2."""
        levels = self.cfg.acoustic_codebook_size
        q = torch.round((x.float().clamp(-1.0, 1.0) + 1.0) / 2.0 * (levels - 1)).long()
        q = torch.where((semantic == END_AUDIO)[:, None], torch.zeros_like(q), q)
        return q + N_SPECIAL_AUDIO_CODES


# --------------------------------------------------------------------------- codec decoder


def _pad_left(x: torch.Tensor, pad: int, mode: str) -> torch.Tensor:
    if pad == 0:
        return x
    if mode == "reflect" and x.shape[-1] <= pad:
        # Reflect needs more samples than the pad: zero-extend on the right first.
        extra = pad - x.shape[-1] + 1
        return F.pad(F.pad(x, (0, extra)), (pad, 0), mode="reflect")[..., :-extra]
    return F.pad(x, (pad, 0), mode=mode)


class WeightNormConv(nn.Module):
    """Holds the weight-norm pair under `conv.parametrizations.weight.original{0,1}`; folded once."""

    def __init__(self, out_ch: int, in_ch: int, kernel: int, transposed: bool):
        super().__init__()
        self.conv = nn.Module()
        self.conv.parametrizations = nn.Module()
        self.conv.parametrizations.weight = nn.Module()
        lead = in_ch if transposed else out_ch  # weight layout [in, out, k] for transposed convs
        rest = out_ch if transposed else in_ch
        self.conv.parametrizations.weight.original0 = nn.Parameter(torch.ones(lead, 1, 1))
        self.conv.parametrizations.weight.original1 = nn.Parameter(torch.ones(lead, rest, kernel))
        self.register_buffer("weight", torch.empty(0), persistent=False)

    def fold(self) -> None:
        """weight = g * v / ||v||, norm over all dims but 0 (per input channel for ConvTranspose)."""
        g = self.conv.parametrizations.weight.original0.float()
        v = self.conv.parametrizations.weight.original1.float()
        w = g * v / v.norm(dim=(1, 2), keepdim=True)
        self.weight = w.to(v.device, self.conv.parametrizations.weight.original1.dtype)


class CausalConv(WeightNormConv):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, pad_mode: str):
        super().__init__(out_ch, in_ch, kernel, transposed=False)
        self.kernel, self.stride, self.pad_mode = kernel, stride, pad_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.kernel - self.stride  # (k-1)*dilation + 1 - stride with dilation 1
        length = x.shape[-1]
        n_out = math.ceil((length + pad - self.kernel) / self.stride) + 1
        right = (n_out - 1) * self.stride + self.kernel - (length + pad)
        x = _pad_left(x, pad, self.pad_mode)
        if right > 0:
            x = F.pad(x, (0, right))
        return F.conv1d(x, self.weight.to(x.dtype), stride=self.stride)


class CausalConvTranspose(WeightNormConv):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int):
        super().__init__(out_ch, in_ch, kernel, transposed=True)
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv_transpose1d(x, self.weight.to(x.dtype), stride=self.stride)
        trim = self.kernel - self.stride  # all from the right, so the output stays causal
        return y[..., : y.shape[-1] - trim] if trim > 0 else y


class CodecAttention(nn.Module):
    QUERY_BLOCK = 512

    def __init__(self, cfg: CodecConfig, window: int):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim, self.window = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, window
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)
        # qk-norm is over the full projected width, before the head split.
        self.q_norm = RMSNorm(cfg.n_heads * cfg.head_dim, cfg.qk_norm_eps)
        self.k_norm = RMSNorm(cfg.n_kv_heads * cfg.head_dim, cfg.qk_norm_eps)
        # ALiBi slopes 2^(-8h/H): 1, 1/2, ..., 1/128 for 8 heads (first head has slope 1).
        self.slopes = tuple(2.0 ** (-8.0 * h / cfg.n_heads) for h in range(cfg.n_heads))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_norm(self.wq(x)).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_norm(self.wk(x)).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        # Banded attention in query blocks: memory stays O(T * window), not O(T^2).
        slopes = torch.tensor(self.slopes, dtype=torch.float32, device=x.device)
        outs = []
        for qs in range(0, t, self.QUERY_BLOCK):
            qe = min(t, qs + self.QUERY_BLOCK)
            ks = max(0, qs - self.window)
            qpos = torch.arange(qs, qe, device=x.device)
            kpos = torch.arange(ks, qe, device=x.device)
            dist = (qpos[:, None] - kpos[None, :]).float()  # i - j
            allowed = (dist >= 0) & (dist <= self.window)  # w + 1 keys: i - w .. i
            bias = (-slopes[:, None, None] * dist[None]).masked_fill(~allowed[None], float("-inf")).to(q.dtype)
            outs.append(attend(q[:, :, qs:qe], k[:, :, ks:qe], v[:, :, ks:qe], bias[None]))
        out = torch.cat(outs, dim=2)
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class CodecLayer(nn.Module):
    def __init__(self, cfg: CodecConfig, window: int):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attention = CodecAttention(cfg, window)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.feed_forward = SwiGLU(cfg.dim, cfg.hidden_dim)
        self.attention_scale = nn.Parameter(torch.ones(cfg.dim))
        self.ffn_scale = nn.Parameter(torch.ones(cfg.dim))

    def forward(self, x):
        x = x + self.attention_scale * self.attention(self.attention_norm(x))
        return x + self.ffn_scale * self.feed_forward(self.ffn_norm(x))


class CodecStage(nn.Module):
    def __init__(self, cfg: CodecConfig, n_layers: int, window: int):
        super().__init__()
        self.layers = nn.ModuleList(CodecLayer(cfg, window) for _ in range(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, T] in and out
        h = x.transpose(1, 2)
        for layer in self.layers:
            h = layer(h)
        return h.transpose(1, 2)


class SemanticCodebook(nn.Module):
    def __init__(self, cfg: CodecConfig):
        super().__init__()
        self.cluster_usage = nn.Parameter(torch.ones(cfg.semantic_codebook_size))
        self.embedding_sum = nn.Parameter(torch.zeros(cfg.semantic_codebook_size, cfg.semantic_dim))

    def table(self) -> torch.Tensor:
        return self.embedding_sum / self.cluster_usage.clamp(min=1e-5)[:, None]


class CodecDecoder(nn.Module):
    def __init__(self, cfg: CodecConfig):
        super().__init__()
        self.cfg = cfg
        self.quantizer = nn.Module()
        self.quantizer.semantic_codebook = SemanticCodebook(cfg)
        blocks: list[nn.Module] = []
        windows = cfg.stage_windows()
        channels = cfg.latent_dim
        for i, (kernel, stride, n_layers) in enumerate(zip(cfg.conv_kernels, cfg.conv_strides, cfg.transformer_lengths)):
            if i == 0:
                blocks.append(CausalConv(channels, cfg.dim, kernel, stride, pad_mode="replicate"))
            else:
                blocks.append(CausalConvTranspose(cfg.dim, cfg.dim, kernel, stride))
            blocks.append(CodecStage(cfg, n_layers, windows[i]))
            channels = cfg.dim
        self.decoder_blocks = nn.ModuleList(blocks)
        self.output_proj = CausalConv(cfg.dim, cfg.patch_size, cfg.patch_kernel, 1, pad_mode="reflect")
        self.register_buffer("vq_table", torch.empty(0), persistent=False)

    def prepare(self) -> None:
        """Fold weight norms and build the VQ table; call after loading weights."""
        for module in self.modules():
            if isinstance(module, WeightNormConv):
                module.fold()
        self.vq_table = self.quantizer.semantic_codebook.table()

    def latent(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, T, 37] (+2 shifted, no END) -> latent [B, semantic_dim + acoustic_dim, T]."""
        c = codes - N_SPECIAL_AUDIO_CODES
        semantic = self.vq_table[c[..., 0]]  # [B, T, semantic_dim]
        acoustic = c[..., 1:].to(semantic.dtype) * 2.0 / (self.cfg.acoustic_codebook_size - 1) - 1.0
        return torch.cat((semantic, acoustic), dim=-1).transpose(1, 2)

    def forward(self, codes: torch.Tensor, block_outputs: dict | None = None) -> torch.Tensor:
        """codes [B, T, 37] -> waveform [B, T * samples_per_frame]."""
        x = self.latent(codes).to(self.vq_table.dtype)
        for i, block in enumerate(self.decoder_blocks):
            x = block(x)
            if block_outputs is not None:
                block_outputs[f"decoder_blocks.{i}"] = x
        x = self.output_proj(x)  # [B, patch, steps]
        if block_outputs is not None:
            block_outputs["output_proj"] = x
        # Un-patch time-major: sample = step * patch + channel.
        return x.transpose(1, 2).reshape(x.shape[0], -1)


# --------------------------------------------------------------------------- whole model


class VoxtralTTSModel(nn.Module):
    """Parameter names (state_dict keys) equal the consolidated.safetensors names."""

    def __init__(self, cfg: VoxtralConfig):
        super().__init__()
        self.cfg = cfg
        backbone = Backbone(cfg.backbone)
        # Backbone tensors sit at the top level of the checkpoint (`layers.*`, `norm.weight`).
        self.layers = backbone.layers
        self.norm = backbone.norm
        self._backbone = [backbone]  # not a submodule: avoids duplicate state-dict keys
        self.mm_audio_embeddings = AudioEmbeddings(cfg)
        self.acoustic_transformer = AcousticTransformer(cfg.acoustic)
        self.audio_tokenizer = CodecDecoder(cfg.codec)

    @property
    def backbone(self) -> Backbone:
        return self._backbone[0]

    def prepare(self) -> None:
        self.audio_tokenizer.prepare()
