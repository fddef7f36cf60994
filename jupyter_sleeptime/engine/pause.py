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
    def wait(self, cancelled: Callable[[], bool] = lambda: False, asking: bool = True) -> float:
        """Block a background thread while it must give way; seconds waited. `asking=False`
        waits for user code only."""
        started = time.perf_counter()
        with self._cond:
            while self._busy or (asking and self._asking):
                if cancelled():
                    raise Cancelled
                self._cond.wait(POLL_SECONDS)  # cancel events do not notify this condition
        return time.perf_counter() - started

    async def wait_async(self) -> None:
        """For background calls streamed on the event loop: wait while user code runs."""
        while self._busy:
            await asyncio.sleep(POLL_SECONDS)


PAUSE = Pause()
