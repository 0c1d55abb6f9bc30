"""Every run button of the page reports on its tab's status line (shared.web.ui.on_status_line), while the
named endpoints of the same runs stay the plain handlers that raise gr.Error for API clients (issue #23)."""
from shared.web.settings import Settings

# run button -> its status line
RUNS = {"tts-run": "tts-summary", "clone-run": "clone-summary", "video-run": "video-status",
        "agent-frame-run": "agent-frame-status", "agent-video-run": "agent-video-status",
        "agent-play-run": "agent-play-status"}
ENDPOINTS = {"tts_stream", "clone_voice_stream", "video_stream", "agent_frame", "agent_video", "agent_play"}


def test_every_run_button_reports_on_its_status_line(tmp_path):
    from demos.app import build_app

    app = build_app(Settings.from_args(["--tiny", "--cache-dir", str(tmp_path / "c"), "--outputs-dir",
                                        str(tmp_path / "o")]))
    blocks = app.blocks
    seen = {}
    for fn in app.fns.values():
        if fn.fn is None:
            continue  # the browser-side busy label
        for target_id, _event in fn.targets:
            elem = getattr(blocks.get(target_id), "elem_id", None)
            if elem in RUNS:
                seen[elem] = (fn.fn.__name__, [getattr(o, "elem_id", None) for o in fn.outputs], fn.api_visibility)
    assert set(seen) == set(RUNS), seen
    for button, (name, outputs, visibility) in seen.items():
        assert name.endswith("_from_page"), (button, name)
        assert RUNS[button] in outputs, (button, outputs)
        assert visibility == "private", (button, visibility)
    named = {fn.api_name: fn.fn.__name__ for fn in app.fns.values() if fn.api_name in ENDPOINTS}
    assert set(named) == ENDPOINTS, named
    assert not any(name.endswith("_from_page") for name in named.values()), named
