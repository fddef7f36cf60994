"""The single LiteLLM boundary: every model call, sleep or query, passes through here.

Here secrets are redacted, the hourly token budget is enforced, usage is written to the
ledger, background calls pause while a kernel is busy, and provider errors become one clear
sentence the user can act on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..redact import Redactor
from ..state.store import Store
from . import providers
from .pause import PAUSE, Pause
from .weights import LocalModelUnavailable

log = logging.getLogger(__name__)

LOCAL_PREFIX = "sleeptime-local/"
DEFAULT_LOCAL_MODEL = "sleeptime-local/qwen2.5-coder-1.5b"
DEFAULT_PREFIX_CACHE_BYTES = 512 * 1024 * 1024

TokenCallback = Callable[[str], Awaitable[None] | None]


class ModelError(RuntimeError):
    """A model call failed; `str(err)` is a message for the user."""


class BudgetExhausted(ModelError):
    pass


@dataclass
class CallResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    seconds: float
    ttft_ms: float | None


def is_local(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)


class ModelClient:
    def __init__(
        self,
        store: Store,
        *,
        model: str = "",
        sleep_model: str = "",
        model_kwargs: dict[str, Any] | None = None,
        redactor: Redactor | None = None,
        max_tokens_per_hour: int = 0,
        timeout: float = 900.0,
        pause: Pause | None = None,
        wait_for_kernels: bool = False,
        prefix_cache_bytes: int = DEFAULT_PREFIX_CACHE_BYTES,
    ) -> None:
        self.store = store
        self.model_kwargs = dict(model_kwargs or {})
        self.redactor = redactor or Redactor()
        self.max_tokens_per_hour = max_tokens_per_hour
        self.timeout = timeout
        self.pause = pause or PAUSE
        # Background calls to this client wait while user code runs (see pause.py); the
        # embedded model does so by itself, between tokens.
        self.wait_for_kernels = wait_for_kernels
        # The embedded model keeps each notebook's prefilled prefix, up to this many bytes.
        self.prefix_cache_bytes = prefix_cache_bytes
        self.redacted_total = 0
        # Values a notebook's skipped cells hold: hidden in every message about that notebook.
        self.hidden: Callable[[str | None], set[str]] = lambda notebook: set()
        self.last_error: str | None = None
        self.set_models(model, sleep_model)
        # LiteLLM loads its tokenizer on first use (~0.4 s of CPU) on whichever thread calls
        # first; load it now, off the event loop, so the first idle run does not stall requests.
        threading.Thread(
            target=_warm_tokenizer, args=(self.model,), name="sleeptime-tokenizer", daemon=True
        ).start()

    def set_models(self, model: str = "", sleep_model: str = "") -> None:
        """Empty `model` means the embedded local model; empty `sleep_model` means `model`."""
        self.model = model or DEFAULT_LOCAL_MODEL
        self.sleep_model = sleep_model or self.model
        self.register(self.model, self.sleep_model)

    def register(self, *models: str) -> None:
        """Make in-process providers (the embedded model, test doubles) known to LiteLLM."""
        for model in dict.fromkeys(models):
            providers.register(model)

    # -- budget -------------------------------------------------------------------------------
    def budget_state(self) -> dict[str, Any]:
        used = self.store.tokens_since(time.time() - 3600)
        limit = self.max_tokens_per_hour
        return {
            "max_tokens_per_hour": limit,
            "used_last_hour": used,
            "exhausted": bool(limit) and used >= limit,
        }

    def check_budget(self) -> None:
        state = self.budget_state()
        if state["exhausted"]:
            raise BudgetExhausted(
                f"The hourly token budget is used up ({state['used_last_hour']} of "
                f"{state['max_tokens_per_hour']} tokens in the last hour). Raise "
                "SleeptimeApp.max_tokens_per_hour or wait; prepared answers still work."
            )

    def model_for(self, kind: str) -> str:
        return self.sleep_model if kind == "sleep" else self.model

    def reset_cache(self, model: str | None = None) -> None:
        """Forget a local model's KV cache (remote providers keep no state we could reset)."""
        if is_local(model or self.model):
            from . import local_model

            local_model.reset_kv_cache()

    def forget_prefix(self, notebook: str) -> None:
        """Drop the embedded model's saved prefix state of a notebook (it changed); kept
        states survive a switch to a remote model and back, so always."""
        from . import local_model

        local_model.forget_prefix(notebook)

    # -- what leaves the machine ----------------------------------------------------------------
    def outgoing(
        self, messages: list[dict[str, Any]], notebook: str | None
    ) -> list[dict[str, Any]]:
        """The messages exactly as a model would receive them: values from skipped cells
        hidden, then secrets redacted."""
        return self._outgoing(messages, notebook)[0]

    def _outgoing(
        self, messages: list[dict[str, Any]], notebook: str | None
    ) -> tuple[list[dict[str, Any]], int]:
        hidden = sorted(self.hidden(notebook), key=len, reverse=True)
        if hidden:
            messages = [
                {**m, "content": hide_values(m["content"], hidden)}
                if isinstance(m.get("content"), str)
                else m
                for m in messages
            ]
        return self.redactor.redact_messages(messages)

    # -- the call -----------------------------------------------------------------------------
    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        kind: str,
        task: str,
        notebook: str | None,
        max_tokens: int = 512,
        on_token: TokenCallback | None = None,
        model: str | None = None,
        allow_empty: bool = False,
        prefix_key: str | None = None,
        save_prefix: bool = False,
    ) -> CallResult:
        """Stream one chat completion; returns the whole text and its real usage.

        `prefix_key` names whose stable prefix the first (system) message is, usually the
        notebook: the embedded model restores that prefix's saved state (and keeps it when
        `save_prefix`); remote providers get the prefix marked cacheable where they need it."""
        self.check_budget()
        if model:
            self.register(model)
        model = model or self.model_for(kind)
        messages, redacted = self._outgoing(messages, notebook)
        self.redacted_total += redacted
        ledger: dict[str, Any] = {"notebook": notebook, "kind": kind, "task": task, "model": model}
        started = time.perf_counter()
        try:
            text, usage, ttft = await self._stream(
                model,
                messages,
                max_tokens,
                background=kind == "sleep",
                on_token=on_token,
                prefix=(prefix_key, save_prefix) if prefix_key else None,
            )
        except asyncio.CancelledError:
            raise
        except _ConsumerError as err:
            raise err.original from None
        except Exception as exc:
            message = explain_error(exc, model)
            self.last_error = message
            self.store.record_usage(
                **ledger,
                prompt_tokens=0,
                completion_tokens=0,
                seconds=time.perf_counter() - started,
                ok=False,
                error=message,
            )
            raise ModelError(message) from exc
        seconds = time.perf_counter() - started
        prompt_tokens, completion_tokens, cached = _usage_numbers(usage, model, messages, text)
        self.store.record_usage(
            **ledger,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached,
            seconds=seconds,
            cost=_cost(model, prompt_tokens, completion_tokens),
        )
        if not text.strip() and not allow_empty:
            self.last_error = f"The model {model} returned an empty answer."
            raise ModelError(self.last_error)
        self.last_error = None
        return CallResult(text, model, prompt_tokens, completion_tokens, cached, seconds, ttft)

    async def _stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int,
        *,
        background: bool,
        on_token: TokenCallback | None,
        prefix: tuple[str, bool] | None = None,
    ) -> tuple[str, Any, float | None]:
        """(text, the provider's usage, ms to the first token) of one streamed call."""
        kwargs: dict[str, Any] = {
            "temperature": 0,
            "max_tokens": max_tokens,
            "timeout": self.timeout,
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.model_kwargs,
        }
        if is_local(model):  # the embedded model gives way by itself (pause.py)
            kwargs["metadata"] = {"sleeptime_background": background}
            if prefix is not None:
                kwargs["metadata"]["sleeptime_prefix"] = {
                    "key": prefix[0],
                    "save": prefix[1],
                    "max_bytes": self.prefix_cache_bytes,
                }
        elif prefix is not None and marks_cache(model):
            # LiteLLM marks the system message `cache_control: ephemeral` (Anthropic-style);
            # OpenAI-style providers cache a stable prefix of 1,024+ tokens by themselves.
            kwargs.setdefault(
                "cache_control_injection_points", [{"location": "message", "role": "system"}]
            )
        started = time.perf_counter()
        ttft: float | None = None
        parts: list[str] = []
        usage: Any = None
        response = await providers.litellm().acompletion(model=model, messages=messages, **kwargs)
        async for chunk in response:
            if background and self.wait_for_kernels:
                await self.pause.wait_async()
            if getattr(chunk, "usage", None):
                usage = chunk.usage
            choices = getattr(chunk, "choices", None) or []
            text = (choices[0].delta.content or "") if choices else ""
            if not text:
                continue
            if ttft is None:
                ttft = (time.perf_counter() - started) * 1000
            parts.append(text)
            if on_token is not None:
                await _deliver(on_token, text)
        return "".join(parts), usage, ttft


