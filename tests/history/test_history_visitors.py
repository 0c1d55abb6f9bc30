"""Who owns a result and who sees it (shared/web/visitors.py), over objects shaped like gr.Request."""
from __future__ import annotations

from types import SimpleNamespace

from shared.web.access import visit_owner
from shared.web.visitors import file_owner, history_scope, owner_of


def request(username=None, session_hash="s1", cookie=None):
    headers = {"cookie": f"rh-visit={cookie}"} if cookie else {}
    return SimpleNamespace(username=username, session_hash=session_hash, headers=headers,
                           request=SimpleNamespace(scope={}))


def test_owner_is_the_login_else_the_visit():
    assert owner_of(request("alice")) == "user:alice"
    assert owner_of(None) is None
    # A visit is kept only as a keyed hash: the session hash or cookie itself is never stored.
    visit = owner_of(request(None, "abc"))
    assert visit.startswith("visit:") and "abc" not in visit and visit == visit_owner(None, "abc")
    assert owner_of(request(None, "abd")) != visit
    # A browser's visit cookie wins over the session hash: a replayed session hash is another visit.
    browser = owner_of(request(None, "abc", cookie="c00kie"))
    assert browser == owner_of(request(None, "other", cookie="c00kie")) and browser != visit
    assert "c00kie" not in browser


def test_files_are_bound_to_a_login_or_a_cookie_only():
    assert file_owner(request("alice")) == "user:alice"
    assert file_owner(request(None, "abc", cookie="c00kie")) == owner_of(request(None, "abc", cookie="c00kie"))
    assert file_owner(request(None, "abc")) is None  # a bare client: an open, unguessable copy


def test_scope_rules():
    # A local app without logins has one user, who sees everything.
    assert history_scope(request(None), shared=False, private=False) is None
    # On a Space (or with logins) a signed-in user sees their own, an anonymous visitor this visit's.
    assert history_scope(request("bob"), shared=False, private=True) == "user:bob"
    assert history_scope(request(None, "v9"), shared=False, private=True) == visit_owner(None, "v9")
    assert history_scope(request(None, None), shared=False, private=True) == "visit:unknown"
    # RELEASE_HUB_SHARED_HISTORY=1: everyone sees everything.
    assert history_scope(request("bob"), shared=True, private=True) is None
