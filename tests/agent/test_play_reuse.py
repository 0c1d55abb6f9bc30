"""History's "Reuse settings" for a Play episode: the sidecar's inputs fill game, scenario, seed, mode and
limit back into the Play section and select its sub-tab."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from demos.agent.play_tab import build_play_section
from shared.web.reuse import ReuseRegistry


def test_reuse_fills_the_play_section_and_opens_its_tab(tmp_path):
    ctx = SimpleNamespace(reuse=ReuseRegistry(), stop=lambda request: None, outputs_dir=tmp_path)
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("Play", id="agent-play-tab"):
                build_play_section(ctx, tabs, engine_for=None)
    inputs = {"game": "vizdoom", "scenario": "basic", "seed": 7, "mode": "realtime", "max_seconds": 12}
    target, filled, notes = ctx.reuse.values_for({"demo": "agent_play", "id": "agent/x", "inputs": inputs}, {})
    assert target.tab == "agent" and not notes
    by_id = {getattr(c, "elem_id", None): v for c, v in filled.items()}
    assert by_id["agent-play-scenario"] == "basic" and by_id["agent-play-seed"] == 7
    assert by_id["agent-play-mode"] == "realtime" and by_id["agent-play-seconds"] == 12
    assert any(isinstance(v, gr.Tabs) and v.selected == "agent-play-tab" for v in filled.values())
