"""How an answer looks, for the `%ask` magic and the ask widget alike.

One renderer, two variants:

- `MarkdownAnswer` — Markdown shown through a callback that replaces what is on screen (a
  display handle updated in place for the magic, the widget's output area for the widget):
  a waiting line, the streamed text with a cursor at most ~10 times a second, then the
  answer with its footer;
- `TextAnswer` — plain text streamed to a writer (stdout for terminal IPython and
  `%ask --raw`): tokens as they come, then the footer.

Both end with the same footer (where the answer came from and what it cost at query time)
and, for a prepared answer when asked to, the `%ask --fresh` command that asks the model
instead. Nothing here talks to a backend: `backend.stream_into` feeds events in.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

UPDATE_INTERVAL = 0.1  # seconds between in-place updates of the answer (~10 per second)
WAITING = "_⏳ asking sleeptime…_"
CURSOR = " ▌"


# -- the pieces of an answer ------------------------------------------------------------------
def format_ms(ms: Any) -> str:
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return "?"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


def md_escape(text: str) -> str:
    """Text shown verbatim inside Markdown (a question or a model id, never formatting)."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def footer(done: Mapping[str, Any], inprocess: bool = False, markdown: bool = True) -> str:
    """One line saying where the answer came from and what it cost at query time."""
    usage = done.get("usage") or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int(usage.get("cached_tokens") or 0)
    mode = done.get("mode") or "sleep"
    parts: list[str] = []
    if inprocess:
        parts.append("in-process (no server): query time only")
    if done.get("source") == "anticipated":
        parts += [prepared_label(done, markdown), f"{prompt + completion} tokens"]
    else:
        model = str(done.get("model") or "?")
        parts.append(f"model {md_escape(model) if markdown else model}")
        if mode != "sleep" and not inprocess:
            parts.append(mode)
        tokens = f"{prompt} prompt + {completion} completion tokens"
        parts.append(tokens + (f" ({cached} cached)" if cached else ""))
        if done.get("ttft_ms"):
            parts.append(f"first token {format_ms(done['ttft_ms'])}")
    parts.append(format_ms(done.get("latency_ms")))
    line = " · ".join(parts)
    return f"_{line}_" if markdown else line


def prepared_label(done: Mapping[str, Any], markdown: bool = True) -> str:
    """Which prepared question the server matched: the user's wording may differ from it."""
    matched = " ".join(str(done.get("matched") or "").split())
    if not matched:
        return "⚡ prepared answer"
    return f"⚡ prepared answer to: '{md_escape(matched) if markdown else matched}'"


def fresh_command(question: str) -> str:
    """The `%ask` that asks the same question of the model, skipping prepared answers."""
    question = question.strip()
    if "\n" in question:  # a %%ask cell: the question stays the cell body
        return f"%%ask --fresh\n{question}"
    # `--` keeps a question that starts with a dash from being read as an option.
    return f"%ask --fresh {'-- ' if question.startswith('-') else ''}{question}"


def fresh_hint(question: str, markdown: bool = True) -> str:
    """The line under a prepared answer that offers the model's answer instead."""
    command = fresh_command(question)
    if not markdown:
        return f"ask the model instead: {command}"
    if "\n" in command:
        fence = "```"
        while fence in command:
            fence += "`"
        return f"_Ask the model instead:_\n\n{fence}\n{command}\n{fence}"
    ticks = "`"
    while ticks in command:
        ticks += "`"
    pad = " " if command.startswith("`") or command.endswith("`") else ""
    return f"_Ask the model instead:_ {ticks}{pad}{command}{pad}{ticks}"


def error_text(message: str) -> str:
    return f"⚠ sleeptime: {message}"


def closing(
    done: Mapping[str, Any], *, inprocess: bool, markdown: bool, fresh_for: str = ""
) -> str:
    """What follows the answer: the footer, and under a prepared answer the command that
    asks `fresh_for` of the model instead (when there is such a question)."""
    line = footer(done, inprocess=inprocess, markdown=markdown)
    if done.get("source") == "anticipated" and fresh_for.strip():
        line += ("\n\n" if markdown else "\n") + fresh_hint(fresh_for, markdown=markdown)
    return line


def markdown_bundle(markdown: str) -> dict[str, str]:
    """A display bundle whose plain-text form is the Markdown itself."""
    return {"text/markdown": markdown, "text/plain": markdown}


