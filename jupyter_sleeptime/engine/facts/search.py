"""A small BM25 ranker over the notebook's cells (source + outputs) and markdown.

Notebooks hold tens to hundreds of cells: a pure-Python BM25 over a few thousand tokens
ranks them in well under a millisecond, with no index to keep in sync.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "cell",
        "cells",
        "code",
        "notebook",
        "value",
        "values",
        "variable",
        "variables",
    ]
)
CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
K1 = 1.2
B = 0.75


def tokens(text: str) -> list[str]:
    """Words and numbers, lower case; `test_size` also counts as `test` and `size`."""
    out: list[str] = []
    for match in TOKEN.findall(text):
        word = match.lower()
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(word)
        if "_" in word.strip("_"):
            out.extend(p for p in word.split("_") if len(p) > 1 and p not in STOPWORDS)
        elif len(word) > 4 and word.endswith("s") and not word.isdigit():
            out.append(word[:-1])  # plural: "folds" finds "fold"
        elif len(word) > 5 and word.endswith("ing"):
            stem = word[:-3]  # "fitting" finds "fit", "scaling" finds "scal(e)"
            out.append(stem[:-1] if stem[-1] == stem[-2] else stem)
        camel = CAMEL.findall(match)
        if len(camel) > 1:  # StratifiedKFold: "stratified", "fold"
            out.extend(p.lower() for p in camel if len(p) > 1 and p.lower() not in STOPWORDS)
    return out


class BM25:
    def __init__(self, documents: Sequence[str]) -> None:
        self.docs = [Counter(tokens(d)) for d in documents]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.average = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.keys())
        n = len(self.docs)
        self.idf = {
            term: math.log(1 + (n - count + 0.5) / (count + 0.5))
            for term, count in frequency.items()
        }

    def scores(self, query: str) -> list[float]:
        terms = set(tokens(query))
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            score = 0.0
            norm = K1 * (1 - B + B * length / self.average) if self.average else K1
            for term in terms:
                tf = doc.get(term)
                if tf:
                    score += self.idf[term] * tf * (K1 + 1) / (tf + norm)
            out.append(score)
        return out
