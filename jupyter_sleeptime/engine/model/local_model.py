"""The embedded default model: llama.cpp in this process, behind LiteLLM's custom-provider API.

    from jupyter_sleeptime.engine import local_model
    local_model.register()
    stream = await litellm.acompletion(
        model=local_model.DEFAULT_MODEL, messages=[...], stream=True,
        stream_options={"include_usage": True},          # LiteLLM only forwards usage with this
        metadata={"sleeptime_background": True},         # sleep-time work: obeys pause.PAUSE
    )

Per-call options. LiteLLM hands unknown keyword arguments to the handler in `optional_params`,
and `metadata` in `litellm_params["metadata"]` (the same objects, not copies):
- `gguf_path="/path/model.gguf"`: any chat GGUF. Else `$JUPYTER_SLEEPTIME_GGUF`, else the default
  weights (`weights.default_model_path()`). `n_ctx=`: else `$JUPYTER_SLEEPTIME_N_CTX`, else 8192.
- `temperature` (default 0: greedy), `max_tokens` (default 1024), `stop`, `top_p`, `seed`.
- `metadata={"sleeptime_background": True}` marks sleep-time work: it gives way between tokens
  (and between prefill batches) whenever the pause mechanism says so (`pause.py`: user code
  runs, or a query-time call wants the model). Unmarked calls never wait.
- `metadata={"sleeptime_prefix": {"key": "nb.ipynb", "save": True, "max_bytes": N}}`: the
  first message is `key`'s stable prefix. Before prefilling, the saved KV state of that key
  is restored when it shares more of the prompt than what the context holds now; with
  `save`, the state after prefilling the prompt is kept for the key (one per key, LRU,
  at most `max_bytes` in all: `PrefixStates`). So thinking about another notebook, which
  overwrites the live context, does not cost this one's next question its prefill.
- `metadata={"sleeptime_cancel": threading.Event()}`: set the event to abandon the call; it
  then raises `GenerationCancelled`. `cancel_background()` abandons every background call in
  flight. Leaving an async stream (closing it or cancelling its task) also stops generation.

Usage: the last stream chunk (with `stream_options={"include_usage": True}`) and every
non-streamed response carry `usage.prompt_tokens`, `usage.completion_tokens`, `total_tokens`
and `usage.prompt_tokens_details.cached_tokens`: prompt tokens whose KV entries were reused
from the previous call (llama.cpp keeps the longest common prompt prefix). Timings are in
`last_call_stats()` and in the last chunk's `provider_specific_fields["sleeptime_stats"]`.

One `Llama` is loaded lazily per process and never reset between calls, so a stable prompt
prefix costs nothing the second time. `Llama` is not thread-safe: every use goes through
`_model_turn`, which query-time callers always win.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import contextlib
import ctypes
import importlib.util
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from .providers import litellm as _quiet_litellm

litellm = _quiet_litellm()  # the model layer starts here: LiteLLM without its price download
from litellm import CustomLLM  # noqa: E402
from litellm.exceptions import APIError, NotFoundError, OpenAIError  # noqa: E402
from litellm.types.utils import GenericStreamingChunk, ModelResponse, Usage  # noqa: E402
from litellm.utils import custom_llm_setup  # noqa: E402

from .pause import PAUSE, Cancelled  # noqa: E402
from .weights import (  # noqa: E402
    GGUF_ENV,
    LocalModelUnavailable,
    default_model_path,
    unavailable_message,
    weights_status,
)

__all__ = [
    "DEFAULT_MODEL",
    "PROVIDER",
    "CallStats",
    "GenerationCancelled",
    "LocalModelUnavailable",
    "LocalModelUnavailableError",
    "SleeptimeLocalLLM",
    "cancel_background",
    "configure",
    "forget_prefix",
    "is_available",
    "last_call_stats",
    "loaded_model",
    "prefix_states",
    "preload",
    "register",
    "reset_kv_cache",
    "unload",
]

PROVIDER = "sleeptime-local"
DEFAULT_MODEL = f"{PROVIDER}/qwen2.5-coder-1.5b"
N_CTX_ENV = "JUPYTER_SLEEPTIME_N_CTX"
BACKGROUND_KEY = "sleeptime_background"
CANCEL_KEY = "sleeptime_cancel"
PREFIX_KEY = "sleeptime_prefix"
EXTRA_BUFTS_ENV = "JUPYTER_SLEEPTIME_LLAMA_EXTRA_BUFTS"

# 8,192: a sleep-mode prompt is its stable prefix (≤ ~3,500 tokens, prefix.PREFIX_TOKENS)
# plus the question, and every thinking call is smaller; the KV cache (28 KiB a token for
# the 1.5B model, f16) and the attention compute buffer are allocated for all of n_ctx, so
# 16,384 would hold ~0.45 GB more RAM for nothing. A larger whole-notebook baseline prompt
# needs JUPYTER_SLEEPTIME_N_CTX.
DEFAULT_N_CTX = 8192
DEFAULT_PREFIX_CACHE_BYTES = 512 * 1024 * 1024
# Restoring a saved state costs a memory copy (~0.05 s for 100 MB); below this many extra
# reused tokens evaluating them is as cheap.
MIN_RESTORE_GAIN = 16
DEFAULT_MAX_TOKENS = 1024
# Prefill batch for background calls: the pause is checked between batches, so this bounds how
# long user code waits for the CPU after a pause (~0.4 s at 80 tok/s on 2 cores). Measured:
# 128-token batches slowed a 2.2 s user cell by 44 % while thinking was in flight.
BACKGROUND_PREFILL_BATCH = 32
# Small models fall into loops ("Index(['a', 'a', 'a', …") under greedy decoding; a mild
# penalty stops that without changing ordinary answers.
REPEAT_PENALTY = 1.1


# -- errors ---------------------------------------------------------------------------------------
class LocalModelUnavailableError(NotFoundError, LocalModelUnavailable):
    """`LocalModelUnavailable` as LiteLLM raises it: a 404 LiteLLM passes through unchanged
    (no retry, no mid-stream-fallback wrapping, no traceback in the message)."""

    def __init__(self, message: str, model: str = DEFAULT_MODEL) -> None:
        self.plain_message = message
        NotFoundError.__init__(self, message=message, model=model, llm_provider=PROVIDER)

    def __str__(self) -> str:
        return self.plain_message

    __repr__ = __str__


class GenerationCancelled(APIError):
    """The call was abandoned (cancel event, `cancel_background()`, or the consumer left).

    Status 499 ("client closed request"): LiteLLM raises 4xx errors from a stream directly."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        super().__init__(
            status_code=499,
            message="local generation cancelled",
            llm_provider=PROVIDER,
            model=model,
        )


