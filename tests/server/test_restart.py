"""A server restart keeps what was recorded: a real `jupyter server` process, twice."""

from __future__ import annotations

import nbformat

from jupyter_sleeptime.bench.runner import wait_kernel_idle
from jupyter_sleeptime.testing.harness import KernelSocket, ServerClient, ServerProcess

from ..conftest import wait_for
from ..recording_model import Recorder


async def test_server_restart_keeps_executions_and_thinking(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "kept.ipynb")
    store = tmp_path / "store.db"
    traits = {"model": "sleeptime-scripted/test", "idle_seconds": 60}

    with ServerProcess(root, store, traits) as server:
        client = ServerClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")
        kernel = KernelSocket(server.url, server.token, kernel_id)
        await kernel.connect()
        await wait_kernel_idle(client, kernel, kernel_id)
        await kernel.execute("total = 40 + 2\nprint(total)")
        await kernel.execute("words = ['a', 'b']")

        async def both_recorded():
            state = await client.kernel(kernel_id)
            return [e["status"] for e in state["executions"]] == ["ok", "ok"]

        await wait_for(both_recorded, 30)
        first = await client.think(kernel_id)
        state = await client.kernel(kernel_id)
        kernel.close()
    assert first["ok"]
    recorded = [(e["source"], e["outputs"]) for e in state["executions"]]

    with ServerProcess(root, store, traits) as server:
        client = ServerClient(server.url, server.token)
        kernel_id = await client.open_notebook("kept.ipynb")  # a new kernel, same notebook
        state = await client.kernel(kernel_id)
        assert [(e["source"], e["outputs"]) for e in state["executions"]] == recorded
        assert state["memory"]["version"] == 1 and "total" in state["memory"]["text"]
        again = await client.think(kernel_id)
        assert again["ran"] == []  # nothing re-thought: the results are keyed and persisted


async def test_server_killed_during_a_thinking_run_loses_and_repeats_nothing(tmp_path, monkeypatch):
    """SIGKILL in the middle of idle thinking: what finished is kept and not redone, what
    was cut off is done by the next server, executions are all there, nothing twice."""
    recorder = Recorder(delay=1.0)  # a slow model, so the kill lands inside the run
    monkeypatch.setenv("JUPYTER_SLEEPTIME_API_BASE", recorder.api_base)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-for-loopback")
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "cut.ipynb")
    store = tmp_path / "store.db"
    cells = [
        "prices = [3.5, 4.0, 2.25]\nprint(sum(prices))",
        "mean = sum(prices) / len(prices)\nprint(mean)",
        "prices['cheapest']",  # fails: a diagnosis is planned first
    ]
    try:
        server = ServerProcess(root, store, {"model": "openai/recorder", "idle_seconds": 0.5})
        server.start()
        try:
            client = ServerClient(server.url, server.token)
            kernel_id = await client.open_notebook("cut.ipynb")
            kernel = KernelSocket(server.url, server.token, kernel_id)
            await kernel.connect()
            await wait_kernel_idle(client, kernel, kernel_id)
            for source in cells:
                await kernel.execute(source)
            # idle thinking starts on its own; kill once one task is done and one in flight
            await wait_for(lambda: recorder.answered >= 1 and len(recorder.requests) >= 2, 60)
            before = await client.kernel(kernel_id)
            kernel.close()
        finally:
            server.proc.kill()  # no clean shutdown
            server.proc.wait(10)
        done_first, cut_off = recorder.tasks()[0], recorder.tasks()[1]
        assert done_first == "diagnose_error"
        assert before["thinking"] and len(before["insights"]["errors"]) == 1

        server = ServerProcess(root, store, {"model": "openai/recorder", "idle_seconds": 600})
        with server:
            client = ServerClient(server.url, server.token)
            kernel_id = await client.open_notebook("cut.ipynb")
            sent_before = len(recorder.requests)
            result = await client.think(kernel_id)
            state = await client.kernel(kernel_id)
    finally:
        recorder.stop()
    assert result["ok"]
    assert done_first not in result["ran"] and cut_off in result["ran"]
    assert done_first not in recorder.tasks()[sent_before:]  # finished work is not redone
    assert [e["source"] for e in state["executions"]] == cells
    assert [e["status"] for e in state["executions"]] == ["ok", "ok", "error"]
    insights = state["insights"]
    assert len(insights["errors"]) == 1  # one diagnosis, not two
    explained = [c["execution_count"] for c in insights["cells"]]
    assert len(explained) == len(set(explained)) == 3
    assert state["memory"]["version"] == 1 and "prices" in state["memory"]["text"]
