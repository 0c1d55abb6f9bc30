"""CPU real-time factor and time to first audio of Pocket TTS voice cloning.

A random-weight model of the real size: the configs transformers documents as
the released checkpoint's (`PocketTTSConfig()`, `PocketTTSAudioTokenizerConfig()`
defaults), a 4000-piece tokenizer, written in the transformers layout and
loaded by the app's own loader; nothing is downloaded. The end-of-speech head
is biased off (random weights would otherwise stop after the minimum 6
frames) and each sentence piece is capped at `--frames` frames, so every run
generates a known amount of audio: 3 pieces x 40 frames = 9.6 s.

Measured through `PocketCloner.stream`, the path the app's endpoints use:
- time to first audio: from the call to the first decoded piece (voice already cached);
- real-time factor: generation + decoding seconds / seconds of audio (below 1 = faster than real time);
- voice encoding: one 10 s reference, cache miss.

    python benchmarks/voice_clone_cpu.py --threads 2 --runs 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

# Three sentences; the engine makes each its own piece.
TEXT = (
    "The quick brown fox jumps over the lazy dog, twice, before breakfast. "
    "Pocket TTS speaks in the voice of a short reference clip, one frame at a time. "
    "This measures the first audio and how fast the rest follows."
)


def voiced_tone(seconds: float, sr: int = 24_000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 6))
    return (0.25 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-seconds", type=float, default=10.0)
    parser.add_argument("--frames", type=int, default=40, help="frames per sentence piece (12.5 per second)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    import torch

    from shared.models.hardware import detect
    from demos.voice.cloning import engine, plans
    from demos.voice.cloning.checkpoint import write_real_size_random
    from demos.voice.cloning.reference import SAMPLE_RATE, check_reference

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_real_size_random(Path(tmp), eos_bias=-100.0)
        write_s = time.perf_counter() - t0
        plan = plans.plan("cpu", detect())
        plan = type(plan)(**{**plan.__dict__, "caps": {**plan.caps, "threads": args.threads}})
        t0 = time.perf_counter()
        cloner = engine.load(Path(tmp), plan)
        load_s = time.perf_counter() - t0

    params_model = sum(p.numel() for p in cloner.model.parameters())
    params_codec = sum(p.numel() for p in cloner.processor.audio_tokenizer.parameters())
    reference = check_reference(voiced_tone(args.reference_seconds))

    t0 = time.perf_counter()
    cloner.encode_voice(reference)
    encode_s = time.perf_counter() - t0

    # warm-up (first-call allocations)
    for _ in cloner.stream("Warm up.", reference, seed=0, max_frames=8):
        pass

    runs = []
    for run in range(args.runs):
        start = time.perf_counter()
        first = None
        samples = 0
        for chunk in cloner.stream(TEXT, reference, seed=run, max_frames=args.frames):
            if first is None:
                first = time.perf_counter() - start
            samples += len(chunk.wave)
        total = time.perf_counter() - start
        stats = cloner.last_stats
        audio_s = samples / SAMPLE_RATE
        runs.append({
            "first_audio_s": round(first, 3),
            "total_s": round(total, 3),
            "audio_s": round(audio_s, 3),
            "rtf": round(stats["generate_s"] / audio_s, 3),
            "frames": stats["frames"],
            "chunks": stats["chunks"],
            "ms_per_frame": round(1000 * stats["generate_s"] / stats["frames"], 1),
        })
        print(json.dumps(runs[-1]), flush=True)

    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        # other processes compete for the cores: record how busy the box was
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "params_model_m": round(params_model / 1e6, 1),
        "params_codec_m": round(params_codec / 1e6, 1),
        "write_checkpoint_s": round(write_s, 2),
        "load_s": round(load_s, 2),
        "reference_s": args.reference_seconds,
        "frames_per_piece": args.frames,
        "encode_voice_s": round(encode_s, 3),
        "median_first_audio_s": statistics.median(r["first_audio_s"] for r in runs),
        "median_rtf": statistics.median(r["rtf"] for r in runs),
        "median_ms_per_frame": statistics.median(r["ms_per_frame"] for r in runs),
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
