"""Keep the model-written memory from contradicting the facts.

The memory is narrative (purpose, pipeline, open problems); numbers live in the facts. A
line of memory that gives a number is kept only when the facts back it: a number next to a
name must match that name's current value (so a score rebound by a later loop cannot stay
"the test accuracy"), and any other number must appear somewhere in the notebook's
sources, outputs or variables. Everything else of the memory is kept as written.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..answer.question import mentioned_names
from ..state.notebook_text import render_outputs
from .sheet import NotebookFacts

NUMBER = re.compile(r"(?<![\w.\[])-?\d+(?:\.\d+)?(?![\w\]])")
LABEL = re.compile(r"\[\s*#?\d+\s*\]")


def check_memory(text: str, facts: NotebookFacts) -> tuple[str, list[str]]:
    """(memory with unsupported sentences dropped, the dropped sentences)."""
    known = [n for n, f in facts.names.items() if not f.module]
    corpus = _corpus(facts)
    kept_lines: list[str] = []
    dropped: list[str] = []
    for line in text.splitlines():
        kept = []
        for sentence in _SENTENCE.split(line):
            if _supported_sentence(sentence, facts, known, corpus):
                kept.append(sentence)
            else:
                dropped.append(sentence.strip())
        if kept or not line.strip():
            kept_lines.append(" ".join(kept))
    return "\n".join(kept_lines).strip(), dropped


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*(\[])")


def _supported_sentence(sentence: str, facts: NotebookFacts, known: list[str], corpus: str) -> bool:
    numbers = NUMBER.findall(LABEL.sub(" ", sentence))
    if not numbers:
        return True
    names = [n for n in mentioned_names(sentence, known) if _written_as_code(n, sentence)]
    valued = [facts.names[n] for n in names if facts.names[n].summary]
    if valued:
        evidence = " ".join(f"{f.summary} {f.last.effect.text if f.last else ''}" for f in valued)
        return all(number_supported(n, evidence) for n in numbers)
    return all(number_supported(n, corpus) for n in numbers)


def _written_as_code(name: str, sentence: str) -> bool:
    """`score` in backticks, or a name no English word looks like (`X_train`, `df2`): the
    sentence is about the variable, not the word ("wine", "data")."""
    if f"`{name}" in sentence:
        return True
    return bool(re.search(r"[_\d]|[a-z][A-Z]", name)) or len(name) <= 2


ECHO_SHARE = 0.6


def drop_echoes(text: str, instructions: str) -> str:
    """Lines that repeat the task's own instructions (a small model copies them back)."""
    lines = [set(_WORDS.findall(line.lower())) for line in instructions.splitlines()]
    lines = [words for words in lines if len(words) >= 4]
    kept = []
    for line in text.splitlines():
        words = set(_WORDS.findall(line.lower()))
        echo = len(words) >= 4 and any(
            len(words & theirs) >= ECHO_SHARE * len(words) for theirs in lines
        )
        if not echo:
            kept.append(line)
    return "\n".join(kept).strip()


_WORDS = re.compile(r"[a-z]{3,}")


def _corpus(facts: NotebookFacts) -> str:
    parts = [ex.source + "\n" + render_outputs(ex, 4000) for ex in facts.view]
    if facts.digest is not None:
        parts.extend(str(v.get("summary", "")) for v in facts.digest.variables)
    parts.extend(c.source for c in facts.document.markdown)
    return "\n".join(parts)


def number_supported(claim: str, evidence: str) -> bool:
    """The claimed number occurs in the evidence, exactly or as its rounding."""
    try:
        wanted = Decimal(claim)
    except InvalidOperation:
        return True
    exponent = wanted.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    for found in NUMBER.findall(evidence):
        try:
            value = Decimal(found)
        except InvalidOperation:
            continue
        if value == wanted:
            return True
        try:
            if places >= 0 and value.quantize(Decimal(1).scaleb(-places)) == wanted:
                return True
        except InvalidOperation:  # too many digits to round that way
            continue
    return False
