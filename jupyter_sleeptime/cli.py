"""`jupyter sleeptime …`: `demo` (the newcomer's first run), `bench` (the measurements) and
`mcp` (the server's MCP tools over stdio)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from . import protocol
from .bench.progress import Progress, clip, is_tty, plural

QUICKSTART = Path(__file__).parent / "examples" / "quickstart.ipynb"
UNANTICIPATED = "Summarise in two sentences what this notebook does and its main result."
INDENT = "    "
QUESTION_WIDTH = 45  # the question column of the closing table
WAIT_EVERY = 10.0  # seconds between "no token yet" lines when stdout is not a terminal


def _quickstart() -> Path:
    repo = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"  # editable install
    for candidate in (QUICKSTART, repo, Path.cwd() / "examples" / "quickstart.ipynb"):
        if candidate.exists():
            return candidate
    raise SystemExit("The quickstart notebook was not found; pass a notebook path.")


# -- the demo ---------------------------------------------------------------------------------------
DEMO_DIR = Path("~/sleeptime-demo")


def _demo_copy(notebook: Path, folder: Path) -> tuple[Path, bool]:
    """The demo's notebook: a copy in the user's folder, so the original (the checkout's or
    the installed package's quickstart) is never opened, run or saved over. A copy already
    there is kept (it may hold the user's own work); returns it and whether it is new."""
    folder = folder.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / notebook.name
    if copy.exists():
        return copy, False
    shutil.copy(notebook, copy)
    return copy, True


async def _demo(notebook: Path, model: str, questions: int, folder: Path = DEMO_DIR) -> int:
    from .testing.harness import ServerClient, ServerProcess

    path, fresh = _demo_copy(notebook, folder)
    print(
        f"The demo works on {'a copy' if fresh else 'your copy'} of {notebook.name}: {path}",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="sleeptime-demo-"))  # store and log: thrown away
    traits = {"model": model} if model else {}
    print("Starting a Jupyter server with jupyter-sleeptime …", flush=True)
    server = ServerProcess(path.parent, scratch / "sleeptime.db", traits, scratch / "server.log")
    server.start()
    try:
        client = ServerClient(server.url, server.token)
        status = await client.status()
        print(f"Model: {status['model']} (idle-time work: {status['sleep_model']})", flush=True)
        progress = Progress(sys.stdout)  # one clock for the cells and the idle time
        kernel_id = await _run_notebook(server, client, path, progress)
        state = await _wait_for_thinking(client, kernel_id, progress)
        memory = state["memory"]["text"] or "(none)"
        print("\nNotebook memory (what idle time wrote about the notebook):\n" + _indent(memory))
        anticipated = [a["question"] for a in state["insights"]["anticipated"]][:questions]
        rows = await _ask_all(client, kernel_id, [*anticipated, UNANTICIPATED])
        print(_table(rows))
        print(_next_steps(path))
        return 0
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


async def _run_notebook(server: Any, client: Any, path: Path, progress: Progress) -> str:
    """Open the notebook's kernel and run its code cells as a user would (errors kept)."""
    from .testing.harness import KernelSocket, ask_cells, code_cells

    kernel_id = await client.open_notebook(path.name)
    kernel = KernelSocket(server.url, server.token, kernel_id)
    await kernel.connect()
    cells = code_cells(path)
    try:
        for index, source in enumerate(cells, 1):
            lines = source.strip().splitlines()
            first = lines[0] + (" …" if len(lines) > 1 else "")
            progress.phase(clip(f"running cell {index}/{len(cells)}: {first}", 100))
            result = await kernel.execute(source)
            if result["reply"]["status"] == "error":
                ename = result["reply"].get("ename")
                progress.note(f"cell {index} raised {ename} (kept, as a user would)")
        skipped = ask_cells(path)
        skipping = (
            f" (skipped {plural(skipped, 'cell')} that only asks with `%ask`: the demo asks"
            " its questions below)"
            if skipped
            else ""
        )
        progress.note(
            f"Ran {plural(len(cells), 'code cell')}{skipping}. The kernel is idle now, so "
            "idle-time thinking begins."
        )
    finally:
        progress.close()
        kernel.close()
    return kernel_id


async def _wait_for_thinking(client: Any, kernel_id: str, progress: Progress) -> dict[str, Any]:
    """Wait until idle-time thinking is done, showing what it does; returns the kernel state."""
    started = time.monotonic()

    def show(state: dict[str, Any]) -> None:
        progress.phase(_thinking_line(state), key="thinking")

    try:
        state = await client.wait_idle_thinking(kernel_id, progress=show)
    finally:
        progress.close()
    usage = state["usage"]["sleep"]
    print(
        f"\nIdle-time thinking done in {time.monotonic() - started:.0f} s "
        f"({plural(usage['calls'], 'call')}, {usage['prompt_tokens']:,} prompt + "
        f"{plural(usage['completion_tokens'], 'completion token')})."
    )
    if state["last_run"] and not state["last_run"]["ok"]:
        print(f"  note: the last run stopped: {state['last_run']['error']}")
    return state


def _thinking_line(state: dict[str, Any]) -> str:
    """What idle time is doing, in words: the task that runs and how many follow."""
    usage = state["usage"]["sleep"]
    task = protocol.task_words(state.get("current_task"))
    if state["thinking"]:
        doing = f"thinking: {task}" if task else "thinking"
        left = state["pending"]
        doing += f" ({plural(left, 'more task')} after this)" if left else ""
    else:
        doing = "about to start" if state["pending"] else "finishing"
    return (
        f"{doing} · so far {plural(usage['calls'], 'model call')}, "
        f"{plural(usage['prompt_tokens'], 'prompt token')}"
    )


async def _ask_all(
    client: Any, kernel_id: str, questions: list[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Ask every question in sleep mode, then in the query-time-only baseline, streaming."""
    print(
        "\nEach question is asked twice: `sleep` answers from what idle time prepared;\n"
        "`baseline` reads the whole notebook at question time, as a query-time-only assistant\n"
        "does (measured cold, as after a notebook change).\n",
        flush=True,
    )
    rows = []
    for question in questions:
        for mode in ("sleep", "baseline"):
            print(f"[{mode}] {question}", flush=True)
            printer = AnswerPrinter(sys.stdout)
            waiting = asyncio.create_task(printer.wait_for_first_token())
            try:
                # The baseline is measured cold, as after a notebook change (docs/DESIGN.md).
                event = await client.ask(
                    kernel_id, question, mode, on_token=printer.token, cold=mode != "sleep"
                )
            finally:
                waiting.cancel()
            printer.finish(event)
            rows.append((question, mode, event))
    return rows


class AnswerPrinter:
    """One answer printed as its tokens arrive, indented. Until the first token comes, a
    waiting line: redrawn every second on a terminal, a new line every `WAIT_EVERY` seconds
    anywhere else (never a carriage return in a log)."""

    def __init__(self, out: TextIO, wait_every: float = WAIT_EVERY) -> None:
        self.out = out
        self.tty = is_tty(out)
        self.wait_every = wait_every
        self.started = time.monotonic()
        self.streamed = False
        self.line_start = True
        self._waiting_drawn = False

    async def wait_for_first_token(self) -> None:
        tick = 1.0 if self.tty else self.wait_every
        while not self.streamed:
            await asyncio.sleep(tick)
            if self.streamed:
                return
            waited = time.monotonic() - self.started
            text = f"{INDENT}… {waited:.0f} s, no token yet (the model is reading the prompt)"
            if self.tty:
                self.out.write("\r\033[K" + text)
                self._waiting_drawn = True
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def token(self, text: str) -> None:
        if not self.streamed:
            text = text.lstrip()
            if not text:
                return
            if self._waiting_drawn:
                self.out.write("\r\033[K")
                self._waiting_drawn = False
            self.streamed = True
        self._write(text)

    def finish(self, event: dict[str, Any]) -> None:
        if self._waiting_drawn:
            self.out.write("\r\033[K")
            self._waiting_drawn = False
        if event.get("type") == "error":
            self._end_line()
            self._write(f"error: {event.get('message', '')}")
        elif not self.streamed:
            self._write((event.get("answer") or "").strip() or "(empty answer)")
        self._end_line()
        if event.get("type") != "error":
            self.out.write(f"{INDENT}({_answer_facts(event)})\n")
        self.out.write("\n")
        self.out.flush()

    def _write(self, text: str) -> None:
        for piece in text.splitlines(keepends=True):
            if self.line_start and piece.strip("\n"):
                self.out.write(INDENT)
            self.out.write(piece)
            self.line_start = piece.endswith("\n")
        self.out.flush()

    def _end_line(self) -> None:
        if not self.line_start:
            self.out.write("\n")
            self.line_start = True


def _answer_facts(event: dict[str, Any]) -> str:
    usage = event.get("usage") or {}
    source = event.get("source") or ""
    where = "prepared answer, no model call" if source == "anticipated" else source or "model"
    return (
        f"{where} · first token {event.get('ttft_ms', 0) / 1000:.2f} s · "
        f"answer {event.get('latency_ms', 0) / 1000:.2f} s · "
        f"{plural(usage.get('prompt_tokens', 0), 'prompt token')}"
    )


def _indent(text: str) -> str:
    return "\n".join(INDENT + line for line in text.splitlines())


def _table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    q = QUESTION_WIDTH
    out = [
        f"{'question':<{q + 1}} {'mode':<9} {'source':<12} {'first token':>12} {'latency':>10} "
        f"{'prompt tok':>10} {'compl. tok':>10}"
    ]
    for question, mode, event in rows:
        cut = clip(question, q)
        if event.get("type") == "error":
            out.append(f"{cut:<{q + 1}} {mode:<9} error: {clip(event.get('message', ''), 60)}")
            continue
        usage = event.get("usage", {})
        out.append(
            f"{cut:<{q + 1}} {mode:<9} {event.get('source', ''):<12} "
            f"{event.get('ttft_ms', 0) / 1000:>11.2f}s {event.get('latency_ms', 0) / 1000:>9.2f}s "
            f"{usage.get('prompt_tokens', 0):>10} {usage.get('completion_tokens', 0):>10}"
        )
    return "\n".join(out)


def _next_steps(notebook: Path) -> str:
    """Where to go after the demo: JupyterLab on the demo's copy, then `%ask`."""
    folder = notebook.parent
    home = Path.home()
    if folder.is_relative_to(home):  # ~ stays outside the quotes, so the shell expands it
        shown = "~/" + shlex.quote(str(folder.relative_to(home)))
    else:
        shown = shlex.quote(str(folder))
    root = "--allow-root " if getattr(os, "geteuid", lambda: -1)() == 0 else ""
    return "\n".join(
        [
            "",
            f"Next: try it yourself in JupyterLab, on the demo's copy ({notebook}).",
            f"{INDENT}cd {shown} && jupyter lab {root}{notebook.name}",
            "  Run the cells, leave the kernel idle a few seconds, then ask in a new cell:",
            f"{INDENT}%load_ext jupyter_sleeptime",
            f"{INDENT}%ask What does this notebook do so far?",
            "  (`%ask` alone shows the prepared questions), or open the Sleeptime panel in the",
            "  right sidebar.",
        ]
    )


# -- entry point ------------------------------------------------------------------------------------
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
    demo.add_argument(
        "--dir",
        type=Path,
        default=DEMO_DIR,
        help="the folder the demo copies the notebook into and runs it from (default: %(default)s)",
    )
    mcp = commands.add_parser("mcp", help="the MCP tools over stdio, for stdio-only clients")
    mcp.add_argument(
        "--url", help="server URL; default: $JUPYTER_SLEEPTIME_URL or the running server"
    )
    mcp.add_argument("--token", help="server token; default: $JUPYTER_TOKEN or the runtime file")
    bench = commands.add_parser("bench", help="measure sleep vs baseline on notebooks")
    from . import bench as bench_module

    bench_module.add_arguments(bench)
    args = parser.parse_args(argv)
    if args.command == "demo":
        notebook = args.notebook or _quickstart()
        return asyncio.run(_demo(notebook, args.model, args.questions, args.dir))
    if args.command == "mcp":
        from .server import mcp_stdio

        return mcp_stdio.run(args.url, args.token)
    return bench_module.run(args)


if __name__ == "__main__":
    sys.exit(main())
