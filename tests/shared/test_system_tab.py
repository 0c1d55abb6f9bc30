"""What the System tab, the readiness lines and the start-up lines say, per kind of machine: measured
speeds in words, "not measured" where nothing was measured, never "fits" for a run of hours, and a
plan table a person can read."""
from __future__ import annotations

import pytest

from demos.registry import load_demos
from shared.models import hub
from shared.models.expected_speed import duration_words, factor_words
from shared.models.hardware import HardwareInfo
from shared.models.readiness import readiness_line
from shared.models.startup_lines import model_lines, torch_build_line, torch_cuda_build
from shared.web import system_words
from shared.web.settings import Settings

CPU_BOX = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0.0, vram_free_gb=0.0,
                       ram_total_gb=23.5, ram_available_gb=20.0, zerogpu=False)
SMALL_CPU_BOX = HardwareInfo(False, "cpu", 0.0, 0.0, 8.0, 6.0, False)
GPU_BOX = HardwareInfo(cuda=True, device_name="NVIDIA H100", vram_total_gb=80.0, vram_free_gb=79.0,
                       ram_total_gb=256.0, ram_available_gb=240.0, zerogpu=False)
TABS = {"voxtral": "Voice", "pocket": "Voice", "helios-distilled": "Long video", "helios-mid": "Long video",
        "helios-base": "Long video", "nitrogen": "Game agent"}


@pytest.fixture(autouse=True)
def demos():
    load_demos()


def sentences(hw: HardwareInfo, profile: str, tiny: bool = False) -> str:
    plans = {spec.key: spec.plan(profile, hw) for spec in hub.all_specs()}
    return system_words.speed_sentences(hw, profile, plans, TABS, tiny)


def test_a_cpu_box_hears_no_gpu_and_each_tabs_measured_speed_in_words():
    text = sentences(CPU_BOX, "cpu")
    assert text.startswith("**No GPU found**: everything runs on this machine's CPU (profile `cpu`).")
    from demos.voice.plans import MEASURED_CPU_SPEED, plan

    voice = MEASURED_CPU_SPEED[plan("cpu", CPU_BOX).dtype]  # the voice demo's own measured figures
    assert (f"- **Voice** · Voxtral-4B-TTS-2603: {factor_words(voice['real_time_factor'])}, first audio after "
            f"{duration_words(voice['first_audio_s'])}.") in text, text
    assert "- **Voice** · Pocket TTS (voice cloning): about 2.2× faster than real time." in text, text
    assert ("- **Long video** · Helios-Distilled (fast, DMD, no CFG): impractical here: at least about 3 hours "
            "for 5 s of video.") in text, text
    assert "- **Game agent** · NVIDIA NitroGen: about 1.8 s per action chunk." in text, text
    assert "Speeds measured on a 2-core CPU (docs/BENCHMARKS.md)" in text
    assert "fits" not in text


def test_a_gpu_profile_without_measurements_says_so_instead_of_guessing():
    text = sentences(GPU_BOX, "16gb")
    assert text.startswith("**GPU:** NVIDIA H100, 80 GB (profile `16gb`).")
    for key, tab in (("voxtral", "Voice"), ("helios-distilled", "Long video"), ("nitrogen", "Game agent")):
        assert f"- **{tab}** · {hub.spec_for(key).title}: speed not measured on this GPU profile yet." in text, text
    assert "Speeds measured on" not in text


def test_a_host_too_small_for_the_plan_hears_what_it_lacks():
    text = sentences(SMALL_CPU_BOX, "cpu")
    assert "Voxtral-4B-TTS-2603: does not fit this machine: it needs" in text and "of host RAM" in text, text


def test_the_tiny_checkpoints_are_named_as_such():
    assert "tiny test checkpoints (`--tiny`): they finish quickly but make noise" in sentences(CPU_BOX, "cpu", tiny=True)


@pytest.mark.parametrize("key", ["helios-distilled", "helios-mid", "helios-base"])
def test_readiness_never_says_fits_for_a_run_of_hours(tmp_path, key):
    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp_path)])
    line = readiness_line(key, settings, "cpu", CPU_BOX)
    assert "fits" not in line, line
    assert "**impractical here: at least about" in line and "hours for 5 s of video" in line, line
    assert line.endswith("use a GPU (see System)."), line


