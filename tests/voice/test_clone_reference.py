"""Reference-audio preparation for voice cloning: decode, resample, trim, limits."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from shared.errors import UserInputError
from demos.voice.cloning.reference import (
    MAX_SECONDS,
    MIN_SECONDS,
    SAMPLE_RATE,
    check_reference,
    content_hash,
    prepare_reference,
)


def voiced_tone(seconds: float, sr: int, f0: float = 200.0) -> np.ndarray:
    """A speech-like test signal: a harmonic stack with a syllable-rate envelope."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    return (0.25 * wave * envelope).astype(np.float32)


def dominant_hz(wave: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / sr)[np.argmax(spectrum)])


def test_resamples_44k1_stereo_to_mono_24k(tmp_path):
    sr = 44_100
    left = voiced_tone(3.0, sr)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, 0.5 * left], axis=1), sr)
    wave = prepare_reference(path)
    assert wave.ndim == 1 and wave.dtype == np.float32
    # 3 s of sound at 24 kHz (the edges may lose a few ms to trimming)
    assert abs(len(wave) / SAMPLE_RATE - 3.0) < 0.1
    assert abs(dominant_hz(wave, SAMPLE_RATE) - 200.0) < 2.0
    # mono mix of the two channels: amplitude is the mean (0.75 of the left one)
    assert np.max(np.abs(wave)) == pytest.approx(0.75 * np.max(np.abs(left)), rel=0.05)


def test_other_formats_and_rates(tmp_path):
    wave = voiced_tone(2.5, 16_000)
    path = tmp_path / "ref.flac"
    sf.write(path, wave, 16_000)
    out = prepare_reference(path)
    assert abs(len(out) / SAMPLE_RATE - 2.5) < 0.1


def test_trims_leading_and_trailing_silence(tmp_path):
    sr = SAMPLE_RATE
    speech = voiced_tone(2.5, sr)
    padded = np.concatenate([np.zeros(2 * sr, np.float32), speech, np.zeros(3 * sr, np.float32)])
    path = tmp_path / "padded.wav"
    sf.write(path, padded, sr)
    out = prepare_reference(path)
    # 7.5 s in, about 2.5 s of sound out (the trimmer keeps a 50 ms margin)
    assert 2.4 < len(out) / sr < 2.7


def test_silent_audio_is_refused(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SAMPLE_RATE * 4, np.float32), SAMPLE_RATE)
    with pytest.raises(UserInputError, match="silent"):
        prepare_reference(path)


def test_too_short_names_the_range(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, voiced_tone(1.0, SAMPLE_RATE), SAMPLE_RATE)
    with pytest.raises(UserInputError, match=rf"at least {MIN_SECONDS:g} s"):
        prepare_reference(path)


def test_too_long_names_the_limit(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, voiced_tone(MAX_SECONDS + 5, 8_000), 8_000)
    with pytest.raises(UserInputError, match=rf"limit is {MAX_SECONDS:g} s"):
        prepare_reference(path)


def test_not_audio_is_refused(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all\n" * 50)
    with pytest.raises(UserInputError, match="could not be read as audio"):
        prepare_reference(path)


@pytest.mark.parametrize("value", [None, ""])
def test_no_audio_is_refused(value):
    with pytest.raises(UserInputError, match="No audio"):
        prepare_reference(value)


def test_content_hash_ignores_the_container(tmp_path):
    # the same 16-bit samples in two containers
    samples = np.round(voiced_tone(3.0, SAMPLE_RATE) * 32767).astype(np.int16)
    wav, flac = tmp_path / "a.wav", tmp_path / "a.flac"
    sf.write(wav, samples, SAMPLE_RATE, subtype="PCM_16")
    sf.write(flac, samples, SAMPLE_RATE, subtype="PCM_16")
    assert content_hash(prepare_reference(wav)) == content_hash(prepare_reference(flac))
    other = check_reference(voiced_tone(3.0, SAMPLE_RATE, f0=150.0))
    assert content_hash(other) != content_hash(prepare_reference(wav))


def test_check_reference_wants_mono():
    with pytest.raises(UserInputError, match="mono"):
        check_reference(np.zeros((SAMPLE_RATE * 3, 2), np.float32))


def test_browser_microphone_webm_opus(tmp_path):
    """Browsers record WebM/Opus at 48 kHz; it is decoded with PyAV and resampled."""
    import av

    sr = 48_000
    wave = voiced_tone(2.5, sr)
    path = tmp_path / "mic.webm"
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=sr, layout="mono")
        frame_size = 960
        for start in range(0, len(wave) - frame_size + 1, frame_size):
            frame = av.AudioFrame.from_ndarray(wave[None, start:start + frame_size], format="flt", layout="mono")
            frame.sample_rate = sr
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    out = prepare_reference(path)
    assert abs(len(out) / SAMPLE_RATE - 2.5) < 0.15
    assert abs(dominant_hz(out, SAMPLE_RATE) - 200.0) < 3.0
