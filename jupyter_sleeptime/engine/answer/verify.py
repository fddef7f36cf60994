"""Does a prepared answer hold what a part of a question asks, and is every claim of a
model-written answer backed by the facts of the names it is about?

A model-written anticipated answer is served only when each number, type name and listed
member in it is found in the facts of *its* names (their value, type, where they were set,
earlier values): "42" passes no check because the notebook prints a 42 somewhere. Fact-built
answers (value cards, error cards) need no claim check, only the coverage one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..facts.memory_check import LABEL, NUMBER, number_supported
from .question_parts import noun

# A type: dotted (`pandas.DataFrame`), CamelCase with an inner capital (`TfidfVectorizer`,
# `DataFrame`), or a builtin named as one ("an int", "a list").
_DOTTED = re.compile(r"\b[a-z_][\w]*(?:\.[A-Za-z_]\w*)+\b")
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b")
_BUILTIN = re.compile(
    r"\b(?:an?|the)\s+(int|integer|float|str|string|list|dict|dictionary|tuple|set|bool|"
    r"boolean|ndarray|array|series|dataframe|function|module|generator|none)\b",
    re.I,
)
_BUILTIN_NAMES = {"integer": "int", "string": "str", "dictionary": "dict", "boolean": "bool"}
_QUOTED = re.compile(r"`([^`]+)`|'([^'\n]{1,40})'|\"([^\"\n]{1,40})\"")
_BRACKETS = re.compile(r"[\[{(]([^\[\]{}()]*[,\s][^\[\]{}()]*)[\]})]")
_ITEM = r"[A-Za-z_][\w.-]*"
_LISTED = re.compile(rf"\b({_ITEM}(?:\s*,\s*{_ITEM})+,?\s+(?:and|or)\s+{_ITEM})\b")
_CELL = re.compile(r"\[\s*#?\d+\s*\]|\bcell\s+\d+", re.I)
_SHAPE = re.compile(
    r"\(\s*\d+\s*,\s*\d*\s*(?:,\s*\d+\s*)*\)|\d+\s*(?:rows?|columns?|×|x\s*\d)|"
    r"\blen(?:gth)?\b\D{0,4}\d+|\bshape\b",
    re.I,
)
_LIST = re.compile(r"[\[{(][^\]})]*[,'\"\s][^\]})]*[\]})]|\w+\s*,\s*\w+\s*,|\w+,\s*\w+\s+and\s+\w+")


# -- claims ----------------------------------------------------------------------------------------
def claims(answer: str) -> dict[str, list[str]]:
    """The numbers, type names and listed members an answer states."""
    text = LABEL.sub(" ", answer)
    types = set(_DOTTED.findall(text)) | set(_CAMEL.findall(text))
    types |= {_BUILTIN_NAMES.get(m.lower(), m.lower()) for m in _BUILTIN.findall(text)}
    members: set[str] = set()
    for groups in _QUOTED.findall(text):
        members.add(next(g for g in groups if g))
    for inside in _BRACKETS.findall(text):
        members |= {i.strip(" '\"`") for i in re.split(r"[,\s]+", inside) if i.strip(" '\"`")}
    for run in _LISTED.findall(text):
        members |= {i.strip() for i in re.split(r",|\band\b|\bor\b", run) if i.strip()}
    numbers = NUMBER.findall(text)
    members = {m for m in members if not NUMBER.fullmatch(m)}
    return {"numbers": numbers, "types": sorted(types), "members": sorted(members)}


def unsupported(answer: str, evidence: str, names: Iterable[str] = ()) -> list[str]:
    """The claims of `answer` that `evidence` (the facts of the names it is about) does not
    hold; empty when every claim is backed."""
    found = claims(answer)
    lowered = evidence.lower()
    own = {n.lower() for n in names}
    missing = [n for n in found["numbers"] if not number_supported(n, evidence)]
    for word in found["types"] + found["members"]:
        w = word.lower().strip("`.")
        if w in own or not w:
            continue
        # a dotted `name.attr` of one of its names counts as the name's own
        if w.split(".")[0] in own and w.split(".")[-1] in lowered:
            continue
        if not re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", lowered):
            missing.append(word)
    return missing


# -- coverage --------------------------------------------------------------------------------------
def holds(text: str, aspect: str) -> bool:
    """Whether a model-written answer holds what an aspect asks (its question asked it)."""
    head = aspect.split(":")[0]
    if head == "kind":
        return bool(_DOTTED.search(text) or _CAMEL.search(text) or _BUILTIN.search(text))
    if head == "shape":
        return bool(_SHAPE.search(text) or NUMBER.search(LABEL.sub(" ", text)))
    if head in ("count", "stat"):
        return bool(NUMBER.search(LABEL.sub(" ", text)))
    if head == "members":
        return bool(_LIST.search(text))
    if head == "where":
        return bool(_CELL.search(text))
    return bool(text.strip())  # value, why, explain, next: any answer of its question


def card_holds(card: str, aspect: str) -> bool:
    """Whether a value card (type, value summary, where set, earlier values) holds what an
    aspect asks: kind, value, shape and where by construction; a count or a list only when
    the card names what is counted or listed."""
    head, _, what = aspect.partition(":")
    if head in ("kind", "value", "shape", "where"):
        return True
    if head == "count":
        if not NUMBER.search(_WHERE_SET.sub(" ", LABEL.sub(" ", card))):
            return False
        if what in ("row", "column") and (_SHAPE.search(card)):
            return True
        return _mentions(card, what)
    if head == "members":
        return _mentions(card, what) and bool(_LIST.search(card))
    return False  # stat, why, explain, next: a value card does not answer them


def _mentions(text: str, what: str) -> bool:
    """The card names the counted or listed thing ("columns", "classes_", "vocabulary")."""
    if not what or what == "thing":
        return False
    words: set[str] = set()
    for match in _IDENT.finditer(text):
        word = match.group(0)
        if _ARGUMENT.match(text, match.end()):
            continue  # `max_features=5` sets a limit, it does not count or list features
        parts = word.strip("_").split("_") if word.endswith("_") else [word]
        words |= {noun(p) for p in parts if p}
    return what in words


_IDENT = re.compile(r"[A-Za-z_]\w*")
_ARGUMENT = re.compile(r"\s*=(?!=)")
_WHERE_SET = re.compile(r"\bline \d+")
