"""Idle scheduling: priorities, debounce, cursor after success, retry, budget, pause."""

from __future__ import annotations

import asyncio

from jupyter_sleeptime.engine.model.model_client import BudgetExhausted
from jupyter_sleeptime.testing.scripted_model import control

from ..conftest import wait_for
from .notebooks import analysis_cells, digest_for, feed, run_cell

NB = "analysis.ipynb"


async def test_priorities_error_first_then_explanations_memory_questions_steps(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(4))
    run_cell(engine, NB, "total = sales['revenu'].sum()", error=("KeyError", "'revenu'"), count=5)
    engine.record_digest("k1", NB, digest_for(4))
    planned = [t.name for t in engine.thinker.plan(NB)]
    assert planned == [
        "compute_facts",  # no model call: exact facts come first
        "diagnose_error",
        "explain_cells",
        "rewrite_memory",
        "anticipate",
        "next_steps",
    ]
    result = await engine.think(NB)
    assert result["ran"] == planned
    assert control.tasks() == planned[1:]  # the model was called in that order
    failed = [ex for ex in engine.scope.view(NB) if ex.status == "error"][-1]
    assert "KeyError" in engine.store.diagnosis(failed.cell_hash())


async def test_debounce_one_run_after_idle(make_engine):
    engine = make_engine(idle_seconds=0.3)
    cells = analysis_cells(3)
    for source, text in cells:  # executions closer together than idle_seconds
        run_cell(engine, NB, source, text)
        await asyncio.sleep(0.05)
    last_end = engine.store.executions(NB)[-1].ended
    await wait_for(lambda: engine.store.last_run(NB), timeout=10)
    await asyncio.sleep(0.5)
    runs = engine.store._exec("SELECT count(*) FROM runs").fetchone()[0]
    assert runs == 1
    assert control.calls[0]["at"] - last_end >= 0.3


async def test_new_execution_supersedes_planned_work(make_engine):
    engine = make_engine(idle_seconds=0.1)
    control.token_delay = 0.01
    feed(engine, NB, analysis_cells(3))
    await wait_for(lambda: control.calls, timeout=5)  # the run started
    run_cell(engine, NB, "extra = 1", "")  # user runs another cell mid-run
    await wait_for(lambda: engine.store.last_run(NB), timeout=10)
    first = engine.store._exec("SELECT ran, ok FROM runs ORDER BY id LIMIT 1").fetchone()
    assert first["ok"] == 0 and first["ran"].count('"') // 2 < 4  # stopped early
    await wait_for(lambda: engine.store.cursor(NB) == engine.store.state_version(NB), timeout=15)


async def test_cursor_advances_only_after_success(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(3))
    engine.record_digest("k1", NB, digest_for(3))
    control.overrides["anticipate"] = "no questions here"  # malformed → task fails
    result = await engine.think(NB)
    assert not result["ok"] and "anticipated" in result["error"]
    assert engine.store.cursor(NB) == 0
    assert engine.store.memory(NB) is not None  # finished tasks keep their results
    control.overrides.clear()
    control.calls.clear()
    result = await engine.think(NB)
    assert result["ok"]
    assert result["ran"] == ["anticipate", "next_steps"]  # nothing redone
    assert engine.store.cursor(NB) == engine.store.state_version(NB)


async def test_failed_call_is_retried_with_backoff(make_engine):
    engine = make_engine(idle_seconds=0.1, retry_base_seconds=0.3)
    control.fail_next = 1
    feed(engine, NB, analysis_cells(2))
    await wait_for(lambda: engine.store.memory(NB) is not None, timeout=15)
    runs = engine.store._exec("SELECT ok, error FROM runs ORDER BY id").fetchall()
    assert runs[0]["ok"] == 0 and "retried" in runs[0]["error"]
    failed = [r for r in engine.store.usage_rows(NB) if not r["ok"]]
    assert len(failed) == 1
    await wait_for(lambda: engine.store.cursor(NB) == engine.store.state_version(NB), timeout=15)


async def test_budget_stops_thinking_and_asking(make_engine):
    engine = make_engine(max_tokens_per_hour=400)
    feed(engine, NB, analysis_cells(6))
    result = await engine.think(NB)
    assert not result["ok"] and "budget" in result["error"]
    assert engine.client.budget_state()["exhausted"]
    assert engine.thinker.plan(NB)  # the work stays planned
    try:
        await engine.ask(NB, "What is sales?", "baseline")
    except BudgetExhausted as exc:
        assert "max_tokens_per_hour" in str(exc)
    else:
        raise AssertionError("ask went through an exhausted budget")


async def test_background_generation_pauses_while_a_kernel_is_busy(make_engine):
    engine = make_engine(pause_while_busy=True)
    control.token_delay = 0.005
    feed(engine, NB, analysis_cells(3))
    received: list[int] = []
    think = asyncio.ensure_future(engine.think(NB))
    await wait_for(lambda: control.calls, timeout=5)
    engine._set_busy("other-kernel", True)  # user code starts in some kernel
    await asyncio.sleep(0.1)
    received.append(control.chunks_sent)
    await asyncio.sleep(0.4)
    received.append(control.chunks_sent)
    assert received[1] - received[0] <= 1  # at most the chunk already in flight
    assert not think.done()
    engine._set_busy("other-kernel", False)
    result = await asyncio.wait_for(think, 20)
    assert result["ok"]
    assert control.chunks_sent > received[1]


async def test_query_calls_never_pause(make_engine):
    engine = make_engine(pause_while_busy=True)
    feed(engine, NB, analysis_cells(2))
    engine._set_busy("k1", True)  # %ask runs inside a busy kernel
    answer = await asyncio.wait_for(engine.ask(NB, "What is step_1?", "baseline"), 10)
    assert answer.source == "model"


async def test_work_follows_a_kernel_to_its_notebook(make_engine):
    """Cells can run before the server knows the kernel's notebook; the work moves along."""
    engine = make_engine(idle_seconds=0.3)
    feed(engine, "kernel:abc", analysis_cells(2))
    engine.rename("kernel:abc", NB)
    await wait_for(lambda: engine.store.last_run(NB), timeout=10)
    assert engine.store.last_run(NB)["ok"]
    assert engine.store.executions("kernel:abc") == []


async def test_a_task_that_keeps_failing_is_given_up_until_the_notebook_changes(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(2))
    control.overrides["next_steps"] = "I would rather not."  # unreadable, every time
    for _ in range(engine.scheduler.max_task_attempts):
        result = await engine.think(NB)
        assert not result["ok"] and "next steps" in result["error"]
    assert "next_steps" not in [t.name for t in engine.thinker.plan(NB)]
    engine.thinker.warm = _no_op_warm  # with a local model a warm-up follows; it must not loop
    result = await engine.think(NB)
    assert result["ok"]  # the rest of the work is done and the cursor moves on
    assert engine.store.cursor(NB) == engine.store.state_version(NB)
    assert engine.thinker.plan(NB) == []  # nothing left pending once warmed
    control.overrides.clear()
    run_cell(engine, NB, "late = 1", "")  # a change: the task is tried again
    assert "next_steps" in [t.name for t in engine.thinker.plan(NB)]
    assert (await engine.think(NB))["ok"]


async def _no_op_warm(notebook: str) -> None:
    return None
