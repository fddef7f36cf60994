"""The installed libraries' own words on the functions a notebook calls.

Questions such as "why does `cross_val_score` give better folds than my KFold loop?" turn on
library behaviour a 1.5B model may not know or may misremember. The docstrings of the
functions the notebook calls are read from the kernel while idle (`introspect/probe.py`,
`mode="docs"`, stored per notebook); a question that names one of them gets the one or two
passages of its docstring that rank best for the question.
"""

from __future__ import annotations

import builtins
import re

from ..state.records import Execution
from .defuse import analyse, dotted_name, python_source
from .search import BM25

MAX_TARGETS = 40
PASSAGES = 2
PASSAGE_CHARS = 500
MIN_SCORE = 1.0  # BM25: a passage sharing no word but the function's name is noise
_BUILTINS = frozenset(dir(builtins))
_DOTTED = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")
_PARAMETER = re.compile(r"^[A-Za-z_*][\w*, ]*\s:\s", re.M)


def called_names(view: list[Execution]) -> list[str]:
    """Dotted names the cells call (`stats.bootstrap`, `clf.fit`, `train_test_split`),
    newest cells first, builtins left out."""
    import ast

    found: list[str] = []
    for ex in reversed(view):
        code = python_source(ex.source)
        if code is None or not analyse(ex.source).parsed:
            continue
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = dotted_name(node.func)
                if name and name not in found and name.split(".")[0] not in _BUILTINS:
                    found.append(name)
    return found


def asked_names(question: str) -> list[str]:
    """Functions the question writes as code: `st.expon.fit(...)`, `grid.predict`, `f(`."""
    names: list[str] = []
    for chunk in [*re.findall(r"`([^`]+)`", question), question]:
        for name in _DOTTED.findall(chunk) + _CALLED.findall(chunk):
            if name not in names and name.split(".")[0] not in _BUILTINS and len(name) > 2:
                names.append(name)
    return names


def doc_targets(view: list[Execution], question: str | None, known: set[str]) -> list[str]:
    """What to read from the kernel: the question's functions first, then the cells' calls,
    minus what the store already has (an empty entry means "none to read")."""
    wanted = asked_names(question) if question else []
    wanted += [n for n in called_names(view) if n not in wanted]
    return [n for n in wanted if n not in known][:MAX_TARGETS]


def passages(docs: dict[str, str], question: str) -> list[tuple[str, str]]:
    """(name, passage) of the docstrings the question names, best first."""
    asked = asked_names(question)
    words = set(re.findall(r"[A-Za-z_]\w*", question))
    chosen = [
        name
        for name, text in docs.items()
        if text and (name in asked or (name.rsplit(".", 1)[-1] in words and "_" in name))
    ]
    chosen += [
        name
        for name, text in docs.items()
        if text and name not in chosen and any(a.endswith("." + name) for a in asked)
    ]
    pieces: list[tuple[str, str]] = []
    for name in chosen[:3]:
        for piece in _split(docs[name]):
            pieces.append((name, piece))
    if not pieces:
        return []
    # The function's own name is in every passage of its docstring: rank on the rest.
    query = question
    for name in chosen:
        for part in name.split("."):
            query = re.sub(rf"\b{re.escape(part)}\b", " ", query)
    scores = BM25([p for _, p in pieces]).scores(query)
    ranked = sorted(zip(scores, range(len(pieces)), strict=True), key=lambda pair: -pair[0])
    out = []
    for score, index in ranked[:PASSAGES]:
        if score < MIN_SCORE or score < ranked[0][0] / 2:
            break
        name, piece = pieces[index]
        out.append((name, piece[:PASSAGE_CHARS]))
    return out


def _split(doc: str) -> list[str]:
    """Paragraphs; a parameter list is cut into one entry per parameter. Examples are not
    kept: they are long and rarely about this notebook."""
    doc = doc.split("\nExamples\n--------", 1)[0]
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", doc):
        paragraph = paragraph.strip()
        if not paragraph or set(paragraph) <= set("-= \n"):
            continue
        starts = [m.start() for m in _PARAMETER.finditer(paragraph)]
        if len(starts) > 1 or (starts and starts[0] > 0):
            bounds = [0, *starts] if starts[0] > 0 else starts
            for begin, end in zip(bounds, [*bounds[1:], len(paragraph)], strict=True):
                part = paragraph[begin:end].strip()
                if _substantial(part):
                    out.append(part)
        elif _substantial(paragraph):
            out.append(paragraph)
    return out


def _substantial(text: str) -> bool:
    """More than a section header ("Returns\n-------")."""
    return sum(c.isalpha() for c in text) >= 30
