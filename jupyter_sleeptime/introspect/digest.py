"""Kernel digest: a bounded, metadata-only summary of a Python kernel's user namespace.

The server sends ONE silent execute request::

    client.execute("", silent=True, store_history=False, allow_stdin=False,
                   stop_on_error=False,
                   user_expressions={USER_EXPRESSION_KEY: build_expression()})

(``execute_kwargs()`` returns exactly these keyword arguments) and hands the reply's
``content["user_expressions"]`` to :func:`parse_reply`.

How the expression works
------------------------
IPython evaluates a user expression with ``eval(expr, user_global_ns, user_ns)`` and
returns the IPython ``text/plain`` repr of the result.  The expression here is::

    (lambda B, ns: <exec CODE into a private dict, call its run(ns, perf_counter(), …),
                    clear it>)(__import__('builtins'), __import__('builtins').locals())

where CODE is the kernel-side code marshalled by this interpreter (used when the kernel's
bytecode magic matches; compiling the source would cost 5-10 ms per digest) or else the
source, both zlib+base64 packed (~29 KB request).

* Nothing is bound in the user namespace: the helpers live in a throw-away dict that is
  cleared afterwards (which also breaks the function <-> globals cycle).  Builtins are taken
  from the ``builtins`` module, so a user variable called ``type`` or ``len`` cannot interfere.
* ``run()`` returns a JSON *string*; its ``text/plain`` is the string's repr, which
  :func:`parse_reply` turns back with ``ast.literal_eval`` + ``json.loads``.
* User expressions never go through the display hook: ``_``/``Out``/``In`` and the
  execution count are untouched (and ``silent=True`` skips history and ``post_run_cell``;
  IPython's ``post_execute`` event still fires, as for every silent execute).
* Needs only the standard library in the kernel (``zlib``, ``binascii``, ``marshal``,
  ``json``); ``jupyter_sleeptime`` does not have to be importable there.

Safety rules followed by the kernel-side code (``kernel_side/namespace_digest.py``)
-----------------------------------------------------------------
* Dispatch on ``type(obj)`` only (``type()`` cannot be spoofed, unlike ``__class__`` which
  ``isinstance`` consults - MagicMock, proxies).  Types are keyed by ``id()`` so a metaclass
  ``__hash__``/``__eq__`` never runs.  ``issubclass(t, Known)`` is only used with known
  base classes whose metaclass is ``type`` (pure C subtype check).
* No ``repr``/``str``/``len``/``bool``/``iter``/attribute access on objects of unknown types.
  Builtin containers (and their subclasses) are read through the *base* slots
  (``list.__len__(obj)``, ``tuple.__getitem__(obj, i)``, ``dict.items(obj)``), so an overriding
  ``__len__``/``__iter__``/``__repr__`` cannot run.  Item previews only render items that are
  themselves safe scalars; anything else is shown as ``<type name>``.
* pandas / numpy are only used when already in ``sys.modules`` (never imported).  Their
  metadata is read through base-class descriptors (``numpy.ndarray.shape.__get__``,
  ``DataFrame.columns`` AxisProperty, the block manager's ``get_dtypes()``); heads are built
  only for exact ``DataFrame``/``Series``/``ndarray`` and only from numeric, bool, datetime,
  timedelta and pandas string columns (never object columns).
* Strings and bytes are sliced *before* ``repr``; huge ints are reported by bit length.
* Generators, iterators, dask/polars/spark/xarray objects and every other unknown type are
  reported by their type's qualified name only - nothing is called on them.
* Each variable is summarised inside ``try/except``; a failure yields ``"<unavailable>"``.
  The elapsed time is checked after each variable; past ``budget_ms`` the digest stops
  and sets ``truncated``.  Variables are processed by priority (pandas/numpy data first,
  then other values, then functions/classes/modules), namespace order within a priority.
"""

from __future__ import annotations

import ast
import functools
import json
import math
from typing import Any

from .shipping import kernel_call

__all__ = [
    "USER_EXPRESSION_KEY",
    "DigestError",
    "build_expression",
    "execute_kwargs",
    "parse_reply",
]

USER_EXPRESSION_KEY = "sleeptime"

#: Format version written by the kernel side (``"v"`` in the JSON payload).
DIGEST_FORMAT = 1


class DigestError(RuntimeError):
    """The kernel could not produce a digest, or its reply could not be understood."""


