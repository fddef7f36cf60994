"""What one cell does to the names of the namespace, read from its source (stdlib `ast`).

For each module-level statement, in source order: the names it binds (assignment, loop
target, `with … as`, import, def/class, walrus), augments (`n += 1`), mutates in place
(`df["y"] = …`, `obj.attr = …`, `del df["y"]`, a method call whose value is thrown away such
as `clf.fit(X, y)` or `df.set_index(…, inplace=True)`), deletes (`del x`) and unbinds
(`except … as e` removes `e` when the handler ends). Names bound inside functions, lambdas
and comprehensions are local to them and ignored. Reads are every name loaded anywhere in
the cell, with the first line that loads it.

IPython syntax (`%magic`, `!shell`, `x = !cmd`, `obj?`) is blanked line by line so that
the rest of the cell still parses; a `%%cell` magic makes the whole cell opaque.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache

# Effect kinds. `bind` kinds replace the value; the others change or remove it.
BIND_KINDS = frozenset({"assign", "loop", "with", "import", "def", "class", "except"})
MAX_LITERAL_CHARS = 120
MAX_LINE_CHARS = 160

# Methods that change their object even when their result is displayed.
MUTATING = frozenset(
    [
        "fit",
        "partial_fit",
        "fit_transform",
        "fit_predict",
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "sort",
        "reverse",
    ]
)
_IPY_LINE = re.compile(r"^(\s*)(?:[%!].*|\w[\w.]*\s*=\s*[%!].*|[\w.]+\?{1,2}\s*)$")


@dataclass(frozen=True)
class Effect:
    name: str
    kind: str  # assign | loop | with | import | def | class | except | augment | mutate | delete | unbind
    line: int  # 1-based, in the cell
    text: str  # the statement's first line, stripped
    literal: str | None = None  # repr of the value when it is a plain literal
    loop: str | None = None  # header of the enclosing loop, when inside one
    conditional: bool = False  # inside if / try / with: may not have run
    end_line: int = 0  # last line of the statement

    @property
    def binds(self) -> bool:
        return self.kind in BIND_KINDS


FIT_METHODS = frozenset(["fit", "fit_transform", "fit_predict", "partial_fit", "fit_resample"])


@dataclass(frozen=True)
class FitCall:
    """`clf.fit(X_train_t, y)`, `Xt = scaler.fit_transform(X)`, `clf = Model().fit(X, y)`."""

    estimator: str  # the name that holds the fitted object afterwards
    method: str
    args: tuple[str, ...]  # the data arguments' source text, in call order
    line: int
    text: str  # the statement's first line


@dataclass(frozen=True)
class Shown:
    """A top-level `print(…)` or the displayed last expression, with the names it reads."""

    line: int
    text: str  # the statement's source (first line)
    names: tuple[str, ...]
    kind: str  # print | result


@dataclass(frozen=True)
class CellAnalysis:
    parsed: bool
    effects: tuple[Effect, ...] = ()
    reads: dict[str, tuple[int, ...]] = field(default_factory=dict)  # name -> lines reading it
    last_expression: str | None = None  # the displayed expression (its value is Out[n])
    last_lines: tuple[int, int] = (0, 0)  # first and last line of that expression
    lines: tuple[str, ...] = ()
    fits: tuple[FitCall, ...] = ()
    shown: tuple[Shown, ...] = ()

    def bound(self) -> set[str]:
        return {e.name for e in self.effects if e.binds}

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].strip()[:MAX_LINE_CHARS]
        return ""


def python_source(source: str) -> str | None:
    """The cell as plain Python (IPython-only lines blanked, line numbers kept), or None
    for a cell magic, whose body is not Python."""
    if source.lstrip().startswith("%%"):
        return None
    lines = source.split("\n")
    return "\n".join("" if _IPY_LINE.match(line) else line for line in lines)


@lru_cache(maxsize=4096)
def analyse(source: str) -> CellAnalysis:
    """Effects of a cell; cached by source, so an unchanged cell is parsed once."""
    lines = tuple(source.split("\n"))
    code = python_source(source)
    if code is None:
        return CellAnalysis(parsed=False, lines=lines)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return CellAnalysis(parsed=False, lines=lines)
    walker = _Walker(lines, tree.body[-1] if tree.body else None)
    walker.block(tree.body, loop=None, conditional=False)
    last = None
    last_lines = (0, 0)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        node = tree.body[-1]
        last = ast.get_source_segment(code, node.value)
        last_lines = (node.lineno, node.end_lineno or node.lineno)
    return CellAnalysis(
        parsed=True,
        effects=tuple(walker.effects),
        reads=_reads(tree),
        last_expression=last,
        last_lines=last_lines,
        lines=lines,
        fits=tuple(_fits(tree, code)),
        shown=tuple(_shown(tree, code)),
    )


def _fits(tree: ast.Module, code: str) -> list[FitCall]:
    """The fit calls among the cell's module-level statements (not in loops or functions:
    what they fitted on is then not one thing)."""
    found = []
    for stmt in tree.body:
        value = stmt.value if isinstance(stmt, ast.Expr | ast.Assign) else None
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
            continue
        method = value.func.attr
        if method not in FIT_METHODS:
            continue
        receiver = value.func.value
        if isinstance(receiver, ast.Name):
            estimator = receiver.id
        elif (
            method == "fit"
            and isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            estimator = stmt.targets[0].id  # `clf = Model().fit(X, y)` returns the model
        else:
            continue
        args = [ast.get_source_segment(code, a) or "" for a in value.args[:3]]
        args += [
            ast.get_source_segment(code, k.value) or ""
            for k in value.keywords
            if k.arg in ("X", "y", "raw_documents")
        ]
        line = code.split("\n")[stmt.lineno - 1].strip()[:MAX_LINE_CHARS]
        found.append(FitCall(estimator, method, tuple(a for a in args if a), stmt.lineno, line))
    return found


def _shown(tree: ast.Module, code: str) -> list[Shown]:
    """Module-level `print(…)` calls and the displayed last expression: what the cell's
    output shows, statement by statement."""
    found = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.Expr):
            continue
        call = stmt.value
        is_print = (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
        )
        if not is_print and stmt is not tree.body[-1]:
            continue
        names: list[str] = []
        for node in ast.walk(stmt.value):
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
                continue
            if node.id != "print" and node.id not in names:
                names.append(node.id)
        text = (ast.get_source_segment(code, stmt) or "").split("\n")[0][:MAX_LINE_CHARS]
        found.append(Shown(stmt.lineno, text, tuple(names), "print" if is_print else "result"))
    return found


class _Walker:
    def __init__(self, lines: tuple[str, ...], last: ast.stmt | None = None) -> None:
        self.lines = lines
        self.last = last  # the cell's last statement: an expression there is displayed
        self.effects: list[Effect] = []

    def text(self, node: ast.AST) -> str:
        number = getattr(node, "lineno", 0)
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].strip()[:MAX_LINE_CHARS]
        return ""

    def add(
        self,
        name: str,
        kind: str,
        stmt: ast.stmt,
        loop: str | None,
        conditional: bool,
        literal: str | None = None,
    ) -> None:
        self.effects.append(
            Effect(
                name=name,
                kind=kind,
                line=stmt.lineno,
                text=self.text(stmt),
                literal=literal,
                loop=loop,
                conditional=conditional,
                end_line=getattr(stmt, "end_lineno", None) or stmt.lineno,
            )
        )

    def block(self, body: list[ast.stmt], loop: str | None, conditional: bool) -> None:
        for stmt in body:
            self.statement(stmt, loop, conditional)

    def target(
        self,
        node: ast.expr,
        stmt: ast.stmt,
        kind: str,
        loop: str | None,
        conditional: bool,
        literal: str | None = None,
    ) -> None:
        if isinstance(node, ast.Name):
            self.add(node.id, kind, stmt, loop, conditional, literal)
        elif isinstance(node, ast.Starred):
            self.target(node.value, stmt, kind, loop, conditional)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.target(element, stmt, kind, loop, conditional)
        elif isinstance(node, ast.Subscript | ast.Attribute):
            base = _base_name(node)
            if base:
                self.add(base, "mutate", stmt, loop, conditional)

    def statement(self, stmt: ast.stmt, loop: str | None, conditional: bool) -> None:
        self.walrus(stmt, loop, conditional)
        if isinstance(stmt, ast.Assign):
            literal = _literal(stmt.value)
            for target in stmt.targets:
                self.target(target, stmt, "assign", loop, conditional, literal)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.target(stmt.target, stmt, "assign", loop, conditional, _literal(stmt.value))
        elif isinstance(stmt, ast.AugAssign):
            if isinstance(stmt.target, ast.Name):
                self.add(stmt.target.id, "augment", stmt, loop, conditional)
            else:
                self.target(stmt.target, stmt, "mutate", loop, conditional)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.add(target.id, "delete", stmt, loop, conditional)
                else:
                    self.target(target, stmt, "mutate", loop, conditional)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            header = self.text(stmt).rstrip(":") or "for loop"
            self.target(stmt.target, stmt, "loop", header, conditional)
            self.block(stmt.body, header, conditional)
            self.block(stmt.orelse, loop, True)
        elif isinstance(stmt, ast.While):
            header = self.text(stmt).rstrip(":") or "while loop"
            self.block(stmt.body, header, True)
            self.block(stmt.orelse, loop, True)
        elif isinstance(stmt, ast.If):
            self.block(stmt.body, loop, True)
            self.block(stmt.orelse, loop, True)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.target(item.optional_vars, stmt, "with", loop, conditional)
            self.block(stmt.body, loop, conditional)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.try_statement(stmt, loop, conditional)  # type: ignore[arg-type]
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self.add(stmt.name, "def", stmt, loop, conditional)
        elif isinstance(stmt, ast.ClassDef):
            self.add(stmt.name, "class", stmt, loop, conditional)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".")[0]
                self.add(name, "import", stmt, loop, conditional)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    self.add(alias.asname or alias.name, "import", stmt, loop, conditional)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            # A method call whose result is thrown away is called for its effect on the
            # object; the cell's displayed last line only is when it fits, appends, or
            # passes inplace=True (`df.tail()` there is a read).
            func = stmt.value.func
            if isinstance(func, ast.Attribute):
                base = _base_name(func.value)
                shown = stmt is self.last
                inplace = any(
                    k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value
                    for k in stmt.value.keywords
                )
                if base and (not shown or func.attr in MUTATING or inplace):
                    self.add(base, "mutate", stmt, loop, conditional)
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                for node in ast.walk(case.pattern):
                    if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                        self.add(node.name, "assign", stmt, loop, True)
                self.block(case.body, loop, True)

    def try_statement(self, stmt: ast.Try, loop: str | None, conditional: bool) -> None:
        self.block(stmt.body, loop, True)
        for handler in stmt.handlers:
            if handler.name:
                self.add(handler.name, "except", handler, loop, True)  # type: ignore[arg-type]
            self.block(handler.body, loop, True)
            if handler.name:  # Python deletes the name when the handler ends
                end = Effect(
                    name=handler.name,
                    kind="unbind",
                    line=getattr(handler, "end_lineno", None) or handler.lineno,
                    text=self.text(handler),
                    loop=loop,
                    conditional=True,
                    end_line=getattr(handler, "end_lineno", None) or handler.lineno,
                )
                self.effects.append(end)
        self.block(stmt.orelse, loop, True)
        self.block(stmt.finalbody, loop, conditional)

    def walrus(self, stmt: ast.stmt, loop: str | None, conditional: bool) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            return
        for node in _walk_outside_scopes(stmt):
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self.add(node.target.id, "assign", stmt, loop, conditional)


def _walk_outside_scopes(node: ast.AST):
    """ast.walk without descending into functions, lambdas, classes or comprehensions."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(
            child,
            ast.FunctionDef
            | ast.AsyncFunctionDef
            | ast.ClassDef
            | ast.Lambda
            | ast.ListComp
            | ast.SetComp
            | ast.DictComp
            | ast.GeneratorExp,
        ):
            continue
        yield child
        if not isinstance(child, ast.stmt):
            stack.extend(ast.iter_child_nodes(child))


