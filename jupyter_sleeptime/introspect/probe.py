"""Kernel probe: what an error card needs to know about the names on a failing line.

Sent as a second user expression beside the digest (same silent request, see
`server/digest_request.py`), for dotted names such as ``train_test_split``, ``stats.bootstrap`` or
``data``. For each it returns, when it can be read without running user code:

* ``params`` — the parameter names of a function, method or class (``inspect.signature``
  of plain functions and of classes whose metaclass is ``type`` or ``ABCMeta``);
* ``attrs`` — public attribute names, read statically (module dicts, class dicts along the
  MRO, and the instance dict of objects from well-known libraries);
* ``columns`` — every column label of a pandas DataFrame (the digest shows only the first).

With ``mode="modules"`` the targets are top-level module names and it returns, for each,
whether the kernel can import it (``{"seaborn": {"importable": false}}``): a loaded module
is importable; otherwise ``importlib.util.find_spec`` looks it up without importing it
(a top-level name imports no parent package; the only trace is the path finders' cache).
Suggested snippets are checked with it before they are shown.

With ``mode="docs"`` it returns the docstrings of the functions a notebook calls (read
through the types' own ``__doc__`` descriptors): the installed library's own words on what
a call does, for questions about library behaviour.

Dotted names are resolved with ``inspect.getattr_static`` (no ``__getattr__``, no
properties), the first part from the namespace dict. Like the digest it binds nothing in
the user namespace, needs only the standard library, and stops at a time budget.
"""

from __future__ import annotations

import json
import keyword
import re

from .shipping import kernel_call

PROBE_EXPRESSION_KEY = "sleeptime_probe"
MAX_TARGETS = 8
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def build_probe_expression(
    targets: list[str], budget_ms: float = 20.0, mode: str = "error", limit: int = MAX_TARGETS
) -> str | None:
    """The user expression for these dotted names (None when there is nothing to ask).
    `mode="docs"`: their docstrings instead (`{"name": {"doc": "…"}}`); `mode="modules"`:
    whether each top-level module name is importable (other targets are left out)."""
    if mode not in ("error", "docs", "modules"):
        raise ValueError(f"mode must be 'error', 'docs' or 'modules', not {mode!r}")
    clean = [t for t in targets if isinstance(t, str) and _DOTTED.match(t)]
    if mode == "modules":  # names from model-written snippets: plain identifiers only
        clean = [t for t in clean if t.isidentifier() and not keyword.iskeyword(t)]
    clean = list(dict.fromkeys(clean))[:limit]
    if not clean:
        return None
    args = f"{float(budget_ms)!r}, {json.dumps(clean)}, {mode!r}"
    return kernel_call("name_probe", args)


def parse_probe(user_expressions: dict) -> dict:
    """The probe's result, or {} when it is missing or failed (a card then has no
    suggestions from the kernel; nothing else depends on it)."""
    entry = (user_expressions or {}).get(PROBE_EXPRESSION_KEY)
    if not isinstance(entry, dict) or entry.get("status") != "ok":
        return {}
    text = (entry.get("data") or {}).get("text/plain")
    if not isinstance(text, str):
        return {}
    try:
        import ast

        data = json.loads(ast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
