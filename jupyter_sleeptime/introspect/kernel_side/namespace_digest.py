"""Kernel digest, the kernel-side half: a bounded, metadata-only summary of the user namespace.

Shipped by :mod:`jupyter_sleeptime.introspect.digest`, whose docstring gives the safety rules.
"""

import json
import sys
import types
from time import perf_counter

_MT = types.ModuleType
_MOD_DICT = _MT.__dict__["__dict__"]  # module.__dict__ without module __getattribute__
_T_MODULE = type.__dict__["__module__"]  # read a class's __module__ bypassing metaclasses
_T_QUALNAME = type.__dict__["__qualname__"]
_F_QUALNAME = types.FunctionType.__dict__["__qualname__"]
_BF_QUALNAME = types.BuiltinFunctionType.__dict__["__qualname__"]
_M_FUNC = types.MethodType.__dict__["__func__"]
_SKIP = frozenset(("In", "Out", "get_ipython", "exit", "quit"))
_SEQ_PREVIEW = 5  # items shown for lists/tuples/sets/dicts
_HASH_PREVIEW_MAX = 10000  # only iterate dicts/sets this small (iteration cost of sparse tables)
_STR_MAX = 80  # characters of a string shown (sliced before repr)
_HEAD_ROWS = 3
_HEAD_COLS = 4
_INT_BITS_MAX = 128
_MISSING_CELLS = 200000  # count missing values only in data this small (numeric columns)
_MISSING_ROWS_OBJ = 20000  # ... and in object/string columns only this short
_FITTED_ITEMS = 30  # fitted arrays (classes_, statistics_, vocabulary_ …) up to this size
_DEADLINE = [0.0]  # optional work (missing counts) stops here, leaving the rest of
# the budget for every variable's summary

_tname_cache = {}
_kind_cache = {}


def _mdict(mod):
    try:
        d = _MOD_DICT.__get__(mod)
    except Exception:
        return None
    return d if type(d) is dict else None


def _mget(modname, attr):
    mod = sys.modules.get(modname)
    if mod is None:
        return None
    d = _mdict(mod)
    return None if d is None else d.get(attr)


def _tname(t):
    hit = _tname_cache.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    try:
        qn = _T_QUALNAME.__get__(t)
    except Exception:
        qn = None
    if type(qn) is not str:
        qn = "?"
    try:
        mod = _T_MODULE.__get__(t)
    except Exception:
        mod = None
    if type(mod) is not str or mod == "builtins":
        name = qn
    else:
        name = mod + "." + qn
        top = mod.partition(".")[0]
        if top != mod and _mget(top, qn) is t:
            name = top + "." + qn  # pandas.core.frame.DataFrame -> pandas.DataFrame
    _tname_cache[id(t)] = (t, name)
    return name


def _trusted(t, *prefixes):
    try:
        mod = _T_MODULE.__get__(t)
    except Exception:
        return False
    if type(mod) is not str:
        return False
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def _clip(s, n):
    # s is an exact str produced by us
    return s if len(s) <= n else s[:n] + "…"


def _short(v, n=_STR_MAX, depth=0):
    """repr of safe builtin scalars (truncated before repr), '<type>' for anything else."""
    t = type(v)
    if v is None or t is bool or t is float or t is complex:
        return repr(v)
    if t is int:
        b = int.bit_length(v)
        if b > _INT_BITS_MAX:
            return "<int of %d bits (~%d digits)>" % (b, int(b * 0.30103) + 1)
        return repr(v)
    if t is str or t is bytes:
        if len(v) > n:
            return repr(v[:n]) + "…"
        return repr(v)
    if t is tuple and depth < 2 and tuple.__len__(v) <= _SEQ_PREVIEW:
        parts = [_short(x, 20, depth + 1) for x in v]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if _SAFE_REPR.get(id(t)) is t:
        return _clip(repr(v), n)
    if _NP and issubclass(t, _NP["generic"]) and _trusted(t, "numpy"):
        y = _NP["generic"].item(v)  # numpy scalar -> Python scalar
        if type(y) is not t:
            return _short(y, n, depth + 1)
    return "<" + _tname(t) + ">"


def _fmt(x):
    """One head value: compact floats, short strings, str() for pandas time scalars."""
    t = type(x)
    if t is float:
        r = repr(x)
        return r if len(r) <= 10 else format(x, ".6g")
    if _STR_OK.get(id(t)) is t:
        return _clip(str(x), 40)
    if _NP and issubclass(t, _NP["generic"]) and _trusted(t, "numpy"):
        y = _NP["generic"].item(x)
        if type(y) is float:
            return _fmt(y)
    return _short(x, 20)


