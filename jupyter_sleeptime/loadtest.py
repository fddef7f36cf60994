"""Load: many kernels running many cells at once. Every execution must be recorded and the
status route must stay responsive (`jupyter sleeptime bench --load`)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from .harness import KernelSocket, ServerProcess, SleeptimeClient


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_load(
    kernels: int = 20, executions: int = 200, model: str = "sleeptime-scripted/load"
) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="sleeptime-load-"))
    for index in range(kernels):
        nbformat.write(nbformat.v4.new_notebook(), root / f"load_{index}.ipynb")
    server = ServerProcess(root, root / "store.db", {"model": model, "idle_seconds": 1})
    await asyncio.to_thread(server.start)
    try:
        client = SleeptimeClient(server.url, server.token)
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
            "status_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "status_p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
            "status_max_ms": round(max(latencies), 1) if latencies else None,
        }
    finally:
        server.stop()
