"""Stored files reach only their owner (issue 19: findings 1 and 2), tried as a hostile client would.

One `release-hub --tiny` instance that looks like a Space (SPACE_ID set: History per visit). Alice
makes results through gradio_client (which keeps the visit cookie the server sets, as a browser
does); Bob is a second client; "nobody" is raw HTTP without cookies.
"""
from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import httpx
import pytest

from hostile_files import polyglot_png, polyglot_wav
from serving import REPO, patient_client, start_server, stop_server

ASSETS = REPO / "demos" / "assets"
ROUTES = ("gradio_api/file=", "file=", "gradio_api/file/")
SAFE_SAVED = {"png", "jpg", "webp", "wav", "flac", "mp3", "ogg", "mp4", "webm"}


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private-files")
    process, url, log = start_server(tmp, env_extra={"SPACE_ID": "test/space", "GRADIO_TEMP_DIR": str(tmp / "uploads")})
    yield {"url": url, "outputs": tmp / "outputs", "uploads": tmp / "uploads", "log": log}
    stop_server(process)


@pytest.fixture(scope="module")
def alice(space):
    from gradio_client import handle_file

    client = patient_client(space["url"], download_files=False)
    audio, info = client.predict(text="Alice speaks.", voice="neutral_female", seed=3, api_name="/tts")
    cloned, _ = client.predict(text="Alice again.", reference_audio=handle_file(str(ASSETS / "voice_reference.flac")),
                               seed=3, api_name="/clone_voice")
    page = client.predict("", "", "", "", "", False, 1, 20, api_name="/history")
    item_id = page["items"][0]["id"]
    files, _ = client.predict(item_id, api_name="/history_item")
    return {"client": client, "cookies": dict(client.cookies), "urls": [audio["url"], cloned["url"]]
            + [f["url"] for f in files], "item_id": item_id}


