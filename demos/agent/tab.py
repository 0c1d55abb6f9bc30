"""Game agent tab: NVIDIA NitroGen, one frame -> 18 gamepad actions.

Public API (names are a contract, see DESIGN.md §3):
  /agent_frame (frame)          -> actions dict
  /agent_video (video, stride)  -> overlay mp4, timeline plot (png), actions (json file)
Seed and frame cap come from the UI through gr.State, which Gradio keeps out
of the API: API calls use seed 0 (reproducible) and the plan's frame cap.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import gradio as gr

from demos.assets import asset
from shared import hub
from shared.errors import UserInputError
from shared.media import VideoWriter, load_image, probe_video, read_video_frames
from shared.outputs import companion_path, new_output_path, save_inputs, write_sidecar
from shared.ui import (GPU_QUEUE, AppContext, Timer, gradio_errors, gradio_progress, lock_while_running, readiness_markdown, refresh_on_load,
                       resolve_seed, stopped_line)
from shared.uploads import uploaded_file
from shared.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from .actions import BUTTONS, UNTRAINED_BUTTONS
from .limits import API_SEED, STRIDE, frame_cap_spec
from .overlay import chunk_panel, overlay_frame
from .plans import MODEL_KEY
from .plot import timeline
from .play_tab import build_play_section

if TYPE_CHECKING:
    from .engine import AgentEngine

TITLE = "Game agent"
DEMO = "agent"
# Sampled frames are shrunk as they are decoded: the model needs far less, and
# 300 frames of 4K would otherwise hold ~7 GB of pixels in host RAM.
OVERLAY_MAX_SIDE = 640
# Sticks first: on a narrow screen the long "pressed" lists would push them out of view.
TABLE_HEADERS = ["step", "t (s)", "left x", "left y", "right x", "right y", "pressed", "untrained slots pressed"]

INTRO = """### NVIDIA NitroGen: a game frame in, 18 gamepad actions out
A generalist game-playing model (~494 M parameters: SigLIP vision tower, VL mixer, flow-matching DiT).
From one screenshot it predicts the next **18 controller actions** (60 Hz, 0.3 s): 21 buttons and two sticks.
Run by our own implementation, numerically identical to upstream's `get_action`; no pickle server.
**Frame** explains one screenshot; **Video** runs the agent over a gameplay clip.
Buttons marked *untrained* (`RIGHT_BOTTOM/LEFT/RIGHT/UP`) exist in the output but were never trained: ignore them.
Stick y follows the model's convention (+y = down)."""

LICENCE_NOTE = ("The NitroGen weights are for **non-commercial research use only** under NVIDIA's licence "
                "(not an official NVIDIA product); do not use them commercially.")


def _table(chunk: dict) -> list[list]:
    return [[s["step"] + 1, s["time_s"], *s["j_left"], *s["j_right"], " ".join(s["pressed"]) or "-",
             " ".join(s["pressed_untrained"]) or "-"] for s in chunk["steps"]]


