"""The wire contract, in one place: REST routes, headers, environment variables handed to
kernels, the ask request and the events of its stream (their types, how they are built and
how they are read), and the shapes of the REST views (`GET status`, `GET kernels/{id}`,
`GET`/`PUT settings`). Standard library only: the server, the engine's dry run, the
kernel-side client, the in-process path, the benchmark harness and the tests all speak
through this module.

`labextension/src/types.ts` mirrors these types, and CI holds the two together:
`tests/data/protocol/schema.json` lists every field of every type here (written from the
TypedDicts by `tests/test_protocol.py`, which fails when it is stale), and the Jest spec
`labextension/src/__tests__/protocol.spec.ts` fails when an interface of `types.ts` differs
from it. `events.json` and `views.json` beside it hold examples of every event and view.

An ask streams NDJSON: `token` events, then one final event — `done` (the answer), `error`
(a message that says what to do), or `prompt` (a dry run: what would be sent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, TypedDict

API = "sleeptime/api/"
ROUTES = {
    "status": "status",
    "settings": "settings",
    "kernel": "kernels/{kernel_id}",
    "think": "kernels/{kernel_id}/think",
    "ask": "kernels/{kernel_id}/ask",
}
KERNEL_TOKEN_HEADER = "X-Sleeptime-Kernel-Token"
# Handed to the kernels the server starts, so `%ask` finds its server with a scoped token.
ENV_URL = "JUPYTER_SLEEPTIME_URL"
ENV_KERNEL_ID = "JUPYTER_SLEEPTIME_KERNEL_ID"
ENV_TOKEN = "JUPYTER_SLEEPTIME_TOKEN"

MODES = ("sleep", "baseline", "baseline-budget")
SOURCES = ("anticipated", "model")
FINAL = ("done", "error", "prompt")


class ProtocolError(ValueError):
    """A request or an event that does not follow the contract; the message says how."""


def route(name: str, kernel_id: str | None = None) -> str:
    """The path under the server's base URL, e.g. `sleeptime/api/kernels/<id>/ask`."""
    return API + ROUTES[name].format(kernel_id=kernel_id)


# -- requests ---------------------------------------------------------------------------------
class _AskRequest(TypedDict):
    question: str


class AskRequest(_AskRequest, total=False):
    mode: str  # sleep | baseline | baseline-budget
    fresh: bool  # skip prepared answers: "ask the model instead"
    dry_run: bool  # answer with what would be sent (a `prompt` event), no model call
    model: str  # a LiteLLM model id for this question only
    cold: bool  # benchmark only: empty a local model's KV cache first


def ask_request(
    question: str,
    mode: str = "sleep",
    *,
    fresh: bool = False,
    dry_run: bool = False,
    model: str | None = None,
    cold: bool = False,
) -> AskRequest:
    """The body of `POST kernels/{id}/ask`: the question, the mode, and only the flags that
    are set, so the server's defaults apply to the rest (`askRequestBody` in the frontend)."""
    request: AskRequest = {"question": question, "mode": mode}
    if fresh:
        request["fresh"] = True
    if dry_run:
        request["dry_run"] = True
    if cold:
        request["cold"] = True
    if model:
        request["model"] = model
    return request


def parse_ask_request(body: Any) -> AskRequest:
    if not isinstance(body, dict):
        raise ProtocolError("The request body must be a JSON object.")
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ProtocolError("'question' must be a non-empty string.")
    mode = body.get("mode", "sleep")
    if mode not in MODES:
        raise ProtocolError(f"'mode' must be one of {', '.join(MODES)}.")
    request: AskRequest = {"question": question.strip(), "mode": mode}
    for flag in ("fresh", "dry_run", "cold"):
        value = body.get(flag, False)
        if not isinstance(value, bool):
            raise ProtocolError(f"'{flag}' must be true or false.")
        request[flag] = value
    model = body.get("model") or None
    if model is not None:
        if not isinstance(model, str) or "/" not in model:
            raise ProtocolError("'model' must be a LiteLLM model id such as openai/gpt-4o-mini.")
        request["model"] = model
    return request


# -- events -----------------------------------------------------------------------------------
class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


# Each event's required fields are those of its first class; `parse_event` checks them.
class TokenEvent(TypedDict):
    type: Literal["token"]
    text: str


class _DoneEvent(TypedDict):
    type: Literal["done"]
    answer: str
    source: str  # anticipated (a prepared answer) | model
    mode: str
    usage: Usage
    ttft_ms: float
    latency_ms: float


class DoneEvent(_DoneEvent, total=False):
    model: str | None
    kind: str | None  # state | explain | error | next
    matched: str  # with a prepared answer: the prepared question it answers
    prepared_from: str  # facts | model
    similarity: float
    inprocess: bool  # answered inside the kernel, without a server


