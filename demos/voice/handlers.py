"""The Voxtral section's work, apart from its layout: checks, the GPU task, info, saving.

`tab.py` builds the components and wires `VoiceHandlers`' methods to events. The methods registered
as endpoints (`tts`, `tts_stream`) keep their signatures and docstrings: Gradio reads them for the
API page and the MCP tool descriptions. Everything else takes and returns plain values.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import gradio as gr
import numpy as np

from demos.voice import plans
from demos.voice import remote as voice_remote
from demos.voice.limits import CFG_ALPHA, EULER_STEPS, MAX_SECONDS, VOICE
from demos.voice.plans import KEY
from demos.voice.player import GrowingWav, streaming_player_available, to_int16
from demos.voice.progress_words import GenerationEvent, RunTalker, generation_emitter
from demos.voice.voxtral.config import DEFAULT_CFG_ALPHA, DEFAULT_DECODING_STEPS
from demos.voice.voxtral.text import validate_text
from demos.voice.voxtral.voices import DEFAULT_VOICE
from shared.models import hub
from shared.models.expected_speed import factor_words
from shared.io.outputs import save_audio_output
from shared.io.params import Number
from shared.tasks.cancel import CancelToken, no_progress
from shared.web.ui import AppContext, gradio_errors, gradio_progress, resolve_seed, stopped_line
from shared.tasks.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

if TYPE_CHECKING:  # the engine (torch) is imported by the first request, not by the page
    from demos.voice.voxtral.engine import SynthesisOptions

OUTPUT_DEMO = "voice_voxtral"


def auto_max_seconds(text: str, cap: float) -> float:
    """A duration limit long enough for `text`: ~15 characters per second is typical speech, so
    0.15 s per character plus 5 s leaves room for slow voices, within the profile's cap."""
    return float(min(cap, max(10.0, math.ceil(5 + 0.15 * len(text or "")))))


def summary_line(info: dict) -> str:
    """Plain words under the player: 'First audio after 0.42 s · about 3.2× faster than real time · 6.4 s
    of audio · seed 12', then why it ended when something cut it (a limit, or Stop)."""
    first = info.get("time_to_first_audio_s")
    rtf = info.get("real_time_factor")
    audio_s = info.get("audio_seconds", 0)
    parts = [
        f"First audio after **{first:.2f} s**" if first is not None else "No audio generated",
        f"**{factor_words(rtf)}**" if rtf else None,
        f"{audio_s:.1f} s of audio",
        f"seed {info.get('seed')}",
    ]
    line = " · ".join(p for p in parts if p)
    reason = info.get("stop_reason")
    limit, cap = info.get("max_seconds"), info.get("max_seconds_limit")
    if info.get("stopped") or reason in ("cancelled", "stopped"):
        return stopped_line((info.get("timings") or {}).get("total_s"),
                            f"Kept the first {audio_s:.1f} s of audio: play it above, download it below.") + " " + line
    if reason == "max_duration" and limit is not None:
        raise_it = (f"raise Max duration under Advanced (up to {cap:g} s here) to hear the rest"
                    if cap and limit < cap else "this is the longest this profile makes: split the text to say the rest")
        return f"{line}  \n**The audio was cut at the {limit:g} s duration limit:** {raise_it}."
    if reason == "context":
        return f"{line}  \n**The audio was cut at the model's context length:** split the text into shorter requests."
    if reason == "segment_budget":
        return (f"{line}  \n**A sentence ran much longer than its text suggests and was cut:** "
                "try another seed or rephrase it.")
    return line


