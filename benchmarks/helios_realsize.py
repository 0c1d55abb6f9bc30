"""Real-size Helios components with random weights, in the exact diffusers layout.

    nice -n 19 python benchmarks/helios_realsize.py /work/bigbench/helios-distilled

Writes `model_index.json`, `scheduler/` and `tokenizer/` (the tiny trained
tokenizer: the real UMT5 vocabulary is not downloadable here; its ids all fall
inside the real 256384-row embedding), `transformer/` (HeliosTransformer3DModel
with the released 14B config: 40 blocks, 40 heads x 128, ffn 13824), and
`text_encoder/` (UMT5-XXL: 24 layers, d_model 4096, d_ff 10240, 64 heads,
vocab 256384) as bf16 sharded safetensors with their index files, and `vae/`
(Wan2.1 VAE, default config, fp32 - the only component instantiated for real).

The big components are never built in memory: the module is created on the
meta device to learn every tensor's name and shape, and each shard is filled
from one 128 MB random pool and written before the next one is started, so
the writer's RAM stays near one shard. Each component gets a `.complete`
marker; a rerun skips complete components. `--transformer-layers N` /
`--encoder-layers N` write a reduced-depth checkpoint (every layer still at its
real shape) for runs that must fit a busy machine.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARD_BYTES = 4 * 1024**3
UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
                layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                scalable_attention=True, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


def _meta_state(model) -> dict:
    """name -> (shape, numel) of what save_pretrained writes (tied duplicates dropped)."""
    tied = set(getattr(model, "_tied_weights_keys", None) or {})
    return {k: tuple(v.shape) for k, v in model.state_dict().items() if k not in tied}


def _shards(shapes: dict, bytes_per: int = 2) -> list[list[str]]:
    shards, current, size = [], [], 0
    for name, shape in shapes.items():
        n = bytes_per
        for d in shape:
            n *= d
        if current and size + n > SHARD_BYTES:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += n
    if current:
        shards.append(current)
    return shards


def write_sharded(shapes: dict, dest: Path, stem: str, index_name: str, log) -> int:
    """Random bf16 tensors for `shapes`, sharded like save_pretrained; returns bytes written."""
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(0)
    pool = (torch.randn(64 * 1024**2, generator=gen) * 0.02).to(torch.bfloat16)
    shards = _shards(shapes)
    weight_map, total = {}, 0
    for i, names in enumerate(shards, 1):
        fname = f"{stem}-{i:05d}-of-{len(shards):05d}.safetensors"
        tensors = {}
        for name in names:
            shape = shapes[name]
            numel = 1
            for d in shape:
                numel *= d
            start = int(torch.randint(0, pool.numel(), (1,), generator=gen))
            flat = torch.empty(numel, dtype=torch.bfloat16)
            done = 0
            while done < numel:  # tile the pool from a random offset
                take = min(numel - done, pool.numel() - start)
                flat[done:done + take] = pool[start:start + take]
                done += take
                start = 0
            tensors[name] = flat.view(shape)
            weight_map[name] = fname
            total += numel * 2
        save_file(tensors, str(dest / fname), metadata={"format": "pt"})
        del tensors
        log(f"  {dest.name}: shard {i}/{len(shards)} written ({total / 1e9:.1f} GB so far)")
    (dest / index_name).write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map},
                                              indent=2, sort_keys=True) + "\n")
    return total


def write_transformer(dest: Path, log, num_layers: int | None = None) -> None:
    from accelerate import init_empty_weights
    from diffusers import HeliosTransformer3DModel

    with init_empty_weights():
        # The defaults are the released 14B config; `num_layers` only for reduced-depth runs.
        model = HeliosTransformer3DModel(**({"num_layers": num_layers} if num_layers else {}))
    dest.mkdir(parents=True, exist_ok=True)
    model.save_config(dest)
    write_sharded(_meta_state(model), dest, "diffusion_pytorch_model", "diffusion_pytorch_model.safetensors.index.json",
                  log)


def write_text_encoder(dest: Path, log, num_layers: int | None = None) -> None:
    import torch
    from accelerate import init_empty_weights
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(**{**UMT5_XXL, **({"num_layers": num_layers} if num_layers else {})})
    config.dtype = torch.bfloat16
    with init_empty_weights():
        model = UMT5EncoderModel(config)
    dest.mkdir(parents=True, exist_ok=True)
    config.architectures = ["UMT5EncoderModel"]
    config.save_pretrained(dest)
    write_sharded(_meta_state(model), dest, "model", "model.safetensors.index.json", log)


def write_vae(dest: Path, log) -> None:
    import torch
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    AutoencoderKLWan().save_pretrained(dest, safe_serialization=True)  # Wan2.1 defaults, fp32, ~0.5 GB


def write_all(root: Path, log=print, transformer_layers: int | None = None, encoder_layers: int | None = None) -> Path:
    from demos.video import checkpoint

    root.mkdir(parents=True, exist_ok=True)
    if not (root / "model_index.json").exists():
        scratch = root / ".tiny"
        shutil.rmtree(scratch, ignore_errors=True)
        checkpoint.write_tiny("distilled", scratch)
        for item in ("model_index.json", "scheduler", "tokenizer"):
            shutil.move(str(scratch / item), str(root / item))
        shutil.rmtree(scratch)
    writers = (("vae", write_vae, {}), ("transformer", write_transformer, {"num_layers": transformer_layers}),
               ("text_encoder", write_text_encoder, {"num_layers": encoder_layers}))
    for name, fn, options in writers:
        dest = root / name
        if (dest / ".complete").exists():
            log(f"{name}: already complete")
            continue
        shutil.rmtree(dest, ignore_errors=True)
        started = time.perf_counter()
        fn(dest, log, **options)
        (dest / ".complete").write_text("ok\n")
        size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
        log(f"{name}: {size / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--transformer-layers", type=int, default=None,
                        help="reduced depth (real per-layer shapes); default: the released 40")
    parser.add_argument("--encoder-layers", type=int, default=None, help="reduced UMT5 depth; default: 24")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    write_all(args.root, log=lambda m: print(m, flush=True), transformer_layers=args.transformer_layers,
              encoder_layers=args.encoder_layers)


if __name__ == "__main__":
    main()
