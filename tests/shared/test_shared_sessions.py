"""shared/web/sessions.py: lean Gradio sessions behave like Gradio's own, and idle ones are dropped."""
import datetime

import gradio as gr
import pytest
from gradio.state_holder import SessionState

from shared.web import sessions
from shared.web.sessions import CLOSED_TTL_S, LeanStateHolder


@pytest.fixture
def blocks():
    with gr.Blocks() as demo:
        state = gr.State({"seed": 1})
        box = gr.Textbox("hello")
        menu = gr.Dropdown(["a", "b"], value="a")
        box.submit(lambda s, t: (s, t), [state, box], [state, box], api_name="echo")
    demo.release_ids = {"state": state._id, "box": box._id, "menu": menu._id}
    return demo


def holder_for(blocks, ttl_s=100.0):
    holder = LeanStateHolder(ttl_s=ttl_s)
    holder.set_blocks(blocks)
    return holder


def test_same_attributes_as_gradio_session_state(blocks):
    # A Gradio upgrade that adds a SessionState attribute must be mirrored in LeanSessionState.__init__.
    lean = holder_for(blocks)["one"]
    assert set(vars(SessionState(blocks))) <= set(vars(lean))


def test_keeps_no_per_block_copies_until_a_block_is_replaced(blocks):
    holder = holder_for(blocks)
    one, two = holder["one"], holder["two"]
    assert one.config_values == {}
    assert one.blocks_config.blocks is blocks.default_config.blocks  # shared, not copied
    one._update_value_in_config(blocks.release_ids["box"], "typed")  # Gradio calls this on every event
    assert one.config_values == {}


def test_state_values_are_per_session(blocks):
    holder = holder_for(blocks)
    state_id = blocks.release_ids["state"]
    holder["one"][state_id] = {"seed": 7}
    assert holder["one"][state_id] == {"seed": 7}
    assert holder["two"][state_id] == {"seed": 1}
    assert holder["one"].blocks_config.blocks is blocks.default_config.blocks  # a State is no block change


def test_a_replaced_block_stays_in_its_session(blocks):
    holder = holder_for(blocks)
    menu_id = blocks.release_ids["menu"]
    replaced = gr.Dropdown(["x", "y"], value="x", render=False)
    holder["one"][menu_id] = replaced
    assert holder["one"][menu_id] is replaced
    assert holder["two"][menu_id] is blocks.blocks[menu_id]
    assert blocks.default_config.blocks[menu_id] is blocks.blocks[menu_id]
    configs = {c["id"]: c for c in holder["one"].components}
    assert configs[menu_id]["props"]["choices"] == [("x", "x"), ("y", "y")]
    assert set(configs) == set(SessionState(blocks).config_values)  # the deep link's view: every block


def test_idle_sessions_are_dropped_busy_ones_kept(blocks):
    holder = holder_for(blocks, ttl_s=100.0)
    for session in ("idle", "busy", "recent"):
        holder[session]
    now = datetime.datetime.now()
    holder.time_last_used["idle"] = holder.time_last_used["busy"] = now - datetime.timedelta(seconds=101)
    pending = blocks._queue.pending_event_ids_session
    pending["busy"], pending["idle"] = {"event-1"}, set()  # Gradio leaves an empty set once events are read
    try:
        assert holder.drop_idle_sessions(now) == 1
        assert "idle" not in pending and pending["busy"] == {"event-1"}
    finally:
        pending.pop("busy", None), pending.pop("idle", None)
    assert set(holder.session_data) == {"busy", "recent"} and "idle" not in holder.time_last_used


def test_closed_sessions_go_after_an_hour_at_most(blocks):
    holder = holder_for(blocks, ttl_s=24 * 3600.0)
    holder["open"], holder["closed"]
    holder["closed"].is_closed = True
    now = datetime.datetime.now()
    for session in ("open", "closed"):
        holder.time_last_used[session] = now - datetime.timedelta(seconds=CLOSED_TTL_S + 1)
    assert holder.drop_idle_sessions(now) == 1
    assert set(holder.session_data) == {"open"}


def test_ttl_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv(sessions.TTL_ENV, "30")
    assert sessions.session_ttl_s() == 30.0
    for bad in ("soon", "0", "-5", "nan"):
        caplog.clear()
        monkeypatch.setenv(sessions.TTL_ENV, bad)
        assert sessions.session_ttl_s() == sessions.DEFAULT_TTL_S
        assert [r.getMessage() for r in caplog.records] == [
            f"{sessions.TTL_ENV} must be a number of seconds above 0, got '{bad}': using 86400"]
