"""Who owns a result and who sees it (shared/visitors.py), over objects shaped like gr.Request."""
from __future__ import annotations

from types import SimpleNamespace

from shared.visitors import history_scope, owner_of


def request(username=None, session_hash="s1"):
    return SimpleNamespace(username=username, session_hash=session_hash, request=SimpleNamespace(scope={}))


def test_owner_is_the_login_else_the_visit():
    assert owner_of(request("alice")) == "user:alice"
    assert owner_of(request(None, "abc")) == "visit:abc"
    assert owner_of(None) is None


def test_scope_rules():
    # A local app without logins has one user, who sees everything.
    assert history_scope(request(None), shared=False, private=False) is None
    # On a Space (or with logins) a signed-in user sees their own, an anonymous visitor this visit's.
    assert history_scope(request("bob"), shared=False, private=True) == "user:bob"
    assert history_scope(request(None, "v9"), shared=False, private=True) == "visit:v9"
    assert history_scope(request(None, None), shared=False, private=True) == "visit:unknown"
    # RELEASE_HUB_SHARED_HISTORY=1: everyone sees everything.
    assert history_scope(request("bob"), shared=True, private=True) is None
