"""Raw HTTP calls of named endpoints, as a client other than gradio_client sends them.

`POST /gradio_api/call/<api>` with `{"data": [...]}`, then the SSE stream of
`GET /gradio_api/call/<api>/<event_id>`. The data list holds one slot per
event input, gr.State ones included (Gradio ignores what is sent there), so
the layout comes from the app's /config (inputs, `skip_api`) and the names
from /gradio_api/info.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache

MISSING = object()


@dataclass
class Answer:
    kind: str  # "complete" | "error" | "http"
    data: object  # the outputs list, the error message, or the HTTP body

    @property
    def message(self) -> str:
        return self.data if isinstance(self.data, str) else json.dumps(self.data)


def _get_json(url: str, timeout: float = 30):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@lru_cache(maxsize=None)
def _config(base: str) -> tuple[dict, dict]:
    return _get_json(base + "config"), _get_json(base + "gradio_api/info")


def layout(base: str, api_name: str) -> list[str | None]:
    """Parameter name per input slot of `api_name` (None for gr.State slots)."""
    config, info = _config(base)
    components = {c["id"]: c for c in config["components"]}
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    names = iter(p["parameter_name"] for p in info["named_endpoints"][f"/{api_name}"]["parameters"])
    return [None if components[i].get("skip_api") else next(names) for i in dependency["inputs"]]


def defaults(base: str, api_name: str) -> dict:
    _, info = _config(base)
    return {p["parameter_name"]: p["parameter_default"]
            for p in info["named_endpoints"][f"/{api_name}"]["parameters"] if p["parameter_has_default"]}


def output_labels(base: str, api_name: str) -> list[str]:
    _, info = _config(base)
    return [r["label"] for r in info["named_endpoints"][f"/{api_name}"]["returns"]]


def call(base: str, api_name: str, values: dict, *, timeout: float = 600) -> Answer:
    """Call `api_name` with `values` by parameter name; unnamed parameters get their API default.
    A value of MISSING leaves the slot (and every later one) out of the payload."""
    slots = layout(base, api_name)
    known = defaults(base, api_name)
    data = []
    for name in slots:
        value = values.get(name, known.get(name)) if name else None
        if value is MISSING:
            break
        data.append(value)
    return post(base, api_name, data, timeout=timeout)


def post(base: str, api_name: str, data: list, *, timeout: float = 600) -> Answer:
    request = urllib.request.Request(f"{base}gradio_api/call/{api_name}", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            event_id = json.loads(response.read())["event_id"]
    except urllib.error.HTTPError as exc:
        return Answer("http", exc.read().decode(errors="replace"))
    with urllib.request.urlopen(f"{base}gradio_api/call/{api_name}/{event_id}", timeout=timeout) as response:
        body = response.read().decode(errors="replace")
    event, last = None, None
    for line in body.splitlines():
        if line.startswith("event:"):
            event = line[len("event:"):].strip()
        elif line.startswith("data:") and event in ("complete", "error"):
            payload = json.loads(line[len("data:"):].strip() or "null")
            last = Answer(event, payload.get("error") if event == "error" and isinstance(payload, dict)
                          else payload)
    return last or Answer("http", body)


def upload(base: str, path, *, timeout: float = 120) -> dict:
    """POST /gradio_api/upload, as a browser sends a file; the FileData an endpoint takes."""
    import uuid

    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(base + "gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return {"path": json.loads(response.read())[0], "meta": {"_type": "gradio.FileData"}}
