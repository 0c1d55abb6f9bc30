"""NitroGen inference: frames in, decoded 18-step action chunks out. No gradio here.

Preprocessing is upstream's, step for step: `scripts/play.py` squashes the
whole frame to the tower's input size with OpenCV's `INTER_AREA` (no crop,
aspect not kept, the same call for shrinking and enlarging), then the SigLIP
image processor rescales by 1/255 (in float64, stored as float32) and
normalises with mean = std = 0.5, i.e. to [-1, 1]. Frames run in batches;
every frame gets its own noise, drawn in order from one per-request
`torch.Generator`, so results do not depend on the batch size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from shared.errors import UserInputError
from shared.models.offload import apply_plan_to_module
from shared.models.profiles import PlacementPlan
from shared.tasks.cancel import Cancelled, CancelToken, Progress, no_progress
from shared.tasks.load_progress import Parts, current_progress, folder_bytes

from .actions import chunk_to_dict
from .checkpoint import CHECKPOINT_FILE, LoadedCheckpoint, load_checkpoint


@dataclass
class AgentResult:
    raw: torch.Tensor  # [n_frames, horizon, 25] fp32, undecoded
    chunks: list[dict]  # decoded, one per frame
    seconds: dict = field(default_factory=dict)
    cancelled: bool = False


def frame_to_rgb(frame: Image.Image | np.ndarray) -> np.ndarray:
    """A frame as an H x W x 3 uint8 RGB array.

    PIL images of any mode go through `convert("RGB")` (alpha dropped, grey
    replicated). Arrays may be H x W (grey), H x W x 1, H x W x 3 (RGB) or
    H x W x 4 (RGBA: alpha dropped, as upstream's `cvtColor(RGB2BGR)` does).
    """
    if isinstance(frame, Image.Image):
        return np.asarray(frame.convert("RGB"))
    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        raise ValueError(f"frame arrays must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return arr[:, :, :3]
    raise ValueError(f"frame arrays must be HxW, HxWx3 or HxWx4, got shape {arr.shape}")


def resize_frame(frame: Image.Image | np.ndarray, size: int) -> np.ndarray:
    """One frame -> size x size x 3 uint8: upstream's resize, and the only one a frame gets.

    A frame already at size x size passes unchanged (cv2 at scale 1 copies), so callers
    may resize a full-resolution frame early (e.g. while decoding a clip) and hand it on.
    """
    rgb = np.ascontiguousarray(frame_to_rgb(frame))
    # play.py: the whole frame to size x size, cv2.INTER_AREA whatever the scale
    # (resizing is per channel, so its RGB->BGR->RGB round trip changes nothing).
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


def to_pixels(frame: Image.Image | np.ndarray, size: int) -> torch.Tensor:
    """One frame -> [3, size, size] float32 in [-1, 1], exactly as upstream feeds the model."""
    resized = resize_frame(frame, size)
    # SigLIP processor: rescale in float64, cast to float32, then (x - 0.5) / 0.5 in float32.
    scaled = (resized.astype(np.float64) * (1.0 / 255.0)).astype(np.float32)
    half = np.float32(0.5)
    return torch.from_numpy((scaled - half) / half).permute(2, 0, 1).contiguous()


class AgentEngine:
    def __init__(self, ckpt: LoadedCheckpoint, plan: PlacementPlan | None = None):
        self.ckpt = ckpt
        self.model = ckpt.model
        self.plan = plan
        if plan is not None:
            self.model = apply_plan_to_module(self.model, plan)
        self.dtype = next(self.model.parameters()).dtype
        caps = plan.caps if plan is not None else {}
        self.batch_size = int(caps.get("batch_size", 4))

    @property
    def device(self) -> torch.device:
        # Read from the weights at call time: on ZeroGPU they reach `cuda`
        # only inside spaces' GPU worker.
        return next(self.model.parameters()).device

    @property
    def config(self):
        return self.ckpt.config

    @property
    def image_size(self) -> int:
        return self.model.image_size

    def noise(self, n: int, seed: int) -> torch.Tensor:
        """Per-frame N(0, 1) noise [n, horizon, action_dim], from one seeded CPU generator."""
        gen = torch.Generator().manual_seed(int(seed))
        shape = (1, self.config.action_horizon, self.config.action_dim)
        return torch.cat([torch.randn(shape, generator=gen) for _ in range(n)]) if n else torch.zeros(0, *shape[1:])

    def predict_raw(self, pixels: torch.Tensor, noise: torch.Tensor, *, hoist: bool = True,
                    on_step=None) -> torch.Tensor:
        """[B, 3, S, S] pixels + [B, H, 25] noise -> raw actions [B, H, 25] (fp32, CPU)."""
        out = self.model.sample(pixels.to(self.device), noise.to(self.device), hoist=hoist, on_step=on_step)
        return out.float().cpu()

    def run(self, frames: Sequence[Image.Image | np.ndarray], seed: int, *, noise: torch.Tensor | None = None,
            progress: Progress = no_progress, cancel: CancelToken | None = None,
            batch_size: int | None = None) -> AgentResult:
        """Action chunks for `frames`. On cancel returns the chunks finished so far."""
        if len(frames) == 0:
            raise UserInputError("No frames to run the agent on.")
        n = len(frames)
        noise = self.noise(n, seed) if noise is None else noise
        if noise.shape[0] != n:
            raise ValueError(f"noise has {noise.shape[0]} rows for {n} frames")
        batch = max(1, int(batch_size or self.batch_size))
        steps = self.config.num_inference_timesteps
        total_steps = steps * ((n + batch - 1) // batch)
        done = {"steps": 0}

        def on_step(i: int, _n: int) -> None:
            done["steps"] += 1
            progress(done["steps"] / total_steps, f"Denoising: frame batch step {i + 1}/{steps}")
            if cancel is not None:
                cancel.raise_if_cancelled()

        raws: list[torch.Tensor] = []
        t0 = time.perf_counter()
        cancelled = False
        try:
            for start in range(0, n, batch):
                pixels = torch.stack([to_pixels(f, self.image_size) for f in frames[start:start + batch]])
                raws.append(self.predict_raw(pixels, noise[start:start + batch], on_step=on_step))
        except Cancelled:
            cancelled = True
        raw = torch.cat(raws) if raws else torch.zeros(0, self.config.action_horizon, self.config.action_dim)
        seconds = {"inference": round(time.perf_counter() - t0, 4)}
        return AgentResult(raw=raw, chunks=[chunk_to_dict(r) for r in raw], seconds=seconds, cancelled=cancelled)

    def describe(self) -> dict:
        cfg = self.config
        return {
            "checkpoint": self.ckpt.path.name,  # the file name: info never carries a server path
            "step": self.ckpt.step,
            "epoch": self.ckpt.epoch,
            "vision_encoder_name": cfg.vision_encoder_name,
            "image_size": self.image_size,
            "max_sequence_length": cfg.max_sequence_length,
            "num_inference_timesteps": cfg.num_inference_timesteps,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
        }


def load(model_dir: Path, plan: PlacementPlan | None = None) -> AgentEngine:
    """Loader for `AppContext.load`: `<model_dir>/ng.pt` -> engine placed per `plan`, reporting its parts."""
    path = Path(model_dir) / CHECKPOINT_FILE
    size = folder_bytes(path)
    # Weighted by bytes: reading ng.pt, then (on a GPU plan) copying the same bytes to the GPU.
    parts = Parts(current_progress(), {"weights": size, "placing it": size if plan is not None and plan.on_gpu else 0},
                  "Loading NitroGen")
    with parts.part("weights") as within:
        ckpt = load_checkpoint(path, report=within)
    with parts.part("placing it"):
        return AgentEngine(ckpt, plan)


__all__ = ["AgentEngine", "AgentResult", "frame_to_rgb", "load", "to_pixels"]
