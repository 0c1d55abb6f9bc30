"""Run `release-hub` under the real `spaces` package in ZeroGPU mode, on a CPU.

Everything is spaces' own code (the CUDA emulation in the main process, the
packing of preloaded tensors at launch, the forked worker, pickling of
arguments/yields/results, the stop-event protocol, progress forwarding,
request headers to the device API) except the two calls that need a real
CUDA device, found by reading `spaces/zero/torch/patching.py` and
`spaces/zero/wrappers.py` (worker_init):

- `torch.version.cuda`, None in a CPU build, is set to a 12.x string: spaces
  reads it at import to choose its emulated CUDA memory-stats table; the
  build's missing `torch._C._cuda_init`, which spaces saves and swaps, is
  given one that raises; its bad-fork probe (an unpicklable lambda that
  always answers False) is replaced by a plain function answering False.
- `init(nvidia_uuid)` selects the GPU and touches it (`torch.Tensor([0]).cuda()`);
  here it does nothing.
- `move()` copies every preloaded tensor (those still in memory and those
  spaces packed to disk at launch) to the GPU and points the worker's fake
  `cuda` tensors at the copies; here it points them at CPU copies, read from
  spaces' own pack files in spaces' layout.

The device API itself is the loopback stand-in at SPACES_ZERO_DEVICE_API_URL.
Usage: python tests/zerogpu/launch_zerogpu_app.py <release-hub arguments>
"""
from __future__ import annotations

import os
import sys

assert os.environ.get("SPACES_ZERO_GPU") == "true", "set SPACES_ZERO_GPU=true"
assert os.environ.get("SPACES_ZERO_DEVICE_API_URL"), "point SPACES_ZERO_DEVICE_API_URL at the stand-in"

import torch  # noqa: E402

# A CPU build of torch has no CUDA version; spaces picks its emulated CUDA
# memory-stats table from it (spaces/zero/torch/static.py). Say 12.x, as on a Space.
if torch.version.cuda is None:
    torch.version.cuda = "12.8"
# ... and lacks the low-level CUDA initialiser spaces saves and swaps at import.
if not hasattr(torch._C, "_cuda_init"):
    def _cuda_init_unavailable():
        raise RuntimeError("this torch build has no CUDA (ZeroGPU test harness on a CPU)")

    torch._C._cuda_init = _cuda_init_unavailable


def _never_in_bad_fork() -> bool:
    return False


# spaces' bad-fork check (at import) sends torch.cuda._is_in_bad_fork to a forked
# process pool; in a CPU build it is an unpicklable lambda that always says False.
torch.cuda._is_in_bad_fork = _never_in_bad_fork

import spaces  # noqa: E402,F401 - before anything touches torch.cuda (as on a Space)
from spaces.zero import torch as zero_torch  # noqa: E402
from spaces.zero.torch import patching  # noqa: E402

PAGE = patching.PAGE_SIZE if hasattr(patching, "PAGE_SIZE") else 4096


def _no_device_init(nvidia_uuid: str) -> None:
    """There is no GPU to select here."""


def _read_exact(file, size: int) -> bytearray:
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = file.readinto(view[got:])
        if not n:
            raise EOFError("ZeroGPU pack file is shorter than its index")
        got += n
    return buf


def _as_tensor(meta: torch.Tensor, raw: bytearray) -> torch.Tensor:
    storage = torch.frombuffer(raw, dtype=torch.uint8).untyped_storage()
    return torch.tensor([], dtype=meta.dtype).set_(storage, 0, meta.shape, meta.stride())


def _move_to_cpu(callback=None) -> None:
    """spaces' `move`, with the CPU standing in for the GPU."""
    callback = callback or (lambda n: None)
    for fake, original in list(patching.cuda_aliases.items()):
        if original is not None:
            fake.data = torch.Tensor(original)  # unwrap a subclass, as spaces does
            callback(fake.numel() * fake.element_size())
    for pack in patching.tensor_packs:
        # Layout written by spaces' pack_tensors: the batches' tensors, then the big
        # tensors, each at a page-aligned size, in index order.
        with open(pack.path(), "rb", buffering=0) as file:
            for meta, size, aligned in [t for batch in pack.batches for t in batch] + list(pack.big_tensors):
                raw = _read_exact(file, aligned)
                tensor = _as_tensor(meta, raw[:size]) if size else torch.empty_like(meta)
                for fake in pack.fakes[meta]:
                    fake.data = tensor
                callback(size)


zero_torch.init = _no_device_init
zero_torch.move = _move_to_cpu

if __name__ == "__main__":
    from demos.app import main

    main(sys.argv[1:])