def _base_name(node: ast.expr) -> str | None:
    """`df` for `df["a"]["b"]`, `df.loc[0]`, `obj.attr.x`."""
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _literal(node: ast.expr) -> str | None:
    """repr of a plain literal value (numbers, strings, tuples/lists of them), capped."""
    if not isinstance(node, ast.Constant | ast.Tuple | ast.List | ast.Set | ast.Dict | ast.UnaryOp):
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    text = repr(value)
    return text if len(text) <= MAX_LITERAL_CHARS else None


def _reads(tree: ast.Module) -> dict[str, tuple[int, ...]]:
    reads: dict[str, set[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads.setdefault(node.id, set()).add(node.lineno)
    return {name: tuple(sorted(lines)) for name, lines in reads.items()}


def dotted_calls(line: str) -> list[str]:
    """Dotted names called on one line of code (`stats.bootstrap`, `train_test_split`)."""
    tree = _parse_fragment(line)
    if tree is None:
        return re.findall(r"([A-Za-z_][\w.]*)\s*\(", line)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted_name(node.func)
            if name and name not in found:
                found.append(name)
    return found


def dotted_name(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def line_names(line: str) -> list[str]:
    """Names read on one line of code, in order of appearance (not the assigned ones)."""
    tree = _parse_fragment(line)
    if tree is None:
        words = re.findall(r"(?<![.\w])([A-Za-z_]\w*)", line)
    else:
        nodes = [
            n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        ]
        nodes.sort(key=lambda n: (n.lineno, n.col_offset))
        words = [n.id for n in nodes]
    seen: list[str] = []
    for word in words:
        if word not in seen:
            seen.append(word)
    return seen


def _parse_fragment(line: str) -> ast.AST | None:
    """Parse one line of a statement that may be cut (an open bracket, a trailing colon)."""
    text = line.strip()
    for candidate in (text, text.rstrip(":") + ":\n pass", text + ")", text + "])", text + "))"):
        try:
            return ast.parse(candidate)
        except (SyntaxError, ValueError):
            continue
    # A continuation line: take the part after an assignment or opening bracket.
    try:
        return ast.parse(text.split("=", 1)[-1].strip().rstrip(",)") or "None")
    except (SyntaxError, ValueError):
        return None
