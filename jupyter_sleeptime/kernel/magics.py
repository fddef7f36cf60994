"""`%ask` / `%%ask`: ask about the notebook from a cell.

    %load_ext jupyter_sleeptime
    %ask What is the test score of the model?
    %%ask --baseline
    Why did the merge in cell 7 drop rows?
    %ask --fresh What is the test score of the model?   # skip prepared answers
    %ask                      # no question: the ask widget

The answer streams into the cell's output as Markdown, updated in place, and ends with a
footer: where it came from (prepared while idle, or the model at query time), the tokens
spent now, time to first token and latency. A prepared answer names the prepared question
the server matched (it may be worded differently from yours) and offers the `--fresh`
command that asks the model instead. A kernel run by a Jupyter server with the
sleeptime extension asks the server (which thought about the notebook while it was idle);
elsewhere the engine runs in the kernel at query time only (see `inprocess.py`).

Nothing here waits for a message *to* the kernel (it processes none while a cell runs):
answers come over an outgoing HTTP stream.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import sys
import time
from collections.abc import Iterable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import client as _client
from . import inprocess as _inprocess

UPDATE_INTERVAL = 0.1  # seconds between in-place updates of the answer (~10 per second)
_OPTION = re.compile(r"--?[A-Za-z][\w-]*(?:=\S*)?$")
_TAKES_VALUE = {"--model", "-m"}

_backend: Any = None
last_answer: dict[str, Any] | None = None  # the last `done` event, for programmatic use


# -- backend --------------------------------------------------------------------------------------
def get_backend(shell: Any = None, refresh: bool = False) -> Any:
    """The server client for this kernel, or the in-process engine when there is no server."""
    global _backend
    if _backend is None or refresh:
        endpoint = _client.discover()
        if endpoint is not None:
            _backend = _client.SleeptimeClient(endpoint)
        else:
            from IPython import get_ipython

            _backend = _inprocess.backend(shell or get_ipython())
    return _backend


def forget_backend() -> None:
    """Look for the server again on the next question (it restarted, or went away)."""
    global _backend
    _backend = None


# -- rendering -----------------------------------------------------------------------------------
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


class CellAnswer:
    """Renders one answer into the cell output: Markdown updated in place (a frontend with
    display updates), or plain text streamed to stdout (terminal IPython, `--raw`)."""

    WAITING = "_⏳ asking sleeptime…_"
    CURSOR = " ▌"

    def __init__(self, rich: bool) -> None:
        self.rich = rich
        self.text = ""
        self.handle: Any = None
        self.throttle = Throttle()
        self.printed = 0

    def start(self) -> None:
        if self.rich:
            from IPython.display import display

            self.handle = display(_bundle(self.WAITING), raw=True, display_id=True)

    def _show(self, markdown: str) -> None:
        if self.handle is not None:
            self.handle.update(_bundle(markdown), raw=True)

    def token(self, text: str) -> None:
        self.text += text
        if not self.rich:
            sys.stdout.write(text)
            sys.stdout.flush()
            self.printed = len(self.text)
        elif self.throttle.due():
            self._show(self.text + self.CURSOR)

    def finish(self, answer: str, line: str) -> None:
        if self.rich:
            self._show(f"{answer.strip()}\n\n{line}")
            return
        if answer.startswith(self.text) and len(answer) > self.printed:
            sys.stdout.write(answer[self.printed :])
        elif not self.text:
            sys.stdout.write(answer)
        sys.stdout.write(f"\n\n{line}\n")
        sys.stdout.flush()

    def fail(self, message: str) -> None:
        note = _client.error_text(message)
        if self.rich:
            partial = f"{self.text.strip()}\n\n" if self.text.strip() else ""
            self._show(f"{partial}**{note}**")
        else:
            sys.stdout.write(("\n\n" if self.text else "") + note + "\n")
            sys.stdout.flush()


def _bundle(markdown: str) -> dict[str, str]:
    return {"text/markdown": markdown, "text/plain": markdown}


def render(
    events: Iterable[dict[str, Any]], view: CellAnswer, inprocess: bool, question: str = ""
) -> dict | None:
    """Feed a backend's event stream into a view; returns the `done` event (None on error).
    A prepared answer ends with the command that asks `question` of the model instead."""
    view.start()
    for event in events:
        kind = event.get("type")
        if kind == "token":
            view.token(str(event.get("text", "")))
        elif kind == "done":
            line = _client.footer(event, inprocess=inprocess, markdown=view.rich)
            if event.get("source") == "anticipated" and question.strip():
                hint = _client.fresh_hint(question, markdown=view.rich)
                line += ("\n\n" if view.rich else "\n") + hint
            view.finish(str(event.get("answer") or view.text), line)
            return event
        elif kind == "error":
            view.fail(str(event.get("message") or "the answer failed."))
            return None
    view.fail("no answer came back.")
    return None


def ask(
    question: str,
    mode: str = "sleep",
    model: str | None = None,
    raw: bool = False,
    shell: Any = None,
    fresh: bool = False,
) -> dict[str, Any] | None:
    """Ask and render the answer in the current output; returns the `done` event.
    `fresh=True` skips prepared answers: the model answers."""
    global last_answer
    from IPython import get_ipython

    shell = shell or get_ipython()
    rich = not raw and getattr(shell, "kernel", None) is not None
    view = CellAnswer(rich)
    try:
        backend = get_backend(shell)
    except Exception as exc:  # discovery itself must never surface as a traceback
        view.start()
        view.fail(f"could not set up: {type(exc).__name__}: {exc}")
        return None
    events = backend.ask(question, mode=mode, model=model, fresh=fresh)
    try:
        done = render(_watch(events, backend), view, inprocess=backend.inprocess, question=question)
    except KeyboardInterrupt:
        view.fail("interrupted.")
        raise
    except Exception as exc:  # a bug here is still a message in the cell, not a traceback
        view.fail(f"{type(exc).__name__}: {exc}")
        done = None
    finally:
        with contextlib.suppress(Exception):
            events.close()
    last_answer = done
    return done


def _watch(events: Iterable[dict[str, Any]], backend: Any) -> Iterable[dict[str, Any]]:
    """Pass events through; a server that vanished is looked up again next time."""
    for event in events:
        lost = event.get("type") == "error" and event.get("unreachable")
        if lost and not backend.inprocess and backend.endpoint.source == "discovered":
            forget_backend()
        yield event


# -- the magics -----------------------------------------------------------------------------------
def split_options(line: str) -> tuple[list[str], str]:
    """Leading options, then the question verbatim: a question may hold quotes
    ("What's…") that a shell-style parser would reject. `--` ends the options."""
    options: list[str] = []
    rest = line.strip()
    while rest:
        match = re.match(r"(\S+)\s*", rest)
        assert match is not None
        token = match.group(1)
        if token == "--":
            rest = rest[match.end() :]
            break
        if not _OPTION.match(token):
            break
        options.append(token)
        rest = rest[match.end() :]
        if token in _TAKES_VALUE:
            value = re.match(r"(\S+)\s*", rest)
            if value is None:
                raise UsageError(f"{token} needs a value, e.g. {token} openai/gpt-4o-mini")
            options.append(value.group(1))
            rest = rest[value.end() :]
    return options, rest.strip()


@magics_class
class SleeptimeMagics(Magics):
    @magic_arguments()
    @argument(
        "--baseline",
        action="store_true",
        help="Answer at query time only, from the whole notebook (what assistants without "
        "sleep-time compute do) — for comparison.",
    )
    @argument(
        "--budget",
        action="store_true",
        help="Query time only, but with the prompt held to the sleep-mode prompt's size.",
    )
    @argument(
        "--fresh",
        action="store_true",
        help="Skip the answers prepared while idle and ask the model (a prepared answer's "
        "footer offers this).",
    )
    @argument("--model", "-m", default=None, help="A LiteLLM model id for this question only.")
    @argument("--raw", action="store_true", help="Plain text streamed to stdout, no Markdown.")
    @argument("question", nargs="*", help="The question (for %%ask: the cell body).")
    @no_var_expand
    @line_cell_magic
    def ask(self, line: str, cell: str | None = None) -> None:
        """Ask sleeptime about this notebook; with no question, show the ask widget.

        The answer comes from what sleeptime prepared while the kernel was idle (notebook
        memory, anticipated questions) and streams into the output; its footer says where it
        came from and what it cost at query time.
        """
        options, question = split_options(line)
        args = parse_argstring(self.ask, " ".join(shlex.quote(o) for o in options))
        if cell is not None:
            question = f"{question}\n{cell}".strip()
        if args.baseline and args.budget:
            raise UsageError("use either --baseline or --budget, not both.")
        mode = "baseline" if args.baseline else "baseline-budget" if args.budget else "sleep"
        if not question:
            if getattr(self.shell, "kernel", None) is None:
                raise UsageError("ask a question: %ask What does this notebook do?")
            from .widget import show

            show()
            return
        ask(
            question,
            mode=mode,
            model=args.model,
            raw=args.raw,
            shell=self.shell,
            fresh=args.fresh,
        )


_ASK_LINE = re.compile(r"^(?P<indent>[ \t]*)%ask(?![\w%])(?P<rest>.*?)(?P<nl>\r?\n?)$")


def protect_questions(lines: list[str]) -> list[str]:
    """Input transformer: IPython reads a line that ends in `?` as a help request
    (`%ask What is x?` would show help on `x`), so `%ask` lines become the magic call before
    that rule runs. `%ask?` alone still shows the magic's help; `%%` cells are left alone."""
    if not lines or lines[0].lstrip().startswith("%%"):
        return lines
    out = []
    for line in lines:
        match = _ASK_LINE.match(line)
        rest = match.group("rest").strip() if match else ""
        if match and rest and rest not in ("?", "??"):
            indent, nl = match.group("indent"), match.group("nl")
            out.append(f"{indent}get_ipython().run_line_magic('ask', {rest!r}){nl}")
        else:
            out.append(line)
    return out


