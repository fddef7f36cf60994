"""The fact sheet of a notebook: names with their provenance, error cards, what each cell
printed, and the document's markdown — computed without a model, in milliseconds, from
the executions, the digests and the document. Rendered as short text for prompts and
prepared answers, and as JSON for the REST API (`facts`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..state.document import Document
from ..state.notebook_text import render_outputs, strip_ansi
from ..state.records import Digest, Execution
from .errors import ErrorCard, build_card, probe_targets
from .provenance import Binding, NameFact, build_names, failing_line, size_of

WARNING = re.compile(r"\b(\w*Warning)\b:?\s*(.*)")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
MAX_ERRORS = 5
PRINTED_SHOWN = 3  # values printed from earlier versions of a name, in its facts text
PRINTED_CHARS = 120
USE_CHARS = 200


@dataclass
class CellOutputs:
    """What one execution printed, indexed: warnings, numbers, whether it showed a table."""

    execution_id: int
    execution_count: int | None
    warnings: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    table: bool = False

    def to_public(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "warnings": self.warnings,
            "numbers": self.numbers[:20],
            "table": self.table,
        }


@dataclass
class NotebookFacts:
    names: dict[str, NameFact]
    errors: list[ErrorCard]
    outputs: dict[int, CellOutputs]
    view: list[Execution]  # the current cells, in execution order
    document: Document
    digest: Digest | None
    between: bool  # a digest was read between executions (else only the final state)

    # -- lookups ----------------------------------------------------------------------------
    def card_for(self, execution_count: int | None = None) -> ErrorCard | None:
        """The error card of cell [n], or of the newest failure."""
        if execution_count is not None:
            return next((c for c in self.errors if c.execution_count == execution_count), None)
        return self.errors[-1] if self.errors else None

    def last_failed(self) -> bool:
        """Whether the newest execution is the one that failed (Run All stopped there)."""
        return bool(self.view and self.view[-1].status == "error")

    def result_type(self, ex: Execution) -> str | None:
        if self.digest is None or ex.execution_count is None:
            return None
        if not any(o.output_type == "execute_result" for o in ex.outputs):
            return None
        return self.digest.results.get(str(ex.execution_count))

    # -- text for prompts ---------------------------------------------------------------------
    def name_text(self, name: str) -> str:
        fact = self.names.get(name)
        if fact is None:
            return ""
        return render_name(fact, self.between)

    # -- REST ---------------------------------------------------------------------------------
    def to_public(self) -> dict[str, Any]:
        names = []
        for fact in sorted(self.names.values(), key=lambda f: f.name):
            if fact.module:
                continue
            names.append(
                {
                    "name": fact.name,
                    "set_in": fact.set_in,
                    "line": fact.line,
                    "source": fact.last.effect.text if fact.last else None,
                    "type": fact.type,
                    "summary": fact.summary,
                    "defined": fact.defined,
                    "removed": fact.removed,
                    "history": fact.history(),
                    "changed_in": [c.execution_count for c in fact.changes],
                    "type_history": fact.type_history(),
                    "shape_history": fact.shape_history(),
                    "fitted_on": fact.fit.to_public() if fact.fit else None,
                    "fitted": (fact.var or {}).get("fitted"),
                    "missing": (fact.var or {}).get("missing"),
                    "printed": [p.to_public() for p in fact.printed],
                }
            )
        return {
            "names": names,
            "errors": [card.to_public() for card in self.errors],
            "outputs": [o.to_public() for o in self.outputs.values() if o.warnings or o.table],
            "markdown_cells": len(self.document.markdown),
            "values_between_executions": self.between,
        }


def build_facts(
    executions: list[Execution],
    view: list[Execution],
    digest: Digest | None,
    digest_log: list[tuple[int, Digest]],
    document: Document,
) -> NotebookFacts:
    """`executions`: every complete execution of the current kernel session allowed by the
    notebook's policy, in order; `view`: the current cells (a re-run replaces its cell)."""
    names = build_names(executions, digest_log, digest)
    names = {n: f for n, f in names.items() if document.policy.allows_name(n)}
    afters = sorted({after for after, _ in digest_log})
    ids = [ex.id for ex in executions]
    between = any(after < ids[-1] for after in afters) if ids and afters else False
    errors: list[ErrorCard] = []
    for ex in [e for e in view if e.status == "error"][-MAX_ERRORS:]:
        snapshot = _digest_after(ex.id, digest_log) or digest
        card = build_card(ex, names, snapshot, ex.source.split("\n"))
        if card is not None:
            errors.append(card)
    outputs = {ex.id: _index_outputs(ex) for ex in view}
    return NotebookFacts(names, errors, outputs, view, document, digest, between)


