"""A prepared answer is served only when it answers the question: every part covered, and a
model-written answer's claims found in the facts of the names it is about. A question is an
error question only when the notebook holds an error it can be about."""

from __future__ import annotations

from jupyter_sleeptime.engine.state.records import Digest
from jupyter_sleeptime.testing.scripted_model import control

from .notebooks import run_cell

NB = "text_features.ipynb"

# A name bound four times; the notebook prints a 42 about another name.
CELLS = [
    ("docs = ['red apple', 'green apple', 'ripe banana']\nX_wide = make_wide()", ""),
    ("print('n_features:', X_wide.shape[1])", "n_features: 42\n"),
    ("vec = None", ""),
    ("vec = CountVectorizer()", ""),
    ("vec = TfidfVectorizer(max_features=5)\nvec.fit(docs)", ""),
    ("table = load_table()\nprint(table.shape)", "(120, 4)\n"),
]


def digest() -> Digest:
    variables = [
        {"name": "docs", "type": "list", "summary": "list = 3 items"},
        {"name": "X_wide", "type": "numpy.ndarray", "summary": "shape (10, 42), float64"},
        {
            "name": "vec",
            "type": "sklearn.feature_extraction.text.TfidfVectorizer",
            "summary": "TfidfVectorizer(max_features=5); fitted",
        },
        {
            "name": "table",
            "type": "pandas.DataFrame",
            "summary": "120 rows × 4 columns; columns: a (int64), b (int64), c (float64), d (str)",
        },
    ]
    return Digest(variables=variables, took_ms=2.0, total=len(variables))


async def studied(make_engine, anticipated: str):
    """The notebook run, its variables read, and a thinking run whose anticipated Q&A is
    `anticipated` (what the model wrote)."""
    engine = make_engine()
    for count, (source, text) in enumerate(CELLS, start=1):
        run_cell(engine, NB, source, text, count=count)
    engine.record_digest("k1", NB, digest())
    control.overrides["anticipate"] = anticipated
    result = await engine.think(NB)
    assert result["ok"], result
    return engine


async def test_a_bare_count_is_never_served_for_a_question_about_kind_and_feature_names(
    make_engine,
):
    engine = await studied(make_engine, "Q: How many features are in vec?\nA: 42")
    question = "Which kind of object is `vec` now, and which feature names does it produce?"
    answer = await engine.ask(NB, question)
    assert answer.source == "model" and answer.answer.strip() != "42"
    # nor for the count it claims to answer: 42 is in the notebook, but not in vec's facts
    assert (await engine.ask(NB, "How many features are in vec?")).source == "model"
    assert (await engine.ask(NB, "What is vec?")).answer.strip() != "42"
    # and never offered as a question to click
    assert all(item["answer"] != "42" for item in engine.answerer.prepared_list(NB))


async def test_a_backed_anticipated_answer_and_the_value_cards_still_serve(make_engine):
    engine = await studied(
        make_engine,
        "Q: How many rows does table have?\nA: `table` has 120 rows.\n"
        "Q: How many features are in vec?\nA: 42",
    )
    control.calls.clear()
    counted = await engine.ask(NB, "how many rows are in table?")
    assert counted.source == "anticipated" and "120" in counted.answer
    shaped = await engine.ask(NB, "What is the shape of `table`?")
    assert shaped.source == "anticipated" and "120 rows" in shaped.answer
    typed = await engine.ask(NB, "What type is vec now?")
    assert typed.source == "anticipated" and "TfidfVectorizer" in typed.answer
    assert control.calls == []  # all three without a model call
    # a two-part question whose second part no card holds: the model answers
    both = await engine.ask(NB, "What type is vec now, and how was it fitted?")
    assert both.source == "model"


async def test_failure_words_without_an_error_in_the_notebook_are_not_an_error_question(
    make_engine,
):
    engine = await studied(make_engine, "Q: Why did the last cell fail?\nA: A ValueError.")
    question = "What should I do about the method `vec.fit` that fails on some data shapes?"
    prompt = engine.answerer.sleep_prompt(NB, question)
    assert prompt.kind == "next"
    answer = await engine.ask(NB, question)
    assert answer.source == "model" and answer.kind == "next"
    sent = control.calls[-1]["messages"][-1]["content"]
    assert "error card" not in sent.lower() and "Traceback" not in sent
    why = await engine.ask(NB, "why does vec fail on some inputs?")
    assert why.kind == "explain" and why.source == "model"
    # the user names an exception they got: that is an error question, recorded or not
    named = engine.answerer.sleep_prompt(NB, "I got a NotFittedError from vec. Why?")
    assert named.kind == "error"


async def test_with_an_error_in_the_notebook_the_same_words_are_an_error_question(make_engine):
    engine = await studied(make_engine, "Q: What is table?\nA: A table.")
    run_cell(engine, NB, "vec.transform(table)", error=("ValueError", "bad shape"), count=7)
    question = "What should I do about the method `vec.transform` that fails on some data shapes?"
    assert engine.answerer.sleep_prompt(NB, question).kind == "error"
