"""/v1/audio/speech with the real `openai` client against `release-hub --tiny` servers.

Few frames per request (`max_new_tokens`): the tiny model's cost is per frame, and this box is shared."""
from __future__ import annotations

import base64
import io
import json
import urllib.request

import av
import numpy as np
import openai
import pytest
import soundfile as sf

from openai_client import KEY, make_client

FRAMES = 4
SAMPLES = FRAMES * 1920
SPEAK = dict(model="voxtral-4b-tts", input="Hello there.", voice="casual_male")
EXTRA = {"seed": 11, "max_new_tokens": FRAMES}


def pcm_of(client, **kw) -> bytes:
    return client.audio.speech.create(**SPEAK, response_format="pcm", extra_body=EXTRA, **kw).content


@pytest.fixture(scope="module")
def a(openai_servers):
    return make_client(openai_servers["a"]["url"])


@pytest.fixture(scope="module")
def reference_pcm(a) -> np.ndarray:
    data = pcm_of(a)
    assert len(data) == SAMPLES * 2  # 4 frames of 1920 samples, s16le
    return np.frombuffer(data, "<i2")


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus"])
def test_every_format_decodes_to_24khz_of_the_expected_length(a, reference_pcm, fmt):
    data = a.audio.speech.create(**SPEAK, response_format=fmt, extra_body=EXTRA).content
    wave, rate = sf.read(io.BytesIO(data), dtype="int16")
    assert rate == 24_000 and wave.ndim == 1
    with av.open(io.BytesIO(data)) as container:  # FFmpeg reads it too
        decoded = sum(frame.samples for frame in container.decode(audio=0))
        assert decoded > 0
    if fmt in ("wav", "flac"):  # lossless: the very samples of pcm
        np.testing.assert_array_equal(wave, reference_pcm)
    else:  # codec priming / padding: within two mp3 frames
        assert abs(len(wave) - SAMPLES) <= 2 * 1152, len(wave)


def test_speed_changes_the_length_not_the_rate(a):
    data = a.audio.speech.create(**SPEAK, response_format="wav", speed=2.0, extra_body=EXTRA).content
    wave, rate = sf.read(io.BytesIO(data))
    assert rate == 24_000 and abs(len(wave) - SAMPLES / 2) < 0.1 * SAMPLES


def test_audio_stream_is_the_same_bytes_in_chunks(a, reference_pcm):
    with a.audio.speech.with_streaming_response.create(**SPEAK, response_format="pcm", stream_format="audio",
                                                       extra_body=EXTRA) as response:
        assert response.headers["content-type"].startswith("audio/pcm")
        assert response.headers.get("x-release-hub-seed") == "11"
        parts = list(response.iter_bytes())
    assert b"".join(parts) == reference_pcm.tobytes()


def test_sse_stream_as_openai_documents(a, reference_pcm):
    with a.audio.speech.with_streaming_response.create(**SPEAK, response_format="pcm", stream_format="sse",
                                                       extra_body=EXTRA) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["output_tokens"] == FRAMES
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert audio == reference_pcm.tobytes()


def test_models_list(a):
    assert {m.id for m in a.models.list()} == {"voxtral-4b-tts", "pocket-tts"}


def test_error_classes(a, openai_servers):
    with pytest.raises(openai.BadRequestError, match="'input' is empty"):
        a.audio.speech.create(model="voxtral-4b-tts", input="  ", voice="casual_male")
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        a.audio.speech.create(model="tts-1", input="Hi.", voice="casual_male")
    with pytest.raises(openai.NotFoundError, match="Unknown voice 'alloy'"):
        a.audio.speech.create(model="voxtral-4b-tts", input="Hi.", voice="alloy")
    with pytest.raises(openai.APIStatusError, match="the limit for voxtral-4b-tts is 2,000") as too_long:
        a.audio.speech.create(model="voxtral-4b-tts", input="x" * 2001, voice="casual_male")
    assert too_long.value.status_code == 413
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        make_client(openai_servers["a"]["url"], key="wrong").audio.speech.create(**SPEAK)
    # 503: B's Pocket TTS files are missing.
    b = make_client(openai_servers["b"]["url"])
    voice = b.audio.voices.create(audio_sample=("ref.wav", _reference_wav(), "audio/wav"), consent="true", name="me")
    with pytest.raises(openai.InternalServerError, match="The model is not available") as missing:
        b.audio.speech.create(model="pocket-tts", input="Hi.", voice={"id": voice.id})
    assert missing.value.status_code == 503 and missing.value.body["code"] == "model_not_available"
    # 429 is the Gradio queue refusing a job: tests/openai/test_queue_jobs.py.


def _post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/v1/audio/speech", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


