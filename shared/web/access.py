"""One access gate for every route, and who a request is (DESIGN.md 3a, "Access").

The gate is active when the operator configured an API key (`RELEASE_HUB_API_KEY`) or
logins (`--auth-file`). Then every route that runs a model, reads a stored file or lists
anything needs one of:
- `Authorization: Bearer <key>` (scripts: `gradio_client.Client(url, headers=...)`, `/v1`
  clients, MCP clients), or
- Gradio's login cookie (browsers log in on Gradio's own page; with a key and no
  `--auth-file`, the key is the password).
Only what the login page itself needs stays open (see `PUBLIC_PATHS`). A refused request's
body is read and dropped before the answer goes out (a client still sending would
otherwise get a broken pipe instead of our message).

Identity (History, the file routes and every stored result use the same one):
`user:<login>` when logged in (a bearer key counts as the login `API_USER`), else a visit:
the browser's HttpOnly `rh-visit` cookie (set here on the first response), else the Gradio
session hash (API clients). A visit is stored only as a keyed hash (`visit:<hmac>`), so
nothing another visitor can see lets them derive or replay it.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("release_hub")

API_KEY_ENV = "RELEASE_HUB_API_KEY"
API_USER = "api-key"  # the login name of a request carrying the bearer key
VISIT_COOKIE = "rh-visit"
DRAIN_LIMIT_BYTES = 64 << 20  # a refused body larger than this is not read to its end
PUBLIC_PATHS = {"/", "/login", "/login/", "/logout", "/favicon.ico", "/manifest.json", "/theme.css",
                "/config", "/config/", "/gradio_api/config", "/gradio_api/login_check", "/gradio_api/app_id",
                "/gradio_api/theme.css", "/gradio_api/favicon.ico",
                "/gradio_api/startup-events"}  # Gradio calls it itself at launch; it runs start-up events once
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/static/", "/gradio_api/assets/",
                   "/gradio_api/svelte/", "/gradio_api/custom_component/", "/custom_component/", "/fonts/")


# ------------------------------------------------------------------ identity
class _Secret:
    """The key of the visit hashes: kept in the cache dir so a browser's visit outlives a restart."""

    value: bytes = secrets.token_bytes(32)

    @classmethod
    def load_or_create(cls, cache_dir: str | Path) -> None:
        path = Path(cache_dir) / "visit-secret"
        try:
            if path.exists() and len(path.read_bytes()) == 32:
                cls.value = path.read_bytes()
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(cls.value)
            os.replace(path.with_suffix(".tmp"), path)
        except OSError:  # a read-only cache dir: visits last as long as this process
            log.warning("Could not keep the visit secret in %s; visits end when the app restarts", path)


def configure(cache_dir: str | Path) -> None:
    _Secret.load_or_create(cache_dir)


def keyed_hash(value: str, length: int = 32) -> str:
    return hmac.new(_Secret.value, value.encode(), hashlib.sha256).hexdigest()[:length]


def visit_owner(cookie: str | None, session_hash: str | None) -> str | None:
    """'visit:<hmac>' from the browser's visit cookie, else from the session hash; None without either."""
    if cookie:
        return "visit:" + keyed_hash("cookie:" + cookie)
    if session_hash:
        return "visit:" + keyed_hash("session:" + str(session_hash))
    return None


def cookie_value(headers, name: str) -> str | None:
    """One cookie from a raw `cookie` header (starlette headers or a dict), parsed as starlette parses it
    for Gradio's own login check (a malformed neighbour does not hide it)."""
    from starlette.requests import cookie_parser

    raw = headers.get("cookie") if hasattr(headers, "get") else None
    if not raw:
        return None
    return cookie_parser(raw).get(name) or None


# ------------------------------------------------------------------ the gate
def api_key_from_env(env=os.environ) -> str | None:
    return (env.get(API_KEY_ENV) or "").strip() or None


def bearer_ok(authorization: str | None, key: str | None) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    return bool(key) and scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key.encode())


def refusal_message(authorization: str | None) -> str:
    what = "No API key was sent" if not authorization else "The API key is not valid"
    return (f"{what}. Send the server's key as 'Authorization: Bearer <key>' ({API_KEY_ENV}), "
            "or log in on the app's page.")


