"""No endpoint opens a file that was not uploaded to this app, however the payload names it.

Every file input of every named endpoint (found from the app's own /config, so
a new one is covered without editing this list) gets server paths spelled in
every shape Gradio hands a handler: without `meta`, with `meta`, a bare string,
a symlink inside the upload folder pointing out, a `..` path, a directory, a
URL. Each answer must be the same refusal naming the parameter, whether or not
the target exists. A real upload still works.
"""
from __future__ import annotations

import json
import urllib.request
import uuid

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

from shared.io.uploads import NOT_UPLOADED

import raw_api
from serving import patient_client

FILE_TYPES = {"image", "video", "audio", "file"}
META = {"_type": "gradio.FileData"}


def file_inputs(base: str) -> list[tuple[str, str]]:
    """(api_name, parameter) for every file input of every named endpoint."""
    config, info = raw_api._config(base)
    components = {c["id"]: c for c in config["components"]}
    found = []
    for dependency in config["dependencies"]:
        api_name = dependency.get("api_name")
        if f"/{api_name}" not in info["named_endpoints"]:
            continue  # not callable over the API (private, or Gradio's own example loaders)
        for slot, component_id in zip(raw_api.layout(base, api_name), dependency["inputs"]):
            if slot and components[component_id]["type"] in FILE_TYPES:
                found.append((api_name, slot))
    return found


def required_text(base: str, api_name: str) -> dict:
    """Plain values for the parameters without a default (text and prompts)."""
    info = raw_api._config(base)[1]["named_endpoints"][f"/{api_name}"]["parameters"]
    return {p["parameter_name"]: "Hello there." for p in info
            if not p["parameter_has_default"] and p["component"] == "Textbox"}


@pytest.fixture(scope="module")
def places(tmp_path_factory, tiny_server_dirs) -> dict:
    outside = tmp_path_factory.mktemp("outside-uploads")
    image = outside / "secret.png"
    Image.new("RGB", (64, 48), "red").save(image)
    uploads = tiny_server_dirs["uploads"]
    uploads.mkdir(parents=True, exist_ok=True)
    trap = uploads / f"trap-{uuid.uuid4().hex}"
    trap.mkdir()
    (trap / "link.png").symlink_to(image)
    (trap / "gone.png").symlink_to(outside / "missing.png")
    (trap / "up").symlink_to(outside)
    dotdot = f"{uploads}/{'../' * 12}{str(image).lstrip('/')}"
    return {"outside": outside, "image": image, "uploads": uploads, "trap": trap, "dotdot": dotdot}


def bad_payloads(p: dict) -> dict[str, object]:
    missing = p["outside"] / "missing.png"
    return {
        "no-meta": {"path": str(p["image"])},
        "no-meta-missing": {"path": str(missing)},
        "meta": {"path": str(p["image"]), "meta": META},
        "meta-missing": {"path": str(missing), "meta": META},
        "system-file": {"path": "/etc/passwd", "meta": META},
        "bare-string": str(p["image"]),
        "bare-string-missing": str(missing),
        "video-shape": {"video": {"path": str(p["image"]), "meta": META}, "subtitles": None},
        "symlink-out": {"path": str(p["trap"] / "link.png"), "meta": META},
        "symlink-out-no-meta": {"path": str(p["trap"] / "link.png")},
        "symlink-out-missing": {"path": str(p["trap"] / "gone.png"), "meta": META},
        "symlinked-dir-out": {"path": str(p["trap"] / "up" / "secret.png"), "meta": META},
        "dotdot": {"path": p["dotdot"], "meta": META},
        "dotdot-missing": {"path": p["dotdot"].replace("secret.png", "missing.png"), "meta": META},
        "dotdot-inside": {"path": f"{p['trap']}/../{p['trap'].name}/link.png", "meta": META},
        "relative": {"path": "../" * 12 + str(p["image"]).lstrip("/"), "meta": META},
        "dir-upload-folder": {"path": str(p["uploads"]), "meta": META},
        "dir-inside": {"path": str(p["trap"]), "meta": META},
        "dir-outside": {"path": str(p["outside"]), "meta": META},
        "url": {"url": "http://127.0.0.1:1/secret.png", "meta": META},
        "nul-byte": {"path": str(p["image"]) + "\x00.png", "meta": META},
    }


def test_every_file_input_refuses_every_server_path(tiny_server, tiny_server_dirs, places):
    inputs = file_inputs(tiny_server)
    # The endpoints of DESIGN.md that take files must all be found.
    assert {("video", "image"), ("video", "video"), ("video_stream", "image"), ("video_stream", "video"),
            ("agent_frame", "frame"), ("agent_video", "video"), ("clone_voice", "reference_audio"),
            ("clone_voice_stream", "reference_audio")} <= set(inputs), inputs
    log_start = tiny_server_dirs["log"].stat().st_size
    failures = []
    for api_name, param in inputs:
        expected = NOT_UPLOADED.format(param=param)
        for case, payload in bad_payloads(places).items():
            answer = raw_api.call(tiny_server, api_name, {**required_text(tiny_server, api_name), param: payload})
            if (answer.kind, answer.data) != ("error", expected):
                failures.append(f"/{api_name} {param} {case}: {answer.kind} {answer.message[:300]}")
    assert failures == [], "\n".join(failures)
    log = tiny_server_dirs["log"].read_text()[log_start:]
    assert "Traceback" not in log
    assert raw_api.call(tiny_server, "status", {}).kind == "complete"


def test_a_real_upload_still_works(tiny_server, tmp_path):
    client = patient_client(tiny_server)
    png = tmp_path / "frame.png"
    Image.new("RGB", (80, 60), "blue").save(png)
    actions = client.predict(frame=handle_file(str(png)), api_name="/agent_frame")
    assert actions["info"]["input_size"] == [80, 60]
    wav = tmp_path / "voice.wav"
    t = np.arange(3 * 24000) / 24000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24000)
    audio, info = client.predict(text="Hello.", reference_audio=handle_file(str(wav)), seed=3,
                                 api_name="/clone_voice")
    assert info["seed"] == 3 and info["reference_seconds"] > 2


def test_an_upload_named_without_meta_is_accepted(tiny_server, tmp_path):
    """A raw HTTP client that uploads, then passes the returned path as a string or a dict without meta."""
    png = tmp_path / "raw.png"
    Image.new("RGB", (72, 40), "green").save(png)
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"raw.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(tiny_server + "gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        uploaded = json.loads(response.read())[0]
    for payload in (uploaded, {"path": uploaded}):
        answer = raw_api.call(tiny_server, "agent_frame", {"frame": payload})
        assert answer.kind == "complete", answer.message
        assert answer.data[0]["info"]["input_size"] == [72, 40]
