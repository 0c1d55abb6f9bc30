"""The Voice tab: Voxtral-4B-TTS preset voices, streamed; plus voice cloning when present.

Endpoints (DESIGN.md §3):
- `/tts` (text, voice, seed) -> audio file, info
- `/tts_stream` (same inputs) -> audio chunks as frames are generated, then the file and info
Both also take optional `cfg_alpha`, `euler_steps`, `max_seconds` (defaults shown in the UI).

This module is the layout and the event wiring; the work is in handlers.py.
"""
from __future__ import annotations

import importlib
from types import SimpleNamespace

import gradio as gr

from shared.io.outputs import AUDIO_FORMATS
from shared.web.folded import how_it_runs, licence_line
from shared.web.ui import AppContext, lock_while_running, on_status_line

from demos.voice import remote as voice_remote
from demos.voice.handlers import OUTPUT_DEMO, VoiceHandlers, VoiceLimits
from demos.voice.player import streaming_player
from demos.voice.limits import CFG_ALPHA, EULER_STEPS
from demos.voice.plans import KEY
from demos.voice.voxtral.voices import DEFAULT_VOICE, PRESET_VOICES, grouped_choices
from demos.voice.voxtral.voices import label as voice_label

TITLE = "Voice"
INTRO = ("Type a text, pick a voice and press **Speak**: Voxtral-4B-TTS reads it aloud, and the audio starts "
         "playing while the rest is still being made. **Clone a voice** speaks in the voice of a recording you give.")
LICENCE_NOTE = (
    "Voxtral-4B-TTS weights are licensed **CC BY-NC 4.0**: non-commercial use only, with attribution to Mistral AI. "
    "Voices are the 20 presets shipped with the model (the open weights have no codec encoder, so no cloning with Voxtral)."
)
PRESETS_TAB, CLONE_TAB = "presets", "clone"  # sub-tab ids: History's "Reuse settings" selects one


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


def short(text: str, words: int = 6) -> str:
    """The first few words of an example's text, for its label."""
    cut = text.split()
    return " ".join(cut[:words]) + ("…" if len(cut) > words else "")


def build_tab(ctx: AppContext) -> None:
    handlers = VoiceHandlers(ctx)
    gr.Markdown(INTRO, elem_id="tts-intro")
    # Sub-tab names must not contain a top tab's name ("Voice" is found with exact=True in tests).
    with gr.Tabs(elem_id="voice-modes") as modes:
        with gr.Tab("Preset voices", id=PRESETS_TAB, elem_id="voice-presets"):
            licence_line(KEY, LICENCE_NOTE, "tts-licence", gist="non-commercial")
            ui = _layout(handlers.limits, handlers.streaming)
            how_it_runs(ctx, [KEY], "tts-readiness")
        _build_cloning_section(ctx, modes)
    ctx.reuse.register(OUTPUT_DEMO, tab="voice", inputs={
        "text": ui.text, "voice": ui.voice, "seed": ui.seed, "cfg_alpha": ui.cfg_alpha, "euler_steps": ui.euler_steps,
        "max_seconds": ui.max_seconds, "format": ui.fmt}, extras={"mode": modes},
        fill=lambda values, sidecar: {**values, "mode": gr.Tabs(selected=PRESETS_TAB)})
    _wire(ctx, handlers, ui)


def _form(limits: VoiceLimits) -> SimpleNamespace:
    """Text, voice, seed, format and the Advanced sliders."""
    max_chars = limits.max_chars
    text = gr.Textbox(
        label=f"Text (up to {max_chars:,} characters)",
        lines=4,
        max_length=max_chars,
        placeholder="Type what the voice should say. Long text is split at sentences and streamed.",
        elem_id="tts-text",
    )
    counter = gr.Markdown(f"0 / {max_chars:,} characters", elem_id="tts-counter")
    voice = gr.Dropdown(choices=grouped_choices(PRESET_VOICES), value=DEFAULT_VOICE,
                        label="Voice (20 presets, grouped by language)", elem_id="tts-voice")
    with gr.Row():
        seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random; the one used is shown below)", elem_id="tts-seed")
        fmt = gr.Radio(list(AUDIO_FORMATS), value="wav", label="Download format", elem_id="tts-format")
    with gr.Accordion("Advanced", open=False, elem_id="tts-advanced"):
        cfg_alpha = gr.Slider(**CFG_ALPHA.slider(elem_id="tts-cfg"))
        euler_steps = gr.Slider(**EULER_STEPS.slider(elem_id="tts-steps"))
        max_seconds = gr.Slider(**limits.seconds.slider(info=f"Up to {limits.max_seconds_cap:g} s on this profile.",
                                                        elem_id="tts-max-seconds"))
    return SimpleNamespace(text=text, counter=counter, voice=voice, seed=seed, fmt=fmt, cfg_alpha=cfg_alpha,
                           euler_steps=euler_steps, max_seconds=max_seconds, max_chars=max_chars)


