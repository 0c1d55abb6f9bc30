"""Progress reporting and cancellation for long work, free of Gradio.

Engines take a `progress(fraction, description)` callable and a
`CancelToken` they check once per step; the UI layer adapts both to Gradio.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterator, TypeVar

Progress = Callable[[float, str], None]
T = TypeVar("T")


def no_progress(fraction: float, description: str = "") -> None:
    """A `Progress` that ignores updates."""


class Cancelled(Exception):
    """Raised inside an engine when its run was cancelled."""


class CancelToken:
    """A flag a Stop button (or a disconnected client) sets and an engine polls."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class CancelRegistry:
    """One live token per session, so a Stop click cancels that session's run."""

    def __init__(self) -> None:
        self._tokens: dict[str, CancelToken] = {}
        self._lock = threading.Lock()

    def new(self, session_id: str | None) -> CancelToken:
        token = CancelToken()
        with self._lock:
            self._tokens[session_id or ""] = token
        return token

    def cancel(self, session_id: str | None) -> bool:
        with self._lock:
            token = self._tokens.get(session_id or "")
        if token is None:
            return False
        token.cancel()
        return True

    def release(self, session_id: str | None, token: CancelToken) -> None:
        with self._lock:
            if self._tokens.get(session_id or "") is token:
                del self._tokens[session_id or ""]


_DONE = object()


def stream_in_thread(make_gen: Callable[[], Iterator[T]], cancel: CancelToken) -> Iterator[T]:
    """Run a generator in a worker thread and yield its items here.

    If the consumer stops early (a client disconnects, Gradio cancels the
    event), `cancel` is set so the worker ends within one engine step, and
    the worker is joined before returning: no run outlives its request.
    """
    items: queue.Queue = queue.Queue(maxsize=4)

    def put(item) -> bool:
        # Bounded put that gives up once the consumer has gone away.
        while True:
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                if cancel.cancelled:
                    return False

    def work() -> None:
        try:
            for item in make_gen():
                if not put((True, item)):
                    return
        except BaseException as exc:  # handed to the consumer thread
            put((False, exc))
            return
        put((True, _DONE))

    worker = threading.Thread(target=work, name="engine-stream", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        if worker.is_alive():
            cancel.cancel()
        worker.join()
