"""Load: many kernels running many cells at once. Every execution must be recorded and the
status route must stay responsive (`jupyter sleeptime bench --load`).

The class load (`python -m jupyter_sleeptime.bench.load --users 20`): many users' servers on
one PostgreSQL database running the same notebook with shared insights, where the idle-time
work they can share must be done about once, not once per user. Each simulated user polls
`GET status` as the JupyterLab sidebar does (every 2 s while thinking runs; `--poll-seconds`)
and reads its kernel's details once, when its thinking is over."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat

from ..engine.state.store import Store
from ..testing.harness import KernelSocket, ServerClient, ServerProcess
from .runner import wait_kernel_idle
from .summary import median, percentile


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def run_load(
    kernels: int = 20, executions: int = 200, model: str = "sleeptime-scripted/load"
) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="sleeptime-load-"))
    for index in range(kernels):
        nbformat.write(nbformat.v4.new_notebook(), root / f"load_{index}.ipynb")
    server = ServerProcess(root, root / "store.db", {"model": model, "idle_seconds": 1})
    await asyncio.to_thread(server.start)
    try:
        client = ServerClient(server.url, server.token)
        kernel_ids = [await client.open_notebook(f"load_{i}.ipynb") for i in range(kernels)]
        sockets = [KernelSocket(server.url, server.token, k) for k in kernel_ids]
        for sock in sockets:
            await sock.connect()
            await sock.execute("pass")  # the kernel is up before the clock starts
        latencies: list[float] = []
        running = True

        async def poll_status() -> None:
            while running:
                started = time.perf_counter()
                await client.status()
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.1)

        async def drive(sock: KernelSocket, index: int) -> None:
            for step in range(executions):
                await sock.execute(f"v_{index}_{step} = {step} * 2")

        poller = asyncio.ensure_future(poll_status())
        started = time.perf_counter()
        await asyncio.gather(*(drive(s, i) for i, s in enumerate(sockets)))
        seconds = time.perf_counter() - started
        running = False
        await poller
        await asyncio.sleep(1.0)  # the last idle messages reach the observer
        recorded = 0
        for kernel_id in kernel_ids:
            state = await client.kernel(kernel_id)
            recorded += sum(
                1 for e in state["executions"] if e["source"].startswith("v_") and e["status"]
            )
        for sock in sockets:
            sock.close()
        return {
            "kernels": kernels,
            "executions_per_kernel": executions,
            "expected": kernels * executions,
            "recorded": recorded,
            "seconds": round(seconds, 1),
            "executions_per_second": round(kernels * executions / seconds, 1),
            "status_requests": len(latencies),
            "status_p50_ms": _rounded(median(latencies)),
            "status_p95_ms": _rounded(percentile(latencies, 95)),
            "status_max_ms": round(max(latencies), 1) if latencies else None,
        }
    finally:
        server.stop()


# -- a class on one database: many users, the same notebook ----------------------------------------
# A course notebook as a class runs it: values printed, a summary, a failing cell (a diagnosis).
TEAM_NOTEBOOK = [
    "scores = [71, 84, 90, 62, 88, 95, 79]\nprint(len(scores), 'scores')",
    "mean = sum(scores) / len(scores)\nprint(round(mean, 2))",
    "passed = [s for s in scores if s >= 70]\nprint(passed)",
    "ranked = sorted(scores, reverse=True)\nprint(ranked[:3])",
    "grades = {s: ('A' if s >= 90 else 'B' if s >= 80 else 'C') for s in scores}\nprint(grades)",
    "spread = max(scores) - min(scores)\nprint(spread)",
    "scores['best']",  # fails: TypeError
]
SHARED_TASKS = ("explain_cells", "diagnose_error")
# How often each simulated user's sidebar asks for `GET status` while thinking runs: the
# JupyterLab sidebar's fast poll (labextension/src/poll.ts, POLL_FAST_MS).
SIDEBAR_POLL_SECONDS = 2.0


async def _start_as(servers: list[ServerProcess], users: list[str]) -> None:
    """Start the servers together, each as its user (JupyterHub sets JUPYTERHUB_USER)."""
    before = os.environ.get("JUPYTERHUB_USER")
    starting = []
    try:
        for server, user in zip(servers, users, strict=True):
            os.environ["JUPYTERHUB_USER"] = user  # read by the child when it is spawned
            starting.append(asyncio.ensure_future(asyncio.to_thread(server.start, 600)))
            while server.proc is None and not starting[-1].done():
                await asyncio.sleep(0.05)
    finally:
        if before is None:
            os.environ.pop("JUPYTERHUB_USER", None)
        else:
            os.environ["JUPYTERHUB_USER"] = before
    await asyncio.gather(*starting)


async def _class_run(
    users: list[str], db_url: str, traits: dict[str, Any], root: Path, poll_seconds: float
) -> dict[str, Any]:
    """Every user runs TEAM_NOTEBOOK at the same time; idle-time thinking runs on its own."""
    servers = []
    for user in users:
        folder = root / user
        folder.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), folder / "course.ipynb")
        servers.append(ServerProcess(folder, folder / "unused.db", {**traits, "db_url": db_url}))
    try:
        await _start_as(servers, users)
        clients = [ServerClient(s.url, s.token) for s in servers]
        kernel_ids = [await c.open_notebook("course.ipynb") for c in clients]
        sockets = [
            KernelSocket(s.url, s.token, k) for s, k in zip(servers, kernel_ids, strict=True)
        ]
        for client, sock, kernel_id in zip(clients, sockets, kernel_ids, strict=True):
            await sock.connect()
            await wait_kernel_idle(client, sock, kernel_id)
        polls: list[tuple[str, float, float | None]] = []  # (phase, round trip, server) ms
        running, phase = True, "cells"
        done = asyncio.Semaphore(0)

        async def sidebar(client: ServerClient, kernel_id: str) -> dict[str, Any] | None:
            """One user's JupyterLab sidebar: `GET status` every `poll_seconds`, and the
            kernel's details once its thinking is over (the sidebar fetches them when
            something changed); returns those details."""
            final, calm_since = None, None
            while running:
                started = time.perf_counter()
                status, server_ms = await client.status_timed()
                polls.append((phase, (time.perf_counter() - started) * 1000, server_ms))
                if final is None and phase == "thinking":
                    mine = next(k for k in status["kernels"] if k["kernel_id"] == kernel_id)
                    if mine["thinking"] or mine["pending"] or not mine["last_run"]:
                        calm_since = None
                    elif time.monotonic() - (calm_since := calm_since or time.monotonic()) >= 1:
                        final = await client.kernel(kernel_id)
                        done.release()
                await asyncio.sleep(poll_seconds)
            return final

        async def attend(sock: KernelSocket) -> None:
            for source in TEAM_NOTEBOOK:
                await sock.execute(source)

        sidebars = [
            asyncio.ensure_future(sidebar(c, k)) for c, k in zip(clients, kernel_ids, strict=True)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(attend(s) for s in sockets))
        phase = "thinking"

        async def all_done() -> None:
            for _ in users:
                await done.acquire()

        await asyncio.wait_for(all_done(), timeout=900)
        seconds = time.perf_counter() - started
        running = False
        finals = [final for final in await asyncio.gather(*sidebars) if final is not None]
        for sock in sockets:
            sock.close()
        recorded = sum(
            sum(1 for e in state["executions"] if e["source"] in TEAM_NOTEBOOK and e["status"])
            for state in finals
        )
        shared_items = sum(
            sum(
                1
                for item in state["insights"]["cells"] + state["insights"]["errors"]
                if item.get("shared")
            )
            for state in finals
        )
        return {
            "seconds": round(seconds, 1),
            "recorded": recorded,
            "shared_items": shared_items,
            "polls": polls,
        }
    finally:
        for server in servers:
            server.stop()


def _shared_work_calls(db_url: str, users: list[str]) -> int:
    """Idle-time model calls for the work users can share, from each user's usage ledger."""
    calls = 0
    for user in users:
        store = Store(url=db_url, user=user)
        try:
            calls += sum(1 for r in store.usage_rows(kind="sleep") if r["task"] in SHARED_TASKS)
        finally:
            store.close()
    return calls


