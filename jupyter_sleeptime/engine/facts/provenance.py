"""Where each name was set, what it holds now, what it held before, and whether it still
exists: the executions' def-use effects (`defuse`) folded in execution order, joined with
the kernel digests taken between executions.

Values come from four places, best first: a digest taken after the binding and before
the next one; the cell's own displayed value (`x` as the last line, `print(x)`); a literal
assignment (`n = 200`); otherwise the value was not observed (the cells ran back to back,
as in Run All, and only the state after the last one was read) and the fact says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..records import Digest, Execution
from .defuse import CellAnalysis, Effect, analyse

MAX_USES = 3
USE_RESULT_CHARS = 80
MAX_HISTORY = 4
VALUE_CHARS = 500


@dataclass
class Binding:
    """One time a name was set (or changed in place) by an execution."""

    execution_id: int
    execution_count: int | None
    effect: Effect
    value: str | None = None  # what it held after this execution, when observed
    observed: str = ""  # digest | output | literal | ""


@dataclass
class NameFact:
    name: str
    bindings: list[Binding] = field(default_factory=list)  # binds, oldest first
    changes: list[Binding] = field(default_factory=list)  # in-place changes after the last bind
    uses: list[tuple[int | None, str]] = field(default_factory=list)  # later reads (count, line)
    type: str | None = None
    summary: str | None = None  # the current value, from the newest digest
    defined: bool = True
    removed: str | None = None  # how it went away, when it did
    digest_stale: bool = False  # the newest digest predates the last change
    module: bool = False  # imported module or a name imported from one

    @property
    def last(self) -> Binding | None:
        return self.bindings[-1] if self.bindings else None

    @property
    def set_in(self) -> int | None:
        return self.last.execution_count if self.last else None

    @property
    def line(self) -> int | None:
        return self.last.effect.line if self.last else None

    def history(self) -> list[dict[str, Any]]:
        """Earlier values, oldest first: what it held after each earlier binding."""
        out = []
        for binding in self.bindings[:-1][-MAX_HISTORY:]:
            out.append(
                {
                    "execution_count": binding.execution_count,
                    "summary": binding.value or "value not observed",
                    "source": binding.effect.text,
                }
            )
        return out


def failing_line(ex: Execution) -> int | None:
    """The line of the cell that raised, from the traceback ipykernel sends."""
    error = ex.error
    if error is None:
        return None
    trace = _ANSI.sub("", "\n".join(error.traceback or []))
    frames = list(_CELL_FRAME.finditer(trace))
    own = [m for m in frames if m.group("count") and int(m.group("count")) == ex.execution_count]
    chosen = (own or frames or [None])[0]
    if chosen is not None:
        return int(chosen.group("line"))
    arrow = _ARROW.search(trace)
    return int(arrow.group(1)) if arrow else None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(
    r"(?:Cell In\s*\[(?P<count>\d*)\],\s*line (?P<line>\d+))"
    r"|(?:Input In \[(?P<count2>\d*)\].*?line:?\s*(?P<line2>\d+))"
)
_ARROW = re.compile(r"^-+>\s*(\d+)", re.M)


def applied_effects(ex: Execution, analysis: CellAnalysis) -> list[Effect]:
    """The effects that really ran: all of them, or those before the failing statement."""
    if ex.status != "error":
        return list(analysis.effects)
    line = failing_line(ex)
    if line is None:
        return []
    return [e for e in analysis.effects if e.end_line < line]


def build_names(
    executions: list[Execution],
    digests: list[tuple[int, Digest]],
    current: Digest | None,
) -> dict[str, NameFact]:
    """Fold the executions (complete, in execution order) into one fact per name."""
    facts: dict[str, NameFact] = {}
    for ex in executions:
        analysis = analyse(ex.source)
        effects = applied_effects(ex, analysis)
        for effect in effects:
            fact = facts.setdefault(effect.name, NameFact(effect.name))
            binding = Binding(ex.id, ex.execution_count, effect)
            if effect.binds:
                fact.bindings.append(binding)
                fact.changes = []
                fact.uses = []
                fact.defined = True
                fact.removed = None
                fact.module = effect.kind == "import"
                if effect.literal is not None and not effect.loop:
                    binding.value, binding.observed = effect.literal, "literal"
            elif effect.kind == "delete":
                fact.defined = False
                fact.removed = f"deleted by `{effect.text}` in {_label(ex)}"
                fact.changes.append(binding)
            elif effect.kind == "unbind":
                fact.defined = False
                fact.removed = (
                    f"the `{effect.text.rstrip(':')}:` handler in {_label(ex)} ran, and Python "
                    f"removes `{effect.name}` when such a handler ends: using `{effect.name}` "
                    "now raises NameError"
                )
                fact.changes.append(binding)
            else:  # augment / mutate: the value changed in place
                if not fact.bindings:
                    fact.bindings.append(binding)  # first seen changed: set before we watched
                else:
                    fact.changes.append(binding)
        _observe_outputs(ex, analysis, effects, facts)
        _record_uses(ex, analysis, facts)
    _join_digests(facts, digests, current)
    return facts


def _record_uses(ex: Execution, analysis: CellAnalysis, facts: dict[str, NameFact]) -> None:
    """Lines that read a name after its last binding (`cross_val_score(clf, …)` after
    `clf = …`): what the notebook did with the value since it was set."""
    result = next((o.text for o in ex.outputs if o.output_type == "execute_result"), None)
    first, last = analysis.last_lines
    for name, lines in analysis.reads.items():
        fact = facts.get(name)
        if fact is None or fact.module or fact.last is None:
            continue
        since = fact.last.effect.line if fact.last.execution_id == ex.id else 0
        for line in lines:
            text = analysis.line(line)
            if result and first <= line <= last:  # `statistic(x, y)` as the last line: its value
                text += " → " + _clip(result.strip().splitlines()[0], USE_RESULT_CHARS)
            entry = (ex.execution_count, text)
            if line > since and text and entry not in fact.uses and len(fact.uses) < MAX_USES:
                fact.uses.append(entry)


def _observe_outputs(
    ex: Execution, analysis: CellAnalysis, effects: list[Effect], facts: dict[str, NameFact]
) -> None:
    """A cell that displays a name (`x` as its last line) or prints exactly one value shows
    what the name held after that cell."""
    shown = analysis.last_expression
    result = next((o.text for o in ex.outputs if o.output_type == "execute_result"), None)
    if shown and result and shown in facts:
        _set_value(facts[shown], ex.id, result.strip(), "output")
    stdout = "".join(o.text for o in ex.outputs if o.output_type == "stream" and o.name == "stdout")
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    printed = _PRINT_ONE.findall(ex.source)
    in_loop = any(e.loop for e in effects if printed and e.name == printed[0])
    if len(lines) == 1 and len(printed) == 1 and printed[0] in facts and not in_loop:
        _set_value(facts[printed[0]], ex.id, lines[0].strip(), "output")


# print(x), print('label', x), print('… {0}'.format(x)), print(f'… {x}')
_PRINT_ONE = re.compile(
    r"^\s*print\((?:[^()\n]*?(?:,\s*|\.format\(|\{))?([A-Za-z_]\w*)\s*[)}]", re.M
)


def _set_value(fact: NameFact, execution_id: int, value: str, how: str) -> None:
    """Attach an observed value to the binding in force at `execution_id`."""
    binding = None
    for candidate in fact.bindings:
        if candidate.execution_id <= execution_id:
            binding = candidate
    if binding is None or binding.observed == "digest":
        return
    binding.value, binding.observed = _clip(value), how


def _join_digests(
    facts: dict[str, NameFact], digests: list[tuple[int, Digest]], current: Digest | None
) -> None:
    ordered = sorted(digests, key=lambda item: item[0])
    for after, digest in ordered:
        variables = {v.get("name"): v for v in digest.variables}
        for fact in facts.values():
            binding = _in_force(fact, after)
            var = variables.get(fact.name)
            if binding is not None and var is not None:
                binding.value, binding.observed = _clip(_value_text(var)), "digest"
    if current is None:
        return
    newest_after = ordered[-1][0] if ordered else 0
    variables = {v.get("name"): v for v in current.variables}
    complete = not current.truncated
    for fact in facts.values():
        var = variables.get(fact.name)
        if var is not None:
            fact.type = str(var.get("type") or "") or None
            fact.summary = _clip(_value_text(var))
            fact.defined = True
            fact.removed = None
        elif complete and fact.defined and not fact.module:
            fact.defined = False
            fact.removed = "not in the kernel now (deleted, or the kernel restarted)"
        last_change = max(
            [b.execution_id for b in fact.bindings[-1:] + fact.changes[-1:]], default=0
        )
        fact.digest_stale = bool(ordered) and newest_after < last_change


def _in_force(fact: NameFact, after: int) -> Binding | None:
    """The binding whose value a digest taken after execution `after` shows, provided
    no later binding happened by then (a digest between two bindings)."""
    found = None
    for binding in fact.bindings:
        if binding.execution_id <= after:
            found = binding
    if found is None:
        return None
    later_changes = [c for c in fact.changes if found.execution_id < c.execution_id <= after]
    return None if later_changes else found


def _value_text(var: dict[str, Any]) -> str:
    summary = str(var.get("summary") or "")
    kind = str(var.get("type") or "")
    return f"{kind} = {summary}" if summary and summary != kind else kind


def _clip(text: str, limit: int = VALUE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(ex: Execution) -> str:
    return f"[{ex.execution_count}]" if ex.execution_count is not None else f"[#{ex.id}]"
