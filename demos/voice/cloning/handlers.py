"""The cloning section's work, apart from its layout: checks, the GPU task, info, keeping the result.

`tab_section.py` builds the components and wires `CloneHandlers`' methods to events. The methods
registered as endpoints (`clone_voice`, `clone_voice_stream`) keep their signatures and docstrings:
Gradio reads them for the API page and the MCP tool descriptions.
"""
from __future__ import annotations

import time
from typing import Iterator

import gradio as gr
import numpy as np

from demos.voice import remote as voice_remote
from demos.voice.cloning import engine
from demos.voice.cloning.plans import KEY
from demos.voice.cloning.reference import SAMPLE_RATE, prepare_reference
from demos.voice.player import GrowingWav, streaming_player_available, to_int16
from demos.voice.progress_words import GenerationEvent, RunTalker, generation_emitter
from shared.models import hub
from shared.models.expected_speed import factor_words
from shared.errors import UserInputError
from shared.io.outputs import save_audio_output, save_inputs
from shared.tasks.cancel import CancelToken, Cancelled, NothingKept, no_progress
from shared.web.ui import AppContext, gradio_errors, gradio_progress, resolve_seed, stopped_line
from shared.io.uploads import uploaded_file
from shared.tasks.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

OUTPUT_DEMO = "voice_clone"
CONSENT_LABEL = "I have the right to use this voice (it is mine, or its owner agreed to this use)."
API_CONSENT = "By calling this endpoint you confirm you have the right to use the voice in the reference recording."


def clone_summary(info) -> str:
    """The plain-words line under the cloned speech, as the Voxtral section has."""
    if not isinstance(info, dict) or "audio_seconds" not in info:
        return ""
    timings = info.get("timings") or {}
    first, rtf, audio_s = timings.get("first_audio_s"), info.get("real_time_factor"), info.get("audio_seconds", 0)
    parts = [f"First audio after **{first:.2f} s**" if first is not None else "No audio generated",
             f"**{factor_words(rtf)}**" if rtf else None,
             f"{audio_s:.1f} s of audio from a {info.get('reference_seconds', 0):.1f} s reference",
             "voice reused from the cache" if info.get("voice_cache") == "hit" else None,
             f"seed {info.get('seed')}"]
    line = " · ".join(p for p in parts if p)
    if info.get("cancelled"):
        return stopped_line(timings.get("total_s"), f"Kept the first {audio_s:.1f} s: play it above, download it below.") + " " + line
    return line


def check_request(text, reference_audio) -> tuple[str, str]:
    """(text, reference path) checked before any work; our message names a bad one."""
    text = engine.check_text(text)
    reference_audio = uploaded_file(reference_audio, "reference_audio")
    if reference_audio is None:
        raise UserInputError("reference_audio: no recording was given. Upload or record a clip of the voice to clone.")
    return text, reference_audio


def check_consent(consent) -> None:
    """The UI's consent box must be ticked (API callers confirm by calling)."""
    if not consent:
        raise UserInputError("Tick the consent box first: clone only voices you have the right to use.")


def clone_info(base: dict, timings: dict, wave: np.ndarray, reference: np.ndarray, summary: dict | None,
               first_audio_s: float | None, started: float) -> dict:
    """The info dict of a run: `summary` is the task's result, None when Stop closed it first."""
    stats = summary["stats"] if summary else {}
    audio_s = len(wave) / SAMPLE_RATE
    timings = {**timings,
               "load_s": summary["load_s"] if summary else None,
               "encode_s": stats.get("encode_s"),
               "first_audio_s": stats.get("first_audio_s", first_audio_s),
               "generate_s": stats.get("generate_s"),
               "total_s": round(time.perf_counter() - started, 4)}
    return {
        **base,
        "timings": timings,
        "audio_seconds": round(audio_s, 3),
        "real_time_factor": round(stats["generate_s"] / audio_s, 4) if audio_s and stats.get("generate_s") else None,
        "sample_rate": SAMPLE_RATE,
        "reference_seconds": round(len(reference) / SAMPLE_RATE, 3),
        "voice_cache": stats.get("voice_cache"),
        "chunks": stats.get("chunks"),
        "frames": stats.get("frames"),
        "cancelled": summary is None or bool(stats.get("cancelled")),
        "device": summary["device"] if summary else None,
        "licence": hub.licence_notice(KEY),
    }


