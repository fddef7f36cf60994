"""The wire types of `jupyter_sleeptime/protocol.py` as data: the field list of each
TypedDict (for `tests/data/protocol/schema.json`, which the labextension's Jest spec holds
`types.ts` to), and a check of a JSON value against a TypedDict, field by field."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from jupyter_sleeptime import protocol

# The interface of labextension/src/types.ts that mirrors each TypedDict.
WIRE_TYPES: dict[str, type] = {
    # the ask request and its events
    "IAskRequest": protocol.AskRequest,
    "IAnswerUsage": protocol.Usage,
    "IAskTokenEvent": protocol.TokenEvent,
    "IAskDoneEvent": protocol.DoneEvent,
    "IAskErrorEvent": protocol.ErrorEvent,
    "IAskPromptEvent": protocol.PromptEvent,
    # GET status
    "IStatus": protocol.StatusView,
    "IKernelStatus": protocol.KernelSummary,
    "IUsage": protocol.UsageTotals,
    "IUsageCounter": protocol.UsageCounter,
    "ILastRun": protocol.LastRun,
    "IBudget": protocol.Budget,
    # GET kernels/{id}
    "IKernelState": protocol.KernelView,
    "IExecution": protocol.ExecutionView,
    "IDigest": protocol.DigestView,
    "IMemory": protocol.MemoryView,
    "IInsights": protocol.Insights,
    "ICellInsight": protocol.CellNote,
    "IAnticipated": protocol.PreparedItem,
    "INextStep": protocol.NextStep,
    "IErrorInsight": protocol.ErrorNote,
    "IFacts": protocol.FactsView,
    "INameFact": protocol.NameView,
    "IFit": protocol.FitView,
    "IErrorCard": protocol.ErrorCardView,
    "ICellOutputs": protocol.OutputsView,
    # GET / PUT settings
    "ISettings": protocol.SettingsView,
    "IServerSettings": protocol.SettingsUpdate,
}

_UNIONS = (Union, types.UnionType)


def _nullable(hint: Any) -> bool:
    return hint is Any or (get_origin(hint) in _UNIONS and type(None) in get_args(hint))


def schema() -> dict[str, Any]:
    """Every field of every wire type: "required" (always sent) or "optional", and
    ", nullable" when it may be null."""
    out: dict[str, Any] = {}
    for name, typed in WIRE_TYPES.items():
        hints = get_type_hints(typed)
        out[name] = {
            "python": typed.__name__,
            "fields": {
                key: ("required" if key in typed.__required_keys__ else "optional")  # type: ignore[attr-defined]
                + (", nullable" if _nullable(hint) else "")
                for key, hint in hints.items()
            },
        }
    return out


def violations(value: Any, hint: Any, path: str = "$") -> list[str]:
    """Where `value` (decoded JSON) differs from the type `hint`; empty when it conforms."""
    if hint is Any:
        return []
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object ({hint.__name__})"]
        hints = get_type_hints(hint)
        found = [f"{path}.{k}: not declared in {hint.__name__}" for k in value if k not in hints]
        found += [
            f"{path}.{k}: required by {hint.__name__}, missing"
            for k in hint.__required_keys__
            if k not in value
        ]
        for key, sub in value.items():
            if key in hints:
                found += violations(sub, hints[key], f"{path}.{key}")
        return found
    origin, args = get_origin(hint), get_args(hint)
    if origin in _UNIONS:
        tries = [violations(value, arg, path) for arg in args]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if origin is Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        return [
            v for i, item in enumerate(value) for v in violations(item, args[0], f"{path}[{i}]")
        ]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        return [v for k, item in value.items() for v in violations(item, args[1], f"{path}.{k}")]
    if hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if hint in (str, bool):
        ok = isinstance(value, hint)
        return [] if ok else [f"{path}: {value!r} is not a {hint.__name__}"]
    raise TypeError(f"{path}: no check for {hint!r}")
