"""The store fails under a running server: it keeps serving, says what is wrong, and loses
no execution. On SQLite (a file another program locks) and on PostgreSQL (a table another
session locks); a server restart on PostgreSQL keeps everything."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nbformat
import pytest
import sqlalchemy as sa

from jupyter_sleeptime.bench.runner import wait_kernel_idle
from jupyter_sleeptime.engine.state.store import default_user
from jupyter_sleeptime.engine.state.store.database import user_schema
from jupyter_sleeptime.testing.harness import KernelSocket, ServerClient, ServerProcess

from ..conftest import get_json, wait_for


async def kernel_state(jp_fetch, kernel_id: str) -> dict:
    return await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def sleeptime_config(backend, request) -> dict[str, Any]:
    if backend == "postgresql":
        return {"db_url": request.getfixturevalue("postgres_url")}
    return {}


@contextmanager
def writes_locked(backend: str, tmp_path, sleeptime_config) -> Iterator[None]:
    """Another program holds the write lock: SQLite's file lock, or a Postgres table lock
    (reads still go on under both)."""
    if backend == "sqlite":
        other = sqlite3.connect(tmp_path / "sleeptime.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = sa.create_engine(sleeptime_config["db_url"])
    with engine.connect() as other:
        schema = user_schema(default_user())
        other.exec_driver_sql(f'LOCK TABLE "{schema}".executions IN EXCLUSIVE MODE')
        try:
            yield
        finally:
            other.rollback()
    engine.dispose()


async def test_a_locked_store_keeps_executions_until_it_is_free(
    jp_fetch, start_kernel, tmp_path, backend, sleeptime_config
):
    kernel = await start_kernel(path="locked.ipynb")
    with writes_locked(backend, tmp_path, sleeptime_config):
        await kernel.execute("held = 41 + 1\nprint(held)")
        await kernel.execute("also = held * 2")
        status = await get_json(jp_fetch, "sleeptime", "api", "status")
        assert "could not be written" in status["store_error"]
        setting = "store_path" if backend == "sqlite" else "db_url"
        assert setting in status["store_error"]  # the message says what to do
        assert status["records_waiting"] >= 2
        state = await kernel_state(jp_fetch, kernel.kernel_id)  # reads still served
        assert not [e for e in state["executions"] if "held" in e["source"]]

    async def recorded() -> list[dict]:
        state = await kernel_state(jp_fetch, kernel.kernel_id)
        return [e for e in state["executions"] if "held" in e["source"]]

    first, second = await wait_for(recorded, timeout=30)
    assert first["outputs"][0]["text"] == "42\n" and first["status"] == "ok"
    assert second["source"] == "also = held * 2" and second["status"] == "ok"
    status = await get_json(jp_fetch, "sleeptime", "api", "status")
    assert status["store_error"] is None and status["records_waiting"] == 0


async def test_a_server_starts_on_a_corrupt_store_and_keeps_the_file(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "fresh.ipynb")
    store = tmp_path / "store.db"
    store.write_bytes(b"SQLite format 3\x00" + b"\x00garbage" * 512)
    with ServerProcess(root, store, {"model": "sleeptime-scripted/test"}) as server:
        client = ServerClient(server.url, server.token)
        status = await client.status()
        kernel_id = await client.open_notebook("fresh.ipynb")
        state = await client.kernel(kernel_id)
        log = server.log_path.read_text()
    assert status["store_error"] is None and state["executions"] == []
    [aside] = tmp_path.glob("store.db.corrupt-*")
    assert aside.read_bytes().startswith(b"SQLite format 3\x00\x00garbage")
    assert "is unreadable" in log and "moved to" in log


async def test_a_server_restart_on_postgres_keeps_executions_and_thinking(tmp_path, postgres_url):
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "kept.ipynb")
    traits = {"model": "sleeptime-scripted/test", "idle_seconds": 60, "db_url": postgres_url}
    with ServerProcess(root, tmp_path / "unused.db", traits) as server:
        client = ServerClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")
        kernel = KernelSocket(server.url, server.token, kernel_id)
        await kernel.connect()
        await wait_kernel_idle(client, kernel, kernel_id)
        await kernel.execute("total = 40 + 2\nprint(total)")
        await kernel.execute("words = ['a', 'b']")

        async def both_recorded() -> bool:
            state = await client.kernel(kernel_id)
            return [e["status"] for e in state["executions"]] == ["ok", "ok"]

        await wait_for(both_recorded, 30)
        first = await client.think(kernel_id)
        state = await client.kernel(kernel_id)
        kernel.close()
    assert first["ok"] and state["insights"]["cells"]
    recorded = [(e["source"], e["outputs"]) for e in state["executions"]]

    with ServerProcess(root, tmp_path / "unused.db", traits) as server:
        client = ServerClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")  # a new kernel, same notebook
        again_state = await client.kernel(kernel_id)
        again = await client.think(kernel_id)
    assert [(e["source"], e["outputs"]) for e in again_state["executions"]] == recorded
    assert again_state["memory"]["version"] == 1 and "total" in again_state["memory"]["text"]
    assert again_state["insights"]["cells"] == state["insights"]["cells"]
    assert again["ran"] == []  # nothing re-thought: the results are keyed and persisted
    assert not (tmp_path / "unused.db").exists()  # everything went to the database
