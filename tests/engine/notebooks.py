"""Realistic notebook executions for engine tests, fed the way the observer feeds them."""

from __future__ import annotations

import itertools

from jupyter_sleeptime.engine import SleeptimeEngine
from jupyter_sleeptime.engine.state.records import Digest, Output

_ids = itertools.count(1)

REGIONS = ["north", "south", "east", "west"]


def run_cell(
    engine: SleeptimeEngine,
    notebook: str,
    source: str,
    text: str = "",
    error: tuple[str, str] | None = None,
    kernel_id: str = "k1",
    count: int | None = None,
) -> str:
    msg_id = f"m{next(_ids)}"
    engine.execution_started(kernel_id, notebook, msg_id, count, source)
    if text:
        engine.add_output(kernel_id, msg_id, Output("stream", text=text, name="stdout"))
    if error:
        engine.add_output(
            kernel_id,
            msg_id,
            Output(
                "error",
                ename=error[0],
                evalue=error[1],
                traceback=[f"---> 1 {source.splitlines()[0]}", f"{error[0]}: {error[1]}"],
            ),
        )
    engine.execution_finished(kernel_id, notebook, msg_id)
    return msg_id


def table(step: int, rows: int = 6) -> str:
    lines = ["        region   units   revenue   margin"]
    for r in range(rows):
        region = REGIONS[(r + step) % 4]
        units = 100 + 17 * r + step
        lines.append(f"{r:>4}  {region:>8}  {units:>6}  {units * 12.5:>8.1f}  {0.1 + r / 100:.3f}")
    return "\n".join(lines) + "\n"


def analysis_cells(n: int) -> list[tuple[str, str]]:
    """n cells of a plausible pandas analysis, each with a table-like output."""
    cells = [
        (
            "import pandas as pd\nimport numpy as np\n"
            "sales = pd.read_csv('sales.csv', parse_dates=['date'])\nprint(sales.head(6))",
            table(0),
        )
    ]
    for i in range(1, n):
        source = (
            f"step_{i} = sales[sales['units'] > {50 + i}].groupby('region')"
            f"[['units', 'revenue']].agg(['sum', 'mean'])\n"
            f"step_{i}['share'] = step_{i}[('revenue', 'sum')] / sales['revenue'].sum()\n"
            f"print(step_{i}.round(3))"
        )
        cells.append((source, table(i)))
    return cells


def feed(engine: SleeptimeEngine, notebook: str, cells: list[tuple[str, str]]) -> None:
    for count, (source, text) in enumerate(cells, start=1):
        run_cell(engine, notebook, source, text, count=count)


def digest_for(n: int) -> Digest:
    variables = [
        {
            "name": "sales",
            "type": "pandas.DataFrame",
            "summary": "1000 rows × 5 columns; columns: date (datetime64), region (str), "
            "units (int64), revenue (float64), margin (float64)",
        }
    ]
    variables += [
        {"name": f"step_{i}", "type": "pandas.DataFrame", "summary": "4 rows × 5 columns"}
        for i in range(1, n)
    ]
    return Digest(variables=variables, took_ms=3.0, total=len(variables))