def test_readiness_says_what_to_expect_where_it_was_measured(tmp_path):
    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp_path)])
    line = readiness_line("nitrogen", settings, "cpu", CPU_BOX)
    assert "with the real weights: about 1.8 s per action chunk (measured on a 2-core CPU)" in line, line
    assert readiness_line("nitrogen", settings, "16gb", GPU_BOX).endswith("speed not measured on this GPU profile yet.")


def test_plan_rows_are_readable():
    load_demos()
    settings = Settings.from_args(["--tiny"])
    rows = [system_words.plan_row(spec.title, hub.resolve_source(spec.key, settings), spec.plan("cpu", CPU_BOX))
            for spec in hub.all_specs()]
    text = repr(rows)
    for jargon in ("group_block", "tiny: tiny", "/group", "float32", "bfloat16"):
        assert jargon not in text, (jargon, rows)
    assert system_words.PLAN_COLUMNS == ["Model", "Weights from", "Runs on", "Precision", "Offloading",
                                         "GPU memory", "Host RAM"]
    helios = next(r for r in rows if r[0].startswith("Helios-Distilled"))
    assert helios[1] == "tiny test checkpoint" and helios[2] == "CPU"
    gpu = system_words.plan_row("Helios", hub.Source("x", "hub", "a/b"), hub.spec_for("helios-distilled").plan("8gb", GPU_BOX))
    assert gpu[1] == "Hub: a/b" and "blocks moved to the GPU one group at a time" in gpu[4], gpu


@pytest.mark.parametrize("factor, words", [(20.4, "about 20× slower than real time"), (2.4, "about 2.4× slower than real time"),
                                           (0.45, "about 2.2× faster than real time"), (1.0, "about as fast as real time")])
def test_factor_words(factor, words):
    assert factor_words(factor) == words


@pytest.mark.parametrize("seconds, words", [(1.78, "about 1.8 s"), (45, "about 45 s"), (600, "about 10 minutes"),
                                            (11100, "about 3 hours"), (3 * 86400, "about 3 days")])
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words


def test_start_up_names_a_cuda_torch_on_a_box_without_gpu(tmp_path, monkeypatch):
    import importlib.util
    from types import SimpleNamespace

    package = tmp_path / "torch"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('start-up must not import torch')\n")
    (package / "version.py").write_text("from typing import Optional\n__version__ = '2.13.0'\n"
                                        "cuda: Optional[str] = '12.8'\n")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: SimpleNamespace(origin=str(package / "__init__.py"))
                        if name == "torch" else real_find_spec(name, *a))
    assert torch_cuda_build() == "12.8"
    line = torch_build_line(CPU_BOX, "12.8")
    assert line.startswith("No GPU found, but the installed torch is a CUDA 12.8 build"), line
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in line
    assert torch_build_line(GPU_BOX, "12.8") is None and torch_build_line(CPU_BOX, None) is None
    (package / "version.py").write_text("cuda: Optional[str] = None\n")
    assert torch_cuda_build() is None


def test_start_up_lines_say_what_is_on_disk_and_what_first_runs_download(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = tmp_path / "hub" / "models--nvidia--NitroGen"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("0" * 40) / "ng.pt").write_bytes(b"x")
    lines = model_lines(Settings.from_args(["--cache-dir", str(tmp_path)]), TABS)
    assert lines[0] == "Models on disk: NVIDIA NitroGen (Game agent).", lines
    assert lines[1].startswith("Not on disk yet; the first run of its tab downloads it"), lines
    assert "  Voice: Voxtral-4B-TTS-2603, about 8 GB" in lines, lines
    assert "  Long video: Helios-Distilled (fast, DMD, no CFG), about 40.5 GB" in lines, lines
    assert not any("NitroGen" in line for line in lines[1:]), lines
    tiny = model_lines(Settings.from_args(["--tiny", "--cache-dir", str(tmp_path)]), TABS)
    assert tiny == ["Models: tiny test checkpoints (--tiny), written on first use; nothing to download."]


def test_a_demos_own_measured_speed_comes_first(monkeypatch):
    """A ModelSpec's `speed` (the demo's own figures) is what the words say for that plan."""
    import dataclasses

    from shared.models.expected_speed import Measured, expectation

    spec = hub.spec_for("nitrogen")
    own = Measured("cpu", "an 8-core CPU", "docs/BENCHMARKS.md, test", seconds=0.5, item="action chunk")
    monkeypatch.setitem(hub._SPECS, "nitrogen", dataclasses.replace(spec, speed=(own,)))
    assert expectation("nitrogen", spec.plan("cpu", CPU_BOX)) == "about 0.5 s per action chunk (measured on an 8-core CPU)"