class _ErrorEvent(TypedDict):
    type: Literal["error"]
    message: str


class ErrorEvent(_ErrorEvent, total=False):
    reason: str  # opted_out | store | … when the cause is one a client acts on
    latency_ms: float
    unreachable: bool  # the server could not be reached (the kernel client looks again)


class _PromptEvent(TypedDict):
    type: Literal["prompt"]
    source: str


class PromptEvent(_PromptEvent, total=False):
    kind: str | None
    messages: list[dict[str, str]]  # as they would be sent, redacted
    answer: str  # with a prepared answer, instead of messages
    matched: str
    max_tokens: int
    approx_tokens: int


AskEvent = TokenEvent | DoneEvent | ErrorEvent | PromptEvent


def token(text: str) -> TokenEvent:
    return {"type": "token", "text": text}


def done(
    *,
    answer: str,
    source: str,
    mode: str,
    model: str | None,
    kind: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int,
    ttft_ms: float,
    latency_ms: float,
    matched: str | None = None,
    **extra: Any,
) -> DoneEvent:
    event: DoneEvent = {
        "type": "done",
        "answer": answer,
        "source": source,
        "mode": mode,
        "model": model,
        "kind": kind,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cached_tokens": cached_tokens,
        },
        "ttft_ms": round(ttft_ms, 1),
        "latency_ms": round(latency_ms, 1),
    }
    if matched is not None:
        event["matched"] = matched
    event.update(extra)  # type: ignore[typeddict-item]
    return event


def done_from(answer: Any, **extra: Any) -> DoneEvent:
    """The `done` event of an answer object (the engine's `Answer`: same field names)."""
    return done(
        answer=answer.answer,
        source=answer.source,
        mode=answer.mode,
        model=answer.model,
        kind=answer.kind,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        cached_tokens=answer.cached_tokens,
        ttft_ms=answer.ttft_ms,
        latency_ms=answer.latency_ms,
        matched=answer.matched,
        **(answer.extra if answer.matched is not None else {}),
        **extra,
    )


def error(
    message: str, *, reason: str | None = None, latency_ms: float | None = None, **extra: Any
) -> ErrorEvent:
    event: ErrorEvent = {"type": "error", "message": message}
    if reason is not None:
        event["reason"] = reason
    if latency_ms is not None:
        event["latency_ms"] = round(latency_ms, 1)
    event.update(extra)  # type: ignore[typeddict-item]
    return event


def prompt(
    *,
    source: str,
    kind: str | None,
    messages: list[dict[str, str]],
    answer: str | None = None,
    matched: str | None = None,
    max_tokens: int | None = None,
    approx_tokens: int | None = None,
) -> PromptEvent:
    """The final event of a dry run: the prepared answer an ask would give (`answer`,
    `matched`, no messages), or the messages as they would be sent, already redacted."""
    event: PromptEvent = {"type": "prompt", "source": source, "kind": kind, "messages": messages}
    if answer is not None:
        event["answer"] = answer
    if matched is not None:
        event["matched"] = matched
    if max_tokens is not None:
        event["max_tokens"] = max_tokens
    if approx_tokens is not None:
        event["approx_tokens"] = approx_tokens
    return event


def _required(event_type: type) -> tuple[str, ...]:
    keys = event_type.__required_keys__  # type: ignore[attr-defined]
    return tuple(k for k in event_type.__annotations__ if k in keys and k != "type")


_REQUIRED: dict[str, tuple[str, ...]] = {
    "token": _required(TokenEvent),
    "done": _required(DoneEvent),
    "error": _required(ErrorEvent),
    "prompt": _required(PromptEvent),
}


