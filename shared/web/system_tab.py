"""The System tab: sentences a person can act on first, then the models (download, delete,
unload), and the details folded: the placement plan table and the full /status report.

`/status` and `/unload` are its named endpoints; the elem_ids (system-summary, system-plans,
system-refresh, system-unload, system-status, ...) are what tests and people's scripts find.
"""
from __future__ import annotations

import gradio as gr

from shared.io.params import Choice
from shared.models import hub
from shared.tasks import zerogpu
from shared.web import system_words
from shared.web.ui import AppContext, gradio_errors, refresh_on_load

SYSTEM_REFRESH_S = 5  # the System tab re-reads memory and resident models this often while it is shown
REMOTE_COLUMNS = ["model family", "server", "healthy", "health check ms", "first byte ms", "requests", "failures", "last error"]
ZEROGPU_NO_UNLOAD = ("On ZeroGPU every model is preloaded at start-up and packed by `spaces`, which then deletes "
                     "their Hub-cache files: unloading cannot be undone without a restart, so Unload is off.")


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


def remote_rows(ctx: AppContext) -> list[list]:
    """One row per remote engine backend (--remote), for the System tab."""
    return [[name, b["url"], "yes" if b["healthy"] else "no", b["latency_ms"], b["first_byte_ms"], b["requests"],
             b["failures"], b["last_error"] or ""]
            for name, pool in ctx.remotes.items() for b in pool.status()]


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


def plan_rows(ctx: AppContext) -> list[list]:
    """One readable row per model plan ("blocks moved to the GPU one group at a time", not "group_block")."""
    return [system_words.plan_row(spec.title, ctx.source(spec.key), ctx.plan(spec.key)) for spec in hub.all_specs()]


MEMORY_WORDS = {"rss_gb": "this app", "vram_allocated_gb": "GPU memory in use",
                "vram_reserved_gb": "GPU memory reserved", "vram_peak_gb": "GPU peak"}


def resident_line(ctx: AppContext) -> str:
    """'Resident models: `nitrogen` (CPU, loaded in 5.3 s) · Memory: this app 0.53 GB' (words, not `rss`)."""
    resident = ", ".join(f"`{e['key']}` ({'GPU' if e['gpu'] else 'CPU'}, loaded in {e['load_seconds']:.1f} s)"
                         for e in ctx.cache.resident()) or "none"
    memory = " · ".join(f"{MEMORY_WORDS.get(k, k)} {v:.2f} GB" for k, v in ctx.cache.memory().items())
    return f"**Resident models:** {resident} · **Memory:** {memory}"


def system_summary(ctx: AppContext) -> str:
    """Profile, GPU and host RAM (read now: it changes as models load and unload)."""
    import psutil

    hw, ram = ctx.hw, psutil.virtual_memory()
    gpu_line = f"{hw.device_name}, {hw.vram_free_gb:.1f} of {hw.vram_total_gb:.1f} GB free" if hw.cuda else "no CUDA device (CPU)"
    return (f"**Profile:** `{ctx.profile}` (asked for `{ctx.settings.profile}`) · **GPU:** {gpu_line} · "
            f"**Host RAM:** {ram.available / 1024**3:.1f} of {ram.total / 1024**3:.1f} GB available")


def sentences(ctx: AppContext, tab_of: dict[str, str]) -> str:
    """The words the tab leads with (shared/web/system_words.py)."""
    plans = {spec.key: ctx.plan(spec.key) for spec in hub.all_specs()}
    tiny = any(ctx.source(key).kind == "tiny" for key in plans)
    return system_words.speed_sentences(ctx.hw, ctx.profile, plans, tab_of, tiny)


