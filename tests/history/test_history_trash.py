"""Delete goes to a trash kept 24 hours: Undo restores the files, the saved inputs and the index entry;
the trash is never listed, restoring respects the owner, and old trash is purged. Thumbnails are made
once beside the result and are not among its downloads."""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from demos.history import trash
from demos.history.store import HistoryStore
from shared.errors import UserInputError
from shared.io.outputs import companion_path, new_output_path, save_input, write_sidecar


def make_agent_video(root):
    """An agent video result with a plot, an actions file and a saved input clip only it uses."""
    main = new_output_path(root, "agent", "mp4")
    main.write_bytes(b"video")
    plot = companion_path(main, "plot", "png")
    Image.new("RGB", (320, 120), (10, 120, 200)).save(plot)
    actions = companion_path(main, "actions", "json")
    actions.write_text("{}")
    clip = root.parent / "upload.mp4"
    clip.write_bytes(b"the uploaded clip")
    saved = {"video": save_input(root, clip)}
    write_sidecar(main, {"model": "nitrogen", "cancelled": True}, demo="agent_video", owner="user:ann",
                  files={"plot": plot, "actions": actions}, saved_inputs=saved,
                  inputs={"video": None, "stride": 1, "max_frames": 4, "seed": 0})
    return f"agent/{main.name.split('.')[0]}", saved["video"]["file"]


def on_disk(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".history-index" not in p.name)


def test_delete_goes_to_the_trash_and_undo_restores_everything(tmp_path):
    root = tmp_path / "out"
    item, saved = make_agent_video(root)
    store = HistoryStore(root, limit_bytes=10**12)
    before = on_disk(root)
    removed = store.delete("user:ann", item)
    assert saved in removed and not (root / saved).exists() and not list((root / "agent").iterdir())
    assert store.query("user:ann").total == 0 and store.query(None).total == 0  # the trash is never listed
    assert all(p.startswith(".trash/") for p in on_disk(root))
    with pytest.raises(UserInputError, match="not in the trash"):
        store.restore("user:bob", item)  # someone else's: as if it were not there
    entry = store.restore("user:ann", item)
    assert entry.id == item and entry.stopped is True and on_disk(root) == before
    assert [i["id"] for i in store.query("user:ann").items] == [item]
    with pytest.raises(UserInputError, match="not in the trash"):
        store.restore("user:ann", item)  # once only


def test_trash_older_than_a_day_is_purged(tmp_path):
    root = tmp_path / "out"
    item, _ = make_agent_video(root)
    store = HistoryStore(root, limit_bytes=10**12)
    store.delete(None, item)
    assert store.purge_trash(now=time.time() + 23 * 3600) == []
    assert trash.manifest(root, item) is not None
    assert store.purge_trash(now=time.time() + 25 * 3600) == [item]
    assert not (root / ".trash" / "agent").exists() or not list((root / ".trash" / "agent").iterdir())
    with pytest.raises(UserInputError, match="not in the trash"):
        store.restore(None, item)


def test_thumbnails_are_made_once_and_kept_out_of_the_downloads(tmp_path):
    root = tmp_path / "out"
    item, _ = make_agent_video(root)
    main = new_output_path(root, "voice_voxtral", "wav")
    t = np.arange(8000) / 8000
    sf.write(main, (0.5 * np.sin(2 * np.pi * 3 * t)).astype(np.float32), 8000)
    write_sidecar(main, {"model": "voxtral"}, demo="voice_voxtral", inputs={"text": "hi", "voice": "fr_male"})
    store = HistoryStore(root, limit_bytes=10**12)
    voice = store.entry(None, f"voice_voxtral/{main.stem}")
    thumb = store.thumbnail(voice)
    assert thumb.name == f"{main.stem}.thumb.png" and Image.open(thumb).size == (192, 108)
    pixels = np.asarray(Image.open(thumb))
    assert (pixels != pixels[0, 0]).any(axis=2).sum() > 500  # a drawn waveform, not an empty card
    mtime = thumb.stat().st_mtime_ns
    assert store.thumbnail(store.entry(None, voice.id)) == thumb and thumb.stat().st_mtime_ns == mtime  # cached
    assert store.files(store.entry(None, voice.id)) == [main]  # not offered as a download
    plot_thumb = store.thumbnail(store.entry(None, item))
    assert np.asarray(Image.open(plot_thumb))[54, 96].tolist() == [10, 120, 200]  # the agent's plot, fitted
    store.delete(None, voice.id)
    assert not thumb.exists()  # it goes (and comes back) with its result
    store.restore(None, voice.id)
    assert thumb.is_file()
