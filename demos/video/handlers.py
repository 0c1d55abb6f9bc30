"""The Long video tab's work, apart from its layout: checks, the GPU task, info, keeping the result.

`tab.py` builds the components and wires these to events. The methods registered as endpoints
(`video_stream`, `video_api` as /video) keep their signatures and docstrings: Gradio reads them for
the API page and the MCP tool descriptions. The UI helpers take and return plain values (and
`gr.update`s where a control changes more than its value).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from shared.errors import UserInputError
from shared.io.outputs import new_output_path, save_inputs, write_sidecar
from shared.io.params import Choice
from shared.models.profiles import PlacementPlan
from shared.web.ui import AppContext, Timer, gradio_errors, gradio_progress, resolve_seed, stopped_line
from shared.io.uploads import uploaded_file
from shared.tasks.cancel import NothingKept
from shared.tasks.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from .clips import clip_to_continue, first_frame
from .limits import (AMPLIFY, CHUNK_FRAMES, FPS, RESOLUTIONS, ZERO_INIT, check_guidance, check_mode, check_prompt,
                     check_resolution, check_steps, frames_spec, MODE_TITLES, plural, seconds_of_video)
from .variants import DEFAULT_VARIANT, VARIANTS

if TYPE_CHECKING:  # the engine (torch) is imported by the first request, not by the page
    from .engine import ChunkUpdate, VideoRequest, VideoResult
    from .variants import Variant

DEMO = "video"
DEFAULT_RESOLUTION_ENV = "RELEASE_HUB_VIDEO_RESOLUTION"
ZEROGPU_VARIANTS_ENV = "RELEASE_HUB_ZEROGPU_VARIANTS"
VARIANT = Choice.of("variant", "Model", [(v.title, k) for k, v in VARIANTS.items()], default=DEFAULT_VARIANT)


def _variant(name):
    return VARIANTS[VARIANT.check(name)]


def _default_resolution(plan_default: str, allowed: list[str]) -> str:
    """The resolution API calls and the UI start with: the plan's, unless the owner sets
    RELEASE_HUB_VIDEO_RESOLUTION (e.g. a Space saving quota with the 192x320 draft size)."""
    chosen = os.environ.get(DEFAULT_RESOLUTION_ENV, "").strip() or plan_default
    if chosen not in allowed:
        raise ValueError(f"{DEFAULT_RESOLUTION_ENV}={chosen!r} is not offered on this profile; choose from {allowed}.")
    return chosen


@dataclass(frozen=True)
class VideoLimits:
    """This profile's plan and caps: the controls and every check use these."""
    plan: PlacementPlan
    resolutions: list[str]
    default_resolution: str
    max_frames: int

    @classmethod
    def of(cls, ctx: AppContext) -> VideoLimits:
        plan = ctx.plan(VARIANTS[DEFAULT_VARIANT].key)
        caps = plan.caps
        resolutions = list(caps.get("resolutions", RESOLUTIONS))
        default = _default_resolution(caps.get("default_resolution", resolutions[0]), resolutions)
        return cls(plan, resolutions, default, int(caps.get("max_frames", 1452)))


def check_served(ctx: AppContext, v: Variant) -> None:
    """On ZeroGPU only the preloaded variants can run (a model loaded in the worker dies with it)."""
    if ctx.profile == "zerogpu" and not ctx.cache.is_resident(v.key):
        served = ", ".join(n for n, x in VARIANTS.items() if ctx.cache.is_resident(x.key)) or "none"
        raise UserInputError(f"variant '{v.name}' is not preloaded on this Space (it serves: {served}). "
                             f"The Space owner can add it with {ZEROGPU_VARIANTS_ENV}.")


def check_settings(v: Variant, options: dict, notes: dict):
    """The variant's recommended settings with the Advanced values the UI sent (the API sends none)."""
    settings = v.defaults
    if "steps" in options:
        settings = settings.with_steps(check_steps(options["steps"], v.max_steps, notes))
    if "guidance_scale" in options and v.name != "distilled":
        settings = replace(settings, guidance_scale=check_guidance(options["guidance_scale"]))
    if "amplify_first_chunk" in options and v.name == "distilled":
        settings = replace(settings, amplify_first_chunk=AMPLIFY.check(options["amplify_first_chunk"]))
    if "use_zero_init" in options and v.name == "mid":
        settings = replace(settings, use_zero_init=ZERO_INIT.check(options["use_zero_init"]))
    return settings


