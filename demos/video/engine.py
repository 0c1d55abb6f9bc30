"""Helios engine: load a variant, run one request chunk by chunk. Never imports gradio.

The pipeline call is diffusers' own; around it we add
- `callback_on_step_end` for progress (chunk and step) and cancellation
  (raising from the callback ends the run within one denoising step), and
- `decoded_chunks_to` so every decoded chunk leaves the GPU at once and is
  written to the mp4 (see streaming.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from shared.models.disk_offload import DiskOffload, load_disk_offloaded, load_fp8_in_ram, offload_folder
from shared.models.offload import (GROUP_OFFLOAD_TYPES, apply_plan_to_pipeline, execution_device, load_across_gpus,
                            pipeline_dtypes, runtime_device, torch_dtype)
from shared.models.profiles import PlacementPlan
from shared.web.settings import default_cache_dir
from shared.tasks.cancel import CancelToken, Cancelled, Progress, no_progress
from shared.tasks.load_progress import Parts, folder_bytes

from .limits import CHUNK_FRAMES, FPS, Resolution, chunks_for, output_frames
from .prompts import MAX_SEQUENCE_LENGTH, PromptEmbeddingCache
from .run_progress import RunProgress
from .streaming import ChunkWriter, decoded_chunks_to
from .variants import GenerationSettings, Variant


def _pyramid_class():
    from diffusers import HeliosPyramidPipeline

    class StablePyramidPipeline(HeliosPyramidPipeline):
        """diffusers' HeliosPyramidPipeline, with a CPU-safe block-noise factorisation.

        With gamma = 1/3 (every Helios scheduler config) the 4x4 covariance of
        the stage-transition noise is singular up to rounding; in fp32 its
        smallest eigenvalue rounds to -3e-8 and CPU LAPACK refuses the
        Cholesky factorisation. Only then do we factorise in float64 (the
        exact matrix is positive semi-definite plus the pipeline's own 1e-8
        jitter), drawing the same random numbers in the same order.
        """

        def sample_block_noise(self, batch_size, channel, num_frames, height, width, patch_size=(1, 2, 2),
                               device=None, generator=None):
            try:
                return super().sample_block_noise(batch_size, channel, num_frames, height, width, patch_size,
                                                  device, generator)
            except torch.linalg.LinAlgError:
                pass
            if isinstance(generator, list):
                generator = generator[0]
            if generator is None:
                generator = torch.Generator(device=device)
            gamma = float(self.scheduler.config.gamma)
            _, ph, pw = patch_size
            size = ph * pw
            eye = torch.eye(size, dtype=torch.float64)
            cov = eye * (1 + gamma) - torch.ones(size, size, dtype=torch.float64) * gamma + eye * 1e-8
            lower = torch.linalg.cholesky(cov).float().to(device)
            blocks = batch_size * channel * num_frames * (height // ph) * (width // pw)
            z = torch.randn(blocks, size, generator=generator, device=generator.device).to(device)
            noise = (z @ lower.T).view(batch_size, channel, num_frames, height // ph, width // pw, ph, pw)
            return noise.permute(0, 1, 2, 3, 5, 4, 6).reshape(batch_size, channel, num_frames, height, width)

    return StablePyramidPipeline


def pipeline_class(variant: Variant):
    if variant.pyramid:
        return _pyramid_class()
    from diffusers import HeliosPipeline

    return HeliosPipeline


def disk_offload_layouts(plan: PlacementPlan) -> dict[str, DiskOffload]:
    """How the transformer and the text encoder are grouped in their offload files under `plan`."""
    stream = plan.use_stream and execution_device(plan).type == "cuda"
    level = GROUP_OFFLOAD_TYPES[plan.offload]
    blocks = (1 if stream else plan.blocks_per_group) if level == "block_level" else None
    return {
        "transformer": DiskOffload(level, blocks, fp8=plan.fp8_layerwise),
        # block_level would make the whole UMT5 encoder one group; T5 is not fp8-safe (diffusers docs).
        "text_encoder": DiskOffload("leaf_level"),
    }


def _disk_offloaded_components(model_dir: Path, variant: Variant, plan: PlacementPlan, cache_dir,
                               progress: Progress) -> dict:
    from diffusers import HeliosTransformer3DModel
    from transformers import UMT5EncoderModel

    onload = execution_device(plan)
    classes = {"transformer": HeliosTransformer3DModel, "text_encoder": UMT5EncoderModel}
    out = {}
    for name, layout in disk_offload_layouts(plan).items():
        folder = offload_folder(cache_dir, variant.key, name, layout, Path(model_dir) / name)
        out[name] = load_disk_offloaded(
            classes[name], Path(model_dir) / name, folder, dtype=torch_dtype(plan.component(name).dtype),
            layout=layout, onload_device=onload, use_stream=plan.use_stream and onload.type == "cuda",
            progress=progress, label=f"Offload files for the {name.replace('_', ' ')}",
        )
    return out


def load_pipeline(model_dir: Path, variant: Variant, plan: PlacementPlan, *, cache_dir=None,
                  progress: Progress = no_progress):
    """`from_pretrained` exactly as for the Hub repo, then the plan's placement.

    Disk plans build the transformer and text encoder first (never whole in
    host RAM; their offload files live under `cache_dir`) and hand them to
    `from_pretrained`; multi-GPU plans hand it the transformer accelerate
    dispatched over the cards; fp8 plans in RAM hand it the transformer read
    as fp8 tensor by tensor.
    """
    kwargs = {}
    if variant.pyramid:
        # Registered in the pipeline config; passed too so either repo layout works.
        kwargs = dict(is_distilled=variant.name == "distilled", is_cfg_zero_star=variant.defaults.use_zero_init)
    if plan.offload_to_disk:
        kwargs.update(_disk_offloaded_components(model_dir, variant, plan, cache_dir or default_cache_dir(),
                                                 progress))
    elif plan.gpus > 1 and execution_device(plan).type == "cuda":
        from diffusers import HeliosTransformer3DModel

        kwargs["transformer"] = load_across_gpus(HeliosTransformer3DModel, Path(model_dir) / "transformer", plan)
    elif plan.fp8_layerwise and execution_device(plan).type == "cuda":
        from diffusers import HeliosTransformer3DModel

        # Read as fp8 tensor by tensor: from_pretrained would first hold the whole 28.6 GB bf16 transformer.
        kwargs["transformer"] = load_fp8_in_ram(HeliosTransformer3DModel, Path(model_dir) / "transformer",
                                                torch_dtype(plan.component("transformer").dtype))
    dtypes = pipeline_dtypes(plan, ("transformer", "text_encoder", "vae"))
    kwargs.update(_components_one_by_one(model_dir, variant, plan, dtypes, skip=set(kwargs), progress=progress))
    pipe = pipeline_class(variant).from_pretrained(
        str(model_dir), dtype={**dtypes, "default": dtypes["transformer"]},
        low_cpu_mem_usage=plan.low_cpu_mem_usage, **kwargs,
    )
    progress(1.0, f"Loading {variant.title.split(' (')[0]}: every component loaded")
    pipe.set_progress_bar_config(disable=True)  # progress goes through our callback
    return apply_plan_to_pipeline(pipe, plan)


def _component_classes() -> dict:
    from diffusers import AutoencoderKLWan, HeliosTransformer3DModel
    from transformers import UMT5EncoderModel

    return {"text encoder": ("text_encoder", UMT5EncoderModel), "transformer": ("transformer", HeliosTransformer3DModel),
            "VAE": ("vae", AutoencoderKLWan)}


def _components_one_by_one(model_dir: Path, variant: Variant, plan: PlacementPlan, dtypes: dict, *, skip: set,
                           progress: Progress) -> dict:
    """The weighty components a plan did not build itself, loaded one at a time so loading reports a
    fraction per component (weighted by its files' size); `from_pretrained` then takes them as they are."""
    classes = {label: (name, cls) for label, (name, cls) in _component_classes().items() if name not in skip}
    parts = Parts(progress, {label: folder_bytes(Path(model_dir) / name) for label, (name, _) in classes.items()},
                  f"Loading {variant.title.split(' (')[0]}")
    out = {}
    for label, (name, cls) in classes.items():
        with parts.part(label):
            # Same dtype and memory options as the pipeline's own loader would pass for this component.
            out[name] = cls.from_pretrained(str(Path(model_dir) / name), dtype=dtypes[name],
                                            low_cpu_mem_usage=plan.low_cpu_mem_usage)
    return out


@dataclass
class VideoRequest:
    prompt: str
    mode: str  # t2v | i2v | v2v
    num_frames: int
    resolution: Resolution
    seed: int
    settings: GenerationSettings
    image: object | None = None  # PIL image (i2v), already fitted to the resolution
    video: list | None = None  # PIL frames (v2v), already fitted to the resolution


@dataclass
class ChunkUpdate:
    chunk: int  # 1-based index of the chunk just finished
    chunks: int
    frames: int  # frames in the video so far
    partial: Path | None  # playable mp4 of the video so far


@dataclass
class VideoResult:
    path: Path | None
    frames: int
    chunks_done: int
    chunks_total: int
    cancelled: bool
    seconds: dict = field(default_factory=dict)


class HeliosEngine:
    def __init__(self, pipe, variant: Variant, plan: PlacementPlan) -> None:
        self.pipe = pipe
        self.variant = variant
        self.plan = plan
        self.prompts = PromptEmbeddingCache()

    @property
    def device(self) -> torch.device:
        return runtime_device(self.pipe.transformer, self.plan)

    def describe(self) -> dict:
        return {"pipeline": "HeliosPyramidPipeline" if self.variant.pyramid else "HeliosPipeline",
                "scheduler": type(self.pipe.scheduler).__name__, "device": str(self.device)}

    def total_steps(self, request: VideoRequest) -> int:
        chunks = chunks_for(request.num_frames)
        return sum(self.variant.steps_per_chunk(request.settings, first_chunk=k == 0) for k in range(chunks))

    def pipeline_kwargs(self, request: VideoRequest) -> dict:
        s = request.settings
        device = self.device
        guidance = s.guidance_scale > 1.0
        # The encoder runs only for a prompt not seen recently (prompts.py); diffusers takes the embeddings.
        embeds, negative_embeds = self.prompts.get(self.pipe, request.prompt, s.negative_prompt, guidance=guidance,
                                                   device=device, max_sequence_length=MAX_SEQUENCE_LENGTH)
        kwargs = dict(
            prompt_embeds=embeds, height=request.resolution.height, width=request.resolution.width,
            num_frames=request.num_frames, guidance_scale=s.guidance_scale, max_sequence_length=MAX_SEQUENCE_LENGTH,
            generator=torch.Generator(device=device).manual_seed(request.seed),
        )
        if negative_embeds is not None:
            kwargs["negative_prompt_embeds"] = negative_embeds
        if self.variant.pyramid:
            kwargs.update(pyramid_num_inference_steps_list=list(s.steps), use_zero_init=s.use_zero_init,
                          zero_steps=s.zero_steps, is_amplify_first_chunk=s.amplify_first_chunk)
        else:
            kwargs["num_inference_steps"] = s.steps[0]
        if request.mode == "i2v":
            kwargs["image"] = request.image
        elif request.mode == "v2v":
            kwargs["video"] = request.video
        return kwargs

    def steps_per_chunk(self, request: VideoRequest) -> list[int]:
        return [self.variant.steps_per_chunk(request.settings, first_chunk=k == 0)
                for k in range(chunks_for(request.num_frames))]

    def generate(self, request: VideoRequest, out_path: Path, *, on_chunk: Callable[[ChunkUpdate], None] | None = None,
                 progress: Progress = no_progress, cancel: CancelToken | None = None) -> VideoResult:
        """Run the pipeline chunk by chunk into `out_path`; every stage reports through `progress`
        (run_progress.py) and a Stop ends the run within one denoising step, keeping finished chunks."""
        cancel = cancel or CancelToken()
        chunks = chunks_for(request.num_frames)
        writer = ChunkWriter(out_path, FPS)
        talk = RunProgress(progress, self.steps_per_chunk(request))
        started = time.perf_counter()
        seconds: dict[str, float] = {}

        def step_done(pipe, i, t, callback_kwargs):
            talk.step_done()
            cancel.raise_if_cancelled()
            return {}

        def chunk_done(frames: np.ndarray) -> None:
            talk.writing()
            writer.add_chunk(frames)
            seconds.setdefault("first_chunk", round(time.perf_counter() - started, 3))
            partial = writer.snapshot()
            talk.chunk_written()
            if on_chunk is not None:
                on_chunk(ChunkUpdate(writer.chunks, chunks, writer.frames_written, partial))

        cancelled = False
        talk.encoding(inputs=request.mode != "t2v")
        try:
            cancel.raise_if_cancelled()
            with decoded_chunks_to(self.pipe.vae, chunk_done, on_decoding=talk.decoding, on_frame=talk.frame_decoded):
                self.pipe(**self.pipeline_kwargs(request), output_type="latent", callback_on_step_end=step_done)
        except Cancelled:
            cancelled = True
        finally:
            self.pipe.maybe_free_model_hooks()  # the pipeline skips this when a run is interrupted
        done = writer.chunks
        try:
            # After a Stop nobody may read reports any more, and inside a GPU task a report then raises
            # Cancelled: the mp4 of the finished chunks is closed all the same.
            talk.closing()
        finally:
            path = writer.finish()
        seconds["total"] = round(time.perf_counter() - started, 3)
        if done:
            seconds["per_chunk"] = round(seconds["total"] / done, 3)
        if not cancelled:
            talk.done()
        return VideoResult(path=path, frames=output_frames(done), chunks_done=done, chunks_total=chunks,
                           cancelled=cancelled, seconds=seconds)


def load(variant: Variant, cache_dir=None, progress: Progress = no_progress) -> Callable[[Path, PlacementPlan], HeliosEngine]:
    """The `ctx.load` loader for one variant (disk plans keep their offload files under `cache_dir`)."""

    def loader(model_dir: Path, plan: PlacementPlan) -> HeliosEngine:
        return HeliosEngine(load_pipeline(model_dir, variant, plan, cache_dir=cache_dir, progress=progress),
                            variant, plan)

    return loader


__all__ = ["CHUNK_FRAMES", "ChunkUpdate", "HeliosEngine", "VideoRequest", "VideoResult", "load", "load_pipeline"]
