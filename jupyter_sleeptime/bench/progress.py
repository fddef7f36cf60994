"""One progress line: notebook i/n, phase, elapsed (on stderr by default).

On a terminal the line is rewritten in place. Anywhere else (CI, a log file, a pipe) nothing
is ever redrawn: a line is printed when the phase (its `key`) changes, and within a phase only
when the text has changed, at most every `every` seconds. A text held back is printed once
`every` seconds have passed (at the next report) or when the phase ends, so a log shows each
state that lasted and where each phase finished."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

ELLIPSIS = "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 task`, `3 tasks`, `0 tasks` (`many` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def clip(text: str, width: int) -> str:
    """`text` in at most `width` characters; a cut text ends with "…"."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1].rstrip() + ELLIPSIS


def is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = is_tty(self.stream)
        self.started = time.monotonic()
        self.every = every
        self.where = ""
        self._key: str | None = None
        self._text = ""
        self._printed = 0.0
        self._held = ""  # (not a TTY) the latest line of this phase, not printed yet
        self._open = False  # (a TTY) a line is drawn without its newline

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:d}:{seconds % 60:02d}"

    def at(self, where: str) -> None:
        """Name the unit of work (e.g. `notebook 2/12 01_ib_survival_fit`)."""
        self.where = where

    def phase(self, text: str, key: str | None = None) -> None:
        """The current step; `key` names the phase (default: the text itself), so steps of
        one phase (`cell 3/12 …`, `cell 4/12 …`) do not each print a line in a log."""
        line = (
            f"[{self.elapsed()}] {self.where} · {text}"
            if self.where
            else f"[{self.elapsed()}] {text}"
        )
        key = key if key is not None else text
        if self.tty:
            width = shutil.get_terminal_size((120, 20)).columns - 1
            self.stream.write("\r\033[K" + clip(line, width))
            self._open = True
        else:
            now = time.monotonic()
            if key != self._key:
                self._flush_held()
                self._write(line, now)
            else:
                changed = line if text != self._text else ""
                if (changed or self._held) and now - self._printed >= self.every:
                    self._write(changed or self._held, now)
                elif changed:
                    self._held = changed
            self._text = text
        self._key = key
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line that stays."""
        self._end_line()
        self.stream.write(f"[{self.elapsed()}] {text}\n")
        self.stream.flush()
        self._key = None
        self._text = ""

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self._open = False
        self._flush_held()
        self.stream.flush()

    # -- internals
    def _write(self, line: str, now: float) -> None:
        self.stream.write(line + "\n")
        self._printed = now
        self._held = ""

    def _flush_held(self) -> None:
        if self._held:
            self.stream.write(self._held + "\n")
            self._held = ""

    def _end_line(self) -> None:
        if self._open:
            self.stream.write("\r\033[K")
            self._open = False
        self._flush_held()
