"""Every endpoint against the same catalogue of bad input, through real HTTP.

Each case must end in a clear error (the message names the problem, never a
traceback) within the request, and the server must answer the next request.
"""
import struct

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

MB_TEXT = "word " * 210_000  # ~1 MB
LONE_SURROGATE = "caf\udce9 au lait"  # what undecodable bytes become in Python text


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bad-input")
    png = tmp / "image.png"
    Image.new("RGB", (64, 48), "red").save(png)
    wav = tmp / "voice.wav"
    t = np.arange(3 * 24000) / 24000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 24000)
    paths = {
        "png_as_wav": tmp / "png.wav", "wav_as_png": tmp / "wav.png", "wav_as_mp4": tmp / "wav.mp4",
        "truncated_png": tmp / "cut.png", "truncated_wav": tmp / "cut.wav",
        "empty_wav": tmp / "empty.wav", "empty_png": tmp / "empty.png",
    }
    paths["png_as_wav"].write_bytes(png.read_bytes())
    paths["wav_as_png"].write_bytes(wav.read_bytes())
    paths["wav_as_mp4"].write_bytes(wav.read_bytes())
    paths["truncated_png"].write_bytes(png.read_bytes()[:40])
    paths["truncated_wav"].write_bytes(wav.read_bytes()[:30])
    paths["empty_wav"].write_bytes(b"")
    paths["empty_png"].write_bytes(b"")
    # A decompression bomb: 400 megapixels that compress to a few kB.
    bomb = tmp / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb, optimize=True)
    paths["bomb_png"] = bomb
    # A WAV whose header claims ten hours of audio.
    header = bytearray(wav.read_bytes()[:44])
    ten_hours = 10 * 3600 * 24000 * 2
    header[4:8] = struct.pack("<I", 36 + ten_hours)
    header[40:44] = struct.pack("<I", ten_hours)
    (tmp / "ten-hours.wav").write_bytes(bytes(header) + b"\x00" * 48000)
    paths["ten_hours_wav"] = tmp / "ten-hours.wav"
    return {name: str(path) for name, path in paths.items()}


def expect_clear_error(client, api_name: str, **kwargs) -> str:
    with pytest.raises(Exception) as info:
        client.predict(**kwargs, api_name=api_name)
    message = str(info.value)
    assert message.strip() and "Traceback" not in message and "Something went wrong" not in message, message
    return message


# Gradio's Textbox coerces what it receives to text (a number becomes its
# digits, which is speakable), so wrong types are tested where the endpoint
# reads raw values: /video's prompt below.
TTS_TEXT_CASES = ["", "   \n\t ", MB_TEXT, "\u200b\u200b"]


@pytest.mark.parametrize("text", TTS_TEXT_CASES, ids=["empty", "whitespace", "1MB", "invisible-only"])
def test_tts_text(client, text):
    expect_clear_error(client, "/tts", text=text, voice="neutral_female", seed=1)


@pytest.mark.parametrize("case", ["png_as_wav", "truncated_wav", "empty_wav", "ten_hours_wav"])
def test_clone_voice_reference(client, files, case):
    message = expect_clear_error(client, "/clone_voice", text="Hello.", reference_audio=handle_file(files[case]), seed=1)
    assert "audio" in message.lower()


@pytest.mark.parametrize("text", ["", "  ", MB_TEXT], ids=["empty", "whitespace", "1MB"])
def test_clone_voice_text(client, files, text, tmp_path):
    t = np.arange(3 * 24000) / 24000
    sf.write(tmp_path / "ok.wav", (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 24000)
    expect_clear_error(client, "/clone_voice", text=text, reference_audio=handle_file(str(tmp_path / "ok.wav")), seed=1)


@pytest.mark.parametrize("case", ["wav_as_png", "truncated_png", "empty_png", "bomb_png"])
def test_agent_frame(client, files, case):
    message = expect_clear_error(client, "/agent_frame", frame=handle_file(files[case]))
    if case == "bomb_png":
        assert "megapixels" in message


@pytest.mark.parametrize("case", ["wav_as_mp4", "wav_as_png"])
def test_agent_video(client, files, case):
    expect_clear_error(client, "/agent_video", video=handle_file(files[case]), stride=1)


@pytest.mark.parametrize("prompt", ["", "  ", MB_TEXT, 7, {"a": 1}], ids=["empty", "whitespace", "1MB", "int", "dict"])
def test_video_prompt(client, prompt):
    expect_clear_error(client, "/video", prompt=prompt, mode="t2v", image=None, video=None, num_frames=33,
                       variant="distilled", seed=1)


@pytest.mark.parametrize("case,mode", [("bomb_png", "i2v"), ("wav_as_png", "i2v"), ("wav_as_mp4", "v2v")])
def test_video_media(client, files, case, mode):
    media = {"image": handle_file(files[case]), "video": None} if mode == "i2v" else \
        {"image": None, "video": handle_file(files[case])}
    expect_clear_error(client, "/video", prompt="a cat", mode=mode, num_frames=33, variant="distilled", seed=1,
                       **media)


def test_non_utf8_text_is_handled(client):
    # Lone surrogates cannot even be encoded as UTF-8 JSON by the client; either the
    # client refuses to send it, or the server answers with a clear error.
    with pytest.raises(Exception) as info:
        client.predict(text=LONE_SURROGATE, voice="neutral_female", seed=1, api_name="/tts")
    assert "Traceback" not in str(info.value)


def test_server_still_serves_after_all_that(client):
    assert client.predict(api_name="/status")["profile"] == "cpu"