def unload_line(report: dict):
    """'Unloaded `voxtral`: process memory 1.58 GB -> 0.49 GB' after an Unload."""
    done = report.get("unloaded") if isinstance(report, dict) else None
    if not done:  # a plain refresh: the last unload's line stays
        return gr.skip()
    names = ", ".join(f"`{k}`" for k in done["keys"]) or "nothing (no model was loaded)"
    return (f"**Unloaded** {names}: process memory {done['rss_before_gb']:.2f} GB -> {done['rss_after_gb']:.2f} GB "
            f"({done['rss_before_gb'] - done['rss_after_gb']:+.2f} GB returned to the system).")


def _wire_status_and_unload(ctx: AppContext, timer: gr.Timer) -> gr.JSON:
    """Resident models, Unload, Refresh; returns the /status JSON that the other parts follow."""
    unload_key = Choice.of("key", "Model", [("All models", "")] + [(s.key, s.key) for s in hub.all_specs()],
                           default="", optional=True)

    def status() -> dict:
        """Device, memory profile, each model's placement plan, the resident models and memory use."""
        return status_report(ctx)

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

    resident = gr.Markdown(resident_line(ctx), elem_id="system-resident", label="Resident models", show_label=False)
    unloaded = gr.Markdown("", elem_id="system-unload-note")
    with gr.Row():
        refresh = gr.Button("Refresh", elem_id="system-refresh")
        keys = [spec.key for spec in hub.all_specs()]
        model = gr.Dropdown(choices=[("All models", "")] + [(k, k) for k in keys], value="", label="Model", scale=2)
        unload_button = gr.Button("Unload", variant="stop", elem_id="system-unload")
    with gr.Accordion("Full status (as /status returns it)", open=False, elem_id="system-status-fold"):
        report = refresh_on_load(gr.JSON(label="Status", elem_id="system-status"), lambda: status_report(ctx), timer)
    refresh.click(status, None, report, api_name="status", queue=False)
    unload_button.click(unload, model, report, api_name="unload", preprocess=False, concurrency_id="gpu",
                        concurrency_limit=1)
    report.change(lambda r: (resident_line(ctx), unload_line(r)), report, [resident, unloaded],
                  api_visibility="private", queue=False, show_progress="hidden")
    return report


def build_system_tab(ctx: AppContext, tab_of: dict[str, str]) -> gr.Timer:
    """The System tab; returns its refresh timer (build_app runs it only while the tab is shown).
    `tab_of` names each model key's tab ("voxtral" -> "Voice") for the sentences."""
    from shared.web.model_manager_ui import build_model_manager

    if ctx.exposure_warning:
        gr.Markdown(f"**Warning:** {ctx.exposure_warning}", elem_id="system-exposure-warning")
    # Every figure is read when the page loads and again on each tick while the tab is shown.
    timer = gr.Timer(SYSTEM_REFRESH_S, active=False)
    gr.Markdown(sentences(ctx, tab_of), elem_id="system-sentences")
    refresh_on_load(gr.Markdown(elem_id="system-summary", label="System summary", show_label=False),
                    lambda: system_summary(ctx), timer)
    if ctx.profile == "zerogpu":
        gr.Markdown(zerogpu_line(ctx), elem_id="system-zerogpu")
    build_model_manager(ctx)
    report = _wire_status_and_unload(ctx, timer)
    with gr.Accordion("How each model runs here (placement plan)", open=False, elem_id="system-plans-fold"):
        plans = gr.Dataframe(value=plan_rows(ctx), headers=system_words.PLAN_COLUMNS, label="Placement plan per model",
                             interactive=False, wrap=True, max_height=600, elem_id="system-plans",
                             column_widths=system_words.PLAN_COLUMN_WIDTHS)
    report.change(lambda _: plan_rows(ctx), report, plans, api_visibility="private", queue=False,
                  show_progress="hidden")
    if ctx.remotes:
        remotes = gr.Dataframe(value=remote_rows(ctx), headers=REMOTE_COLUMNS, label="Remote engines (--remote)",
                               interactive=False, wrap=True, elem_id="system-remotes")
        report.change(lambda _: remote_rows(ctx), report, remotes, api_visibility="private", queue=False)
    return timer
