"""Facts that ML notebooks are asked about, on a real server with real kernels running
scikit-learn: what a model was fitted on (and the feature-count error it explains), the
cell that emptied a frame, fitted attributes, missing values, type history, values a cell
printed before the name was fitted again — and next steps that would run if inserted."""

from __future__ import annotations

import pytest

from jupyter_sleeptime.testing.scripted_model import control

from ..conftest import think
from .test_facts import fact, kernel_state, prompt, run


@pytest.fixture
def sleeptime_config():
    return {"idle_seconds": 600}  # thinking runs only when a test asks for it


async def test_feature_count_error_names_what_the_model_was_fitted_on(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.preprocessing import PolynomialFeatures\n"
        "rng = np.random.default_rng(0)\n"
        "X_train = rng.normal(size=(40, 4))\n"
        "y_train = (X_train[:, 0] > 0).astype(int)\n"
        "X_test = rng.normal(size=(10, 4))",
        "poly = PolynomialFeatures(2)\nX_train_t = poly.fit_transform(X_train)",
        "clf = LogisticRegression(max_iter=500)\nclf.fit(X_train_t, y_train)",
        "pred = clf.predict(X_test)",
    )
    counts = [ex["execution_count"] for ex in state["executions"]][-4:]  # the cells above
    fitted_on = fact(state, "clf")["fitted_on"]
    assert fitted_on["execution_count"] == counts[2]
    assert fitted_on["call"] == "clf.fit(X_train_t, y_train)"
    assert fitted_on["args"][0]["arg"] == "X_train_t"
    assert fitted_on["args"][0]["shape"] == [40, 15]
    assert fitted_on["args"][0]["set_in"] == counts[1]
    assert fact(state, "poly")["fitted_on"]["args"][0]["shape"] == [40, 4]

    card = state["facts"]["errors"][-1]
    assert card["ename"] == "ValueError" and "15 features" in card["evalue"]
    assert "`clf` was fitted on `X_train_t` (shape (40, 15))" in card["cause"]
    assert f"in [{counts[2]}]" in card["cause"] and "`X_test` has shape (10, 4)" in card["cause"]
    assert "poly.transform(X_test)" in card["fix"]

    text = await prompt(jp_fetch, kernel.kernel_id, "Why does clf.predict(X_test) fail?")
    assert "`clf` was fitted on `X_train_t` (shape (40, 15))" in text


async def test_an_empty_frame_error_names_the_cell_that_emptied_it(jp_fetch, start_kernel):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "import numpy as np, pandas as pd\n"
        "from sklearn.linear_model import LinearRegression\n"
        "raw = pd.DataFrame({'age': [25, 32, np.nan, 41, 38], 'income': [40, 52, 61, np.nan, 58],\n"
        "                    'notes': [np.nan] * 5, 'y': [1.0, 2.0, 3.0, 4.0, 5.0]})",
        "clean = raw[['age', 'income', 'notes', 'y']].dropna()",
        "X = clean[['age', 'income']]",
        "LinearRegression().fit(X, clean['y'])",
    )
    counts = [ex["execution_count"] for ex in state["executions"]][-4:]
    assert fact(state, "raw")["missing"] == {"age": 1, "income": 1, "notes": 5}
    card = state["facts"]["errors"][-1]
    assert card["ename"] == "ValueError" and "0 sample" in card["evalue"]
    assert (
        f"`X` has 0 rows: it comes from `clean`, which was emptied in [{counts[1]}] by "
        "`clean = raw[['age', 'income', 'notes', 'y']].dropna()` (`raw` had 5 rows before)"
    ) in card["cause"]
    assert "'notes' were entirely missing" in card["cause"]
    assert "dropna(subset=" in card["fix"]


