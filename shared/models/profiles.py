"""Memory profiles and the placement plan a demo fills in for each.

A profile names a memory budget (`6gb` ... `full`, `cpu`, `zerogpu`); each
model declares per profile *how* it runs there: device and dtype per
component, offloading, fp8 casting, quantization, caps, and what host RAM
the plan needs. The plan is data: `shared.models.offload` applies it, the System tab
and `/status` show it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Literal

from shared.models.hardware import HardwareInfo

PROFILES = ("auto", "cpu", "6gb", "8gb", "12gb", "16gb", "2x12gb", "2x24gb", "full", "zerogpu")

# VRAM budget of each GPU profile, in GiB per GPU; `full` means "no offloading needed".
PROFILE_VRAM_GB = {"6gb": 6.0, "8gb": 8.0, "12gb": 12.0, "16gb": 16.0, "2x12gb": 12.0, "2x24gb": 24.0, "full": 40.0}
# Two-GPU profiles: the GPU count, and the one-GPU profile a model without a
# multi-GPU plan runs under there (it uses the first card only).
MULTI_GPU_PROFILES = {"2x12gb": (2, "12gb"), "2x24gb": (2, "16gb")}
# `auto` tries these in order; a two-GPU profile comes before the one-GPU
# profile its cards could also run, since no weights then cross PCIe per step.
GPU_PROFILES_LARGEST_FIRST = ("full", "2x24gb", "16gb", "2x12gb", "12gb", "8gb", "6gb")

OffloadKind = Literal["none", "model", "group_block", "group_leaf"]


@dataclass(frozen=True)
class ComponentPlacement:
    device: str  # "cuda" | "cpu"
    dtype: str  # "float32" | "bfloat16" | "float16"


@dataclass(frozen=True)
class PlacementPlan:
    model_key: str
    profile: str
    device: str = "cpu"
    dtype: str = "float32"
    components: dict[str, ComponentPlacement] = field(default_factory=dict)
    offload: OffloadKind = "none"
    blocks_per_group: int = 1
    use_stream: bool = False
    low_cpu_mem_usage: bool = True
    fp8_layerwise: bool = False
    offload_to_disk: bool = False  # offloaded groups live in files under the cache dir, not in host RAM
    disk_gb: float = 0.0  # disk those offload files take
    gpus: int = 1
    max_memory_gb: dict = field(default_factory=dict)  # per-device budget for accelerate's placement (multi-GPU)
    quantization: str | None = None  # None | "int8_weight_only"
    vae_tiling: bool = False
    caps: dict = field(default_factory=dict)
    vram_gb: float = 0.0  # peak VRAM the plan is sized for
    host_ram_gb: float = 0.0  # host RAM the plan needs (weights, pinned copies)
    notes: str = ""

    @property
    def on_gpu(self) -> bool:
        return self.device == "cuda"

    def component(self, name: str) -> ComponentPlacement:
        """Placement of one component, falling back to the plan's default."""
        return self.components.get(name, ComponentPlacement(self.device, self.dtype))

    def to_dict(self) -> dict:
        return asdict(self)


PlanFn = Callable[[str, HardwareInfo], PlacementPlan]


def multi_gpu(plan_fn: PlanFn) -> PlanFn:
    """Mark a plan function as having its own plans for the two-GPU profiles."""
    plan_fn.multi_gpu = True
    return plan_fn


def plan_for(plan_fn: PlanFn, profile: str, hw: HardwareInfo) -> PlacementPlan:
    """The model's plan under `profile`; on a two-GPU profile a model without
    multi-GPU plans gets its one-GPU plan for one of those cards."""
    if profile in MULTI_GPU_PROFILES and not getattr(plan_fn, "multi_gpu", False):
        profile = MULTI_GPU_PROFILES[profile][1]
    return plan_fn(profile, hw)


# Host RAM the operating system and the app itself keep beside a model's own measured peak (GB).
HOST_RESERVE_GB = 1.0
# CPU dtypes from the most precise to the smallest: a host gets the first one whose peak fits.
CPU_DTYPES_MOST_PRECISE_FIRST = ("float32", "bfloat16")


def host_ram_needed(peak_rss_gb: float) -> float:
    """What a CPU plan needs of the host: the model's measured peak RSS plus the reserve."""
    return round(peak_rss_gb + HOST_RESERVE_GB, 1)


def cpu_dtype_for_host(peak_rss_gb: dict[str, float], hw: HardwareInfo) -> str | None:
    """The most precise dtype whose measured peak RSS (plus the reserve) fits this host's RAM,
    or None where none does. Total RAM, as the readiness line counts it: the plan describes
    the machine, not what other programs hold at this moment."""
    for dtype in CPU_DTYPES_MOST_PRECISE_FIRST:
        if dtype in peak_rss_gb and host_ram_needed(peak_rss_gb[dtype]) <= hw.ram_total_gb:
            return dtype
    return None


def _fits(plans: Iterable[PlacementPlan], hw: HardwareInfo) -> bool:
    return all(
        plan.vram_gb <= hw.vram_free_gb and plan.host_ram_gb <= hw.ram_available_gb
        for plan in plans
    )


def resolve_profile(requested: str, hw: HardwareInfo, plan_fns: Iterable[PlanFn] = ()) -> str:
    """Turn `auto` into a concrete profile; validate any other name.

    `auto` takes the largest GPU profile whose every model plan fits both the
    free VRAM and the available host RAM (pinned offload copies of a 14B model
    cost tens of GB of RAM, so a big card on a small host must step down to a
    plan that needs less RAM), else `cpu`.
    """
    if requested not in PROFILES:
        raise ValueError(f"Unknown profile {requested!r}; choose one of: {', '.join(PROFILES)}.")
    if requested != "auto":
        return requested
    if hw.zerogpu:
        return "zerogpu"
    if not hw.cuda:
        return "cpu"
    plan_fns = list(plan_fns)
    for profile in GPU_PROFILES_LARGEST_FIRST:
        # A "12 GB" card reports ~11.5 GB free: the nominal size gets 10% slack,
        # the plans' own vram_gb figures decide.
        if PROFILE_VRAM_GB[profile] * 0.9 > hw.vram_free_gb:
            continue
        if profile in MULTI_GPU_PROFILES and MULTI_GPU_PROFILES[profile][0] > hw.gpu_count:
            continue
        if _fits((plan_for(fn, profile, hw) for fn in plan_fns), hw):
            return profile
    return "cpu"
