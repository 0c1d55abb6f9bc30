"""The System tab's model manager: one row per model (size, on disk or not, where) with Download
and Delete; Delete asks first. The work is shared/models/model_manager.py; this is the layout."""
from __future__ import annotations

import functools
import logging

import gradio as gr

from shared.errors import UserInputError
from shared.io.text import escape_markdown
from shared.models import hub, model_manager
from shared.web.ui import AppContext, refresh_on_load

log = logging.getLogger(__name__)

PRIVATE = dict(api_visibility="private", show_progress="hidden")
DOWNLOAD_QUEUE = dict(concurrency_id="model-download", concurrency_limit=1)  # one download at a time


def off_reason(ctx: AppContext) -> str | None:
    """Why Download and Delete are off here: visitors of a Space or of a server open to the network
    must not fill or empty the host's disk."""
    if ctx.profile == "zerogpu" or getattr(ctx.settings, "on_space", False):
        return "Download and Delete are off on a Space: its models are managed by the Space's owner."
    if ctx.exposure_warning:
        return ("Download and Delete are off: this server is open to the network without a key or logins "
                "(see the warning above).")
    return None


def row_lines(ctx: AppContext) -> list[str]:
    return [model_manager.row_words(model_manager.model_row(spec.key, ctx.settings)) for spec in hub.all_specs()]


def download(ctx: AppContext, key: str):
    """Stream the download's line (bytes, speed, time left), then the refreshed rows."""
    keep = [gr.skip()] * len(hub.all_specs())
    if off_reason(ctx):
        yield off_reason(ctx), *keep
        return
    for line in model_manager.download_lines(key, ctx.settings):
        yield line, *keep
    yield gr.skip(), *row_lines(ctx)


def ask_to_delete(ctx: AppContext, key: str):
    """Delete's first click: say what would go and wait for Yes (nothing is removed yet)."""
    if off_reason(ctx):
        return "", gr.skip(), gr.Group(visible=False), off_reason(ctx)
    row = model_manager.model_row(key, ctx.settings)
    if not row.disk_bytes:  # nothing to ask about
        return "", gr.skip(), gr.Group(visible=False), f"{escape_markdown(row.title)} has no files here: nothing to delete."
    if ctx.source(key).kind == "tiny":
        after = "its next run writes the tiny test checkpoint again"
    else:
        after = f"its next run downloads {'about ' + format(row.download_gb, 'g') + ' GB' if row.download_gb else 'it'} again"
    question = (f"**Delete {escape_markdown(row.title)}?** This removes its files "
                f"({model_manager.size_words(row.disk_bytes)}) from this machine; {after}.")
    return key, question, gr.Group(visible=True), ""


def confirm_delete(ctx: AppContext, key: str):
    """'Yes, delete': refusals (loaded, ZeroGPU, your own folder) are said in the status line."""
    if not key or off_reason(ctx):
        return off_reason(ctx) or "Nothing to delete.", gr.Group(visible=False), "", *row_lines(ctx)
    resident = {entry["key"] for entry in ctx.cache.resident()}
    try:
        line = model_manager.delete_model(key, ctx.settings, resident, zerogpu=ctx.profile == "zerogpu")
    except UserInputError as exc:
        log.info("Delete of %s refused: %s", key, exc)
        line = f"**Not deleted.** {exc}"
    else:
        log.info("%s", line)
    return line, gr.Group(visible=False), "", *row_lines(ctx)


def build_model_manager(ctx: AppContext) -> None:
    specs = hub.all_specs()
    gr.Markdown("### Models\nDownload a model before its first run, or delete one to free disk space.")
    lines, downloads, deletes = [], [], []
    for spec in specs:
        # min_width: on a phone the row wraps, its buttons go under the words instead of squeezing them.
        with gr.Row(equal_height=False, elem_classes=["model-row"]):
            with gr.Column(scale=1, min_width=320):
                lines.append(gr.Markdown(elem_id=f"model-row-{spec.key}"))
            downloads.append(gr.Button("Download", size="sm", scale=0, min_width=100,
                                       elem_id=f"model-download-{spec.key}"))
            deletes.append(gr.Button("Delete", size="sm", variant="stop", scale=0, min_width=80,
                                     elem_id=f"model-delete-{spec.key}"))
    pending = gr.State("")  # the model whose Delete waits for Yes
    with gr.Group(visible=False, elem_id="model-delete-confirm-box") as confirm_box:
        question = gr.Markdown(elem_id="model-delete-question")
        with gr.Row():
            yes = gr.Button("Yes, delete", variant="stop", elem_id="model-delete-confirm")
            no = gr.Button("Cancel", elem_id="model-delete-cancel")
    status = gr.Markdown("", elem_id="model-manager-status")
    refresh_on_load(lines, lambda: row_lines(ctx))
    for spec, dl, rm in zip(specs, downloads, deletes):
        dl.click(functools.partial(download, ctx, spec.key), None, [status, *lines], **PRIVATE, **DOWNLOAD_QUEUE)
        rm.click(functools.partial(ask_to_delete, ctx, spec.key), None, [pending, question, confirm_box, status],
                 **PRIVATE, queue=False)
    yes.click(functools.partial(confirm_delete, ctx), pending, [status, confirm_box, pending, *lines], **PRIVATE,
              concurrency_id="gpu", concurrency_limit=1)  # never while a run may be loading that model
    no.click(lambda: ("Nothing deleted.", gr.Group(visible=False), ""), None, [status, confirm_box, pending],
             **PRIVATE, queue=False)
