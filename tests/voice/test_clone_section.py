"""The cloning section in a Blocks of its own (tiny Pocket TTS), through gradio_client and a browser.

The Voice tab embeds this same section; `test_clone_api.py` calls it through
the app's `release-hub --tiny` server.
"""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from demos.voice.cloning.reference import SAMPLE_RATE
from serving import patient_client


def voiced_tone(seconds: float, sr: int, f0: float = 200.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.25 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t))).astype(np.float32)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def section_server(tmp_path_factory):
    import gradio as gr

    from shared.models import hardware, hub
    from shared.web.settings import Settings
    from shared.web.ui import AppContext
    from demos.voice.cloning.specs import SPECS
    from demos.voice.cloning.tab_section import build_cloning_section

    for spec in SPECS:
        hub.register(spec)
    tmp = tmp_path_factory.mktemp("clone-section")
    settings = Settings(tiny=True, cache_dir=tmp / "cache", outputs_dir=tmp / "outputs")
    ctx = AppContext(settings=settings, hw=hardware.detect(), profile="cpu")
    with gr.Blocks() as demo:
        build_cloning_section(ctx)
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", tmp
    demo.close()


@pytest.fixture(scope="module")
def section_client(section_server):

    return patient_client(section_server[0])


@pytest.fixture(scope="module")
def reference_44k_stereo(tmp_path_factory) -> Path:
    sr = 44_100
    left = voiced_tone(3.0, sr)
    path = tmp_path_factory.mktemp("refs") / "reference-44k1-stereo.wav"
    sf.write(path, np.stack([left, 0.6 * left], axis=1), sr)
    return path


def _clone(client, text, reference, seed=1, api_name="/clone_voice"):
    from gradio_client import handle_file

    return client.predict(
        text=text, reference_audio=handle_file(str(reference)) if reference else None, seed=seed, api_name=api_name
    )


def test_endpoints_are_listed_with_contract_names(section_client):
    api = section_client.view_api(return_format="dict")["named_endpoints"]
    for name in ("/clone_voice", "/clone_voice_stream"):
        assert [p["parameter_name"] for p in api[name]["parameters"]] == ["text", "reference_audio", "seed"]


def test_clone_voice(section_client, section_server, reference_44k_stereo):
    path, info = _clone(section_client, "Hello world. Nice to meet you.", reference_44k_stereo, seed=11)
    wave, sr = sf.read(path)
    assert sr == SAMPLE_RATE and wave.ndim == 1 and len(wave) > 0
    assert info["seed"] == 11 and info["model"] == "pocket" and info["source"]["kind"] == "tiny"
    assert info["profile"] == "cpu" and info["timings"]["total_s"] > 0
    assert info["reference_seconds"] == pytest.approx(3.0, abs=0.1)
    # written under the outputs dir with a JSON sidecar
    outputs = section_server[1] / "outputs" / "voice_clone"
    assert (outputs / info["file"]).is_file() and (outputs / info["file"]).with_suffix(".json").is_file()
    # the same reference again: the voice comes from the cache
    _, again = _clone(section_client, "Another line.", reference_44k_stereo, seed=11)
    assert again["voice_cache"] == "hit"


def test_clone_voice_stream(section_client, reference_44k_stereo):
    from gradio_client import handle_file

    text = " ".join(f"This is sentence number {i}, long enough to be its own piece." for i in range(6))
    job = section_client.submit(
        text=text, reference_audio=handle_file(str(reference_44k_stereo)), seed=4, api_name="/clone_voice_stream"
    )
    updates = list(job)
    final = job.outputs()[-1]
    _, path, info = final
    assert info["chunks"] >= 2 and len(updates) >= 2
    wave, sr = sf.read(path)
    assert sr == SAMPLE_RATE and len(wave) / SAMPLE_RATE == pytest.approx(info["audio_seconds"], abs=1e-3)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {}
    files["silent"] = folder / "silent.wav"
    sf.write(files["silent"], np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE)
    files["short"] = folder / "short.wav"
    sf.write(files["short"], voiced_tone(1.0, SAMPLE_RATE), SAMPLE_RATE)
    files["long"] = folder / "long.wav"
    sf.write(files["long"], voiced_tone(40.0, 8_000), 8_000)
    files["not_audio"] = folder / "not-audio.wav"
    files["not_audio"].write_text("definitely not a RIFF header\n" * 100)
    files["good"] = folder / "good.wav"
    sf.write(files["good"], voiced_tone(3.0, SAMPLE_RATE), SAMPLE_RATE)
    return files


@pytest.mark.parametrize(
    "case, text, message",
    [
        ("none", "Hello.", "reference_audio: no recording was given"),
        ("silent", "Hello.", "silent"),
        ("short", "Hello.", "at least 2 s"),
        ("long", "Hello.", "limit is 30 s"),
        ("not_audio", "Hello.", "could not be read as audio"),
        ("good", "", "text is empty"),
        ("good", "x" * 1001, "limit is 1,000"),
    ],
)
def test_bad_input_is_a_clear_error_and_the_server_keeps_serving(section_client, bad_files, case, text, message):
    from gradio_client.exceptions import AppError

    reference = None if case == "none" else bad_files[case]
    with pytest.raises(AppError, match=message):
        _clone(section_client, text, reference)
    path, info = _clone(section_client, "Still here.", bad_files["good"], seed=2)
    assert Path(path).is_file() and info["seed"] == 2


def test_browser_upload_consent_and_audio(browser_page, section_server, reference_44k_stereo):
    page = browser_page
    page.goto(section_server[0])
    page.locator("#clone-reference input[type=file]").set_input_files(str(reference_44k_stereo))
    page.locator("#clone-text textarea").fill("Hello from the browser. This is a cloned voice.")
    page.locator("#clone-seed input").fill("9")
    # without consent: the button is greyed out and says why (the server's own refusal of an unticked
    # box is tested in tests/voice/test_voice_handlers.py)
    assert page.locator("#clone-run").is_disabled()
    page.locator("#clone-consent-reason").get_by_text("Tick the consent box to clone").wait_for()
    # with consent: audio comes back
    page.locator("#clone-consent input[type=checkbox]").check()
    page.locator("#clone-run").click()
    page.locator("#clone-download a").first.wait_for(timeout=120_000)
    page.locator("#clone-info-accordion").get_by_text("Details").click()  # the info JSON sits folded away
    page.locator("#clone-info").get_by_text("voice_cache").wait_for()
    assert ".wav" in page.locator("#clone-download").inner_text()
