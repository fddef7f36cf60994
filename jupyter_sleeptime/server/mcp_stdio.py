"""`jupyter sleeptime mcp`: the server's MCP tools over stdio, for MCP clients that only
launch commands (Claude Desktop, Cursor, VS Code's stdio servers).

It finds the Jupyter server (`--url`/`--token`, else `JUPYTER_SLEEPTIME_URL` or
`JUPYTER_SERVER_URL` and `JUPYTER_TOKEN`, else the runtime files `jupyter server list`
reads), checks that the token is accepted, then relays every MCP message between stdin/
stdout and the streamable HTTP endpoint `{url}sleeptime/mcp`. It holds no tools of its
own: the answers come from the running server's prepared state."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from mcp.client.streamable_http import streamable_http_client
from mcp.server.stdio import stdio_server
from mcp.shared._httpx_utils import create_mcp_http_client

from .. import protocol
from .mcp import ROUTE

ENV_URLS = (protocol.ENV_URL, "JUPYTER_SERVER_URL")
ENV_TOKEN = "JUPYTER_TOKEN"


class BridgeError(RuntimeError):
    """The bridge cannot reach a server; the message says what to set."""


@dataclass
class Target:
    url: str  # the server's base URL, ending in "/"
    token: str

    @property
    def endpoint(self) -> str:
        return self.url + ROUTE

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}


def _running_servers() -> list[dict[str, Any]]:
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return []
    return list(list_running_servers())


def find_target(url: str | None = None, token: str | None = None) -> Target:
    """The server to relay to: arguments first, then the environment, then the runtime
    files of running servers (the one whose URL matches, or the newest)."""
    url = url or next((os.environ[n] for n in ENV_URLS if os.environ.get(n)), None)
    token = token if token is not None else os.environ.get(ENV_TOKEN)
    if url and token is not None:
        return Target(url.rstrip("/") + "/", token)
    servers = _running_servers()
    if url:
        wanted = url.rstrip("/") + "/"
        servers = [s for s in servers if str(s.get("url", "")).rstrip("/") + "/" == wanted]
        if not servers:
            return Target(wanted, token or "")
    if not servers:
        raise BridgeError(
            "No running Jupyter server found. Start one (jupyter lab), or set "
            f"{protocol.ENV_URL} to its URL and {ENV_TOKEN} to its token."
        )
    server = max(servers, key=lambda s: s.get("pid", 0))
    return Target(str(server["url"]).rstrip("/") + "/", token or str(server.get("token", "")))


async def check(target: Target) -> None:
    """Fail early with a clear message instead of answering every request with an error."""
    try:
        async with httpx2.AsyncClient(headers=target.headers, timeout=10) as http:
            response = await http.post(
                target.endpoint,
                json={"jsonrpc": "2.0", "id": 0, "method": "ping"},
                headers={"Accept": "application/json, text/event-stream"},
            )
    except httpx2.HTTPError as exc:
        raise BridgeError(f"Cannot reach the Jupyter server at {target.url}: {exc}") from exc
    if response.status_code in (401, 403):
        raise BridgeError(
            f"The Jupyter server at {target.url} refused the token; set {ENV_TOKEN} to the "
            "server's token (see `jupyter server list`)."
        )
    if response.status_code == 404:
        raise BridgeError(
            f"The Jupyter server at {target.url} does not run jupyter-sleeptime; enable the "
            "extension (jupyter server extension enable jupyter_sleeptime)."
        )


async def relay(target: Target) -> None:
    """Every message from stdin to the endpoint and every answer back, until stdin ends."""
    async with (
        create_mcp_http_client(headers=target.headers) as http,
        streamable_http_client(target.endpoint, http_client=http) as (remote_in, remote_out),
        stdio_server() as (local_in, local_out),
        anyio.create_task_group() as group,
    ):

        async def pump(source: Any, sink: Any) -> None:
            async for message in source:
                if isinstance(message, Exception):
                    print(f"jupyter sleeptime mcp: {message}", file=sys.stderr)
                    continue
                await sink.send(message)
            group.cancel_scope.cancel()

        group.start_soon(pump, local_in, remote_out)
        group.start_soon(pump, remote_in, local_out)


def run(url: str | None = None, token: str | None = None) -> int:
    try:
        target = find_target(url, token)
        anyio.run(check, target)
    except BridgeError as exc:
        print(f"jupyter sleeptime mcp: {exc}", file=sys.stderr)
        return 1
    anyio.run(relay, target)
    return 0
