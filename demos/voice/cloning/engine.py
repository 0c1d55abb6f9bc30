"""Zero-shot voice cloning with Pocket TTS (transformers), plain Python.

`load(model_dir, plan)` reads a checkpoint in the transformers layout (the
real one or the tiny one, same code) and returns a `PocketCloner`:

    cloner.stream(text, reference_wave, seed)   -> iterator of 24 kHz chunks
    cloner.synthesize(text, reference_wave, seed) -> one waveform + info

The reference clip is encoded once into voice latents by the audio tokenizer
and kept in a bounded LRU keyed by its content hash, so generating again with
the same clip skips the encoder. Text is split at sentence ends with the
processor's own `split_text`; each piece is generated and decoded on its own,
which is what streams. Noise comes from a per-request `torch.Generator`.
"""
from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from shared.models import hub
from shared.errors import ModelLoadError
from shared.models.profiles import PlacementPlan
from shared.tasks.cancel import CancelToken, Progress, no_progress
from shared.tasks.load_progress import Parts, current_progress, folder_bytes

from demos.voice.cloning.checkpoint import CODEC_REPO, PROCESSOR_CONFIG
from demos.voice.cloning.limits import MAX_TEXT_CHARS, TEXT
from demos.voice.cloning.reference import SAMPLE_RATE, content_hash

# Tokens per generated piece: the original's sentence grouping size (about
# 15 s of speech), small enough that the first piece arrives quickly.
CHUNK_TOKENS = 50
# The first piece is cut shorter (at a sentence or clause end) for a quick first audio.
FIRST_CHUNK_TOKENS = 20
VOICE_CACHE_SIZE = 8
_AUDIO_TOKENIZER_POINTER = "audio_tokenizer_config.json"


def check_text(text: str | None) -> str:
    return TEXT.check(text)


# --------------------------------------------------------------------- model

def _seeded_model_class():
    """`PocketTTSForConditionalGeneration` whose sampling noise comes from a per-request generator.

    transformers draws the flow noise with the global RNG; we generate with
    `do_sample=False` (zero noise) and add the noise here from the request's
    own `torch.Generator`, scaled by sqrt(temperature) as transformers does.
    The same hook checks the request's cancel token once per frame.
    """
    import torch
    from transformers import PocketTTSForConditionalGeneration

    class SeededPocketTTS(PocketTTSForConditionalGeneration):
        _request: "_Request | None" = None

        def sample_latent(self, condition, noise, num_flow_steps):
            request = self._request
            if request is not None:
                request.cancel.raise_if_cancelled()
                if request.noise_scale > 0:
                    drawn = torch.randn(noise.shape, generator=request.generator, dtype=torch.float32)
                    noise = noise + drawn.to(noise.device, noise.dtype) * request.noise_scale
                request.frames += 1
            return super().sample_latent(condition, noise, num_flow_steps)

    return SeededPocketTTS


@dataclass
class _Request:
    generator: object
    noise_scale: float
    cancel: CancelToken
    frames: int = 0


@dataclass
class Voice:
    """An encoded reference: its latents, and (once built) the key/value cache of its prompt prefix."""

    latents: object  # torch.Tensor (frames, latent_dim), CPU fp32
    prefix_ids: object = None  # torch.Tensor (prefix_len,): the prompt up to the last voice position
    prefix_cache: object = None  # transformers Cache after running that prefix


class VoiceCache:
    """Encoded voices (latents on CPU) by content hash; least recently used goes first."""

    def __init__(self, capacity: int = VOICE_CACHE_SIZE) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items


@dataclass
class Chunk:
    """One generated piece of speech."""

    wave: np.ndarray  # float32 mono, SAMPLE_RATE
    index: int
    count: int
    text: str


