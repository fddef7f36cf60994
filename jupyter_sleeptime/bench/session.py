"""One benchmark session: every notebook in turn, its questions in every mode, the
micro-benchmarks, and what is written at the end (results.json, report.md, figures, the
README table). `command.py` checks the arguments and calls `run_session`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from . import summary as summary_module
from .data import questions_for
from .micro import run_micro
from .plots import FILES as PLOT_FILES
from .plots import write_plots
from .progress import Progress
from .report import render_report, update_readme
from .runner import Settings, run_notebook

MODES = ("sleep", "baseline", "baseline-budget")
VERSIONED = (
    "jupyter-sleeptime",
    "jupyter_server",
    "ipykernel",
    "litellm",
    "llama_cpp_python",
    "numpy",
    "pandas",
    "matplotlib",
    "scipy",
    "scikit-learn",
    "statsmodels",
)
ORDER_NOTES = {
    "blocked": "per notebook, all sleep-mode questions first (the KV cache keeps the prefix idle "
    "time warmed), then all baseline, then all baseline-budget questions, each asked "
    "cold (KV cache emptied first)",
    "interleaved": "per question sleep → baseline → baseline-budget; baselines cold, and each "
    "sleep question after the first finds its warmed prefix evicted by the previous "
    "cold baseline (pessimistic for sleep mode)",
}


async def run_session(
    args: argparse.Namespace,
    settings: Settings,
    paths: list[Path],
    questions: list[Any],
    parts: list[str],
) -> int:
    meta = machine_meta(settings, args)
    records: list[dict[str, Any]] = []
    notebooks: list[dict[str, Any]] = []
    asked = [q for p in paths for q in questions_for(p.name, questions, args.limit_questions)]
    meta.update(
        notebooks=[p.name for p in paths], questions=len(asked), question_ids=[q.id for q in asked]
    )
    if args.resume:
        try:
            paths = resume_from(args.out / "results.json", meta, paths, records, notebooks)
        except ValueError as exc:
            print(f"jupyter sleeptime bench: {exc}", file=sys.stderr)
            return 2
    progress = Progress()
    micro = None
    try:
        for index, path in enumerate(paths, 1):
            progress.at(f"notebook {index}/{len(paths)} {path.stem}")
            mine = questions_for(path.name, questions, args.limit_questions)
            record, rows = await run_notebook(path, mine, settings, progress)
            record["question_ids"] = [q.id for q in mine]
            notebooks.append(record)
            records.extend(rows)
            if record.get("model"):
                meta["model"], meta["sleep_model"] = record["model"], record["sleep_model"]
            progress.note(_progress_line(settings, record, rows))
            if not (settings.coverage_only or settings.facts_only):
                partial = assemble(meta, records, notebooks, settings, None, complete=False)
                write_outputs(partial, args.out, None, plots=False)
        if settings.coverage_only:
            return _write_coverage(args.out, meta, records, notebooks, list(settings.modes))
        if settings.facts_only:
            return _write_answers(args.out, meta, records, notebooks, list(settings.modes))
        if parts:
            micro = await run_micro(
                parts,
                settings.traits(),
                progress,
                settings.logs,
                cell_runs=args.micro_cell_runs,
                digest_runs=args.micro_digest_runs,
                cpu_samples=args.micro_cpu_samples,
                notebooks=paths or None,
            )
    finally:
        progress.close()
    meta["loadavg_end"] = _loadavg()
    results = assemble(meta, records, notebooks, settings, micro, complete=True)
    write_outputs(results, args.out, args.readme, plots=True)
    print(f"Wrote {args.out / 'results.json'} and {args.out / 'report.md'}")
    for goal in results["goals"]:
        status = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        print(f"  {goal['goal']}: {status}")
    failed = any("error" in n for n in notebooks)
    failed |= any("error" in v for v in (micro or {}).values())
    return 1 if failed else 0


def _progress_line(settings: Settings, record: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """One line per notebook: what it cost and how it went, in the run's own terms."""
    if not (settings.coverage_only or settings.facts_only):
        return _notebook_line(record, rows)
    key, done = ("covered", "prompts built") if settings.coverage_only else ("correct", "answered")
    counted = [r for r in rows if r.get(key) is not None]
    per_mode = ", ".join(
        f"{m} {sum(1 for r in counted if r['mode'] == m and r[key])}/"
        f"{sum(1 for r in counted if r['mode'] == m)}"
        for m in settings.modes
    )
    return f"{record['notebook']}: {record.get('error') or done}; {key} {per_mode}"


