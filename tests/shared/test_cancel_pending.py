"""A Stop that reaches the server before its run has made a cancel token still stops that run
(issue #23 item 11), and a Stop with nothing waiting never stops a later run."""
from types import SimpleNamespace

import gradio as gr
from gradio.context import LocalContext

from shared.tasks.cancel import CancelRegistry
from shared.web.ui import AppContext, waiting_events


def test_a_stop_for_a_waiting_run_cancels_it_when_it_starts():
    registry = CancelRegistry()
    assert registry.cancel("s", waiting={"run-1"}) is True  # no token yet: kept for run-1
    token = registry.new("s", "run-1")
    assert token.cancelled


def test_a_stop_with_nothing_waiting_does_not_cancel_a_later_run():
    registry = CancelRegistry()
    assert registry.cancel("s") is False
    assert not registry.new("s", "run-1").cancelled


def test_a_kept_stop_is_only_for_the_events_that_were_waiting():
    registry = CancelRegistry()
    registry.cancel("s", waiting={"gallery-update"})  # e.g. a follow-up event was still in the queue
    assert not registry.new("s", "run-2").cancelled  # a later run is a new event: not stopped
    assert registry.pending("s") == frozenset()  # and the kept Stop is gone


def test_a_kept_stop_is_used_once_and_per_session():
    registry = CancelRegistry()
    registry.cancel("a", waiting={"run-1"})
    assert not registry.new("b", "run-1").cancelled  # another session's run
    assert registry.new("a", "run-1").cancelled
    assert not registry.new("a", "run-1").cancelled  # used up


def test_a_live_token_is_cancelled_directly_and_nothing_is_kept():
    registry = CancelRegistry()
    token = registry.new("s", "run-1")
    assert registry.cancel("s", waiting={"run-1"}) is True
    assert token.cancelled
    assert registry.pending("s") == frozenset()


def test_kept_stops_are_bounded():
    registry = CancelRegistry()
    for i in range(CancelRegistry.MAX_PENDING + 5):
        registry.cancel(f"s{i}", waiting={"e"})
    assert registry.pending("s0") == frozenset()
    assert registry.pending(f"s{CancelRegistry.MAX_PENDING + 4}") == {"e"}


def _fake_queue(session: str, ids: set[str], finished: set[str] = frozenset()):
    return SimpleNamespace(pending_event_ids_session={session: set(ids)},
                           event_ids_to_events={i: object() for i in ids - set(finished)})


def _context() -> AppContext:
    return AppContext.__new__(AppContext)  # only `cancels` is used by stop/cancel_scope


def test_stop_reads_gradios_queue_and_the_run_consumes_it():
    ctx = _context()
    ctx.cancels = CancelRegistry()
    request = SimpleNamespace(session_hash="s")
    blocks_token = LocalContext.blocks.set(SimpleNamespace(_queue=_fake_queue("s", {"run-1", "done-0"}, {"done-0"})))
    try:
        assert waiting_events("s") == {"run-1"}  # a finished event is not waiting
        ctx.stop(request)
        event_token = LocalContext.event_id.set("run-1")
        try:
            with ctx.cancel_scope(request) as cancel:
                assert cancel.cancelled
        finally:
            LocalContext.event_id.reset(event_token)
    finally:
        LocalContext.blocks.reset(blocks_token)


def test_stop_with_an_empty_queue_leaves_the_next_run_alone():
    ctx = _context()
    ctx.cancels = CancelRegistry()
    request = SimpleNamespace(session_hash="s")
    blocks_token = LocalContext.blocks.set(SimpleNamespace(_queue=_fake_queue("other", {"x"})))
    event_token = LocalContext.event_id.set("run-1")
    try:
        ctx.stop(request)
        with ctx.cancel_scope(request) as cancel:
            assert not cancel.cancelled
    finally:
        LocalContext.event_id.reset(event_token)
        LocalContext.blocks.reset(blocks_token)


def test_gradios_queue_has_the_attributes_stop_reads():
    """The names `waiting_events` reads exist in the installed Gradio (a rename would silently lose Stops)."""
    with gr.Blocks() as demo:
        gr.Button().click(lambda: None)
    demo.queue()
    assert isinstance(demo._queue.pending_event_ids_session, dict)
    assert isinstance(demo._queue.event_ids_to_events, dict)
