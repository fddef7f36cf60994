"""What a question needs from the fact sheet: the facts of the names it mentions, the error
card it is about, and the one or two cells (and markdown) that rank best for it by BM25
over their source and output text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..answer.question import cell_numbers, mentioned_names, wants_overview
from ..state.document import Document
from ..state.notebook_text import render_outputs, strip_ansi
from ..state.records import Execution
from .defuse import analyse
from .docs import passages
from .errors import ErrorCard, described_card
from .search import BM25
from .sheet import NotebookFacts, cell_text

MAX_NAMES = 4
FIRST_OUTPUT_CHARS = 1200
OTHER_OUTPUT_CHARS = 500
MARKDOWN_CHARS = 700
MARKDOWN_ABOVE_CHARS = 300  # the heading or first lines above a chosen cell
SEARCH_OUTPUT_CHARS = 3000
OUTPUT_WEIGHT = 1.0  # outputs count twice for value and error questions (once in the cell)


@dataclass
class Selection:
    facts: list[str] = field(default_factory=list)  # fact blocks, most relevant first
    cells: list[Execution] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    card: ErrorCard | None = None  # when the question is about a failure
    best: int = 0  # position (in `cells`) of the best-ranked cell: it gets the most output

    def cells_text(self, notes: dict[str, str], facts: NotebookFacts) -> str:
        pieces = []
        for position, ex in enumerate(self.cells):
            cap = FIRST_OUTPUT_CHARS if position == self.best else OTHER_OUTPUT_CHARS
            markdown = _clip(facts.document.markdown_before(ex.source), MARKDOWN_ABOVE_CHARS)
            text = cell_text(ex, cap, facts.result_type(ex), markdown)
            note = notes.get(ex.cell_hash())
            if note:
                text += f"\nNote: {note}"
            pieces.append(text)
        pieces.extend(f"Markdown:\n{m}" for m in self.markdown)
        return "\n\n".join(pieces)

    def facts_text(self) -> str:
        return "\n".join(self.facts)


def select(
    facts: NotebookFacts,
    question: str,
    kind: str,
    notes: dict[str, str],
    recent: set[int] = frozenset(),  # type: ignore[assignment]
    max_cells: int = 2,
    docs: dict[str, str] | None = None,
) -> Selection:
    """`recent`: ids of executions the memory does not cover yet (ranked a little higher)."""
    chosen = Selection()
    known = [n for n, f in facts.names.items() if not f.module]
    chosen.names = mentioned_names(question, known)[:MAX_NAMES]
    numbers = cell_numbers(question)
    if kind == "error" or numbers:
        chosen.card = _card(facts, question, kind, numbers, chosen.names)
        if chosen.card is not None:
            chosen.facts.append(chosen.card.render())
    if (chosen.names and kind in ("state", "error")) or chosen.card is not None:
        max_cells = 1  # the facts or the card hold the answer; one cell shows its origin
    ranked = _rank(facts, question, kind, notes, recent, numbers, chosen)
    _pick(ranked, chosen, max_cells)
    _add_facts(facts, question, kind, chosen, docs)
    best = chosen.cells[0] if chosen.cells else None
    chosen.cells.sort(key=lambda ex: ex.id)
    chosen.best = chosen.cells.index(best) if best is not None else 0
    return chosen


def _card(
    facts: NotebookFacts, question: str, kind: str, numbers: set[int], names: list[str]
) -> ErrorCard | None:
    """The error the question is about: of the cell it names, the newest failure, or one
    the question describes."""
    for number in sorted(numbers):
        card = facts.card_for(number)
        if card is not None:
            return card
    if kind != "error":
        return None
    if not _names_other_cell(names, facts):
        card = facts.card_for()
        if card is not None:
            return card
    return described_card(question, facts.names, facts.digest)


def _rank(
    facts: NotebookFacts,
    question: str,
    kind: str,
    notes: dict[str, str],
    recent: set[int],
    numbers: set[int],
    chosen: Selection,
) -> list[tuple[float, object]]:
    """(score, cell or markdown) by BM25 over source and output, plus what the facts know:
    the cell named, the cells that set or last changed a named name, the failing cell."""
    last_change = {  # the newest cell that set or changed each named name: its current state
        name: max(b.execution_id for b in fact.bindings + fact.changes)
        for name in chosen.names
        if (fact := facts.names.get(name)) and (fact.bindings or fact.changes)
    }
    texts, outputs, items = _documents(facts, notes)
    scores = BM25(texts).scores(question) if texts else []
    if kind in ("state", "error") and texts:  # results are asked for: what a cell printed
        printed = BM25(outputs).scores(question)
        scores = [a + OUTPUT_WEIGHT * b for a, b in zip(scores, printed, strict=True)]
    ranked: list[tuple[float, object]] = []
    for item, score in zip(items, scores, strict=True):
        if isinstance(item, Execution):
            touched = {e.name for e in analyse(item.source).effects}  # set or changed here
            score += 10.0 if item.execution_count in numbers else 0.0
            score += 3.0 * len(touched & set(chosen.names))
            score += 1.0 * sum(1 for n in chosen.names if last_change.get(n) == item.id)
            score += 6.0 if chosen.card is not None and item.id == chosen.card.execution_id else 0
            score += 0.5 if item.id in recent else 0.0
        if score > 0:
            ranked.append((score, item))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked


def _pick(ranked: list[tuple[float, object]], chosen: Selection, max_cells: int) -> None:
    """The best cells (up to `max_cells`, none under 40 % of the best) and at most one
    markdown cell that ranks close to the top."""
    top = ranked[0][0] if ranked else 0.0
    for score, item in ranked:
        if score < top * 0.4:
            break
        if isinstance(item, Execution):
            if len(chosen.cells) < max_cells:
                chosen.cells.append(item)
        elif not chosen.markdown and score >= top * 0.6:
            chosen.markdown.append(str(item))
        if len(chosen.cells) >= max_cells and chosen.markdown:
            break


def _add_facts(
    facts: NotebookFacts,
    question: str,
    kind: str,
    chosen: Selection,
    docs: dict[str, str] | None,
) -> None:
    """The facts of the named names (else of what the best cell sets), rounded as asked; an
    overview for "summarise"; the docstring passages of functions the question names."""
    names = list(chosen.names)
    if not names and chosen.cells:  # "how many models did the grid search fit?"
        names = [
            n for n in _bound_in(chosen.cells[0]) if n in facts.names and not facts.names[n].module
        ][:2]
    if wants_overview(question):
        chosen.facts.append(overview(facts))
    rounding = rounding_asked(question)
    for name in names:
        text = facts.name_text(name)
        if text and rounding:
            text += rounded_line(facts.names[name].summary or "", rounding)
        if text:
            chosen.facts.append(text)
    if docs and kind != "next":
        for name, passage in passages(docs, question):
            chosen.facts.append(f"From the documentation of `{name}` (as installed):\n{passage}")


_SIGNIFICANT = re.compile(r"(\d+)\s*(?:significant|sig\.?)\s*(?:figures|digits|figs?)", re.I)
_DECIMALS = re.compile(r"(\d+)\s*decimal(?:s|\s+places|\s+digits)?|(\d+)\s*dp\b", re.I)
_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?(?![\w.])")


def rounding_asked(question: str) -> tuple[str, int] | None:
    """("sig", 3) for "3 significant figures", ("dec", 2) for "2 decimals"."""
    match = _SIGNIFICANT.search(question)
    if match:
        return ("sig", int(match.group(1)))
    match = _DECIMALS.search(question)
    if match:
        return ("dec", int(match.group(1) or match.group(2)))
    return None


_LABELLED = re.compile(r"(\w+)=(\[[^\]]*\]|\([^)]*\)|[^,;\s]+)")


def rounded_line(summary: str, rounding: tuple[str, int]) -> str:
    """The value's numbers rounded as the question asks: a small model rounds badly. Numbers
    that carry a label in the summary (`coef_=[…]`, `intercept_=…`) keep it, so the model
    cannot mistake one attribute's numbers for another's."""
    how, digits = rounding
    digits = max(0, min(digits, 12))

    def rounded(text: str) -> str:
        number = float(text)
        return f"{number:.{max(digits, 1)}g}" if how == "sig" else f"{number:.{digits}f}"

    labelled = [
        f"{label}={_FLOAT.sub(lambda m: rounded(m.group()), value)}"
        for label, value in _LABELLED.findall(summary)
        if _FLOAT.search(value)
    ]
    values = labelled[:8] or [rounded(text) for text in _FLOAT.findall(summary)[:12]]
    if not values:
        return ""
    label = f"{digits} significant figures" if how == "sig" else f"{digits} decimals"
    return f"\n  rounded to {label}: " + ", ".join(values)


OVERVIEW_RESULTS = 6
RESULT_CHARS = 240


def overview(facts: NotebookFacts) -> str:
    """The notebook at a glance, exactly: its headings, its data objects with their sizes,
    and the newest short results it displayed or printed."""
    lines = []
    described = markdown_gists(facts.document)
    if described:
        lines.append("The notebook's own words: " + described)
    data = [
        f"`{n}` {f.summary.split(';')[0]}"
        for n, f in facts.names.items()
        if f.summary and f.defined and any(k in (f.type or "") for k in ("DataFrame", "ndarray"))
    ]
    if data:
        lines.append("Data: " + "; ".join(data[:6]))
    results = []
    for ex in reversed(facts.view):
        text = strip_ansi(render_outputs(ex, RESULT_CHARS)).strip()
        if text and ex.status == "ok" and len(text) < RESULT_CHARS and "[" not in text[:1]:
            results.append(f"[{ex.execution_count}] {' / '.join(text.splitlines()[:6])}")
        if len(results) >= OVERVIEW_RESULTS:
            break
    if results:
        lines.append("Newest results:\n" + "\n".join(reversed(results)))
    return "Overview of the notebook:\n" + "\n".join(lines)


def markdown_gists(document: Document, limit: int = 700) -> str:
    """What the notebook's markdown says, in a line: each cell's heading and first sentence."""
    gists = [_gist(c.source) for c in document.markdown if c.source.strip()]
    return _clip(" / ".join(g for g in gists if g), limit)


def _gist(markdown: str) -> str:
    """A markdown cell's heading and first sentence ("The data: 178 wines from three …")."""
    lines = [ln.strip() for ln in markdown.strip().splitlines() if ln.strip()]
    heading = lines[0].lstrip("#").strip() if lines and lines[0].startswith("#") else ""
    prose = next((ln for ln in lines if not ln.startswith("#")), "")
    sentence = re.split(r"(?<=[.!?])\s", prose, maxsplit=1)[0][:160]
    return ": ".join(part for part in (heading, sentence) if part)


