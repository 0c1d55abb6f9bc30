"""The release-hub app: CLI entry point and `build_app(settings)`."""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Sequence

import gradio as gr

from starlette.middleware import Middleware

from demos.assets import playable_media
from shared.web import access, sessions
from shared.models import hardware, hub, model_files
from shared.tasks import zerogpu
from shared.web.example_media import known_playable
from shared.web.served_files import FileRouteGuard, OutputsHandout
from shared.io.media import MAX_UPLOAD_BYTES
from shared.models.profiles import resolve_profile
from shared.web.settings import Settings, read_auth_file
from shared.web.system_tab import build_system_tab
from shared.web.ui import AppContext, GuardedBlocks, set_active_profile

log = logging.getLogger("release_hub")

QUEUE_MAX_SIZE = 64  # waiting requests beyond this are refused with "queue full"
DELETE_CACHE = (3600, 24 * 3600)  # every hour, delete Gradio temp files older than a day

INTRO = """# release-hub
This year's open-weight releases (speech, long video, a game agent) on your own GPU, a ZeroGPU Space or a script.
Every tab is also an API that a script can call: *Use via API* shows how."""
# Opens Gradio's API page from the intro, on a phone too. A plain link to `?view=api` cannot: Gradio 6.31 opens
# the page from that address only after its footer button has loaded the docs.
OPEN_API_PAGE_JS = "() => { document.querySelector('footer .show-api')?.click(); }"

# The page's own CSS, for every tab (each tab's layout is its own). Kept small: Gradio's theme does the rest.
APP_CSS = """
/* Gradio hides the footer's "Use via API" up to 640 px wide; its API page works there, so show it. (Outside
   @media: Gradio scopes the rules inside one to the page's content, and the footer is not in it.) */
footer .show-api { display: flex !important; }
footer .show-api-divider { display: block !important; }
/* On a phone, a smaller title, so each tab's form starts in the first screen. */
@media (max-width: 640px) {
  #app-intro h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
}
/* Example tables (every gr.Examples has an elem_id ending in "-examples") wrap their headers and cells
   instead of cutting a column off on a narrow screen. */
[id$="-examples"] .table-wrap th, [id$="-examples"] .table-wrap td { white-space: normal; overflow-wrap: anywhere; }
/* Long video's progress box says what it is for while idle, drawn by CSS only while Gradio hides its
   progress tracker: a text in the box itself would sit under the bar when a run starts. */
#video-progress:has(> [data-testid="status-tracker"].hide)::before {
  content: "Progress shows here while a video is made."; color: var(--body-text-color-subdued);
}
"""


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
    # known_playable: our own example files skip Gradio's ffprobe at start (shared/web/example_media.py).
    with (GuardedBlocks(title="release-hub", delete_cache=DELETE_CACHE) as app,
          known_playable(playable_media())):
        with gr.Row(equal_height=False):  # the button beside the intro; on a phone, on the line under it
            with gr.Column(scale=1, min_width=320):
                gr.Markdown(INTRO, elem_id="app-intro")
            open_api = gr.Button("Use via API", size="sm", elem_id="app-open-api", scale=0, min_width=120)
        open_api.click(None, js=OPEN_API_PAGE_JS, api_visibility="private", queue=False)
        # "wrap": on a phone every tab stays one tap away on a second row, not behind Gradio's "..." menu.
        with gr.Tabs(overflow_behavior="wrap") as tabs:
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
                system_timer = build_system_tab(ctx, {key: demo.title for demo in demos for key in demo.model_keys})
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
    app.release_hub_demos = demos
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
        css=APP_CSS,  # Gradio 6 takes the page's CSS at launch, not in the Blocks constructor
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


def log_model_lines(ctx: AppContext, tab_of: dict[str, str]) -> None:
    """The start-up lines of shared/models/startup_lines.py (on disk, first downloads, torch build)."""
    from shared.models import startup_lines

    for line in startup_lines.model_lines(ctx.settings, tab_of):
        log.info("%s", line)
    torch_line = startup_lines.torch_build_line(ctx.hw, startup_lines.torch_cuda_build())
    if torch_line:
        log.warning("%s", torch_line)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_args(argv)
    app = build_app(settings)
    ctx = app.release_hub_context
    log.info("Profile %s on %s; outputs in %s", ctx.profile, ctx.hw.device_name, settings.outputs_dir)
    # Which models are on disk and what first runs download: read after the launch starts, not before.
    tab_of = {key: demo.title for demo in getattr(app, "release_hub_demos", ()) for key in demo.model_keys}
    threading.Thread(target=log_model_lines, args=(ctx, tab_of), daemon=True, name="startup-lines").start()
    if ctx.exposure_warning:
        log.warning("%s", ctx.exposure_warning)
    model_files.prune_orphaned_offload_files(settings)  # tens of GB that no load can use any more
    launch(app, settings)


if __name__ == "__main__":
    main(sys.argv[1:])
