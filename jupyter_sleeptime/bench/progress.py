"""One progress line on stderr: notebook i/n, phase, elapsed. On a terminal the line is
rewritten in place; otherwise (CI, a log file) a line is printed when the phase changes
and at most every 15 s while it lasts."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, every: float = 15.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self.every = every
        self.where = ""
        self._key = ""
        self._printed = 0.0
        self._open = False

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:d}:{seconds % 60:02d}"

    def at(self, where: str) -> None:
        """Name the unit of work (e.g. `notebook 2/12 01_ib_survival_fit`)."""
        self.where = where

    def phase(self, text: str, key: str | None = None) -> None:
        line = (
            f"[{self.elapsed()}] {self.where} · {text}"
            if self.where
            else f"[{self.elapsed()}] {text}"
        )
        key = key if key is not None else text
        now = time.monotonic()
        if self.tty:
            width = shutil.get_terminal_size((120, 20)).columns - 1
            self.stream.write("\r\033[K" + line[:width])
            self._open = True
        elif key != self._key or now - self._printed >= self.every:
            self.stream.write(line + "\n")
            self._printed = now
        self._key = key
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line that stays."""
        if self._open:
            self.stream.write("\r\033[K")
            self._open = False
        self.stream.write(f"[{self.elapsed()}] {text}\n")
        self.stream.flush()
        self._key = ""

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self._open = False
        self.stream.flush()
