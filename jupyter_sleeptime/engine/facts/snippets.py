"""Whether a suggested snippet would run if inserted now: it compiles, every module it
imports is importable in the kernel, and every name it reads exists in the kernel or is set
earlier in the snippet itself (a name another suggestion defines does not count).

Pure: the host asks the kernel which modules it can import (`importlib.util.find_spec`
in the silent probe) and passes the answer in.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass

from .defuse import analyse, python_source

# Names IPython puts in the user namespace but hides from the digest.
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit"})
# Statements whose target is usable on the line that binds it (`for x in xs: print(x)`).
SAME_LINE_KINDS = frozenset({"loop", "with", "except", "import", "def", "class"})


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def imported_modules(code: str) -> list[str]:
    """Top-level modules a snippet imports (`sklearn` for `from sklearn.svm import SVC`);
    unparsable code imports nothing we can name."""
    source = python_source(code)
    try:
        tree = ast.parse(source or "")
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top.isidentifier() and top not in found:
                found.append(top)
    return found


def check_snippet(code: str, defined: set[str], importable: dict[str, bool]) -> Verdict:
    """`defined`: names the kernel holds now; `importable`: the kernel's answer for each
    module (a module missing from it counts as not importable)."""
    source = python_source(code)
    if source is None:
        return Verdict(False, "a cell magic: not Python to check")
    try:
        compile(source, "<suggestion>", "exec", dont_inherit=True)
        table = symtable.symtable(source, "<suggestion>", "exec")
    except (SyntaxError, ValueError) as exc:
        return Verdict(False, f"does not compile: {exc}")
    for module in imported_modules(code):
        if not importable.get(module, False):
            return Verdict(False, f"imports `{module}`, which the kernel cannot import")
    analysis = analyse(code)
    binds: dict[str, list[tuple[int, str]]] = {}
    for effect in analysis.effects:
        if effect.binds:
            binds.setdefault(effect.name, []).append((effect.line, effect.kind))
    for name in sorted(_module_level_reads(table)):
        if name in defined or name in IPYTHON_NAMES or hasattr(builtins, name):
            continue
        lines = analysis.reads.get(name, ())
        first = min(lines) if lines else 0
        if not any(
            line < first or (line == first and kind in SAME_LINE_KINDS)
            for line, kind in binds.get(name, [])
        ):
            return Verdict(False, f"reads `{name}`, which is not defined before it is used")
    return Verdict(True)


def _module_level_reads(table: symtable.SymbolTable) -> set[str]:
    """Names that resolve to the module namespace when read: referenced at the top level,
    or read as globals inside a function, lambda or comprehension of the snippet."""
    found = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack.extend(child.get_children())
        for symbol in child.get_symbols():
            if symbol.is_referenced() and symbol.is_global() and not symbol.is_assigned():
                found.add(symbol.get_name())
    return found
