"""Notebook facts without a server: def-use analysis, provenance joined with digests, error
cards, the memory check, and what a question's prompt is built from."""

from __future__ import annotations

from jupyter_sleeptime.engine.answer.question import classify, mentioned_names
from jupyter_sleeptime.engine.facts.defuse import analyse
from jupyter_sleeptime.engine.facts.docs import passages
from jupyter_sleeptime.engine.facts.memory_check import check_memory
from jupyter_sleeptime.engine.facts.select import rounded_line, rounding_asked
from jupyter_sleeptime.engine.facts.snippets import check_snippet, imported_modules
from jupyter_sleeptime.engine.state.document import parse_document
from jupyter_sleeptime.engine.state.records import Digest, Output

from .notebooks import run_cell

NB = "facts.ipynb"


def digest(**values: tuple[str, str]) -> Digest:
    return Digest(
        variables=[{"name": n, "type": t, "summary": s} for n, (t, s) in values.items()],
        took_ms=1.0,
    )


def traceback(count: int, line: int, ename: str, evalue: str) -> list[str]:
    """What ipykernel sends (colours included)."""
    return [
        "\x1b[0;31m---------------------------------------------------------------\x1b[0m",
        f"\x1b[0;31m{ename}\x1b[0m                     Traceback (most recent call last)",
        f"Cell \x1b[0;32mIn[{count}], line {line}\x1b[0m",
        f"\x1b[1;32m----> {line}\x1b[0m ...",
        f"\x1b[0;31m{ename}\x1b[0m: {evalue}",
    ]


def fail(engine, source, count, line, ename, evalue):
    msg_id = f"fail{count}"
    engine.execution_started("k1", NB, msg_id, count, source)
    engine.add_output(
        "k1",
        msg_id,
        Output(
            "error", ename=ename, evalue=evalue, traceback=traceback(count, line, ename, evalue)
        ),
    )
    engine.execution_finished("k1", NB, msg_id)


# -- def-use ----------------------------------------------------------------------------------
def test_effects_of_loops_comprehensions_del_except_and_in_place_changes():
    cell = analyse(
        "%matplotlib inline\n"
        "total = 0\n"
        "for fold, (a, b) in enumerate(pairs):\n"
        "    total += a\n"
        "squares = [k * k for k in range(3)]\n"
        "df['y'] = df.x * 2\n"
        "df.set_index('y', inplace=True)\n"
        "del tmp\n"
        "try:\n"
        "    risky()\n"
        "except ValueError as err:\n"
        "    print(err)\n"
        "if (n := len(squares)) > 2:\n"
        "    pass\n"
        "df\n"
    )
    assert cell.parsed
    kinds = [(e.name, e.kind, e.line) for e in cell.effects]
    assert ("total", "assign", 2) in kinds and ("total", "augment", 4) in kinds
    assert ("fold", "loop", 3) in kinds and ("a", "loop", 3) and ("b", "loop", 3) in kinds
    assert "k" not in {e.name for e in cell.effects}  # comprehension variables are local
    assert ("df", "mutate", 6) in kinds and ("df", "mutate", 7) in kinds
    assert ("tmp", "delete", 8) in kinds
    assert ("err", "except", 11) in kinds and ("err", "unbind", 12) in kinds
    assert ("n", "assign", 13) in kinds
    loop_total = next(e for e in cell.effects if e.kind == "augment")
    assert loop_total.loop == "for fold, (a, b) in enumerate(pairs)"
    assert cell.last_expression == "df"
    assert cell.reads["pairs"] == (3,) and "k" in cell.reads


def test_a_cell_magic_is_opaque_and_a_syntax_error_does_not_raise():
    assert not analyse("%%bash\necho hi").parsed
    assert not analyse("x = (1,\n").parsed


