"""Game agent tab: NVIDIA NitroGen, one frame -> 18 gamepad actions.

Public API (names are a contract, see DESIGN.md §3):
  /agent_frame (frame)          -> actions dict
  /agent_video (video, stride)  -> overlay mp4, timeline plot (png), actions (json file)
Seed and frame cap come from the UI through gr.State, which Gradio keeps out
of the API: API calls use seed 0 (reproducible) and the plan's frame cap.

This module is the layout and the event wiring; the work is in handlers.py (Play: play_tab.py and
play_handlers.py).
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from demos.assets import asset
from shared.web.folded import how_it_runs, licence_line
from shared.web.ui import GPU_QUEUE, AppContext, lock_while_running, on_status_line

from .handlers import (TABLE_HEADERS, AgentHandlers, AgentLimits, engine_for, frame_options, frame_reuse_fill,
                       frame_views, video_options, video_reuse_fill)
from .limits import API_SEED, STRIDE
from .plans import MODEL_KEY
from .play_tab import build_play_section

TITLE = "Game agent"

INTRO = """### Game agent: NVIDIA NitroGen
Show it a game screenshot and it predicts the next 18 gamepad moves, three tenths of a second of play.
**Frame** reads one screenshot, **Video** runs it over a gameplay clip, **Play** lets it play Doom live."""

# Folded under "How this runs on your machine": what a person needs only to read the results closely.
MODEL_DETAILS = """NitroGen has about 494 million parameters (a SigLIP vision tower, a mixer and a flow-matching
transformer). Our own implementation runs it and gives the same numbers as NVIDIA's `get_action`; no pickle server.
It acts 60 times a second, so a chunk of 18 steps is 0.3 seconds: 21 buttons and two sticks per step.
Buttons marked *untrained* (`RIGHT_BOTTOM/LEFT/RIGHT/UP`) exist in the output but were never trained: ignore them.
Stick y follows the model's convention: positive is down."""

LICENCE_NOTE = ("The NitroGen weights are for **non-commercial research use only** under NVIDIA's licence "
                "(not an official NVIDIA product); do not use them commercially.")


def build_tab(ctx: AppContext) -> None:
    handlers = AgentHandlers(ctx)
    gr.Markdown(INTRO, elem_id="agent-intro")
    # The form comes first: the licence is one closed line, the model and plan details a closed accordion.
    licence_line(MODEL_KEY, LICENCE_NOTE, elem_id="agent-licence")
    with how_it_runs(ctx, [MODEL_KEY], elem_id="agent-readiness"):
        gr.Markdown(MODEL_DETAILS, elem_id="agent-details")
    with gr.Tabs() as agent_tabs:
        with gr.Tab("Frame", id="agent-frame-tab", elem_id="agent-frame-tab"):
            frame = _frame_layout()
            _wire_frame(frame, handlers)
        with gr.Tab("Video", id="agent-video-tab", elem_id="agent-video-tab"):
            video = _video_layout(handlers.limits)
            _wire_video(ctx, video, handlers)
        with gr.Tab("Play", id="agent-play-tab", elem_id="agent-play-tab"):
            build_play_section(ctx, agent_tabs, engine_for)  # demos/agent/play_tab.py (issue #21)

    # History's "Reuse settings": opens the right sub-tab, fills the inputs and the options they feed.
    ctx.reuse.register("agent_frame", tab="agent", inputs={"frame": frame.image, "seed": frame.seed}, media=("frame",),
                       extras={"tabs": agent_tabs, "opts": frame.opts}, fill=frame_reuse_fill)
    ctx.reuse.register("agent_video", tab="agent", media=("video",),
                       inputs={"video": video.clip, "stride": video.stride, "max_frames": video.max_frames,
                               "seed": video.seed},
                       extras={"tabs": agent_tabs, "opts": video.opts}, fill=video_reuse_fill)


def _frame_layout() -> SimpleNamespace:
    """The Frame sub-tab: a screenshot in; the gamepad diagram, the table and the API's JSON out."""
    opts = gr.State({"seed": API_SEED})
    with gr.Row():
        with gr.Column():
            image = gr.Image(type="filepath", label="Game screenshot", elem_id="agent-frame-input",
                             sources=["upload", "clipboard"])
            seed = gr.Number(value=API_SEED, precision=0, label="Seed (-1 picks one at random)", elem_id="agent-frame-seed")
            run = gr.Button("Predict actions", variant="primary", elem_id="agent-frame-run")
        with gr.Column():  # on a phone this column stacks right under the button
            status = gr.Markdown("Upload a screenshot (or pick the example below) and press Predict actions.",
                                 elem_id="agent-frame-status", min_height=64, container=True)
            # The caption sits above the image: an image label would cover the LT trigger.
            gr.Markdown("**Predicted gamepad** (the step chosen below) **and the 18-step chunk**")
            diagram = gr.Image(show_label=False, elem_id="agent-frame-diagram", interactive=False, format="png")
            step = gr.Slider(1, 18, value=1, step=1, label="Step of the chunk shown on the gamepad")
    # Below the result, not between the button and it (on a phone the columns stack).
    # Drawn by demos/assets/make.py: no third-party game art (see PROVENANCE.md there).
    gr.Examples(examples=[[asset("agent_screenshot.png")]], inputs=[image],
                label="Example: a drawn platform-game screenshot", elem_id="agent-frame-examples")
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Actions per step", interactive=False,
                         elem_id="agent-frame-table")
    actions = gr.JSON(label="Actions (API output)", elem_id="agent-frame-actions")
    return SimpleNamespace(opts=opts, image=image, seed=seed, run=run, diagram=diagram, step=step, table=table,
                           actions=actions, status=status)


