"""Apply a placement plan to a diffusers pipeline or a plain torch module.

All the mechanics are library hooks: diffusers' group offloading and
layerwise casting, diffusers' / accelerate's model CPU offload, and torchao's
int8 weight-only quantization. Without CUDA every plan degrades to "run on
the CPU in the plan's dtype".
"""
from __future__ import annotations

import logging

import torch

from shared.models.profiles import PlacementPlan

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
GROUP_OFFLOAD_TYPES = {"group_block": "block_level", "group_leaf": "leaf_level"}


def torch_dtype(name: str) -> torch.dtype:
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"Unknown dtype {name!r}; expected one of {', '.join(DTYPES)}.") from None


def cuda_usable(device: str) -> bool:
    return device.startswith("cuda") and torch.cuda.is_available()


def _is_group_offloaded(module: torch.nn.Module) -> bool:
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    return _is_group_offload_enabled(module)


def load_across_gpus(model_cls, component_dir, plan: PlacementPlan) -> torch.nn.Module:
    """A model whose blocks accelerate places over several GPUs (`plan.max_memory_gb`
    per device, never splitting a `_no_split_modules` block), loaded shard by
    shard straight onto its devices; fp8 storage is attached first, on meta, so
    the placement is sized and the weights are loaded as fp8. GPU-only."""
    from accelerate import infer_auto_device_map, load_checkpoint_and_dispatch

    from shared.models.disk_offload import enable_fp8_storage, meta_skeleton

    dtype = torch_dtype(plan.component("transformer").dtype)
    model = meta_skeleton(model_cls, component_dir, dtype)
    if plan.fp8_layerwise:
        enable_fp8_storage(model, dtype)
    max_memory = {int(k): f"{v}GiB" for k, v in plan.max_memory_gb.items()}
    device_map = infer_auto_device_map(model, max_memory=max_memory,
                                       no_split_module_classes=list(getattr(model, "_no_split_modules", None) or []))
    return load_checkpoint_and_dispatch(model, str(component_dir), device_map=device_map)


def _place_on_gpus(pipe, plan: PlacementPlan):
    """Multi-GPU plans: the transformer was dispatched at load; the text encoder
    goes leaf by leaf onto its card, the rest where the plan puts it."""
    from diffusers.hooks import apply_group_offloading

    for name, module in pipe.components.items():
        if not isinstance(module, torch.nn.Module) or name == "transformer":
            continue
        device = torch.device(plan.component(name).device)
        if name == "text_encoder":
            apply_group_offloading(module, onload_device=device, offload_device=torch.device("cpu"),
                                   offload_type="leaf_level", use_stream=True, record_stream=True,
                                   low_cpu_mem_usage=True)
        else:
            module.to(device)
    return pipe


def execution_device(plan: PlacementPlan) -> torch.device:
    """Where the plan's compute happens on this machine."""
    return torch.device("cuda" if cuda_usable(plan.device) else "cpu")


def runtime_device(module: torch.nn.Module, plan: PlacementPlan) -> torch.device:
    """Where `module` computes now. Offloaded plans: the plan's onload device.
    Otherwise where its weights are, read at call time: on ZeroGPU they sit on
    `cuda` only inside spaces' GPU worker, so a device fixed at load time
    would be wrong there."""
    if plan.offload == "none":
        for param in module.parameters():
            return param.device
    return execution_device(plan)


def quantize_int8_weight_only(module: torch.nn.Module, filter_fn=None) -> torch.nn.Module:
    """int8 weight-only quantization through torchao: every Linear, or those
    `filter_fn(module, fully_qualified_name)` accepts."""
    from torchao.quantization import Int8WeightOnlyConfig, quantize_

    quantize_(module, Int8WeightOnlyConfig(), filter_fn=filter_fn)
    return module


