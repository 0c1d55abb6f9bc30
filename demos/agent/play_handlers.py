"""Play's handlers: one episode as a GPU task, streamed to the page and the API, kept in History.

Plain functions of the app context; play_tab.py wires them to Gradio events. The episode runs as one
GPU task in the shared shape (shared/tasks/zerogpu.py): the game is created inside the task from plain
settings, events are plain values, closing the task (Stop, a client leaving) ends the episode within
one chunk, and the recording it wrote is kept. The random baseline plays the same settings after it,
off the GPU.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from shared.errors import UserInputError
from shared.io.outputs import companion_path, new_output_path, sidecar_path, write_sidecar
from shared.io.params import SEED
from shared.web.visitors import owner_of
from shared.tasks.cancel import NothingKept
from shared.tasks.zerogpu import TaskResult, drive, engine_events, gpu_task

from .plans import MODEL_KEY
from .play.catalog import GAMES
from .play.loop import PlayChunk, PlayFrame
from .play.session import EpisodeSpec
from .play.specs import GAME, MAX_SECONDS, MODE, scenario_for

log = logging.getLogger("release_hub")
DEMO = "agent_play"
INPUT_NAMES = ("game", "scenario", "seed", "mode", "max_seconds")


def check_play_inputs(game, scenario, seed, mode, max_seconds) -> EpisodeSpec:
    """The episode's settings from raw values, or our message naming the bad one."""
    game = GAME.check(game)
    return EpisodeSpec(game=game, scenario=scenario_for(game).check(scenario), seed=SEED.check(seed),
                       mode=MODE.check(mode), max_seconds=float(MAX_SECONDS.check(max_seconds)))


class OnePerVisitor:
    """At most one episode per visitor at a time: a second one is refused, not queued."""

    def __init__(self) -> None:
        self._playing: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, who: str | None) -> Iterator[None]:
        key = who or "local"
        with self._lock:
            if key in self._playing:
                raise UserInputError("An episode is already playing for you: stop it (or wait for it to end) "
                                     "before starting another.")
            self._playing.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._playing.discard(key)


def task_seconds(spec: EpisodeSpec, files: dict) -> float:
    """ZeroGPU reservation: start-up, then the episode at up to 2.5x slower than real time (an estimate)."""
    return 30 + 2.5 * spec.max_seconds


def make_play_task(ctx, engine_for):
    """The episode's GPU task: `play_task(spec, files)` yields PlayFrame / PlayChunk, then TaskResult(record)."""
    from .play.agents import NitroGenAgent
    from .play.session import run_episode

    @gpu_task(duration=task_seconds)
    def play_task(spec: EpisodeSpec, files: dict):
        def work(emit, cancel):
            agent = NitroGenAgent(engine_for(ctx, None), spec.seed)
            return run_episode(spec, agent, emit=emit, cancel=cancel, mp4=files.get("video"),
                               actions=files.get("actions"), pace=files.get("pace", True))

        yield from engine_events(work)

    return play_task


def _seconds(value) -> str:
    return f"{value:.1f} s" if value is not None else "-"


def status_markdown(spec: EpisodeSpec, stats: dict, pad: dict | None = None, final: str | None = None) -> str:
    """The live line under the game: mode and slow-down said plainly, game numbers, the pad."""
    if spec.mode == "lockstep":
        slow = stats.get("slowdown")
        pace = ("the game waits for each chunk of actions" +
                (f"; it plays **{slow:.1f}× slower than real time**" if slow and slow > 1.05 else
                 ", at real-time speed" if slow else ""))
        head = f"**Lockstep**: {pace}."
    else:
        head = (f"**Real time**: the game runs on while the next chunk is computed; **{stats.get('late_chunks', 0)} "
                f"late chunks** (pad released for {_seconds(stats.get('idle_s'))} in all).")
    model = stats.get("model_s_last")
    line = (f"Score **{stats.get('score')}** · health {stats.get('health'):g} · kills {stats.get('kills')} · "
            f"ammo {stats.get('ammo')} · game time {_seconds(stats.get('game_time_s'))} of {spec.max_seconds:g} s · "
            f"chunks {stats.get('chunks')} · the model takes {model * 1000:.0f} ms per chunk"
            if model is not None else
            f"Score **{stats.get('score')}** · game time {_seconds(stats.get('game_time_s'))}")
    parts = [final or head, line]
    if pad is not None:
        parts.append(f"Pad: {' '.join(pad['pressed']) or 'no buttons'} · left stick {pad['j_left']} · "
                     f"right stick {pad['j_right']} (+y = down)")
    return "  \n".join(parts)


def final_markdown(spec: EpisodeSpec, record: dict, baseline: dict | None) -> str:
    agent = record["stats"]
    if record["end_reason"] == "stopped":
        said = (f"**Stopped after {agent['wall_s']:.1f} s.** Kept what was played ({agent['game_time_s']:.1f} s of "
                f"game time): NitroGen scored **{agent['score']}**")
    else:
        ends = {"game over": "the game ended", "time limit": "the time limit was reached"}
        said = (f"**Episode over** ({ends.get(record['end_reason'], record['end_reason'])}): NitroGen scored "
                f"**{agent['score']}**")
    if baseline is not None:
        said += f", the random baseline **{baseline['score']}** (same scenario and seed, {baseline['tics']} tics)"
    return status_markdown(spec, agent, final=said + ".")


