"""The release-hub app: CLI entry point and `build_app(settings)`."""
from __future__ import annotations

import logging
import os
import sys
from typing import Sequence

import gradio as gr

from starlette.middleware import Middleware

from shared.web import access, sessions
from shared.models import hardware, hub, model_files
from shared.tasks import zerogpu
from shared.web.served_files import FileRouteGuard, OutputsHandout
from shared.io.media import MAX_UPLOAD_BYTES
from shared.models.profiles import resolve_profile
from shared.web.settings import Settings, read_auth_file
from shared.io.params import Choice
from shared.web.ui import AppContext, GuardedBlocks, gradio_errors, set_active_profile, refresh_on_load

log = logging.getLogger("release_hub")

QUEUE_MAX_SIZE = 64  # waiting requests beyond this are refused with "queue full"
DELETE_CACHE = (3600, 24 * 3600)  # every hour, delete Gradio temp files older than a day

INTRO = """# release-hub
This year's open-weight releases on your own GPU (6–16 GB), a ZeroGPU Space, or from a `gradio_client` script.
Every endpoint is also scriptable: see *Use via API* at the bottom of the page."""


def build_context(settings: Settings) -> tuple[AppContext, list]:
    from demos.registry import load_demos

    demos = load_demos()
    hw = hardware.detect()
    profile = resolve_profile(settings.profile, hw, [spec.plan for spec in hub.all_specs()])
    set_active_profile(profile)
    from shared.remote import pools_from_settings

    remotes = pools_from_settings(settings.remotes, os.environ.get("RELEASE_HUB_REMOTE_API_KEY") or None)
    access.configure(settings.cache_dir)  # the key of visit identities, kept across restarts
    ctx = AppContext(settings=settings, hw=hw, profile=profile, remotes=remotes)
    ctx.exposure_warning = access.exposure_warning(settings, access_gate(settings))
    return ctx, demos


def status_report(ctx: AppContext) -> dict:
    """Device, profile, placement plans, resident models and memory."""
    plans = {}
    for spec in hub.all_specs():
        plan = ctx.plan(spec.key)
        plans[spec.key] = {"source": ctx.source(spec.key).to_dict(), **plan.to_dict()}
    return {
        "device": ctx.hw.to_dict(),
        "profile": ctx.profile,
        "requested_profile": ctx.settings.profile,
        "placement_plans": plans,
        "resident_models": ctx.cache.resident(),
        "memory": ctx.cache.memory(),
        **({"zerogpu": zerogpu_report(ctx)} if ctx.profile == "zerogpu" else {}),
        **({"remote_backends": {name: pool.status() for name, pool in ctx.remotes.items()}} if ctx.remotes else {}),
    }


REMOTE_COLUMNS = ["model family", "server", "healthy", "health check ms", "first byte ms", "requests", "failures", "last error"]


def remote_rows(ctx: AppContext) -> list[list]:
    """One row per remote engine backend (--remote), for the System tab."""
    return [[name, b["url"], "yes" if b["healthy"] else "no", b["latency_ms"], b["first_byte_ms"], b["requests"],
             b["failures"], b["last_error"] or ""]
            for name, pool in ctx.remotes.items() for b in pool.status()]


ZEROGPU_NO_UNLOAD = ("On ZeroGPU every model is preloaded at start-up and packed by `spaces`, which then deletes "
                     "their Hub-cache files: unloading cannot be undone without a restart, so Unload is off.")


def zerogpu_report(ctx: AppContext) -> dict:
    """What was preloaded for ZeroGPU, in what dtype, and the size spaces packs (vs. its xlarge threshold)."""
    models = [dict(entry) for entry in ctx.zerogpu_preload]
    planned = sum(m["bytes"] for m in models)
    packed = zerogpu.packed_size_bytes()
    return {
        "preloaded": models,
        "preloaded_gb": round(planned / 1024**3, 3),
        "packed_gb": None if packed is None else round(packed / 1024**3, 3),
        "xlarge_threshold_gb": round(zerogpu.XLARGE_THRESHOLD_BYTES / 1024**3, 1),
        "gpu_size": "xlarge" if planned > zerogpu.XLARGE_THRESHOLD_BYTES else "large",
        "unload": ZEROGPU_NO_UNLOAD,
    }