def source_media(mode: str, image, video, resolution) -> tuple[Any, Any, dict]:
    """(first frame, clip to continue, upload facts) for the mode: the file it needs, decoded and checked."""
    if mode == "i2v":
        path = uploaded_file(image, "image")
        if not path:
            raise UserInputError("image: image-to-video needs an image; upload the first frame (PNG, JPEG, WebP).")
        return first_frame(path, resolution), None, {}
    if mode == "v2v":
        path = uploaded_file(video, "video")
        if not path:
            raise UserInputError("video: video-to-video needs a clip of at least 33 frames to continue.")
        clip, upload = clip_to_continue(path, resolution)
        return None, clip, upload
    return None, None, {}


def prepare(ctx: AppContext, limits: VideoLimits, prompt, mode, image, video, num_frames, variant, seed, options):
    """Validate everything before any model work; returns (variant, request, upload facts, repairs)."""
    options = options if isinstance(options, dict) else {}
    notes = {}  # values repaired on the way in (info["adjusted"])
    v = _variant(variant)
    check_served(ctx, v)
    prompt = check_prompt(prompt)
    mode = check_mode(mode)
    frames = frames_spec(limits.max_frames, limits.plan.profile).check(num_frames, notes)
    resolution = check_resolution(options.get("resolution", limits.default_resolution), limits.resolutions)
    settings = check_settings(v, options, notes)
    first, clip, upload = source_media(mode, image, video, resolution)
    from .engine import VideoRequest

    request = VideoRequest(prompt=prompt, mode=mode, num_frames=frames, resolution=resolution,
                           seed=resolve_seed(seed), settings=settings, image=first, video=clip)
    return v, request, upload, notes


def video_info(base: dict, v: Variant, request: VideoRequest, result: VideoResult | None, upload: dict, timer: Timer,
               plan: PlacementPlan, eng: dict | None = None) -> dict:
    """The info dict of a run (`base` is the app's `base_info` for the variant and seed)."""
    return {
        **base, "variant": v.name, "mode": request.mode,
        "prompt": request.prompt, "requested_frames": request.num_frames,
        "frames": result.frames if result else 0, "fps": FPS,
        "seconds_of_video": round((result.frames if result else 0) / FPS, 3),
        "resolution": request.resolution.label, "chunks_done": result.chunks_done if result else 0,
        "chunks_total": result.chunks_total if result else 0, "cancelled": bool(result and result.cancelled),
        "settings": request.settings.to_dict(), "upload": upload,
        "plan": {"offload": plan.offload, "fp8_layerwise": plan.fp8_layerwise, "host_ram_gb": plan.host_ram_gb},
        "engine": eng, "licence": "Apache-2.0",
        "timings_s": {**timer.seconds, **(result.seconds if result else {})},
        "elapsed_s": timer.elapsed(),
    }


def reuse_inputs(info: dict) -> dict:
    """The sidecar's `inputs`: every input of the tab as the run used it (History's Reuse settings)."""
    settings = info["settings"]
    return {"prompt": info["prompt"], "mode": info["mode"], "image": None, "video": None,
            "num_frames": info["requested_frames"], "variant": info["variant"], "seed": info["seed"],
            "resolution": info["resolution"], "steps": settings["steps"][0],
            "guidance_scale": settings["guidance_scale"], "amplify_first_chunk": settings["amplify_first_chunk"],
            "use_zero_init": settings["use_zero_init"]}


def partial_info(item: ChunkUpdate, seed: int) -> dict:
    """What the page and the API get after each chunk, before the final info."""
    return {"chunk": item.chunk, "chunks": item.chunks, "frames": item.frames,
            "seconds_of_video": round(item.frames / FPS, 3), "seed": seed, "partial": True}


