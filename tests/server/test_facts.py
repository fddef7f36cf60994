"""Notebook facts on a real server with real kernels: provenance (a rebinding loop, `del`,
`except … as e`), error cards (a near-miss column, a wrong keyword argument), object
summaries (a fitted GridSearchCV, a statsmodels result) and markdown cells — each test
asserts the exact fact, as `GET kernels/{id}` reports it and as a sleep prompt carries it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from ..conftest import ask, get_json, wait_for


@pytest.fixture
def sleeptime_config():
    return {"idle_seconds": 600}  # no thinking runs: facts need no model


async def kernel_state(jp_fetch, kernel_id):
    return await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)


async def run(jp_fetch, kernel, *cells):
    """Run cells one by one, as a user does, each time until the extension has read the
    namespace after it (what makes earlier values visible to the facts)."""
    for cell in cells:
        before = len((await kernel_state(jp_fetch, kernel.kernel_id))["executions"])
        reply = await kernel.execute(cell)

        async def digested(before=before):
            state = await kernel_state(jp_fetch, kernel.kernel_id)
            recorded = len(state["executions"]) > before
            done = recorded and state["executions"][-1]["status"]
            ended = state["executions"][-1]["ended"] if done else None
            at = (state.get("digest") or {}).get("at") or 0
            return state if done and at >= ended else None

        await wait_for(digested, timeout=30)
        assert reply is not None
    return await kernel_state(jp_fetch, kernel.kernel_id)


def fact(state, name):
    return next(f for f in state["facts"]["names"] if f["name"] == name)


async def prompt(jp_fetch, kernel_id, question, mode="sleep"):
    events = await ask(jp_fetch, kernel_id, question, mode, dry_run=True)
    assert events[-1]["type"] == "prompt", events
    # What the answer is built from: a prepared answer, or the messages for the model.
    return events[-1].get("answer") or "\n".join(m["content"] for m in events[-1]["messages"])


async def test_a_loop_rebinding_a_name_keeps_the_earlier_value(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "score = 0.9667\nprint('test accuracy', score)",
        "for fold in range(5):\n    score = fold / 8",
    )
    score = fact(state, "score")
    counts = [ex["execution_count"] for ex in state["executions"]]
    assert score["set_in"] == counts[-1] and score["line"] == 2
    assert score["summary"] == "float = 0.5" and score["defined"] is True
    assert [h["execution_count"] for h in score["history"]] == [counts[-2]]
    assert "0.9667" in score["history"][0]["summary"]
    text = await prompt(jp_fetch, kernel.kernel_id, "What is the value of score now?")
    assert "loop's last iteration" in text and "for fold in range(5)" in text


async def test_del_and_except_as_leave_names_undefined(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "tmp = [1, 2, 3]\ne = [0.5, -0.25]",
        "del tmp",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print(type(e).__name__)",
    )
    tmp, e = fact(state, "tmp"), fact(state, "e")
    assert tmp["defined"] is False and "del tmp" in tmp["removed"]
    assert e["defined"] is False
    assert "except ZeroDivisionError as e" in e["removed"] and "NameError" in e["removed"]
    assert "[0.5, -0.25]" in e["history"][0]["summary"]  # the residuals it held before
    text = await prompt(jp_fetch, kernel.kernel_id, "What is in the variable `e` now?")
    assert "no longer defined" in text and "NameError" in text


async def test_error_card_suggests_the_near_miss_column(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "import pandas as pd\n"
        "army = pd.DataFrame({'deaths': [523, 25], 'deserters': [4, 24]}, index=['AZ', 'TX'])",
        "total = army['deaths'].sum()\nlosses = army[['deaths', 'deserter']]",
    )
    card = state["facts"]["errors"][-1]
    assert card["ename"] == "KeyError" and card["evalue"] == "\"['deserter'] not in index\""
    assert card["line"] == 2 and card["suggestions"][0] == "deserters"
    assert "army[['deaths', 'deserters']]" in card["fix"]
    text = await prompt(jp_fetch, kernel.kernel_id, "Why did the last cell fail?")
    assert "KeyError" in text and "'deserters'" in text


async def test_error_card_reads_the_parameters_of_the_called_function(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "def split(rows, test_size=0.25, train_size=None, shuffle=True):\n    return rows",
        "parts = split([1, 2, 3], test_ratio=0.33)",
    )
    card = state["facts"]["errors"][-1]
    assert card["ename"] == "TypeError" and "test_ratio" in card["evalue"]
    assert card["suggestions"][0] == "test_size"  # from the kernel probe of split's signature
    assert "split([1, 2, 3], test_size=0.33)" in card["fix"]


async def test_fitted_grid_search_and_statsmodels_results_are_summarised(jp_fetch, start_kernel):
    pytest.importorskip("sklearn")
    pytest.importorskip("statsmodels")
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "import numpy as np\n"
        "from sklearn.svm import SVR\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.random((60, 2)); y = X @ np.array([1.0, 2.0])\n"
        "grid = GridSearchCV(SVR(), param_grid={'C': [0.1, 1, 10], 'epsilon': [0.1, 0.5]}, cv=3)\n"
        "grid.fit(X, y)",
        "import statsmodels.api as sm\nols = sm.OLS(y, sm.add_constant(X)).fit()",
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "pipe = make_pipeline(StandardScaler(), SVR()).fit(X, y)\n"
        "unfitted = make_pipeline(StandardScaler(), SVR())",
    )
    grid = fact(state, "grid")["summary"]
    assert "6 candidates × 3 folds = 18 fits" in grid
    assert "best_params_={'C': " in grid and "best_score_=" in grid
    ols = fact(state, "ols")["summary"]
    assert "params=[" in ols and "nobs=60" in ols
    pipe, unfitted = fact(state, "pipe")["summary"], fact(state, "unfitted")["summary"]
    assert pipe.endswith("; fitted") and "('svr', SVR() fitted)" in pipe  # by its last step
    assert unfitted.endswith("; not fitted")


async def test_markdown_cells_reach_the_facts_and_the_prompt(jp_fetch, start_kernel, jp_root_dir):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            "## Cleaning\nRows whose price is missing are dropped before the regression."
        ),
        nbformat.v4.new_code_cell("prices = [3.5, 4.0]"),
    ]
    nbformat.write(notebook, Path(jp_root_dir) / "shop.ipynb")
    kernel = await start_kernel(path="shop.ipynb")
    state = await run(jp_fetch, kernel, "prices = [3.5, 4.0]")
    assert state["facts"]["markdown_cells"] == 1
    text = await prompt(
        jp_fetch, kernel.kernel_id, "What does the notebook say about missing prices?"
    )
    assert "Rows whose price is missing are dropped" in text
    baseline = await prompt(jp_fetch, kernel.kernel_id, "What is prices?", mode="baseline")
    assert "Rows whose price is missing are dropped" in baseline  # peers send markdown too
