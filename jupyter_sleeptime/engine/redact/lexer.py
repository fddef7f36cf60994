"""A tolerant lexer for Python-like text: strings, comments, names and brackets, never
failing on cut or mixed text; the site of a literal (which call, which argument, which name)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------
# Where a value sits in code: a tolerant lexer for Python-like text
# --------------------------------------------------------------------------------------
# The prompt is text, not a module: cells, outputs, tracebacks and markdown are mixed, cells
# are capped mid-line, a traceback shows single lines. So code is read locally, from a call's
# "(" or from a line start, with a lexer that never fails: what it does not know is "other".
# (ast.parse and tokenize alone cost 17-21 ms per 50,000 characters here, over budget.)

LEX = re.compile(
    r"""
    (?P<ws>(?:[ \t\r\n\f]|\\\r?\n)+)
  | (?P<com>\#[^\r\n]*)
  | (?P<pre>[rRbBuUfF]{1,2})?(?:
        \"\"\"(?P<t2>(?:[^"\\]|\\.|"(?!""))*)\"\"\"
      | '''(?P<t1>(?:[^'\\]|\\.|'(?!''))*)'''
      | "(?P<d>[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*)"
      | '(?P<s>[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*)'
      | "(?P<du>[^"\\\r\n]{8,})(?=\r?\n|\Z)  # cut by an output cap: "4c8e2a…
      | '(?P<su>[^'\\\r\n]{8,})(?=\r?\n|\Z)
    )
  | (?P<name>[A-Za-z_]\w*)
  | (?P<num>\d[\w.]*)
  | (?P<op>==|!=|<=|>=|->|:=|\*\*|[()\[\]{},=:.;*])
  | (?P<other>\S)
    """,
    re.X | re.S,
)
STR_GROUPS = frozenset(("t2", "t1", "d", "s", "du", "su"))
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset(")]}")


@dataclass
class Arg:
    """One argument of a call (or one item of a tuple/list argument)."""

    index: int = -1  # position among positional arguments; -1 for keyword arguments
    kw: str | None = None
    lits: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, prefix)
    name: str | None = None  # the argument is one (dotted) name
    items: list[Arg] | None = None  # a parenthesised or bracketed sequence of items
    other: bool = False  # calls, subscripts, operators, numbers, f-strings…
    dot: bool = False

    def literal(self, text: str) -> str | None:
        """The value when the argument is plain string literal(s) ("a" "b" concatenated)."""
        if not self.lits or self.other or self.name or self.items is not None:
            return None
        if any("f" in p.lower() for _, _, p in self.lits):
            return None  # f-strings are built from variables
        return "".join(text[s:e] for s, e, _ in self.lits)

    def empty(self) -> bool:
        return not (self.lits or self.name or self.other or self.items is not None)

    def add(self, m: re.Match[str], kind: str | None) -> None:
        """Feed one top-level token of this argument."""
        tok = m.group()
        if kind in STR_GROUPS:
            if self.name or self.items is not None:
                self.other = True
            else:
                self.lits.append((m.start(kind), m.end(kind), m.group("pre") or ""))
        elif kind == "name":
            if self.name is not None and self.dot:
                self.name += "." + tok
                self.dot = False
            elif self.empty():
                self.name = tok
            else:
                self.other = True
        elif tok == "." and self.name is not None and not self.dot:
            self.dot = True
        else:
            self.other = True


def tokens(text: str, pos: int, end: int, layout: bool = False) -> Iterator[re.Match[str]]:
    """The tokens of text[pos:end] in order, up to the first character the lexer cannot read;
    whitespace and comments too with `layout=True`."""
    while pos < end:
        m = LEX.match(text, pos, end)
        if m is None:
            return
        pos = m.end()
        if layout or m.lastgroup not in ("ws", "com"):
            yield m


def call_args(text: str, open_at: int, limit: int = 3000) -> list[Arg]:
    """Arguments of the call whose "(" is at `open_at`. Tolerant: a call cut off by an output
    cap or a traceback's single line yields the arguments seen so far."""
    end = min(len(text), open_at + limit)
    args: list[Arg] = []
    cur, item = Arg(), None
    depth, npos = 0, 0
    for m in tokens(text, open_at + 1, end):
        kind = m.lastgroup
        tok = m.group()
        if depth == 0:
            if tok == "," or tok in _CLOSE:
                if not cur.empty():
                    if cur.kw is None:
                        cur.index, npos = npos, npos + 1
                    args.append(cur)
                if tok != ",":
                    return args
                cur = Arg()
            elif tok == "=" and cur.kw is None and cur.name and not cur.other and not cur.dot:
                cur.kw, cur.name = cur.name, None
            elif tok in _OPEN:
                depth = 1
                if cur.empty() and tok != "{":
                    cur.items, item = [], Arg()
                else:
                    cur.other = True  # a call or subscript: getpass(), os.environ["X"]
            else:
                cur.add(m, kind)
        elif tok in _OPEN:
            depth += 1
            if item is not None:
                item.other = True
        elif tok in _CLOSE:
            depth -= 1
            if depth == 0 and item is not None and cur.items is not None:
                if not item.empty():
                    cur.items.append(item)
                item = None
        elif depth == 1 and item is not None and cur.items is not None:
            if tok == ",":
                if not item.empty():
                    cur.items.append(item)
                item = Arg()
            else:
                item.add(m, kind)
    if not cur.empty():
        if cur.kw is None:
            cur.index = npos
        args.append(cur)
    return args


