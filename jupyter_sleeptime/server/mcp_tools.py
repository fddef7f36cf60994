"""The MCP tools: what idle time prepared about a notebook, for agents, in milliseconds.

Every tool reads prepared state only — the facts, the memory, cell explanations, error
cards, next steps and prepared answers the engine already holds. No tool sends anything to
a kernel (not even the silent digest the REST `ask` may refresh): an agent's question never
touches the user's namespace. What leaves goes through the same policy point as a model
call: `NotebookScope` (opted-out notebooks refused, skipped cells and the names they bind
absent) and then `ModelClient.outgoing` (values of skipped cells hidden, secrets redacted).

The tools are plain async functions with typed parameters, so any MCP server can register
them: this extension's own endpoint (`server/mcp.py`) and `jupyter-server-mcp`, which finds
them through the `jupyter_server_mcp.tools` entry point (`tool_specs`)."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..engine.facts import NotebookFacts
from ..engine.model.model_client import ModelError, hide_values
from ..engine.state.document import OptedOut
from ..engine.state.notebook_text import render_outputs
from ..engine.state.records import Execution
from .service import SleeptimeService
from .views import saved_items, saved_steps

NEWEST_RESULTS = 5
OUTPUT_CHARS = 300  # per result in the overview
SUMMARY_CHARS = 160  # per data name in the overview
CODE_CHARS = 2000
OVERVIEW_NAMES = 40
SEPARATOR = "\n\n\u241e\n\n"  # between the texts of one result, filtered as one message


class ToolRefused(ToolError):
    """A tool cannot answer; the message says why and what to do (an MCP tool error)."""


class PreparedTools:
    """The answers behind the MCP tools, read from one `SleeptimeService`."""

    def __init__(self, service: SleeptimeService) -> None:
        self.service = service
        self.engine = service.engine
        self._loaded: dict[str, Any] = {}  # notebook → last_modified of the document read
        self._removed: dict[tuple[str, int], list[str]] = {}  # what redaction took, by state
        # notebook → (the facts, the last thinking run, what was derived from both)
        self._derived: dict[str, tuple[NotebookFacts, str, dict[str, Any]]] = {}

    # -- which notebook, and may it be shared ------------------------------------------------
    async def notebook(self, notebook: str) -> str:
        """The engine's key for a notebook path or kernel id; refused when opted out."""
        key = self._resolve(notebook)
        if key is None:
            await self.service.refresh_paths()
            key = self._resolve(notebook)
        if key is None:
            known = ", ".join(sorted(self._open())) or "none"
            raise ToolRefused(
                f"No open notebook or running kernel {notebook!r}. Open notebooks: {known}. "
                "Call list_notebooks for their paths and kernel ids."
            )
        await self._document(key)
        try:
            self.engine.scope.check(key)
        except OptedOut as exc:
            raise ToolRefused(f"{key} is not shared with agents. {exc}") from None
        return key

    def _open(self) -> dict[str, str]:
        """Running kernels: their notebook → kernel id."""
        return {
            self.service.notebook_for(k): k for k in self.service.kernel_manager.list_kernel_ids()
        }

    def _resolve(self, notebook: str) -> str | None:
        notebook = notebook.strip()
        open_ = self._open()
        if notebook in open_:
            return notebook
        if notebook in open_.values():
            return self.service.notebook_for(notebook)
        if notebook.lstrip("/") in open_:
            return notebook.lstrip("/")
        return None

    async def _document(self, notebook: str) -> None:
        """The notebook's document (opt-outs, skipped cells), read again only when the saved
        file changed; a live shared document is read every time."""
        if notebook.startswith("kernel:"):
            return
        settings = self.service.settings
        contents = settings.get("contents_manager")
        if settings.get("jupyter_server_ydoc") is None and contents is not None:
            try:
                model = contents.get(notebook, content=False, type="notebook")
                if hasattr(model, "__await__"):
                    model = await model
                stamp = model.get("last_modified")
            except Exception:
                stamp = None
            if stamp is not None and self._loaded.get(notebook) == stamp:
                return
            self._loaded[notebook] = stamp
        await self.service.load_document(notebook)

    # -- what leaves --------------------------------------------------------------------------
    def release(self, notebook: str | None, result: dict[str, Any]) -> dict[str, Any]:
        """The result as it may leave: every text passes the model boundary's own filter
        (values from skipped cells hidden, secrets redacted)."""
        texts: list[str] = []

        def collect(value: Any) -> None:
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)
            elif isinstance(value, list):
                for item in value:
                    collect(item)

        collect(result)
        if not texts:
            return result
        cleaned = iter(self._filter(texts, notebook))

        def rebuild(value: Any) -> Any:
            if isinstance(value, str):
                return next(cleaned)
            if isinstance(value, dict):
                return {k: rebuild(v) for k, v in value.items()}
            if isinstance(value, list):
                return [rebuild(v) for v in value]
            return value

        return rebuild(result)

    def _filter(self, texts: list[str], notebook: str | None) -> list[str]:
        """All texts through the boundary in one message (one redaction pass costs about as
        much for a short text as for a long one); one message each when a replacement
        swallowed a separator. Then every value the redactor removed from the notebook's own
        sources is hidden wherever a result repeats it (a digest summary such as
        `str = '…'` names no secret: only the line that assigned it does)."""
        outgoing = self.engine.client.outgoing
        joined = outgoing([{"role": "user", "content": SEPARATOR.join(texts)}], notebook)
        parts = joined[0]["content"].split(SEPARATOR)
        if len(parts) != len(texts):
            messages = [{"role": "user", "content": t} for t in texts]
            parts = [m["content"] for m in outgoing(messages, notebook)]
        found = self._redacted_values(notebook)
        if not found:
            return parts
        return [hide_values(part, found, "[REDACTED:secret]") for part in parts]

    def _redacted_values(self, notebook: str | None) -> list[str]:
        """What redaction removed from the notebook's sources, longest first."""
        if notebook is None or not self.engine.scope.enabled(notebook):
            return []
        sources = [ex.source for ex in self.engine.scope.view(notebook)]
        key = (notebook, hash(tuple(sources)))
        if key in self._removed:  # once per notebook state, not once per tool call
            return self._removed[key]
        cleaned = self.engine.client.outgoing(
            [{"role": "user", "content": source} for source in sources], notebook
        )
        values: set[str] = set()
        for source, message in zip(sources, cleaned, strict=True):
            values.update(removed_values(source, message["content"]))
        self._removed = {key: sorted(values, key=len, reverse=True)}
        return self._removed[key]

    # -- the tools ----------------------------------------------------------------------------
    async def list_notebooks(self) -> dict[str, Any]:
        await self.service.refresh_paths()
        engine = self.engine
        notebooks = []
        for notebook, kernel_id in sorted(self._open().items()):
            await self._document(notebook)
            enabled = engine.scope.enabled(notebook)
            state = engine.scheduler.states.get(notebook)
            notebooks.append(
                {
                    "notebook": notebook,
                    "path": None if notebook.startswith("kernel:") else notebook,
                    "kernel_id": kernel_id,
                    "execution_state": self.service.execution_state(kernel_id),
                    "shared": enabled,
                    "cells": len(engine.scope.view(notebook)) if enabled else None,
                    "pending": engine.scheduler.pending(notebook),
                    "thinking": engine.scheduler.thinking(notebook),
                    "current_task": state.current_task if state else None,
                    "last_run": engine.store.last_run(notebook),
                }
            )
        return self.release(None, {"notebooks": notebooks, "source": "facts"})

    async def notebook_overview(self, notebook: str) -> dict[str, Any]:
        key = await self.notebook(notebook)
        engine = self.engine
        facts = engine.scope.facts(key)
        memory = engine.store.memory(key)
        version = engine.store.state_version(key)
        names = [
            {
                "name": f.name,
                "type": f.type,
                "summary": _clip(_value(f.summary, f.type), SUMMARY_CHARS),
                "set_in": f.set_in,
            }
            for f in sorted(
                (f for f in facts.names.values() if not f.module and f.defined),
                key=lambda f: -(f.last.execution_id if f.last else 0),
            )[:OVERVIEW_NAMES]
        ]
        steps = saved_items(engine.store.insight(key, "next_steps"))
        result = {
            "notebook": key,
            "state_version": version,
            "memory": {
                "text": memory["text"] if memory else "",
                "fresh": bool(memory and memory["state_version"] == version),
            },
            "names": names,
            "errors": [
                {
                    "execution_count": c.execution_count,
                    "ename": c.ename,
                    "evalue": _clip(c.evalue, SUMMARY_CHARS),
                    "line": c.line,
                }
                for c in facts.errors
            ],
            "newest_results": [_result(ex) for ex in facts.view[-NEWEST_RESULTS:]],
            "prepared_questions": self._derive(key, facts)["questions"],
            "next_steps": [s.get("title", "") for s in steps],
            "source": "prepared",
        }
        return self.release(key, result)

    def _derive(self, notebook: str, facts: NotebookFacts) -> dict[str, Any]:
        """What the tools read off the facts and the thinking results, computed again only
        after the facts were rebuilt or a thinking run finished: the questions `ask`
        answers at once and the names' public cards."""
        run = repr(self.engine.store.last_run(notebook))
        cached = self._derived.get(notebook)
        if cached is None or cached[0] is not facts or cached[1] != run:
            listed = self.engine.answerer.prepared_list(notebook)
            derived = {
                "questions": [item["question"] for item in listed],
                "cards": {n["name"]: n for n in facts.to_public()["names"]},
            }
            cached = (facts, run, derived)
            self._derived[notebook] = cached
        return cached[2]

    async def name_fact(self, notebook: str, name: str) -> dict[str, Any]:
        key = await self.notebook(notebook)
        facts = self.engine.scope.facts(key)
        fact = facts.names.get(name.strip())
        if fact is None:
            known = ", ".join(sorted(n for n, f in facts.names.items() if not f.module)[:30])
            raise ToolRefused(
                f"{key} has no name {name!r} among the cells sleeptime may read. "
                f"Known names: {known or 'none yet'}."
            )
        card = self._derive(key, facts)["cards"].get(fact.name) or {
            "name": fact.name,
            "type": fact.type,
            "module": True,
        }
        # The card's own `source` (the line that set the name) is `code` here: `source` says
        # where a tool's answer comes from.
        card = {("code" if k == "source" else k): v for k, v in card.items()}
        result = {**card, "text": facts.name_text(fact.name), "source": "facts"}
        return self.release(key, result)

    async def error_card(self, notebook: str, cell: int | None = None) -> dict[str, Any]:
        key = await self.notebook(notebook)
        facts = self.engine.scope.facts(key)
        card = facts.card_for(cell)
        if card is None:
            where = f"cell [{cell}] did not fail" if cell is not None else "no cell failed"
            return self.release(
                key, {"card": None, "message": f"No error card: {where}.", "source": "facts"}
            )
        ex = _by_count(facts, card.execution_count)
        diagnosis = self.engine.store.diagnosis(ex.cell_hash()) if ex is not None else None
        result = {
            "card": card.to_public(),
            "text": card.render(),
            "diagnosis": diagnosis,
            "source": "facts",
        }
        return self.release(key, result)

    async def explain_cell(self, notebook: str, cell: int) -> dict[str, Any]:
        key = await self.notebook(notebook)
        facts = self.engine.scope.facts(key)
        ex = _by_count(facts, cell)
        if ex is None:
            raise ToolRefused(
                f"{key} has no executed cell [{cell}] that sleeptime may read (never run, "
                "run again under another number, or tagged sleeptime-skip)."
            )
        note = self.engine.store.cell_notes([ex.cell_hash()]).get(ex.cell_hash())
        result = {
            "execution_count": ex.execution_count,
            "status": ex.status,
            "code": _clip(ex.source, CODE_CHARS),
            "explanation": note,
            "message": None if note else "Not explained yet: it is explained while idle.",
            "source": "prepared",
        }
        return self.release(key, result)

    async def next_steps(self, notebook: str) -> dict[str, Any]:
        key = await self.notebook(notebook)
        saved = self.engine.store.insight(key, "next_steps")
        result = {
            "steps": saved_steps(saved),
            "fresh": bool(saved and saved[1] == self.engine.store.state_version(key)),
            "source": "prepared",
        }
        return self.release(key, result)

    async def ask(
        self, notebook: str, question: str, prepared_only: bool = False
    ) -> dict[str, Any]:
        key = await self.notebook(notebook)
        if not question.strip():
            raise ToolRefused("'question' must not be empty.")
        engine = self.engine
        started = time.perf_counter()
        hit = engine.answerer.prepared_match(key, question)
        if hit is not None:
            engine.anticipated_hits += 1
            candidate = hit.candidate
            result: dict[str, Any] = {
                "answer": candidate.answer,
                "source": "prepared" if candidate.source == "model" else "facts",
                "matched": candidate.question,
                "kind": candidate.kind,
            }
        elif prepared_only:
            result = {
                "answer": None,
                "source": None,
                "message": "Nothing prepared answers this question; ask without "
                "prepared_only to have the model answer from the prepared state.",
            }
        else:
            prompt = engine.answerer.prompt(key, question, "sleep")
            try:
                call = await engine.client.complete(
                    prompt.messages,
                    kind="query",
                    task="ask:mcp",
                    notebook=key,
                    max_tokens=prompt.max_tokens,
                )
            except ModelError as exc:
                raise ToolRefused(str(exc)) from None
            result = {
                "answer": call.text.strip(),
                "source": "model",
                "kind": prompt.kind,
                "usage": {
                    "prompt_tokens": call.prompt_tokens,
                    "completion_tokens": call.completion_tokens,
                },
            }
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return self.release(key, result)


