"""Kernel probe, the kernel-side half: signatures, attributes, columns and docs of named objects.

Shipped by :mod:`jupyter_sleeptime.introspect.probe`.
"""

import json
import sys
import types
from time import perf_counter

_MISSING = object()
_MAX_NAMES = 400
_SIG_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
)
_T_MODULE = type.__dict__["__module__"]
_T_MRO = type.__dict__["__mro__"]
_LIBS = ("pandas", "numpy", "sklearn", "scipy", "statsmodels", "matplotlib")


def _trusted(t):
    try:
        mod = _T_MODULE.__get__(t)
    except Exception:
        return False
    return type(mod) is str and mod.split(".")[0] in _LIBS


def _resolve(ns, dotted):
    inspect = sys.modules.get("inspect")
    parts = dotted.split(".")
    obj = dict.get(ns, parts[0], _MISSING) if type(ns) is dict else _MISSING
    for part in parts[1:]:
        if obj is _MISSING or inspect is None:
            return _MISSING
        try:
            obj = inspect.getattr_static(obj, part)
        except AttributeError:
            return _MISSING
        t = type(obj)
        if t is staticmethod or t is classmethod:
            obj = obj.__func__
    return obj


def _params(obj):
    inspect = sys.modules.get("inspect")
    if inspect is None:
        return None
    t = type(obj)
    ok = t in _SIG_TYPES
    if not ok and isinstance(obj, type):
        meta = type(obj)
        ok = meta is type or (_T_MODULE.__get__(meta) == "abc" and meta.__name__ == "ABCMeta")
    if not ok:
        return None
    try:
        sig = inspect.signature(obj)
    except Exception:
        return None
    return [p for p in sig.parameters if p not in ("self", "args", "kwargs")][:_MAX_NAMES]


def _attrs(obj):
    t = type(obj)
    names = set()
    if t is types.ModuleType:
        d = types.ModuleType.__dict__["__dict__"].__get__(obj)
        names.update(k for k in d if type(k) is str)
    else:
        cls = obj if isinstance(obj, type) else t
        if isinstance(obj, type) or _trusted(t):
            for c in _T_MRO.__get__(cls):
                names.update(k for k in c.__dict__ if type(k) is str)
        if not isinstance(obj, type) and _trusted(t):
            try:
                d = object.__getattribute__(obj, "__dict__")
            except Exception:
                d = None
            if type(d) is dict:
                names.update(k for k in d if type(k) is str)
    public = sorted(n for n in names if not n.startswith("_"))
    return public[:_MAX_NAMES]


def _columns(obj):
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    DF = types.ModuleType.__dict__["__dict__"].__get__(pd).get("DataFrame")
    if type(DF) is not type or not issubclass(type(obj), DF):
        return None
    cols = None
    for c in _T_MRO.__get__(DF):
        if "columns" in c.__dict__:
            cols = c.__dict__["columns"].__get__(obj, DF)
            break
    if cols is None or not _trusted(type(cols)):
        return None
    labels = cols[:_MAX_NAMES].tolist()
    return [x if type(x) is str else repr(x)[:60] for x in labels]


_DOC_CHARS = 8000
_F_DOC = types.FunctionType.__dict__["__doc__"]
_T_DOC = type.__dict__["__doc__"]


def _doc(obj):
    # The docstring of a function, method, class, or of a library object's class, read
    # through the types' own descriptors (never an instance's __doc__ property).
    t = type(obj)
    if t is types.MethodType:
        obj = obj.__func__
        t = type(obj)
    if t is types.FunctionType:
        doc = _F_DOC.__get__(obj)
    elif t in (types.BuiltinFunctionType, types.BuiltinMethodType):
        doc = obj.__doc__
    elif isinstance(obj, type):
        doc = _T_DOC.__get__(obj)
    elif _trusted(t):
        doc = _T_DOC.__get__(t)
    else:
        return None
    if type(doc) is not str or not doc.strip():
        return None
    inspect = sys.modules.get("inspect")
    if inspect is not None:
        doc = inspect.cleandoc(doc)
    return doc[:_DOC_CHARS]


def _attribute_doc(ns, dotted, obj):
    # A data attribute (`huber.outliers_`) is documented in its owner's class docstring, not
    # in its own type's (ndarray's would answer a different question).
    t = type(obj)
    if "." not in dotted or t in _SIG_TYPES or isinstance(obj, (type, types.ModuleType)):
        return None
    owner = _resolve(ns, dotted.rsplit(".", 1)[0])
    if owner is _MISSING or isinstance(owner, types.ModuleType):
        return None
    return _doc(owner)


def _importable(name):
    if sys.modules.get(name) is not None:
        return True
    util = sys.modules.get("importlib.util")
    if util is None:
        import importlib.util as util
    try:
        return util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def run(ns, t0, budget_ms, targets, mode="error"):
    out = {}
    deadline = t0 + budget_ms / 1000.0
    for dotted in targets:
        if perf_counter() > deadline:
            break
        if mode == "modules":
            if "." not in dotted:
                out[dotted] = {"importable": _importable(dotted)}
            continue
        try:
            obj = _resolve(ns, dotted)
            if obj is _MISSING:
                out[dotted] = {}
                continue
            if mode == "docs":
                out[dotted] = {"doc": _attribute_doc(ns, dotted, obj) or _doc(obj) or ""}
                continue
            entry = {}
            params = _params(obj)
            if params is not None:
                entry["params"] = params
            columns = _columns(obj)
            if columns is not None:
                entry["columns"] = columns
            attrs = _attrs(obj)
            if attrs:
                entry["attrs"] = attrs
            if entry:
                out[dotted] = entry
        except Exception:
            continue
    return json.dumps(out, separators=(",", ":"))