async def test_fitted_attributes_missing_values_type_history_and_printed_values(
    jp_fetch, start_kernel
):
    kernel = await start_kernel()
    state = await run(
        jp_fetch,
        kernel,
        "import numpy as np, pandas as pd\n"
        "from sklearn.impute import SimpleImputer\n"
        "from sklearn.feature_extraction.text import CountVectorizer\n"
        "from sklearn.decomposition import PCA\n"
        "from sklearn.linear_model import LogisticRegression",
        "data = pd.DataFrame({'h': [1.0, np.nan, 3.0, 5.0], 'w': [np.nan, np.nan, 2.0, 6.0],\n"
        "                     'k': [0.5, 1.5, 1.0, 3.0]})\n"
        "grid = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0]])",
        "imputer = SimpleImputer(strategy='mean').fit(data)",
        "vec = CountVectorizer().fit(['red apple', 'green apple', 'red pear'])",
        "labels = LogisticRegression().fit(np.arange(6).reshape(-1, 1), ['no'] * 3 + ['yes'] * 3)",
        "features = data",
        "features = imputer.transform(features)",
        "pca = PCA(n_components=1).fit(features)\nprint(pca.explained_variance_ratio_.round(4))",
        "pca = PCA(n_components=2).fit(features)\nprint(pca.explained_variance_ratio_.round(4))",
    )
    counts = [ex["execution_count"] for ex in state["executions"]][-9:]
    imputer = fact(state, "imputer")["fitted"]
    assert imputer["statistics_"] == [3.0, 4.0, 1.5]
    assert imputer["feature_names_in_"] == ["h", "w", "k"]
    assert fact(state, "vec")["fitted"]["vocabulary_"] == ["apple", "green", "pear", "red"]
    assert fact(state, "labels")["fitted"]["classes_"] == ["no", "yes"]
    assert fact(state, "data")["missing"] == {"h": 1, "w": 2}
    assert fact(state, "grid")["missing"] == 3

    types = fact(state, "features")["type_history"]
    assert [(t["execution_count"], t["type"]) for t in types] == [
        (counts[5], "pandas.DataFrame"),
        (counts[6], "numpy.ndarray"),
    ]

    pca = fact(state, "pca")
    first, second = pca["printed"]
    assert first["execution_count"] == counts[7] and second["execution_count"] == counts[8]
    assert first["output"].startswith("[") and len(first["output"].split()) == 1
    assert len(second["output"].split()) == 2  # two components this time
    assert first["versions"]["pca"]["execution_count"] == counts[7]
    assert (
        pca["fitted"]["n_components_"] == 2 and len(pca["fitted"]["explained_variance_ratio_"]) == 2
    )

    text = await prompt(
        jp_fetch, kernel.kernel_id, "What did pca print when it had one component, and now?"
    )
    assert (
        f"[{counts[7]}] `print(pca.explained_variance_ratio_.round(4))` printed {first['output']}"
        in text
    )
    assert "(an earlier version: `pca` was set or changed again after it)" in text
    assert f"printed {second['output']} — with `pca` as in [{counts[8]}]" in text
    assert "(the current version)" in text
    text = await prompt(jp_fetch, kernel.kernel_id, "What are the statistics of imputer and vec?")
    assert "statistics_=[3.0, 4.0, 1.5]" in text and "'apple', 'green', 'pear', 'red'" in text
    text = await prompt(jp_fetch, kernel.kernel_id, "What type is features?")
    assert "type history:" in text and "pandas.DataFrame" in text and "numpy.ndarray" in text


SUGGESTIONS = """### Plot the pairs
```python
import nonexistent_plotting_lib_xyz as npl
npl.pairplot(frame)
```

### Best parameters
```python
print(grid_search.best_params_)
```

### Tune the regularisation
```python
import json
from sklearn.model_selection import GridSearchCV
grid_search = GridSearchCV(model, {'C': [0.1, 1.0]}, cv=3).fit(X, y)
print(json.dumps(grid_search.best_params_))
```
"""


async def test_next_steps_that_would_not_run_are_dropped(jp_fetch, start_kernel, service):
    kernel = await start_kernel()
    await run(
        jp_fetch,
        kernel,
        "import numpy as np, pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X = np.random.default_rng(1).normal(size=(30, 3))\n"
        "y = (X[:, 0] > 0).astype(int)\n"
        "frame = pd.DataFrame(X, columns=['a', 'b', 'c'])\n"
        "model = LogisticRegression()",
    )
    control.overrides["next_steps"] = SUGGESTIONS
    result = await think(jp_fetch, kernel.kernel_id)
    assert "next_steps" in result["ran"]
    state = await kernel_state(jp_fetch, kernel.kernel_id)
    steps = state["insights"]["next_steps"]
    # json is not imported by the notebook: only the kernel's own answer makes it importable.
    assert [s["title"] for s in steps] == ["Tune the regularisation"]
    assert sum(1 for c in control.calls if c["task"] == "next_steps") == 1  # no second try
    saved, _ = service.engine.store.insight(service.notebook_for(kernel.kernel_id), "next_steps")
    dropped = {d["title"]: d["reason"] for d in saved["dropped"]}
    assert (
        "`nonexistent_plotting_lib_xyz`, which the kernel cannot import"
        in dropped["Plot the pairs"]
    )
    assert "`grid_search`, which is not defined" in dropped["Best parameters"]
