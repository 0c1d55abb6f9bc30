"""Pocket TTS checkpoints in the transformers on-disk layout.

The real source (`eustlb/pocket-tts`, the checkpoint transformers' own
documentation names) is a transformers model repo: `config.json`,
`model.safetensors`, `generation_config.json` for
`PocketTTSForConditionalGeneration`, plus the processor's files
(`processor_config.json`, `preprocessor_config.json` of the feature
extractor, `tokenizer.json` / `tokenizer_config.json`, `chat_template.jinja`).
The processor config points at the audio tokenizer (the codec) by name
(`audio_tokenizer.audio_tokenizer_name_or_path`): a Hub id, or here a folder
relative to the model directory.

`write_tiny` writes exactly those files with tiny random weights, a tokenizer
trained in memory and no network; the engine then loads them through the one
loader the real checkpoint uses.
"""
from __future__ import annotations

import json
from pathlib import Path

from shared.models.hub import CompanionRepo
from shared.tasks.load_progress import Parts, current_progress

# The placeholder tokens the processor reads from the tokenizer (as attributes)
# and the model reads from its config (as ids). The names of the attributes are
# fixed by `PocketTTSProcessor`; the strings are ours (tiny checkpoint only).
# Added after the text vocabulary in the order of PocketTTSConfig's default ids
# (prompt 4000, latent 4001, prompt BOS 4002, audio BOS 4003 after 4000 pieces).
PLACEHOLDER_ATTRS = ("audio_prompt_token", "audio_latent_token", "audio_prompt_bos_token", "audio_bos_token")
_PLACEHOLDER_STRINGS = ("<voice>", "<latent>", "<voice_bos>", "<audio_bos>")
_BASE_SPECIALS = ("<unk>", "<s>", "</s>", "<pad>")  # pad id 3, as PocketTTSConfig's default

CODEC_SUBDIR = "audio_tokenizer"
PROCESSOR_CONFIG = "processor_config.json"
# The codec (audio tokenizer) repo the real processor config names; downloaded beside the model.
CODEC_REPO = CompanionRepo("eustlb/pocket-tts-audio-tokenizer", ("*.json", "*.safetensors"))

# Renders `[voice bos][voice] text [audio bos]`, the layout PocketTTSProcessor
# expects: each audio item becomes one voice placeholder (the processor expands
# it to one per latent frame), text items are copied, and the prompt always
# closes on the first audio position.
_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'audio' -%}<voice_bos><voice>"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endfor -%}"
    "<audio_bos>"
)

_TRAINING_TEXT = [
    "Hello world. This is a small test of the voice cloning demo.",
    "The quick brown fox jumps over the lazy dog! Is it not? Yes, it is; indeed: it is.",
    "Pocket TTS runs on a CPU faster than real time, one frame at a time.",
    "Numbers like 3.5 and 42 appear, too... Sentences end with periods, questions and exclamations.",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 , . ! ? ; : ' \" - ( )",
]


