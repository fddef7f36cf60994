"""The kernel-side modules, run in-process: what they report, what they never touch, and that
the shipped expression runs exactly these modules."""

from __future__ import annotations

import ast
import json
import sys
import time
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from jupyter_sleeptime.introspect import shipping
from jupyter_sleeptime.introspect.digest import build_expression
from jupyter_sleeptime.introspect.kernel_side import name_probe, namespace_digest
from jupyter_sleeptime.introspect.probe import build_probe_expression

KERNEL_SIDE = ("namespace_digest", "name_probe")


def digest(ns: dict, budget_ms: float = 1000.0) -> dict:
    return json.loads(namespace_digest.run(ns, time.perf_counter(), budget_ms, 400, 30))


def by_name(result: dict) -> dict:
    return {v["name"]: v for v in result["variables"]}


@pytest.mark.parametrize("module", KERNEL_SIDE)
def test_kernel_side_imports_only_the_standard_library(module):
    tree = ast.parse(shipping.kernel_source(module))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import cannot resolve in the kernel"
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


@pytest.mark.parametrize("module", KERNEL_SIDE)
def test_the_shipped_source_is_the_module_file(module):
    package = resources.files("jupyter_sleeptime.introspect.kernel_side")
    assert shipping.kernel_source(module) == package.joinpath(f"{module}.py").read_text()
    assert "def run(" in shipping.kernel_source(module)


def test_summaries_of_frames_arrays_and_builtins():
    frame = pd.DataFrame({"age": [22.0, np.nan, 35.0], "name": ["a", "b", "c"]})
    ns = {"frame": frame, "arr": np.arange(6).reshape(2, 3), "words": ["x", "y"], "_hidden": 1}
    v = by_name(digest(ns))
    assert v["frame"]["shape"] == [3, 2]
    assert "missing values: age=1" in v["frame"]["summary"]
    assert v["arr"]["shape"] == [2, 3]
    assert v["words"]["summary"] == "len 2: ['x', 'y']"
    assert "_hidden" not in v


class Hostile:
    calls: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads what ran

    def __repr__(self):
        Hostile.calls.append("repr")
        raise AssertionError("repr called")

    def __len__(self):
        Hostile.calls.append("len")
        return 1

    def __getattr__(self, name):
        Hostile.calls.append(name)
        raise AttributeError(name)


class HostileList(list):
    def __len__(self):
        Hostile.calls.append("list len")
        return 0

    def __repr__(self):
        Hostile.calls.append("list repr")
        return "[]"


def test_hostile_objects_are_reported_by_type_only():
    Hostile.calls.clear()
    v = by_name(digest({"h": Hostile(), "hl": HostileList([1, 2, 3])}))
    assert Hostile.calls == []
    assert v["h"]["type"].endswith("Hostile")
    assert "repr" not in v["h"]["summary"]
    assert v["hl"]["len"] == 3  # read through list's own slot, not the override


def test_the_budget_truncates_and_says_so():
    ns = {f"v{i}": list(range(50)) for i in range(2000)}
    result = json.loads(namespace_digest.run(ns, time.perf_counter() - 1.0, 1.0, 400, 30))
    assert result["truncated"] is True
    assert len(result["variables"]) < 2000


def scale(values, factor=2.0, *, clip=False):
    return values


def test_probe_reads_params_columns_and_modules():
    frame = pd.DataFrame({"a": [1], "b": [2]})
    ns = {"scale": scale, "frame": frame}
    out = json.loads(name_probe.run(ns, time.perf_counter(), 1000.0, ["scale", "frame", "nope"]))
    assert out["scale"]["params"][:3] == ["values", "factor", "clip"]
    assert out["frame"]["columns"] == ["a", "b"]
    assert out["nope"] == {}
    mods = json.loads(
        name_probe.run(ns, time.perf_counter(), 1000.0, ["json", "no_such_mod_xyz"], "modules")
    )
    assert mods == {"json": {"importable": True}, "no_such_mod_xyz": {"importable": False}}


def test_probe_docs_mode_reads_docstrings():
    out = json.loads(name_probe.run({"scale": scale}, time.perf_counter(), 1000.0, ["json.dumps"]))
    assert out == {"json.dumps": {}}  # "json" is not a name in this namespace
    docs = json.loads(
        name_probe.run({"json": json}, time.perf_counter(), 1000.0, ["json.dumps"], "docs")
    )
    assert "JSON" in docs["json.dumps"]["doc"]


def test_probe_docs_of_a_data_attribute_come_from_its_owner_class():
    from sklearn.linear_model import HuberRegressor

    huber = HuberRegressor().fit(np.arange(20.0).reshape(10, 2), np.arange(10.0))
    targets = ["huber.outliers_", "huber.fit"]
    docs = json.loads(
        name_probe.run({"huber": huber}, time.perf_counter(), 1000.0, targets, "docs")
    )
    assert "outliers_ :" in docs["huber.outliers_"]["doc"]  # HuberRegressor's, not ndarray's
    assert "ndarray(shape" not in docs["huber.outliers_"]["doc"]
    assert "outliers_ :" not in docs["huber.fit"]["doc"]  # a method keeps its own docstring


@pytest.mark.parametrize("bytecode", [True, False], ids=["marshalled", "source fallback"])
def test_the_shipped_expression_runs_the_module_and_binds_nothing(bytecode):
    ns = {"frame": pd.DataFrame({"a": [1.5, 2.5]}), "words": ["a", "b"]}
    expression = build_expression(budget_ms=1000)
    if not bytecode:
        expression = expression.replace(repr(sys.implementation.cache_tag), "'other'", 1)
    before = set(ns)
    shipped = json.loads(eval(expression, ns, ns))
    assert set(ns) - {"__builtins__"} == before
    direct = digest({k: v for k, v in ns.items() if k != "__builtins__"})
    assert [x["summary"] for x in shipped["variables"]] == [
        x["summary"] for x in direct["variables"]
    ]
    probe = build_probe_expression(["frame"], budget_ms=1000)
    assert json.loads(eval(probe, ns, ns))["frame"]["columns"] == ["a"]