def cancel_background() -> None:
    """Abandon every background call in flight (paused or not); each raises GenerationCancelled."""
    PAUSE.cancel_all()


# -- one call -------------------------------------------------------------------------------------
@dataclass
class CallStats:
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens reused from the KV cache on the first pass
    prefill_tokens: int = 0  # prompt tokens evaluated, re-prefill after an interruption included
    completion_tokens: int = 0
    load_seconds: float = 0.0  # model load inside this call (0 when already loaded)
    prefill_seconds: float = 0.0  # model lock held -> first token sampled
    decode_seconds: float = 0.0  # first token -> end, pauses excluded
    paused_seconds: float = 0.0  # background only: giving way to user code or query-time calls
    restored_tokens: int = 0  # prompt tokens brought back from a saved prefix state
    restore_seconds: float = 0.0  # loading that state (part of prefill_seconds)
    finish_reason: str = ""
    background: bool = False

    @property
    def prefill_tok_per_s(self) -> float:
        evaluated = max(self.prefill_tokens, 1)
        return evaluated / self.prefill_seconds if self.prefill_seconds else 0.0

    @property
    def decode_tok_per_s(self) -> float:
        n = self.completion_tokens - 1  # the first token comes out of prefill
        return n / self.decode_seconds if self.decode_seconds and n > 0 else 0.0


@dataclass
class _Call:
    model: str
    messages: list[dict[str, Any]]
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    stop: list[str] = field(default_factory=list)
    top_p: float = 0.95
    seed: int | None = None
    gguf_path: str | None = None
    n_ctx: int | None = None
    background: bool = False
    user_cancel: threading.Event | None = None
    cancel: threading.Event = field(default_factory=threading.Event)  # consumer went away
    epoch: int = 0
    prefix_key: str | None = None  # whose stable prefix the prompt starts with
    save_prefix: bool = False  # keep the prefilled state for prefix_key
    prefix_max_bytes: int | None = None

    def cancelled(self) -> bool:
        if self.cancel.is_set():
            return True
        if self.user_cancel is not None and self.user_cancel.is_set():
            return True
        return self.background and PAUSE.epoch != self.epoch


