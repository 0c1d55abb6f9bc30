"""The words of a voice run's progress: the engine's frame plan and the talker's time left."""
from __future__ import annotations

from demos.voice.progress_words import GenerationEvent, RunTalker
from demos.voice.voxtral.frame_plan import FramePlan
from shared.tasks.zerogpu import ProgressEvent


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_frame_plan_reports_audio_made_against_the_most_the_request_can_make():
    reports = []
    budget = lambda segment, rate: 50  # noqa: E731 - 4 s per group at 12.5 frames per second
    plan = FramePlan(["one.", "two."], budget, max_frames=75, frame_rate=12.5,
                     progress=lambda f, d="": reports.append((f, d)))
    plan.start_group(0, 0, 50)
    plan.report(25)
    assert reports[0] == (0.0, "Generating: reading the text (sentence group 1 of 2)")
    assert reports[1] == (25 / 75, "Generating: 2.0 s of audio made (sentence group 1 of 2)")  # capped at 75
    # The first group read its text in 30 frames: the bound shrinks to 30 + the second group's 45 left.
    plan.start_group(1, 30, 45)
    assert reports[2][0] == 30 / 75 and "sentence group 2 of 2" in reports[2][1]


def test_talker_says_the_time_left_from_this_runs_own_pace_and_not_too_often():
    clock = Clock()
    talker = RunTalker(every_s=1.0, clock=clock)
    assert talker.hear(ProgressEvent(0.4, "Loading voxtral")) == "Loading voxtral (40%)"
    clock.now = 0.5
    assert talker.hear(ProgressEvent(0.8, "Loading voxtral")) is None  # under a second since the last line
    clock.now = 10.0  # loading took 10 s: it must not count in the generation's pace
    assert talker.hear(GenerationEvent(0.0, "Generating: reading the text")) == "Generating: reading the text"
    clock.now = 20.0  # a quarter made in 10 s: three quarters take 30 s more
    assert talker.hear(GenerationEvent(0.25, "Generating: 1.2 s of audio made")) == \
        "Generating: 1.2 s of audio made, about 30 s left"
    assert talker.line.endswith("about 30 s left")
    # Later, the pace counts from that first step on (it carried the prompt's reading): half made by
    # 25 s is a quarter in 5 s, so the other half takes 10 s more (20 s if paced from the start).
    clock.now = 25.0
    assert talker.hear(GenerationEvent(0.5, "Generating: 2.4 s of audio made")) == \
        "Generating: 2.4 s of audio made, about 10 s left"
