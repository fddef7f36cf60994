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

from ..state.records import Digest, Execution
from .defuse import CellAnalysis, Effect, FitCall, analyse, line_names

MAX_USES = 3
USE_RESULT_CHARS = 80
MAX_HISTORY = 4
VALUE_CHARS = 500
MAX_SHOWN = 6  # printed values kept per name
SHOWN_CHARS = 160
FIT_COLUMNS = 30


@dataclass
class Binding:
    """One time a name was set (or changed in place) by an execution."""

    execution_id: int
    execution_count: int | None
    effect: Effect
    value: str | None = None  # what it held after this execution, when observed
    observed: str = ""  # digest | output | literal | ""
    var: dict[str, Any] | None = None  # the digest's record of it right after this execution

    @property
    def where(self) -> str:
        return f"[{self.execution_count}]" if self.execution_count is not None else "a cell"


@dataclass
class FitRecord:
    """What an estimator was fitted on: the call, the cell, and each data argument with the
    version of its name in force then (shapes and columns come from the digest after it)."""

    call: FitCall
    execution_id: int
    execution_count: int | None
    args: list[tuple[str, Binding | None]]  # (argument text, version of its name)

    def to_public(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "method": self.call.method,
            "call": self.call.text,
            "args": [_arg_public(text, version) for text, version in self.args],
        }


@dataclass
class Printed:
    """One value a cell printed or displayed, with the version of each name it read."""

    execution_id: int
    execution_count: int | None
    expression: str
    output: str
    versions: dict[str, Binding]  # name -> the binding or change in force when it ran

    def to_public(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "expression": self.expression,
            "output": self.output,
            "versions": {
                name: {"execution_count": b.execution_count, "source": b.effect.text}
                for name, b in self.versions.items()
            },
        }


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
    events: list[Binding] = field(default_factory=list)  # every bind and change, oldest first
    fit: FitRecord | None = None  # the newest fit of the current object
    printed: list[Printed] = field(default_factory=list)  # values cells showed, oldest first
    var: dict[str, Any] | None = None  # the newest digest's record

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

    def type_history(self) -> list[dict[str, Any]]:
        """The type after each bind or change where it differs from the one before (a name
        reassigned from a DataFrame to an array to a sparse matrix)."""
        out: list[dict[str, Any]] = []
        for event in self.events:
            kind = _var_type(event.var)
            if event is self.events[-1] and kind is None:
                kind = _var_type(self.var)
            if kind is None or (out and out[-1]["type"] == kind):
                continue
            out.append(
                {
                    "execution_count": event.execution_count,
                    "type": kind,
                    "source": event.effect.text,
                }
            )
        return out

    def shape_history(self) -> list[dict[str, Any]]:
        """The shape (or length) after each bind or change that altered it, oldest first."""
        out: list[dict[str, Any]] = []
        for event in self.events:
            size = size_of(event.var)
            if event is self.events[-1] and size is None:
                size = size_of(self.var)
            if size is None or (out and out[-1]["shape"] == size):
                continue
            out.append(
                {
                    "execution_count": event.execution_count,
                    "shape": size,
                    "source": event.effect.text,
                    "missing": (event.var or {}).get("missing"),
                }
            )
        return out


def size_of(var: dict[str, Any] | None) -> list[int] | None:
    """[rows, cols] (or [len]) from a digest record."""
    if not var:
        return None
    if isinstance(var.get("shape"), list):
        return [int(n) for n in var["shape"]]
    if isinstance(var.get("len"), int):
        return [int(var["len"])]
    return None


def _var_type(var: dict[str, Any] | None) -> str | None:
    return str(var["type"]) if var and var.get("type") else None


def _arg_public(text: str, version: Binding | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"arg": text}
    var = version.var if version is not None else None
    if version is not None:
        entry["set_in"] = version.execution_count
        entry["source"] = version.effect.text
    if var:
        entry["type"] = var.get("type")
        if size_of(var) is not None:
            entry["shape"] = size_of(var)
        columns = [str(c.get("name")) for c in var.get("columns") or []]
        if columns:
            entry["columns"] = columns[:FIT_COLUMNS]
    return entry


