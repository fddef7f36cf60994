"""Query time: the single place that builds an answer.

`sleep` mode answers from what idle time prepared — an anticipated answer when the question
was foreseen and nothing changed since, else the notebook memory c′ + a compact digest +
the notes of the relevant cells + the raw delta since the last thinking run. `baseline`
builds the prompt the way query-time-only assistants do (every executed cell with outputs
+ the digest); `baseline-budget` holds that prompt to the size of the sleep-mode prompt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import prompts
from .context import (
    approx_tokens,
    identifiers,
    relevant,
    render_digest,
    render_execution,
    render_executions,
)
from .llm import ModelClient, TokenCallback
from .parsing import normalise_question
from .store import Store
from .thinker import Thinker

MODES = ("sleep", "baseline", "baseline-budget")
SLEEP_DIGEST_CHARS = 1200
BASELINE_OUTPUT_CAP = 1500


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
    extra: dict[str, Any] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        return {
            "type": "done",
            "answer": self.answer,
            "source": self.source,
            "mode": self.mode,
            "model": self.model,
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cached_tokens": self.cached_tokens,
            },
            "ttft_ms": round(self.ttft_ms, 1),
            "latency_ms": round(self.latency_ms, 1),
        }


class Answerer:
    def __init__(self, store: Store, client: ModelClient, thinker: Thinker, max_tokens: int = 400):
        self.store = store
        self.client = client
        self.thinker = thinker
        self.max_tokens = max_tokens

    # -- anticipated answers ------------------------------------------------------------------
    def anticipated(self, notebook: str, question: str) -> dict[str, str] | None:
        """The stored answer when this question was foreseen for the current state."""
        saved = self.store.insight(notebook, "anticipated")
        if not saved or saved[1] != self.store.state_version(notebook):
            return None
        wanted = normalise_question(question)
        items = saved[0].get("items", []) if isinstance(saved[0], dict) else []
        return next((item for item in items if item.get("norm") == wanted), None)

    # -- prompts ----------------------------------------------------------------------------------
    def sleep_prefix(self, notebook: str) -> str:
        """The stable part of a sleep-mode prompt: identical for every question until the next
        thinking run, so a local model's KV cache for it is reused (see `warm`)."""
        memory = self.store.memory(notebook)
        return (
            prompts.system()
            + "\n\n"
            + prompts.render(
                "answer",
                memory=memory["text"]
                if memory
                else "(no memory yet: the notebook was not studied)",
                digest=render_digest(self.store.digest(notebook), SLEEP_DIGEST_CHARS),
            ).strip()
        )

    def sleep_messages(self, notebook: str, question: str) -> list[dict[str, str]]:
        view = self.thinker.view(notebook)
        cursor = self.store.cursor(notebook)
        memory = self.store.memory(notebook)
        covered = max(cursor, memory["covered"] if memory else 0)
        delta = [ex for ex in view if ex.id > covered]
        notes = self.store.cell_notes(ex.cell_hash() for ex in view)
        pieces: list[str] = []
        for ex in relevant(question, [e for e in view if e not in delta], notes):
            note = notes.get(ex.cell_hash())
            text = render_execution(ex, output_cap=300, source_cap=600)
            if note:
                text += f"\nNote: {note}"
            diagnosis = self.store.diagnosis(ex.cell_hash()) if ex.status == "error" else None
            if diagnosis:  # prepared while idle: why it failed and the fix
                text += f"\nDiagnosis: {diagnosis}"
            pieces.append(text)
        if delta:
            pieces.append("Changed since:\n" + render_executions(delta[-6:], output_cap=800))
        digest = self.store.digest(notebook)
        if digest:
            named = identifiers(question)
            extra = [v for v in digest.variables if v.get("name") in named]
            if extra:
                pieces.append(
                    "Variables named in the question:\n"
                    + "\n".join(
                        f"{v.get('name')}: {v.get('type')} = {v.get('summary', '')}"[:400]
                        for v in extra
                    )
                )
        user = prompts.render(
            "answer_question", cells="\n\n".join(pieces) or "(none)", question=question
        )
        return [
            {"role": "system", "content": self.sleep_prefix(notebook)},
            {"role": "user", "content": user.strip()},
        ]

    def baseline_messages(
        self, notebook: str, question: str, budget_tokens: int | None = None
    ) -> list[dict[str, str]]:
        view = self.thinker.view(notebook)
        digest = render_digest(self.store.digest(notebook), 2500)
        if budget_tokens is None:
            cells = render_executions(view, output_cap=BASELINE_OUTPUT_CAP)
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
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Question: {question}"},
        ]

    # -- asking -----------------------------------------------------------------------------------
    async def ask(
        self,
        notebook: str,
        question: str,
        mode: str = "sleep",
        on_token: TokenCallback | None = None,
        model: str | None = None,
        cold: bool = False,
    ) -> Answer:
        """`cold=True` empties a local model's KV cache first: the benchmark measures the
        query-time-only baseline the way it runs in real use, after the notebook changed."""
        started = time.perf_counter()
        if mode == "sleep":
            hit = self.anticipated(notebook, question)
            if hit is not None:
                if on_token is not None:
                    maybe = on_token(hit["answer"])
                    if hasattr(maybe, "__await__"):
                        await maybe
                elapsed = (time.perf_counter() - started) * 1000
                return Answer(
                    hit["answer"], "anticipated", mode, ttft_ms=elapsed, latency_ms=elapsed
                )
            messages = self.sleep_messages(notebook, question)
        elif mode == "baseline":
            messages = self.baseline_messages(notebook, question)
        elif mode == "baseline-budget":
            size = sum(approx_tokens(m["content"]) for m in self.sleep_messages(notebook, question))
            messages = self.baseline_messages(notebook, question, budget_tokens=size)
        else:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if cold:
            self.client.reset_cache(model)
        result = await self.client.complete(
            messages,
            kind="query",
            task=f"ask:{mode}",
            notebook=notebook,
            max_tokens=self.max_tokens,
            on_token=on_token,
            model=model,
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
        )

    async def warm(self, notebook: str) -> None:
        """Prefill the stable sleep-mode prefix so the next question only pays for itself."""
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
        )
