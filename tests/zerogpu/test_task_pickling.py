"""Every GPU task's arguments and events cross a process boundary on ZeroGPU: pickle them as spaces does.

The app is built in this process with `RELEASE_HUB_CHECK_PICKLE=1`, so each
task pickles its arguments and every event with
`multiprocessing.reduction.ForkingPickler.dumps` (what spaces' queues use)
and counts them; each endpoint is called once through gradio_client.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import handle_file
from PIL import Image

from serving import free_port, patient_client
from shared.tasks import zerogpu

TASKS = {"voxtral_task", "clone_task", "video_task", "agent_task"}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pickling")
    mp = pytest.MonkeyPatch()
    mp.setenv(zerogpu.CHECK_PICKLE_ENV, "1")
    mp.setenv("GRADIO_TEMP_DIR", str(tmp / "uploads"))
    from demos.app import build_app, launch
    from shared.web.settings import Settings

    settings = Settings.from_args(["--tiny", "--cache-dir", str(tmp / "cache"), "--outputs-dir", str(tmp / "out"),
                                   "--port", str(free_port()), "--host", "127.0.0.1"])
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield patient_client(f"http://127.0.0.1:{settings.port}/"), tmp
    finally:
        app.close()
        mp.undo()


def test_every_gpu_task_pickles_its_arguments_and_events(app_client):
    client, tmp = app_client
    rng = np.random.default_rng(0)
    png = tmp / "frame.png"
    Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)).save(png)
    sr = 24_000
    t = np.arange(3 * sr) / sr
    wav = tmp / "reference.wav"
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 200 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32), sr)

    client.predict(text="Pickle me.", voice="neutral_female", seed=1, max_seconds=0.8, api_name="/tts")
    client.predict(text="Pickle me.", reference_audio=handle_file(str(wav)), seed=1, api_name="/clone_voice")
    client.predict(prompt="a cat", mode="i2v", image=handle_file(str(png)), video=None, num_frames=33,
                   variant="distilled", seed=1, api_name="/video")
    actions = client.predict(frame=handle_file(str(png)), api_name="/agent_frame")
    assert len(actions["steps"]) == 18

    counted = {name.rsplit(".", 1)[-1]: n for name, n in zerogpu.PICKLED.items()}
    assert TASKS <= set(counted), f"tasks seen: {sorted(counted)}"
    for name in TASKS:
        assert counted[name]["calls"] >= 1 and counted[name]["events"] >= 2, (name, counted[name])
    json.dumps(counted)  # plain numbers only


def test_a_task_that_would_hand_over_an_engine_is_refused():
    """The check is real: an unpicklable event (a lock, as an engine holds) fails loudly."""
    import threading

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(zerogpu.CHECK_PICKLE_ENV, raising=False)

        @zerogpu.gpu_task(duration=5)
        def leaky():
            yield threading.Lock()

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(zerogpu.CHECK_PICKLE_ENV, "1")

        @zerogpu.gpu_task(duration=5)
        def leaky_checked():
            yield threading.Lock()

        with pytest.raises(TypeError, match="cannot cross the ZeroGPU process boundary"):
            list(leaky_checked())
    assert isinstance(next(leaky()), type(threading.Lock()))  # unchecked off ZeroGPU, as before


def test_gpu_tasks_must_be_generators():
    with pytest.raises(TypeError, match="generator"):
        zerogpu.gpu_task(duration=5)(lambda: 1)


def test_drive_closes_the_task_when_stop_is_pressed():
    from shared.tasks.cancel import CancelToken

    closed = []

    def task():
        try:
            for i in range(100):
                yield i
        finally:
            closed.append(True)

    cancel = CancelToken()
    seen = []
    for event in zerogpu.drive(task(), cancel):
        seen.append(event)
        if event == 3:
            cancel.cancel()
    assert seen == [0, 1, 2, 3] and closed == [True]


def test_engine_events_cancels_the_engine_when_the_task_is_closed():
    import threading

    started, stopped = threading.Event(), threading.Event()

    def work(emit, cancel):
        started.set()
        while not cancel.cancelled:
            emit(zerogpu.ProgressEvent(0.5, "step"))
        stopped.set()
        return "never seen"

    gen = zerogpu.engine_events(work)
    assert isinstance(next(gen), zerogpu.ProgressEvent)
    gen.close()  # what spaces does in its worker when the request side stops
    assert stopped.wait(30) and started.is_set()


def test_durations_are_clamped_to_what_zerogpu_allows():
    assert zerogpu.clamp_duration(0.2) == 1
    assert zerogpu.clamp_duration(59.5) == 60
    assert zerogpu.clamp_duration(10_000) == zerogpu.MAX_DURATION_S


def test_a_client_that_goes_away_does_not_wait_for_the_task_to_wind_down():
    """Gradio closes the handler on job.cancel(); that close returns at once, the task
    winds down in the background, and the next task waits for it."""
    import threading
    import time

    may_finish, finished = threading.Event(), threading.Event()

    def slow_to_stop():
        try:
            while True:
                yield zerogpu.ProgressEvent(0.1)
        finally:
            may_finish.wait(60)  # e.g. spaces waiting for its worker's last step
            finished.set()

    consumer = zerogpu.drive(slow_to_stop())
    next(consumer)
    started = time.monotonic()
    consumer.close()
    assert time.monotonic() - started < 5 and not finished.is_set()
    second = []
    runner = threading.Thread(target=lambda: second.extend(zerogpu.drive(iter([1, 2]))))
    runner.start()
    runner.join(1.0)
    assert runner.is_alive() and not second  # waiting for its turn
    may_finish.set()
    runner.join(60)
    assert finished.is_set() and second == [1, 2]
