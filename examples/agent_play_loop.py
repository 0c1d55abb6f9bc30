"""Remote play loop for release-hub's NitroGen endpoint `/agent_frame`, pipelined.

Captures a screen region (with `mss`, if installed) or reads an image file,
sends it to a running release-hub server with gradio_client and plays the 18
predicted actions, one per 1/60 s (0.3 s a chunk), as upstream's play loop
does. With `--gamepad` and the optional `vgamepad` package (Windows ViGEmBus /
Linux uinput) they go to a virtual Xbox 360 pad; without it they are printed.

Pipelining: at the start of chunk k the loop captures the screen and asks for
chunk k+1 while it plays chunk k, so the pad never idles as long as a round
trip (upload, queue, model, JSON back) takes less than 0.3 s. A later answer
makes the chunk *late*: the pad is released and waits. Upstream pauses the game
while the model runs instead (xspeedhack); a remote loop cannot, so it reports
instead: achieved actions/s (60 when nothing is late), late chunks, idle time
and round-trip latency.

    pip install gradio_client            # required
    pip install mss                      # optional: screen capture
    pip install vgamepad                 # optional: virtual gamepad

    python examples/agent_play_loop.py --image shot.png                        # one request, print the actions
    python examples/agent_play_loop.py --region 0,0,1280,720 --loop            # play until Ctrl+C
    python examples/agent_play_loop.py --region 0,0,1280,720 --loop --gamepad --format jpeg
    python examples/agent_play_loop.py --image shot.png --loop --chunks 20 --summary-json stats.json

Uploads: `--format jpeg` or `webp` are smaller and faster to encode and send
than PNG (the server accepts all three); PNG is lossless.
Only image pixels go over the wire (HTTP, Gradio's API); no pickle anywhere.
The NitroGen weights are for non-commercial research use only (NVIDIA licence).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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
FORMATS = {"png": ("PNG", ".png", {}), "jpeg": ("JPEG", ".jpg", {"quality": 90}), "webp": ("WEBP", ".webp", {"quality": 90})}


class Capture:
    """Frames as image files: the given file, or a screen region grabbed with mss and encoded by Pillow.

    Two files alternate, so a frame still uploading is never overwritten by the next capture.
    """

    def __init__(self, region: str | None, image: str | None, scratch: Path, fmt: str = "png"):
        self.image, self.scratch, self.fmt = image, scratch, fmt
        self.count = 0
        if image is None:
            try:
                import mss
            except ImportError:
                sys.exit("Screen capture needs `pip install mss`; or pass --image FILE.")
            self.screen = mss.mss()
            left, top, width, height = (int(v) for v in region.split(",")) if region else (0, 0, 1280, 720)
            self.box = {"left": left, "top": top, "width": width, "height": height}

    def __call__(self) -> str:
        if self.image is not None:
            return self.image
        from PIL import Image

        shot = self.screen.grab(self.box)
        kind, suffix, options = FORMATS[self.fmt]
        path = self.scratch / f"frame{self.count % 2}{suffix}"
        self.count += 1
        Image.frombytes("RGB", shot.size, shot.rgb).save(path, kind, **options)
        return str(path)


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

    def release(self) -> None:
        self.pad.reset()
        self.pad.update()


@dataclass
class PlayStats:
    """What a pipelined run achieved. Times in seconds, from the loop's clock."""

    chunks: int = 0
    actions: int = 0
    late_chunks: int = 0
    idle_s: float = 0.0
    play_s: float = 0.0
    round_trips_s: list[float] = field(default_factory=list)
    events: list[tuple[str, int, float]] = field(default_factory=list)  # (what, chunk, time)

    def summary(self) -> dict[str, Any]:
        rt = sorted(self.round_trips_s)
        return {
            "chunks": self.chunks,
            "actions": self.actions,
            "actions_per_s": round(self.actions / self.play_s, 2) if self.play_s else 0.0,
            "late_chunks": self.late_chunks,
            "idle_s": round(self.idle_s, 4),
            "play_s": round(self.play_s, 4),
            "round_trip_s": {
                "median": round(statistics.median(rt), 4) if rt else None,
                "p90": round(rt[min(len(rt) - 1, int(0.9 * len(rt)))], 4) if rt else None,
                "max": round(rt[-1], 4) if rt else None,
            },
            "round_trips_s": [round(x, 4) for x in self.round_trips_s],
        }


