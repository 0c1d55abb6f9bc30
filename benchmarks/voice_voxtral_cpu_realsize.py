"""Real-size Voxtral-4B-TTS on the CPU: first audio, real-time factor and host RAM per dtype.

Writes a random checkpoint at the release's real config (`REAL_PARAMS`: backbone 3072 wide,
26 layers, vocab 131,072; 4.0 B parameters, 8 GB in bf16) in the release's on-disk layout,
once, to `--checkpoint-dir` (kept for the next run). Each dtype is then measured in a fresh
subprocess that loads it the way the app does (`demos.voice.plans.plan("cpu", ...)` with the
dtype set, then `demos.voice.voxtral.engine.load_engine`), so peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) belongs to that dtype alone. Before starting a
child the parent waits (polling every 10 s, up to `--wait-minutes`) until MemAvailable exceeds
the dtype's expected peak + 1.5 GB, and skips that dtype with the reason otherwise: the box is
shared.

    nice -n 19 python benchmarks/voice_voxtral_cpu_realsize.py --dtype bfloat16 float32 \\
        --threads 2 --seconds 1.6 --runs 2

Random weights never emit END, so every run makes exactly `--seconds` of audio. Prints JSON
(also to `--json`), with the 1-minute load average at start and end.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

GIB = 1024**3
# Peak RSS (GB) each dtype is expected to reach, to decide whether the box has room: the issue's
# first look (fp32 20.5 GB, bf16 7.2 GB). Pass --expect-gb to override.
EXPECTED_PEAK_GB = {"bfloat16": 7.2, "float32": 20.5}
HEADROOM_GB = 1.5
TEXT = "The quick brown fox jumps over the lazy dog. Then it naps in the sun."
VOICE = "neutral_female"
# Real row counts of the release's tekken.json for the voice used (others get 150).
VOICE_ROWS = {"neutral_female": 218}
DONE_MARKER = "written.ok"


def load_average() -> float:
    return os.getloadavg()[0]


def mem_available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024 / GIB
    raise RuntimeError("no MemAvailable in /proc/meminfo")


# ------------------------------------------------------------------ the checkpoint
def _write_safetensors(path: Path, shapes: dict[str, tuple[int, ...]], make) -> None:
    """Stream tensors to a safetensors file one at a time (save_file would hold all 8 GB in RAM).

    Format: 8-byte little-endian header size, JSON header of offsets, then the raw bytes.
    """
    import torch

    nbytes = {name: 2 * max(1, int(torch.Size(shape).numel())) for name, shape in shapes.items()}
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes.items():
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes[name]]}
        offset += nbytes[name]
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        for name, shape in shapes.items():
            tensor = make(name, shape).to(torch.bfloat16).contiguous()
            f.write(tensor.view(torch.uint8).numpy().tobytes())


def write_realsize_checkpoint(dest: Path) -> dict:
    """params.json (REAL_PARAMS), random bf16 weights, a small tekken.json with real row counts, voices."""
    import torch

    from demos.voice.voxtral.checkpoint import TOKENIZER_FILE, VOICE_DIR, WEIGHTS_FILE, expected_tensor_shapes
    from demos.voice.voxtral.config import parse_params
    from demos.voice.voxtral.tiny import REAL_PARAMS, _random_tensor, tekken_json

    dest.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    config = parse_params(REAL_PARAMS)
    voices = list(REAL_PARAMS["multimodal"]["audio_tokenizer_args"]["voice"])
    rows = {name: VOICE_ROWS.get(name, 150) for name in voices}
    (dest / "params.json").write_text(json.dumps(REAL_PARAMS, indent=4) + "\n")
    # The small tokenizer's ids all lie below the real vocab; the model never reads its size.
    (dest / TOKENIZER_FILE).write_text(json.dumps(tekken_json(rows)))
    gen = torch.Generator().manual_seed(0)
    shapes = expected_tensor_shapes(config)
    _write_safetensors(dest / WEIGHTS_FILE, shapes, lambda name, shape: _random_tensor(name, shape, gen))
    (dest / VOICE_DIR).mkdir(exist_ok=True)
    for name in voices:
        table = torch.randn(rows[name], config.backbone.dim, generator=gen) * 0.02
        torch.save(table.to(torch.bfloat16), dest / VOICE_DIR / f"{name}.pt")
    (dest / DONE_MARKER).write_text("ok\n")
    params = sum(int(torch.Size(s).numel()) for s in shapes.values())
    return {"written_s": round(time.perf_counter() - started, 1), "parameters": params}


# ------------------------------------------------------------------ one dtype, in a child process
class RssSampler:
    """Peak anonymous RSS (RssAnon: the process's own memory, not page cache of mapped files)."""

    def __init__(self, every_s: float = 0.2):
        self.peak_anon_gb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> dict:
        fields = {}
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                fields[key] = int(value.split()[0]) * 1024 / GIB
        return fields

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.peak_anon_gb = max(self.peak_anon_gb, self.now().get("RssAnon", 0.0))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_anon_gb


def _one_run(engine, seconds: float, seed: int) -> dict:
    from demos.voice.voxtral.engine import SynthesisOptions, SynthesisStats

    stats = SynthesisStats()
    cpu_started = time.process_time()
    for _ in engine.stream(TEXT, VOICE, seed, SynthesisOptions(max_seconds=seconds), stats=stats):
        pass
    cpu_s = time.process_time() - cpu_started
    result = {"first_audio_s": stats.first_audio_s, "total_s": stats.total_s, "audio_s": stats.audio_s, "cpu_s": cpu_s}
    log(f"run seed {seed}: {json.dumps({k: round(v, 2) for k, v in result.items()})}, load {load_average():.2f}")
    return result


def log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def measure_child(folder: Path, dtype: str, threads: int, seconds: float, runs: int, warmup_s: float) -> dict:
    """Load through the app's path with `dtype`, then time `runs` runs after a warm-up of `warmup_s` of audio."""
    import dataclasses

    import torch

    from demos.voice.plans import plan
    from demos.voice.voxtral.engine import load_engine
    from shared.models.hardware import detect

    torch.set_num_threads(threads)
    sampler = RssSampler()
    cpu_plan = dataclasses.replace(plan("cpu", detect()), dtype=dtype)
    started = time.perf_counter()
    engine = load_engine(folder, cpu_plan)
    load_s = time.perf_counter() - started
    after_load = RssSampler.now()
    peak_after_load_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    log(f"loaded {dtype} in {load_s:.1f} s, RSS {after_load['VmRSS']:.2f} GB (anon {after_load.get('RssAnon', 0):.2f})")
    if warmup_s > 0:  # one frame is enough: the prompt's prefill touches every weight once
        _one_run(engine, warmup_s, 0)
    results = [_one_run(engine, seconds, seed) for seed in range(1, runs + 1)]
    med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    return {
        "dtype": str(engine.dtype).removeprefix("torch."),
        "load_s": round(load_s, 1),
        "rss_after_load_gb": round(after_load["VmRSS"], 2),
        "anon_rss_after_load_gb": round(after_load.get("RssAnon", 0.0), 2),
        "peak_rss_during_load_gb": round(peak_after_load_gb, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB, 2),
        "peak_anon_rss_gb": round(sampler.stop(), 2),
        "time_to_first_audio_s": round(med("first_audio_s"), 2),
        "total_s": round(med("total_s"), 2),
        "audio_s": round(med("audio_s"), 2),
        "real_time_factor": round(med("total_s") / med("audio_s"), 1),
        # CPU time per second of audio over the threads: the real-time factor this box would give
        # with its cores to itself (a busy shared box stretches the wall-clock figures above).
        "cpu_s_per_audio_s_per_thread": round(med("cpu_s") / med("audio_s") / threads, 1),
        "runs": [{k: round(v, 2) for k, v in r.items()} for r in results],
    }


# ------------------------------------------------------------------ the parent
def wait_for_memory(need_gb: float, wait_minutes: float) -> tuple[bool, float]:
    deadline = time.monotonic() + wait_minutes * 60
    while True:
        available = mem_available_gb()
        if available >= need_gb or time.monotonic() >= deadline:
            return available >= need_gb, round(available, 1)
        time.sleep(10)


def run_dtype(args, dtype: str) -> dict:
    need = args.expect_gb.get(dtype, EXPECTED_PEAK_GB[dtype]) + HEADROOM_GB
    ok, available = wait_for_memory(need, args.wait_minutes)
    if not ok:
        return {"skipped": f"MemAvailable stayed at {available} GB, below the {need:.1f} GB needed, for {args.wait_minutes:g} minutes"}
    command = [sys.executable, __file__, "--child", dtype, "--checkpoint-dir", str(args.checkpoint_dir),
               "--threads", str(args.threads), "--seconds", str(args.seconds), "--runs", str(args.runs),
               "--warmup-seconds", str(args.warmup_seconds)]
    load_before = load_average()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)  # the child's log goes to our stderr
    if done.returncode != 0:
        return {"failed": f"exit status {done.returncode}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(mem_available_before_gb=available, load_average_before=load_before, load_average_after=load_average())
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtype", nargs="+", default=["bfloat16", "float32"], choices=sorted(EXPECTED_PEAK_GB))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1.6, help="audio per run")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--warmup-seconds", type=float, default=0.08, help="audio of the untimed first run; 0: none")
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("/tmp/voxtral-realsize"))
    parser.add_argument("--wait-minutes", type=float, default=15.0)
    parser.add_argument("--expect-gb", type=json.loads, default={}, help='e.g. \'{"float32": 18}\'')
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.child:
        print(json.dumps(measure_child(args.checkpoint_dir, args.child, args.threads, args.seconds, args.runs,
                                       args.warmup_seconds)))
        return
    import torch

    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "torch": torch.__version__,
              "threads": args.threads, "seconds_per_run": args.seconds, "load_average_start": load_average()}
    if not (args.checkpoint_dir / DONE_MARKER).is_file():
        report["checkpoint"] = write_realsize_checkpoint(args.checkpoint_dir)
    for dtype in args.dtype:
        report[dtype] = run_dtype(args, dtype)
        print(json.dumps({dtype: report[dtype]}), file=sys.stderr, flush=True)
    report["load_average_end"] = load_average()
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
