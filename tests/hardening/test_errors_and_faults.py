"""Issue 19, points 5 and 6, as a hostile client sends them (raw HTTP, no gradio_client):

- numbers and booleans sent as text to endpoints Gradio preprocesses (/history, /history_favourite)
  are read by the rules of shared/io/params.py, or refused with our message; never Gradio's
  "Could not preprocess input component" and two tracebacks; "false" never means true;
- /v1: a 30,000-deep JSON body is a 400, a client hanging up mid-body one log line, a stalled or
  trickled body a 408 after RELEASE_HUB_BODY_TIMEOUT_S (short here), and the socket is let go;
- emoji-only text: one rule for text to speak (/tts, /clone_voice, /v1 with either model refuse it
  alike), a video prompt may be emoji (shared/io/text.py says why);
- a v2v clip over the frame limit gets a refusal that does not also explain how it would be used.

The server log must never hold a traceback for any of this.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import raw_api
from raw_api import upload
from serving import start_server, stop_server

BODY_TIMEOUT_S = 3  # the server's RELEASE_HUB_BODY_TIMEOUT_S: no data for this long is a 408
TOTAL_FACTOR = 6  # shared.io.request_body: the whole body gets this many times as long
SPEECH = "/v1/audio/speech"
NOT_SPEAKABLE = "has no speakable characters"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("errors")
    process, url, log_path = start_server(tmp, env_extra={"RELEASE_HUB_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S)})
    yield url, tmp, log_path
    stop_server(process)


class Log:
    """What the server logged from now on."""

    def __init__(self, path: Path) -> None:
        self.path, self.start = path, path.stat().st_size

    def text(self) -> str:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            return handle.read().decode(errors="replace")

    def wait_for(self, needle: str, count: int = 1, deadline_s: float = 60) -> str:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and self.text().count(needle) < count:
            time.sleep(0.25)
        return self.text()


def port_of(base: str) -> int:
    return int(base.rstrip("/").rsplit(":", 1)[1])




def speechlike_wav(path: Path, seconds: float = 3.0, sr: int = 24000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    wave = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) * sum(np.sin(2 * np.pi * f * t) / (i + 1)
                                                        for i, f in enumerate((140, 280, 420, 1100)))
    sf.write(path, (0.3 * wave / np.abs(wave).max()).astype(np.float32), sr)
    return path


def post_json(base: str, path: str, body: bytes, timeout: float = 300) -> tuple[int, dict]:
    request = urllib.request.Request(base + path.lstrip("/"), data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {"bytes": len(response.read())}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def head_of_post(path: str, length: int, content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def read_answer(sock: socket.socket, deadline_s: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes the connection; and whether it closed in time."""
    sock.settimeout(deadline_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:  # closed with our unread bytes still in its buffer: a reset, not a FIN
        pass
    return data, True


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"raw": body[:300].decode(errors="replace")}


# ------------------------------------------------------------------ point 5: /history and Gradio's preprocessing

@pytest.fixture(scope="module")
def two_results(server) -> list[str]:
    """Two history items (two /tts runs), newest first."""
    base = server[0]
    for text in ("First result.", "Second result."):
        answer = raw_api.call(base, "tts", {"text": text, "voice": "neutral_female", "seed": 1})
        assert answer.kind == "complete", answer
    listing = raw_api.call(base, "history", {"page_size": 100})
    ids = [item["id"] for item in listing.data[0]["items"]]
    assert len(ids) == 2, listing
    return ids


@pytest.mark.parametrize("sent", [("2", "1"), (" 2 ", "1.0"), ("2.0", 1)], ids=["text", "spaces", "float-text"])
def test_history_reads_numbers_sent_as_text(server, two_results, sent):
    base, _, log_path = server
    log = Log(log_path)
    page, page_size = sent
    answer = raw_api.call(base, "history", {"page": page, "page_size": page_size})
    assert answer.kind == "complete", answer.message
    listing = answer.data[0]
    assert (listing["page"], listing["pages"], listing["total"]) == (2, 2, 2)
    assert [item["id"] for item in listing["items"]] == two_results[1:]  # page 2 of 1-item pages: the older one
    assert "Traceback" not in log.text()


def test_history_refuses_what_is_not_a_number_or_a_boolean_with_our_message(server):
    base, _, log_path = server
    log = Log(log_path)
    cases = [("page", "five"), ("page_size", "7 items"), ("page", "nan"), ("page_size", ""),
             ("favourites", "maybe"), ("favourites", 2)]  # the last two were taken as true before
    for name, value in cases:
        answer = raw_api.call(base, "history", {name: value})
        assert answer.kind == "error", (name, value, answer)
        assert answer.message.startswith(f"{name} is "), answer.message
        assert "Could not preprocess" not in answer.message
    text = log.wait_for("Refused input", count=len(cases))
    assert text.count("Refused input") == len(cases) and "Traceback" not in text