def _train_tokenizer(vocab_size: int):
    """A small sentencepiece-style (Unigram + Metaspace) tokenizer, trained in memory."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation(behavior="isolated")]
    )
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=list(_BASE_SPECIALS),
        unk_token="<unk>",
        initial_alphabet=list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?;:'\"-() "),
    )
    tokenizer.train_from_iterator(_TRAINING_TEXT * 4, trainer=trainer)
    return tokenizer


def _pad_tokenizer(tokenizer, size: int):
    """The same Unigram pieces plus never-chosen filler pieces up to `size` entries."""
    from tokenizers import models

    state = json.loads(tokenizer.to_str())
    vocab = [tuple(entry) for entry in state["model"]["vocab"]]
    vocab += [(f"<filler_{i}>", -100.0) for i in range(size - len(vocab))]
    padded = type(tokenizer).from_str(tokenizer.to_str())
    padded.model = models.Unigram(vocab, unk_id=state["model"]["unk_id"])
    return padded


def real_size_configs():
    """The configs transformers documents as those of the released checkpoints (their defaults)."""
    from transformers import PocketTTSAudioTokenizerConfig, PocketTTSConfig

    return PocketTTSConfig(), PocketTTSAudioTokenizerConfig()


def tiny_configs(text_vocab: int = 120):
    """Tiny model and codec configs of the real schema (frame size 1920 at 24 kHz kept)."""
    from transformers import PocketTTSAudioTokenizerConfig, PocketTTSConfig

    latent_dim = 8
    hidden = 32
    model_config = PocketTTSConfig(
        vocab_size=text_vocab + len(_PLACEHOLDER_STRINGS),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=4096,
        latent_dim=latent_dim,
        pad_token_id=3,
        audio_prompt_token_id=text_vocab,
        audio_latent_token_id=text_vocab + 1,
        audio_prompt_bos_token_id=text_vocab + 2,
        audio_bos_token_id=text_vocab + 3,
        flow_head_config=dict(
            hidden_size=32,
            num_hidden_layers=1,
            latent_dim=latent_dim,
            condition_dim=hidden,
            frequency_embedding_size=16,
        ),
    )
    codec_config = PocketTTSAudioTokenizerConfig(
        hidden_size=16,
        num_filters=4,
        num_hidden_layers=1,
        intermediate_size=32,
        num_attention_heads=2,
        num_key_value_heads=2,
        upsample_groups=16,
        latent_dim=latent_dim,
    )
    return model_config, codec_config


def write_tiny(dest: Path) -> None:
    """Write a tiny random Pocket TTS checkpoint in the real layout into `dest`, reporting its stages."""
    # Weights are seconds measured on a 2-core box (load ~3): importing transformers' Pocket TTS
    # classes is most of the time; the tiny models themselves take about a second.
    parts = Parts(current_progress(), {"loading transformers": 3.0, "training its tokenizer": 0.1,
                                       "building and saving its models": 1.0}, "Writing the tiny Pocket TTS checkpoint")
    with parts.part("loading transformers"):
        from transformers import PocketTTSAudioTokenizerModel, PocketTTSForConditionalGeneration  # noqa: F401
    with parts.part("training its tokenizer"):
        backend = _train_tokenizer(vocab_size=120)
    with parts.part("building and saving its models"):
        model_config, codec_config = tiny_configs(backend.get_vocab_size())
        _write(Path(dest), backend, model_config, codec_config)


def write_real_size_random(dest: Path, *, eos_bias: float | None = None) -> None:
    """A random-weight checkpoint of the real size (benchmarks): real configs, 4000-piece tokenizer.

    `eos_bias` sets the end-of-speech head's bias: random weights put its
    logit above the stop threshold at once, so a benchmark pushes it far down
    to generate the whole frame budget the text implies.
    """
    model_config, codec_config = real_size_configs()
    backend = _pad_tokenizer(_train_tokenizer(vocab_size=120), model_config.audio_prompt_token_id)
    _write(Path(dest), backend, model_config, codec_config, eos_bias=eos_bias)


def _write(dest: Path, backend, model_config, codec_config, eos_bias: float | None = None) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        PocketTTSAudioTokenizerModel,
        PocketTTSFeatureExtractor,
        PocketTTSForConditionalGeneration,
        PocketTTSProcessor,
    )
    from transformers.tokenization_utils_tokenizers import TokenizersBackend

    dest.mkdir(parents=True, exist_ok=True)
    tokenizer = TokenizersBackend(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens=dict(zip(PLACEHOLDER_ATTRS, _PLACEHOLDER_STRINGS)),
    )
    ids = tokenizer.convert_tokens_to_ids(list(_PLACEHOLDER_STRINGS))
    expected = [
        model_config.audio_prompt_token_id,
        model_config.audio_latent_token_id,
        model_config.audio_prompt_bos_token_id,
        model_config.audio_bos_token_id,
    ]
    if ids != expected:  # the config's ids must be the tokenizer's
        raise RuntimeError(f"tokenizer placeholder ids {ids} != config ids {expected}")

    # Fixed seed: the tiny checkpoint is the same bytes on every machine.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = PocketTTSForConditionalGeneration(model_config).eval()
        codec = PocketTTSAudioTokenizerModel(codec_config).eval()
        # Random init leaves the end-of-speech logit near 0, above the default
        # threshold (-4), so tiny runs stop right after the minimum number of
        # frames (plus the tail): short, fast test runs.
        if eos_bias is not None:
            with torch.no_grad():
                model.eos_head.bias.fill_(eos_bias)
    model.generation_config = GenerationConfig(do_sample=True, temperature=0.7, num_flow_steps=1)
    model.save_pretrained(dest)
    codec.save_pretrained(dest / CODEC_SUBDIR)

    processor = PocketTTSProcessor(
        feature_extractor=PocketTTSFeatureExtractor(),
        tokenizer=tokenizer,
        audio_tokenizer=codec,
        chat_template=_CHAT_TEMPLATE,
    )
    processor.save_pretrained(dest)
    # Point the processor at the codec the way a checkpoint does, but relative
    # to the model directory (the absolute scratch path would not survive the
    # directory being moved into place).
    config_path = dest / PROCESSOR_CONFIG
    config = json.loads(config_path.read_text())
    config["audio_tokenizer"] = {
        "audio_tokenizer_class": type(codec).__name__,
        "audio_tokenizer_name_or_path": CODEC_SUBDIR,
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
