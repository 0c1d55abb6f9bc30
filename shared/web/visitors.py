"""Who is asking: the owner recorded on a result, and which results a visitor may see.

Duck-typed over `gr.Request` (no gradio import at module level):
- a Gradio login (`launch(auth=...)`, `--auth-file`) sets `request.username`;
- a Space with `hf_oauth: true` keeps the signed-in Hugging Face user in the
  session, where `gr.OAuthProfile` reads it;
- everyone else is one visit: the browser's HttpOnly visit cookie (shared/web/access.py sets it),
  else, for a client without cookies, the Gradio `session_hash`. A visit is stored only as a
  keyed hash, so neither the index nor anything another visitor sees lets them replay it.
"""
from __future__ import annotations

import logging
import sys

from shared.io import outputs
from shared.web import access

log = logging.getLogger(__name__)


def oauth_username(request) -> str | None:
    """The Hugging Face user signed in with "Sign in with HF" (Spaces with hf_oauth), or None."""
    raw = getattr(request, "request", None)
    if raw is None or "session" not in getattr(raw, "scope", {}):
        return None  # no SessionMiddleware: OAuth is not enabled
    try:
        from gradio import oauth

        info = oauth._get_valid_oauth_info_from_session(raw.session)
    except Exception:  # noqa: BLE001 - a Gradio without OAuth support, or an expired session
        return None
    return (info or {}).get("userinfo", {}).get("preferred_username") or None


def owner_of(request) -> str | None:
    """'user:<name>' when signed in, else 'visit:<keyed hash>', else None (no request: a script in-process)."""
    if request is None:
        return None
    name = getattr(request, "username", None) or oauth_username(request)
    if name:
        return f"user:{name}"
    return access.visit_owner(visit_cookie(request), getattr(request, "session_hash", None))


def visit_cookie(request) -> str | None:
    """The browser's visit cookie on a gr.Request (None for a request without headers or cookie)."""
    try:
        headers = getattr(request, "headers", None)
    except Exception:  # noqa: BLE001 - a gr.Request made without an HTTP request
        return None
    return access.cookie_value(headers, access.VISIT_COOKIE) if headers is not None else None


def file_owner(request) -> str | None:
    """Who a handed-out file is bound to: a login, or the visit cookie; None (open) for a client with
    neither, since its later file downloads could not prove a session hash."""
    if request is None:
        return None
    name = getattr(request, "username", None)  # a Gradio login (the file routes see its cookie; not OAuth's)
    if name:
        return f"user:{name}"
    return access.visit_owner(visit_cookie(request), None)  # None without a cookie


def history_scope(request, *, shared: bool, private: bool) -> str | None:
    """Which results `request` may see: None = all of them, else only those owned by the returned owner.

    `shared` (RELEASE_HUB_SHARED_HISTORY) shows everything to everyone. Signed-in
    users always see their own. Otherwise, where `private` (on a Space, or with
    logins) a visitor sees what this visit made; a local app without logins
    has one user, who sees everything.
    """
    if shared:
        return None
    owner = owner_of(request)
    if owner and owner.startswith("user:"):
        return owner
    if private:
        return owner or "visit:unknown"
    return None


def current_owner() -> str | None:
    """The owner for a result written inside a Gradio event handler, from the request Gradio keeps in
    its context for that call (the same context `spaces` reads); None outside an event."""
    context = sys.modules.get("gradio.context")  # never import gradio from here: engines call this too
    if context is None:
        return None
    return owner_of(context.LocalContext.request.get(None))


outputs.set_owner_source(current_owner)  # sidecars written inside an event record its owner
