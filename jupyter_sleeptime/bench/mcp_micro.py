"""Micro-benchmark `mcp`: the MCP tools through a real MCP client session.

A server with the extension runs each notebook's cells in a real kernel and thinks once;
then the `mcp` SDK's client, over streamable HTTP with the server's token, calls every tool
in turns (after a warm-up) and times each call on the client: p50/p95 per tool, goal
< 50 ms. `ask` is timed with a prepared question (the overview lists them); a question the
model must answer costs the model's time and is not part of this figure.

Characters: what an agent reads to learn the notebook — `notebook_overview` (and one
`name_fact` card) — against the same notebook read whole, (a) as its `.ipynb` with the
outputs the kernel produced (what notebook-reading MCP tools return) and (b) as the text
a query-time assistant sends (markdown, cells, outputs capped, digest: the baseline
prompt). Goal: ≥ 10× fewer characters than (a).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from ..testing.harness import KernelSocket, ServerClient, ServerProcess, code_cells
from .progress import Progress
from .runner import wait_digest, wait_kernel_idle
from .summary import median, percentile

GOAL_P95_MS = 50.0
GOAL_RATIO = 10.0


async def mcp_micro(
    progress: Progress,
    traits: dict[str, Any],
    logs: Path | None,
    notebooks: list[Path] | None = None,
    runs: int = 50,
    warmup: int = 3,
) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    paths = notebooks or [_quickstart()]
    work = Path(tempfile.mkdtemp(prefix="sleeptime-micro-mcp-"))
    (work / "root").mkdir()
    server = ServerProcess(
        work / "root",
        work / "sleeptime.db",
        {**traits, "idle_seconds": 3600},  # thinking only when asked: nothing runs meanwhile
        log_path=(logs / "micro-mcp.server.log") if logs else None,
    )
    kernels: list[KernelSocket] = []
    times: dict[str, list[float]] = {}
    chars: list[dict[str, Any]] = []
    try:
        progress.phase("mcp: starting a server")
        await asyncio.to_thread(server.start)
        client = ServerClient(server.url, server.token)
        for path in paths:
            progress.phase(f"mcp: running {path.name}")
            kernel_id, kernel, executed = await _run(client, server, path)
            kernels.append(kernel)
            progress.phase(f"mcp: thinking about {path.name}")
            await client.think(kernel_id)
            headers = {"Authorization": f"token {server.token}"}
            async with (
                create_mcp_http_client(headers=headers) as http,
                Client(
                    streamable_http_client(server.url + "sleeptime/mcp", http_client=http)
                ) as mcp,
            ):
                calls = await _calls(mcp, path.name)
                for index in range(warmup + runs):
                    for tool, arguments in calls:
                        started = time.perf_counter()
                        result = await mcp.call_tool(tool, arguments)
                        elapsed = (time.perf_counter() - started) * 1000
                        if result.is_error:
                            raise RuntimeError(f"{tool} failed: {result.content[0].text}")
                        if index >= warmup:
                            times.setdefault(tool, []).append(elapsed)
                    progress.phase(f"mcp: {path.name} round {index + 1}/{warmup + runs}", key="mcp")
                chars.append(await _chars(mcp, client, kernel_id, path, executed, calls))
        per_tool = {tool: _stats(values) for tool, values in times.items()}
        worst = max((s["p95"] or 0.0) for s in per_tool.values()) if per_tool else None
        ratios = [c["ratio_ipynb"] for c in chars]
        return {
            "notebooks": [p.name for p in paths],
            "cores": os.cpu_count(),
            "loadavg_end": os.getloadavg()[0],
            "runs": runs,
            "per_tool_ms": per_tool,
            "p95_max_ms": worst,
            "p95_goal_ms": GOAL_P95_MS,
            "p95_goal_met": worst is not None and worst < GOAL_P95_MS,
            "chars": chars,
            "min_ratio_ipynb": min(ratios) if ratios else None,
            "median_ratio_ipynb": median(ratios),
            "median_ratio_prompt": median(c["ratio_prompt"] for c in chars),
            "ratio_goal": GOAL_RATIO,
            "ratio_goal_met": bool(ratios) and min(ratios) >= GOAL_RATIO,
        }
    finally:
        for kernel in kernels:
            kernel.close()
        await asyncio.to_thread(server.stop)
        shutil.rmtree(work, ignore_errors=True)


async def _run(
    client: ServerClient, server: ServerProcess, path: Path
) -> tuple[str, KernelSocket, dict[str, Any]]:
    """Run the notebook's code cells; its document with the outputs they produced."""
    shutil.copy(path, server.root_dir / path.name)
    kernel_id = await client.open_notebook(path.name)
    kernel = KernelSocket(server.url, server.token, kernel_id)
    await kernel.connect()
    await wait_kernel_idle(client, kernel, kernel_id)
    outputs: dict[str, list[dict[str, Any]]] = {}
    for source in code_cells(path):
        result = await kernel.execute(source)
        outputs[source] = result["outputs"]
    await wait_digest(client, kernel_id)
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source in outputs:
            cell.outputs = [_output(o) for o in outputs[cell.source]]
    return kernel_id, kernel, notebook


