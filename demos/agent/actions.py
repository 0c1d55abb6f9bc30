"""The action layout of NitroGen and its decoding into buttons and sticks.

Raw model output per step: 25 values = 21 buttons (in `BUTTONS` order) then
left stick x, y and right stick x, y stored as (v + 1) / 2. Decoding follows
upstream: a button is pressed when its value is > 0.5; a stick axis is
clamp(2v - 1, -1, 1). The y axes keep the model's own convention (SDL:
+y = stick pushed down).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the layout below is what the page needs; torch only decodes model output
    import torch

BUTTONS = (
    "BACK", "DPAD_DOWN", "DPAD_LEFT", "DPAD_RIGHT", "DPAD_UP", "EAST", "GUIDE",
    "LEFT_SHOULDER", "LEFT_THUMB", "LEFT_TRIGGER", "NORTH", "RIGHT_BOTTOM", "RIGHT_LEFT",
    "RIGHT_RIGHT", "RIGHT_SHOULDER", "RIGHT_THUMB", "RIGHT_TRIGGER", "RIGHT_UP", "SOUTH",
    "START", "WEST",
)
# Slots present in the output but never trained (always 0 in the data set);
# upstream's play loop ignores them. Reported, flagged, never hidden.
UNTRAINED_BUTTONS = ("RIGHT_BOTTOM", "RIGHT_LEFT", "RIGHT_RIGHT", "RIGHT_UP")
STICK_AXES = ("left_x", "left_y", "right_x", "right_y")
CONTROL_HZ = 60  # upstream's play loop applies one action per 1/60 s


def decode(raw: torch.Tensor) -> dict[str, torch.Tensor]:
    """[..., 25] raw actions -> buttons {0,1} [..., 21], j_left / j_right in [-1, 1] [..., 2]."""
    import torch

    if raw.shape[-1] != len(BUTTONS) + 4:
        raise ValueError(f"expected {len(BUTTONS) + 4} action dims, got {raw.shape[-1]}")
    raw = raw.float()
    return {
        "buttons": (raw[..., : len(BUTTONS)] > 0.5).float(),
        "j_left": torch.clamp(raw[..., -4:-2] * 2 - 1, -1, 1),
        "j_right": torch.clamp(raw[..., -2:] * 2 - 1, -1, 1),
    }


def chunk_to_dict(raw: torch.Tensor) -> dict:
    """One chunk [horizon, 25] -> the JSON-friendly actions dict of the API."""
    import torch

    dec = decode(raw)
    buttons = dec["buttons"].to(torch.int64).tolist()
    j_left = [[round(v, 5) for v in row] for row in dec["j_left"].tolist()]
    j_right = [[round(v, 5) for v in row] for row in dec["j_right"].tolist()]
    steps = []
    for i, row in enumerate(buttons):
        pressed = [name for name, on in zip(BUTTONS, row) if on]
        steps.append({
            "step": i,
            "time_s": round(i / CONTROL_HZ, 4),
            "pressed": [n for n in pressed if n not in UNTRAINED_BUTTONS],
            "pressed_untrained": [n for n in pressed if n in UNTRAINED_BUTTONS],
            "j_left": j_left[i],
            "j_right": j_right[i],
        })
    return {
        "horizon": len(buttons),
        "control_hz": CONTROL_HZ,
        "button_names": list(BUTTONS),
        "untrained_buttons": list(UNTRAINED_BUTTONS),
        "buttons": buttons,
        "j_left": j_left,
        "j_right": j_right,
        "steps": steps,
    }