def _init_types():
    safe = {}
    for modname, names in (
        ("datetime", ("date", "datetime", "time", "timedelta", "timezone")),
        ("decimal", ("Decimal",)),
        ("pathlib", ("PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath")),
        ("uuid", ("UUID",)),
    ):
        for nm in names:
            c = _mget(modname, nm)
            if type(c) is type:
                safe[id(c)] = c
    safe[id(range)] = range
    strok = {}
    for nm in ("Timestamp", "Timedelta", "Period"):
        c = _mget("pandas", nm)
        if c is not None and type(c) is type:
            strok[id(c)] = c
    nat = _mget("pandas", "NaT")
    if nat is not None:
        strok[id(type(nat))] = type(nat)
    na = _mget("pandas", "NA")
    if na is not None:
        strok[id(type(na))] = type(na)
    for c in list(strok.values()):
        safe[id(c)] = c
    return safe, strok


_SAFE_REPR, _STR_OK = _init_types()

_EXACT = {
    id(type(None)): "scalar",
    id(bool): "scalar",
    id(int): "scalar",
    id(float): "scalar",
    id(complex): "scalar",
    id(str): "str",
    id(bytes): "str",
    id(list): "seq",
    id(tuple): "seq",
    id(dict): "dict",
    id(set): "set",
    id(frozenset): "set",
    id(bytearray): "bytearray",
    id(types.FunctionType): "func",
    id(types.BuiltinFunctionType): "bfunc",
    id(types.MethodType): "method",
}

_PD = {}
_NP = {}


def _init_libs():
    pd = sys.modules.get("pandas")
    if pd is not None:
        for nm in ("DataFrame", "Series", "Index", "StringDtype"):
            c = _mget("pandas", nm)
            if type(c) is type:
                _PD[nm] = c
        if "DataFrame" not in _PD or "Series" not in _PD or "Index" not in _PD:
            _PD.clear()
    np = sys.modules.get("numpy")
    if np is not None:
        for nm in ("ndarray", "generic", "dtype", "datetime_as_string"):
            c = _mget("numpy", nm)
            if c is not None:
                _NP[nm] = c
        if type(_NP.get("ndarray")) is not type or type(_NP.get("generic")) is not type:
            _NP.clear()


def _desc(cls, name):
    for c in _T_MRO.__get__(cls):
        d = c.__dict__
        if name in d:
            return d[name]
    raise AttributeError(name)


_T_MRO = type.__dict__["__mro__"]

# (base, kind) checked with issubclass() for types not in _EXACT, in this order.
_BUILTIN_BASES = (
    (dict, "dict"),
    (list, "seq"),
    (tuple, "seq"),
    (str, "str"),
    (bytes, "str"),
    (set, "set"),
    (frozenset, "set"),
    (bytearray, "bytearray"),
    (int, "intsub"),
    (float, "floatsub"),
)


def _kind(t):
    k = _EXACT.get(id(t))
    if k is not None:
        return k
    hit = _kind_cache.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    k = "other"
    if _PD and issubclass(t, _PD["DataFrame"]):
        k = "df"
    elif _PD and issubclass(t, _PD["Series"]):
        k = "series"
    elif _PD and issubclass(t, _PD["Index"]) and _trusted(t, "pandas"):
        k = "index"
    elif _NP and issubclass(t, _NP["ndarray"]):
        k = "ndarray"
    elif _NP and issubclass(t, _NP["generic"]):
        k = "npscalar"
    elif _SAFE_REPR.get(id(t)) is t:
        k = "safe"
    elif _trusted(t, "sklearn", "scipy", "statsmodels") and not issubclass(t, type):
        k = "lib"
    elif issubclass(t, type):
        k = "class"
    elif issubclass(t, _MT):
        k = "module"
    else:
        for base, bk in _BUILTIN_BASES:
            if issubclass(t, base):
                k = bk
                break
    _kind_cache[id(t)] = (t, k)
    return k


_RANK = {
    "df": 0,
    "series": 0,
    "ndarray": 0,
    "index": 0,
    "func": 2,
    "bfunc": 2,
    "method": 2,
    "class": 2,
    "module": 2,
}  # default 1


def _dtype_str(dt):
    if _trusted(type(dt), "numpy", "pandas"):
        return _clip(str(dt), 60)
    return _tname(type(dt))


def _head_ok(dt):
    t = type(dt)
    if not _trusted(t, "numpy", "pandas"):
        return False
    if _PD.get("StringDtype") is t:
        return True
    try:
        kind = dt.kind
    except Exception:
        return False
    return type(kind) is str and kind != "" and kind in "biufcmM"