def zerogpu_line(ctx: AppContext) -> str:
    report = zerogpu_report(ctx)
    models = ", ".join(f"`{m['key']}` ({' + '.join(f'{gb:g} GB {d}' for d, gb in m['gb_by_dtype'].items())})"
                       for m in report["preloaded"]) or "none"
    return (f"**ZeroGPU:** preloaded at start-up: {models}; {report['preloaded_gb']:g} GB in all "
            f"(spaces schedules `xlarge`, at double quota, above {report['xlarge_threshold_gb']:g} GB). "
            + report["unload"])


def preload_for_zerogpu(ctx: AppContext, demos: list) -> None:
    """Load every model family on `cuda` in the main process before launch: spaces packs those
    tensors and hands them to each GPU worker (a model loaded inside a worker dies with it)."""
    report = []
    for demo in demos:
        preload = getattr(demo.tab, "preload", None)
        if not callable(preload):
            continue
        before = {e["key"] for e in ctx.cache.resident()}
        preload(ctx)
        for entry in ctx.cache.resident():
            if entry["key"] in before:
                continue
            by_dtype = zerogpu.tensor_bytes(ctx.cache.peek(entry["key"]))
            report.append({"key": entry["key"], "bytes": sum(by_dtype.values()),
                           "gb_by_dtype": {k: round(v / 1024**3, 4) for k, v in by_dtype.items()},
                           "load_seconds": entry["load_seconds"]})
            log.info("ZeroGPU preload: %s, %.3f GB %s", entry["key"], sum(by_dtype.values()) / 1024**3,
                     report[-1]["gb_by_dtype"])
    ctx.zerogpu_preload = report


PLAN_COLUMNS = ["model", "source", "device", "dtype", "offload", "fp8 storage", "quantization", "VRAM GB", "host RAM GB"]


def plan_rows(ctx: AppContext) -> list[list]:
    """One readable row per model plan, for the System tab."""
    rows = []
    for spec in hub.all_specs():
        plan, source = ctx.plan(spec.key), ctx.source(spec.key)
        offload = plan.offload + (f" ({plan.blocks_per_group}/group)" if plan.offload == "group_block" else "")
        offload += ", CUDA streams" if plan.use_stream else ""
        rows.append([spec.key, f"{source.kind}: {source.id}", plan.device, plan.dtype, offload,
                     "yes" if plan.fp8_layerwise else "no", plan.quantization or "none",
                     plan.vram_gb, plan.host_ram_gb])
    return rows


def resident_line(ctx: AppContext) -> str:
    resident = ", ".join(f"`{e['key']}` ({'GPU' if e['gpu'] else 'CPU'}, loaded in {e['load_seconds']} s)"
                         for e in ctx.cache.resident()) or "none"
    memory = " · ".join(f"{k.replace('_gb', '').replace('_', ' ')} {v} GB" for k, v in ctx.cache.memory().items())
    return f"**Resident models:** {resident} · **Memory:** {memory}"


SYSTEM_REFRESH_S = 5  # the System tab re-reads memory and resident models this often while it is shown


def system_summary(ctx: AppContext) -> str:
    """Profile, GPU and host RAM (read now: it changes as models load and unload)."""
    import psutil

    hw, ram = ctx.hw, psutil.virtual_memory()
    gpu_line = f"{hw.device_name}, {hw.vram_free_gb:.1f} of {hw.vram_total_gb:.1f} GB free" if hw.cuda else "no CUDA device (CPU)"
    return (f"**Profile:** `{ctx.profile}` (asked for `{ctx.settings.profile}`) · **GPU:** {gpu_line} · "
            f"**Host RAM:** {ram.available / 1024**3:.1f} of {ram.total / 1024**3:.1f} GB available")


