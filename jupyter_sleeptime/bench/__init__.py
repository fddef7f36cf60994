"""`jupyter sleeptime bench`: the measurements behind the project's claim.

    jupyter sleeptime bench NOTEBOOKS_DIR --questions questions.jsonl --out DIR \
        [--model M] [--sleep-model M] [--modes sleep,baseline,baseline-budget] [--repeat N] \
        [--notebooks GLOB|a.ipynb,b.ipynb] [--limit-questions N] [--order blocked|interleaved] \
        [--incremental] [--resume] [--micro [--micro-parts digest,cell,cpu]] [--readme README.md]

For every notebook with questions: a fresh `jupyter server` with the extension, a copy of the
notebook run cell by cell over the kernel websocket (stopping at the first error, like Run
All), idle time left to think on its own (never forced), then every question asked in every
mode on that same state, baselines cold. Writes DIR/results.json, DIR/report.md and PNG
figures; `--readme` rewrites the README section between `<!-- bench:start -->` and
`<!-- bench:end -->`. See runner.py for the order policy and DESIGN.md "Measuring fairly".
"""

from __future__ import annotations

import argparse
import asyncio
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
from .data import load_questions, questions_for, select_notebooks
from .micro import PARTS, run_micro
from .plots import FILES as PLOT_FILES
from .plots import write_plots
from .progress import Progress
from .report import render_readme_table, render_report, update_readme
from .runner import ORDERS, Settings, run_notebook

__all__ = ["add_arguments", "render_readme_table", "resume_from", "run", "update_readme"]

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _run_arguments(parser)
    _fast_arguments(parser)
    _extra_arguments(parser)


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """What is run: notebooks, questions, models, modes, order."""
    parser.add_argument(
        "notebooks_dir",
        nargs="?",
        type=Path,
        metavar="NOTEBOOKS_DIR",
        help="folder of .ipynb files named in the questions file "
        "(omit with --micro to run only the micro-benchmarks)",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        help="questions.jsonl (default: questions.jsonl in or next to NOTEBOOKS_DIR)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("sleeptime-bench"),
        help="output folder for results.json, report.md, figures (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("JUPYTER_SLEEPTIME_MODEL", ""),
        help="LiteLLM model id for answers; default: the embedded local model",
    )
    parser.add_argument(
        "--sleep-model",
        default=os.environ.get("JUPYTER_SLEEPTIME_SLEEP_MODEL", ""),
        help="LiteLLM model id for idle-time thinking; default: same as --model",
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma list of modes (default: %(default)s)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="ask every question N times per mode")
    parser.add_argument(
        "--notebooks",
        dest="select",
        metavar="GLOB|LIST",
        help="only these notebooks: a glob or a comma list of names",
    )
    parser.add_argument("--limit-questions", type=int, help="at most N questions per notebook")
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="blocked",
        help="question order policy (default: %(default)s; see report.md)",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=2.0,
        help="SleeptimeApp.idle_seconds for the benchmark servers (default: %(default)s)",
    )
    parser.add_argument(
        "--sleep-timeout",
        type=float,
        default=3600.0,
        help="seconds to wait for idle thinking per notebook (default: %(default)s)",
    )


def _fast_arguments(parser: argparse.ArgumentParser) -> None:
    """Variants of the run: incremental, the fast loops, resuming."""
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="after the questions, edit one cell in the middle, run it again and measure the "
        "next idle-time run against the first",
    )
    parser.add_argument(
        "--coverage-only",
        action="store_true",
        help="fast check (minutes): run the notebooks and build every prompt, but think and "
        "answer nothing; reports, per mode, the share of questions whose expected facts are "
        "in the prompt (fact_coverage)",
    )
    parser.add_argument(
        "--facts-only",
        action="store_true",
        help="fast loop: no idle-time model work (no memory, no anticipated answers); every "
        "question answered from the facts alone (writes answers.json)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the notebooks already in DIR/results.json (same model and modes) and run "
        "only the others, so a long run can be split",
    )


