"""Host RAM of the Helios plans at the real size: peak RSS, load time, offload disk use.

    nice -n 19 python benchmarks/video_host_ram.py --root /work/bigbench/helios-distilled \
        --cache /work/bigbench/cache --plans 6gb,8gb,12gb,16gb [--host-ram 14] [--device cpu|cuda]
    nice -n 19 python benchmarks/video_host_ram.py --root ... --cache ... --encoder-compare

The components are real-size with random weights, written once by
benchmarks/helios_realsize.py in the exact diffusers layout (bf16 sharded
safetensors). For every plan, one child process (so each peak is its own):
loads the pipeline exactly as the app does (`demos.video.engine.load`) for a
host with `--host-ram` GB available, with the CPU as the onload device unless
`--device cuda`; encodes one prompt (`--seq` tokens); runs one transformer
pass on a tiny latent (1x16x1x16x16: 64 tokens, so it takes seconds) and, with
`--device cuda`, one 33-frame chunk at 384x640 with the variant's settings.
It records
  - ru_maxrss of the child (os.wait4: that child only, includes file-backed pages it mapped),
  - the peak of a 0.2 s psutil sampler of RSS and of RSS minus shared/file-backed pages (anonymous),
  - load / encode / forward seconds, wall and CPU (the process's user+system time: the
    work done, which on a shared machine can be far less than the wall time), offload
    folder bytes, whether the folder was reused,
  - with cuda: peak VRAM (torch.cuda.max_memory_allocated) and seconds per chunk.
In-RAM variants (plans for a host with plenty of RAM) need more than this
machine can give (~18 GB is our ceiling): they are listed, not run.
`--in-ram-compare` measures loading the in-RAM fp8 plan both ways, interleaved
(see in_ram_load_child); run it on reduced-depth checkpoints
(`helios_realsize.py --transformer-layers N`) when the real one does not fit.
`--encoder-compare` measures the text-encoder choice: the disk-offloaded
encoder (folder reused) against unloading it and reloading it from the
checkpoint for each new prompt; `--drop-caches` starts each run with an empty page
cache (cold files, as on a host whose RAM the transformer already fills).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GIB = 1024**3
RAM_CEILING_GB = 18.0
PROMPT = "a red fox runs through fresh snow at dawn, low camera, soft light"


class RssSampler:
    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak_rss = self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        info = self.proc.memory_info()
        self.peak_rss = max(self.peak_rss, info.rss)
        self.peak_anon = max(self.peak_anon, info.rss - info.shared)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def _hw(device: str, host_ram: float):
    from shared.models.hardware import HardwareInfo

    vram = {"cuda": 24.0}.get(device, 24.0)
    return HardwareInfo(cuda=True, device_name=f"benchmark ({device} onload)", vram_total_gb=vram,
                        vram_free_gb=vram, ram_total_gb=host_ram, ram_available_gb=host_ram, zerogpu=False)


def _folders(cache: Path, key: str) -> dict:
    from shared.models.disk_offload import is_complete
    from shared.models.model_files import folder_bytes, offload_root

    root = offload_root(cache) / key
    if not root.exists():
        return {}
    return {p.name: {"bytes": folder_bytes(p), "complete": is_complete(p)} for p in sorted(root.iterdir())}


def child(args) -> dict:
    import torch

    from demos.video import engine, plans
    from demos.video.variants import VARIANTS

    torch.set_num_threads(args.threads)
    variant = VARIANTS[args.variant]
    plan = plans.plan(variant.key, args.plan, _hw(args.device, args.host_ram))
    before = _folders(args.cache, variant.key)
    out = {"plan": args.plan, "offload_to_disk": plan.offload_to_disk, "offload": plan.offload,
           "blocks_per_group": plan.blocks_per_group, "fp8": plan.fp8_layerwise,
           "plan_host_ram_gb": plan.host_ram_gb, "device": args.device}
    if args.device == "cpu":
        torch.cuda.is_available = lambda: False  # the GPU side replaced by the CPU as onload device
    with RssSampler() as sampler:
        started, cpu = time.perf_counter(), time.process_time()
        eng = engine.load(variant, args.cache)(args.root, plan)
        out["load_s"] = round(time.perf_counter() - started, 1)
        out["load_cpu_s"] = round(time.process_time() - cpu, 1)
        sampler.sample()
        out["rss_after_load_gb"] = round(sampler.proc.memory_info().rss / GIB, 2)
        pipe, device = eng.pipe, eng.device
        started, cpu = time.perf_counter(), time.process_time()
        embeds, _ = eng.prompts.get(pipe, PROMPT, None, guidance=False, device=device, max_sequence_length=args.seq)
        out["encode_s"] = round(time.perf_counter() - started, 1)
        out["encode_cpu_s"] = round(time.process_time() - cpu, 1)
        gen = torch.Generator().manual_seed(0)
        latent = torch.randn(1, 16, 1, 16, 16, generator=gen).to(device, torch.bfloat16)
        started, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            result = pipe.transformer(hidden_states=latent, timestep=torch.tensor([500], device=device),
                                      encoder_hidden_states=embeds.to(torch.bfloat16), return_dict=False)[0]
        out["forward_s"] = round(time.perf_counter() - started, 1)
        out["forward_cpu_s"] = round(time.process_time() - cpu, 1)
        out["forward_finite"] = bool(torch.isfinite(result.float()).all())
        if args.device == "cuda":
            from demos.video.limits import Resolution

            torch.cuda.reset_peak_memory_stats()
            request = engine.VideoRequest(prompt=PROMPT, mode="t2v", num_frames=33, seed=0,
                                          resolution=Resolution("384x640", 384, 640, "native"),
                                          settings=variant.defaults)
            result = eng.generate(request, args.cache / "bench.mp4")
            out["seconds_per_chunk_384x640"] = result.seconds.get("per_chunk")
            out["peak_vram_gb"] = round(torch.cuda.max_memory_allocated() / GIB, 2)
    out["peak_rss_sampled_gb"] = round(sampler.peak_rss / GIB, 2)
    out["peak_anon_rss_sampled_gb"] = round(sampler.peak_anon / GIB, 2)
    after = _folders(args.cache, variant.key)
    out["offload_folders"] = after
    out["offload_reused"] = {name: name in before and before[name]["complete"] for name in after}
    return out


def encoder_child(args) -> dict:
    """One encode: with the disk-offloaded encoder (mode disk) or freshly loaded from the checkpoint (mode reload)."""
    import torch
    from transformers import UMT5EncoderModel

    from demos.video import engine, plans
    from demos.video.variants import VARIANTS
    from shared.models.disk_offload import load_disk_offloaded, offload_folder

    torch.set_num_threads(args.threads)
    torch.cuda.is_available = lambda: False
    variant = VARIANTS[args.variant]
    plan = plans.plan(variant.key, "8gb", _hw("cpu", args.host_ram))
    layout = engine.disk_offload_layouts(plan)["text_encoder"]
    component = args.root / "text_encoder"
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.root / "tokenizer")
    ids = tokenizer([PROMPT], padding="max_length", max_length=args.seq, truncation=True, return_tensors="pt")
    with RssSampler() as sampler:
        started, cpu = time.perf_counter(), time.process_time()
        if args.encoder_mode == "disk":
            model = load_disk_offloaded(UMT5EncoderModel, component, offload_folder(args.cache, variant.key,
                                        "text_encoder", layout, component), dtype=torch.bfloat16, layout=layout,
                                        onload_device=torch.device("cpu"))
        else:
            model = UMT5EncoderModel.from_pretrained(component, dtype=torch.bfloat16)
        load_s = time.perf_counter() - started
        with torch.no_grad():
            model(ids.input_ids, attention_mask=ids.attention_mask)
        total = time.perf_counter() - started
        del model
    return {"encoder_mode": args.encoder_mode, "load_s": round(load_s, 1), "load_and_encode_s": round(total, 1),
            "load_and_encode_cpu_s": round(time.process_time() - cpu, 1),
            "peak_rss_sampled_gb": round(sampler.peak_rss / GIB, 2),
            "peak_anon_rss_sampled_gb": round(sampler.peak_anon / GIB, 2)}


def _drop_page_cache() -> str:
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        return f"not dropped ({exc.strerror})"
    return "dropped"


def in_ram_load_child(args) -> dict:
    """Host RAM of loading an in-RAM fp8 plan for one GPU (6gb; 8gb-16gb load the same way): the pipeline as
    `demos.video.engine.load_pipeline` builds it, the GPU placement left out (GPU-only). `--in-ram-load new`
    reads the transformer as fp8 tensor by tensor (what the app does); `old` is `from_pretrained` in bf16
    followed by `enable_layerwise_casting` (what it did before)."""
    import torch

    from demos.video import engine, plans
    from demos.video.variants import VARIANTS

    torch.set_num_threads(args.threads)
    variant = VARIANTS[args.variant]
    big = plans.in_ram_host_gb() + 8.0
    plan = plans.plan(variant.key, "6gb", _hw("cuda", big))
    assert plan.fp8_layerwise and not plan.offload_to_disk, plan
    engine.apply_plan_to_pipeline = lambda pipe, plan: pipe
    if args.in_ram_load == "new":
        engine.execution_device = lambda plan: torch.device("cuda")  # takes the GPU plans' loading branch
    else:
        engine.execution_device = lambda plan: torch.device("cpu")  # plain from_pretrained
    with RssSampler() as sampler:
        started, cpu = time.perf_counter(), time.process_time()
        pipe = engine.load_pipeline(args.root, variant, plan, cache_dir=args.cache)
        if args.in_ram_load == "old":
            pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.bfloat16)
        load_s = time.perf_counter() - started
        load_cpu_s = time.process_time() - cpu
        sampler.sample()
        after = sampler.proc.memory_info()
        peak_at_load = sampler.peak_rss
        # Then what a run adds, as in `child`: one encode and one tiny transformer pass (on the CPU).
        eng = engine.HeliosEngine(pipe, variant, plan)
        embeds, _ = eng.prompts.get(pipe, PROMPT, None, guidance=False, device=torch.device("cpu"),
                                    max_sequence_length=args.seq)
        latent = torch.randn(1, 16, 1, 16, 16, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
        with torch.no_grad():
            result = pipe.transformer(hidden_states=latent, timestep=torch.tensor([500]),
                                      encoder_hidden_states=embeds.to(torch.bfloat16), return_dict=False)[0]
    fp8 = sum(p.numel() for p in pipe.transformer.parameters() if p.dtype == torch.float8_e4m3fn)
    return {"in_ram_load": args.in_ram_load, "transformer_blocks": len(pipe.transformer.blocks),
            "fp8_params": fp8, "load_s": round(load_s, 1), "load_cpu_s": round(load_cpu_s, 1),
            "rss_after_load_gb": round(after.rss / GIB, 2), "anon_rss_after_load_gb": round((after.rss - after.shared) / GIB, 2),
            "peak_rss_during_load_gb": round(peak_at_load / GIB, 2),
            "forward_finite": bool(torch.isfinite(result.float()).all()),
            "peak_rss_sampled_gb": round(sampler.peak_rss / GIB, 2),
            "peak_anon_rss_sampled_gb": round(sampler.peak_anon / GIB, 2)}


def run_child(extra: list[str], args) -> dict:
    cmd = [sys.executable, __file__, "--root", str(args.root), "--cache", str(args.cache), "--variant", args.variant,
           "--host-ram", str(args.host_ram), "--device", args.device, "--seq", str(args.seq),
           "--threads", str(args.threads), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out_text = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in out_text.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines and proc.returncode == 0 else {"error": f"exit {proc.returncode}"}
    result["ru_maxrss_gb"] = round(usage.ru_maxrss * 1024 / GIB, 2)  # Linux: KiB
    result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="real-size checkpoint (helios_realsize.py)")
    parser.add_argument("--cache", type=Path, required=True, help="cache dir for the offload folders")
    parser.add_argument("--variant", default="distilled")
    parser.add_argument("--plans", default="6gb,8gb,12gb,16gb")
    parser.add_argument("--host-ram", type=float, default=14.0, help="GB the fake host reports available")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--seq", type=int, default=64, help="prompt tokens for the encode")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep each plan's offload folders")
    parser.add_argument("--encoder-compare", action="store_true")
    parser.add_argument("--encoder-modes", default="disk,reload,disk,reload")
    parser.add_argument("--drop-caches", action="store_true",
                        help="empty the page cache before each encoder / in-RAM run (root): a small host cannot keep "
                             "11 GB of encoder files cached beside the transformer")
    parser.add_argument("--in-ram-compare", action="store_true",
                        help="host RAM of loading the in-RAM fp8 plan, read as fp8 (new) vs from_pretrained+cast (old)")
    parser.add_argument("--in-ram-modes", default="old,new,old,new")
    parser.add_argument("--in-ram-load", choices=("new", "old"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--encoder-mode", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = parser.parse_args()
    if args.child:
        args.plan = args.child
        print(json.dumps(child(args)), flush=True)
        return
    if args.encoder_mode:
        print(json.dumps(encoder_child(args)), flush=True)
        return
    if args.in_ram_load:
        print(json.dumps(in_ram_load_child(args)), flush=True)
        return
    import shutil

    from demos.video import plans
    from demos.video.variants import VARIANTS
    from shared.models.model_files import offload_root

    def emit(record: dict) -> None:
        record["load_average"] = [round(x, 2) for x in os.getloadavg()]
        record["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        line = json.dumps(record)
        print(line, flush=True)
        if args.out:
            with open(args.out, "a") as handle:
                handle.write(line + "\n")

    if args.in_ram_compare:
        for mode in args.in_ram_modes.split(","):
            cache = _drop_page_cache() if args.drop_caches else "as left by the previous run"
            emit({**run_child(["--in-ram-load", mode], args), "page_cache": cache})
        return
    if args.encoder_compare:
        for mode in args.encoder_modes.split(","):  # interleaved; a first disk run builds the folder if missing
            cache = _drop_page_cache() if args.drop_caches else "as left by the previous run"
            emit({**run_child(["--encoder-mode", mode], args), "page_cache": cache})
        return
    from demos.video import engine

    key = VARIANTS[args.variant].key
    for profile in args.plans.split(","):
        big = plans.plan(key, profile, _hw(args.device, plans.in_ram_host_gb() + 0.1))  # its leanest in-RAM variant
        if big.host_ram_gb > RAM_CEILING_GB:
            emit({"plan": profile, "variant": "in-RAM", "not_run": f"needs ~{big.host_ram_gb} GB host RAM (estimate), "
                  f"over this machine's ~{RAM_CEILING_GB:g} GB"})
        if not args.keep:  # disk is shared: keep only the transformer folder this plan uses
            plan = plans.plan(key, profile, _hw(args.device, args.host_ram))
            if args.device == "cpu":
                import torch

                torch.cuda.is_available = lambda: False
            wanted = "transformer-" + engine.disk_offload_layouts(plan)["transformer"].signature() + "-"
            for folder in (offload_root(args.cache) / key).glob("transformer-*"):
                if not folder.name.startswith(wanted):
                    shutil.rmtree(folder, ignore_errors=True)
        emit(run_child(["--child", profile], args))
    print("peak RSS of this parent:", round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2), "GiB")


if __name__ == "__main__":
    main()
