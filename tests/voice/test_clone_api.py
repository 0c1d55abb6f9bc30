"""`/clone_voice` through gradio_client against the app's `release-hub --tiny` server.

Needs the Voice tab to embed `build_cloning_section` (and `demos.voice.specs`
to include the cloning SPECS).
"""
from __future__ import annotations

import numpy as np
import soundfile as sf
from gradio_client import handle_file


def test_clone_voice_on_the_tiny_app(client, tmp_path):
    sr = 44_100
    t = np.arange(3 * sr) / sr
    tone = 0.25 * sum(np.sin(2 * np.pi * 190 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    reference = tmp_path / "reference.wav"
    sf.write(reference, np.stack([tone, tone], axis=1).astype(np.float32), sr)

    path, info = client.predict(
        text="Hello from the app.", reference_audio=handle_file(str(reference)), seed=21, api_name="/clone_voice"
    )
    wave, out_sr = sf.read(path)
    assert out_sr == 24_000 and wave.ndim == 1 and len(wave) > 0
    assert info["seed"] == 21 and info["model"] == "pocket" and info["source"]["kind"] == "tiny"
    assert {"profile", "timings", "voice_cache"} <= set(info)


def test_browser_clone_in_the_voice_tab(browser_page, tiny_server, tmp_path):
    """The section inside the app: Voice tab -> "Clone a voice" sub-tab, upload, consent, audio back."""
    sr = 24_000
    t = np.arange(3 * sr) / sr
    tone = 0.25 * sum(np.sin(2 * np.pi * 230 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    reference = tmp_path / "browser-reference.wav"
    sf.write(reference, tone.astype(np.float32), sr)

    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Voice", exact=True).click()
    page.get_by_role("tab", name="Clone a voice (Pocket TTS)").click()
    page.locator("#clone-reference input[type=file]").set_input_files(str(reference))
    page.locator("#clone-text textarea").fill("Hello from the Voice tab.")
    page.locator("#clone-consent input[type=checkbox]").check()
    page.locator("#clone-run").click()
    page.locator("#clone-download a").first.wait_for(timeout=120_000)
    assert ".wav" in page.locator("#clone-download").inner_text()
