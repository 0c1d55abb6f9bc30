"""Apply a Helios placement plan to a loaded pipeline with diffusers' own hooks.

Component dtypes are set at load time (`from_pretrained(torch_dtype={...})`),
which keeps the transformer's `_keep_in_fp32_modules` (time embedder, norms,
scale/shift tables) in fp32. We do not use `shared.offload.apply_plan_to_pipeline`
here for two reasons (reported to the lead):
- it re-casts every component with `module.to(dtype)`, which drops those
  fp32 modules to bf16;
- in group-offloading mode it moves components lacking `enable_group_offload`
  (the transformers UMT5 encoder, 11.4 GB) to the GPU whole.
"""
from __future__ import annotations

import torch

from shared.offload import cuda_usable, torch_dtype
from shared.profiles import PlacementPlan

_LEVEL = {"group_block": "block_level", "group_leaf": "leaf_level"}


def apply_plan(pipe, plan: PlacementPlan):
    if plan.vae_tiling:
        pipe.vae.enable_tiling()
    if not cuda_usable(plan.device):
        return pipe.to("cpu")
    transformer, text_encoder, vae = pipe.transformer, pipe.text_encoder, pipe.vae
    if plan.fp8_layerwise:
        # The model's own skip list keeps patch embeddings, norms and condition embedders in bf16/fp32.
        transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                             compute_dtype=torch_dtype(plan.component("transformer").dtype))
    if plan.offload == "none":
        return pipe.to("cuda")
    if plan.offload == "model":
        pipe.enable_model_cpu_offload()
        return pipe
    from diffusers.hooks import apply_group_offloading

    cuda = torch.device("cuda")
    common = dict(onload_device=cuda, offload_device=torch.device("cpu"), use_stream=plan.use_stream,
                  record_stream=plan.use_stream, low_cpu_mem_usage=plan.low_cpu_mem_usage)
    transformer.enable_group_offload(
        offload_type=_LEVEL[plan.offload],
        num_blocks_per_group=plan.blocks_per_group if plan.offload == "group_block" else None, **common,
    )
    # Block level would make the whole encoder one group (its blocks sit below `encoder`): leaf level.
    apply_group_offloading(text_encoder, offload_type="leaf_level", **common)
    if plan.offload == "group_leaf":
        vae.enable_group_offload(offload_type="leaf_level", **common)
    else:
        vae.to(cuda)  # 0.5 GB; kept resident above the 6 GB profile
    return pipe
