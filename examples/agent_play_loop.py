"""Remote play loop for release-hub's NitroGen endpoint `/agent_frame`.

Captures a screen region (with `mss`, if installed) or reads an image file,
sends it to a running release-hub server with gradio_client, and prints the
18 predicted actions. With `--gamepad` and the optional `vgamepad` package
(Windows ViGEmBus / Linux uinput) it also plays them on a virtual Xbox pad,
one action per 1/60 s, as upstream's play loop does.

    pip install gradio_client            # required
    pip install mss                      # optional: screen capture
    pip install vgamepad                 # optional: virtual gamepad

    python examples/agent_play_loop.py --server http://127.0.0.1:7860 --image shot.png
    python examples/agent_play_loop.py --region 0,0,1280,720 --loop
    python examples/agent_play_loop.py --region 0,0,1280,720 --loop --gamepad

Only image pixels go over the wire (HTTP, Gradio's API); no pickle anywhere.
The NitroGen weights are for non-commercial research use only (NVIDIA licence).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# Upstream's play loop keeps menu buttons off unless asked (--allow-menu).
MENU_BUTTONS = {"START", "BACK", "GUIDE"}
XBOX = {  # NitroGen name -> vgamepad XUSB button name
    "SOUTH": "XUSB_GAMEPAD_A", "EAST": "XUSB_GAMEPAD_B", "WEST": "XUSB_GAMEPAD_X", "NORTH": "XUSB_GAMEPAD_Y",
    "DPAD_UP": "XUSB_GAMEPAD_DPAD_UP", "DPAD_DOWN": "XUSB_GAMEPAD_DPAD_DOWN",
    "DPAD_LEFT": "XUSB_GAMEPAD_DPAD_LEFT", "DPAD_RIGHT": "XUSB_GAMEPAD_DPAD_RIGHT",
    "LEFT_SHOULDER": "XUSB_GAMEPAD_LEFT_SHOULDER", "RIGHT_SHOULDER": "XUSB_GAMEPAD_RIGHT_SHOULDER",
    "LEFT_THUMB": "XUSB_GAMEPAD_LEFT_THUMB", "RIGHT_THUMB": "XUSB_GAMEPAD_RIGHT_THUMB",
    "START": "XUSB_GAMEPAD_START", "BACK": "XUSB_GAMEPAD_BACK", "GUIDE": "XUSB_GAMEPAD_GUIDE",
}


def capture(region: str | None, image: str | None, scratch: Path) -> Path:
    """A PNG of the screen region (left,top,width,height) or the given image file."""
    if image:
        return Path(image)
    try:
        import mss
        import mss.tools
    except ImportError:
        sys.exit("Screen capture needs `pip install mss`; or pass --image FILE.")
    left, top, width, height = (int(v) for v in region.split(",")) if region else (0, 0, 1280, 720)
    with mss.mss() as screen:
        shot = screen.grab({"left": left, "top": top, "width": width, "height": height})
        path = scratch / "frame.png"
        mss.tools.to_png(shot.rgb, shot.size, output=str(path))
    return path


def print_actions(actions: dict) -> None:
    info = actions.get("info", {})
    print(f"-- {actions['horizon']} actions at {actions['control_hz']} Hz "
          f"(seed {info.get('seed')}, {info.get('timings_s', {}).get('total', '?')} s)")
    for step in actions["steps"]:
        lx, ly = step["j_left"]
        rx, ry = step["j_right"]
        pressed = " ".join(step["pressed"]) or "-"
        print(f"{step['step']:2d}  L({lx:+.2f},{ly:+.2f})  R({rx:+.2f},{ry:+.2f})  {pressed}")


class VirtualPad:
    """Optional output to a virtual Xbox 360 pad through `vgamepad`."""

    def __init__(self, allow_menu: bool):
        import vgamepad  # optional dependency, imported only with --gamepad

        self.vg = vgamepad
        self.pad = vgamepad.VX360Gamepad()
        self.allow_menu = allow_menu

    def apply(self, actions: dict, step: int) -> None:
        names = actions["button_names"]
        row = actions["buttons"][step]
        for name, value in zip(names, row):
            if name in ("LEFT_TRIGGER", "RIGHT_TRIGGER"):
                level = 255 if value else 0
                (self.pad.left_trigger if name == "LEFT_TRIGGER" else self.pad.right_trigger)(value=level)
                continue
            if name not in XBOX or (name in MENU_BUTTONS and not self.allow_menu):
                continue  # untrained right-face slots have no pad button
            button = getattr(self.vg.XUSB_BUTTON, XBOX[name])
            (self.pad.press_button if value else self.pad.release_button)(button=button)
        # The model's y axis points down (SDL); XInput's points up, hence the sign flip.
        lx, ly = actions["j_left"][step]
        rx, ry = actions["j_right"][step]
        self.pad.left_joystick_float(x_value_float=lx, y_value_float=-ly)
        self.pad.right_joystick_float(x_value_float=rx, y_value_float=-ry)
        self.pad.update()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="http://127.0.0.1:7860", help="release-hub URL (or a Space id)")
    parser.add_argument("--region", help="screen region left,top,width,height (needs mss)")
    parser.add_argument("--image", help="use this image file instead of capturing the screen")
    parser.add_argument("--loop", action="store_true", help="capture and predict until Ctrl+C")
    parser.add_argument("--gamepad", action="store_true", help="play the actions on a virtual pad (needs vgamepad)")
    parser.add_argument("--allow-menu", action="store_true", help="let the agent press START/BACK/GUIDE")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

    client = Client(args.server, verbose=False)
    pad = VirtualPad(args.allow_menu) if args.gamepad else None
    with tempfile.TemporaryDirectory() as tmp:
        while True:
            frame = capture(args.region, args.image, Path(tmp))
            actions = client.predict(frame=handle_file(str(frame)), api_name="/agent_frame")
            print_actions(actions)
            if pad is not None:
                for step in range(actions["horizon"]):
                    pad.apply(actions, step)
                    time.sleep(1 / actions["control_hz"])
            if not args.loop:
                break


if __name__ == "__main__":
    main()
