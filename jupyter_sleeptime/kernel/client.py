"""The small client a kernel uses to reach the sleeptime server extension.

Standard library only (urllib / http.client): the kernel needs nothing extra. A magic runs
while the kernel is busy and can process no message sent *to* it, so everything here is an
outgoing HTTP call that the server answers on its own event loop.

Finding the server:

1. Kernels started by a server with the extension get ``JUPYTER_SLEEPTIME_URL``,
   ``JUPYTER_SLEEPTIME_KERNEL_ID`` and ``JUPYTER_SLEEPTIME_TOKEN``; the token is scoped to
   that kernel's own routes and travels in the ``X-Sleeptime-Kernel-Token`` header.
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

URL_ENV = "JUPYTER_SLEEPTIME_URL"
KERNEL_ENV = "JUPYTER_SLEEPTIME_KERNEL_ID"
TOKEN_ENV = "JUPYTER_SLEEPTIME_TOKEN"
KERNEL_TOKEN_HEADER = "X-Sleeptime-Kernel-Token"
API = "sleeptime/api/"
MODES = ("sleep", "baseline", "baseline-budget")
ASK_TIMEOUT = 900.0  # seconds without a byte before giving up (a cold local prefill is slow)
STATE_TIMEOUT = 30.0
PROBE_TIMEOUT = 2.0

_CONNECTION_FILE = re.compile(r"kernel-(?P<id>[\w-]+)\.json$")
# The first code line of a cell that only asks sleeptime (it changes nothing in the kernel).
_ASK_CELL = re.compile(r"^\s*(?:%%?ask\b|%load_ext\s+jupyter_sleeptime\s*$)")
_ASK_TRANSFORMED = re.compile(r"^\s*get_ipython\(\)\.run_(?:line|cell)_magic\(\s*['\"]ask['\"]")


class SleeptimeError(Exception):
    """Something the user should read, as one sentence (never a traceback)."""


class Unreachable(SleeptimeError):
    """The server did not answer at all (gone, restarted elsewhere, network)."""


def is_ask_cell(source: str) -> bool:
    """True for a cell whose code is only ``%ask`` / ``%%ask`` (or ``%load_ext
    jupyter_sleeptime``): asking changes nothing in the kernel, so such cells are neither
    context for the model nor a change of the notebook's state."""
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    if lines[0].lstrip().startswith("%%ask"):
        return True
    return all(_ASK_CELL.match(ln) or _ASK_TRANSFORMED.match(ln) for ln in lines)


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

    def url(self, *parts: str) -> str:
        path = "/".join(urllib.parse.quote(p, safe="") for p in parts)
        return f"{self.base_url}{API}kernels/{urllib.parse.quote(self.kernel_id, safe='')}" + (
            f"/{path}" if path else ""
        )


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
    url, kernel_id, token = env.get(URL_ENV), env.get(KERNEL_ENV), env.get(TOKEN_ENV)
    if url and kernel_id:
        headers = {KERNEL_TOKEN_HEADER: token} if token else {}
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


def _open(endpoint: Endpoint, method: str, url: str, body: Any = None, timeout: float = 30.0):
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
    (`state`, `ask`), so the magic and the widget do not care which one they have."""

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
    ) -> Iterator[dict[str, Any]]:
        """Stream the answer: ``token`` events, then one ``done`` or ``error`` event.
        ``fresh=True`` has the server skip prepared answers and ask the model.

        Failures arrive as an ``error`` event too, never as an exception (except
        KeyboardInterrupt, which closes the connection: the server stops streaming)."""
        body: dict[str, Any] = {"question": question, "mode": mode}
        if model:
            body["model"] = model
        if fresh:
            body["fresh"] = True
        try:
            response = _open(
                self.endpoint, "POST", self.endpoint.url("ask"), body, timeout=self.timeout
            )
        except SleeptimeError as exc:
            unreachable = isinstance(exc, Unreachable)
            yield {"type": "error", "message": str(exc), "unreachable": unreachable}
            return
        finished = False
        try:
            with response:
                for raw in response:
                    line = raw.strip()
                    if not line:
                        continue
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(event, dict):
                        continue
                    yield event
                    if event.get("type") in ("done", "error"):
                        finished = True
                        return
        except (OSError, ValueError) as exc:  # socket timeout, reset, truncated chunk
            if not finished:
                yield {"type": "error", "message": f"the answer stream broke off ({exc})."}
            return
        if not finished:
            yield {"type": "error", "message": "the server closed the answer stream early."}


# -- presentation helpers shared by the magic and the widget ------------------------------------
def format_ms(ms: Any) -> str:
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return "?"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def footer(done: dict[str, Any], inprocess: bool = False, markdown: bool = True) -> str:
    """One line saying where the answer came from and what it cost at query time."""
    usage = done.get("usage") or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int(usage.get("cached_tokens") or 0)
    mode = done.get("mode") or "sleep"
    parts: list[str] = []
    if inprocess:
        parts.append("in-process (no server): query time only")
    if done.get("source") == "anticipated":
        parts += [prepared_label(done, markdown), f"{prompt + completion} tokens"]
    else:
        model = str(done.get("model") or "?")
        parts.append(f"model {_md_escape(model) if markdown else model}")
        if mode != "sleep" and not inprocess:
            parts.append(mode)
        tokens = f"{prompt} prompt + {completion} completion tokens"
        parts.append(tokens + (f" ({cached} cached)" if cached else ""))
        if done.get("ttft_ms"):
            parts.append(f"first token {format_ms(done['ttft_ms'])}")
    parts.append(format_ms(done.get("latency_ms")))
    line = " · ".join(parts)
    return f"_{line}_" if markdown else line


def prepared_label(done: dict[str, Any], markdown: bool = True) -> str:
    """Which prepared question the server matched: the user's wording may differ from it."""
    matched = " ".join(str(done.get("matched") or "").split())
    if not matched:
        return "⚡ prepared answer"
    return f"⚡ prepared answer to: '{_md_escape(matched) if markdown else matched}'"


def fresh_command(question: str) -> str:
    """The `%ask` that asks the same question of the model, skipping prepared answers."""
    question = question.strip()
    if "\n" in question:  # a %%ask cell: the question stays the cell body
        return f"%%ask --fresh\n{question}"
    # `--` keeps a question that starts with a dash from being read as an option.
    return f"%ask --fresh {'-- ' if question.startswith('-') else ''}{question}"


def fresh_hint(question: str, markdown: bool = True) -> str:
    """The line under a prepared answer that offers the model's answer instead."""
    command = fresh_command(question)
    if not markdown:
        return f"ask the model instead: {command}"
    if "\n" in command:
        fence = "```"
        while fence in command:
            fence += "`"
        return f"_Ask the model instead:_\n\n{fence}\n{command}\n{fence}"
    ticks = "`"
    while ticks in command:
        ticks += "`"
    pad = " " if command.startswith("`") or command.endswith("`") else ""
    return f"_Ask the model instead:_ {ticks}{pad}{command}{pad}{ticks}"


def error_text(message: str) -> str:
    return f"⚠ sleeptime: {message}"


__all__ = [
    "Endpoint",
    "SleeptimeClient",
    "SleeptimeError",
    "Unreachable",
    "discover",
    "error_text",
    "footer",
    "format_ms",
    "fresh_command",
    "fresh_hint",
    "is_ask_cell",
    "kernel_id_from_connection_file",
    "prepared_label",
    "running_servers",
]
