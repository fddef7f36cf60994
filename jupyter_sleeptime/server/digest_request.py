"""Take the kernel digest: one silent execute request whose user_expressions summarise
the namespace (see `introspect/digest.py`). A client with its own Session id, so its replies
never go to the server's other clients."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from jupyter_client.session import Session

from ..engine.state.records import Digest
from ..introspect.digest import USER_EXPRESSION_KEY, DigestError, build_expression, parse_reply
from ..introspect.probe import PROBE_EXPRESSION_KEY, build_probe_expression, parse_probe

log = logging.getLogger(__name__)


class DigestTaker:
    def __init__(self, budget_ms: float = 15.0, timeout: float = 5.0) -> None:
        self.budget_ms = budget_ms
        self.timeout = timeout
        self.clients: dict[str, Any] = {}
        self.sent: set[str] = set()  # msg ids the observer must ignore
        self.locks: dict[str, asyncio.Lock] = {}

    def _client(self, kernel_id: str, kernel: Any) -> Any:
        client = self.clients.get(kernel_id)
        if client is None:
            session = Session(key=kernel.session.key, username="jupyter-sleeptime")
            client = kernel.client(session=session)
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=True)
            self.clients[kernel_id] = client
        return client

    def forget(self, kernel_id: str) -> None:
        client = self.clients.pop(kernel_id, None)
        if client is not None:
            try:
                client.stop_channels()
            except Exception:  # the kernel may be gone already
                pass

    async def nudge(self, kernel_id: str, kernel: Any, timeout: float = 1.0) -> None:
        """A kernel_info request on the control channel: answered even while user code runs,
        and the busy/idle status it publishes on iopub (which observers ignore) tells a new
        subscription that it hears the kernel."""
        client = self._client(kernel_id, kernel)
        msg = client.session.msg("kernel_info_request")
        self.sent.add(msg["header"]["msg_id"])
        client.control_channel.send(msg)
        try:  # read the reply, so that unanswered replies never pile up
            await client.control_channel.get_msg(timeout=timeout)
        except Exception:  # not up yet: the request stays queued and is answered later
            pass

    @staticmethod
    def supports(kernel: Any) -> bool:
        try:
            language = (kernel.kernel_spec.language or "").lower()
        except Exception:
            return False
        return language == "python"

    async def docs(self, kernel_id: str, kernel: Any, names: list[str]) -> dict[str, str]:
        """Docstrings of these dotted names as the kernel's libraries have them ({} when the
        kernel cannot answer); one silent request, like the digest."""
        expression = build_probe_expression(names, budget_ms=50.0, mode="docs", limit=60)
        if expression is None or not self.supports(kernel):
            return {}
        reply = await self._silent(kernel_id, kernel, {PROBE_EXPRESSION_KEY: expression})
        found = parse_probe((reply or {}).get("user_expressions") or {})
        return {
            name: str(entry.get("doc") or "")
            for name, entry in found.items()
            if isinstance(entry, dict)
        }

    async def modules(
        self, kernel_id: str, kernel: Any, names: list[str]
    ) -> dict[str, bool] | None:
        """Which of these top-level modules the kernel can import (None when it cannot
        answer); one silent request that imports nothing."""
        expression = build_probe_expression(names, budget_ms=200.0, mode="modules", limit=20)
        if expression is None or not self.supports(kernel):
            return None
        reply = await self._silent(kernel_id, kernel, {PROBE_EXPRESSION_KEY: expression})
        if reply is None:
            return None
        found = parse_probe(reply.get("user_expressions") or {})
        answer = {
            name: bool(entry.get("importable"))
            for name, entry in found.items()
            if isinstance(entry, dict) and "importable" in entry
        }
        return answer or None

    async def _silent(self, kernel_id: str, kernel: Any, expressions: dict[str, str]) -> Any:
        """One silent execute request with these user expressions; its reply content, or
        None on timeout."""
        lock = self.locks.setdefault(kernel_id, asyncio.Lock())
        async with lock:
            client = self._client(kernel_id, kernel)
            msg_id = client.execute(
                "",
                silent=True,
                store_history=False,
                allow_stdin=False,
                user_expressions=expressions,
            )
            self.sent.add(msg_id)
            deadline = time.monotonic() + self.timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.info("sleeptime: a silent request to %s timed out", kernel_id)
                    self.forget(kernel_id)  # a late reply must not be read as the next one
                    return None
                try:
                    reply = await client.get_shell_msg(timeout=remaining)
                except Exception:
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply.get("content", {})

    async def take(
        self, kernel_id: str, kernel: Any, probe: list[str] | None = None
    ) -> Digest | None:
        """The digest, or None for a kernel that cannot give one (not Python, busy, gone).
        `probe`: dotted names on a failing line, read in the same request (`introspect/probe.py`)."""
        if not self.supports(kernel):
            return None
        expressions = {USER_EXPRESSION_KEY: build_expression(budget_ms=self.budget_ms)}
        probe_expression = build_probe_expression(probe or [])
        if probe_expression is not None:
            expressions[PROBE_EXPRESSION_KEY] = probe_expression
        content = await self._silent(kernel_id, kernel, expressions)
        if content is None:
            return None
        user_expressions = content.get("user_expressions") or {}
        try:
            data = parse_reply(user_expressions)
        except DigestError as exc:
            log.warning("sleeptime: digest of %s failed: %s", kernel_id, exc)
            return None
        return Digest(
            variables=data.get("variables", []),
            took_ms=float(data.get("took_ms", 0.0)),
            truncated=bool(data.get("truncated")),
            total=int(data.get("total", 0)),
            at=time.time(),
            probes=parse_probe(user_expressions),
            results=data.get("results") or {},
        )
