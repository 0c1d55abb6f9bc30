"""A loopback stand-in for ZeroGPU's device API, answering the real `spaces` client.

`spaces` (ZeroGPU mode) talks to this API over HTTP: `POST /startup-report`
once at launch, then per GPU task `POST /schedule` (with the visitor's
X-IP-Token as the `token` parameter), `POST /allow` from the forked worker
(its pid) and `POST /release` when the task ends. This stand-in grants every
request at once on one fake device and records every call, so a test can
check what spaces sent. Shapes follow `spaces/zero/api.py` (APIClient).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Call:
    path: str
    params: dict
    at: float = field(default_factory=time.monotonic)


class DeviceAPIStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.holding: set[str] = set()  # allow tokens scheduled and not yet released
        self.changed = threading.Condition()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _answer(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/queue-size":
                    return self._answer(200, 0)
                self._answer(404, {"detail": "not found"})

            def do_POST(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                standin._record(url.path, params)
                if url.path == "/startup-report":
                    return self._answer(200, {})
                if url.path == "/schedule":
                    token = uuid.uuid4().hex
                    with standin.changed:
                        idle = not standin.holding
                        standin.holding.add(token)
                    return self._answer(200, {"idle": idle, "nvidiaIndex": 0, "nvidiaUUID": "GPU-standin-0",
                                              "allowToken": token})
                if url.path == "/allow":
                    return self._answer(200, {})
                if url.path == "/release":
                    with standin.changed:
                        standin.holding.discard(params.get("allowToken", ""))
                    return self._answer(200, {})
                self._answer(404, {"detail": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _record(self, path: str, params: dict) -> None:
        with self.changed:
            self.calls.append(Call(path, params))
            self.changed.notify_all()

    def of(self, path: str) -> list[Call]:
        with self.changed:
            return [c for c in self.calls if c.path == path]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until `predicate(self)` holds (re-checked on every call received)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 1.0))
        return True

    def __enter__(self) -> "DeviceAPIStandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