# -- the tool functions, for any MCP server -------------------------------------------------------
Notebook = Annotated[
    str, Field(description="A notebook path or a kernel id, as list_notebooks gives them.")
]
Cell = Annotated[int, Field(description="The cell's execution count: [n] in the notebook.")]

_current: PreparedTools | None = None


def install(service: SleeptimeService) -> PreparedTools:
    """Make this server's prepared state the one the tool functions read."""
    global _current
    _current = PreparedTools(service)
    return _current


def _tools() -> PreparedTools:
    if _current is None:
        raise ToolRefused(
            "jupyter-sleeptime is not running in this Jupyter server (enable the "
            "jupyter_sleeptime server extension)."
        )
    return _current


async def list_notebooks() -> dict[str, Any]:
    """List the open notebooks with their kernels: execution state (idle/busy), whether
    sleeptime may share them, how many cells ran, and idle-time work pending."""
    return await _tools().list_notebooks()


async def notebook_overview(notebook: Notebook) -> dict[str, Any]:
    """A notebook at a glance, from what idle time prepared: its memory (purpose, pipeline,
    open problems), data names with values, errors, the newest results, questions answered
    at once by `ask`, and next-step titles. `notebook`: a path or kernel id from
    list_notebooks."""
    return await _tools().notebook_overview(notebook)


