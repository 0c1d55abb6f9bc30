"""Long video tab: Helios text/image/video-to-video, streamed chunk by chunk.

Public API (names are a contract, see DESIGN.md §3):
  /video        (prompt, mode, image, video, num_frames, variant, seed) -> mp4, info
  /video_stream (same inputs) -> yields (partial mp4 of the video so far, info) after every chunk
The Advanced settings (resolution, steps, guidance, ...) travel in a gr.State,
which Gradio keeps out of the API: API calls get each variant's recommended
settings and the profile's default resolution.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from demos.assets import asset
from shared import hub
from shared.errors import UserInputError
from shared.outputs import new_output_path, save_inputs, write_sidecar
from shared.ui import (GPU_QUEUE, AppContext, Timer, gradio_errors, gradio_progress, lock_while_running, readiness_markdown, refresh_on_load,
                       resolve_seed, stopped_line)
from shared.params import Choice
from shared.uploads import uploaded_file
from shared.zerogpu import ProgressEvent, TaskResult, drive, engine_events, gpu_task, progress_emitter

from .clips import clip_to_continue, first_frame
from .limits import (AMPLIFY, CHUNK_FRAMES, FPS, MODE_TITLES, PROMPT, RESOLUTIONS, ZERO_INIT, check_guidance,
                     check_mode, check_prompt, check_resolution, check_steps, describe_length,
                     frames_spec)
from .variants import DEFAULT_VARIANT, VARIANTS

if TYPE_CHECKING:  # the engine (torch) is imported by the first request, not by the page
    from .engine import ChunkUpdate, VideoRequest, VideoResult

TITLE = "Long video"
DEMO = "video"

INTRO = """### Helios: real-time long video generation (14B, PKU-YuanGroup)
Text, an image (used as the first frame) or a clip to continue in, minutes-long video out, **33 frames per
chunk**. The video so far appears after every chunk; **Stop** ends the run within one denoising step and keeps
the finished chunks. Runs diffusers' own `HeliosPyramidPipeline` (Distilled, Mid) and `HeliosPipeline` (Base).
Trained at 384x640 only: other sizes drift or jump between chunks."""


VARIANT = Choice.of("variant", "Model", [(v.title, k) for k, v in VARIANTS.items()], default=DEFAULT_VARIANT)


def _variant(name):
    return VARIANTS[VARIANT.check(name)]


def reuse_inputs(info: dict) -> dict:
    """The sidecar's `inputs`: every input of the tab as the run used it (History's Reuse settings)."""
    settings = info["settings"]
    return {"prompt": info["prompt"], "mode": info["mode"], "image": None, "video": None,
            "num_frames": info["requested_frames"], "variant": info["variant"], "seed": info["seed"],
            "resolution": info["resolution"], "steps": settings["steps"][0],
            "guidance_scale": settings["guidance_scale"], "amplify_first_chunk": settings["amplify_first_chunk"],
            "use_zero_init": settings["use_zero_init"]}


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


def summary_of(info) -> str:
    """The plain-words line above the video: progress per chunk, then what the run made."""
    if not isinstance(info, dict) or "frames" not in info:
        return ""
    seconds = info.get("seconds_of_video", 0)
    if info.get("partial"):
        return (f"Chunk {info['chunk']} of {info['chunks']} done: the first {seconds:g} s of video are playing "
                "below; the next chunk is on its way.")
    made = f"{info['frames']} frames ({seconds:g} s at {info.get('fps', FPS)} fps, {info.get('resolution')})"
    if info.get("cancelled"):
        return stopped_line(info.get("elapsed_s"), f"Kept {info.get('chunks_done')} of {info.get('chunks_total')} "
                            f"chunks: {made}, seed {info.get('seed')}. Play or download it below.")
    return f"**Done in {info.get('elapsed_s', 0):.1f} s:** {made}, seed {info.get('seed')}."


def snap_frames(value, max_frames: int) -> int:
    """The frame count the server will take: the nearest whole number of 33-frame chunks within range."""
    try:
        n = float(value)
    except (TypeError, ValueError):
        n = CHUNK_FRAMES
    return int(min(max(round(n / CHUNK_FRAMES), 1) * CHUNK_FRAMES, max_frames // CHUNK_FRAMES * CHUNK_FRAMES))


DEFAULT_RESOLUTION_ENV = "RELEASE_HUB_VIDEO_RESOLUTION"


def _default_resolution(plan_default: str, allowed: list[str]) -> str:
    """The resolution API calls and the UI start with: the plan's, unless the owner sets
    RELEASE_HUB_VIDEO_RESOLUTION (e.g. a Space saving quota with the 192x320 draft size)."""
    import os

    chosen = os.environ.get(DEFAULT_RESOLUTION_ENV, "").strip() or plan_default
    if chosen not in allowed:
        raise ValueError(f"{DEFAULT_RESOLUTION_ENV}={chosen!r} is not offered on this profile; choose from {allowed}.")
    return chosen


def build_tab(ctx: AppContext) -> None:
    plan = ctx.plan(VARIANTS[DEFAULT_VARIANT].key)
    caps = plan.caps
    resolutions = list(caps.get("resolutions", RESOLUTIONS))
    default_resolution = _default_resolution(caps.get("default_resolution", resolutions[0]), resolutions)
    max_frames = int(caps.get("max_frames", 1452))

    # ------------------------------------------------------------ request
    def prepare(prompt, mode, image, video, num_frames, variant, seed, options):
        """Validate everything before any model work; returns (variant, request, upload facts)."""
        options = options if isinstance(options, dict) else {}
        notes = {}  # values repaired on the way in (info["adjusted"])
        v = _variant(variant)
        if ctx.profile == "zerogpu" and not ctx.cache.is_resident(v.key):
            served = ", ".join(n for n, x in VARIANTS.items() if ctx.cache.is_resident(x.key)) or "none"
            raise UserInputError(f"variant '{v.name}' is not preloaded on this Space (it serves: {served}). "
                                 f"The Space owner can add it with {ZEROGPU_VARIANTS_ENV}.")
        prompt = check_prompt(prompt)
        mode = check_mode(mode)
        frames = frames_spec(max_frames, plan.profile).check(num_frames, notes)
        resolution = check_resolution(options.get("resolution", default_resolution), resolutions)
        settings = v.defaults
        if "steps" in options:
            settings = settings.with_steps(check_steps(options["steps"], v.max_steps, notes))
        if "guidance_scale" in options and v.name != "distilled":
            settings = replace(settings, guidance_scale=check_guidance(options["guidance_scale"]))
        if "amplify_first_chunk" in options and v.name == "distilled":
            settings = replace(settings, amplify_first_chunk=AMPLIFY.check(options["amplify_first_chunk"]))
        if "use_zero_init" in options and v.name == "mid":
            settings = replace(settings, use_zero_init=ZERO_INIT.check(options["use_zero_init"]))
        upload = {}
        first, clip = None, None
        if mode == "i2v":
            path = uploaded_file(image, "image")
            if not path:
                raise UserInputError("image: image-to-video needs an image; upload the first frame (PNG, JPEG, WebP).")
            first = first_frame(path, resolution)
        elif mode == "v2v":
            path = uploaded_file(video, "video")
            if not path:
                raise UserInputError("video: video-to-video needs a clip of at least 33 frames to continue.")
            clip, upload = clip_to_continue(path, resolution)
        from .engine import VideoRequest

        request = VideoRequest(prompt=prompt, mode=mode, num_frames=frames, resolution=resolution,
                               seed=resolve_seed(seed), settings=settings, image=first, video=clip)
        return v, request, upload, notes

    def info_for(v, request, result, upload, timer, eng=None) -> dict:
        return {
            **ctx.base_info(v.key, request.seed), "variant": v.name, "mode": request.mode,
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

    def stream(prompt, mode, image, video, num_frames, variant, seed, options, request, progress):
        from .streaming import drop_partials

        timer = Timer()
        report = gradio_progress(progress)
        with timer("validate"):
            v, req, upload, adjusted = prepare(prompt, mode, image, video, num_frames, variant, seed, options)
        out = new_output_path(ctx.outputs_dir, DEMO, "mp4")
        try:
            with ctx.cancel_scope(request) as cancel:
                sources = {"image": uploaded_file(image, "image") if req.mode == "i2v" else None,
                           "video": uploaded_file(video, "video") if req.mode == "v2v" else None}
                yield from _stream_items(v, req, out, cancel, report, timer, upload, sources, adjusted)
        finally:
            drop_partials(out)  # Gradio has copied every yielded file by the time it resumes us

    def _stream_items(v, req, out, cancel, report, timer, upload, sources=None, adjusted=None):
        from .engine import ChunkUpdate

        outcome, last_chunk = None, None

        def keep_abandoned() -> None:
            # A client that went away (job.cancel) leaves the task winding down in the background: once it
            # is over, its finished chunks become a stopped result like Stop's (sidecar: in History, under
            # the disk limit) and the partials it may still have written go.
            from .streaming import drop_partials

            drop_partials(out)
            _keep_stopped_run(v, req, out, last_chunk, upload, timer, adjusted, sources)

        # drive() closes the task once Stop sets `cancel`; by the time it returns
        # the engine has closed the mp4 of the finished chunks (in spaces' worker too).
        for item in drive(video_task(v.name, req, str(out)), cancel, on_abandoned=keep_abandoned):
            if isinstance(item, ChunkUpdate):
                last_chunk = item
                partial = {"chunk": item.chunk, "chunks": item.chunks, "frames": item.frames,
                           "seconds_of_video": round(item.frames / FPS, 3), "seed": req.seed, "partial": True}
                yield ("partial", str(item.partial) if item.partial else None, partial)
            elif isinstance(item, ProgressEvent):
                report(item.fraction, item.description)
                # Hand control back to Gradio once per step, so a cancelled or
                # disconnected client closes this generator within one step.
                yield ("tick", None, None)
            elif isinstance(item, TaskResult):
                outcome = item.value
        if outcome is not None:
            result, info = _keep_run(v, req, outcome["result"], outcome["engine"], upload, timer, adjusted, sources)
        else:  # stopped: the task was closed before it could report
            result, info = _keep_stopped_run(v, req, out, last_chunk, upload, timer, adjusted, sources)
        if result.path is None:
            raise UserInputError("Stopped before the first chunk was finished; nothing to show.")
        yield ("final", str(result.path), info)

    def _keep_run(v, req, result, eng, upload, timer, adjusted, sources):
        """(result, info), the result's file saved with its sidecar (when there is a file)."""
        info = info_for(v, req, result, upload, timer, eng)
        if adjusted:
            info["adjusted"] = adjusted
        if result.path is not None:
            write_sidecar(result.path, info, inputs=reuse_inputs(info),
                          saved_inputs=save_inputs(ctx.outputs_dir, sources or {}))
        return result, info

    def _keep_stopped_run(v, req, out, last_chunk, upload, timer, adjusted, sources):
        """`_keep_run` for a run closed before its task reported: the chunks it finished."""
        return _keep_run(v, req, _stopped_result(out, last_chunk), None, upload, timer, adjusted, sources)

    # ------------------------------------------------------------ API handlers
    @gradio_errors
    def video_stream(prompt: str, mode: str = "t2v", image: str | None = None, video: str | None = None,
                     num_frames: int = CHUNK_FRAMES, variant: str = DEFAULT_VARIANT, seed: int = -1,
                     options: dict | None = None, request: gr.Request = None, progress=gr.Progress()):
        """Generate a Helios video and stream it: a playable mp4 of the video so far after every 33-frame chunk.

        Args:
            prompt: what the video shows (up to 2,000 characters).
            mode: "t2v" (text), "i2v" (image is the first frame) or "v2v" (continue the uploaded clip).
            image: the first frame, for i2v (PNG/JPEG/WebP).
            video: the clip to continue, for v2v (at least 33 frames).
            num_frames: frames to generate, a multiple of 33 up to 1452 (the output has (33N-1)//4*4+1 frames).
            variant: "distilled" (default, fast), "mid" or "base".
            seed: random seed; -1 picks one (returned in info).

        Yields:
            (mp4 of the video so far, info) after each chunk; the last item is the final video and full info.
            Between chunks a no-op update ({"__type__": "update"}) arrives once per denoising step: it lets a
            cancelled job stop within one step. Skip items that are not (path, info) pairs.
        """
        for kind, path, info in stream(prompt, mode, image, video, num_frames, variant, seed, options, request,
                                       progress):
            yield (gr.skip(), gr.skip()) if kind == "tick" else (path, info)

    @gradio_errors
    def video_api(prompt: str, mode: str = "t2v", image: str | None = None, video: str | None = None,
                  num_frames: int = CHUNK_FRAMES, variant: str = DEFAULT_VARIANT, seed: int = -1,
                  options: dict | None = None, request: gr.Request = None,
                  progress=gr.Progress()) -> tuple[str, dict]:
        """Generate a Helios video (text/image/video-to-video) and return the finished mp4.

        Args:
            prompt: what the video shows (up to 2,000 characters).
            mode: "t2v" (text), "i2v" (image is the first frame) or "v2v" (continue the uploaded clip).
            image: the first frame, for i2v (PNG/JPEG/WebP).
            video: the clip to continue, for v2v (at least 33 frames).
            num_frames: frames to generate, a multiple of 33 up to 1452 (the output has (33N-1)//4*4+1 frames).
            variant: "distilled" (default, fast), "mid" or "base".
            seed: random seed; -1 picks one (returned in info).

        Returns:
            the mp4 (24 fps) and info: seed, model key and source, profile, frames, chunks, settings, timings.
        """
        last = None
        for kind, path, info in stream(prompt, mode, image, video, num_frames, variant, seed, options, request,
                                       progress):
            if kind != "tick":
                last = (path, info)
        return last


    # ------------------------------------------------------------ UI helpers
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
        if video_path and isinstance(info, dict) and "frames" in info and "variant" in info:
            gallery.insert(0, (video_path, f"{info['variant']} · {info['mode']} · {info['frames']} frames · seed "
                                           f"{info['seed']}" + (" · stopped" if info.get("cancelled") else "")))
        return gallery, gallery

    # ------------------------------------------------------------ UI
    dv = VARIANTS[DEFAULT_VARIANT]
    gr.Markdown(INTRO)
    gr.Markdown("  \n".join(hub.licence_notice(v.key) for v in VARIANTS.values()), elem_id="video-licence")
    gr.Markdown(f"Profile **{plan.profile}**: {plan.notes} Host RAM needed: about {plan.host_ram_gb:g} GB.",
                elem_id="video-plan")
    refresh_on_load(gr.Markdown(elem_id="video-readiness"), readiness_markdown(ctx, [v.key for v in VARIANTS.values()]))
    # Only the resolution to start with: API callers (who never touch the
    # Advanced controls) get each variant's own recommended settings.
    options_state = gr.State({"resolution": default_resolution})
    gallery_state = gr.State([])
    reuse_pending = gr.State(None)  # Advanced values Reuse settings set with the variant
    with gr.Row():
        with gr.Column():
            prompt = gr.Textbox(**PROMPT.textbox(lines=4, elem_id="video-prompt"))
            mode = gr.Radio([(t, k) for k, t in MODE_TITLES.items()], value="t2v", label="Mode", elem_id="video-mode")
            image = gr.Image(type="filepath", label="First frame (image-to-video)", visible=False,
                             elem_id="video-image", sources=["upload", "clipboard"])
            video = gr.Video(label="Clip to continue (video-to-video, at least 33 frames)", visible=False,
                             elem_id="video-video", sources=["upload"])
            num_frames = gr.Slider(**frames_spec(max_frames, plan.profile).slider(elem_id="video-frames"))
            length = gr.Markdown("Output: " + describe_length(CHUNK_FRAMES), elem_id="video-length")
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
                run = gr.Button("Generate", variant="primary", elem_id="video-run")
                stop_btn = gr.Button("Stop", variant="stop", elem_id="video-stop")
                api_btn = gr.Button("video (API)", visible=False)
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
                inputs=[prompt, mode, image, video, num_frames, variant],
                example_labels=["Text to video · a fox in the snow · 2 chunks", "Image to video · the drawn lake",
                                "Video to video · continue the drawn sunrise", "Helios-Mid · a paper boat",
                                "Helios-Base · clouds over a city"],
                label="Examples: click one to fill the form, then press Generate", elem_id="video-examples",
            )
        with gr.Column():
            # Progress (and queue position) show in this box only, never over the video so far.
            progress_box = gr.Markdown("Progress shows here while a video is made.", elem_id="video-progress",
                                       min_height=64, container=True)
            output = gr.Video(label="Video (updates after every chunk)", autoplay=True, interactive=False,
                              elem_id="video-output")
            status = gr.Markdown("Write a prompt (or pick an example below) and press Generate.",
                                 elem_id="video-status")
            with gr.Accordion("Details (JSON, as the API returns it)", open=False, elem_id="video-info-accordion"):
                info = gr.JSON(label="Info", elem_id="video-info")
            # Small tiles, four to a row (fit_columns would stretch one video across the whole width).
            gallery = gr.Gallery(label="This session's videos", columns=4, height=220, object_fit="contain",
                                 fit_columns=False, preview=False, elem_id="video-gallery")

    advanced = [resolution, steps, guidance, amplify, zero_init]
    for comp in advanced:
        comp.change(options_of, advanced, options_state, api_visibility="private", queue=False)
    variant.change(advanced_for, [variant, reuse_pending], [steps, guidance, amplify, zero_init, reuse_pending],
                   api_visibility="private", queue=False)
    mode.change(mode_visibility, mode, [image, video], api_visibility="private", queue=False)
    def length_line(n, rounded):
        """Snap a typed frame count to whole chunks, and say so (the note stays while the value does)."""
        snapped = snap_frames(n, max_frames)
        if snapped != n:
            rounded = (n, snapped)
        elif not rounded or rounded[1] != snapped:
            rounded = None
        note = f"{rounded[0]:g} is not a whole number of 33-frame chunks: rounded to {snapped}. " if rounded else ""
        return gr.update(value=snapped) if snapped != n else gr.skip(), note + "Output: " + describe_length(snapped), rounded

    rounded_state = gr.State(None)
    num_frames.change(length_line, [num_frames, rounded_state], [num_frames, length, rounded_state],
                      api_visibility="private", queue=False, show_progress="hidden")
    inputs = [prompt, mode, image, video, num_frames, variant, seed, options_state]

    def reuse_fill(values: dict, sidecar: dict) -> dict:
        v = VARIANTS.get(values["variant"], VARIANTS[DEFAULT_VARIANT])
        advanced_values = {k: values[k] for k in ("steps", "guidance_scale", "amplify_first_chunk", "use_zero_init")}
        return {**values, "image": gr.update(value=values["image"], visible=values["mode"] == "i2v"),
                "video": gr.update(value=values["video"], visible=values["mode"] == "v2v"),
                "steps": gr.update(value=values["steps"], maximum=v.max_steps),
                "options": options_of(values["resolution"], values["steps"], values["guidance_scale"],
                                      values["amplify_first_chunk"], values["use_zero_init"]),
                "pending": {"variant": v.name, **advanced_values}}

    ctx.reuse.register(DEMO, tab="video", media=("image", "video"), fill=reuse_fill, inputs={
        "prompt": prompt, "mode": mode, "image": image, "video": video, "num_frames": num_frames, "variant": variant,
        "seed": seed, "resolution": resolution, "steps": steps, "guidance_scale": guidance,
        "amplify_first_chunk": amplify, "use_zero_init": zero_init},
        extras={"options": options_state, "pending": reuse_pending})
    release_run = lock_while_running(run, "Generating…")
    run_event = run.click(video_stream, inputs, [output, info], api_name="video_stream", preprocess=False,
                          show_progress_on=[progress_box], **GPU_QUEUE)
    run_event.success(add_to_gallery, [output, info, gallery_state], [gallery, gallery_state],
                      api_visibility="private", show_progress="hidden")
    release_run(run_event)
    info.change(summary_of, info, status, api_visibility="private", queue=False, show_progress="hidden")
    api_btn.click(video_api, inputs, [output, info], api_name="video", preprocess=False, show_progress_on=[progress_box],
                  **GPU_QUEUE)
    # Stop cancels the run's token only: the run then ends itself and returns the finished chunks.
    stop_btn.click(ctx.stop, None, None, api_visibility="private", queue=False)


ZEROGPU_VARIANTS_ENV = "RELEASE_HUB_ZEROGPU_VARIANTS"


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
