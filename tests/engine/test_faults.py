"""Model faults: timeouts, rate limits, server errors, empty and malformed answers.
Each gives a clear message, work stays queued, and nothing half-done is stored."""

from __future__ import annotations

import litellm
import pytest

from jupyter_sleeptime.engine.llm import ModelError
from jupyter_sleeptime.engine.scripted_model import control

from .notebooks import analysis_cells, feed

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
    assert engine.status()["model_error"] == result["error"]
    assert engine.thinker.plan(NB)  # still planned
    assert engine.store.cursor(NB) == 0
    again = await engine.think(NB)
    assert again["ok"] and engine.status()["model_error"] is None
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
