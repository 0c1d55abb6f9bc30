"""The History tab: every result in the outputs dir, across runs of the app and demos.

Endpoints:
  /history            (demo, model, voice, variant, text, favourites, page, page_size) -> page of items
  /history_item       (item_id) -> the result's files, its sidecar
  /history_delete     (item_id) -> what was removed
  /history_favourite  (item_id, favourite) -> the item

On a Space (or with logins) each signed-in user sees their own results and
an anonymous visitor those of the current visit, unless
RELEASE_HUB_SHARED_HISTORY=1 (see shared/visitors.py).
"""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from shared.errors import UserInputError
from shared.outputs import SidecarError
from shared.ui import AppContext, gradio_errors
from shared.visitors import history_scope

from .store import GB, HistoryStore

TITLE = "History"
PAGE_SIZE = 20
TABLE_HEADERS = ["when", "demo", "model", "voice / variant", "text or prompt", "★", "id"]
INTRO = ("Every result of every demo, newest first, kept in the outputs dir with a JSON sidecar. "
         "Select a row to play it, download it, or **Reuse settings** (opens its tab with the inputs filled in).")


def make_store(ctx: AppContext) -> HistoryStore:
    settings = ctx.settings
    limit = int(settings.outputs_max_gb * GB) if settings.outputs_max_gb else None
    store = HistoryStore(ctx.outputs_dir, limit)
    store.listen()
    store.enforce_limit()
    return store


