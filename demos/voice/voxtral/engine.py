"""Voxtral TTS inference: prompt -> frames (KV-cached AR loop) -> streamed audio.

Plain Python, no Gradio. One request:

1. text is validated and split into sentence groups;
2. per group, mistral-common builds the prompt, the voice rows replace the
   `[AUDIO]` placeholders, the backbone prefills once and then runs one KV-cached
   step per frame; each frame = greedy semantic code + flow-matching acoustic
   codes (noise from the request's own `torch.Generator`); END_AUDIO stops it;
3. the frames of all groups form one code stream that the codec decodes in
   chunks with >= 22 frames of left context, so the streamed audio equals a
   one-shot decode of the whole stream.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Iterator

import numpy as np
import torch

from shared.errors import UserInputError
from shared.models.offload import execution_device, quantize_int8_weight_only, torch_dtype
from shared.tasks.cancel import Cancelled, CancelToken, Progress, no_progress
from shared.tasks.load_progress import Parts, current_progress, folder_bytes

from . import checkpoint
from .frame_plan import FramePlan
from .config import DEFAULT_CFG_ALPHA, END_AUDIO, VoxtralConfig
from .model import VoxtralTTSModel
from .text import DEFAULT_MAX_CHARS, SEGMENT_CHARS, split_sentences, validate_text
from .tokenizer import VoxtralTokenizer

# The codec's receptive field is ~22 frames into the past; 25 (vllm-omni's
# value) makes chunked decoding sample-exact.
CODEC_LEFT_CONTEXT_FRAMES = 25
FIRST_CHUNK_FRAMES = 5  # small first chunk: time to first audio
CHUNK_FRAMES = 25
DEFAULT_MAX_SECONDS = 60.0
# Per sentence group, a generous speech-length budget: ~15 characters per second
# is typical speech, 0.15 s per character more than doubles it. It stops a group
# that never emits END_AUDIO from eating the whole request's duration.
SEGMENT_BASE_SECONDS = 2.0
SEGMENT_SECONDS_PER_CHAR = 0.15


def segment_frame_budget(segment: str, frame_rate: float) -> int:
    return int(math.ceil((SEGMENT_BASE_SECONDS + SEGMENT_SECONDS_PER_CHAR * len(segment)) * frame_rate))

NoiseFn = Callable[[int], torch.Tensor]  # global frame index -> x0 [n_acoustic]


@dataclass
class SynthesisOptions:
    cfg_alpha: float = DEFAULT_CFG_ALPHA
    n_steps: int | None = None  # None: params.json / loader default (7)
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_chars: int = DEFAULT_MAX_CHARS
    first_chunk_frames: int = FIRST_CHUNK_FRAMES
    chunk_frames: int = CHUNK_FRAMES


@dataclass
class AudioChunk:
    samples: np.ndarray  # float32 mono, this chunk only
    sample_rate: int
    index: int
    frames_done: int


@dataclass
class SynthesisStats:
    frames: int = 0
    segments: int = 0
    stop_reason: str = ""  # "end_audio" | "max_duration" | "context" | "cancelled"
    first_audio_s: float | None = None
    total_s: float = 0.0
    audio_s: float = 0.0
    segment_stops: list[str] = field(default_factory=list)
    codes: torch.Tensor | None = None  # [T, 37] every decoded frame, for checks

    @property
    def real_time_factor(self) -> float | None:
        return self.total_s / self.audio_s if self.audio_s > 0 else None

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "segments": self.segments,
            "stop_reason": self.stop_reason,
            "segment_stops": list(self.segment_stops),
            "time_to_first_audio_s": None if self.first_audio_s is None else round(self.first_audio_s, 4),
            "total_s": round(self.total_s, 4),
            "audio_s": round(self.audio_s, 4),
            "real_time_factor": None if self.real_time_factor is None else round(self.real_time_factor, 4),
        }


@dataclass
class SegmentResult:
    codes: torch.Tensor  # [T, 37] audio frames (END excluded)
    stop_reason: str


def seeded_noise(generator: torch.Generator, n_acoustic: int) -> NoiseFn:
    """x0 per frame from the request's generator (CPU, so seeds match across devices)."""

    def draw(_frame_index: int) -> torch.Tensor:
        return torch.randn(n_acoustic, generator=generator, dtype=torch.float32)

    return draw


