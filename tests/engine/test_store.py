"""The SQLite store: persistence, a corrupt file, a locked database."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from jupyter_sleeptime.engine.records import Output
from jupyter_sleeptime.engine.store import Store, StoreError


def test_executions_survive_reopening(tmp_path):
    path = tmp_path / "s.db"
    store = Store(path)
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
    store.finish_execution("k", "m1", "ok", [Output("stream", text="hi", name="stdout")])
    store.close()
    again = Store(path)
    [ex] = again.executions("a.ipynb")
    assert (ex.source, ex.status, ex.outputs[0].text) == ("x = 1", "ok", "hi")
    assert again._exec("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_corrupt_file_is_moved_aside_and_a_fresh_store_opens(tmp_path, caplog):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database" * 100)
    store = Store(path)
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
    assert store.execution_count() == 1
    aside = list(tmp_path.glob("s.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert "unreadable" in caplog.text


def test_locked_database_gives_a_clear_error_and_recovers(tmp_path):
    path = tmp_path / "s.db"
    store = Store(path)
    store._conn.execute("PRAGMA busy_timeout=200")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    released = threading.Timer(1.0, lambda: other.execute("ROLLBACK"))
    with pytest.raises(StoreError) as err:
        store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
    assert "store_path" in str(err.value)
    released.start()
    time.sleep(1.2)
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")  # works once the lock is gone
    assert store.execution_count() == 1
    other.close()


def test_an_abandoned_execution_is_closed_not_lost(tmp_path):
    store = Store(tmp_path / "s.db")
    store.start_execution("a.ipynb", "k", "m1", 1, "while True: pass")
    assert store.abandon_running("k", "the kernel died") == 1
    [ex] = store.executions("a.ipynb")
    assert ex.status == "error" and ex.outputs[-1].evalue == "the kernel died"


def test_a_file_corrupted_under_a_running_store_is_replaced(tmp_path, caplog):
    path = tmp_path / "s.db"
    store = Store(path)
    store._conn.execute("PRAGMA cache_size=1")  # read pages from disk, as after eviction
    for i in range(300):
        store.start_execution("a.ipynb", "k", f"m{i}", i, "x = 1  # " + "padding " * 20)
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(path, "r+b") as f:  # the disk (or another program) damages the file
        f.seek(4096)
        f.write(b"\x5a" * (path.stat().st_size - 4096))
    store.start_execution("a.ipynb", "k", "after", 301, "y = 2")  # no exception
    assert [e.source for e in store.executions("a.ipynb")] == ["y = 2"]
    assert len(list(tmp_path.glob("s.db.corrupt-*"))) == 1  # the damaged file is kept aside
    assert "unreadable" in caplog.text