@dataclass(frozen=True)
class VoiceLimits:
    """This profile's caps: the sliders and every check use these."""
    max_chars: int
    max_seconds_cap: float
    seconds: Number  # MAX_SECONDS capped to the profile

    @classmethod
    def of(cls, ctx: AppContext) -> VoiceLimits:
        caps = ctx.plan(KEY).caps
        cap = float(caps.get("max_seconds", plans.CPU_MAX_SECONDS))
        return cls(int(caps.get("text_chars", plans.TEXT_CHARS)), cap,
                   MAX_SECONDS.capped(cap, f"the limit on profile '{ctx.profile}'"))

    def options(self, cfg_alpha, euler_steps, max_seconds, text: str = "", notes: dict | None = None) -> SynthesisOptions:
        """The engine's options from raw values; integer values off the grid are repaired into `notes`."""
        # 0 or nothing: a limit long enough for this text (within the profile's cap).
        seconds = self.seconds.check(None if max_seconds == "" else max_seconds, notes)
        seconds = seconds or auto_max_seconds(text, self.max_seconds_cap)
        from demos.voice.voxtral.engine import SynthesisOptions

        return SynthesisOptions(cfg_alpha=CFG_ALPHA.check(cfg_alpha, notes), n_steps=EULER_STEPS.check(euler_steps, notes),
                                max_seconds=seconds, max_chars=self.max_chars)


@dataclass
class TtsRequest:
    """One checked request: what the GPU task gets, and the repairs made on the way in."""
    text: str
    voice: str
    seed: int
    options: Any  # SynthesisOptions
    adjusted: dict


def check_request(limits: VoiceLimits, text, voice, seed, cfg_alpha, euler_steps, max_seconds) -> TtsRequest:
    """Every input checked before the model loads; our message names a bad one."""
    adjusted = {}  # values repaired on the way in (info["adjusted"])
    validate_text(text, limits.max_chars)
    voice = VOICE.check(voice)
    seed = resolve_seed(seed)
    return TtsRequest(text, voice, seed, limits.options(cfg_alpha, euler_steps, max_seconds, text, adjusted), adjusted)


def voxtral_info(base: dict, req: TtsRequest, limits: VoiceLimits, wave: np.ndarray, rate: int,
                 summary: dict | None, first_audio_s: float | None, started: float) -> dict:
    """The info dict of a run: `summary` is the task's result, None when Stop closed it first."""
    numbers = summary["stats"] if summary else {}
    options = req.options
    return {
        **base,
        "voice": req.voice,
        "cfg_alpha": options.cfg_alpha,
        "euler_steps": options.n_steps or DEFAULT_DECODING_STEPS,
        "max_seconds": options.max_seconds,
        "max_seconds_limit": limits.max_seconds_cap,
        **({"adjusted": req.adjusted} if req.adjusted else {}),
        "sample_rate": rate,
        "audio_seconds": round(len(wave) / rate, 3),
        "frames": numbers.get("frames"),
        "segments": numbers.get("segments"),
        "stop_reason": numbers.get("stop_reason", "stopped"),
        "stopped": summary is None,
        "time_to_first_audio_s": numbers.get("time_to_first_audio_s", first_audio_s),
        "real_time_factor": numbers.get("real_time_factor"),
        "timings": {"load_s": summary["load_s"] if summary else None, "generate_s": numbers.get("total_s"),
                    "total_s": round(time.perf_counter() - started, 4)},
        "device": summary["device"] if summary else None,
        "dtype": summary["dtype"] if summary else None,
        "licence": hub.licence_notice(KEY),
    }


def sidecar_inputs(info: dict, text: str, fmt: str) -> dict:
    """The sidecar's inputs: what History's "Reuse settings" fills back (tab.py registers the same names)."""
    return {"text": text, "voice": info["voice"], "seed": info["seed"], "cfg_alpha": info["cfg_alpha"],
            "euler_steps": info["euler_steps"], "max_seconds": info["max_seconds"], "format": fmt}


def _estimate_gpu_seconds(text: str, voice: str, seed: int, options: SynthesisOptions) -> float:
    """ZeroGPU reservation for one /tts call: model warm-up plus ~0.2 s of compute per second of audio
    allowed (an H100-class estimate with margin; the request is capped by the text's own length)."""
    return 30 + 0.2 * float(options.max_seconds)


