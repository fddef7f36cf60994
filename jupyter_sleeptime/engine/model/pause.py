"""The one pause mechanism for background (sleep-time) work.

Background work gives way — it stops between tokens, and between 32-token prefill batches of
the embedded model — whenever one of three triggers holds:

1. **user code runs**: a kernel is busy (`set_busy`, from the kernel observer). The embedded
   model always obeys this (it shares the CPU with the user's code); a remote sleep model
   obeys it only when the engine asks (`EngineConfig.pause_while_busy`, default: pause when
   the sleep model runs locally), by `await wait_async()` between streamed chunks;
2. **someone asked**: a query-time call wants the embedded model (`asking()`); background
   generation hands the model over at once and resumes after;
3. **cancel**: `cancel_all()` abandons every background call in flight.

The embedded model serves one call at a time, and whose turn it is is decided here too:
a background call takes the model with `wait(cancelled, take_model=True)` (the same wait as
for the triggers, so there is one place where background work waits), a query-time call with
`take_model_for_query()`, which raises trigger 2 while it waits; both give it back with
`release_model()`.

Query-time calls never wait for any of this. There is one `Pause` per process (`PAUSE`),
because the CPU and the embedded model are shared by every engine and kernel of the process.
It is thread-safe: the embedded model generates on worker threads, the observer flips it from
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator

POLL_SECONDS = 0.05  # how often a waiting background call looks again


class Cancelled(Exception):
    """A background call was abandoned while it waited (trigger 3, or its caller left)."""


class Pause:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy: set[str] = set()
        self._asking = 0
        self._epoch = 0
        self._model_held = False

    # -- triggers ---------------------------------------------------------------------------
    def set_busy(self, kernel_id: str, busy: bool) -> None:
        """Trigger 1: user code started (True) or ended (False) in this kernel."""
        with self._cond:
            if busy:
                self._busy.add(kernel_id)
            else:
                self._busy.discard(kernel_id)
            self._cond.notify_all()

    def forget(self, kernel_id: str) -> None:
        self.set_busy(kernel_id, False)

    @contextlib.contextmanager
    def asking(self) -> Iterator[None]:
        """Trigger 2: a query-time call wants the embedded model for as long as this lasts."""
        with self._cond:
            self._asking += 1
        try:
            yield
        finally:
            with self._cond:
                self._asking -= 1
                self._cond.notify_all()

    def cancel_all(self) -> None:
        """Trigger 3: abandon every background call started before now."""
        with self._cond:
            self._epoch += 1
            self._cond.notify_all()

    # -- state ------------------------------------------------------------------------------
    def is_busy(self, kernel_id: str) -> bool:
        return kernel_id in self._busy

    @property
    def user_busy(self) -> bool:
        return bool(self._busy)

    @property
    def someone_asking(self) -> bool:
        return self._asking > 0

    @property
    def epoch(self) -> int:
        return self._epoch

    def should_yield(self) -> bool:
        """Whether background generation must give way now (triggers 1 and 2)."""
        return bool(self._busy) or self._asking > 0

    # -- waiting ----------------------------------------------------------------------------
    def wait(
        self,
        cancelled: Callable[[], bool] = lambda: False,
        asking: bool = True,
        take_model: bool = False,
    ) -> float:
        """Block a background thread while it must give way; seconds waited. `asking=False`
        waits for user code only; `take_model=True` also waits until the embedded model is
        free, then takes it (give it back with `release_model`). Raises `Cancelled` when
        `cancelled()` turns true while waiting."""
        started = time.perf_counter()
        with self._cond:
            while self._busy or (asking and self._asking) or (take_model and self._model_held):
                if cancelled():
                    raise Cancelled
                self._cond.wait(POLL_SECONDS)  # cancel events do not notify this condition
            if take_model:
                self._model_held = True
        return time.perf_counter() - started

    # -- the embedded model's turn ----------------------------------------------------------
    def take_model_for_query(self) -> None:
        """A query-time call takes the embedded model: it waits only for the call holding it
        (a background call gives way at its next token), never for user code."""
        with self.asking(), self._cond:
            while self._model_held:
                self._cond.wait(POLL_SECONDS)
            self._model_held = True

    def try_take_model(self) -> bool:
        """Take the embedded model only if nobody holds it (never waits)."""
        with self._cond:
            if self._model_held:
                return False
            self._model_held = True
            return True

    def release_model(self) -> None:
        with self._cond:
            self._model_held = False
            self._cond.notify_all()

    async def wait_async(self) -> None:
        """For background calls streamed on the event loop: wait while user code runs."""
        while self._busy:
            await asyncio.sleep(POLL_SECONDS)


PAUSE = Pause()
