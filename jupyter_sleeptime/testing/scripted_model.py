"""A deterministic model for tests and offline demos, registered with LiteLLM's own
custom-provider API as `sleeptime-scripted/<name>`.

It reads the task out of the prompt and answers from the facts the prompt contains (cell
labels, variable lines, memory), so what it returns depends on what the engine sent —
tests that use it check the engine's real prompts, parsing and bookkeeping. `control`
lets a test inject failures, slow tokens, or inspect every call.

Like providers with prompt caching, it reports `usage.prompt_tokens_details.cached_tokens`:
the tokens of a system message it has seen before (a repeated stable prefix). A model
named like a Claude model (`sleeptime-scripted/claude-…`) caches, as Anthropic does, only
a system message marked `cache_control`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..engine.model.providers import litellm as _quiet_litellm

litellm = _quiet_litellm()
from litellm import CustomLLM  # noqa: E402
from litellm.types.utils import GenericStreamingChunk, ModelResponse  # noqa: E402
from litellm.utils import custom_llm_setup  # noqa: E402

PROVIDER = "sleeptime-scripted"
TASK = re.compile(r"^Task:\s*(\w+)", re.M)
LABEL = re.compile(r"^In \[#?(\d+)\]", re.M)
VAR_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ([^=\n]+?)(?: = (.*))?$", re.M)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Control:
    fail_next: int = 0  # this many calls raise `failure`
    failure: type[Exception] = litellm.InternalServerError
    token_delay: float = 0.0  # seconds between streamed tokens
    calls: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # task → fixed reply
    chunks_sent: int = 0
    prefixes: set[str] = field(default_factory=set)  # system messages seen: "cached"

    def reset(self) -> None:
        self.fail_next = 0
        self.failure = litellm.InternalServerError
        self.token_delay = 0.0
        self.calls.clear()
        self.overrides.clear()
        self.chunks_sent = 0
        self.prefixes.clear()

    def tasks(self) -> list[str]:
        return [c["task"] for c in self.calls]


control = Control()


def _prompt(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return "\n".join(parts)


def _variables(prompt: str) -> list[tuple[str, str, str]]:
    block = re.search(r"<variables>\n(.*?)</variables>", prompt, re.S)
    if not block:
        return []
    return [
        (m.group(1), m.group(2).strip(), (m.group(3) or "").strip())
        for m in VAR_LINE.finditer(block.group(1))
    ]


def reply(prompt: str, model: str) -> str:
    """What the scripted model says to a prompt."""
    found = TASK.search(prompt)
    task = found.group(1) if found else "answer"
    if task in control.overrides:
        return control.overrides[task]
    variables = _variables(prompt)
    if task == "explain_cells":
        notebook = prompt.split("<notebook>", 1)[-1]
        lines = []
        for label in dict.fromkeys(LABEL.findall(notebook)):
            body = re.search(
                rf"^In \[#?{label}\].*?:\n(.*?)(?=^In \[|\Z|^Out \[)", notebook, re.S | re.M
            )
            names = WORD.findall(body.group(1)) if body else []
            lines.append(f"[{label}] This cell works with {', '.join(names[:4]) or 'the data'}.")
        return "\n".join(lines)
    if task == "diagnose_error":
        error = re.search(r"^(\w+(?:Error|Exception)): (.*)$", prompt, re.M)
        what = f"{error.group(1)}: {error.group(2)}" if error else "an exception"
        return f"Cause: the cell raised {what}.\nFix:\n```python\n# correct the failing line\n```"
    if task == "rewrite_memory":
        data = [n for n, t, _ in variables if t != "module"][:12]
        labels = LABEL.findall(prompt)
        return "\n".join(
            [
                "Purpose: analysis in a Jupyter notebook of "
                + (", ".join(data) or "its data")
                + ".",
                "Pipeline: cells " + ", ".join(f"[{n}]" for n in labels[:40]),
                "Open problems: none",
            ]
        )
    if task == "anticipate":
        k = (
            int(re.search(r"(\d+) (?:questions|pairs)", prompt).group(1))
            if re.search(r"(\d+) (?:questions|pairs)", prompt)
            else 5
        )
        pairs = []
        for name, kind, summary in variables:
            if len(pairs) >= k:
                break
            question = (
                f"What is {name}?"
                if "DataFrame" not in kind
                else f"How many rows does {name} have?"
            )
            pairs.append(f"Q: {question}\nA: {name} is a {kind}: {summary or 'see the notebook'}.")
        while len(pairs) < min(k, 3):
            pairs.append(
                f"Q: What does the notebook do (part {len(pairs) + 1})?\nA: It analyses data step by step."
            )
        return "\n".join(pairs)
    if task == "next_steps":
        names = [n for n, t, _ in variables if "DataFrame" in t] or ["the data"]
        return (
            f"### Describe {names[0]}\n```python\n{names[0]}.describe()\n```\n\n"
            f"### Plot {names[0]}\n```python\n{names[0]}.plot()\n```"
        )
    # Query time: answer from the lines of the prompt that share the most words with the question.
    question = prompt.rsplit("Question:", 1)[-1].strip()
    asked = {w.lower() for w in WORD.findall(question) if len(w) > 1}
    blocks = re.findall(r"<(memory|variables|notebook|facts)>\n(.*?)</\1>", prompt, re.S)
    data = "\n".join(body for _, body in blocks)  # the notebook's data, not the instructions
    best, best_score = "", (0, 0)
    for line in data.splitlines():
        words = {w.lower() for w in WORD.findall(line)}
        score = (len(asked & words), len(words))  # most shared words, then most content
        if score[0] and score > best_score:
            best, best_score = line.strip(), score
    return f"From the notebook: {best}" if best else "I could not find that in the notebook."


def _usage(messages: list[dict[str, Any]], text: str, cached: int = 0) -> dict[str, Any]:
    prompt_tokens = litellm.token_counter(model="gpt-4o-mini", messages=messages)
    completion_tokens = litellm.token_counter(model="gpt-4o-mini", text=text) if text else 0
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": min(cached, prompt_tokens)},
    }


def _cached(model: str, messages: list[dict[str, Any]]) -> int:
    """Tokens of the leading system message when an earlier call sent the same one."""
    if not messages or messages[0].get("role") != "system":
        return 0
    if "claude" in model and not messages[0].get("cache_control"):
        return 0
    prefix = _prompt(messages[:1])
    if prefix in control.prefixes:
        return litellm.token_counter(model="gpt-4o-mini", messages=messages[:1])
    control.prefixes.add(prefix)
    return 0


class ScriptedLLM(CustomLLM):
    def _answer(self, model: str, messages: list[dict[str, Any]], optional_params: dict) -> str:
        prompt = _prompt(messages)
        found = TASK.search(prompt)
        control.calls.append(
            {
                "model": model,
                "messages": messages,
                "task": found.group(1) if found else "answer",
                "max_tokens": optional_params.get("max_tokens"),
                "at": time.time(),
            }
        )
        if control.fail_next > 0:
            control.fail_next -= 1
            raise control.failure(message="scripted failure", model=model, llm_provider=PROVIDER)
        return reply(prompt, model)

    def completion(
        self, model, messages, *args, optional_params=None, model_response=None, **kwargs
    ):  # type: ignore[override]
        text = self._answer(model, messages, optional_params or {})
        usage = _usage(messages, text, _cached(model, messages))
        response = model_response or ModelResponse()
        response.choices[0].message.content = text  # type: ignore[union-attr]
        response.model = model
        response.usage = litellm.Usage(**usage)  # type: ignore[attr-defined]
        return response

    async def acompletion(self, model, messages, *args, **kwargs):  # type: ignore[override]
        return self.completion(model, messages, *args, **kwargs)

    def _chunks(
        self, model: str, messages: list[dict[str, Any]], optional_params: dict
    ) -> Iterator[GenericStreamingChunk]:
        text = self._answer(model, messages, optional_params)
        cached = _cached(model, messages)
        pieces = re.findall(r"\S+\s*|\s+", text) or [text]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            yield GenericStreamingChunk(
                text=piece,
                is_finished=last,
                finish_reason="stop" if last else "",
                usage=_usage(messages, text, cached) if last else None,  # type: ignore[typeddict-item]
                index=0,
                tool_use=None,
            )

    def streaming(self, model, messages, *args, optional_params=None, **kwargs):  # type: ignore[override]
        yield from self._chunks(model, messages, optional_params or {})

    async def astreaming(
        self, model, messages, *args, optional_params=None, **kwargs
    ) -> AsyncIterator[GenericStreamingChunk]:  # type: ignore[override]
        for chunk in self._chunks(model, messages, optional_params or {}):
            if control.token_delay:
                await asyncio.sleep(control.token_delay)
            control.chunks_sent += 1
            yield chunk


_handler = ScriptedLLM()


def register() -> None:
    """Make `sleeptime-scripted/<anything>` a LiteLLM model id (idempotent)."""
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _handler})
    custom_llm_setup()
