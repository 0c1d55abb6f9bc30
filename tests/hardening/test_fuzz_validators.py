"""Fuzz the media validators: whatever bytes arrive under whatever name, the
only outcomes are a decoded result or a UserInputError with a message."""
import io
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from shared.io import media
from shared.errors import UserInputError
from shared.web.ui import resolve_seed

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def valid_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def valid_wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(2400, np.float32), 24000, format="WAV")
    return buffer.getvalue()


def mutate(data: bytes, cut: int, flips: list[int]) -> bytes:
    """Truncate and flip bytes of a valid file: realistic corruption."""
    data = bytearray(data[: max(1, cut % (len(data) + 1))])
    for position in flips:
        data[position % len(data)] ^= 0xFF
    return bytes(data)


def attempt(fn, data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            fn(path)
        except UserInputError as exc:
            assert str(exc).strip(), "a UserInputError must carry a message"


blobs = st.one_of(
    st.binary(min_size=0, max_size=4096),
    st.builds(mutate, st.just(valid_png()), st.integers(0, 10_000), st.lists(st.integers(0, 10_000), max_size=8)),
    st.builds(mutate, st.just(valid_wav()), st.integers(0, 10_000), st.lists(st.integers(0, 10_000), max_size=8)),
)
suffixes = st.sampled_from([".png", ".jpg", ".wav", ".flac", ".mp3", ".mp4", ".webm", ".bin", ""])


@FUZZ
@given(data=blobs, suffix=suffixes)
def test_load_image_never_crashes(data, suffix):
    attempt(lambda p: media.load_image(p, max_pixels=1_000_000), data, suffix)


@FUZZ
@given(data=blobs, suffix=suffixes)
def test_load_audio_never_crashes(data, suffix):
    attempt(lambda p: media.load_audio(p, max_seconds=30, target_sr=24000), data, suffix)


@FUZZ
@given(data=blobs, suffix=suffixes)
def test_read_video_never_crashes(data, suffix):
    attempt(lambda p: media.read_video_frames(p, max_frames=50), data, suffix)


@settings(max_examples=100, deadline=None)
@given(seed=st.one_of(st.none(), st.integers(-(2**70), 2**70), st.just("")))
def test_resolve_seed(seed):
    try:
        value = resolve_seed(seed)
    except UserInputError:
        assert seed is not None and seed >= 2**63
        return
    assert 0 <= value < 2**63
    if isinstance(seed, int) and 0 <= seed < 2**63:
        assert value == seed