def unload_line(report: dict):
    """'Unloaded `voxtral`: process memory 1.58 GB -> 0.49 GB' after an Unload."""
    done = report.get("unloaded") if isinstance(report, dict) else None
    if not done:  # a plain refresh: the last unload's line stays
        return gr.skip()
    names = ", ".join(f"`{k}`" for k in done["keys"]) or "nothing (no model was loaded)"
    return (f"**Unloaded** {names}: process memory {done['rss_before_gb']:.2f} GB -> {done['rss_after_gb']:.2f} GB "
            f"({done['rss_before_gb'] - done['rss_after_gb']:+.2f} GB returned to the system).")


def _build_system_tab(ctx: AppContext) -> gr.Timer:
    """The System tab; returns its refresh timer (build_app runs it only while the tab is shown)."""
    def status() -> dict:
        """Device, memory profile, each model's placement plan, the resident models and memory use."""
        return status_report(ctx)

    unload_key = Choice.of("key", "Model", [("All models", "")] + [(s.key, s.key) for s in hub.all_specs()],
                           default="", optional=True)

    @gradio_errors
    def unload(key: str | None = None) -> dict:
        """Unload one model (or all when key is empty) and report memory afterwards."""
        key = unload_key.check(key)
        if ctx.profile == "zerogpu":
            raise gr.Error(ZEROGPU_NO_UNLOAD, print_exception=False)
        before = ctx.cache.memory()["rss_gb"]
        keys = ctx.cache.unload(key or None)  # also hands freed heap back to the OS (malloc_trim)
        report = status_report(ctx)
        report["unloaded"] = {"keys": keys, "rss_before_gb": before, "rss_after_gb": report["memory"]["rss_gb"]}
        return report

    if ctx.exposure_warning:
        gr.Markdown(f"**Warning:** {ctx.exposure_warning}", elem_id="system-exposure-warning")
    # Every figure is read when the page loads and again on each tick while the tab is shown.
    timer = gr.Timer(SYSTEM_REFRESH_S, active=False)
    refresh_on_load(gr.Markdown(elem_id="system-summary", label="System summary", show_label=False),
                    lambda: system_summary(ctx), timer)
    if ctx.profile == "zerogpu":
        gr.Markdown(zerogpu_line(ctx), elem_id="system-zerogpu")
    plans = gr.Dataframe(value=plan_rows(ctx), headers=PLAN_COLUMNS, label="Placement plan per model",
                         interactive=False, wrap=True, max_height=600, elem_id="system-plans")
    resident = gr.Markdown(resident_line(ctx), elem_id="system-resident", label="Resident models",
                           show_label=False)
    unloaded = gr.Markdown("", elem_id="system-unload-note")
    with gr.Row():
        refresh = gr.Button("Refresh", elem_id="system-refresh")
        keys = [spec.key for spec in hub.all_specs()]
        model = gr.Dropdown(choices=[("All models", "")] + [(k, k) for k in keys], value="", label="Model", scale=2)
        unload_button = gr.Button("Unload", variant="stop", elem_id="system-unload")
    with gr.Accordion("Full status (as /status returns it)", open=False):
        report = refresh_on_load(gr.JSON(label="Status", elem_id="system-status"), lambda: status_report(ctx), timer)
    refresh.click(status, None, report, api_name="status", queue=False)
    unload_button.click(unload, model, report, api_name="unload", preprocess=False, concurrency_id="gpu",
                        concurrency_limit=1)
    # The table and the memory line follow whatever the JSON shows.
    report.change(lambda r: (plan_rows(ctx), resident_line(ctx), unload_line(r)), report, [plans, resident, unloaded],
                  api_visibility="private", queue=False, show_progress="hidden")
    if ctx.remotes:
        remotes = gr.Dataframe(value=remote_rows(ctx), headers=REMOTE_COLUMNS, label="Remote engines (--remote)",
                               interactive=False, wrap=True, elem_id="system-remotes")
        report.change(lambda _: remote_rows(ctx), report, remotes, api_visibility="private", queue=False)
    return timer


def _attach_openai_api(app: gr.Blocks, ctx: AppContext) -> None:
    """The OpenAI-compatible /v1 speech API (demos/voice/openai_api.py), when the voice demo is present."""
    try:
        from demos.voice import openai_api
    except Exception:  # the voice demo failed to import: its tab says why
        log.exception("The /v1 speech API is off: the voice demo did not import")
        return
    openai_api.attach(app, ctx)


