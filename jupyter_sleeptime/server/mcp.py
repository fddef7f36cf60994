"""The MCP endpoint: streamable HTTP at `{base_url}sleeptime/mcp`, inside the Jupyter server.

The official SDK's `MCPServer` in stateless HTTP mode (one JSON response per request, no
session to keep) holds the tools of `mcp_tools`. Its session manager is an ASGI app; a
small tornado handler translates each request into an ASGI call, so the endpoint needs no
second port and sits behind Jupyter's own authentication: the same token or cookie as the
REST API, the same authorizer (`sleeptime` resource), 403 without them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.auth.decorator import authorized
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from tornado import web

from .. import __version__
from . import mcp_tools
from .handlers import SleeptimeHandler

log = logging.getLogger(__name__)

ROUTE = "sleeptime/mcp"
INSTRUCTIONS = (
    "jupyter-sleeptime studies the open notebooks while their kernels are idle. These tools "
    "read what it prepared (facts about each variable, error cards, cell explanations, the "
    "notebook's memory, next steps, prepared answers) in milliseconds and never run code in "
    "a kernel. Start with list_notebooks, then notebook_overview."
)
# Response headers the handler's own connection decides.
HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-type"}


def compact(tool: Callable[..., Awaitable[dict[str, Any]]]) -> Callable[..., Any]:
    """The tool with its result as compact JSON text (the SDK indents it) next to the same
    result as structured content: an agent's context pays for content, not indentation."""

    @functools.wraps(tool)
    async def call(**arguments: Any) -> CallToolResult:
        result = await tool(**arguments)
        text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=result
        )

    return call


def build_server() -> MCPServer:
    server = MCPServer("jupyter-sleeptime", version=__version__, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
    for tool in mcp_tools.TOOLS:
        # `ask` may call the configured model when nothing prepared answers.
        annotations = ToolAnnotations(readOnlyHint=True) if tool is mcp_tools.ask else read_only
        server.add_tool(compact(tool), annotations=annotations)
    return server


class McpEndpoint:
    """The MCP server and its session manager, run on the Jupyter server's event loop from
    the first request until the extension stops."""

    def __init__(self) -> None:
        self.server = build_server()
        # Jupyter checks Host and Origin itself (`check_host`, `check_origin`), with the
        # server's own allow lists: the SDK's localhost-only check would refuse a server
        # that listens on another name.
        self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.manager: StreamableHTTPSessionManager = self.server.session_manager
        self._task: asyncio.Task | None = None
        self._started: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None

    async def _run(self) -> None:
        assert self._started is not None and self._stop is not None
        async with self.manager.run():
            self._started.set()
            await self._stop.wait()

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._task is None:
            self._started, self._stop = asyncio.Event(), asyncio.Event()
            self._task = asyncio.ensure_future(self._run())
        assert self._started is not None
        started = asyncio.ensure_future(self._started.wait())
        await asyncio.wait({started, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            self._task.result()  # the manager failed to start: raise why
        await self.manager.handle_request(scope, receive, send)

    async def stop(self) -> None:
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 10)


class McpHandler(SleeptimeHandler):
    """Jupyter's authentication and authorization, then the request as ASGI."""

    _closed: asyncio.Event | None = None

    @property
    def endpoint(self) -> McpEndpoint:
        return self.settings["sleeptime_mcp"]

    def on_connection_close(self) -> None:
        if self._closed is not None:
            self._closed.set()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        await self._asgi()

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self._asgi()

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        await self._asgi()

    async def _asgi(self) -> None:
        request = self.request
        self._closed = asyncio.Event()
        host, _, port = (
            request.host.rpartition(":") if ":" in request.host else (request.host, "", "")
        )
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request.version.split("/")[-1],
            "method": request.method,
            "scheme": request.protocol,
            "path": "/mcp",
            "raw_path": b"/mcp",
            "root_path": "",
            "query_string": request.query.encode("latin-1"),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.get_all()
            ],
            "client": (request.remote_ip, 0),
            "server": (host or request.host, int(port) if port.isdigit() else None),
            "state": {},
        }
        sent_body = False
        content_type = "application/json"

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": request.body or b"", "more_body": False}
            assert self._closed is not None
            await self._closed.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal content_type
            if message["type"] == "http.response.start":
                self.set_status(message["status"])
                for raw_name, raw_value in message.get("headers", []):
                    name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                    if name.lower() == "content-type":
                        content_type = value
                    elif name.lower() not in HOP_HEADERS:
                        self.add_header(name, value)
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body:
                    self.write(body)
                if message.get("more_body"):  # a stream (SSE): each event as it comes
                    self.set_header("Content-Type", content_type)
                    await self.flush()

        await self.endpoint.handle(scope, receive, send)
        if not self._finished:
            self.finish(set_content_type=content_type)


def handlers() -> list[tuple[str, type]]:
    return [("/" + ROUTE, McpHandler)]