def _head_values(arr):
    """First rows of a column array (ndarray or a pandas extension array)."""
    ta = type(arr)
    if _NP and ta is _NP["ndarray"]:
        part = _NP["ndarray"].__getitem__(arr, slice(0, _HEAD_ROWS))
        kind = part.dtype.kind
        if kind == "M" and "datetime_as_string" in _NP:
            return [_clip(str(x), 40) for x in _NP["datetime_as_string"](part)]
        if kind == "m":
            return [_clip(str(x), 40) for x in part]
        return [_fmt(x) for x in part.tolist()]
    if _trusted(ta, "pandas"):
        return [_fmt(x) for x in arr[:_HEAD_ROWS]]
    return None


def _index_desc(idx):
    t = type(idx)
    if not _trusted(t, "pandas"):
        return _tname(t)
    tn = _tname(t).rpartition(".")[2]
    name = idx.name
    s = tn
    if tn == "RangeIndex":
        n = len(idx)
        step = idx.step
        if n:
            s = "RangeIndex %d..%d" % (idx.start, idx.start + (n - 1) * step)
        else:
            s = "RangeIndex empty"
        if step != 1:
            s += " step %d" % step
    elif tn == "DatetimeIndex" and len(idx):
        s = "DatetimeIndex %s..%s" % (_clip(str(idx[0]), 40), _clip(str(idx[-1]), 40))
    else:
        s = "%s(dtype=%s)" % (tn, _dtype_str(idx.dtype))
    if name is not None:
        s += " name=" + _short(name, 40)
    return s


def _label(x):
    return _clip(x, 60) if type(x) is str else _short(x, 40)


def _time_left():
    return perf_counter() < _DEADLINE[0]


def _nan_count(arr):
    """Missing values in one exact ndarray (NaN / NaT; None in object arrays), or None when
    that would not be cheap: too big, an unknown dtype, or past the deadline."""
    np = sys.modules.get("numpy")
    A = _NP.get("ndarray")
    if np is None or A is None or type(arr) is not A or not _time_left():
        return None
    kind = A.__dict__["dtype"].__get__(arr).kind
    size = A.__dict__["size"].__get__(arr)
    if kind in "biuSUV":
        return 0
    if kind in "fc" and size <= _MISSING_CELLS:
        return int(np.count_nonzero(np.isnan(arr)))
    if kind in "mM" and size <= _MISSING_CELLS:
        return int(np.count_nonzero(np.isnat(arr)))
    isna = _mget("pandas", "isna")
    if kind == "O" and size <= _MISSING_ROWS_OBJ and isna is not None:
        return int(np.count_nonzero(isna(arr)))
    return None


def _column_missing(arr, nrows):
    """Missing values in one column's values (ndarray or pandas extension array)."""
    if _NP and type(arr) is _NP["ndarray"]:
        return _nan_count(arr)
    if _trusted(type(arr), "pandas") and nrows <= _MISSING_ROWS_OBJ and _time_left():
        np = sys.modules.get("numpy")
        mask = arr.isna()
        if np is not None and _NP and type(mask) is _NP["ndarray"]:
            return int(np.count_nonzero(mask))
    return None


def _sum_df(v, rec, max_cols):
    DF = _PD["DataFrame"]
    cols = _desc(DF, "columns").__get__(v, DF)
    idx = _desc(DF, "index").__get__(v, DF)
    if not (_trusted(type(cols), "pandas") and _trusted(type(idx), "pandas")):
        rec["summary"] = "DataFrame subclass with non-pandas axes"
        return
    nrows = len(idx)
    ncols = len(cols)
    k = ncols if ncols < max_cols else max_cols
    labels = cols[:k].tolist()
    dtypes = None
    mgr = object.__getattribute__(v, "_mgr")
    if _trusted(type(mgr), "pandas"):
        try:
            dtypes = mgr.get_dtypes()[:k].tolist()
        except Exception:
            dtypes = None
    if dtypes is None and type(v) is DF:
        dtypes = v.dtypes.iloc[:k].tolist()
    columns = []
    parts = []
    for j in range(k):
        name = _label(labels[j])
        ds = _dtype_str(dtypes[j]) if dtypes is not None else "?"
        columns.append({"name": name, "dtype": ds})
        parts.append("%s (%s)" % (name, ds))
    more = ncols - k
    rec["shape"] = [nrows, ncols]
    rec["columns"] = columns
    if more:
        rec["more_columns"] = more
    rec["index"] = _index_desc(idx)
    s = "%d rows × %d columns; columns: %s" % (nrows, ncols, ", ".join(parts))
    if more:
        s += ", … %d more" % more
    s += "; index: " + rec["index"]
    if type(v) is DF and nrows and dtypes is not None and _trusted(type(mgr), "pandas"):
        head = []
        for j in range(k):
            if len(head) >= _HEAD_COLS:
                break
            if not _head_ok(dtypes[j]):
                continue
            try:
                vals = _head_values(mgr.iget_values(j))
            except Exception:
                vals = None
            if vals:
                head.append("%s=[%s]" % (columns[j]["name"], ", ".join(vals)))
        if head:
            s += "; head(%d): %s" % (min(nrows, _HEAD_ROWS), "; ".join(head))
    if type(v) is DF and dtypes is not None and _trusted(type(mgr), "pandas") and ncols == k:
        missing = {}
        for j in range(k):
            try:
                n = _column_missing(mgr.iget_values(j), nrows)
            except Exception:
                n = None
            if n is None:
                missing = None  # only a complete count is reported
                break
            if n:
                missing[columns[j]["name"]] = n
        if missing is not None:
            rec["missing"] = missing
            if missing:
                s += "; missing values: " + ", ".join(
                    "%s=%d%s" % (c, n, " (all)" if n == nrows else "")
                    for c, n in list(missing.items())[:10]
                )
            elif nrows:
                s += "; no missing values"
    rec["summary"] = s


