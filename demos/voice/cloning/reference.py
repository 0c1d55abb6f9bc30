"""Reference audio for cloning: decode, mono 24 kHz, trim silence, check length.

Any format the shared decoder reads (WAV, FLAC, OGG, MP3, M4A, WebM from a
browser microphone), any rate and channel count. Resampling is soxr (HQ) via
`shared.io.media`. The accepted length is measured after trimming the leading and
trailing silence, because that is what the model hears.
"""
from __future__ import annotations

import hashlib

import numpy as np

from shared.errors import UserInputError
from shared.io.media import load_audio, trim_silence

SAMPLE_RATE = 24_000  # what PocketTTSFeatureExtractor and the codec expect
MIN_SECONDS = 2.0
MAX_SECONDS = 30.0
# Files may carry silence around the speech; refuse anything longer than this
# before decoding it all (trimming happens after decoding).
MAX_RAW_SECONDS = 120.0
# Peak below -60 dBFS: nothing to clone.
SILENCE_PEAK = 10 ** (-60 / 20)
TRIM_THRESHOLD_DB = -40.0  # frames this far below the peak count as silence


def prepare_reference(path) -> np.ndarray:
    """The reference clip as float32 mono at 24 kHz, trimmed and length-checked."""
    wave, _ = load_audio(path, max_seconds=MAX_RAW_SECONDS, target_sr=SAMPLE_RATE, mono=True)
    return check_reference(wave)


def check_reference(wave: np.ndarray) -> np.ndarray:
    """Trim and validate a mono 24 kHz waveform (also for callers that hold samples)."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise UserInputError(f"The reference audio must be mono samples; got shape {wave.shape}.")
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak < SILENCE_PEAK:
        raise UserInputError(
            "The reference audio is silent (peak below -60 dBFS). Record or upload a clip of someone speaking."
        )
    trimmed = trim_silence(wave, SAMPLE_RATE, threshold_db=TRIM_THRESHOLD_DB)
    seconds = len(trimmed) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise UserInputError(
            f"The reference audio holds {seconds:.1f} s of sound after trimming silence; "
            f"at least {MIN_SECONDS:g} s are needed (accepted: {MIN_SECONDS:g}-{MAX_SECONDS:g} s)."
        )
    if seconds > MAX_SECONDS:
        raise UserInputError(
            f"The reference audio holds {seconds:.1f} s of sound after trimming silence; "
            f"the limit is {MAX_SECONDS:g} s (accepted: {MIN_SECONDS:g}-{MAX_SECONDS:g} s). Cut a shorter clip."
        )
    return np.ascontiguousarray(trimmed, dtype=np.float32)


def content_hash(wave: np.ndarray) -> str:
    """Key of a prepared reference: the same sound gives the same key whatever its container."""
    return hashlib.sha256(np.ascontiguousarray(wave, dtype=np.float32).tobytes()).hexdigest()