def probe_requests(view: list[Execution]) -> list[str]:
    """Dotted names on the newest failing line, for the kernel probe."""
    failed = [ex for ex in view if ex.status == "error"]
    if not failed:
        return []
    ex = failed[-1]
    line = failing_line(ex)
    lines = ex.source.split("\n")
    if not line or not 0 < line <= len(lines):
        return []
    return probe_targets(lines[line - 1])


def _digest_after(execution_id: int, log: list[tuple[int, Digest]]) -> Digest | None:
    """The first digest taken after this execution and before any other."""
    for after, digest in log:
        if after == execution_id:
            return digest
    return None


def _index_outputs(ex: Execution) -> CellOutputs:
    entry = CellOutputs(ex.id, ex.execution_count)
    for out in ex.outputs:
        text = strip_ansi(out.text or "")
        if out.output_type == "stream" and out.name == "stderr":
            for match in WARNING.finditer(text):
                warning = f"{match.group(1)}: {match.group(2).strip()}"[:300]
                if warning not in entry.warnings:
                    entry.warnings.append(warning)
        if out.output_type in ("execute_result", "display_data") and _looks_like_table(text):
            entry.table = True
        if out.output_type != "error":
            entry.numbers.extend(NUMBER.findall(text)[:50])
    return entry


def _looks_like_table(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) >= 3 and sum(1 for ln in lines if len(ln.split()) >= 2) >= len(lines) - 1


# -- rendering ---------------------------------------------------------------------------------
def render_name(fact: NameFact, between: bool) -> str:
    """A few lines a small model can read without computing anything."""
    head = f"`{fact.name}`"
    if fact.defined and fact.summary:
        head += f" now: {fact.summary}"
        if fact.digest_stale:
            head += " (read before its last change)"
    elif not fact.defined:
        head += f": no longer defined — {fact.removed}"
    elif fact.last is not None and fact.last.observed in ("literal", "output"):
        head += f" = {fact.last.value} (as {'assigned' if fact.last.observed == 'literal' else 'shown'}; not read from the kernel yet)"
    else:
        head += ": its value was not read from the kernel yet"
    lines = [head]
    last = fact.last
    if last is not None:
        how = _how(last.effect.kind)
        where = f"[{last.execution_count}]" if last.execution_count is not None else "a cell"
        text = f"{how} in {where}, line {last.effect.line}: `{last.effect.text}`"
        if last.effect.loop and last.effect.kind != "loop":
            text += (
                f", inside the loop `{last.effect.loop}`: it holds the value from the loop's "
                "last iteration"
            )
        elif last.effect.kind == "loop":
            text += ": it holds the loop's last item"
        if last.effect.conditional and last.effect.kind == "except":
            text += " (only when that exception happened)"
        lines.append("  " + text)
    for change in fact.changes[-2:]:
        where = f"[{change.execution_count}]" if change.execution_count is not None else "a cell"
        verb = {"delete": "deleted", "unbind": "removed"}.get(change.effect.kind, "changed")
        lines.append(f"  then {verb} in {where}: `{change.effect.text}`")
    earlier = _earlier(fact)
    if earlier:
        lines.append("  before that: " + "; ".join(earlier))
    shown = [b for b in fact.bindings[:-1] if b.observed == "output" and b.value]
    if (
        shown
        and fact.defined
        and fact.last is not None
        and fact.last.execution_id != shown[-1].execution_id
    ):
        where = (
            f"[{shown[-1].execution_count}]" if shown[-1].execution_count is not None else "a cell"
        )
        lines.append(
            f"  note: what {where} showed ({(shown[-1].value or '')[:80]}) is an earlier value; "
            f"`{fact.name}` was set again after it"
        )
    elif len(fact.bindings) > 1 and not between:
        lines.append("  (earlier values were not read: the cells ran back to back)")
    lines.extend(ml_lines(fact))
    if fact.uses:
        uses = "; ".join(
            f"[{c}] `{t[:USE_CHARS]}`" if c is not None else f"`{t[:USE_CHARS]}`"
            for c, t in fact.uses
        )
        lines.append(f"  used after that by: {uses}")
    return "\n".join(lines)


