"""The History tab's work, apart from its layout: listing, showing, reusing, keeping and deleting results.

`tab.py` builds the components and wires `HistoryHandlers`' methods to events. The methods registered
as endpoints (`history`, `history_item`, `history_delete`, `history_favourite`) keep their signatures
and docstrings: Gradio reads them for the API page and the MCP tool descriptions. The views below
take plain values; the UI events turn them into component updates.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from shared.errors import UserInputError
from shared.io.outputs import SidecarError
from shared.web.reuse import ReuseRegistry
from shared.web.ui import AppContext, gradio_errors
from shared.web.visitors import history_scope

from . import labels, thumbs, trash
from .store import GB, HistoryStore

PAGE_SIZE = 20
TEXT_IN_ROW = 60
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def size_text(n: int) -> str:
    for unit, scale in (("GB", GB), ("MB", 1024**2), ("kB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def usage_line(use: dict, outputs_dir: Path) -> str:
    """The space line above the table, from the store's `usage` of a scope."""
    where = f"`{outputs_dir}`"
    persistent = str(Path(outputs_dir).resolve()).startswith("/data/")
    return (f"**Space used:** {size_text(use['used_bytes'])} of {size_text(use['limit_bytes'])} "
            f"({100 * use['used_bytes'] / max(use['limit_bytes'], 1):.0f} %) in {where}"
            f"{' (persistent volume)' if persistent else ''} · {use['items']} results shown to you, "
            f"{use['favourites']} favourites (never removed by the limit)")


def rows(items: list[dict], now: float | None = None) -> list[list]:
    """The table's rows (TABLE_HEADERS in tab.py): when, what (label, Stopped badge, the text or prompt
    cut at 60 characters), ★. The id is in the details of the selected result, not in the list."""
    out = []
    for item in items:
        what = labels.label(item) + (f" · {labels.STOPPED_BADGE}" if item.get("stopped") else "")
        if item.get("text") and item.get("demo") != "voice_clone":  # a clone's label already quotes it
            what += " — " + labels.quoted(item["text"], TEXT_IN_ROW)
        out.append([labels.when(item["created_ts"], now), what, "★" if item["favourite"] else ""])
    return out


def gallery(store: HistoryStore, items: list[dict]) -> tuple[list[tuple[str, str]], list[str]]:
    """([(thumbnail, caption)], [their ids]) in list order; items without a picture are left out. The paths
    are stored files: the Gallery's values pass through the owner-bound hand-out (GuardedBlocks)."""
    out, ids = [], []
    for item in items:
        entry = store.entry_or_none(item["id"])
        thumb = store.thumbnail(entry) if entry else None
        if thumb is not None:
            caption = labels.label(item) + (f" · {labels.STOPPED_BADGE}" if item.get("stopped") else "")
            out.append((str(thumb), caption))
            ids.append(item["id"])
    return out, ids


def choices(values: list[str], everything: str):
    return [(everything, "")] + [(v, v) for v in values]


def select_row(ids: list[str], evt: gr.SelectData):
    """The id of the row (table: [row, column]) or thumbnail (gallery: its position) a person selected."""
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    return ids[index] if isinstance(index, int) and 0 <= index < len(ids or []) else ""


@dataclass
class ItemView:
    """What the page shows of one result; `error` says why nothing is shown."""
    kind: str | None = None  # "audio" | "video" | ... (the main file's kind)
    main: Path | None = None
    picture: Path | None = None
    files: list[Path] = field(default_factory=list)
    sidecar: dict | None = None
    has_reference: bool = False
    note: str = ""
    error: str | None = None
    details: str = ""  # label, Stopped badge, time, id


def item_view(store: HistoryStore, scope, item_id: str) -> ItemView:
    """The selected result: its main file, a picture (its own or a saved input), files, sidecar."""
    try:
        entry = store.entry(scope, item_id)
        sidecar = store.sidecar(entry)
    except (UserInputError, SidecarError) as exc:
        return ItemView(error=f"⚠ {exc}")
    files = store.files(entry)
    saved = store.saved_inputs(sidecar)
    picture = next((p for p in files if p.suffix.lower() in PICTURE_SUFFIXES and not thumbs.is_thumb(p.name)), None)
    picture = picture or next((p for p in saved.values() if p.suffix.lower() in PICTURE_SUFFIXES), None)
    return ItemView(
        kind=entry.kind, main=files[0] if files and files[0].name == entry.main else None, picture=picture,
        files=files, sidecar=sidecar, details=f"{labels.headline(store.describe(entry))} · id `{entry.id}`",
        has_reference=any((s or {}).get("consent") for s in (sidecar.get("saved_inputs") or {}).values()),
        note="" if entry.schema_ok else "⚠ This sidecar was written before schema 1: it plays, but Reuse settings cannot read it.")


