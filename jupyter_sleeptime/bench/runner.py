"""The notebook benchmark: for each notebook, a fresh Jupyter server with the extension, a
copy of the notebook run cell by cell over the kernel websocket (as JupyterLab does), idle
time left to think on its own, then every question asked in every mode on the same state.

Order of the questions (the `order` setting, recorded in results.json):

* `blocked` (default): per notebook, all sleep-mode questions first, then all `baseline`
  questions, then all `baseline-budget` ones. Sleep mode therefore finds in the local model's
  KV cache what idle time left there (the warmed c′ prefix; between sleep questions the
  shared prefix stays cached, as it would between a user's questions). Every baseline and
  baseline-budget question is asked with `cold=True`: the server empties the KV cache first,
  so each pays the prefill of its whole prompt, as after a change in real use.
* `interleaved`: per question sleep → baseline → baseline-budget. The cold baselines evict
  the warmed prefix, so every sleep question after the first pays for its prefix again:
  a pessimistic view of sleep mode, useful as a sensitivity check.

Both keep the modes in one run, on one server, one kernel state and one model.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.state.notebook_text import approx_tokens
from ..testing.harness import (
    KernelSocket,
    ServerClient,
    ServerProcess,
    code_cells,
    shell_request,
)
from .data import Question, contains, score
from .progress import Progress, plural

ORDERS = ("blocked", "interleaved")


@dataclass
class Settings:
    model: str = ""
    sleep_model: str = ""
    modes: tuple[str, ...] = ("sleep", "baseline", "baseline-budget")
    repeat: int = 1
    order: str = "blocked"
    idle_seconds: float = 2.0
    sleep_timeout: float = 3600.0
    cell_timeout: float = 600.0
    logs: Path | None = None
    keep_work: bool = False
    incremental: bool = False
    coverage_only: bool = False  # facts and prompts only: no thinking, no answers
    facts_only: bool = False  # answers from the facts alone: no idle-time model work

    def traits(self) -> dict[str, Any]:
        traits: dict[str, Any] = {"idle_seconds": self.idle_seconds, "max_tokens_per_hour": 0}
        if self.coverage_only or self.facts_only:
            traits["enabled"] = False  # no idle-time model runs; facts are computed when asked
        if self.model:
            traits["model"] = self.model
        if self.sleep_model:
            traits["sleep_model"] = self.sleep_model
        return traits


def ask_plan(
    questions: list[Question], modes: tuple[str, ...], repeat: int, order: str
) -> list[tuple[int, Question, str]]:
    """(repeat, question, mode) in the order they are asked (see the module docstring)."""
    plan: list[tuple[int, Question, str]] = []
    if order == "blocked":
        ordered = [m for m in modes if m == "sleep"] + [m for m in modes if m != "sleep"]
        for mode in ordered:
            for rep in range(repeat):
                plan.extend((rep, q, mode) for q in questions)
    elif order == "interleaved":
        for rep in range(repeat):
            for q in questions:
                plan.extend((rep, q, mode) for mode in modes)
    else:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    return plan


async def kernel_info(kernel: KernelSocket, timeout: float = 10) -> None:
    """One kernel_info request over the websocket, read until its `status: idle` on iopub.
    It runs no code and records nothing, but every iopub subscriber sees busy/idle."""
    msg_id, message = shell_request("kernel_info_request", kernel.session, {})
    kernel.write_message(message)
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(kernel.read_message(), max(0.1, deadline - time.monotonic()))
        if raw is None:
            raise ConnectionError("the kernel websocket closed")
        msg = json.loads(raw)
        if (
            msg.get("parent_header", {}).get("msg_id") == msg_id
            and msg["header"]["msg_type"] == "status"
            and msg["content"].get("execution_state") == "idle"
        ):
            return


async def wait_kernel_idle(
    client: ServerClient, kernel: KernelSocket, kernel_id: str, timeout: float = 120
) -> None:
    """Make sure the extension's observer sees this kernel before any cell runs, so that no
    execution is missed: a subscriber that joined after the kernel's start-up messages has
    seen no status yet, so nudge with kernel_info until the extension reports it idle."""
    deadline = time.monotonic() + timeout
    while True:
        state = await client.kernel(kernel_id)
        if state.get("execution_state") == "idle":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the kernel did not report idle to the extension within {timeout} s"
            )
        try:
            await kernel_info(kernel)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0.3)


async def wait_digest(client: ServerClient, kernel_id: str, timeout: float = 30) -> None:
    """Until the extension has read the kernel's namespace after the last cell (it does so
    half a second after the kernel goes idle)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await client.kernel(kernel_id)
        executions = state.get("executions") or []
        digest_at = (state.get("digest") or {}).get("at") or 0
        last_end = max((ex.get("ended") or 0 for ex in executions), default=0)
        if state.get("digest", {}).get("variables") and digest_at >= last_end:
            return
        await asyncio.sleep(0.3)


