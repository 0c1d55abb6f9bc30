"""Gradio's MCP server (`launch(mcp_server=True)`, streamable HTTP at /gradio_api/mcp/) with our tools.

Gradio names a tool after the Python function behind an endpoint (`/video` became `video_api`),
lists every public endpoint (stream twins, Delete, Unload) and returns a result as the
Python repr of its outputs (server paths included). Gradio has no hook for any of this, so
`install()` makes Gradio build this subclass instead; it keeps Gradio's transport, queue
loop-back, progress notifications and file-input handling, and changes only:
- which tools exist and their names (shared.web.mcp_tools.TOOLS),
- descriptions (our sentence on file inputs and results) and schemas (each slider's range),
- results: MCP content built by shared.web.mcp_tools.ResultBuilder, files as opaque links served
  at shared.web.mcp_tools.FILES_ROUTE.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio.mcp
from gradio import route_utils
from gradio.components import State
from gradio.state_holder import SessionState
from gradio_client import Client, handle_file
from mcp import types
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse

from shared.web import mcp_tools

log = logging.getLogger("release_hub")

GRADIO_SERVER = gradio.mcp.GradioMCPServer
FILE_INPUTS = (" File inputs take the file itself as a data: URI (base64, e.g. 'data:image/png;base64,...'),"
               " or an http(s) URL of a file this server gave you.")
RESULTS = (" The result is one JSON text item with every output by name (also as structured content); "
           "audio also comes as audio content, images as image content, and every file as a resource link "
           "(URL, MIME type, size).")
FILE_PARAM = " A data: URI (base64) or an http(s) URL of a file this server gave you."
INLINE_PREFIXES = ("audio/", "video/", "image/")
MAX_CLIENTS = 8  # loop-back clients kept, one per Authorization header seen


def install(app) -> None:
    """Make Gradio build our MCP server for `app` (the release-hub Blocks); other Blocks get Gradio's."""
    app.release_hub_mcp = True

    def make_server(blocks):
        return ReleaseHubMCPServer(blocks) if getattr(blocks, "release_hub_mcp", False) else GRADIO_SERVER(blocks)

    gradio.mcp.GradioMCPServer = make_server


