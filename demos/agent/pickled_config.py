"""Upstream NitroGen's pickled config classes, read as inert data.

Upstream loads `ng.pt` with `torch.load(weights_only=False)` and then
`CkptConfig.model_validate(checkpoint["ckpt_config"])`, which takes a plain
dict or a pickled pydantic `CkptConfig`. A pickled pydantic model is
`NEWOBJ(class)` + `BUILD(state)`, the state holding the field values. torch's
weights_only unpickler can allowlist a class under an explicit pickled name,
so each of upstream's config class names below maps to a `PickledConfig`
subclass that only records that state: nothing of upstream is imported or run,
and every other global is still refused by torch.
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

# Module paths and names as defined upstream (MineDojo/NitroGen @ 3260844):
# nitrogen/cfg.py, the model config it nests, the DiT/VL-mixer configs that
# model config nests, and the tokenizer config with its game-mapping config.
UPSTREAM_CONFIG_CLASSES = (
    "nitrogen.cfg.CkptConfig",
    "nitrogen.cfg.ModalityConfig",
    "nitrogen.flow_matching_transformer.nitrogen.NitroGen_Config",
    "nitrogen.flow_matching_transformer.modules.DiTConfig",
    "nitrogen.flow_matching_transformer.modules.SelfAttentionTransformerConfig",
    "nitrogen.mm_tokenizers.NitrogenTokenizerConfig",
    "nitrogen.mm_tokenizers.GameMappingConfig",
)
TOP_LEVEL = "nitrogen.cfg.CkptConfig"


class PickledConfig:
    """The field values of one pickled upstream config object; no behaviour."""

    upstream_name: ClassVar[str] = ""

    def __init__(self, *args, **kwargs):
        # Only NEWOBJ + BUILD (how pickle stores a pydantic model) may create one.
        raise pickle.UnpicklingError(f"{self.upstream_name} may only be rebuilt from its stored field values.")

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"{self.upstream_name}: unexpected pickled state ({type(state).__name__}).")
        if "__dict__" in state:  # pydantic v2 (`__pydantic_extra__`) or v1 (`__fields_set__`) state
            fields = dict(state["__dict__"] or {})
            fields.update(state.get("__pydantic_extra__") or {})
        else:
            fields = dict(state)
        if not all(isinstance(k, str) for k in fields):
            raise pickle.UnpicklingError(f"{self.upstream_name}: field names must be strings.")
        self.fields = fields

    def __repr__(self) -> str:
        return f"PickledConfig({self.upstream_name}, {sorted(getattr(self, 'fields', {}))})"


def _stand_in(full_name: str) -> type[PickledConfig]:
    module, _, name = full_name.rpartition(".")
    return type(name, (PickledConfig,), {"upstream_name": full_name, "__module__": __name__})


STAND_INS: dict[str, type[PickledConfig]] = {name: _stand_in(name) for name in UPSTREAM_CONFIG_CLASSES}


def safe_globals() -> list[tuple[type, str]]:
    """(stand-in, upstream pickled name) pairs for `torch.serialization.safe_globals`."""
    return [(cls, name) for name, cls in STAND_INS.items()]


def to_plain(value: Any) -> Any:
    """Stand-ins -> nested plain dicts (what upstream's `model_dump()` would give), recursively."""
    if isinstance(value, PickledConfig):
        return {k: to_plain(v) for k, v in getattr(value, "fields", {}).items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    return value


def upstream_name(value: Any) -> str | None:
    return value.upstream_name if isinstance(value, PickledConfig) else None