def in_place_display() -> Callable[[str], None]:
    """A `show` for `MarkdownAnswer` in a cell's output: the first call displays, later ones
    update that same output (one output per answer, however many tokens stream)."""
    handle: Any = None

    def show(markdown: str) -> None:
        nonlocal handle
        if handle is None:
            from IPython.display import display

            handle = display(markdown_bundle(markdown), raw=True, display_id=True)
        else:
            handle.update(markdown_bundle(markdown), raw=True)

    return show


class Throttle:
    """At most one refresh per `interval` seconds; `due()` says when the next may happen."""

    def __init__(self, interval: float = UPDATE_INTERVAL) -> None:
        self.interval = interval
        self.last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            return True
        return False


# -- the two variants -------------------------------------------------------------------------
class AnswerView:
    """One answer on screen. `text` is what streamed so far; `answer` the final answer
    once `finish` ran. `fresh_for`: the question a prepared answer's hint repeats ("" for
    none — the widget offers a button instead)."""

    markdown = True

    def __init__(self, *, inprocess: bool = False, fresh_for: str = "") -> None:
        self.inprocess = inprocess
        self.fresh_for = fresh_for
        self.text = ""
        self.answer = ""

    def start(self) -> None:
        raise NotImplementedError

    def token(self, text: str) -> None:
        raise NotImplementedError

    def finish(self, done: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def fail(self, message: str) -> None:
        raise NotImplementedError

    def _closing(self, done: Mapping[str, Any]) -> str:
        self.answer = str(done.get("answer") or self.text).strip()
        return closing(
            done, inprocess=self.inprocess, markdown=self.markdown, fresh_for=self.fresh_for
        )


class MarkdownAnswer(AnswerView):
    """Markdown that replaces itself in place through `show`."""

    def __init__(
        self,
        show: Callable[[str], None],
        *,
        inprocess: bool = False,
        fresh_for: str = "",
        interval: float = UPDATE_INTERVAL,
    ) -> None:
        super().__init__(inprocess=inprocess, fresh_for=fresh_for)
        self.show = show
        self.throttle = Throttle(interval)

    def start(self) -> None:
        self.show(WAITING)

    def token(self, text: str) -> None:
        self.text += text
        if self.throttle.due():
            self.show(self.text + CURSOR)

    def finish(self, done: Mapping[str, Any]) -> None:
        line = self._closing(done)
        self.show(f"{self.answer}\n\n{line}")

    def fail(self, message: str) -> None:
        partial = f"{self.text.strip()}\n\n" if self.text.strip() else ""
        self.show(f"{partial}**{error_text(message)}**")


class TextAnswer(AnswerView):
    """Plain text streamed to `out` (stdout by default): tokens as they arrive."""

    markdown = False

    def __init__(
        self, out: TextIO | None = None, *, inprocess: bool = False, fresh_for: str = ""
    ) -> None:
        super().__init__(inprocess=inprocess, fresh_for=fresh_for)
        self.out = out
        self.printed = 0

    def _write(self, text: str) -> None:
        out = self.out or sys.stdout  # looked up late: IPython swaps stdout per cell
        out.write(text)
        out.flush()

    def start(self) -> None:
        pass  # nothing to replace later: the first token is the first output

    def token(self, text: str) -> None:
        self.text += text
        self._write(text)
        self.printed = len(self.text)

    def finish(self, done: Mapping[str, Any]) -> None:
        line = self._closing(done)
        full = str(done.get("answer") or "")
        if not self.text:
            rest = full
        elif full.startswith(self.text) and len(full) > self.printed:
            rest = full[self.printed :]  # the final answer extends what streamed
        else:
            rest = ""  # what streamed stands; a differing final answer is not printed twice
        self._write(f"{rest}\n\n{line}\n")

    def fail(self, message: str) -> None:
        self._write(("\n\n" if self.text else "") + error_text(message) + "\n")


__all__ = [
    "CURSOR",
    "WAITING",
    "AnswerView",
    "MarkdownAnswer",
    "TextAnswer",
    "Throttle",
    "closing",
    "error_text",
    "footer",
    "format_ms",
    "fresh_command",
    "fresh_hint",
    "in_place_display",
    "markdown_bundle",
    "md_escape",
    "prepared_label",
]
