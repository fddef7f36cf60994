"""How the notebook is shown to a model: the current view of executions, cells as text,
the digest as text, and which cells are relevant to a question.

Kept apart from the prompts so the thinker, the answerer and the baseline all render the
notebook the same way; the benchmark then compares prompts built from one renderer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .records import Digest, Execution

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "is",
        "are",
        "was",
        "were",
        "be",
        "and",
        "or",
        "for",
        "on",
        "with",
        "what",
        "which",
        "how",
        "why",
        "does",
        "do",
        "did",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "from",
        "by",
        "as",
        "at",
        "cell",
        "cells",
        "value",
        "values",
        "variable",
        "variables",
        "now",
        "after",
        "before",
        "there",
        "their",
        "has",
        "have",
        "will",
        "would",
        "can",
        "could",
        "should",
    ]
)


def approx_tokens(text: str) -> int:
    """A cheap token estimate for planning batch sizes (real counts come from the model)."""
    return max(1, len(text) // 4)


def current_view(executions: Iterable[Execution]) -> list[Execution]:
    """Complete executions in execution order; a re-run of the same cell (same cell id, or
    same source when the id is unknown) replaces its earlier run."""
    latest: dict[str, Execution] = {}
    for ex in executions:
        if not ex.complete:
            continue
        key = ex.cell_id or ex.source.strip()
        latest.pop(key, None)  # re-insert so dict order follows the newest run
        latest[key] = ex
    return list(latest.values())


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[len(text) - limit // 3 :]  # not text[-0:], the whole text, for a limit under 3
    return f"{head}\n… [{len(text) - len(head) - len(tail)} characters omitted] …\n{tail}"


def render_outputs(ex: Execution, output_cap: int) -> str:
    pieces: list[str] = []
    for out in ex.outputs:
        if out.output_type == "error":
            trace = strip_ansi("\n".join(out.traceback or []))
            frames = trace.strip().splitlines()[-6:]
            pieces.append(f"{out.ename}: {out.evalue}\n" + "\n".join(frames))
        elif out.text:
            pieces.append(out.text.rstrip())
        elif out.mime_types:
            pieces.append("[" + ", ".join(out.mime_types) + "]")
    return _cap(strip_ansi("\n".join(pieces)), output_cap)


def label(ex: Execution) -> str:
    return f"[{ex.execution_count}]" if ex.execution_count is not None else f"[#{ex.id}]"


def render_execution(ex: Execution, output_cap: int = 1500, source_cap: int = 4000) -> str:
    status = " (error)" if ex.status == "error" else ""
    text = f"In {label(ex)}{status}:\n{_cap(ex.source.rstrip(), source_cap)}"
    outputs = render_outputs(ex, output_cap)
    if outputs:
        text += f"\nOut {label(ex)}:\n{outputs}"
    return text


def render_executions(executions: Sequence[Execution], output_cap: int = 1500) -> str:
    return "\n\n".join(render_execution(ex, output_cap) for ex in executions)


def render_digest(digest: Digest | None, max_chars: int = 2500, prefer: Iterable[str] = ()) -> str:
    """Variables as `name: type = summary` lines, data objects first, capped."""
    if digest is None or not digest.variables:
        return "(no variables recorded)"
    preferred = set(prefer)

    def rank(var: dict) -> tuple[int, int]:
        kind = str(var.get("type", ""))
        if var.get("name") in preferred:
            return (0, 0)
        if any(k in kind for k in ("DataFrame", "Series", "ndarray", "Tensor")):
            return (1, 0)
        if kind in ("module", "function", "type", "builtin_function_or_method"):
            return (4, 0)
        return (2, 0)

    lines: list[str] = []
    used = 0
    omitted = 0
    modules = [v for v in digest.variables if v.get("type") == "module"]
    if modules:  # one line for all imports: they matter as context, not one by one
        lines.append(("imported modules: " + ", ".join(_module_label(v) for v in modules))[:400])
        used += len(lines[0])
    for var in sorted((v for v in digest.variables if v.get("type") != "module"), key=rank):
        line = f"{var.get('name')}: {var.get('type')} = {var.get('summary', '')}".rstrip(" =")
        line = line[:400]
        if used + len(line) > max_chars:
            omitted += 1
            continue
        lines.append(line)
        used += len(line) + 1
    if omitted or digest.truncated:
        lines.append(f"(+{omitted} more variables not shown)")
    return "\n".join(lines)


def identifiers(text: str) -> set[str]:
    """Names as written (case kept), to pick the digest lines a text refers to."""
    return set(WORD.findall(text))


def _module_label(var: dict) -> str:
    """`pd (pandas)` from a digest entry whose summary reads `module pandas 3.1.1`."""
    parts = str(var.get("summary", "")).split()
    real = parts[1] if len(parts) > 1 else ""
    return (
        f"{var.get('name')} ({real})" if real and real != var.get("name") else str(var.get("name"))
    )


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


ASSIGNED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_, ]*?)\s*(?:\[[^\]]*\])?\s*[-+*/]?=(?!=)", re.M)


def assigned_names(source: str) -> set[str]:
    names: set[str] = set()
    for match in ASSIGNED.finditer(source):
        names |= {n.strip() for n in match.group(1).split(",") if n.strip()}
    return names


def relevant(
    question: str, executions: Sequence[Execution], notes: dict[str, str], k: int = 3
) -> list[Execution]:
    """Cells most related to the question, in notebook order.

    A cell that assigns a name the question mentions counts most, then names it uses, then
    plain words shared with its source and note; an explicit cell number ("cell 7", "[7]")
    always counts. Weak matches (under half the best score) are left out."""
    defined: set[str] = set()
    for ex in executions:
        defined |= assigned_names(ex.source)
    named = identifiers(question) & defined  # the notebook's own variables the question names
    asked = words(question)
    numbers = {int(n) for n in re.findall(r"(?:cell\s*|\[)(\d+)\]?", question, re.I)}
    failing = bool({"error", "fail", "failed", "fails", "wrong", "raise", "raised"} & asked)
    scored: list[tuple[float, int, Execution]] = []
    for pos, ex in enumerate(executions):
        score = 4.0 * len(named & assigned_names(ex.source))
        score += 1.5 * len(named & identifiers(ex.source))
        score += 0.5 * len(asked & words(ex.source + " " + notes.get(ex.cell_hash(), "")))
        score += 10.0 if ex.execution_count in numbers else 0.0
        score += 3.0 if failing and ex.status == "error" else 0.0
        if score:
            scored.append((score, pos, ex))
    if not scored:
        return []
    top = max(item[0] for item in scored)
    scored = [item for item in scored if item[0] >= max(1.0, top / 2)]
    scored.sort(key=lambda item: (-item[0], -item[1]))
    chosen = sorted(scored[:k], key=lambda item: item[1])
    return [ex for _, _, ex in chosen]
