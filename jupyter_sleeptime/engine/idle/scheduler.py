"""When to think: idle debounce, one run in flight per notebook, supersede, retry, budget.

A run starts `idle_seconds` after the notebook's kernel went idle following a complete
user execution. It runs the thinker's plan in priority order, one task at a time, and
stops early when the user runs code in that notebook again (the rest of the plan is
superseded and re-planned at the next idle). The "seen" cursor advances only when the
whole plan succeeded; a failed run is retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..model.model_client import BudgetExhausted, ModelClient
from ..state.store import Store
from .thinker import Thinker

log = logging.getLogger(__name__)

PrepareHook = Callable[[str], Awaitable[None]]


@dataclass
class NotebookState:
    notebook: str
    timer: asyncio.TimerHandle | None = None
    run: asyncio.Task | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    superseded: bool = False
    failures: int = 0
    retry: asyncio.TimerHandle | None = None
    last_error: str | None = None
    current_task: str | None = None
    planned: list[str] = field(default_factory=list)
    dirty: bool = False  # executions completed since the last successful run
    task_failures: dict[tuple[str, int], int] = field(default_factory=dict)


class Scheduler:
    def __init__(
        self,
        store: Store,
        thinker: Thinker,
        client: ModelClient,
        *,
        idle_seconds: float = 3.0,
        enabled: bool = True,
        retry_base_seconds: float = 5.0,
        retry_max_seconds: float = 300.0,
        prepare: PrepareHook | None = None,
    ) -> None:
        self.store = store
        self.thinker = thinker
        self.client = client
        self.idle_seconds = idle_seconds
        self.enabled = enabled
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.prepare = prepare
        self.max_task_attempts = 3
        self.states: dict[str, NotebookState] = {}
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []

    def state(self, notebook: str) -> NotebookState:
        if notebook not in self.states:
            self.states[notebook] = NotebookState(notebook)
        return self.states[notebook]

    # -- events from the host --------------------------------------------------------------
    def execution_started(self, notebook: str) -> None:
        state = self.state(notebook)
        self._cancel_timer(state)
        state.superseded = True  # planned work of an in-flight run is dropped

    def kernel_idle(self, notebook: str, after_execution: bool) -> None:
        """The kernel went idle; after a complete user execution, (re)arm the debounce."""
        state = self.state(notebook)
        if after_execution:
            state.dirty = True
        if state.dirty and self.enabled:
            self._arm(state, self.idle_seconds)

    def rename(self, old: str, new: str) -> None:
        """A kernel's notebook became known (or was renamed): its pending work moves along."""
        state = self.states.pop(old, None)
        if state is None:
            return
        if new in self.states:
            self._cancel_timer(state)
            target = self.states[new]
            target.dirty = target.dirty or state.dirty
        else:
            state.notebook = new
            self.states[new] = target = state
        if target.dirty and self.enabled and not (target.run and not target.run.done()):
            self._arm(target, self.idle_seconds)

    def cancel_all(self) -> list[asyncio.Task]:
        """Cancel every timer, retry and run (the engine is stopping); the runs, to await."""
        runs = []
        for state in list(self.states.values()):
            if state.run and not state.run.done():
                state.run.cancel()
                runs.append(state.run)
            self.forget(state.notebook)
        return runs

    def forget(self, notebook: str) -> None:
        state = self.states.pop(notebook, None)
        if state:
            self._cancel_timer(state)
            if state.retry:
                state.retry.cancel()

    # -- running -------------------------------------------------------------------------
    async def think_now(self, notebook: str) -> dict[str, Any]:
        """Run everything pending for the notebook now and wait for it."""
        state = self.state(notebook)
        self._cancel_timer(state)
        if state.run and not state.run.done():
            try:
                await asyncio.shield(state.run)
            except Exception:  # that run's failure is already logged and recorded
                pass
        state.run = asyncio.ensure_future(self._run(state, forced=True))
        return await asyncio.shield(state.run)

    def pending(self, notebook: str) -> int:
        state = self.states.get(notebook)
        if state and state.planned:
            return len(state.planned)
        try:
            return len(self.thinker.plan(notebook))
        except Exception:  # status must never fail because planning did
            return 0

    def thinking(self, notebook: str) -> bool:
        state = self.states.get(notebook)
        return bool(state and state.run and not state.run.done())

    def _arm(self, state: NotebookState, delay: float) -> None:
        self._cancel_timer(state)
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(delay, self._fire, state)

    def _cancel_timer(self, state: NotebookState) -> None:
        if state.timer:
            state.timer.cancel()
            state.timer = None

    def _fire(self, state: NotebookState) -> None:
        state.timer = None
        if state.run and not state.run.done():
            # One run in flight per notebook: look again when it is over.
            state.run.add_done_callback(lambda _: self._arm(state, self.idle_seconds))
            return
        state.run = asyncio.ensure_future(self._run(state, forced=False))

    async def _run(self, state: NotebookState, forced: bool) -> dict[str, Any]:
        async with state.lock:
            state.superseded = False
            if self.prepare is not None:
                try:
                    await self.prepare(state.notebook)
                except Exception as exc:  # a missing digest must not stop thinking
                    log.warning("sleeptime: preparing %s failed: %s", state.notebook, exc)
            notebook = state.notebook
            plan = self.thinker.plan(notebook)
            state.planned = [t.name for t in plan]
            seen = self.store.state_version(notebook)
            started = time.perf_counter()
            usage_before = self.store.usage(notebook)["sleep"]
            ran, failure = await self._run_plan(state, plan, forced)
            state.planned = []
            error = None if failure is None else (str(failure) or type(failure).__name__)
            complete = failure is None and len(ran) == len(plan)
            if complete:
                self.store.advance_cursor(notebook, seen)
                state.failures = 0
                state.dirty = False
                state.last_error = None
                self._retry_unfinished(state, ran, seen)
            elif failure is not None:
                state.last_error = error
                state.failures += 1
                self._schedule_retry(state, budget=isinstance(failure, BudgetExhausted))
            if plan:
                self.store.record_run(notebook, ran, complete, error, time.perf_counter() - started)
            result = {
                "ran": ran,
                "ok": complete,
                "error": error,
                "usage": self._usage_since(notebook, usage_before),
            }
            self._notify(notebook)
            return result

    async def _run_plan(
        self, state: NotebookState, plan: list[Any], forced: bool
    ) -> tuple[list[str], Exception | None]:
        """Run the tasks in order until one fails or a new execution supersedes the rest;
        (tasks that ran, the failure that stopped the run)."""
        ran: list[str] = []
        for task in plan:
            if state.superseded and not forced:
                log.info("sleeptime: %s superseded by a new execution", state.notebook)
                return ran, None
            try:
                self.client.check_budget()
                state.current_task = task.name
                self._notify(state.notebook)
                await self.thinker.run(state.notebook, task)
                ran.append(task.name)
            except BudgetExhausted as exc:
                return ran, exc
            except Exception as exc:
                log.warning("sleeptime: task %s for %s failed: %s", task.name, state.notebook, exc)
                self._count_failure(state, task.name)
                return ran, exc
            finally:
                state.current_task = None
                if task.name in state.planned:
                    state.planned.remove(task.name)
        return ran, None

    def _usage_since(self, notebook: str, before: Any) -> dict[str, int]:
        after = self.store.usage(notebook)["sleep"]
        return {
            "calls": after.calls - before.calls,
            "prompt_tokens": after.prompt_tokens - before.prompt_tokens,
            "completion_tokens": after.completion_tokens - before.completion_tokens,
        }

    def _retry_unfinished(self, state: NotebookState, ran: list[str], seen: int) -> None:
        """A task can succeed only in part (a cell the model skipped even after the repair
        round). Plan it again a few times, then give it up, so that nothing stays pending
        without a run to do it."""
        left = {t.name for t in self.thinker.plan(state.notebook)}
        if not left:
            return
        if self.store.state_version(state.notebook) == seen:
            for name in left & set(ran) - {"warm_kv"}:
                self._count_failure(state, name)
        state.dirty = True
        if self.enabled:
            self._arm(state, self.idle_seconds)

    def _count_failure(self, state: NotebookState, task: str) -> None:
        version = self.store.state_version(state.notebook)
        key = (task, version)
        state.task_failures[key] = state.task_failures.get(key, 0) + 1
        if state.task_failures[key] >= self.max_task_attempts:
            log.warning(
                "sleeptime: giving up %s for %s until the notebook changes (%d attempts)",
                task,
                state.notebook,
                state.task_failures[key],
            )
            self.thinker.give_up(state.notebook, task)

    def _schedule_retry(self, state: NotebookState, budget: bool) -> None:
        if state.retry:
            state.retry.cancel()
        delay = (
            60.0
            if budget
            else min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (state.failures - 1))
        )
        loop = asyncio.get_running_loop()
        state.retry = loop.call_later(delay, self._fire, state)
        log.info("sleeptime: retrying %s in %.0f s", state.notebook, delay)

    def _notify(self, notebook: str) -> None:
        for listener in self.listeners:
            try:
                listener(notebook, {"thinking": self.thinking(notebook)})
            except Exception:
                log.exception("sleeptime listener failed")
