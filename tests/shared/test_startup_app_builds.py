"""Start-up builds no FastAPI app before launch (GuardedBlocks.__exit__ and .queue); launch builds the one that serves."""
from __future__ import annotations

import gradio as gr
from gradio.routes import App

from demos.app import build_app
from shared.web.settings import Settings
from shared.web.ui import GuardedBlocks


def count_app_builds(monkeypatch) -> list:
    built = []
    real = App.__dict__["create_app"].__func__

    def counting(blocks, *args, **kwargs):
        built.append(blocks)
        return real(blocks, *args, **kwargs)

    monkeypatch.setattr(App, "create_app", staticmethod(counting))
    return built


def build(tmp_path):
    return build_app(Settings.from_args(["--tiny", "--cache-dir", str(tmp_path / "cache"),
                                         "--outputs-dir", str(tmp_path / "out")]))


def test_build_app_makes_one_fastapi_app_fewer_and_a_working_queue(monkeypatch, tmp_path):
    built = count_app_builds(monkeypatch)
    app = build(tmp_path)
    ours = len(built)
    assert app._queue is not None and app._queue.max_size == 64
    assert app.app is None  # launch() builds the app that serves
    built.clear()
    monkeypatch.setattr(GuardedBlocks, "queue", gr.Blocks.queue)  # Gradio's own queue() and __exit__
    monkeypatch.setattr(GuardedBlocks, "__exit__", gr.Blocks.__exit__)
    build(tmp_path)
    assert ours == 0 and len(built) >= 2  # Gradio builds (and later throws away) at least two


def test_queue_leaves_create_app_as_it_was_and_other_blocks_alone(monkeypatch):
    built = count_app_builds(monkeypatch)
    before = App.__dict__["create_app"]
    with GuardedBlocks() as ours:
        gr.Textbox()
    with gr.Blocks() as other:
        gr.Textbox()
    before_queue = {"ours": built.count(ours), "other": built.count(other)}
    ours.queue()
    other.queue()  # a plain Blocks still gets Gradio's own behaviour
    assert App.__dict__["create_app"] is before
    assert built.count(ours) == 0 and ours.app is None
    assert built.count(other) == before_queue["other"] + 1 and isinstance(other.app, App)