def test_history_favourite_sets_what_the_string_says(server, two_results):
    base = server[0]
    item = two_results[0]
    for said, meant in [("false", False), ("TRUE", True), ("0", False), ("1", True), (" No", False), ("yes", True),
                        (0, False), (1, True), (False, False), (True, True)]:
        start = raw_api.call(base, "history_favourite", {"item_id": item, "favourite": not meant})
        assert start.kind == "complete" and start.data[0]["favourite"] is (not meant), start
        answer = raw_api.call(base, "history_favourite", {"item_id": item, "favourite": said})
        assert answer.kind == "complete", answer.message
        assert answer.data[0]["favourite"] is meant, (said, answer.data[0]["favourite"])
        # "favourites only" = "false" lists everything; "true" lists the favourite
        listing = raw_api.call(base, "history", {"favourites": "false" if not meant else "true", "page_size": 100})
        assert item in [entry["id"] for entry in listing.data[0]["items"]], (said, listing)


@pytest.mark.parametrize("said", ["maybe", "2", 2, "", [True]])
def test_history_favourite_refuses_what_is_not_a_boolean(server, two_results, said):
    base, _, log_path = server
    log = Log(log_path)
    answer = raw_api.call(base, "history_favourite", {"item_id": two_results[0], "favourite": said})
    assert answer.kind == "error", answer
    assert answer.message.startswith("favourite is ") and "true or false" in answer.message, answer.message
    assert "Traceback" not in log.text()


# ------------------------------------------------------------------ point 5: /v1 bodies