def make_voxtral_task(ctx: AppContext):
    """The GPU task `voxtral_task(text, voice, seed, options)` of this app (it finds its engine in `ctx`)."""

    @gpu_task(duration=_estimate_gpu_seconds)
    def voxtral_task(text: str, voice: str, seed: int, options: SynthesisOptions):
        """GPU task (plain values in and out): yields ProgressEvents, an AudioChunk per chunk of audio, then
        TaskResult({"stats", "load_s", "sample_rate", "device", "dtype"})."""

        def work(emit, cancel):
            from demos.voice.voxtral.engine import SynthesisStats

            report = progress_emitter(emit)
            t0 = time.perf_counter()
            tts = voice_remote.voxtral_engine(ctx, report)  # the local engine, or the --remote servers
            load_s = round(time.perf_counter() - t0, 4)
            stats = SynthesisStats()
            generating = generation_emitter(emit)  # told apart from loading: the time left is measured on it
            for chunk in tts.stream(text, voice, seed, options, cancel=cancel, progress=generating, stats=stats):
                emit(chunk)
            numbers = stats.to_dict()
            numbers.pop("codes", None)
            return {"stats": numbers, "load_s": load_s, "sample_rate": tts.sample_rate, "device": str(tts.device),
                    "dtype": str(tts.dtype).replace("torch.", "")}

        yield from engine_events(work)

    return voxtral_task


