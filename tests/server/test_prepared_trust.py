"""Prepared answers on a real server and kernel: a model-written bare number is not served
for a question it does not answer, failure words without an error are not an error
question, and a value card still answers the question it holds."""

from __future__ import annotations

from jupyter_sleeptime.testing.scripted_model import control

from ..conftest import ask, get_json, recorded, think

CELLS = [
    "from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer\n"
    "docs = ['red apple', 'green apple', 'ripe banana', 'green banana']",
    "import numpy as np\nX_wide = np.zeros((10, 42))\nprint('n_features:', X_wide.shape[1])",
    "vec = None",
    "vec = CountVectorizer()",
    "vec = TfidfVectorizer(max_features=5).fit(docs)",
]


async def test_prepared_answers_are_served_only_when_they_answer(jp_fetch, start_kernel):
    # what the model anticipates, from the first idle moment on
    control.overrides["anticipate"] = "Q: How many features are in vec?\nA: 42"
    kernel = await start_kernel()
    for source in CELLS:
        await kernel.execute(source)
    await recorded(jp_fetch, kernel.kernel_id, CELLS[-1])
    await think(jp_fetch, kernel.kernel_id)
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert state["insights"]["anticipated_fresh"]  # the model's "42" is there to be matched
    assert all(item["answer"] != "42" for item in state["insights"]["anticipated"])

    question = "Which kind of object is `vec` now, and which feature names does it produce?"
    done = (await ask(jp_fetch, kernel.kernel_id, question))[-1]
    assert done["type"] == "done" and done["source"] == "model"
    assert done["answer"].strip() != "42"

    question = "What should I do about the method `vec.transform` that fails on some data shapes?"
    done = (await ask(jp_fetch, kernel.kernel_id, question))[-1]
    assert done["source"] == "model" and done["kind"] == "next"

    done = (await ask(jp_fetch, kernel.kernel_id, "What type is vec now?"))[-1]
    assert done["source"] == "anticipated" and "TfidfVectorizer" in done["answer"]
