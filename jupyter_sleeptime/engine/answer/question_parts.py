"""What each part of a question asks, about which name: a prepared answer serves a question
only when it covers every part.

A question is split into clauses ("what type is `enc` now, and which feature names does it
produce?" → two); each clause gets the names it mentions (a clause without names is about
the previous clause's names: "it") and what it asks about them:

- `kind` (type, class), `value` (what it is, holds, equals), `shape` (size, rows ×
  columns, length), `where` (which cell set it, is it still defined);
- `count:NOUN` ("how many rows", "number of features") and `members:NOUN` ("which
  columns", "its feature names") — the noun, normalised, is part of what is asked;
- `stat:WORD` (a mean, the missing values, a plot: work on the value, not the value);
- `why` (a failure), `explain`, `next` — from the clause's kind;
- `other`: a clause that asks something none of these name ("how was it fitted?"): only
  a model-written answer whose own question asked the same can hold it, and none does.

A part is (subject, aspect): the subject is a notebook name, a cell ("[7]") or "" (the
notebook, the last run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .question import cell_numbers, classify, mentioned_names

_CLAUSE = re.compile(r"[?;!]|,\s+(?=\w)|\.\s+|\s+(?:and|also|plus|then|as well as)\s+", re.I)
_KIND = re.compile(
    r"\b(?:type|types|kind|class|dtype|dtypes|sort of|instance of|object is|what is it now)\b",
    re.I,
)
_SHAPE = re.compile(
    r"\b(?:shapes?|size|sized|dimensions?|dims|how (?:big|large|long)|length|len)\b", re.I
)
_WHERE = re.compile(
    r"\b(?:where|which cell|what cell|in which|defined|assigned|created|overwritten|"
    r"come from|came from|get its value|got its value|deleted|still (?:around|there|exists?)|"
    r"exists?|(?:was|were|been|is|gets?|got|last|first)\s+(?:\w+\s+)?set)\b",
    re.I,
)
_VALUE = re.compile(
    r"\b(?:values?|what(?:'s| is| are| was| were| do| does)|hold|holds|held|contain\w*|stored|"
    r"store|show|print|equals?|refer|refers|currently|now|is in|are in|tell me about|"
    r"give me|look like)\b",
    re.I,
)
_COUNT = re.compile(r"\b(?:how many|number of|count of|how much)\s+([\w\s-]{0,60})", re.I)
_MEMBERS = re.compile(
    r"\b(?:which|what|list|name|names of|show)\b[^?]{0,30}?\b("
    r"(?:feature\s+)?names?|columns?|features?|keys?|classes|labels?|vocabular(?:y|ies)|"
    r"vocab|terms?|tokens?|words?|categor(?:y|ies)|levels?|fields?|attributes?|"
    r"parameters?|params|members?|elements?|items?|entries|index|origins?|coefficients?|"
    r"coefs?|steps?)\b",
    re.I,
)
_STAT = re.compile(
    r"\b(mean|average|median|max(?:imum)?|min(?:imum)?|sum|std|standard deviation|variance|"
    r"unique|distinct|missing|nulls?|nans?|correlat\w*|distribut\w*|percentile|quantile|"
    r"histogram|plot\w*|chart|graph|sort\w*|normali[sz]\w*|convert\w*|save|write|improve|"
    r"compare|differ\w*|expected|dropped|misclassif\w*|outliers?|duplicat\w*|rewrite|"
    r"faster|slow\w*|took|take)\b",
    re.I,
)
# A clause that asks something of its own (not just more names for the previous clause).
_ASKS = re.compile(
    r"\b(?:how|why|when|what|which|who|is|are|was|were|does|do|did|can|could|should|will)\b",
    re.I,
)
_NOUN_STOP_TEXT = """does do did are is were was have has had in of on at to for by from with the
    a an this that these those there it its get gets got will would can could should than after
    before left remain remaining"""
_NOUN_STOP = frozenset(_NOUN_STOP_TEXT.split())
# Nouns that name the same thing when counted or listed.
_SYNONYMS = {
    "sample": "row",
    "observation": "row",
    "record": "row",
    "entry": "row",
    "entrie": "row",
    "instance": "row",
    "line": "row",
    "feature": "column",
    "variable": "column",
    "field": "column",
    "attribute": "column",
    "vocabulary": "term",
    "vocab": "term",
    "word": "term",
    "token": "term",
    "label": "class",
    "categorie": "category",
    "coef": "coefficient",
    "param": "parameter",
}


@dataclass(frozen=True)
class Part:
    subject: str  # a notebook name, "[7]" for a cell, or "" (the notebook / the last run)
    aspect: str  # kind value shape where count:NOUN members:NOUN stat:WORD why explain next other

    def __str__(self) -> str:
        return f"{self.subject or '·'}:{self.aspect}"


def noun(text: str) -> str:
    """A counted or listed noun, normalised: "rows" → "row", "samples" → "row", "features"
    → "column", "vocabulary" → "term"."""
    word = text.lower().strip()
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ses") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return _SYNONYMS.get(word, word)


def _counted(words: str) -> str:
    """The head noun after "how many": "of the 30 test samples does" → "row"."""
    head = ""
    started = False
    for word in words.split():
        w = word.lower().strip("`'\"")
        if not started and (
            w in ("of", "the", "a", "an", "distinct", "different", "total") or w.isdigit()
        ):
            continue
        if w in _NOUN_STOP:
            break
        started = True
        head = w
    return noun(head) if head else "thing"


def clause_aspects(clause: str, kind: str) -> set[str]:
    """What one clause asks (names masked or not)."""
    aspects: set[str] = set()
    if kind in ("error", "explain", "next"):
        aspects.add({"error": "why"}.get(kind, kind))
    for match in _COUNT.finditer(clause):
        aspects.add("count:" + _counted(match.group(1)))
    if not any(a.startswith("count:") for a in aspects):  # "how many columns": a count
        for match in _MEMBERS.finditer(clause):
            phrase = match.group(1).lower()
            aspects.add(
                "members:" + noun(phrase.split()[-1] if "feature" not in phrase else "feature")
            )
    for match in _STAT.finditer(clause):
        aspects.add("stat:" + match.group(1).lower()[:6])
    if _KIND.search(clause):
        aspects.add("kind")
    if _SHAPE.search(clause):
        aspects.add("shape")
    if _WHERE.search(clause):
        aspects.add("where")
    if not aspects and _VALUE.search(clause):
        aspects.add("value")
    return aspects


def question_parts(
    question: str, names: Iterable[str], has_error: bool | None = None
) -> frozenset[Part]:
    """Every (subject, aspect) the question asks. `names`: the notebook's data names;
    `has_error`: whether the notebook holds an error the question can be about (None: do
    not know, judge by the words)."""
    known = list(names)
    asked = mentioned_names(question, known)
    parts: set[Part] = set()
    previous_subjects: list[str] = []
    previous_aspects: set[str] = set()
    for clause in (c for c in _CLAUSE.split(question) if c and c.strip()):
        subjects = mentioned_names(clause, known)
        subjects += [f"[{n}]" for n in sorted(cell_numbers(clause))]
        aspects = clause_aspects(clause, classify(clause, has_error))
        if not aspects and _ASKS.search(clause):
            aspects = {"other"}  # "… and how was it fitted?": asks what nothing prepared holds
        if not subjects and not aspects:
            continue
        if not aspects:
            aspects = previous_aspects or {"value"}  # "the shapes of A and B"
        if not subjects:
            subjects = previous_subjects or asked or [""]  # "… and which names does it have"
        for subject in subjects:
            for aspect in aspects:
                parts.add(Part(subject, aspect))
        previous_subjects, previous_aspects = subjects, aspects
    if not parts:
        kind = classify(question, has_error)
        aspect = {"error": "why", "state": "value"}.get(kind, kind)
        parts = {Part(s, aspect) for s in (asked or [""])}
    return frozenset(parts)


def is_bare(answer: str, names: Iterable[str] = ()) -> bool:
    """An answer that is only a number or a single word ("42", "DataFrame.")."""
    text = answer
    for name in names:
        text = re.sub(rf"`?{re.escape(name)}`?\s*(?:is|=|:)?", " ", text)
    words = re.findall(r"[\w.%-]+", text)
    return len(words) <= 1