@dataclass
class Gate:
    api_key: str | None = None
    logins: list[tuple[str, str]] | None = None  # from --auth-file

    @property
    def active(self) -> bool:
        return bool(self.api_key or self.logins)

    def gradio_auth(self):
        """What `launch(auth=...)` gets: the file's logins, or the key as the password of any login name."""
        if self.logins:
            return self.logins
        if self.api_key:
            key = self.api_key
            return lambda _user, password: secrets.compare_digest(str(password).encode(), key.encode())
        return None

    @property
    def auth_message(self) -> str | None:
        if self.api_key and not self.logins:
            return "This server is private. Log in with any name and the server's API key as the password."
        return None


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(settings, gate: Gate) -> str | None:
    """The warning for a server anyone on the network can use (None where that is not the case)."""
    if gate.active or getattr(settings, "on_space", False):
        return None
    if is_loopback(settings.host) and not settings.share:
        return None
    where = "a public share link" if settings.share else f"{settings.host}:{settings.port}"
    return (f"Anyone who reaches {where} can run every model and read every result: no {API_KEY_ENV} and no "
            "--auth-file are set. Set one of them, or bind to 127.0.0.1.")


# ------------------------------------------------------------------ the middleware
class AccessMiddleware:
    """ASGI middleware in front of Gradio's app and /v1: the gate, the visit cookie, the file routes."""

    def __init__(self, app, gate: Gate, files=None) -> None:
        self.app, self.gate, self.files = app, gate, files  # files: shared.web.served_files.FileRouteGuard
        self._api_token = secrets.token_urlsafe(32)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        gradio_app = scope.get("app")
        user = self._login(headers, gradio_app)
        if self.gate.active:
            if bearer_ok(headers.get("authorization"), self.gate.api_key):
                scope, user = self._as_api_user(scope, headers, gradio_app), API_USER
            elif user is None and not is_public_path(scope["path"]):
                return await self._refuse(scope, receive, send, headers.get("authorization"))
            elif user is None and scope["path"] == "/":
                send = _without_api_info(send)  # Gradio's login page embeds every endpoint's description
        visit = cookie_value(headers, VISIT_COOKIE)
        if scope["type"] == "http":
            send = self._with_visit_cookie(send) if not visit else send
            asked = None if self.files is None else self.files.target(scope["path"])
            if asked is not None:
                requester = f"user:{user}" if user else visit_owner(visit, None)
                if not self.files.allowed(asked, requester):
                    return await self.files.refuse(asked, send)
                send = self.files.with_safe_headers(send)
        await self.app(scope, receive, send)

    @staticmethod
    def _login(headers, gradio_app) -> str | None:
        """The Gradio login this request's cookie carries, if any."""
        tokens, cookie_id = getattr(gradio_app, "tokens", None), getattr(gradio_app, "cookie_id", None)
        if not tokens or cookie_id is None:
            return None
        for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
            token = cookie_value(headers, name)
            if token and token in tokens:
                return tokens[token]
        return None

    def _as_api_user(self, scope, headers, gradio_app):
        """A request with the key is logged in as API_USER for Gradio's own login checks too."""
        if gradio_app is None or getattr(gradio_app, "cookie_id", None) is None:
            return scope
        gradio_app.tokens[self._api_token] = API_USER
        cookie = f"access-token-{gradio_app.cookie_id}={self._api_token}"
        raw = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        old = headers.get("cookie")
        raw.append((b"cookie", (f"{old}; {cookie}" if old else cookie).encode("latin-1")))
        return {**scope, "headers": raw}

    @staticmethod
    def _with_visit_cookie(send):
        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                value = f"{VISIT_COOKIE}={secrets.token_urlsafe(24)}; Path=/; HttpOnly; SameSite=Lax"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value.encode())]}
            await send(message)

        return send_with_cookie

    @staticmethod
    async def _refuse(scope, receive, send, authorization: str | None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _drain(receive)
        log.info("Refused %s %s: no valid key or login", scope.get("method"), scope["path"][:80])
        body = json.dumps({"error": {"message": refusal_message(authorization), "type": "invalid_request_error",
                                     "param": None, "code": "invalid_api_key"}}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})


_API_INFO = re.compile(rb"(window\.gradio_api_info = ).*?(;?</script>)", re.S)
_NO_API_INFO = rb'\1{"named_endpoints": {}, "unnamed_endpoints": {}}\2'


def _without_api_info(send):
    """Buffer a page and blank its `window.gradio_api_info` (names, parameters, examples of every endpoint)."""
    held: dict = {}

    async def send_scrubbed(message) -> None:
        if message["type"] == "http.response.start":
            held["start"], held["body"] = message, b""
            return
        if message["type"] != "http.response.body" or "start" not in held:
            return await send(message)
        held["body"] += message.get("body", b"")
        if message.get("more_body", False):
            return
        body = _API_INFO.sub(_NO_API_INFO, held["body"], count=1)
        headers = [(k, v) for k, v in held["start"].get("headers", []) if k.lower() != b"content-length"]
        await send({**held["start"], "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return send_scrubbed


async def _drain(receive) -> None:
    """Read and drop a refused request's body, up to DRAIN_LIMIT_BYTES."""
    read = 0
    while read <= DRAIN_LIMIT_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