# -- provenance -------------------------------------------------------------------------------
async def test_provenance_keeps_earlier_values_from_digests_outputs_and_literals(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "n_samples = 200", count=1)
    run_cell(engine, NB, "score = clf.score(X_test, y_test)\nprint(score)", "0.9667\n", count=2)
    engine.record_digest("k1", NB, digest(score=("float", "0.9667"), n_samples=("int", "200")))
    run_cell(engine, NB, "for train, test in kf.split(X):\n    score = fit(train, test)", count=3)
    engine.record_digest("k1", NB, digest(score=("float", "0.8333"), n_samples=("int", "200")))
    facts = engine.scope.facts(NB)
    score = facts.names["score"]
    assert score.set_in == 3 and score.line == 2 and score.summary == "float = 0.8333"
    assert score.history() == [
        {
            "execution_count": 2,
            "summary": "float = 0.9667",
            "source": "score = clf.score(X_test, y_test)",
        }
    ]
    assert facts.names["n_samples"].bindings[0].value == "int = 200"  # the digest saw it
    text = facts.name_text("score")
    assert "loop's last iteration" in text and "[2] `score = clf.score(X_test, y_test)`" in text


async def test_values_not_observed_during_run_all_are_said_to_be_unknown(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "data = load()", count=1)
    run_cell(engine, NB, "data = data[data.ok == 1]", count=2)
    engine.record_digest("k1", NB, digest(data=("pandas.DataFrame", "45 rows × 3 columns")))
    fact = engine.scope.facts(NB).names["data"]
    assert fact.history()[0]["summary"] == "value not observed"
    assert "value not observed" not in engine.scope.facts(NB).name_text("data")


async def test_a_failed_cell_binds_only_what_ran_before_the_failing_line(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "score = 0.5", count=1)
    fail(engine, "ready = True\nscore = clf.score(X_test, y_train)", 2, 2, "ValueError", "bad")
    facts = engine.scope.facts(NB)
    assert facts.names["score"].set_in == 1 and facts.names["ready"].set_in == 2


async def test_a_name_the_digest_no_longer_has_is_not_defined(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "a = 1\nb = 2", count=1)
    engine.record_digest("k1", NB, digest(b=("int", "2")))
    facts = engine.scope.facts(NB)
    assert facts.names["a"].defined is False and "not in the kernel now" in facts.names["a"].removed
    assert facts.names["b"].defined is True


# -- error cards ------------------------------------------------------------------------------
async def test_error_card_for_a_misspelt_attribute_names_the_column(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "data = heart()", count=1)
    fail(
        engine,
        "data = data[data.censor == 1]",
        2,
        1,
        "AttributeError",
        "'DataFrame' object has no attribute 'censor'",
    )
    engine.record_digest(
        "k1",
        NB,
        Digest(
            variables=[
                {
                    "name": "data",
                    "type": "pandas.DataFrame",
                    "summary": "69 rows × 3 columns",
                    "shape": [69, 3],
                    "columns": [{"name": "survival"}, {"name": "censors"}, {"name": "age"}],
                }
            ],
            took_ms=1.0,
        ),
    )
    card = engine.scope.facts(NB).card_for()
    assert card.ename == "AttributeError" and card.suggestions == ["censors"]
    assert "data.censors" in card.fix and card.line == 1
    text = card.render()
    assert "AttributeError" in text and "'DataFrame' object has no attribute 'censor'" in text


async def test_error_card_for_inconsistent_samples_points_at_the_sibling_array(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "X_train, X_test, y_train, y_test = split(X, y)", count=1)
    fail(
        engine,
        "clf.score(X_test, y_train)",
        2,
        1,
        "ValueError",
        "Found input variables with inconsistent numbers of samples: [30, 120]",
    )
    shapes = {"X_train": [120, 4], "X_test": [30, 4], "y_train": [120], "y_test": [30]}
    engine.record_digest(
        "k1",
        NB,
        Digest(
            variables=[
                {"name": n, "type": "numpy.ndarray", "summary": f"shape {tuple(s)}", "shape": s}
                for n, s in shapes.items()
            ],
            took_ms=1.0,
        ),
    )
    card = engine.scope.facts(NB).card_for()
    assert "`X_test` has 30 rows" in card.cause and "`y_train` has 120 rows" in card.cause
    assert "y_test" in card.suggestions and "`y_test` (30 rows) instead of `y_train`" in card.fix