def play_pipelined(request: Callable[[str], Any], capture: Callable[[], str], chunks: int | None,
                   apply: Callable[[dict, int], None] | None = None, release: Callable[[], None] | None = None,
                   clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                   on_chunk: Callable[[int, dict, PlayStats], None] | None = None) -> PlayStats:
    """Play `chunks` chunks (None: until Ctrl+C), asking for chunk k+1 at the start of chunk k.

    `request(frame_path)` must return at once with a future (a gradio_client Job): `.result()`
    blocks for the actions dict, `.done()` and `.add_done_callback()` as in concurrent.futures.
    Actions are applied on a fixed 1/hz schedule. When the next chunk is not back by the end of
    the current one, that chunk is late: the pad is released and the schedule restarts on arrival.
    """
    stats = PlayStats()
    log = stats.events.append

    def fetch(k: int):
        frame = capture()
        sent = clock()
        log(("request", k, sent))
        handle = request(frame)
        finished: dict[str, float] = {}
        handle.add_done_callback(lambda _h: finished.setdefault("at", clock()))
        return handle, sent, finished

    def collect(k: int, pending) -> dict:
        handle, sent, finished = pending
        actions = handle.result()
        got = finished.get("at", clock())  # the callback can run just after result() returns
        log(("answer", k, got))
        stats.round_trips_s.append(got - sent)
        return actions

    actions = collect(0, fetch(0))
    start = first_start = clock()
    k = 0
    try:
        while chunks is None or k < chunks:
            has_next = chunks is None or k + 1 < chunks
            pending = fetch(k + 1) if has_next else None  # pipelining: the frame at the start of chunk k
            log(("play", k, clock()))
            hz, horizon = float(actions["control_hz"]), int(actions["horizon"])
            for i in range(horizon):
                wait = start + i / hz - clock()
                if wait > 0:
                    sleep(wait)
                if apply is not None:
                    apply(actions, i)
            chunk_end = start + horizon / hz
            wait = chunk_end - clock()
            if wait > 0:
                sleep(wait)  # the last action lasts its 1/hz too
            stats.chunks += 1
            stats.actions += horizon
            log(("end", k, chunk_end))
            if on_chunk is not None:
                on_chunk(k, actions, stats)
            if pending is None:
                start = max(chunk_end, clock())
                break
            on_time = pending[0].done()
            if not on_time and release is not None:
                release()  # nothing to play: let go of the pad rather than hold the last action
            actions = collect(k + 1, pending)
            if on_time:
                start = chunk_end
            else:
                now = clock()
                stats.late_chunks += 1
                stats.idle_s += max(0.0, now - chunk_end)
                log(("late", k + 1, now))
                start = max(chunk_end, now)
            k += 1
    except KeyboardInterrupt:
        start = clock()
    stats.play_s = start - first_start
    if release is not None:
        release()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="http://127.0.0.1:7860", help="release-hub URL (or a Space id)")
    parser.add_argument("--region", help="screen region left,top,width,height (needs mss)")
    parser.add_argument("--image", help="use this image file instead of capturing the screen")
    parser.add_argument("--format", choices=sorted(FORMATS), default="png",
                        help="upload format for captures (jpeg/webp are faster to send; default png)")
    parser.add_argument("--loop", action="store_true", help="play pipelined chunks until Ctrl+C (or --chunks)")
    parser.add_argument("--chunks", type=int, default=None, help="with --loop: stop after this many chunks")
    parser.add_argument("--gamepad", action="store_true", help="play the actions on a virtual pad (needs vgamepad)")
    parser.add_argument("--allow-menu", action="store_true", help="let the agent press START/BACK/GUIDE")
    parser.add_argument("--quiet", action="store_true", help="with --loop: one line per chunk, no action table")
    parser.add_argument("--summary-json", help="with --loop: also write the run's statistics to this file")
    args = parser.parse_args()
    if args.chunks is not None and args.chunks < 1:
        parser.error(f"--chunks must be at least 1, got {args.chunks}")

    from gradio_client import Client, handle_file

    client = Client(args.server, verbose=False)
    pad = VirtualPad(args.allow_menu) if args.gamepad else None
    with tempfile.TemporaryDirectory() as tmp:
        capture = Capture(args.region, args.image, Path(tmp), args.format)
        if not args.loop:
            print_actions(client.predict(frame=handle_file(capture()), api_name="/agent_frame"))
            return

        def request(frame: str):
            return client.submit(frame=handle_file(frame), api_name="/agent_frame")

        def on_chunk(k: int, actions: dict, stats: PlayStats) -> None:
            rt = stats.round_trips_s[-1] if stats.round_trips_s else float("nan")
            print(f"chunk {k}: round trip {rt * 1000:.0f} ms, late so far {stats.late_chunks}", flush=True)
            if not args.quiet and pad is None:
                print_actions(actions)

        stats = play_pipelined(request, capture, args.chunks, apply=pad.apply if pad else None,
                               release=pad.release if pad else None, on_chunk=on_chunk)
    summary = stats.summary()
    print(json.dumps({k: v for k, v in summary.items() if k != "round_trips_s"}))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps({**summary, "events": stats.events}, indent=1))


if __name__ == "__main__":
    main()
