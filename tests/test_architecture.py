"""The package's layout as ARCHITECTURE.md tells it: every module listed, no two modules
sharing a file name, no Python source in string literals, and the engine importing nothing
from Jupyter."""

from __future__ import annotations

import ast
import collections
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "jupyter_sleeptime"
ARCHITECTURE = PACKAGE.parent / "docs" / "ARCHITECTURE.md"


def modules() -> list[pathlib.Path]:
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "labextension" not in p.parts and "migrations" not in p.parts
    ]


def test_every_module_is_listed_in_architecture_md():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [
        str(p.relative_to(PACKAGE))
        for p in modules()
        if p.name != "__init__.py" and f"`{p.relative_to(PACKAGE)}`" not in text
    ]
    assert not missing, f"add these to docs/ARCHITECTURE.md: {missing}"


def test_no_two_modules_share_a_file_name():
    names = collections.Counter(p.name for p in modules() if p.name != "__init__.py")
    assert [n for n, count in names.items() if count > 1] == []


def _looks_like_python(text: str) -> bool:
    if text.count("\n") < 5 or "def " not in text:
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.FunctionDef) for node in tree.body)


def test_no_python_source_in_string_literals():
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _looks_like_python(node.value)
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], f"kernel-side code belongs in introspect/kernel_side/: {found}"


def _optional_imports(tree: ast.AST) -> set[ast.AST]:
    """Imports inside `try: … except ImportError:` (the engine runs without them)."""
    optional: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            for statement in node.body:
                optional |= set(ast.walk(statement))
    return optional


def test_the_engine_imports_nothing_from_jupyter():
    """Optional imports are allowed (IPython's own cell reader, used when it is there)."""
    forbidden = ("jupyter_server", "jupyter_client", "ipykernel", "IPython", "tornado", "nbformat")
    found = []
    for path in (PACKAGE / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        optional = _optional_imports(tree)
        for node in ast.walk(tree):
            if node in optional:
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
            if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
                depth = len(path.relative_to(PACKAGE / "engine").parts) - 1
                if node.level > depth + 1:  # reaches above the engine
                    found.append(f"{path.name}: {'.' * node.level}{node.module}")
    assert found == []
