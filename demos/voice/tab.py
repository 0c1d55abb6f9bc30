"""The Voice tab: Voxtral-4B-TTS preset voices, streamed; plus voice cloning when present.

Endpoints (DESIGN.md §3):
- `/tts` (text, voice, seed) -> audio file, info
- `/tts_stream` (same inputs) -> audio chunks as frames are generated, then the file and info
Both also take optional `cfg_alpha`, `euler_steps`, `max_seconds` (defaults shown in the UI).
"""
from __future__ import annotations

import importlib
import math
import time
from typing import TYPE_CHECKING, Iterator

import gradio as gr
import numpy as np

from demos.voice.player import GrowingWav, streaming_player_available, to_int16
from shared import hub
from shared.errors import UserInputError
from shared.outputs import AUDIO_FORMATS, save_audio_output
from shared.tasks import CancelToken, no_progress
from shared.ui import (AppContext, gradio_errors, gradio_progress, lock_while_running, readiness_markdown, refresh_on_load, resolve_seed,
                       stopped_line)
from shared.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from demos.voice import plans
from demos.voice import remote as voice_remote
from demos.voice.limits import CFG_ALPHA, EULER_STEPS, MAX_SECONDS, VOICE
from demos.voice.plans import KEY
from demos.voice.voxtral.config import DEFAULT_CFG_ALPHA, DEFAULT_DECODING_STEPS
from demos.voice.voxtral.text import validate_text
from demos.voice.voxtral.voices import DEFAULT_VOICE, PRESET_VOICES, grouped_choices

if TYPE_CHECKING:  # the engine (torch) is imported by the first request, not by the page
    from demos.voice.voxtral.engine import SynthesisOptions

TITLE = "Voice"
OUTPUT_DEMO = "voice_voxtral"
LICENCE_NOTE = (
    "Voxtral-4B-TTS weights are licensed **CC BY-NC 4.0**: non-commercial use only, with attribution to Mistral AI. "
    "Voices are the 20 presets shipped with the model (the open weights have no codec encoder, so no cloning with Voxtral)."
)


# (voice, sentence): one per language of the presets.
VOICE_EXAMPLES = [
    ("neutral_female", "Hello! This is Voxtral, reading your text aloud in a calm, clear voice."),
    ("casual_male", "Hey, thanks for joining the call today. Let's get started with a quick update."),
    ("cheerful_female", "Good news, everyone: the results are in, and they look great!"),
    ("fr_female", "Bonjour ! Il fait beau aujourd'hui, allons nous promener au bord de la mer."),
    ("de_male", "Guten Tag! Heute zeigen wir, wie aus einem Text eine Stimme wird."),
    ("es_female", "¡Hola! Hoy es un día perfecto para pasear por el parque."),
    ("it_male", "Buongiorno! Questa è una breve frase di prova in italiano."),
    ("pt_female", "Olá! Esta é uma voz em português, gerada a partir do texto."),
    ("nl_male", "Hallo! Dit is een korte zin in het Nederlands."),
    ("hi_female", "नमस्ते! आज मौसम बहुत सुहावना है।"),
    ("ar_male", "مرحبا! هذا مثال قصير باللغة العربية."),
]


def auto_max_seconds(text: str, cap: float) -> float:
    """A duration limit long enough for `text`: ~15 characters per second is typical speech, so
    0.15 s per character plus 5 s leaves room for slow voices, within the profile's cap."""
    return float(min(cap, max(10.0, math.ceil(5 + 0.15 * len(text or "")))))


def summary_line(info: dict) -> str:
    """Plain words under the player: 'First audio after 0.42 s · real-time factor 0.31 · 6.4 s of audio
    · seed 12', then why it ended when something cut it (a limit, or Stop)."""
    first = info.get("time_to_first_audio_s")
    rtf = info.get("real_time_factor")
    audio_s = info.get("audio_seconds", 0)
    parts = [
        f"First audio after **{first:.2f} s**" if first is not None else "No audio generated",
        f"real-time factor **{rtf:.2f}**" if rtf is not None else None,
        f"{audio_s:.1f} s of audio",
        f"seed {info.get('seed')}",
    ]
    line = " · ".join(p for p in parts if p)
    reason = info.get("stop_reason")
    limit, cap = info.get("max_seconds"), info.get("max_seconds_limit")
    if info.get("stopped") or reason in ("cancelled", "stopped"):
        return stopped_line((info.get("timings") or {}).get("total_s"),
                            f"Kept the first {audio_s:.1f} s of audio: play or download it above.") + " " + line
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