def consent_record(consent_via: str) -> dict:
    """What is kept with the reference: who confirmed the right to use the voice, and how."""
    return {"given_by": consent_via, "statement": CONSENT_LABEL if consent_via != "api call" else API_CONSENT,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _estimate_gpu_seconds(text: str, reference: np.ndarray, seed: int) -> float:
    """ZeroGPU reservation: encoder warm-up plus ~15 characters of speech per second (Pocket TTS runs
    several times faster than real time; the margin covers a cold voice encode)."""
    return 20 + len(text or "") / 15


def make_clone_task(ctx: AppContext):
    """The GPU task `clone_task(text, reference, seed)` of this app (it finds its cloner in `ctx`)."""

    @gpu_task(duration=_estimate_gpu_seconds)
    def clone_task(text: str, reference: np.ndarray, seed: int):
        """GPU task (plain values in and out): yields ProgressEvents, a float32 wave per generated piece,
        then TaskResult({"stats", "load_s", "device"})."""

        def work(emit, cancel):
            report = progress_emitter(emit)
            t0 = time.perf_counter()
            cloner = voice_remote.cloning_engine(ctx, report)  # the local cloner, or the --remote servers
            load_s = round(time.perf_counter() - t0, 4)
            try:
                generating = generation_emitter(emit)  # told apart from loading: the time left is measured on it
                for chunk in cloner.stream(text, reference, seed, cancel=cancel, progress=generating):
                    emit(chunk.wave)
            except Cancelled:
                pass
            return {"stats": dict(cloner.last_stats), "load_s": load_s, "device": str(cloner.device)}

        yield from engine_events(work)

    return clone_task


class CloneHandlers:
    """The cloning section's event handlers for one app context."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.task = make_clone_task(ctx)
        self.streaming = streaming_player_available()

    def run(self, text: str, reference_audio: str | None, seed, cancel: CancelToken | None = None,
            progress=None, talker: RunTalker | None = None) -> Iterator[tuple]:
        """Validate, prepare the reference, drive the GPU task: yields (chunk wave, None) per piece, then
        (full wave, info); after Stop, the audio made so far with `cancelled` in info. With a `talker`,
        also (None, words) whenever the progress line has news."""
        progress = progress or no_progress
        text, reference_audio = check_request(text, reference_audio)
        started = time.perf_counter()
        seed = resolve_seed(seed)
        t0 = time.perf_counter()
        reference = prepare_reference(reference_audio)
        timings = {"reference_s": round(time.perf_counter() - t0, 4)}
        pieces, summary, first_audio_s = [], None, None
        remote = voice_remote.is_remote(self.ctx, KEY)  # forwarded: no GPU lease, no local GPU turn
        task = self.task.off_gpu if remote else self.task
        for event in drive(task(text, reference, seed), cancel, gpu=not remote):
            if isinstance(event, ProgressEvent):
                words = talker.hear(event) if talker else None
                if words or not isinstance(event, GenerationEvent):  # the bar at the line's pace
                    progress(event.fraction, event.description)
                if words:
                    yield None, words
            elif isinstance(event, TaskResult):
                summary = event.value
            else:
                pieces.append(event)
                # Seen here too: after Stop the task's own stats never arrive.
                first_audio_s = first_audio_s or round(time.perf_counter() - started, 4)
                yield event, None
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        yield wave, clone_info(self.ctx.base_info(KEY, seed), timings, wave, reference, summary, first_audio_s, started)

    def save(self, wave: np.ndarray, info: dict, fmt: str = "wav", text: str = "", reference_audio=None,
             consent_via: str = "api call") -> str:
        # The reference is kept (content-addressed, deletable from History) with the consent given for it,
        # so "Reuse settings" can fill it back.
        saved = save_inputs(self.ctx.outputs_dir, {"reference_audio": uploaded_file(reference_audio, "reference_audio")},
                            consent=consent_record(consent_via))
        inputs = {"text": text, "reference_audio": None, "seed": info["seed"], "format": fmt}
        return str(save_audio_output(self.ctx.outputs_dir, OUTPUT_DEMO, wave, SAMPLE_RATE, info, fmt, inputs=inputs,
                                     saved_inputs=saved))

    def generate_all(self, text, reference_audio, seed) -> tuple[np.ndarray, dict]:
        final = (None, None)
        for final in self.run(text, reference_audio, seed):
            pass
        return final

    def stream_pieces(self, text, reference_audio, seed, fmt, cancel, progress, consent_via="api call") -> Iterator[tuple]:
        """(chunk for the player, file, info, status line) as pieces arrive."""
        fallback = GrowingWav(self.ctx.outputs_dir, OUTPUT_DEMO, SAMPLE_RATE) if not self.streaming else None
        talker = RunTalker() if progress is not None else None  # the page's line; API streams stay as they were
        # On the request thread: spaces reads the Gradio request (and its X-IP-Token) from it.
        for wave, info in self.run(text, reference_audio, seed, cancel, progress, talker):
            line = (talker and talker.line) or gr.skip()
            if wave is None:  # news for the status line only
                yield gr.skip(), gr.skip(), gr.skip(), info
            elif info is not None:
                if info.get("cancelled") and not len(wave):  # Stop came before any audio: nothing to save
                    raise NothingKept("Stopped before the first audio was ready: nothing was kept.")
                path = self.save(wave, info, fmt, text, reference_audio, consent_via)
                yield (None if self.streaming else path), path, info, clone_summary(info)
            elif self.streaming:
                yield (SAMPLE_RATE, to_int16(wave)), None, None, line
            else:
                yield fallback.add(wave), None, None, line  # no ffmpeg: the audio so far as one WAV

    # ------------------------------------------------------------ events (signatures are the API)
    @gradio_errors
    def clone_voice(self, text: str, reference_audio: str, seed: float = -1) -> tuple[str, dict]:
        """Say `text` in the voice of a reference recording (zero-shot cloning with Pocket TTS).

        By calling this endpoint you confirm you have the right to use the voice in the reference recording.

        Args:
            text: What the cloned voice says (up to 1,000 characters; long text is split at sentences).
            reference_audio: A recording of the voice to clone: 2-30 s of speech after trimming silence; any common format, rate and channel count.
            seed: Random seed for the sampling noise; -1 picks one (reported in info).

        Returns:
            The generated speech as a 24 kHz WAV file, and an info dict (seed, model, source, profile, timings, voice cache hit or miss).
        """
        wave, info = self.generate_all(text, reference_audio, seed)
        return self.save(wave, info, "wav", text, reference_audio), info

    @gradio_errors
    def clone_voice_stream(self, text: str, reference_audio: str, seed: float = -1,
                           request: gr.Request = None) -> Iterator[tuple]:
        """Streaming variant of /clone_voice: yields audio as each sentence group is generated, then the full file and info.

        By calling this endpoint you confirm you have the right to use the voice in the reference recording.

        Args:
            text: What the cloned voice says (up to 1,000 characters; long text is split at sentences).
            reference_audio: A recording of the voice to clone: 2-30 s of speech after trimming silence; any common format, rate and channel count.
            seed: Random seed for the sampling noise; -1 picks one (reported in info).
        """
        with self.ctx.cancel_scope(request) as cancel:
            for player, file, info, _line in self.stream_pieces(text, reference_audio, seed, "wav", cancel, None):
                yield player, file, info

    @gradio_errors
    def clone_from_ui(self, text, reference_audio, seed, consent, fmt, request: gr.Request, progress=gr.Progress()):
        check_consent(consent)
        with self.ctx.cancel_scope(request) as cancel:
            yield from self.stream_pieces(text, reference_audio, seed, fmt, cancel, gradio_progress(progress),
                                          consent_via="consent checkbox")


def reuse_fill(values: dict, sidecar: dict) -> dict:
    """History's "Reuse settings": the saved reference comes back, the consent box must be ticked again,
    and the Voice tab switches to the cloning sub-tab (dropped by the registry where there is none)."""
    return {**values, "consent": False, "mode": gr.Tabs(selected="clone")}
