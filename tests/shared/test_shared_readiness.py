"""The before-download line: weights on disk? what to expect of the active profile's plan here?"""
import pytest

from demos.registry import load_demos
from shared.models.hardware import HardwareInfo
from shared.models.readiness import readiness_line, shortfall
from shared.web.settings import Settings

SMALL_CPU_BOX = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0.0, vram_free_gb=0.0,
                             ram_total_gb=23.5, ram_available_gb=20.0, zerogpu=False)
BIG_GPU_BOX = HardwareInfo(cuda=True, device_name="H100", vram_total_gb=80.0, vram_free_gb=79.0,
                           ram_total_gb=256.0, ram_available_gb=240.0, zerogpu=False)


def test_tiny_source_and_a_plan_that_fits(tmp_path):
    load_demos()
    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp_path)])
    line = readiness_line("nitrogen", settings, "cpu", BIG_GPU_BOX)
    assert "tiny random test weights" in line and "with the real weights: about 1.8 s per action chunk" in line, line


def test_missing_weights_and_a_plan_too_big_for_the_machine_names_one_that_fits(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # an empty cache
    load_demos()
    settings = Settings.from_args(["--cache-dir", str(tmp_path)])
    line = readiness_line("voxtral", settings, "16gb", SMALL_CPU_BOX)
    assert "not downloaded yet" in line and "mistralai/Voxtral-4B-TTS-2603" in line, line
    assert "does not fit this machine" in line and "GPU memory (this machine: no CUDA GPU)" in line, line
    assert "--profile cpu" in line, line


def test_shortfall_counts_host_ram_too():
    from demos.voice.plans import MEASURED_CPU_PEAK_RSS_GB, plan
    from shared.models.profiles import host_ram_needed

    assert shortfall(plan("cpu", SMALL_CPU_BOX), SMALL_CPU_BOX) is None
    tiny_ram = HardwareInfo(False, "cpu", 0.0, 0.0, 4.0, 3.0, False)
    needed = host_ram_needed(MEASURED_CPU_PEAK_RSS_GB["bfloat16"])  # even bf16 does not fit 4 GB
    assert f"{needed:g} GB of host RAM (this machine: 4.0 GB)" in shortfall(plan("cpu", tiny_ram), tiny_ram)


@pytest.mark.parametrize("key, expected", [
    ("helios-distilled", "the first run downloads about 40.5 GB from `BestWishYsh/Helios-Distilled`"),
    # Pocket TTS needs its codec repo too: both are named, with the size of both.
    ("pocket", "about 0.5 GB from `eustlb/pocket-tts`, `eustlb/pocket-tts-audio-tokenizer`"),
])
def test_missing_weights_line_states_the_download_size_and_every_repo(tmp_path, monkeypatch, key, expected):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    load_demos()
    settings = Settings.from_args(["--cache-dir", str(tmp_path)])
    line = readiness_line(key, settings, "cpu", BIG_GPU_BOX)
    assert expected in line, line


def test_a_model_in_the_cache_but_not_its_codec_lists_only_the_codec(tmp_path, monkeypatch):
    """A real Hugging Face cache layout (refs + snapshot) holding the model repo but not the codec."""
    cache = tmp_path / "hub"
    repo_dir = cache / "models--eustlb--pocket-tts"
    commit = "0" * 40
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    (repo_dir / "snapshots" / commit).mkdir(parents=True)
    (repo_dir / "snapshots" / commit / "config.json").write_text("{}")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    load_demos()
    settings = Settings.from_args(["--cache-dir", str(tmp_path)])
    line = readiness_line("pocket", settings, "cpu", BIG_GPU_BOX)
    assert "downloads `eustlb/pocket-tts-audio-tokenizer`" in line and "`eustlb/pocket-tts`," not in line, line
