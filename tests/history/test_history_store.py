"""The History store and index on a real outputs dir: listing, paging, filters, delete, disk limit."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from demos.history.index import INDEX_NAME, Index
from demos.history.store import HistoryStore
from shared.errors import UserInputError
from shared.io.outputs import (SidecarError, check_sidecar, companion_path, new_output_path, partials_dir, save_input,
                            write_sidecar)


def make_result(root: Path, demo: str = "voice_voxtral", *, text: str = "hello", owner: str | None = None,
                size: int = 1000, created: float | None = None, voice: str = "casual_male", inputs_extra=None,
                saved=None, folder: str | None = None) -> str:
    main = new_output_path(root, folder or demo, "wav")
    main.write_bytes(b"\0" * size)
    inputs = {"text": text, "voice": voice, "seed": 3, **(inputs_extra or {})}
    sidecar = write_sidecar(main, {"model": "voxtral-4b-tts", "seed": 3}, inputs=inputs, owner=owner, demo=demo,
                            saved_inputs=saved)
    if created is not None:  # an older result: rewrite its time
        data = json.loads(sidecar.read_text())
        data["created_ts"] = created
        sidecar.write_text(json.dumps(data))
    return f"{main.parent.name}/{main.name.split('.')[0]}"


def test_schema_one_sidecar_is_strictly_checked(tmp_path):
    item = make_result(tmp_path)
    data = json.loads((tmp_path / (item + ".json")).read_text())
    assert check_sidecar(data) is data and data["schema_version"] == 1 and data["files"]["main"].endswith(".wav")
    with pytest.raises(SidecarError, match="written before schema 1.*lacks: schema, schema_version, id"):
        check_sidecar({"seed": 1, "voice": "x"})
    with pytest.raises(SidecarError, match="schema_version 7 is not supported"):
        check_sidecar({**data, "schema_version": 7})


def test_lists_newest_first_pages_and_filters(tmp_path):
    base = time.time() - 1000
    ids = [make_result(tmp_path, text=f"text number {i}", created=base + i, voice="fr_female" if i % 2 else "casual_male")
           for i in range(45)]
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    first = store.query(None, page=1, page_size=20)
    assert (first.total, first.pages, first.page) == (45, 3, 1)
    assert [item["id"] for item in first.items] == ids[::-1][:20]
    last = store.query(None, page=3, page_size=20)
    assert [item["id"] for item in last.items] == ids[::-1][40:]
    assert store.query(None, page=99).page == 3  # clamped
    french = store.query(None, voice="fr_female", page_size=100)
    assert french.total == 22 and all(i["voice"] == "fr_female" for i in french.items)
    assert [i["id"] for i in store.query(None, text="NUMBER 7").items] == [ids[7]]
    assert store.facets(None)["voice"] == ["casual_male", "fr_female"]


def test_index_file_is_reused_and_rebuilt_when_stale_or_damaged(tmp_path):
    make_result(tmp_path, text="first")
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    assert (tmp_path / INDEX_NAME).is_file() and store.query(None).total == 1
    # Another process (an older app run, a copy by hand) adds a result: the folder changed, so it is found.
    make_result(tmp_path, text="second")
    assert HistoryStore(tmp_path, limit_bytes=10**12).query(None).total == 2
    (tmp_path / INDEX_NAME).write_text("{not json")
    assert HistoryStore(tmp_path, limit_bytes=10**12).query(None).total == 2
    (tmp_path / INDEX_NAME).unlink()
    assert HistoryStore(tmp_path, limit_bytes=10**12).query(None).total == 2


def test_unchanged_sidecars_are_not_read_again(tmp_path, monkeypatch):
    for i in range(5):
        make_result(tmp_path, text=f"t{i}")
    HistoryStore(tmp_path, limit_bytes=10**12)
    old = time.time() - 3600
    for folder in tmp_path.iterdir():
        os.utime(folder, (old, old))  # as after the slack window
    index = Index.load(tmp_path / INDEX_NAME)
    index.scanned_at = time.time() - 60
    index.folders = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.is_dir()}
    reads = []
    import demos.history.index as index_module

    real = index_module.read_sidecar
    monkeypatch.setattr(index_module, "read_sidecar", lambda path: reads.append(path) or real(path))
    make_result(tmp_path, text="new one")
    assert index.refresh(tmp_path) and len(reads) == 1 and "new one" in {e.text for e in index.entries.values()}


def test_delete_removes_every_file_of_the_item(tmp_path):
    main = new_output_path(tmp_path, "agent", "mp4")
    main.write_bytes(b"video")
    plot = companion_path(main, "plot", "png")
    plot.write_bytes(b"png")
    actions = companion_path(main, "actions", "json")
    actions.write_text("{}")
    partials = partials_dir(main)
    partials.mkdir()
    (partials / "chunk-001.mp4").write_bytes(b"partial")
    clip = tmp_path / "upload.mp4"
    clip.write_bytes(b"the uploaded clip")
    saved = {"video": save_input(tmp_path, clip)}
    write_sidecar(main, {"model": "nitrogen"}, demo="agent_video", files={"plot": plot, "actions": actions},
                  inputs={"video": None, "stride": 1, "max_frames": 4, "seed": 0}, saved_inputs=saved)
    other = make_result(tmp_path)
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    item = f"agent/{main.name.split('.')[0]}"
    assert {p.name for p in store.files(store.entry(None, item))} == {main.name, plot.name, actions.name}
    removed = store.delete(None, item)
    assert not list((tmp_path / "agent").iterdir())  # mp4, plot, actions, sidecar, partials: all gone
    assert not (tmp_path / saved["video"]["file"]).exists() and saved["video"]["file"] in removed
    assert [i["id"] for i in store.query(None).items] == [other]
    with pytest.raises(UserInputError, match="No history item"):
        store.delete(None, item)


def test_saved_inputs_are_stored_once_and_kept_while_used(tmp_path):
    ref = tmp_path / "voice.wav"
    ref.write_bytes(b"RIFF reference")
    consent = {"given_by": "consent checkbox"}
    first = save_input(tmp_path / "out", ref, consent=consent)
    second = save_input(tmp_path / "out", ref, consent=consent)
    assert first["file"] == second["file"] and len(list((tmp_path / "out" / "inputs").iterdir())) == 1
    a = make_result(tmp_path / "out", "voice_clone", saved={"reference_audio": first})
    b = make_result(tmp_path / "out", "voice_clone", saved={"reference_audio": second})
    store = HistoryStore(tmp_path / "out", limit_bytes=10**12)
    store.delete(None, a)
    assert (tmp_path / "out" / first["file"]).is_file()  # b still uses it
    assert store.forget_input(None, b, "reference_audio") == [first["file"]]
    assert not (tmp_path / "out" / first["file"]).exists()
    sidecar = store.sidecar(store.entry(None, b))
    assert "reference_audio" not in sidecar["saved_inputs"] and sidecar["forgotten_inputs"] == ["reference_audio"]


def test_disk_limit_evicts_oldest_first_and_keeps_favourites(tmp_path):
    base = time.time() - 5000
    ids = [make_result(tmp_path, created=base + i, size=10_000) for i in range(6)]
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    store.set_favourite(None, ids[0], True)  # the oldest, but a favourite
    per_item = store.entry(None, ids[1]).bytes
    store.limit_bytes = 3 * per_item + 100
    evicted = store.enforce_limit()
    assert evicted == [ids[1], ids[2], ids[3]]
    assert [i["id"] for i in store.query(None).items] == [ids[5], ids[4], ids[0]]
    assert store.usage()["used_bytes"] <= store.limit_bytes


def test_new_results_trigger_the_limit_through_the_listener(tmp_path):
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    store.listen()
    try:
        old = make_result(tmp_path, created=time.time() - 100, size=50_000)
        store.limit_bytes = store.entry(None, old).bytes + 10
        new = make_result(tmp_path, size=50_000)
        assert [i["id"] for i in store.query(None).items] == [new]
    finally:
        store.close()


def test_scope_hides_other_owners_items(tmp_path):
    mine = make_result(tmp_path, owner="user:alice")
    theirs = make_result(tmp_path, owner="user:bob")
    store = HistoryStore(tmp_path, limit_bytes=10**12)
    assert [i["id"] for i in store.query("user:alice").items] == [mine]
    for call in (lambda: store.entry("user:alice", theirs), lambda: store.delete("user:alice", theirs),
                 lambda: store.set_favourite("user:alice", theirs, True)):
        with pytest.raises(UserInputError, match="No history item"):
            call()
    assert store.query(None).total == 2
    with pytest.raises(UserInputError, match="a history item id"):
        store.entry(None, "../../etc/passwd")
