import sys
import types

from shared import zerogpu


def test_no_op_off_zerogpu(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def task(x):
        return x * 2

    assert zerogpu.gpu_task(duration=30)(task) is task
    assert zerogpu.gpu_task(duration=lambda x: x)(task) is task


def test_wraps_spaces_gpu_with_a_computed_duration(monkeypatch):
    seen = {}

    def fake_gpu(duration):
        def wrap(fn):
            def run(*args, **kwargs):
                seen["duration"] = duration(*args, **kwargs) if callable(duration) else duration
                return fn(*args, **kwargs)
            return run
        return wrap

    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=fake_gpu))

    @zerogpu.gpu_task(duration=lambda prompt, frames: 10 + frames * 0.5)
    def generate(prompt, frames):
        return f"{prompt}:{frames}"

    assert generate("cat", frames=99) == "cat:99"
    assert seen["duration"] == 60  # 10 + 99 * 0.5 = 59.5, rounded
    assert generate("cat", frames=10_000) == "cat:10000"
    assert seen["duration"] == zerogpu.MAX_DURATION_S  # clamped

    @zerogpu.gpu_task(duration=45)
    def fixed():
        return 1

    assert fixed() == 1 and seen["duration"] == 45


def test_importing_the_app_does_not_initialise_cuda():
    import subprocess

    code = ("import torch, demos.app, shared.ui, shared.hardware; "
            "print(torch.cuda.is_initialized())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
