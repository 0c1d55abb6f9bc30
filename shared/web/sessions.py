"""Bounded memory per visitor session.

Gradio keeps one `SessionState` per `session_hash` it has seen (every browser
tab, every gradio_client, every raw `/gradio_api/call`). In Gradio 6.31 each
one renders every block's config up front and keeps a copy of every value the
session sent or got (`config_values`, read only by `/gradio_api/deep_link`),
plus its own copies of the app's block and event tables: ~395 KiB per session
for this app's ~200 blocks, and only a 10,000-session LRU ever drops one, so a
script could grow a public Space by gigabytes.

`LeanStateHolder` keeps Gradio's behaviour with two changes:
- a session keeps no deep-link copies (the app offers no deep links) and
  shares the app's tables until it replaces a block (a gr.update of props);
- a session with no event for `session_ttl_s()` (RELEASE_HUB_SESSION_TTL_S,
  default a day) is dropped, and a closed one (its tab's heartbeat ended)
  after at most an hour, when Gradio already deletes its gr.State values.
  Their gr.State delete callbacks run first; a session with a queued or
  running event is kept; the queue's empty per-session leftovers go with it.

`lifespan` installs it on Gradio's FastAPI app at start-up
(`launch(app_kwargs={"lifespan": lifespan})`); Gradio's own once-a-second
state sweep then drives the expiry.
"""
from __future__ import annotations

import datetime
import logging
import os
from contextlib import asynccontextmanager
from copy import copy

from gradio.blocks import BlocksConfig
from gradio.components import State
from gradio.state_holder import SessionState, StateHolder

log = logging.getLogger(__name__)

TTL_ENV = "RELEASE_HUB_SESSION_TTL_S"
DEFAULT_TTL_S = 24 * 3600
CLOSED_TTL_S = 3600  # Gradio's own STATE_TTL_WHEN_CLOSED: a closed tab's gr.State goes after an hour
MAX_SWEEP_PERIOD_S = 60.0


def session_ttl_s() -> float:
    """Seconds a session may stay idle (RELEASE_HUB_SESSION_TTL_S); a bad value is named in one
    warning line and the default used (it is read at start-up, where an exception would stop the server)."""
    raw = os.environ.get(TTL_ENV, "").strip()
    if not raw:
        return float(DEFAULT_TTL_S)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0:
        log.warning("%s must be a number of seconds above 0, got %r: using %d", TTL_ENV, raw, DEFAULT_TTL_S)
        return float(DEFAULT_TTL_S)
    return value


def sweep_period_s(ttl_s: float) -> float:
    """How often idle sessions are looked for: a quarter of the TTL, between 1 s and a minute."""
    return min(MAX_SWEEP_PERIOD_S, max(1.0, ttl_s / 4))


def _shared_config(default: BlocksConfig) -> BlocksConfig:
    """A session's view of the app's blocks and events: Gradio's copy shares their tables until the
    session replaces a block (LeanSessionState.__setitem__ copies them then). An app with gr.render
    adds blocks and events per session, so it gets Gradio's own copy."""
    if default.renderables:
        return copy(default)
    config = BlocksConfig(default.root_block)
    config.blocks, config.fns, config.fn_id = default.blocks, default.fns, default.fn_id
    return config


class LeanSessionState(SessionState):
    """Gradio's SessionState without what only deep links read, and without copies of the app's tables.

    Gradio renders every block's config into each new session and keeps a copy of every value the
    session sent or got (`config_values`), read only by `/gradio_api/deep_link`; this app offers no
    deep links, so `components` renders the session's blocks when asked and no value is kept.
    Event inputs and outputs still go through Gradio as before; gr.State values are kept as before."""

    def __init__(self, blocks):  # not super().__init__(): that renders every block's config
        self.blocks_config = _shared_config(blocks.default_config)
        self._owns_tables = self.blocks_config.blocks is not blocks.default_config.blocks
        self._app_block_ids = blocks.blocks.keys()  # a live view, not a copy
        self.config_values = {}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else CLOSED_TTL_S

    def __setitem__(self, key: int, value) -> None:
        if not self._owns_tables and not isinstance(self.blocks_config.blocks.get(key), State):
            # This session replaces a block (e.g. a gr.update of its props): its own tables from now on.
            self.blocks_config.blocks = dict(self.blocks_config.blocks)
            self.blocks_config.fns = dict(self.blocks_config.fns)
            self._owns_tables = True
        super().__setitem__(key, value)
        self.config_values.pop(key, None)  # rendered on demand by `components`

    def _update_config(self, key: int) -> None:
        pass  # a deep-link copy: not kept

    def _update_value_in_config(self, key: int, value) -> None:
        pass  # a deep-link copy of a value the session sent or got: not kept

    @property
    def components(self):
        for key, block in self.blocks_config.blocks.items():
            if key in self._app_block_ids:
                config = self.blocks_config.config_for_block(key, [], block)
                if config:
                    yield config


class LeanStateHolder(StateHolder):
    """Gradio's StateHolder with lean sessions and idle expiry."""

    def __init__(self, ttl_s: float | None = None):
        super().__init__()
        self.ttl_s = session_ttl_s() if ttl_s is None else ttl_s
        self.sweep_period_s = sweep_period_s(self.ttl_s)
        self._next_sweep = datetime.datetime.now()

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSessionState(self.blocks)
        return super().__getitem__(session_id)

    def delete_all_expired_state(self):
        """Gradio calls this every second: expired gr.State values, then (now and then) idle sessions."""
        super().delete_all_expired_state()
        now = datetime.datetime.now()
        if now >= self._next_sweep:
            self._next_sweep = now + datetime.timedelta(seconds=self.sweep_period_s)
            self.drop_idle_sessions(now)

    def _is_idle(self, session_id: str, now: datetime.datetime, busy: dict) -> bool:
        last_used = self.time_last_used.get(session_id)
        session = self.session_data.get(session_id)
        if last_used is None or session is None or busy.get(session_id):
            return False
        ttl = min(self.ttl_s, CLOSED_TTL_S) if session.is_closed else self.ttl_s
        return (now - last_used).total_seconds() > ttl

    def drop_idle_sessions(self, now: datetime.datetime | None = None) -> int:
        """Forget every session idle past its TTL; returns how many went."""
        now = now or datetime.datetime.now()
        queue = getattr(getattr(self, "blocks", None), "_queue", None)
        busy = getattr(queue, "pending_event_ids_session", {})
        messages = getattr(queue, "pending_messages_per_session", {})
        idle = [sid for sid in list(self.session_data) if self._is_idle(sid, now, busy)]
        for session_id in idle:
            self.delete_state(session_id)  # runs the gr.State delete callbacks
            with self.lock:
                self.session_data.pop(session_id, None)
                self.time_last_used.pop(session_id, None)
            # The queue's leftovers for a session with no event: its message box and empty event-id set.
            if session_id in messages and messages[session_id].empty():
                messages.pop(session_id, None)
            if session_id in busy and not busy[session_id]:
                busy.pop(session_id, None)
        if idle:
            log.info("Dropped %d idle session(s); %d kept", len(idle), len(self.session_data))
        return len(idle)


def install(server_app) -> LeanStateHolder:
    """Swap Gradio's state holder on its FastAPI app for a LeanStateHolder (before any session exists)."""
    holder = LeanStateHolder()
    holder.set_blocks(server_app.get_blocks())
    server_app.state_holder = holder
    return holder


@asynccontextmanager
async def lifespan(server_app):
    """A FastAPI lifespan for `launch(app_kwargs={"lifespan": ...})`: Gradio enters it at start-up."""
    install(server_app)
    yield
