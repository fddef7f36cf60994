"""`jupyter sleeptime bench`: its arguments, their checks, and the call into `session.py`.

What a run does is told in the package docstring (`bench/__init__.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from . import summary as summary_module
from .data import load_questions, select_notebooks
from .micro import PARTS
from .runner import ORDERS, Settings
from .session import MODES, run_session, write_outputs


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
    from .load import run_load

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
    return asyncio.run(run_session(args, settings, paths, questions, parts))
