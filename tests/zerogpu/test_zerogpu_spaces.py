"""Every endpoint under the real `spaces` package in ZeroGPU mode, on this CPU machine.

`release-hub --tiny` runs through `launch_zerogpu_app.py`: spaces' own code
does the CUDA emulation in the main process, packs the preloaded models at
launch, forks the GPU worker, pickles arguments / yields / results, runs the
stop-event protocol and forwards the visitor's X-IP-Token; only the calls
that need a CUDA device are shimmed (see that file). The device API is the
loopback stand-in, which records what spaces sent it.
"""
from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import av
import numpy as np
import psutil
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

from serving import patient_client, start_server, stop_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from device_api_standin import DeviceAPIStandIn  # noqa: E402

PRELOADED = {"voxtral", "pocket", "helios-distilled", "nitrogen"}
VIDEO = dict(prompt="a slow pan over a harbour", mode="t2v", variant="distilled")


def ip_token(user: str) -> str:
    """A JWT-shaped X-IP-Token as the Hub's proxy sends one (spaces reads only its payload)."""
    payload = base64.urlsafe_b64encode(json.dumps({"user": user, "exp": 4102444800}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{payload}.sig"


@pytest.fixture(scope="module")
def zerogpu(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zerogpu")
    with DeviceAPIStandIn() as api:
        env = {
            "SPACES_ZERO_GPU": "true",
            "SPACES_ZERO_DEVICE_API_URL": api.url,
            "ZEROGPU_OFFLOAD_DIR": str(tmp / "zerogpu-tensors"),
            # spaces deletes Hub-cache files it packed; nothing of ours may match.
            "ZEROGPU_MMAP_AUTOPRUNE_PATTERN": str(tmp / "no-such-dir" / "*"),
            "GRADIO_TEMP_DIR": str(tmp / "uploads"),
            # The draft size the local CPU tests use: the "GPU" here is this CPU.
            "RELEASE_HUB_VIDEO_RESOLUTION": "192x320",
        }
        process, url, log = start_server(tmp, env_extra=env, entry=(str(HERE / "launch_zerogpu_app.py"),),
                                         timeout=600)
        token = ip_token("visitor-1")
        client = patient_client(url, headers={"X-IP-Token": token})
        try:
            yield {"api": api, "url": url, "client": client, "token": token, "pid": process.pid, "tmp": tmp,
                   "log": log}
        finally:
            stop_server(process)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("zerogpu-media")
    rng = np.random.default_rng(0)
    png = d / "frame.png"
    Image.fromarray(rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)).save(png)
    mp4 = d / "clip.mp4"
    with av.open(str(mp4), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(40):
            img = np.zeros((64, 96, 3), np.uint8)
            img[:, : (i * 7) % 96] = (40 + 5 * i) % 256
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    sr = 24_000
    t = np.arange(3 * sr) / sr
    tone = 0.25 * sum(np.sin(2 * np.pi * 190 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    wav = d / "reference.wav"
    sf.write(wav, tone.astype(np.float32), sr)
    return {"png": png, "mp4": mp4, "wav": wav}


def _schedules_since(api, n: int):
    return api.of("/schedule")[n:]


def test_models_are_preloaded_in_the_main_process_and_packed(zerogpu):
    status = zerogpu["client"].predict(api_name="/status")
    assert status["profile"] == "zerogpu"
    resident = {m["key"]: m for m in status["resident_models"]}
    assert PRELOADED <= set(resident)
    assert {m["loaded_in_pid"] for m in resident.values()} == {zerogpu["pid"]}
    report = status["zerogpu"]
    assert {m["key"] for m in report["preloaded"]} == PRELOADED
    helios = next(m for m in report["preloaded"] if m["key"] == "helios-distilled")
    assert "float8_e4m3fn" in helios["gb_by_dtype"]  # transformer stored as fp8
    assert report["packed_gb"] > 0 and report["gpu_size"] == "large"
    assert zerogpu["api"].of("/startup-report"), "spaces did not report start-up to the device API"


def test_tts_and_stream_through_the_worker(zerogpu):
    client, api = zerogpu["client"], zerogpu["api"]
    before = len(api.of("/schedule"))
    path, info = client.predict(text="Hello from ZeroGPU.", voice="fr_female", seed=7, max_seconds=1.2,
                                api_name="/tts")
    wave, sr = sf.read(path)
    assert sr == 24_000 and 0 < len(wave) <= int(1.2 * 12.5) * 1920 and len(wave) % 1920 == 0
    assert info["seed"] == 7 and info["profile"] == "zerogpu" and info["audio_seconds"] > 0
    again, _ = client.predict(text="Hello from ZeroGPU.", voice="fr_female", seed=7, max_seconds=1.2,
                              api_name="/tts")
    assert np.array_equal(sf.read(again)[0], wave)  # same seed, same audio, across worker calls
    job = client.submit(text="Streaming works. It comes in chunks.", voice="de_male", seed=3, max_seconds=3.0,
                        api_name="/tts_stream")
    outputs = list(job)
    _player, download, summary, info = job.result()
    streamed, sr = sf.read(download)
    assert len(outputs) >= 3 and len(streamed) == info["frames"] * 1920 and "First audio after" in summary
    # Each call held the GPU through spaces, for the duration estimated from its own arguments
    # (30 s + 0.2 s per second of audio allowed: max_seconds 1.2, 1.2 and 3.0).
    assert [c.params["durationSeconds"] for c in _schedules_since(api, before)] == ["30", "30", "31"]


def test_clone_voice_and_stream_through_the_worker(zerogpu, media):
    client = zerogpu["client"]
    path, info = client.predict(text="Hello in a cloned voice.", reference_audio=handle_file(str(media["wav"])),
                                seed=21, api_name="/clone_voice")
    wave, sr = sf.read(path)
    assert sr == 24_000 and len(wave) > 0 and info["model"] == "pocket" and not info["cancelled"]
    job = client.submit(text="Streaming. In two pieces.", reference_audio=handle_file(str(media["wav"])), seed=2,
                        api_name="/clone_voice_stream")
    list(job)
    _player, download, info = job.result()
    assert sf.read(download)[0].size > 0 and info["seed"] == 2


def test_video_and_stream_through_the_worker(zerogpu, media):
    client = zerogpu["client"]
    path, info = client.predict(**VIDEO, image=None, video=None, num_frames=33, seed=5, api_name="/video")
    with av.open(path) as container:
        assert sum(1 for _ in container.decode(video=0)) == 33
    assert info["frames"] == 33 and info["profile"] == "zerogpu" and info["engine"]["pipeline"]
    path, info = client.predict(**{**VIDEO, "mode": "i2v"}, image=handle_file(str(media["png"])), video=None,
                                num_frames=33, seed=6, api_name="/video")
    assert info["mode"] == "i2v" and info["frames"] == 33
    job = client.submit(**VIDEO, image=None, video=None, num_frames=66, seed=8, api_name="/video_stream")
    real = [o for o in job if isinstance(o, (list, tuple)) and isinstance(o[1], dict) and "__type__" not in o[1]]
    assert [o[1]["chunk"] for o in real if o[1].get("partial")] == [1, 2]
    assert real[-1][1]["frames"] == 65 and real[-1][1]["chunks_done"] == 2


def test_agent_frame_and_video_through_the_worker(zerogpu, media):
    client = zerogpu["client"]
    actions = client.predict(frame=handle_file(str(media["png"])), api_name="/agent_frame")
    assert np.array(actions["buttons"]).shape == (18, 21) and actions["info"]["profile"] == "zerogpu"
    video, plot, actions_file = client.predict(video=handle_file(str(media["mp4"])), stride=8,
                                               api_name="/agent_video")
    payload = json.loads(Path(actions_file).read_text())
    assert [c["frame_index"] for c in payload["chunks"]] == [0, 8, 16, 24, 32]
    with av.open(video) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5


def test_every_task_carried_the_visitors_token_and_ran_in_a_forked_worker(zerogpu):
    api = zerogpu["api"]
    schedules = api.of("/schedule")
    assert len(schedules) >= 10
    assert all(call.params.get("token") == zerogpu["token"] for call in schedules)
    worker_pids = {int(call.params["pid"]) for call in api.of("/allow")}
    assert worker_pids and zerogpu["pid"] not in worker_pids
    assert all(psutil.Process(pid).ppid() == zerogpu["pid"] for pid in worker_pids if psutil.pid_exists(pid))
    # No model was loaded in a worker: everything resident still comes from the main process.
    status = zerogpu["client"].predict(api_name="/status")
    assert {m["loaded_in_pid"] for m in status["resident_models"]} == {zerogpu["pid"]}


def test_cancelling_a_video_stream_stops_the_worker(zerogpu):
    client, api = zerogpu["client"], zerogpu["api"]
    released_before = len(api.of("/release"))
    job = client.submit(**VIDEO, image=None, video=None, num_frames=132, seed=11, api_name="/video_stream")
    deadline = time.time() + 300
    real = []
    while time.time() < deadline and not real:
        real = [o for o in job.outputs() if isinstance(o, (list, tuple)) and isinstance(o[1], dict)
                and o[1].get("partial")]
        time.sleep(0.2)
    assert real, "no chunk arrived"
    job.cancel()
    # Closing the stream makes spaces set the worker's stop event; the task ends and the GPU is released.
    assert api.wait_for(lambda a: len(a.of("/release")) > released_before, timeout=120), "GPU never released"
    worker = psutil.Process(int(api.of("/allow")[-1].params["pid"]))
    before = sum(worker.cpu_times()[:2])
    time.sleep(3.0)
    assert sum(worker.cpu_times()[:2]) - before < 1.0  # four chunks would keep a core busy far longer
    path, info = client.predict(**VIDEO, image=None, video=None, num_frames=33, seed=12, api_name="/video")
    assert info["chunks_done"] == 1 and not info["cancelled"]


def test_unload_is_refused_and_unpreloaded_variants_say_why(zerogpu):
    client = zerogpu["client"]
    with pytest.raises(Exception) as refused:
        client.predict("", api_name="/unload")
    assert "preloaded" in str(refused.value)
    with pytest.raises(Exception) as missing:
        client.predict(**{**VIDEO, "variant": "mid"}, image=None, video=None, num_frames=33, seed=1,
                       api_name="/video")
    assert "not preloaded" in str(missing.value) and "RELEASE_HUB_ZEROGPU_VARIANTS" in str(missing.value)


def test_a_browser_visitors_token_reaches_spaces(zerogpu, browser_page):
    """The Hub's proxy adds X-IP-Token to a visitor's requests; the Voice tab's Speak must hand it to spaces."""
    api, page = zerogpu["api"], browser_page
    token = ip_token("browser-visitor")
    page.set_extra_http_headers({"X-IP-Token": token})
    before = len(api.of("/schedule"))
    page.goto(zerogpu["url"])
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.locator("#tts-text textarea").fill("Hello from a browser on ZeroGPU.")
    page.locator("#tts-run").click()
    page.locator("#tts-summary").get_by_text("First audio after").wait_for(timeout=180_000)
    shots = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "zerogpu-voice.png"), full_page=True)
    new = api.of("/schedule")[before:]
    assert new and all(call.params.get("token") == token for call in new)
