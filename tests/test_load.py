"""Under concurrent load every execution is recorded (timings are the benchmark's job)."""

from __future__ import annotations

from jupyter_sleeptime.loadtest import run_load


async def test_every_execution_is_recorded_under_concurrent_load():
    result = await run_load(kernels=4, executions=40)
    assert result["recorded"] == result["expected"] == 160
    assert result["status_requests"] > 0