def _content_text(content: Any) -> str:
    """OpenAI message content (str or list of parts) as plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def _call_from(model: str, messages: list, handler_kwargs: dict[str, Any]) -> _Call:
    """The request as LiteLLM hands it to a CustomLLM: sampling options and our own kwargs in
    `optional_params`, the caller's `metadata` in `litellm_params["metadata"]`."""
    opts = handler_kwargs.get("optional_params") or {}
    litellm_params = handler_kwargs.get("litellm_params") or {}
    metadata = (litellm_params.get("metadata") if isinstance(litellm_params, dict) else None) or {}
    stop = opts.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    max_tokens = opts.get("max_tokens") or opts.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    user_cancel = metadata.get(CANCEL_KEY)
    background = bool(metadata.get(BACKGROUND_KEY))
    prefix = metadata.get(PREFIX_KEY) or {}
    return _Call(
        model=model,
        messages=[
            {"role": m.get("role", "user"), "content": _content_text(m.get("content"))}
            for m in messages
        ],
        temperature=float(opts.get("temperature") or 0.0),
        max_tokens=int(max_tokens),
        stop=[s for s in stop if s],
        top_p=float(opts.get("top_p") or 0.95),
        seed=opts.get("seed"),
        gguf_path=opts.get("gguf_path"),
        n_ctx=opts.get("n_ctx"),
        background=background,
        user_cancel=user_cancel if isinstance(user_cancel, threading.Event) else None,
        epoch=PAUSE.epoch,
        prefix_key=str(prefix["key"]) if prefix.get("key") else None,
        save_prefix=bool(prefix.get("save")),
        prefix_max_bytes=prefix.get("max_bytes"),
    )


# -- the model's turn: query-time callers first ---------------------------------------------------
class _ModelTurn:
    """Mutual exclusion around the `Llama` (it is not thread-safe), kept by the pause mechanism
    (`pause.py`): a background call takes the model only when nothing asks it to give way, and
    while running checks `PAUSE.should_yield()` between tokens and batches."""

    @staticmethod
    def acquire(background: bool, cancelled: Callable[[], bool] = lambda: False) -> None:
        if background:
            PAUSE.wait(cancelled, take_model=True)
        else:
            PAUSE.take_model_for_query()

    @staticmethod
    def try_acquire() -> bool:
        return PAUSE.try_take_model()

    @staticmethod
    def release() -> None:
        PAUSE.release_model()

    @staticmethod
    def should_yield() -> bool:
        return PAUSE.should_yield()

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        self.acquire(background=False)
        try:
            yield
        finally:
            self.release()


_model_turn = _ModelTurn()


