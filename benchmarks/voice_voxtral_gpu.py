"""GPU benchmark of the Voxtral engine at full size with random weights (bf16 and int8).

Builds the real-size model (params.json of the release: 4.0 B parameters)
directly on the GPU with random weights (writing an 8 GB checkpoint first
would only measure the disk), a small tekken.json with the real voice row
counts, and random [N, 3072] voices. Measures time to first audio, real-time
factor and peak VRAM for `bf16` (12gb/16gb/full profiles) and `int8`
(int8 weight-only Linear layers via torchao, the 6gb/8gb profiles).

    python benchmarks/voice_voxtral_gpu.py --modes bf16 int8 --seconds 10 --runs 3

Random weights never emit END, so each run yields exactly `--seconds` of audio.
Targets (issue 4, H100): first audio <= 100 ms, RTF <= 0.1, <= 10 GB in bf16.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from demos.voice.voxtral.config import parse_params
from demos.voice.voxtral.engine import SynthesisOptions, SynthesisStats, VoxtralEngine, is_quantized_linear
from shared.models.offload import quantize_int8_weight_only
from demos.voice.voxtral.model import VoxtralTTSModel
from demos.voice.voxtral.tiny import PRESET_VOICES, REAL_PARAMS, tekken_json
from demos.voice.voxtral.tokenizer import VoxtralTokenizer

# Real row counts of the release's tekken.json (voice_num_audio_tokens).
REAL_VOICE_ROWS = {
    "casual_female": 214, "casual_male": 147, "cheerful_female": 132, "neutral_female": 218, "neutral_male": 169,
    "pt_male": 144, "pt_female": 175, "nl_male": 138, "nl_female": 146, "it_male": 168, "it_female": 172,
    "fr_male": 97, "fr_female": 97, "es_male": 208, "es_female": 138, "de_male": 163, "de_female": 147,
    "ar_male": 67, "hi_male": 94, "hi_female": 86,
}
TEXT = "The quick brown fox jumps over the lazy dog. Then it naps in the sun, dreaming of rabbits."


def build_engine(folder: Path, mode: str) -> VoxtralEngine:
    config = parse_params(REAL_PARAMS)
    (folder / "tekken.json").write_text(json.dumps(tekken_json(REAL_VOICE_ROWS)))
    (folder / "voice_embedding").mkdir(exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for name in PRESET_VOICES:
        rows = torch.randn(REAL_VOICE_ROWS[name], config.backbone.dim, generator=gen) * 0.02
        torch.save(rows.to(torch.bfloat16), folder / "voice_embedding" / f"{name}.pt")
    device = "cpu" if mode == "int8" else "cuda"  # int8: quantize on the CPU, then move (as the loader does)
    with torch.device(device):
        model = VoxtralTTSModel(config).to(torch.bfloat16)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2:
                param.normal_(0.0, param.shape[-1] ** -0.5)
        model.prepare()
    model.eval().requires_grad_(False)
    if mode == "int8":
        quantize_int8_weight_only(model, filter_fn=is_quantized_linear)  # as the app's 6gb/8gb plans do
        model.to("cuda")
    return VoxtralEngine(model, VoxtralTokenizer(folder / "tekken.json"), folder)


def run_once(engine: VoxtralEngine, seconds: float, seed: int) -> dict:
    stats = SynthesisStats()
    torch.cuda.synchronize()
    for _ in engine.stream(TEXT, "neutral_female", seed, SynthesisOptions(max_seconds=seconds), stats=stats):
        pass
    torch.cuda.synchronize()
    return {"first": stats.first_audio_s, "total": stats.total_s, "audio": stats.audio_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["bf16", "int8"], choices=["bf16", "int8"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("This benchmark needs a CUDA GPU.")
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "seconds_per_run": args.seconds}
    for mode in args.modes:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            engine = build_engine(Path(tmp), mode)
            build_s = time.perf_counter() - t0
            weights_gb = torch.cuda.memory_allocated() / 2**30
            run_once(engine, 1.0, 0)  # warm-up
            runs = [run_once(engine, args.seconds, seed) for seed in range(args.runs)]
            results[mode] = {
                "build_s": round(build_s, 2),
                "weights_gb": round(weights_gb, 2),
                "peak_vram_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                "time_to_first_audio_s": round(statistics.median(r["first"] for r in runs), 4),
                "real_time_factor": round(statistics.median(r["total"] / r["audio"] for r in runs), 4),
                "runs": len(runs),
            }
            del engine
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