class Raw:
    """A response read with http.client, which sends the path exactly as written (httpx drops `..`)."""

    def __init__(self, status: int, headers, body: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, body

    def json(self):
        return json.loads(self.content)


def get(space, path: str, cookies: dict | None = None) -> Raw:
    import http.client

    host, port = urllib.parse.urlsplit(space["url"]).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    connection.request("GET", "/" + path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    answer = Raw(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    connection.close()
    return answer


def refusal(asked: str) -> dict:
    return {"detail": f"File not allowed: {asked}."}


def spellings(path: Path) -> list[tuple[str, str]]:
    """(URL path part, what the server reads) for one file: absolute, relative to the server's working
    directory, URL-encoded, with `..` and `.` segments, with doubled slashes."""
    absolute = str(path)
    relative = os.path.relpath(absolute, REPO)
    dotted = str(path.parent / ".." / path.parent.name / "." / path.name)
    forms = [absolute, relative, dotted, "/" + absolute]
    return [(f, f) for f in forms] + [(urllib.parse.quote(f, safe=""), f) for f in (absolute, relative)]


def test_every_stored_file_is_refused_like_a_missing_one(space, alice):
    stored = [p for p in space["outputs"].rglob("*") if p.is_file()]
    names = {p.name for p in stored}
    assert ".history-index.json" in names and any(p.parent.name == "inputs" for p in stored)
    assert any(p.suffix == ".json" and p.parent.name == "voice_voxtral" for p in stored)  # a sidecar
    link = space["uploads"] / "link-to-index.json"  # a symlink inside Gradio's own cache
    link.symlink_to(space["outputs"] / ".history-index.json")
    for path in stored + [link]:
        for route in ROUTES:
            for spelled, asked in spellings(path):
                answer = get(space, route + spelled, alice["cookies"])
                assert answer.status_code == 403, (route, spelled, answer.status_code)
                assert answer.json() == refusal(asked), (route, spelled)
                missing = get(space, route + spelled + "-missing", alice["cookies"])
                assert (missing.status_code, missing.json()) == (403, refusal(asked + "-missing"))


def test_results_reach_their_owner_only(space, alice):
    bob = patient_client(space["url"], download_files=False)
    assert bob.cookies and bob.cookies != alice["cookies"]
    for url in alice["urls"]:
        path = url.split("/gradio_api/file=", 1)[1]
        mine = httpx.get(url, cookies=alice["cookies"], timeout=60)
        assert mine.status_code == 200 and len(mine.content) > 44
        assert mine.headers["x-content-type-options"] == "nosniff"
        for cookies in (dict(bob.cookies), {}, {"rh-visit": "guessed"}):
            other = httpx.get(url, cookies=cookies, timeout=60)
            missing = httpx.get(url + "x", cookies=cookies, timeout=60)
            assert (other.status_code, other.json()) == (403, refusal(path))
            assert (missing.status_code, missing.json()) == (403, refusal(path + "x"))


def test_no_owner_identity_is_stored_or_listed(space, alice):
    client = alice["client"]
    secrets_seen = [client.session_hash, *alice["cookies"].values()]
    for path in space["outputs"].rglob("*.json"):
        text = path.read_text()
        assert not any(s in text for s in secrets_seen), path.name
    page = client.predict("", "", "", "", "", False, 1, 20, api_name="/history")
    assert "owner" not in json.dumps(page) and not any(s in json.dumps(page) for s in secrets_seen)


def test_a_replayed_session_hash_reaches_nothing(space, alice):
    from gradio_client.exceptions import AppError

    bob = patient_client(space["url"], download_files=False)
    bob.session_hash = alice["client"].session_hash  # replayed, as a copied session would be
    page = bob.predict("", "", "", "", "", False, 1, 20, api_name="/history")
    assert page["total"] == 0
    answers = []
    for api, args in (("/history_item", (alice["item_id"],)), ("/history_favourite", (alice["item_id"], True)),
                      ("/history_delete", (alice["item_id"],)), ("/history_item", ("voice/20990101-000000-000000000000",))):
        with pytest.raises(AppError) as refused:
            bob.predict(*args, api_name=api)
        answers.append(str(refused.value).replace(alice["item_id"], "ID").replace("voice/20990101-000000-000000000000", "ID"))
    assert answers[0] == answers[3]  # another's item and a missing one are refused alike
    still = alice["client"].predict(alice["item_id"], api_name="/history_item")
    assert still[0]


def upload(space, name: str, data: bytes) -> str:
    answer = httpx.post(space["url"] + "gradio_api/upload", files=[("files", (name, data, "text/html"))], timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()[0]


UPLOADS = [  # (endpoint, parameter, file name, content)
    ("agent_frame", "frame", "frame.html", polyglot_png), ("agent_frame", "frame", "frame.svg", polyglot_png),
    ("agent_frame", "frame", "frame.xhtml", polyglot_png), ("agent_frame", "frame", "frame.js", polyglot_png),
    ("clone_voice", "reference_audio", "voice.html", polyglot_wav),
    ("agent_video", "video", "clip.svg", lambda: (ASSETS / "agent_clip.mp4").read_bytes()),
    ("video", "image", "first.xhtml", polyglot_png),
]


@pytest.mark.parametrize("api,param,name,content", UPLOADS, ids=[f"{u[0]}-{u[2]}" for u in UPLOADS])
def test_uploads_are_never_served_as_active_content(space, api, param, name, content):
    import raw_api

    path = upload(space, name, content())
    served = get(space, "gradio_api/file=" + path)
    assert served.status_code == 200
    kind = served.headers["content-type"].split(";")[0]
    assert kind == "application/octet-stream" and served.headers["content-disposition"] == "attachment"
    assert served.headers["x-content-type-options"] == "nosniff"
    values = {param: {"path": path, "meta": {"_type": "gradio.FileData"}}, "text": "Hello.", "prompt": "A fox.",
              "mode": "i2v", "num_frames": 33, "stride": 8}
    answer = raw_api.call(space["url"], api, values)
    assert answer.kind == "complete", answer.message
    saved = {p.suffix.lstrip(".") for p in (space["outputs"] / "inputs").iterdir() if not p.name.startswith(".")}
    assert saved <= SAFE_SAVED, saved
