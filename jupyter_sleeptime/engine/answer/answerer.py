"""Query time: the single place that builds an answer.

`sleep` mode answers from what idle time prepared: a prepared answer when the question was
foreseen and nothing changed since; else a prompt whose stable prefix (the narrative memory c′,
the digest, the whole facts sheet, every cell in short — see `stable_prefix.py` — and how to
answer each kind of question) was prefilled while idle, followed only by what this question
adds: its kind, the question, and within `EXTRA_TOKENS` what the prefix lacks (a cell it left
out, the facts selected for the question, a cell it shortened). `baseline` builds the prompt the way query-time-only
assistants do (the whole notebook: markdown and every executed cell with outputs, + the
digest); `baseline-budget` holds that prompt to the size of the sleep-mode prompt.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ... import protocol
from .. import prompts
from ..facts.select import Selection, select
from ..facts.sheet import NotebookFacts, cell_text
from ..model.model_client import ModelClient, TokenCallback
from ..state.notebook_text import approx_tokens, render_digest, render_execution, render_executions
from ..state.records import Execution
from ..state.scope import NotebookScope
from ..state.store import Store
from .matcher import EMBEDDER, Match
from .prepared import Prepared
from .question import MAX_TOKENS, kind_in
from .stable_prefix import PREFIX_TOKENS, NotebookPrefix
from .stable_prefix import build as build_prefix

MODES = ("sleep", "baseline", "baseline-budget")
SLEEP_DIGEST_CHARS = 900
# What a question may add after the prefix (approx_tokens): every token here is prefilled at
# query time (~20 ms a token for the embedded model on 2 cores), the prefix's are not.
EXTRA_TOKENS = 64
EXTRA_OUTPUT_CAPS = (600, 200, 0)
KIND_LABELS = {"state": "state", "explain": "explain", "error": "error", "next": "next-step"}
BASELINE_OUTPUT_CAP = 1500

PrepareHook = Callable[..., Awaitable[None]]  # (notebook, question=None)


@dataclass
class Answer:
    answer: str
    source: str  # anticipated | model
    mode: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    ttft_ms: float = 0.0
    latency_ms: float = 0.0
    model: str | None = None
    matched: str | None = None  # the prepared question a prepared answer answers
    kind: str | None = None  # state | explain | error | next
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prompt:
    """What would be sent for a question (a dry run shows it, redacted, without sending)."""

    messages: list[dict[str, str]]
    kind: str
    max_tokens: int


class Answerer:
    def __init__(
        self,
        store: Store,
        client: ModelClient,
        scope: NotebookScope,
        max_tokens: int = 400,
        prefix_tokens: int = PREFIX_TOKENS,
    ) -> None:
        self.store = store
        self.client = client
        self.scope = scope
        self.max_tokens = max_tokens
        self.prefix_tokens = prefix_tokens  # the stable prefix's budget (approx_tokens)
        self.prepare: PrepareHook | None = None
        self.prepared = Prepared()
        self.hits = 0  # questions answered from prepared answers
        # Load the embeddings now, off the event loop: the first match then takes ms.
        threading.Thread(target=EMBEDDER.load, name="sleeptime-embeddings", daemon=True).start()

    # -- prepared answers -----------------------------------------------------------------------
    def prepared_match(self, notebook: str, question: str) -> Match | None:
        """The prepared answer this question asks for, if the matcher is sure enough."""
        facts = self.scope.facts(notebook)
        notes = self.store.cell_notes(ex.cell_hash() for ex in facts.view)
        return self.prepared.match(facts, question, notes, self.model_anticipated(notebook))

    def model_anticipated(self, notebook: str) -> list[dict[str, Any]]:
        """The model's anticipated Q&A, when written for the current state."""
        saved = self.store.insight(notebook, "anticipated")
        if not saved or saved[1] != self.store.state_version(notebook):
            return []
        return list(saved[0].get("items", [])) if isinstance(saved[0], dict) else []

    def prepared_list(self, notebook: str) -> list[dict[str, str]]:
        facts = self.scope.facts(notebook)
        notes = self.store.cell_notes(ex.cell_hash() for ex in facts.view)
        return self.prepared.listed(facts, notes, self.model_anticipated(notebook))

    # -- prompts ----------------------------------------------------------------------------------
    def sleep_prefix(self, notebook: str) -> str:
        """The stable part of a sleep-mode prompt (see `stable_prefix.py`): byte-identical for every
        question until the notebook changes, so it is prefilled once while idle (`warm`)."""
        return self._prefix(notebook)[0]

    def _prefix(self, notebook: str) -> tuple[str, NotebookPrefix]:
        memory = self.store.memory(notebook)
        head = prompts.system() + "\n\n"
        values = {
            "memory": memory["text"] if memory else "(no memory yet: the notebook was not studied)",
            "digest": render_digest(self.scope.digest(notebook), SLEEP_DIGEST_CHARS),
            "instructions": _instructions(),
        }
        fixed = approx_tokens(head + prompts.render("answer", **values, facts="", cells=""))
        facts = self.scope.facts(notebook)
        notes = self.store.cell_notes(ex.cell_hash() for ex in facts.view)
        sheet = build_prefix(facts, notes, max(0, self.prefix_tokens - fixed))
        text = prompts.render(
            "answer",
            **values,
            facts=sheet.facts or "(no facts computed yet)",
            cells=sheet.cells or "(no cells executed)",
        )
        return head + text.strip(), sheet

    def sleep_prompt(self, notebook: str, question: str) -> Prompt:
        facts = self.scope.facts(notebook)
        kind = kind_in(question, facts)  # an error question only with an error to be about
        view = facts.view
        notes = self.store.cell_notes(ex.cell_hash() for ex in view)
        memory = self.store.memory(notebook)
        covered = max(self.store.cursor(notebook), memory["covered"] if memory else 0)
        recent = {ex.id for ex in view if ex.id > covered}
        chosen = select(facts, question, kind, notes, recent, docs=self.store.docs(notebook))
        prefix, sheet = self._prefix(notebook)
        user = prompts.render(
            "answer_question",
            extra=_extra(chosen, facts, prefix, sheet),
            label=KIND_LABELS[kind],
            question=question,
        )
        messages = [
            {"role": "system", "content": prefix},
            {"role": "user", "content": user.strip()},
        ]
        return Prompt(messages, kind, MAX_TOKENS.get(kind, self.max_tokens))

    def baseline_prompt(
        self, notebook: str, question: str, budget_tokens: int | None = None
    ) -> Prompt:
        view = self.scope.view(notebook)
        digest = render_digest(self.scope.digest(notebook), 2500)
        if budget_tokens is None:
            cells = self._whole_notebook(notebook, view)
        else:
            # Most recent cells first, outputs truncated, until the sleep prompt's size.
            budget = budget_tokens - approx_tokens(digest) - 150 - approx_tokens(question)
            chosen: list[str] = []
            for ex in reversed(view):
                text = render_execution(ex, output_cap=300, source_cap=800)
                if approx_tokens(text) > budget:
                    break
                chosen.append(text)
                budget -= approx_tokens(text)
            cells = "\n\n".join(reversed(chosen))
        system = (
            prompts.system()
            + "\n\n"
            + prompts.render("baseline", digest=digest, cells=cells).strip()
        )
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Question: {question}"},
        ]
        # same kind and answer length as sleep mode: a fair comparison
        kind = kind_in(question, self.scope.facts(notebook))
        return Prompt(messages, kind, MAX_TOKENS.get(kind, self.max_tokens))

    def _whole_notebook(self, notebook: str, view: list[Execution]) -> str:
        """Markdown and executed cells in document order, as notebook assistants send them;
        executions the document does not hold (edited since, or no document) follow."""
        document = self.scope.document(notebook)
        by_source = {ex.source.strip(): ex for ex in view}
        pieces: list[str] = []
        shown: set[int] = set()
        for cell in document.cells:
            if cell.cell_type == "markdown" and cell.source.strip():
                pieces.append(f"Markdown:\n{cell.source.strip()}")
            elif cell.cell_type == "code":
                ex = by_source.get(cell.source.strip())
                if ex is not None and ex.id not in shown:
                    pieces.append(render_execution(ex, output_cap=BASELINE_OUTPUT_CAP))
                    shown.add(ex.id)
        rest = [ex for ex in view if ex.id not in shown]
        if rest:
            pieces.append(render_executions(rest, output_cap=BASELINE_OUTPUT_CAP))
        return "\n\n".join(pieces)

    def prompt(self, notebook: str, question: str, mode: str) -> Prompt:
        if mode == "sleep":
            return self.sleep_prompt(notebook, question)
        if mode == "baseline":
            return self.baseline_prompt(notebook, question)
        if mode == "baseline-budget":
            sleep = self.sleep_prompt(notebook, question)
            size = sum(approx_tokens(m["content"]) for m in sleep.messages)
            return self.baseline_prompt(notebook, question, budget_tokens=size)
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")

    # -- asking -----------------------------------------------------------------------------------
    async def ready(self, notebook: str, question: str | None = None) -> None:
        """Before answering: the host's latest document and policy (also after a restart,
        before any thinking run), then the policy check — nothing of an opted-out notebook
        is read further. The host may also read what the question needs from the kernel
        (the docstrings of functions it names)."""
        if self.prepare is not None:
            await self.prepare(notebook, question)
        self.scope.check(notebook)

    async def ask(
        self,
        notebook: str,
        question: str,
        mode: str = "sleep",
        on_token: TokenCallback | None = None,
        model: str | None = None,
        cold: bool = False,
        fresh: bool = False,
    ) -> Answer:
        """`fresh=True` skips prepared answers (the user asked for the model instead).
        `cold=True` empties a local model's KV cache first: the benchmark measures the
        query-time-only baseline the way it runs in real use, after the notebook changed."""
        started = time.perf_counter()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        await self.ready(notebook, question)
        if mode == "sleep" and not fresh:
            hit = self.prepared_match(notebook, question)
            if hit is not None:
                if on_token is not None:
                    maybe = on_token(hit.candidate.answer)
                    if inspect.isawaitable(maybe):
                        await maybe
                elapsed = (time.perf_counter() - started) * 1000
                self.hits += 1
                return Answer(
                    hit.candidate.answer,
                    "anticipated",
                    mode,
                    ttft_ms=elapsed,
                    latency_ms=elapsed,
                    matched=hit.candidate.question,
                    kind=hit.candidate.kind,
                    extra={
                        "prepared_from": hit.candidate.source,
                        "similarity": round(hit.score, 3),
                    },
                )
        prompt = self.prompt(notebook, question, mode)
        if cold:
            self.client.reset_cache(model)
        result = await self.client.complete(
            prompt.messages,
            kind="query",
            task=f"ask:{mode}",
            notebook=notebook,
            max_tokens=prompt.max_tokens,
            on_token=on_token,
            model=model,
            prefix_key=notebook if mode == "sleep" else None,
        )
        return Answer(
            result.text.strip(),
            "model",
            mode,
            result.prompt_tokens,
            result.completion_tokens,
            result.cached_tokens,
            result.ttft_ms or 0.0,
            (time.perf_counter() - started) * 1000,
            result.model,
            kind=prompt.kind,
        )

    async def dry_run(self, notebook: str, question: str, mode: str) -> protocol.PromptEvent:
        """What an ask would use, without a model call: the prepared answer it would give, or
        the messages exactly as they would be sent (after redaction)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        await self.ready(notebook, question)
        if mode == "sleep":
            hit = self.prepared_match(notebook, question)
            if hit is not None:
                return protocol.prompt(
                    source="anticipated",
                    kind=hit.candidate.kind,
                    messages=[],
                    answer=hit.candidate.answer,
                    matched=hit.candidate.question,
                )
        prompt = self.prompt(notebook, question, mode)
        messages = self.client.outgoing(prompt.messages, notebook)
        return protocol.prompt(
            source="model",
            kind=prompt.kind,
            messages=messages,
            max_tokens=prompt.max_tokens,
            approx_tokens=sum(approx_tokens(m["content"]) for m in messages),
        )

    async def warm(self, notebook: str) -> None:
        """Prefill the whole stable prefix while idle and keep its state for this notebook,
        so the next question about it only pays for itself."""
        messages = [
            {"role": "system", "content": self.sleep_prefix(notebook)},
            {"role": "user", "content": "Question:"},
        ]
        await self.client.complete(
            messages,
            kind="sleep",
            task="warm_kv",
            notebook=notebook,
            max_tokens=1,
            model=self.client.model,
            allow_empty=True,
            prefix_key=notebook,
            save_prefix=True,
        )


def _instructions() -> str:
    """Every kind's instructions, in the prefix: the question then only names its kind."""
    return "\n\n".join(
        f"For {label} questions: " + prompts.render(f"instruct_{kind}").strip()
        for kind, label in KIND_LABELS.items()
    )