# -- the memory never contradicts the facts ----------------------------------------------------
async def test_memory_lines_that_contradict_a_fact_are_dropped(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "score = clf.score(X_test, y_test)", count=1)
    run_cell(engine, NB, "for a, b in folds:\n    score = fit(a, b)", count=2)
    engine.record_digest("k1", NB, digest(score=("float", "0.8333333333333334")))
    memory = (
        "Purpose: classify iris flowers.\n"
        "- `score` is the test-set accuracy, 0.9667.\n"
        "- `score` is now 0.83, from the last fold.\n"
        "- The data has 150 rows."
    )
    kept, dropped = check_memory(memory, engine.scope.facts(NB))
    assert dropped == ["- `score` is the test-set accuracy, 0.9667.", "- The data has 150 rows."]
    assert "0.83" in kept and "Purpose" in kept


# -- questions ---------------------------------------------------------------------------------
def test_question_kinds_and_names():
    assert classify("Why did the last cell fail?") == "error"
    assert classify("Running grid.predict(x) gives a UserWarning. What does it mean?") == "error"
    assert classify("What should I do next to evaluate this properly?") == "next"
    assert classify("Why does st.expon.fit return (1.0, 222.29)?") == "explain"
    assert classify("What are the shapes of X_train and X_test?") == "state"
    known = ["data", "a", "X_train", "score", "in"]
    assert mentioned_names("Is `a` in data, and what is X_train's score?", known) == [
        "a",
        "data",
        "X_train",
        "score",
    ]
    # A one-letter name that starts a hyphenated word is prose, unless written as code.
    assert mentioned_names("What p-value does the t-test on x give?", ["p", "t", "x"]) == ["x"]
    assert mentioned_names("Is the p-value in `p` right?", ["p"]) == ["p"]


def test_rounding_as_asked():
    assert rounding_asked("values of smean and rate (3 significant figures)?") == ("sig", 3)
    assert rounding_asked("Give 2 decimals.") == ("dec", 2)
    line = rounded_line("numpy.float64 = 0.004478503184713376; 223.2888", ("sig", 3))
    assert line.endswith("0.00448, 223")
    fitted = "HuberRegressor(); fitted: n_iter_=13, scale_=3.2392, coef_=[17.7906, 31.0107]"
    line = rounded_line(fitted, ("dec", 2))  # each attribute's numbers under its own name
    assert line.endswith("rounded to 2 decimals: scale_=3.24, coef_=[17.79, 31.01]")


async def test_the_prompt_picks_the_cell_whose_output_answers(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "grid = GridSearchCV(model, param_grid=params, cv=5)", count=1)
    run_cell(
        engine,
        NB,
        "grid.fit(X_train, y_train)",
        "Fitting 5 folds for each of 28 candidates, totalling 140 fits\n",
        count=2,
    )
    run_cell(engine, NB, "best = grid.best_estimator_", count=3)
    prompt = engine.answerer.sleep_prompt(NB, "How many models did the grid search fit?")
    assert "totalling 140 fits" in "\n".join(m["content"] for m in prompt.messages)
    assert prompt.kind == "state" and prompt.max_tokens <= 160


def test_docstring_passages_for_a_function_the_question_names():
    doc = (
        "Evaluate a score by cross-validation.\n\n"
        "Parameters\n----------\n"
        "estimator : estimator object\n    The object to use to fit the data.\n"
        "cv : int, cross-validation generator or an iterable, default=None\n"
        "    Determines the cross-validation splitting strategy. For int/None inputs, if the\n"
        "    estimator is a classifier and y is binary or multiclass, StratifiedKFold is used.\n"
    )
    found = passages(
        {"cross_val_score": doc, "print_table": "Print a table."},
        "Why do my KFold folds look worse than `cross_val_score(clf, X, y, cv=5)`?",
    )
    assert found and found[0][0] == "cross_val_score" and "StratifiedKFold" in found[0][1]