def ml_lines(fact: NameFact) -> list[str]:
    """What fitted it, its fitted attributes, missing values, type history and the values
    cells printed from it — each printed value tied to the version of the name it read."""
    lines = []
    if fact.fit is not None:
        lines.append(f"  fitted on: {fit_text(fact)}")
    fitted = (fact.var or {}).get("fitted") or {}
    if fitted:
        lines.append("  fitted attributes: " + fitted_text(fitted))
    missing = (fact.var or {}).get("missing")
    if isinstance(missing, dict) and missing:
        rows = (size_of(fact.var) or [0])[0]
        lines.append("  missing values now: " + missing_text(missing, rows))
    elif isinstance(missing, int) and not isinstance(missing, bool):
        lines.append(f"  missing values now: {missing}")
    types = fact.type_history()
    if len(types) > 1:
        lines.append(
            "  type history: "
            + " → ".join(f"[{t['execution_count']}] {t['type']} (`{t['source']}`)" for t in types)
        )
    shown_versions = [p.versions.get(fact.name) for p in fact.printed]
    if all(v is None or _is_current(fact, v) for v in shown_versions):
        return lines  # every printed value is of the current version: the value above says it
    for shown in fact.printed[-PRINTED_SHOWN:]:
        version = shown.versions.get(fact.name)
        if version is None:
            continue
        current = _is_current(fact, version)
        state = (
            "the current version"
            if current
            else f"an earlier version: `{fact.name}` was set or changed again after it"
        )
        lines.append(
            f"  [{shown.execution_count}] `{shown.expression}` printed "
            f"{shown.output[:PRINTED_CHARS]} — "
            f"with `{fact.name}` as in {version.where} `{version.effect.text}` ({state})"
        )
    return lines


def _is_current(fact: NameFact, version: Binding) -> bool:
    return bool(fact.events) and fact.events[-1] is version


def fit_text(fact: NameFact) -> str:
    fit = fact.fit
    if fit is None:
        return ""
    where = f"[{fit.execution_count}]" if fit.execution_count is not None else "a cell"
    args = []
    for text, version in fit.args:
        size = size_of(version.var) if version is not None else None
        described = f"`{text}`"
        if version is not None and version.var:
            kind = str(version.var.get("type") or "").rsplit(".", 1)[-1]
            described += f" ({kind}" + (f", shape {tuple(size)}" if size else "") + ")"
        args.append(described)
    return f"{', '.join(args) or 'no data arguments'} by `{fit.call.text}` in {where}"


def fitted_text(fitted: dict[str, Any]) -> str:
    parts: list[str] = []
    for key, value in fitted.items():
        if key == "steps" and isinstance(value, dict):
            parts.extend(f"step {step}: {fitted_text(inner)}" for step, inner in value.items())
        elif key == "vocabulary_":
            parts.append(f"vocabulary_ (get_feature_names_out(), {len(value)} terms)={value}")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)


def missing_text(missing: dict[str, int], rows: int) -> str:
    return ", ".join(
        f"{column}={count}" + (f" (all {rows} rows)" if rows and count == rows else "")
        for column, count in list(missing.items())[:12]
    )


def _how(kind: str) -> str:
    return {
        "assign": "set",
        "loop": "set as a loop variable",
        "with": "set by `with`",
        "import": "imported",
        "def": "defined (def)",
        "class": "defined (class)",
        "except": "set by an exception handler",
        "augment": "changed",
        "mutate": "changed",
    }.get(kind, "set")


def _earlier(fact: NameFact) -> list[str]:
    """Earlier bindings, newest first, merging repeats of the same line."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for binding in reversed(fact.bindings[:-1]):
        text = binding.effect.text
        where = f"[{binding.execution_count}]" if binding.execution_count is not None else "a cell"
        if text in seen and not binding.value:
            continue
        value = f" → {binding.value}" if binding.value else ""
        seen[text] = len(out)
        out.append(f"{where} `{text}`{value}")
        if len(out) >= 3:
            break
    return out


def executed_sources(executions: list[Execution]) -> set[str]:
    return {ex.source.strip() for ex in executions}


def cell_text(
    ex: Execution, output_cap: int, result_type: str | None = None, markdown: str = ""
) -> str:
    """A cell with its outputs for the prompt: the markdown right above it, and the type of
    its displayed result when the digest read it ("Out [17] (pandas.Series, len 1)")."""
    label = f"[{ex.execution_count}]" if ex.execution_count is not None else f"[#{ex.id}]"
    status = " (error)" if ex.status == "error" else ""
    text = f"Markdown above {label}:\n{markdown}\n" if markdown else ""
    text += f"In {label}{status}:\n{ex.source.rstrip()[:3000]}"
    outputs = render_outputs(ex, output_cap)
    if outputs:
        kind = f" ({result_type})" if result_type else ""
        text += f"\nOut {label}{kind}:\n{outputs}"
    return text
