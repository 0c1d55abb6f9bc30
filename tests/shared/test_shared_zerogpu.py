import sys

from shared import zerogpu


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

    code = ("import torch, demos.app, shared.ui, shared.hardware; "
            "print(torch.cuda.is_initialized())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
