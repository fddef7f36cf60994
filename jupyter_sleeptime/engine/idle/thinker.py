"""What is thought while the kernel is idle: the single place that plans and runs
sleep-time tasks for a notebook.

Planning is derived from the store (what is missing or stale for the current state), so a
failed or interrupted run simply leaves the same work planned for next time. Each task
saves its own result as soon as it succeeds; results are keyed so nothing is duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import prompts
from ..facts.memory_check import check_memory, drop_echoes
from ..facts.select import markdown_gists
from ..facts.snippets import check_snippet, imported_modules
from ..model import parsing
from ..model.model_client import ModelClient, ModelError
from ..state.document import Policy
from ..state.notebook_text import (
    approx_tokens,
    identifiers,
    label,
    render_digest,
    render_executions,
    words,
)
from ..state.records import Execution
from ..state.scope import NotebookScope
from ..state.store import Store
from .shared_insights import SharedInsights

log = logging.getLogger(__name__)

PRIORITY = {
    "compute_facts": -1,  # no model: exact facts first, the model tasks read them
    "diagnose_error": 0,
    "explain_cells": 1,
    "rewrite_memory": 2,
    "anticipate": 3,
    "next_steps": 4,
    "warm_kv": 5,
}
EXPLAIN_BATCH_TOKENS = (
    1800  # cell text per explanation call: big enough to amortise the instructions
)
MEMORY_MIN_WORDS = 60
MEMORY_MAX_WORDS = 150
MEMORY_OUTPUT_CAP = 400  # the memory tells the story; exact outputs are in the facts
REVISE_MAX_CELLS = 4  # up to this many changed cells, anticipated Q&A and next steps are revised
RECENT_CELLS = 3


class ThinkError(RuntimeError):
    pass


# Which modules the kernel of a notebook can import ({"seaborn": False}); None when the
# host cannot ask it (no kernel, busy, not Python).
ImportableHook = Callable[[str, list[str]], Awaitable[dict[str, bool] | None]]


@dataclass
class Task:
    name: str
    cells: list[Execution] = field(default_factory=list)

    @property
    def priority(self) -> int:
        return PRIORITY[self.name]


class Thinker:
    def __init__(
        self,
        store: Store,
        client: ModelClient,
        scope: NotebookScope,
        *,
        anticipate_k: int = 5,
        memory_tokens: int = 1200,
        warm: Callable[[str], Awaitable[None]] | None = None,
        importable: ImportableHook | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.scope = scope
        self.anticipate_k = anticipate_k
        self.memory_tokens = memory_tokens
        self.warm = warm
        self.importable = importable
        self.shared: SharedInsights | None = None  # set when the user opted in
        self.handlers: dict[str, Callable[[str, Task], Awaitable[None]]] = {
            "compute_facts": self._compute_facts,
            "diagnose_error": self._diagnose_error,
            "explain_cells": self._explain_cells,
            "rewrite_memory": self._rewrite_memory,
            "anticipate": self._anticipate,
            "next_steps": self._next_steps,
            "warm_kv": self._warm_kv,
        }
        # Tasks that kept failing for a notebook state: at temperature 0 the same prompt gives
        # the same unreadable answer, so retrying them forever only burns the CPU.
        self.given_up: dict[str, set[tuple[str, int]]] = {}
        self._warmed: dict[str, tuple[int, int]] = {}

    # -- the view the model may see -------------------------------------------------------------
    def policy(self, notebook: str) -> Policy:
        return self.scope.policy(notebook)

    def view(self, notebook: str) -> list[Execution]:
        return self.scope.view(notebook)

    # -- planning ---------------------------------------------------------------------------------
    def plan(self, notebook: str) -> list[Task]:
        if not self.policy(notebook).enabled:
            return []
        view = self.view(notebook)
        if not view:
            return []
        version = self.store.state_version(notebook)
        tasks: list[Task] = []
        facts = self.store.insight(notebook, "facts")
        if facts is None or facts[1] < version:
            tasks.append(Task("compute_facts"))

        failing = [ex for ex in view if ex.status == "error"]
        if failing and self.store.diagnosis(failing[-1].cell_hash()) is None:
            tasks.append(Task("diagnose_error", [failing[-1]]))

        noted = self.store.cell_notes(ex.cell_hash() for ex in view)
        unexplained = [ex for ex in view if ex.cell_hash() not in noted]
        batch: list[Execution] = []
        size = 0
        for ex in unexplained:
            cost = approx_tokens(render_executions([ex], output_cap=600))
            if batch and size + cost > EXPLAIN_BATCH_TOKENS:
                tasks.append(Task("explain_cells", batch))
                batch, size = [], 0
            batch.append(ex)
            size += cost
        if batch:
            tasks.append(Task("explain_cells", batch))

        memory = self.store.memory(notebook)
        if memory is None or memory["state_version"] < version:
            tasks.append(Task("rewrite_memory"))
        for task_name, kind in (("anticipate", "anticipated"), ("next_steps", "next_steps")):
            if self.anticipate_k <= 0 and task_name == "anticipate":
                continue
            saved = self.store.insight(notebook, kind)
            if saved is None or saved[1] < version:
                tasks.append(Task(task_name))
        given_up = self.given_up.get(notebook, set())
        tasks = [t for t in tasks if (t.name, version) not in given_up]
        if self.warm is not None and (
            tasks or self._warmed.get(notebook) != self._warm_key(notebook)
        ):
            tasks.append(Task("warm_kv"))
        tasks.sort(key=lambda t: t.priority)
        return tasks

    def give_up(self, notebook: str, task: str) -> None:
        """Stop planning `task` until the notebook changes again."""
        version = self.store.state_version(notebook)
        self.given_up.setdefault(notebook, set()).add((task, version))

    def _warm_key(self, notebook: str) -> tuple[int, int]:
        memory = self.store.memory(notebook)
        return (self.store.state_version(notebook), memory["version"] if memory else 0)

    # -- running ----------------------------------------------------------------------------------
    async def run(self, notebook: str, task: Task) -> None:
        await self.handlers[task.name](notebook, task)

    async def _call(self, notebook: str, task: str, user: str, max_tokens: int) -> str:
        messages = [
            {"role": "system", "content": prompts.system()},
            {"role": "user", "content": user},
        ]
        result = await self.client.complete(
            messages, kind="sleep", task=task, notebook=notebook, max_tokens=max_tokens
        )
        return result.text

    async def _call_parsed(
        self, notebook: str, task: str, user: str, max_tokens: int, parse: Callable[[str], Any]
    ) -> Any:
        """Call and parse; an unreadable answer gets one repair round with the answer shown
        back (a different prompt, so a deterministic model can answer differently)."""
        text = await self._call(notebook, task, user, max_tokens)
        parsed = parse(text)
        if parsed:
            return parsed
        messages = [
            {"role": "system", "content": prompts.system()},
            {"role": "user", "content": user},
            {"role": "assistant", "content": text},
            {"role": "user", "content": prompts.render("repair")},
        ]
        result = await self.client.complete(
            messages, kind="sleep", task=task, notebook=notebook, max_tokens=max_tokens
        )
        return parse(result.text)

    async def _compute_facts(self, notebook: str, task: Task) -> None:
        facts = self.scope.facts(notebook)
        version = self.store.state_version(notebook)
        self.store.save_insight(notebook, "facts", facts.to_public(), version)

    async def _diagnose_error(self, notebook: str, task: Task) -> None:
        failing = task.cells[0]
        view = self.view(notebook)
        asked = words(failing.source)
        context = [ex for ex in view if ex.id != failing.id and asked & words(ex.source)][-3:]
        card = self.scope.facts(notebook).card_for(failing.execution_count)
        user = prompts.render(
            "diagnose_error",
            label=label(failing),
            card=card.render() if card else "(none)",
            digest=render_digest(
                self.scope.digest(notebook), 1500, prefer=identifiers(failing.source)
            ),
            context=render_executions(context, output_cap=500) or "(no related cells)",
            failing=render_executions([failing], output_cap=2500),
        )
        if self.shared is not None:  # another user of the scope had this very prompt
            reused = await self.shared.diagnosis(notebook, failing, user)
            if reused is not None:
                self.store.save_diagnosis(failing.cell_hash(), reused, shared=True)
                return
        diagnosis = None
        try:
            diagnosis = await self._call_parsed(
                notebook, "diagnose_error", user, 400, parsing.parse_diagnosis
            )
        finally:
            if self.shared is not None:  # offered, or the claim released for others
                self.shared.offer_diagnosis(notebook, failing, user, diagnosis)
        if diagnosis is None:
            raise ThinkError("the model returned no usable diagnosis")
        self.store.save_diagnosis(failing.cell_hash(), diagnosis)

    async def _explain_cells(self, notebook: str, task: Task) -> None:
        pending = {
            ex.execution_count if ex.execution_count is not None else ex.id: ex for ex in task.cells
        }
        if self.shared is not None:  # cells another user of the scope had explained
            reused = await self.shared.explanations(notebook, task.cells)
            self.store.save_cell_notes(reused, shared=True)
            pending = {k: ex for k, ex in pending.items() if ex.cell_hash() not in reused}
            if not pending:
                return
        own = list(pending.values())
        notes: dict[str, str] = {}
        try:
            await self._explain(notebook, pending, notes)
        finally:
            if self.shared is not None:  # offered, or the claims released for others
                self.shared.offer_explanations(notebook, own, notes)
        if not notes:
            raise ThinkError("the model's explanations could not be read")
        self.store.save_cell_notes(notes)

    async def _explain(
        self, notebook: str, pending: dict[int, Execution], notes: dict[str, str]
    ) -> None:
        """Explanations of the pending cells into `notes`, by cell hash."""
        for attempt in range(2):  # one repair round for cells the model skipped
            batch = list(pending.values())
            example = "\n".join(f"{label(ex)} <explanation>" for ex in batch[:2])
            user = prompts.render(
                "explain_cells",
                format_example=example,
                cells=render_executions(batch, output_cap=600),
            )
            text = await self._call(notebook, "explain_cells", user, 70 * len(batch) + 40)
            parsed = parsing.parse_labelled(text, set(pending))
            for key, explanation in parsed.items():
                notes[pending.pop(key).cell_hash()] = explanation
            if not pending or attempt == 1:
                break

    async def _rewrite_memory(self, notebook: str, task: Task) -> None:
        view = self.view(notebook)
        version = self.store.state_version(notebook)
        previous = self.store.memory(notebook)
        # Narrative only: short, and shorter for small notebooks (numbers live in the facts).
        max_words = max(
            MEMORY_MIN_WORDS,
            min(
                self.memory_tokens * 3 // 4,
                MEMORY_MAX_WORDS,
                approx_tokens(render_executions(view)) // 15,
            ),
        )
        digest = self.scope.digest(notebook)
        if previous:
            delta = [ex for ex in view if ex.id > previous["covered"]]
            mode = (
                "Update the previous memory with the changed cells below: keep what is still "
                "true, correct what they change, drop what they overwrite."
            )
            digest_text = render_digest(digest, 1200, prefer=_names(delta))
            memory_text = previous["text"]
        else:
            delta = view
            mode = "Write the memory from the whole notebook below."
            digest_text = render_digest(digest, 2500)
            memory_text = "(none yet)"
        user = prompts.render(
            "rewrite_memory",
            mode=mode,
            max_words=max_words,
            memory=memory_text,
            digest=digest_text,
            markdown=markdown_gists(self.scope.document(notebook)) or "(none)",
            cells=render_executions(delta, output_cap=MEMORY_OUTPUT_CAP) or "(no changed cells)",
        )
        memory = await self._call_parsed(
            notebook,
            "rewrite_memory",
            user,
            max_words * 2 + 40,
            lambda text: parsing.parse_memory(text, self.memory_tokens * 4),
        )
        if memory is None:
            raise ThinkError("the model returned no usable memory")
        memory = drop_echoes(memory, prompts.render("rewrite_memory", mode="", max_words=""))
        memory, dropped = check_memory(memory, self.scope.facts(notebook))
        if dropped:
            log.info("sleeptime: memory lines the facts contradict were dropped: %s", dropped)
        if not memory:
            raise ThinkError("the memory contradicted the notebook's facts")
        self.store.save_memory(notebook, memory, version, covered=max(ex.id for ex in view))

    def _delta_since(self, notebook: str, kind: str) -> tuple[list[dict], list[Execution] | None]:
        """Previous items and the cells changed since, or (items, None) when too much changed."""
        saved = self.store.insight(notebook, kind)
        if not saved or not isinstance(saved[0], dict) or not saved[0].get("items"):
            return [], None
        data = saved[0]
        delta = [ex for ex in self.view(notebook) if ex.id > data.get("covered", 0)]
        if len(delta) > REVISE_MAX_CELLS:
            return data["items"], None
        return data["items"], delta

    async def _anticipate(self, notebook: str, task: Task) -> None:
        view = self.view(notebook)
        version = self.store.state_version(notebook)
        digest = self.scope.digest(notebook)
        previous, delta = self._delta_since(notebook, "anticipated")
        if delta is not None:
            user = prompts.render(
                "anticipate_revise",
                k=self.anticipate_k,
                previous="\n".join(f"Q: {p['question']}\nA: {p['answer']}" for p in previous),
                digest=render_digest(digest, 800, prefer=_names(delta)),
                cells=render_executions(delta, output_cap=800) or "(no changed cells)",
            )
        else:
            memory = self.store.memory(notebook)
            user = prompts.render(
                "anticipate",
                k=self.anticipate_k,
                memory=memory["text"] if memory else "(none)",
                digest=render_digest(digest, 2000),
                cells=render_executions(view[-RECENT_CELLS:], output_cap=800),
            )
        pairs = await self._call_parsed(
            notebook,
            "anticipate",
            user,
            110 * self.anticipate_k + 60,
            lambda text: parsing.parse_qa(text, self.anticipate_k),
        )
        if not pairs:
            raise ThinkError("the model's anticipated questions could not be read")
        items = [{**p, "norm": parsing.normalise_question(p["question"])} for p in pairs]
        covered = max(ex.id for ex in view)
        self.store.save_insight(
            notebook, "anticipated", {"items": items, "covered": covered}, version
        )

    async def _next_steps(self, notebook: str, task: Task) -> None:
        view = self.view(notebook)
        version = self.store.state_version(notebook)
        previous, delta = self._delta_since(notebook, "next_steps")
        if delta is not None:
            user = prompts.render(
                "next_steps_revise",
                previous="\n\n".join(
                    f"### {p['title']}\n```python\n{p['code']}\n```" for p in previous
                ),
                cells=render_executions(delta, output_cap=500) or "(no changed cells)",
            )
        else:
            memory = self.store.memory(notebook)
            user = prompts.render(
                "next_steps",
                memory=memory["text"] if memory else "(none)",
                digest=render_digest(self.scope.digest(notebook), 1200),
                cells=render_executions(view[-RECENT_CELLS:], output_cap=500),
            )
        steps = await self._call_parsed(
            notebook, "next_steps", user, 450, lambda text: parsing.parse_steps(text, 3)
        )
        if not steps:
            raise ThinkError("the model's next steps could not be read")
        kept, dropped = await self.runnable_steps(notebook, steps)
        if not kept:  # one more try, told why the first ones would fail
            retry = (
                user
                + "\n\n"
                + prompts.render(
                    "next_steps_retry",
                    problems="\n".join(f"- {d['title']}: {d['reason']}" for d in dropped),
                )
            )
            again = await self._call_parsed(
                notebook, "next_steps", retry, 450, lambda text: parsing.parse_steps(text, 3)
            )
            kept, more = await self.runnable_steps(notebook, again or [])
            dropped += more
        if dropped:
            log.info("sleeptime: next steps that would not run were dropped: %s", dropped)
        covered = max(ex.id for ex in view)
        self.store.save_insight(
            notebook,
            "next_steps",
            {"items": kept, "covered": covered, "dropped": dropped},
            version,
        )

    async def runnable_steps(
        self, notebook: str, steps: list[dict[str, str]]
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """(kept, dropped with the reason): a step is kept when it would run if inserted now
        (`facts/snippets.py`). Modules are checked by the kernel; when it cannot be asked,
        only modules the notebook itself imported count as importable."""
        facts = self.scope.facts(notebook)
        digest = self.scope.digest(notebook)
        defined = {n for n, f in facts.names.items() if f.defined}
        defined |= {str(v.get("name")) for v in (digest.variables if digest else [])}
        modules = sorted({m for step in steps for m in imported_modules(step["code"])})
        answer = await self.importable(notebook, modules) if modules and self.importable else None
        if answer is None:
            imported = {
                _top(f.last.effect.text) for f in facts.names.values() if f.module and f.last
            }
            answer = {m: m in imported or m in defined for m in modules}
        kept, dropped = [], []
        for step in steps:
            verdict = check_snippet(step["code"], defined, answer)
            if verdict.ok:
                kept.append(step)
            else:
                dropped.append({"title": step["title"], "reason": verdict.reason})
        return kept, dropped

    async def _warm_kv(self, notebook: str, task: Task) -> None:
        if self.warm is None:
            return
        await self.warm(notebook)
        self._warmed[notebook] = self._warm_key(notebook)


def _top(import_line: str) -> str:
    """`sklearn` for `from sklearn.svm import SVC` or `import sklearn.svm as s`."""
    words_ = import_line.replace(",", " ").split()
    return words_[1].split(".")[0] if len(words_) > 1 else ""


def _names(executions: list[Execution]) -> set[str]:
    found: set[str] = set()
    for ex in executions:
        found |= identifiers(ex.source)
    return found


__all__ = ["ModelError", "Policy", "Task", "ThinkError", "Thinker"]