def chunk_payload(event: PlayChunk) -> dict:
    """What the API gets per chunk: its index, the 18 actions and the stats after it."""
    from .play.agents import compact

    return {"chunk": event.index, "actions": compact(event.actions), "stats": event.stats}


def _output_files(ctx) -> dict:
    mp4 = new_output_path(ctx.outputs_dir, "agent", "mp4")
    return {"video": str(mp4), "actions": str(companion_path(mp4, "actions", "json"))}


def _remove_unkept(files: dict) -> None:
    """A recording no sidecar lists (its client went away) is removed: History never sees it."""
    video = Path(files["video"])
    if not sidecar_path(video).exists():
        for path in (video, Path(files["actions"])):
            path.unlink(missing_ok=True)


def _wait_for_gpu(cancel) -> Iterator[None]:
    """Yield (so Stop and a leaving client reach us) while another GPU task holds the turn."""
    from shared.tasks import zerogpu

    while zerogpu._GPU_TURN.locked() and not cancel.cancelled:  # noqa: SLF001 - read-only peek; drive takes it
        yield
        time.sleep(0.25)


def baseline_summary(base: dict) -> dict:
    return {"agent": "random", "score": base["score"], "end_reason": base["end_reason"], "tics": base["tics"],
            "max_seconds": base["max_seconds"], "stats": base["stats"]}


def _record_from_file(files: dict) -> dict | None:
    """The record the task wrote with its recording (a stopped task yields no TaskResult)."""
    import json

    path = Path(files["actions"])
    return json.loads(path.read_text())["record"] if path.exists() else None


class PlayHandlers:
    """The Play section's work: `stream` (a generator of updates) and `episode` (the finished one)."""

    def __init__(self, ctx, engine_for):
        self.ctx = ctx
        self.task = make_play_task(ctx, engine_for)
        self.visitors = OnePerVisitor()

    def stream(self, game, scenario, seed, mode, max_seconds, request=None, *, pace: bool = True) -> Iterator[dict]:
        """Updates: {"frame", "status"} per live frame, {"chunk"} per chunk, then the final one with
        {"record", "video", "actions", "status"}."""
        spec = check_play_inputs(game, scenario, seed, mode, max_seconds)
        with self.visitors.claim(owner_of(request)), self.ctx.cancel_scope(request) as cancel:
            for _ in _wait_for_gpu(cancel):
                yield {"status": "Waiting for the GPU: another run is using it."}
            files = {**_output_files(self.ctx), "pace": pace}
            yield {"status": f"Starting {GAMES[spec.game].title}, {spec.scenario} (seed {spec.seed})…"}
            record = yield from self._play(spec, files, cancel)
            yield self._finish(spec, files, record)

    def _play(self, spec: EpisodeSpec, files: dict, cancel) -> Iterator[dict]:
        record = None
        events = drive(self.task(spec, files), cancel, on_abandoned=lambda: _remove_unkept(files))
        for event in events:
            if isinstance(event, PlayFrame):
                yield {"frame": event.image, "status": status_markdown(spec, event.stats, event.pad)}
            elif isinstance(event, PlayChunk):
                yield {"chunk": chunk_payload(event)}
            elif isinstance(event, TaskResult):
                record = event.value
        return record or _record_from_file(files)

    def _finish(self, spec: EpisodeSpec, files: dict, record: dict | None) -> dict:
        from .play.session import run_baseline

        if record is None or not record.get("tics"):
            _remove_unkept(files)
            raise NothingKept("Stopped before the first chunk was played: nothing was kept.")
        baseline = baseline_summary(run_baseline(spec, record))
        info = {**self.ctx.base_info(MODEL_KEY, spec.seed), "episode": spec.to_dict(),
                "agent": {k: v for k, v in record.items() if k != "files"}, "baseline": baseline}
        # The handler's own paths: a stopped task's record (read back from its file) has no "files" entry.
        video, actions = files["video"], files["actions"]
        write_sidecar(video, info, demo=DEMO, files={"actions": actions},
                      inputs={**spec.to_dict(), "max_seconds": int(spec.max_seconds)})
        log.info("Play episode kept: %s, %s, seed %s, score %s (baseline %s)", spec.game, spec.scenario, spec.seed,
                 record["score"], baseline["score"])
        return {"record": info, "video": video, "actions": actions,
                "status": final_markdown(spec, record, baseline)}

    def episode(self, game, scenario, seed, mode, max_seconds, request=None) -> dict:
        """The finished episode (lockstep runs as fast as the model allows: no real-time pacing)."""
        final = {}
        for update in self.stream(game, scenario, seed, mode, max_seconds, request, pace=False):
            final = update
        return final
