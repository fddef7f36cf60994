"""Ship a kernel-side module (:mod:`jupyter_sleeptime.introspect.kernel_side`) to a kernel.

The result is one user expression that unpacks the module's code, execs it into a
throw-away dict, calls its ``run(ns, t0, …)`` on the user namespace and clears the dict, so
nothing is bound in the kernel and ``jupyter_sleeptime`` need not be installed there.
"""

from __future__ import annotations

import binascii
import functools
import marshal
import sys
import zlib
from importlib import resources

_UNPACK = "__import__('zlib').decompress(__import__('binascii').a2b_base64({}))"


def _packed(data: bytes) -> str:
    """``data`` zlib-compressed and base64-encoded, as a Python literal."""
    return repr(binascii.b2a_base64(zlib.compress(data, 9), newline=False))


def kernel_source(module: str) -> str:
    """The source text of ``kernel_side/<module>.py``."""
    files = resources.files("jupyter_sleeptime.introspect.kernel_side")
    return files.joinpath(f"{module}.py").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def code_expression(module: str) -> str:
    """An expression, evaluated in the kernel, giving what to ``exec`` there.

    Fast path: the kernel-side code pre-compiled by this interpreter and marshalled.
    Compiling the digest's source costs 5-10 ms on a slow core - more than the whole digest -
    while unpacking the marshalled code takes well under 1 ms.  marshal's code format is
    only valid for the same bytecode magic number, so the kernel checks
    ``sys.implementation.cache_tag`` and ``MAGIC_NUMBER`` and otherwise compiles the source
    (a kernel running another Python version).  Both are zlib-compressed to keep the
    request small (~29 KB instead of ~67 KB; message size dominates the round trip).
    Nothing is cached in the kernel.
    """
    source_text = kernel_source(module)
    source = _UNPACK.format(_packed(source_text.encode("utf-8"))) + ".decode('utf-8')"
    tag = sys.implementation.cache_tag
    if sys.implementation.name != "cpython" or not tag:
        return source
    try:
        from importlib.util import MAGIC_NUMBER
    except ImportError:  # pragma: no cover
        return source
    code = compile(source_text, f"<sleeptime-{module}>", "exec", dont_inherit=True)
    loader = "__import__('marshal').loads(" + _UNPACK.format(_packed(marshal.dumps(code))) + ")"
    cond = (
        f"__import__('sys').implementation.cache_tag == {tag!r} and "
        f"__import__('_frozen_importlib_external').MAGIC_NUMBER == {bytes(MAGIC_NUMBER)!r}"
    )
    return f"({loader} if {cond} else {source})"


def kernel_call(module: str, args: str) -> str:
    """The user expression that execs ``kernel_side/<module>.py`` into a throw-away dict and
    returns ``run(ns, t0, <args>)``.  ``t0`` is read once the code is loaded: the budget
    bounds the work on the namespace, not the one-off compile of a kernel on another Python
    version (which would otherwise eat most of a 15 ms budget and leave the digest empty)."""
    return (
        f"(lambda B, ns: (lambda d: (B.exec({code_expression(module)}, d), "
        f"d['run'](ns, B.__import__('time').perf_counter(), {args}), d.clear())[1])"
        f"({{'__builtins__': B, '__name__': {'sleeptime_' + module!r}}}))"
        "(__import__('builtins'), __import__('builtins').locals())"
    )