async def run_team_load(
    users: int = 20,
    db_url: str | None = None,
    model: str = "sleeptime-scripted/load",
    poll_seconds: float = SIDEBAR_POLL_SECONDS,
) -> dict[str, Any]:
    """`users` single-user servers (each its own user, root folder and schema) on one
    database, all running the same notebook at once with shared insights on; and, for the
    baseline, one user alone. Without `db_url` a throwaway PostgreSQL server is started."""
    postgres = None
    if db_url is None:
        from ..testing.postgres import PostgresServer

        postgres = await asyncio.to_thread(PostgresServer().start)
        baseline_url, team_url = postgres.create_database(), postgres.create_database()
    else:
        baseline_url = team_url = db_url
    root = Path(tempfile.mkdtemp(prefix="sleeptime-team-"))
    scope = f"load-{uuid.uuid4().hex[:8]}"  # a fresh scope: nothing shared from earlier runs
    traits = {"model": model, "idle_seconds": 1, "share_insights": True}
    try:
        alone = [f"alone-{scope}"]
        alone_traits = {**traits, "share_scope": f"{scope}-alone"}
        await _class_run(alone, baseline_url, alone_traits, root, poll_seconds)
        one_user = _shared_work_calls(baseline_url, alone)
        team = [f"student{i:02d}-{scope}" for i in range(users)]
        run = await _class_run(team, team_url, {**traits, "share_scope": scope}, root, poll_seconds)
        team_calls = _shared_work_calls(team_url, team)
    finally:
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
    latencies = [total for _, total, _ in run["polls"]]
    server = [s for _, _, s in run["polls"] if s is not None]
    by_phase = {
        phase: [total for p, total, _ in run["polls"] if p == phase]
        for phase in ("cells", "thinking")
    }
    return {
        "users": users,
        "poll_seconds": poll_seconds,
        "cells": len(TEAM_NOTEBOOK),
        "expected": users * len(TEAM_NOTEBOOK),
        "recorded": run["recorded"],
        "seconds": run["seconds"],
        "shared_work_calls_one_user": one_user,
        "shared_work_calls_all_users": team_calls,
        "shared_work_ratio": round(team_calls / one_user, 2) if one_user else None,
        "shared_items_reused": run["shared_items"],
        "status_requests": len(latencies),
        "status_p50_ms": _rounded(median(latencies)),
        "status_p95_ms": _rounded(percentile(latencies, 95)),
        "status_max_ms": round(max(latencies), 1) if latencies else None,
        # Where the time goes: the server's own work on the view (its Server-Timing header),
        # and the round trip while the cells run (20 kernels importing and fitting on the
        # same cores) and afterwards, while only idle-time thinking runs.
        "status_server_p95_ms": _rounded(percentile(server, 95)),
        "status_p95_ms_while_cells_run": _rounded(percentile(by_phase["cells"], 95)),
        "status_p95_ms_while_thinking": _rounded(percentile(by_phase["thinking"], 95)),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m jupyter_sleeptime.bench.load --users 20 [--db-url URL]`: the class load test."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--db-url", default=None, help="default: a throwaway PostgreSQL server")
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=SIDEBAR_POLL_SECONDS,
        help="how often each user polls GET status (default: the sidebar's fast poll)",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run_team_load(args.users, args.db_url, poll_seconds=args.poll_seconds))
    print(json.dumps(result, indent=2))
    ok = (
        result["recorded"] == result["expected"]
        and (result["shared_work_ratio"] or 0) <= 1.1
        and (result["status_p95_ms"] or 0) < 250
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
