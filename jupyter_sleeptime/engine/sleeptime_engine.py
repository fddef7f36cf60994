"""`SleeptimeEngine`: the one core object a host (the Jupyter server, the CLI, a test)
talks to. It turns kernel events into records and scheduled thinking, and answers questions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .answer.answerer import Answerer
from .facts import probe_requests
from .facts.docs import doc_targets
from .idle.scheduler import PrepareHook, Scheduler
from .idle.shared_insights import SharedInsights
from .idle.thinker import Thinker
from .model.model_client import DEFAULT_LOCAL_MODEL, ModelClient, is_local
from .model.pause import PAUSE
from .redact import Redactor
from .state.document import Document, Policy, parse_document
from .state.records import Digest, Output
from .state.scope import NotebookScope
from .state.store import Store, StoreError

log = logging.getLogger(__name__)

# Execution records waiting for a store that could not be written (locked by another
# process, disk full); beyond this many the oldest are dropped, loudly.
MAX_BACKLOG = 50_000
FLUSH_RETRY_SECONDS = 3.0  # each try may wait for the lock: not on every kernel message


@dataclass
class EngineConfig:
    store_path: str
    model: str = ""
    sleep_model: str = ""
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    idle_seconds: float = 3.0
    max_tokens_per_hour: int = 0
    anticipate_k: int = 5
    redact_secrets: bool = True
    enabled: bool = True
    pause_while_busy: bool | None = None  # None: pause when the sleep model runs locally
    memory_tokens: int = 1200
    retry_base_seconds: float = 5.0
    request_timeout: float = 900.0
    warm_kv: bool | None = None  # None: warm when the query model runs locally
    db_url: str = ""  # any SQLAlchemy URL; empty: the SQLite file at store_path
    share_insights: bool = False  # reuse other users' explanations of identical cells
    share_scope: str = ""  # who shares: users of the same scope (a course, a team)
    user: str = ""  # whose records these are on a shared database; empty: the login's
    prefix_cache_bytes: int = 512 * 1024 * 1024  # the embedded model's saved prefixes


class SleeptimeEngine:
    def __init__(self, config: EngineConfig, prepare: PrepareHook | None = None) -> None:
        self.config = config
        self.store = Store(config.store_path, url=config.db_url or None, user=config.user or None)
        self.scope = NotebookScope(self.store)
        self.pause = PAUSE
        self._busy: set[str] = set()  # kernels this engine marked busy (forgotten at close)
        self.client = ModelClient(
            self.store,
            model=config.model,
            sleep_model=config.sleep_model,
            model_kwargs=config.model_kwargs,
            redactor=Redactor(enabled=config.redact_secrets),
            max_tokens_per_hour=config.max_tokens_per_hour,
            timeout=config.request_timeout,
            pause=self.pause,
            prefix_cache_bytes=config.prefix_cache_bytes,
        )
        self.client.hidden = self.scope.hidden_values
        pause = config.pause_while_busy
        self.client.wait_for_kernels = is_local(self.client.sleep_model) if pause is None else pause
        warm = config.warm_kv if config.warm_kv is not None else is_local(self.client.model)
        self.thinker = Thinker(
            self.store,
            self.client,
            self.scope,
            anticipate_k=config.anticipate_k,
            memory_tokens=config.memory_tokens,
        )
        if config.share_insights:
            self.thinker.shared = SharedInsights(self.store, self.client, config.share_scope)
        self.answerer = Answerer(self.store, self.client, self.scope)
        self.answerer.prepare = prepare
        # Asking is the answerer's (one signature); the host calls it through the engine.
        self.ask = self.answerer.ask
        self.dry_run = self.answerer.dry_run
        if warm:
            self.thinker.warm = self.answerer.warm
        self.scheduler = Scheduler(
            self.store,
            self.thinker,
            self.client,
            idle_seconds=config.idle_seconds,
            enabled=config.enabled,
            retry_base_seconds=config.retry_base_seconds,
            prepare=prepare,
        )
        self._running: dict[tuple[str, str], list[Output]] = {}
        self._backlog: deque[tuple[str, Callable[[], Any]]] = deque()
        self.store_error: str | None = None
        self._flush_timer: asyncio.TimerHandle | None = None

    # -- records survive a store that cannot be written ---------------------------------------
    def _record(self, notebook: str, write: Callable[[], Any]) -> None:
        """Write an execution record now, or keep it (in order) until the store takes it."""
        if len(self._backlog) >= MAX_BACKLOG:
            dropped, _ = self._backlog.popleft()
            log.error("sleeptime: store backlog full; dropped a record of %s", dropped)
        waiting = bool(self._backlog)
        self._backlog.append((notebook, write))
        # After a failure only the retry timer tries again: each try may wait for the lock,
        # and the kernel's messages must not wait behind it.
        if not waiting:
            self.flush_records()

    def _waiting(self, notebook: str) -> bool:
        return any(n == notebook for n, _ in self._backlog)

    def _retry_later(self) -> None:
        if self._flush_timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous host): it calls flush_records(), close() does
            return

        def retry() -> None:
            self._flush_timer = None
            self.flush_records()

        self._flush_timer = loop.call_later(FLUSH_RETRY_SECONDS, retry)

    def records_waiting(self) -> int:
        return len(self._backlog)

    def flush_records(self) -> bool:
        """Write what waits in the backlog; True when nothing waits any more."""
        # Notebooks whose records waited: their thinking skipped them, so plan again after.
        held = {n for n, _ in self._backlog if n} if self.store_error is not None else set()
        while self._backlog:
            _, write = self._backlog[0]
            try:
                write()
            except StoreError as exc:
                if self.store_error is None:
                    log.error("sleeptime: %s Records are kept and written when it can.", exc)
                self.store_error = str(exc)
                self._retry_later()
                return False
            self._backlog.popleft()
        if self.store_error is not None:
            log.warning("sleeptime: the store is writable again; the kept records are written")
        self.store_error = None
        for notebook in held:
            self.scheduler.kernel_idle(notebook, after_execution=True)
        return True

    # -- recording (called by the host's kernel observer) ---------------------------------------
    def execution_started(
        self,
        kernel_id: str,
        notebook: str,
        msg_id: str,
        execution_count: int | None,
        source: str,
        cell_id: str | None = None,
    ) -> None:
        self._running[(kernel_id, msg_id)] = []
        self._set_busy(kernel_id, True)
        self.scheduler.execution_started(notebook)
        started = time.time()
        self._record(
            notebook,
            lambda: self.store.start_execution(
                notebook, kernel_id, msg_id, execution_count, source, started, cell_id
            ),
        )

    def add_output(self, kernel_id: str, msg_id: str, output: Output) -> None:
        outputs = self._running.get((kernel_id, msg_id))
        if outputs is None:
            return
        if (
            output.output_type == "stream"
            and outputs
            and outputs[-1].output_type == "stream"
            and outputs[-1].name == output.name
        ):
            outputs[-1].text += output.text  # streams arrive in pieces; keep them as one output
        else:
            outputs.append(output)

    def is_running(self, kernel_id: str, msg_id: str) -> bool:
        return (kernel_id, msg_id) in self._running

    def execution_finished(self, kernel_id: str, notebook: str, msg_id: str) -> None:
        outputs = self._running.pop((kernel_id, msg_id), None)
        if outputs is None:
            return
        status = "error" if any(o.output_type == "error" for o in outputs) else "ok"
        ended = time.time()
        self._record(
            notebook,
            lambda: self.store.finish_execution(kernel_id, msg_id, status, outputs, ended),
        )
        self.client.forget_prefix(notebook)  # a new notebook state: its prefix changes
        if not any(k == kernel_id for k, _ in self._running):
            self._set_busy(kernel_id, False)
        if not self._waiting(notebook):
            self.scheduler.kernel_idle(notebook, after_execution=True)

    def _set_busy(self, kernel_id: str, busy: bool) -> None:
        """User code runs (or stopped running) in a kernel: trigger 1 of the pause."""
        (self._busy.add if busy else self._busy.discard)(kernel_id)
        self.pause.set_busy(kernel_id, busy)

    def kernel_idle(self, kernel_id: str, notebook: str) -> None:
        """The kernel went idle without finishing a user execution we saw start."""
        if not any(k == kernel_id for k, _ in self._running):
            self._set_busy(kernel_id, False)
        self.scheduler.kernel_idle(notebook, after_execution=False)

    def kernel_lost(self, kernel_id: str, reason: str) -> None:
        """The kernel died or restarted: close what it was running, so nothing hangs."""
        for key in [k for k in self._running if k[0] == kernel_id]:
            self._running.pop(key)
        self._record("", lambda: self.store.abandon_running(kernel_id, reason))
        self._set_busy(kernel_id, False)

    def record_digest(self, kernel_id: str, notebook: str, digest: Digest) -> None:
        self._record(notebook, lambda: self.store.save_digest(notebook, kernel_id, digest))

    def set_policy(self, notebook: str, policy: Policy) -> None:
        self.scope.set_policy(notebook, policy)

    def set_document(self, notebook: str, content: dict[str, Any] | None) -> Document:
        """The notebook's JSON as the host read it: markdown, unexecuted cells, opt-outs."""
        document = parse_document(content)
        self.scope.set_document(notebook, document)
        return document

    def doc_targets(self, notebook: str, question: str | None = None) -> list[str]:
        """Functions whose docstrings the host should read from the kernel (not read yet)."""
        if not self.scope.enabled(notebook):
            return []
        known = set(self.store.docs(notebook))
        return doc_targets(self.scope.view(notebook), question, known)

    def record_docs(self, notebook: str, docs: dict[str, str]) -> None:
        self._record(notebook, lambda: self.store.save_docs(notebook, docs))

    def probe_targets(self, notebook: str) -> list[str]:
        """What the next digest should probe in the kernel: the names on the newest failing
        line (parameters of called functions, attributes, columns), for its error card."""
        if not self.scope.enabled(notebook):
            return []
        return probe_requests(self.scope.view(notebook))

    def rename(self, old: str, new: str) -> None:
        self._record(new, lambda: self.store.rename_notebook(old, new))
        self.scheduler.rename(old, new)
        self.scope.rename(old, new)

    def reconfigure(
        self, *, model: str, sleep_model: str, idle_seconds: float, enabled: bool
    ) -> None:
        """Settings changed at run time (the JupyterLab Settings Editor)."""
        self.client.set_models(model, sleep_model)
        if self.config.pause_while_busy is None:
            self.client.wait_for_kernels = is_local(self.client.sleep_model)
        self.scheduler.idle_seconds = idle_seconds
        self.scheduler.enabled = enabled

    # -- thinking and asking ------------------------------------------------------------------
    async def think(self, notebook: str) -> dict[str, Any]:
        return await self.scheduler.think_now(notebook)

    @property
    def anticipated_hits(self) -> int:
        """Questions answered from prepared answers since the server started."""
        return self.answerer.hits

    @anticipated_hits.setter
    def anticipated_hits(self, value: int) -> None:
        self.answerer.hits = value

    # -- what the host shows ----------------------------------------------------------------------
    def paused(self, notebook: str) -> bool:
        """Background work of this notebook waits for the user's code to finish."""
        return self.pause.user_busy and self.scheduler.thinking(notebook)

    async def aclose(self) -> None:
        """Stop: cancel thinking runs and wait until they have unwound, then write what is
        still waiting and close the store."""
        runs = self.scheduler.cancel_all()
        await asyncio.gather(*runs, return_exceptions=True)
        self._shut()

    def close(self) -> None:
        """`aclose` for hosts without an event loop: runs are cancelled, not awaited."""
        self.scheduler.cancel_all()
        self._shut()

    def _shut(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        if not self.flush_records():
            log.error(
                "sleeptime: %d records could not be written before closing", len(self._backlog)
            )
        for kernel_id in list(self._busy):
            self._set_busy(kernel_id, False)
        self.store.close()


__all__ = ["DEFAULT_LOCAL_MODEL", "EngineConfig", "SleeptimeEngine"]