# -- the document --------------------------------------------------------------------------------
async def test_skipped_cells_hide_their_names_and_values(make_engine):
    content = {
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": "token = 'abc123secret'",
                "metadata": {"tags": ["sleeptime-skip"]},
            },
            {"cell_type": "markdown", "source": "## Results", "metadata": {}},
            {"cell_type": "code", "source": "shown = 1", "metadata": {}},
        ],
    }
    document = parse_document(content)
    assert document.policy.skip_names == frozenset({"token"})
    assert [c.source for c in document.markdown] == ["## Results"]
    engine = make_engine(idle_seconds=600)
    engine.set_document(NB, content)
    run_cell(engine, NB, "token = 'abc123secret'", count=1)
    run_cell(engine, NB, "shown = 1", count=2)
    engine.record_digest("k1", NB, digest(token=("str", "'abc123secret'"), shown=("int", "1")))
    assert [v["name"] for v in engine.scope.digest(NB).variables] == ["shown"]
    assert "token" not in engine.scope.facts(NB).names
    assert "abc123secret" in engine.scope.hidden_values(NB)


async def test_facts_that_cannot_be_computed_do_not_stop_answers(make_engine, monkeypatch):
    """A cell the analysis trips on (a bug of ours) leaves the facts empty, not the user
    without answers or the REST view without a state."""
    from jupyter_sleeptime.engine.state import scope

    def broken(*args, **kwargs):
        raise RecursionError("a cell too deep to analyse")

    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "total = 41 + 1\nprint(total)", "42\n", count=1)
    monkeypatch.setattr(scope, "build_facts", broken)
    facts = engine.scope.facts(NB)
    assert facts.names == {} and len(facts.view) == 1
    assert engine.answerer.prepared_list(NB) == []
    answer = await engine.ask(NB, "What is total?", "sleep")
    assert answer.source == "model" and "total" in answer.answer
    messages = engine.answerer.sleep_prompt(NB, "What is total?").messages
    sent = "\n".join(m["content"] for m in messages)
    assert "Out [1]:\n42" in sent  # the cells still reach the model


async def test_an_error_the_user_describes_gets_a_card_from_the_same_rules(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "clf = Tree(max_depth=3)\nclf.fit(X_train, y_train)", count=1)
    run_cell(engine, NB, "clf = Tree()\nscores = cross_validate(clf, X, y)", count=2)
    engine.record_digest(
        "k1",
        NB,
        Digest(
            variables=[
                {"name": "clf", "type": "sklearn.tree.Tree", "summary": "Tree(); not fitted"},
                {"name": "X_test", "type": "numpy.ndarray", "summary": "", "shape": [30, 4]},
                {
                    "name": "army",
                    "type": "pandas.DataFrame",
                    "summary": "12 rows × 2 columns",
                    "shape": [12, 2],
                    "columns": [{"name": "deaths"}, {"name": "size"}],
                    "index": "Index(dtype=str) name='origin'",
                },
            ],
            took_ms=1.0,
        ),
    )
    question = "I ran `clf.predict(X_test)` and got NotFittedError. Why?"
    text = engine.answerer.sleep_prompt(NB, question).messages[1]["content"]
    assert "`clf.predict(X_test)` raising NotFittedError (as you describe it)" in text
    assert "`clf = Tree()` in [2]" in text and "cross_validate(clf, X, y)" in text
    question = "Why does `army.loc[['TX'], 'origin']` raise `KeyError: 'origin'`?"
    text = engine.answerer.sleep_prompt(NB, question).messages[1]["content"]
    assert "'origin' is the name of the index of `army`" in text


def test_memory_lines_that_echo_the_instructions_are_dropped():
    from jupyter_sleeptime.engine import prompts
    from jupyter_sleeptime.engine.facts.memory_check import drop_echoes

    instructions = prompts.render("rewrite_memory", mode="", max_words="")
    memory = (
        "Purpose: classify iris flowers with a decision tree.\n"
        "**Do not write numbers, counts, scores or values: they are kept exactly elsewhere.**\n"
        "Pipeline: [3] loads `df`; [9] fits `clf`."
    )
    assert drop_echoes(memory, instructions) == (
        "Purpose: classify iris flowers with a decision tree.\nPipeline: [3] loads `df`; [9] fits `clf`."
    )


