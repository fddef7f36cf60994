"""`SleeptimeService`: the one core object the handlers use (stored in tornado settings).

It attaches a watcher to every kernel the server runs (those running at start, those
started later, and again after a restart), maps kernels to notebooks through the session
manager, takes the digest once a kernel has been idle after user code, and hands all of it
to the engine."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..engine.sleeptime_engine import EngineConfig, SleeptimeEngine
from ..protocol import KernelView, StatusView
from . import views
from .digest_request import DigestTaker
from .notebooks import read_notebook
from .observer import KernelWatcher

log = logging.getLogger(__name__)

KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
POLL_SECONDS = 1.0
HEARING_ATTEMPTS = 30  # nudges, about a second apart: a slow kernel start is covered
RESUBSCRIBE_EVERY = 3  # unanswered nudges before a fresh subscription


class UnknownKernel(KeyError):
    pass


class SleeptimeService:
    def __init__(
        self,
        config: EngineConfig,
        kernel_manager: Any,
        session_manager: Any,
        settings: dict[str, Any],
        digest_budget_ms: float = 15.0,
        digest_delay: float = 0.5,
    ) -> None:
        self.kernel_manager = kernel_manager
        self.session_manager = session_manager
        self.settings = settings
        self.engine = SleeptimeEngine(config, prepare=self._prepare)
        self.engine.thinker.importable = self._importable
        self.digests = DigestTaker(budget_ms=digest_budget_ms)
        self.digest_delay = digest_delay
        self.watchers: dict[str, KernelWatcher] = {}
        self.paths: dict[str, str] = {}
        self._digest_timers: dict[str, asyncio.TimerHandle] = {}
        self._stale_digest: set[str] = set()
        self._poller: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._sync_kernels()
        self._poller = asyncio.ensure_future(self._poll())

    async def stop(self) -> None:
        tasks = [t for t in [self._poller, *self._tasks] if t is not None]
        for handle in self._digest_timers.values():
            handle.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for kernel_id in list(self.watchers):
            self._detach(kernel_id)
        await self.engine.aclose()

    def on_kernel_action(self, data: dict[str, Any]) -> None:
        """From the server's event bus: a kernel was started, restarted or shut down."""
        kernel_id = data.get("kernel_id")
        action = data.get("action")
        if not kernel_id:
            return
        if action == "restart" and data.get("status") == "success":
            self._detach(kernel_id)
            self.engine.kernel_lost(kernel_id, "the kernel restarted")
        self._sync_kernels()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self._sync_kernels()
                await self.refresh_paths()
            except Exception:
                log.exception("sleeptime: kernel poll failed")

    def _sync_kernels(self) -> None:
        running = set(self.kernel_manager.list_kernel_ids())
        for kernel_id in running - set(self.watchers):
            self._attach(kernel_id)
        for kernel_id in set(self.watchers) - running:
            self._detach(kernel_id)
            self.engine.kernel_lost(kernel_id, "the kernel was shut down")

    def _attach(self, kernel_id: str) -> None:
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
            watcher = KernelWatcher(
                self.engine, kernel, kernel_id, self.notebook_for, self.digests.sent, self._on_idle
            )
            watcher.start()
        except Exception as exc:
            log.warning("sleeptime: cannot observe kernel %s: %s", kernel_id, exc)
            return
        self.watchers[kernel_id] = watcher
        self._spawn(self._confirm_hearing(kernel_id, watcher))

    async def _confirm_hearing(self, kernel_id: str, watcher: KernelWatcher) -> None:
        """Make sure a new watcher hears its kernel: nudge the kernel until a message comes
        back on the watcher's own subscription, and subscribe afresh when nudges go unheard
        (a subscription lost at kernel start would otherwise miss every execution)."""

        def settled() -> bool:  # heard, or replaced / detached meanwhile
            return watcher.heard or self.watchers.get(kernel_id) is not watcher

        for attempt in range(HEARING_ATTEMPTS):
            if settled():
                return
            if attempt and attempt % RESUBSCRIBE_EVERY == 0:
                log.info("sleeptime: kernel %s unheard on iopub; subscribing again", kernel_id)
                watcher.resubscribe()
            try:
                await self.digests.nudge(kernel_id, watcher.kernel)
            except Exception as exc:  # the kernel went away; the poll detaches it
                log.info("sleeptime: cannot nudge kernel %s: %s", kernel_id, exc)
                return
            await asyncio.sleep(0.25)  # the status reaches iopub just after the reply
        if not settled():
            log.warning(
                "sleeptime: kernel %s sends nothing on iopub; its executions cannot be recorded",
                kernel_id,
            )

    def _detach(self, kernel_id: str) -> None:
        watcher = self.watchers.pop(kernel_id, None)
        if watcher:
            watcher.stop()
        self.digests.forget(kernel_id)
        timer = self._digest_timers.pop(kernel_id, None)
        if timer:
            timer.cancel()

    # -- kernels and notebooks ------------------------------------------------------------------
    def notebook_for(self, kernel_id: str) -> str:
        return self.paths.get(kernel_id) or f"kernel:{kernel_id}"

    async def refresh_paths(self) -> None:
        sessions = await self.session_manager.list_sessions()
        for session in sessions:
            kernel_id = (session.get("kernel") or {}).get("id")
            path = session.get("path") or (session.get("notebook") or {}).get("path")
            if not kernel_id or not path:
                continue
            old = self.notebook_for(kernel_id)
            if old != path:
                self.paths[kernel_id] = path
                self.engine.rename(old, path)

    def require_kernel(self, kernel_id: str) -> Any:
        if kernel_id not in self.kernel_manager:
            raise UnknownKernel(kernel_id)
        return self.kernel_manager.get_kernel(kernel_id)

    def execution_state(self, kernel_id: str) -> str:
        watcher = self.watchers.get(kernel_id)
        if watcher:
            return watcher.execution_state
        try:
            return self.kernel_manager.get_kernel(kernel_id).execution_state
        except Exception:
            return "unknown"

    # -- digest ---------------------------------------------------------------------------------
    def _on_idle(self, kernel_id: str, after_execution: bool) -> None:
        """After a user execution the digest is stale; any later idle (an ask cell's
        included) retries a digest that found the kernel busy."""
        if after_execution:
            self._stale_digest.add(kernel_id)
        elif kernel_id not in self._stale_digest:
            return
        timer = self._digest_timers.pop(kernel_id, None)
        if timer:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._digest_timers[kernel_id] = loop.call_later(
            self.digest_delay, lambda: self._spawn(self.refresh_digest(kernel_id))
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh_digest(self, kernel_id: str, force: bool = False) -> None:
        self._digest_timers.pop(kernel_id, None)
        if not force and kernel_id not in self._stale_digest:
            return
        watcher = self.watchers.get(kernel_id)
        if (
            watcher is None
            or watcher.execution_state != "idle"
            or self.engine.pause.is_busy(kernel_id)
        ):
            return  # never queue work behind the user's code; the next idle retries
        notebook = self.notebook_for(kernel_id)
        try:
            probe = self.engine.probe_targets(notebook)
            digest = await self.digests.take(kernel_id, watcher.kernel, probe=probe)
        except Exception as exc:
            log.warning("sleeptime: digest of %s failed: %s", kernel_id, exc)
            return
        if digest is not None:
            self._stale_digest.discard(kernel_id)
            self.engine.record_digest(kernel_id, notebook, digest)

    async def _prepare(self, notebook: str, question: str | None = None) -> None:
        """Before thinking and before answering: the notebook's document (markdown, opt-outs,
        skipped cells) as saved or live; then, unless it opted out, a fresh digest and the
        docstrings of the functions it calls (or the question names) not read yet."""
        await self.load_document(notebook)
        if not self.engine.scope.enabled(notebook):
            return
        for kernel_id in list(self.watchers):
            if self.notebook_for(kernel_id) != notebook:
                continue
            if kernel_id in self._stale_digest:
                await self.refresh_digest(kernel_id)
            await self.refresh_docs(kernel_id, notebook, question)

    async def _importable(self, notebook: str, modules: list[str]) -> dict[str, bool] | None:
        """Which modules the notebook's kernel can import (for suggested snippets); None
        when no idle kernel of it can be asked."""
        for kernel_id, watcher in list(self.watchers.items()):
            if self.notebook_for(kernel_id) != notebook:
                continue
            if watcher.execution_state != "idle" or self.engine.pause.is_busy(kernel_id):
                return None  # never queue work behind the user's code
            return await self.digests.modules(kernel_id, watcher.kernel, modules)
        return None

    async def load_document(self, notebook: str) -> None:
        """The notebook as saved (or live): markdown, unexecuted cells, opt-outs."""
        if notebook.startswith("kernel:"):
            return
        content = await read_notebook(self.settings, notebook)
        if content is not None:
            self.engine.set_document(notebook, content)

    async def refresh_docs(self, kernel_id: str, notebook: str, question: str | None) -> None:
        watcher = self.watchers.get(kernel_id)
        if watcher is None or watcher.execution_state != "idle":
            return  # never queue work behind the user's code
        if self.engine.pause.is_busy(kernel_id):
            return
        names = self.engine.doc_targets(notebook, question)
        if not names:
            return
        try:
            docs = await self.digests.docs(kernel_id, watcher.kernel, names)
        except Exception as exc:
            log.warning("sleeptime: reading docstrings from %s failed: %s", kernel_id, exc)
            return
        if docs:
            self.engine.record_docs(notebook, docs)

    # -- views ----------------------------------------------------------------------------------
    def kernel_view(self, kernel_id: str) -> KernelView:
        self.require_kernel(kernel_id)
        notebook = self.notebook_for(kernel_id)
        return views.kernel_view(self.engine, kernel_id, notebook, self.execution_state(kernel_id))

    def status(self, version: str) -> StatusView:
        kernels = [
            (kernel_id, self.notebook_for(kernel_id), self.execution_state(kernel_id))
            for kernel_id in self.kernel_manager.list_kernel_ids()
        ]
        return views.status(self.engine, version, kernels)
