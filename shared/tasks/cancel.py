"""Progress reporting and cancellation for long work, free of Gradio.

Engines take a `progress(fraction, description)` callable and a
`CancelToken` they check once per step; the UI layer adapts both to Gradio.
"""
from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from typing import Callable, Generator, Iterable, Iterator, TypeVar

from shared.errors import UserInputError

Progress = Callable[[float, str], None]
T = TypeVar("T")
R = TypeVar("R")


def no_progress(fraction: float, description: str = "") -> None:
    """A `Progress` that ignores updates."""


class Cancelled(Exception):
    """Raised inside an engine when its run was cancelled."""


class NothingKept(UserInputError):
    """A run stopped (by its own Stop) before it made anything: the UI says so in words, not as an error;
    the API still refuses, since there is no result to return."""


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
    """One live token per session, so a Stop click cancels that session's run.

    A Stop can reach the server before the run it means has made its token (the run still waits in
    the queue, or is starting): `cancel` is then told which of the session's events are waiting, and
    the first of those to open a token gets it already cancelled. A Stop with nothing waiting leaves
    nothing behind, so it never cancels a later run."""

    MAX_PENDING = 1000  # sessions with a Stop waiting for its run; the oldest go first

    def __init__(self) -> None:
        self._tokens: dict[str, CancelToken] = {}
        self._pending: OrderedDict[str, frozenset[str]] = OrderedDict()  # session -> waiting event ids
        self._lock = threading.Lock()

    def new(self, session_id: str | None, event_id: str | None = None) -> CancelToken:
        """The token of the run `event_id` of this session, cancelled at once if a Stop was meant for it."""
        token = CancelToken()
        with self._lock:
            self._tokens[session_id or ""] = token
            waiting = self._pending.pop(session_id or "", frozenset())
        if event_id is not None and event_id in waiting:
            token.cancel()
        return token

    def cancel(self, session_id: str | None, waiting: Iterable[str] = ()) -> bool:
        """Cancel the session's live run; with none, keep the Stop for one of the `waiting` events."""
        key = session_id or ""
        waiting = frozenset(waiting)
        with self._lock:
            token = self._tokens.get(key)
            if token is None and waiting:
                self._pending[key] = waiting
                self._pending.move_to_end(key)
                while len(self._pending) > self.MAX_PENDING:
                    self._pending.popitem(last=False)
        if token is None:
            return bool(waiting)
        token.cancel()
        return True

    def pending(self, session_id: str | None) -> frozenset[str]:
        """The events a Stop of this session waits for (empty when none)."""
        with self._lock:
            return self._pending.get(session_id or "", frozenset())

    def release(self, session_id: str | None, token: CancelToken) -> None:
        with self._lock:
            if self._tokens.get(session_id or "") is token:
                del self._tokens[session_id or ""]


_DONE = object()


def run_in_thread(run: Callable[[Callable[[T], None]], R], cancel: CancelToken) -> Generator[T, None, R]:
    """Run the blocking call `run(emit)` in a worker thread; yield what it emits.

    `result = yield from run_in_thread(run, cancel)` gives `run`'s return
    value; its exception is re-raised here. If the consumer stops early (a
    client disconnects, Gradio closes the event), `cancel` is set so the
    worker ends within one engine step (`emit` itself raises `Cancelled`
    once nobody listens), and the worker is joined: no run outlives its
    request.
    """
    items: queue.Queue = queue.Queue(maxsize=4)  # backpressure: a slow consumer slows the run

    def emit(item) -> None:
        while True:
            try:
                items.put((True, item), timeout=0.1)
                return
            except queue.Full:
                cancel.raise_if_cancelled()

    def work() -> None:
        try:
            outcome = (True, (_DONE, run(emit)))
        except BaseException as exc:  # handed to the consumer thread
            outcome = (False, exc)
        while True:  # the consumer may be gone: give up once cancelled
            try:
                items.put(outcome, timeout=0.1)
                return
            except queue.Full:
                if cancel.cancelled:
                    return

    worker = threading.Thread(target=work, name="engine-run", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
            if not ok:
                raise item
            if isinstance(item, tuple) and len(item) == 2 and item[0] is _DONE:
                return item[1]
            yield item
    finally:
        if worker.is_alive():
            cancel.cancel()
        worker.join()


def stream_in_thread(make_gen: Callable[[], Iterator[T]], cancel: CancelToken) -> Iterator[T]:
    """`run_in_thread` for a generator: run it in a worker thread, yield its items here."""

    def run(emit: Callable[[T], None]) -> None:
        for item in make_gen():
            emit(item)

    yield from run_in_thread(run, cancel)
