"""The voice-cloning section of the Voice tab (Pocket TTS).

`build_cloning_section(ctx, modes)` is called by the Voice tab inside its own
sub-tab ("Clone a voice (Pocket TTS)"). It builds the UI and registers two API endpoints:

- `/clone_voice` (text, reference_audio, seed) -> audio file, info
- `/clone_voice_stream` (same inputs) -> audio chunks as they are generated,
  then the full file and info.

The consent checkbox guards the UI button (greyed out, with the reason beside
it, until the box is ticked; the server checks the box too); API callers confirm
consent by calling (said in the endpoint docstrings).

This module is the layout and the event wiring; the work is in handlers.py.
"""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from demos.assets import asset
from shared.io.outputs import AUDIO_FORMATS
from shared.web.folded import how_it_runs, licence_line
from shared.web.ui import AppContext, lock_while_running, on_status_line

from demos.voice import remote as voice_remote
from demos.voice.cloning import engine
from demos.voice.cloning.handlers import CONSENT_LABEL, OUTPUT_DEMO, CloneHandlers, reuse_fill
from demos.voice.cloning.plans import KEY
from demos.voice.cloning.reference import MAX_SECONDS, MIN_SECONDS
from demos.voice.cloning.specs import ATTRIBUTION
from demos.voice.player import streaming_player

NOTICE = (
    "**Clone only voices you have the right to use.** Upload or record "
    f"{MIN_SECONDS:g}–{MAX_SECONDS:g} s of clear speech (any common format; silence at the ends is trimmed). "
    "Do not use a cloned voice to deceive, impersonate or harass anyone."
)
CONSENT_REASON = "Tick the consent box to clone."


def build_cloning_section(ctx: AppContext, modes=None) -> None:
    """Build the cloning UI inside the caller's layout block and register its endpoints (`modes`: the
    Voice tab's sub-tabs, which History's "Reuse settings" switches to this one)."""
    handlers = CloneHandlers(ctx)
    licence_line(KEY, ATTRIBUTION, "clone-licence")
    gr.Markdown(NOTICE, elem_id="clone-notice")
    ui = _layout(handlers.streaming)
    how_it_runs(ctx, [KEY], "clone-readiness")
    _wire(ctx, handlers, ui)
    # History's "Reuse settings": the saved reference comes back, the consent box must be ticked again.
    ctx.reuse.register(OUTPUT_DEMO, tab="voice", inputs={
        "text": ui.text, "reference_audio": ui.reference_audio, "seed": ui.seed, "format": ui.fmt},
        media=("reference_audio",), fill=reuse_fill,
        extras={"consent": ui.consent, **({"mode": modes} if modes is not None else {})})


def _form() -> SimpleNamespace:
    """Reference, text, seed and format."""
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
    return SimpleNamespace(reference_audio=reference_audio, text=text, seed=seed, fmt=fmt)


def _layout(streaming: bool) -> SimpleNamespace:
    """The form beside the result, the consent box beside the button, then the examples; returns the
    components the events use."""
    with gr.Row():
        with gr.Column():
            ui = _form()
            # Until the box is ticked the button is greyed out and says why (a browser-side change event).
            with gr.Group(elem_id="clone-consent-group"):
                consent = gr.Checkbox(value=False, label=CONSENT_LABEL, elem_id="clone-consent")
                consent_reason = gr.Markdown(CONSENT_REASON, elem_id="clone-consent-reason", padding=True)
            with gr.Row():
                run_button = gr.Button("Clone voice", variant="primary", interactive=False, elem_id="clone-run")
                stop_button = gr.Button("Stop", variant="stop", elem_id="clone-stop")
        with gr.Column():
            player = streaming_player(label="Cloned speech", streaming=streaming, autoplay=True, interactive=False,
                                      type="filepath", elem_id="clone-player")
            summary = gr.Markdown("Give a reference clip and a text (or pick an example below), tick the box, "
                                  "then press Clone voice.", elem_id="clone-summary", min_height=64, container=True)
            download = gr.File(label="Download", interactive=False, elem_id="clone-download")
            with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="clone-info-accordion"):
                info = gr.JSON(label="Info", elem_id="clone-info")
    # The reference is espeak-ng reading a fixed text, made by demos/assets/make.py (see PROVENANCE.md).
    # Examples fill the reference and the text, never the consent box: that stays the person's own act.
    texts = {"Synthetic voice · one short sentence": "Hello, this is a cloned voice reading one short sentence.",
             "Synthetic voice · a walk by the river": "The weather is lovely today; let's walk along the river."}
    gr.Examples(
        examples=[[asset("voice_reference.flac"), text] for text in texts.values()],
        inputs=[ui.reference_audio, ui.text], label="Examples: a synthetic reference voice (espeak-ng)",
        example_labels=list(texts), elem_id="clone-examples",
    )
    return SimpleNamespace(**vars(ui), consent=consent, consent_reason=consent_reason, run_button=run_button,
                           stop_button=stop_button, player=player, download=download, summary=summary, info=info,)


def _wire(ctx: AppContext, handlers: CloneHandlers, ui: SimpleNamespace) -> None:
    """Consent gating, Clone and Stop, and the named API endpoints (on hidden triggers)."""
    # In the browser, at once: the button follows the box; the reason shows while it is unticked.
    # (The server still refuses an unticked box: check_consent in clone_from_ui.)
    gate = ("(ticked) => [{__type__: 'update', interactive: ticked}, "
            "{__type__: 'update', visible: !ticked}]")
    ui.consent.change(None, ui.consent, [ui.run_button, ui.consent_reason], js=gate,
                      queue=False, show_progress="hidden", api_visibility="private")
    release_run = lock_while_running(ui.run_button, "Cloning…")
    queue = voice_remote.queue_for(ctx, KEY)  # the GPU line, or one slot per --remote backend
    params = [ui.text, ui.reference_audio, ui.seed]
    ui_event = ui.run_button.click(
        on_status_line(handlers.clone_from_ui, 4, status=3), [*params, ui.consent, ui.fmt],
        [ui.player, ui.download, ui.info, ui.summary],
        # The bar shows on the download box (empty until the run ends), never over the status line's words.
        api_visibility="private", preprocess=False, show_progress_on=[ui.download], **queue,
    )
    for idle in release_run(ui_event):  # the run's end re-enables the button: the box decides again
        idle.then(None, ui.consent, [ui.run_button, ui.consent_reason], js=gate,
                  queue=False, show_progress="hidden", api_visibility="private")
    # Stop cancels the run's token, not the event: the run ends itself and returns what it made.
    ui.stop_button.click(ctx.stop, None, None, queue=False, api_visibility="private")
    # API endpoints (contract names and parameters) on hidden triggers.
    api_plain = gr.Button(visible=False)
    api_plain.click(handlers.clone_voice, params, [ui.download, ui.info], api_name="clone_voice", preprocess=False,
                    **queue)
    api_stream = gr.Button(visible=False)
    api_stream.click(
        handlers.clone_voice_stream, params, [ui.player, ui.download, ui.info],
        api_name="clone_voice_stream", preprocess=False, **queue,
    )


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load Pocket TTS (model and codec) at start-up, in the main process."""
    if not voice_remote.is_remote(ctx, KEY):  # served by --remote servers: nothing to load here
        ctx.load(KEY, engine.load)
