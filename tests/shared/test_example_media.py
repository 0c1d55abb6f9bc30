"""Start-up skips Gradio's ffprobe of our own example files (shared/web/example_media.py), and only of
them: each listed file really is browser-playable by Gradio's own probe, the page builds its examples
without a single ffprobe, and any other file is still probed."""
from __future__ import annotations

import shutil

import gradio as gr
import pytest
from gradio import processing_utils
from gradio._vendor.ffmpy import ffmpy

from demos.assets import ASSETS_DIR, PLAYABLE_MEDIA, playable_media
from shared.web.example_media import known_playable

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="Gradio probes only where ffmpeg is installed")


@pytest.fixture
def ffmpeg_runs(monkeypatch) -> list[str]:
    """The command line of every ffmpeg/ffprobe Gradio runs while the test builds components."""
    runs: list[str] = []
    original = ffmpy.FFmpeg.run

    def counting(self, *args, **kwargs):
        runs.append(self.cmd)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ffmpy.FFmpeg, "run", counting)
    return runs


def build_examples() -> None:
    with gr.Blocks():
        video, audio = gr.Video(), gr.Audio(type="filepath")
        clip, voice = playable_media()[0], playable_media()[2]
        gr.Examples(examples=[[clip, voice]], inputs=[video, audio])


def test_every_listed_example_file_is_playable_by_gradios_own_probe():
    for path in playable_media():
        probe = processing_utils.video_is_playable if path.endswith(".mp4") else processing_utils.audio_is_playable
        assert probe(path), f"{path} is not browser-playable: it must not skip Gradio's probe"


def test_every_example_video_and_audio_is_listed():
    media = sorted(p.name for p in ASSETS_DIR.iterdir() if p.suffix in {".mp4", ".webm", ".flac", ".wav", ".mp3"})
    assert media == sorted(PLAYABLE_MEDIA)


def test_examples_build_without_ffprobe_inside_and_with_it_outside(ffmpeg_runs):
    build_examples()
    probed_without = len(ffmpeg_runs)
    assert probed_without >= 2, "Gradio no longer probes example media: known_playable may be dropped"
    ffmpeg_runs.clear()
    with known_playable(playable_media()):
        build_examples()
    assert ffmpeg_runs == [], ffmpeg_runs


def test_other_files_are_still_probed_inside_and_the_probe_is_restored_after(ffmpeg_runs, tmp_path):
    other = tmp_path / "upload.mp4"
    shutil.copy(playable_media()[0], other)
    with known_playable(playable_media()):
        assert processing_utils.video_is_playable(str(other))
    assert len(ffmpeg_runs) == 1
    before = processing_utils.video_is_playable
    with known_playable(playable_media()):
        pass
    assert processing_utils.video_is_playable is before
    processing_utils.video_is_playable(playable_media()[0])
    assert len(ffmpeg_runs) == 2, "the listed file is probed again once the page is built"
