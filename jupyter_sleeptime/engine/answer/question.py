"""What a question asks about: its kind, the cell numbers and the notebook's names in it.

Kinds decide what an answer is built from and how long it may be: `state` (values,
shapes, where something was set), `explain` (why / what a cell does), `error` (why
something failed or warned), `next` (what to do next).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..facts.search import STOPWORDS

if TYPE_CHECKING:
    from ..facts.sheet import NotebookFacts

KINDS = ("state", "explain", "error", "next")

_NEXT_STEP = re.compile(
    r"\b(?:what(?:'s|\s+is)?\s+next|next\s+steps?|do\s+next|then\s+next)\b", re.I
)
_NEXT = re.compile(
    r"\b(?:what\s+(?:should|could|can|do)\s+i\s+(?:do|try|use|change|look at)"
    r"|(?:how|what)\s+(?:should|could|can|do)\s+i\s+(?:improve|make|choose|evaluate|report"
    r"|get|compare|test|validate|tune|select)|recommend|suggest)",
    re.I,
)
_ERROR = re.compile(
    r"\b(?:fail(?:s|ed|ing|ure)?|errors?|exceptions?|raise[sd]?|raising|traceback|crash(?:es|ed)?"
    r"|throw(?:s|n)?|threw|blow(?:s|n)?\s+up|blew\s+up"
    r"|warn(?:s|ed|ing|ings)?|broke|broken|wrong|bug|(?:does\s*n[o']t|does\s+not|doesn't)\s+work"
    r"|\w+(?:Error|Exception|Warning))\b",
    re.I,
)
_EXPLAIN = re.compile(
    r"\b(?:why|explain\w*|how\s+come|what\s+does\s+.+\s+(?:do|return|mean|compute|show)"
    r"|how\s+does|what\s+is\s+the\s+(?:difference|purpose|meaning)|does\s+that\s+mean"
    r"|what\s+happens|walk\s+me\s+through|is\s+it\s+(?:correct|right)"
    r"|is\s+\S+\s+the\s+model|which\s+.+\s+better)\b",
    re.I,
)
# An exception or warning the user names ("got NotFittedError", "a UserWarning"): the user
# saw it, whether or not the notebook recorded it.
_NAMED_EXCEPTION = re.compile(r"\b\w+(?:Error|Exception|Warning)\b|\b[Tt]raceback\b")
_OVERVIEW = re.compile(
    r"\b(?:summar(?:y|ise|ize)|overview|main (?:result|finding|point)s?|tl;?dr"
    r"|what (?:is|does) (?:this|the) notebook)\b",
    re.I,
)
_CELL = re.compile(r"(?:\b(?:cell|in|out|execution)\s*\[?\s*#?(\d+)\s*\]?)|\[\s*(\d+)\s*\]", re.I)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Answer length per kind (tokens): a value is short, a diagnosis a few sentences.
MAX_TOKENS = {"state": 140, "explain": 220, "error": 200, "next": 260}


def classify(question: str, has_error: bool | None = None) -> str:
    """The question's kind by its words; `has_error=False` (the notebook holds no error,
    warning or named exception it can be about) turns an error question into what it is
    then: what to do next, or an explanation ("the method that fails on some shapes")."""
    if _NEXT_STEP.search(question):
        return "next"
    if _ERROR.search(question):
        if has_error is not False or _NAMED_EXCEPTION.search(question):
            return "error"  # "how do I fix this error?" is about the error
        return "next" if _NEXT.search(question) else "explain"
    if _NEXT.search(question):
        return "next"
    if _EXPLAIN.search(question):
        return "explain"
    return "state"


def kind_in(question: str, facts: NotebookFacts) -> str:
    """The question's kind in this notebook: an error question only when there is an error
    it can be about (an error card, a warning a cell printed, or an exception the user names
    — one they got elsewhere)."""
    return classify(question, has_error(facts))


def has_error(facts: NotebookFacts) -> bool:
    """Whether the notebook holds a failed cell or a printed warning."""
    return bool(facts.errors) or any(o.warnings for o in facts.outputs.values())


def wants_overview(question: str) -> bool:
    """ "Summarise this notebook", "what are the main results": the whole story, not a cell."""
    return bool(_OVERVIEW.search(question))


def cell_numbers(question: str) -> set[int]:
    """`[7]`, `cell 7`, `In [7]`, `Out[7]` → {7}."""
    found: set[int] = set()
    for match in _CELL.finditer(question):
        number = match.group(1) or match.group(2)
        if number:
            found.add(int(number))
    return found


def mentioned_names(question: str, known: Iterable[str]) -> list[str]:
    """The notebook's names written in the question, in order (`huber.outliers_` counts
    for `huber`); exact case, except a name of 4+ characters written in another case. A name
    that is also an English word ("data" is not, "a", "in", "it" are), or a one-letter name
    that starts a hyphenated word ("p-value"), counts only in backticks."""
    names = set(known)
    lower = {n.lower(): n for n in names if len(n) >= 4}
    quoted = set()
    for chunk in re.findall(r"`([^`]+)`", question):
        quoted |= set(_IDENT.findall(chunk))
    found: list[str] = []
    for match in _IDENT.finditer(question):
        name = match.group() if match.group() in names else lower.get(match.group().lower())
        if not name or name in found:
            continue
        if name not in quoted and (
            name.lower() in ENGLISH or (len(name) == 1 and _COMPOUND.match(question, match.end()))
        ):
            continue  # "a", "in"; the p of "p-value", the t of "t-test"
        found.append(name)
    return found


_COMPOUND = re.compile(r"-[A-Za-z]")


ENGLISH = STOPWORDS | {"i", "a", "up", "us", "go", "he", "we", "so", "me", "no", "all", "any"}


def identifiers(question: str) -> list[str]:
    """Identifier-like words of a question that are code, not English: they contain `_` or a
    digit or inner capitals, or are written in backticks."""
    quoted = re.findall(r"`([^`]+)`", question)
    words = set()
    for chunk in quoted:
        words |= set(_IDENT.findall(chunk))
    for word in _IDENT.findall(question):
        if (
            "_" in word.strip("_")
            or word.endswith("_")
            or re.search(r"\d", word)
            or re.search(r"[a-z][A-Z]", word)
        ):
            words.add(word)
    return sorted(words)
