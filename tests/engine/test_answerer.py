"""Query time: anticipated hits, sleep vs baseline prompts, errors."""

from __future__ import annotations

import pytest

from jupyter_sleeptime.engine.model.model_client import ModelError
from jupyter_sleeptime.testing.scripted_model import control

from .notebooks import analysis_cells, digest_for, feed, run_cell

NB = "analysis.ipynb"


async def prepared(make_engine, n=24):
    engine = make_engine()
    feed(engine, NB, analysis_cells(n))
    engine.record_digest("k1", NB, digest_for(n))
    result = await engine.think(NB)
    assert result["ok"]
    return engine


async def test_anticipated_question_is_answered_without_a_model_call(make_engine):
    engine = await prepared(make_engine, 6)
    question = engine.answerer.prepared_list(NB)[0]["question"]
    control.calls.clear()
    for asked in (question, question.upper(), "  " + question.rstrip("?") + " ?!"):
        answer = await engine.ask(NB, asked)
        assert answer.source == "anticipated"
        assert answer.prompt_tokens == 0
    assert control.calls == []
    assert engine.store.usage(NB)["query"].calls == 0


async def test_a_prepared_answer_is_not_used_once_its_facts_changed(make_engine):
    engine = await prepared(make_engine, 6)
    assert (await engine.ask(NB, "What is step_2?")).source == "anticipated"
    run_cell(engine, NB, "sales = sales.head(10)", "")  # step_2 did not change: still prepared
    assert (await engine.ask(NB, "What is step_2?")).source == "anticipated"
    run_cell(engine, NB, "step_2 = sales.head(3)", "")  # its value now is not read yet
    answer = await engine.ask(NB, "What is step_2?")
    assert answer.source == "model"


async def test_sleep_pays_far_fewer_uncached_prompt_tokens_than_baseline(make_engine):
    engine = await prepared(make_engine, 24)
    await engine.ask(NB, "What is step_3?", fresh=True)  # the prefix is now cached
    question = "Which region has the highest revenue share in step_20?"
    sleep = await engine.ask(NB, question, "sleep", fresh=True)
    baseline = await engine.ask(NB, question, "baseline")
    budget = await engine.ask(NB, question, "baseline-budget")
    assert sleep.source == baseline.source == "model"
    uncached = sleep.prompt_tokens - sleep.cached_tokens
    print(
        f"sleep {sleep.prompt_tokens} ({uncached} uncached), baseline {baseline.prompt_tokens}, "
        f"budget {budget.prompt_tokens} prompt tokens"
    )
    assert sleep.cached_tokens > 0 and baseline.prompt_tokens >= 5 * uncached
    assert budget.prompt_tokens <= 1.3 * sleep.prompt_tokens
    # the prefix carries the prepared memory and every cell; the question comes last
    sent = control.calls[-3]["messages"]
    assert "Pipeline" in sent[0]["content"] and "step_20 =" in sent[0]["content"]
    assert sent[1]["content"].endswith("Question: " + question)


async def test_sleep_prompt_prefix_is_stable_across_questions(make_engine):
    engine = await prepared(make_engine, 6)
    first = engine.answerer.sleep_prompt(NB, "What is sales?").messages
    second = engine.answerer.sleep_prompt(NB, "How many regions are there?").messages
    assert first[0] == second[0]  # same system prefix: the KV cache can be reused


async def test_model_error_is_a_clear_message(make_engine):
    engine = await prepared(make_engine, 3)
    control.fail_next = 1
    with pytest.raises(ModelError) as err:
        await engine.ask(NB, "Why does step_2 have fewer rows than sales?", "sleep")
    assert "sleeptime-scripted/test" in str(err.value) and "Traceback" not in str(err.value)
    rows = engine.store.usage_rows(NB, kind="query")
    assert rows[-1]["ok"] == 0


async def test_tokens_stream_in_order(make_engine):
    engine = await prepared(make_engine, 3)
    pieces: list[str] = []
    answer = await engine.ask(NB, "What is step_1?", "baseline", on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.answer
