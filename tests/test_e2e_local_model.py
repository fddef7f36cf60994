"""End to end with the embedded local model for real: nothing configured, idle alone.

The model is loaded once per test session (the provider keeps it process-wide) and needs
both cores; these tests are marked `local_model` (deselect with `-m "not local_model"`)."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import get_json, wait_for

pytestmark = [pytest.mark.local_model, pytest.mark.timeout(1500)]

ANALYSIS = [
    "import pandas as pd\nimport numpy as np\nrng = np.random.default_rng(0)\n"
    "orders = pd.DataFrame({'region': rng.choice(['north', 'south', 'east'], 1000),\n"
    "                       'units': rng.integers(1, 20, 1000),\n"
    "                       'price': rng.uniform(5, 50, 1000).round(2)})\norders.head()",
    "orders['revenue'] = orders.units * orders.price\n"
    "by_region = orders.groupby('region')['revenue'].sum().round(1)\nby_region",
    "top = by_region.idxmax()\nprint('top region:', top)",
    "orders['discount'].mean()",  # fails: there is no discount column
]


@pytest.fixture
def sleeptime_config():
    # Nothing about the model is configured: the embedded default must be used.
    return {"model": "", "idle_seconds": 2}


async def test_idle_thinking_with_the_embedded_model(jp_fetch, start_kernel, capsys):
    kernel = await start_kernel(path="orders.ipynb")
    for source in ANALYSIS:
        await kernel.execute(source)
    started = time.monotonic()

    async def finished():
        state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
        run = state["last_run"]
        if state["thinking"] or state["pending"] or not run:
            return None
        return state

    state = await wait_for(finished, timeout=1400, interval=2)
    seconds = time.monotonic() - started
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    assert status["model"].startswith("sleeptime-local/")
    insights = state["insights"]
    with capsys.disabled():
        print(
            f"\nidle thinking with {status['model']}: {seconds:.0f} s, usage {state['usage']['sleep']}"
        )
        print("memory:\n" + state["memory"]["text"])
        print(json.dumps(insights, indent=1)[:4000])
    assert state["last_run"]["ok"], state["last_run"]
    assert "orders" in state["memory"]["text"]
    assert len(insights["cells"]) >= 3
    assert len(insights["anticipated"]) >= 3
    assert (
        insights["errors"]
        and insights["errors"][0]["execution_count"] == state["executions"][-1]["execution_count"]
    )
    assert "discount" in insights["errors"][0]["diagnosis"].lower()
    assert insights["next_steps"] and insights["next_steps"][0]["code"]

    # Query time on the same state: a question nobody anticipated, answered from c′ + digest.
    response = await jp_fetch(
        "sleeptime",
        "api",
        "kernels",
        kernel.kernel_id,
        "ask",
        method="POST",
        body=json.dumps({"question": "How many rows does orders have?"}),
        request_timeout=600,
    )
    events = [json.loads(line) for line in response.body.decode().splitlines() if line.strip()]
    done = events[-1]
    with capsys.disabled():
        print(f"ask: {done}")
    assert done["type"] == "done" and "1000" in done["answer"].replace(",", "")
