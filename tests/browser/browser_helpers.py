"""What a person sees, measured in the page: screenshots kept for review, whether an element is
covered, and what a <video> element shows."""
from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


def save_screenshot(page, name: str) -> Path:
    """The page's final state, kept under tests/artifacts/screenshots/ for a reviewer."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def record_stop_latency(name: str, seconds: float) -> None:
    """Seconds from the Stop click to the "Stopped after" line, kept in tests/artifacts/stop_latency.json
    (a figure for the reviewer; the tests themselves only wait with generous deadlines)."""
    path = SCREENSHOTS.parent / "stop_latency.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = {"seconds": round(seconds, 2), "load_average": [round(x, 2) for x in os.getloadavg()]}
    path.write_text(json.dumps(figures, indent=1))


# Two independent checks that nothing is painted over `target`:
# 1. hit testing on a grid inside its box with `pointer-events` forced on for every element (an
#    overlay with pointer-events:none is invisible to elementFromPoint otherwise);
# 2. every element whose box overlaps the target's by more than 5 % and that is taken out of the flow
#    (absolute/fixed/sticky) or stacked (z-index), not an ancestor or descendant of the target, with
#    a visible computed style and something to paint (a background, a border or text).
_COVER_JS = """
(target) => {
  const r = target.getBoundingClientRect();
  const describe = (el) => el ? `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')}` : 'none';
  const force = document.createElement('style');
  force.textContent = '* { pointer-events: auto !important; }';
  document.head.appendChild(force);
  // An element paints nothing when it, or an ancestor, is fully transparent or hidden.
  const shown = (el) => {
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || parseFloat(s.opacity) < 0.05) return false;
    }
    return getComputedStyle(el).visibility === 'visible';
  };
  const hits = [];
  for (let i = 1; i < 6; i++) for (let j = 1; j < 6; j++) {
    const x = r.left + r.width * i / 6, y = r.top + r.height * j / 6;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) { hits.push('off-screen'); continue; }
    const top = document.elementsFromPoint(x, y).find(shown);
    if (top !== target && !target.contains(top)) hits.push(describe(top));
  }
  force.remove();
  const overlaps = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el === target || el.contains(target) || target.contains(el)) continue;
    const b = el.getBoundingClientRect();
    const w = Math.min(b.right, r.right) - Math.max(b.left, r.left);
    const h = Math.min(b.bottom, r.bottom) - Math.max(b.top, r.top);
    if (w <= 0 || h <= 0 || w * h < 0.05 * r.width * r.height) continue;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility !== 'visible' || parseFloat(s.opacity) < 0.05) continue;
    const stacked = ['absolute', 'fixed', 'sticky'].includes(s.position) || s.zIndex !== 'auto';
    if (!stacked) continue;
    const paints = !/rgba\\(.*,\\s*0\\)|transparent/.test(s.backgroundColor) || s.backgroundImage !== 'none'
      || parseFloat(s.borderTopWidth) > 0 || (el.innerText || '').trim().length > 0;
    if (paints) overlaps.push(`${describe(el)} (${s.position}, bg ${s.backgroundColor}, opacity ${s.opacity})`);
  }
  return {rect: [r.left, r.top, r.width, r.height], hits: [...new Set(hits)], overlaps};
}
"""


def coverage(locator) -> dict:
    """{'rect', 'hits', 'overlaps'} for one element (scrolled into view first): empty `hits` and
    `overlaps` mean nothing covers it."""
    locator.scroll_into_view_if_needed()
    return locator.evaluate(_COVER_JS)


def video_state(locator) -> dict:
    return locator.evaluate(
        "(v) => ({src: v.currentSrc, duration: v.duration, time: v.currentTime, paused: v.paused,"
        " width: v.videoWidth, height: v.videoHeight, ready: v.readyState})")


def decoded_frames(mp4_bytes: bytes) -> list[tuple[float, np.ndarray]]:
    """Every frame of an mp4 as (start time in seconds, RGB pixels), decoded by PyAV."""
    import av

    with av.open(io.BytesIO(mp4_bytes)) as container:
        return [(float(frame.time), frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]


def shown_video_frame(page, video, at: float) -> tuple[np.ndarray, str]:
    """Pause the <video>, seek it to media time `at`, and return (the pixels the page paints for it, RGB,
    cropped to the picture inside the element's box under object-fit: contain; the src it showed).

    A seek to the middle of a frame's interval is deterministic; a player paused while playing is not:
    its currentTime and its painted frame may be a frame or two apart (seen on a busy box)."""
    video.evaluate("(v, at) => { v.pause(); v.currentTime = at; }", at)
    page.wait_for_function("([v, at]) => v.paused && v.readyState >= 2 && !v.seeking"
                           " && Math.abs(v.currentTime - at) < 1e-3", arg=[video.element_handle(), at],
                           timeout=60_000)
    shot = Image.open(io.BytesIO(video.screenshot())).convert("RGB")
    box_w, box_h = shot.size
    vw, vh, src = video.evaluate("(v) => [v.videoWidth, v.videoHeight, v.currentSrc]")
    scale = min(box_w / vw, box_h / vh)
    w, h = vw * scale, vh * scale
    left, top = (box_w - w) / 2, (box_h - h) / 2
    crop = shot.crop((round(left), round(top), round(left + w), round(top + h)))
    return np.asarray(crop), src


def mean_abs_difference(a: np.ndarray, b: np.ndarray, size=(64, 40)) -> float:
    """Mean absolute difference (0-255) after both are shrunk to `size`: a screen's scaling and the
    codec's blocking differ far less than two different pictures do."""
    small = [np.asarray(Image.fromarray(x).resize(size, Image.BILINEAR), dtype=np.float32) for x in (a, b)]
    return float(np.abs(small[0] - small[1]).mean())


# ---------------------------------------------------------------- run state, as a person sees it
RUN_WAIT_MS = 300_000  # a run of a tiny model on a busy 2-core machine


def wait_busy(page, button: str, label: str) -> None:
    """The run button greyed out and relabelled (e.g. 'Cloning…') while a run is on."""
    page.wait_for_function(f"document.querySelector('{button}').disabled", timeout=60_000)
    assert label in page.locator(button).inner_text()


def wait_idle(page, button: str, label: str, timeout: int = RUN_WAIT_MS) -> None:
    """The run button pressable again, with its normal label."""
    page.wait_for_function(f"!document.querySelector('{button}').disabled", timeout=timeout)
    assert page.locator(button).inner_text() == label


# Gradio's progress ("3.4s Speaking part 2 of 16 - 6.3%") is drawn by a status tracker inside the
# block it is shown on; idle, the tracker is hidden and that text is gone.
_PROGRESS = re.compile(r"\d+(\.\d+)?\s*%|\d+\.\ds\b")


def assert_no_progress(page, selector: str) -> None:
    trackers = page.locator(f"{selector} [data-testid='status-tracker']")
    shown = [trackers.nth(i).inner_text() for i in range(trackers.count()) if trackers.nth(i).is_visible()]
    assert not any(t.strip() for t in shown), f"{selector}: progress still shown: {shown}"
    text = page.locator(selector).inner_text()
    assert not _PROGRESS.search(text), f"{selector}: progress still shown: {text!r}"


def audio_state(page, selector: str) -> dict | None:
    return page.evaluate(
        "(s) => { const a = document.querySelector(s + ' audio'); if (!a) return null;"
        " const b = a.buffered; return {src: a.currentSrc, duration: a.duration, time: a.currentTime,"
        " paused: a.paused, ready: a.readyState, buffered: b.length ? b.end(b.length - 1) : 0}; }", selector)


def wait_audio_loaded(page, selector: str, at_least: float = 0.0, timeout: int = 60_000) -> dict:
    """The player's <audio> once it knows a finite duration over `at_least` seconds (what its time
    display shows). A streamed player's duration grows as it fetches the stream's last segments,
    which can come after the run's final line."""
    page.wait_for_function(
        "([s, min]) => { const a = document.querySelector(s + ' audio');"
        " return a && a.currentSrc && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0"
        " && a.duration >= min; }",
        arg=[selector, at_least], timeout=timeout)
    return audio_state(page, selector)


def assert_audio_plays(page, selector: str) -> None:
    """Press play from the start (as the player's own button does) and see the media time move on."""
    page.evaluate("(s) => { const a = document.querySelector(s + ' audio'); a.currentTime = 0; a.play(); }", selector)
    page.wait_for_function(
        "(s) => { const a = document.querySelector(s + ' audio'); return a.currentTime > 0.1 || a.ended; }",
        arg=selector, timeout=60_000)


def stop_run(page, name: str, *, stop: str, line: str, run: str, run_label: str) -> str:
    """Press Stop and wait until the tab is idle again: the `line` says "Stopped after", the `run` button
    is back to `run_label`, no progress is left. Records the click-to-line seconds; returns the line's text."""
    clicked = time.perf_counter()
    page.locator(stop).click()
    page.locator(line).get_by_text("Stopped after").wait_for(timeout=RUN_WAIT_MS)
    record_stop_latency(name, time.perf_counter() - clicked)
    wait_idle(page, run, run_label)
    assert_no_progress(page, line)
    return page.locator(line).inner_text()


def set_slider(page, selector: str, value: str) -> None:
    """Type `value` into the number box of the gr.Slider at `selector` and wait until the slider itself
    holds it. A slider in an accordion mounts when the accordion opens; on a fast machine a value typed
    at that moment can be lost, and the click after it would send the old one."""
    box, track = page.locator(f"{selector} input[type=number]"), page.locator(f"{selector} input[type=range]")
    track.wait_for(state="visible", timeout=30_000)
    holds = ("([sel, v]) => { const r = document.querySelector(sel + ' input[type=range]');"
             " const b = document.querySelector(sel + ' input[type=number]');"
             " return r && b && Number(r.value) === Number(v) && Number(b.value) === Number(v); }")
    deadline = time.monotonic() + 90
    while True:  # on a busy machine the slider can still be mounting and drop what was typed: type it again
        box.fill(value)
        box.press("Enter")
        try:
            page.wait_for_function(holds, arg=[selector, value], timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: retry until the deadline
            if time.monotonic() > deadline:
                raise


def speak_one_second(page) -> None:
    """Press Speak with Max duration at 1 s (the Voice tab's form already filled) and wait out the run."""
    page.locator("#tts-advanced").get_by_text("Advanced").click()
    set_slider(page, "#tts-max-seconds", "1")
    page.locator("#tts-run").click()
    wait_busy(page, "#tts-run", "Speaking")
    page.locator("#tts-summary").get_by_text("First audio after").wait_for(timeout=RUN_WAIT_MS)
    wait_idle(page, "#tts-run", "Speak")
