"""`jupyter sleeptime bench` end to end with the scripted model: one small notebook, two
questions, every mode, plus the trivial-cell micro-benchmark; then the pure parts
(scoring, statistics, order policy, README section)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_sleeptime.bench import render_readme_table, resume_from, update_readme
from jupyter_sleeptime.bench.data import Question, load_questions, score, select_notebooks
from jupyter_sleeptime.bench.runner import ask_plan
from jupyter_sleeptime.bench.summary import percentile

DATA = Path(__file__).parent / "data" / "bench"
MODES = ["sleep", "baseline", "baseline-budget"]
PLOTS = ["latency.png", "prompt_tokens.png", "accuracy_by_kind.png", "amortised.png"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_sleeptime.cli",
            "bench",
            str(DATA / "notebooks"),
            "--questions",
            str(DATA / "questions.jsonl"),
            "--out",
            str(out),
            "--model",
            "sleeptime-scripted/bench",
            "--incremental",
            "--micro",
            "--micro-parts",
            "cell",
            "--micro-cell-runs",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        env=env,
        cwd=out,
    )
    return out, proc


@pytest.mark.timeout(300)
def test_bench_end_to_end(bench_run):
    out, proc = bench_run
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    assert "notebook 1/1 03_gp_army_pandas" in proc.stderr  # progress on stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results) >= {
        "meta",
        "summary",
        "ratios",
        "notebooks",
        "questions",
        "micro",
        "accuracy_by_kind",
        "amortised",
        "goals",
    }

    meta = results["meta"]
    assert meta["complete"] is True
    assert meta["model"] == "sleeptime-scripted/bench"
    assert meta["machine"]["cores"] >= 1 and meta["python"]
    assert meta["modes"] == MODES and meta["order"] == "blocked"
    assert meta["notebooks"] == ["03_gp_army_pandas.ipynb"] and meta["questions"] == 2

    (nb,) = results["notebooks"]
    assert "error" not in nb
    assert nb["cells_executed"] == nb["cells_total"] == 18 and nb["stopped_at_error"] is None
    assert nb["recorded_executions"] == 18  # the extension saw every cell
    assert (
        nb["sleep_calls"] > 0
        and nb["sleep_tokens"] == nb["sleep_prompt_tokens"] + nb["sleep_completion_tokens"]
    )
    assert nb["sleep_seconds"] >= 2.0  # the idle debounce (2 s) is part of it
    assert nb["last_run"]["ok"]
    assert nb["anticipated"]
    clicked = nb["anticipated_asks"]  # the prepared questions, asked verbatim: no model call
    assert len(clicked) == len(nb["anticipated"])
    assert all(a["source"] == "anticipated" and a["prompt_tokens"] == 0 for a in clicked)
    inc = nb["incremental"]  # one edited cell run again: the next idle run is smaller
    assert inc["edited_cell"] == 9 and "explain_cells" in inc["ran"]
    assert 0 < inc["prompt_tokens"] < nb["sleep_prompt_tokens"]
    assert inc["prompt_ratio_to_first_run"] == round(
        inc["prompt_tokens"] / nb["sleep_prompt_tokens"], 3
    )

    rows = results["questions"]
    assert len(rows) == 2 * len(MODES)
    # Blocked order: every sleep answer before any baseline one.
    assert [r["mode"] for r in rows] == ["sleep"] * 2 + ["baseline"] * 2 + ["baseline-budget"] * 2
    by = {(r["id"], r["mode"]): r for r in rows}
    for row in rows:
        assert row["error"] is None, row
        assert isinstance(row["correct"], bool)
        assert row["source"] in ("model", "anticipated")
        assert row["cold"] is (row["mode"] != "sleep")
        assert row["latency_ms"] > 0 and row["client_latency_ms"] >= row["latency_ms"] * 0.5
        assert row["uncached_prompt_tokens"] == row["prompt_tokens"] - row["cached_tokens"]
        assert row["answer"]
        assert (row["anticipated_hit"] is None) is (row["mode"] != "sleep")
    for qid in ("03-q1", "03-q3"):
        sleep_row = by[(qid, "sleep")]
        if sleep_row["anticipated_hit"]:  # a prepared answer: no prompt at all
            assert sleep_row["prompt_tokens"] == 0 and sleep_row["covered"] is sleep_row["correct"]
        else:
            assert by[(qid, "baseline")]["prompt_tokens"] > sleep_row["prompt_tokens"] > 0
        assert isinstance(sleep_row["covered"], bool)  # the facts were (or were not) there

    summary = results["summary"]
    assert list(summary) == MODES
    for mode in MODES:
        s = summary[mode]
        assert s["n"] == 2 and s["n_scored"] == 2 and s["n_errors"] == 0
        assert 0.0 <= s["accuracy"] <= 1.0
        assert s["median_latency_ms"] <= s["p95_latency_ms"]
        assert s["median_ttft_ms"] <= s["p95_ttft_ms"]
    assert summary["sleep"]["sleep_tokens_per_notebook"] == nb["sleep_tokens"]
    assert summary["baseline"]["sleep_tokens_per_notebook"] == 0
    assert 0.0 <= summary["sleep"]["anticipated_hit_rate"] <= 1.0
    assert summary["sleep"]["anticipated_asked_hits"] == len(clicked)
    assert summary["sleep"]["max_anticipated_latency_ms"] is not None
    for mode in MODES:
        assert 0.0 <= summary[mode]["fact_coverage"] <= 1.0
    hits = [r for r in rows if r["anticipated_hit"]]
    assert summary["sleep"]["anticipated_hits"] == len(hits)
    if hits:
        assert summary["sleep"]["hit_accuracy"] == sum(r["correct"] for r in hits) / len(hits)
    # every hit listed with its prepared question and whether it was right
    listed = results["prepared_hits"]
    assert [h["id"] for h in listed] == [r["id"] for r in hits]
    assert all(
        h["matched"] and h["right"] == r["correct"] for h, r in zip(listed, hits, strict=True)
    )
    assert set(summary["sleep"]["completion_tokens_by_kind"]) <= {
        "state",
        "explain",
        "error",
        "next",
    }
    shown = {g["goal"]: g for g in results["goals"]}
    assert shown["sleep-mode accuracy"]["measured"] == summary["sleep"]["accuracy"]
    assert shown["fact coverage in sleep mode"]["fmt"] == "pct"
    ratios = results["ratios"]
    assert ratios["prompt_tokens"] == pytest.approx(
        summary["baseline"]["median_prompt_tokens"] / summary["sleep"]["median_prompt_tokens"]
    )
    assert ratios["prompt_tokens"] > 1
    assert set(ratios["baseline_budget"]) >= {"latency", "ttft", "prompt_tokens"}
    amort = results["amortised"]
    assert amort["n"] == list(range(1, 11))
    sleep_curve = amort["total"]["sleep"]
    assert sleep_curve == sorted(sleep_curve, reverse=True)  # sleep cost spreads over N
    assert {g["goal"] for g in results["goals"]} and all(
        g["met"] in (True, False, None) for g in results["goals"]
    )

    cell = results["micro"]["cell"]
    assert "error" not in cell, cell
    assert cell["enabled_ms"]["n"] == cell["disabled_ms"]["n"] == 10

    report = (out / "report.md").read_text()
    for heading in (
        "## Goals",
        "## Per mode",
        "## Ratios",
        "## Accuracy by question kind",
        "## Sleep-time cost per notebook",
        "## Amortised compute",
        "## Micro-benchmarks",
        "## Prepared answers served (sleep mode)",
        "## Every question",
    ):
        assert heading in report
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert (out / "logs" / "03_gp_army_pandas.server.log").exists()


def test_resume_keeps_finished_notebooks(bench_run, tmp_path):
    out, proc = bench_run
    assert proc.returncode == 0, proc.stderr
    earlier = json.loads((out / "results.json").read_text())
    (tmp_path / "results.json").write_text(json.dumps(earlier))
    notebooks = DATA / "notebooks"
    other = tmp_path / "other.ipynb"
    meta = {k: earlier["meta"][k] for k in ("model", "sleep_model", "modes", "order", "repeat")}
    meta.update(notebooks=[other.name], question_ids=["other-q1"], questions=1)
    records: list[dict] = []
    kept: list[dict] = []
    todo = resume_from(
        tmp_path / "results.json",
        meta,
        [notebooks / "03_gp_army_pandas.ipynb", other],
        records,
        kept,
    )
    assert todo == [other]  # the finished notebook is not run again
    assert [nb["notebook"] for nb in kept] == ["03_gp_army_pandas.ipynb"]
    assert records == earlier["questions"]
    assert meta["notebooks"] == ["other.ipynb", "03_gp_army_pandas.ipynb"]
    assert meta["questions"] == 3 and meta["resumed"][0]["command"] == earlier["meta"]["command"]
    with pytest.raises(ValueError, match="modes"):
        resume_from(tmp_path / "results.json", {**meta, "modes": ["sleep"]}, [other], [], [])


def test_readme_section_from_results(bench_run, tmp_path):
    out, proc = bench_run
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    table = render_readme_table(results)
    assert "| `sleep` | `baseline` | `baseline-budget` |" in table.splitlines()[0]
    assert "median latency" in table and "sleeptime-scripted/bench" in table

    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n## Performance\n<!-- bench:start -->\nOLD-SECTION\n<!-- bench:end -->\nafter\n"
    )
    update_readme(readme, results)
    text = readme.read_text()
    assert (
        "OLD-SECTION" not in text and table in text and text.endswith("<!-- bench:end -->\nafter\n")
    )

    # --render-only re-renders from results.json and rewrites the README again.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_sleeptime.cli",
            "bench",
            "--render-only",
            "--out",
            str(out),
            "--readme",
            str(readme),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert readme.read_text() == text

    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        update_readme(readme, results)


def test_scoring_and_selection():
    q = Question("nb.ipynb", "q", "state", "?", must_contain=["Origin", "12"])
    assert score("the index is origin, 12 rows", q) == (True, [])
    assert score("ORIGIN only", q) == (False, ["12"])
    assert score("anything", Question("nb.ipynb", "r", "next", "?")) == (None, [])
    questions = load_questions(DATA / "questions.jsonl")
    assert [x.id for x in questions] == ["03-q1", "03-q3"]
    assert [p.name for p in select_notebooks(DATA / "notebooks", questions, None)] == [
        "03_gp_army_pandas.ipynb"
    ]
    assert select_notebooks(DATA / "notebooks", questions, "01_*") == []
    assert select_notebooks(DATA / "notebooks", questions, "03_gp_army_pandas")


def test_statistics_and_order():
    assert percentile([], 50) is None
    assert percentile([5], 95) == 5
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    qs = [Question("n", f"q{i}", "state", "?") for i in range(2)]
    blocked = ask_plan(qs, ("baseline", "sleep"), 2, "blocked")
    assert [m for _, _, m in blocked[:4]] == ["sleep"] * 4  # sleep first, whatever the list order
    assert [(r, q.id) for r, q, _ in blocked[:4]] == [(0, "q0"), (0, "q1"), (1, "q0"), (1, "q1")]
    inter = ask_plan(qs, ("sleep", "baseline"), 1, "interleaved")
    assert [(q.id, m) for _, q, m in inter] == [
        ("q0", "sleep"),
        ("q0", "baseline"),
        ("q1", "sleep"),
        ("q1", "baseline"),
    ]


def test_prepared_hits_are_listed_and_every_wrong_one_named():
    from jupyter_sleeptime.bench.report import prepared_hits_section
    from jupyter_sleeptime.bench.summary import prepared_hits

    def record(qid, hit, correct, matched=None):
        return {
            "notebook": "nb.ipynb",
            "id": qid,
            "question": f"question {qid}?",
            "mode": "sleep",
            "anticipated_hit": hit,
            "matched": matched,
            "prepared_from": "model" if matched else None,
            "correct": correct,
            "missing": ["42"] if correct is False else [],
        }

    records = [
        record("q1", True, True, "What is `df`?"),
        record("q2", True, False, "How many features are in X?"),
        record("q3", False, False),
        record("q4", True, None, "Why did the last cell fail?"),
    ]
    hits = prepared_hits(records)
    assert [h["id"] for h in hits] == ["q1", "q2", "q4"]
    text = "\n".join(prepared_hits_section(hits))
    assert "3 prepared answers served: 1 right, 1 wrong, 1 not scorable" in text
    wrong = text.split("**Wrong prepared answers:**")[1].split("\n\n")[0]
    assert "`q2`" in wrong and "How many features are in X?" in wrong and "q1" not in wrong
    assert "No eval question" in "\n".join(prepared_hits_section([]))