def item_updates(view: ItemView) -> tuple:
    """The players, files, sidecar, forget button and details line (or why nothing is shown) for an `ItemView`.
    The message line below the actions is left to the actions (a delete's Undo stays readable)."""
    main = view.main
    return (gr.Audio(value=str(main) if main and view.kind == "audio" else None, visible=view.kind == "audio"),
            gr.Video(value=str(main) if main and view.kind == "video" else None, visible=view.kind == "video"),
            gr.Image(value=str(view.picture) if view.picture else None, visible=view.picture is not None),
            [str(p) for p in view.files] or None, view.sidecar, gr.Button(visible=view.has_reference),
            view.error or " ".join(x for x in (view.details, view.note) if x))


def reuse_result(store: HistoryStore, targets: ReuseRegistry, scope, item_id) -> tuple[str | None, str, dict]:
    """(tab to switch to, message, {component: value}) for Reuse settings; no tab when nothing is filled
    (strict: an input missing from the sidecar fills none)."""
    try:
        sidecar, saved = store.reusable(scope, item_id)
        target, values, notes = targets.values_for(sidecar, saved)
    except (UserInputError, SidecarError) as exc:
        return None, f"⚠ Reuse settings: {exc}", {}
    text = f"Filled {len(target.inputs)} inputs of the **{target.tab}** tab from `{item_id}`."
    if notes:
        text += " " + "; ".join(notes) + "."
    return target.tab, text, values


