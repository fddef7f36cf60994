"""The REST views of a real server against the TypedDicts of `protocol.py`, field by field:
what `GET status`, `GET kernels/{id}` and `GET`/`PUT settings` send is what the contract
(and through `tests/data/protocol/schema.json`, the labextension's `types.ts`) declares.

With SLEEPTIME_UPDATE_FIXTURES=1 this also rewrites `tests/data/protocol/views.json`, the
examples of every view, from what the server sent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_sleeptime import protocol

from ..conftest import get_json, think
from ..wire_shapes import violations

VIEWS_FIXTURE = Path(__file__).parent.parent / "data" / "protocol" / "views.json"

CELLS = [
    "import pandas as pd\nfrom sklearn.linear_model import LinearRegression\n"
    "df = pd.DataFrame({'a': range(20), 'b': range(20)})",
    "m = LinearRegression().fit(df[['a']], df.b)\nprint(df.a.sum())",
    "df.zzz",  # an error: a diagnosis and an error card
]


async def test_every_view_a_server_sends_follows_the_contract(jp_fetch, start_kernel):
    kernel = await start_kernel(path="work.ipynb")
    before = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert not violations(before, protocol.KernelView)  # before any thinking or digest
    for cell in CELLS:
        await kernel.execute(cell)
    await think(jp_fetch, kernel.kernel_id)
    views: dict[str, Any] = {
        "status": await get_json(jp_fetch, "sleeptime", "api", "status"),
        "kernel": await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id),
        "settings": await get_json(jp_fetch, "sleeptime", "api", "settings"),
        "settings_put": await get_json(
            jp_fetch,
            "sleeptime",
            "api",
            "settings",
            method="PUT",
            body=json.dumps({"idle_seconds": 5}),
        ),
    }
    shapes = {
        "status": protocol.StatusView,
        "kernel": protocol.KernelView,
        "settings": protocol.SettingsView,
        "settings_put": protocol.SettingsView,
    }
    for name, view in views.items():
        assert violations(view, shapes[name]) == [], name
    # the parts that are lists were not empty: their items were checked too
    kernel_view = views["kernel"]
    assert kernel_view["executions"] and kernel_view["insights"]["cells"]
    assert kernel_view["insights"]["errors"] and kernel_view["facts"]["names"]
    assert any(n["fitted_on"] for n in kernel_view["facts"]["names"])
    assert views["status"]["kernels"] and views["status"]["kernels"][0]["last_run"]
    if os.environ.get("SLEEPTIME_UPDATE_FIXTURES") == "1":
        VIEWS_FIXTURE.write_text(json.dumps(_example(views), indent=1) + "\n", encoding="utf-8")


def _example(views: dict[str, Any]) -> dict[str, Any]:
    """The views as a small, stable example: ids and times fixed, long lists cut to two."""

    def trim(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: trim(v) for k, v in value.items()}
        if isinstance(value, list):
            return [trim(v) for v in value[:2]]
        return value

    example = trim({k: v for k, v in views.items() if k != "settings_put"})
    example["status"]["at"] = 1767225600.0
    for entry in [example["kernel"], *example["status"]["kernels"]]:
        entry["kernel_id"] = "3f1c-example"
    for entry in [
        example["kernel"]["last_run"],
        *(k["last_run"] for k in example["status"]["kernels"]),
    ]:
        if entry:
            entry["at"], entry["seconds"] = "2026-01-01T00:00:00Z", 1.5
    for ex in example["kernel"]["executions"]:
        ex["started"], ex["ended"] = 1767225600.0, 1767225600.1
    if example["kernel"]["digest"].get("at"):
        example["kernel"]["digest"]["at"] = 1767225600.2
        example["kernel"]["digest"]["took_ms"] = 3.1
    return {
        "_about": "One example of every REST view, from a real server "
        "(tests/server/test_views_contract.py, SLEEPTIME_UPDATE_FIXTURES=1); read by "
        "tests/test_protocol.py and labextension/src/__tests__/protocol.spec.ts.",
        **example,
    }