# -- the loaded model -----------------------------------------------------------------------------
def _extra_bufts_safe(llama_cpp: Any) -> bool:
    """Whether llama.cpp may use its "extra buffer types" (weight repacking, AMX).

    A native build on a CPU that reports AMX routes Q4_K matmuls through AMX tiles, and on
    Linux with XFD the worker threads then die with SIGILL (ggml-org/llama.cpp PR #26954),
    taking the Jupyter server with them. Such builds load with extra buffer types off: slower
    prefill, no crash. `JUPYTER_SLEEPTIME_LLAMA_EXTRA_BUFTS=1` / `=0` overrides.
    """
    forced = os.environ.get(EXTRA_BUFTS_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    return "AMX_INT8 = 1" not in info


@contextlib.contextmanager
def _extra_buffer_types(enabled: bool) -> Iterator[None]:
    # llama-cpp-python's Llama() has no argument for this, but builds its model params from
    # llama_model_default_params() looked up at call time; wrap that for one load.
    if enabled:
        yield
        return
    import llama_cpp.llama_cpp as lib

    real = lib.llama_model_default_params

    def params() -> Any:
        p = real()
        p.use_extra_bufts = False
        return p

    lib.llama_model_default_params = params
    try:
        yield
    finally:
        lib.llama_model_default_params = real


class _Engine:
    """One loaded `Llama` plus what is needed to prompt it the way its chat template says."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int) -> None:
        # llama.cpp's OpenMP threads spin at every barrier by default. When anything else wants
        # the CPU (the Jupyter server, a kernel, a browser) a spinning thread that lost its
        # core stalls the rest: measured 0.12 vs 4.2 tok/s decode on a busy 2-core machine.
        # libgomp reads this once, when llama_cpp loads it; a user's own setting wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
            from llama_cpp import llama_chat_format
        except ImportError as exc:
            raise LocalModelUnavailable(
                unavailable_message(f"llama-cpp-python is not installed ({exc})")
            ) from exc
        started = time.perf_counter()
        try:
            with _extra_buffer_types(_extra_bufts_safe(llama_cpp)):
                self.llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as exc:  # unreadable / not a GGUF
            raise LocalModelUnavailable(
                unavailable_message(f"llama.cpp could not load {path} ({exc})")
            ) from exc
        self.load_seconds = time.perf_counter() - started
        self.path = path
        self.n_ctx = n_ctx
        self._lib = llama_cpp
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:  # a GGUF without a template: ChatML is the most common convention
            template = llama_chat_format.CHATML_CHAT_TEMPLATE
        self._format = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=self._token_text(self.llm.token_eos()),
            bos_token=self._token_text(self.llm.token_bos()),
        )

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def prompt_tokens(self, messages: list[dict[str, Any]]) -> list[int]:
        """The chat template applied as llama-cpp-python's chat handler does, then tokenized."""
        prompt = self._format(messages=cast(Any, messages)).prompt
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def is_eog(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self._vocab, token))

    def reusable_prefix(self, tokens: list[int]) -> int:
        """Tokens at the start of `tokens` whose KV entries are already in the cache.

        At most len(tokens) - 1: the last prompt token is always evaluated so the first
        sample comes from fresh logits (what `Llama.generate` does too)."""
        n = min(self.llm.n_tokens, len(tokens) - 1)
        cached = self.llm.input_ids[:n]
        for i in range(n):  # plain loop: ~1 µs/token, negligible next to a decode
            if cached[i] != tokens[i]:
                return i
        return max(n, 0)

    def save_kv(self) -> tuple[Any, int]:
        """(a copy of the KV cache of the tokens evaluated so far, its size in bytes)."""
        ctx = self.llm._ctx.ctx
        size = int(self._lib.llama_state_seq_get_size(ctx, 0))
        data = (ctypes.c_uint8 * size)()
        written = int(self._lib.llama_state_seq_get_data(ctx, data, size, 0))
        if written != size:
            raise RuntimeError(f"llama.cpp saved {written} of {size} bytes of state")
        return data, size

    def load_kv(self, tokens: list[int], data: Any) -> bool:
        """Make `data` (from `save_kv` of `tokens`) the context's state; False if refused
        (the context is then empty)."""
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(0, 0, -1)
        llm.n_tokens = 0
        if not self._lib.llama_state_seq_set_data(llm._ctx.ctx, data, ctypes.sizeof(data), 0):
            llm._ctx.kv_cache_seq_rm(0, 0, -1)
            return False
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.llm.close()


@dataclass
class _Saved:
    tokens: list[int]
    data: Any
    nbytes: int