@dataclass
class PocketCloner:
    model: object
    processor: object
    device: str
    dtype: str
    voices: VoiceCache = field(default_factory=VoiceCache)
    last_stats: dict = field(default_factory=dict)
    # Run the voice part of the prompt once per voice and reuse its key/value
    # cache for every piece (transformers' "voice as a cache" path).
    use_prefix_cache: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    # -------------------------------------------------------------- voice
    def encode_voice(self, reference_wave: np.ndarray) -> tuple[Voice, bool]:
        """The encoded voice of a prepared reference, and whether it came from the cache."""
        key = content_hash(reference_wave)
        cached = self.voices.get(key)
        if cached is not None:
            return cached, True
        # The processor runs the feature extractor (which ends the clip on a
        # short pause, as the original does) and the codec's encoder.
        prompt = self._prompt("")
        inputs = self.processor(
            text=prompt, audio=[reference_wave], sampling_rate=SAMPLE_RATE, return_tensors="pt"
        )
        mask = inputs["audio_prompt_latents_mask"][0].bool()
        voice = Voice(latents=inputs["audio_prompt_latents"][0][mask].float().cpu().contiguous())
        self.voices.put(key, voice)
        return voice, False

    def _prompt(self, text: str) -> str:
        conversation = [{"role": "user", "content": [{"type": "audio"}, {"type": "text", "text": text}]}]
        prompt = self.processor.apply_chat_template(conversation, tokenize=False)
        return prompt[0] if isinstance(prompt, list) else prompt

    def split(self, text: str) -> list[str]:
        """Sentence groups of up to CHUNK_TOKENS tokens; the first one kept short so audio starts early."""
        pieces = [p for p in self.processor.split_text(text, max_tokens=CHUNK_TOKENS) if p.strip()]
        if not pieces:
            return [text]
        head = [p for p in self.processor.split_text(pieces[0], max_tokens=FIRST_CHUNK_TOKENS) if p.strip()]
        if len(head) > 1:
            pieces[:1] = [head[0], " ".join(head[1:])]
        return pieces

    # -------------------------------------------------------------- speech
    def stream(
        self,
        text: str,
        reference_wave: np.ndarray,
        seed: int,
        *,
        cancel: CancelToken | None = None,
        progress: Progress | None = None,
        max_frames: int | None = None,
    ) -> Iterator[Chunk]:
        """Generate `text` in the reference's voice, one sentence group at a time.

        `max_frames` caps each piece (12.5 frames per second); by default the
        budget is transformers' own, derived from the piece's length.
        """
        import torch

        text = check_text(text)
        cancel = cancel or CancelToken()
        progress = progress or no_progress
        stats = {"voice_cache": None, "encode_s": 0.0, "first_audio_s": None, "generate_s": 0.0, "frames": 0}
        self.last_stats = stats
        start = time.perf_counter()
        with self._lock, torch.inference_mode():
            progress(0.0, "Encoding the reference voice")
            t0 = time.perf_counter()
            voice, hit = self.encode_voice(reference_wave)
            stats["voice_cache"] = "hit" if hit else "miss"
            stats["encode_s"] = round(time.perf_counter() - t0, 4)
            stats["voice_frames"] = int(voice.latents.shape[0])
            pieces = self.split(text)
            stats["chunks"] = len(pieces)
            generator = torch.Generator(device="cpu").manual_seed(int(seed))
            temperature = float(getattr(self.model.generation_config, "temperature", None) or 0.0)
            do_sample = bool(getattr(self.model.generation_config, "do_sample", False))
            request = _Request(generator, math.sqrt(temperature) if do_sample else 0.0, cancel)
            for index, piece in enumerate(pieces):
                cancel.raise_if_cancelled()
                progress(index / len(pieces), f"Speaking part {index + 1} of {len(pieces)}")
                t1 = time.perf_counter()
                wave = self._generate_piece(piece, voice, request, max_frames)
                stats["generate_s"] = round(stats["generate_s"] + time.perf_counter() - t1, 4)
                if stats["first_audio_s"] is None:
                    stats["first_audio_s"] = round(time.perf_counter() - start, 4)
                stats["frames"] = request.frames
                yield Chunk(wave=wave, index=index, count=len(pieces), text=piece)
            progress(1.0, "Done")

    def _generate_piece(self, piece: str, voice: Voice, request: _Request, max_frames: int | None = None) -> np.ndarray:
        import torch

        inputs = self.processor(
            text=self._prompt(piece), audio_prompt_latents=[voice.latents], return_tensors="pt"
        ).to(self.model.device)
        kwargs = dict(inputs)
        if self.use_prefix_cache:
            kwargs = self._with_voice_prefix(inputs, voice)
        if max_frames:
            kwargs["max_new_tokens"] = int(max_frames)
        self.model._request = request
        # transformers draws (and multiplies by zero) noise from the global RNG
        # even when not sampling: fork it so other users' streams stay untouched.
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                out = self.model.generate(**kwargs, do_sample=False, return_dict_in_generate=True)
        finally:
            self.model._request = None
        count = int(out.audio_latents_mask[0].sum())
        wave = self.processor.decode(out.audio_latents[0, :count])
        return wave.float().cpu().numpy().astype(np.float32, copy=False)

    def _with_voice_prefix(self, inputs, voice: Voice) -> dict:
        """Generation inputs that start from the cached voice prefix and feed only the rest of the prompt.

        The prefix is the prompt up to its last voice position; it is the same
        for every text when the template puts the voice first (checked here:
        a different prefix rebuilds the cache).
        """
        import copy

        ids = inputs["input_ids"][0]
        voice_positions = (ids == self.model.config.audio_prompt_token_id).nonzero().flatten()
        if len(voice_positions) == 0:
            return dict(inputs)
        cut = int(voice_positions[-1]) + 1
        prefix = ids[:cut]
        if voice.prefix_cache is None or voice.prefix_ids is None or not torch_equal(voice.prefix_ids, prefix):
            out = self.model(
                input_ids=prefix[None],
                audio_prompt_latents=inputs["audio_prompt_latents"],
                audio_prompt_latents_mask=inputs["audio_prompt_latents_mask"],
                use_cache=True,
            )
            voice.prefix_ids, voice.prefix_cache = prefix.clone(), out.past_key_values
        rest = ids[cut:][None]
        return {
            "input_ids": rest,
            "attention_mask": rest.new_ones(rest.shape),
            # generate extends the cache in place: each piece starts from a copy
            "past_key_values": copy.deepcopy(voice.prefix_cache),
            "frames_after_eos": inputs["frames_after_eos"],
        }

    def synthesize(self, text: str, reference_wave: np.ndarray, seed: int, **kwargs) -> tuple[np.ndarray, dict]:
        pieces = [chunk.wave for chunk in self.stream(text, reference_wave, seed, **kwargs)]
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return wave, dict(self.last_stats)


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b.to(a.device)).all())


