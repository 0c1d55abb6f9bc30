"""CPU benchmark of the Voxtral engine on a mid-size random checkpoint.

Same architecture and on-disk layout as Voxtral-4B-TTS-2603 at reduced width
(backbone 512 wide, all 26 layers, 8192-entry semantic codebook, 37 codes per
frame, codec 256 wide). Random weights never say END, so every run produces
exactly `--seconds` of audio.

Two engines on the same weights and noise:
- ours: KV-cached frame loop, streaming codec decode (first chunk after 5 frames);
- naive: a direct reference-style step loop that re-runs the whole sequence
  through the backbone for every frame (no KV cache) and decodes the audio
  once at the end (time to first audio = total time).

    python benchmarks/voice_voxtral_cpu.py --threads 2 --seconds 4 --runs 3
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from demos.voice.voxtral.config import END_AUDIO
from demos.voice.voxtral.engine import SynthesisOptions, SynthesisStats, VoxtralEngine, seeded_noise
from demos.voice.voxtral.tiny import write_mid

TEXT = "The quick brown fox jumps over the lazy dog. Then it naps in the sun."
VOICE = "neutral_female"


def run_ours(engine: VoxtralEngine, seconds: float, seed: int) -> dict:
    stats = SynthesisStats()
    for _ in engine.stream(TEXT, VOICE, seed, SynthesisOptions(max_seconds=seconds), stats=stats):
        pass
    return {"first_audio_s": stats.first_audio_s, "total_s": stats.total_s, "audio_s": stats.audio_s, "frames": stats.frames}


@torch.inference_mode()
def run_naive(engine: VoxtralEngine, seconds: float, seed: int) -> dict:
    """No KV cache: every frame re-runs prompt + all previous frames through the backbone."""
    started = time.perf_counter()
    model, at = engine.model, engine.model.acoustic_transformer
    noise = seeded_noise(torch.Generator().manual_seed(seed), engine.cfg.acoustic.n_acoustic_codebook)
    ids = engine.prompt_ids(TEXT, VOICE)
    inputs = engine.prompt_embeddings(ids, VOICE)
    frames = []
    n_frames = int(seconds * engine.cfg.codec.frame_rate)
    for k in range(n_frames):
        hidden = model.backbone(inputs[None])[:, -1]
        semantic = at.semantic_code(at.semantic_logits(hidden))
        x = at.sample_acoustic(hidden, noise(k)[None], 1.2, engine.cfg.acoustic.n_decoding_steps)
        codes = torch.cat((semantic[:, None], at.quantize(x, semantic)), dim=1)[0]
        if int(semantic) == END_AUDIO:
            break
        frames.append(codes)
        inputs = torch.cat((inputs, model.mm_audio_embeddings.embed_codes(codes)[None]))
    wave = engine.decode(torch.stack(frames))
    total = time.perf_counter() - started
    return {"first_audio_s": total, "total_s": total, "audio_s": len(wave) / engine.sample_rate, "frames": len(frames)}


def summarise(runs: list[dict]) -> dict:
    med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    return {
        "time_to_first_audio_s": round(med("first_audio_s"), 4),
        "total_s": round(med("total_s"), 4),
        "audio_s": round(med("audio_s"), 3),
        "real_time_factor": round(med("total_s") / med("audio_s"), 4),
        "frames_per_s": round(med("frames") / med("total_s"), 2),
        "runs": len(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0, help="audio per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        write_mid(Path(tmp))
        t0 = time.perf_counter()
        engine = VoxtralEngine.load(Path(tmp), device="cpu", dtype=torch.float32)
        load_s = time.perf_counter() - t0
        params = sum(p.numel() for p in engine.model.parameters())
        run_ours(engine, 0.8, 0)  # warm-up
        ours = summarise([run_ours(engine, args.seconds, seed) for seed in range(args.runs)])
        result = {
            "machine": f"{platform.processor() or platform.machine()}, torch threads {args.threads}",
            "torch": torch.__version__,
            "checkpoint": "mid-size random (dim 512, 26 layers, codec 256)",
            "parameters": params,
            "load_s": round(load_s, 3),
            "seconds_per_run": args.seconds,
            "ours": ours,
        }
        if not args.skip_naive:
            result["naive_no_kv_cache"] = summarise([run_naive(engine, args.seconds, seed) for seed in range(args.runs)])
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
