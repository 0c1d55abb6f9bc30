"""MCP tools (issue #22) with the official `mcp` client against `release-hub --tiny --mcp`: names and
schemas, results as MCP content (audio, images, links, JSON) without server paths or reprs, admin tools
only with --mcp-admin, and the access gate in front of MCP when an API key is set."""
from __future__ import annotations

import asyncio
import concurrent.futures
import base64
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from serving import REPO, start_server, stop_server

KEY = "mcp-test-key"
SAFE_TOOLS = {"text_to_speech", "clone_voice", "generate_video", "game_actions_for_frame", "game_actions_for_video",
              "list_results", "get_result", "server_status"}
PLAY_TOOLS = {"play_game_episode"}  # when the agent tab's Play section is present (issue #21)
ADMIN_TOOLS = {"delete_result", "set_result_favourite", "unload_models"}
CALL_TIMEOUT_S = 600  # a tiny model on a busy 2-core box
SCREENSHOT = REPO / "demos" / "assets" / "agent_screenshot.png"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """A plain `--mcp` server and an `--mcp-admin` one (started side by side)."""
    tmp = tmp_path_factory.mktemp("mcp")
    flags = {"plain": ("--mcp",), "admin": ("--mcp", "--mcp-admin")}
    for name in flags:
        (tmp / name).mkdir()
    with ThreadPoolExecutor(len(flags)) as pool:
        futures = {name: pool.submit(start_server, tmp / name, *extra) for name, extra in flags.items()}
        started = {name: future.result() for name, future in futures.items()}
    yield {name: {"url": url, "dir": tmp / name, "log": log} for name, (_, url, log) in started.items()}
    for process, _, _ in started.values():
        stop_server(process)


@pytest.fixture
def keyed_server(tmp_path):
    """`--mcp` with RELEASE_HUB_API_KEY set: the access gate is on."""
    process, url, log = start_server(tmp_path, "--mcp", env_extra={"RELEASE_HUB_API_KEY": KEY})
    yield {"url": url, "dir": tmp_path, "log": log}
    stop_server(process)


