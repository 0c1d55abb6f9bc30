"""The System tab's words: the sentences it leads with and the readable plan table. Gradio-free,
so unit tests read exactly what a person sees."""
from __future__ import annotations

from shared.io.text import escape_markdown
from shared.models import hub
from shared.models.expected_speed import expectation, measured_for
from shared.models.hardware import HardwareInfo
from shared.models.profiles import PlacementPlan
from shared.models.readiness import shortfall

PLAN_COLUMNS = ["Model", "Weights from", "Runs on", "Precision", "Offloading", "GPU memory", "Host RAM"]
# Fixed widths, not shares of the screen: on a phone the table scrolls sideways inside its fold
# instead of squeezing headers into one letter per line ("devic e").
PLAN_COLUMN_WIDTHS = ["190px", "170px", "90px", "150px", "260px", "120px", "110px"]

OFFLOAD_WORDS = {
    "none": "none: all in memory",
    "model": "each part moved to the GPU when it is used",
    "group_block": "blocks moved to the GPU one group at a time",
    "group_leaf": "layers moved to the GPU one at a time",
}
DTYPE_WORDS = {"float32": "32-bit float", "bfloat16": "bf16 (16-bit)", "float16": "fp16 (16-bit)"}


def machine_sentence(hw: HardwareInfo, profile: str) -> str:
    if hw.zerogpu:
        return f"**ZeroGPU Space** (profile `{profile}`): every model runs on a shared GPU slice."
    if not hw.cuda:
        return f"**No GPU found**: everything runs on this machine's CPU (profile `{profile}`)."
    return f"**GPU:** {hw.device_name}, {hw.vram_total_gb:.0f} GB (profile `{profile}`)."


def model_sentence(title: str, tab: str, plan: PlacementPlan, hw: HardwareInfo) -> str:
    """'**Long video** · Helios-Distilled: impractical here: at least about 3 hours for 5 s of video.'"""
    lacking = shortfall(plan, hw)
    if lacking is not None:
        words = f"does not fit this machine: it needs {lacking}"
    else:
        words = expectation(plan.model_key, plan)
        if measured_for(plan.model_key, plan) is not None:
            words = words.split(" (measured on")[0]  # the machine is said once, below the list
    return f"- **{tab}** · {escape_markdown(title)}: {words}."


def speed_sentences(hw: HardwareInfo, profile: str, plans: dict[str, PlacementPlan], tab_of: dict[str, str],
                    tiny: bool) -> str:
    """The lines the System tab leads with: the machine, then one line per model in words."""
    lines = [machine_sentence(hw, profile), "", "What to expect here with the real weights:", ""]
    for key, plan in plans.items():
        spec = hub.spec_for(key)
        lines.append(model_sentence(spec.title, tab_of.get(key, "Model"), plan, hw))
    machines = sorted({m.machine for key, plan in plans.items() if (m := measured_for(key, plan))})
    lines.append("")
    if machines:
        lines.append(f"Speeds measured on {' and '.join(machines)} (docs/BENCHMARKS.md); "
                     "a faster machine takes less time.")
    if tiny:
        lines.append("This app runs the tiny test checkpoints (`--tiny`): they finish quickly but make noise.")
    return "\n".join(lines)


def source_words(source: hub.Source) -> str:
    if source.kind == "tiny":
        return "tiny test checkpoint"
    if source.kind == "local":
        return f"your folder {source.id}"
    return f"Hub: {source.id}"


def precision_words(plan: PlacementPlan) -> str:
    words = DTYPE_WORDS.get(plan.dtype, plan.dtype)
    if plan.fp8_layerwise:
        words += ", stored as fp8"
    if plan.quantization:
        words += f", {plan.quantization.replace('_', ' ')}"
    return words


def offload_words(plan: PlacementPlan) -> str:
    words = OFFLOAD_WORDS.get(plan.offload, plan.offload)
    if not plan.on_gpu:  # on the CPU the groups come from disk (or host RAM) into working memory
        words = words.replace("to the GPU", "into memory")
    if plan.offload == "group_block" and plan.blocks_per_group > 1:
        words += f" ({plan.blocks_per_group} blocks per group)"
    if plan.offload_to_disk:
        words += ", read from files on disk"
    if plan.use_stream:
        words += ", copies overlap the compute"
    return words


def gb_words(gb: float) -> str:
    return f"about {gb:g} GB" if gb else "none"


def plan_row(title: str, source: hub.Source, plan: PlacementPlan) -> list[str]:
    runs_on = "CPU" if not plan.on_gpu else ("GPU" if plan.gpus <= 1 else f"{plan.gpus} GPUs")
    return [title, source_words(source), runs_on, precision_words(plan), offload_words(plan),
            gb_words(plan.vram_gb), gb_words(plan.host_ram_gb)]
