"""The Voice tab's handlers as plain functions, without building Gradio: checks, info, keeping a result
(Voxtral with a stand-in engine, so no model loads), and the cloning section's checks and info."""
from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest

from demos.voice import handlers as voice
from demos.voice import remote as voice_remote
from demos.voice.cloning import handlers as cloning
from demos.voice.limits import MAX_SECONDS
from shared.models import hardware, hub
from shared.errors import UserInputError
from shared.web.settings import Settings
from shared.web.ui import AppContext

LIMITS = voice.VoiceLimits(max_chars=60, max_seconds_cap=20.0,
                           seconds=MAX_SECONDS.capped(20.0, "the limit on profile 'cpu'"))


@pytest.fixture(autouse=True)
def registered():
    from demos.voice.specs import SPECS

    for spec in SPECS:
        hub.register(spec)


@pytest.fixture
def ctx(tmp_path) -> AppContext:
    settings = Settings(tiny=True, cache_dir=tmp_path / "cache", outputs_dir=tmp_path / "outputs")
    return AppContext(settings=settings, hw=hardware.detect(), profile="cpu")


class StandInVoxtral:
    """Two chunks of 0.1 s each; records what it was asked, like the engine's `stream`."""
    sample_rate, device, dtype = 24_000, "cpu", "torch.float32"

    def __init__(self) -> None:
        self.calls = []

    def stream(self, text, voice, seed, options, *, cancel, progress, stats):
        from demos.voice.voxtral.engine import AudioChunk

        self.calls.append((text, voice, seed, options.max_seconds))
        for index in range(2):
            yield AudioChunk(np.full(2_400, 0.1 * (index + 1), np.float32), self.sample_rate, index, index + 1)
        stats.frames, stats.segments, stats.stop_reason = 2, 1, "end_audio"
        stats.total_s, stats.audio_s = 0.05, 0.2


@pytest.fixture
def stand_in(monkeypatch) -> StandInVoxtral:
    engine = StandInVoxtral()
    monkeypatch.setattr(voice_remote, "voxtral_engine", lambda ctx, report: engine)
    return engine


def test_check_request_names_the_bad_value_and_the_limit():
    with pytest.raises(UserInputError, match="voice"):
        voice.check_request(LIMITS, "Hello.", "nobody_at_all", 1, 1.2, 7, 0)
    with pytest.raises(UserInputError, match=r"max_seconds.*20.*profile 'cpu'"):
        voice.check_request(LIMITS, "Hello.", "neutral_female", 1, 1.2, 7, 45)
    with pytest.raises(UserInputError, match="60"):
        voice.check_request(LIMITS, "x" * 61, "neutral_female", 1, 1.2, 7, 0)


def test_check_request_repairs_steps_and_fits_the_limit_to_the_text():
    req = voice.check_request(LIMITS, "Hello there.", "fr_female", 4, 1.5, 6.6, 0)
    assert (req.voice, req.seed, req.options.n_steps) == ("fr_female", 4, 7)
    assert "euler_steps" in req.adjusted
    assert req.options.max_seconds == pytest.approx(voice.auto_max_seconds("Hello there.", 20.0))
    assert voice.auto_max_seconds("x" * 1000, 20.0) == pytest.approx(20.0)  # never past the profile's cap


def test_info_of_a_run_stopped_before_the_task_reported():
    req = voice.check_request(LIMITS, "Hello.", "neutral_female", 9, 1.2, 7, 5)
    info = voice.voxtral_info({"seed": 9}, req, LIMITS, np.zeros(12_000, np.float32), 24_000, None, 0.3, 0.0)
    assert info["stopped"] is True and info["stop_reason"] == "stopped" and info["timings"]["load_s"] is None
    assert info["audio_seconds"] == pytest.approx(0.5) and info["time_to_first_audio_s"] == pytest.approx(0.3)
    assert "adjusted" not in info and info["max_seconds_limit"] == pytest.approx(20.0)
    assert voice.summary_line(info).startswith("**Stopped")


def test_tts_keeps_the_wav_and_its_sidecar_inputs(ctx, stand_in):
    handlers = voice.VoiceHandlers(ctx, LIMITS)
    path, info = handlers.tts("Hello there.", "casual_male", 12, 1.2, 7, 3)
    assert stand_in.calls == [("Hello there.", "casual_male", 12, 3.0)]
    assert path.startswith(str(ctx.outputs_dir / "voice_voxtral")) and path.endswith(".wav")
    assert info["audio_seconds"] == pytest.approx(0.2) and info["stop_reason"] == "end_audio"
    assert (info["stopped"], info["dtype"], info["sample_rate"]) == (False, "float32", 24_000)
    sidecar = json.loads(open(path.rsplit(".", 1)[0] + ".json").read())
    assert sidecar["inputs"] == {"text": "Hello there.", "voice": "casual_male", "seed": 12, "cfg_alpha": 1.2,
                                 "euler_steps": 7, "max_seconds": 3.0, "format": "wav"}


def test_tts_refuses_bad_input_before_the_engine(ctx, stand_in):
    handlers = voice.VoiceHandlers(ctx, LIMITS)
    with pytest.raises(gr.Error, match="voice"):
        handlers.tts("Hello.", "nobody_at_all")
    assert stand_in.calls == []


def test_cloning_checks_say_what_is_missing():
    with pytest.raises(UserInputError, match="reference_audio: no recording was given"):
        cloning.check_request("Say this.", None)
    with pytest.raises(UserInputError, match="consent box"):
        cloning.check_consent(False)
    cloning.check_consent(True)


def test_cloning_ui_event_refuses_without_consent(ctx):
    handlers = cloning.CloneHandlers(ctx)
    with pytest.raises(gr.Error, match="Tick the consent box first"):
        next(handlers.clone_from_ui("Say this.", None, 1, False, "wav", None))


def test_cloning_info_and_consent_record():
    summary = {"stats": {"generate_s": 0.5, "voice_cache": "hit", "chunks": 2, "frames": 25}, "load_s": 0.1,
               "device": "cpu"}
    wave, reference = np.zeros(48_000, np.float32), np.zeros(72_000, np.float32)
    info = cloning.clone_info({"seed": 3}, {"reference_s": 0.01}, wave, reference, summary, 0.2, 0.0)
    assert info["real_time_factor"] == pytest.approx(0.25) and info["reference_seconds"] == pytest.approx(3.0)
    assert info["cancelled"] is False and list(info["timings"])[0] == "reference_s"
    assert "voice reused from the cache" in cloning.clone_summary(info)
    stopped = cloning.clone_info({"seed": 3}, {}, wave[:0], reference, None, None, 0.0)
    assert stopped["cancelled"] is True and stopped["real_time_factor"] is None
    assert cloning.consent_record("api call")["statement"] == cloning.API_CONSENT
    assert cloning.consent_record("consent checkbox")["statement"] == cloning.CONSENT_LABEL
    filled = cloning.reuse_fill({"text": "hi", "seed": 1}, {})
    assert filled["consent"] is False and filled["text"] == "hi" and "mode" in filled