def _lines_not_in(block: str, prefix: str) -> str:
    """The lines of a fact block the prefix does not hold, under what they are about: the
    block's first line, or only its subject (`` `huber` now:``) when the prefix holds that line
    already; empty when the prefix holds them all."""
    lines = block.splitlines()
    missing = [line for line in lines if line.strip() and line.strip() not in prefix]
    if not missing:
        return ""
    if missing[0] == lines[0]:
        return "\n".join(missing)
    subject, said, _ = lines[0].partition(" now:")
    return "\n".join([subject + said if said else lines[0], *missing])


def _extra(chosen: Selection, facts: NotebookFacts, prefix: str, sheet: NotebookPrefix) -> str:
    """What the question needs beyond the prefix, within `EXTRA_TOKENS`: first the best-ranked
    cell the prefix left out (it holds the source and output the question is about), then the
    facts selected for it that the prefix does not hold (rounded values, documentation, a card
    for an error the user describes: the first always), then the best-ranked cell the prefix
    shortened; a cell with as much output as fits. Empty when the prefix has it all."""
    blocks: list[str] = []
    left = EXTRA_TOKENS

    def add_cell(ex: Execution | None) -> None:
        nonlocal left
        if ex is None:
            return
        for cap in EXTRA_OUTPUT_CAPS:
            shown = ex if cap else replace(ex, outputs=[])  # at last, the source alone
            text = "<notebook>\n" + cell_text(shown, cap, facts.result_type(ex)) + "\n</notebook>"
            if approx_tokens(text) <= left:
                blocks.append(text)
                left -= approx_tokens(text)
                return

    add_cell(next((ex for ex in chosen.cells if ex.id not in sheet.shown), None))
    kept: list[str] = []
    for block in (text for block in chosen.facts if (text := _lines_not_in(block, prefix))):
        if not kept or approx_tokens("\n".join([*kept, block])) <= left:
            kept.append(block)
    if kept:
        blocks.append("<facts>\n" + "\n".join(kept) + "\n</facts>")
        left -= approx_tokens(blocks[-1])
    add_cell(next((ex for ex in chosen.cells if ex.id in sheet.shown - sheet.whole), None))
    if not blocks:
        return ""
    return prompts.render("answer_extra", blocks="\n\n".join(blocks)).strip() + "\n\n"
