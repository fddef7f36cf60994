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
elsewhere the engine runs in the kernel at query time only (see `inprocess.py`). Choosing
the backend and streaming into the output are shared with the widget (`backend.py`, with
the views of `render.py`).

Nothing here waits for a message *to* the kernel (it processes none while a cell runs):
answers come over an outgoing HTTP stream.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import inprocess as _inprocess
from .backend import answer
from .render import AnswerView, MarkdownAnswer, TextAnswer, in_place_display

_OPTION = re.compile(r"--?[A-Za-z][\w-]*(?:=\S*)?$")
_TAKES_VALUE = {"--model", "-m"}

last_answer: dict[str, Any] | None = None  # the last `done` event, for programmatic use


# -- asking ---------------------------------------------------------------------------------------
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
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    rich = not raw and getattr(shell, "kernel", None) is not None  # a frontend shows Markdown
    view: AnswerView = (
        MarkdownAnswer(in_place_display(), fresh_for=question)
        if rich
        else TextAnswer(fresh_for=question)
    )
    last_answer = answer(question, view, mode=mode, model=model, fresh=fresh, shell=shell)
    return last_answer


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


__all__ = ["SleeptimeMagics", "ask", "load_ipython_extension", "split_options"]