def _layout(limits: VoiceLimits, streaming: bool) -> SimpleNamespace:
    """The form beside the result (on a phone: the result right under its button), then the examples;
    returns the components the events use."""
    with gr.Row():
        with gr.Column():
            ui = _form(limits)
            with gr.Row():
                run_button = gr.Button("Speak", variant="primary", elem_id="tts-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="tts-stop")
        with gr.Column():
            player = streaming_player(  # a gr.Audio whose stream opens with audio in it (player.py)
                label="Speech", streaming=streaming, autoplay=True, interactive=False,
                type="filepath", elem_id="tts-player",
            )
            summary = gr.Markdown("Type a text (or pick an example below) and press Speak.", elem_id="tts-summary",
                                  label="Summary", show_label=False, min_height=64, container=True)
            download = gr.File(label="Download", interactive=False, elem_id="tts-download")
            with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="tts-info-accordion"):
                info = gr.JSON(label="Info", elem_id="tts-info")
    # One short label per example ("French · female: Bonjour ! Il fait beau…") instead of a table whose
    # columns (named after the long input labels) ran off a phone's screen.
    gr.Examples(
        examples=[[text_, voice_] for voice_, text_ in VOICE_EXAMPLES],
        inputs=[ui.text, ui.voice], label="Examples: one sentence per language, click one then press Speak",
        example_labels=[f"{voice_label(voice_)}: {short(text_)}" for voice_, text_ in VOICE_EXAMPLES],
        elem_id="tts-examples", examples_per_page=12,
    )
    return SimpleNamespace(**vars(ui), run_button=run_button, stop_button=stop_button, player=player,
                           download=download, summary=summary, info=info)


def _wire(ctx: AppContext, handlers: VoiceHandlers, ui: SimpleNamespace) -> None:
    """The counter, Speak and Stop, and the named API endpoints (on hidden triggers)."""
    max_chars = ui.max_chars
    # Character counter runs in the browser only.
    # The box stops taking characters at the limit, so text pasted past it is cut: say so.
    at_limit = f"{max_chars:,} / {max_chars:,} characters: the limit. Text pasted beyond it was cut off."
    ui.text.change(None, ui.text, ui.counter, api_visibility="private",
                   js=f"(t) => (t || '').length >= {max_chars} ? `{at_limit}` : `${{(t || '').length}} / {max_chars:,} characters`")
    release_run = lock_while_running(ui.run_button, "Speaking…")
    queue = voice_remote.queue_for(ctx, KEY)  # the GPU line, or one slot per --remote backend
    params = [ui.text, ui.voice, ui.seed, ui.cfg_alpha, ui.euler_steps, ui.max_seconds]
    ui_event = ui.run_button.click(
        on_status_line(handlers.tts_from_ui, 4, status=2), [*params, ui.fmt], [ui.player, ui.download, ui.summary, ui.info],
        # The bar shows on the download box (empty until the run ends), never over the status line's words.
        api_visibility="private", show_progress_on=[ui.download], preprocess=False, **queue,
    )
    release_run(ui_event)
    # Stop cancels the run's token, not the event: the run ends itself and returns what it made.
    ui.stop_button.click(ctx.stop, None, None, queue=False, api_visibility="private")
    # API endpoints (contract names and parameters) on hidden triggers.
    api_plain = gr.Button(visible=False)
    api_plain.click(handlers.tts, params, [ui.download, ui.info], api_name="tts", preprocess=False, **queue)
    api_stream = gr.Button(visible=False)
    api_stream.click(
        handlers.tts_stream, params, [ui.player, ui.download, ui.summary, ui.info],
        api_name="tts_stream", preprocess=False, **queue,
    )


def _build_cloning_section(ctx: AppContext, modes: gr.Tabs) -> None:
    """The Pocket TTS cloning sub-tab, when its package is present (`modes`: the sub-tabs, which
    History's "Reuse settings" switches to it)."""
    try:
        section = importlib.import_module("demos.voice.cloning.tab_section")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("demos.voice.cloning"):
            return
        raise
    with gr.Tab("Clone a voice (Pocket TTS)", id=CLONE_TAB, elem_id="clone-tab"):
        section.build_cloning_section(ctx, modes)


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