class PrefixStates:
    """Prefilled states of stable prompt prefixes, one per key (a notebook): least recently
    used first out, at most `max_bytes` in all. A new state for a key replaces the old one
    (the notebook changed); one larger than the bound is not kept."""

    def __init__(self, max_bytes: int = DEFAULT_PREFIX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, _Saved] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> _Saved | None:
        with self._lock:
            saved = self._items.get(key)
            if saved is not None:
                self._items.move_to_end(key)
            return saved

    def put(self, key: str, tokens: list[int], data: Any, nbytes: int) -> bool:
        with self._lock:
            self._items.pop(key, None)
            if nbytes > self.max_bytes:
                return False
            self._items[key] = _Saved(list(tokens), data, nbytes)
            self._evict()
            return True

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def forget(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def keys(self) -> list[str]:
        """Least recently used first."""
        with self._lock:
            return list(self._items)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(s.nbytes for s in self._items.values())

    def _evict(self) -> None:
        total = sum(s.nbytes for s in self._items.values())
        while total > self.max_bytes and self._items:
            _, dropped = self._items.popitem(last=False)
            total -= dropped.nbytes


def common_prefix(a: list[int], b: list[int], limit: int) -> int:
    n = min(len(a), len(b), limit)
    for i in range(n):
        if a[i] != b[i]:
            return i
    return max(n, 0)


_prefixes = PrefixStates()
_engine: _Engine | None = None
_defaults: dict[str, Any] = {"n_ctx": None, "n_threads": None, "gguf_path": None}
_last_stats: CallStats | None = None


def configure(
    *, n_ctx: int | None = None, n_threads: int | None = None, gguf_path: str | None = None
) -> None:
    """Process-wide defaults (a per-call kwarg or the env var still wins). Applies at next load."""
    _defaults.update(n_ctx=n_ctx, n_threads=n_threads, gguf_path=gguf_path)


def _require_llama_cpp() -> None:
    # Checked before the weights are assembled: no point writing 1.1 GB we cannot run.
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelUnavailable(unavailable_message("llama-cpp-python is not installed"))


def _resolve_path(gguf_path: str | None) -> Path:
    explicit = gguf_path or os.environ.get(GGUF_ENV) or _defaults["gguf_path"]
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise LocalModelUnavailable(
                unavailable_message(f"the configured GGUF {path} does not exist")
            )
        return path
    return default_model_path()


def _resolve_n_ctx(n_ctx: int | None) -> int:
    if n_ctx:
        return int(n_ctx)
    env = os.environ.get(N_CTX_ENV)
    if env:
        return int(env)
    return int(_defaults["n_ctx"] or DEFAULT_N_CTX)


def _ensure_engine(path: Path, n_ctx: int) -> tuple[_Engine, float]:
    """The engine for (path, n_ctx), loading or swapping it. Caller holds `_model_turn`."""
    global _engine
    if _engine is not None and _engine.path == path and _engine.n_ctx == n_ctx:
        return _engine, 0.0
    if _engine is not None:
        _engine.close()
        _engine = None
    _prefixes.clear()  # states of another model or context size cannot be restored
    n_threads = int(_defaults["n_threads"] or os.cpu_count() or 1)
    _engine = _Engine(path, n_ctx, n_threads)
    return _engine, _engine.load_seconds


# -- text out: UTF-8 pieces and stop strings ------------------------------------------------------
class _StopScanner:
    """Releases text as soon as it cannot be the start of a stop string."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops
        self.text = ""
        self.sent = 0

    def feed(self, piece: str) -> tuple[str, bool]:
        """(text safe to emit now, whether a stop string was hit)."""
        self.text += piece
        if not self.stops:
            return self.flush(), False
        longest = max(len(s) for s in self.stops)
        start = max(0, self.sent - longest + 1)
        hits = [i for i in (self.text.find(s, start) for s in self.stops) if i >= 0]
        if hits:
            end = min(hits)
            out = self.text[self.sent : end] if end > self.sent else ""
            self.sent = max(self.sent, end)
            self.text = self.text[: self.sent]
            return out, True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), 0, -1):
                if self.text.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        safe = max(self.sent, len(self.text) - hold)
        out = self.text[self.sent : safe]
        self.sent = safe
        return out, False

    def flush(self) -> str:
        out = self.text[self.sent :]
        self.sent = len(self.text)
        return out


# -- the generation loop --------------------------------------------------------------------------
@dataclass
class _Run:
    """What one call has produced so far (it may take several passes)."""

    prompt: list[int]
    budget: int
    generated: list[int] = field(default_factory=list)
    active_from: float = 0.0  # lock held, model loaded
    first_token_at: float | None = None
    paused_before_first: float = 0.0
    finish: str = ""
    stop_hit: bool = False


def _generate(call: _Call, emit: Callable[[str], None]) -> CallStats:
    """Run one chat completion, calling `emit(text)` as text is produced. Blocking."""
    global _last_stats
    _require_llama_cpp()
    path = _resolve_path(call.gguf_path)  # may assemble the default weights (once)
    n_ctx = _resolve_n_ctx(call.n_ctx)
    stats = CallStats(background=call.background)
    _model_turn.acquire(call.background, call.cancelled)
    held = True
    try:
        engine, stats.load_seconds = _ensure_engine(path, n_ctx)
        if call.seed is not None:
            engine.llm.set_seed(int(call.seed))
        prompt = engine.prompt_tokens(call.messages)
        stats.prompt_tokens = len(prompt)
        if len(prompt) >= n_ctx - 1:
            raise litellm.exceptions.ContextWindowExceededError(
                message=f"the prompt is {len(prompt)} tokens, the local model's context is "
                f"{n_ctx} (raise it with {N_CTX_ENV} or n_ctx=)",
                model=call.model,
                llm_provider=PROVIDER,
            )
        run = _Run(prompt, min(call.max_tokens, n_ctx - 1 - len(prompt)))
        run.active_from = time.perf_counter()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        scanner = _StopScanner(call.stop)
        first_pass = True
        to_save = call.save_prefix and call.prefix_key is not None
        if call.prefix_key is not None:
            started = time.perf_counter()
            stats.restored_tokens = _restore_prefix(engine, call, prompt)
            stats.restore_seconds = time.perf_counter() - started
        while not run.finish:
            # One pass: prefill what the KV cache lacks, then decode until done or interrupted.
            # A background call is interrupted when the pause says so (user code, someone
            # asks): it releases the lock, waits, and starts a new pass that re-prefills only
            # what another call overwrote meanwhile (usually nothing).
            tokens = run.prompt + run.generated
            keep = engine.reusable_prefix(tokens)
            if first_pass:
                stats.cached_tokens = keep
                first_pass = False
            interrupted = _prefill(engine, call, tokens, keep, stats)
            if not interrupted and to_save:
                _save_prefix(engine, call, tokens)
                to_save = False
            if not interrupted:
                interrupted = _decode(engine, call, tokens, run, stats, decoder, scanner, emit)
            if interrupted and not run.finish:
                _model_turn.release()
                held = False
                waited_from = time.perf_counter()
                _model_turn.acquire(True, call.cancelled)
                held = True
                stats.paused_seconds += time.perf_counter() - waited_from
                if _engine is not engine:  # another call swapped the model meanwhile
                    raise LocalModelUnavailable(
                        unavailable_message("the local model was reloaded with other settings")
                    )
        if not run.stop_hit:  # release what was held back as a possible stop-string start
            tail = scanner.feed(decoder.decode(b"", final=True))[0] + scanner.flush()
            if tail:
                emit(tail)
        _finish_stats(stats, run)
        _last_stats = stats
        return stats
    finally:
        if held:
            _model_turn.release()


def _restore_prefix(engine: _Engine, call: _Call, prompt: list[int]) -> int:
    """Load the key's saved state when it holds more of this prompt than the context does;
    returns how many of the prompt's tokens it brought back (0: none loaded)."""
    if call.prefix_max_bytes is not None and call.prefix_max_bytes != _prefixes.max_bytes:
        _prefixes.resize(int(call.prefix_max_bytes))
    assert call.prefix_key is not None
    saved = _prefixes.get(call.prefix_key)
    if saved is None:
        return 0
    live = engine.reusable_prefix(prompt)
    shared = common_prefix(saved.tokens, prompt, len(prompt) - 1)
    if shared < live + MIN_RESTORE_GAIN:
        return 0
    if not engine.load_kv(saved.tokens, saved.data):
        _prefixes.forget(call.prefix_key)
        return 0
    return shared


def _save_prefix(engine: _Engine, call: _Call, tokens: list[int]) -> None:
    """Keep the state after prefilling (all of the prompt but its last token) for the key."""
    assert call.prefix_key is not None
    n = int(engine.llm.n_tokens)
    saved = _prefixes.get(call.prefix_key)
    if saved is not None and saved.tokens == tokens[:n]:
        return  # the same prefix is kept already
    data, nbytes = engine.save_kv()
    _prefixes.put(call.prefix_key, tokens[:n], data, nbytes)


def _prefill(engine: _Engine, call: _Call, tokens: list[int], keep: int, stats: CallStats) -> bool:
    """Evaluate the prompt past the reusable prefix (the last token is left to generate());
    True when a background call must give way first."""
    if call.background and _model_turn.should_yield():
        return True
    llm = engine.llm
    llm.n_tokens = keep  # eval() drops the KV entries past this point first
    batch = BACKGROUND_PREFILL_BATCH if call.background else llm.n_batch
    pos, last = keep, len(tokens) - 1
    while pos < last:
        if call.cancelled():
            raise Cancelled
        if call.background and _model_turn.should_yield():
            return True
        end = min(last, pos + batch)
        llm.eval(tokens[pos:end])
        stats.prefill_tokens += end - pos
        pos = end
    return False


def _decode(
    engine: _Engine,
    call: _Call,
    tokens: list[int],
    run: _Run,
    stats: CallStats,
    decoder: Any,
    scanner: _StopScanner,
    emit: Callable[[str], None],
) -> bool:
    """Generate until done (`run.finish` set) or until a background call must give way
    (True)."""
    llm = engine.llm
    if run.first_token_at is None:
        stats.prefill_tokens += 1  # generate() evaluates the last prompt token
    gen = llm.generate(
        tokens, temp=call.temperature, top_p=call.top_p, repeat_penalty=REPEAT_PENALTY
    )
    try:
        for token in gen:
            if run.first_token_at is None:
                run.first_token_at = time.perf_counter()
                run.paused_before_first = stats.paused_seconds
                stats.prefill_seconds = (
                    run.first_token_at - run.active_from - run.paused_before_first
                )
            if engine.is_eog(token):
                run.finish = "stop"
                return False
            run.generated.append(token)
            text, run.stop_hit = scanner.feed(decoder.decode(llm.detokenize([token])))
            if text:
                emit(text)
            if run.stop_hit:
                run.finish = "stop"
                return False
            if len(run.generated) >= run.budget:
                run.finish = "length"
                return False
            if call.cancelled():
                raise Cancelled
            if call.background and _model_turn.should_yield():
                return True
        run.finish = "stop"  # generate() ended by itself
        return False
    finally:
        gen.close()


def _finish_stats(stats: CallStats, run: _Run) -> None:
    stats.completion_tokens = len(run.generated)
    stats.finish_reason = run.finish
    if run.first_token_at is not None:
        paused_after_first = stats.paused_seconds - run.paused_before_first
        stats.decode_seconds = max(
            0.0, time.perf_counter() - run.first_token_at - paused_after_first
        )


def _as_litellm_error(exc: BaseException, call: _Call) -> BaseException:
    """Errors in a form LiteLLM passes through as they are, with a one-paragraph message."""
    if isinstance(exc, Cancelled):
        return GenerationCancelled(call.model)
    if isinstance(exc, LocalModelUnavailable) and not isinstance(exc, LocalModelUnavailableError):
        return LocalModelUnavailableError(str(exc), call.model)
    if isinstance(exc, OpenAIError | APIError):
        return exc
    if isinstance(exc, Exception):
        return APIError(
            status_code=500,
            message=f"the local model failed: {type(exc).__name__}: {exc}",
            llm_provider=PROVIDER,
            model=call.model,
        )
    return exc  # KeyboardInterrupt and friends


# -- chunks and responses -------------------------------------------------------------------------
def _text_chunk(text: str) -> GenericStreamingChunk:
    return {"text": text, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}


def _usage_block(stats: CallStats) -> dict[str, Any]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": stats.cached_tokens},
    }


