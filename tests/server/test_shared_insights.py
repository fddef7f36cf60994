"""Shared insights across users: two real `jupyter server` processes of two users (their
own root folders and store files) on one PostgreSQL database, each with its own recording
model endpoint. The second user's identical cells are explained without a model call and
say `"shared": true`; nothing of the first user's own reaches the second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import sqlalchemy as sa

from jupyter_sleeptime.bench.runner import wait_digest, wait_kernel_idle
from jupyter_sleeptime.testing.harness import KernelSocket, ServerClient, ServerProcess

from ..conftest import wait_for
from ..recording_model import Recorder

COURSE = [  # the class notebook: the same cells for everyone
    "prices = [3.5, 4.0, 2.25]\nprint(sum(prices))",
    "mean = sum(prices) / len(prices)\nprint(mean)",
    "prices['cheapest']",  # fails: a diagnosis
]
# The same for everyone too, but a secret is redacted in it: never shared. A notebook of its
# own, since the secret in the kernel's variables would keep the course's diagnosis private.
KEYS = ['token = "ghp_R8sK2mQ9vX4tL7wP1zN6bY3cF5hJ0dA2eG8u"\nprint(len(token))']
PRIVATE = {  # each user's own notebook, with values no one else may see
    "alice": ['owner = "alice-wonderland-7731"\nprint(owner)', "salary_alice = 91234.5"],
    "bob": ['owner = "bob-builder-4410"\nprint(owner)'],
}
ALICE_ONLY = ["alice-wonderland-7731", "91234.5", "salary_alice"]


async def _run_user(
    tmp_path: Path, user: str, db_url: str, recorder: Recorder, monkeypatch: Any, scope: str
) -> dict[str, Any]:
    """One user's server: run both notebooks, let idle-time thinking finish, read the views."""
    monkeypatch.setenv("JUPYTERHUB_USER", user)  # who the server's records belong to
    monkeypatch.setenv("JUPYTER_SLEEPTIME_API_BASE", recorder.api_base)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-for-loopback")
    root = tmp_path / user
    root.mkdir()
    for name in ("course.ipynb", "keys.ipynb", "private.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), root / name)
    traits = {
        "model": "openai/recorder",
        "idle_seconds": 600,
        "db_url": db_url,
        "share_insights": True,
        "share_scope": scope,
    }
    views: dict[str, Any] = {}
    with ServerProcess(root, tmp_path / f"{user}.db", traits) as server:
        client = ServerClient(server.url, server.token)
        notebooks = {"course.ipynb": COURSE, "keys.ipynb": KEYS, "private.ipynb": PRIVATE[user]}
        for name, cells in notebooks.items():
            kernel_id = await client.open_notebook(name)
            kernel = KernelSocket(server.url, server.token, kernel_id)
            await kernel.connect()
            await wait_kernel_idle(client, kernel, kernel_id)
            for source in cells:
                await kernel.execute(source)

            async def all_recorded(kernel_id: str = kernel_id, count: int = len(cells)) -> bool:
                state = await client.kernel(kernel_id)
                return sum(1 for e in state["executions"] if e["status"]) == count

            await wait_for(all_recorded, 60)
            await wait_digest(client, kernel_id)
            sent_before = len(recorder.requests)
            result = await client.think(kernel_id)
            assert result["ok"], result
            views[name] = await client.kernel(kernel_id)
            views[f"{name} requests"] = recorder.requests[sent_before:]
            views[f"{name} kernel"] = kernel_id
            kernel.close()
        views["status"] = await client.status()
        # Asking fresh still goes to the model, with this user's own notebook.
        sent_before = len(recorder.requests)
        answer = await client.ask(views["course.ipynb kernel"], "What does mean hold?", fresh=True)
        views["fresh answer"] = answer
        views["fresh requests"] = recorder.requests[sent_before:]
    return views


def _texts(requests: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("content", "")) for r in requests for m in r.get("messages", []))


def _tasks(requests: list[dict[str, Any]]) -> list[str]:
    rec = Recorder.__new__(Recorder)
    rec.requests = requests
    return rec.tasks()


