"""Faults while serving: a simulated CUDA OOM inside an engine and a corrupt
checkpoint. Each gives a clear message, and the app keeps serving."""
import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

from serving import patient_client, start_server, stop_server


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faulty")
    corrupt = tmp / "corrupt-nitrogen"
    corrupt.mkdir()
    (corrupt / "ng.pt").write_bytes(b"PK\x03\x04 this is a truncated checkpoint")
    env = {"RELEASE_HUB_FAULTS": "oom:pocket:1", "RELEASE_HUB_SOURCE_NITROGEN": str(corrupt)}
    process, url, log_path = start_server(tmp, env_extra=env)
    yield url, tmp
    stop_server(process)


def speechlike_wav(path, seconds=3.0, sr=44100):
    t = np.arange(int(seconds * sr)) / sr
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)  # syllable-rate amplitude changes
    wave = envelope * sum(np.sin(2 * np.pi * f * t) / (i + 1) for i, f in enumerate((140, 280, 420, 1100)))
    sf.write(path, (0.3 * wave / np.abs(wave).max()).astype(np.float32), sr)
    return path


def test_out_of_memory_is_reported_and_the_next_request_succeeds(faulty_server):
    url, tmp = faulty_server
    client = patient_client(url)
    reference = handle_file(str(speechlike_wav(tmp / "ref.wav")))
    with pytest.raises(Exception) as info:
        client.predict(text="Hello there.", reference_audio=reference, seed=1, api_name="/clone_voice")
    message = str(info.value)
    assert "Out of GPU memory" in message and "shorter input" in message
    audio, details = client.predict(text="Hello there.", reference_audio=reference, seed=1, api_name="/clone_voice")
    data, sr = sf.read(audio)
    assert sr == 24000 and len(data) > 0
    assert details["seed"] == 1


def test_corrupt_checkpoint_names_the_file_and_other_tabs_keep_serving(faulty_server):
    url, tmp = faulty_server
    client = patient_client(url)
    frame = tmp / "frame.png"
    Image.new("RGB", (320, 240), "green").save(frame)
    with pytest.raises(Exception) as info:
        client.predict(frame=handle_file(str(frame)), api_name="/agent_frame")
    message = str(info.value)
    assert "ng.pt" in message and "nitrogen" in message
    assert "Traceback" not in message
    status = client.predict(api_name="/status")
    assert status["placement_plans"]["nitrogen"]["source"]["kind"] == "local"
    audio, _ = client.predict(text="Still here.", reference_audio=handle_file(str(speechlike_wav(tmp / "r2.wav"))),
                              seed=2, api_name="/clone_voice")
    assert sf.read(audio)[0].size > 0