def mcp_session(url: str, work, headers: dict | None = None):
    """Runs `await work(session)` in an initialized MCP session on the server at `url`."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def run():
        async with streamablehttp_client(url + "gradio_api/mcp/", headers=headers,
                                         timeout=60, sse_read_timeout=CALL_TIMEOUT_S) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    # A thread of its own: in the whole suite a browser test's Playwright loop may already run in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def call(url: str, tool: str, arguments: dict, headers: dict | None = None):
    return mcp_session(url, lambda s: s.call_tool(tool, arguments), headers)


def tools_of(url: str, headers: dict | None = None) -> dict:
    async def work(session):
        return {t.name: t for t in (await session.list_tools()).tools}

    return mcp_session(url, work, headers)


def assert_clean(result, server: dict) -> None:
    """No server path (temp dir, cache, outputs) and no Python repr anywhere in the result."""
    text = result.model_dump_json()
    for leak in ("/tmp/", str(server["dir"]), "{'path'", "'meta': {"):
        assert leak not in text, f"{leak!r} in {text[:400]}"


def parsed(result) -> dict:
    """The JSON text item (first) equals the structured content."""
    assert not result.isError, result.content[0].text
    first = json.loads(result.content[0].text)
    assert first == result.structuredContent
    return first


def items(result, kind: str) -> list:
    return [c for c in result.content if c.type == kind]


def test_tools_listed_with_names_and_schemas(servers):
    tools = tools_of(servers["plain"]["url"])
    assert set(tools) - PLAY_TOOLS == SAFE_TOOLS  # no stream twins, no admin tools, no Python function names
    tts = tools["text_to_speech"]
    props = tts.inputSchema["properties"]
    assert tts.inputSchema["required"] == ["text"]
    assert "neutral_female" in props["voice"]["enum"]
    assert (props["euler_steps"]["minimum"], props["euler_steps"]["maximum"]) == (1, 16)
    assert props["cfg_alpha"]["minimum"] < props["cfg_alpha"]["default"] < props["cfg_alpha"]["maximum"]
    assert "24 kHz" in tts.description and "audio content" in tts.description
    frame = tools["game_actions_for_frame"].inputSchema["properties"]["frame"]
    assert frame["type"] == "string" and frame["format"] == "uri" and "required" not in frame
    assert "as upstream's play loop does" in frame["description"]  # the docstring's second line too
    assert "data: URI" in frame["description"]
    assert all("title" not in p for p in tools["generate_video"].inputSchema["properties"].values())


def test_every_endpoint_is_a_tool_or_a_stream_twin(servers):
    """A new endpoint must be named (and classed safe or admin) in shared/web/mcp_tools.py."""
    from shared.web import mcp_tools

    info = httpx.get(servers["plain"]["url"] + "gradio_api/info", timeout=60).json()
    named = {name.lstrip("/") for name in info["named_endpoints"]}
    assert named - {t.endpoint for t in mcp_tools.TOOLS} - set(mcp_tools.STREAM_TWINS) == set()


def test_text_to_speech_returns_playable_audio_and_info(servers):
    server = servers["plain"]
    result = call(server["url"], "text_to_speech", {"text": "Hello from an agent.", "voice": "neutral_female",
                                                     "seed": 3})
    assert_clean(result, server)
    out = parsed(result)
    assert out["info"]["sample_rate"] == 24000 and out["info"]["seed"] == 3
    (audio,) = items(result, "audio")
    assert audio.mimeType == "audio/wav"
    wave, rate = sf.read(io.BytesIO(base64.b64decode(audio.data)))
    assert rate == 24000 and np.isfinite(wave).all()
    assert len(wave) / rate == pytest.approx(out["info"]["audio_seconds"], abs=0.05)
    (link,) = items(result, "resource_link")
    assert link.mimeType == "audio/wav" and link.size == out["audio"]["size_bytes"]
    served = httpx.get(str(link.uri), timeout=60)
    assert served.status_code == 200 and served.headers["content-type"] == "audio/wav"
    assert served.content == base64.b64decode(audio.data)
    unknown = str(link.uri).replace(str(link.uri).split("/")[-2], "not-a-token")
    assert httpx.get(unknown, timeout=60).status_code == 404


def test_a_result_link_is_a_file_input(servers):
    """An agent chains tools: the link of one result is the reference recording of the next call."""
    server = servers["plain"]

    async def work(session):
        spoken = await session.call_tool("text_to_speech", {"text": "A sentence long enough to be a reference.",
                                                            "seed": 2})
        url = parsed(spoken)["audio"]["url"]
        return await session.call_tool("clone_voice", {"text": "Now in that voice.", "reference_audio": url, "seed": 1})

    cloned = mcp_session(server["url"], work)
    assert_clean(cloned, server)
    assert parsed(cloned)["info"]["model"] == "pocket"
    assert items(cloned, "audio")[0].mimeType == "audio/wav"


def test_game_actions_for_frame_returns_parseable_actions(servers):
    server = servers["plain"]
    frame = "data:image/png;base64," + base64.b64encode(SCREENSHOT.read_bytes()).decode()
    result = call(server["url"], "game_actions_for_frame", {"frame": frame})
    assert_clean(result, server)
    actions = parsed(result)["actions"]
    buttons = np.array(actions["buttons"])
    assert buttons.shape == (18, len(actions["button_names"])) and set(np.unique(buttons)) <= {0, 1}
    assert np.abs(np.array(actions["j_left"])).max() <= 1.0
    assert actions["info"]["model"] == "nitrogen"


def test_generate_video_is_a_link_with_type_and_size(servers):
    server = servers["plain"]
    result = call(server["url"], "generate_video", {"prompt": "A red fox in the snow", "num_frames": 33, "seed": 1})
    assert_clean(result, server)
    out = parsed(result)
    (link,) = items(result, "resource_link")
    assert link.mimeType == "video/mp4" and link.size == out["video"]["size_bytes"] > 0
    served = httpx.get(str(link.uri), timeout=60)
    assert served.status_code == 200 and len(served.content) == link.size and served.content[4:8] == b"ftyp"


def test_history_and_status_are_json_without_paths(servers):
    server = servers["plain"]
    listed = call(server["url"], "list_results", {})
    assert_clean(listed, server)
    page = parsed(listed)["results"]
    assert page["total"] >= 1  # the earlier tests' results
    item = call(server["url"], "get_result", {"item_id": page["items"][0]["id"]})
    assert_clean(item, server)
    assert parsed(item)["sidecar"]["id"] == page["items"][0]["id"]
    status = call(server["url"], "server_status", {})
    assert_clean(status, server)
    assert parsed(status)["status"]["profile"]


def test_bad_input_gets_our_message(servers):
    result = call(servers["plain"]["url"], "text_to_speech", {"text": "hi", "euler_steps": 40})
    assert result.isError
    assert result.content[0].text == "euler_steps is 40; it must be a whole number from 1 to 16."


def test_admin_tools_only_with_the_flag(servers):
    refused = call(servers["plain"]["url"], "unload_models", {})
    assert refused.isError and "unload_models" in refused.content[0].text
    assert set(tools_of(servers["admin"]["url"])) - PLAY_TOOLS == SAFE_TOOLS | ADMIN_TOOLS
    unloaded = call(servers["admin"]["url"], "unload_models", {})
    assert parsed(unloaded)["status"]["unloaded"]["keys"] == []


# Needs the access gate (shared/web/access.py, the lead's ASGI middleware for issue #19) in front of every route.
def test_mcp_needs_the_key_when_one_is_set(keyed_server):
    server = keyed_server
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = httpx.post(server["url"] + "gradio_api/mcp/", json=hello, headers={**accept, **headers}, timeout=60)
        assert refused.status_code == 401, refused.text
    keyed = {"Authorization": f"Bearer {KEY}"}
    assert set(tools_of(server["url"], keyed)) - PLAY_TOOLS == SAFE_TOOLS
    # A queued tool with a file input: the loop-back through Gradio's queue and upload pass the gate too.
    frame = "data:image/png;base64," + base64.b64encode(SCREENSHOT.read_bytes()).decode()
    result = call(server["url"], "game_actions_for_frame", {"frame": frame}, keyed)
    assert_clean(result, server)
    assert len(parsed(result)["actions"]["buttons"]) == 18
    link_free = call(server["url"], "text_to_speech", {"text": "Hi.", "seed": 1}, keyed)
    (link,) = items(link_free, "resource_link")
    assert httpx.get(str(link.uri), timeout=60).status_code == 401  # file links are behind the gate too
    assert httpx.get(str(link.uri), headers=keyed, timeout=60).status_code == 200


def test_admin_flag_from_env_or_cli():
    from shared.web.settings import Settings

    assert not Settings.from_args([], env={}).mcp_admin
    assert Settings.from_args([], env={"RELEASE_HUB_MCP_ADMIN": "1"}).mcp_admin
    assert Settings.from_args(["--mcp-admin"], env={}).mcp_admin


def test_docstring_params_keep_continuation_lines():
    from shared.web.mcp_tools import docstring_params

    doc = """Do it.

        Args:
            frame: the screenshot. Resized to the model's
                input size, as upstream does.
            seed (int): -1 picks one.

        Returns:
            actions: not a parameter.
        """
    assert docstring_params(doc) == {"frame": "the screenshot. Resized to the model's input size, as upstream does.",
                                     "seed": "-1 picks one."}