def _stats_dict(stats: CallStats) -> dict[str, Any]:
    out = asdict(stats)
    out.update(prefill_tok_per_s=stats.prefill_tok_per_s, decode_tok_per_s=stats.decode_tok_per_s)
    return out


def _final_chunk(stats: CallStats) -> GenericStreamingChunk:
    return {
        "text": "",
        "is_finished": True,
        "finish_reason": stats.finish_reason or "stop",
        "usage": _usage_block(stats),  # type: ignore[typeddict-item, unused-ignore]
        "index": 0,
        "provider_specific_fields": {"sleeptime_stats": _stats_dict(stats)},
    }


def _fill_response(
    model_response: ModelResponse, call: _Call, text: str, stats: CallStats
) -> ModelResponse:
    choice = cast(Any, model_response.choices[0])  # a Choices here, never StreamingChoices
    choice.message.content = text
    choice.finish_reason = stats.finish_reason or "stop"
    model_response.model = call.model
    model_response.created = int(time.time())
    usage = _usage_block(stats)
    model_response.usage = Usage(**usage)  # type: ignore[attr-defined, unused-ignore]
    model_response._hidden_params["sleeptime_stats"] = _stats_dict(stats)
    return model_response


# -- thread bridges -------------------------------------------------------------------------------
def _start_worker(call: _Call, put: Callable[[tuple[str, Any]], None]) -> None:
    def work() -> None:
        try:
            stats = _generate(call, lambda text: put(("text", text)))
            put(("done", stats))
        except BaseException as exc:  # delivered to the consumer, raised there
            put(("error", _as_litellm_error(exc, call)))

    threading.Thread(target=work, name="sleeptime-local-generate", daemon=True).start()