class HistoryHandlers:
    """The tab's event handlers: every one works in the scope of the visitor who sent it.

    `main_tabs` and `message` are the components Reuse settings switches and writes to."""

    def __init__(self, ctx: AppContext, store: HistoryStore, main_tabs=None, message=None) -> None:
        self.ctx, self.store = ctx, store
        self.main_tabs, self.message = main_tabs, message
        self.private = bool(ctx.settings.on_space or ctx.settings.auth_file)

    def scope_of(self, request: gr.Request | None):
        return history_scope(request, shared=self.ctx.settings.shared_history, private=self.private)

    # ------------------------------------------------------------ API (signatures are the API)
    @gradio_errors
    def history(self, demo: str = "", model: str = "", voice: str = "", variant: str = "", text: str = "",
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
        scope = self.scope_of(request)
        result = self.store.query(scope, demo=demo or "", model=model or "", voice=voice or "", variant=variant or "",
                                  text=text or "", favourites=bool(favourites), page=int(page or 1),
                                  page_size=int(page_size or PAGE_SIZE))
        return {"items": result.items, "page": result.page, "pages": result.pages, "total": result.total,
                "space": self.store.usage(scope)}

    @gradio_errors
    def history_item(self, item_id: str, request: gr.Request = None) -> tuple[list[str], dict]:
        """One result: its files (main output first) and its sidecar.

        Args:
            item_id: the item's id from /history, e.g. "voice_voxtral/20260101-120000-0123456789ab".
        """
        entry = self.store.entry(self.scope_of(request), item_id)
        sidecar = self.store.sidecar(entry)
        return [str(p) for p in self.store.files(entry)], sidecar

    @gradio_errors
    def history_delete(self, item_id: str, request: gr.Request = None) -> dict:
        """Delete a result: its files, its sidecar, its partial files, and saved inputs no other result uses.
        They go to the outputs dir's trash (never served) for 24 hours, where the History tab's Undo can
        restore them, then are removed for good.

        Args:
            item_id: the item's id from /history.
        """
        removed = self.store.delete(self.scope_of(request), item_id)
        return {"deleted": item_id, "removed": removed}

    @gradio_errors
    def history_favourite(self, item_id: str, favourite: bool = True, request: gr.Request = None) -> dict:
        """Mark (or unmark) a result as a favourite: the disk limit never removes favourites.

        Args:
            item_id: the item's id from /history.
            favourite: true to keep it, false to let the disk limit remove it when it is among the oldest.
        """
        entry = self.store.set_favourite(self.scope_of(request), item_id, bool(favourite))
        return self.store.describe(entry)

    # ------------------------------------------------------------ UI events
    @gradio_errors
    def list_page(self, demo, model, voice, variant, text, favourites, page, request: gr.Request):
        scope = self.scope_of(request)
        result = self.store.query(scope, demo=demo or "", model=model or "", voice=voice or "", variant=variant or "",
                                  text=text or "", favourites=bool(favourites), page=int(page or 1), page_size=PAGE_SIZE)
        facets = self.store.facets(scope)
        pictures, picture_ids = gallery(self.store, result.items)
        return (rows(result.items), [item["id"] for item in result.items], pictures, picture_ids, result.page,
                f"Page {result.page} of {result.pages} · {result.total} results",
                usage_line(self.store.usage(scope), self.ctx.outputs_dir),
                gr.Dropdown(choices=choices(facets["demo"], "All demos")),
                gr.Dropdown(choices=choices(facets["model"], "All models")),
                gr.Dropdown(choices=choices(facets["voice"], "All voices")),
                gr.Dropdown(choices=choices(facets["variant"], "All variants")))

    def first_page(self, demo, model, voice, variant, text, favourites, request: gr.Request):
        return self.list_page(demo, model, voice, variant, text, favourites, 1, request)

    def newer_page(self, demo, model, voice, variant, text, favourites, page, request: gr.Request):
        return self.list_page(demo, model, voice, variant, text, favourites, int(page) - 1, request)

    def older_page(self, demo, model, voice, variant, text, favourites, page, request: gr.Request):
        return self.list_page(demo, model, voice, variant, text, favourites, int(page) + 1, request)

    def show(self, item_id, request: gr.Request):
        """The selected result in the players, its files and sidecar."""
        view = item_view(self.store, self.scope_of(request), item_id) if item_id else ItemView()
        return item_updates(view)

    def reuse(self, item_id, request: gr.Request):
        """Switch to the result's tab and fill its inputs from the sidecar (strict: nothing is filled if
        an input is missing)."""
        tab, text, values = reuse_result(self.store, self.ctx.reuse, self.scope_of(request), item_id)
        if tab is None:
            return {self.message: text}
        return {self.main_tabs: gr.Tabs(selected=tab), self.message: text, **values}

    @gradio_errors
    def toggle_favourite(self, item_id, request: gr.Request):
        entry = self.store.entry(self.scope_of(request), item_id)
        entry = self.store.set_favourite(self.scope_of(request), item_id, not entry.favourite)
        return f"{'★ Kept as a favourite' if entry.favourite else 'No longer a favourite'}: `{item_id}`."

    def ask_delete(self, item_id, request: gr.Request):
        """Delete's question (the confirmation row and its text), or why there is nothing to delete."""
        if not item_id:
            return gr.Row(visible=False), "", "Select a result first (a row or a picture above)."
        try:
            entry = self.store.entry(self.scope_of(request), item_id)
        except UserInputError as exc:
            return gr.Row(visible=False), "", f"⚠ {exc}"
        item = self.store.describe(entry)
        question = (f"**Delete this result?** {labels.label(item)}, made {labels.when(item['created_ts'])}. "
                    f"It goes to the trash: **Undo** brings it back for the next {trash.KEEP_S // 3600} hours.")
        return gr.Row(visible=True), question, ""

    @staticmethod
    def cancel_delete():
        return gr.Row(visible=False), "Kept: nothing was deleted."

    @gradio_errors
    def delete(self, item_id, request: gr.Request):
        """Confirmed: to the trash. (cleared selection, message, hidden question, Undo shown, what Undo restores)."""
        entry = self.store.entry(self.scope_of(request), item_id)
        name = labels.label(self.store.describe(entry))
        self.store.delete(self.scope_of(request), item_id)
        return ("", f"Deleted {name}. Changed your mind? Press **Undo**.", gr.Row(visible=False),
                gr.Button(visible=True), item_id)

    @gradio_errors
    def undo(self, item_id, request: gr.Request):
        """Restore the result deleted last: (selected again, message, Undo hidden, nothing left to undo)."""
        entry = self.store.restore(self.scope_of(request), item_id)
        return (item_id, f"Restored {labels.label(self.store.describe(entry))}.",
                gr.Button(visible=False), "")

    @gradio_errors
    def forget(self, item_id, request: gr.Request):
        scope = self.scope_of(request)
        sidecar = self.store.sidecar(self.store.entry(scope, item_id))
        names = [n for n, s in (sidecar.get("saved_inputs") or {}).items() if (s or {}).get("consent")]
        removed = [f for name in names for f in self.store.forget_input(scope, item_id, name)]
        return f"Deleted the saved reference of `{item_id}` ({len(removed)} files; other results still using it keep it)."
