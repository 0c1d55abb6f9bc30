"""The History tab's handlers as plain functions on a real outputs dir, without building Gradio:
listing, the selected item's view, Reuse settings, favourites and delete, the space line."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from demos.history import handlers as history
from demos.history.store import GB, HistoryStore
from shared.models import hardware
from shared.io.outputs import new_output_path, write_sidecar
from shared.web.reuse import ReuseRegistry
from shared.web.settings import Settings
from shared.web.ui import AppContext


def make_audio_result(root: Path, text: str = "Kept for later.") -> str:
    main = new_output_path(root, "voice_voxtral", "wav")
    main.write_bytes(b"\0" * 2048)
    write_sidecar(main, {"model": "voxtral", "seed": 3}, inputs={"text": text, "voice": "fr_female", "seed": 3},
                  owner=None, demo="voice_voxtral")
    return f"{main.parent.name}/{main.name.split('.')[0]}"


@pytest.fixture
def setup(tmp_path):
    settings = Settings(tiny=True, cache_dir=tmp_path / "cache", outputs_dir=tmp_path / "outputs")
    ctx = AppContext(settings=settings, hw=hardware.detect(), profile="cpu")
    item = make_audio_result(ctx.outputs_dir)
    store = HistoryStore(ctx.outputs_dir, 10 * GB)
    return ctx, store, item


def test_api_lists_and_refuses_an_unknown_item_with_our_message(setup):
    ctx, store, item = setup
    handlers = history.HistoryHandlers(ctx, store)
    page = handlers.history()
    assert [i["id"] for i in page["items"]] == [item] and page["total"] == 1 and page["space"]["items"] == 1
    files, sidecar = handlers.history_item(item)
    assert files[0].endswith(".wav") and sidecar["inputs"]["voice"] == "fr_female"
    with pytest.raises(gr.Error, match="voice_voxtral/nothing-here"):
        handlers.history_item("voice_voxtral/nothing-here")


def test_the_selected_item_shows_in_the_audio_player_only(setup):
    ctx, store, item = setup
    view = history.item_view(store, None, item)
    assert (view.kind, view.main.suffix, view.picture, view.has_reference, view.error) == ("audio", ".wav", None,
                                                                                          False, None)
    audio, video, image, files, sidecar, forget, note = history.item_updates(view)
    assert audio.visible is True
    assert (video.visible, image.visible, forget.visible) == (False, False, False)
    assert note.startswith("**Voice · French female** · made today ") and note.endswith(f"· id `{item}`")
    assert files == [str(view.main)] and sidecar["id"] == item
    missing = history.item_view(store, None, "voice_voxtral/nothing-here")
    assert missing.error.startswith("⚠ ") and history.item_updates(missing)[3] is None


def test_reuse_settings_fill_the_registered_inputs_or_nothing(setup):
    ctx, store, item = setup
    text, voice, seed = object(), object(), object()
    ctx.reuse.register("voice_voxtral", tab="voice", inputs={"text": text, "voice": voice, "seed": seed})
    tab, message, values = history.reuse_result(store, ctx.reuse, None, item)
    assert tab == "voice" and values == {text: "Kept for later.", voice: "fr_female", seed: 3}
    assert message == f"Filled 3 inputs of the **voice** tab from `{item}`."
    tabs, box = object(), object()
    answer = history.HistoryHandlers(ctx, store, tabs, box).reuse(item, None)
    assert answer[box] == message and answer[text] == "Kept for later." and tabs in answer
    strict = ReuseRegistry()
    strict.register("voice_voxtral", tab="voice", inputs={"text": text, "format": object()})
    tab, message, values = history.reuse_result(store, strict, None, item)
    assert (tab, values) == (None, {}) and message.startswith("⚠ Reuse settings:") and "format" in message


def test_favourite_then_delete(setup):
    ctx, store, item = setup
    handlers = history.HistoryHandlers(ctx, store)
    assert handlers.toggle_favourite(item, None) == f"★ Kept as a favourite: `{item}`."
    assert handlers.history(favourites=True)["total"] == 1
    assert handlers.toggle_favourite(item, None).startswith("No longer a favourite")
    row, question, said = handlers.ask_delete(item, None)
    assert row.visible is True and question.startswith("**Delete this result?** Voice · French female, made today")
    assert handlers.history()["total"] == 1  # asking deletes nothing
    assert handlers.cancel_delete()[0].visible is False and handlers.history()["total"] == 1
    cleared, said, row, undo, deleted = handlers.delete(item, None)
    assert cleared == "" and said == "Deleted Voice · French female. Changed your mind? Press **Undo**."
    assert (row.visible, undo.visible, deleted) == (False, True, item) and handlers.history()["total"] == 0
    selected, said, undo, deleted = handlers.undo(item, None)
    assert (selected, undo.visible, deleted) == (item, False, "") and said.startswith("Restored Voice · French female")
    assert [i["id"] for i in handlers.history()["items"]] == [item]
    assert handlers.ask_delete("", None)[2] == "Select a result first (a row or a picture above)."


def test_rows_and_the_space_line():
    item = {"created_ts": 1_700_000_000, "demo": "video", "model": "helios-mid", "voice": "", "variant": "mid",
            "mode": "t2v", "text": "x" * 100, "favourite": True, "id": "video/1", "frames": 65, "stopped": True}
    (row,) = history.rows([item], now=1_700_000_000 + 60)
    when, what, star = row
    assert when.startswith("today ") and star == "★"
    assert what.startswith("Long video · Helios-Mid · 65 frames · ■ Stopped — “x") and what.endswith("…”")
    assert "video/1" not in what and "helios-mid" not in what
    use = {"used_bytes": 1536, "limit_bytes": 2 * GB, "items": 4, "favourites": 1}
    line = history.usage_line(use, Path("/data/outputs"))
    assert line.startswith("**Space used:** 1.5 kB of 2.0 GB (0 %)") and "(persistent volume)" in line
    assert "4 results shown to you, 1 favourites" in line
    assert history.size_text(3 * 1024**2) == "3.0 MB" and history.size_text(12) == "12 B"