async def run_cells(
    kernel: KernelSocket, cells: list[str], timeout: float, progress: Progress
) -> dict[str, Any]:
    """Run All: cell by cell, stopping at the first error (as Run All does)."""
    seconds: list[float] = []
    error: dict[str, Any] | None = None
    for index, source in enumerate(cells, 1):
        first = source.strip().splitlines()[0][:60]
        progress.phase(f"cell {index}/{len(cells)}: {first}", key="cells")
        started = time.perf_counter()
        result = await kernel.execute(source, timeout=timeout)
        seconds.append(time.perf_counter() - started)
        reply = result["reply"] or {}
        if reply.get("status") == "error":
            error = {
                "cell": index,
                "ename": reply.get("ename"),
                "evalue": str(reply.get("evalue"))[:300],
            }
            break
    return {
        "cells_total": len(cells),
        "cells_executed": len(seconds),
        "cell_seconds": seconds,
        "execution_seconds": sum(seconds),
        "stopped_at_error": error,
    }


def coverage(q: Question, prompt: dict[str, Any]) -> bool | None:
    """Whether every `must_contain` token is in what the answer is built from: the prompt's
    messages, or the prepared answer a hit would give. None for rubric-only questions."""
    if not q.scorable or prompt.get("type") != "prompt":
        return None
    text = prompt.get("answer") or "\n".join(m.get("content", "") for m in prompt["messages"])
    return all(contains(text, token) for token in q.must_contain)


def coverage_record(
    notebook: str, q: Question, mode: str, position: int, prompt: dict[str, Any]
) -> dict[str, Any]:
    error = prompt.get("message") if prompt.get("type") != "prompt" else None
    return {
        "notebook": notebook,
        "id": q.id,
        "kind": q.kind,
        "asked_kind": prompt.get("kind"),
        "mode": mode,
        "repeat": 0,
        "position": position,
        "question": q.question,
        "source": prompt.get("source") if not error else "error",
        "anticipated_hit": prompt.get("source") == "anticipated" if mode == "sleep" else None,
        "matched": prompt.get("matched"),  # the prepared question a hit answers
        "approx_prompt_tokens": int(prompt.get("approx_tokens") or 0),
        # What the question adds after the stable prefix (the system message): query-time prefill.
        "approx_query_tokens": sum(
            approx_tokens(m.get("content", "")) for m in (prompt.get("messages") or [])[1:]
        ),
        "scorable": q.scorable,
        "covered": coverage(q, prompt),
        "error": error,
        # What the answer would be built from, to read why a fact was missing.
        "prompt": prompt.get("answer")
        or "\n\n".join(m.get("content", "") for m in prompt.get("messages") or []),
    }


def question_record(
    notebook: str, q: Question, mode: str, rep: int, position: int, event: dict[str, Any]
) -> dict[str, Any]:
    error = event.get("message") if event.get("type") != "done" else None
    answer = event.get("answer") or ""
    usage = event.get("usage") or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = int(usage.get("cached_tokens") or 0)
    correct, missing = score(answer, q)
    if error and correct is not None:
        correct, missing = False, list(q.must_contain)
    return {
        "notebook": notebook,
        "id": q.id,
        "kind": q.kind,
        "mode": mode,
        "repeat": rep,
        "position": position,
        "question": q.question,
        "source": event.get("source") if not error else "error",
        "anticipated_hit": (event.get("source") == "anticipated")
        if mode == "sleep" and not error
        else None,
        "cold": mode != "sleep",
        "ttft_ms": float(event.get("ttft_ms") or 0.0),
        "latency_ms": float(event.get("latency_ms") or 0.0),
        "client_ttft_ms": round(float(event.get("client_ttft_ms") or 0.0), 1),
        "client_latency_ms": round(float(event.get("client_latency_ms") or 0.0), 1),
        "prompt_tokens": prompt,
        "completion_tokens": int(usage.get("completion_tokens") or 0),
        "cached_tokens": cached,
        "uncached_prompt_tokens": prompt - cached,
        "scorable": q.scorable,
        "correct": correct,
        "missing": missing,
        "answer": answer,
        "error": error,
        "model": event.get("model"),
        "matched": event.get("matched"),  # the prepared question a hit answers
        "prepared_from": event.get("prepared_from"),
    }


