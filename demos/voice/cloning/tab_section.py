"""The voice-cloning section of the Voice tab (Pocket TTS).

`build_cloning_section(ctx)` is called by the Voice tab inside its own
accordion/sub-tab. It builds the UI and registers two API endpoints:

- `/clone_voice` (text, reference_audio, seed) -> audio file, info
- `/clone_voice_stream` (same inputs) -> audio chunks as they are generated,
  then the full file and info.

The consent checkbox guards the UI button; API callers confirm consent by
calling (said in the endpoint docstrings).
"""
from __future__ import annotations

import time
from typing import Iterator

import gradio as gr
import numpy as np

from demos.assets import asset
from demos.voice.player import GrowingWav, streaming_player_available, to_int16
from shared import hub
from shared.errors import UserInputError
from shared.outputs import AUDIO_FORMATS, save_audio_output, save_inputs
from shared.tasks import CancelToken, Cancelled, no_progress
from shared.ui import (AppContext, gradio_errors, gradio_progress, lock_while_running, readiness_markdown, refresh_on_load, resolve_seed,
                       stopped_line)
from shared.uploads import uploaded_file
from shared.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from demos.voice.cloning import engine
from demos.voice import remote as voice_remote
from demos.voice.cloning.plans import KEY
from demos.voice.cloning.reference import MAX_SECONDS, MIN_SECONDS, SAMPLE_RATE, prepare_reference
from demos.voice.cloning.specs import ATTRIBUTION

OUTPUT_DEMO = "voice_clone"
CONSENT_LABEL = "I have the right to use this voice (it is mine, or its owner agreed to this use)."
API_CONSENT = "By calling this endpoint you confirm you have the right to use the voice in the reference recording."
NOTICE = (
    "**Clone only voices you have the right to use.** Upload or record "
    f"{MIN_SECONDS:g}–{MAX_SECONDS:g} s of clear speech (any common format; silence at the ends is trimmed). "
    "Do not use a cloned voice to deceive, impersonate or harass anyone."
)


def _estimate_gpu_seconds(text: str, reference: np.ndarray, seed: int) -> float:
    """ZeroGPU reservation: encoder warm-up plus ~15 characters of speech per second (Pocket TTS runs
    several times faster than real time; the margin covers a cold voice encode)."""
    return 20 + len(text or "") / 15


def clone_summary(info) -> str:
    """The plain-words line under the cloned speech, as the Voxtral section has."""
    if not isinstance(info, dict) or "audio_seconds" not in info:
        return ""
    timings = info.get("timings") or {}
    first, rtf, audio_s = timings.get("first_audio_s"), info.get("real_time_factor"), info.get("audio_seconds", 0)
    parts = [f"First audio after **{first:.2f} s**" if first is not None else "No audio generated",
             f"real-time factor **{rtf:.2f}**" if rtf is not None else None,
             f"{audio_s:.1f} s of audio from a {info.get('reference_seconds', 0):.1f} s reference",
             "voice reused from the cache" if info.get("voice_cache") == "hit" else None,
             f"seed {info.get('seed')}"]
    line = " · ".join(p for p in parts if p)
    if info.get("cancelled"):
        return stopped_line(timings.get("total_s"), f"Kept the first {audio_s:.1f} s: play or download it above.") + " " + line
    return line


