"""The store fails under a running server: it keeps serving, says what is wrong, and loses
no execution."""

from __future__ import annotations

import sqlite3

import nbformat

from jupyter_sleeptime.harness import ServerProcess, SleeptimeClient

from ..conftest import get_json, wait_for


async def kernel_state(jp_fetch, kernel_id: str) -> dict:
    return await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel_id)


async def test_a_locked_store_keeps_executions_until_it_is_free(jp_fetch, start_kernel, tmp_path):
    kernel = await start_kernel(path="locked.ipynb")
    other = sqlite3.connect(tmp_path / "sleeptime.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        await kernel.execute("held = 41 + 1\nprint(held)")
        await kernel.execute("also = held * 2")
        status = await get_json(jp_fetch, "sleeptime", "api", "status")
        assert "could not be written" in status["store_error"]
        assert "store_path" in status["store_error"]  # the message says what to do
        assert status["records_waiting"] >= 2
        state = await kernel_state(jp_fetch, kernel.kernel_id)  # reads still served
        assert not [e for e in state["executions"] if "held" in e["source"]]
    finally:
        other.execute("ROLLBACK")
        other.close()

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
        client = SleeptimeClient(server.url, server.token)
        status = await client.status()
        kernel_id = await client.open_notebook("fresh.ipynb")
        state = await client.kernel(kernel_id)
        log = server.log_path.read_text()
    assert status["store_error"] is None and state["executions"] == []
    [aside] = tmp_path.glob("store.db.corrupt-*")
    assert aside.read_bytes().startswith(b"SQLite format 3\x00\x00garbage")
    assert "is unreadable" in log and "moved to" in log