def _estimate_seconds(variant_name: str, num_frames: int) -> float:
    """ZeroGPU duration request: ~2 s per chunk for Distilled on an H100 (upstream), x10 for CFG variants."""
    per_chunk = 4.0 if variant_name == "distilled" else 40.0
    return 30 + per_chunk * max(1, int(num_frames) // CHUNK_FRAMES)


def _stopped_result(out: Path, last: ChunkUpdate | None) -> VideoResult:
    """What a stopped run left: the mp4 of the chunks finished before Stop."""
    from .engine import VideoResult

    done = last.chunk if last else 0
    return VideoResult(path=out if done and out.exists() else None, frames=last.frames if last else 0,
                       chunks_done=done, chunks_total=last.chunks if last else 0, cancelled=True)


def make_video_task(ctx: AppContext):
    """The GPU task `video_task(variant, request, out)` of this app (it finds its pipeline in `ctx`)."""

    @gpu_task(duration=lambda variant, request, out: _estimate_seconds(variant, request.num_frames))
    def video_task(variant: str, request: VideoRequest, out: str):
        """GPU task (plain values in and out): yields ProgressEvent per denoising step, ChunkUpdate per
        chunk, then TaskResult({"result": VideoResult, "engine": description})."""
        v = VARIANTS[variant]

        def work(emit, cancel):
            from .engine import load

            report = progress_emitter(emit)
            eng = ctx.load(v.key, load(v, ctx.settings.cache_dir, report), report)
            result = eng.generate(request, Path(out), on_chunk=emit, progress=report, cancel=cancel)
            return {"result": result, "engine": eng.describe()}

        yield from engine_events(work)

    return video_task


# The parameters of /video and /video_stream, written once: the API page and MCP read them from the docstrings.
VIDEO_ARGS = """        Args:
            prompt: what the video shows (up to 2,000 characters).
            mode: "t2v" (text), "i2v" (image is the first frame) or "v2v" (continue the uploaded clip).
            image: the first frame, for i2v (PNG/JPEG/WebP).
            video: the clip to continue, for v2v (at least 33 frames).
            num_frames: frames to generate, a multiple of 33 up to 1452; Helios trims the video to 4k+1 frames, so
                N chunks give (33N-1)//4*4+1 (66 -> 65, 99 -> 97, 165 -> 165).
            variant: "distilled" (default, fast), "mid" or "base".
            seed: random seed; -1 picks one (returned in info).
"""


def _documented(fn):
    fn.__doc__ = fn.__doc__.replace("        Args: VIDEO_ARGS\n", VIDEO_ARGS)
    return fn


class VideoHandlers:
    """The tab's event handlers for one app context: a run streamed, kept, and summed up."""

    def __init__(self, ctx: AppContext, limits: VideoLimits | None = None) -> None:
        self.ctx = ctx
        self.limits = limits or VideoLimits.of(ctx)
        self.task = make_video_task(ctx)

    def stream(self, prompt, mode, image, video, num_frames, variant, seed, options, request, progress):
        """("tick" | "partial" | "final", mp4 path, info) items: a tick per denoising step, then the video so far."""
        from .streaming import drop_partials

        timer = Timer()
        report = gradio_progress(progress)
        with timer("validate"):
            v, req, upload, adjusted = prepare(self.ctx, self.limits, prompt, mode, image, video, num_frames, variant,
                                               seed, options)
        out = new_output_path(self.ctx.outputs_dir, DEMO, "mp4")
        try:
            with self.ctx.cancel_scope(request) as cancel:
                sources = {"image": uploaded_file(image, "image") if req.mode == "i2v" else None,
                           "video": uploaded_file(video, "video") if req.mode == "v2v" else None}
                yield from self._stream_items(v, req, out, cancel, report, timer, upload, sources, adjusted)
        finally:
            drop_partials(out)  # Gradio has copied every yielded file by the time it resumes us

    def _stream_items(self, v, req, out, cancel, report, timer, upload, sources=None, adjusted=None):
        from .engine import ChunkUpdate

        outcome, last_chunk = None, None

        def keep_abandoned() -> None:
            # A client that went away (job.cancel) leaves the task winding down in the background: once it
            # is over, its finished chunks become a stopped result like Stop's (sidecar: in History, under
            # the disk limit) and the partials it may still have written go.
            from .streaming import drop_partials

            drop_partials(out)
            self._keep_stopped_run(v, req, out, last_chunk, upload, timer, adjusted, sources)

        # drive() closes the task once Stop sets `cancel`; by the time it returns
        # the engine has closed the mp4 of the finished chunks (in spaces' worker too).
        for item in drive(self.task(v.name, req, str(out)), cancel, on_abandoned=keep_abandoned):
            if isinstance(item, ChunkUpdate):
                last_chunk = item
                yield ("partial", str(item.partial) if item.partial else None, partial_info(item, req.seed))
            elif isinstance(item, ProgressEvent):
                report(item.fraction, item.description)
                # Hand control back to Gradio once per step, so a cancelled or
                # disconnected client closes this generator within one step.
                yield ("tick", None, None)
            elif isinstance(item, TaskResult):
                outcome = item.value
        if outcome is not None:
            result, info = self._keep_run(v, req, outcome["result"], outcome["engine"], upload, timer, adjusted, sources)
        else:  # stopped: the task was closed before it could report
            result, info = self._keep_stopped_run(v, req, out, last_chunk, upload, timer, adjusted, sources)
        if result.path is None:
            raise NothingKept("Stopped before the first chunk was ready: nothing was kept.")
        yield ("final", str(result.path), info)

    def _keep_run(self, v, req, result, eng, upload, timer, adjusted, sources):
        """(result, info), the result's file saved with its sidecar (when there is a file)."""
        info = video_info(self.ctx.base_info(v.key, req.seed), v, req, result, upload, timer, self.limits.plan, eng)
        if adjusted:
            info["adjusted"] = adjusted
        if result.path is not None:
            write_sidecar(result.path, info, inputs=reuse_inputs(info),
                          saved_inputs=save_inputs(self.ctx.outputs_dir, sources or {}))
        return result, info

    def _keep_stopped_run(self, v, req, out, last_chunk, upload, timer, adjusted, sources):
        """`_keep_run` for a run closed before its task reported: the chunks it finished."""
        return self._keep_run(v, req, _stopped_result(out, last_chunk), None, upload, timer, adjusted, sources)

    # ------------------------------------------------------------ events (signatures are the API)
    @gradio_errors
    @_documented
    def video_stream(self, prompt: str, mode: str = "t2v", image: str | None = None, video: str | None = None,
                     num_frames: int = CHUNK_FRAMES, variant: str = DEFAULT_VARIANT, seed: int = -1,
                     options: dict | None = None, request: gr.Request = None, progress=gr.Progress()):
        """Generate a Helios video and stream it: a playable mp4 of the video so far after every 33-frame chunk.

        Args: VIDEO_ARGS

        Yields:
            (mp4 of the video so far, info) after each chunk; the last item is the final video and full info.
            Between chunks a no-op update ({"__type__": "update"}) arrives once per denoising step: it lets a
            cancelled job stop within one step. Skip items that are not (path, info) pairs.
        """
        for kind, path, info in self.stream(prompt, mode, image, video, num_frames, variant, seed, options, request,
                                            progress):
            yield (gr.skip(), gr.skip()) if kind == "tick" else (path, info)

    @gradio_errors
    @_documented
    def video_api(self, prompt: str, mode: str = "t2v", image: str | None = None, video: str | None = None,
                  num_frames: int = CHUNK_FRAMES, variant: str = DEFAULT_VARIANT, seed: int = -1,
                  options: dict | None = None, request: gr.Request = None,
                  progress=gr.Progress()) -> tuple[str, dict]:
        """Generate a Helios video (text/image/video-to-video) and return the finished mp4.

        Args: VIDEO_ARGS

        Returns:
            the mp4 (24 fps) and info: seed, model key and source, profile, frames, chunks, settings, timings.
        """
        last = None
        for kind, path, info in self.stream(prompt, mode, image, video, num_frames, variant, seed, options, request,
                                            progress):
            if kind != "tick":
                last = (path, info)
        return last


# ------------------------------------------------------------ UI helpers (plain values in, updates out)
def summary_of(info) -> str:
    """The plain-words line under the video: progress per chunk, then what the run made (the frame count
    is the one the line under the slider announced: limits.frames_made)."""
    if not isinstance(info, dict) or "frames" not in info:
        return ""
    if info.get("partial"):
        return (f"Chunk {info['chunk']} of {info['chunks']} done: the first {info.get('seconds_of_video', 0):.1f} s "
                "are playing above; the next chunk is on its way.")
    made = (f"{plural(info['frames'], 'frame')} ({seconds_of_video(info['frames'], info.get('fps', FPS))}, "
            f"{info.get('resolution')})")
    if info.get("cancelled"):
        return stopped_line(info.get("elapsed_s"), f"Kept {info.get('chunks_done')} of "
                            f"{plural(info.get('chunks_total') or 0, 'chunk')}: {made}, seed {info.get('seed')}. "
                            "Play or download it above.")
    return f"**Done in {info.get('elapsed_s', 0):.1f} s:** {made}, seed {info.get('seed')}."


def advanced_for(variant, pending=None):
    v = VARIANTS.get(variant, VARIANTS[DEFAULT_VARIANT])
    d = v.defaults
    # Reuse settings (History) sets the variant and its Advanced values together: keep those.
    keep = pending if isinstance(pending, dict) and pending.get("variant") == v.name else {}
    label = "Steps per pyramid stage (3 stages)" if v.pyramid else "Denoising steps"
    return (gr.update(maximum=v.max_steps, value=keep.get("steps", d.steps[0]), label=label),
            gr.update(value=keep.get("guidance_scale", d.guidance_scale), interactive=v.name != "distilled"),
            gr.update(value=keep.get("amplify_first_chunk", d.amplify_first_chunk), visible=v.name == "distilled"),
            gr.update(value=keep.get("use_zero_init", d.use_zero_init), visible=v.name == "mid"), None)


def options_of(resolution, steps, guidance, amplify, zero_init):
    return {"resolution": resolution, "steps": steps, "guidance_scale": guidance,
            "amplify_first_chunk": amplify, "use_zero_init": zero_init}


def mode_visibility(mode):
    return gr.update(visible=mode == "i2v"), gr.update(visible=mode == "v2v")


def add_to_gallery(video_path, info, gallery):
    gallery = list(gallery or [])
    if gallery and gallery[0][0] == video_path:  # a refused run left the last video in place: listed already
        return gallery, gallery
    if video_path and isinstance(info, dict) and "frames" in info and "variant" in info:
        v = VARIANTS.get(info["variant"])
        model = v.title.split(" (")[0] if v else info["variant"]
        gallery.insert(0, (video_path, f"{model} · {MODE_TITLES.get(info['mode'], info['mode'])} · "
                                       f"{plural(info['frames'], 'frame')} · seed {info['seed']}"
                                       + (" · stopped" if info.get("cancelled") else "")))
    return gallery, gallery


def reuse_fill(values: dict, sidecar: dict) -> dict:
    """History's "Reuse settings": the media inputs shown for their mode, the Advanced values kept with the variant."""
    v = VARIANTS.get(values["variant"], VARIANTS[DEFAULT_VARIANT])
    advanced_values = {k: values[k] for k in ("steps", "guidance_scale", "amplify_first_chunk", "use_zero_init")}
    return {**values, "image": gr.update(value=values["image"], visible=values["mode"] == "i2v"),
            "video": gr.update(value=values["video"], visible=values["mode"] == "v2v"),
            "steps": gr.update(value=values["steps"], maximum=v.max_steps),
            "options": options_of(values["resolution"], values["steps"], values["guidance_scale"],
                                  values["amplify_first_chunk"], values["use_zero_init"]),
            "pending": {"variant": v.name, **advanced_values}}
