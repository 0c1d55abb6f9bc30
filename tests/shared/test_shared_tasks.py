import threading
import time

import pytest

from shared.tasks.cancel import CancelRegistry, Cancelled, CancelToken, stream_in_thread


def test_token_and_registry():
    registry = CancelRegistry()
    token = registry.new("session-a")
    assert not token.cancelled
    assert registry.cancel("session-b") is False
    assert registry.cancel("session-a") is True
    assert token.cancelled
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()
    registry.release("session-a", token)
    assert registry.cancel("session-a") is False


def test_stream_yields_all_items_in_order():
    token = CancelToken()
    assert list(stream_in_thread(lambda: iter(range(20)), token)) == list(range(20))
    assert not token.cancelled


def test_stream_reraises_worker_errors():
    def gen():
        yield 1
        raise ValueError("boom")

    items = []
    with pytest.raises(ValueError, match="boom"):
        for item in stream_in_thread(gen, CancelToken()):
            items.append(item)
    assert items == [1]


def test_consumer_leaving_cancels_the_worker_within_a_step():
    token = CancelToken()
    steps = []
    finished = threading.Event()

    def engine():
        try:
            for step in range(1000):
                token.raise_if_cancelled()
                time.sleep(0.01)  # one "denoising step"
                steps.append(step)
                yield step
        except Cancelled:
            pass
        finished.set()

    stream = stream_in_thread(engine, token)
    assert next(stream) == 0
    stream.close()  # what Gradio does when a client disconnects
    assert token.cancelled
    assert finished.wait(2)
    assert len(steps) < 10