class VoiceHandlers:
    """The Voxtral section's event handlers for one app context."""

    def __init__(self, ctx: AppContext, limits: VoiceLimits | None = None) -> None:
        self.ctx = ctx
        self.limits = limits or VoiceLimits.of(ctx)
        self.streaming = streaming_player_available()
        self.task = make_voxtral_task(ctx)

    def run(self, text, voice, seed, cfg_alpha, euler_steps, max_seconds, cancel: CancelToken | None = None,
            progress=None, talker: RunTalker | None = None) -> Iterator[tuple]:
        """Validate, then drive the GPU task: yields ((sample_rate, chunk), None) per audio chunk, then
        (full wave, info); after Stop, the audio made so far with `stopped` in info. With a `talker`,
        also (None, words) whenever the progress line has news."""
        progress = progress or no_progress
        started = time.perf_counter()
        req = check_request(self.limits, text, voice, seed, cfg_alpha, euler_steps, max_seconds)  # before the model
        pieces, summary, rate, first_audio_s = [], None, None, None
        remote = voice_remote.is_remote(self.ctx, KEY)  # forwarded: no GPU lease, no local GPU turn
        task = self.task.off_gpu if remote else self.task
        for event in drive(task(text, req.voice, req.seed, req.options), cancel, gpu=not remote):
            if isinstance(event, ProgressEvent):
                words = talker.hear(event) if talker else None
                if words or not isinstance(event, GenerationEvent):  # the bar at the line's pace
                    progress(event.fraction, event.description)
                if words:
                    yield None, words
            elif isinstance(event, TaskResult):
                summary = event.value
            else:
                pieces.append(event.samples)
                rate = event.sample_rate
                first_audio_s = first_audio_s or round(time.perf_counter() - started, 4)
                yield (event.sample_rate, event.samples), None
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        rate = summary["sample_rate"] if summary else rate
        if rate is None:  # stopped before any audio
            return
        yield wave, voxtral_info(self.ctx.base_info(KEY, req.seed), req, self.limits, wave, rate, summary,
                                 first_audio_s, started)

    def save(self, wave: np.ndarray, info: dict, fmt: str = "wav", text: str = "") -> str:
        return str(save_audio_output(self.ctx.outputs_dir, OUTPUT_DEMO, wave, int(info["sample_rate"]), info, fmt,
                                     inputs=sidecar_inputs(info, text, fmt)))

    def generate_all(self, text, voice, seed, cfg_alpha, euler_steps, max_seconds) -> tuple[np.ndarray, dict]:
        final = (None, None)
        for final in self.run(text, voice, seed, cfg_alpha, euler_steps, max_seconds):
            pass
        return final

    def stream_pieces(self, text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, cancel,
                      progress) -> Iterator[tuple]:
        """(player value, download file, summary line, info) as chunks arrive."""
        fallback, started, made_any = None, time.perf_counter(), False
        talker = RunTalker() if progress is not None else None  # the page's line; API streams stay as they were
        # On the request thread: spaces reads the Gradio request (and its X-IP-Token) from it.
        for wave, info in self.run(text, voice, seed, cfg_alpha, euler_steps, max_seconds, cancel, progress, talker):
            if wave is None:  # news for the status line only
                yield gr.skip(), gr.skip(), info, gr.skip()
                continue
            made_any = True
            if info is not None:
                path = self.save(wave, info, fmt, text)
                yield (None if self.streaming else path), path, summary_line(info), info
            elif self.streaming:
                rate, samples = wave
                yield (rate, to_int16(samples)), None, (talker and talker.line) or "Generating…", None
            else:
                rate, samples = wave
                fallback = fallback or GrowingWav(self.ctx.outputs_dir, OUTPUT_DEMO, rate)
                yield fallback.add(samples), None, (talker and talker.line) or "Generating…", None
        if not made_any and cancel is not None and cancel.cancelled:
            # Stopped before the first audio: say so. The player and the download keep what they hold
            # (an earlier run's result), untouched: gr.skip() is no new value, and no new stream.
            yield gr.skip(), gr.skip(), stopped_line(time.perf_counter() - started, "No audio was made yet."), gr.skip()

    # ------------------------------------------------------------ events (signatures are the API)
    @gradio_errors
    def tts(self, text: str, voice: str = DEFAULT_VOICE, seed: float = -1, cfg_alpha: float = DEFAULT_CFG_ALPHA,
            euler_steps: int = DEFAULT_DECODING_STEPS, max_seconds: float = 0) -> tuple[str, dict]:
        """Speak `text` with one of Voxtral-4B-TTS's 20 preset voices.

        Args:
            text: What to say (up to the character limit shown in the UI, 2,000 by default; long text is split at sentences).
            voice: Preset voice name, e.g. neutral_female, casual_male, fr_female, de_male, hi_female.
            seed: Seed for the flow-matching noise; -1 picks one (reported in info).
            cfg_alpha: Classifier-free guidance strength of the acoustic flow (default 1.2).
            euler_steps: Euler steps of the acoustic flow per frame (default 7).
            max_seconds: Stop after this much audio; 0 (the default) allows enough for the text, up to the profile's cap.

        Returns:
            The speech as a 24 kHz WAV file, and an info dict (seed, model, source, profile, timings,
            time to first audio, real-time factor, stop reason).
        """
        wave, info = self.generate_all(text, voice, seed, cfg_alpha, euler_steps, max_seconds)
        path = self.save(wave, info, "wav", text)
        return path, info

    @gradio_errors
    def tts_stream(self, text: str, voice: str = DEFAULT_VOICE, seed: float = -1,
                   cfg_alpha: float = DEFAULT_CFG_ALPHA, euler_steps: int = DEFAULT_DECODING_STEPS,
                   max_seconds: float = 0, request: gr.Request = None) -> Iterator[tuple]:
        """Streaming variant of /tts: yields audio chunks as frames are generated, then the full WAV file and info.

        Args:
            text: What to say (long text is split at sentences and streamed continuously).
            voice: Preset voice name, e.g. neutral_female, casual_male, fr_female.
            seed: Seed for the flow-matching noise; -1 picks one (reported in info).
            cfg_alpha: Classifier-free guidance strength of the acoustic flow (default 1.2).
            euler_steps: Euler steps of the acoustic flow per frame (default 7).
            max_seconds: Stop after this much audio; 0 (the default) allows enough for the text, up to the profile's cap.
        """
        with self.ctx.cancel_scope(request) as cancel:
            yield from self.stream_pieces(text, voice, seed, cfg_alpha, euler_steps, max_seconds, "wav", cancel, None)

    @gradio_errors
    def tts_from_ui(self, text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, request: gr.Request,
                    progress=gr.Progress()):
        with self.ctx.cancel_scope(request) as cancel:
            yield from self.stream_pieces(
                text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, cancel, gradio_progress(progress)
            )
