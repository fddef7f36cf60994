"""`jupyter sleeptime …`: `demo` (the newcomer's first run) and `bench` (the measurements)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

QUICKSTART = Path(__file__).parent / "examples" / "quickstart.ipynb"
UNANTICIPATED = "Summarise in two sentences what this notebook does and its main result."


def _quickstart() -> Path:
    repo = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"  # editable install
    for candidate in (QUICKSTART, repo, Path.cwd() / "examples" / "quickstart.ipynb"):
        if candidate.exists():
            return candidate
    raise SystemExit("The quickstart notebook was not found; pass a notebook path.")


def _line(text: str) -> None:
    sys.stdout.write("\r\033[K" + text[:150])
    sys.stdout.flush()


async def _demo(notebook: Path, model: str, questions: int) -> int:
    from .harness import KernelSocket, ServerProcess, SleeptimeClient, code_cells

    work = Path(tempfile.mkdtemp(prefix="sleeptime-demo-"))
    shutil.copy(notebook, work / notebook.name)
    traits = {"model": model} if model else {}
    print(f"Starting a Jupyter server with jupyter-sleeptime in {work} …")
    server = ServerProcess(work, work / "sleeptime.db", traits)
    server.start()
    try:
        client = SleeptimeClient(server.url, server.token)
        status = await client.status()
        print(f"Model: {status['model']} (sleep-time: {status['sleep_model']})")
        kernel_id = await client.open_notebook(notebook.name)
        kernel = KernelSocket(server.url, server.token, kernel_id)
        await kernel.connect()
        cells = code_cells(work / notebook.name)
        for index, source in enumerate(cells, 1):
            _line(f"Running cell {index}/{len(cells)}: {source.splitlines()[0]}")
            result = await kernel.execute(source)
            if result["reply"]["status"] == "error":
                _line(
                    f"Cell {index} raised {result['reply'].get('ename')} (kept, as a user would)\n"
                )
        _line(f"Ran {len(cells)} cells. The kernel is idle: sleep-time thinking starts now.\n")
        started = time.monotonic()

        def progress(state: dict[str, Any]) -> None:
            status = "thinking" if state["thinking"] else "waiting for idle"
            _line(
                f"  {status} · {state['pending']} tasks pending · "
                f"{state['usage']['sleep']['calls']} model calls, "
                f"{state['usage']['sleep']['prompt_tokens']} prompt tokens · "
                f"{time.monotonic() - started:.0f} s"
            )

        state = await client.wait_idle_thinking(kernel_id, progress=progress)
        sleep_usage = state["usage"]["sleep"]
        print(
            f"\nIdle-time thinking done in {time.monotonic() - started:.0f} s "
            f"({sleep_usage['calls']} calls, {sleep_usage['prompt_tokens']} prompt + "
            f"{sleep_usage['completion_tokens']} completion tokens)."
        )
        if state["last_run"] and not state["last_run"]["ok"]:
            print(f"  note: the last run stopped: {state['last_run']['error']}")
        print("\nNotebook memory (c′):\n" + _indent(state["memory"]["text"] or "(none)"))
        anticipated = [a["question"] for a in state["insights"]["anticipated"]][:questions]
        rows = []
        for question in [*anticipated, UNANTICIPATED]:
            for mode in ("sleep", "baseline"):
                _line(f"Asking ({mode}): {question}")
                # The baseline is measured cold, as after a notebook change (DESIGN.md).
                event = await client.ask(kernel_id, question, mode, cold=mode != "sleep")
                rows.append((question, mode, event))
                answer = event.get("answer") or event.get("message", "")
                print(f"\r\033[K[{mode}] {question}\n{_indent(answer.strip())}\n")
        print(_table(rows))
        return 0
    finally:
        server.stop()


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    out = [
        f"{'question':<46} {'mode':<9} {'source':<12} {'first token':>12} {'latency':>10} "
        f"{'prompt tok':>10} {'compl. tok':>10}"
    ]
    for question, mode, event in rows:
        if event.get("type") == "error":
            out.append(f"{question[:45]:<46} {mode:<9} error: {event.get('message', '')[:60]}")
            continue
        usage = event.get("usage", {})
        out.append(
            f"{question[:45]:<46} {mode:<9} {event.get('source', ''):<12} "
            f"{event.get('ttft_ms', 0) / 1000:>11.2f}s {event.get('latency_ms', 0) / 1000:>9.2f}s "
            f"{usage.get('prompt_tokens', 0):>10} {usage.get('completion_tokens', 0):>10}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jupyter sleeptime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a notebook, let it think while idle, ask")
    demo.add_argument("notebook", nargs="?", type=Path, help="default: the bundled quickstart")
    demo.add_argument(
        "--model",
        default=os.environ.get("JUPYTER_SLEEPTIME_MODEL", ""),
        help="LiteLLM model id; default: the embedded local model",
    )
    demo.add_argument("--questions", type=int, default=2, help="anticipated questions to ask")
    bench = commands.add_parser("bench", help="measure sleep vs baseline on notebooks")
    from . import bench as bench_module

    bench_module.add_arguments(bench)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return asyncio.run(_demo(args.notebook or _quickstart(), args.model, args.questions))
    return bench_module.run(args)


if __name__ == "__main__":
    sys.exit(main())