async def name_fact(notebook: Notebook, name: str) -> dict[str, Any]:
    """The fact card of a variable: current value and shape, the cell and line that set it,
    earlier values, later changes, and what it was fitted on when known. Read from facts
    computed while idle: nothing runs in the kernel."""
    return await _tools().name_fact(notebook, name)


async def error_card(notebook: Notebook, cell: Cell | None = None) -> dict[str, Any]:
    """The error card of cell [cell] (its execution count), or of the newest failure when
    `cell` is omitted: exception, failing line, the names on it, close matches, cause and
    fix, and the diagnosis written while idle."""
    return await _tools().error_card(notebook, cell)


async def explain_cell(notebook: Notebook, cell: Cell) -> dict[str, Any]:
    """What cell [cell] (its execution count) does: the explanation written while idle,
    with the cell's code."""
    return await _tools().explain_cell(notebook, cell)


async def next_steps(notebook: Notebook) -> dict[str, Any]:
    """Suggested next steps for the notebook (title and code), prepared while idle."""
    return await _tools().next_steps(notebook)


async def ask(notebook: Notebook, question: str, prepared_only: bool = False) -> dict[str, Any]:
    """Ask about the notebook. A prepared answer comes first (`source`: `facts` or
    `prepared`, with the prepared question it `matched`); otherwise the configured model
    answers from the prepared state (`source`: `model`). `prepared_only`: never call the
    model."""
    return await _tools().ask(notebook, question, prepared_only)