def marks_cache(model: str) -> bool:
    """Whether the provider caches a prompt prefix only where the request marks it: Claude
    models, whoever serves them (anthropic/, bedrock/, vertex_ai/, openrouter/)."""
    return "claude" in model.lower()


async def _deliver(on_token: TokenCallback, text: str) -> None:
    try:
        maybe = on_token(text)
        if asyncio.iscoroutine(maybe):
            await maybe
    except Exception as exc:  # the consumer's failure, not the model's
        raise _ConsumerError(exc) from exc


def hide_values(text: str, values: list[str], marker: str = "[REDACTED:skipped_cell]") -> str:
    """Every occurrence of each value replaced by `marker` (values longest first)."""
    for value in values:
        if value in text:
            text = text.replace(value, marker)
    return text


class _ConsumerError(Exception):
    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


def _warm_tokenizer(model: str) -> None:
    try:
        providers.litellm().token_counter(model=model, text="warm")
    except Exception:  # only a warm-up: the real call reports its own errors
        log.debug("sleeptime: LiteLLM's tokenizer could not be loaded ahead", exc_info=True)


def _usage_numbers(usage: Any, model: str, messages: list[dict], text: str) -> tuple[int, int, int]:
    if usage is not None and getattr(usage, "prompt_tokens", None):
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) if details else 0
        return int(usage.prompt_tokens), int(usage.completion_tokens or 0), int(cached or 0)
    # Providers that report no usage: count with LiteLLM's tokenizer rather than guess.
    litellm = providers.litellm()
    prompt = litellm.token_counter(model=model, messages=messages)
    completion = litellm.token_counter(model=model, text=text) if text else 0
    return int(prompt), int(completion), 0