def apply_plan_to_module(module: torch.nn.Module, plan: PlacementPlan, component: str | None = None) -> torch.nn.Module:
    """Place one plain module: dtype, quantization, fp8 storage, offload or device."""
    placement = plan.component(component) if component else plan.component("")
    dtype = torch_dtype(placement.dtype)
    module.to(dtype=dtype)
    on_cuda = cuda_usable(placement.device)
    if plan.quantization == "int8_weight_only":
        quantize_int8_weight_only(module)
    if on_cuda and plan.fp8_layerwise:
        if hasattr(module, "enable_layerwise_casting"):  # diffusers models know what to skip
            module.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
        else:
            from diffusers.hooks import apply_layerwise_casting

            apply_layerwise_casting(module, storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
    if not on_cuda:
        return module.to("cpu")
    if plan.offload in GROUP_OFFLOAD_TYPES:
        from diffusers.hooks import apply_group_offloading

        apply_group_offloading(
            module,
            onload_device=torch.device("cuda"),
            offload_type=GROUP_OFFLOAD_TYPES[plan.offload],
            num_blocks_per_group=plan.blocks_per_group if plan.offload == "group_block" else None,
            use_stream=plan.use_stream,
            low_cpu_mem_usage=plan.low_cpu_mem_usage,
        )
        return module
    if plan.offload == "model":
        from accelerate import cpu_offload_with_hook

        module, _hook = cpu_offload_with_hook(module, execution_device=torch.device("cuda"))
        return module
    return module.to("cuda")


def pipeline_dtypes(plan: PlacementPlan, names) -> dict[str, torch.dtype]:
    """`torch_dtype=` for `from_pretrained`: casting at load time keeps each
    model's `_keep_in_fp32_modules` (norms, time embedders) in fp32, which a
    later `module.to(dtype)` would not."""
    return {name: torch_dtype(plan.component(name).dtype) for name in names}


def apply_plan_to_pipeline(pipe, plan: PlacementPlan):
    """Place a diffusers pipeline loaded with `pipeline_dtypes(plan, ...)`.

    Group offloading puts the denoiser at the plan's level; every other
    module (text encoders from transformers included, which lack
    `enable_group_offload`) goes leaf by leaf through diffusers' hook, so no
    component is ever moved to the GPU whole. The VAE stays resident unless
    the plan is leaf-level everywhere (the smallest profiles).
    """
    vae = getattr(pipe, "vae", None)
    if plan.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    if plan.offload_to_disk:
        # The big components were group-offloaded to their disk files while loading
        # (shared.models.disk_offload); only the small ones are left to place.
        for name, module in pipe.components.items():
            if isinstance(module, torch.nn.Module) and not _is_group_offloaded(module):
                module.to(execution_device(plan))
        return pipe
    if plan.gpus > 1 and cuda_usable(plan.device):
        return _place_on_gpus(pipe, plan)
    if not cuda_usable(plan.device):
        return pipe.to("cpu")
    transformer = getattr(pipe, "transformer", None)
    from shared.models.disk_offload import has_layerwise_casting

    # Already fp8 when it was loaded with shared.models.disk_offload.load_fp8_in_ram.
    if plan.fp8_layerwise and transformer is not None and not has_layerwise_casting(transformer):
        # The model's own skip list keeps patch embeddings, norms and condition embedders unquantized.
        transformer.enable_layerwise_casting(
            storage_dtype=torch.float8_e4m3fn, compute_dtype=torch_dtype(plan.component("transformer").dtype)
        )
    if plan.offload == "none":
        return pipe.to("cuda")
    if plan.offload == "model":
        pipe.enable_model_cpu_offload()
        return pipe
    from diffusers.hooks import apply_group_offloading

    common = dict(onload_device=torch.device("cuda"), offload_device=torch.device("cpu"),
                  use_stream=plan.use_stream, record_stream=plan.use_stream, low_cpu_mem_usage=plan.low_cpu_mem_usage)
    for name, module in pipe.components.items():
        if not isinstance(module, torch.nn.Module):
            continue
        if name == "transformer":
            apply_group_offloading(
                module, offload_type=GROUP_OFFLOAD_TYPES[plan.offload],
                num_blocks_per_group=plan.blocks_per_group if plan.offload == "group_block" else None, **common,
            )
        elif name == "vae" and plan.offload == "group_block":
            module.to("cuda")
        else:
            apply_group_offloading(module, offload_type="leaf_level", **common)
    return pipe
