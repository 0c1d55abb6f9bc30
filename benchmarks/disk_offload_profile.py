"""Where the time of disk-backed group offloading goes, on a reduced Helios transformer.

    nice -n 19 python benchmarks/disk_offload_profile.py /tmp/helios-2layer [--layers 2] [--layouts leaf,block1]

Writes (once) a HeliosTransformer3DModel with the released 14B config except
`num_layers` (real per-layer shapes: 5120 wide, 40 heads, ffn 13824) as random
bf16 sharded safetensors in the diffusers layout, then for each layout builds
its offload folder with `shared.models.disk_offload.load_disk_offloaded` (fp8, CPU as
onload device, as the 6gb/8gb disk plans do) and runs two transformer passes at
the benchmark's tiny latent (1x16x1x16x16). For each phase it prints the wall
time and the seconds spent in diffusers' ModuleGroup.onload_/offload_, the
number of calls, the process's CPU seconds (the work, whatever the machine's load)
and the top of a cProfile (cumulative) with --profile.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_reduced(dest: Path, layers: int, heads: int = 40, ffn: int = 13824) -> None:
    from accelerate import init_empty_weights
    from diffusers import HeliosTransformer3DModel

    from benchmarks.helios_realsize import _meta_state, write_sharded

    if (dest / ".complete").exists():
        return
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with init_empty_weights():
        model = HeliosTransformer3DModel(num_layers=layers, num_attention_heads=heads, ffn_dim=ffn)
    model.save_config(dest)
    write_sharded(_meta_state(model), dest, "diffusion_pytorch_model", "diffusion_pytorch_model.safetensors.index.json",
                  lambda m: print(m, flush=True))
    (dest / ".complete").write_text("ok\n")


class GroupTimer:
    """Wall seconds inside ModuleGroup.onload_/offload_ (patched on the class)."""

    def __init__(self) -> None:
        from diffusers.hooks.group_offloading import ModuleGroup

        self.cls = ModuleGroup
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self.originals = {name: getattr(ModuleGroup, name) for name in ("onload_", "offload_")}

    def __enter__(self):
        for name, original in self.originals.items():
            def timed(group, _original=original, _name=name):
                started = time.perf_counter()
                try:
                    return _original(group)
                finally:
                    self.seconds[_name] += time.perf_counter() - started
                    self.calls[_name] += 1
            setattr(self.cls, name, timed)
        return self

    def __exit__(self, *exc):
        for name, original in self.originals.items():
            setattr(self.cls, name, original)

    def summary(self) -> dict:
        return {name: {"s": round(self.seconds[name], 2), "calls": self.calls[name]} for name in self.originals}


def phase(label: str, fn, profile: bool, top: int):
    timer = GroupTimer()
    profiler = cProfile.Profile() if profile else None
    import psutil

    io = psutil.Process().io_counters()
    started, cpu = time.perf_counter(), time.process_time()
    with timer:
        if profiler:
            profiler.enable()
        result = fn()
        if profiler:
            profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    # CPU seconds (all threads) are the work; wall seconds add whatever the other processes took.
    after = psutil.Process().io_counters()
    print(json.dumps({"phase": label, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                      "disk_read_gb": round((after.read_bytes - io.read_bytes) / 1e9, 2),
                      "disk_written_gb": round((after.write_bytes - io.write_bytes) / 1e9, 2), **timer.summary()}),
          flush=True)
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
        print(text.getvalue(), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--layouts", default="leaf,block1")
    parser.add_argument("--heads", type=int, default=40, help="fewer heads: narrower layers (overhead per group)")
    parser.add_argument("--ffn", type=int, default=13824)
    parser.add_argument("--forwards", type=int, default=2, help="transformer passes per load")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    import torch
    from diffusers import HeliosTransformer3DModel

    from shared.models.disk_offload import DiskOffload, load_disk_offloaded
    from shared.models.model_files import folder_bytes

    torch.set_num_threads(args.threads)
    component = args.root / "transformer"
    write_reduced(component, args.layers, args.heads, args.ffn)
    layouts = {"leaf": DiskOffload("leaf_level", None, fp8=True), "block1": DiskOffload("block_level", 1, fp8=True)}
    gen = torch.Generator().manual_seed(0)
    latent = torch.randn(1, 16, 1, 16, 16, generator=gen).to(torch.bfloat16)
    text = (torch.randn(1, 64, 4096, generator=gen) * 0.1).to(torch.bfloat16)
    for name in args.layouts.split(","):
        folder = args.root / "offload" / name
        shutil.rmtree(folder, ignore_errors=True)
        for attempt in ("build", "reuse"):
            model = phase(f"{name}: load ({attempt})", lambda: load_disk_offloaded(
                HeliosTransformer3DModel, component, folder, dtype=torch.bfloat16, layout=layouts[name],
                onload_device=torch.device("cpu")), args.profile and attempt == "build", args.top)
            files = sum(1 for _ in folder.glob("*.safetensors"))
            print(json.dumps({"layout": name, "files": files, "bytes": folder_bytes(folder)}), flush=True)
            for i in range(1, args.forwards + 1):
                with torch.no_grad():
                    phase(f"{name} ({attempt}): forward {i}", lambda: model(
                        hidden_states=latent, timestep=torch.tensor([500]), encoder_hidden_states=text,
                        return_dict=False)[0], args.profile and i == 1 and attempt == "build", args.top)
            del model


if __name__ == "__main__":
    main()
