"""Run work that arrives outside Gradio (a FastAPI route) through the app's own Gradio queue.

Why the queue and not a lock: the tabs' model events already wait in Gradio's
queue under `concurrency_id="gpu"` (limit 1). A job submitted here becomes a real
event of that queue (a hidden, private endpoint registered with the same
concurrency id), so an HTTP request waits its turn in the same FIFO line as a
tab click, counts against the same `max_size` (a full queue is refused the same
way), and runs in a Gradio worker thread like any event (so `spaces.GPU` works
the same on ZeroGPU). A separate lock would let HTTP callers overtake the line
or hold a worker slot while waiting.

The job's own results travel through the `Job` object (a thread-safe hand-over
to the asyncio side), never through Gradio components. The queue internals used
(`Blocks._queue.push`, the per-session message queues the SSE route drains) are
those of gradio 6 (`gradio>=6.31,<7` in pyproject); tests/openai exercise them.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from typing import Any, Callable

import gradio as gr

from shared.tasks.cancel import CancelToken

log = logging.getLogger("release_hub")

_DONE = object()


class QueueFull(Exception):
    """The Gradio queue refused the job (its max_size is reached)."""


class Job:
    """One submitted job: `await job.next()` yields what `work(job)` emits, in order."""

    def __init__(self, work: Callable[["Job"], None], loop: asyncio.AbstractEventLoop) -> None:
        self.id = secrets.token_hex(16)
        self.work = work
        self.cancel_token = CancelToken()  # the work checks it between steps
        self.started = threading.Event()
        self._loop = loop
        self._items: asyncio.Queue = asyncio.Queue()

    # -- worker side (Gradio's thread)
    def emit(self, item: Any) -> None:
        self._loop.call_soon_threadsafe(self._items.put_nowait, item)

    def _run(self) -> None:
        self.started.set()
        try:
            if not self.cancel_token.cancelled:
                self.work(self)
        except BaseException as exc:  # handed to the route, which maps it to an HTTP answer
            self.emit(exc)
        finally:
            self.emit(_DONE)

    # -- route side (asyncio)
    async def next(self) -> Any:
        """The next emitted item; raises what the work raised; StopAsyncIteration at the end."""
        item = await self._items.get()
        if item is _DONE:
            self._items.put_nowait(_DONE)  # later calls end too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def cancel(self) -> None:
        """The caller left: a job still waiting returns at once; a running one sees `cancel_token`."""
        self.cancel_token.cancel()


def _as_queue_join(request):
    """The caller's request (headers, client: what gr.Request and spaces read) as if it had come
    through Gradio's own `/queue/join`, the path the queue derives the app's root URL from."""
    from gradio.route_utils import API_PREFIX
    from starlette.requests import Request

    path = request.scope.get("root_path", "") + API_PREFIX + "/queue/join"
    return Request({**request.scope, "path": path, "raw_path": path.encode()}, request.receive)


class QueuedJobs:
    """Hidden endpoints, one per concurrency id, through which `submit` queues jobs.

    Create inside the `gr.Blocks` context (it registers the events); `submit`
    from any coroutine of the running server.
    """

    def __init__(self, blocks: gr.Blocks, queues: dict[str, dict]) -> None:
        self.blocks = blocks
        self._jobs: dict[str, Job] = {}
        self._fn_index: dict[str, int] = {}
        ticket = gr.Textbox(visible=False)
        for name, queue in queues.items():
            trigger = gr.Button(visible=False)
            dependency = trigger.click(self._run, ticket, None, api_visibility="private", show_progress="hidden", **queue)
            self._fn_index[name] = dependency["id"]  # the fn_index the queue knows it by

    def _run(self, ticket: str) -> None:
        job = self._jobs.pop(str(ticket or ""), None)
        if job is not None:  # an unknown ticket (a stray call of the hidden endpoint) does nothing
            job._run()

    async def submit(self, name: str, work: Callable[[Job], None], request) -> Job:
        """Queue `work` on the queue called `name`; raises `QueueFull` when Gradio refuses it."""
        from gradio.data_classes import PredictBodyInternal

        request = _as_queue_join(request)
        queue = self.blocks._queue
        if queue.server_app is None:  # as Gradio's own /queue/join does
            queue.set_server_app(request.app)
        job = Job(work, asyncio.get_running_loop())
        self._jobs[job.id] = job
        session = "release-hub-job-" + job.id
        body = PredictBodyInternal(data=[job.id], fn_index=self._fn_index[name], session_hash=session, request=request)
        ok, message, state = await queue.push(body=body, request=request, username=None)
        if not ok:
            self._jobs.pop(job.id, None)
            if state == "queue_full":
                raise QueueFull(str(message))
            raise RuntimeError(f"The Gradio queue refused the job: {message}")
        asyncio.ensure_future(self._drain(session))
        return job

    async def _drain(self, session: str) -> None:
        """Consume Gradio's messages for the job's session (nobody listens to its SSE) and free them."""
        from gradio.server_messages import ProcessCompletedMessage, UnexpectedErrorMessage

        queue = self.blocks._queue
        try:
            messages = queue.pending_messages_per_session[session]
            while True:
                message = await messages.get()
                if isinstance(message, ProcessCompletedMessage):
                    if not message.success:
                        log.warning("Queued job ended with an error: %s", message.output)
                    break
                if isinstance(message, UnexpectedErrorMessage):
                    break
        except Exception:  # never let cleanup break the server
            log.exception("Could not drain the queued job's messages")
        finally:
            queue.pending_messages_per_session.pop(session, None)
            queue.pending_event_ids_session.pop(session, None)