def _output(message: dict[str, Any]) -> Any:
    kind = message["type"]
    content = {k: v for k, v in message.items() if k != "type"}
    return nbformat.v4.output_from_msg({"header": {"msg_type": kind}, "content": content})


async def _calls(mcp: Any, notebook: str) -> list[tuple[str, dict[str, Any]]]:
    """One call of each tool, with arguments the notebook's own state gives."""
    overview = (await mcp.call_tool("notebook_overview", {"notebook": notebook})).structured_content
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_notebooks", {}),
        ("notebook_overview", {"notebook": notebook}),
        ("error_card", {"notebook": notebook}),
        ("next_steps", {"notebook": notebook}),
    ]
    if overview["names"]:
        calls.append(("name_fact", {"notebook": notebook, "name": overview["names"][0]["name"]}))
    done = [r for r in overview["newest_results"] if r["execution_count"] is not None]
    if done:
        cell = done[-1]["execution_count"]
        calls.append(("explain_cell", {"notebook": notebook, "cell": cell}))
    if overview["prepared_questions"]:
        question = overview["prepared_questions"][0]
        calls.append(("ask", {"notebook": notebook, "question": question, "prepared_only": True}))
    return calls


async def _chars(
    mcp: Any,
    client: ServerClient,
    kernel_id: str,
    path: Path,
    executed: Any,
    calls: list[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    def text(result: Any) -> str:
        return "".join(getattr(block, "text", "") for block in result.content)

    overview = text(await mcp.call_tool("notebook_overview", {"notebook": path.name}))
    card = next((a for t, a in calls if t == "name_fact"), None)
    fact = text(await mcp.call_tool("name_fact", card)) if card else ""
    ipynb = len(nbformat.writes(executed))
    preview = await client.ask(kernel_id, "What does this notebook do?", "baseline", dry_run=True)
    prompt = sum(len(m["content"]) for m in preview.get("messages") or [])
    return {
        "notebook": path.name,
        "overview_chars": len(overview),
        "name_fact_chars": len(fact),
        "ipynb_with_outputs_chars": ipynb,
        "baseline_prompt_chars": prompt,
        "ratio_ipynb": round(ipynb / max(1, len(overview)), 2),
        "ratio_prompt": round(prompt / max(1, len(overview)), 2),
        "ratio_ipynb_name_fact": round(ipynb / max(1, len(fact)), 2) if fact else None,
    }


def _stats(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "p50": median(values), "p95": percentile(values, 95)}


def _quickstart() -> Path:
    from ..cli import _quickstart

    return _quickstart()


def brief(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "p95_max_ms": result.get("p95_max_ms"),
        "min_ratio_ipynb": result.get("min_ratio_ipynb"),
        "median_ratio_prompt": result.get("median_ratio_prompt"),
        "per_tool_p95_ms": {
            t: round(s["p95"] or 0, 2) for t, s in (result.get("per_tool_ms") or {}).items()
        },
        "ratio_ipynb": {c["notebook"]: c["ratio_ipynb"] for c in result.get("chars", [])},
    }


def render(result: dict[str, Any]) -> list[str]:
    """Markdown lines for the report (`report.render_micro`)."""
    per_tool = result.get("per_tool_ms") or {}
    out = [
        f"MCP tools through a real MCP client session ({result.get('runs')} rounds per notebook "
        f"on {', '.join(result.get('notebooks') or [])}; load average at the end "
        f"{result.get('loadavg_end', 0):.1f} on {result.get('cores')} cores):",
        "",
        "| tool | p50 ms | p95 ms |",
        "|---|---|---|",
    ]
    for tool, stats in per_tool.items():
        out.append(f"| `{tool}` | {stats['p50'] or 0:.1f} | {stats['p95'] or 0:.1f} |")
    met = "met" if result.get("p95_goal_met") else "missed"
    out += [
        "",
        f"Goal p95 < {GOAL_P95_MS:.0f} ms: {met} (worst p95 {result.get('p95_max_ms') or 0:.1f} ms).",
        "",
    ]
    out += [
        "| notebook | overview chars | .ipynb with outputs | ratio | baseline prompt | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for c in result.get("chars") or []:
        out.append(
            f"| {c['notebook']} | {c['overview_chars']:,} | {c['ipynb_with_outputs_chars']:,} | "
            f"{c['ratio_ipynb']}× | {c['baseline_prompt_chars']:,} | {c['ratio_prompt']}× |"
        )
    met = "met" if result.get("ratio_goal_met") else "missed"
    out += ["", f"Goal ≥ {GOAL_RATIO:.0f}× fewer characters than the `.ipynb`: {met}.", ""]
    return out