def _sum_series(v, rec):
    S = _PD["Series"]
    n = S.__len__(v)
    dt = _desc(S, "dtype").fget(v)
    name = _desc(S, "name").fget(v)
    idx = _desc(S, "index").__get__(v, S)
    ds = _dtype_str(dt)
    rec["len"] = n
    rec["dtype"] = ds
    s = "len %d, dtype %s" % (n, ds)
    if name is not None:
        rec["series_name"] = _label(name)
        s = "name %s, " % _short(name, 40) + s
    if _trusted(type(idx), "pandas"):
        s += "; index: " + _index_desc(idx)
    if type(v) is S and n and _head_ok(dt):
        vals = _head_values(_desc(S, "_values").fget(v))
        if vals:
            s += "; head(%d): [%s]" % (len(vals), ", ".join(vals))
    if type(v) is S:
        try:
            miss = _column_missing(_desc(S, "_values").fget(v), n)
        except Exception:
            miss = None
        if miss is not None:
            rec["missing"] = miss
            if miss:
                s += "; missing values: %d%s" % (miss, " (all)" if miss == n else "")
    rec["summary"] = s


def _sum_ndarray(v, rec):
    A = _NP["ndarray"]
    shape = A.__dict__["shape"].__get__(v)
    dt = A.__dict__["dtype"].__get__(v)
    nbytes = A.__dict__["nbytes"].__get__(v)
    ds = _dtype_str(dt)
    rec["shape"] = list(shape)
    rec["dtype"] = ds
    s = "shape %s, dtype %s, %s" % (tuple(shape), ds, _bytes(nbytes))
    if type(v) is A and len(shape) == 1 and shape[0] and _head_ok(dt) and dt.kind != "O":
        vals = _head_values(v)
        if vals:
            s += "; first: [%s]" % ", ".join(vals)
    if type(v) is A and dt.kind in "fcmMO":
        try:
            miss = _nan_count(v)
        except Exception:
            miss = None
        if miss is not None:
            rec["missing"] = miss
            if miss:
                s += "; missing values: %d" % miss
    rec["summary"] = s


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n = n / 1024.0


def _sum_seq(v, rec, base):
    n = base.__len__(v)
    rec["len"] = n
    m = n if n < _SEQ_PREVIEW else _SEQ_PREVIEW
    items = [_short(base.__getitem__(v, i), 40, 1) for i in range(m)]
    if base is tuple:
        body = "(" + ", ".join(items) + ("," if n == 1 else "") + (", …" if n > m else "") + ")"
    else:
        body = "[" + ", ".join(items) + (", …" if n > m else "") + "]"
    rec["summary"] = "len %d: %s" % (n, body) if n else "empty"


def _sum_dict(v, rec):
    n = dict.__len__(v)
    rec["len"] = n
    if not n:
        rec["summary"] = "empty"
        return
    s = "len %d" % n
    if n <= _HASH_PREVIEW_MAX:
        items = []
        for kv in dict.items(v):
            if len(items) >= _SEQ_PREVIEW:
                break
            items.append(_short(kv[0], 40, 1) + ": " + _short(kv[1], 40, 1))
        s += ": {" + ", ".join(items) + (", …" if n > len(items) else "") + "}"
    rec["summary"] = s


def _sum_set(v, rec, base):
    n = base.__len__(v)
    rec["len"] = n
    if not n:
        rec["summary"] = "empty"
        return
    s = "len %d" % n
    if n <= _HASH_PREVIEW_MAX:
        items = []
        it = base.__iter__(v)
        for x in it:
            if len(items) >= _SEQ_PREVIEW:
                break
            items.append(_short(x, 40, 1))
        s += ": {" + ", ".join(items) + (", …" if n > len(items) else "") + "}"
    rec["summary"] = s


