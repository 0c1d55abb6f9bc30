"""One result of every tab, made through the real endpoints of a `--tiny` server whose outputs dir
lies on a separate directory standing in for a Space's /data volume, then the server restarted."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from serving import patient_client, start_server, stop_server

# The inputs each tab records (the contract "Reuse settings" reads).
TAB_INPUTS = {
    "voice_voxtral": {"text", "voice", "seed", "cfg_alpha", "euler_steps", "max_seconds", "format"},
    "voice_clone": {"text", "reference_audio", "seed", "format"},
    "video": {"prompt", "mode", "image", "video", "num_frames", "variant", "seed", "resolution", "steps",
              "guidance_scale", "amplify_first_chunk", "use_zero_init"},
    "agent_frame": {"frame", "seed"},
    "agent_video": {"video", "stride", "max_frames", "seed"},
}


def write_media(folder: Path) -> dict[str, Path]:
    from shared.io.media import write_video

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    sr = 44_100
    t = np.arange(3 * sr) / sr
    tone = 0.25 * sum(np.sin(2 * np.pi * 190 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    sf.write(folder / "reference.wav", tone.astype(np.float32), sr)
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(folder / "first.png")
    Image.fromarray(rng.integers(0, 255, (72, 128, 3), dtype=np.uint8)).save(folder / "shot.png")
    write_video(folder / "clip.mp4", [rng.integers(0, 255, (64, 96, 3), dtype=np.uint8) for _ in range(12)], 24)
    return {"reference": folder / "reference.wav", "image": folder / "first.png", "shot": folder / "shot.png",
            "clip": folder / "clip.mp4"}


def make_one_of_each(client, media: dict[str, Path]) -> dict[str, dict]:
    """demo -> the info/answer of one real run of each tab's endpoint."""
    from gradio_client import handle_file

    made = {}
    _, made["voice_voxtral"] = client.predict(text="Kept across restarts.", voice="fr_female", seed=11, cfg_alpha=1.5,
                                              euler_steps=5, max_seconds=1.0, api_name="/tts")
    _, made["voice_clone"] = client.predict(text="A cloned voice, kept.", reference_audio=handle_file(str(media["reference"])),
                                            seed=21, api_name="/clone_voice")
    _, made["video"] = client.predict(prompt="a red fox in the snow", mode="i2v", image=handle_file(str(media["image"])),
                                      video=None, num_frames=33, variant="distilled", seed=5, api_name="/video")
    made["agent_frame"] = client.predict(frame=handle_file(str(media["shot"])), api_name="/agent_frame")
    video, plot, actions = client.predict(video=handle_file(str(media["clip"])), stride=4, api_name="/agent_video")
    made["agent_video"] = {"video": video, "plot": plot, "actions": actions}
    return made


@pytest.fixture(scope="session")
def restarted_server(tmp_path_factory):
    """(url, outputs dir, {demo: item id}) of a server started a second time on the same outputs dir."""

    tmp = tmp_path_factory.mktemp("history-restart")
    outputs = tmp / "mnt" / "release-hub" / "outputs"  # a separate "volume", not the default ./outputs
    media = write_media(tmp / "media")
    process, url, _ = start_server(tmp, "--outputs-dir", str(outputs))
    try:
        client = patient_client(url)
        made = make_one_of_each(client, media)
        before = client.predict(page_size=100, api_name="/history")
    finally:
        stop_server(process)
    process, url, log = start_server(tmp, "--outputs-dir", str(outputs))
    try:
        yield {"url": url, "outputs": outputs, "before": before, "made": made, "media": media, "log": log}
    finally:
        stop_server(process)
