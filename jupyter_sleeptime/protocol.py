"""The wire contract, in one place: REST routes, headers, environment variables handed to
kernels, and the events of an ask stream — their types, how they are built and how they
are read. Standard library only: the server, the kernel-side client, the in-process path,
the benchmark harness and the tests all speak through this module, and
`tests/data/protocol/events.json` holds one example of every event for pytest and for the
labextension's Jest specs (`labextension/src/types.ts` mirrors these types).

An ask streams NDJSON: `token` events, then one final event — `done` (the answer), `error`
(a message that says what to do), or `prompt` (a dry run: what would be sent).
"""

from __future__ import annotations

import json
import re
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
class AskRequest(TypedDict, total=False):
    question: str  # required
    mode: str  # sleep | baseline | baseline-budget
    fresh: bool  # skip prepared answers: "ask the model instead"
    dry_run: bool  # answer with what would be sent (a `prompt` event), no model call
    model: str  # a LiteLLM model id for this question only
    cold: bool  # benchmark only: empty a local model's KV cache first


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
        request[flag] = value  # type: ignore[literal-required]
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


class TokenEvent(TypedDict):
    type: Literal["token"]
    text: str


class DoneEvent(TypedDict, total=False):
    type: Literal["done"]
    answer: str
    source: str  # anticipated (a prepared answer) | model
    mode: str
    model: str | None
    kind: str | None  # state | explain | error | next
    usage: Usage
    ttft_ms: float
    latency_ms: float
    matched: str  # with a prepared answer: the prepared question it answers
    prepared_from: str  # facts | model
    similarity: float
    inprocess: bool  # answered inside the kernel, without a server


class ErrorEvent(TypedDict, total=False):
    type: Literal["error"]
    message: str
    reason: str  # opted_out | store | … when the cause is one a client acts on
    latency_ms: float
    unreachable: bool  # the server could not be reached (the kernel client looks again)


class PromptEvent(TypedDict, total=False):
    type: Literal["prompt"]
    source: str
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


_REQUIRED: dict[str, tuple[str, ...]] = {
    "token": ("text",),
    "done": ("answer", "source", "mode", "usage", "ttft_ms", "latency_ms"),
    "error": ("message",),
    "prompt": ("source",),
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


def is_final(event: dict[str, Any]) -> bool:
    return event.get("type") in FINAL


def ndjson(event: dict[str, Any]) -> str:
    return json.dumps(event) + "\n"


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
