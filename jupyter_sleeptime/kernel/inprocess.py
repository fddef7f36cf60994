"""`%ask` without a server: the engine runs inside the kernel, at query time only.

Used when no Jupyter server with the sleeptime extension runs this kernel (plain IPython,
another frontend, a kernel started by hand). There is no idle time to think in, so every
question is answered in `baseline` mode from the kernel's own history (`In`, and `Out` for
outputs — printed output and plots are not recorded by IPython) plus a digest of the user
namespace computed here with the same expression the server uses.

The engine lives on its own thread with its own event loop: the kernel's main thread may
already run one (ipykernel), and the cell's thread only renders what the engine streams.
Importing this module is cheap; the engine (and LiteLLM) load on the first question.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .. import protocol
from ..protocol import is_ask_cell

MODEL_ENV = "JUPYTER_SLEEPTIME_MODEL"
OUTPUT_CAP = 4000
ERROR_CAP = 500

# Errors of cells run since `%load_ext` (execution count → (ename, evalue)), noted by a
# post_run_cell hook: IPython keeps no record of which cell failed.
errors: dict[int, tuple[str, str]] = {}


def note_result(result: Any) -> None:
    """IPython `post_run_cell` hook (registered by `%load_ext jupyter_sleeptime`)."""
    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
    count = getattr(result, "execution_count", None)
    if error is None or not isinstance(count, int):
        return
    errors[count] = (type(error).__name__, str(error)[:ERROR_CAP])


class InProcessBackend:
    """Answers in the kernel itself. Same interface as `SleeptimeClient` (`state`, `ask`)."""

    inprocess = True

    def __init__(self, shell: Any, model: str | None = None, store_dir: str | None = None) -> None:
        self.shell = shell
        self.model = model if model is not None else os.environ.get(MODEL_ENV, "")
        self._tmp: tempfile.TemporaryDirectory | None = None
        if store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jupyter-sleeptime-")
            store_dir = self._tmp.name
        self.store_path = os.path.join(store_dir, "inprocess.db")
        self.kernel_id = f"inprocess-{os.getpid()}"
        self.notebook = f"inprocess:{os.getpid()}"
        self._fed: set[int] = set()
        self._engine: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jupyter-sleeptime-inprocess", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"InProcessBackend(model={self.model or 'default'!r})"

    # -- engine thread ------------------------------------------------------------------------
    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _ensure_engine(self) -> Any:
        if self._engine is None:
            from ..engine.sleeptime_engine import EngineConfig, SleeptimeEngine

            self._engine = SleeptimeEngine(
                EngineConfig(
                    store_path=self.store_path,
                    model=self.model,
                    enabled=False,
                    pause_while_busy=False,
                    warm_kv=False,
                )
            )
        return self._engine

    def close(self) -> None:
        if self._loop.is_closed():
            return
        engine = self._engine
        if engine is not None:
            with contextlib.suppress(Exception):
                self._loop.call_soon_threadsafe(engine.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self._loop.close()
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self._tmp.cleanup()

    # -- what the kernel knows ------------------------------------------------------------------
    def _history(self) -> list[tuple[int, str, list[Any], str]]:
        """New (count, source, outputs, status) since the last question, from IPython."""
        from ..engine.state.records import Output

        history = getattr(self.shell, "history_manager", None)
        sources = list(getattr(history, "input_hist_raw", None) or self.shell.user_ns.get("In", []))
        results = getattr(history, "output_hist", None) or self.shell.user_ns.get("Out", {})
        current = getattr(self.shell, "execution_count", len(sources))
        new = []
        for count, source in enumerate(sources):
            if count == 0 or count in self._fed or count >= current:
                continue  # [0] is empty; the running cell (this %ask) is not history yet
            self._fed.add(count)
            if not source.strip() or is_ask_cell(source):
                continue
            outputs = []
            if count in results:
                text = self._plain(results[count])
                if text:
                    outputs.append(Output("execute_result", text=text, mime_types=["text/plain"]))
            status = "ok"
            if count in errors:
                ename, evalue = errors[count]
                outputs.append(Output("error", ename=ename, evalue=evalue))
                status = "error"
            new.append((count, source, outputs, status))
        return new

    def _plain(self, value: Any) -> str:
        """The text/plain the user already saw for an `Out` value (IPython's formatter)."""
        try:
            data, _ = self.shell.display_formatter.format(value, include={"text/plain"})
            text = str(data.get("text/plain", ""))
        except Exception:
            return ""
        return text if len(text) <= OUTPUT_CAP else text[:OUTPUT_CAP] + "…"

    def _digest(self) -> Any:
        """The namespace digest, computed here with the server's own expression."""
        from ..engine.state.records import Digest
        from ..introspect.digest import USER_EXPRESSION_KEY, build_expression, parse_reply

        try:
            value = eval(build_expression(), self.shell.user_ns)  # user ns as globals
            data = parse_reply(
                {USER_EXPRESSION_KEY: {"status": "ok", "data": {"text/plain": repr(value)}}}
            )
        except Exception:
            return None
        return Digest(
            variables=data["variables"],
            took_ms=data["took_ms"],
            truncated=data["truncated"],
            total=data["total"],
            at=time.time(),
        )

    async def _record(self, history: list[tuple[int, str, list[Any], str]], digest: Any) -> Any:
        engine = await self._ensure_engine()
        for count, source, outputs, status in history:
            msg_id = f"inprocess-{count}"
            engine.store.start_execution(self.notebook, self.kernel_id, msg_id, count, source)
            engine.store.finish_execution(self.kernel_id, msg_id, status, outputs)
        if digest is not None:
            engine.record_digest(self.kernel_id, self.notebook, digest)
        return engine

    # -- the backend interface ------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "kernel_id": self.kernel_id,
            "path": None,
            "inprocess": True,
            "memory": {"text": "", "version": 0},
            "insights": {"cells": [], "anticipated": [], "next_steps": [], "errors": []},
        }

    def ask(
        self, question: str, mode: str = "sleep", model: str | None = None, fresh: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Stream ``token`` events then ``done`` or ``error``, as the server does. Without
        idle time there is nothing prepared: `sleep` is answered as `baseline`. `fresh`
        (skip prepared answers) is passed on as the server would."""
        mode = "baseline-budget" if mode == "baseline-budget" else "baseline"
        try:
            history = self._history()  # on this thread: it reads the user namespace
            digest = self._digest()
        except Exception as exc:
            yield protocol.error(f"could not read the kernel's history ({exc}).")
            return
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        work = self._answer(history, digest, question, mode, model, fresh, events.put)
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            yield from _drain(events, future)
        finally:
            if not future.done():
                future.cancel()

    async def _answer(
        self,
        history: list[tuple[int, str, list[Any], str]],
        digest: Any,
        question: str,
        mode: str,
        model: str | None,
        fresh: bool,
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        """On the engine thread: record what is new, then answer; every outcome is an event."""
        try:
            engine = await self._record(history, digest)
            from ..engine.model.model_client import ModelError

            try:
                answer = await engine.ask(
                    self.notebook,
                    question,
                    mode,
                    lambda text: emit(protocol.token(text)),
                    model=model or None,
                    fresh=fresh,
                )
            except ModelError as exc:
                emit(protocol.error(str(exc)))
                return
            emit(protocol.done_from(answer, inprocess=True))
        except Exception as exc:
            emit(protocol.error(f"answering failed: {type(exc).__name__}: {exc}"))


def _drain(
    events: queue.Queue[dict[str, Any]], future: concurrent.futures.Future[None]
) -> Iterator[dict[str, Any]]:
    """The engine thread's events, on the cell's thread, up to the final one. Polled, so
    an interrupt (KeyboardInterrupt in this thread) is seen within 0.1 s."""
    while True:
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            if future.done() and events.empty():
                yield protocol.error("the in-process engine stopped.")
                return
            continue
        yield event
        if protocol.is_final(event):
            return


_backend: InProcessBackend | None = None


def backend(shell: Any) -> InProcessBackend:
    """The kernel's one in-process backend (created on first use)."""
    global _backend
    if _backend is None or _backend.shell is not shell:
        _backend = InProcessBackend(shell)
    return _backend