async def _astream(call: _Call) -> AsyncGenerator[GenericStreamingChunk, None]:
    """Generation in a worker thread, chunks delivered to the event loop as they are produced."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(item: tuple[str, Any]) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            call.cancel.set()

    _start_worker(call, put)
    try:
        while True:
            kind, value = await items.get()
            yield _as_chunk(kind, value)
            if kind == "done":
                return
    finally:
        call.cancel.set()  # consumer left early (or we are done): stop the worker


def _stream(call: _Call) -> Iterator[GenericStreamingChunk]:
    items: queue.Queue[tuple[str, Any]] = queue.Queue()
    _start_worker(call, items.put)
    try:
        while True:
            kind, value = items.get()
            yield _as_chunk(kind, value)
            if kind == "done":
                return
    finally:
        call.cancel.set()


def _as_chunk(kind: str, value: Any) -> GenericStreamingChunk:
    """One item from the worker as a stream chunk ("text", then "done"); an error is raised."""
    if kind == "text":
        return _text_chunk(value)
    if kind == "done":
        return _final_chunk(value)
    raise value


# -- the LiteLLM handler --------------------------------------------------------------------------
class SleeptimeLocalLLM(CustomLLM):
    """`sleeptime-local/<anything>`: the in-process llama.cpp model."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        call = _call_from(model, messages, kwargs)
        parts: list[str] = []
        try:
            stats = _generate(call, parts.append)
        except BaseException as exc:
            raise _as_litellm_error(exc, call) from None
        return _fill_response(kwargs["model_response"], call, "".join(parts), stats)

    async def acompletion(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        call = _call_from(model, messages, kwargs)
        parts: list[str] = []
        stats: CallStats | None = None
        stream = _astream(call)
        try:
            async for chunk in stream:
                parts.append(chunk["text"])
                if chunk["is_finished"]:
                    stats = _last_chunk_stats(chunk)
        finally:
            await stream.aclose()
        assert stats is not None
        return _fill_response(kwargs["model_response"], call, "".join(parts), stats)

    def streaming(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        call = _call_from(model, messages, kwargs)
        return _stream(call)

    def astreaming(  # type: ignore[override, unused-ignore]  # LiteLLM iterates what it gets; no await needed
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        call = _call_from(model, messages, kwargs)
        return _astream(call)


def _last_chunk_stats(chunk: GenericStreamingChunk) -> CallStats:
    raw = dict((chunk.get("provider_specific_fields") or {})["sleeptime_stats"])
    raw.pop("prefill_tok_per_s", None)
    raw.pop("decode_tok_per_s", None)
    return CallStats(**raw)


_handler = SleeptimeLocalLLM()


# -- public helpers -------------------------------------------------------------------------------
def register() -> None:
    """Route `sleeptime-local/...` model ids to this process's llama.cpp. Idempotent.

    LiteLLM reads `litellm.custom_provider_map` on every call (`custom_llm_setup()` in its
    client wrapper), so appending the entry is all it takes."""
    for item in litellm.custom_provider_map:
        if item.get("provider") == PROVIDER:
            item["custom_handler"] = _handler
            break
    else:
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _handler})
    custom_llm_setup()


def is_available(gguf_path: str | None = None) -> tuple[bool, str]:
    """Cheap check, nothing loaded: (ok, message). The message says what to install if not."""
    try:
        _require_llama_cpp()
    except LocalModelUnavailable as exc:
        return False, str(exc)
    explicit = gguf_path or os.environ.get(GGUF_ENV) or _defaults["gguf_path"]
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return True, f"local model {path}"
        return False, unavailable_message(f"the configured GGUF {path} does not exist")
    return weights_status()


def preload(gguf_path: str | None = None, n_ctx: int | None = None) -> float:
    """Load the model now (assembling the default weights if needed); returns load seconds.

    Raises `LocalModelUnavailable` with the fix in its message."""
    _require_llama_cpp()
    path = _resolve_path(gguf_path)
    n = _resolve_n_ctx(n_ctx)
    with _model_turn.foreground():
        engine, seconds = _ensure_engine(path, n)
    return seconds or engine.load_seconds


def reset_kv_cache() -> None:
    """Forget the KV cache: the next call prefills its whole prompt (a cold measurement)."""
    if _engine is None:
        return
    with _model_turn.foreground():
        if _engine is not None:
            _engine.llm.reset()


def forget_prefix(key: str) -> bool:
    """Drop the saved prefix state of `key` (its notebook changed). Returns whether one was kept."""
    return _prefixes.forget(key)


def prefix_states() -> dict[str, Any]:
    """The saved prefix states: {"keys" (least recently used first), "bytes", "max_bytes"}."""
    return {"keys": _prefixes.keys(), "bytes": _prefixes.nbytes, "max_bytes": _prefixes.max_bytes}


def unload() -> None:
    """Free the model's memory; the next call loads it again."""
    global _engine
    with _model_turn.foreground():
        if _engine is not None:
            _engine.close()
            _engine = None
        _prefixes.clear()


@atexit.register
def _free_at_exit() -> None:
    # Free the model while the interpreter is whole: left to llama-cpp-python's __del__ at
    # shutdown, its cleanup finds its modules torn down and prints a TypeError traceback.
    # Skipped while a daemon thread is still decoding (closing under it would crash).
    global _engine
    if _engine is not None and _model_turn.try_acquire():
        _engine.close()
        _engine = None


def loaded_model() -> dict[str, Any] | None:
    """What is loaded: {"path", "n_ctx", "load_seconds", "cached_tokens"}, or None."""
    engine = _engine
    if engine is None:
        return None
    return {
        "path": str(engine.path),
        "n_ctx": engine.n_ctx,
        "load_seconds": engine.load_seconds,
        "cached_tokens": int(engine.llm.n_tokens),
    }


def last_call_stats() -> CallStats | None:
    """Timings and token counts of the most recent finished call in this process."""
    return _last_stats