def _build_error_tab(message: str) -> None:
    gr.Markdown(f"This demo could not be loaded, the other tabs still work.\n\n```\n{message}\n```")


def _build_history_tab(ctx: AppContext, tabs: gr.Tabs, history_tab: gr.Tab):
    from demos.history.tab import build_history_tab, make_store

    store = make_store(ctx)
    build_history_tab(ctx, store, tabs, history_tab)
    return store


def build_app(settings: Settings) -> gr.Blocks:
    ctx, demos = build_context(settings)
    # GuardedBlocks: every file input is checked against the upload folder before Gradio preprocesses it.
    with GuardedBlocks(title="release-hub", delete_cache=DELETE_CACHE) as app:
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            for demo in demos:
                with gr.Tab(demo.title, id=demo.package, elem_id=f"tab-{demo.package}"):
                    if demo.tab is None:
                        _build_error_tab(demo.error or "unknown error")
                    else:
                        demo.tab.build_tab(ctx)
            # After the demo tabs: "Reuse settings" fills the inputs they registered in ctx.reuse.
            with gr.Tab("History", id="history", elem_id="tab-history") as history_tab:
                app.release_hub_history = _build_history_tab(ctx, tabs, history_tab)
            with gr.Tab("System", id="system", elem_id="tab-system"):
                system_timer = _build_system_tab(ctx)
        # The System tab refreshes itself only while it is the tab shown.
        def follow_tab(evt: gr.SelectData) -> gr.Timer:
            return gr.Timer(active=evt.value == "System")

        tabs.select(follow_tab, None, system_timer, api_visibility="private", queue=False, show_progress="hidden")
        _attach_openai_api(app, ctx)
    if ctx.profile == "zerogpu":
        preload_for_zerogpu(ctx, demos)
    app.release_hub_outputs = OutputsHandout(settings.outputs_dir)  # stored files leave as owner-bound copies
    app.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=1)
    app.release_hub_context = ctx  # for tests and the Space entry
    return app


def access_gate(settings: Settings) -> access.Gate:
    """The one gate (shared/web/access.py): the API key and the --auth-file logins, if any."""
    logins = read_auth_file(settings.auth_file) if settings.auth_file else None
    return access.Gate(api_key=access.api_key_from_env(), logins=logins)


def launch(app: gr.Blocks, settings: Settings, **overrides) -> None:
    os.makedirs(settings.outputs_dir, exist_ok=True)
    gate = access_gate(settings)
    # No allowed_paths: stored files leave only as owner-bound copies (shared/web/served_files.py).
    middleware = [Middleware(access.AccessMiddleware, gate=gate, files=FileRouteGuard(settings.outputs_dir))]
    kwargs = dict(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        mcp_server=settings.mcp,
        max_file_size=MAX_UPLOAD_BYTES,
        show_error=True,
        footer_links=["api", "gradio", "settings"],
        run_history=False,  # one history: ours (server-side, per owner, Reuse across tabs); docs/HISTORY.md says why
        auth=gate.gradio_auth(),
        auth_message=gate.auth_message,
        app_kwargs={"middleware": middleware, "lifespan": sessions.lifespan},  # lean sessions, idle expiry
    )
    api = getattr(app, "release_hub_openai", None)
    if api is not None:  # /v1 routes on Gradio's own FastAPI app, matched before Gradio's
        kwargs["app_kwargs"]["routes"] = api.routes()
    kwargs.update(overrides)
    if kwargs.get("mcp_server"):  # our tool names, safe-by-default list and MCP content
        from shared.web.mcp_server import install
        install(app)
    app.launch(**kwargs)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_args(argv)
    app = build_app(settings)
    ctx = app.release_hub_context
    log.info("Profile %s on %s; outputs in %s", ctx.profile, ctx.hw.device_name, settings.outputs_dir)
    if ctx.exposure_warning:
        log.warning("%s", ctx.exposure_warning)
    model_files.prune_orphaned_offload_files(settings)  # tens of GB that no load can use any more
    launch(app, settings)


if __name__ == "__main__":
    main(sys.argv[1:])