async def ask_anticipated(
    client: ServerClient, kernel_id: str, questions: list[str], progress: Progress
) -> list[dict[str, Any]]:
    """Ask the prepared questions verbatim, as a click on the sidebar's buttons does: the
    latency of an anticipated hit, measured even when no eval question is one."""
    rows = []
    for index, question in enumerate(questions):
        progress.phase(f"anticipated {index + 1}/{len(questions)}", key="ask")
        event = await client.ask(kernel_id, question, "sleep")
        rows.append(
            {
                "question": question,
                "source": event.get("source") if event.get("type") == "done" else "error",
                "latency_ms": float(event.get("latency_ms") or 0.0),
                "client_latency_ms": round(float(event.get("client_latency_ms") or 0.0), 1),
                "prompt_tokens": int((event.get("usage") or {}).get("prompt_tokens") or 0),
            }
        )
        if rows[-1]["source"] != "anticipated":
            break  # a miss costs a model answer; one is enough to show it
    return rows


async def incremental_run(
    client: ServerClient,
    kernel: KernelSocket,
    kernel_id: str,
    notebook: Path,
    record: dict[str, Any],
    before: dict[str, Any],
    settings: Settings,
    progress: Progress,
) -> dict[str, Any]:
    """The user edits one cell in the middle of what ran and runs it again: what does the
    next idle-time run cost, next to the first full one?"""
    cells = code_cells(notebook)
    index = max(0, record["cells_executed"] // 2 - 1)
    edited = cells[index].rstrip() + "\n# edited and run again\n"
    progress.phase(f"incremental: re-running edited cell {index + 1}", key="cells")
    await kernel.execute(edited, timeout=settings.cell_timeout)
    idle_from = time.monotonic()
    state = await client.wait_idle_thinking(
        kernel_id, timeout=settings.sleep_timeout, after=before.get("last_run")
    )
    first, now = before["usage"]["sleep"], state["usage"]["sleep"]
    prompt = now["prompt_tokens"] - first["prompt_tokens"]
    return {
        "edited_cell": index + 1,
        "seconds": time.monotonic() - idle_from,
        "thinking_run_seconds": (state.get("last_run") or {}).get("seconds"),
        "ran": (state.get("last_run") or {}).get("ran"),
        "calls": now["calls"] - first["calls"],
        "prompt_tokens": prompt,
        "completion_tokens": now["completion_tokens"] - first["completion_tokens"],
        "prompt_ratio_to_first_run": round(prompt / record["sleep_prompt_tokens"], 3)
        if record["sleep_prompt_tokens"]
        else None,
    }


@dataclass
class _Session:
    """One notebook's server, kernel and client while it is measured."""

    client: ServerClient
    kernel: KernelSocket
    kernel_id: str
    notebook: str


async def run_notebook(
    path: Path, questions: list[Question], settings: Settings, progress: Progress
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    work = Path(tempfile.mkdtemp(prefix="sleeptime-bench-"))
    shutil.copy(path, work / path.name)
    log_path = (settings.logs / f"{path.stem}.server.log") if settings.logs else None
    server = ServerProcess(work, work / "sleeptime.db", settings.traits(), log_path=log_path)
    record: dict[str, Any] = {"notebook": path.name, "questions": len(questions)}
    rows: list[dict[str, Any]] = []
    kernel: KernelSocket | None = None
    try:
        progress.phase("starting a Jupyter server")
        await asyncio.to_thread(server.start)
        client = ServerClient(server.url, server.token)
        status = await client.status()
        record["model"], record["sleep_model"] = status.get("model"), status.get("sleep_model")
        kernel_id = await client.open_notebook(path.name)
        kernel = KernelSocket(server.url, server.token, kernel_id)
        await kernel.connect()  # the server nudges the kernel: its status reaches the observer
        await wait_kernel_idle(client, kernel, kernel_id)
        record.update(
            await run_cells(kernel, code_cells(work / path.name), settings.cell_timeout, progress)
        )
        session = _Session(client, kernel, kernel_id, path.name)
        if settings.coverage_only:
            rows = await _coverage_rows(session, questions, settings, progress)
        elif settings.facts_only:
            await wait_digest(client, kernel_id)
            rows = await _ask_all(session, questions, settings, progress)
        else:
            sleep = await _idle_time(session, record, settings, progress)
            rows = await _ask_all(session, questions, settings, progress)
            await _after_questions(session, record, sleep, work / path.name, settings, progress)
    except Exception as exc:  # keep the other notebooks; the failure is in the results
        record["error"] = f"{type(exc).__name__}: {exc}"
        progress.note(f"{path.name} failed: {record['error']}")
    finally:
        if kernel is not None:
            kernel.close()
        await asyncio.to_thread(server.stop)
        if not settings.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    return record, rows


async def _coverage_rows(
    session: _Session, questions: list[Question], settings: Settings, progress: Progress
) -> list[dict[str, Any]]:
    """`--coverage-only`: every prompt built, none answered."""
    await wait_digest(session.client, session.kernel_id)
    rows = []
    for position, (_, q, mode) in enumerate(ask_plan(questions, settings.modes, 1, "blocked")):
        progress.phase(f"prompt {position + 1} [{mode}] {q.id}", key="ask")
        prompt = await session.client.ask(session.kernel_id, q.question, mode, dry_run=True)
        rows.append(coverage_record(session.notebook, q, mode, position, prompt))
    return rows


async def _idle_time(
    session: _Session, record: dict[str, Any], settings: Settings, progress: Progress
) -> dict[str, Any]:
    """Nothing is asked of the server: it notices the idle kernel and thinks. Records what
    that cost; returns the sleep-time usage."""
    idle_from = time.monotonic()
    calm: list[float] = []

    def watch(state: dict[str, Any]) -> None:
        done = not state["thinking"] and state["pending"] == 0 and state["last_run"]
        if done and not calm:
            calm.append(time.monotonic())
        elif not done:
            calm.clear()
        usage = state["usage"]["sleep"]
        what = "thinking" if state["thinking"] else ("done" if done else "waiting for idle")
        progress.phase(
            f"idle time: {what}, {plural(state['pending'], 'task')} pending, "
            f"{plural(usage['calls'], 'call')}, "
            f"{usage['prompt_tokens'] + usage['completion_tokens']} tokens",
            key="sleep",
        )

    state = await session.client.wait_idle_thinking(
        session.kernel_id, timeout=settings.sleep_timeout, progress=watch
    )
    finished = calm[0] if calm else time.monotonic()
    record.update(_sleep_record(state, finished - idle_from))
    if record["recorded_executions"] != record["cells_executed"]:
        progress.note(
            f"warning: {session.notebook}: the extension recorded "
            f"{record['recorded_executions']} executions, {record['cells_executed']} ran"
        )
    return state["usage"]["sleep"]


def _sleep_record(state: dict[str, Any], seconds: float) -> dict[str, Any]:
    sleep = state["usage"]["sleep"]
    run = state.get("last_run") or {}
    memory = (state.get("memory") or {}).get("text") or ""
    digest = state.get("digest") or {}
    return {
        "sleep_seconds": seconds,
        "thinking_run_seconds": run.get("seconds"),
        "sleep_calls": sleep["calls"],
        "sleep_prompt_tokens": sleep["prompt_tokens"],
        "sleep_completion_tokens": sleep["completion_tokens"],
        "sleep_tokens": sleep["prompt_tokens"] + sleep["completion_tokens"],
        "last_run": run,
        "recorded_executions": len(state.get("executions") or []),
        "memory_chars": len(memory),
        "memory": memory,
        "anticipated": [a["question"] for a in state["insights"]["anticipated"]],
        "cell_notes": len(state["insights"]["cells"]),
        "next_steps": len(state["insights"]["next_steps"]),
        "error_diagnoses": len(state["insights"]["errors"]),
        "digest_took_ms": digest.get("took_ms"),
        "digest_variables": len(digest.get("variables") or []),
    }


async def _ask_all(
    session: _Session, questions: list[Question], settings: Settings, progress: Progress
) -> list[dict[str, Any]]:
    """Every question in every mode, in the order policy's order; each also as a dry run
    first, for the fact coverage of what the answer is built from."""
    rows = []
    plan = ask_plan(questions, settings.modes, settings.repeat, settings.order)
    for position, (rep, q, mode) in enumerate(plan):
        progress.phase(f"asking {position + 1}/{len(plan)} [{mode}] {q.id}", key="ask")
        prompt = await session.client.ask(session.kernel_id, q.question, mode, dry_run=True)
        event = await session.client.ask(session.kernel_id, q.question, mode, cold=mode != "sleep")
        rows.append(question_record(session.notebook, q, mode, rep, position, event))
        rows[-1]["covered"] = coverage(q, prompt)
        rows[-1]["asked_kind"] = prompt.get("kind")
    return rows


async def _after_questions(
    session: _Session,
    record: dict[str, Any],
    sleep: dict[str, Any],
    notebook: Path,
    settings: Settings,
    progress: Progress,
) -> None:
    """The prepared questions clicked verbatim, what the questions cost, and (optionally)
    the incremental run after an edit."""
    client, kernel_id = session.client, session.kernel_id
    record["anticipated_asks"] = await ask_anticipated(
        client, kernel_id, record["anticipated"], progress
    )
    final = await client.kernel(kernel_id)
    record["query_usage"] = final["usage"].get("query")
    record["sleep_after_questions"] = final["usage"]["sleep"]
    if final["usage"]["sleep"]["calls"] != sleep["calls"]:
        progress.note(f"warning: {session.notebook}: idle thinking ran again during the questions")
    if settings.incremental:
        record["incremental"] = await incremental_run(
            client, session.kernel, kernel_id, notebook, record, final, settings, progress
        )