class ReleaseHubMCPServer(GRADIO_SERVER):
    def __init__(self, blocks) -> None:
        ctx = getattr(blocks, "release_hub_context", None)
        settings = getattr(ctx, "settings", None)
        self.admin = bool(getattr(settings, "mcp_admin", False))  # --mcp-admin / RELEASE_HUB_MCP_ADMIN
        self.links = mcp_tools.FileLinks()
        self._clients: dict[str, Client] = {}
        super().__init__(blocks)
        self.tool_prefix = ""  # our names are the same on a Space (Gradio prefixes the Space's name)

    # ------------------------------------------------------------ names and listing
    def get_tool_to_endpoint(self) -> dict[str, str]:
        endpoints = list(self.api_info["named_endpoints"])
        unknown = [e for e in endpoints if mcp_tools.tool_for(e) is None and e.lstrip("/") not in mcp_tools.STREAM_TWINS]
        if unknown:
            log.warning("MCP: endpoints without a tool entry in shared/web/mcp_tools.py, not offered: %s", unknown)
        return {t.name: "/" + t.endpoint for t in mcp_tools.offered_tools(endpoints, self.admin)}

    @property
    def _file_data_tool_description(self) -> str:  # Gradio appends this to tools with file inputs
        return FILE_INPUTS

    def get_fn_description(self, block_fn, tool_name: str) -> tuple[str, dict[str, str]]:
        description, parameters = super().get_fn_description(block_fn, tool_name)
        # Gradio keeps only the first line of each parameter's text; the whole of it helps an agent.
        parameters = {**parameters, **mcp_tools.docstring_params(getattr(block_fn.fn, "__doc__", None))}
        return description.rstrip() + RESULTS, parameters

    def get_input_schema(self, tool_name: str, parameters: dict[str, str] | None = None):
        schema, file_positions = super().get_input_schema(tool_name, parameters)
        block_fn = self.get_block_fn_from_endpoint_name(self.tool_to_endpoint[tool_name])
        components = [c for c in block_fn.inputs if not getattr(c, "skip_api", False)]
        for component, prop in zip(components, schema["properties"].values()):
            prop.pop("title", None)  # Gradio's component class name ("Radio"): nothing an agent can use
            _add_limits(prop, component)
        for position in file_positions:
            _tidy_file_param(schema["properties"][position[0]])
        return schema, file_positions

    # ------------------------------------------------------------ calls
    def create_mcp_server(self):
        server = super().create_mcp_server()
        # Replaces Gradio's handler. Inputs are not checked against the schema here: each endpoint checks
        # its own (shared/io/params.py), with a message naming the parameter, the value and the limit.
        server.call_tool(validate_input=False)(self._call_tool)
        return server

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        endpoint, args, headers, block_fn = self._prepare_tool_call_args(name, arguments)
        args = self.insert_empty_state(block_fn.inputs, args)
        request = self.mcp_server.request_context.request
        if block_fn.queue:
            values = await self._run_queued(endpoint, args, headers, len(block_fn.outputs))
        else:  # History and Status: Gradio's direct path, as its own handler takes it
            done = await self.blocks.process_api(block_fn=block_fn, inputs=args, state=SessionState(self.blocks),
                                                 request=request)
            values = [v.model_dump() if hasattr(v, "model_dump") else v for v in done["data"]]  # JsonData, FileData
        values = [v for v, c in zip(values, block_fn.outputs) if not isinstance(c, State)]
        root = route_utils.get_root_url(request=request, route_path=self.get_route_path(request),
                                        root_path=self.root_path)
        builder = mcp_tools.ResultBuilder(lambda path: f"{root}{mcp_tools.FILES_ROUTE}/{self.links.add(path)}/{path.name}")
        tool = mcp_tools.tool_for(endpoint)
        content, structured = builder.build(tool.outputs, values)
        return types.CallToolResult(content=content, structuredContent=structured)

    async def _run_queued(self, endpoint: str, args: list, headers: dict, n_outputs: int) -> list:
        """Through Gradio's queue (same line, limits and checks as the page), with progress when asked."""
        from anyio.to_thread import run_sync

        request = self.mcp_server.request_context.request
        url = self.local_url or route_utils.get_root_url(request=request, route_path=self.get_route_path(request),
                                                         root_path=self.root_path)
        client = await run_sync(self._client_for, url, headers.get("authorization"))
        job = client.submit(*args, api_name=endpoint, headers=headers)
        meta = self.mcp_server.request_context.meta
        token = meta.progressToken if meta is not None else None
        if token is not None:
            return list(await self._execute_tool_with_progress(job, token))
        result = await run_sync(job.result)
        return list(result) if n_outputs > 1 else [result]

    def _client_for(self, url: str, authorization: str | None) -> Client:
        """A loop-back client sending the caller's key: with the access gate on, the client's own requests
        (API info, uploads, the queue's stream) need it too, not only joining the queue."""
        key = authorization or ""
        if key not in self._clients:
            headers = {"x-gradio-user": "mcp", **({"authorization": authorization} if authorization else {})}
            client = Client(url, download_files=False, verbose=False, analytics_enabled=False, ssl_verify=False,
                            _skip_components=False, headers=headers)
            while len(self._clients) >= MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
            self._clients[key] = client
        return self._clients[key]

    def convert_strings_to_filedata(self, value: Any, filedata_positions: list) -> Any:
        """A link this server handed out (a result to continue, e.g. a video for v2v) becomes its file."""
        if isinstance(value, dict):
            value = dict(value)
            for position in filedata_positions:
                name = position[0] if len(position) == 1 else None
                path = self._linked_file(value.get(name))
                if path is not None:
                    value[name] = handle_file(str(path))
        return super().convert_strings_to_filedata(value, filedata_positions)

    def _linked_file(self, url: Any) -> Path | None:
        if not isinstance(url, str) or mcp_tools.FILES_ROUTE + "/" not in url:
            return None
        token = url.split(mcp_tools.FILES_ROUTE + "/", 1)[1].split("/", 1)[0]
        return self.links.resolve(token)

    # ------------------------------------------------------------ file links
    def launch_mcp_on_sse(self, app, subpath: str, root_path: str) -> None:
        app.add_route(mcp_tools.FILES_ROUTE + "/{token}/{name}", self._serve_file, methods=["GET", "HEAD"])
        super().launch_mcp_on_sse(app, subpath, root_path)

    async def _serve_file(self, request: Request):
        path = self.links.resolve(request.path_params["token"])
        if path is None or path.name != request.path_params["name"]:
            return JSONResponse({"error": "No such file: the link is unknown or has expired."}, status_code=404)
        mime = mcp_tools.mime_type_of(path)
        disposition = "inline" if mime.startswith(INLINE_PREFIXES) else "attachment"
        return FileResponse(path, media_type=mime, content_disposition_type=disposition,
                            headers={"X-Content-Type-Options": "nosniff"})


def _add_limits(prop: dict, component) -> None:
    """A slider's or number box's range (built from the parameter's spec in shared/io/params.py)."""
    for attr, key in (("minimum", "minimum"), ("maximum", "maximum")):
        value = getattr(component, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and prop.get("type") in ("number", "integer"):
            prop[key] = value


def _tidy_file_param(prop: dict) -> None:
    """Gradio leaves its FileData object's keys on what is now a string."""
    prop.pop("required", None)
    prop["format"] = "uri"
    prop["description"] = (prop.get("description", "").rstrip() + FILE_PARAM).strip()