class _Rescue:
    """`%load_ext jupyter_sleeptime` and `%ask What is x?` in the same cell: that cell was
    transformed before the extension loaded, so IPython turned the `%ask …?` line into a help
    request (`%pinfo x`) and the question is gone from the code. For the rest of this one
    cell, such help requests are answered as the `%ask` lines they came from."""

    def __init__(self, ipython: Any, lines: list[str]) -> None:
        self.ipython = ipython
        self.lines = lines
        self.count = ipython.execution_count
        self.originals: dict[str, Any] = {}

    def install(self) -> None:
        table = self.ipython.magics_manager.magics["line"]
        for name in ("pinfo", "pinfo2"):
            original = self.ipython.find_line_magic(name)  # resolves a lazily loaded magic
            if original is not None:
                self.originals[name] = original
                table[name] = self._wrap(original)
        self.ipython.events.register("post_run_cell", self.remove)

    def _wrap(self, original: Any) -> Any:
        def pinfo(parameter_s: str = "", namespaces: Any = None) -> Any:
            target = parameter_s.strip()
            for index, line in enumerate(self.lines):
                if self.ipython.execution_count == self.count and re.search(
                    rf"(?<![\w.]){re.escape(target)}\?{{1,2}}\s*$", line
                ):
                    del self.lines[index]
                    return self.ipython.run_line_magic("ask", line)
            return original(parameter_s, namespaces)

        return pinfo

    def remove(self, *_: Any) -> None:
        table = self.ipython.magics_manager.magics["line"]
        table.update(self.originals)
        with contextlib.suppress(ValueError):
            self.ipython.events.unregister("post_run_cell", self.remove)


