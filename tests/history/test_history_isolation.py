"""Per-user History through the real server with two Gradio logins (`--auth-file`, as Gradio's `auth=`):
one user cannot list, fetch or delete the other's results, through the API or in the browser."""
from __future__ import annotations

import pytest

from serving import patient_client, start_server, stop_server

LOGINS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}


@pytest.fixture(scope="module")
def logins_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history-logins")
    auth = tmp / "logins.txt"
    auth.write_text("".join(f"{user}:{password}\n" for user, password in LOGINS.items()))
    process, url, _ = start_server(tmp, "--auth-file", str(auth))
    try:
        yield url, tmp / "outputs"
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def made(logins_server):
    url, outputs = logins_server
    clients = {user: patient_client(url, auth=(user, password)) for user, password in LOGINS.items()}
    ids = {}
    for user, client in clients.items():
        client.predict(text=f"Said by {user}.", voice="casual_male", seed=1, max_seconds=0.6, api_name="/tts")
        ids[user] = client.predict(api_name="/history")["items"][0]["id"]
    return clients, ids, outputs


def test_each_user_lists_only_their_own_results(made):
    clients, ids, _ = made
    for user, client in clients.items():
        page = client.predict(page_size=100, api_name="/history")
        assert [i["id"] for i in page["items"]] == [ids[user]]
        assert page["items"][0]["text"] == f"Said by {user}."
        files, sidecar = client.predict(item_id=ids[user], api_name="/history_item")
        assert sidecar["owner"] == f"user:{user}" and files


def test_one_user_cannot_fetch_or_delete_the_others(made):
    clients, ids, outputs = made
    for call in ("/history_item", "/history_delete", "/history_favourite"):
        with pytest.raises(Exception) as error:
            clients["bob"].predict(item_id=ids["alice"], api_name=call)
        assert "No history item" in str(error.value)
    # Same answer as for an id that does not exist: nothing reveals that alice's result is there.
    with pytest.raises(Exception) as missing:
        clients["bob"].predict(item_id="voice_voxtral/20000101-000000-000000000000", api_name="/history_item")
    assert "No history item" in str(missing.value)
    assert clients["alice"].predict(item_id=ids["alice"], api_name="/history_item")[1]["id"] == ids["alice"]
    stem = ids["alice"].split("/")[1]
    assert list((outputs / "voice_voxtral").glob(stem + ".*"))  # still on disk


def test_anonymous_callers_are_refused(logins_server):
    url, _ = logins_server
    with pytest.raises(Exception):
        patient_client(url).predict(api_name="/history")


def test_two_browser_logins_see_only_their_own_rows(made, _browser, logins_server):
    url, _ = logins_server
    _, ids, _ = made
    for user, password in LOGINS.items():
        context = _browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            page.goto(url)
            page.get_by_label("username").fill(user)
            page.get_by_label("password").fill(password)
            page.get_by_role("button", name="Login").click()
            page.get_by_role("tab", name="History").click()
            table = page.locator("#history-table")
            table.get_by_text(f"Said by {user}.").filter(visible=True).first.wait_for()
            other = next(u for u in LOGINS if u != user)
            assert f"Said by {other}." not in table.inner_text()
            page.locator("#history-selected textarea").fill(ids[other])  # typing the other's id shows nothing
            page.locator("#history-details").get_by_text("No history item").wait_for(state="attached")
        finally:
            context.close()
