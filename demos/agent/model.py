"""NitroGen (vision -> 18-step gamepad action chunk), our own implementation.

Module and parameter names reproduce upstream's state-dict keys exactly, so
`ng.pt["model"]` loads strictly. The maths follows upstream's `get_action`
(see ../shared/notes/nitrogen_spec.md); two things differ in *how* it is
computed, not in what: the VL mixer runs once per call instead of once per
Euler step (its input never changes), and the keys/values of the image tokens
in every cross-attention block are projected once per call. The original
per-step structure stays available (`hoist=False`) for tests and benchmarks.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import NitroGenConfig, StackConfig


# ---------------------------------------------------------------- small parts
class CategoryLinear(nn.Module):
    """Per-embodiment linear, weights stored [category, in, out] (upstream layout)."""

    def __init__(self, categories: int, d_in: int, d_out: int):
        super().__init__()
        self.W = nn.Parameter(torch.empty(categories, d_in, d_out))
        self.b = nn.Parameter(torch.empty(categories, d_out))

    def forward(self, x: torch.Tensor, category: int = 0) -> torch.Tensor:
        # ng.pt has a single embodiment; upstream always passes id 0.
        return torch.matmul(x, self.W[category]) + self.b[category]


def action_time_encoding(t_d: float, width: int, batch: int, steps: int, device, dtype) -> torch.Tensor:
    """Action-encoder sinusoid of the bucketed time: [sin | cos], divisor = width/2."""
    half = width // 2
    freq = torch.exp(
        -torch.arange(half, dtype=torch.float32, device=device)
        * (torch.log(torch.tensor(10000.0)) / half).to(device)
    )
    t = torch.full((batch, steps, 1), float(t_d), dtype=torch.float32, device=device)
    angles = t * freq
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1).to(dtype)


def dit_time_projection(t_d: int, device) -> torch.Tensor:
    """DiT timestep sinusoid: 256 channels, [cos | sin], divisor half-1 (shift 1)."""
    half = 128
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=device) / (half - 1)
    angles = torch.tensor([t_d], device=device).float()[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class ActionEncoder(nn.Module):
    def __init__(self, action_dim: int, hidden: int, categories: int):
        super().__init__()
        self.hidden = hidden
        self.W1 = CategoryLinear(categories, action_dim, hidden)
        self.W2 = CategoryLinear(categories, 2 * hidden, hidden)
        self.W3 = CategoryLinear(categories, hidden, hidden)

    def forward(self, actions: torch.Tensor, t_d: float) -> torch.Tensor:
        b, steps, _ = actions.shape
        a = self.W1(actions)
        tau = action_time_encoding(t_d, self.hidden, b, steps, actions.device, a.dtype)
        h = self.W2(torch.cat([a, tau], dim=-1))
        return self.W3(h * torch.sigmoid(h))


class ActionDecoder(nn.Module):
    def __init__(self, hidden: int, action_dim: int, categories: int):
        super().__init__()
        self.layer1 = CategoryLinear(categories, hidden, hidden)
        self.layer2 = CategoryLinear(categories, hidden, action_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(F.relu(self.layer1(x)))


class Attention(nn.Module):
    """Multi-head attention with diffusers' parameter names (to_q/k/v, to_out.0)."""

    def __init__(self, dim: int, heads: int, head_dim: int, context_dim: int | None = None):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(context_dim or dim, inner)
        self.to_v = nn.Linear(context_dim or dim, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, -1).transpose(1, 2)

    def key_values(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._split(self.to_k(context)), self._split(self.to_v(context))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        q = self._split(self.to_q(x))
        k, v = kv if kv is not None else self.key_values(x if context is None else context)
        if k.shape[0] != q.shape[0]:  # cached K/V of one frame shared by a batch of noises
            k, v = k.expand(q.shape[0], -1, -1, -1), v.expand(q.shape[0], -1, -1, -1)
        out = F.scaled_dot_product_attention(q, k, v)
        b, _, n, _ = out.shape
        return self.to_out[0](out.transpose(1, 2).reshape(b, n, -1))


class _GeluProjection(nn.Module):
    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    """GELU(tanh) MLP, 4x wide, diffusers' names (net.0.proj, net.2)."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.ModuleList([_GeluProjection(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim), nn.Dropout(0.0)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class SinusoidalPositions(nn.Module):
    """Fixed interleaved sin/cos table added to the normed tokens (a persistent buffer upstream)."""

    def __init__(self, dim: int, max_len: int):
        super().__init__()
        pos = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        pe = torch.zeros(1, max_len, dim)
        pe[0, :, 0::2] = torch.sin(pos * div)
        pe[0, :, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[:, : x.shape[1]]


def _positions(cfg: StackConfig, dim: int) -> SinusoidalPositions | None:
    return SinusoidalPositions(dim, cfg.max_positions) if cfg.positional_embeddings == "sinusoidal" else None


# ------------------------------------------------------------------- VL mixer
class MixerBlock(nn.Module):
    """Pre-LN self-attention block, affine LayerNorms (eps 1e-5)."""

    def __init__(self, cfg: StackConfig):
        super().__init__()
        dim = cfg.width
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.pos_embed = _positions(cfg, dim)
        self.attn1 = Attention(dim, cfg.num_heads, cfg.head_dim)
        self.norm3 = nn.LayerNorm(dim, eps=1e-5)
        self.ff = FeedForward(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        if self.pos_embed is not None:
            h = self.pos_embed(h)
        x = x + self.attn1(h)
        return x + self.ff(self.norm3(x))


class VLMixer(nn.Module):
    def __init__(self, cfg: StackConfig):
        super().__init__()
        self.transformer_blocks = nn.ModuleList([MixerBlock(cfg) for _ in range(cfg.num_layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.transformer_blocks:
            x = block(x)
        return x


# ------------------------------------------------------------------------ DiT
class AdaNorm(nn.Module):
    """LN (no affine, eps 1e-5) modulated by the time embedding; chunk order scale, shift."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, 2 * dim)
        self.norm = nn.LayerNorm(dim, eps=1e-5, elementwise_affine=False)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.linear(F.silu(temb)).chunk(2, dim=1)
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    def __init__(self, cfg: StackConfig, cross: bool):
        super().__init__()
        dim = cfg.width
        self.cross = cross
        self.norm1 = AdaNorm(dim)
        self.pos_embed = _positions(cfg, dim)
        self.attn1 = Attention(dim, cfg.num_heads, cfg.head_dim, cfg.cross_attention_dim if cross else None)
        self.norm3 = nn.LayerNorm(dim, eps=cfg.norm_eps, elementwise_affine=False)
        self.ff = FeedForward(dim)

    def forward(self, x: torch.Tensor, temb: torch.Tensor, context: torch.Tensor | None = None,
                kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        h = self.norm1(x, temb)
        if self.pos_embed is not None:
            h = self.pos_embed(h)
        x = x + self.attn1(h, context=context if self.cross else None, kv=kv if self.cross else None)
        return x + self.ff(self.norm3(x))


class _TimestepEmbedder(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(256, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class TimestepEncoder(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.timestep_embedder = _TimestepEmbedder(dim)

    def forward(self, t_d: int, dtype: torch.dtype, device) -> torch.Tensor:
        return self.timestep_embedder(dit_time_projection(t_d, device).to(dtype))


class DiT(nn.Module):
    def __init__(self, cfg: StackConfig):
        super().__init__()
        dim = cfg.width
        # With interleaving, odd blocks self-attend over the action tokens.
        self.cross_flags = [not (cfg.interleave_self_attention and i % 2 == 1) for i in range(cfg.num_layers)]
        self.timestep_encoder = TimestepEncoder(dim)
        self.transformer_blocks = nn.ModuleList([DiTBlock(cfg, c) for c in self.cross_flags])
        self.norm_out = nn.LayerNorm(dim, eps=1e-6, elementwise_affine=False)
        self.proj_out_1 = nn.Linear(dim, 2 * dim)
        self.proj_out_2 = nn.Linear(dim, cfg.output_dim)

    def context_kv(self, context: torch.Tensor) -> list:
        """Keys/values of the VL tokens for every cross-attention block (once per call)."""
        return [blk.attn1.key_values(context) if blk.cross else None for blk in self.transformer_blocks]

    def forward(self, x: torch.Tensor, t_d: int, context: torch.Tensor | None = None,
                kv: list | None = None) -> torch.Tensor:
        temb = self.timestep_encoder(t_d, x.dtype, x.device)
        for i, blk in enumerate(self.transformer_blocks):
            x = blk(x, temb, context=context, kv=None if kv is None else kv[i])
        shift, scale = self.proj_out_1(F.silu(temb)).chunk(2, dim=1)  # note: shift first here
        return self.proj_out_2(self.norm_out(x) * (1 + scale[:, None]) + shift[:, None])


# ------------------------------------------------------------------ NitroGen
class NitroGen(nn.Module):
    def __init__(self, cfg: NitroGenConfig, siglip: dict):
        super().__init__()
        self.cfg = cfg
        # transformers at first model build, not at app start-up (it costs seconds to import).
        from transformers import SiglipVisionConfig, SiglipVisionModel

        tower_cfg = SiglipVisionConfig(**siglip)
        tower_cfg._attn_implementation = "sdpa"
        self.vision_encoder = SiglipVisionModel(tower_cfg)
        self.model = DiT(cfg.dit)
        self.vl_self_attention_model = VLMixer(cfg.mixer)
        self.action_encoder = ActionEncoder(cfg.action_dim, cfg.hidden_size, cfg.max_num_embodiments)
        self.action_decoder = ActionDecoder(cfg.hidden_size, cfg.action_dim, cfg.max_num_embodiments)
        if cfg.add_pos_embed:
            self.position_embedding = nn.Embedding(cfg.max_seq_len, cfg.hidden_size)
        self.image_size = tower_cfg.image_size

    # -- stages ------------------------------------------------------------
    def encode_frames(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [-1, 1] -> SigLIP last_hidden_state [B, N, D] (MAP head skipped: unused)."""
        tower = self.vision_encoder
        h = tower.encoder(inputs_embeds=tower.embeddings(pixels)).last_hidden_state
        return tower.post_layernorm(h)

    def vl_stream(self, features: torch.Tensor) -> torch.Tensor:
        """Image tokens left-padded with exact zero vectors to max_sequence_length (unmasked, as upstream)."""
        b, n, d = features.shape
        pad = self.cfg.max_sequence_length - n
        return torch.cat([features.new_zeros(b, pad, d), features], dim=1)

    def action_stream(self, actions: torch.Tensor, t_d: float) -> torch.Tensor:
        sa = self.action_encoder(actions, t_d)
        if self.cfg.add_pos_embed:
            sa = sa + self.position_embedding.weight[: actions.shape[1]].to(sa.dtype)
        return sa

    def timesteps(self) -> list[int]:
        n = self.cfg.num_inference_timesteps
        return [int(i / float(n) * self.cfg.num_timestep_buckets) for i in range(n)]

    # -- sampler -----------------------------------------------------------
    @torch.inference_mode()
    def sample(self, pixels: torch.Tensor, noise: torch.Tensor, *, hoist: bool = True,
               on_step=None) -> torch.Tensor:
        """Euler flow sampling from `noise` [B, horizon, action_dim]; returns raw actions (fp32).

        hoist=True runs the mixer and the image K/V projections once per call;
        hoist=False reproduces upstream's structure (both recomputed every step).
        `on_step(i, n)` is called after each step (progress / cancel checks).
        """
        dtype = next(self.parameters()).dtype
        vl = self.vl_stream(self.encode_frames(pixels.to(dtype)))
        if hoist:
            mixed = self.vl_self_attention_model(vl)
            kv = self.model.context_kv(mixed)
        x = noise.to(torch.float32)
        steps = self.timesteps()
        dt = 1.0 / len(steps)
        for i, t_d in enumerate(steps):
            sa = self.action_stream(x.to(dtype), float(t_d))
            if hoist:
                out = self.model(sa, t_d, kv=kv)
            else:
                out = self.model(sa, t_d, context=self.vl_self_attention_model(vl))
            velocity = self.action_decoder(out)[:, -x.shape[1]:]
            x = x + dt * velocity.to(torch.float32)
            if on_step is not None:
                on_step(i, len(steps))
        return x
