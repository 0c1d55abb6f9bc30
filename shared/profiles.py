"""Memory profiles and the placement plan a demo fills in for each.

A profile names a memory budget (`6gb` ... `full`, `cpu`, `zerogpu`); each
model declares per profile *how* it runs there: device and dtype per
component, offloading, fp8 casting, quantization, caps, and what host RAM
the plan needs. The plan is data: `shared.offload` applies it, the System tab
and `/status` show it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Literal

from shared.hardware import HardwareInfo

PROFILES = ("auto", "cpu", "6gb", "8gb", "12gb", "16gb", "full", "zerogpu")

# VRAM budget of each GPU profile, in GiB; `full` means "no offloading needed".
PROFILE_VRAM_GB = {"6gb": 6.0, "8gb": 8.0, "12gb": 12.0, "16gb": 16.0, "full": 40.0}
GPU_PROFILES_LARGEST_FIRST = ("full", "16gb", "12gb", "8gb", "6gb")

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
        if _fits((fn(profile, hw) for fn in plan_fns), hw):
            return profile
    return "cpu"
