"""Play in headless chromium against `release-hub --tiny`: the live frame updates while NitroGen plays,
the status line says the mode and the numbers, and Stop ends the episode, keeping what was played
(the episode's mp4, the baseline's score). Screenshots are kept under tests/artifacts/screenshots/."""
from __future__ import annotations

import json
import time

from browser_helpers import RUN_WAIT_MS, SCREENSHOTS, save_screenshot, set_slider, stop_run, wait_busy


def live_src(page) -> str | None:
    return page.evaluate("() => { const i = document.querySelector('#agent-play-live img'); return i ? i.src : null; }")


def test_play_shows_live_frames_and_stop_keeps_the_episode(tiny_server, browser_page):
    page = browser_page
    page.goto(tiny_server)
    page.get_by_role("tab", name="Game agent", exact=True).click()
    page.get_by_role("tab", name="Play", exact=True).click()
    assert "Freedoom" in page.locator("#agent-play-licence").inner_text()
    # The whole first level of Freedoom: the episode cannot end by dying in a few seconds, as a scenario can.
    page.locator("#agent-play-scenario input").click()
    page.get_by_role("option", name="Freedoom: Phase 2, MAP01").click()
    set_slider(page, "#agent-play-seconds", "60")
    page.locator("#agent-play-run").click()
    wait_busy(page, "#agent-play-run", "Playing")
    page.wait_for_function("document.querySelector('#agent-play-live img') !== null", timeout=RUN_WAIT_MS)
    # The live frame changes while the game plays. How fast depends on the model and the machine (>= 10 shown
    # frames/s where the model keeps up; a busy 2-core box is slower): wait for 3 changes, record the rate.
    seen, start = {live_src(page)}, time.perf_counter()
    while len(seen) < 4 and time.perf_counter() - start < 120:
        seen.add(live_src(page))
        time.sleep(0.03)
    shown_fps = (len(seen) - 1) / (time.perf_counter() - start)
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)  # a clean clone has no artifacts folder yet
    (SCREENSHOTS.parent / "play_live_fps.json").write_text(json.dumps({"distinct_frames_per_s": round(shown_fps, 2)}))
    assert len(seen) >= 4, f"the live frame changed only {len(seen) - 1} times in 120 s"
    status = page.locator("#agent-play-status").inner_text()
    assert "Lockstep" in status and "Score" in status and "ms per chunk" in status and "Pad:" in status
    save_screenshot(page, "play-live")
    assert "of 60 s" in status and page.locator("#agent-play-run").is_disabled(), "the episode is not playing"
    text = stop_run(page, "play", stop="#agent-play-stop", line="#agent-play-status", run="#agent-play-run",
                    run_label="Play")
    assert "Kept what was played" in text and "random baseline" in text
    # The episode played so far is kept: its mp4 is in the player.
    page.wait_for_function("document.querySelector('#agent-play-video video') !== null", timeout=60_000)
    save_screenshot(page, "play-stopped")
