"""How a prompt splits into pieces: a cell's source (``In [3]:``), its output (``Out [3]:``),
a markdown cell (``Markdown:``), a digest line (``name: type = summary``).

When a rule fails on a whole prompt it is run again piece by piece, and only a piece it still
fails on is withheld, so one odd output costs that output and nothing else."""

from __future__ import annotations

import itertools
import re

_HEAD = re.compile(
    r"^(?:(?P<head>(?:In|Out) \[[^\]\n]{1,16}\][^\n:]{0,40}:|Markdown:)"
    r"|(?P<line>[A-Za-z_][\w.]{0,80}: [^\n=]{1,60} = [^\n]*))[ \t]*$",
    re.M,
)


def pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of each piece, in order, covering the whole text."""
    cuts = {0, len(text)}
    for m in _HEAD.finditer(text):
        # a header line is a piece of its own, so a withheld cell still shows which one it
        # was (`In [3]:` then the placeholder); so is a digest line
        cuts.add(m.start())
        cuts.add(min(len(text), m.end() + 1))
    ordered = sorted(cuts)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b > a]
