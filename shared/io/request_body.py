"""A deadline on reading a request's body, for our own HTTP routes (the /v1 API).

Uvicorn waits for a body for as long as the client likes, so a client that
sends its headers and then trickles (or never sends) the body holds a socket
and a task for good. `with_body_deadline(request)` gives a Request reading the
same body whose reads raise `BodyTimeout` when no bytes arrive for `idle_s`
seconds, or the body is not complete `total_s` seconds after the first read.
Once the body is complete, reads (disconnect checks) pass through untouched.

`RELEASE_HUB_BODY_TIMEOUT_S` sets the idle limit (default 20 s; tests use a
short one); the whole body gets `TOTAL_FACTOR` times as long.
"""
from __future__ import annotations

import asyncio
import os

from starlette.requests import Request

ENV = "RELEASE_HUB_BODY_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 20.0
TOTAL_FACTOR = 6  # a 20 MB voice upload on a slow link may take a while, but never stall


class BodyTimeout(Exception):
    """The client did not send its body in time (answered 408)."""

    def __init__(self, seconds: float, received: int, stalled: bool) -> None:
        how = f"no data arrived for {seconds:g} s" if stalled else f"it was not complete after {seconds:g} s"
        super().__init__(f"The request body did not arrive in time: {how} ({received:,} bytes received).")


def timeout_s(env=os.environ) -> float:
    """The idle limit from the environment (a positive number), else the default."""
    try:
        value = float(env.get(ENV, ""))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def with_body_deadline(request: Request, idle_s: float | None = None, total_s: float | None = None) -> Request:
    """`request` whose body reads time out (see the module docstring). Use the returned Request for
    every later body read of this request (the original one no longer knows what was read)."""
    idle = idle_s if idle_s is not None else timeout_s()
    total = total_s if total_s is not None else idle * TOTAL_FACTOR
    receive = request.receive
    state = {"started": None, "received": 0, "complete": False, "timed_out": None}

    async def timed_receive():
        if state["complete"]:
            return await receive()
        if state["timed_out"] is not None:  # a late read (draining a refused body) waits no more
            raise state["timed_out"]
        loop = asyncio.get_running_loop()
        if state["started"] is None:
            state["started"] = loop.time()
        left = total - (loop.time() - state["started"])
        try:
            if left <= 0:
                raise TimeoutError
            async with asyncio.timeout(min(idle, left)):
                message = await receive()
        except TimeoutError:
            stalled = idle <= left
            state["timed_out"] = BodyTimeout(idle if stalled else total, state["received"], stalled)
            raise state["timed_out"] from None
        if message.get("type") == "http.request":
            state["received"] += len(message.get("body", b""))
            state["complete"] = not message.get("more_body", False)
        else:  # a disconnect: nothing more will come
            state["complete"] = True
        return message

    return Request(request.scope, timed_receive)