async def test_memory_is_checked_sentence_by_sentence_and_words_are_not_variables(make_engine):
    engine = make_engine(idle_seconds=600)
    engine.set_document(
        NB,
        {
            "metadata": {},
            "cells": [
                {
                    "cell_type": "markdown",
                    "source": "178 wines from three cultivars.",
                    "metadata": {},
                },
                {"cell_type": "code", "source": "wine = load_wine()", "metadata": {}},
            ],
        },
    )
    run_cell(engine, NB, "wine = load_wine()", count=1)
    run_cell(engine, NB, "score = 0.5", count=2)
    engine.record_digest(
        "k1", NB, digest(wine=("sklearn.utils.Bunch", "Bunch"), score=("float", "0.5"))
    )
    memory = "The wine data has 178 samples. `score` is 0.97 on the test set. It uses a pipeline."
    kept, dropped = check_memory(memory, engine.scope.facts(NB))
    assert kept == "The wine data has 178 samples. It uses a pipeline."
    assert dropped == ["`score` is 0.97 on the test set."]


# -- what ML notebooks are asked about --------------------------------------------------------
def var(name: str, kind: str, shape=None, columns=(), **extra) -> dict:
    record = {"name": name, "type": kind, "summary": f"{kind} {shape}", **extra}
    if shape is not None:
        record["shape"] = list(shape)
    if columns:
        record["columns"] = [{"name": c, "dtype": "float64"} for c in columns]
    return record


def snapshot(*variables: dict) -> Digest:
    return Digest(variables=list(variables), took_ms=1.0)


def test_fit_calls_and_printed_statements_are_found_in_a_cell():
    cell = analyse(
        "clf.fit(X_train_t, y_train)\n"
        "Xt = scaler.fit_transform(X)\n"
        "model = LogisticRegression(C=2).fit(X=Xs, y=ys)\n"
        "for m in models:\n    m.fit(X, y)\n"
        "print('acc', acc)\n"
        "pca.explained_variance_ratio_"
    )
    fits = [(f.estimator, f.method, f.args, f.line) for f in cell.fits]
    assert fits == [
        ("clf", "fit", ("X_train_t", "y_train"), 1),
        ("scaler", "fit_transform", ("X",), 2),
        ("model", "fit", ("Xs", "ys"), 3),
    ]  # a fit inside a loop fits many things: not recorded
    shown = [(s.kind, s.names, s.line) for s in cell.shown]
    assert shown == [("print", ("acc",), 6), ("result", ("pca",), 7)]


async def test_feature_count_error_names_what_the_model_was_fitted_on(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "X_train_t = poly.fit_transform(X_train)", count=1)
    engine.record_digest(
        "k1",
        NB,
        snapshot(
            var("X_train_t", "numpy.ndarray", (80, 12)), var("X_test", "numpy.ndarray", (20, 5))
        ),
    )
    run_cell(engine, NB, "clf = LogisticRegression()\nclf.fit(X_train_t, y_train)", count=2)
    engine.record_digest("k1", NB, snapshot(var("clf", "sklearn.linear_model.LogisticRegression")))
    message = "X has 5 features, but LogisticRegression is expecting 12 features as input."
    fail(engine, "pred = clf.predict(X_test)", 3, 1, "ValueError", message)
    engine.record_digest(
        "k1",
        NB,
        snapshot(
            var("clf", "sklearn.linear_model.LogisticRegression"),
            var("X_train_t", "numpy.ndarray", (80, 12)),
            var("X_test", "numpy.ndarray", (20, 5)),
        ),
    )
    facts = engine.scope.facts(NB)
    fit = facts.names["clf"].fit
    assert fit is not None and fit.execution_count == 2
    public = fit.to_public()
    assert public["call"] == "clf.fit(X_train_t, y_train)"
    assert public["args"][0] == {
        "arg": "X_train_t",
        "set_in": 1,
        "source": "X_train_t = poly.fit_transform(X_train)",
        "type": "numpy.ndarray",
        "shape": [80, 12],
    }
    card = facts.card_for(3)
    assert "`clf` was fitted on `X_train_t` (shape (80, 12))" in card.cause
    assert "in [2]" in card.cause and "`X_test` has shape (20, 5)" in card.cause
    assert "poly.transform(X_test)" in card.fix
    assert "fitted on: `X_train_t` (ndarray, shape (80, 12))" in facts.name_text("clf")