def _sum_str(v, rec, base):
    n = base.__len__(v)
    rec["len"] = n
    head = base.__getitem__(v, slice(0, _STR_MAX))  # exact str/bytes, sliced before repr
    s = repr(head)
    if n > _STR_MAX:
        s += "… (len %d)" % n
    rec["summary"] = s


# -- well-known library objects: read by attribute from the instance dict, never repr ---------
_LIB_CHARS = 600
_SMALL_ARRAY = 8


def _idict(v):
    try:
        d = object.__getattribute__(v, "__dict__")
    except Exception:
        return None
    return d if type(d) is dict else None


def _value(x, depth=0):
    """A short, exact rendering of an attribute value: scalars, small arrays, counts."""
    t = type(x)
    if _NP and t is _NP["ndarray"]:
        shape = _NP["ndarray"].__dict__["shape"].__get__(x)
        size = 1
        for n in shape:
            size *= n
        dt = x.dtype
        if dt.kind == "b" and len(shape) == 1:
            hits = int(sys.modules["numpy"].count_nonzero(x))
            return "bool array: %d of %d True" % (hits, size)
        if size <= _SMALL_ARRAY and dt.kind in "biuf":
            flat = x.ravel().tolist()
            return (
                "["
                + ", ".join(_fmt(y) for y in flat)
                + "]"
                + (" shape %s" % (tuple(shape),) if len(shape) > 1 else "")
            )
        if size <= 2 * _SMALL_ARRAY and dt.kind in "OU" and len(shape) == 1:
            flat = x.tolist()
            if all(type(y) is str for y in flat):
                return "[" + ", ".join(_short(y, 30, 1) for y in flat) + "]"
        return "array shape %s, dtype %s" % (tuple(shape), _dtype_str(dt))
    if (t is list or t is tuple) and depth < 3:
        base = list if t is list else tuple
        n = base.__len__(x)
        m = n if n < 6 else 5
        items = [_item(base.__getitem__(x, i), depth) for i in range(m)]
        return "[" + ", ".join(items) + (", …] (%d)" % n if n > m else "]")
    if t is dict and depth < 2:
        n = dict.__len__(x)
        items = []
        for kv in dict.items(x):
            if len(items) >= 6:
                break
            items.append(_short(kv[0], 30, 1) + ": " + _value(kv[1], depth + 1))
        return "{" + ", ".join(items) + (", …" if n > len(items) else "") + "}"
    if _trusted(t, "sklearn") and depth < 2:
        return _estimator_text(x, depth + 1)
    if _PD and (t is _PD["Series"] or t is _PD["DataFrame"]):
        return "%s of length %d" % (_tname(t).rpartition(".")[2], len(x))
    if _trusted(t, "scipy") and tuple in _T_MRO.__get__(t) and depth < 1:
        return _fields_text(x, t, depth + 1)
    return _short(x, 60, 1)


def _item(x, depth):
    """A list item: estimators and (name, estimator) steps by their class, else short."""
    if _trusted(type(x), "sklearn") and depth < 2:
        return _estimator_text(x, depth + 1)
    if (
        type(x) is tuple
        and tuple.__len__(x) == 2
        and _trusted(type(tuple.__getitem__(x, 1)), "sklearn")
    ):
        return "(%s, %s)" % (
            _short(tuple.__getitem__(x, 0), 30, 1),
            _estimator_text(tuple.__getitem__(x, 1), depth + 2),
        )
    return _short(x, 30, 1)


def _init_params(t):
    """(names, defaults) of an estimator class's __init__ (sklearn's get_params reads the
    same signature), read from the function's code object: no call, no import."""
    for c in _T_MRO.__get__(t):
        f = c.__dict__.get("__init__")
        if f is not None:
            break
    if type(f) is not types.FunctionType:
        return [], {}
    code = f.__code__
    names = list(code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount])
    defaults = {}
    pos = f.__defaults__ or ()
    if pos:
        for name, dv in zip(names[code.co_argcount - 1 - len(pos) : code.co_argcount - 1], pos):
            defaults[name] = dv
    kw = f.__kwdefaults__
    if type(kw) is dict:
        defaults.update(kw)
    return names, defaults


def _same(a, b):
    ta = type(a)
    if a is b:
        return True
    if ta is not type(b) or ta not in (int, float, str, bool, type(None)):
        return False
    return a == b


def _fitted_attrs(d):
    """What fit() set: public attribute names ending in "_"."""
    return [k for k in d if type(k) is str and k.endswith("_") and not k.startswith("_")]


