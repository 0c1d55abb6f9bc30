"""Remote engines: a pool of servers that speak OpenAI's `/v1/audio/speech`.

Plain Python, no Gradio. A pool holds one or more base URLs (a vllm-omni
server, or another release-hub). Requests go round-robin to the healthy ones;
a connection failure or a 5xx before the first byte fails over to the next;
a failure after audio has started is reported (the audio already sent cannot be
taken back) and the backend is marked down. A background thread probes every
backend's `GET /v1/models` (both vllm-omni and release-hub serve it) and keeps
its health and latency for `/status` and the System tab.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import httpx

from shared.errors import ModelLoadError

log = logging.getLogger("release_hub")

HEALTH_INTERVAL_S = 10.0
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0  # longest silence between two chunks of one answer


class RemoteEngineError(ModelLoadError):
    """A remote engine could not serve the request; the message says which one and why.

    `status` is the HTTP status to pass on (the remote's own 4xx for a bad
    request, else 503)."""

    def __init__(self, message: str, status: int = 503) -> None:
        super().__init__(message)
        self.status = status


def normalize_base_url(url: str) -> str:
    """`http://host:8000`, `http://host:8000/` and `http://host:8000/v1` all mean the same server."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"A remote engine URL must start with http:// or https:// (got {url[:80]!r}).")
    return url


@dataclass
class Backend:
    url: str
    healthy: bool = True  # optimistic until the first probe says otherwise
    latency_ms: float | None = None  # last health probe's round trip
    first_byte_ms: float | None = None  # last request's time to its first audio byte
    requests: int = 0
    failures: int = 0
    last_error: str | None = None
    checked_at: float | None = None
    models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "url": self.url,
            "healthy": self.healthy,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "first_byte_ms": None if self.first_byte_ms is None else round(self.first_byte_ms, 1),
            "requests": self.requests,
            "failures": self.failures,
            "last_error": self.last_error,
            "checked_s_ago": None if self.checked_at is None else round(time.time() - self.checked_at, 1),
            "models": list(self.models),
        }


def _error_text(response: httpx.Response) -> str:
    """The message of an OpenAI-shaped error body, else the start of the body."""
    try:
        body = response.json()
        if isinstance(body, dict):
            error = body.get("error", body)
            if isinstance(error, dict) and error.get("message"):
                return str(error["message"])[:500]
            if isinstance(body.get("detail"), str):
                return body["detail"][:500]
    except Exception:
        pass
    return response.text[:300] or f"HTTP {response.status_code}"


class RemotePool:
    """Round-robin over the healthy backends of one model family."""

    def __init__(self, name: str, urls: list[str], *, api_key: str | None = None,
                 health_interval_s: float = HEALTH_INTERVAL_S, start_probes: bool = True) -> None:
        if not urls:
            raise ValueError(f"Remote engine '{name}' needs at least one URL.")
        self.name = name
        self.backends = [Backend(normalize_base_url(u)) for u in urls]
        self.api_key = api_key
        self.health_interval_s = health_interval_s
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))
        self._stop = threading.Event()
        if start_probes:
            threading.Thread(target=self._probe_loop, name=f"remote-{name}-health", daemon=True).start()

    # ---------------------------------------------------------------- health
    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def probe(self, backend: Backend) -> None:
        started = time.perf_counter()
        try:
            response = self._client.get(backend.url + "/v1/models", headers=self.headers, timeout=CONNECT_TIMEOUT_S)
            response.raise_for_status()
            data = response.json().get("data", [])
            backend.models = [m.get("id") for m in data if isinstance(m, dict)]
            backend.latency_ms = (time.perf_counter() - started) * 1000
            backend.healthy, backend.last_error = True, None
        except Exception as exc:
            backend.healthy, backend.last_error = False, f"health check: {type(exc).__name__}: {str(exc)[:200]}"
        backend.checked_at = time.time()

    def probe_all(self) -> None:
        for backend in self.backends:
            self.probe(backend)

    def _probe_loop(self) -> None:
        while not self._stop.is_set():
            self.probe_all()
            self._stop.wait(self.health_interval_s)

    def close(self) -> None:
        self._stop.set()
        self._client.close()

    def status(self) -> list[dict]:
        return [b.to_dict() for b in self.backends]

    # ---------------------------------------------------------------- requests
    def candidates(self) -> list[Backend]:
        """Every backend, starting at the next in turn; healthy ones first (a down one may be back)."""
        with self._lock:
            start = next(self._turn) % len(self.backends)
        ordered = self.backends[start:] + self.backends[:start]
        return [b for b in ordered if b.healthy] + [b for b in ordered if not b.healthy]

    def _fail(self, backend: Backend, message: str) -> None:
        backend.healthy = False
        backend.failures += 1
        backend.last_error = message
        log.warning("Remote %s backend %s: %s", self.name, backend.url, message)

    @contextmanager
    def open(self, method: str, path: str, *, only: Backend | None = None, **kwargs) -> Iterator[tuple[Backend, httpx.Response]]:
        """A streamed answer from the first backend that gives one, failing over on the way
        (`only`: that backend, no failover).

        The caller reads `response.iter_bytes()`; an error while reading is the
        caller's to report (`mid_stream_error`)."""
        errors = []
        for backend in [only] if only is not None else self.candidates():
            started = time.perf_counter()
            backend.requests += 1
            try:
                request = self._client.build_request(method, backend.url + path, headers=self.headers, **kwargs)
                response = self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                message = f"{type(exc).__name__}: {str(exc)[:200] or 'no answer'}"
                self._fail(backend, message)
                errors.append(f"{backend.url}: {message}")
                continue
            if response.status_code >= 500:
                response.read()
                message = f"HTTP {response.status_code}: {_error_text(response)}"
                response.close()
                self._fail(backend, message)
                errors.append(f"{backend.url}: {message}")
                continue
            if response.status_code >= 400:  # the request itself is wrong: no failover
                response.read()
                text = _error_text(response)
                response.close()
                raise RemoteEngineError(f"The remote {self.name} server {backend.url} refused the request: {text}",
                                        status=response.status_code)
            backend.first_byte_ms = (time.perf_counter() - started) * 1000
            try:
                yield backend, response
            finally:
                response.close()
            return
        raise RemoteEngineError(
            f"No remote {self.name} server could take the request ({len(self.backends)} configured): " + "; ".join(errors)
        )

    def mid_stream_error(self, backend: Backend, exc: BaseException, audio_seconds: float) -> RemoteEngineError:
        message = f"stopped mid-stream after {audio_seconds:.1f} s of audio ({type(exc).__name__}: {str(exc)[:200]})"
        self._fail(backend, message)
        others = sum(1 for b in self.backends if b is not backend)
        hint = " The next request goes to another server." if others else ""
        return RemoteEngineError(f"The remote {self.name} server {backend.url} {message}.{hint}")


def pools_from_settings(remotes: dict[str, list[str]], api_key: str | None) -> dict[str, RemotePool]:
    return {name: RemotePool(name, urls, api_key=api_key) for name, urls in remotes.items() if urls}