async def test_a_second_user_reuses_identical_cells_and_sees_nothing_of_the_first(
    tmp_path, postgres_url, monkeypatch
):
    first, second = Recorder(), Recorder()
    try:
        alice = await _run_user(tmp_path, "alice", postgres_url, first, monkeypatch, "course-a")
        bob = await _run_user(tmp_path, "bob", postgres_url, second, monkeypatch, "course-a")
    finally:
        first.stop()
        second.stop()

    # Alice paid for the explanations and the diagnosis of the course notebook.
    alice_tasks = _tasks(alice["course.ipynb requests"])
    assert "explain_cells" in alice_tasks and "diagnose_error" in alice_tasks
    assert not any(c.get("shared") for c in alice["course.ipynb"]["insights"]["cells"])

    # Bob: no model call for the shared cells, none for the diagnosis, and they say so.
    bob_course = bob["course.ipynb"]
    bob_tasks = _tasks(bob["course.ipynb requests"])
    assert "diagnose_error" not in bob_tasks and "explain_cells" not in bob_tasks
    cells = {c["execution_count"]: c for c in bob_course["insights"]["cells"]}
    assert len(cells) == len(COURSE) and all(c.get("shared") is True for c in cells.values())
    by_source = {e["execution_count"]: e["source"] for e in bob_course["executions"]}
    assert {by_source[n] for n in cells} == set(COURSE)
    # The cell with a secret: Bob's own model call, not marked shared.
    assert "explain_cells" in _tasks(bob["keys.ipynb requests"])
    assert "print(len(token))" in _texts(bob["keys.ipynb requests"])
    [key_note] = bob["keys.ipynb"]["insights"]["cells"]
    assert "shared" not in key_note
    alice_cells = alice["course.ipynb"]["insights"]["cells"]
    alice_notes = {c["execution_count"]: c["explanation"] for c in alice_cells}
    assert {n: c["explanation"] for n, c in cells.items()} == alice_notes
    [error] = bob_course["insights"]["errors"]
    assert error["shared"] is True and "TypeError" in error["diagnosis"]
    # Reused work cost Bob nothing: fewer idle-time calls than Alice made.
    assert bob_course["usage"]["sleep"]["calls"] < alice["course.ipynb"]["usage"]["sleep"]["calls"]

    # A fresh question is Bob's own model call on Bob's notebook.
    assert bob["fresh answer"]["type"] == "done" and bob["fresh requests"]

    # Nothing of Alice's own reaches Bob: not his model requests, not his views.
    everything_bob = _texts(second.requests) + json.dumps(bob, default=str)
    for value in ALICE_ONLY:
        assert value in _texts(first.requests) or value in json.dumps(alice)
        assert value not in everything_bob
    # The shared table holds explanation texts under hashes, encrypted with keys only the
    # identical cell gives: reading the database shows no source, output, value or name.
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT scope, kind, key, text FROM sleeptime_shared.shared_insights"
        ).all()
    engine.dispose()
    assert rows and {r[0] for r in rows} == {"course-a"}
    stored = json.dumps([list(r) for r in rows])
    for value in [*ALICE_ONLY, "ghp_R8sK2mQ9vX4tL7wP1zN6bY3cF5hJ0dA2eG8u", "prices", "owner"]:
        assert value not in stored


async def test_another_scope_reuses_nothing(tmp_path, postgres_url, monkeypatch):
    first, second = Recorder(), Recorder()
    try:
        await _run_user(tmp_path, "alice", postgres_url, first, monkeypatch, "course-a")
        bob = await _run_user(tmp_path, "bob", postgres_url, second, monkeypatch, "course-b")
    finally:
        first.stop()
        second.stop()
    assert "diagnose_error" in _tasks(bob["course.ipynb requests"])
    assert not any(c.get("shared") for c in bob["course.ipynb"]["insights"]["cells"])
    assert not any(e.get("shared") for e in bob["course.ipynb"]["insights"]["errors"])
