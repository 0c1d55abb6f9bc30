"""The Voice `cpu` plan sizes host RAM from the measured peak and picks the dtype that fits."""
import pytest

from demos.voice.plans import MEASURED_CPU_PEAK_RSS_GB, MEASURED_CPU_SPEED, plan
from shared.models.hardware import HardwareInfo
from shared.models.profiles import host_ram_needed
from shared.models.readiness import shortfall


def cpu_host(ram_gb: float) -> HardwareInfo:
    return HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0.0, vram_free_gb=0.0,
                        ram_total_gb=ram_gb, ram_available_gb=ram_gb, zerogpu=False)


def test_a_16gb_host_gets_bf16_sized_from_its_measured_peak():
    p = plan("cpu", cpu_host(16.0))
    assert p.dtype == "bfloat16" and p.component("backbone").dtype == "bfloat16"
    assert p.host_ram_gb == host_ram_needed(MEASURED_CPU_PEAK_RSS_GB["bfloat16"])
    assert shortfall(p, cpu_host(16.0)) is None
    assert "float32 would need about" in p.notes and "bf16 needs about" in p.notes, p.notes


def test_a_64gb_host_gets_float32():
    p = plan("cpu", cpu_host(64.0))
    assert p.dtype == "float32"
    assert p.host_ram_gb == host_ram_needed(MEASURED_CPU_PEAK_RSS_GB["float32"])
    assert shortfall(p, cpu_host(64.0)) is None


def test_a_6gb_host_is_told_plainly_that_the_model_does_not_fit():
    p = plan("cpu", cpu_host(6.0))
    assert p.notes.startswith("Voxtral does not fit this machine's RAM"), p.notes
    assert "this machine has 6.0 GB" in p.notes
    assert f"{p.host_ram_gb:g} GB of host RAM (this machine: 6.0 GB)" in shortfall(p, cpu_host(6.0))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_measured_cpu_speed_has_first_audio_and_real_time_factor_per_dtype(dtype):
    speed = MEASURED_CPU_SPEED[dtype]
    assert speed["first_audio_s"] > 0 and speed["real_time_factor"] > 1


def test_load_engine_keeps_a_cpu_plans_bf16(tmp_path):
    """The plan's dtype reaches the weights: a 16 GB host really loads bf16, not float32."""
    import torch

    from demos.voice.voxtral.engine import load_engine
    from demos.voice.voxtral.tiny import write_tiny

    write_tiny(tmp_path)
    assert load_engine(tmp_path, plan("cpu", cpu_host(16.0))).dtype == torch.bfloat16
    assert load_engine(tmp_path, plan("cpu", cpu_host(64.0))).dtype == torch.float32
