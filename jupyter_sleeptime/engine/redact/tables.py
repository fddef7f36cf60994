"""Tables: a secret-named column header, then that column's cells below it: pandas text
reprs, markdown, grid and polars tables, CSV/TSV, HTML ``<table>`` (``to_html``, Styler)."""

from __future__ import annotations

import re

from .names import grade_name, value_ok
from .values import Span, word_set

# -- tables: a secret-named column header, then the cells below it ----------------------------

_CELL_DELIMS = re.compile(r"[|│┆]")
_RULE_ROW = re.compile(r"[\s|│┆+\-=:╞╡╪═─┼├┤┌┐└┘┬┴]*")
_EMPTY_CELL = word_set("nan none nat null <na> ... … n/a - --- true false")
_DTYPE_CELL = re.compile(
    r"str|bool|date|time|datetime\S*|duration\S*|object|cat|categorical|null|decimal\S*"
    r"|[iuf](?:8|16|32|64)|list\[.*\]|struct\S*"
)
_FRAME_END = re.compile(r"\s*$|\[\d+ rows x \d+ columns\]|dtype:|Name: ")


def table_spans(text: str, s: int, e: int) -> list[Span] | None:
    """Cells under a secret-named column; None when the name is not a table header."""
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", e)
    le = len(text) if le < 0 else le
    header = text[ls:le]
    hs, he = s - ls, e - ls
    if len(header) > 1000 or le == len(text):
        return None  # no row can follow
    delimited = _CELL_DELIMS.search(header) is not None
    spaced = delimited or any(c in header for c in ("  ", "\t", ",", ";"))
    if not spaced and not _right_aligned_below(header, text, le):
        return None  # words apart by single spaces: prose
    if delimited:
        return _delimited_spans(text, s, e, le, _CELL_DELIMS)
    if "\t" in header:
        return _delimited_spans(text, s, e, le, re.compile("\t"))
    for sep in (",", ";"):  # CSV as printed by !head: no spaces in the header
        if sep in header and " " not in header.strip():
            return _delimited_spans(text, s, e, le, re.compile(sep))
    names = [f for f in header.split() if f not in ("...", "\\")]
    if text[s:e].lower() in ("pass", "pw"):  # also a statement and a verb: a DataFrame only,
        indexed = header[:1] == " " and text[le + 1 : le + 2] not in (" ", "\n", "")
        if not indexed and len(names) < 3:  # its first row starts with an index label
            return None
    gaps = _GAP.findall(header.strip())
    if (
        not _ALIGNED_HEADER.fullmatch(header)
        or (  # prose: single spaces mostly, unless the row below lines up under the names
            sum(len(g) >= 2 for g in gaps) * 2 < len(gaps)
            and not _right_aligned_below(header, text, le)
        )
        or len(names) < (3 if hs == 0 else 2)
    ):
        return None  # prose, or `name  value` (a Series row: the keyword rule reads those)
    graded = grade_name(text[s:e])
    if graded is None:
        return None
    # pandas right-aligns a column's cells on its header's last character; the cell starts
    # after the previous header's end. Left-aligned tables: from the header's start.
    fields = [(m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    col = next((i for i, (a, b) in enumerate(fields) if a <= hs < b), None)
    if col is None or fields[col][0] != hs:
        return None  # the name is inside a longer word (a cell such as "/key"), not a column
    prev_end = fields[col - 1][1] if col else 0
    next_start = fields[col + 1][0] if col + 1 < len(fields) else 10**6
    out: list[Span] = []
    pos = le + 1
    for _ in range(500):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        row = text[pos:end]
        if _FRAME_END.match(row) or row.rstrip().endswith("\\"):
            break
        if he - 1 < len(row) and row[he - 1] != " ":
            a, b = he - 1, he  # back to two spaces (a cell may hold one) or the column before
            while a > prev_end and not (row[a - 1] == " " and row[a - 2 : a - 1] in (" ", "")):
                a -= 1
        elif hs < len(row) and row[hs] != " ":
            a, b = hs, min(next_start, len(row))
        else:
            a = b = 0
        _add_cell(out, row, a, b, pos, graded)
        if end == len(text):
            break
        pos = end + 1
    return out


# a header printed by pandas and friends: names apart, some run of two spaces between them
_ALIGNED_HEADER = re.compile(r"[ \t]*[\w.%/\-]+(?:[ \t]+[\w.%/\-]+)*[ \t]*\\?")
_GAP = re.compile(r"[ \t]+")


def _delimited_spans(
    text: str, s: int, e: int, le: int, delim: re.Pattern[str]
) -> list[Span] | None:
    ls = text.rfind("\n", 0, s) + 1
    cuts = [m.start() for m in delim.finditer(text, ls, le)]
    col = sum(c < s for c in cuts)
    bounds = [ls, *[c + 1 for c in cuts]]
    cell_start = bounds[col]
    cell_end = cuts[col] if col < len(cuts) else le
    cell = text[cell_start:cell_end].strip()
    if not cell.endswith(text[s:e]) or not re.fullmatch(r"[\w.\- ]{1,60}", cell):
        return None  # the name is inside a longer cell, not a column name
    graded = grade_name(re.sub(r"[ \-]+", "_", cell))
    header_cells = delim.split(text[ls:le])
    named = [c.strip() for c in header_cells if c.strip()]
    if graded is None or len(named) < 2 or not all(_HEADER_CELL.fullmatch(c) for c in named):
        return None  # a table header names its columns: not code ending in "," or " | "
    above = text[text.rfind("\n", 0, max(0, ls - 1)) + 1 : max(0, ls - 1)]
    below_end = text.find("\n", le + 1)
    below = text[le + 1 : below_end if below_end >= 0 else len(text)]
    if delim.search(above) and not _RULE_ROW.fullmatch(below):
        return None  # a data row, not the header: a header opens a table or has a rule below
    out: list[Span] = []
    pos = le + 1
    for _ in range(500):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        row = text[pos:end]
        if not row.strip() or not (delim.search(row) or _RULE_ROW.fullmatch(row)):
            break
        if not _RULE_ROW.fullmatch(row):
            cells = [0, *[m.end() for m in delim.finditer(row)]]
            if len(cells) != len(header_cells):
                break  # rows of a table have as many cells as its header
            if col < len(cells):
                a = cells[col]
                b = cells[col + 1] - 1 if col + 1 < len(cells) else len(row)
                _add_cell(out, row, a, b, pos, graded)
        if end == len(text):
            break
        pos = end + 1
    return out


_HEADER_CELL = re.compile(r"[\w .%/\-()#]{1,60}")
_HTML_CELL = re.compile(r"<t([hd])\b[^>]*>(.*?)</t\1>", re.S)
_CUT_CELL = re.compile(r">([^<>]*)</t[hd]>")


def html_column_spans(text: str, s: int, e: int) -> list[Span]:
    """<th>password</th> in an HTML table (DataFrame.to_html, Styler): that column's cells.
    Rows are read between </tr> ends, so a table cut in the middle by an output cap still
    lines up: a row that lost its start is counted from its end."""
    if text[e : e + 4] not in ("</th", "</td"):
        return []
    t0 = text.rfind("<table", max(0, s - 20000), s)
    head = text.rfind("<tr", max(0, t0), s)
    graded = grade_name(text[s:e])
    if t0 < 0 or head < 0 or graded is None or text.find("</tr>", t0, s) >= 0:
        return []  # only the first row holds headers
    head_end = text.find("</tr>", e, e + 20000)
    if head_end < 0:
        return []
    cells = list(_HTML_CELL.finditer(text, head, head_end))
    col = next((i for i, c in enumerate(cells) if c.start(2) <= s < c.end(2)), None)
    if col is None:
        return []
    ncols = len(cells)
    t1 = text.find("</table>", e, e + 50000)
    t1 = t1 if t1 >= 0 else min(len(text), e + 50000)
    out: list[Span] = []
    start = head_end + 5
    while start < t1:
        row_end = text.find("</tr>", start, t1)
        if row_end < 0:
            break
        row_start = text.rfind("<tr", start, row_end)
        row: list[tuple[int, str]] = [
            (m.start(2), m.group(2))
            for m in _HTML_CELL.finditer(text, max(start, row_start), row_end)
        ]
        if row_start < 0:  # a cut row: count from its end, a cell cut before its ">" included
            first = row[0][0] if row else row_end
            cut = _CUT_CELL.search(text, start, first)
            if cut is not None:
                row.insert(0, (cut.start(1), cut.group(1)))
        i = col if row_start >= 0 else len(row) - ncols + col
        if 0 <= i < len(row):
            at, raw = row[i]
            value = raw.strip()
            if value and _cell_ok(value, *graded):
                a = at + raw.find(value)
                out.append((a, a + len(value), graded[1]))
        start = row_end + 5
    return out


def _add_cell(out: list[Span], row: str, a: int, b: int, pos: int, graded: tuple[str, str]) -> None:
    """The stripped value of `row[a:b]` as a span of the text (row at `pos`), if it is one to
    redact under the column's graded name."""
    raw = row[a:b]
    value = raw.strip()
    if value and _cell_ok(value, *graded):
        a += len(raw) - len(raw.lstrip())
        out.append((pos + a, pos + a + len(value), graded[1]))


def _cell_ok(value: str, grade: str, kind: str) -> bool:
    if value.lower() in _EMPTY_CELL or _DTYPE_CELL.fullmatch(value) or "[REDACTED:" in value:
        return False
    return value_ok(value, grade, kind, quoted=True)


def _right_aligned_below(header: str, text: str, le: int) -> bool:
    """The first row under a header ends a cell where each header name ends (pandas
    right-aligns cells on their column name)."""
    end = text.find("\n", le + 1)
    row = text[le + 1 : end if end >= 0 else len(text)]
    ends = [m.end() for m in re.finditer(r"\S+", header)]
    return len(ends) >= 2 and all(
        e <= len(row) and row[e - 1] != " " and row[e : e + 1] in (" ", "") for e in ends
    )
