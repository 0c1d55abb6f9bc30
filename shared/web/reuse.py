""""Reuse settings": each tab registers its input components once; History fills them from a sidecar.

Gradio-free: components are kept as opaque objects and the values returned are
whatever the components accept (plain values, or updates a tab's `fill` builds).

    ctx.reuse.register("voice_voxtral", tab="voice",
                       inputs={"text": text, "voice": voice, "seed": seed, ...},
                       media=("reference_audio",), extras={"accordion": acc},
                       fill=lambda values, sidecar: {**values, "accordion": gr.Accordion(open=True)})

`inputs` names are the keys of the sidecar's `inputs` (shared.io.outputs schema):
every one must be there (strict: the error lists the missing ones). `media`
inputs are filled with the saved input file (sidecar `saved_inputs`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from shared.io.outputs import SidecarError


@dataclass
class ReuseTarget:
    demo: str  # the sidecar's "demo"
    tab: str  # id of the top-level tab to switch to
    inputs: dict[str, Any]
    media: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    fill: Callable[[dict, dict], dict] | None = None

    def components(self) -> list:
        return [*self.inputs.values(), *self.extras.values()]


class ReuseRegistry:
    def __init__(self) -> None:
        self.targets: dict[str, ReuseTarget] = {}

    def register(self, demo: str, *, tab: str, inputs: dict[str, Any], media: tuple[str, ...] = (),
                 extras: dict[str, Any] | None = None, fill: Callable[[dict, dict], dict] | None = None) -> None:
        unknown = set(media) - set(inputs)
        if unknown:
            raise ValueError(f"media names {sorted(unknown)} are not among the inputs of {demo}")
        self.targets[demo] = ReuseTarget(demo, tab, dict(inputs), tuple(media), dict(extras or {}), fill)

    def components(self) -> list:
        """Every registered component once, in registration order (the History event's outputs)."""
        seen, out = set(), []
        for target in self.targets.values():
            for component in target.components():
                if id(component) not in seen:
                    seen.add(id(component))
                    out.append(component)
        return out

    def values_for(self, sidecar: dict, saved: dict[str, Path]) -> tuple[ReuseTarget, dict, list[str]]:
        """(target, {component: value}, notes) for a checked schema-1 sidecar.

        Raises SidecarError when the sidecar is of a demo no tab takes, or lacks
        one of the tab's inputs. Notes say what could not be filled (a media
        input used by the run but not kept).
        """
        demo = sidecar.get("demo")
        target = self.targets.get(demo)
        if target is None:
            known = ", ".join(sorted(self.targets)) or "none"
            raise SidecarError(f"No tab takes results of '{str(demo)[:40]}' (tabs that reuse settings: {known}).")
        recorded = sidecar.get("inputs") or {}
        missing = [name for name in target.inputs if name not in recorded]
        if missing:
            raise SidecarError(f"The sidecar of {sidecar.get('id')} lacks the input(s) {', '.join(missing)} "
                               f"that the {target.tab} tab needs; nothing was filled.")
        values, notes = {}, []
        kept = sidecar.get("saved_inputs") or {}
        for name in target.inputs:
            if name in target.media:
                if name in saved:
                    values[name] = str(saved[name])
                else:
                    values[name] = None
                    if recorded.get(name) or name in kept or name in (sidecar.get("forgotten_inputs") or []):
                        notes.append(f"{name} was not kept with this result: add it again")
            else:
                values[name] = recorded[name]
        if target.fill is not None:
            values = target.fill(values, sidecar)
        components = {**target.inputs, **target.extras}
        return target, {components[name]: value for name, value in values.items() if name in components}, notes
