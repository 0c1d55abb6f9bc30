"""History through gradio_client on the real server: across a restart, item files and sidecars, delete."""
from __future__ import annotations

import json

import pytest

from tests.history.conftest import TAB_INPUTS
from serving import patient_client


def test_every_tab_result_is_listed_again_after_a_restart(restarted_server):
    client = patient_client(restarted_server["url"])
    after = client.predict(page_size=100, api_name="/history")
    before = restarted_server["before"]
    assert before["total"] == 5 and {i["demo"] for i in before["items"]} == set(TAB_INPUTS)
    kept = {i["id"] for i in before["items"]}
    # Same items, newest first (other tests of this session may add more later).
    assert [i["id"] for i in after["items"] if i["id"] in kept] == [i["id"] for i in before["items"]]
    times = [i["created_ts"] for i in after["items"]]
    assert times == sorted(times, reverse=True)
    assert (restarted_server["outputs"] / ".history-index.json").is_file()
    assert after["space"]["used_bytes"] > 0 and after["space"]["limit_bytes"] >= 2 * 1024**3
    # Filters and free text.
    voice = client.predict(demo="voice_voxtral", api_name="/history")
    assert {i["demo"] for i in voice["items"]} == {"voice_voxtral"}
    assert "fr_female" in {i["voice"] for i in voice["items"]}
    fox = client.predict(text="RED FOX", api_name="/history")
    assert [i["demo"] for i in fox["items"]] == ["video"] and fox["items"][0]["variant"] == "distilled"
    assert client.predict(model="helios-distilled", api_name="/history")["total"] == 1


@pytest.mark.parametrize("demo", sorted(TAB_INPUTS))
def test_each_sidecar_records_every_input_of_its_tab(restarted_server, demo):
    client = patient_client(restarted_server["url"])
    item = next(i for i in restarted_server["before"]["items"] if i["demo"] == demo)  # the real run's result
    files, sidecar = client.predict(item_id=item["id"], api_name="/history_item")
    assert sidecar["schema"] == "release-hub.output" and sidecar["schema_version"] == 1
    assert sidecar["id"] == item["id"] and sidecar["demo"] == demo
    assert set(sidecar["inputs"]) == TAB_INPUTS[demo]
    assert files and files[0].endswith(sidecar["files"]["main"].rsplit(".", 1)[-1])
    media_inputs = {"voice_clone": "reference_audio", "video": "image", "agent_frame": "frame", "agent_video": "video"}
    if demo in media_inputs:  # the input the result depends on is kept, content-addressed
        saved = sidecar["saved_inputs"][media_inputs[demo]]
        path = restarted_server["outputs"] / saved["file"]
        assert path.is_file() and path.name.startswith(saved["sha256"]) and path.stat().st_size == saved["bytes"]
    if demo == "voice_clone":
        assert sidecar["saved_inputs"]["reference_audio"]["consent"]["given_by"] == "api call"
    if demo == "voice_voxtral":
        assert sidecar["inputs"]["voice"] == "fr_female" and sidecar["inputs"]["seed"] == 11
        assert sidecar["inputs"]["euler_steps"] == 5 and sidecar["inputs"]["text"] == "Kept across restarts."


def test_delete_removes_every_file_and_unused_inputs(restarted_server, tmp_path):
    from gradio_client import handle_file

    client = patient_client(restarted_server["url"])
    outputs = restarted_server["outputs"]
    media = restarted_server["media"]
    # A fresh result to delete (the others stay for the browser test): a new clip, so its saved input is its own.
    from shared.io.media import write_video
    import numpy as np

    clip = write_video(tmp_path / "own-clip.mp4", [np.full((64, 96, 3), 90 + i, np.uint8) for i in range(10)], 24)
    client.predict(video=handle_file(str(clip)), stride=3, api_name="/agent_video")
    item = client.predict(demo="agent_video", api_name="/history")["items"][0]
    files, sidecar = client.predict(item_id=item["id"], api_name="/history_item")
    stem = item["id"].split("/")[1]
    on_disk = sorted(p.name for p in (outputs / "agent").iterdir() if p.name.startswith(stem))
    assert on_disk == sorted([f"{stem}.json", f"{stem}.mp4", f"{stem}.plot.png", f"{stem}.actions.json"])
    saved = outputs / sidecar["saved_inputs"]["video"]["file"]
    assert saved.is_file()
    answer = client.predict(item_id=item["id"], api_name="/history_delete")
    assert answer["deleted"] == item["id"]
    assert not [p for p in (outputs / "agent").iterdir() if p.name.startswith(stem)]
    assert not saved.exists()  # no other result used that clip
    assert item["id"] not in {i["id"] for i in client.predict(page_size=100, api_name="/history")["items"]}
    with pytest.raises(Exception, match="No history item"):
        client.predict(item_id=item["id"], api_name="/history_item")
    with pytest.raises(Exception, match="a history item id"):
        client.predict(item_id="../../../etc/passwd", api_name="/history_delete")
    assert media["clip"].is_file()  # the caller's own file is never touched