def parse_event(raw: str | bytes | dict[str, Any]) -> AskEvent:
    """One line of an ask stream (or its decoded object), checked against the contract."""
    if isinstance(raw, bytes | str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ProtocolError(f"an answer stream line is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ProtocolError("an answer stream event must be a JSON object")
    kind = raw.get("type")
    if kind not in _REQUIRED:
        raise ProtocolError(f"unknown event type {kind!r}")
    missing = [k for k in _REQUIRED[kind] if k not in raw]
    if missing:
        raise ProtocolError(f"a {kind} event lacks {', '.join(missing)}")
    if kind == "done" and raw["source"] not in SOURCES:
        raise ProtocolError(f"unknown answer source {raw['source']!r}")
    return raw  # type: ignore[return-value]


def is_final(event: Mapping[str, Any]) -> bool:
    return event.get("type") in FINAL


def ndjson(event: AskEvent | dict[str, Any]) -> str:
    return json.dumps(event) + "\n"


# -- reading a stream ---------------------------------------------------------------------------
# What every Python client says when a stream does not follow the contract.
MALFORMED = "the server sent a malformed answer ({reason})."
BROKE_OFF = "the answer stream broke off ({reason})."
ENDED_EARLY = "the server closed the answer stream early."


class EventReader:
    """Reads an ask stream as it arrives, in chunks of any size (a socket's, a callback's):
    whole lines become checked events, up to and including the final one. A line off the
    contract ends the stream with an `error` event saying so; nothing after it is read,
    since what follows may belong to a broken stream."""

    def __init__(self) -> None:
        self._buffer = b""
        self.final: AskEvent | None = None

    @property
    def ended(self) -> bool:
        return self.final is not None

    def feed(self, data: bytes | str) -> list[AskEvent]:
        """The events completed by this chunk (none once the stream has ended)."""
        if self.ended:
            return []
        self._buffer += data.encode() if isinstance(data, str) else data
        events: list[AskEvent] = []
        while b"\n" in self._buffer and not self.ended:
            line, self._buffer = self._buffer.split(b"\n", 1)
            events.extend(self._line(line))
        return events

    def end(self) -> list[AskEvent]:
        """At the end of the stream: its unterminated last line, then, when no final event
        came, an `error` event that says the stream ended early."""
        events = [] if self.ended else self._line(self._buffer)
        self._buffer = b""
        if not self.ended:
            events.append(self._finish(error(ENDED_EARLY)))
        return events

    def broke_off(self, reason: object) -> ErrorEvent:
        """The final event when the transport failed mid-stream (timeout, reset)."""
        event = error(BROKE_OFF.format(reason=reason))
        self._finish(event)
        return event

    def _line(self, line: bytes) -> list[AskEvent]:
        if not line.strip():
            return []
        try:
            event = parse_event(line)
        except ProtocolError as exc:
            return [self._finish(error(MALFORMED.format(reason=exc)))]
        if is_final(event):
            self._finish(event)
        return [event]

    def _finish(self, event: AskEvent) -> AskEvent:
        self.final = event
        return event


def read_events(lines: Iterable[bytes | str]) -> Iterator[AskEvent]:
    """The events of an ask stream given as an iterable of chunks or lines (an HTTP
    response), up to and including the final one; a transport failure (an `OSError` or a
    `ValueError` of a truncated chunk) ends it with an `error` event too."""
    reader = EventReader()
    try:
        for chunk in lines:
            yield from reader.feed(chunk)
            if reader.ended:
                return
    except (OSError, ValueError) as exc:
        yield reader.broke_off(exc)
        return
    yield from reader.end()


# Idle-time tasks (`current_task`, `last_run.ran`) in the words a user reads.
TASKS = {
    "compute_facts": "reading the notebook's facts",
    "diagnose_error": "diagnosing the error",
    "explain_cells": "explaining cells",
    "rewrite_memory": "writing the notebook memory",
    "anticipate": "preparing answers to likely questions",
    "next_steps": "suggesting next steps",
    "warm_kv": "warming the model's cache",
}


def task_words(task: str | None) -> str:
    return TASKS.get(task or "", task or "")


# -- REST views ----------------------------------------------------------------------------------
# What `GET status`, `GET kernels/{id}` and `GET`/`PUT settings` answer (built in
# `server/views.py`). A field the server may leave out is declared in a `total=False` class
# (NotRequired needs Python 3.11); `X | None` is a field always present that may be null. Free-form parts (a digest record, an output as nbformat
# writes it) stay `dict[str, Any]`.
class _UsageCounter(TypedDict):
    calls: int
    prompt_tokens: int
    completion_tokens: int


class UsageCounter(_UsageCounter, total=False):
    cached_tokens: int  # prompt tokens a provider served from its cache


class UsageTotals(TypedDict):
    sleep: UsageCounter  # idle-time work
    query: UsageCounter  # answers


class LastRun(TypedDict):
    at: str  # ISO 8601, UTC
    ran: list[str]  # the tasks that ran
    ok: bool
    error: str | None
    seconds: float


class Budget(TypedDict):
    max_tokens_per_hour: int  # 0: unlimited
    used_last_hour: int
    exhausted: bool


class KernelSummary(TypedDict):
    """One kernel in `GET status`."""

    kernel_id: str
    path: str | None  # None: a kernel without a notebook
    execution_state: str
    pending: int  # idle-time tasks still to run
    last_run: LastRun | None
    thinking: bool
    current_task: str | None  # the idle-time task running now
    paused: bool  # idle-time work waits: a kernel is busy
    last_error: str | None


class StatusView(TypedDict):
    """`GET status`."""

    version: str
    kernels: list[KernelSummary]
    at: float  # server time, seconds since the epoch
    model: str
    sleep_model: str
    enabled: bool
    usage: UsageTotals
    budget: Budget
    model_error: str | None  # the last model failure, in words
    store_error: str | None  # the store cannot be written: records wait in memory
    records_waiting: int  # records held in memory until the store can be written
    anticipated_hits: int
    redacted: int  # secrets replaced before anything left the machine


class ExecutionView(TypedDict):
    execution_count: int | None
    source: str
    status: str  # ok | error | "" while it runs
    outputs: list[dict[str, Any]]  # as nbformat writes them
    cell_id: str | None
    started: float | None
    ended: float | None


class _DigestView(TypedDict):
    variables: list[dict[str, Any]]  # name, type, summary, and what the digest read
    took_ms: float | None


class DigestView(_DigestView, total=False):
    """The kernel's variables, summarised; `{"variables": [], "took_ms": None}` before the
    first digest."""

    truncated: bool
    total: int
    at: float
    probes: dict[str, Any]  # what a probe read about names on a failing line
    results: dict[str, str]  # type and size of displayed results, by [n]


class MemoryView(TypedDict):
    text: str
    version: int
    fresh: bool  # written for the notebook's current state


class _CellNote(TypedDict):
    execution_count: int | None
    explanation: str


class CellNote(_CellNote, total=False):
    shared: bool  # reused from another user's run of the same cell


class PreparedItem(TypedDict):
    question: str
    answer: str
    source: str  # facts | model


class NextStep(TypedDict):
    title: str
    code: str


class _ErrorNote(TypedDict):
    execution_count: int | None
    diagnosis: str


class ErrorNote(_ErrorNote, total=False):
    shared: bool  # reused from another user's run of the same cell


class Insights(TypedDict):
    cells: list[CellNote]
    anticipated: list[PreparedItem]
    anticipated_fresh: bool
    next_steps: list[NextStep]
    errors: list[ErrorNote]


class FitView(TypedDict):
    execution_count: int | None
    method: str
    call: str
    args: list[dict[str, Any]]


class NameView(TypedDict):
    """What the notebook's code and outputs say about one name."""

    name: str
    set_in: int | None
    line: int | None
    source: str | None
    type: str | None
    summary: str | None
    defined: bool
    removed: int | None
    history: list[dict[str, Any]]
    changed_in: list[int | None]
    type_history: list[dict[str, Any]]
    shape_history: list[dict[str, Any]]
    fitted_on: FitView | None
    fitted: Any
    missing: Any
    printed: list[dict[str, Any]]


class ErrorCardView(TypedDict):
    execution_count: int | None
    ename: str
    evalue: str
    line: int | None
    line_text: str
    suggestions: list[str]
    cause: str
    fix: str
    names: list[dict[str, str]]
    shape_history: dict[str, list[dict[str, Any]]]


class OutputsView(TypedDict):
    execution_count: int | None
    warnings: list[str]
    numbers: list[str]
    table: bool


class FactsView(TypedDict):
    names: list[NameView]
    errors: list[ErrorCardView]
    outputs: list[OutputsView]
    markdown_cells: int
    values_between_executions: bool


class NotebookState(TypedDict):
    """A notebook's state as the engine holds it: the body of `GET kernels/{id}`."""

    state_version: int
    executions: list[ExecutionView]
    digest: DigestView
    memory: MemoryView
    insights: Insights
    usage: UsageTotals
    facts: FactsView | None  # None: the notebook opted out
    enabled: bool
    pending: int
    thinking: bool
    current_task: str | None  # the idle-time task running now (`TASKS` words it)
    last_run: LastRun | None


class KernelView(NotebookState):
    """`GET kernels/{id}`."""

    kernel_id: str
    path: str | None
    execution_state: str


class SettingsView(TypedDict):
    """`GET settings` and the answer of `PUT settings`."""

    model: str
    sleep_model: str
    idle_seconds: float
    enabled: bool


class SettingsUpdate(TypedDict, total=False):
    """The body of `PUT settings`: any of these; a null model reverts to the configured one."""

    model: str | None
    sleep_model: str | None
    idle_seconds: float
    enabled: bool


# -- cells that only ask ------------------------------------------------------------------------
_ASK_CELL = re.compile(r"^\s*(?:%%?ask\b|%load_ext\s+jupyter_sleeptime\s*$)")
_ASK_TRANSFORMED = re.compile(r"^\s*get_ipython\(\)\.run_(?:line|cell)_magic\(\s*['\"]ask['\"]")


def is_ask_cell(source: str) -> bool:
    """True for a cell whose code is only ``%ask`` / ``%%ask`` (or ``%load_ext
    jupyter_sleeptime``): asking changes nothing in the kernel, so such cells are neither
    context for the model nor a change of the notebook's state."""
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    if lines[0].lstrip().startswith("%%ask"):
        return True
    return all(_ASK_CELL.match(ln) or _ASK_TRANSFORMED.match(ln) for ln in lines)
