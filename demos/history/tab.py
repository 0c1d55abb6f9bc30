"""The History tab: every result in the outputs dir, across runs of the app and demos.

Endpoints:
  /history            (demo, model, voice, variant, text, favourites, page, page_size) -> page of items
  /history_item       (item_id) -> the result's files, its sidecar
  /history_delete     (item_id) -> what was moved to the trash (kept 24 h; the tab's Undo restores it)
  /history_favourite  (item_id, favourite) -> the item

On a Space (or with logins) each signed-in user sees their own results and
an anonymous visitor those of the current visit, unless
RELEASE_HUB_SHARED_HISTORY=1 (see shared/web/visitors.py).

This module is the layout and the event wiring; the work is in handlers.py.
"""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from shared.web.ui import AppContext

from .handlers import PAGE_SIZE, HistoryHandlers, select_row
from .store import GB, HistoryStore

TITLE = "History"
TABLE_HEADERS = ["when", "result", "★"]
INTRO = ("Every result you made, newest first. Select a picture or a row to play it, download it, or "
         "**Reuse settings** (opens its tab with the inputs filled in).")


def make_store(ctx: AppContext) -> HistoryStore:
    settings = ctx.settings
    limit = int(settings.outputs_max_gb * GB) if settings.outputs_max_gb else None
    store = HistoryStore(ctx.outputs_dir, limit)
    store.listen()
    store.enforce_limit()
    store.purge_trash()
    return store


def build_history_tab(ctx: AppContext, store: HistoryStore, main_tabs: gr.Tabs, history_tab: gr.Tab) -> None:
    ui = _layout()
    handlers = HistoryHandlers(ctx, store, main_tabs, ui.message)
    _wire_page(ctx, handlers, ui, main_tabs, history_tab)
    _wire_api(handlers)


def _layout() -> SimpleNamespace:
    """Filters, the list (pictures and rows) and its pages, the selected result's players and actions."""
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
    # Pictures through a Gallery, a file component: its stored files are handed out bound to their owner.
    # Beside the rows on a wide screen, above them on a phone (the Row wraps below two minimum widths).
    # Three columns: Gradio's grid gives each at least 100 px, so more would scroll sideways on a phone.
    # A selected cell gets Gradio's row/column selection arrows, which make a read-only row look editable.
    gr.HTML("<style>#history-table .selection-button { display: none; }</style>", elem_id="history-style")
    with gr.Row(equal_height=False):
        thumbs = gr.Gallery(value=[], label="Results", columns=3, height=240, object_fit="contain",
                            allow_preview=False, buttons=[], interactive=False, scale=2, min_width=320,
                            elem_id="history-thumbs")
        table = gr.Dataframe(headers=TABLE_HEADERS, value=[], show_label=False, interactive=False, wrap=True,
                             column_widths=["24%", "68%", "8%"], scale=3, min_width=320, elem_id="history-table")
    with gr.Row():
        prev_btn = gr.Button("← Newer", elem_id="history-prev", size="sm")
        page_info = gr.Markdown("", elem_id="history-page")
        next_btn = gr.Button("Older →", elem_id="history-next", size="sm")
    state = SimpleNamespace(page=gr.State(1), row_ids=gr.State([]), picture_ids=gr.State([]), deleted=gr.State(""))
    return SimpleNamespace(usage=usage, demo_f=demo_f, model_f=model_f, voice_f=voice_f, variant_f=variant_f,
                           text_f=text_f, fav_f=fav_f, refresh=refresh, thumbs=thumbs, table=table,
                           prev_btn=prev_btn, page_info=page_info, next_btn=next_btn, **vars(state), **vars(_details()))


def _details() -> SimpleNamespace:
    """The selected result: what it is, its players, its actions (Delete asks first), its files."""
    details = gr.Markdown("", elem_id="history-details")
    with gr.Row():
        audio = gr.Audio(label="Audio", type="filepath", interactive=False, visible=False, elem_id="history-audio")
        video = gr.Video(label="Video", interactive=False, visible=False, elem_id="history-video")
        image = gr.Image(label="Image", type="filepath", interactive=False, visible=False, elem_id="history-image")
    with gr.Row():
        reuse_btn = gr.Button("Reuse settings", variant="primary", elem_id="history-reuse")
        fav_btn = gr.Button("★ Favourite / unfavourite", elem_id="history-favourite")
        delete_btn = gr.Button("Delete", variant="stop", elem_id="history-delete")
        forget_btn = gr.Button("Delete the saved reference voice", visible=False, elem_id="history-forget")
    with gr.Row(visible=False, elem_id="history-confirm") as confirm_row:
        question = gr.Markdown("", elem_id="history-confirm-text")
        confirm_btn = gr.Button("Delete", variant="stop", size="sm", elem_id="history-delete-confirm")
        cancel_btn = gr.Button("Cancel", size="sm", elem_id="history-delete-cancel")
    with gr.Row():
        message = gr.Markdown("", elem_id="history-message", scale=3)
        undo_btn = gr.Button("Undo", visible=False, size="sm", scale=1, min_width=90, elem_id="history-undo")
    files = gr.File(label="Download", file_count="multiple", interactive=False, elem_id="history-files")
    # The id, for scripts and the API: last, below what a person uses.
    selected = gr.Textbox(label="Selected item (its id)", elem_id="history-selected",
                          placeholder="Select a result above, or paste an id")
    sidecar_view = gr.JSON(label="Sidecar (every setting of the run)", open=False, elem_id="history-sidecar")
    return SimpleNamespace(details=details, selected=selected, audio=audio, video=video, image=image,
                           reuse_btn=reuse_btn, fav_btn=fav_btn, delete_btn=delete_btn, forget_btn=forget_btn,
                           confirm_row=confirm_row, question=question, confirm_btn=confirm_btn,
                           cancel_btn=cancel_btn, message=message, undo_btn=undo_btn, files=files,
                           sidecar_view=sidecar_view)


