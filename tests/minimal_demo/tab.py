"""The Tone tab: layout and wiring only; the work is in handlers.py.

Endpoint: `/tone` (pitch_hz, seconds, seed) -> WAV file, info.
"""
from __future__ import annotations

import gradio as gr

from shared.web.folded import how_it_runs, licence_line
from shared.web.ui import GPU_QUEUE, AppContext, gradio_errors, gradio_progress, on_status_line

from .handlers import DEMO, make_tone, make_tone_task
from .limits import PITCH_HZ, SECONDS, SEED
from .plans import KEY

TAB_ID = __package__.rsplit(".", 1)[-1]  # demos.registry names the tab after the package


def build_tab(ctx: AppContext) -> None:
    tone_task = make_tone_task(ctx)

    @gradio_errors
    def tone(pitch_hz: float = 440, seconds: float = 0.5, seed: float = -1,
             request: gr.Request = None, progress=gr.Progress()) -> tuple[str, dict]:
        """Play a short tone.

        Args:
            pitch_hz: Pitch in Hz, 50 to 2,000.
            seconds: Length in seconds, 0.1 to 2.
            seed: Seed of the noise; -1 picks one (reported in info).

        Returns:
            The tone as a 16 kHz WAV file, and an info dict (seed, model, source, profile, pitch_hz, seconds).
        """
        with ctx.cancel_scope(request) as cancel:
            return make_tone(ctx, tone_task, pitch_hz, seconds, seed, gradio_progress(progress), cancel)

    gr.Markdown("Pick a pitch and a length and press **Play**: a tiny model plays the tone.", elem_id="tone-intro")
    with gr.Row():
        with gr.Column():
            pitch = gr.Slider(**PITCH_HZ.slider(elem_id="tone-pitch"))
            seconds = gr.Slider(**SECONDS.slider(elem_id="tone-seconds"))
            seed = gr.Number(**SEED.number(elem_id="tone-seed"))
            with gr.Row():
                run = gr.Button("Play", variant="primary", elem_id="tone-run")
                stop = gr.Button("Stop", variant="stop", elem_id="tone-stop")
        with gr.Column():
            audio = gr.Audio(label="Tone", type="filepath", interactive=False, elem_id="tone-audio")
            status = gr.Markdown("Press Play.", elem_id="tone-status")  # the last thing that happened
            info = gr.JSON(label="Info", elem_id="tone-info")
    licence_line(KEY, "", elem_id="tone-licence")
    how_it_runs(ctx, [KEY], elem_id="tone-readiness")  # weights here? what to expect? (folded)
    # The button runs the page twin (errors on the status line); the named endpoint raises for clients.
    run.click(on_status_line(tone, outputs=2), [pitch, seconds, seed], [audio, info, status],
              api_visibility="private", preprocess=False, **GPU_QUEUE)
    api = gr.Button(visible=False)
    api.click(tone, [pitch, seconds, seed], [audio, info], api_name="tone", preprocess=False, **GPU_QUEUE)
    stop.click(ctx.stop, None, None, queue=False, api_visibility="private")
    ctx.reuse.register(DEMO, tab=TAB_ID, inputs={"pitch_hz": pitch, "seconds": seconds, "seed": seed})


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load the model in the main process at start-up."""
    from .engine import load_engine

    ctx.load(KEY, load_engine)