def _estimate_gpu_seconds(text: str, voice: str, seed: int, options: SynthesisOptions) -> float:
    """ZeroGPU reservation for one /tts call: model warm-up plus ~0.2 s of compute per second of audio
    allowed (an H100-class estimate with margin; the request is capped by the text's own length)."""
    return 30 + 0.2 * float(options.max_seconds)


def build_tab(ctx: AppContext) -> None:
    plan = ctx.plan(KEY)
    max_chars = int(plan.caps.get("text_chars", plans.TEXT_CHARS))
    max_seconds_cap = float(plan.caps.get("max_seconds", plans.CPU_MAX_SECONDS))
    streaming = streaming_player_available()

    # The declared specs with this profile's caps: the sliders below and every check use these.
    seconds_spec = MAX_SECONDS.capped(max_seconds_cap, f"the limit on profile '{ctx.profile}'")

    def options_for(cfg_alpha, euler_steps, max_seconds, text: str = "", notes: dict | None = None) -> SynthesisOptions:
        # 0 or nothing: a limit long enough for this text (within the profile's cap).
        seconds = seconds_spec.check(None if max_seconds == "" else max_seconds, notes)
        seconds = seconds or auto_max_seconds(text, max_seconds_cap)
        from demos.voice.voxtral.engine import SynthesisOptions

        return SynthesisOptions(
            cfg_alpha=CFG_ALPHA.check(cfg_alpha, notes),
            n_steps=EULER_STEPS.check(euler_steps, notes),
            max_seconds=seconds,
            max_chars=max_chars,
        )

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
            for chunk in tts.stream(text, voice, seed, options, cancel=cancel, progress=report, stats=stats):
                emit(chunk)
            numbers = stats.to_dict()
            numbers.pop("codes", None)
            return {"stats": numbers, "load_s": load_s, "sample_rate": tts.sample_rate, "device": str(tts.device),
                    "dtype": str(tts.dtype).replace("torch.", "")}

        yield from engine_events(work)

    def run(text, voice, seed, cfg_alpha, euler_steps, max_seconds, cancel: CancelToken | None = None,
            progress=None) -> Iterator[tuple]:
        """Validate, then drive the GPU task: yields ((sample_rate, chunk), None) per audio chunk, then
        (full wave, info); after Stop, the audio made so far with `stopped` in info."""
        progress = progress or no_progress
        started = time.perf_counter()
        adjusted = {}  # values repaired on the way in (info["adjusted"])
        validate_text(text, max_chars)  # fail before loading the model
        voice = VOICE.check(voice)
        seed = resolve_seed(seed)
        options = options_for(cfg_alpha, euler_steps, max_seconds, text, adjusted)
        pieces, summary, rate, first_audio_s = [], None, None, None
        remote = voice_remote.is_remote(ctx, KEY)  # forwarded: no GPU lease, no local GPU turn
        task = voxtral_task.off_gpu if remote else voxtral_task
        for event in drive(task(text, voice, seed, options), cancel, gpu=not remote):
            if isinstance(event, ProgressEvent):
                progress(event.fraction, event.description)
            elif isinstance(event, TaskResult):
                summary = event.value
            else:
                pieces.append(event.samples)
                rate = event.sample_rate
                first_audio_s = first_audio_s or round(time.perf_counter() - started, 4)
                yield (event.sample_rate, event.samples), None
        wave = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        numbers = summary["stats"] if summary else {}
        rate = summary["sample_rate"] if summary else rate
        if rate is None:  # stopped before any audio
            return
        info = {
            **ctx.base_info(KEY, seed),
            "voice": voice,
            "cfg_alpha": options.cfg_alpha,
            "euler_steps": options.n_steps or DEFAULT_DECODING_STEPS,
            "max_seconds": options.max_seconds,
            "max_seconds_limit": max_seconds_cap,
            **({"adjusted": adjusted} if adjusted else {}),
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
        yield wave, info

    def save(wave: np.ndarray, info: dict, fmt: str = "wav", text: str = "") -> str:
        # The sidecar's inputs are what History's "Reuse settings" fills back (see register_reuse below).
        inputs = {"text": text, "voice": info["voice"], "seed": info["seed"], "cfg_alpha": info["cfg_alpha"],
                  "euler_steps": info["euler_steps"], "max_seconds": info["max_seconds"], "format": fmt}
        return str(save_audio_output(ctx.outputs_dir, OUTPUT_DEMO, wave, int(info["sample_rate"]), info, fmt,
                                     inputs=inputs))

    def generate_all(text, voice, seed, cfg_alpha, euler_steps, max_seconds) -> tuple[np.ndarray, dict]:
        final = (None, None)
        for final in run(text, voice, seed, cfg_alpha, euler_steps, max_seconds):
            pass
        return final

    def stream_pieces(text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, cancel, progress) -> Iterator[tuple]:
        """(player value, download file, summary line, info) as chunks arrive."""
        fallback, started, made_any = None, time.perf_counter(), False
        # On the request thread: spaces reads the Gradio request (and its X-IP-Token) from it.
        for wave, info in run(text, voice, seed, cfg_alpha, euler_steps, max_seconds, cancel, progress):
            made_any = True
            if info is not None:
                path = save(wave, info, fmt, text)
                yield (None if streaming else path), path, summary_line(info), info
            elif streaming:
                rate, samples = wave
                yield (rate, to_int16(samples)), None, "Generating…", None
            else:
                rate, samples = wave
                fallback = fallback or GrowingWav(ctx.outputs_dir, OUTPUT_DEMO, rate)
                yield fallback.add(samples), None, "Generating…", None
        if not made_any and cancel is not None and cancel.cancelled:
            # Stopped before the first audio: say so. The player and the download keep what they hold
            # (an earlier run's result), untouched: gr.skip() is no new value, and no new stream.
            yield gr.skip(), gr.skip(), stopped_line(time.perf_counter() - started, "No audio was made yet."), gr.skip()

    @gradio_errors
    def tts(
        text: str,
        voice: str = DEFAULT_VOICE,
        seed: float = -1,
        cfg_alpha: float = DEFAULT_CFG_ALPHA,
        euler_steps: int = DEFAULT_DECODING_STEPS,
        max_seconds: float = 0,
    ) -> tuple[str, dict]:
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
        wave, info = generate_all(text, voice, seed, cfg_alpha, euler_steps, max_seconds)
        path = save(wave, info, "wav", text)
        return path, info

    @gradio_errors
    def tts_stream(
        text: str,
        voice: str = DEFAULT_VOICE,
        seed: float = -1,
        cfg_alpha: float = DEFAULT_CFG_ALPHA,
        euler_steps: int = DEFAULT_DECODING_STEPS,
        max_seconds: float = 0,
        request: gr.Request = None,
    ) -> Iterator[tuple]:
        """Streaming variant of /tts: yields audio chunks as frames are generated, then the full WAV file and info.

        Args:
            text: What to say (long text is split at sentences and streamed continuously).
            voice: Preset voice name, e.g. neutral_female, casual_male, fr_female.
            seed: Seed for the flow-matching noise; -1 picks one (reported in info).
            cfg_alpha: Classifier-free guidance strength of the acoustic flow (default 1.2).
            euler_steps: Euler steps of the acoustic flow per frame (default 7).
            max_seconds: Stop after this much audio; 0 (the default) allows enough for the text, up to the profile's cap.
        """
        with ctx.cancel_scope(request) as cancel:
            yield from stream_pieces(text, voice, seed, cfg_alpha, euler_steps, max_seconds, "wav", cancel, None)

    @gradio_errors
    def tts_from_ui(text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, request: gr.Request, progress=gr.Progress()):
        with ctx.cancel_scope(request) as cancel:
            yield from stream_pieces(
                text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt, cancel, gradio_progress(progress)
            )

    # ------------------------------------------------------------------ UI
    gr.Markdown(
        "Text to speech with **Voxtral-4B-TTS-2603**, run by our own PyTorch engine: audio starts playing "
        "while the rest is generated.",
        elem_id="tts-intro",
    )
    gr.Markdown(f"{hub.licence_notice(KEY)} {LICENCE_NOTE}", elem_id="tts-licence")
    refresh_on_load(gr.Markdown(elem_id="tts-readiness"), readiness_markdown(ctx, [KEY]))
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(
                label=f"Text (up to {max_chars:,} characters)",
                lines=5,
                max_length=max_chars,
                placeholder="Type what the voice should say. Long text is split at sentences and streamed.",
                elem_id="tts-text",
            )
            counter = gr.Markdown(f"0 / {max_chars:,} characters", elem_id="tts-counter")
            voice = gr.Dropdown(
                choices=grouped_choices(PRESET_VOICES),
                value=DEFAULT_VOICE,
                label="Voice (20 presets, grouped by language)",
                elem_id="tts-voice",
            )
            with gr.Row():
                seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random; the one used is shown below)", elem_id="tts-seed")
                fmt = gr.Radio(list(AUDIO_FORMATS), value="wav", label="Download format", elem_id="tts-format")
            with gr.Accordion("Advanced", open=False, elem_id="tts-advanced"):
                cfg_alpha = gr.Slider(**CFG_ALPHA.slider(elem_id="tts-cfg"))
                euler_steps = gr.Slider(**EULER_STEPS.slider(elem_id="tts-steps"))
                max_seconds = gr.Slider(**seconds_spec.slider(info=f"Up to {max_seconds_cap:g} s on this profile.",
                                                              elem_id="tts-max-seconds"))
            with gr.Row():
                run_button = gr.Button("Speak", variant="primary", elem_id="tts-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="tts-stop")
            gr.Examples(
                examples=[[text_, voice_] for voice_, text_ in VOICE_EXAMPLES],
                inputs=[text, voice], label="Examples: one sentence per language, click one then press Speak",
                elem_id="tts-examples", examples_per_page=10,
            )
        with gr.Column():
            player = gr.Audio(
                label="Speech", streaming=streaming, autoplay=True, interactive=False,
                type="filepath", elem_id="tts-player",
            )
            download = gr.File(label="Download", interactive=False, elem_id="tts-download")
            # Progress (and queue position) show on this line, not over the player.
            summary = gr.Markdown("Type a text (or pick an example below) and press Speak.", elem_id="tts-summary",
                                  label="Summary", show_label=False,
                                  min_height=64, container=True)
            with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="tts-info-accordion"):
                info = gr.JSON(label="Info", elem_id="tts-info")
    _build_cloning_section(ctx)
    ctx.reuse.register(OUTPUT_DEMO, tab="voice", inputs={
        "text": text, "voice": voice, "seed": seed, "cfg_alpha": cfg_alpha, "euler_steps": euler_steps,
        "max_seconds": max_seconds, "format": fmt})

    # Character counter runs in the browser only.
    # The box stops taking characters at the limit, so text pasted past it is cut: say so.
    at_limit = f"{max_chars:,} / {max_chars:,} characters: the limit. Text pasted beyond it was cut off."
    text.change(None, text, counter, api_visibility="private",
                js=f"(t) => (t || '').length >= {max_chars} ? `{at_limit}` : `${{(t || '').length}} / {max_chars:,} characters`")
    release_run = lock_while_running(run_button, "Speaking…")
    queue = voice_remote.queue_for(ctx, KEY)  # the GPU line, or one slot per --remote backend
    ui_event = run_button.click(
        tts_from_ui, [text, voice, seed, cfg_alpha, euler_steps, max_seconds, fmt], [player, download, summary, info],
        api_visibility="private", show_progress_on=[summary], preprocess=False, **queue,
    )
    release_run(ui_event)
    # Stop cancels the run's token, not the event: the run ends itself and returns what it made.
    stop_button.click(ctx.stop, None, None, queue=False, api_visibility="private")
    # API endpoints (contract names and parameters) on hidden triggers.
    api_plain = gr.Button(visible=False)
    api_plain.click(tts, [text, voice, seed, cfg_alpha, euler_steps, max_seconds], [download, info], api_name="tts",
                    preprocess=False, **queue)
    api_stream = gr.Button(visible=False)
    api_stream.click(
        tts_stream, [text, voice, seed, cfg_alpha, euler_steps, max_seconds], [player, download, summary, info],
        api_name="tts_stream", preprocess=False, **queue,
    )


def _build_cloning_section(ctx: AppContext) -> None:
    """The Pocket TTS cloning section in an accordion, when its package is present.

    An accordion rather than sub-tabs: the app's tab names stay unique for
    role-based lookups (a sub-tab named "...voice..." would shadow "Voice")."""
    try:
        section = importlib.import_module("demos.voice.cloning.tab_section")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("demos.voice.cloning"):
            return
        raise
    with gr.Accordion("Clone a voice (Pocket TTS)", open=False, elem_id="clone-accordion") as accordion:
        section.build_cloning_section(ctx, accordion)


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load Voxtral (and the cloning model, if its section offers `preload`) at start-up."""
    if not voice_remote.is_remote(ctx, KEY):  # served by --remote servers: nothing to load here
        from demos.voice.voxtral.engine import load_engine

        ctx.load(KEY, load_engine)
    try:
        section = importlib.import_module("demos.voice.cloning.tab_section")
    except ModuleNotFoundError:
        return
    cloning_preload = getattr(section, "preload", None)
    if callable(cloning_preload):
        cloning_preload(ctx)