def test_v1_deeply_nested_json_is_a_400_with_our_message(server):
    base, _, log_path = server
    log = Log(log_path)
    for body in (b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        status, answer = post_json(base, SPEECH, body)
        assert status == 400, (status, answer)
        assert "nested too deeply" in answer["error"]["message"]
    text = log.text()
    assert "Traceback" not in text and "RecursionError" not in text


def test_v1_client_hanging_up_mid_body_is_one_log_line_each(server):
    base, _, log_path = server
    log = Log(log_path)
    clients = 5
    for _ in range(clients):
        with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as sock:
            sock.sendall(head_of_post(SPEECH, 1000) + b'{"model": "voxtral-4b-tts", "inp')
            time.sleep(0.3)  # the route is reading the body when the client goes
    text = log.wait_for("hung up", count=clients)
    assert text.count("hung up before sending the whole request body") == clients, text[-3000:]
    assert "Traceback" not in text and "ERROR" not in text, text[-3000:]


def stalled_client(base: str, path: str, head: bytes, first_bytes: bytes, results: list, deadline_s: float) -> None:
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as sock:
        sock.sendall(head + first_bytes)
        started = time.monotonic()
        answer, closed = read_answer(sock, deadline_s)
        results.append((time.monotonic() - started, closed, *status_and_body(answer)))


@pytest.mark.parametrize("path", [SPEECH, "/v1/audio/voices"])
def test_v1_stalled_bodies_get_a_408_and_their_sockets_back(server, path):
    base, _, log_path = server
    log = Log(log_path)
    head = head_of_post(path, 5000, "application/json" if path == SPEECH else "multipart/form-data; boundary=x")
    first = b'{"model": ' if path == SPEECH else b'--x\r\nContent-Disposition: form-data; name="consent"\r\n\r\ntr'
    results: list = []
    clients = [threading.Thread(target=stalled_client, args=(base, path, head, first, results, 60))
               for _ in range(10)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(120)
    assert len(results) == 10
    for seconds, closed, status, body in results:
        assert status == 408 and closed, (status, closed, body)  # answered, then the server hung up
        assert BODY_TIMEOUT_S * 0.9 <= seconds < BODY_TIMEOUT_S + 30, seconds
        assert f"no data arrived for {BODY_TIMEOUT_S:g} s" in body["error"]["message"], body
    text = log.wait_for("did not arrive in time", count=10)
    assert text.count("did not arrive in time") == 10 and "Traceback" not in text, text[-3000:]
    # The deadline is on stalling: an ordinary request still gets its audio.
    body = json.dumps({"model": "voxtral-4b-tts", "input": "Hello there.", "voice": "neutral_female",
                       "response_format": "wav", "seed": 1}).encode()
    status, answer = post_json(base, SPEECH, body)
    assert status == 200 and answer["bytes"] > 44, (status, answer)


def test_v1_trickled_body_gets_a_408_once_the_whole_body_is_late(server):
    """One byte a second never stalls for BODY_TIMEOUT_S, but the whole body has a deadline too."""
    base, _, log_path = server
    log = Log(log_path)
    total = BODY_TIMEOUT_S * TOTAL_FACTOR
    with socket.create_connection(("127.0.0.1", port_of(base)), timeout=30) as sock:
        sock.sendall(head_of_post(SPEECH, 5000))
        started = time.monotonic()
        sock.settimeout(1)
        answer = b""
        while time.monotonic() - started < total + 30:
            try:
                sock.sendall(b" ")
                answer += sock.recv(65536)
                if answer:
                    break
            except socket.timeout:
                continue
            except OSError:  # the server answered and closed while we were still sending
                break
        elapsed = time.monotonic() - started
        rest, _ = read_answer(sock, 30)  # the rest of the answer (the body may come in a later segment)
        answer += rest
    status, body = status_and_body(answer)
    assert status == 408, (status, body)
    assert f"not complete after {total:g} s" in body["error"]["message"]
    assert total * 0.9 <= elapsed < total + 30, elapsed
    assert "Traceback" not in log.text()


# ------------------------------------------------------------------ point 6: one rule for emoji-only text

EMOJI_ONLY = "🙂🎉 🐱‍👤 ?!"


def pocket_voice(base: str, tmp: Path) -> str:
    boundary = uuid.uuid4().hex
    wav = speechlike_wav(tmp / "voice.wav").read_bytes()
    parts = [(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
             for name, value in (("consent", "true"), ("name", "me"))]
    parts.append((f"--{boundary}\r\nContent-Disposition: form-data; name=\"audio_sample\"; filename=\"v.wav\"\r\n"
                  "Content-Type: audio/wav\r\n\r\n").encode() + wav + b"\r\n")
    request = urllib.request.Request(base + "v1/audio/voices", data=b"".join(parts) + f"--{boundary}--\r\n".encode(),
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())["id"]


def test_emoji_only_text_is_refused_alike_wherever_it_is_spoken_and_accepted_as_a_video_prompt(server):
    base, tmp, log_path = server
    log = Log(log_path)
    reference = upload(base, speechlike_wav(tmp / "ref.wav"))
    for api_name, values in (("tts", {"voice": "neutral_female", "seed": 1}),
                             ("clone_voice", {"reference_audio": reference, "seed": 1})):
        answer = raw_api.call(base, api_name, {**values, "text": EMOJI_ONLY})
        assert answer.kind == "error", (api_name, answer)
        assert answer.message.startswith(f"text {NOT_SPEAKABLE}"), (api_name, answer.message)
    for model, voice in (("voxtral-4b-tts", "neutral_female"), ("pocket-tts", pocket_voice(base, tmp))):
        body = json.dumps({"model": model, "input": EMOJI_ONLY, "voice": voice, "response_format": "wav"}).encode()
        status, answer = post_json(base, SPEECH, body)
        assert status == 400, (model, status, answer)
        assert answer["error"]["message"].startswith(f"'input' {NOT_SPEAKABLE}"), answer
        assert answer["error"]["param"] == "input"
    # A video prompt is not spoken: a text encoder reads emoji as meaning (shared/io/text.py).
    answer = raw_api.call(base, "video", {"prompt": "🦊❄️🌅", "mode": "t2v", "num_frames": 33, "seed": 1})
    assert answer.kind == "complete", answer.message
    assert answer.data[1]["prompt"] == "🦊❄️🌅"
    assert "Traceback" not in log.text()


# ------------------------------------------------------------------ point 6: the v2v refusal

def test_v2v_clip_over_the_frame_limit_is_refused_without_explaining_its_use(server):
    from demos.video.clips import MAX_INPUT_FRAMES
    from shared.io.media import write_video

    base, tmp, _ = server
    frames = [np.full((16, 16, 3), k % 250, np.uint8) for k in range(MAX_INPUT_FRAMES + 50)]
    clip = upload(base, Path(write_video(tmp / "long.mp4", frames, 24)))
    answer = raw_api.call(base, "video", {"prompt": "go on", "mode": "v2v", "video": clip, "num_frames": 33})
    assert answer.kind == "error", answer
    assert f"more than {MAX_INPUT_FRAMES:,} frames" in answer.message, answer.message
    assert "are used" not in answer.message and "Only its" not in answer.message, answer.message
    assert "Trim it" in answer.message
