"""Prepared answers: what can be answered before anyone asks, and how each may be asked.

From the facts, without a model: for each name, its value card (value, shape, where it was
set, earlier values, whether it still exists); for each failed cell, its error card; for
each explained cell, the explanation written while idle. From the model's idle-time work:
its anticipated questions, kept only when every number, type name and listed member in the
answer is backed by the facts of the names its question is about (`verify.py`). A question
about several names gets the cards of all of them, each rounded as the question asks.
Matching (`matcher.py`) decides whether an asked question is one of these: it must cover
every part of the question.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..facts import NotebookFacts
from ..facts.memory_check import check_memory
from ..facts.select import rounded_line, rounding_asked
from .matcher import Candidate, Match, Matcher, covers_all, identity, mask
from .question import classify, has_error, mentioned_names
from .verify import unsupported

# How people ask about a value; masked (NAME, cell N). The matcher compares the asked
# question's intent with these; the labelled pairs it is calibrated on are separate.
NAME_PHRASINGS = (
    "What is NAME?",
    "What is the value of NAME?",
    "What does NAME hold now?",
    "What is in NAME?",
    "What is NAME now?",
    "Show me NAME",
    "What is the shape of NAME?",
    "How big is NAME?",
    "How many rows does NAME have?",
    "What type is NAME?",
    "What columns does NAME have?",
    "Where was NAME set?",
    "Which cell defined NAME?",
    "Is NAME still defined?",
    "What are the values of NAME?",
)
ERROR_PHRASINGS = (
    "Why did the last cell fail?",
    "Why did it fail?",
    "What went wrong?",
    "What does this error mean?",
    "How do I fix this error?",
    "Why do I get this error?",
)
CELL_ERROR_PHRASINGS = (
    "Why did cell N fail?",
    "What went wrong in cell N?",
    "How do I fix the error in cell N?",
)
CELL_PHRASINGS = (
    "What does cell N do?",
    "Explain cell N",
    "What happens in cell N?",
)
MAX_NAMES = 4
LISTED = 8  # prepared questions offered at once


class Prepared:
    def __init__(self, matcher: Matcher | None = None) -> None:
        self.matcher = matcher or Matcher()

    def candidates(
        self,
        facts: NotebookFacts,
        notes: dict[str, str],
        anticipated: list[dict[str, Any]],
    ) -> list[Candidate]:
        """Everything prepared for this state, error cards first."""
        out: list[Candidate] = []
        newest = facts.card_for()
        for card in facts.errors:
            text = card.render()
            if card is newest and facts.last_failed():
                out.append(error_candidate(text, card.ename))
            if card.execution_count is not None:
                out.append(error_candidate(text, card.ename, card.execution_count))
        for ex in facts.view:
            note = notes.get(ex.cell_hash())
            if note and ex.execution_count is not None:
                out.append(note_candidate(ex.execution_count, note))
        known = self._names(facts)
        erred = has_error(facts)
        for item in anticipated:
            question, answer = item.get("question", ""), item.get("answer", "")
            kept, dropped = check_memory(answer, facts)
            if not question or not kept or dropped:
                continue  # a prepared answer is never one the facts contradict
            candidate = anticipated_candidate(
                question, answer, known, lambda n: name_evidence(facts, n), erred
            )
            if candidate is not None:
                out.append(candidate)
        return out

    def name_candidate(self, facts: NotebookFacts, question: str) -> Candidate | None:
        """The value cards of the names a state question is about (at most four)."""
        names = mentioned_names(question, self._names(facts))
        if not names or len(names) > MAX_NAMES or classify(question, has_error(facts)) != "state":
            return None
        rounding = rounding_asked(question)
        cards = []
        for name in names:
            fact = facts.names[name]
            if fact.defined and (not fact.summary or fact.digest_stale):
                return None  # its value now was not read: a prepared answer might be stale
            text = facts.name_text(name)
            if not text:
                return None
            if rounding:
                text += rounded_line(facts.names[name].summary or "", rounding)
            cards.append(text)
        return value_card(dict(zip(names, cards, strict=True)))

    def match(
        self,
        facts: NotebookFacts,
        question: str,
        notes: dict[str, str],
        anticipated: list[dict[str, Any]],
    ) -> Match | None:
        candidates = self.candidates(facts, notes, anticipated)
        by_name = self.name_candidate(facts, question)
        if by_name is not None:
            candidates.append(by_name)
        vocabulary = set(facts.names) | _digest_names(facts)
        return self.matcher.match(
            question, candidates, self._names(facts), vocabulary, has_error(facts)
        )

    def listed(
        self, facts: NotebookFacts, notes: dict[str, str], anticipated: list[dict[str, Any]]
    ) -> list[dict[str, str]]:
        """Prepared questions to offer (the sidebar's chips): errors, the newest data names,
        then the model's."""
        items = [c for c in self.candidates(facts, notes, anticipated) if c.kind == "error"]
        for name in self._recent_names(facts)[:3]:
            card = self.name_candidate(facts, f"What is {name}?")
            if card is not None:
                items.append(card)
        known, erred = self._names(facts), has_error(facts)
        items += [
            c
            for c in self.candidates(facts, notes, anticipated)
            if c.source == "model"
            and not c.cells  # one chip per cell would crowd the list
            and covers_all(identity(c.question, known, has_error=erred), c)  # a click hits
        ]
        seen: set[str] = set()
        out = []
        for item in items:
            if item.question not in seen:
                seen.add(item.question)
                out.append(
                    {"question": item.question, "answer": item.answer, "source": item.source}
                )
        return out

    @staticmethod
    def _names(facts: NotebookFacts) -> list[str]:
        return [n for n, f in facts.names.items() if not f.module]

    @staticmethod
    def _recent_names(facts: NotebookFacts) -> list[str]:
        """Data names, most recently set first (what a user is likely to ask about)."""
        names = [
            f
            for f in facts.names.values()
            if not f.module and f.defined and f.last is not None and f.last.effect.kind == "assign"
        ]
        names.sort(key=lambda f: -f.last.execution_id if f.last is not None else 0)
        return [f.name for f in names]


def error_candidate(card: str, exception: str, cell: int | None = None) -> Candidate:
    """An error card, as the answer to why the last cell (or cell [n]) failed."""
    if cell is None:
        return Candidate(
            "Why did the last cell fail?",
            card,
            "error",
            exceptions=frozenset({exception}),
            phrasings=ERROR_PHRASINGS,
        )
    return Candidate(
        f"Why did cell [{cell}] fail?",
        card,
        "error",
        cells=frozenset({cell}),
        exceptions=frozenset({exception}),
        phrasings=CELL_ERROR_PHRASINGS,
    )


def note_candidate(cell: int, note: str) -> Candidate:
    """The explanation of a cell written while idle."""
    return Candidate(
        f"What does cell [{cell}] do?",
        f"[{cell}] {note}",
        "explain",
        cells=frozenset({cell}),
        phrasings=CELL_PHRASINGS,
        source="model",
    )


def value_card(cards: dict[str, str]) -> Candidate:
    """The prepared answer about some names: their value cards, in the question's order."""
    listed = ", ".join(f"`{n}`" for n in cards)
    return Candidate(
        f"What is {listed}?" if len(cards) == 1 else f"What are {listed}?",
        "\n".join(cards.values()),
        "state",
        names=frozenset(cards),
        phrasings=NAME_PHRASINGS,
        cards=dict(cards),
    )


def anticipated_candidate(
    question: str,
    answer: str,
    known: list[str],
    evidence: Callable[[str], str],
    erred: bool | None,
) -> Candidate | None:
    """A model-written anticipated pair as a prepared answer, or None when a number, type
    name or listed member of its answer is not in the facts of the names it is about (those
    its question names, else those its answer names; with no names, no claim is backed)."""
    asked = identity(question, known, has_error=erred)
    about = asked.names or frozenset(mentioned_names(answer, known))
    if unsupported(answer, "\n".join(evidence(n) for n in sorted(about)), about):
        return None
    return Candidate(
        question,
        answer,
        asked.kind,
        names=asked.names,
        cells=asked.cells,
        exceptions=asked.exceptions,
        phrasings=(asked.masked,),
        source="model",
        parts=asked.parts,
    )


def name_evidence(facts: NotebookFacts, name: str) -> str:
    """What the facts hold about one name: its card (value, type, where set, earlier values,
    uses) and every value it was seen to hold."""
    fact = facts.names.get(name)
    if fact is None:
        return ""
    seen = [b.value or "" for b in fact.bindings] + [b.effect.text for b in fact.bindings]
    return "\n".join([facts.name_text(name), fact.type or "", fact.summary or "", *seen])


def _digest_names(facts: NotebookFacts) -> set[str]:
    if facts.digest is None:
        return set()
    return {str(v.get("name")) for v in facts.digest.variables}


__all__ = ["Prepared", "mask"]
