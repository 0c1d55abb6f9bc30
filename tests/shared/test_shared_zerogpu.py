import sys

from shared.tasks import zerogpu


def test_no_op_off_zerogpu(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    monkeypatch.delenv(zerogpu.CHECK_PICKLE_ENV, raising=False)

    def task(x):
        yield x * 2

    assert zerogpu.gpu_task(duration=30)(task) is task
    assert zerogpu.gpu_task(duration=lambda x: x)(task) is task


# On ZeroGPU the decorator is spaces' own: tests/zerogpu runs the app under the real
# `spaces` package (duration requests, fork, pickling, cancel) instead of a fake here.


def test_importing_the_app_does_not_initialise_cuda():
    import subprocess

    code = ("import torch, demos.app, shared.web.ui, shared.models.hardware; "
            "print(torch.cuda.is_initialized())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_consumer_that_goes_away_gets_its_clean_up_after_the_task_is_over(tmp_path):
    """drive's background close: `on_abandoned` runs once the task has wound down, so files the task
    still writes while stopping (a last partial mp4) are cleaned up too; the consumer's own `finally`
    runs before that, while the task may still be writing."""
    import threading

    from shared.tasks.cancel import CancelToken

    written, cleaned = tmp_path / "late-partial.mp4", threading.Event()
    seen_when_cleaned = {}

    def task():
        try:
            while True:
                yield "chunk"
        finally:  # winding down takes a moment and writes one more file
            cleaned.wait(0.5)
            written.write_bytes(b"x")

    def on_abandoned():
        seen_when_cleaned["written"] = written.exists()
        written.unlink(missing_ok=True)
        cleaned.set()

    events = zerogpu.drive(task(), CancelToken(), on_abandoned=on_abandoned)
    assert next(events) == "chunk"
    events.close()  # what Gradio does when the client cancels its job
    assert cleaned.wait(30), "on_abandoned never ran"
    assert seen_when_cleaned == {"written": True} and not written.exists()
    # The next task gets its turn only after that.
    follow = zerogpu.drive(iter(["next"]), CancelToken())
    assert list(follow) == ["next"]