def _wire_page(ctx: AppContext, handlers: HistoryHandlers, ui: SimpleNamespace, main_tabs: gr.Tabs,
               history_tab: gr.Tab) -> None:
    """The page's own events (private: not in the API)."""
    filters = [ui.demo_f, ui.model_f, ui.voice_f, ui.variant_f, ui.text_f, ui.fav_f]
    listed = [ui.table, ui.row_ids, ui.thumbs, ui.picture_ids, ui.page, ui.page_info, ui.usage, ui.demo_f,
              ui.model_f, ui.voice_f, ui.variant_f]
    shown = [ui.audio, ui.video, ui.image, ui.files, ui.sidecar_view, ui.forget_btn, ui.details]
    reuse_outputs = [main_tabs, *ctx.reuse.components()]
    private_event = dict(api_visibility="private")
    # One bound method per handler, used by every event it serves (Gradio groups an event's
    # concurrency by its function when no concurrency_id is given).
    list_page, first_page, show = handlers.list_page, handlers.first_page, handlers.show

    for control in (ui.demo_f, ui.model_f, ui.voice_f, ui.variant_f, ui.fav_f):
        control.input(first_page, filters, listed, **private_event)
    ui.text_f.submit(first_page, filters, listed, **private_event)
    ui.refresh.click(list_page, [*filters, ui.page], listed, **private_event)
    ui.prev_btn.click(handlers.newer_page, [*filters, ui.page], listed, **private_event)
    ui.next_btn.click(handlers.older_page, [*filters, ui.page], listed, **private_event)
    ui.table.select(select_row, ui.row_ids, ui.selected, **private_event)
    ui.thumbs.select(select_row, ui.picture_ids, ui.selected, **private_event)
    ui.selected.change(show, ui.selected, shown, **private_event)
    ui.reuse_btn.click(handlers.reuse, ui.selected, [ui.message, *reuse_outputs], **private_event)
    ui.fav_btn.click(handlers.toggle_favourite, ui.selected, ui.message, **private_event).then(
        list_page, [*filters, ui.page], listed, **private_event)
    _wire_delete(handlers, ui, [*filters, ui.page], listed, private_event)
    ui.forget_btn.click(handlers.forget, ui.selected, ui.message, **private_event).then(
        show, ui.selected, shown, **private_event)
    # Opening the tab lists the results (new ones may have been made in the other tabs meanwhile).
    history_tab.select(list_page, [*filters, ui.page], listed, **private_event)


def _wire_delete(handlers: HistoryHandlers, ui: SimpleNamespace, listing: list, listed: list, private_event: dict) -> None:
    """Delete asks first; the confirmed delete goes to the trash and offers Undo, which puts it back."""
    ui.delete_btn.click(handlers.ask_delete, ui.selected, [ui.confirm_row, ui.question, ui.message], **private_event)
    ui.cancel_btn.click(handlers.cancel_delete, None, [ui.confirm_row, ui.message], **private_event)
    ui.confirm_btn.click(handlers.delete, ui.selected, [ui.selected, ui.message, ui.confirm_row, ui.undo_btn, ui.deleted],
                         **private_event).then(handlers.list_page, listing, listed, **private_event)
    ui.undo_btn.click(handlers.undo, ui.deleted, [ui.selected, ui.message, ui.undo_btn, ui.deleted],
                      **private_event).then(handlers.list_page, listing, listed, **private_event)


def _wire_api(handlers: HistoryHandlers) -> None:
    """API endpoints on hidden triggers (named, documented, per-user)."""
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
    trigger.click(handlers.history, list(api_inputs.values()), api_out, api_name="history", queue=False)
    trigger_item = gr.Button(visible=False)
    trigger_item.click(handlers.history_item, item_id, [api_files, api_out], api_name="history_item", queue=False)
    trigger_delete = gr.Button(visible=False)
    trigger_delete.click(handlers.history_delete, item_id, api_out, api_name="history_delete", queue=False)
    trigger_fav = gr.Button(visible=False)
    trigger_fav.click(handlers.history_favourite, [item_id, favourite], api_out, api_name="history_favourite", queue=False)
