"""Issue 23 for Long video: one frame-count rule, said where the person chooses and kept by the engine,
and progress that names every stage, only grows, reaches 1.0 and says the time left.

Runs the tiny Helios-Distilled checkpoint on the CPU at 64x64 (one step per pyramid stage)."""
from __future__ import annotations

import pytest

from demos.video import engine, limits, plans
from demos.video.handlers import summary_of
from demos.video.limits import Resolution
from demos.video.run_progress import LATENT_FRAMES_PER_CHUNK, RunProgress
from demos.video.specs import SPECS
from demos.video.variants import VARIANTS
from shared.io.media import probe_video
from shared.models import hub
from shared.models.hardware import HardwareInfo
from shared.tasks.time_left import TimeLeft, duration_words, time_left_phrase
from shared.web.settings import Settings

CPU = HardwareInfo(cuda=False, device_name="cpu", vram_total_gb=0, vram_free_gb=0, ram_total_gb=64,
                   ram_available_gb=60, zerogpu=False)
TEST_RES = Resolution("64x64", 64, 64, "test only")
DISTILLED = VARIANTS["distilled"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The tiny checkpoint written the way the app writes it (hub.fetch), with every progress call kept."""
    for spec in SPECS:
        hub.register(spec)
    root = tmp_path_factory.mktemp("helios-tiny-progress")
    settings = Settings(tiny=True, cache_dir=root / "cache", outputs_dir=root / "outputs")
    calls = []
    model_dir = hub.fetch(DISTILLED.key, settings, lambda f, d: calls.append((f, d)))
    return model_dir, calls


@pytest.fixture(scope="module")
def loaded(written):
    model_dir, _ = written
    calls = []
    eng = engine.load(DISTILLED, progress=lambda f, d: calls.append((f, d)))(
        model_dir, plans.plan(DISTILLED.key, "cpu", CPU))
    return eng, calls


def _request(num_frames: int, steps: int = 1) -> engine.VideoRequest:
    return engine.VideoRequest(prompt="a red fox runs in the snow", mode="t2v", num_frames=num_frames,
                               resolution=TEST_RES, seed=5, settings=DISTILLED.defaults.with_steps(steps))


def _non_decreasing(fractions) -> bool:
    return all(b >= a for a, b in zip(fractions, fractions[1:]))


def test_the_rule_keeps_4k_plus_1_of_the_decoded_chunks():
    # 33N decoded frames leave N mod 4 over a multiple of 4: the trim to 4k+1 drops 0, 1, 2, 3 frames in turn.
    assert [limits.frames_made(n) for n in (33, 66, 99, 132, 165, 198)] == [33, 65, 97, 129, 165, 197]
    assert limits.describe_length(165) == ("You get **165 frames** (6.9 s of video at 24 frames a second), "
                                           "made as 5 chunks of 33.")
    assert "Not 66: Helios trims a video to a length of 4k+1 frames, so 1 frame of the last chunk goes." \
        in limits.describe_length(66)
    assert limits.describe_length(33).endswith("made as 1 chunk of 33.")
    lines = limits.length_lines(231)
    assert list(lines) == [33, 66, 99, 132, 165, 198, 231] and lines[99] == limits.describe_length(99)


@pytest.mark.parametrize("requested", [33, 66, 100, 165])
def test_announced_frames_are_the_frames_of_the_mp4(loaded, tmp_path, requested):
    eng, _ = loaded
    notes = {}
    frames = limits.check_frames(requested, 231, notes)  # the cpu profile's limit
    announced = limits.frames_made(frames)
    assert f"**{announced} frames**" in limits.describe_length(frames)
    result = eng.generate(_request(frames), tmp_path / "out.mp4")
    assert result.frames == announced and probe_video(result.path).frames == announced
    line = summary_of({"frames": result.frames, "fps": 24, "resolution": "64x64", "seed": 5, "elapsed_s": 1.0})
    assert f" {announced} frames (" in line
    if requested == 100:
        assert frames == 99 and announced == 97 and "100 was rounded to 99" in notes["num_frames"]


def test_a_run_names_every_stage_in_order_and_says_the_time_left(loaded, tmp_path):
    eng, _ = loaded
    calls = []
    eng.generate(_request(66), tmp_path / "out.mp4", progress=lambda f, d: calls.append((f, d)))
    fractions, texts = [f for f, _ in calls], [d for _, d in calls]
    assert _non_decreasing(fractions) and fractions[-1] == 1.0 and max(fractions[:-1]) < 1.0
    stages = ["Encoding the prompt", "Chunk 1 of 2 · denoising step 1 of", "Chunk 1 of 2 · decoding frames (VAE), 1 of 9",
              "Chunk 1 of 2 · writing its frames to the mp4", "Chunk 2 of 2 · denoising step 1 of",
              "Chunk 2 of 2 · decoding frames (VAE), 9 of 9", "Chunk 2 of 2 · writing its frames to the mp4",
              "Closing the mp4", "Done"]
    at = [next(i for i, t in enumerate(texts) if t.startswith(stage)) for stage in stages]
    assert at == sorted(at), list(zip(stages, at))
    first_step = at[1]
    # From the first measured step on, every line while the chunks are made says how long is left.
    assert all((" left" in t or "almost done" in t) for t in texts[first_step:at[-2]]), texts


def test_time_left_comes_from_this_runs_measured_pace():
    now = [0.0]
    calls = []
    talk = RunProgress(lambda f, d: calls.append((f, d)), [2, 1], clock=lambda: now[0])
    talk.encoding()
    assert calls[-1] == (0.0, "Encoding the prompt (text encoder)")
    now[0] = 2.0
    talk.step_done()  # 2 s a step; decoding and writing borrow that pace until they are timed
    left = 1 + 1 + 2 * LATENT_FRAMES_PER_CHUNK + 2
    assert calls[-1][1] == f"Chunk 1 of 2 · denoising step 1 of 2 — about {duration_words(2.0 * left)} left"
    now[0] = 4.0
    talk.step_done()
    talk.decoding()
    for _ in range(LATENT_FRAMES_PER_CHUNK):
        now[0] += 10.0  # a slow decode: the estimate follows it
        talk.frame_decoded()
    assert calls[-1][1].endswith(f"about {duration_words(2.0 * 1 + 10.0 * LATENT_FRAMES_PER_CHUNK + 2.0 * 2)} left")
    assert _non_decreasing([f for f, _ in calls])


def test_duration_words():
    assert [duration_words(s) for s in (0.2, 45, 80, 599, 600, 3700, 7200)] == \
        ["1 s", "45 s", "1 min 20 s", "10 min", "10 min", "1 h 2 min", "2 h"]
    assert time_left_phrase(None) == "" and time_left_phrase(0.4) == "almost done"
    assert time_left_phrase(95) == "about 1 min 40 s left"
    pace = TimeLeft()
    assert pace.seconds_left({"step": 3}) is None
    pace.record("step", 2.0)
    assert pace.seconds_left({"step": 3, "decode": 2}, {"decode": "step"}) == 10.0


def test_writing_and_loading_the_checkpoint_report_fractions(written, loaded):
    for calls, expected in ((written[1], ["training its tokenizer (1 of 3)", "building its models (2 of 3)",
                                          "saving its files (3 of 3)"]),
                            (loaded[1], ["text encoder (1 of 3)", "transformer (2 of 3)", "VAE (3 of 3)"])):
        fractions, texts = [f for f, _ in calls], [d for _, d in calls]
        assert _non_decreasing(fractions) and fractions[-1] == 1.0, calls
        for part in expected:
            started = next(i for i, t in enumerate(texts) if t.endswith(part))
            assert 0.0 <= fractions[started] < 1.0
        # Between the first and the last call there are fractions strictly inside (0, 1): no bar stuck at 0 %.
        assert any(0.0 < f < 1.0 for f in fractions), calls
    assert written[1][1][1].startswith("Writing the tiny helios-distilled checkpoint: training its tokenizer")
    assert loaded[1][0][1] == "Loading Helios-Distilled: text encoder (1 of 3)"


def test_finished_chunks_are_kept_when_reports_fail_after_a_stop(loaded, tmp_path):
    """After a Stop nobody may read the run's reports any more: inside a GPU task `emit` then raises
    Cancelled (shared/tasks/cancel.run_in_thread). The mp4 of the finished chunks must still be closed
    (CI once lost a cancelled stream's kept result this way: no mp4, its segments left behind)."""
    from shared.tasks.cancel import Cancelled, CancelToken

    eng, _ = loaded
    cancel = CancelToken()

    def progress(fraction, description=""):
        if cancel.cancelled:  # what emit does once its queue is full and the consumer has gone
            raise Cancelled()

    out = tmp_path / "stopped.mp4"
    try:
        result = eng.generate(_request(99), out, progress=progress, cancel=cancel,
                              on_chunk=lambda update: cancel.cancel())  # Stop as the first chunk is done
    except Cancelled:
        result = None  # the engine may give up reporting; what it finished must be on disk either way
    assert result is None or result.cancelled
    assert probe_video(out).frames == 33
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("segments-")]
