"""Under concurrent load every execution is recorded (timings are the benchmark's job)."""

from __future__ import annotations

from jupyter_sleeptime.bench.load import run_load


async def test_every_execution_is_recorded_under_concurrent_load():
    result = await run_load(kernels=4, executions=40)
    assert result["recorded"] == result["expected"] == 160
    assert result["status_requests"] > 0


async def test_a_class_on_one_database_does_the_shared_work_once(postgres_url):
    """Three users' servers on one PostgreSQL database run the same notebook at once, with
    shared insights: every execution is recorded, and the explanations and the diagnosis
    cost about what one user alone pays (claims keep users from doing the same work)."""
    from jupyter_sleeptime.bench.load import TEAM_NOTEBOOK, run_team_load

    result = await run_team_load(users=3, db_url=postgres_url)
    assert result["recorded"] == result["expected"] == 3 * len(TEAM_NOTEBOOK)
    assert result["shared_work_calls_one_user"] > 0
    assert result["shared_work_ratio"] <= 1.1
    assert result["shared_items_reused"] > 0 and result["status_requests"] > 0
    assert result["status_server_p95_ms"] is not None  # the server says what the view cost