# -- the site of a literal: which call, which argument, which name ------------------------


@dataclass
class _Site:
    callee: str | None = None  # innermost call around the literal
    index: int = -1  # positional index there (-1: keyword argument or not in a call)
    kw: str | None = None
    prev: str | None = None  # the previous positional argument, when it is one literal
    key: str | None = None  # dict key, when the literal is a dict value
    target: str | None = None  # assignment target of the statement


class _Frame:
    __slots__ = ("callee", "close", "first", "index", "key", "kw", "lit", "n", "prev")

    def __init__(self, close: str, callee: str | None) -> None:
        self.close, self.callee = close, callee
        self.index = 0
        self.kw: str | None = None  # the keyword of the current argument
        self.prev: str | None = None  # the previous positional argument, when one literal
        self.key: str | None = None  # the key of the current dict item
        self.lit: str | None = None  # the current item when it is one literal
        self.first: str | None = None  # the current item when it is one name
        self.n = 0  # tokens in the current item


SITE_WINDOW = 1500  # characters read back from a literal, at most


def site_at(text: str, pos: int) -> _Site:
    """Where the literal starting at `pos` sits, read from its line (and the lines before
    while the brackets around it opened earlier), never more than SITE_WINDOW back."""
    floor = max(0, pos - SITE_WINDOW)
    start = max(floor, text.rfind("\n", 0, pos) + 1)
    for _ in range(12):
        site = _scan_site(text, start, pos)
        if site is not None or start <= floor:
            return site or _Site()
        start = max(floor, text.rfind("\n", 0, start - 1) + 1)
    return _Site()


def _scan_site(text: str, start: int, pos: int) -> _Site | None:
    """Lex [start, pos) keeping a stack of open brackets; None when the window is too short."""
    stack: list[_Frame] = []
    head, head_state, target = "", 0, None  # statement head: 1 in a name, 2 in an annotation
    last_name: str | None = None  # dotted name ending at the previous token
    prev = ""
    for m in tokens(text, start, pos, layout=True):
        kind = m.lastgroup
        if kind in ("ws", "com"):
            if not stack and "\n" in m.group():
                head, head_state, target = "", 0, None
            continue
        tok = m.group()
        dotted = kind == "name" and prev == "." and last_name is not None
        if kind == "name":
            last_name = f"{last_name}.{tok}" if dotted else tok
        elif tok != ".":
            callee, last_name = (last_name if prev.isidentifier() else None), None
        top = stack[-1] if stack else None
        if tok in _OPEN:
            if top is not None:
                top.n += 1
            stack.append(_Frame(_OPEN[tok], callee if tok == "(" else None))
        elif tok in _CLOSE:
            if not stack:
                return None  # opened before this window
            stack.pop()
        elif top is None:  # statement level: `name(.attr)* [: annotation] = …`
            if tok == "=" and head_state in (1, 2):
                target, head_state = head, 3
            elif tok == ";":
                head, head_state, target = "", 0, None
            elif head_state == 0 and kind == "name":
                head, head_state = tok, 1
            elif head_state == 1 and (tok == "." or dotted):
                head += tok
            elif head_state == 1 and tok == ":":
                head_state = 2
            elif head_state == 1:
                head_state = 4
        elif tok == ",":
            if top.kw is None and top.key is None:
                top.prev = top.lit if top.n == 1 else None
                top.index += 1
            top.kw = top.key = top.lit = top.first = None
            top.n = 0
        elif tok == "=" and top.close == ")" and top.n == 1 and top.first:
            top.kw, top.n = top.first, 0
        elif tok == ":" and top.close == "}" and top.n == 1:
            top.key, top.n = top.lit or top.first, 0
        elif (tok == "." or dotted) and top.n == 1 and top.first:
            top.first += tok  # a dotted name stays one item: self.key, cfg.user
        else:
            top.n += 1
            top.lit = m.group(kind) if kind in STR_GROUPS and top.n == 1 else None
            top.first = tok if kind == "name" and top.n == 1 else None
        prev = tok
    if not stack:
        before = text[max(0, start - 200) : max(0, start - 1)].rstrip()
        if before[-1:] in ("(", "[", "{", ",", "\\", "="):
            return None  # the statement began on an earlier line
        return _Site(target=target)
    top = stack[-1]
    call = next((f for f in reversed(stack) if f.close == ")" and f.callee), None)
    if top.close == ")" and top.callee:
        return _Site(top.callee, -1 if top.kw else top.index, top.kw, top.prev, None, target)
    if top.close == "}":
        return _Site(call.callee if call else None, -1, None, None, top.key, target)
    return _Site(call.callee if call else None, -1, call.kw if call else None, None, None, target)
