"""A server restart keeps what was recorded: a real `jupyter server` process, twice."""

from __future__ import annotations

import nbformat

from jupyter_sleeptime.harness import KernelSocket, ServerProcess, SleeptimeClient


async def test_server_restart_keeps_executions_and_thinking(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "kept.ipynb")
    store = tmp_path / "store.db"
    traits = {"model": "sleeptime-scripted/test", "idle_seconds": 60}

    with ServerProcess(root, store, traits) as server:
        client = SleeptimeClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")
        kernel = KernelSocket(server.url, server.token, kernel_id)
        await kernel.connect()
        await kernel.execute("total = 40 + 2\nprint(total)")
        await kernel.execute("words = ['a', 'b']")
        first = await client.think(kernel_id)
        state = await client.kernel(kernel_id)
        kernel.close()
    assert first["ok"]
    recorded = [(e["source"], e["outputs"]) for e in state["executions"]]

    with ServerProcess(root, store, traits) as server:
        client = SleeptimeClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")  # a new kernel, same notebook
        state = await client.kernel(kernel_id)
        assert [(e["source"], e["outputs"]) for e in state["executions"]] == recorded
        assert state["memory"]["version"] == 1 and "total" in state["memory"]["text"]
        again = await client.think(kernel_id)
        assert again["ran"] == []  # nothing re-thought: the results are keyed and persisted