def _size(n: int) -> str:
    for unit, scale in (("GB", GB), ("MB", 1024**2), ("kB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def build_history_tab(ctx: AppContext, store: HistoryStore, main_tabs: gr.Tabs, history_tab: gr.Tab) -> None:
    settings = ctx.settings
    private = bool(settings.on_space or settings.auth_file)

    def scope_of(request: gr.Request | None):
        return history_scope(request, shared=settings.shared_history, private=private)

    # ------------------------------------------------------------ API
    @gradio_errors
    def history(demo: str = "", model: str = "", voice: str = "", variant: str = "", text: str = "",
                favourites: bool = False, page: int = 1, page_size: int = PAGE_SIZE,
                request: gr.Request = None) -> dict:
        """List results, newest first, one page at a time.

        Args:
            demo: only this output kind ("voice_voxtral", "voice_clone", "video", "agent_frame", "agent_video"); empty for all.
            model: only this model key (e.g. "helios-distilled"); empty for all.
            voice: only this Voxtral preset voice; empty for all.
            variant: only this Helios variant ("distilled", "mid", "base"); empty for all.
            text: only results whose text or prompt contains this (case-insensitive).
            favourites: only favourites.
            page: page number, from 1.
            page_size: items per page (1-100).

        Returns:
            {"items": [{id, demo, created_ts, model, voice, variant, mode, text, main, kind, favourite, bytes,
            files, inputs, schema_ok}], "page", "pages", "total", "space": {used_bytes, limit_bytes, items, favourites}}.
        """
        scope = scope_of(request)
        result = store.query(scope, demo=demo or "", model=model or "", voice=voice or "", variant=variant or "",
                             text=text or "", favourites=bool(favourites), page=int(page or 1),
                             page_size=int(page_size or PAGE_SIZE))
        return {"items": result.items, "page": result.page, "pages": result.pages, "total": result.total,
                "space": store.usage(scope)}

    @gradio_errors
    def history_item(item_id: str, request: gr.Request = None) -> tuple[list[str], dict]:
        """One result: its files (main output first) and its sidecar.

        Args:
            item_id: the item's id from /history, e.g. "voice_voxtral/20260101-120000-0123456789ab".
        """
        entry = store.entry(scope_of(request), item_id)
        sidecar = store.sidecar(entry)
        return [str(p) for p in store.files(entry)], sidecar

    @gradio_errors
    def history_delete(item_id: str, request: gr.Request = None) -> dict:
        """Delete a result: its files, its sidecar, its partial files, and saved inputs no other result uses.

        Args:
            item_id: the item's id from /history.
        """
        removed = store.delete(scope_of(request), item_id)
        return {"deleted": item_id, "removed": removed}

    @gradio_errors
    def history_favourite(item_id: str, favourite: bool = True, request: gr.Request = None) -> dict:
        """Mark (or unmark) a result as a favourite: the disk limit never removes favourites.

        Args:
            item_id: the item's id from /history.
            favourite: true to keep it, false to let the disk limit remove it when it is among the oldest.
        """
        entry = store.set_favourite(scope_of(request), item_id, bool(favourite))
        return store.describe(entry)

    # ------------------------------------------------------------ UI helpers
    def usage_line(scope) -> str:
        use = store.usage(scope)
        where = f"`{ctx.outputs_dir}`"
        persistent = str(Path(ctx.outputs_dir).resolve()).startswith("/data/")
        return (f"**Space used:** {_size(use['used_bytes'])} of {_size(use['limit_bytes'])} "
                f"({100 * use['used_bytes'] / max(use['limit_bytes'], 1):.0f} %) in {where}"
                f"{' (persistent volume)' if persistent else ''} · {use['items']} results shown to you, "
                f"{use['favourites']} favourites (never removed by the limit)")

    def rows(items: list[dict]) -> list[list]:
        out = []
        for item in items:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item["created_ts"]))
            detail = " · ".join(x for x in (item["voice"], item["variant"], item["mode"]) if x)
            text = item["text"] if len(item["text"]) <= 80 else item["text"][:79] + "…"
            out.append([when, item["demo"], item["model"], detail, text, "★" if item["favourite"] else "",
                        item["id"]])
        return out

    def choices(values: list[str], everything: str):
        return [(everything, "")] + [(v, v) for v in values]

    @gradio_errors
    def list_page(demo, model, voice, variant, text, favourites, page, request: gr.Request):
        scope = scope_of(request)
        result = store.query(scope, demo=demo or "", model=model or "", voice=voice or "", variant=variant or "",
                             text=text or "", favourites=bool(favourites), page=int(page or 1), page_size=PAGE_SIZE)
        facets = store.facets(scope)
        return (rows(result.items), result.page,
                f"Page {result.page} of {result.pages} · {result.total} results", usage_line(scope),
                gr.Dropdown(choices=choices(facets["demo"], "All demos")),
                gr.Dropdown(choices=choices(facets["model"], "All models")),
                gr.Dropdown(choices=choices(facets["voice"], "All voices")),
                gr.Dropdown(choices=choices(facets["variant"], "All variants")))

    def show(item_id, request: gr.Request):
        """The selected result in the players, its files and sidecar."""
        empty = (gr.Audio(value=None, visible=False), gr.Video(value=None, visible=False),
                 gr.Image(value=None, visible=False), None, None, gr.Button(visible=False))
        if not item_id:
            return (*empty, "")
        try:
            entry = store.entry(scope_of(request), item_id)
            sidecar = store.sidecar(entry)
        except (UserInputError, SidecarError) as exc:
            return (*empty, f"⚠ {exc}")
        files = store.files(entry)
        main = files[0] if files and files[0].name == entry.main else None
        saved = store.saved_inputs(sidecar)
        picture = next((p for p in files if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")), None)
        picture = picture or next((p for p in saved.values() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")), None)
        has_reference = any((s or {}).get("consent") for s in (sidecar.get("saved_inputs") or {}).values())
        note = "" if entry.schema_ok else "⚠ This sidecar was written before schema 1: it plays, but Reuse settings cannot read it."
        return (gr.Audio(value=str(main) if main and entry.kind == "audio" else None, visible=entry.kind == "audio"),
                gr.Video(value=str(main) if main and entry.kind == "video" else None, visible=entry.kind == "video"),
                gr.Image(value=str(picture) if picture else None, visible=picture is not None),
                [str(p) for p in files] or None, sidecar, gr.Button(visible=has_reference), note)

    def select_row(evt: gr.SelectData):
        row = evt.row_value or []
        return row[-1] if row else ""

    targets = ctx.reuse
    reuse_outputs = [main_tabs, *targets.components()]

    def reuse(item_id, request: gr.Request):
        """Switch to the result's tab and fill its inputs from the sidecar (strict: nothing is filled if
        an input is missing)."""
        try:
            sidecar, saved = store.reusable(scope_of(request), item_id)
            target, values, notes = targets.values_for(sidecar, saved)
        except (UserInputError, SidecarError) as exc:
            return {message: f"⚠ Reuse settings: {exc}"}
        text = f"Filled {len(target.inputs)} inputs of the **{target.tab}** tab from `{item_id}`."
        if notes:
            text += " " + "; ".join(notes) + "."
        return {main_tabs: gr.Tabs(selected=target.tab), message: text, **values}

    @gradio_errors
    def toggle_favourite(item_id, request: gr.Request):
        entry = store.entry(scope_of(request), item_id)
        entry = store.set_favourite(scope_of(request), item_id, not entry.favourite)
        return f"{'★ Kept as a favourite' if entry.favourite else 'No longer a favourite'}: `{item_id}`."

    @gradio_errors
    def delete(item_id, request: gr.Request):
        removed = store.delete(scope_of(request), item_id)
        return "", f"Deleted `{item_id}` ({len(removed)} files)."

    @gradio_errors
    def forget(item_id, request: gr.Request):
        scope = scope_of(request)
        sidecar = store.sidecar(store.entry(scope, item_id))
        names = [n for n, s in (sidecar.get("saved_inputs") or {}).items() if (s or {}).get("consent")]
        removed = [f for name in names for f in store.forget_input(scope, item_id, name)]
        return f"Deleted the saved reference of `{item_id}` ({len(removed)} files; other results still using it keep it)."

    # ------------------------------------------------------------ UI
    gr.Markdown(INTRO, elem_id="history-intro")
    usage = gr.Markdown("", elem_id="history-usage")
    with gr.Row():
        demo_f = gr.Dropdown(choices=[("All demos", "")], value="", label="Demo", elem_id="history-demo")
        model_f = gr.Dropdown(choices=[("All models", "")], value="", label="Model", elem_id="history-model")
        voice_f = gr.Dropdown(choices=[("All voices", "")], value="", label="Voice", elem_id="history-voice")
        variant_f = gr.Dropdown(choices=[("All variants", "")], value="", label="Variant", elem_id="history-variant")
    with gr.Row():
        text_f = gr.Textbox(label="Search text and prompts", elem_id="history-text", scale=3)
        fav_f = gr.Checkbox(value=False, label="Favourites only", elem_id="history-favourites-only")
        refresh = gr.Button("Refresh", elem_id="history-refresh")
    table = gr.Dataframe(headers=TABLE_HEADERS, value=[], label="Results", interactive=False, wrap=True,
                         elem_id="history-table")
    with gr.Row():
        prev_btn = gr.Button("← Newer", elem_id="history-prev", size="sm")
        page_info = gr.Markdown("", elem_id="history-page")
        next_btn = gr.Button("Older →", elem_id="history-next", size="sm")
    page = gr.State(1)
    selected = gr.Textbox(label="Selected item", elem_id="history-selected", placeholder="Select a row above")
    with gr.Row():
        audio = gr.Audio(label="Audio", type="filepath", interactive=False, visible=False, elem_id="history-audio")
        video = gr.Video(label="Video", interactive=False, visible=False, elem_id="history-video")
        image = gr.Image(label="Image", type="filepath", interactive=False, visible=False, elem_id="history-image")
    with gr.Row():
        reuse_btn = gr.Button("Reuse settings", variant="primary", elem_id="history-reuse")
        fav_btn = gr.Button("★ Favourite / unfavourite", elem_id="history-favourite")
        delete_btn = gr.Button("Delete", variant="stop", elem_id="history-delete")
        forget_btn = gr.Button("Delete the saved reference voice", visible=False, elem_id="history-forget")
    message = gr.Markdown("", elem_id="history-message")
    files = gr.File(label="Download", file_count="multiple", interactive=False, elem_id="history-files")
    sidecar_view = gr.JSON(label="Sidecar", elem_id="history-sidecar")

    filters = [demo_f, model_f, voice_f, variant_f, text_f, fav_f]
    listed = [table, page, page_info, usage, demo_f, model_f, voice_f, variant_f]
    shown = [audio, video, image, files, sidecar_view, forget_btn, message]
    private_event = dict(api_visibility="private")

    def first_page(demo, model, voice, variant, text, favourites, request: gr.Request):
        return list_page(demo, model, voice, variant, text, favourites, 1, request)

    def newer_page(demo, model, voice, variant, text, favourites, page, request: gr.Request):
        return list_page(demo, model, voice, variant, text, favourites, int(page) - 1, request)

    def older_page(demo, model, voice, variant, text, favourites, page, request: gr.Request):
        return list_page(demo, model, voice, variant, text, favourites, int(page) + 1, request)

    for control in (demo_f, model_f, voice_f, variant_f, fav_f):
        control.input(first_page, filters, listed, **private_event)
    text_f.submit(first_page, filters, listed, **private_event)
    refresh.click(list_page, [*filters, page], listed, **private_event)
    prev_btn.click(newer_page, [*filters, page], listed, **private_event)
    next_btn.click(older_page, [*filters, page], listed, **private_event)
    table.select(select_row, None, selected, **private_event)
    selected.change(show, selected, shown, **private_event)
    reuse_btn.click(reuse, selected, [message, *reuse_outputs], **private_event)
    fav_btn.click(toggle_favourite, selected, message, **private_event).then(
        list_page, [*filters, page], listed, **private_event)
    delete_btn.click(delete, selected, [selected, message], **private_event).then(
        list_page, [*filters, page], listed, **private_event)
    forget_btn.click(forget, selected, message, **private_event).then(show, selected, shown, **private_event)
    # Opening the tab lists the results (new ones may have been made in the other tabs meanwhile).
    history_tab.select(list_page, [*filters, page], listed, **private_event)

    # API endpoints on hidden triggers (named, documented, per-user).
    api_inputs = dict(
        # Initial values are the API defaults gradio_client offers.
        demo=gr.Textbox("", visible=False), model=gr.Textbox("", visible=False), voice=gr.Textbox("", visible=False),
        variant=gr.Textbox("", visible=False), text=gr.Textbox("", visible=False),
        favourites=gr.Checkbox(False, visible=False),
        page=gr.Number(value=1, precision=0, visible=False), page_size=gr.Number(value=PAGE_SIZE, precision=0, visible=False),
    )
    api_out = gr.JSON(visible=False, label="result")  # the API page names outputs by label
    item_id = gr.Textbox(visible=False)
    favourite = gr.Checkbox(value=True, visible=False)
    api_files = gr.File(file_count="multiple", visible=False, label="files")
    trigger = gr.Button(visible=False)
    trigger.click(history, list(api_inputs.values()), api_out, api_name="history", queue=False)
    trigger_item = gr.Button(visible=False)
    trigger_item.click(history_item, item_id, [api_files, api_out], api_name="history_item", queue=False)
    trigger_delete = gr.Button(visible=False)
    trigger_delete.click(history_delete, item_id, api_out, api_name="history_delete", queue=False)
    trigger_fav = gr.Button(visible=False)
    trigger_fav.click(history_favourite, [item_id, favourite], api_out, api_name="history_favourite", queue=False)
