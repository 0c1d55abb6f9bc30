"""Every endpoint against the same catalogue of bad input, through real HTTP.

Each case must end in a clear error (the message names the problem, never a
traceback) within the request, and the server must answer the next request.
"""
import math
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

import raw_api
from raw_api import upload

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


# ---------------------------------------------------------------------------
# The battery: every parameter of every endpoint, raw HTTP payloads (any JSON
# type, NaN and Infinity included), as a client other than gradio_client sends
# them. Each answer must be our message naming the parameter, with no
# traceback, library text or object reprs, and /status must answer after each.
NAN, INF = float("nan"), float("inf")
LEAKS = re.compile(r"Traceback|object at 0x|validation error|pydantic|Could not preprocess|Something went wrong|"
                   r"__round__|TypeError|KeyError|AttributeError|Cannot move|gradio\.|errors\.pydantic")
BAD_TEXT = [None, "", " \n\t ", "\u200b\u200b\u2060", "\ufeff", 7, 1.5, True, {"a": 1}, ["Hello"], MB_TEXT]
BAD_SEED = ["abc", NAN, INF, 3.5, 2**64, True, {"a": 1}, [1]]
BAD_FILE = [7, 1.5, True, ["x.png"], {"path": 7}, {"url": "http://127.0.0.1:1/x.png"}]
# (endpoint, parameter, bad values, values that make every other parameter valid)
BATTERY = [
    *[(api, "text", BAD_TEXT, {}) for api in ("tts", "tts_stream")],
    *[(api, "voice", ["klingon", "x" * 1_000_000, 5, None, ["neutral_female"]], {"text": "Hello."})
      for api in ("tts", "tts_stream")],
    *[(api, "seed", BAD_SEED, {"text": "Hello."}) for api in ("tts", "tts_stream")],
    *[(api, "cfg_alpha", [NAN, INF, -INF, -0.5, 3.5, "abc", True, {"a": 1}], {"text": "Hello."})
      for api in ("tts", "tts_stream")],
    *[(api, "euler_steps", [NAN, 0, 17, -3, "abc", False, [7]], {"text": "Hello."}) for api in ("tts", "tts_stream")],
    *[(api, "max_seconds", [NAN, INF, -1, 1e9, "abc", True], {"text": "Hello."}) for api in ("tts", "tts_stream")],
    *[(api, "text", BAD_TEXT, {"reference_audio": "VALID_WAV"}) for api in ("clone_voice", "clone_voice_stream")],
    *[(api, "reference_audio", [None, *BAD_FILE], {"text": "Hello."}) for api in ("clone_voice", "clone_voice_stream")],
    *[(api, "seed", BAD_SEED, {"text": "Hello.", "reference_audio": "VALID_WAV"})
      for api in ("clone_voice", "clone_voice_stream")],
    *[(api, "prompt", BAD_TEXT, {}) for api in ("video", "video_stream")],
    *[(api, "mode", ["zoom", 5, None, "T2V"], {"prompt": "a cat"}) for api in ("video", "video_stream")],
    *[(api, "image", BAD_FILE, {"prompt": "a cat", "mode": "i2v"}) for api in ("video", "video_stream")],
    *[(api, "image", [None], {"prompt": "a cat", "mode": "i2v"}) for api in ("video", "video_stream")],
    *[(api, "video", BAD_FILE + [None], {"prompt": "a cat", "mode": "v2v"}) for api in ("video", "video_stream")],
    *[(api, "num_frames", [0, 20, 5000, -33, NAN, INF, "abc", True, {"a": 1}], {"prompt": "a cat"})
      for api in ("video", "video_stream")],
    *[(api, "variant", ["huge", 5, None, ""], {"prompt": "a cat"}) for api in ("video", "video_stream")],
    *[(api, "seed", BAD_SEED, {"prompt": "a cat"}) for api in ("video", "video_stream")],
    ("agent_frame", "frame", [None, *BAD_FILE], {}),
    ("agent_video", "video", [None, *BAD_FILE], {}),
    ("agent_video", "stride", [0, 121, -1, NAN, INF, "abc", True, [1]], {"video": "VALID_MP4"}),
    ("unload", "key", ["nope", 5, ["voxtral"], {"a": 1}], {}),
    # History (#13) runs with Gradio's preprocessing: GuardedBlocks' control check answers these.
    ("history", "page", ["abc", NAN, INF, {"a": 1}, [1]], {}),
    ("history", "page_size", ["abc", NAN, -INF], {}),
    *[(api, "item_id", [None, 7, "../../../etc/passwd", "/etc/passwd", "x" * 1_000_000, {"a": 1}], {})
      for api in ("history_item", "history_delete", "history_favourite")],
]


