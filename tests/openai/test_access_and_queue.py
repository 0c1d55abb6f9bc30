"""Who may call /v1 (unit), and the Gradio-queue bridge on a real Gradio server (in process)."""
from __future__ import annotations

import json
import threading
import time
import urllib.request

import gradio as gr
import pytest
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from demos.voice.openai_api import access_rule, map_error
from shared.tasks.queue_jobs import QueuedJobs, QueueFull
from shared.web.settings import Settings
from serving import patient_client


@pytest.mark.parametrize("env,share,enabled,key", [
    ({}, False, True, None),
    ({"RELEASE_HUB_API_KEY": "k"}, False, True, "k"),
    ({"SPACE_ID": "me/space"}, False, False, None),
    ({}, True, False, None),
    ({"SPACE_ID": "me/space", "RELEASE_HUB_OPENAI_API": "1"}, False, True, None),
    ({"SPACE_ID": "me/space", "RELEASE_HUB_API_KEY": "k"}, False, True, "k"),
    ({"RELEASE_HUB_OPENAI_API": "0"}, False, False, None),
])
def test_access_rule(env, share, enabled, key):
    settings = Settings(share=share)
    on, api_key, reason = access_rule(settings, env)
    assert (on, api_key) == (enabled, key)
    assert on or "RELEASE_HUB_" in reason


def test_jobs_wait_in_the_same_gpu_line_as_tab_events():
    """A job submitted from a FastAPI route waits while a tab event holds the `gpu` slot,
    runs once it is free, and a full queue refuses it (the API's 429)."""
    tab_running, release_tab = threading.Event(), threading.Event()
    order = []

    def tab_event(x):
        tab_running.set()
        release_tab.wait(60)
        order.append("tab")
        return x

    with gr.Blocks() as app:
        box = gr.Textbox()
        button = gr.Button()
        button.click(tab_event, box, box, api_name="tab", concurrency_id="gpu", concurrency_limit=1)
        jobs = QueuedJobs(app, {"gpu": dict(concurrency_id="gpu", concurrency_limit=1)})
    router = APIRouter()

    async def route(request: Request):
        try:
            job = await jobs.submit("gpu", lambda job: (order.append("job"), job.emit("done")), request)
        except QueueFull as exc:
            return map_error(exc).response()
        items = []
        try:
            while True:
                items.append(await job.next())
        except StopAsyncIteration:
            return JSONResponse({"items": items})

    router.add_api_route("/job", route, methods=["POST"])
    app.queue(max_size=1)
    _, url, _ = app.launch(prevent_thread_lock=True, app_kwargs={"routes": list(router.routes)}, quiet=True)
    try:

        client = patient_client(url)
        tab_job = client.submit("x", api_name="/tab")
        assert tab_running.wait(60)
        results = {}

        def call(name):
            request = urllib.request.Request(url + "job", data=b"", method="POST")
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    results[name] = (response.status, json.loads(response.read()))
            except urllib.error.HTTPError as error:
                results[name] = (error.code, json.loads(error.read()))

        first = threading.Thread(target=call, args=("first",))
        first.start()
        deadline = time.monotonic() + 30
        while len(app._queue) < 1 and time.monotonic() < deadline:  # the job is in line
            time.sleep(0.05)
        assert len(app._queue) == 1 and order == []
        call("second")  # the line holds max_size=1: refused
        assert results["second"][0] == 429 and results["second"][1]["error"]["code"] == "queue_full"
        release_tab.set()
        first.join(60)
        assert results["first"] == (200, {"items": ["done"]})
        assert order == ["tab", "job"]
        assert tab_job.result(timeout=60) == "x"
    finally:
        release_tab.set()
        app.close()