def _fit_state(d, fitted):
    """True, False, or None (cannot tell). An estimator is fitted when it holds attributes
    ending in "_"; a Pipeline holds none of its own: its last step decides."""
    if fitted:
        return True
    steps = d.get("steps")
    if type(steps) is list and steps:
        last = steps[-1]
        if type(last) is tuple and tuple.__len__(last) == 2:
            inner = tuple.__getitem__(last, 1)
            if _trusted(type(inner), "sklearn"):
                sub = _idict(inner)
                if sub is None:
                    return None
                return _fit_state(sub, _fitted_attrs(sub))
            return None  # "passthrough" or an estimator of another library
    if any(_trusted(type(x), "sklearn") for x in dict.values(d)):
        return None  # holds estimators it may fit in other ways: do not guess
    return False


def _estimator_text(v, depth=0):
    t = type(v)
    d = _idict(v)
    name = _T_QUALNAME.__get__(t)
    if d is None:
        return name
    names, defaults = _init_params(t)
    params = []
    for p in names:
        if p in d and not (p in defaults and _same(d[p], defaults[p])):
            params.append("%s=%s" % (p, _value(d[p], depth + 1)))
    text = "%s(%s)" % (name, ", ".join(params))
    fitted = _fitted_attrs(d)
    state = _fit_state(d, fitted)
    if depth:
        return text + {True: " fitted", False: " not fitted", None: ""}[state]
    if state is False:
        return text + "; not fitted"
    if not fitted:  # a composite fitted through its steps (a Pipeline)
        return text + ("; fitted" if state else "")
    parts = []
    cv = d.get("cv_results_")
    if type(cv) is dict and type(cv.get("params")) is list:
        n = list.__len__(cv["params"])
        splits = d.get("n_splits_")
        if type(splits) is int:
            parts.append("%d candidates × %d folds = %d fits" % (n, splits, n * splits))
        else:
            parts.append("%d candidates" % n)
    for k in fitted:
        if k in ("cv_results_",) or len(", ".join(parts)) > _LIB_CHARS:
            continue
        parts.append("%s=%s" % (k, _value(d[k])))
    return _clip(text + "; fitted: " + ", ".join(parts), _LIB_CHARS)


def _fields_text(v, t, depth=0):
    fields = t.__dict__.get("_fields") if "_fields" in t.__dict__ else None
    if fields is None:
        for c in _T_MRO.__get__(t):
            if "_fields" in c.__dict__:
                fields = c.__dict__["_fields"]
                break
    parts = []
    if type(fields) is tuple:
        n = tuple.__len__(v)
        for i, f in enumerate(fields):
            if i < n and type(f) is str:
                parts.append("%s=%s" % (f, _value(tuple.__getitem__(v, i), depth + 1)))
    d = _idict(v)
    for k, x in dict.items(d) if d is not None else ():
        if type(k) is str and not k.startswith("_"):
            parts.append("%s=%s" % (k, _value(x, depth + 1)))
    return "(" + ", ".join(parts) + ")"


_FITTED_NAMES = (
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "statistics_",
    "explained_variance_ratio_",
    "n_components_",
    "vocabulary_",
    "categories_",
)


def _json_item(x):
    """A JSON-safe scalar: numbers (non-finite ones as text), short strings, else None."""
    t = type(x)
    if x is None or t is bool or t is int:
        return x
    if t is float:
        return x if x == x and x not in (float("inf"), float("-inf")) else repr(x)
    if t is str:
        return _clip(x, 60)
    return None


def _small_list(x):
    """An attribute's value as a short JSON list, or None when it is not small and plain."""
    t = type(x)
    if _NP and t is _NP["ndarray"]:
        A = _NP["ndarray"]
        shape = A.__dict__["shape"].__get__(x)
        if len(shape) != 1 or shape[0] > _FITTED_ITEMS or x.dtype.kind not in "biufUO":
            return None
        items = x.tolist()
    elif t is list:
        if list.__len__(x) > _FITTED_ITEMS:
            return None
        items = [_small_list(y) if type(y) is not str else y for y in x]
        return items if all(y is not None for y in items) else None
    else:
        return None
    out = [_json_item(y) for y in items]
    if any(y is None for y in out):
        return None
    return [round(y, 6) if type(y) is float else y for y in out]


