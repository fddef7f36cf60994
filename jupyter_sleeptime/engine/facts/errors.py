"""Error cards: everything about a failed execution that can be read without a model.

The exception type and message (unchanged), the failing line, the names on it with their
types and sizes as the digest after the failure showed them, close matches for the name
that was not found (among the columns, attributes and parameters of what the line uses;
parameters come from a silent kernel probe of the called functions' signatures), and a
templated cause and fix. A model may phrase the card, but it never has to find the facts.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from ..state.records import Digest, Execution
from .defuse import dotted_calls, line_names
from .provenance import Binding, NameFact, failing_line, size_of, version_at

MESSAGE_CHARS = 500
CUTOFF = 0.6


@dataclass
class ErrorCard:
    execution_id: int
    execution_count: int | None
    ename: str
    evalue: str
    line: int | None
    line_text: str
    names: list[dict[str, str]] = field(default_factory=list)  # {"name", "type", "summary"}
    suggestions: list[str] = field(default_factory=list)
    cause: str = ""
    fix: str = ""
    described: bool = False  # an error the question describes, not one that ran here
    # name on the failing line -> its shapes after each cell that changed them
    shape_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"[{self.execution_count}]" if self.execution_count is not None else "the last cell"

    def to_public(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "ename": self.ename,
            "evalue": self.evalue,
            "line": self.line,
            "line_text": self.line_text,
            "suggestions": self.suggestions,
            "cause": self.cause,
            "fix": self.fix,
            "names": self.names,
            "shape_history": self.shape_history,
        }

    def render(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        if self.described:
            message = f": {self.evalue}" if self.evalue else ""
            parts = [f"`{self.line_text}` raising {self.ename}{message} (as you describe it)"]
        else:
            parts = [f"{self.label} raised {self.ename}{where}: {self.evalue}"]
        if self.line_text and not self.described:
            parts.append(f"Failing line: {self.line_text}")
        if self.cause:
            parts.append(f"Cause: {self.cause}")
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        if self.names:
            parts.append(
                "Names on that line: "
                + "; ".join(f"{n['name']}: {n['summary']}" for n in self.names)
            )
        for name, history in self.shape_history.items():
            steps = " → ".join(
                f"[{h['execution_count']}] {tuple(h['shape'])} `{h['source']}`" for h in history
            )
            parts.append(f"Shape history of `{name}`: {steps}")
        return "\n".join(parts)


def build_card(
    ex: Execution, names: dict[str, NameFact], digest: Digest | None, source_lines: list[str]
) -> ErrorCard | None:
    error = ex.error
    if error is None:
        return None
    number = failing_line(ex)
    text = source_lines[number - 1].strip() if number and 0 < number <= len(source_lines) else ""
    card = ErrorCard(
        execution_id=ex.id,
        execution_count=ex.execution_count,
        ename=str(error.ename or "Error"),
        evalue=_message(str(error.evalue or "")),
        line=number,
        line_text=text[:200],
    )
    return _explain(card, text, names, digest)


def described_card(
    question: str, names: dict[str, NameFact], digest: Digest | None
) -> ErrorCard | None:
    """An error the user describes but did not run here ("I added `clf.predict(X_test)` and
    got NotFittedError"): the same rules, on the code and exception the question quotes."""
    exception = _EXCEPTION.search(question)
    code = re.findall(r"`([^`]+)`", question)
    line = next((c for c in code if "(" in c or "[" in c or "." in c), "")
    if exception is None or not line:
        return None
    message = question[exception.end() :].lstrip(":").strip().split("`")[0].rstrip("?.! ")
    message = message if message[:1] in "'\"" else ""
    card = ErrorCard(
        execution_id=0,
        execution_count=None,
        ename=exception.group(1),
        evalue=message,
        line=None,
        line_text=line[:200],
        described=True,
    )
    _explain(card, line, names, digest)
    return card if card.cause else None


_EXCEPTION = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")


def _explain(
    card: ErrorCard, text: str, names: dict[str, NameFact], digest: Digest | None
) -> ErrorCard:
    variables = {str(v.get("name")): v for v in digest.variables} if digest else {}
    probes = digest.probes if digest else {}
    on_line = [n for n in line_names(text) if n in variables or n in names] if text else []
    for name in on_line[:6]:
        var = variables.get(name)
        if var is not None and var.get("type") != "module":
            card.names.append(
                {
                    "name": name,
                    "type": str(var.get("type")),
                    "summary": _short_summary(var),
                }
            )
        fact = names.get(name)
        history = fact.shape_history() if fact is not None else []
        if len(history) > 1:
            card.shape_history[name] = history[-4:]
    context = _Context(card, text, on_line, variables, probes, names)
    for rule in _RULES:
        if rule(context):
            break
    return card


@dataclass
class _Context:
    card: ErrorCard
    line: str
    on_line: list[str]
    variables: dict[str, dict[str, Any]]
    probes: dict[str, Any]
    names: dict[str, NameFact]

    @property
    def message(self) -> str:
        return self.card.evalue

    def columns(self, name: str) -> list[str]:
        probe = self.probes.get(name) or {}
        if probe.get("columns"):
            return [str(c) for c in probe["columns"]]
        var = self.variables.get(name) or {}
        return [str(c.get("name")) for c in var.get("columns") or []]

    def frames(self) -> list[str]:
        return [
            n
            for n in self.on_line
            if "DataFrame" in str((self.variables.get(n) or {}).get("type", ""))
            or "Series" in str((self.variables.get(n) or {}).get("type", ""))
        ]

    def attributes(self, name: str) -> list[str]:
        return [str(a) for a in (self.probes.get(name) or {}).get("attrs") or []]

    def parameters(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for call in dotted_calls(self.line):
            params = (self.probes.get(call) or {}).get("params")
            if params:
                found[call] = [str(p) for p in params]
        return found


def _message(text: str) -> str:
    text = text.strip()
    if len(text) <= MESSAGE_CHARS:
        return text
    return text[: MESSAGE_CHARS * 2 // 3] + " … " + text[-MESSAGE_CHARS // 3 :]


def _short_summary(var: dict[str, Any]) -> str:
    kind = str(var.get("type") or "").rsplit(".", 1)[-1]
    if var.get("shape") is not None:
        shape = tuple(var["shape"])
        text = f"{kind} of shape {shape}"
        columns = [str(c.get("name")) for c in var.get("columns") or []]
        if columns:
            text += "; columns: " + ", ".join(columns[:20])
            if var.get("more_columns"):
                text += f", … {var['more_columns']} more"
        if var.get("index") and "RangeIndex" not in str(var["index"]):
            text += f"; index: {var['index']}"
        return text
    if var.get("len") is not None:
        summary = str(var.get("summary") or "")
        return f"{kind} of length {var['len']}" + (
            f" ({summary[:160]})" if summary and kind in ("Series",) else ""
        )
    summary = str(var.get("summary") or "")
    return f"{kind} = {summary[:200]}" if summary and summary != var.get("type") else kind


def _close(word: str, candidates: list[str]) -> list[str]:
    """The candidates closest to a misspelt name, best first: spelling similarity, plus the
    snake_case parts they share (`test_ratio` → `test_size`, not `stratify`)."""
    exact = [c for c in candidates if c.lower() == word.lower() and c != word]
    if exact:
        return exact
    parts = set(word.lower().strip("_").split("_"))
    scored = []
    for candidate in dict.fromkeys(candidates):
        ratio = difflib.SequenceMatcher(None, word.lower(), candidate.lower()).ratio()
        theirs = set(candidate.lower().strip("_").split("_"))
        shared = len(parts & theirs) / max(len(parts), len(theirs)) if len(parts) > 1 else 0.0
        score = ratio + 0.4 * shared
        if score >= CUTOFF and candidate != word:
            scored.append((score, candidate))
    scored.sort(key=lambda pair: -pair[0])
    return [candidate for _, candidate in scored[:3]]


def _fixed_line(line: str, wrong: str, right: str) -> str:
    if not line:
        return ""
    for quote in ("'", '"'):
        if f"{quote}{wrong}{quote}" in line:
            return line.replace(f"{quote}{wrong}{quote}", f"{quote}{right}{quote}")
    return re.sub(rf"\b{re.escape(wrong)}\b", right, line, count=1)


# -- rules: the first that applies writes the cause and the fix --------------------------------
def _key_error(ctx: _Context) -> bool:
    card = ctx.card
    if card.ename != "KeyError" and "not in index" not in ctx.message:
        return False
    missing = re.findall(r"'([^']+)'", ctx.message) or [ctx.message.strip("'\" ")]
    frames = ctx.frames()
    for key in missing:
        for frame in frames:
            index = str((ctx.variables.get(frame) or {}).get("index") or "")
            if re.search(rf"name='{re.escape(key)}'", index):
                card.cause = (
                    f"'{key}' is the name of the index of `{frame}` (set with set_index), "
                    "not a column, so a column lookup does not find it."
                )
                card.fix = (
                    f"select rows by the index labels (`{frame}.loc[[…]]`), read "
                    f"`{frame}.index`, or call `{frame}.reset_index()` to make '{key}' a column "
                    "again."
                )
                card.suggestions.append(f"{frame}.index")
                return True
        for frame in frames:
            matches = _close(key, ctx.columns(frame))
            if matches:
                card.suggestions.extend(matches)
                card.cause = (
                    f"'{key}' is not a column of `{frame}`; the closest column is '{matches[0]}'."
                )
                fixed = _fixed_line(ctx.line, key, matches[0])
                card.fix = f"use '{matches[0]}'" + (f": `{fixed}`" if fixed else "")
                return True
    if frames:
        columns = ctx.columns(frames[0])
        card.cause = f"{', '.join(repr(k) for k in missing)} is not a column of `{frames[0]}`."
        if columns:
            card.fix = "its columns are: " + ", ".join(columns[:30])
        return True
    return False


def _attribute_error(ctx: _Context) -> bool:
    card = ctx.card
    if card.ename != "AttributeError":
        return False
    match = re.search(r"has no attribute '([^']+)'", ctx.message)
    if not match:
        return False
    attr = match.group(1)
    owners = [n for n in ctx.on_line if re.search(rf"\b{re.escape(n)}\s*\.\s*{attr}\b", ctx.line)]
    for owner in owners or ctx.on_line:
        candidates = ctx.columns(owner) + ctx.attributes(owner)
        matches = _close(attr, candidates)
        if matches:
            kind = "column" if matches[0] in ctx.columns(owner) else "attribute"
            card.suggestions.extend(matches)
            card.cause = f"`{owner}` has no attribute '{attr}'; it has a {kind} '{matches[0]}'."
            fixed = _fixed_line(ctx.line, attr, matches[0])
            card.fix = f"use `{owner}.{matches[0]}`" + (f": `{fixed}`" if fixed else "")
            return True
    if owners:
        card.cause = f"`{owners[0]}` ({_type_of(ctx, owners[0])}) has no attribute '{attr}'."
        return True
    return False


def _name_error(ctx: _Context) -> bool:
    card = ctx.card
    match = re.search(r"name '([^']+)' is not defined", ctx.message)
    if card.ename != "NameError" or not match:
        return False
    name = match.group(1)
    fact = ctx.names.get(name)
    if fact is not None and fact.removed:
        card.cause = f"`{name}` was defined earlier but is gone: {fact.removed}."
        if fact.last is not None:
            card.fix = f"run `{fact.last.effect.text}` again (from {_where(fact)}) before using it."
        return True
    known = sorted(set(ctx.variables) | {n for n, f in ctx.names.items() if f.defined})
    matches = _close(name, known)
    if matches:
        card.suggestions.extend(matches)
        card.cause = f"no name `{name}` is defined; `{matches[0]}` is."
        card.fix = f"use `{matches[0]}`: `{_fixed_line(ctx.line, name, matches[0])}`"
    else:
        card.cause = f"`{name}` was never defined in this kernel session."
        card.fix = "run the cell that defines it first (after a restart, run the cells above)."
    return True


def _keyword_error(ctx: _Context) -> bool:
    card = ctx.card
    match = re.search(r"unexpected keyword argument '([^']+)'", ctx.message)
    if card.ename != "TypeError" or not match:
        return False
    word = match.group(1)
    for call, params in ctx.parameters().items():
        matches = _close(word, params) or _close_prefix(word, params)
        if matches:
            card.suggestions.extend(matches)
            card.cause = (
                f"`{call}` has no parameter `{word}`; its parameters include `{matches[0]}`."
            )
            fixed = _fixed_line(ctx.line, word, matches[0])
            card.fix = f"use `{matches[0]}=`" + (f": `{fixed}`" if fixed else "")
            return True
        card.cause = f"`{call}` has no parameter `{word}`; it takes: {', '.join(params[:20])}."
        return True
    card.cause = f"`{word}` is not a parameter of the function called on that line."
    return True


def _close_prefix(word: str, params: list[str]) -> list[str]:
    """`test_ratio` → `test_size`: same first part when the whole word is not close."""
    head = word.split("_")[0]
    return [p for p in params if "_" in word and p.split("_")[0] == head][:3]


def _signature_error(ctx: _Context) -> bool:
    card = ctx.card
    if card.ename != "TypeError" or not re.search(
        r"missing \d+ required|positional argument|takes \d+", ctx.message
    ):
        return False
    params = ctx.parameters()
    if not params:
        return False
    call, names = next(iter(params.items()))
    card.cause = f"`{call}` was called with the wrong arguments; it takes: {', '.join(names[:20])}."
    return True


def _sizes_error(ctx: _Context) -> bool:
    """Inconsistent sample counts: name the argument whose length differs and the sibling
    variable that has the length the others have."""
    card = ctx.card
    match = re.search(r"inconsistent numbers of samples: \[([\d,\s]+)\]", ctx.message)
    if not match:
        return False
    lengths = {n: _length(ctx.variables.get(n) or {}) for n in ctx.on_line}
    lengths = {n: v for n, v in lengths.items() if v is not None}
    if len(set(lengths.values())) < 2:
        return False
    described = ", ".join(f"`{n}` has {v} rows" for n, v in lengths.items())
    card.cause = f"the arguments do not have the same number of samples: {described}."
    fixes = []
    for name in lengths:
        others = {v for n, v in lengths.items() if n != name}
        siblings = [
            s
            for s in _close(name, [v for v in ctx.variables if v != name])
            if _length(ctx.variables.get(s) or {}) in others
        ]
        for sibling in siblings[:1]:
            fixes.append(
                f"`{sibling}` ({_length(ctx.variables[sibling])} rows) instead of `{name}`"
            )
            card.suggestions.append(sibling)
    if fixes:
        card.fix = "pass arrays that belong together: " + ", or ".join(fixes) + "."
    return True


def _dimension_error(ctx: _Context) -> bool:
    card = ctx.card
    if not re.search(r"Expected 2D array, got 1D array", ctx.message):
        return False
    card.cause = "a 1-D array was passed where a 2-D array (samples × features) is expected."
    card.fix = (
        "reshape it: `.reshape(1, -1)` for a single sample, `.reshape(-1, 1)` for a single "
        "feature (or index with a slice, `X[1:2]`, to keep two dimensions)."
    )
    return True


def _module_error(ctx: _Context) -> bool:
    card = ctx.card
    match = re.search(r"No module named '([^']+)'", ctx.message)
    if card.ename not in ("ModuleNotFoundError", "ImportError") or not match:
        return False
    package = match.group(1).split(".")[0]
    card.cause = f"the package `{package}` is not installed in this kernel's environment."
    card.fix = f"run `%pip install {package}` in a cell, then restart the kernel."
    return True


def _not_fitted(ctx: _Context) -> bool:
    card = ctx.card
    if "NotFittedError" not in card.ename and "is not fitted yet" not in ctx.message:
        return False
    for name in ctx.on_line:
        fact = ctx.names.get(name)
        if fact is None or fact.last is None:
            continue
        fitted = [c for c in fact.changes if ".fit" in c.effect.text]
        if fitted:
            continue
        used = "; ".join(f"{_count(c)} `{t}`" for c, t in fact.uses) or "nothing"
        card.cause = (
            f"`{name}` was created again by `{fact.last.effect.text}` in {_where(fact)} and "
            f"not fitted after that; since then it was only used by: {used}. scikit-learn's "
            "model-selection helpers (cross-validation, grid search) fit clones of an "
            "estimator, never the object passed in."
        )
        card.fix = f"fit it before predicting: `{name}.fit(X_train, y_train)`."
        return True
    return False


_FEATURES = re.compile(
    r"X has (\d+) features?, but (\w+) is expecting (\d+) features?"
    r"|feature names should match those that were passed during fit",
)
_PREDICTING = re.compile(r"\b([A-Za-z_]\w*)\s*\.\s*\w+\s*\(\s*([^,()]+(?:\([^()]*\))?)")


def _feature_mismatch(ctx: _Context) -> bool:
    """`X has 5 features, but LogisticRegression is expecting 12`: name what the model was
    fitted on (the call, the cell, the data's shape then), and how that data was made."""
    card = ctx.card
    match = _FEATURES.search(ctx.message)
    if match is None:
        return False
    fitted = [n for n in ctx.on_line if (f := ctx.names.get(n)) is not None and f.fit]
    if not fitted:
        return False
    calls = {m.group(1): m.group(2).strip() for m in _PREDICTING.finditer(ctx.line)}
    model = next((n for n in fitted if n in calls), fitted[0])
    fit = ctx.names[model].fit
    assert fit is not None
    given = calls.get(model, "")
    given_var = ctx.variables.get(next(iter(line_names(given)), "")) if given else None
    trained_text, trained = fit.args[0] if fit.args else ("", None)
    where = f"[{fit.execution_count}]" if fit.execution_count is not None else "an earlier cell"
    cause = f"`{model}` was fitted on `{trained_text}`"
    shape = size_of(trained.var) if trained is not None else None
    if shape:
        cause += f" (shape {tuple(shape)})"
    cause += f" by `{fit.call.text}` in {where}"
    given_shape = size_of(given_var)
    if given:
        cause += f", but `{given}` " + (
            f"has shape {tuple(given_shape)}" if given_shape else "is different"
        )
    if match.group(1):
        cause += f": {match.group(1)} features given, {match.group(3)} expected."
    else:
        cause += ": its columns are not the ones the model was fitted on."
    trained_columns = _column_names(trained.var if trained else None)
    given_columns = _column_names(given_var)
    if trained_columns and given_columns:
        missing = [c for c in trained_columns if c not in given_columns]
        extra = [c for c in given_columns if c not in trained_columns]
        if missing:
            cause += " Missing: " + ", ".join(missing[:10]) + "."
        if extra:
            cause += " Not seen in fit: " + ", ".join(extra[:10]) + "."
    card.cause = cause
    card.fix = _same_transform(trained, trained_text, given)
    return True


def _same_transform(trained: Binding | None, trained_text: str, given: str) -> str:
    """`X_train_t = pre.fit_transform(X_train)` → transform `X_test` with `pre` too."""
    made = trained.effect.text if trained is not None else ""
    step = re.search(r"([A-Za-z_]\w*)\s*\.\s*fit_transform\s*\(", made)
    where = trained.where if trained is not None else ""
    target = f"`{given}`" if given else "the new data"
    if step:
        return (
            f"transform {target} the same way `{trained_text}` was made (`{made}` in {where}): "
            f"`{step.group(1)}.transform({given or 'X_new'})`, then pass that."
        )
    if made:
        return (
            f"prepare {target} the same way `{trained_text}` was made (`{made}` in {where}), "
            "so it has the same columns."
        )
    return f"pass data with the same columns as `{trained_text}`."


def _column_names(var: dict[str, Any] | None) -> list[str]:
    return [str(c.get("name")) for c in (var or {}).get("columns") or []]


_EMPTY = re.compile(r"0 sample|0 rows|\bempty\b|zero-size|shape=\(0,", re.I)


def _empty_data(ctx: _Context) -> bool:
    """An error on a name with 0 rows: the cell that emptied it, and why when the data
    before it tells (a column that was entirely missing, then `dropna()`)."""
    card = ctx.card
    for name in ctx.on_line:
        size = _current_size(ctx, name)
        if size is None or size[0] != 0:
            continue
        found = _emptied(ctx.names, name)
        if found is None:
            if not _EMPTY.search(ctx.message):
                continue
            card.cause = f"`{name}` has 0 rows."
            return True
        owner, event, source, before = found
        cause = f"`{name}` has 0 rows: " + (
            f"it comes from `{owner}`, which " if owner != name else "it "
        )
        cause += f"was emptied in {event.where} by `{event.effect.text}`"
        previous = size_of(before.var) if before is not None else None
        if previous:
            had = "it" if source == owner else f"`{source}`"
            cause += f" ({had} had {previous[0]} rows before)"
        all_missing = _all_missing(before)
        named = [
            c for c in all_missing if f"'{c}'" in event.effect.text or f'"{c}"' in event.effect.text
        ]
        all_missing = named or all_missing
        if all_missing:
            cause += (
                f"; before that, column(s) {', '.join(repr(c) for c in all_missing)} were "
                "entirely missing, so dropping rows with any missing value removed every row"
            )
        card.cause = cause + "."
        if all_missing and "dropna" in event.effect.text:
            card.fix = (
                f"leave out the all-missing column(s) {', '.join(repr(c) for c in all_missing)} "
                "before `dropna()`, or use `dropna(subset=[…])` on the columns you need."
            )
        else:
            card.fix = f"check `{event.effect.text}` in {event.where}: it removed every row."
        return True
    return False


def _current_size(ctx: _Context, name: str) -> list[int] | None:
    size = size_of(ctx.variables.get(name))
    if size is None and (fact := ctx.names.get(name)) is not None:
        size = size_of(fact.var)
    return size


def _emptied(
    names: dict[str, NameFact], name: str, depth: int = 3
) -> tuple[str, Binding, str, Binding | None] | None:
    """(name, the event that left it with 0 rows, the data it was made from and that data's
    state then) — following the data back through the names its emptying line read
    (`X = df[cols]` after `df` was emptied; `clean = raw[cols].dropna()` made from `raw`)."""
    fact = names.get(name)
    if fact is None or depth == 0:
        return None
    previous: Binding | None = None
    empty_at: tuple[Binding, Binding | None] | None = None
    for event in fact.events:
        size = size_of(event.var)
        if size is None:
            continue
        if size[0] == 0 and (previous is None or (size_of(previous.var) or [0])[0] > 0):
            empty_at = (event, previous)
        previous = event
    if empty_at is None:
        return None
    event, before = empty_at
    if before is not None:
        return (name, event, name, before)
    # empty from the start: the data it was made from was emptied earlier, or here
    sources = [s for s in line_names(event.effect.text.split("=", 1)[-1]) if s != name]
    for source in sources:
        found = _emptied(names, source, depth - 1)
        if found is not None:
            return found
    for source in sources:
        origin = names.get(source)
        state = version_at(origin, event.execution_id, event.effect.line) if origin else None
        if state is not None and state.var is not None:
            return (name, event, source, state)
    return (name, event, name, None)


def _all_missing(state: Binding | None) -> list[str]:
    var = state.var if state is not None else None
    size = size_of(var)
    missing = (var or {}).get("missing")
    if not size or not size[0] or not isinstance(missing, dict):
        return []
    return [str(c) for c, n in missing.items() if n == size[0]]


def _shapes_error(ctx: _Context) -> bool:
    """Other errors about sizes: show the sizes of the arrays on the line."""
    card = ctx.card
    if not re.search(r"shape|length|size|dimension|broadcast|align", ctx.message, re.I):
        return False
    sized = [n for n in card.names if "shape" in n["summary"] or "length" in n["summary"]]
    if not sized:
        return False
    card.cause = "the sizes on that line do not fit together: " + "; ".join(
        f"`{n['name']}` is a {n['summary']}" for n in sized
    )
    return True


def _length(var: dict[str, Any]) -> int | None:
    shape = var.get("shape")
    if shape:
        return int(shape[0])
    if var.get("len") is not None:
        return int(var["len"])
    return None


def _type_of(ctx: _Context, name: str) -> str:
    return str((ctx.variables.get(name) or {}).get("type") or "unknown type").rsplit(".", 1)[-1]


def _where(fact: NameFact) -> str:
    return f"[{fact.set_in}]" if fact.set_in is not None else "an earlier cell"


def _count(count: int | None) -> str:
    return f"[{count}]" if count is not None else "a cell"


_RULES = (
    _key_error,
    _attribute_error,
    _name_error,
    _keyword_error,
    _signature_error,
    _sizes_error,
    _dimension_error,
    _module_error,
    _not_fitted,
    _feature_mismatch,
    _empty_data,
    _shapes_error,
)


def probe_targets(source_line: str) -> list[str]:
    """What to ask the kernel about a failing line: the called functions (for their
    parameters) and the names on it (for their attributes and columns)."""
    targets = dotted_calls(source_line)
    for name in line_names(source_line):
        if name not in targets:
            targets.append(name)
    return targets[:8]
