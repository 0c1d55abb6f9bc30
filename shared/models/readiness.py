"""Before a download: can this model run here? One plain-words line per model for its tab.

Says whether the weights are already on disk and what to expect of the active profile's plan here:
its measured speed in words (shared/models/expected_speed.py), or what this machine lacks for it
(VRAM and host RAM) and which profiles would do. Gradio-free.
"""
from __future__ import annotations

from shared.models import hub
from shared.io.text import escape_markdown
from shared.models.hardware import HardwareInfo
from shared.models.expected_speed import expectation, is_impractical, measured_for
from shared.models.profiles import PROFILES, PlacementPlan, plan_for


def weights_on_disk(repo_id: str, allow_patterns) -> bool:
    """True when the Hugging Face cache holds a snapshot of `repo_id` (no network: local files only)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot_download(repo_id, allow_patterns=list(allow_patterns) if allow_patterns else None,
                          local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        return False
    return True


def shortfall(plan: PlacementPlan, hw: HardwareInfo) -> str | None:
    """What this machine lacks for `plan` (totals, not what is free right now), or None when it fits."""
    missing = []
    if plan.on_gpu and plan.vram_gb > (hw.vram_total_gb if hw.cuda else 0.0):
        have = f"{hw.vram_total_gb:.1f} GB" if hw.cuda else "no CUDA GPU"
        missing.append(f"{plan.vram_gb:g} GB of GPU memory (this machine: {have})")
    if plan.host_ram_gb > hw.ram_total_gb:
        missing.append(f"{plan.host_ram_gb:g} GB of host RAM (this machine: {hw.ram_total_gb:.1f} GB)")
    return " and ".join(missing) or None


def weights_words(key: str, settings) -> str:
    """Where `key`'s weights are: 'tiny random test weights', 'weights on disk', 'not downloaded yet: ...'."""
    spec = hub.spec_for(key)
    source = hub.resolve_source(key, settings)
    if source.kind == "tiny":
        return "tiny random test weights (--tiny), written on first use"
    if source.kind == "local":
        return f"local files from `{source.id}`"
    repos = spec.hub_repos(source.id)
    missing = [repo for repo, patterns in repos if not weights_on_disk(repo, patterns)]
    if not missing:
        return f"weights on disk (`{source.id}`" + "".join(f", `{r}`" for r, _ in repos[1:]) + ")"
    size = f"about {spec.download_gb:g} GB from " if spec.download_gb and len(missing) == len(repos) else ""
    return f"weights **not downloaded yet**: the first run downloads {size}" + ", ".join(f"`{r}`" for r in missing)


def what_to_expect(key: str, profile: str, hw: HardwareInfo, tiny: bool = False) -> str:
    """The plan's speed in words (measured figures only), or what this machine lacks for it.
    Never "fits" for a run that would take hours: that one says "impractical here" and what to use."""
    spec = hub.spec_for(key)
    plan = spec.plan(profile, hw)
    lacking = shortfall(plan, hw)
    if lacking is not None:
        fitting = [p for p in PROFILES if p not in ("auto", "zerogpu", profile)
                   and shortfall(plan_for(spec.plan, p, hw), hw) is None]
        instead = (f"start with `--profile {fitting[0]}`" + (f" (also fits: {', '.join(fitting[1:])})" if fitting[1:] else "")
                   if fitting else "no profile fits this machine")
        return f"**profile `{profile}` does not fit this machine**: it needs {lacking}; {instead}"
    words, measured = expectation(key, plan), measured_for(key, plan)
    if measured is None:
        return words  # "speed not measured on this kind of machine yet"
    if is_impractical(measured):
        words = f"**{words}**: use a GPU (see System)"
    return ("with the real weights: " if tiny else "expect ") + words


def readiness_line(key: str, settings, profile: str, hw: HardwareInfo) -> str:
    """'Helios-Distilled: weights on disk · expect **impractical here: at least about 3 hours for 5 s of
    video (measured on a 2-core CPU)**: use a GPU (see System).'"""
    tiny = hub.resolve_source(key, settings).kind == "tiny"
    return (f"{escape_markdown(hub.spec_for(key).title)}: {weights_words(key, settings)} · "
            f"{what_to_expect(key, profile, hw, tiny)}.")
