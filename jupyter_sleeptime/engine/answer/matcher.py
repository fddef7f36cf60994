"""Is an asked question one we prepared an answer for? Semantic matching with guard rails.

A false hit is worse than a miss: a prepared answer to another question is a wrong answer
given with confidence. So a prepared answer is used only when

1. **identity agrees** — the notebook names written in the question are exactly those of the
   prepared question, the cell numbers are the same, exception types named agree, and no
   code identifier in the question is unknown to the notebook (`X_val` never hits an answer
   about `X_train`; "[7]" never hits "[8]");
2. **the kind agrees** (state / explain / error / next, `question.classify`, told by the
   notebook: no error in it, no error question);
3. **every part is covered** (`question_parts.py`): each thing the question asks about each name
   (its kind, value, shape, a count, its members, where it was set, why it failed, what
   next) is held by the prepared answer — a count never answers a question about a type and
   a vocabulary; a model-written answer covers only what its own question asked and what
   its text holds, and a bare number or word serves only a one-part question;
4. **the intent is close**: the question, with names and cell numbers masked, is similar to
   one of the prepared question's phrasings by static word embeddings (`wordllama`, 256-d,
   weights inside its wheel, ~0.3 ms a question on a CPU), at or above a threshold
   calibrated on labelled pairs in `tests/data/prepared/` (precision first).

Without wordllama (not installed, unreadable weights) only normalised exact matches hit.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..facts.search import STOPWORDS
from ..model.parsing import normalise_question
from .question import cell_numbers, classify, identifiers, mentioned_names
from .question_parts import Part, is_bare, question_parts
from .verify import card_holds, holds

log = logging.getLogger(__name__)

# Calibrated by tests/data/prepared/calibrate.py on the calibration half of the labelled
# pairs there (split by notebook): the lowest threshold with no false hit on that half, plus
# a margin of 0.02; tests/engine/test_matcher.py asserts precision on the held-out half.
THRESHOLD = 0.54
# A question that asks for a computation (a statistic, a plot, a transformation) is not
# answered by a stored value, however close its wording: only the model answers it.
NEEDS_WORK = re.compile(
    r"\b(?:mean|average|median|max(?:imum)?|min(?:imum)?|sum|std|standard deviation|variance|"
    r"unique|distinct|missing|nulls?|nans?|correlat\w*|distribut\w*|percentile|quantile|"
    r"histogram|plot\w*|chart|graph|sort\w*|normali[sz]\w*|convert\w*|save|write|improve|"
    r"compare|differ\w*|expected|why|how (?:do|can|should) i)\b",
    re.I,
)
# Words any question about a value may use; the value card answers them by construction.
_STATE_TEXT = """what which where when who how many much is are was were does do did the a an of in on to
    for and or it its this that now currently current still right at point hold holds held
    contain contains stored store value values show tell give me get kind type object class
    shape shapes size big large dimensions rows columns column length long index set assigned
    defined created made last first since overwritten deleted removed around exist exists
    significant figures decimals decimal digits rounded round places name variable cell has
    have had been can could you your please"""
STATE_WORDS = frozenset(_STATE_TEXT.split())
_CONTENT = re.compile(r"[a-z][a-z_]+")


def _unanswered(masked: str, answer: str) -> list[str]:
    """Words of the question the value card says nothing about ("the accuracy of `clf`"):
    then the card is not the answer, however close the wording."""
    text = answer.lower()
    return [
        w
        for w in _CONTENT.findall(masked.lower().replace("name", " "))
        if w not in STATE_WORDS and w not in STOPWORDS and w[:5] not in text
    ]


_EXCEPTION = re.compile(r"\b([A-Z]\w*(?:Error|Exception|Warning))\b")
_CELL_REF = re.compile(r"(?:\b(?:cell|in|out|execution)\s*\[?\s*#?\d+\s*\]?)|\[\s*\d+\s*\]", re.I)


@dataclass
class Candidate:
    """A prepared answer and the ways its question may be asked."""

    question: str  # shown to the user as what was matched
    answer: str
    kind: str
    names: frozenset[str] = frozenset()
    cells: frozenset[int] = frozenset()
    exceptions: frozenset[str] = frozenset()
    phrasings: tuple[str, ...] = ()  # masked phrasings (NAME, cell N); default: the question
    source: str = "facts"  # facts | model
    extra: dict = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)  # a value card's text per name
    parts: frozenset[Part] | None = None  # what a model-written answer's question asked

    def covers(self, part: Part) -> bool:
        """Whether this prepared answer holds what `part` asks."""
        if self.kind == "error":
            return part.aspect == "why" and part.subject in {"", *_cell_subjects(self.cells)}
        if self.source == "facts" and self.kind == "state":  # value cards
            if part.subject not in self.names:
                return False
            return card_holds(self.cards.get(part.subject, self.answer), part.aspect)
        if self.parts is None:  # an explanation written for a cell
            return part.aspect == self.kind and part.subject in {"", *_cell_subjects(self.cells)}
        return part in self.parts and holds(self.answer, part.aspect)


def _cell_subjects(cells: Iterable[int]) -> set[str]:
    return {f"[{c}]" for c in cells}


# A bare answer ("42", "DataFrame") answers one part, and only a value, a count or a kind.
BARE_ASPECTS = ("value", "count", "kind")


@dataclass
class Match:
    candidate: Candidate
    score: float


class Embedder:
    """wordllama, loaded once on first use from the weights inside its wheel."""

    def __init__(self) -> None:
        self._model = None
        self._failed = False
        self._lock = threading.Lock()

    def load(self):
        if self._model is not None or self._failed:
            return self._model
        with self._lock:
            if self._model is None and not self._failed:
                try:
                    import wordllama
                    from wordllama import WordLlama

                    folder = Path(wordllama.__file__).parent
                    self._model = WordLlama.load(cache_dir=folder, disable_download=True)
                except Exception as exc:  # matching falls back to exact questions
                    log.warning("sleeptime: semantic matching is off (%s)", exc)
                    self._failed = True
        return self._model

    def similarities(self, text: str, others: Sequence[str]) -> list[float]:
        model = self.load()
        if model is None or not others:
            return [
                1.0 if normalise_question(text) == normalise_question(o) else 0.0 for o in others
            ]
        vectors = model.embed([text, *others], norm=True)
        query, rest = vectors[0], vectors[1:]
        return [float(v @ query) for v in rest]


EMBEDDER = Embedder()


def mask(question: str, names: Iterable[str]) -> str:
    """Names → NAME, cell references → "cell N", code quotes dropped: what is left is the
    intent, which is what the embeddings compare."""
    text = _CELL_REF.sub(" cell N ", question)
    text = _EXCEPTION.sub(lambda m: "warning" if m.group(1).endswith("Warning") else "error", text)
    for name in sorted(set(names), key=len, reverse=True):
        pattern = rf"(?<![\w.]){re.escape(name)}(?:\.\w+)*(?!\w)"
        text = re.sub(pattern, "NAME", text, flags=re.I if len(name) >= 4 else 0)
    text = text.replace("`", "")
    return " ".join(text.split())


@dataclass
class Identity:
    names: frozenset[str]
    cells: frozenset[int]
    exceptions: frozenset[str]
    unknown: frozenset[str]  # code identifiers the notebook does not know
    kind: str
    masked: str
    parts: frozenset[Part] = frozenset()


def identity(
    question: str,
    names: Iterable[str],
    vocabulary: Iterable[str] = (),
    has_error: bool | None = None,
) -> Identity:
    """`names`: the notebook's data names (what prepared answers are about); `vocabulary`:
    every other name it knows (imports, functions) — code words outside both are unknown;
    `has_error`: whether the notebook holds an error a question can be about."""
    names = list(names)
    named = frozenset(mentioned_names(question, names))
    masked = mask(question, named)
    exceptions = frozenset(_EXCEPTION.findall(question))
    known = set(names) | set(vocabulary) | {"NAME"}
    unknown = frozenset(w for w in identifiers(masked) if w not in known and w not in exceptions)
    return Identity(
        named,
        frozenset(cell_numbers(question)),
        exceptions,
        unknown,
        classify(question, has_error),
        masked,
        question_parts(question, names, has_error),
    )


def covers_all(asked: Identity, candidate: Candidate) -> bool:
    """Every part of the asked question is held by the candidate; a bare model answer only
    for a one-part question asking a value, a count or a kind."""
    if not asked.parts or not all(candidate.covers(p) for p in asked.parts):
        return False
    if candidate.source == "model" and is_bare(candidate.answer, candidate.names):
        (only, *rest) = sorted(asked.parts, key=str)
        return not rest and only.aspect.split(":")[0] in BARE_ASPECTS
    return True


class Matcher:
    def __init__(self, embedder: Embedder | None = None, threshold: float = THRESHOLD) -> None:
        self.embedder = embedder or EMBEDDER
        self.threshold = threshold

    def score(self, asked: Identity, candidate: Candidate) -> float | None:
        """Similarity of intent when the identity guard rails pass, else None."""
        if asked.unknown or asked.kind != candidate.kind:
            return None
        if asked.names != candidate.names or asked.cells != candidate.cells:
            return None
        if asked.exceptions and asked.exceptions != candidate.exceptions:
            return None
        if not covers_all(asked, candidate):
            return None
        value_card = candidate.source == "facts" and candidate.kind == "state"
        if value_card and (
            NEEDS_WORK.search(asked.masked) or _unanswered(asked.masked, candidate.answer)
        ):
            return None
        phrasings = candidate.phrasings or (mask(candidate.question, candidate.names),)
        if any(normalise_question(asked.masked) == normalise_question(p) for p in phrasings):
            return 1.0
        return max(self.embedder.similarities(asked.masked, list(phrasings)))

    def match(
        self,
        question: str,
        candidates: Sequence[Candidate],
        names: Iterable[str],
        vocabulary: Iterable[str] = (),
        has_error: bool | None = None,
    ) -> Match | None:
        asked = identity(question, names, vocabulary, has_error)
        best: Match | None = None
        for candidate in candidates:
            score = self.score(asked, candidate)
            if score is None or score < self.threshold:
                continue
            rank = (score, candidate.source == "facts")  # on a tie, the exact facts win
            if best is None or rank > (best.score, best.candidate.source == "facts"):
                best = Match(candidate, score)
        return best
