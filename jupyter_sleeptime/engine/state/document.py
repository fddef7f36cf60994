"""The notebook document (the saved file or the live shared document) as the engine sees
it: markdown and unexecuted cells for the facts, and the notebook's own privacy settings
(opt-out metadata, cells tagged `sleeptime-skip`).

The host reads the document (it knows where it lives); everything decided from it is
decided here, so thinking and answering apply the same rules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ..facts.defuse import analyse
from .records import Execution

SKIP_TAG = "sleeptime-skip"
OPT_IN_HINT = (
    'This notebook opted out of jupyter-sleeptime (its metadata has "sleeptime": '
    '{"enabled": false}), so nothing from it is sent to a model. To opt back in, remove '
    'that entry (Property Inspector → Advanced Tools → Notebook metadata) or set "enabled" '
    "to true, and save the notebook."
)
MIN_HIDDEN_CHARS = 4


class OptedOut(Exception):
    """The notebook does not allow sleeptime; the message says how to opt back in."""

    def __init__(self) -> None:
        super().__init__(OPT_IN_HINT)


@dataclass(frozen=True)
class DocumentCell:
    index: int
    cell_type: str  # markdown | code | raw
    source: str
    execution_count: int | None = None


@dataclass(frozen=True)
class Policy:
    """What the notebook allows: `enabled` (opt-out metadata) and the cells tagged
    `sleeptime-skip` — their sources, and the names they bind, never reach a model."""

    enabled: bool = True
    skip_sources: frozenset[str] = frozenset()
    skip_names: frozenset[str] = frozenset()

    def allows(self, ex: Execution) -> bool:
        return ex.source.strip() not in self.skip_sources

    def allows_name(self, name: str) -> bool:
        return name not in self.skip_names

    def hidden_literals(self) -> set[str]:
        """Values written in skipped cells: hidden wherever else they appear."""
        found: set[str] = set()
        for source in self.skip_sources:
            found |= _literals(source)
        return found


@dataclass(frozen=True)
class Document:
    cells: tuple[DocumentCell, ...] = ()
    policy: Policy = field(default_factory=Policy)

    @property
    def markdown(self) -> list[DocumentCell]:
        return [c for c in self.cells if c.cell_type == "markdown" and c.source.strip()]

    def unexecuted(self, executed_sources: set[str]) -> list[DocumentCell]:
        """Code cells written but not run (in this kernel session)."""
        return [
            c
            for c in self.cells
            if c.cell_type == "code"
            and c.source.strip()
            and c.source.strip() not in executed_sources
            and c.source.strip() not in self.policy.skip_sources
        ]

    def markdown_before(self, source: str) -> str:
        """The markdown right above the code cell with this source (its heading or prose)."""
        wanted = source.strip()
        texts: list[str] = []
        for cell in self.cells:
            if cell.cell_type == "markdown":
                texts.append(cell.source.strip())
            elif cell.cell_type == "code":
                if cell.source.strip() == wanted:
                    return "\n\n".join(texts[-2:])
                texts = []
        return ""


def parse_document(content: dict[str, Any] | None) -> Document:
    """A notebook's JSON (nbformat 4) as a Document; anything unreadable gives the defaults."""
    if not isinstance(content, dict):
        return Document()
    metadata = content.get("metadata") or {}
    settings = metadata.get("sleeptime") if isinstance(metadata, dict) else None
    enabled = not (isinstance(settings, dict) and settings.get("enabled") is False)
    cells: list[DocumentCell] = []
    skipped: set[str] = set()
    for index, cell in enumerate(content.get("cells") or []):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        if SKIP_TAG in tags:
            skipped.add(source.strip())
            continue  # a skipped cell is not part of the document the model may see
        count = cell.get("execution_count")
        cells.append(
            DocumentCell(
                index=index,
                cell_type=str(cell.get("cell_type") or "code"),
                source=source,
                execution_count=count if isinstance(count, int) else None,
            )
        )
    names: set[str] = set()
    for source in skipped:
        names |= analyse(source).bound()
    policy = Policy(enabled=enabled, skip_sources=frozenset(skipped), skip_names=frozenset(names))
    return Document(cells=tuple(cells), policy=policy)


def _literals(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = (
                node.value.decode(errors="replace") if isinstance(node.value, bytes) else node.value
            )
            if len(text.strip()) >= MIN_HIDDEN_CHARS:
                found.add(text)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
            and len(repr(node.value)) >= 6
        ):
            found.add(repr(node.value))
    return found


def summary_literal(summary: str) -> str | None:
    """The string a digest summary shows (`'abc'` or `'abc…' (len 90)`), if it is one."""
    text = summary.strip()
    if not text or text[0] not in "'\"b":
        return None
    head = text.split("…", 1)[0] if "… (len" in text else text  # long strings: the shown head
    try:
        value = ast.literal_eval(head)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return value if isinstance(value, str) and len(value.strip()) >= MIN_HIDDEN_CHARS else None
