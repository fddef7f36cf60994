"""The small client a kernel uses to reach the sleeptime server extension.

Standard library only (urllib / http.client) plus `jupyter_sleeptime.protocol` (the wire
contract: routes, header, environment names, events): the kernel needs nothing extra. A magic runs
while the kernel is busy and can process no message sent *to* it, so everything here is an
outgoing HTTP call that the server answers on its own event loop.

Finding the server:

1. Kernels started by a server with the extension get ``JUPYTER_SLEEPTIME_URL``,
   ``JUPYTER_SLEEPTIME_KERNEL_ID`` and ``JUPYTER_SLEEPTIME_TOKEN`` (``protocol.ENV_*``); the
   token is scoped to that kernel's own routes and travels in the
   ``protocol.KERNEL_TOKEN_HEADER`` header.
2. Otherwise the kernel id comes from the connection file name (``kernel-<id>.json``) and
   the servers from the ``jpserver-*.json`` runtime files (what
   ``jupyter_server.serverapp.list_running_servers()`` reads, without importing the server);
   the one that answers ``GET sleeptime/api/kernels/<id>`` with 200 is used.

Tokens never appear in a repr, an error message or an output.
"""

from __future__ import annotations

import contextlib
import glob
import ipaddress
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import protocol

ASK_TIMEOUT = 900.0  # seconds without a byte before giving up (a cold local prefill is slow)
STATE_TIMEOUT = 30.0
PROBE_TIMEOUT = 2.0

_CONNECTION_FILE = re.compile(r"kernel-(?P<id>[\w-]+)\.json$")


class SleeptimeError(Exception):
    """Something the user should read, as one sentence (never a traceback)."""


class Unreachable(SleeptimeError):
    """The server did not answer at all (gone, restarted elsewhere, network)."""


# -- endpoint discovery ---------------------------------------------------------------------------
@dataclass
class Endpoint:
    """Where this kernel's sleeptime routes are, and how to authenticate to them."""

    base_url: str  # ends with "/"
    kernel_id: str
    source: str  # "env" | "discovered"
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never the token
        return f"Endpoint({self.base_url!r}, kernel_id={self.kernel_id!r}, source={self.source!r})"

    def url(self, route: str = "kernel") -> str:
        """The full URL of one of this kernel's routes (`protocol.ROUTES`: kernel, think, ask)."""
        return self.base_url + protocol.route(route, urllib.parse.quote(self.kernel_id, safe=""))


def kernel_id_from_connection_file(path: str | None = None) -> str | None:
    """The kernel id in an ipykernel connection file name (``kernel-<id>.json``)."""
    if path is None:
        try:
            from ipykernel.connect import get_connection_file

            path = get_connection_file()
        except Exception:
            return None
    match = _CONNECTION_FILE.search(os.path.basename(path or ""))
    return match.group("id") if match else None