class StreamingDecoder:
    """Decodes a growing code stream in chunks; each chunk re-decodes enough left context."""

    def __init__(self, model: VoxtralTTSModel, left_context: int = CODEC_LEFT_CONTEXT_FRAMES):
        self.model = model
        self.left_context = left_context
        self.spf = model.cfg.codec.samples_per_frame
        self.frames: list[torch.Tensor] = []
        self.decoded = 0  # frames whose audio has been emitted

    def push(self, codes: torch.Tensor) -> None:
        self.frames.append(codes)

    @property
    def pending(self) -> int:
        return len(self.frames) - self.decoded

    def flush(self) -> np.ndarray:
        """Audio of every pending frame."""
        end = len(self.frames)
        if end == self.decoded:
            return np.zeros(0, dtype=np.float32)
        start = max(0, self.decoded - self.left_context)
        window = torch.stack(self.frames[start:end])[None]
        with torch.inference_mode():
            wave = self.model.audio_tokenizer(window)[0]
        skip = (self.decoded - start) * self.spf
        self.decoded = end
        return wave[skip:].float().cpu().numpy()


class VoxtralEngine:
    def __init__(self, model: VoxtralTTSModel, tokenizer: VoxtralTokenizer, model_dir: Path):
        self.model = model
        self.cfg: VoxtralConfig = model.cfg
        self.tokenizer = tokenizer
        self.model_dir = Path(model_dir)
        self._voices: dict[str, torch.Tensor] = {}

    # Read from the weights at call time: on ZeroGPU they reach `cuda` only
    # inside spaces' GPU worker.
    @property
    def device(self) -> torch.device:
        return self.model.norm.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.norm.weight.dtype

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        model_dir: Path,
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        quantization: str | None = None,
    ) -> "VoxtralEngine":
        model_dir = Path(model_dir)
        if quantization not in (None, "int8_weight_only"):
            raise ValueError(f"Unknown quantization {quantization!r}.")
        weights_bytes = folder_bytes(model_dir / checkpoint.WEIGHTS_FILE)
        # Weighted by bytes: reading the weights is the long part; quantizing touches them once more.
        parts = Parts(current_progress(), {"tokenizer": folder_bytes(model_dir / checkpoint.TOKENIZER_FILE),
                                           "weights": weights_bytes,
                                           **({"int8 quantization": weights_bytes / 2} if quantization else {})},
                      "Loading Voxtral")
        with parts.part("tokenizer"):
            tokenizer = VoxtralTokenizer(model_dir / checkpoint.TOKENIZER_FILE)
        # Quantize on the CPU, then move: the bf16 weights never all sit on the GPU.
        load_device = "cpu" if quantization else device
        with parts.part("weights") as within:
            model = checkpoint.load_model(model_dir, dtype=dtype, device=load_device, report=within)
        if quantization:
            with parts.part("int8 quantization"):
                quantize_int8_weight_only(model, filter_fn=is_quantized_linear)
                model.to(device)
        engine = cls(model, tokenizer, model_dir)
        missing = [v for v in engine.cfg.voices if v not in tokenizer.voice_rows]
        if missing:
            raise checkpoint.ModelLoadError(f"{model_dir / checkpoint.TOKENIZER_FILE}: no voice_num_audio_tokens for {missing[0]}.")
        return engine

    @property
    def voices(self) -> list[str]:
        return list(self.cfg.voices)

    @property
    def sample_rate(self) -> int:
        return self.cfg.codec.sampling_rate

    def voice(self, name: str) -> torch.Tensor:
        if name not in self.cfg.voices:
            raise UserInputError(f"Unknown voice '{name}'; choose one of: {', '.join(self.cfg.voices)}.")
        if name not in self._voices:
            rows = checkpoint.load_voice(self.model_dir, name, self.cfg.backbone.dim)
            expected = self.tokenizer.voice_rows.get(name)
            if rows.shape[0] != expected:
                raise checkpoint.ModelLoadError(
                    f"voice_embedding/{name}.pt has {rows.shape[0]} rows; tekken.json says {expected}."
                )
            self._voices[name] = rows.to(self.device, self.dtype)
        return self._voices[name]

    # ------------------------------------------------------------------ prompt
    def prompt_ids(self, text: str, voice: str) -> torch.Tensor:
        if voice not in self.cfg.voices:
            raise UserInputError(f"Unknown voice '{voice}'; choose one of: {', '.join(self.cfg.voices)}.")
        return torch.tensor(self.tokenizer.encode(text, voice), dtype=torch.long, device=self.device)

    def prompt_embeddings(self, ids: torch.Tensor, voice: str) -> torch.Tensor:
        """Text-table rows with the [AUDIO] placeholders replaced, in order, by the voice rows."""
        rows = self.voice(voice)
        slots = ids == self.cfg.audio_token_id
        if int(slots.sum()) != rows.shape[0]:
            raise checkpoint.ModelLoadError(f"prompt has {int(slots.sum())} [AUDIO] slots but voice '{voice}' has {rows.shape[0]} rows.")
        embeds = self.model.mm_audio_embeddings.tok_embeddings(ids).clone()
        embeds[slots] = rows
        return embeds

    # ------------------------------------------------------------------ frames
    def iter_frames(
        self,
        text: str,
        voice: str,
        noise: NoiseFn,
        *,
        cfg_alpha: float = DEFAULT_CFG_ALPHA,
        n_steps: int | None = None,
        max_frames: int,
        frame_offset: int = 0,
        cancel: CancelToken | None = None,
        trace: dict | None = None,
    ) -> Generator[torch.Tensor, None, str]:
        """Yield each audio frame's 37 codes for one prompt; return why it stopped.

        Stops on END_AUDIO (that frame is neither yielded nor fed back), after
        `max_frames` frames, or at the context limit. Frame 0 comes from the
        prefill's last position; frame k from the step fed frame k-1's summed
        code embedding (no extra [AUDIO] step).
        """
        model, at = self.model, self.model.acoustic_transformer
        n_steps = n_steps or self.cfg.acoustic.n_decoding_steps
        with torch.inference_mode():
            ids = self.prompt_ids(text, voice)
            embeds = self.prompt_embeddings(ids, voice)
            room = self.cfg.max_context - ids.numel()
            if room <= 0:
                raise UserInputError(
                    f"Text is too long for one prompt ({ids.numel()} tokens; the context limit is {self.cfg.max_context})."
                )
            limit = min(max_frames, room)
            cache = model.backbone.new_cache(ids.numel() + limit)
            hidden = model.backbone(embeds[None], cache)[:, -1]
        for k in range(limit + 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            with torch.inference_mode():
                x0 = noise(frame_offset + k).to(self.device, self.dtype)[None]
                logits = at.semantic_logits(hidden)
                semantic = at.semantic_code(logits)
                x = at.sample_acoustic(hidden, x0, cfg_alpha, n_steps)
                codes = torch.cat((semantic[:, None], at.quantize(x, semantic)), dim=1)[0]
            if trace is not None:
                for key, value in (("hidden", hidden[0]), ("semantic_logits", logits[0]), ("x_final", x[0]), ("codes", codes)):
                    trace.setdefault(key, []).append(value.detach().float().cpu() if value.is_floating_point() else value.cpu())
            if int(semantic) == END_AUDIO:
                return "end_audio"
            if k == limit:
                # The cap is reached; this extra frame only probed for END.
                return "max_duration" if limit == max_frames else "context"
            yield codes
            with torch.inference_mode():
                next_input = model.mm_audio_embeddings.embed_codes(codes)
                hidden = model.backbone(next_input[None, None], cache)[:, -1]
        raise AssertionError("unreachable")

    def generate_segment(self, text: str, voice: str, noise: NoiseFn, **kwargs) -> SegmentResult:
        """All frames of one prompt at once (tests, benchmarks)."""
        frames: list[torch.Tensor] = []
        gen = self.iter_frames(text, voice, noise, **kwargs)
        while True:
            try:
                frames.append(next(gen))
            except StopIteration as stop:
                reason = stop.value
                break
        n_codebooks = self.cfg.acoustic.n_codebooks
        codes = torch.stack(frames) if frames else torch.zeros(0, n_codebooks, dtype=torch.long, device=self.device)
        return SegmentResult(codes=codes, stop_reason=reason)

    # ------------------------------------------------------------------ audio
    def decode(self, codes: torch.Tensor) -> np.ndarray:
        """One-shot codec decode of frames [T, 37], cut at the first END frame."""
        ends = (codes[:, 0] == END_AUDIO).nonzero()
        if len(ends):
            codes = codes[: int(ends[0])]
        if codes.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        with torch.inference_mode():
            return self.model.audio_tokenizer(codes[None].to(self.device))[0].float().cpu().numpy()

    def stream(
        self,
        text: str,
        voice: str,
        seed: int,
        options: SynthesisOptions | None = None,
        *,
        cancel: CancelToken | None = None,
        progress: Progress = no_progress,
        stats: SynthesisStats | None = None,
        noise: NoiseFn | None = None,
    ) -> Iterator[AudioChunk]:
        """Audio chunks as frames are generated; fills `stats` as it goes.

        Long text is split into sentence groups; their frames form one code
        stream, decoded continuously (no seams between groups).
        """
        options = options or SynthesisOptions()
        stats = stats if stats is not None else SynthesisStats()
        text = validate_text(text, options.max_chars)
        if voice not in self.cfg.voices:
            raise UserInputError(f"Unknown voice '{voice}'; choose one of: {', '.join(self.cfg.voices)}.")
        validate_options(options, self.cfg)
        started = time.perf_counter()
        max_frames = max(1, int(math.floor(options.max_seconds * self.cfg.codec.frame_rate)))
        if noise is None:
            generator = torch.Generator(device="cpu").manual_seed(int(seed))
            noise = seeded_noise(generator, self.cfg.acoustic.n_acoustic_codebook)
        decoder = StreamingDecoder(self.model)
        segments = split_sentences(text, SEGMENT_CHARS)
        index = 0

        def emit(samples: np.ndarray) -> AudioChunk:
            nonlocal index
            if stats.first_audio_s is None:
                stats.first_audio_s = time.perf_counter() - started
            stats.audio_s += len(samples) / self.sample_rate
            chunk = AudioChunk(samples=samples, sample_rate=self.sample_rate, index=index, frames_done=len(decoder.frames))
            index += 1
            return chunk
        plan = FramePlan(segments, segment_frame_budget, max_frames, self.cfg.codec.frame_rate, progress)
        try:
            for n, segment in enumerate(segments):
                remaining = max_frames - len(decoder.frames)
                if remaining <= 0:
                    break
                budget = min(remaining, plan.budgets[n])
                plan.start_group(n, len(decoder.frames), budget)
                gen = self.iter_frames(
                    segment, voice, noise,
                    cfg_alpha=options.cfg_alpha, n_steps=options.n_steps,
                    max_frames=budget, frame_offset=len(decoder.frames), cancel=cancel,
                )
                while True:
                    try:
                        codes = next(gen)
                    except StopIteration as stop:
                        stats.segments += 1
                        stats.segment_stops.append(stop.value)
                        # A group cut by its own budget is not the request's stop reason.
                        stats.stop_reason = stop.value if budget == remaining or stop.value != "max_duration" else "segment_budget"
                        break
                    decoder.push(codes)
                    plan.report(len(decoder.frames))
                    target = options.first_chunk_frames if decoder.decoded == 0 else options.chunk_frames
                    if decoder.pending >= target:
                        yield emit(decoder.flush())
            tail = decoder.flush()
            if tail.size:
                yield emit(tail)
        except Cancelled:
            stats.stop_reason = "cancelled"
            tail = decoder.flush()
            if tail.size:
                yield emit(tail)
        finally:
            stats.frames = len(decoder.frames)
            stats.codes = torch.stack(decoder.frames) if decoder.frames else None
            stats.total_s = time.perf_counter() - started
        progress(1.0, "Done")

    def synthesize(
        self,
        text: str,
        voice: str,
        seed: int,
        options: SynthesisOptions | None = None,
        *,
        cancel: CancelToken | None = None,
        progress: Progress = no_progress,
        noise: NoiseFn | None = None,
    ) -> tuple[np.ndarray, SynthesisStats]:
        """The whole waveform (the concatenated stream) and its stats."""
        stats = SynthesisStats()
        parts = [c.samples for c in self.stream(text, voice, seed, options, cancel=cancel, progress=progress, stats=stats, noise=noise)]
        wave = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return wave, stats


def validate_options(options: SynthesisOptions, cfg: VoxtralConfig) -> None:
    """The ranges of the Voice tab's own specs (demos.voice.limits), so the engine never states other ones."""
    from demos.voice.limits import CFG_ALPHA, EULER_STEPS, MAX_SECONDS

    CFG_ALPHA.check(options.cfg_alpha)
    if options.n_steps is not None:
        EULER_STEPS.check(options.n_steps)
    if MAX_SECONDS.check(options.max_seconds) <= 0:
        raise MAX_SECONDS.refuse(options.max_seconds, f"above 0 s, up to {MAX_SECONDS.maximum:g} s")


def is_quantized_linear(module: torch.nn.Module, fqn: str) -> bool:
    """int8 only the Linear layers of the backbone and the acoustic transformer (not the codec)."""
    return isinstance(module, torch.nn.Linear) and (fqn.startswith("layers.") or fqn.startswith("acoustic_transformer."))


def load_engine(model_dir: Path, plan) -> VoxtralEngine:
    """`ctx.load` loader: the engine placed as the PlacementPlan says.

    A CPU plan's own dtype is used (bf16 where the host lacks RAM for float32); a GPU plan
    running on a machine without CUDA falls back to float32 (bf16 matmuls are slower on a CPU).
    """
    device = execution_device(plan)
    dtype = torch_dtype(plan.dtype) if device.type == "cuda" or plan.device == "cpu" else torch.float32
    return VoxtralEngine.load(model_dir, device=str(device), dtype=dtype, quantization=plan.quantization)
