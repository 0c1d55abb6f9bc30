"""Long video tab: Helios text/image/video-to-video, streamed chunk by chunk.

Public API (names are a contract, see DESIGN.md §3):
  /video        (prompt, mode, image, video, num_frames, variant, seed) -> mp4, info
  /video_stream (same inputs) -> yields (partial mp4 of the video so far, info) after every chunk
The Advanced settings (resolution, steps, guidance, ...) travel in a gr.State,
which Gradio keeps out of the API: API calls get each variant's recommended
settings and the profile's default resolution.

This module is the layout and the event wiring; the work is in handlers.py.
"""
from __future__ import annotations

import json

from types import SimpleNamespace

import gradio as gr

from demos.assets import asset
from shared.models import hub
from shared.web.ui import (GPU_QUEUE, AppContext, lock_while_running, on_status_line, readiness_markdown,
                           refresh_on_load)

from .handlers import (DEMO, ZEROGPU_VARIANTS_ENV, VideoHandlers, VideoLimits, add_to_gallery, advanced_for,
                       mode_visibility, options_of, reuse_fill, summary_of)
from .limits import CHUNK_FRAMES, MODE_TITLES, PROMPT, RESOLUTIONS, describe_length, frames_spec, length_lines
from .variants import DEFAULT_VARIANT, VARIANTS

TITLE = "Long video"

INTRO = """### Long video (Helios)
Describe a scene, or give a first frame or a clip to continue, and Helios makes the video 33 frames at a time:
each finished part plays while the next is made, and **Stop** keeps what is finished."""

# What a curious person may unfold: how the model works and how this machine runs it.
DETAILS = """Helios (14B, PKU-YuanGroup) runs through diffusers' own `HeliosPyramidPipeline` (Distilled, Mid) and
`HeliosPipeline` (Base). It was trained at 384x640 only: other sizes drift or jump between chunks."""

# The slider's line, looked up in the page as the slider moves (the rule itself is limits.describe_length).
LENGTH_JS = """(n, shown) => {
  const lines = %(lines)s;
  let v = Number(n);
  if (!Number.isFinite(v)) v = %(low)d;
  const snapped = Math.min(Math.max(Math.round(v / %(step)d) * %(step)d, %(low)d), %(high)d);
  let note = "";
  if (snapped !== v) {
    note = `${v} was rounded to ${snapped}: a video is made in whole chunks of 33 frames. `;
  } else {
    const kept = /^(\\S+) was rounded to (\\d+):[^.]*\\. /.exec(shown || "");
    if (kept && Number(kept[2]) === snapped) note = kept[0];
  }
  return [snapped, note + lines[snapped]];
}"""


def length_js(max_frames: int) -> str:
    """The browser-side `.change` of the frames slider: snap to whole chunks and say what that makes."""
    import json

    lines = length_lines(max_frames)
    return LENGTH_JS % {"lines": json.dumps(lines), "low": CHUNK_FRAMES, "step": CHUNK_FRAMES,
                        "high": max(lines)}


def build_tab(ctx: AppContext) -> None:
    handlers = VideoHandlers(ctx)
    limits, plan = handlers.limits, handlers.limits.plan
    gr.Markdown(INTRO, elem_id="video-intro")
    # Only the resolution to start with: API callers (who never touch the
    # Advanced controls) get each variant's own recommended settings.
    ui = SimpleNamespace(options_state=gr.State({"resolution": limits.default_resolution}),
                         gallery_state=gr.State([]),
                         reuse_pending=gr.State(None))  # Advanced values Reuse settings set with the variant
    # Form and result side by side; on a phone the result comes right after its button, the examples after it.
    with gr.Row():
        with gr.Column():
            vars(ui).update(_form(limits))
        with gr.Column():
            vars(ui).update(_results())
    _examples(ui)
    _folded_details(ctx, plan)
    _wire_controls(ui, handlers)
    ctx.reuse.register(DEMO, tab="video", media=("image", "video"), fill=reuse_fill, inputs={
        "prompt": ui.prompt, "mode": ui.mode, "image": ui.image, "video": ui.video, "num_frames": ui.num_frames,
        "variant": ui.variant, "seed": ui.seed, "resolution": ui.resolution, "steps": ui.steps,
        "guidance_scale": ui.guidance, "amplify_first_chunk": ui.amplify, "use_zero_init": ui.zero_init},
        extras={"options": ui.options_state, "pending": ui.reuse_pending})
    _wire_runs(ctx, ui, handlers)


