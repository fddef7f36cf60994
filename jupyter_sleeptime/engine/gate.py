"""Which kernels run user code right now, and a gate background work waits on.

With a model running on this machine's CPU, sleep-time generation must stop while the
user's code runs; it waits on the gate between tokens and continues when every kernel is
idle again. Query-time calls (the user asked) never wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class BusyGate:
    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._listeners: list[Callable[[bool], None]] = []
        self.enabled = True  # False: background work never pauses (remote models)

    @property
    def busy_kernels(self) -> frozenset[str]:
        return frozenset(self._busy)

    @property
    def paused(self) -> bool:
        return self.enabled and bool(self._busy)

    def is_busy(self, kernel_id: str) -> bool:
        return kernel_id in self._busy

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """`listener(paused)` is called whenever the paused state flips."""
        self._listeners.append(listener)

    def set_busy(self, kernel_id: str, busy: bool) -> None:
        before = self.paused
        if busy:
            self._busy.add(kernel_id)
        else:
            self._busy.discard(kernel_id)
        after = self.paused
        if after:
            self._open.clear()
        else:
            self._open.set()
        if after != before:
            for listener in self._listeners:
                listener(after)

    def forget(self, kernel_id: str) -> None:
        self.set_busy(kernel_id, False)

    async def wait(self) -> None:
        if self.paused:
            await self._open.wait()