def _fitted_small(d):
    """The fitted attributes questions are about, read from the instance dict, when small:
    {"classes_": [0, 1], "statistics_": [3.5, 7.0], "vocabulary_": ["and", "the"] …}.
    A vocabulary is listed by column index (what get_feature_names_out() returns)."""
    out = {}
    for k in _FITTED_NAMES:
        if k not in d:
            continue
        x = d[k]
        if k == "vocabulary_" and type(x) is dict:
            n = dict.__len__(x)
            if n <= _FITTED_ITEMS and all(
                type(w) is str and type(i) is int for w, i in dict.items(x)
            ):
                out[k] = [w for w, i in sorted(dict.items(x), key=lambda kv: kv[1])]
            else:
                out[k + "size"] = n
        elif type(x) is int:
            out[k] = x
        else:
            small = _small_list(x)
            if small is not None:
                out[k] = small
    return out


def _fitted_record(v):
    d = _idict(v)
    if d is None:
        return None
    out = _fitted_small(d)
    steps = d.get("steps")
    if type(steps) is list and list.__len__(steps) <= 12:
        inner = {}
        for step in steps:
            if type(step) is tuple and tuple.__len__(step) == 2:
                label, est = tuple.__getitem__(step, 0), tuple.__getitem__(step, 1)
                sub = _idict(est) if _trusted(type(est), "sklearn") else None
                small = _fitted_small(sub) if sub is not None else None
                if type(label) is str and small:
                    inner[_clip(label, 40)] = small
        if inner:
            out["steps"] = inner
    return out or None


def _sum_lib(v, rec):
    t = type(v)
    mod = _T_MODULE.__get__(t)
    d = _idict(v)
    s = rec["type"]
    if mod.startswith("sklearn"):
        s = _estimator_text(v)
        fitted = _fitted_record(v)
        if fitted:
            rec["fitted"] = fitted
    elif mod.startswith("scipy"):
        mro = _T_MRO.__get__(t)
        names = [_T_QUALNAME.__get__(c) for c in mro]
        if tuple in mro:
            s = _T_QUALNAME.__get__(t) + _fields_text(v, t)
        elif "rv_frozen" in names and d is not None:
            dist = _idict(d.get("dist"))
            label = dist.get("name") if dist is not None else None
            s = "frozen distribution %s, args=%s, kwds=%s" % (
                _short(label, 40),
                _short(d.get("args"), 60),
                _value(d.get("kwds")),
            )
        elif "rv_generic" in names and d is not None:
            s = "scipy.stats distribution %s (not fitted: a family)" % _short(d.get("name"), 40)
        elif "__dataclass_fields__" in t.__dict__ or d is not None:
            keys = list(t.__dict__.get("__dataclass_fields__") or ()) or [
                k for k in (d or {}) if type(k) is str and not k.startswith("_")
            ]
            parts = []
            for k in keys[:12]:
                if d is not None and k in d:
                    parts.append("%s=%s" % (k, _value(d[k])))
            s = "%s(%s)" % (_T_QUALNAME.__get__(t), ", ".join(parts))
    elif mod.startswith("statsmodels") and d is not None:
        inner = _idict(d.get("_results")) if "_results" in d else d
        if inner is not None and "params" in inner:
            parts = ["params=" + _value(inner["params"])]
            model = _idict(inner.get("model"))
            if model is not None and "nobs" in model:
                parts.append("nobs=" + _short(model["nobs"]))
            cache = inner.get("_cache")
            for k in ("rsquared", "aic", "bic", "llf"):
                if type(cache) is dict and k in cache:
                    parts.append("%s=%s" % (k, _value(cache[k])))
            s = "%s: %s" % (_T_QUALNAME.__get__(t), ", ".join(parts))
    rec["summary"] = _clip(s, _LIB_CHARS)


