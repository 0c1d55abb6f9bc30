"""Remote engines: F (`--remote voxtral=A,B`) forwards the Voice tab's and /v1's Voxtral requests.

Same audio bytes as asking the remote directly; round-robin reaches both remotes; a remote killed
mid-stream gives a clear error in the tab and the next request goes to the one still up."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
import soundfile as sf

from openai_client import make_client
from serving import patient_client

SPEAK = dict(model="voxtral-4b-tts", input="Hello there.", voice="casual_male", response_format="pcm")
EXTRA = {"seed": 21, "max_new_tokens": 4}


def remote_status(front) -> list[dict]:
    return front.predict(api_name="/status")["remote_backends"]["voxtral"]


@pytest.fixture(scope="module")
def front(openai_servers):
    return patient_client(openai_servers["f"]["url"] + "/")


def test_forwarded_bytes_equal_the_remote_s_own(openai_servers):
    direct = make_client(openai_servers["a"]["url"]).audio.speech.create(**SPEAK, extra_body=EXTRA).content
    forwarded = make_client(openai_servers["f"]["url"], key=None).audio.speech.create(**SPEAK, extra_body=EXTRA).content
    assert len(direct) == 4 * 1920 * 2 and forwarded == direct


def test_voice_tab_through_the_remotes_round_robin(openai_servers, front):
    before = {b["url"]: b["requests"] for b in remote_status(front)}
    devices = []
    for _ in range(2):
        path, info = front.predict("Hello there.", "casual_male", 21, 1.2, 7, 0.32, api_name="/tts")
        wave, rate = sf.read(path)
        assert rate == 24_000 and len(wave) == 4 * 1920
        devices.append(info["device"])
    after = {b["url"]: b["requests"] for b in remote_status(front)}
    urls = {openai_servers["a"]["url"], openai_servers["b"]["url"]}
    assert {d.removeprefix("remote ") for d in devices} == urls  # one request each
    assert all(after[u] > before[u] for u in urls)
    # The tab's audio equals the remote's own pcm for that seed (s16 -> float -> WAV 16-bit).
    direct = make_client(openai_servers["a"]["url"]).audio.speech.create(**SPEAK, extra_body=EXTRA).content
    np.testing.assert_array_equal(sf.read(path, dtype="int16")[0], np.frombuffer(direct, "<i2"))
    status = front.predict(api_name="/status")
    assert "voxtral" not in {m["key"] for m in status["resident_models"]}  # nothing loaded locally


def test_cloning_through_a_remote_with_failover(openai_servers, front):
    """F's pocket remotes: a dead port and A. The upload goes to whichever answers; speech follows it."""
    from test_speech_api import _reference_wav

    f = make_client(openai_servers["f"]["url"], key=None)
    voice = f.audio.voices.create(audio_sample=("ref.wav", _reference_wav(), "audio/wav"), consent="true", name="me")
    for _ in range(2):  # round-robin starts once at the dead one: it is skipped
        data = f.audio.speech.create(model="pocket-tts", input="Hi.", voice={"id": voice.id}, response_format="wav",
                                     extra_body={"seed": 3}).content
        wave, rate = sf.read(io.BytesIO(data))
        assert rate == 24_000 and len(wave) > 0
    pocket = {b["url"]: b for b in front.predict(api_name="/status")["remote_backends"]["pocket"]}
    assert pocket[openai_servers["dead"]]["healthy"] is False
    assert pocket[openai_servers["a"]["url"]]["healthy"] is True


def test_remote_killed_mid_stream_then_failover(openai_servers, front):
    urls = {name: openai_servers[name]["url"] for name in ("a", "b")}
    before = {b["url"]: b["requests"] for b in remote_status(front)}
    # Long enough to be cut: 60 frames stream as a 5-frame chunk, then 25-frame chunks.
    job = front.submit("Hello there. This is a longer sentence to speak.", "casual_male", 21, 1.2, 7, 4.8,
                       api_name="/tts_stream")
    deadline = time.monotonic() + 600
    while not job.outputs() and time.monotonic() < deadline:  # the first chunk is out
        time.sleep(0.2)
    assert job.outputs(), "no audio chunk arrived"
    serving = [b["url"] for b in remote_status(front) if b["requests"] > before[b["url"]]]
    assert len(serving) == 1
    victim = next(name for name, url in urls.items() if url == serving[0])
    openai_servers[victim]["process"].kill()
    try:
        with pytest.raises(Exception) as failure:
            job.result(timeout=600)
        assert "stopped mid-stream" in str(failure.value) and serving[0] in str(failure.value)
        survivor = next(url for name, url in urls.items() if name != victim)
        _, info = front.predict("Hello there.", "casual_male", 21, 1.2, 7, 0.32, api_name="/tts")
        assert info["device"] == f"remote {survivor}"
        down = next(b for b in remote_status(front) if b["url"] == serving[0])
        assert down["healthy"] is False and down["failures"] >= 1
    finally:
        openai_servers["respawn"](victim)  # session-scoped: tests after this one, in any order, need it


def test_forwarded_speech_does_not_wait_for_local_gpu_work(openai_servers, front):
    """F forwards Voxtral to its remotes, so a Voice request there neither queues behind F's own GPU
    line nor waits for its GPU turn: it finishes while a local video is still being made."""
    from gradio_client.utils import Status

    video = front.submit(prompt="a red cat", mode="t2v", num_frames=33, image=None, video=None,
                         variant="distilled", seed=5, api_name="/video")
    deadline = time.monotonic() + 600
    while video.status().code not in (Status.PROCESSING, Status.PROGRESS):  # F's GPU line is busy from here on
        assert time.monotonic() < deadline, "the local video never started"
        assert not video.done(), video.status()
        time.sleep(0.2)
    started = time.monotonic()
    path, info = front.predict("Hello there.", "casual_male", 21, 1.2, 7, 0.32, api_name="/tts")
    assert info["device"].startswith("remote ")
    assert not video.done(), "the video finished first: it no longer proves the speech did not wait"
    assert sf.read(path)[1] == 24_000
    speech_s = time.monotonic() - started
    video.result(timeout=900)  # and the local work still completes
    print(f"speech {speech_s:.1f} s, video {time.monotonic() - started:.1f} s after it started")
