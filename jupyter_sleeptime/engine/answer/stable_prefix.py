"""The stable prefix of a sleep-mode prompt: everything about a notebook that does not depend
on the question, in a fixed order, so it is prefilled once while idle and reused by every
question until the next execution (a local model keeps its KV state, remote providers cache
the prefix).

Order: memory, variables, the facts sheet (every name's card, error cards, the outputs
index, the markdown outline), compact cell summaries, then how to answer each kind of
question (the answerer's instructions, last: nearest the question). When it does not fit its token
budget the least useful parts go first, whole lines or blocks at a time, never mid-line:
the outputs index (cells show their outputs), the markdown outline, then the oldest cell
summaries and the cards of the least recently set names, in turn; the memory, variables
and error cards always stay. A question about what was left out gets what fits of it after
the prefix (`answerer.EXTRA_TOKENS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..facts.sheet import NotebookFacts
from ..state.notebook_text import approx_tokens, render_execution, render_outputs

PREFIX_TOKENS = 3300  # the default budget, in approx_tokens units (≈ 4,000 model tokens)
CELL_SOURCE_CHARS = 700
CELL_OUTPUT_CHARS = 300
OUTLINE_CHARS = 160
KEEP = 9  # a `drop` rank never dropped


@dataclass
class Section:
    """Items (whole lines or blocks) under a heading; `drop` ranks which section gives way
    first (lowest first); `oldest_first` drops from the front (cells), else from the end."""

    title: str
    items: list[str]
    drop: int
    oldest_first: bool = False
    ids: list[int] = field(default_factory=list)  # execution ids, parallel to items (cells)
    sep: str = "\n"

    def text(self) -> str:
        return self.sep.join(self.items)

    def size(self) -> int:
        return sum(approx_tokens(item) + 1 for item in self.items) if self.items else 0


@dataclass
class NotebookPrefix:
    facts: str  # the facts sheet as text
    cells: str  # compact cell summaries
    whole: set[int]  # executions shown in full (neither dropped nor shortened)
    shown: set[int]  # executions shown at all (in full or shortened)
    dropped: int  # items left out to fit the budget


def build(
    facts: NotebookFacts,
    notes: dict[str, str],
    budget_tokens: int,
) -> NotebookPrefix:
    """The facts sheet and cell summaries, fitted to `budget_tokens`."""
    sections = [
        Section("Errors", [card.render() for card in facts.errors], drop=KEEP),
        Section("Names", _name_cards(facts), drop=2, oldest_first=True),
        Section("What cells printed", _outputs_index(facts), drop=0),
        Section("Markdown outline", _outline(facts), drop=1),
    ]
    cells, ids, shortened = _cell_summaries(facts, notes)
    cell_section = Section("Cells", cells, drop=2, oldest_first=True, ids=ids, sep="\n\n")
    dropped = _fit([*sections, cell_section], budget_tokens)
    facts_text = "\n\n".join(f"{s.title}:\n{s.text()}" for s in sections if s.items)
    shown = set(cell_section.ids)
    return NotebookPrefix(facts_text, cell_section.text(), shown - shortened, shown, dropped)


def _fit(sections: list[Section], budget: int) -> int:
    """Drop items until the sections fit: lowest `drop` rank first; sections of one rank
    take turns, so cells and name cards go oldest first together."""
    dropped = 0
    total = sum(s.size() for s in sections)
    for rank in sorted({s.drop for s in sections if s.drop < KEEP}):
        group = [s for s in sections if s.drop == rank]
        while total > budget and any(s.items for s in group):
            for section in group:
                if total <= budget or not section.items:
                    continue
                index = 0 if section.oldest_first else -1
                total -= approx_tokens(section.items.pop(index)) + 1
                if section.ids:
                    section.ids.pop(index)
                dropped += 1
    return dropped


def _name_cards(facts: NotebookFacts) -> list[str]:
    """Every non-module name's card, the least recently set first (they drop first)."""
    cards = []
    for name, fact in facts.names.items():
        if fact.module:
            continue
        text = facts.name_text(name)
        if text:
            recency = max((b.execution_id for b in fact.bindings + fact.changes), default=0)
            cards.append((recency, name, text))
    cards.sort(key=lambda item: (item[0], item[1]))
    return [text for _, _, text in cards]


def _outputs_index(facts: NotebookFacts) -> list[str]:
    lines = []
    for entry in facts.outputs.values():
        if not entry.warnings and not entry.table:
            continue
        label = f"[{entry.execution_count}]" if entry.execution_count is not None else "[?]"
        parts = []
        if entry.table:
            parts.append("shows a table")
        parts.extend(f"warns {w}" for w in entry.warnings[:3])
        lines.append(f"{label} " + "; ".join(parts))
    return lines


def _outline(facts: NotebookFacts) -> list[str]:
    """One line per markdown cell: its heading, else its first sentence."""
    lines = []
    for cell in facts.document.markdown:
        rows = [ln.strip() for ln in cell.source.strip().splitlines() if ln.strip()]
        if not rows:
            continue
        heading = rows[0] if rows[0].startswith("#") else ""
        prose = next((ln for ln in rows if not ln.startswith("#")), "")
        sentence = re.split(r"(?<=[.!?])\s", prose, maxsplit=1)[0]
        line = " — ".join(p for p in (heading, sentence) if p)
        lines.append(line[:OUTLINE_CHARS])
    return lines


def _cell_summaries(
    facts: NotebookFacts, notes: dict[str, str]
) -> tuple[list[str], list[int], set[int]]:
    """Each executed cell with its outputs, long sources and outputs shortened, and its note."""
    items, ids, shortened = [], [], set()
    for ex in facts.view:
        text = render_execution(ex, output_cap=CELL_OUTPUT_CHARS, source_cap=CELL_SOURCE_CHARS)
        full = render_outputs(ex, output_cap=1 << 30)
        if len(ex.source.rstrip()) > CELL_SOURCE_CHARS or len(full) > CELL_OUTPUT_CHARS:
            shortened.add(ex.id)
        note = notes.get(ex.cell_hash())
        if note:
            text += f"\nNote: {note}"
        items.append(text)
        ids.append(ex.id)
    return items, ids, shortened