def running_servers(runtime_dir: str | None = None) -> list[dict[str, Any]]:
    """The info of running Jupyter servers from their ``jpserver-*.json`` runtime files —
    the files ``list_running_servers()`` reads, read-only (stale ones are skipped, not
    deleted). The kernel's own parent process comes first."""
    if runtime_dir is None:
        try:
            from jupyter_core.paths import jupyter_runtime_dir

            runtime_dir = jupyter_runtime_dir()
        except Exception:
            return []
    found = []
    for path in glob.glob(os.path.join(runtime_dir, "jpserver-*.json")):
        try:
            with open(path, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and _alive(info.get("pid")):
            found.append(info)
    parent = os.getppid()
    found.sort(key=lambda info: info.get("pid") != parent)
    return found


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def discover(
    environ: dict[str, str] | None = None,
    connection_file: str | None = None,
    servers: Iterable[dict[str, Any]] | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> Endpoint | None:
    """The endpoint of the server that runs this kernel, or None when there is none."""
    env = os.environ if environ is None else environ
    url = env.get(protocol.ENV_URL)
    kernel_id = env.get(protocol.ENV_KERNEL_ID)
    token = env.get(protocol.ENV_TOKEN)
    if url and kernel_id:
        headers = {protocol.KERNEL_TOKEN_HEADER: token} if token else {}
        return Endpoint(_slash(url), kernel_id, "env", headers)
    kernel_id = kernel_id or kernel_id_from_connection_file(connection_file)
    if not kernel_id:
        return None
    for info in running_servers() if servers is None else servers:
        url = info.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue  # unix-socket servers cannot be reached with a plain URL
        server_token = info.get("token")
        headers = {"Authorization": f"token {server_token}"} if server_token else {}
        endpoint = Endpoint(_slash(url), kernel_id, "discovered", headers)
        try:
            with _open(endpoint, "GET", endpoint.url(), timeout=timeout):
                return endpoint
        except SleeptimeError:
            continue
    return None


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# -- HTTP ----------------------------------------------------------------------------------------
def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost" or host == socket.gethostname():
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_DEFAULT = urllib.request.build_opener()


def _open(
    endpoint: Endpoint, method: str, url: str, body: Any = None, timeout: float = 30.0
) -> Any:
    """The response (a context manager iterating its lines); HTTP and network failures as
    `SleeptimeError` / `Unreachable` in words."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json, application/x-ndjson", **endpoint.headers}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    opener = _DIRECT if _loopback(url) else _DEFAULT  # a proxy must never see a local token
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise SleeptimeError(_http_message(exc)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(
            f"cannot reach the Jupyter server at {endpoint.base_url} ({reason})."
        ) from None


def _http_message(exc: urllib.error.HTTPError) -> str:
    message = ""
    with contextlib.suppress(Exception):
        payload = json.loads(exc.read().decode("utf-8", "replace") or "{}")
        message = str(payload.get("message") or payload.get("reason") or "")
    if exc.code in (401, 403):
        hint = "the server refused this kernel's credentials"
        return f"{hint} (HTTP {exc.code}){': ' + message if message else ''}."
    if exc.code == 404 and not message:
        message = "this kernel is not known to the sleeptime server extension"
    return f"{message or exc.reason} (HTTP {exc.code})".strip()


class SleeptimeClient:
    """Talks to one kernel's routes on the server. Same interface as the in-process backend
    (`inprocess`, `state`, `ask`), so the magic and the widget do not care which one they have."""

    inprocess = False

    def __init__(self, endpoint: Endpoint, timeout: float = ASK_TIMEOUT) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SleeptimeClient({self.endpoint!r})"

    def state(self) -> dict[str, Any]:
        with _open(self.endpoint, "GET", self.endpoint.url(), timeout=STATE_TIMEOUT) as response:
            return json.loads(response.read().decode("utf-8"))

    def think(self, wait: bool = True) -> dict[str, Any]:
        with _open(
            self.endpoint, "POST", self.endpoint.url("think"), {"wait": wait}, timeout=self.timeout
        ) as response:
            return json.loads(response.read().decode("utf-8"))

    def ask(
        self, question: str, mode: str = "sleep", model: str | None = None, fresh: bool = False
    ) -> Iterator[protocol.AskEvent]:
        """Stream the answer: ``token`` events, then one final event (``done`` or ``error``).
        ``fresh=True`` has the server skip prepared answers and ask the model.

        Failures arrive as an ``error`` event too (`protocol.read_events` words a broken
        stream), never as an exception (except KeyboardInterrupt, which closes the
        connection: the server stops streaming)."""
        body = protocol.ask_request(question, mode, fresh=fresh, model=model)
        try:
            response = _open(
                self.endpoint, "POST", self.endpoint.url("ask"), body, timeout=self.timeout
            )
        except SleeptimeError as exc:
            yield protocol.error(str(exc), unreachable=isinstance(exc, Unreachable))
            return
        with response:
            yield from protocol.read_events(response)


__all__ = [
    "Endpoint",
    "SleeptimeClient",
    "SleeptimeError",
    "Unreachable",
    "discover",
    "kernel_id_from_connection_file",
    "running_servers",
]