def _rescue_questions(ipython: Any) -> None:
    history = getattr(ipython, "history_manager", None)
    raw = getattr(history, "input_hist_raw", None)
    cell = raw[-1] if raw else ""  # the running cell
    if "%load_ext" not in cell:
        return
    lines = []
    transform = ipython.input_transformer_manager.transform_cell
    for line in cell.splitlines():
        match = _ASK_LINE.match(line)
        rest = match.group("rest").strip() if match else ""
        if rest and rest not in ("?", "??") and "'pinfo" in transform(line.strip()):
            lines.append(rest)
    if lines:
        _Rescue(ipython, lines).install()


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(SleeptimeMagics)
    if protect_questions not in ipython.input_transformers_cleanup:
        with contextlib.suppress(Exception):
            _rescue_questions(ipython)
        ipython.input_transformers_cleanup.append(protect_questions)
    callbacks = ipython.events.callbacks.get("post_run_cell", [])
    if _inprocess.note_result not in callbacks:
        ipython.events.register("post_run_cell", _inprocess.note_result)


def unload_ipython_extension(ipython: Any) -> None:
    with contextlib.suppress(ValueError):
        ipython.events.unregister("post_run_cell", _inprocess.note_result)
    with contextlib.suppress(ValueError):
        ipython.input_transformers_cleanup.remove(protect_questions)


__all__ = ["SleeptimeMagics", "ask", "get_backend", "load_ipython_extension", "split_options"]
