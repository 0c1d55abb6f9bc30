"""Disk-backed group offloading for hosts with little RAM.

diffusers' group offloading can keep every offloaded group in its own
safetensors file (`offload_to_disk_path`) and read it back for each forward,
so a 14B model needs almost no host RAM. This module adds what an app needs
around that hook:

- one offload folder per (model, component, offload layout, checkpoint) under
  the cache dir, written once (with progress: tens of GB), reused on every
  later load, rebuilt when the checkpoint's files change, and removed at the
  app's next start once the checkpoint is gone (`shared.models.model_files`);
- loading that never holds the component in RAM: the module is built on the
  meta device and each checkpoint tensor becomes a zero-copy memory map of its
  bytes, so diffusers' writer reads one group at a time and each map is
  released as soon as its group is on disk. On a reused folder the checkpoint
  is not read at all;
- fp8 storage: layerwise casting is attached while the module is still on
  meta (so nothing is cast in RAM) and each group is cast to fp8 just before
  diffusers writes its file (exactly the tensors the casting hooks store as
  fp8), so each file is written once, already fp8.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import struct
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

# Where the folders live (and how they are removed) is torch-free, so the app can prune them at start.
from shared.models.model_files import folder_bytes, offload_root
from shared.tasks.cancel import Progress, no_progress

log = logging.getLogger(__name__)

MARKER = "offload-complete.json"
GB = 1e9
# safetensors dtype codes (https://github.com/huggingface/safetensors, format spec).
_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2, "I64": torch.int64, "I32": torch.int32,
    "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


@dataclass(frozen=True)
class DiskOffload:
    """How one component is grouped on disk; part of the folder name."""

    offload_type: str  # "block_level" | "leaf_level"
    blocks_per_group: int | None = None
    fp8: bool = False

    def signature(self) -> str:
        level = f"block{self.blocks_per_group}" if self.offload_type == "block_level" else "leaf"
        return f"{level}-{'fp8' if self.fp8 else 'native'}"


def checkpoint_fingerprint(component_dir: Path) -> str:
    """Names, sizes and mtimes of the component's config and weight files
    (hashing tens of GB of content would take minutes; any rewrite or
    re-download changes these)."""
    digest = hashlib.sha256()
    for path in sorted(Path(component_dir).iterdir()):
        if path.is_file() and path.suffix in (".json", ".safetensors"):
            stat = path.stat()  # follows Hub-cache symlinks to their blobs
            digest.update(f"{path.name}\0{path.resolve().name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def offload_folder(cache_dir, model_key: str, component: str, layout: DiskOffload, component_dir: Path) -> Path:
    return offload_root(cache_dir) / model_key / f"{component}-{layout.signature()}-{checkpoint_fingerprint(component_dir)}"


def is_complete(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def _remove_stale_siblings(folder: Path) -> None:
    """Folders of the same component and layout for an older checkpoint."""
    prefix = folder.name.rsplit("-", 1)[0] + "-"
    for sibling in folder.parent.glob(prefix + "*"):
        if sibling != folder and sibling.is_dir():
            log.info("Removing offload files of a changed checkpoint: %s", sibling)
            shutil.rmtree(sibling, ignore_errors=True)


# --- the module skeleton and lazy checkpoint tensors ---------------------------------------------------------------

def _is_diffusers_model(model_cls) -> bool:
    from diffusers import ModelMixin

    return issubclass(model_cls, ModelMixin)


def meta_skeleton(model_cls, component_dir: Path, dtype: torch.dtype | None = None) -> torch.nn.Module:
    """The module with every parameter on meta (buffers computed for real), in
    the dtypes `from_pretrained(torch_dtype=dtype)` gives them (modules read
    their weights' dtype before those are onloaded, e.g. UMT5's `wo`)."""
    from accelerate import init_empty_weights

    if _is_diffusers_model(model_cls):
        config = model_cls.load_config(component_dir)
        with init_empty_weights():
            model = model_cls.from_config(config)
    else:
        config = model_cls.config_class.from_pretrained(component_dir)
        with init_empty_weights():
            model = model_cls(config)
    if dtype is not None:
        _replace_tensors(model, lambda name, p: p.to(_target_dtype(model, name, dtype, p.dtype)))
    return model.eval().requires_grad_(False)


def _checkpoint_files(component_dir: Path) -> list[Path]:
    indexes = sorted(Path(component_dir).glob("*.safetensors.index.json"))
    if indexes:
        weight_map = json.loads(indexes[0].read_text())["weight_map"]
        return [Path(component_dir) / name for name in sorted(set(weight_map.values()))]
    files = sorted(Path(component_dir).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"No safetensors weights in {component_dir}.")
    return files


def lazy_index(path: Path) -> dict[str, tuple]:
    """name -> (path, dtype, shape, byte offset, byte count) from a safetensors header."""
    with open(path, "rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
    base = 8 + header_len
    return {name: (path, _ST_DTYPES[info["dtype"]], info["shape"], base + info["data_offsets"][0],
                   info["data_offsets"][1] - info["data_offsets"][0])
            for name, info in header.items() if name != "__metadata__"}


def map_tensor(entry: tuple) -> torch.Tensor:
    """One tensor as a read-only memory map of its own bytes: nothing is read
    until it is used, and dropping it unmaps it (safetensors' own loader maps
    the whole file once, so a shard would stay resident until its last tensor
    is gone)."""
    path, dtype, shape, offset, nbytes = entry
    if nbytes == 0:
        return torch.empty(shape, dtype=dtype)
    mapped = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(nbytes,))
    with warnings.catch_warnings():  # read-only on purpose: the group writer only reads it
        warnings.simplefilter("ignore", UserWarning)
        return torch.frombuffer(mapped, dtype=dtype).view(shape)


def _replace_tensors(model: torch.nn.Module, make) -> None:
    """Swap each parameter/buffer for `make(name, tensor)` (None keeps it);
    tied parameters stay one object."""
    replaced: dict[int, torch.nn.Parameter] = {}
    for module_name, module in model.named_modules():
        for key, param in list(module._parameters.items()):
            if param is None:
                continue
            if id(param) in replaced:
                module._parameters[key] = replaced[id(param)]
                continue
            value = make(f"{module_name}.{key}" if module_name else key, param)
            if value is not None:
                new = torch.nn.Parameter(value, requires_grad=False)
                replaced[id(param)] = new
                module._parameters[key] = new


def _target_dtype(model, name: str, dtype: torch.dtype, source: torch.dtype) -> torch.dtype:
    """The dtype `from_pretrained(torch_dtype=dtype)` gives this tensor."""
    if not source.is_floating_point:
        return source
    keep = getattr(model, "_keep_in_fp32_modules", None) or []
    if _is_diffusers_model(type(model)) and any(m in name for m in keep):
        return torch.float32
    if not _is_diffusers_model(type(model)) and dtype == torch.float16 and any(m in name.split(".") for m in keep):
        return torch.float32
    return dtype


def assign_lazy_checkpoint(model: torch.nn.Module, component_dir: Path, dtype: torch.dtype, *,
                           fp8_now: bool = False) -> None:
    """Point every meta parameter at its checkpoint bytes (zero-copy when the
    checkpoint dtype is the target dtype, as for Helios' bf16 files).

    `fp8_now`: a parameter that fp8 storage made fp8 on meta is read into RAM
    as fp8 at once, one tensor at a time (for models kept in RAM: never whole
    in bf16). Disk offloading leaves it mapped instead, and casts each group
    just before writing it."""
    index = {}
    for path in _checkpoint_files(component_dir):
        index.update(lazy_index(path))
    params = dict(model.named_parameters(remove_duplicate=False))
    unexpected = sorted(set(index) - set(params))
    if unexpected:
        raise ValueError(f"{component_dir} has tensors the model does not know: {', '.join(unexpected[:5])}")

    def load(name, param):
        tensor = map_tensor(index[name])
        if tuple(tensor.shape) != tuple(param.shape):
            raise ValueError(f"{component_dir}: {name} has shape {tuple(tensor.shape)}, the model expects "
                             f"{tuple(param.shape)}.")
        target = _target_dtype(model, name, dtype, tensor.dtype)
        tensor = tensor if tensor.dtype == target else tensor.to(target)
        if fp8_now and param.dtype == torch.float8_e4m3fn:
            return tensor.to(torch.float8_e4m3fn)  # through `target`, as from_pretrained + casting round
        return tensor

    _replace_tensors(model, lambda name, p: load(name, p) if name in index else None)
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    missing = [n for n, p in model.named_parameters() if p.device.type == "meta"]
    if missing:
        raise ValueError(f"{component_dir} lacks {len(missing)} tensors, e.g. {', '.join(missing[:5])}.")
    # Tied weights (UMT5's `shared` and `encoder.embed_tokens`): each module gets
    # its own map of the same bytes. Leaf-level groups write and then free their
    # tensors one group after another, so a Parameter shared by two groups would
    # reach the second group's file already freed.
    first: dict[int, str] = {}
    for module_name, module in model.named_modules():
        for key, param in list(module._parameters.items()):
            if param is None:
                continue
            name = f"{module_name}.{key}" if module_name else key
            if id(param) not in first:
                first[id(param)] = name
            else:
                source = first[id(param)]
                module._parameters[key] = torch.nn.Parameter(load(source, param), requires_grad=False)


def _placeholders(model: torch.nn.Module) -> None:
    """Unallocated CPU storage for meta parameters (their data comes from the
    offload files; untouched pages cost no RAM)."""
    _replace_tensors(model, lambda name, p: torch.empty_like(p, device="cpu") if p.device.type == "meta" else None)


# --- fp8 storage and the group files ------------------------------------------------------------------------------

def load_fp8_in_ram(model_cls, component_dir: Path, dtype: torch.dtype) -> torch.nn.Module:
    """`model_cls` from `component_dir` with diffusers' fp8 layerwise casting, in host RAM,
    read tensor by tensor: what `from_pretrained(dtype)` followed by
    `enable_layerwise_casting` gives, without the moment where the whole bf16
    model (28.6 GB for Helios' transformer) sits in RAM before the cast."""
    _large_allocations_via_mmap()
    model = meta_skeleton(model_cls, component_dir, dtype)
    enable_fp8_storage(model, dtype)
    assign_lazy_checkpoint(model, component_dir, dtype, fp8_now=True)
    return model


def enable_fp8_storage(model: torch.nn.Module, compute_dtype: torch.dtype) -> None:
    """diffusers' layerwise casting (the model's own skip list for diffusers
    models). Attached on meta, so its initial cast allocates nothing."""
    if hasattr(model, "enable_layerwise_casting"):
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute_dtype)
    else:
        from diffusers.hooks import apply_layerwise_casting

        apply_layerwise_casting(model, storage_dtype=torch.float8_e4m3fn, compute_dtype=compute_dtype)


def has_layerwise_casting(model: torch.nn.Module) -> bool:
    from diffusers.hooks.layerwise_casting import _LAYERWISE_CASTING_HOOK

    return any(_hook(module, _LAYERWISE_CASTING_HOOK) is not None for module in model.modules())


def _hook(module, name):
    registry = getattr(module, "_diffusers_hook", None)
    return registry.get_hook(name) if registry is not None else None


def offload_groups(model: torch.nn.Module) -> list:
    """diffusers' ModuleGroups attached to `model`, one per offload file."""
    from diffusers.hooks.group_offloading import _GROUP_OFFLOADING

    groups = {}
    for module in model.modules():
        hook = _hook(module, _GROUP_OFFLOADING)
        if hook is not None:
            groups[id(hook.group)] = hook.group
    return list(groups.values())


def _fp8_tensor_ids(model: torch.nn.Module) -> set[int]:
    """Tensors the layerwise-casting hooks keep in fp8 between forwards."""
    from diffusers.hooks.layerwise_casting import _LAYERWISE_CASTING_HOOK

    ids = set()
    for module in model.modules():
        if _hook(module, _LAYERWISE_CASTING_HOOK) is not None:
            ids.update(id(t) for t in module.parameters() if t.is_floating_point())
            ids.update(id(t) for t in module.buffers() if t.is_floating_point())
    return ids


class _Fp8AtWrite:
    """While diffusers writes a folder's group files, hand it each fp8 tensor
    already cast, so every file is written once, as fp8.

    diffusers has no dtype option for its writer (`ModuleGroup._offload_to_disk`
    saves `tensor.data` as it finds it) and the casting hooks only cast after a
    forward. Casting the whole component up front would hold 14 GB in RAM, so
    the writer is wrapped: just before a registered group is saved, its fp8
    tensors are cast (one group in RAM at a time); diffusers then saves them and
    leaves fp8 placeholders. Writing bf16 first and re-storing each file as fp8
    (what this module did before) wrote 28.6 GB of bf16 files for Helios' 14.6 GB
    fp8 folder, then read them back: docs/BENCHMARKS.md, "Helios host RAM"."""

    _lock = threading.Lock()
    _active: dict[str, set[int]] = {}  # offload folder -> ids of the tensors to store as fp8
    _original = None

    def __init__(self, model: torch.nn.Module, folder: Path) -> None:
        self.folder, self.fp8_ids = str(folder), _fp8_tensor_ids(model)

    @classmethod
    def _install(cls) -> None:
        from diffusers.hooks.group_offloading import ModuleGroup

        if cls._original is not None:
            return
        original = ModuleGroup._offload_to_disk

        def offload_to_disk(group):
            ids = cls._active.get(group.offload_to_disk_path)
            if ids and not group._is_offloaded_to_disk and not os.path.exists(group.safetensors_file_path):
                for tensor in group.tensor_to_key:
                    if id(tensor) in ids and tensor.is_floating_point() and tensor.dtype != torch.float8_e4m3fn:
                        tensor.data = tensor.data.to(torch.float8_e4m3fn)
            return original(group)

        ModuleGroup._offload_to_disk = offload_to_disk
        cls._original = original

    def __enter__(self):
        with self._lock:
            self._install()
            self._active[self.folder] = self.fp8_ids
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._active.pop(self.folder, None)


class _FolderProgress:
    """While diffusers writes the folder (it has no callback): report its size
    every second."""

    def __init__(self, folder: Path, expected: int, progress: Progress, label: str) -> None:
        self.folder, self.expected, self.progress, self.label = folder, max(expected, 1), progress, label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            done = folder_bytes(self.folder)
            self.progress(min(done / self.expected, 0.99),
                          f"{self.label}: {done / GB:.1f} GB written (of about {self.expected / GB:.1f} GB)")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _large_allocations_via_mmap() -> None:
    """Make glibc serve every allocation over 1 MiB with its own mmap.

    Between forwards diffusers leaves each offloaded tensor as an `empty_like`
    placeholder. glibc's dynamic threshold (raised up to 32 MiB once big
    chunks are freed) puts 26 MB placeholders (a 5120x5120 fp8 weight) in heap
    memory that earlier casts already touched, so "empty" placeholders stay
    resident: measured at the real size, 9 GB of RSS for a 14 GB model on disk.
    A fixed 1 MiB threshold keeps them unbacked until used."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        pass


def _fp8_bytes_saved(model: torch.nn.Module) -> int:
    """Bytes the fp8 tensors shed against their compute dtype (for the progress estimate)."""
    ids = _fp8_tensor_ids(model)
    seen, saved = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if id(t) in ids and id(t) not in seen:
            seen.add(id(t))
            saved += t.numel() * (t.element_size() - 1)
    return saved


def _param_bytes(model: torch.nn.Module) -> int:
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def load_disk_offloaded(model_cls, component_dir: Path, folder: Path, *, dtype: torch.dtype, layout: DiskOffload,
                        onload_device: torch.device, use_stream: bool = False,
                        progress: Progress = no_progress, label: str | None = None) -> torch.nn.Module:
    """`model_cls` from `component_dir`, group-offloaded to the files in `folder`.

    A complete folder is reused as is (the checkpoint is not read); otherwise it
    is (re)built: the parameters map the checkpoint lazily, diffusers writes
    one file per group and frees it, fp8 groups are then re-stored as fp8.
    """
    from diffusers.hooks import apply_group_offloading

    folder, label = Path(folder), label or f"Offload files for {Path(component_dir).name}"
    _large_allocations_via_mmap()
    model = meta_skeleton(model_cls, component_dir, dtype)
    if layout.fp8:
        enable_fp8_storage(model, dtype)
    reuse = is_complete(folder)
    if reuse:
        _placeholders(model)
    else:
        shutil.rmtree(folder, ignore_errors=True)
        _remove_stale_siblings(folder)
        folder.mkdir(parents=True)
        assign_lazy_checkpoint(model, component_dir, dtype)
    started = time.perf_counter()
    options = dict(onload_device=onload_device, offload_device=torch.device("cpu"),
                   offload_type=layout.offload_type, offload_to_disk_path=str(folder),
                   num_blocks_per_group=layout.blocks_per_group if layout.offload_type == "block_level" else None,
                   use_stream=use_stream, record_stream=use_stream)
    if reuse:
        apply_group_offloading(model, **options)
        return model
    expected = _param_bytes(model) - (_fp8_bytes_saved(model) if layout.fp8 else 0)
    with _FolderProgress(folder, expected, progress, label), \
            (_Fp8AtWrite(model, folder) if layout.fp8 else contextlib.nullcontext()):
        apply_group_offloading(model, **options)
    record = {"checkpoint": str(component_dir), "layout": asdict(layout), "bytes": folder_bytes(folder),
              "seconds": round(time.perf_counter() - started, 1), "written_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n")
    progress(1.0, f"{label}: {record['bytes'] / GB:.1f} GB written in {record['seconds']:.0f} s")
    return model