BAD = [
    (b"", 400, "body is empty"),
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (json.dumps({**SPEAK, "input": "a" * (1 << 20)}).encode(), 413, "limit is 65,536"),
    (json.dumps({**SPEAK, "input": "a" * 50_000}).encode(), 413, "'input' is 50,000 characters"),
    (json.dumps({**SPEAK, "input": 42}).encode(), 400, "'input' must be a string"),
    (json.dumps({**SPEAK, "input": None}).encode(), 400, "'input' must be a string"),
    (json.dumps({**SPEAK, "voice": 7}).encode(), 400, "'voice' must be"),
    (json.dumps({**SPEAK, "voice": "nobody"}).encode(), 404, "Unknown voice 'nobody'"),
    (json.dumps({**SPEAK, "model": "whisper-1"}).encode(), 404, "'whisper-1' does not exist"),
    (json.dumps({**SPEAK, "model": ["x"]}).encode(), 400, "'model' must be"),
    (json.dumps({**SPEAK, "speed": "fast"}).encode(), 400, "'speed' must be a number from 0.25 to 4"),
    (json.dumps({**SPEAK, "speed": 10}).encode(), 400, "'speed' is 10; allowed range is 0.25 to 4"),
    (json.dumps({**SPEAK, "speed": True}).encode(), 400, "'speed' must be a number"),
    (json.dumps({**SPEAK, "response_format": "aac"}).encode(), 400, "'response_format' is 'aac'; choose one of"),
    (json.dumps({**SPEAK, "stream_format": "chunks"}).encode(), 400, "'stream_format' is 'chunks'"),
    (json.dumps({**SPEAK, "instructions": "whisper"}).encode(), 400, "'instructions' is not supported"),
    (json.dumps({**SPEAK, "seed": -1}).encode(), 400, "'seed' is -1"),
    (json.dumps({**SPEAK, "seed": 1.5}).encode(), 400, "'seed' must be an integer"),
    (json.dumps({**SPEAK, "extra_params": {"cfg_alpha": 99}}).encode(), 400, "'extra_params.cfg_alpha' is 99"),
    (json.dumps({**SPEAK, "extra_params": {"evil": 1}}).encode(), 400, "'extra_params' takes"),
    (json.dumps({**SPEAK, "temperature": 2}).encode(), 400, "Unrecognized request argument supplied: 'temperature'"),
]


@pytest.mark.parametrize("body,status,message", BAD, ids=[m for _, _, m in BAD])
def test_bad_input_battery(openai_servers, body, status, message):
    code, answer = _post(openai_servers["a"]["url"], body, {"Authorization": f"Bearer {KEY}"})
    assert code == status
    error = answer["error"]
    assert message in error["message"] and "Traceback" not in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("headers,match", [({}, "No API key was sent"), ({"Authorization": "Bearer nope"}, "not valid"),
                                           ({"Authorization": KEY}, "not valid")])
def test_bad_key(openai_servers, headers, match):
    code, answer = _post(openai_servers["a"]["url"], json.dumps(SPEAK).encode(), headers)
    assert code == 401 and match in answer["error"]["message"] and answer["error"]["code"] == "invalid_api_key"



def test_refused_large_bodies_still_get_our_answer(a, openai_servers):
    """A refused body is read (and dropped) before the answer goes out: answered early, a client still sending
    gets a broken pipe instead of our 413 (CI saw it once with a 1 MiB body; 16 MiB overflows loopback buffers
    every time)."""
    url, auth = openai_servers["a"]["url"], {"Authorization": f"Bearer {KEY}"}
    big = json.dumps({**SPEAK, "input": "a" * (16 << 20)}).encode()
    code, answer = _post(url, big, auth)  # refused on its Content-Length
    assert code == 413 and "limit is 65,536" in answer["error"]["message"]
    chunked = iter([b'{"input": "' + b"a" * (1 << 20)] + [b"a" * (1 << 20)] * 15)
    code, answer = _post(url, chunked, {**auth, "Transfer-Encoding": "chunked"})  # no length: refused while reading
    assert code == 413 and "over 65,536 bytes" in answer["error"]["message"]
    code, answer = _post(url, big, {})  # refused before the body is looked at
    assert code == 401 and answer["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.APIStatusError, match="limit is 20,971,520") as too_big:
        a.audio.voices.create(audio_sample=("big.wav", b"\0" * (24 << 20), "audio/wav"), consent="true", name="me")
    assert too_big.value.status_code == 413

def _reference_wav() -> bytes:
    sr = 24_000
    t = np.arange(3 * sr) / sr
    tone = 0.25 * sum(np.sin(2 * np.pi * 190 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    buffer = io.BytesIO()
    sf.write(buffer, tone.astype(np.float32), sr, format="WAV")
    return buffer.getvalue()


def test_pocket_voice_upload_speech_and_delete(a):
    with pytest.raises(openai.BadRequestError, match="'consent' must be 'true'"):
        a.audio.voices.create(audio_sample=("ref.wav", _reference_wav(), "audio/wav"), consent="cons_123", name="me")
    with pytest.raises(openai.BadRequestError, match="at least 2 s"):
        a.audio.voices.create(audio_sample=("ref.wav", _reference_wav()[:30_000], "audio/wav"), consent="true", name="me")
    voice = a.audio.voices.create(audio_sample=("ref.wav", _reference_wav(), "audio/wav"), consent="true", name="me")
    assert voice.object == "audio.voice" and voice.id.startswith("voice_") and voice.name == "me"
    data = a.audio.speech.create(model="pocket-tts", input="Hi.", voice={"id": voice.id}, response_format="wav",
                                 extra_body={"seed": 3}).content
    wave, rate = sf.read(io.BytesIO(data))
    assert rate == 24_000 and len(wave) > 0
    assert a.audio.voices.delete(voice.id).deleted
    with pytest.raises(openai.NotFoundError, match="Unknown voice"):
        a.audio.speech.create(model="pocket-tts", input="Hi.", voice={"id": voice.id})
