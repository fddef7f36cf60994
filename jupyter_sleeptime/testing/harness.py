"""Drive a real Jupyter server with the extension from outside, as a user's frontend
would: start it, open a notebook session, run cells over the kernel websocket, and talk
to the sleeptime REST API. Used by `jupyter sleeptime demo` and `bench`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import websocket_connect

from .. import protocol
from ..protocol import is_ask_cell


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`jupyter server` with the sleeptime extension, in a subprocess on loopback."""

    def __init__(
        self,
        root_dir: Path,
        store_path: Path,
        traits: dict[str, Any] | None = None,
        log_path: Path | None = None,
        extension: bool = True,
    ) -> None:
        self.extension = extension  # False: the same server without sleeptime (for comparison)
        self.root_dir = root_dir
        self.store_path = store_path
        self.traits = traits or {}
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path or root_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        args = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--ServerApp.jpserver_extensions={{'jupyter_sleeptime': {self.extension}}}",
            f"--SleeptimeApp.store_path={self.store_path}",
        ]
        for name, value in self.traits.items():
            args.append(f"--SleeptimeApp.{name}={value}")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")  # containers and CI run as root
        env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", **os.environ}  # unless the caller set it
        log = open(self.log_path, "w")  # noqa: SIM115 - kept open for the server's lifetime
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root_dir
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter server exited; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyter server did not start in {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServerClient:
    """The sleeptime REST API and the kernel websocket, over loopback."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"token {token}"}
        self.http = AsyncHTTPClient()

    async def _fetch(
        self, method: str, path: str, body: Any = None, timeout: float = 600
    ) -> HTTPResponse:
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers=self.headers,
            request_timeout=timeout,
            body=None if body is None else json.dumps(body),
        )
        return await self.http.fetch(request)

    async def call(self, method: str, path: str, body: Any = None, timeout: float = 600) -> Any:
        response = await self._fetch(method, path, body, timeout)
        return json.loads(response.body) if response.body else None

    async def open_notebook(self, path: str) -> str:
        session = await self.call(
            "POST",
            "api/sessions",
            {
                "path": path,
                "name": path,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        return session["kernel"]["id"]

    async def status(self) -> dict[str, Any]:
        return await self.call("GET", protocol.route("status"))

    async def status_timed(self) -> tuple[dict[str, Any], float | None]:
        """`GET status` and the milliseconds the server says building it took
        (its `Server-Timing` header), or None when it does not say."""
        response = await self._fetch("GET", protocol.route("status"))
        timing = re.search(r"dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
        return json.loads(response.body), float(timing.group(1)) if timing else None

    async def kernel(self, kernel_id: str) -> dict[str, Any]:
        return await self.call("GET", protocol.route("kernel", kernel_id))

    async def think(self, kernel_id: str) -> dict[str, Any]:
        return await self.call(
            "POST", protocol.route("think", kernel_id), {"wait": True}, timeout=3600
        )

    async def ask(
        self,
        kernel_id: str,
        question: str,
        mode: str = "sleep",
        on_token: Callable[[str], None] | None = None,
        cold: bool = False,
        dry_run: bool = False,
        fresh: bool = False,
    ) -> dict[str, Any]:
        """Stream an answer; returns the `done` (or `error`) event, with client-side timings.
        `dry_run`: the `prompt` event instead (what would be sent, no model call)."""
        reader = protocol.EventReader()
        started = time.perf_counter()
        first: list[float] = []

        def chunk(data: bytes) -> None:
            for event in reader.feed(data):
                if event["type"] == "token":
                    if not first:
                        first.append(time.perf_counter())
                    if on_token:
                        on_token(event["text"])

        body = protocol.ask_request(question, mode, fresh=fresh, dry_run=dry_run, cold=cold)
        request = HTTPRequest(
            self.url + protocol.route("ask", kernel_id),
            method="POST",
            headers=self.headers,
            body=json.dumps(body),
            streaming_callback=chunk,
            request_timeout=3600,
        )
        try:
            await self.http.fetch(request)
        except HTTPClientError as exc:
            payload = exc.response.body if exc.response is not None else b"{}"
            return dict(protocol.error(json.loads(payload or b"{}").get("message", str(exc))))
        reader.end()
        final: dict[str, Any] = dict(reader.final or {})
        final["client_latency_ms"] = (time.perf_counter() - started) * 1000
        final["client_ttft_ms"] = (
            ((first[0] - started) * 1000) if first else final["client_latency_ms"]
        )
        return final

    async def wait_idle_thinking(
        self,
        kernel_id: str,
        timeout: float = 3600,
        progress: Callable[[dict[str, Any]], None] | None = None,
        settle: float = 1.0,
        after: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Wait until idle-time thinking has nothing left to do for this kernel's notebook
        (and, with `after`, has finished a run newer than that `last_run`)."""
        deadline = time.monotonic() + timeout
        calm_since: float | None = None
        while time.monotonic() < deadline:
            state = await self.kernel(kernel_id)
            if progress:
                progress(state)
            done = (
                not state["thinking"]
                and state["pending"] == 0
                and state["last_run"]
                and state["last_run"] != after
            )
            if done:
                calm_since = calm_since or time.monotonic()
                if time.monotonic() - calm_since >= settle:
                    return state
            else:
                calm_since = None
            await asyncio.sleep(0.5)
        raise TimeoutError(f"idle thinking did not finish within {timeout} s")


class KernelSocket:
    """Execute cells the way JupyterLab does: execute_request over the kernel websocket."""

    def __init__(self, url: str, token: str, kernel_id: str) -> None:
        ws_url = url.replace("http", "ws", 1) + f"api/kernels/{kernel_id}/channels"
        self.request = HTTPRequest(ws_url, headers={"Authorization": f"token {token}"})
        self.session = uuid.uuid4().hex
        self.ws: Any = None

    async def connect(self) -> None:
        self.ws = await websocket_connect(self.request, max_message_size=64 * 1024 * 1024)
        # Keep reading in the background: tornado's client holds one unread message and then
        # stops answering pings, and the server drops a socket left unread for 90 s.
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while True:
            message = await self.ws.read_message()
            self._inbox.put_nowait(message)
            if message is None:
                return

    def write_message(self, message: str) -> Any:
        return self.ws.write_message(message)

    async def read_message(self) -> str | None:
        return await self._inbox.get()

    async def execute(self, code: str, timeout: float = 600) -> dict[str, Any]:
        return await execute_over(self, self.session, code, timeout)

    def close(self) -> None:
        if self.ws is not None:
            self._reader.cancel()
            self.ws.close()


OUTPUT_MESSAGES = ("stream", "execute_result", "display_data", "update_display_data", "error")


def shell_request(msg_type: str, session: str, content: dict[str, Any]) -> tuple[str, str]:
    """A shell-channel message as JupyterLab sends it over the kernel websocket: (id, JSON)."""
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": msg_type,
        "session": session,
        "username": "sleeptime",
        "version": "5.3",
        "date": "",
    }
    message = {
        "header": header,
        "parent_header": {},
        "metadata": {},
        "buffers": [],
        "channel": "shell",
        "content": content,
    }
    return msg_id, json.dumps(message)


