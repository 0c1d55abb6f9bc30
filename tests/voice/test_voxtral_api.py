"""`/tts` and `/tts_stream` through gradio_client against the `release-hub --tiny`
server, bad inputs, and one browser run of the Voice tab."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client.exceptions import AppError


def test_tts_returns_file_and_info(client, tiny_server_dirs):
    path, info = client.predict(
        text="Hello from the tiny app.", voice="fr_female", seed=7, max_seconds=1.2, api_name="/tts"
    )
    wave, sr = sf.read(path)
    assert sr == 24_000 and wave.ndim == 1
    assert 0 < len(wave) <= int(1.2 * 12.5) * 1920 and len(wave) % 1920 == 0
    assert info["seed"] == 7 and info["model"] == "voxtral" and info["source"]["kind"] == "tiny"
    assert info["voice"] == "fr_female" and info["profile"]
    assert {"load_s", "generate_s", "total_s"} <= set(info["timings"])
    assert info["time_to_first_audio_s"] > 0 and info["real_time_factor"] > 0
    assert info["stop_reason"] in ("end_audio", "max_duration", "segment_budget")
    assert "CC BY-NC 4.0" in info["licence"]
    saved = tiny_server_dirs["outputs"] / "voice_voxtral" / info["file"]
    assert saved.exists()
    sidecar = json.loads(saved.with_suffix(".json").read_text())
    assert sidecar["schema_version"] == 1 and sidecar["info"]["seed"] == 7 and sidecar["inputs"]["voice"] == "fr_female"
    # Same seed, same audio.
    again, _ = client.predict(
        text="Hello from the tiny app.", voice="fr_female", seed=7, max_seconds=1.2, api_name="/tts"
    )
    assert np.array_equal(sf.read(again)[0], wave)


def test_tts_random_seed_is_reported(client):
    _, info = client.predict(text="Hi.", voice="neutral_male", seed=-1, max_seconds=0.4, api_name="/tts")
    assert isinstance(info["seed"], int) and info["seed"] >= 0


def test_tts_stream_yields_chunks_then_file(client):
    job = client.submit(
        text="Streaming works. It comes in chunks.", voice="de_male", seed=3, max_seconds=3.0, api_name="/tts_stream"
    )
    outputs = list(job)
    assert len(outputs) >= 3  # first chunk (5 frames), more chunks, final file + info
    final = job.result()
    _player, download, summary, info = final
    wave, sr = sf.read(download)
    assert sr == 24_000 and len(wave) == info["frames"] * 1920
    assert info["seed"] == 3 and "First audio after" in summary
    chunks = [out for out in outputs[:-1] if out[0]]
    assert len(chunks) >= 2


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(text=""), "text is empty"),
        (dict(text="x" * 2001), "text is 2,001 characters; the limit is 2,000"),
        (dict(text="?!... *** 🙂"), "no speakable characters"),
        # The same specs the sliders and the dropdown are built from (demos/voice/limits.py).
        (dict(text="Hello", voice="klingon"), "voice is 'klingon'; choose one of: .*neutral_female"),
        (dict(text="Hello", max_seconds=100000),
         "max_seconds is 100000; it must be a number from 0 to 60 s \\(the limit on profile 'cpu'\\)"),
    ],
)
def test_bad_input_is_a_clear_error(client, kwargs, message):
    args = dict(voice="neutral_female", seed=1, max_seconds=0.4) | kwargs
    with pytest.raises(AppError, match=message):
        client.predict(**args, api_name="/tts")


def test_bad_input_on_the_stream_then_server_still_answers(client):
    with pytest.raises(AppError, match="text is empty"):
        client.submit(text="  ", voice="neutral_female", seed=1, api_name="/tts_stream").result()
    path, info = client.predict(text="Still here.", voice="it_male", seed=2, max_seconds=0.4, api_name="/tts")
    assert Path(path).exists() and info["seed"] == 2


def test_voice_tab_in_the_browser(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.locator("#tts-text textarea").fill("Hello from the browser.")
    page.locator("#tts-counter").get_by_text("23 / 2,000 characters").wait_for(timeout=10_000)
    page.locator("#tts-advanced").get_by_text("Advanced").click()
    max_box = page.locator("#tts-max-seconds input[type=number]")
    max_box.fill("1")
    max_box.press("Enter")
    page.locator("#tts-seed input").fill("5")
    page.locator("#tts-run").click()
    summary = page.locator("#tts-summary")
    summary.get_by_text("First audio after").wait_for(timeout=120_000)
    text = summary.inner_text()
    # The speed in words ("3.1× slower than real time"), not as a bare real-time factor.
    assert "real time" in text and "real-time factor" not in text and "seed 5" in text
    assert page.locator("#tts-download a").count() >= 1
    assert "CC BY-NC 4.0" in page.locator("#tts-licence-line").inner_text()