@pytest.fixture(scope="module")
def uploaded(tiny_server, tmp_path_factory) -> dict:
    """Real uploads (POST /gradio_api/upload) for the file parameters a case needs valid."""
    from shared.io.media import write_video

    tmp = tmp_path_factory.mktemp("battery")
    wav = tmp / "voice.wav"
    t = np.arange(3 * 24000) / 24000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 24000)
    mp4 = write_video(tmp / "clip.mp4", [np.full((48, 64, 3), 40 * k, np.uint8) for k in range(6)], 24)
    return {"VALID_WAV": upload(tiny_server, wav), "VALID_MP4": upload(tiny_server, Path(mp4))}




def test_battery_every_parameter_of_every_endpoint(tiny_server, tiny_server_dirs, uploaded):
    log_start = tiny_server_dirs["log"].stat().st_size
    failures, calls = [], 0
    for api_name, param, bad_values, valid in BATTERY:
        others = {k: uploaded.get(v, v) if isinstance(v, str) else v for k, v in valid.items()}
        for value in bad_values:
            answer = raw_api.call(tiny_server, api_name, {**others, param: value}, timeout=300)
            calls += 1
            message = answer.message
            shown = f"/{api_name} {param}={str(value)[:40]!r}: {answer.kind} {message[:300]!r}"
            if answer.kind != "error" or not isinstance(answer.data, str):
                failures.append("not refused: " + shown)
            elif param not in message:
                failures.append("parameter not named: " + shown)
            elif LEAKS.search(message) or len(message) > 600:
                failures.append("leaks internals or echoes too much: " + shown)
            status = raw_api.call(tiny_server, "status", {})
            assert status.kind == "complete", f"/status after {shown}: {status.message[:300]}"
    assert failures == [], f"{len(failures)} of {calls} cases:\n" + "\n".join(failures)
    log = tiny_server_dirs["log"].read_text(errors="replace")[log_start:]
    assert "Traceback" not in log, log[log.index("Traceback"):][:3000]
    # Each refusal is one line of the log.
    assert log.count("Refused input:") >= calls - 2


def test_ranges_in_messages_match_the_controls(tiny_server):
    """The slider a person sees and the limit an API message states are the same numbers."""
    config = raw_api._config(tiny_server)[0]
    sliders = {c["props"].get("elem_id"): c["props"] for c in config["components"] if c["type"] == "slider"}
    for elem_id, api_name, param in (("tts-cfg", "tts", "cfg_alpha"), ("tts-steps", "tts", "euler_steps"),
                                     ("tts-max-seconds", "tts", "max_seconds"), ("video-frames", "video", "num_frames"),
                                     ("agent-video-stride", "agent_video", "stride")):
        props = sliders[elem_id]
        too_big = props["maximum"] + props.get("step", 1) * 2
        valid = {"text": "Hello.", "prompt": "a cat"}
        message = raw_api.call(tiny_server, api_name, {**valid, param: too_big}).message
        low, high = f"{props['minimum']:,g}", f"{props['maximum']:,g}"
        assert f"from {low} to {high}" in message.replace(".0 ", " "), (elem_id, props, message)


def test_every_output_and_input_has_a_real_api_name(tiny_server):
    info = raw_api._config(tiny_server)[1]["named_endpoints"]
    unnamed = [(name, r["label"]) for name, e in info.items() for r in e["returns"]
               if re.fullmatch(r"value_\d+", str(r["label"]))]
    unnamed += [(name, p["parameter_name"]) for name, e in info.items() for p in e["parameters"]
                if re.fullmatch(r"param_\d+", str(p["parameter_name"]))]
    assert unnamed == []
    assert raw_api.output_labels(tiny_server, "tts_stream")[2] == "Summary"


def test_inputs_a_mode_does_not_use_are_optional(tiny_server):
    """/video in t2v needs neither `image` nor `video` (gradio_client may leave them out)."""
    for api_name in ("video", "video_stream"):
        params = {p["parameter_name"]: p for p in
                  raw_api._config(tiny_server)[1]["named_endpoints"][f"/{api_name}"]["parameters"]}
        assert params["image"]["parameter_has_default"] and params["image"]["parameter_default"] is None
        assert params["video"]["parameter_has_default"] and params["video"]["parameter_default"] is None
        assert [n for n, p in params.items() if not p["parameter_has_default"]] == ["prompt"]


def test_a_repairable_value_is_repaired_and_said(client):
    _, info = client.predict(text="Hello.", voice="neutral_female", seed=4, euler_steps=3.4, max_seconds=0.4,
                             api_name="/tts")
    assert info["euler_steps"] == 3
    assert info["adjusted"] == {"euler_steps": "3.4 was rounded to 3 (euler_steps must be a whole number)."}


def test_raw_payload_with_too_few_inputs_names_what_is_missing(tiny_server):
    answer = raw_api.post(tiny_server, "tts", [])
    assert answer.kind == "error" and answer.data.startswith("Missing value for text"), answer.message
    answer = raw_api.call(tiny_server, "tts", {"text": "Hi.", "voice": raw_api.MISSING})  # the rest defaulted
    assert answer.kind == "complete", answer.message
    assert not math.isnan(answer.data[1]["seed"])