def _check_number(name: str, value: Any, *, integer: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if integer and not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


@functools.lru_cache(maxsize=32)
def _build(budget_ms: float, max_variables: int, max_columns: int) -> str:
    args = f"{float(budget_ms)!r}, {int(max_variables)!r}, {int(max_columns)!r}"
    return kernel_call("namespace_digest", args)


def build_expression(
    budget_ms: float = 15.0, max_variables: int = 400, max_columns: int = 30
) -> str:
    """The user expression that makes the kernel return its digest as a JSON string.

    Constant (and cached) for given arguments.  ``budget_ms`` is checked after each
    variable, so the digest may overrun it by the cost of one variable's summary.
    """
    _check_number("budget_ms", budget_ms, integer=False)
    _check_number("max_variables", max_variables, integer=True)
    _check_number("max_columns", max_columns, integer=True)
    return _build(float(budget_ms), int(max_variables), int(max_columns))


def execute_kwargs(
    budget_ms: float = 15.0, max_variables: int = 400, max_columns: int = 30
) -> dict[str, Any]:
    """Keyword arguments for ``KernelClient.execute`` that request one silent digest."""
    return {
        "code": "",
        "silent": True,
        "store_history": False,
        "allow_stdin": False,
        "stop_on_error": False,
        "user_expressions": {
            USER_EXPRESSION_KEY: build_expression(budget_ms, max_variables, max_columns)
        },
    }


def _fail(msg: str) -> DigestError:
    return DigestError(f"kernel digest: {msg}")


def parse_reply(user_expressions: dict, key: str = USER_EXPRESSION_KEY) -> dict:
    """Decode the digest from an execute_reply's ``content["user_expressions"]``.

    Returns ``{"variables": [{"name", "type", "summary", ...}], "took_ms", "truncated",
    "total"}``.  Raises :class:`DigestError` when the kernel reported an error or the reply
    is not a digest.
    """
    if not isinstance(user_expressions, dict):
        raise _fail(f"user_expressions is {type(user_expressions).__name__}, not a dict")
    if key not in user_expressions:
        raise _fail(
            f"no {key!r} in user_expressions (keys: {sorted(map(str, user_expressions))}); "
            "was the execute_request aborted or sent to a non-Python kernel?"
        )
    entry = user_expressions[key]
    if not isinstance(entry, dict):
        raise _fail(f"user_expressions[{key!r}] is {type(entry).__name__}, not a dict")
    status = entry.get("status")
    if status == "error":
        ename = entry.get("ename", "Error")
        evalue = entry.get("evalue", "")
        raise _fail(f"kernel raised {ename}: {evalue}".rstrip(": "))
    if status != "ok":
        raise _fail(f"unexpected status {status!r}")
    data = entry.get("data")
    text = data.get("text/plain") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise _fail("reply has no text/plain data")
    try:
        raw = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise _fail(
            f"text/plain is not a string literal ({type(e).__name__}): {text[:200]!r}"
        ) from None
    if not isinstance(raw, str):
        raise _fail(f"expression returned {type(raw).__name__}, expected a JSON string")
    try:
        payload = json.loads(raw)
    except ValueError as e:
        raise _fail(f"payload is not JSON: {e}") from None
    if not isinstance(payload, dict):
        raise _fail("payload is not a JSON object")
    if "error" in payload:
        raise _fail(f"digest failed inside the kernel: {payload['error']}")
    if payload.get("v") != DIGEST_FORMAT:
        raise _fail(f"unknown digest format {payload.get('v')!r}")
    variables = payload.get("variables")
    if not isinstance(variables, list) or not all(
        isinstance(v, dict)
        and isinstance(v.get("name"), str)
        and isinstance(v.get("type"), str)
        and isinstance(v.get("summary"), str)
        for v in variables
    ):
        raise _fail("payload has no valid 'variables' list")
    took_ms = payload.get("took_ms")
    if isinstance(took_ms, bool) or not isinstance(took_ms, (int, float)):
        raise _fail("payload has no numeric 'took_ms'")
    total = payload.get("total", len(variables))
    if isinstance(total, bool) or not isinstance(total, int):
        raise _fail("payload 'total' is not an int")
    results = payload.get("results")
    return {
        "variables": variables,
        "took_ms": float(took_ms),
        "truncated": bool(payload.get("truncated", False)),
        "total": total,
        "results": results if isinstance(results, dict) else {},
    }