def build_cloning_section(ctx: AppContext, accordion=None) -> None:
    """Build the cloning UI inside the caller's layout block (`accordion`, opened by Reuse settings)
    and register its endpoints."""

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
                for chunk in cloner.stream(text, reference, seed, cancel=cancel, progress=report):
                    emit(chunk.wave)
            except Cancelled:
                pass
            return {"stats": dict(cloner.last_stats), "load_s": load_s, "device": str(cloner.device)}

        yield from engine_events(work)

    def run(text: str, reference_audio: str | None, seed, cancel: CancelToken | None = None,
            progress=None) -> Iterator[tuple]:
        """Validate, prepare the reference, drive the GPU task: yields (chunk wave, None) per piece, then
        (full wave, info); after Stop, the audio made so far with `cancelled` in info."""
        progress = progress or no_progress
        text = engine.check_text(text)
        reference_audio = uploaded_file(reference_audio, "reference_audio")
        if reference_audio is None:
            raise UserInputError("reference_audio: no recording was given. Upload or record a clip of the voice to clone.")
        started = time.perf_counter()
        seed = resolve_seed(seed)
        timings = {}
        t0 = time.perf_counter()
        reference = prepare_reference(reference_audio)
        timings["reference_s"] = round(time.perf_counter() - t0, 4)
        pieces, summary, first_audio_s = [], None, None
        remote = voice_remote.is_remote(ctx, KEY)  # forwarded: no GPU lease, no local GPU turn
        task = clone_task.off_gpu if remote else clone_task
        for event in drive(task(text, reference, seed), cancel, gpu=not remote):
            if isinstance(event, ProgressEvent):
                progress(event.fraction, event.description)
            elif isinstance(event, TaskResult):
                summary = event.value
            else:
                pieces.append(event)
                # Seen here too: after Stop the task's own stats never arrive.
                first_audio_s = first_audio_s or round(time.perf_counter() - started, 4)
                yield event, None
        stats = summary["stats"] if summary else {}
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        audio_s = len(wave) / SAMPLE_RATE
        timings.update(
            load_s=summary["load_s"] if summary else None,
            encode_s=stats.get("encode_s"),
            first_audio_s=stats.get("first_audio_s", first_audio_s),
            generate_s=stats.get("generate_s"),
            total_s=round(time.perf_counter() - started, 4),
        )
        info = {
            **ctx.base_info(KEY, seed),
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
        yield wave, info

    def save(wave: np.ndarray, info: dict, fmt: str = "wav", text: str = "", reference_audio=None,
             consent_via: str = "api call") -> str:
        # The reference is kept (content-addressed, deletable from History) with the consent given for it,
        # so "Reuse settings" can fill it back.
        consent = {"given_by": consent_via, "statement": CONSENT_LABEL if consent_via != "api call" else API_CONSENT,
                   "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        saved = save_inputs(ctx.outputs_dir, {"reference_audio": uploaded_file(reference_audio, "reference_audio")},
                            consent=consent)
        inputs = {"text": text, "reference_audio": None, "seed": info["seed"], "format": fmt}
        return str(save_audio_output(ctx.outputs_dir, OUTPUT_DEMO, wave, SAMPLE_RATE, info, fmt, inputs=inputs,
                                     saved_inputs=saved))

    def generate_all(text, reference_audio, seed) -> tuple[np.ndarray, dict]:
        final = (None, None)
        for final in run(text, reference_audio, seed):
            pass
        return final

    streaming = streaming_player_available()

    def stream_pieces(text, reference_audio, seed, fmt, cancel, progress, consent_via="api call") -> Iterator[tuple]:
        """(chunk for the player, file, info) as pieces arrive."""
        fallback = GrowingWav(ctx.outputs_dir, OUTPUT_DEMO, SAMPLE_RATE) if not streaming else None
        # On the request thread: spaces reads the Gradio request (and its X-IP-Token) from it.
        for wave, info in run(text, reference_audio, seed, cancel, progress):
            if info is not None:
                path = save(wave, info, fmt, text, reference_audio, consent_via)
                yield (None if streaming else path), path, info
            elif streaming:
                yield (SAMPLE_RATE, to_int16(wave)), None, None
            else:
                yield fallback.add(wave), None, None  # no ffmpeg: the audio so far as one WAV

    @gradio_errors
    def clone_voice(text: str, reference_audio: str, seed: float = -1) -> tuple[str, dict]:
        """Say `text` in the voice of a reference recording (zero-shot cloning with Pocket TTS).

        By calling this endpoint you confirm you have the right to use the voice in the reference recording.

        Args:
            text: What the cloned voice says (up to 1,000 characters; long text is split at sentences).
            reference_audio: A recording of the voice to clone: 2-30 s of speech after trimming silence; any common format, rate and channel count.
            seed: Random seed for the sampling noise; -1 picks one (reported in info).

        Returns:
            The generated speech as a 24 kHz WAV file, and an info dict (seed, model, source, profile, timings, voice cache hit or miss).
        """
        wave, info = generate_all(text, reference_audio, seed)
        return save(wave, info, "wav", text, reference_audio), info

    @gradio_errors
    def clone_voice_stream(text: str, reference_audio: str, seed: float = -1, request: gr.Request = None) -> Iterator[tuple]:
        """Streaming variant of /clone_voice: yields audio as each sentence group is generated, then the full file and info.

        By calling this endpoint you confirm you have the right to use the voice in the reference recording.

        Args:
            text: What the cloned voice says (up to 1,000 characters; long text is split at sentences).
            reference_audio: A recording of the voice to clone: 2-30 s of speech after trimming silence; any common format, rate and channel count.
            seed: Random seed for the sampling noise; -1 picks one (reported in info).
        """
        with ctx.cancel_scope(request) as cancel:
            yield from stream_pieces(text, reference_audio, seed, "wav", cancel, None)

    @gradio_errors
    def clone_from_ui(text, reference_audio, seed, consent, fmt, request: gr.Request, progress=gr.Progress()):
        if not consent:
            raise UserInputError("Tick the consent box first: clone only voices you have the right to use.")
        with ctx.cancel_scope(request) as cancel:
            yield from stream_pieces(text, reference_audio, seed, fmt, cancel, gradio_progress(progress),
                                     consent_via="consent checkbox")

    # ------------------------------------------------------------------ UI
    gr.Markdown(NOTICE, elem_id="clone-notice")
    gr.Markdown(f"{hub.licence_notice(KEY)} {ATTRIBUTION}", elem_id="clone-licence")
    refresh_on_load(gr.Markdown(elem_id="clone-readiness"), readiness_markdown(ctx, [KEY]))
    with gr.Row():
        with gr.Column():
            reference_audio = gr.Audio(
                sources=["upload", "microphone"],
                type="filepath",
                label=f"Reference voice ({MIN_SECONDS:g}–{MAX_SECONDS:g} s of speech)",
                elem_id="clone-reference",
            )
            text = gr.Textbox(
                label="Text",
                lines=4,
                max_length=engine.MAX_TEXT_CHARS,
                placeholder="What the cloned voice should say (up to 1,000 characters).",
                elem_id="clone-text",
            )
            with gr.Row():
                seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)", elem_id="clone-seed")
                fmt = gr.Radio(list(AUDIO_FORMATS), value="wav", label="Download format", elem_id="clone-format")
            consent = gr.Checkbox(value=False, label=CONSENT_LABEL, elem_id="clone-consent")
            with gr.Row():
                run_button = gr.Button("Clone voice", variant="primary", elem_id="clone-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="clone-stop")
            # The reference is espeak-ng reading a fixed text, made by demos/assets/make.py (see PROVENANCE.md).
            gr.Examples(
                examples=[[asset("voice_reference.flac"), "Hello, this is a cloned voice reading one short sentence."],
                          [asset("voice_reference.flac"), "The weather is lovely today; let's walk along the river."]],
                inputs=[reference_audio, text], label="Examples: a synthetic reference voice (espeak-ng)",
                elem_id="clone-examples",
            )
        with gr.Column():
            player = gr.Audio(
                label="Cloned speech", streaming=streaming, autoplay=True, interactive=False,
                type="filepath",
                elem_id="clone-player",
            )
            download = gr.File(label="Download", interactive=False, elem_id="clone-download")
            # Progress (and queue position) show on this line, not over the player.
            summary = gr.Markdown("Give a reference clip and a text (or pick an example below), tick the box, "
                                  "then press Clone voice.", elem_id="clone-summary", min_height=64, container=True)
            with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="clone-info-accordion"):
                info = gr.JSON(label="Info", elem_id="clone-info")

    release_run = lock_while_running(run_button, "Cloning…")
    queue = voice_remote.queue_for(ctx, KEY)  # the GPU line, or one slot per --remote backend
    ui_event = run_button.click(
        clone_from_ui, [text, reference_audio, seed, consent, fmt], [player, download, info],
        api_visibility="private", preprocess=False, show_progress_on=[summary], **queue,
    )
    release_run(ui_event)
    info.change(clone_summary, info, summary, api_visibility="private", queue=False, show_progress="hidden")
    # Stop cancels the run's token, not the event: the run ends itself and returns what it made.
    stop_button.click(ctx.stop, None, None, queue=False, api_visibility="private")
    # API endpoints (contract names and parameters) on hidden triggers.
    api_plain = gr.Button(visible=False)
    api_plain.click(clone_voice, [text, reference_audio, seed], [download, info], api_name="clone_voice", preprocess=False,
                    **queue)
    api_stream = gr.Button(visible=False)
    api_stream.click(
        clone_voice_stream, [text, reference_audio, seed], [player, download, info],
        api_name="clone_voice_stream", preprocess=False, **queue,
    )

    # History's "Reuse settings": the saved reference comes back, the consent box must be ticked again.
    def reuse_fill(values: dict, sidecar: dict) -> dict:
        opened = {"accordion": gr.Accordion(open=True)} if accordion is not None else {}
        return {**values, "consent": False, **opened}

    ctx.reuse.register(OUTPUT_DEMO, tab="voice", inputs={
        "text": text, "reference_audio": reference_audio, "seed": seed, "format": fmt},
        media=("reference_audio",), fill=reuse_fill,
        extras={"consent": consent, **({"accordion": accordion} if accordion is not None else {})})


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load Pocket TTS (model and codec) at start-up, in the main process."""
    if not voice_remote.is_remote(ctx, KEY):  # served by --remote servers: nothing to load here
        ctx.load(KEY, engine.load)
