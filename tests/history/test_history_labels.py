"""What a person reads in History: labels in words, not internal names; times as 'today 14:02'; Stopped."""
from __future__ import annotations

import time

from demos.history import labels
from demos.history.index import entry_from_sidecar


def _item(**fields) -> dict:
    return {"demo": "", "model": "", "voice": "", "text": "", "frames": 0, "game": "", "stopped": False,
            "favourite": False, "created_ts": time.time(), **fields}


def test_each_kind_gets_a_readable_label():
    assert labels.label(_item(demo="voice_voxtral", voice="neutral_female")) == "Voice · English neutral female"
    assert labels.label(_item(demo="voice_voxtral", voice="fr_male")) == "Voice · French male"
    clone = labels.label(_item(demo="voice_clone", text="Hello there, this is my own voice speaking today."))
    assert clone == "Voice clone · “Hello there, this is my own voice speak…”"  # 40 characters of it
    assert labels.label(_item(demo="video", model="helios-distilled", frames=65)) == "Long video · Helios-Distilled · 65 frames"
    assert labels.label(_item(demo="video", model="helios-mid", frames=1)) == "Long video · Helios-Mid · 1 frame"
    assert labels.label(_item(demo="agent_frame")) == "Game agent · frame"
    assert labels.label(_item(demo="agent_video")) == "Game agent · video"
    assert labels.label(_item(demo="agent_play", game="vizdoom")) == "Game agent · Play · Freedoom"
    assert labels.label(_item(demo="tone")) == "Tone"  # a kind this app does not know: still words


def test_times_read_today_yesterday_or_a_date():
    now = time.mktime((2026, 3, 2, 15, 0, 0, 0, 0, -1))
    assert labels.when(time.mktime((2026, 3, 2, 14, 2, 0, 0, 0, -1)), now) == "today 14:02"
    assert labels.when(time.mktime((2026, 3, 1, 9, 15, 0, 0, 0, -1)), now) == "yesterday 09:15"  # across a month
    assert labels.when(time.mktime((2026, 1, 3, 8, 0, 0, 0, 0, -1)), now) == "3 Jan 08:00"
    assert labels.when(time.mktime((2025, 12, 3, 8, 0, 0, 0, 0, -1)), now) == "3 Dec 2025"


def test_stopped_runs_are_marked_from_what_each_tab_stores():
    for info in ({"stopped": True}, {"cancelled": True}, {"agent": {"end_reason": "stopped"}}):
        sidecar = {"schema": "release-hub.output", "schema_version": 1, "demo": "video", "info": info, "inputs": {}}
        assert entry_from_sidecar("video", "20260101-000000-0123456789ab", sidecar, 0.0).stopped is True
    finished = {"demo": "video", "info": {"cancelled": False, "frames": 65}, "inputs": {}, "stopped": False}
    entry = entry_from_sidecar("video", "20260101-000000-0123456789ab", finished, 0.0)
    assert (entry.stopped, entry.frames) == (False, 65)
    stopped = labels.headline(_item(demo="video", model="helios-distilled", frames=33, stopped=True))
    assert stopped.startswith("**Long video · Helios-Distilled · 33 frames** · **■ Stopped**")
    assert "Stopped" not in labels.headline(_item(demo="video", model="helios-distilled", frames=33))