def _names_other_cell(names: list[str], facts: NotebookFacts) -> bool:
    """The question names things none of the failing lines uses: it is about another
    failure (one the user describes) than the recorded ones."""
    if not names or not facts.errors:
        return False
    on_lines = set()
    for card in facts.errors:
        on_lines |= {n["name"] for n in card.names}
        on_lines |= set(card.line_text.replace(".", " ").replace("(", " ").split())
    return not (set(names) & on_lines)


def _documents(
    facts: NotebookFacts, notes: dict[str, str]
) -> tuple[list[str], list[str], list[object]]:
    """One search document per executed cell (the markdown above it, its source, outputs and
    note) and one per markdown cell that sits above no executed cell; beside them, the
    outputs alone (empty for markdown)."""
    docs: list[str] = []
    outputs: list[str] = []
    items: list[object] = []
    attached: set[str] = set()
    for ex in facts.view:
        markdown = facts.document.markdown_before(ex.source)
        if markdown:
            attached.add(markdown)
        printed = strip_ansi(render_outputs(ex, SEARCH_OUTPUT_CHARS))
        note = notes.get(ex.cell_hash())
        docs.append(f"{markdown}\n{ex.source}\n{printed}" + ("\n" + note if note else ""))
        outputs.append(printed)
        items.append(ex)
    attached_text = "\n\n".join(attached)
    for cell in facts.document.markdown:
        text = cell.source.strip()
        if text and text not in attached_text:
            docs.append(text[:MARKDOWN_CHARS])
            outputs.append("")
            items.append(text[:MARKDOWN_CHARS])
    return docs, outputs, items


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bound_in(ex: Execution) -> list[str]:
    return [e.name for e in analyse(ex.source).effects if e.binds]