# --------------------------------------------------------------------- load

def resolve_codec_dir(model_dir: Path) -> Path:
    """The audio tokenizer's directory, as the processor config names it.

    A name relative to the model directory is read from there; any other name
    is a Hub id, taken from the Hugging Face cache (downloaded when online).
    """
    model_dir = Path(model_dir)
    pointer = None
    pointer_file = model_dir / _AUDIO_TOKENIZER_POINTER
    config_file = model_dir / PROCESSOR_CONFIG
    if pointer_file.is_file():
        pointer = json.loads(pointer_file.read_text())
    elif config_file.is_file():
        pointer = json.loads(config_file.read_text()).get("audio_tokenizer")
    else:
        raise ModelLoadError(f"{config_file} is missing: the Pocket TTS processor cannot be loaded.")
    ref = (pointer or {}).get("audio_tokenizer_name_or_path")
    if not ref:
        raise ModelLoadError(
            f"{config_file.name} in {model_dir} names no audio tokenizer (`audio_tokenizer.audio_tokenizer_name_or_path`): "
            "voice cloning needs the codec's encoder."
        )
    local = model_dir / ref
    if local.is_dir():
        return local
    if Path(ref).is_absolute() and Path(ref).is_dir():
        return Path(ref)
    # A Hub id: the shared download (cache, resume, the same clear error offline).
    return hub.download(ref, key="pocket", allow_patterns=CODEC_REPO.allow_patterns)


def _processor(model_dir: Path, codec):
    """The processor's parts, read with their own loaders; the codec is the one resolved by `load`
    (the processor config only names it)."""
    from transformers import AutoTokenizer, PocketTTSFeatureExtractor, PocketTTSProcessor

    feature_extractor = PocketTTSFeatureExtractor.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = json.loads((model_dir / PROCESSOR_CONFIG).read_text())
    options = {
        k: config[k]
        for k in ("short_text_max_words", "frames_after_eos_short_text", "frames_after_eos", "fade_in_duration")
        if k in config
    }
    chat_template = tokenizer.chat_template
    template_file = model_dir / "chat_template.jinja"
    if template_file.is_file():
        chat_template = template_file.read_text()
    return PocketTTSProcessor(feature_extractor, tokenizer, audio_tokenizer=codec, chat_template=chat_template, **options)


def _weights_bytes(folder: Path) -> int:
    return sum(folder_bytes(p) for p in Path(folder).glob("*.safetensors"))


def load(model_dir: Path, plan: PlacementPlan) -> PocketCloner:
    """Load model, processor, tokenizer and audio tokenizer from `model_dir` per `plan`, reporting each part."""
    import torch
    from transformers import PocketTTSAudioTokenizerModel

    from shared.models.offload import torch_dtype

    model_dir = Path(model_dir)
    threads = plan.caps.get("threads")
    if plan.device == "cpu" and threads:
        torch.set_num_threads(int(threads))
    device = plan.device if (plan.device != "cuda" or torch.cuda.is_available()) else "cpu"
    model_place = plan.component("model")
    codec_place = plan.component("audio_tokenizer")
    codec_dir = resolve_codec_dir(model_dir)
    # Weighted by the bytes of each part's weights; the processor's files are small.
    parts = Parts(current_progress(), {"model": _weights_bytes(model_dir), "audio tokenizer": _weights_bytes(codec_dir),
                                       "processor": 0}, "Loading Pocket TTS")
    try:
        with parts.part("model"):
            model = _seeded_model_class().from_pretrained(model_dir, dtype=torch_dtype(model_place.dtype))
        with parts.part("audio tokenizer"):
            codec = PocketTTSAudioTokenizerModel.from_pretrained(codec_dir, dtype=torch_dtype(codec_place.dtype))
        with parts.part("processor"):
            processor = _processor(model_dir, codec)
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise ModelLoadError(f"Pocket TTS checkpoint in {model_dir} could not be loaded: {exc}") from exc
    model.to(device).eval()
    codec.to(device).eval()
    return PocketCloner(model=model, processor=processor, device=device, dtype=model_place.dtype)


def default_threads() -> int:
    """Threads for CPU inference: the cores this process may use (physical ones where known)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:
        available = os.cpu_count() or 1
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or available
    except Exception:
        physical = available
    return max(1, min(available, physical))