def execute_request(session: str, code: str) -> tuple[str, str]:
    """A user's execute_request as JupyterLab sends it over the kernel websocket: (id, JSON)."""
    return shell_request(
        "execute_request",
        session,
        {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    )


async def execute_over(ws: Any, session: str, code: str, timeout: float = 600) -> dict[str, Any]:
    """One execute_request over a kernel websocket, as a frontend sends it; waits for the
    reply and the kernel's return to idle. Returns the reply and the outputs in order."""
    msg_id, message = execute_request(session, code)
    await _maybe_await(ws.write_message(message))
    outputs: list[dict[str, Any]] = []
    reply: dict[str, Any] | None = None
    idle = False
    deadline = time.monotonic() + timeout
    while reply is None or not idle:
        raw = await asyncio.wait_for(ws.read_message(), max(0.1, deadline - time.monotonic()))
        if raw is None:
            raise ConnectionError("the kernel websocket closed")
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "execute_reply":
            reply = msg["content"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
        elif kind in OUTPUT_MESSAGES:
            outputs.append({"type": kind, **msg["content"]})
    return {"reply": reply, "outputs": outputs}


async def _maybe_await(value: Any) -> None:
    if asyncio.isfuture(value) or asyncio.iscoroutine(value):
        await value


def ask_cells(path: Path) -> int:
    """How many code cells only ask (`%ask …`): `code_cells` leaves them out."""
    notebook = nbformat.read(path, as_version=4)
    return sum(
        1 for cell in notebook.cells if cell.cell_type == "code" and is_ask_cell(cell.source)
    )


def code_cells(path: Path) -> list[str]:
    """The notebook's code cells, without cells that only ask (`%ask …`): the demo and the
    benchmark ask their questions themselves."""
    notebook = nbformat.read(path, as_version=4)
    return [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.source.strip() and not is_ask_cell(cell.source)
    ]
