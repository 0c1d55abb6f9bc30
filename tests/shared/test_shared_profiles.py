import pytest

from shared.models.hardware import HardwareInfo
from shared.models.profiles import PlacementPlan, resolve_profile

VRAM_NEED = {"6gb": 5.5, "8gb": 7.5, "12gb": 11.0, "16gb": 15.0, "full": 30.0, "cpu": 0.0}
# Lower VRAM profiles keep more of the model in host RAM.
RAM_NEED = {"6gb": 30.0, "8gb": 28.0, "12gb": 20.0, "16gb": 12.0, "full": 4.0, "cpu": 32.0}


def plan_fn(profile, hw):
    return PlacementPlan("m", profile, device="cpu" if profile == "cpu" else "cuda",
                         vram_gb=VRAM_NEED.get(profile, 0), host_ram_gb=RAM_NEED.get(profile, 0))


def hw(vram_free=0.0, ram=64.0, cuda=True, zerogpu=False):
    return HardwareInfo(cuda=cuda, device_name="test", vram_total_gb=vram_free, vram_free_gb=vram_free,
                        ram_total_gb=ram, ram_available_gb=ram, zerogpu=zerogpu)


@pytest.mark.parametrize("vram,expected", [(80, "full"), (24, "16gb"), (16, "16gb"), (12, "12gb"), (11.5, "12gb"),
                                           (8, "8gb"), (6, "6gb"), (4, "cpu")])
def test_auto_picks_largest_profile_that_fits_vram(vram, expected):
    assert resolve_profile("auto", hw(vram), [plan_fn]) == expected


def test_auto_respects_host_ram():
    # A 12 GB card on a 16 GB-RAM host: the 12gb plan needs 20 GB RAM, so step
    # down... but lower profiles need even more RAM, so no GPU plan fits.
    assert resolve_profile("auto", hw(12, ram=16), [plan_fn]) == "cpu"
    # A 24 GB card with 16 GB RAM: the 16gb plan (12 GB RAM) fits.
    assert resolve_profile("auto", hw(24, ram=16), [plan_fn]) == "16gb"
    # Plenty of VRAM but 3 GB of RAM: even `full` (4 GB RAM) is refused.
    assert resolve_profile("auto", hw(80, ram=3), [plan_fn]) == "cpu"


def test_auto_without_cuda_or_on_zerogpu():
    assert resolve_profile("auto", hw(0, cuda=False), [plan_fn]) == "cpu"
    assert resolve_profile("auto", hw(48, zerogpu=True), [plan_fn]) == "zerogpu"


def test_explicit_profiles_pass_through_and_unknown_is_refused():
    assert resolve_profile("8gb", hw(80), [plan_fn]) == "8gb"
    with pytest.raises(ValueError, match="Unknown profile"):
        resolve_profile("3gb", hw(80), [plan_fn])


def test_plan_component_fallback_and_dict():
    from shared.models.profiles import ComponentPlacement

    plan = PlacementPlan("m", "8gb", device="cuda", dtype="bfloat16",
                         components={"text_encoder": ComponentPlacement("cpu", "float32")})
    assert plan.component("text_encoder") == ComponentPlacement("cpu", "float32")
    assert plan.component("transformer") == ComponentPlacement("cuda", "bfloat16")
    assert plan.to_dict()["components"]["text_encoder"] == {"device": "cpu", "dtype": "float32"}
    assert plan.on_gpu


# A model whose measured CPU peak RSS is 20.5 GB in float32 and 7.2 GB in bf16 (real-size Voxtral-4B).
PEAKS = {"float32": 20.5, "bfloat16": 7.2}


@pytest.mark.parametrize("ram_gb, expected", [(64.0, "float32"), (16.0, "bfloat16"), (6.0, None)])
def test_cpu_dtype_for_host_takes_the_most_precise_dtype_whose_measured_peak_fits(ram_gb, expected):
    from shared.models.profiles import cpu_dtype_for_host

    assert cpu_dtype_for_host(PEAKS, hw(0, ram=ram_gb, cuda=False)) == expected


def test_cpu_dtype_for_host_keeps_room_for_the_system():
    from shared.models.profiles import HOST_RESERVE_GB, cpu_dtype_for_host, host_ram_needed

    # Exactly the peak is not enough: the operating system and the app need their reserve too.
    assert cpu_dtype_for_host(PEAKS, hw(0, ram=20.5, cuda=False)) == "bfloat16"
    assert cpu_dtype_for_host(PEAKS, hw(0, ram=20.5 + HOST_RESERVE_GB, cuda=False)) == "float32"
    assert host_ram_needed(7.2) == round(7.2 + HOST_RESERVE_GB, 1)
