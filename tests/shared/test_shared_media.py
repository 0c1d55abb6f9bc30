import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from shared.io import media
from shared.errors import UserInputError


def write_tone(path, seconds=1.0, sr=44100, channels=2, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    wave = amplitude * np.sin(2 * np.pi * 440 * t)
    sf.write(path, np.stack([wave] * channels, axis=1), sr)
    return path


def test_audio_decode_downmix_and_resample(tmp_path):
    path = write_tone(tmp_path / "a.wav", seconds=1.0, sr=44100, channels=2)
    wave, sr = media.load_audio(path, target_sr=24000)
    assert sr == 24000 and wave.ndim == 1
    assert abs(len(wave) - 24000) <= 2
    assert 0.45 < np.abs(wave).max() <= 0.51


def test_audio_limits_and_bad_files(tmp_path):
    path = write_tone(tmp_path / "a.wav", seconds=1.0)
    with pytest.raises(UserInputError, match="at least 2 s"):
        media.load_audio(path, min_seconds=2)
    with pytest.raises(UserInputError, match="limit is 0.5 s"):
        media.load_audio(path, max_seconds=0.5)
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"this is not audio at all" * 100)
    with pytest.raises(UserInputError, match="could not be read as audio"):
        media.load_audio(fake)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(UserInputError, match="empty"):
        media.load_audio(empty)
    with pytest.raises(UserInputError, match="No audio"):
        media.load_audio(None)


def test_save_audio_round_trip(tmp_path):
    wave = (0.25 * np.sin(np.linspace(0, 100, 24000))).astype(np.float32)
    for suffix in (".wav", ".flac"):
        out = media.save_audio(tmp_path / f"x{suffix}", wave, 24000)
        back, sr = media.load_audio(out)
        assert sr == 24000 and np.allclose(back, wave, atol=1e-3)


def test_trim_silence():
    sr = 24000
    tone = 0.5 * np.sin(np.linspace(0, 2000, sr)).astype(np.float32)
    wave = np.concatenate([np.zeros(sr), tone, np.zeros(sr)]).astype(np.float32)
    trimmed = media.trim_silence(wave, sr)
    assert sr <= len(trimmed) <= sr + int(0.15 * sr)
    assert media.trim_silence(np.zeros(sr, np.float32), sr).size == 0


def test_image_ok_bomb_and_corrupt(tmp_path):
    Image.new("RGB", (64, 32), "red").save(tmp_path / "ok.png")
    assert media.load_image(tmp_path / "ok.png").size == (64, 32)
    Image.new("L", (5000, 5000)).save(tmp_path / "big.png")
    with pytest.raises(UserInputError, match="limit is 1 megapixels"):
        media.load_image(tmp_path / "big.png", max_pixels=1_000_000)
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserInputError, match="truncated or corrupt|not an image"):
        media.load_image(tmp_path / "cut.png")
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(UserInputError, match="not an image"):
        media.load_image(tmp_path / "text.png")


def test_video_writer_segments_snapshot_and_read(tmp_path):
    writer = media.VideoWriter(tmp_path / "out.mp4", fps=24)
    assert writer.snapshot(tmp_path / "none.mp4") is None
    for chunk in range(2):
        writer.write(np.full((48, 64, 3), 60 * chunk + i, np.uint8) for i in range(10))
        writer.end_segment()
        partial = writer.snapshot(tmp_path / f"partial{chunk}.mp4")
        assert media.probe_video(partial).frames == 10 * (chunk + 1)
    final = writer.close()
    info = media.probe_video(final)
    assert (info.frames, info.width, info.height, info.fps) == (20, 64, 48, 24.0)
    frames, info = media.read_video_frames(final, max_frames=100, stride=3)
    assert len(frames) == 7 and frames[0].shape == (48, 64, 3) and info.fps == 24.0
    small, _ = media.read_video_frames(final, max_frames=100, max_side=32)
    assert small[0].shape == (24, 32, 3)
    with pytest.raises(UserInputError, match="more than 5 frames"):
        media.read_video_frames(final, max_frames=5)


def test_video_bad_files(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "image.mp4", format="PNG")
    with pytest.raises(UserInputError):
        media.read_video_frames(tmp_path / "image.mp4", max_frames=10)
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x01junk" * 1000)
    with pytest.raises(UserInputError, match="not a video"):
        media.probe_video(tmp_path / "junk.mp4")
    writer = media.VideoWriter(tmp_path / "v.mp4", fps=24)
    writer.write(np.zeros((480, 640, 3), np.uint8) for _ in range(4))
    path = writer.close()
    with pytest.raises(UserInputError, match="megapixels per frame"):
        media.probe_video(path, max_pixels=100_000)