def _folded_details(ctx: AppContext, plan) -> None:
    """The model, the plan for this machine and whether the weights are here; the licence in one line."""
    with gr.Accordion("How this runs on your machine", open=False, elem_id="video-how"):
        gr.Markdown(DETAILS)
        gr.Markdown(f"Profile **{plan.profile}**: {plan.notes} Host RAM needed: about {plan.host_ram_gb:g} GB.",
                    elem_id="video-plan")
        refresh_on_load(gr.Markdown(elem_id="video-readiness"),
                        readiness_markdown(ctx, [v.key for v in VARIANTS.values()]))
    with gr.Accordion("Licence: Helios weights are Apache-2.0", open=False, elem_id="video-licence-fold"):
        gr.Markdown("  \n".join(hub.licence_notice(v.key) for v in VARIANTS.values()), elem_id="video-licence")


def _form(limits: VideoLimits) -> dict:
    """The inputs, Advanced settings and buttons, by name."""
    dv = VARIANTS[DEFAULT_VARIANT]
    resolutions, default_resolution, max_frames, plan = (limits.resolutions, limits.default_resolution,
                                                         limits.max_frames, limits.plan)
    prompt = gr.Textbox(**PROMPT.textbox(lines=4, elem_id="video-prompt"))
    mode = gr.Radio([(t, k) for k, t in MODE_TITLES.items()], value="t2v", label="Mode", elem_id="video-mode")
    image = gr.Image(type="filepath", label="First frame (image-to-video)", visible=False,
                     elem_id="video-image", sources=["upload", "clipboard"])
    video = gr.Video(label="Clip to continue (video-to-video, at least 33 frames)", visible=False,
                     elem_id="video-video", sources=["upload"])
    num_frames = gr.Slider(**frames_spec(max_frames, plan.profile).slider(elem_id="video-frames"))
    length = gr.Markdown(describe_length(CHUNK_FRAMES), elem_id="video-length")
    variant = gr.Radio([(v.title, k) for k, v in VARIANTS.items()], value=DEFAULT_VARIANT,
                       label="Model", elem_id="video-variant")
    seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random; the seed used is shown in the info)",
                     elem_id="video-seed")
    with gr.Accordion("Advanced", open=False, elem_id="video-advanced"):
        resolution = gr.Dropdown(resolutions, value=default_resolution,
                                 label="Resolution (height x width)", elem_id="video-resolution",
                                 info="; ".join(f"{r}: {RESOLUTIONS[r].note}" for r in resolutions))
        steps = gr.Slider(1, dv.max_steps, value=dv.defaults.steps[0], step=1,
                          label="Steps per pyramid stage (3 stages)", elem_id="video-steps")
        guidance = gr.Slider(1.0, 20.0, value=dv.defaults.guidance_scale, step=0.5,
                             label="Guidance scale (Distilled uses none)", interactive=False,
                             elem_id="video-guidance")
        amplify = gr.Checkbox(value=dv.defaults.amplify_first_chunk,
                              label="Amplify first chunk (twice the steps on chunk 1)",
                              elem_id="video-amplify")
        zero_init = gr.Checkbox(value=False, visible=False, label="CFG-Zero* zero init",
                                elem_id="video-zero-init")
    with gr.Row():
        # Narrow enough to stay side by side on a phone, so the result starts right under them.
        run = gr.Button("Generate", variant="primary", elem_id="video-run", min_width=100)
        stop_btn = gr.Button("Stop", variant="stop", elem_id="video-stop", min_width=100)
        api_btn = gr.Button("video (API)", visible=False)
    return dict(prompt=prompt, mode=mode, image=image, video=video, num_frames=num_frames, length=length,
                variant=variant, seed=seed, resolution=resolution, steps=steps, guidance=guidance,
                amplify=amplify, zero_init=zero_init, run=run, stop_btn=stop_btn, api_btn=api_btn)


def _examples(ui: SimpleNamespace) -> None:
    """Example rows that fill the form."""
    # The image and the clip are drawn by demos/assets/make.py (see PROVENANCE.md there).
    gr.Examples(
        examples=[
            ["A red fox trots through fresh snow at dawn, tracking shot.", "t2v", None, None, 66, "distilled"],
            ["The sun rises over a calm mountain lake, gentle ripples on the water, slow pan.", "i2v",
             asset("video_first_frame.png"), None, 33, "distilled"],
            ["The sun keeps rising over the lake while a flock of birds crosses the sky.", "v2v", None,
             asset("video_clip.mp4"), 33, "distilled"],
            ["A paper boat drifts down a rain-soaked street, close-up, soft reflections.", "t2v", None, None,
             33, "mid"],
            ["Time-lapse of clouds rolling over a city skyline at dusk.", "t2v", None, None, 33, "base"],
        ],
        inputs=[ui.prompt, ui.mode, ui.image, ui.video, ui.num_frames, ui.variant],
        example_labels=["Text to video · a fox in the snow · 2 chunks", "Image to video · the drawn lake",
                        "Video to video · continue the drawn sunrise", "Helios-Mid · a paper boat",
                        "Helios-Base · clouds over a city"],
        label="Examples: click one to fill the form, then press Generate", elem_id="video-examples",
    )