def _summarize(name, v, k, max_cols):
    t = type(v)
    rec = {"name": name, "type": _tname(t), "summary": ""}
    if k == "scalar" or k == "safe":
        rec["summary"] = _short(v)
    elif k == "str":
        _sum_str(v, rec, str if issubclass(t, str) else bytes)
    elif k == "seq":
        _sum_seq(v, rec, list if issubclass(t, list) else tuple)
    elif k == "dict":
        _sum_dict(v, rec)
    elif k == "set":
        _sum_set(v, rec, set if issubclass(t, set) else frozenset)
    elif k == "bytearray":
        rec["len"] = bytearray.__len__(v)
        rec["summary"] = "len %d" % rec["len"]
    elif k == "intsub":
        b = int.bit_length(v)
        rec["summary"] = ("<int of %d bits>" % b) if b > _INT_BITS_MAX else int.__repr__(v)
    elif k == "floatsub":
        rec["summary"] = float.__repr__(v)
    elif k == "df":
        _sum_df(v, rec, max_cols)
    elif k == "series":
        _sum_series(v, rec)
    elif k == "index":
        rec["len"] = len(v)
        rec["summary"] = "len %d, %s" % (rec["len"], _index_desc(v))
    elif k == "ndarray":
        _sum_ndarray(v, rec)
    elif k == "lib":
        _sum_lib(v, rec)
    elif k == "npscalar":
        G = _NP["generic"]
        rec["dtype"] = _dtype_str(G.__dict__["dtype"].__get__(v))
        rec["summary"] = _short(G.item(v))
    elif k == "func":
        rec["summary"] = "function " + _clip(_F_QUALNAME.__get__(v), 100)
    elif k == "bfunc":
        rec["summary"] = "builtin " + _clip(_BF_QUALNAME.__get__(v), 100)
    elif k == "method":
        f = _M_FUNC.__get__(v)
        if type(f) is types.FunctionType:
            rec["summary"] = "method " + _clip(_F_QUALNAME.__get__(f), 100)
        else:
            rec["summary"] = "method"
    elif k == "class":
        rec["summary"] = "class " + _tname(v)
    elif k == "module":
        d = _mdict(v)
        mn = d.get("__name__") if d is not None else None
        ver = d.get("__version__") if d is not None else None
        s = "module " + (_clip(mn, 100) if type(mn) is str else "?")
        if type(ver) is str:
            s += " " + _clip(ver, 30)
        rec["summary"] = s
    else:
        rec["summary"] = rec["type"]
    return rec


def _hidden_names():
    """IPython's user_ns_hidden (what %who hides), if an IPython shell is running."""
    cls = _mget("IPython.core.interactiveshell", "InteractiveShell")
    if cls is None:
        return None
    try:
        shell = type.__dict__["__dict__"].__get__(cls).get("_instance")
        if shell is None:
            return None
        hidden = shell.user_ns_hidden
    except Exception:
        return None
    return hidden if type(hidden) is dict else None


_RESULTS_MAX = 30


def _results(ns, deadline):
    """Type and size of the newest displayed results (IPython's `Out`), so "what does this
    expression return" has an exact answer: {"17": "pandas.Series, len 1"}."""
    cache = dict.get(ns, "Out") if type(ns) is dict else None
    if type(cache) is not dict:
        return {}
    keys = [k for k in dict.keys(cache) if type(k) is int]
    keys.sort()
    found = {}
    for key in keys[-_RESULTS_MAX:]:
        if perf_counter() > deadline:
            break
        v = dict.__getitem__(cache, key)
        try:
            k = _kind(type(v))
            rec = _summarize("", v, k, 0)
        except Exception:
            continue
        size = ""
        if "shape" in rec:
            size = ", shape %s" % (tuple(rec["shape"]),)
        elif "len" in rec:
            size = ", len %d" % rec["len"]
        found[str(key)] = rec["type"] + size
    return found


def run(ns, t0, budget_ms, max_vars, max_cols):
    try:
        deadline = t0 + budget_ms / 1000.0
        _DEADLINE[0] = t0 + budget_ms / 2000.0  # optional counts: first half of the budget
        _init_libs()
        hidden = _hidden_names() or {}
        items = list(dict.items(ns)) if type(ns) is dict else list(ns.items())
        buckets = ([], [], [])  # by priority: pandas/numpy data, other values, code/modules
        unclassified = 0
        for i, (name, v) in enumerate(items):
            if i and not i & 1023 and perf_counter() > deadline:
                unclassified = len(items) - i  # absurdly large namespace: stop here
                break
            if type(name) is not str or name[:1] == "_" or name in _SKIP:
                continue
            if name in hidden and hidden[name] is v:
                continue
            try:
                k = _kind(type(v))
            except Exception:
                k = "other"
            buckets[_RANK.get(k, 1)].append((name, v, k))
        del items
        cands = buckets[0] + buckets[1] + buckets[2]
        del buckets
        out = []
        truncated = unclassified > 0
        for name, v, k in cands:
            if len(out) >= max_vars:
                truncated = True
                break
            try:
                rec = _summarize(name, v, k, max_cols)
            except Exception:
                try:
                    tn = _tname(type(v))
                except Exception:
                    tn = "?"
                rec = {"name": name, "type": tn, "summary": "<unavailable>"}
            out.append(rec)
            if perf_counter() > deadline:
                truncated = truncated or len(out) < len(cands)
                break
        total = len(cands) + unclassified
        del cands
        results = _results(ns, deadline)
        took = (perf_counter() - t0) * 1000.0
        return json.dumps(
            {
                "v": 1,
                "variables": out,
                "took_ms": round(took, 3),
                "truncated": truncated,
                "total": total,
                "results": results,
            },
            separators=(",", ":"),
        )
    except Exception as e:
        return json.dumps({"v": 1, "error": _tname(type(e)) + ": " + _clip(str(e), 300)})