def _cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    if is_local(model):
        return 0.0
    try:
        prompt_cost, completion_cost = providers.litellm().cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return float(prompt_cost + completion_cost)
    except Exception:
        return None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`exc` or the exception it wraps (LiteLLM wraps provider errors), if of this kind."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = getattr(current, "original_exception", None) or current.__cause__
    return None


def explain_error(exc: BaseException, model: str) -> str:
    """One sentence saying what failed and what to do about it."""
    litellm = providers.litellm()
    # Errors raised while streaming arrive wrapped (MidStreamFallbackError): explain the cause.
    while isinstance(getattr(exc, "original_exception", None), BaseException):
        exc = exc.original_exception  # type: ignore[attr-defined]
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    if _caused_by(exc, LocalModelUnavailable):  # already says what to install
        return str(_caused_by(exc, LocalModelUnavailable)).strip()
    if isinstance(exc, litellm.Timeout | asyncio.TimeoutError):
        return (
            f"The model {model} did not answer in time ({text}). Try again, or use a faster model."
        )
    if isinstance(exc, litellm.AuthenticationError):
        return (
            f"The model {model} rejected the credentials ({text}). Set the provider's API key in "
            "the server's environment (never in settings)."
        )
    if isinstance(exc, litellm.RateLimitError):
        return f"The model {model} is rate-limited (429): {text}. Work stays queued and is retried."
    if isinstance(exc, litellm.NotFoundError):
        return f"The model {model} was not found ({text}). Check JUPYTER_SLEEPTIME_MODEL."
    if isinstance(exc, litellm.BadRequestError) and "LLM Provider NOT provided" in str(exc):
        return (
            f"'{model}' is not a model id LiteLLM knows. Use a provider prefix, e.g. "
            "openai/gpt-4o-mini or ollama/llama3."
        )
    if isinstance(exc, litellm.APIConnectionError | ConnectionError):
        return (
            f"Could not reach the model {model} ({text}). Check that the provider is running and "
            "JUPYTER_SLEEPTIME_API_BASE points at it."
        )
    if isinstance(
        exc, litellm.APIError | litellm.InternalServerError | litellm.ServiceUnavailableError
    ):
        return f"The model {model} failed ({text}). Work stays queued and is retried."
    return f"The model call to {model} failed: {type(exc).__name__}: {text}"