def _extra_arguments(parser: argparse.ArgumentParser) -> None:
    """Micro-benchmarks, the load test, rendering."""
    parser.add_argument(
        "--micro",
        action="store_true",
        help="also run the micro-benchmarks (alone when NOTEBOOKS_DIR is omitted)",
    )
    parser.add_argument(
        "--micro-parts",
        default=",".join(PARTS),
        help="which micro-benchmarks (default: %(default)s)",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="load test: KERNELS kernels × EXECUTIONS cells at once; every execution must be "
        "recorded and GET status must stay fast (writes DIR/load.json)",
    )
    parser.add_argument("--load-kernels", type=int, default=20)
    parser.add_argument("--load-executions", type=int, default=200)
    parser.add_argument("--micro-cell-runs", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--micro-digest-runs", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--micro-cpu-samples", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--readme",
        type=Path,
        help="rewrite the section between <!-- bench:start --> and <!-- bench:end -->",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="re-render report.md, figures and --readme from DIR/results.json",
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the temporary notebook roots"
    )


def _fail(message: str) -> int:
    print(f"jupyter sleeptime bench: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> int:
    from ..loadtest import run_load

    result = asyncio.run(run_load(args.load_kernels, args.load_executions))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if result["recorded"] == result["expected"] else 1


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.render_only:
        path = out / "results.json"
        if not path.exists():
            return _fail(f"{path} does not exist")
        results = json.loads(path.read_text(encoding="utf-8"))
        # Derived numbers are recomputed from the raw records (e.g. after merging runs).
        built = summary_module.build(
            results.get("questions") or [],
            results.get("notebooks") or [],
            list(results.get("meta", {}).get("modes") or MODES),
            results.get("micro"),
        )
        results.update(built)
        write_outputs(results, out, args.readme, plots=True)
        print(f"Rendered {out / 'report.md'} from {path}")
        return 0
    if args.load:
        return _load(args)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        return _fail(
            f"--modes: unknown {', '.join(unknown) or '(none)'}; choose from {', '.join(MODES)}"
        )
    parts = [p.strip() for p in args.micro_parts.split(",") if p.strip()] if args.micro else []
    if [p for p in parts if p not in PARTS]:
        return _fail(f"--micro-parts: choose from {', '.join(PARTS)}")
    if args.notebooks_dir is None and not parts:
        return _fail("give NOTEBOOKS_DIR, or --micro to run only the micro-benchmarks")
    if args.repeat < 1:
        return _fail("--repeat must be at least 1")
    for name, value in (("--model", args.model), ("--sleep-model", args.sleep_model)):
        if value and "/" not in value:
            return _fail(
                f"{name} {value!r}: use a LiteLLM id with a provider prefix, e.g. openai/gpt-4o-mini"
            )
    paths: list[Path] = []
    questions = []
    if args.notebooks_dir is not None:
        folder: Path = args.notebooks_dir
        if not folder.is_dir():
            return _fail(f"{folder} is not a folder")
        qfile = args.questions or next(
            (
                p
                for p in (folder / "questions.jsonl", folder.parent / "questions.jsonl")
                if p.exists()
            ),
            None,
        )
        if qfile is None or not qfile.exists():
            return _fail("no questions file: pass --questions FILE")
        questions = load_questions(qfile)
        paths = select_notebooks(folder, questions, args.select)
        if not paths:
            return _fail(f"no notebook in {folder} matches {args.select!r} and has questions")
    os.environ["MPLBACKEND"] = "agg"  # inherited by the servers and their kernels
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    settings = Settings(
        model=args.model,
        sleep_model=args.sleep_model,
        modes=tuple(modes),
        repeat=args.repeat,
        order=args.order,
        idle_seconds=args.idle_seconds,
        sleep_timeout=args.sleep_timeout,
        logs=out / "logs",
        keep_work=args.keep_work,
        incremental=args.incremental,
        coverage_only=args.coverage_only,
        facts_only=args.facts_only,
    )
    return asyncio.run(_main(args, settings, paths, questions, parts))


async def _main(
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
    from ..engine.answerer import Answerer
    from ..engine.llm import DEFAULT_LOCAL_MODEL

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
