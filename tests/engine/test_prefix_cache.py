"""The stable prefix of sleep-mode prompts: byte-identical per notebook state, reused by the
provider (cached tokens through LiteLLM), changed and forgotten only for the notebook that
ran a cell; the embedded model's saved prefix states (LRU in bytes, restored per notebook)."""

from __future__ import annotations

import pytest

from jupyter_sleeptime.engine import prompts as prompts_module
from jupyter_sleeptime.engine.answer import stable_prefix as prefix
from jupyter_sleeptime.engine.answer.answerer import EXTRA_TOKENS
from jupyter_sleeptime.engine.model import local_model
from jupyter_sleeptime.engine.model.local_model import PrefixStates
from jupyter_sleeptime.engine.model.model_client import marks_cache
from jupyter_sleeptime.engine.state.notebook_text import approx_tokens
from jupyter_sleeptime.testing.scripted_model import control

from .notebooks import analysis_cells, digest_for, feed, run_cell

A, B = "a.ipynb", "b.ipynb"
QUESTIONS = [
    "What is step_2?",
    "Explain how step_3 is computed.",
    "What should I do next with step_4?",
]


async def _prepared(make_engine, notebooks=(A,), n=8, **config):
    engine = make_engine(**config)
    for notebook in notebooks:
        feed(engine, notebook, analysis_cells(n))
        engine.record_digest("k1", notebook, digest_for(n))
        assert (await engine.think(notebook))["ok"]
    return engine


pytestmark = pytest.mark.usefixtures("fresh_prefix_states")


async def test_prefix_is_byte_identical_across_questions_and_kinds(make_engine):
    engine = await _prepared(make_engine)
    prompts = [engine.answerer.sleep_prompt(A, q) for q in QUESTIONS]
    assert len({p.kind for p in prompts}) >= 2  # several kinds, one prefix
    prefixes = {p.messages[0]["content"].encode() for p in prompts}
    assert prefixes == {engine.answerer.sleep_prefix(A).encode()}
    system = prompts[0].messages[0]["content"]
    for kind in ("state", "explain", "error", "next"):  # every kind's instructions, prefilled
        assert prompts_module.render(f"instruct_{kind}").strip() in system
    for question, p in zip(QUESTIONS, prompts, strict=True):
        assert question not in system
        user = p.messages[1]["content"]
        assert user.endswith(f"Question: {question}")
        # the question adds little: its kind, itself and what the prefix lacks, bounded
        assert approx_tokens(user) <= EXTRA_TOKENS + approx_tokens(question) + 30
    # the whole facts sheet and every cell are in it
    assert "<facts>" in system and "step_7" in system and "In [8]" in system


async def test_second_question_reuses_the_prefix_through_litellm(make_engine):
    engine = await _prepared(make_engine)
    control.reset()
    first = await engine.ask(A, QUESTIONS[0], fresh=True)
    second = await engine.ask(A, QUESTIONS[1], fresh=True)
    assert first.source == second.source == "model"
    assert first.cached_tokens == 0
    assert 0 < second.cached_tokens < second.prompt_tokens
    # the uncached rest is the question, its kind's instructions and little else
    assert second.prompt_tokens - second.cached_tokens < 150
    rows = engine.store.usage_rows(A, kind="query")
    assert [r["cached_tokens"] for r in rows[-2:]] == [0, second.cached_tokens]


async def test_claude_style_models_get_the_prefix_marked_cacheable(make_engine):
    assert marks_cache("anthropic/claude-sonnet-4-5") and not marks_cache("openai/gpt-4o")
    engine = await _prepared(make_engine, model="sleeptime-scripted/claude-test")
    control.reset()
    await engine.ask(A, QUESTIONS[0], fresh=True)
    second = await engine.ask(A, QUESTIONS[1], fresh=True)
    sent = control.calls[-1]["messages"]
    assert sent[0].get("cache_control") == {"type": "ephemeral"}  # LiteLLM put the mark
    assert "cache_control" not in sent[1]
    assert second.cached_tokens > 0  # a Claude-style provider caches only what is marked


async def test_an_execution_changes_only_that_notebooks_prefix(make_engine):
    engine = await _prepared(make_engine, (A, B))
    before = {nb: engine.answerer.sleep_prefix(nb) for nb in (A, B)}
    for nb in (A, B):  # both prefixes are cached by the provider
        await engine.ask(nb, QUESTIONS[0], fresh=True)
    run_cell(engine, A, "extra = sales.tail(2)\nprint(extra.shape)", "(2, 5)\n")
    assert engine.answerer.sleep_prefix(B) == before[B]
    assert engine.answerer.sleep_prefix(A) != before[A]
    assert "extra = sales.tail(2)" in engine.answerer.sleep_prefix(A)
    assert (await engine.ask(B, QUESTIONS[1], fresh=True)).cached_tokens > 0
    assert (await engine.ask(A, QUESTIONS[1], fresh=True)).cached_tokens == 0


async def test_an_execution_forgets_that_notebooks_saved_state_only(make_engine):
    engine = await _prepared(make_engine, (A, B))
    for nb in (A, B):
        local_model._prefixes.put(nb, [1, 2, 3], b"state", 5)
    run_cell(engine, A, "extra = 1", "")
    assert local_model.prefix_states()["keys"] == [B]


# -- fitting the prefix to its budget ----------------------------------------------------------
async def test_a_small_budget_drops_whole_lines_oldest_first(make_engine):
    engine = await _prepared(make_engine, n=24)
    facts = engine.scope.facts(A)
    notes = engine.store.cell_notes(ex.cell_hash() for ex in facts.view)
    full = prefix.build(facts, notes, 10**6)
    small = prefix.build(facts, notes, 800)
    assert full.dropped == 0 and small.dropped > 0
    size = sum(prefix.approx_tokens(t) for t in (small.facts, small.cells))
    assert size <= 800
    full_lines = set((full.facts + "\n" + full.cells).splitlines())
    assert set((small.facts + "\n" + small.cells).splitlines()) - {""} <= full_lines
    assert "In [24]" in small.cells and "In [1]:" not in small.cells  # newest kept
    assert max(small.whole) == facts.view[-1].id


async def test_cells_left_out_of_the_prefix_follow_the_question(make_engine):
    engine = await _prepared(make_engine, n=24)
    engine.answerer.prefix_tokens = 1200
    system, user = engine.answerer.sleep_prompt(
        A, "Which region has the highest revenue share in step_2?"
    ).messages
    assert "step_2 = " not in system["content"]  # too old for this budget
    assert "step_2 = " in user["content"] and "<notebook>" in user["content"]


# -- the embedded model's saved states ----------------------------------------------------------
def test_prefix_states_are_lru_bounded_in_bytes() -> None:
    states = PrefixStates(max_bytes=100)
    states.put("a", [1], b"x", 40)
    states.put("b", [2], b"x", 40)
    assert states.get("a") is not None  # a is now the most recently used
    states.put("c", [3], b"x", 40)
    assert states.keys() == ["a", "c"] and states.nbytes == 80
    states.put("a", [4], b"x", 50)  # a new state for a replaces the old one
    assert states.keys() == ["c", "a"] and states.get("a").tokens == [4]
    assert not states.put("d", [5], b"x", 101)  # larger than the bound: not kept
    assert states.keys() == ["c", "a"]
    states.resize(60)
    assert states.keys() == ["a"]
    assert states.forget("a") and not states.forget("a")