def _results() -> dict:
    """The progress line, the video, its summary and details, and this session's gallery."""
    # Progress (and queue position) show in this box only, never over the video so far.
    # Empty while idle: a placeholder text would sit under the progress bar when a run starts (the idle
    # hint is drawn by APP_CSS in demos/app.py, only while no progress shows).
    progress_box = gr.Markdown("", elem_id="video-progress", min_height=64, container=True)
    output = gr.Video(label="Video (updates after every chunk)", autoplay=True, interactive=False,
                      elem_id="video-output")
    status = gr.Markdown("Write a prompt (or pick an example below) and press Generate.",
                         elem_id="video-status")
    with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="video-info-accordion"):
        info = gr.JSON(label="Info", elem_id="video-info")
    # Small tiles, four to a row (fit_columns would stretch one video across the whole width).
    gallery = gr.Gallery(label="This session's videos", columns=4, height=220, object_fit="contain",
                         fit_columns=False, preview=False, elem_id="video-gallery")
    return dict(progress_box=progress_box, output=output, status=status, info=info, gallery=gallery)


def _wire_controls(ui: SimpleNamespace, handlers: VideoHandlers) -> None:
    """What the form does in the page alone: Advanced values into the options state, per-variant and
    per-mode controls, the frame count snapped to whole chunks."""
    advanced = [ui.resolution, ui.steps, ui.guidance, ui.amplify, ui.zero_init]
    for comp in advanced:
        comp.change(options_of, advanced, ui.options_state, api_visibility="private", queue=False)
    ui.variant.change(advanced_for, [ui.variant, ui.reuse_pending],
                      [ui.steps, ui.guidance, ui.amplify, ui.zero_init, ui.reuse_pending],
                      api_visibility="private", queue=False)
    ui.mode.change(mode_visibility, ui.mode, [ui.image, ui.video], api_visibility="private", queue=False)
    # In the page alone (no round trip): the line under the slider follows it at once, even on a busy server.
    ui.num_frames.change(None, [ui.num_frames, ui.length], [ui.num_frames, ui.length],
                         js=length_js(handlers.limits.max_frames), api_visibility="private", queue=False,
                         show_progress="hidden")


RUNNING_LINE = "**Generating…** Progress shows above; each chunk plays as soon as it is finished."


def _wire_runs(ctx: AppContext, ui: SimpleNamespace, handlers: VideoHandlers) -> None:
    """Generate (the /video_stream endpoint), the gallery and summary after it, /video, and Stop."""
    inputs = [ui.prompt, ui.mode, ui.image, ui.video, ui.num_frames, ui.variant, ui.seed, ui.options_state]
    release_run = lock_while_running(ui.run, "Generating…")
    # At once, in the page: the status line stops asking for a prompt the moment a run starts.
    ui.run.click(None, None, ui.status, js=f"() => {json.dumps(RUNNING_LINE)}", api_visibility="private",
                 queue=False, show_progress="hidden")
    # The page's run: a refusal or an early Stop lands on the status line (the endpoint raises instead).
    run_event = ui.run.click(on_status_line(handlers.video_stream, 2), inputs, [ui.output, ui.info, ui.status],
                             api_visibility="private", preprocess=False, show_progress_on=[ui.progress_box],
                             **GPU_QUEUE)
    run_event.success(add_to_gallery, [ui.output, ui.info, ui.gallery_state], [ui.gallery, ui.gallery_state],
                      api_visibility="private", show_progress="hidden")
    release_run(run_event)
    ui.info.change(summary_of, ui.info, ui.status, api_visibility="private", queue=False, show_progress="hidden")
    gr.Button(visible=False).click(handlers.video_stream, inputs, [ui.output, ui.info], api_name="video_stream",
                                   preprocess=False, show_progress_on=[ui.progress_box], **GPU_QUEUE)
    ui.api_btn.click(handlers.video_api, inputs, [ui.output, ui.info], api_name="video", preprocess=False,
                     show_progress_on=[ui.progress_box], **GPU_QUEUE)
    # Stop cancels the run's token only: the run then ends itself and returns the finished chunks.
    ui.stop_btn.click(ctx.stop, None, None, api_visibility="private", queue=False)


def zerogpu_variants() -> list[str]:
    """The Helios variants a ZeroGPU Space preloads (`RELEASE_HUB_ZEROGPU_VARIANTS`, default Distilled):
    each adds ~26 GB (fp8 transformer, bf16 text encoder) to what spaces packs."""
    import os

    names = [n.strip() for n in os.environ.get(ZEROGPU_VARIANTS_ENV, DEFAULT_VARIANT).split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"{ZEROGPU_VARIANTS_ENV} names unknown variants {unknown}; choose from {list(VARIANTS)}.")
    return names or [DEFAULT_VARIANT]


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load the chosen Helios variants at start-up, in the main process."""
    from .engine import load

    for name in zerogpu_variants():
        v = VARIANTS[name]
        ctx.load(v.key, load(v, ctx.settings.cache_dir))