def failing_line(ex: Execution) -> int | None:
    """The line of the cell that raised, from the traceback ipykernel sends."""
    error = ex.error
    if error is None:
        return None
    trace = _ANSI.sub("", "\n".join(error.traceback or []))
    frames = list(_CELL_FRAME.finditer(trace))
    own = [m for m in frames if m.group("count") and int(m.group("count")) == ex.execution_count]
    chosen = (own or frames)[0] if own or frames else None
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
            fact.events.append(binding)
            if effect.binds:
                fact.bindings.append(binding)
                fact.changes = []
                fact.uses = []
                fact.defined = True
                fact.removed = None
                fact.fit = None
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
        _record_fits(ex, analysis, facts)
        _record_printed(ex, analysis, facts)
    _join_digests(facts, digests, current)
    return facts


def version_at(fact: NameFact, execution_id: int, line: int) -> Binding | None:
    """The bind or change of `fact` in force at a line of an execution."""
    found = None
    for event in fact.events:
        if event.execution_id < execution_id or (
            event.execution_id == execution_id and event.effect.line < line
        ):
            found = event
    return found


def _record_fits(ex: Execution, analysis: CellAnalysis, facts: dict[str, NameFact]) -> None:
    failed_at = (failing_line(ex) or 0) if ex.status == "error" else None
    for call in analysis.fits:
        if failed_at is not None and call.line >= failed_at:
            continue  # the cell failed before this call, or in it
        fact = facts.get(call.estimator)
        if fact is None or fact.last is None:
            continue
        last = fact.last
        if last.execution_id == ex.id and last.effect.line > call.line:
            continue  # bound again after the fit, in the same cell
        args: list[tuple[str, Binding | None]] = []
        for text in call.args:
            base = next(iter(line_names(text)), None)
            arg_fact = facts.get(base) if base else None
            version = version_at(arg_fact, ex.id, call.line) if arg_fact else None
            args.append((text, version))
        fact.fit = FitRecord(call, ex.id, ex.execution_count, args)


def _record_printed(ex: Execution, analysis: CellAnalysis, facts: dict[str, NameFact]) -> None:
    """Tie what the cell printed to the statement that printed it and to the version of
    each name that statement read (`print(pca.explained_variance_ratio_)` before and after
    `pca` was fitted again). Prints are paired with stdout lines only when that is
    unambiguous: one print, or one line per print."""
    if ex.status == "error":
        return
    stdout = "".join(o.text for o in ex.outputs if o.output_type == "stream" and o.name == "stdout")
    lines = [ln.strip() for ln in stdout.strip().splitlines() if ln.strip()]
    result = next((o.text for o in ex.outputs if o.output_type == "execute_result"), None)
    prints = [s for s in analysis.shown if s.kind == "print"]
    pairs = []
    if len(prints) == 1 and lines:
        pairs.append((prints[0], " / ".join(lines[:4])))
    elif prints and len(prints) == len(lines):
        pairs.extend(zip(prints, lines, strict=True))
    for shown in analysis.shown:
        if shown.kind == "result" and result and result.strip():
            pairs.append((shown, " / ".join(result.strip().splitlines()[:4])))
    for shown, output in pairs:
        versions = {}
        for name in shown.names:
            fact = facts.get(name)
            version = version_at(fact, ex.id, shown.line) if fact and not fact.module else None
            if version is not None:
                versions[name] = version
        entry = Printed(ex.id, ex.execution_count, shown.text, _clip(output, SHOWN_CHARS), versions)
        for name in versions:
            fact = facts[name]
            fact.printed = [
                p for p in fact.printed if p.execution_id != ex.id or p.expression != shown.text
            ]
            fact.printed.append(entry)
            del fact.printed[:-MAX_SHOWN]


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
    _join_events(facts, ordered)
    if current is None:
        return
    newest_after = ordered[-1][0] if ordered else 0
    variables = {v.get("name"): v for v in current.variables}
    complete = not current.truncated
    for fact in facts.values():
        var = variables.get(fact.name)
        fact.var = var
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


def _join_events(facts: dict[str, NameFact], ordered: list[tuple[int, Digest]]) -> None:
    """Each bind or change gets the digest record of the first digest taken after its
    execution and before the name's next event (the state it left)."""
    tables = [(after, {v.get("name"): v for v in digest.variables}) for after, digest in ordered]
    for fact in facts.values():
        events = fact.events
        for position, event in enumerate(events):
            following = events[position + 1] if position + 1 < len(events) else None
            if following is not None and following.execution_id == event.execution_id:
                continue  # a later event of the same cell: the digest shows that one
            until = following.execution_id if following is not None else None
            for after, table in tables:
                if after >= event.execution_id and (until is None or after < until):
                    event.var = table.get(fact.name)
                    break


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
