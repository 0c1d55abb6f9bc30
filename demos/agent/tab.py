"""Game agent tab: NVIDIA NitroGen, one frame -> 18 gamepad actions.

Public API (names are a contract, see DESIGN.md §3):
  /agent_frame (frame)          -> actions dict
  /agent_video (video, stride)  -> overlay mp4, timeline plot (png), actions (json file)
Seed and frame cap come from the UI through gr.State, which Gradio keeps out
of the API: API calls use seed 0 (reproducible) and the plan's frame cap.
"""

from __future__ import annotations

import json

import gradio as gr

from shared import hub
from shared.errors import UserInputError
from shared.media import VideoWriter, load_image, read_video_frames
from shared.outputs import companion_path, new_output_path, save_inputs, write_sidecar
from shared.ui import GPU_QUEUE, AppContext, Timer, gradio_errors, gradio_progress, resolve_seed
from shared.uploads import uploaded_file
from shared.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from . import engine as agent_engine
from .actions import BUTTONS, UNTRAINED_BUTTONS
from .overlay import chunk_panel, overlay_frame
from .plans import MODEL_KEY
from .plot import timeline

TITLE = "Game agent"
DEMO = "agent"
API_SEED = 0
MAX_STRIDE = 120
# Sampled frames are shrunk as they are decoded: the model needs far less, and
# 300 frames of 4K would otherwise hold ~7 GB of pixels in host RAM.
OVERLAY_MAX_SIDE = 640
TABLE_HEADERS = ["step", "t (s)", "pressed", "untrained slots pressed", "left x", "left y", "right x", "right y"]

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
    return [[s["step"] + 1, s["time_s"], " ".join(s["pressed"]) or "-", " ".join(s["pressed_untrained"]) or "-",
             *s["j_left"], *s["j_right"]] for s in chunk["steps"]]


def _engine(ctx: AppContext, progress) -> agent_engine.AgentEngine:
    return ctx.load(MODEL_KEY, agent_engine.load, progress)


def build_tab(ctx: AppContext) -> None:
    plan = ctx.plan(MODEL_KEY)
    caps = plan.caps
    max_frames_cap = int(caps.get("max_video_frames", 48))
    max_pixels = int(caps.get("max_image_pixels", 40_000_000))

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
        options = options or {}
        seed = resolve_seed(options.get("seed", API_SEED))
        cap = int(min(max(int(options.get("max_frames", max_frames_cap)), 1), max_frames_cap))
        try:
            stride = int(stride)
        except (TypeError, ValueError):
            raise UserInputError(f"The stride must be a whole number from 1 to {MAX_STRIDE}.") from None
        if not 1 <= stride <= MAX_STRIDE:
            raise UserInputError(f"The stride is {stride}; it must be from 1 to {MAX_STRIDE}.")
        timer = Timer()
        report = gradio_progress(progress)
        video_path = uploaded_file(video, "video")
        with timer("decode"):
            frames, info = read_video_frames(video_path, stride=stride, max_frames=cap, max_side=OVERLAY_MAX_SIDE)
        fps = info.fps
        with ctx.cancel_scope(request) as cancel, timer("inference"):
            chunks, summary = run_agent(frames, seed, cancel=cancel,
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
            **ctx.base_info(MODEL_KEY, seed), "stride": stride, "frame_cap": cap,
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
                with gr.Column():
                    diagram = gr.Image(label="Predicted gamepad (step selected below) and the 18-step chunk",
                                       elem_id="agent-frame-diagram", interactive=False, format="png")
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
                    stride = gr.Slider(1, MAX_STRIDE, value=10, step=1, label="Stride: run the agent on every k-th frame",
                                       elem_id="agent-video-stride")
                    max_frames = gr.Slider(1, max_frames_cap, value=max_frames_cap, step=1,
                                           label=f"Frame cap (sampled frames; this profile allows {max_frames_cap})",
                                           elem_id="agent-video-max-frames")
                    video_seed = gr.Number(value=API_SEED, precision=0, label="Seed (-1 = random)",
                                           elem_id="agent-video-seed")
                    with gr.Row():
                        video_run = gr.Button("Run the agent", variant="primary", elem_id="agent-video-run")
                        video_stop = gr.Button("Stop", variant="stop", elem_id="agent-video-stop")
                with gr.Column():
                    video_out = gr.Video(label="Overlay", elem_id="agent-video-output", interactive=False)
                    plot_out = gr.Image(label="Timeline: buttons and sticks", elem_id="agent-video-plot",
                                        interactive=False, type="filepath")
                    actions_out = gr.File(label="Actions (JSON)", elem_id="agent-video-actions")
            opts_inputs = [video_seed, max_frames]
            for comp in opts_inputs:
                comp.change(lambda s, m: {"seed": s, "max_frames": m}, opts_inputs, video_opts,
                            api_visibility="private", queue=False)
            video_run.click(agent_video, [video_in, stride, video_opts], [video_out, plot_out, actions_out],
                            api_name="agent_video", preprocess=False, **GPU_QUEUE)
            video_stop.click(ctx.stop, None, None, api_visibility="private", queue=False)

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