def _dump(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Wrote {path}")


def _write_coverage(
    out: Path,
    meta: dict[str, Any],
    records: list[dict[str, Any]],
    notebooks: list[dict[str, Any]],
    modes: list[str],
) -> int:
    summary = summary_module.summarise_coverage(records, modes)
    results = {
        "meta": {**meta, "coverage_only": True, "complete": True},
        "summary": summary,
        "notebooks": notebooks,
        "questions": records,
    }
    _dump(out / "coverage.json", results)
    for mode, row in summary.items():
        share = row["fact_coverage"]
        print(
            f"  {mode}: fact coverage {row['n_covered']}/{row['n_scorable']}"
            + (f" ({share:.0%})" if share is not None else "")
            + f", median prompt ≈ {row['median_approx_prompt_tokens'] or 0:.0f} tokens"
            + (f"; missed {', '.join(row['missed'])}" if row["missed"] else "")
        )
        hits = row["prepared_hits"]
        if hits:
            wrong = [h["id"] for h in hits if h["right"] is False]
            print(
                f"  {mode}: {len(hits)}/{row['n']} prepared hits"
                + (f", wrong (expected facts absent): {', '.join(wrong)}" if wrong else "")
            )
    return 1 if any("error" in n for n in notebooks) else 0


def _write_answers(
    out: Path,
    meta: dict[str, Any],
    records: list[dict[str, Any]],
    notebooks: list[dict[str, Any]],
    modes: list[str],
) -> int:
    results = {
        "meta": {**meta, "facts_only": True, "complete": True},
        "summary": {m: summary_module.summarise_mode(m, records, []) for m in modes},
        "accuracy_by_kind": summary_module.accuracy_by_kind(records, modes),
        "notebooks": notebooks,
        "questions": records,
    }
    _dump(out / "answers.json", results)
    for mode, row in results["summary"].items():
        print(
            f"  {mode}: accuracy {row['accuracy'] or 0:.0%} of {row['n_scored']}, median latency "
            f"{(row['median_latency_ms'] or 0) / 1000:.1f} s, fact coverage "
            f"{row['fact_coverage'] or 0:.0%}"
        )
    return 1 if any("error" in n for n in notebooks) else 0


def resume_from(
    path: Path,
    meta: dict[str, Any],
    paths: list[Path],
    records: list[dict[str, Any]],
    notebooks: list[dict[str, Any]],
) -> list[Path]:
    """Take over the finished notebooks of an earlier run of the same configuration; return
    the notebooks still to run."""
    if not path.exists():
        return paths
    earlier = json.loads(path.read_text(encoding="utf-8"))
    before = earlier.get("meta", {})
    for key in ("model", "sleep_model", "modes", "order", "repeat"):
        if before.get(key) != meta.get(key):
            raise ValueError(
                f"--resume: {path} was made with {key}={before.get(key)!r}, this run has "
                f"{meta.get(key)!r}; use another --out"
            )
    # Every finished notebook of the earlier runs is kept, also those not selected now, so a
    # long run can be split with --notebooks.
    done = {nb["notebook"] for nb in earlier.get("notebooks") or [] if "error" not in nb}
    notebooks.extend(nb for nb in earlier["notebooks"] if nb["notebook"] in done)
    records.extend(r for r in earlier.get("questions") or [] if r["notebook"] in done)
    for name in sorted(done - set(meta["notebooks"])):
        meta["notebooks"].append(name)
        ids = dict.fromkeys(r["id"] for r in records if r["notebook"] == name)
        meta["question_ids"].extend(ids)
    meta["questions"] = len(set(meta["question_ids"]))
    meta["resumed"] = [
        *(before.get("resumed") or []),
        {k: before.get(k) for k in ("date", "command", "loadavg_start", "loadavg_end")},
    ]
    todo = [p for p in paths if p.name not in done]
    print(f"Resuming: {len(done)} notebooks kept from {path}, {len(todo)} to run")
    return todo


def _notebook_line(record: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    if "error" in record:
        return f"{record['notebook']}: failed: {record['error']}"
    scored = [r for r in rows if r["correct"] is not None]
    return (
        f"{record['notebook']}: {record['cells_executed']}/{record['cells_total']} cells in "
        f"{record['execution_seconds']:.1f} s; idle thinking {record['sleep_seconds']:.1f} s, "
        f"{record['sleep_calls']} calls, {record['sleep_tokens']} tokens; {len(rows)} answers, "
        f"{sum(1 for r in scored if r['correct'])}/{len(scored)} correct"
    )


def assemble(
    meta: dict[str, Any],
    records: list[dict[str, Any]],
    notebooks: list[dict[str, Any]],
    settings: Settings,
    micro: dict[str, Any] | None,
    complete: bool,
) -> dict[str, Any]:
    built = summary_module.build(records, notebooks, list(settings.modes), micro)
    return {
        "meta": {**meta, "complete": complete},
        "summary": built["summary"],
        "ratios": built["ratios"],
        "accuracy_by_kind": built["accuracy_by_kind"],
        "amortised": built["amortised"],
        "goals": built["goals"],
        "prepared_hits": built["prepared_hits"],
        "notebooks": notebooks,
        "questions": records,
        "micro": micro,
    }


def write_outputs(results: dict[str, Any], out: Path, readme: Path | None, plots: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / "results.json")
    (out / "report.md").write_text(render_report(results), encoding="utf-8")
    if plots:
        write_plots(results, out)
    if readme is not None:
        update_readme(readme, results)


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def machine_meta(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from ..engine.answer.answerer import Answerer
    from ..engine.model.model_client import DEFAULT_LOCAL_MODEL

    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    model = settings.model or DEFAULT_LOCAL_MODEL
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "usable_cores": affinity,
            "cpu_model": _cpu_model(),
            "memory_gb": _memory_gb(),
            "platform": platform.platform(),
        },
        "loadavg_start": _loadavg(),
        "python": platform.python_version(),
        "versions": versions,
        "model": model,
        "sleep_model": settings.sleep_model or model,
        "modes": list(settings.modes),
        "order": settings.order,
        "order_note": ORDER_NOTES[settings.order],
        "repeat": settings.repeat,
        "idle_seconds": settings.idle_seconds,
        "answer_max_tokens": inspect.signature(Answerer.__init__).parameters["max_tokens"].default,
        "temperature": 0,
        "baseline_cold": True,
        "command": "jupyter sleeptime bench " + " ".join(_argv()),
        "plots": list(PLOT_FILES),
    }


def _argv() -> list[str]:
    argv = sys.argv[1:]
    if argv[:1] == ["bench"]:
        argv = argv[1:]
    return argv