def capped_stride(total_frames: int, stride: int, cap: int) -> int:
    """The stride that samples at most `cap` frames, evenly over the whole clip: the asked-for
    stride when it already does, else the smallest larger one that does."""
    return max(int(stride), -(-int(total_frames) // max(int(cap), 1)))


def video_summary(info: dict) -> str:
    """Plain words under the agent's video results."""
    sampled, video = info.get("sampled_frames", 0), info.get("video", {})
    what = (f"ran the agent on {sampled} frame{'s' if sampled != 1 else ''} of the {video.get('frames')}-frame clip "
            f"(one every {info.get('stride_used', info.get('stride'))} frames)")
    note = f" {info['cap_note']}" if info.get("cap_note") else ""
    if info.get("cancelled"):
        return stopped_line(info.get("elapsed_s"), f"Kept what was done: {what}. The overlay, timeline and "
                            "actions of those frames are below.") + note
    return f"**Done in {info.get('elapsed_s', 0):.1f} s:** {what}.{note}"


def _engine(ctx: AppContext, progress) -> AgentEngine:
    from .engine import load  # torch and the model code load with the first run, not with the page

    return ctx.load(MODEL_KEY, load, progress)


def build_tab(ctx: AppContext) -> None:
    plan = ctx.plan(MODEL_KEY)
    caps = plan.caps
    max_frames_cap = int(caps.get("max_video_frames", 48))
    cap_spec = frame_cap_spec(max_frames_cap, plan.profile)
    max_pixels = int(caps.get("max_image_pixels", 40_000_000))
    last_summary: dict[str, str] = {}  # session -> plain words about its last video run (shown after it)

    # ZeroGPU quota: model load + about 0.2 s per frame in bf16 (an estimate, not measured).
    @gpu_task(duration=lambda frames, seed: 20 + 0.2 * len(frames))
    def agent_task(frames: list, seed: int):
        """GPU task (plain values in and out): yields ProgressEvent per denoising step, ("chunks", start,
        [decoded chunk per frame]) per frame batch, then TaskResult({"seconds", "cancelled", "engine"})."""

        def work(emit, cancel):
            report = progress_emitter(emit)
            eng = _engine(ctx, report)
            # One noise draw for the whole clip, sliced per batch: the same actions as one big run.
            noise = eng.noise(len(frames), seed)
            seconds: dict[str, float] = {}
            for start in range(0, len(frames), eng.batch_size):
                stop = min(start + eng.batch_size, len(frames))
                result = eng.run(frames[start:stop], seed, noise=noise[start:stop], cancel=cancel,
                                 progress=lambda f, d="", s=start, n=stop - start: report(
                                     (s + f * n) / len(frames), d))
                for name, value in result.seconds.items():
                    seconds[name] = round(seconds.get(name, 0.0) + value, 4)
                if result.chunks:
                    emit(("chunks", start, result.chunks))
                if result.cancelled:
                    break
            return {"seconds": seconds, "engine": eng.describe()}

        yield from engine_events(work)

    def run_agent(frames, seed, cancel=None, progress=None):
        """Drive agent_task: (decoded chunks in frame order, task summary or None when stopped)."""
        chunks, summary = [], None
        for event in drive(agent_task(frames, seed), cancel):
            if isinstance(event, ProgressEvent):
                if progress is not None:
                    progress(event.fraction, event.description)
            elif isinstance(event, TaskResult):
                summary = event.value
            else:
                chunks.extend(event[2])
        return chunks, summary

    # ------------------------------------------------------------- handlers
    @gradio_errors
    def agent_frame(frame: str, options: dict | None = None, progress=gr.Progress()) -> dict:
        """Predict NitroGen's next 18 gamepad actions for one game screenshot.

        Args:
            frame: the game screenshot (PNG/JPEG/WebP...). The whole frame is resized to the model's
                input size (no crop), as upstream's play loop does.

        Returns:
            actions: dict with `buttons` (18 x 21, 0/1, order in `button_names`), `j_left` / `j_right`
            (18 x [x, y] in [-1, 1], +y = down), per-step `steps` (pressed button names, untrained slots
            listed apart), `untrained_buttons`, `control_hz` (60) and `info` (seed, model, source,
            profile, timings).
        """
        options = options or {}
        seed = resolve_seed(options.get("seed", API_SEED))
        timer = Timer()
        frame_path = uploaded_file(frame, "frame")
        if frame_path is None:
            raise UserInputError("frame: no image was given; upload a game screenshot (PNG, JPEG, WebP).")
        with timer("decode"):
            image = load_image(frame_path, max_pixels=max_pixels, max_side=16384)
        report = gradio_progress(progress)
        with timer("total"):
            chunks, summary = run_agent([image], seed, progress=report)
        actions = dict(chunks[0])
        actions["info"] = {
            **ctx.base_info(MODEL_KEY, seed), "input_size": list(image.size), "engine": summary["engine"],
            "timings_s": {**timer.seconds, **summary["seconds"]},
        }
        out = companion_path(new_output_path(ctx.outputs_dir, DEMO, "json"), "actions", "json")
        out.write_text(json.dumps(actions, indent=1))
        write_sidecar(out, actions["info"], demo="agent_frame", inputs={"frame": None, "seed": seed},
                      saved_inputs=save_inputs(ctx.outputs_dir, {"frame": frame_path}))
        return actions

    @gradio_errors
    def agent_video(video: str, stride: int, options: dict | None = None, request: gr.Request = None,
                    progress=gr.Progress()) -> tuple[str, str, str]:
        """Run NitroGen on every `stride`-th frame of a gameplay clip.

        Args:
            video: the gameplay clip (MP4/WebM/MOV/MKV...).
            stride: run the agent on every stride-th frame (1 = every frame).

        Returns:
            overlay mp4 (the sampled frames with the predicted controller drawn on them), a timeline plot
            (PNG) of button presses and stick values, and the actions as a JSON file (one chunk per
            sampled frame, with its frame index and time, plus `info`).
        """
        options = options if isinstance(options, dict) else {}
        seed = resolve_seed(options.get("seed", API_SEED))
        cap = cap_spec.check(options.get("max_frames", max_frames_cap))
        stride = STRIDE.check(stride)
        timer = Timer()
        report = gradio_progress(progress)
        video_path = uploaded_file(video, "video")
        if video_path is None:
            raise UserInputError("video: no clip was given; upload a gameplay clip (MP4, WebM, MOV, MKV).")
        with timer("decode"):
            # A cap samples evenly over the whole clip (a larger stride): it never refuses or cuts the end.
            total = probe_video(video_path).frames
            asked_stride, stride = stride, capped_stride(total, stride, cap)
            # The model gets each frame resized once from full resolution (upstream's cv2 resize);
            # the overlay gets a shrunk copy. Model-size frames are also what crosses to a GPU worker.
            size = _engine(ctx, report).image_size
            from .engine import resize_frame

            frames, info, model_frames = read_video_frames(
                video_path, stride=stride, max_frames=cap, max_side=OVERLAY_MAX_SIDE,
                full_view=lambda f: resize_frame(f, size))
        cap_note = (f"One every {asked_stride} of the {total} frames would be {-(-total // asked_stride)} samples, "
                    f"over the frame cap of {cap}: one every {stride} frames was used instead, evenly over the "
                    "whole clip." if stride != asked_stride else None)
        fps = info.fps
        with ctx.cancel_scope(request) as cancel, timer("inference"):
            chunks, summary = run_agent(model_frames, seed, cancel=cancel,
                                        progress=lambda f, d="": report(0.05 + 0.8 * f, d))
        done = len(chunks)
        if done == 0:
            raise gr.Error("Stopped before the first frame was finished.", print_exception=False)
        indices = [i * stride for i in range(done)]
        times = [round(i / fps, 4) for i in indices]
        report(0.87, "Drawing the overlay video")
        with timer("render"):
            mp4 = new_output_path(ctx.outputs_dir, DEMO, "mp4")
            writer = VideoWriter(mp4, max(fps / stride, 1.0))
            for frame, chunk in zip(frames, chunks):
                writer.write([overlay_frame(frame, chunk)])
            writer.close()
            png = timeline(chunks, times, companion_path(mp4, "plot", "png"))
        run_info = {
            **ctx.base_info(MODEL_KEY, seed), "stride": asked_stride, "stride_used": stride, "frame_cap": cap,
            "cap_note": cap_note, "elapsed_s": timer.elapsed(),
            "video": {"frames": info.frames, "fps": fps, "width": info.width, "height": info.height},
            "sampled_frames": done, "cancelled": summary is None or done < len(frames),
            "engine": summary["engine"] if summary else None,
            "timings_s": timer.seconds,
        }
        payload = {
            "info": run_info, "button_names": list(BUTTONS), "untrained_buttons": list(UNTRAINED_BUTTONS),
            "chunks": [{"frame_index": i, "time_s": t, **c} for i, t, c in zip(indices, times, chunks)],
        }
        actions_path = companion_path(mp4, "actions", "json")
        actions_path.write_text(json.dumps(payload, indent=1))
        write_sidecar(mp4, run_info, demo="agent_video", files={"plot": png, "actions": actions_path},
                      inputs={"video": None, "stride": stride, "max_frames": cap, "seed": seed},
                      saved_inputs=save_inputs(ctx.outputs_dir, {"video": video_path}))
        session = getattr(request, "session_hash", None)
        if session:
            last_summary[session] = video_summary(run_info)
            while len(last_summary) > 256:  # API-only sessions never collect theirs
                last_summary.pop(next(iter(last_summary)))
        report(1.0, "Done")
        return str(mp4), str(png), str(actions_path)

    # ----------------------------------------------------- UI-only helpers
    def frame_views(actions: dict | None, step: float):
        if not actions or "steps" not in actions:
            return None, None
        return chunk_panel(actions, int(step) - 1), _table(actions)


    # ------------------------------------------------------------------ UI
    gr.Markdown(INTRO)
    gr.Markdown(hub.licence_notice(MODEL_KEY) + "  \n" + LICENCE_NOTE, elem_id="agent-licence")
    refresh_on_load(gr.Markdown(elem_id="agent-readiness"), readiness_markdown(ctx, [MODEL_KEY]))
    with gr.Tabs() as agent_tabs:
        with gr.Tab("Frame", id="agent-frame-tab", elem_id="agent-frame-tab"):
            frame_opts = gr.State({"seed": API_SEED})
            with gr.Row():
                with gr.Column():
                    frame_in = gr.Image(type="filepath", label="Game screenshot", elem_id="agent-frame-input",
                                        sources=["upload", "clipboard"])
                    frame_seed = gr.Number(value=API_SEED, precision=0, label="Seed (-1 = random)",
                                           elem_id="agent-frame-seed")
                    frame_run = gr.Button("Predict actions", variant="primary", elem_id="agent-frame-run")
                    # Drawn by demos/assets/make.py: no third-party game art (see PROVENANCE.md there).
                    gr.Examples(examples=[[asset("agent_screenshot.png")]], inputs=[frame_in],
                                label="Example: a drawn platform-game screenshot", elem_id="agent-frame-examples")
                with gr.Column():
                    # The caption sits above the image: an image label would cover the LT trigger.
                    gr.Markdown("**Predicted gamepad** (the step chosen below) **and the 18-step chunk**")
                    diagram = gr.Image(show_label=False, elem_id="agent-frame-diagram", interactive=False,
                                       format="png")
                    step = gr.Slider(1, 18, value=1, step=1, label="Step of the chunk shown on the gamepad")
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Actions per step", interactive=False,
                                 elem_id="agent-frame-table")
            frame_json = gr.JSON(label="Actions (API output)", elem_id="agent-frame-actions")
            frame_seed.change(lambda s: {"seed": s}, frame_seed, frame_opts, api_visibility="private", queue=False)
            frame_run.click(agent_frame, [frame_in, frame_opts], frame_json, api_name="agent_frame",
                            preprocess=False, **GPU_QUEUE).then(frame_views, [frame_json, step], [diagram, table], api_visibility="private")
            step.change(frame_views, [frame_json, step], [diagram, table], api_visibility="private")

        with gr.Tab("Video", id="agent-video-tab", elem_id="agent-video-tab"):
            video_opts = gr.State({"seed": API_SEED, "max_frames": max_frames_cap})
            with gr.Row():
                with gr.Column():
                    video_in = gr.Video(label="Gameplay clip", elem_id="agent-video-input", sources=["upload"])
                    stride = gr.Slider(**STRIDE.slider(elem_id="agent-video-stride"))
                    max_frames = gr.Slider(**cap_spec.slider(),
                                           elem_id="agent-video-max-frames")
                    video_seed = gr.Number(value=API_SEED, precision=0, label="Seed (-1 = random)",
                                           elem_id="agent-video-seed")
                    with gr.Row():
                        video_run = gr.Button("Run the agent", variant="primary", elem_id="agent-video-run")
                        video_stop = gr.Button("Stop", variant="stop", elem_id="agent-video-stop")
                    gr.Examples(examples=[[asset("agent_clip.mp4"), 6]], inputs=[video_in, stride],
                                label="Example: a drawn platform-game clip", elem_id="agent-video-examples")
                with gr.Column():
                    # Progress (and queue position) show here, not over the previous results.
                    video_status = gr.Markdown("Upload a clip (or pick an example below) and press Run the agent.",
                                               elem_id="agent-video-status", min_height=64, container=True)
                    video_out = gr.Video(label="Overlay", elem_id="agent-video-output", interactive=False)
                    # The plot carries its own title: an image label would cover it.
                    plot_out = gr.Image(label="Timeline: buttons and sticks", show_label=False,
                                        elem_id="agent-video-plot", interactive=False,
                                        type="filepath")
                    actions_out = gr.File(label="Actions (JSON)", elem_id="agent-video-actions")
            opts_inputs = [video_seed, max_frames]
            for comp in opts_inputs:
                comp.change(lambda s, m: {"seed": s, "max_frames": m}, opts_inputs, video_opts,
                            api_visibility="private", queue=False)
            release_run = lock_while_running(video_run, "Running…")
            video_event = video_run.click(agent_video, [video_in, stride, video_opts], [video_out, plot_out, actions_out],
                                          api_name="agent_video", preprocess=False, show_progress_on=[video_status],
                                          **GPU_QUEUE)
            release_run(video_event)
            def summary_after_run(request: gr.Request):
                return last_summary.pop(getattr(request, "session_hash", None), gr.skip())

            video_event.then(summary_after_run, None, video_status, api_visibility="private", queue=False,
                             show_progress="hidden")
            # Stop cancels the run's token: the run ends itself and returns the frames it finished.
            video_stop.click(ctx.stop, None, None, api_visibility="private", queue=False)

        with gr.Tab("Play", id="agent-play-tab", elem_id="agent-play-tab"):
            build_play_section(ctx, agent_tabs, _engine)  # demos/agent/play_tab.py (issue #21)

    # History's "Reuse settings": opens the right sub-tab, fills the inputs and the options they feed.
    ctx.reuse.register("agent_frame", tab="agent", inputs={"frame": frame_in, "seed": frame_seed}, media=("frame",),
                       extras={"tabs": agent_tabs, "opts": frame_opts},
                       fill=lambda values, sidecar: {**values, "tabs": gr.Tabs(selected="agent-frame-tab"),
                                                     "opts": {"seed": values["seed"]}})
    ctx.reuse.register("agent_video", tab="agent", media=("video",),
                       inputs={"video": video_in, "stride": stride, "max_frames": max_frames, "seed": video_seed},
                       extras={"tabs": agent_tabs, "opts": video_opts},
                       fill=lambda values, sidecar: {**values, "tabs": gr.Tabs(selected="agent-video-tab"),
                                                     "opts": {"seed": values["seed"], "max_frames": values["max_frames"]}})


def preload(ctx: AppContext) -> None:
    """ZeroGPU: load NitroGen at start-up, in the main process."""
    _engine(ctx, None)
