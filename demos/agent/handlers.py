"""The Game agent tab's work (Frame and Video), apart from its layout: checks, the GPU task, info, keeping results.

`tab.py` builds the components and wires these to events; Play has its own pair (play_tab.py,
play_handlers.py). The methods registered as endpoints (`agent_frame`, `agent_video`) keep their
signatures and docstrings: Gradio reads them for the API page and the MCP tool descriptions. The
rest take and return plain values.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import gradio as gr

from shared.errors import UserInputError
from shared.io.media import VideoWriter, load_image, probe_video, read_video_frames
from shared.io.outputs import companion_path, new_output_path, save_inputs, write_sidecar
from shared.io.params import Number
from shared.web.ui import AppContext, Timer, gradio_errors, gradio_progress, resolve_seed, stopped_line
from shared.io.uploads import uploaded_file
from shared.tasks.cancel import NothingKept
from shared.tasks.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from .actions import BUTTONS, UNTRAINED_BUTTONS
from .limits import API_SEED, STRIDE, frame_cap_spec
from .overlay import chunk_panel, overlay_frame
from .plans import MODEL_KEY
from .plot import timeline

if TYPE_CHECKING:  # torch and the model code load with the first run, not with the page
    from .engine import AgentEngine

DEMO = "agent"
# Sampled frames are shrunk as they are decoded: the model needs far less, and
# 300 frames of 4K would otherwise hold ~7 GB of pixels in host RAM.
OVERLAY_MAX_SIDE = 640
# Sticks first: on a narrow screen the long "pressed" lists would push them out of view.
TABLE_HEADERS = ["step", "t (s)", "left x", "left y", "right x", "right y", "pressed", "untrained slots pressed"]
MAX_SUMMARIES = 256  # sessions whose last video summary waits to be shown (API-only ones never collect theirs)


def engine_for(ctx: AppContext, progress) -> AgentEngine:
    """The NitroGen engine of this app (loaded on first use; also Play's engine)."""
    from .engine import load

    return ctx.load(MODEL_KEY, load, progress)


@dataclass(frozen=True)
class AgentLimits:
    """This profile's caps: the controls and every check use these."""
    max_frames: int  # the frame cap's default and maximum
    cap_spec: Number
    max_pixels: int

    @classmethod
    def of(cls, ctx: AppContext) -> AgentLimits:
        plan = ctx.plan(MODEL_KEY)
        max_frames = int(plan.caps.get("max_video_frames", 48))
        return cls(max_frames, frame_cap_spec(max_frames, plan.profile),
                   int(plan.caps.get("max_image_pixels", 40_000_000)))


# ------------------------------------------------------------ plain values in, plain values out
def frame_table(chunk: dict) -> list[list]:
    """The rows of the "Actions per step" table (columns as TABLE_HEADERS)."""
    return [[s["step"] + 1, s["time_s"], *s["j_left"], *s["j_right"], " ".join(s["pressed"]) or "-",
             " ".join(s["pressed_untrained"]) or "-"] for s in chunk["steps"]]


def capped_stride(total_frames: int, stride: int, cap: int) -> int:
    """The stride that samples at most `cap` frames, evenly over the whole clip: the asked-for
    stride when it already does, else the smallest larger one that does."""
    return max(int(stride), -(-int(total_frames) // max(int(cap), 1)))


def cap_note(total_frames: int, asked_stride: int, stride: int, cap: int) -> str | None:
    """Plain words when the frame cap made the stride larger than asked (None when it did not)."""
    if stride == asked_stride:
        return None
    return (f"One every {asked_stride} of the {total_frames} frames would be {-(-total_frames // asked_stride)} "
            f"samples, over the frame cap of {cap}: one every {stride} frames was used instead, evenly over the "
            "whole clip.")


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


def video_payload(run_info: dict, chunks: list[dict], indices: list[int], times: list[float]) -> dict:
    """The actions JSON of a video run: one chunk per sampled frame, with its frame index and time."""
    return {"info": run_info, "button_names": list(BUTTONS), "untrained_buttons": list(UNTRAINED_BUTTONS),
            "chunks": [{"frame_index": i, "time_s": t, **c} for i, t, c in zip(indices, times, chunks)]}


def frame_views(actions: dict | None, step: float):
    """(gamepad diagram of the chosen step, table rows) of a Frame result; nothing before one."""
    if not actions or "steps" not in actions:
        return None, None
    return chunk_panel(actions, int(step) - 1), frame_table(actions)


def frame_options(seed) -> dict:
    """The Frame sub-tab's options state (kept out of the API by gr.State)."""
    return {"seed": seed}


def video_options(seed, max_frames) -> dict:
    """The Video sub-tab's options state (kept out of the API by gr.State)."""
    return {"seed": seed, "max_frames": max_frames}


def frame_reuse_fill(values: dict, sidecar: dict) -> dict:
    """History's "Reuse settings" for a Frame run: its sub-tab opened, the options it feeds filled."""
    return {**values, "tabs": gr.Tabs(selected="agent-frame-tab"), "opts": frame_options(values["seed"])}


def video_reuse_fill(values: dict, sidecar: dict) -> dict:
    """History's "Reuse settings" for a Video run: its sub-tab opened, the options it feeds filled."""
    return {**values, "tabs": gr.Tabs(selected="agent-video-tab"),
            "opts": video_options(values["seed"], values["max_frames"])}


# ------------------------------------------------------------ the GPU task
def agent_work(eng: AgentEngine, frames: list, seed: int, emit: Callable, cancel, report: Callable) -> dict:
    """Run the engine over `frames` batch by batch, emitting ("chunks", start, [chunk per frame]) per batch."""
    # One noise draw for the whole clip, sliced per batch: the same actions as one big run.
    noise = eng.noise(len(frames), seed)
    seconds: dict[str, float] = {}
    for start in range(0, len(frames), eng.batch_size):
        stop = min(start + eng.batch_size, len(frames))
        result = eng.run(frames[start:stop], seed, noise=noise[start:stop], cancel=cancel,
                         progress=lambda f, d="", s=start, n=stop - start: report((s + f * n) / len(frames), d))
        for name, value in result.seconds.items():
            seconds[name] = round(seconds.get(name, 0.0) + value, 4)
        if result.chunks:
            emit(("chunks", start, result.chunks))
        if result.cancelled:
            break
    return {"seconds": seconds, "engine": eng.describe()}


def make_agent_task(ctx: AppContext):
    """The GPU task `agent_task(frames, seed)` of this app (it finds the engine in `ctx`)."""

    # ZeroGPU quota: model load + about 0.2 s per frame in bf16 (an estimate, not measured).
    @gpu_task(duration=lambda frames, seed: 20 + 0.2 * len(frames))
    def agent_task(frames: list, seed: int):
        """GPU task (plain values in and out): yields ProgressEvent per denoising step, ("chunks", start,
        [decoded chunk per frame]) per frame batch, then TaskResult({"seconds", "cancelled", "engine"})."""

        def work(emit, cancel):
            report = progress_emitter(emit)
            return agent_work(engine_for(ctx, report), frames, seed, emit, cancel, report)

        yield from engine_events(work)

    return agent_task


def run_agent(task, frames, seed, cancel=None, progress=None):
    """Drive the agent task: (decoded chunks in frame order, task summary or None when stopped)."""
    chunks, summary = [], None
    for event in drive(task(frames, seed), cancel):
        if isinstance(event, ProgressEvent):
            if progress is not None:
                progress(event.fraction, event.description)
        elif isinstance(event, TaskResult):
            summary = event.value
        else:
            chunks.extend(event[2])
    return chunks, summary


@dataclass
class SampledClip:
    """A clip decoded for a video run: overlay-size frames, model-size frames, and how they were sampled."""
    frames: list
    model_frames: list
    info: object  # shared.io.media's probe of the clip (frames, fps, width, height)
    total: int
    stride: int  # the stride used (the frame cap may have made it larger than asked)
    note: str | None


class AgentHandlers:
    """The Frame and Video sub-tabs' event handlers for one app context."""

    def __init__(self, ctx: AppContext, limits: AgentLimits | None = None) -> None:
        self.ctx = ctx
        self.limits = limits or AgentLimits.of(ctx)
        self.task = make_agent_task(ctx)
        self.last_summary: dict[str, str] = {}  # session -> plain words about its last video run (shown after it)

    # ------------------------------------------------------------ Frame
    def frame_actions(self, frame, options, report) -> dict:
        """The actions of one screenshot with their info, kept as a JSON with its sidecar."""
        seed = resolve_seed(options.get("seed", API_SEED))
        timer = Timer()
        frame_path = uploaded_file(frame, "frame")
        if frame_path is None:
            raise UserInputError("frame: no image was given; upload a game screenshot (PNG, JPEG, WebP).")
        with timer("decode"):
            image = load_image(frame_path, max_pixels=self.limits.max_pixels, max_side=16384)
        with timer("total"):
            chunks, summary = run_agent(self.task, [image], seed, progress=report)
        actions = dict(chunks[0])
        actions["info"] = {
            **self.ctx.base_info(MODEL_KEY, seed), "input_size": list(image.size), "engine": summary["engine"],
            "timings_s": {**timer.seconds, **summary["seconds"]},
        }
        out = companion_path(new_output_path(self.ctx.outputs_dir, DEMO, "json"), "actions", "json")
        out.write_text(json.dumps(actions, indent=1))
        write_sidecar(out, actions["info"], demo="agent_frame", inputs={"frame": None, "seed": seed},
                      saved_inputs=save_inputs(self.ctx.outputs_dir, {"frame": frame_path}))
        return actions

    # ------------------------------------------------------------ Video
    def sample_clip(self, video_path, stride: int, cap: int, report) -> SampledClip:
        """Decode every stride-th frame (a cap samples evenly over the whole clip: it never refuses or cuts the end)."""
        total = probe_video(video_path).frames
        used = capped_stride(total, stride, cap)
        # The model gets each frame resized once from full resolution (upstream's cv2 resize);
        # the overlay gets a shrunk copy. Model-size frames are also what crosses to a GPU worker.
        size = engine_for(self.ctx, report).image_size
        from .engine import resize_frame

        frames, info, model_frames = read_video_frames(video_path, stride=used, max_frames=cap,
                                                       max_side=OVERLAY_MAX_SIDE,
                                                       full_view=lambda f: resize_frame(f, size))
        return SampledClip(frames, model_frames, info, total, used, cap_note(total, stride, used, cap))

    def render(self, clip: SampledClip, chunks: list, times: list) -> tuple[Path, Path]:
        """(overlay mp4, timeline png) of the frames the agent finished."""
        mp4 = new_output_path(self.ctx.outputs_dir, DEMO, "mp4")
        writer = VideoWriter(mp4, max(clip.info.fps / clip.stride, 1.0))
        for frame, chunk in zip(clip.frames, chunks):
            writer.write([overlay_frame(frame, chunk)])
        writer.close()
        return mp4, timeline(chunks, times, companion_path(mp4, "plot", "png"))

    def video_run_info(self, seed: int, asked_stride: int, cap: int, clip: SampledClip, done: int,
                       summary: dict | None, timer: Timer) -> dict:
        info, fps = clip.info, clip.info.fps
        return {
            **self.ctx.base_info(MODEL_KEY, seed), "stride": asked_stride, "stride_used": clip.stride,
            "frame_cap": cap, "cap_note": clip.note, "elapsed_s": timer.elapsed(),
            "video": {"frames": info.frames, "fps": fps, "width": info.width, "height": info.height},
            "sampled_frames": done, "cancelled": summary is None or done < len(clip.frames),
            "engine": summary["engine"] if summary else None,
            "timings_s": timer.seconds,
        }

    def remember_summary(self, request, run_info: dict) -> None:
        """Keep the run's plain-words summary for the page event after it (per session, bounded)."""
        session = getattr(request, "session_hash", None)
        if session:
            self.last_summary[session] = video_summary(run_info)
            while len(self.last_summary) > MAX_SUMMARIES:
                self.last_summary.pop(next(iter(self.last_summary)))

    def video_actions(self, video, stride, options, request, report) -> tuple[str, str, str]:
        """The overlay mp4, timeline png and actions JSON of a clip, kept with their sidecar."""
        seed = resolve_seed(options.get("seed", API_SEED))
        cap = self.limits.cap_spec.check(options.get("max_frames", self.limits.max_frames))
        stride = STRIDE.check(stride)
        timer = Timer()
        video_path = uploaded_file(video, "video")
        if video_path is None:
            raise UserInputError("video: no clip was given; upload a gameplay clip (MP4, WebM, MOV, MKV).")
        with timer("decode"):
            clip = self.sample_clip(video_path, stride, cap, report)
        with self.ctx.cancel_scope(request) as cancel, timer("inference"):
            chunks, summary = run_agent(self.task, clip.model_frames, seed, cancel=cancel,
                                        progress=lambda f, d="": report(0.05 + 0.8 * f, d))
        done = len(chunks)
        if done == 0:
            raise NothingKept("Stopped before the first frame was finished: nothing was kept.")
        indices = [i * clip.stride for i in range(done)]
        times = [round(i / clip.info.fps, 4) for i in indices]
        report(0.87, "Drawing the overlay video")
        with timer("render"):
            mp4, png = self.render(clip, chunks, times)
        run_info = self.video_run_info(seed, stride, cap, clip, done, summary, timer)
        actions_path = companion_path(mp4, "actions", "json")
        actions_path.write_text(json.dumps(video_payload(run_info, chunks, indices, times), indent=1))
        write_sidecar(mp4, run_info, demo="agent_video", files={"plot": png, "actions": actions_path},
                      inputs={"video": None, "stride": clip.stride, "max_frames": cap, "seed": seed},
                      saved_inputs=save_inputs(self.ctx.outputs_dir, {"video": video_path}))
        self.remember_summary(request, run_info)
        report(1.0, "Done")
        return str(mp4), str(png), str(actions_path)

    def summary_after_run(self, request: gr.Request):
        """The page event after a video run: its summary line, once (no change when there is none)."""
        return self.last_summary.pop(getattr(request, "session_hash", None), gr.skip())

    # ------------------------------------------------------------ events (signatures are the API)
    @gradio_errors
    def agent_frame(self, frame: str, options: dict | None = None, progress=gr.Progress()) -> dict:
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
        return self.frame_actions(frame, options or {}, gradio_progress(progress))

    @gradio_errors
    def agent_video(self, video: str, stride: int, options: dict | None = None, request: gr.Request = None,
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
        return self.video_actions(video, stride, options, request, gradio_progress(progress))