def _wire_frame(ui: SimpleNamespace, handlers: AgentHandlers) -> None:
    """/agent_frame, then the diagram and table of the chosen step."""
    ui.seed.change(frame_options, ui.seed, ui.opts, api_visibility="private", queue=False)
    # The page's run puts a refusal on the status line; the named endpoint (hidden trigger) raises it.
    ui.run.click(on_status_line(handlers.agent_frame, 1), [ui.image, ui.opts], [ui.actions, ui.status],
                 api_visibility="private", preprocess=False, show_progress_on=[ui.status],
                 **GPU_QUEUE).then(frame_views, [ui.actions, ui.step], [ui.diagram, ui.table], api_visibility="private")
    gr.Button(visible=False).click(handlers.agent_frame, [ui.image, ui.opts], ui.actions, api_name="agent_frame",
                                   preprocess=False, **GPU_QUEUE)
    ui.actions.change(frame_done_line, ui.actions, ui.status, api_visibility="private", queue=False,
                      show_progress="hidden")
    ui.step.change(frame_views, [ui.actions, ui.step], [ui.diagram, ui.table], api_visibility="private")


def _video_layout(limits: AgentLimits) -> SimpleNamespace:
    """The Video sub-tab: a clip, stride, frame cap and seed in; the overlay, timeline and actions file out."""
    opts = gr.State({"seed": API_SEED, "max_frames": limits.max_frames})
    with gr.Row():
        with gr.Column():
            clip = gr.Video(label="Gameplay clip", elem_id="agent-video-input", sources=["upload"])
            stride = gr.Slider(**STRIDE.slider(elem_id="agent-video-stride"))
            max_frames = gr.Slider(**limits.cap_spec.slider(), elem_id="agent-video-max-frames")
            seed = gr.Number(value=API_SEED, precision=0, label="Seed (-1 picks one at random)",
                             elem_id="agent-video-seed")
            with gr.Row():
                # min_width: side by side on a phone too, so the result follows the buttons at once.
                run = gr.Button("Run the agent", variant="primary", elem_id="agent-video-run", min_width=100)
                stop = gr.Button("Stop", variant="stop", elem_id="agent-video-stop", min_width=80)
        with gr.Column():  # on a phone this column stacks right under the buttons
            # Progress (and queue position) show here, not over the previous results.
            status = gr.Markdown("Upload a clip (or pick an example below) and press Run the agent.",
                                 elem_id="agent-video-status", min_height=64, container=True)
            overlay = gr.Video(label="Overlay", elem_id="agent-video-output", interactive=False)
            # The plot carries its own title: an image label would cover it.
            plot = gr.Image(label="Timeline: buttons and sticks", show_label=False, elem_id="agent-video-plot",
                            interactive=False, type="filepath")
            actions = gr.File(label="Actions (JSON)", elem_id="agent-video-actions")
    gr.Examples(examples=[[asset("agent_clip.mp4"), 6]], inputs=[clip, stride],
                label="Example: a drawn platform-game clip", elem_id="agent-video-examples")
    return SimpleNamespace(opts=opts, clip=clip, stride=stride, max_frames=max_frames, seed=seed, run=run, stop=stop,
                           status=status, overlay=overlay, plot=plot, actions=actions)


def _wire_video(ctx: AppContext, ui: SimpleNamespace, handlers: AgentHandlers) -> None:
    """/agent_video, its summary line after it, and Stop."""
    opts_inputs = [ui.seed, ui.max_frames]
    for comp in opts_inputs:
        comp.change(video_options, opts_inputs, ui.opts, api_visibility="private", queue=False)
    release_run = lock_while_running(ui.run, "Running…")
    event = ui.run.click(on_status_line(handlers.agent_video, 3), [ui.clip, ui.stride, ui.opts],
                         [ui.overlay, ui.plot, ui.actions, ui.status], api_visibility="private", preprocess=False,
                         show_progress_on=[ui.status], **GPU_QUEUE)
    gr.Button(visible=False).click(handlers.agent_video, [ui.clip, ui.stride, ui.opts], [ui.overlay, ui.plot, ui.actions],
                                   api_name="agent_video", preprocess=False, **GPU_QUEUE)
    release_run(event)
    event.then(handlers.summary_after_run, None, ui.status, api_visibility="private", queue=False,
               show_progress="hidden")
    # Stop cancels the run's token: the run ends itself and returns the frames it finished.
    ui.stop.click(ctx.stop, None, None, api_visibility="private", queue=False)


def frame_done_line(actions) -> str:
    """The Frame status line after a prediction (a refusal writes its own)."""
    if not isinstance(actions, dict) or "info" not in actions:
        return gr.skip()
    info = actions["info"]
    total = (info.get("timings_s") or {}).get("total")
    took = f" in {total:.1f} s" if isinstance(total, (int, float)) else ""
    return f"**Done{took}:** the next 18 steps of gamepad actions, seed {info.get('seed')}. Pick a step below."


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load NitroGen at start-up, in the main process."""
    engine_for(ctx, None)