async def test_empty_frame_error_names_the_cell_that_emptied_it(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(engine, NB, "df = load()", count=1)
    engine.record_digest(
        "k1", NB, snapshot(var("df", "pandas.DataFrame", (150, 4), "abcd", missing={"c": 150}))
    )
    run_cell(engine, NB, "df = df[['a', 'b', 'c']].dropna()", count=2)
    engine.record_digest(
        "k1", NB, snapshot(var("df", "pandas.DataFrame", (0, 3), "abc", missing={}))
    )
    run_cell(engine, NB, "X = df[['a', 'b']]", count=3)
    engine.record_digest(
        "k1",
        NB,
        snapshot(
            var("df", "pandas.DataFrame", (0, 3), "abc"), var("X", "pandas.DataFrame", (0, 2), "ab")
        ),
    )
    message = "Found array with 0 sample(s) (shape=(0, 2)) while a minimum of 1 is required."
    fail(engine, "model.fit(X, y)", 4, 1, "ValueError", message)
    card = engine.scope.facts(NB).card_for(4)
    assert "`X` has 0 rows: it comes from `df`, which was emptied in [2]" in card.cause
    assert "(it had 150 rows before)" in card.cause and "'c'" in card.cause
    assert "dropna" in card.fix
    df_history = engine.scope.facts(NB).names["df"].shape_history()
    assert [(h["execution_count"], h["shape"]) for h in df_history] == [(1, [150, 4]), (2, [0, 3])]


async def test_type_history_and_printed_values_of_a_refitted_name(make_engine):
    engine = make_engine(idle_seconds=600)
    run_cell(
        engine,
        NB,
        "pca = PCA(n_components=2).fit(X)\nprint(pca.explained_variance_ratio_)",
        "[0.72 0.23]\n",
        count=1,
    )
    engine.record_digest("k1", NB, snapshot(var("pca", "sklearn.decomposition.PCA")))
    run_cell(
        engine,
        NB,
        "pca = PCA(n_components=3).fit(X)\nprint(pca.explained_variance_ratio_)",
        "[0.72 0.23 0.04]\n",
        count=2,
    )
    engine.record_digest("k1", NB, snapshot(var("pca", "sklearn.decomposition.PCA")))
    run_cell(engine, NB, "features = df", count=3)
    engine.record_digest("k1", NB, snapshot(var("features", "pandas.DataFrame", (5, 2))))
    run_cell(engine, NB, "features = features.to_numpy()", count=4)
    engine.record_digest("k1", NB, snapshot(var("features", "numpy.ndarray", (5, 2))))
    facts = engine.scope.facts(NB)
    printed = [(p.execution_count, p.output) for p in facts.names["pca"].printed]
    assert printed == [(1, "[0.72 0.23]"), (2, "[0.72 0.23 0.04]")]
    text = facts.name_text("pca")
    assert (
        "[1] `print(pca.explained_variance_ratio_)` printed [0.72 0.23] — with `pca` as in [1]"
        in text
    )
    assert "(an earlier version: `pca` was set or changed again after it)" in text
    assert (
        "printed [0.72 0.23 0.04] — with `pca` as in [2]" in text
        and "(the current version)" in text
    )
    types = [(t["execution_count"], t["type"]) for t in facts.names["features"].type_history()]
    assert types == [(3, "pandas.DataFrame"), (4, "numpy.ndarray")]
    assert "type history: [3] pandas.DataFrame" in facts.name_text("features")


def test_a_snippet_is_kept_only_when_it_would_run():
    defined = {"X", "y", "df"}
    importable = {"sklearn": True, "seaborn": False}
    assert imported_modules("import seaborn as sns\nfrom sklearn.svm import SVC") == [
        "seaborn",
        "sklearn",
    ]
    assert (
        "seaborn"
        in check_snippet("import seaborn as sns\nsns.pairplot(df)", defined, importable).reason
    )
    assert "grid_search" in check_snippet("grid_search.best_params_", defined, importable).reason
    assert not check_snippet("x = x + 1", defined, importable).ok
    assert "compile" in check_snippet("print(df.head(", defined, importable).reason
    ok = check_snippet(
        "%matplotlib inline\nfrom sklearn.svm import SVC\nm = SVC().fit(X, y)\n"
        "cols = [c for c in df.columns if c != 'y']\nfor i in range(2): print(i, m, len(cols))",
        defined,
        importable,
    )
    assert ok.ok, ok.reason
