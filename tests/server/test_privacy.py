"""The notebook's own privacy settings hold on every path, checked on what a recording model
endpoint on loopback receives: a cell tagged `sleeptime-skip` (its source, outputs and the
values of the names it binds, wherever they show up) and an opted-out notebook (nothing at
all, also when the first question comes before any thinking run, and after a restart)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from jupyter_sleeptime.testing.harness import KernelSocket, ServerClient, ServerProcess

from ..conftest import ask, get_json, recorded, think
from ..recording_model import Recorder

MARKER = "marker-7f3a9c21"
SKIPPED = f"hidden = '{MARKER}'"
CELLS = [
    SKIPPED,
    "shown = len(hidden) * 2",
    "print('value:', hidden)",  # the value shows up in another cell's output
    "label = 'visible-1'",
]
QUESTION = "What are hidden, shown and label, and what did the notebook print?"


def notebook(path: Path, *, opted_out: bool = False) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.cells[0].metadata["tags"] = ["sleeptime-skip"]
    if opted_out:
        nb.metadata["sleeptime"] = {"enabled": False}
    nbformat.write(nb, path)


@pytest.fixture
def sleeptime_config(recording_config):
    return recording_config


async def test_a_skipped_cell_never_reaches_the_model(
    jp_fetch, start_kernel, recorder, jp_root_dir
):
    notebook(Path(jp_root_dir) / "private.ipynb")
    kernel = await start_kernel(path="private.ipynb")
    for cell in CELLS:
        await kernel.execute(cell)
    await recorded(jp_fetch, kernel.kernel_id, "label = ")
    result = await think(jp_fetch, kernel.kernel_id, request_timeout=120)
    assert result["usage"]["calls"] >= 3
    for mode in ("sleep", "baseline", "baseline-budget"):
        events = await ask(jp_fetch, kernel.kernel_id, QUESTION, mode, fresh=True)
        assert events[-1]["type"] == "done", events[-1]
    preview = await ask(jp_fetch, kernel.kernel_id, QUESTION, "sleep", dry_run=True)
    sent = "\n".join(recorder.texts())
    assert len(recorder.requests) >= 6
    assert MARKER not in sent and SKIPPED not in sent
    assert "hidden: str" not in sent  # the skipped cell's name is not in any digest
    assert "visible-1" in sent and "shown = len(hidden) * 2" in sent  # the rest is
    assert "[REDACTED:skipped_cell]" in sent  # the printed value, hidden where it appeared
    shown = "\n".join(m["content"] for m in preview[-1]["messages"])
    assert MARKER not in shown  # what a dry run shows is what would be sent
    state = await get_json(jp_fetch, "sleeptime", "api", "kernels", kernel.kernel_id)
    assert "hidden" not in {f["name"] for f in state["facts"]["names"]}
    assert "hidden" not in {v["name"] for v in state["digest"]["variables"]}


async def test_an_opted_out_notebook_is_never_sent(jp_fetch, start_kernel, recorder, jp_root_dir):
    notebook(Path(jp_root_dir) / "secret.ipynb", opted_out=True)
    kernel = await start_kernel(path="secret.ipynb")
    for cell in CELLS[1:]:
        await kernel.execute(cell if "hidden" not in cell else "print('value:', 41)")
    await recorded(jp_fetch, kernel.kernel_id, "label = ")
    for mode in ("sleep", "baseline", "baseline-budget"):  # before any thinking run
        events = await ask(jp_fetch, kernel.kernel_id, "What is label?", mode)
        assert events[-1]["type"] == "error"
        assert events[-1]["reason"] == "opted_out"
        assert (
            '"enabled": false' in events[-1]["message"] and "opt back in" in events[-1]["message"]
        )
    result = await think(jp_fetch, kernel.kernel_id)
    assert result["ran"] == []
    assert recorder.requests == []


async def test_privacy_holds_after_a_server_restart(tmp_path):
    """Cells run under one server; the first question comes to the next one, before it has
    thought about anything."""
    recorder = Recorder()
    root = tmp_path / "root"
    root.mkdir()
    notebook(root / "private.ipynb")
    notebook(root / "secret.ipynb", opted_out=True)
    store = tmp_path / "store.db"
    traits = {
        "model": "openai/recorder",
        "model_kwargs": {"api_base": recorder.api_base, "api_key": "test-key-for-loopback"},
        "idle_seconds": 600,
    }
    try:
        with ServerProcess(root, store, traits) as server:
            client = ServerClient(server.url, server.token)
            for name in ("private.ipynb", "secret.ipynb"):
                kernel_id = await client.open_notebook(name)
                kernel = KernelSocket(server.url, server.token, kernel_id)
                await kernel.connect()
                for cell in CELLS:
                    await kernel.execute(cell)
                kernel.close()
        assert recorder.requests == []

        with ServerProcess(root, store, traits) as server:
            client = ServerClient(server.url, server.token)
            private = await client.open_notebook("private.ipynb")
            secret = await client.open_notebook("secret.ipynb")
            refused = await client.ask(secret, "What is label?", "baseline")
            assert refused["type"] == "error" and "opted out" in refused["message"]
            for mode in ("sleep", "baseline"):
                done = await client.ask(private, QUESTION, mode, fresh=True)
                assert done["type"] == "done", done
        sent = "\n".join(recorder.texts())
        assert len(recorder.requests) == 2  # the two asks on the private notebook, no more
        assert MARKER not in sent and SKIPPED not in sent
        assert "visible-1" in sent
    finally:
        recorder.stop()
