"""Model faults: timeouts, rate limits, server errors, empty and malformed answers.
Each gives a clear message, work stays queued, and nothing half-done is stored."""

from __future__ import annotations

import asyncio
import sqlite3

import litellm
import pytest

from jupyter_sleeptime.engine.model.model_client import ModelError
from jupyter_sleeptime.testing.scripted_model import control

from ..conftest import wait_for
from .notebooks import analysis_cells, feed, run_cell

NB = "faults.ipynb"


@pytest.mark.parametrize(
    "failure, words",
    [
        (litellm.Timeout, "did not answer in time"),
        (litellm.RateLimitError, "rate-limited (429)"),
        (litellm.InternalServerError, "failed"),
    ],
)
async def test_provider_faults_are_explained_and_work_stays_queued(make_engine, failure, words):
    engine = make_engine()
    feed(engine, NB, analysis_cells(2))
    control.failure = failure
    control.fail_next = 1
    result = await engine.think(NB)
    assert not result["ok"] and words in result["error"]
    assert engine.client.last_error == result["error"]
    assert engine.thinker.plan(NB)  # still planned
    assert engine.store.cursor(NB) == 0
    again = await engine.think(NB)
    assert again["ok"] and engine.client.last_error is None
    control.fail_next = 1
    with pytest.raises(ModelError) as err:
        await engine.ask(NB, "What is step_1?", "baseline")
    assert words in str(err.value)


async def test_an_empty_answer_is_an_error_not_a_result(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(2))
    control.overrides["rewrite_memory"] = ""
    result = await engine.think(NB)
    assert not result["ok"] and "empty" in result["error"]
    assert engine.store.memory(NB) is None


async def test_executions_wait_for_a_locked_store_and_are_written_in_order(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(1))
    assert (await engine.think(NB))["ok"]
    engine.store._conn.execute("PRAGMA busy_timeout=100")  # the test need not wait 2 s per try
    other = sqlite3.connect(engine.store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        run_cell(engine, NB, "late = 1\nprint(late)", "1", count=2)
        run_cell(engine, NB, "later = late + 1", "", count=3)
        assert engine.store.usage(NB) is not None  # reads still work under a writer's lock (WAL)
        assert "could not be written" in engine.store_error
        assert engine.records_waiting() == 4  # start and finish of both cells, kept
        assert not engine.flush_records()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert engine.flush_records()
    assert engine.store_error is None and engine.records_waiting() == 0
    runs = engine.store.executions(NB)
    assert [e.source for e in runs][-2:] == ["late = 1\nprint(late)", "later = late + 1"]
    assert runs[-2].status == "ok" and runs[-2].outputs[0].text == "1"
    result = await engine.think(NB)  # the kept cells are thought about like any other
    assert result["ok"] and "explain_cells" in result["ran"]


async def test_a_task_done_only_in_part_is_tried_again_then_given_up(make_engine):
    engine = make_engine()
    feed(engine, NB, analysis_cells(2))
    control.overrides["explain_cells"] = "[1] Loads the sales table."  # cell 2 always skipped
    assert (await engine.think(NB))["ok"]
    assert engine.scheduler.pending(NB) == 1  # cell 2 is still to explain: not forgotten

    def settled() -> bool:
        return engine.scheduler.pending(NB) == 0 and not engine.scheduler.thinking(NB)

    await wait_for(settled, timeout=30)
    # three attempts (each a call and its repair round), then given up until the next change
    assert control.tasks().count("explain_cells") == 6
    await asyncio.sleep(1.0)
    assert control.tasks().count("explain_cells") == 6  # nothing left waiting, nothing rerun
    assert engine.store.cell_notes([e.cell_hash() for e in engine.thinker.view(NB)])
