"""Read the real Voxtral-4B-TTS-2603 folder layout, strictly.

Files: `params.json`, `consolidated.safetensors` (386 tensors), `tekken.json`,
`voice_embedding/<voice>.pt`. A missing or extra tensor, a shape that does not
match params.json, or a voice file of the wrong shape is a `ModelLoadError`
naming it. Voices are loaded with `weights_only=True` (never unpickle code).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import torch

from shared.errors import ModelLoadError
from shared.tasks.load_progress import report_bytes

from .config import VoxtralConfig, load_config
from .files import ALLOW_PATTERNS, HUB_REPO_ID, TOKENIZER_FILE, VOICE_DIR, WEIGHTS_FILE  # noqa: F401
from .model import VoxtralTTSModel


def expected_tensor_shapes(config: VoxtralConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor name of consolidated.safetensors with its shape under `config`."""
    with torch.device("meta"):
        model = VoxtralTTSModel(config)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def _check_names(found: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]], path: Path) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        raise ModelLoadError(
            f"{path}: missing tensor '{missing[0]}'" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "") + "."
        )
    if extra:
        raise ModelLoadError(
            f"{path}: unexpected tensor '{extra[0]}'" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "") + "."
        )
    for name, shape in expected.items():
        if tuple(found[name]) != shape:
            raise ModelLoadError(f"{path}: tensor '{name}' has shape {list(found[name])}, params.json implies {list(shape)}.")


_STORED_DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


# Where loading reports how far it got: (fraction of the weights' bytes read, e.g. "3.2 of 8.0 GB").
ByteReport = Callable[[float, str], None]


def _read_converted(path: Path, names, dtype: torch.dtype, device, report: ByteReport | None = None) -> dict[str, torch.Tensor]:
    """Each tensor read with plain file reads, then converted, one at a time.

    Converting from safetensors' memory map leaves every page read resident in this process
    beside the converted copies until the file closes: the 8 GB bf16 file on top of 16 GB of
    float32 weights (docs/BENCHMARKS.md, "Voice: real-size Voxtral-4B on the CPU"). Plain
    reads hold one stored tensor at a time. The names and shapes were checked already.
    """
    import json

    state = {}
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header, base = json.loads(f.read(size)), 8 + size
        total = sum(header[n]["data_offsets"][1] - header[n]["data_offsets"][0] for n in names)
        done = 0
        for name in names:
            info = header[name]
            if info["dtype"] not in _STORED_DTYPES:
                raise ModelLoadError(f"{path}: tensor '{name}' is stored as {info['dtype']}, not as a float type.")
            start, end = info["data_offsets"]
            raw = torch.empty(end - start, dtype=torch.uint8)
            f.seek(base + start)
            if f.readinto(raw.numpy()) != end - start:
                raise ModelLoadError(f"{path}: tensor '{name}' is cut short (the file is truncated).")
            stored = raw.view(_STORED_DTYPES[info["dtype"]]).reshape(info["shape"])
            state[name] = stored.to(device=device, dtype=dtype)
            done += end - start
            report_bytes(report, done, total)
    return state


def _read_as_stored(f, names, device, report: ByteReport | None = None) -> dict[str, torch.Tensor]:
    """Views of safetensors' memory map, moved to `device` (a copy only when that is a GPU)."""
    state, done = {}, 0
    total = sum(math.prod(f.get_slice(n).get_shape()) * _STORED_DTYPES[f.get_slice(n).get_dtype()].itemsize
                for n in names)
    for name in names:
        state[name] = f.get_tensor(name).to(device=device)
        done += state[name].nbytes
        report_bytes(report, done, total)
    return state


def load_model(model_dir: Path, *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu",
               report: ByteReport | None = None) -> VoxtralTTSModel:
    """Build the model from params.json and copy every tensor in, strictly; `report` hears how many of
    the weights' bytes have been read."""
    from safetensors import safe_open

    model_dir = Path(model_dir)
    config = load_config(model_dir)
    path = model_dir / WEIGHTS_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found.")
    expected = expected_tensor_shapes(config)
    try:
        handle = safe_open(str(path), framework="pt", device="cpu")
    except Exception as exc:  # corrupt header, truncated file
        raise ModelLoadError(f"{path}: cannot be read as safetensors ({exc}).") from exc
    with handle as f:
        found = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
        _check_names(found, expected, path)
        converts = any(_STORED_DTYPES.get(f.get_slice(name).get_dtype()) != dtype for name in expected)
        # Stored dtype kept: the tensors stay views of safetensors' memory map (no copy at all).
        state = None if converts else _read_as_stored(f, expected, device, report)
    if state is None:
        state = _read_converted(path, expected, dtype, device, report)
    # Build on the meta device and assign loaded tensors: no second copy of the weights.
    with torch.device("meta"):
        model = VoxtralTTSModel(config)
    model.load_state_dict(state, strict=True, assign=True)
    model.eval().requires_grad_(False)
    with torch.no_grad():
        model.prepare()
    return model


def voice_names(model_dir: Path) -> list[str]:
    return sorted(p.stem for p in (Path(model_dir) / VOICE_DIR).glob("*.pt"))


def load_voice(model_dir: Path, name: str, dim: int) -> torch.Tensor:
    """A preset voice [N, dim]: rows already in LM input-embedding space."""
    path = Path(model_dir) / VOICE_DIR / f"{name}.pt"
    if not path.is_file():
        raise ModelLoadError(f"{path}: voice file not found.")
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickles with code are refused here, by design
        raise ModelLoadError(f"{path}: not a plain tensor file ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(value, torch.Tensor) or value.ndim != 2 or value.shape[1] != dim:
        shape = list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ModelLoadError(f"{path}: expected a tensor [N, {dim}], found {shape}.")
    return value