TOOLS = (
    list_notebooks,
    notebook_overview,
    name_fact,
    error_card,
    explain_cell,
    next_steps,
    ask,
)


def tool_specs() -> list[str]:
    """The `jupyter_server_mcp.tools` entry point: the tools as `module:function`."""
    return [f"{__name__}:{fn.__name__}" for fn in TOOLS]


# -- helpers ----------------------------------------------------------------------------------------
def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _by_count(facts: NotebookFacts, count: int | None) -> Execution | None:
    if count is None:
        return None
    return next((ex for ex in reversed(facts.view) if ex.execution_count == count), None)


def _value(summary: str | None, type_: str | None) -> str | None:
    """A summary without the type the entry already names ("int = 30" → "30")."""
    if not summary or not type_:
        return summary
    if summary == type_:
        return None
    return summary.removeprefix(f"{type_} = ")


def _result(ex: Execution) -> dict[str, Any]:
    last = ex.source.strip().splitlines()[-1] if ex.source.strip() else ""
    return {
        "execution_count": ex.execution_count,
        "status": ex.status,
        "last_line": _clip(last, 200),
        # A failure in one line: its error card (error_card) has the rest.
        "output": f"{ex.error.ename}: {_clip(ex.error.evalue, SUMMARY_CHARS)}"
        if ex.error is not None
        else render_outputs(ex, OUTPUT_CHARS),
    }


_MARKER = re.compile(r"\[(?:REDACTED|WITHHELD)[^\]]*\]")
MIN_HIDDEN = 6  # shorter removed values (a port, a word) would hide ordinary text


def removed_values(original: str, redacted: str) -> list[str]:
    """The spans of `original` that redaction replaced by a marker: the text between the
    markers anchors each span."""
    if original == redacted or not _MARKER.search(redacted):
        return []
    anchors = _MARKER.split(redacted)
    pattern = "(.+?)".join(re.escape(a) for a in anchors)
    match = re.fullmatch(pattern, original, re.S)
    if match is None:
        return []
    return [g for g in match.groups() if len(g.strip()) >= MIN_HIDDEN]
