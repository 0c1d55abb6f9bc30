"""Tiny Helios checkpoints in the real diffusers layout, written with no network.

`write_tiny(variant, dest)` saves `model_index.json` plus `transformer/`,
`vae/`, `text_encoder/`, `tokenizer/` and `scheduler/` exactly as
`save_pretrained` writes the real repos, with tiny random components:
a UMT5 tokenizer whose SentencePiece vocabulary is trained here on a small
synthetic corpus, a 2-layer UMT5 encoder, a Wan VAE with 3 base channels
(same 8x spatial / 4x temporal factors) and a 2-block Helios transformer.
The app then loads the directory through the very same `from_pretrained`
path as a download.
"""
from __future__ import annotations

import io
import random
from pathlib import Path

import torch

from shared.tasks.load_progress import Parts, current_progress

from .variants import VARIANTS, Variant

TINY_SEED = 1234
_WORDS = (
    "a the of and in on over under with cat dog bird horse fish man woman child car boat train city street "
    "forest river sea sky mountain beach snow rain sun night day red blue green white black golden slow fast "
    "walking running flying swimming dancing camera pan zoom close wide shot light shadow fire water tree"
).split()


def tiny_tokenizer():
    """A T5/UMT5-style Unigram tokenizer (pad 0, eos 1, unk 2, 100 sentinels) built in memory."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    rng = random.Random(TINY_SEED)
    corpus = [" ".join(rng.choice(_WORDS) for _ in range(10)) + rng.choice(".,!?") for _ in range(2000)]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=80, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, num_threads=1, minloglevel=2,
    )
    proto = model.getvalue()
    processor = spm.SentencePieceProcessor(model_proto=proto)
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    return T5Tokenizer(vocab=vocab, extra_ids=100), proto


def tiny_components(variant: Variant, tokenizer=None) -> dict:
    from diffusers import AutoencoderKLWan, HeliosDMDScheduler, HeliosScheduler, HeliosTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = tokenizer if tokenizer is not None else tiny_tokenizer()[0]
    # CPU generator only: on ZeroGPU torch.cuda looks available in the main process, but touching its RNG
    # would initialise CUDA, which spaces forbids there.
    with torch.random.fork_rng(devices=[]):  # deterministic init without touching the caller's RNG
        torch.manual_seed(TINY_SEED)
        text_encoder = UMT5EncoderModel(
            UMT5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
        )
        vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                               temperal_downsample=[False, True, True])
        transformer = HeliosTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
            text_dim=32, freq_dim=32, ffn_dim=32, num_layers=2, rope_dim=(4, 4, 4),
        )
    if variant.scheduler == "HeliosDMDScheduler":
        scheduler = HeliosDMDScheduler(use_dynamic_shifting=True)
    elif variant.pyramid:
        scheduler = HeliosScheduler(stages=3)
    else:
        scheduler = HeliosScheduler(stages=1, stage_range=[0, 1], use_dynamic_shifting=True)
    return dict(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer)


def build_tiny_pipeline(variant: Variant, tokenizer=None):
    from diffusers import HeliosPipeline, HeliosPyramidPipeline

    components = tiny_components(variant, tokenizer)
    if not variant.pyramid:
        return HeliosPipeline(**components)
    return HeliosPyramidPipeline(
        **components, is_distilled=variant.name == "distilled", is_cfg_zero_star=variant.defaults.use_zero_init
    )


def write_tiny(variant_name: str, dest: Path) -> None:
    """Write the tiny checkpoint of one variant into `dest` (the real repo layout), reporting each
    stage to the caller's `reporting_to` progress, weighted by its seconds on our 2-core test box."""
    variant = VARIANTS[variant_name]
    dest = Path(dest)
    parts = Parts(current_progress(), {"training its tokenizer": 5, "building its models": 8, "saving its files": 1},
                  f"Writing the tiny {variant.key} checkpoint")
    with parts.part("training its tokenizer"):
        tokenizer, proto = tiny_tokenizer()
    with parts.part("building its models"):
        pipe = build_tiny_pipeline(variant, tokenizer)
    with parts.part("saving its files"):
        pipe.save_pretrained(dest, safe_serialization=True)
        # The real repos ship the SentencePiece model beside tokenizer.json.
        (dest / "tokenizer" / "spiece.model").write_bytes(proto)
