"""The store on SQLite (a file, WAL) and on PostgreSQL: persistence, per-user records,
migrations of an existing file, a corrupt file, a locked database, a database that goes away."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from jupyter_sleeptime.engine.sleeptime_engine import EngineConfig, SleeptimeEngine
from jupyter_sleeptime.engine.state.records import Digest, Output
from jupyter_sleeptime.engine.state.store import Store, StoreError
from jupyter_sleeptime.engine.state.store.database import user_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request, tmp_path):
    """Opens a store on the backend under test; the same arguments reopen the same one."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened: list[Store] = []

    def open_(user: str = "alice") -> Store:
        store = Store(tmp_path / "s.db", url=url, user=user)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def test_executions_survive_reopening(open_store):
    store = open_store()
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1", started=1_760_000_000.123)
    store.finish_execution("k", "m1", "ok", [Output("stream", text="hi", name="stdout")])
    store.close()
    again = open_store()
    [ex] = again.executions("a.ipynb")
    assert (ex.source, ex.status, ex.outputs[0].text) == ("x = 1", "ok", "hi")
    assert ex.started == 1_760_000_000.123  # full precision on both backends
    if again.backend == "sqlite":
        assert again._exec("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_record_kind_round_trips(open_store):
    store = open_store()
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
    assert store.finish_execution("k", "m1", "ok", []) is not None
    assert store.finish_execution("k", "unknown", "ok", []) is None
    version = store.state_version("a.ipynb")
    assert version > 0 and store.execution_count() == 1 == store.execution_count("a.ipynb")
    store.save_digest("a.ipynb", "k", Digest([{"name": "x", "type": "int"}], 1.5, at=5.0))
    store.save_digest("a.ipynb", "k", Digest([{"name": "x", "type": "float"}], 1.0, at=6.0))
    assert store.digest("a.ipynb").variables == [{"name": "x", "type": "float"}]
    [(after, logged)] = store.digest_log("a.ipynb")  # same state: the newest kept
    assert after == version and logged.at == 6.0
    store.save_docs("a.ipynb", {"np.mean": "Mean.", "np.std": ""})
    assert store.docs("a.ipynb") == {"np.mean": "Mean.", "np.std": ""}
    assert store.save_memory("a.ipynb", "one", version, 1) == 1
    assert store.save_memory("a.ipynb", "two", version, 1) == 2
    assert store.memory("a.ipynb")["text"] == "two"
    store.save_cell_notes({"h1": "Sets x."})
    store.save_cell_notes({"h2": "Reused."}, shared=True)
    assert store.cell_notes(["h1", "h2", "h3"]) == {"h1": "Sets x.", "h2": "Reused."}
    assert store.cell_notes_shared(["h2"]) == {"h2": ("Reused.", True)}
    store.save_diagnosis("h9", "A typo.")
    assert store.diagnosis("h9") == "A typo." and store.diagnosis_shared("h9") == ("A typo.", False)
    store.save_insight("a.ipynb", "next_steps", {"items": [1]}, version)
    store.save_insight("a.ipynb", "next_steps", {"items": [2]}, version)
    assert store.insight("a.ipynb", "next_steps") == ({"items": [2]}, version)
    store.advance_cursor("a.ipynb", 3)
    assert store.cursor("a.ipynb") == 3 and store.cursor("b.ipynb") == 0
    store.record_usage(
        notebook="a.ipynb", kind="sleep", task="t", model="m", prompt_tokens=10,
        completion_tokens=5,
    )  # fmt: skip
    assert store.usage("a.ipynb")["sleep"].prompt_tokens == 10
    assert store.tokens_since(0) == 15 and store.usage_rows(kind="sleep")[0]["ok"] == 1
    store.record_run("a.ipynb", ["explain_cells"], True, None, 0.5)
    assert store.last_run("a.ipynb")["ran"] == ["explain_cells"]


def test_a_rename_carries_everything_and_replaces_what_the_new_name_held(open_store):
    store = open_store()
    store.start_execution("kernel:k", "k", "m1", 1, "x = 1")
    store.save_insight("kernel:k", "anticipated", ["old"], 1)
    store.save_insight("named.ipynb", "anticipated", ["stale"], 0)
    store.save_insight("named.ipynb", "next_steps", ["kept"], 0)
    store.save_docs("named.ipynb", {"f": "kept"})
    store.rename_notebook("kernel:k", "named.ipynb")
    assert [e.source for e in store.executions("named.ipynb")] == ["x = 1"]
    assert store.insight("named.ipynb", "anticipated") == (["old"], 1)
    assert store.insight("named.ipynb", "next_steps") == (["kept"], 0)
    assert store.docs("named.ipynb") == {"f": "kept"} and store.executions("kernel:k") == []


def test_an_abandoned_execution_is_closed_not_lost(open_store):
    store = open_store()
    store.start_execution("a.ipynb", "k", "m1", 1, "while True: pass")
    assert store.abandon_running("k", "the kernel died") == 1
    [ex] = store.executions("a.ipynb")
    assert ex.status == "error" and ex.outputs[-1].evalue == "the kernel died"


def test_users_on_one_database_keep_their_own_records(postgres_url):
    alice = Store(url=postgres_url, user="alice")
    bob = Store(url=postgres_url, user="bob")
    try:
        alice.start_execution("course.ipynb", "k1", "m1", 1, "secret = 'alice-only'")
        bob.start_execution("course.ipynb", "k2", "m1", 1, "x = 2")
        alice.save_cell_notes({"h": "alice's note"})
        assert [e.source for e in bob.executions("course.ipynb")] == ["x = 2"]
        assert bob.cell_notes(["h"]) == {} and bob.execution_count() == 1
        # Shared insights meet in their scope only, and the first one offered stays.
        alice.share_insight("course-a", "explanation", "key1", "Shared text.")
        bob.share_insight("course-a", "explanation", "key1", "Later text.")
        assert bob.shared_insight("course-a", "explanation", "key1") == "Shared text."
        assert bob.shared_insight("course-b", "explanation", "key1") is None
    finally:
        alice.close()
        bob.close()


def test_servers_starting_together_migrate_once(postgres_url):
    stores: list[Store] = []
    errors: list[BaseException] = []

    def open_one(index: int) -> None:
        try:
            stores.append(Store(url=postgres_url, user=f"user{index}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(stores) == 8
    for store in stores:
        store.start_execution("n.ipynb", "k", "m", 1, "pass")
        store.close()


# The schema the store created before it moved to SQLAlchemy (version 0.1.0).
OLD_SCHEMA = """
CREATE TABLE executions (id INTEGER PRIMARY KEY AUTOINCREMENT, notebook TEXT NOT NULL,
    kernel_id TEXT NOT NULL, msg_id TEXT NOT NULL, execution_count INTEGER, cell_id TEXT,
    source TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '[]', status TEXT, started REAL,
    ended REAL, UNIQUE (kernel_id, msg_id));
CREATE INDEX executions_notebook ON executions (notebook, id);
CREATE TABLE digests (notebook TEXT PRIMARY KEY, kernel_id TEXT, data TEXT NOT NULL, at REAL);
CREATE TABLE digest_log (id INTEGER PRIMARY KEY AUTOINCREMENT, notebook TEXT NOT NULL,
    after INTEGER NOT NULL, data TEXT NOT NULL, at REAL);
CREATE INDEX digest_log_notebook ON digest_log (notebook, id);
CREATE TABLE docs (notebook TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, at REAL,
    PRIMARY KEY (notebook, name));
CREATE TABLE memory (notebook TEXT PRIMARY KEY, text TEXT NOT NULL, version INTEGER NOT NULL,
    state_version INTEGER NOT NULL, covered INTEGER NOT NULL, at REAL);
CREATE TABLE cell_notes (cell_hash TEXT PRIMARY KEY, explanation TEXT NOT NULL, at REAL);
CREATE TABLE diagnoses (cell_hash TEXT PRIMARY KEY, diagnosis TEXT NOT NULL, at REAL);
CREATE TABLE insights (notebook TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    state_version INTEGER NOT NULL, at REAL, PRIMARY KEY (notebook, kind));
CREATE TABLE cursors (notebook TEXT PRIMARY KEY, seen INTEGER NOT NULL, at REAL);
CREATE TABLE usage (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, notebook TEXT,
    kind TEXT NOT NULL, task TEXT, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    cached_tokens INTEGER, seconds REAL, cost REAL, ok INTEGER, error TEXT);
CREATE INDEX usage_at ON usage (at);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, notebook TEXT NOT NULL, at REAL NOT NULL,
    ran TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT, seconds REAL);
"""


def test_a_store_file_of_the_previous_version_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    old.executescript(OLD_SCHEMA)
    old.execute(
        "INSERT INTO executions (notebook, kernel_id, msg_id, execution_count, source, outputs,"
        " status) VALUES ('a.ipynb', 'k', 'm1', 1, 'x = 1', '[]', 'ok')"
    )
    old.execute("INSERT INTO cell_notes VALUES ('h1', 'Sets x.', 1.0)")
    old.execute("INSERT INTO memory VALUES ('a.ipynb', 'the memory', 3, 1, 1, 1.0)")
    old.close()
    store = Store(path)
    assert [e.source for e in store.executions("a.ipynb")] == ["x = 1"]
    assert store.cell_notes_shared(["h1"]) == {"h1": ("Sets x.", False)}
    assert store.save_memory("a.ipynb", "newer", 2, 2) == 4  # the version goes on
    store.start_execution("a.ipynb", "k", "m2", 2, "y = 2")  # AUTOINCREMENT kept
    assert store._exec("SELECT version_num FROM alembic_version").fetchone()[0] == "0002"
    assert not list(tmp_path.glob("old.db.corrupt-*"))
    store.close()
    assert len(Store(path).executions("a.ipynb")) == 2  # and opens again as it is


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
    assert store.execution_count() == 0  # reads go on under a writer's lock (WAL)
    released.start()
    time.sleep(1.2)
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")  # works once the lock is gone
    assert store.execution_count() == 1
    other.close()


def test_a_locked_postgres_table_gives_a_clear_error_and_recovers(postgres_url):
    store = Store(url=postgres_url, user="alice")
    other = sa.create_engine(postgres_url).connect()
    other.exec_driver_sql(f'LOCK TABLE "{user_schema("alice")}".executions IN EXCLUSIVE MODE')
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as err:
            store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
        assert time.monotonic() - started < 10  # waits for the lock briefly, not forever
        assert "db_url" in str(err.value) and "lock" in str(err.value)
        assert store.execution_count() == 0  # reads are served meanwhile
    finally:
        other.rollback()
        other.close()
    store.start_execution("a.ipynb", "k", "m1", 1, "x = 1")
    assert store.execution_count() == 1
    store.close()


def test_records_wait_while_postgres_is_down_and_are_written_in_order(tmp_path):
    """The database server stops under a running engine: nothing is lost, and the records
    reach it in order once it is back."""
    from jupyter_sleeptime.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))  # the session fixture decides whether that fails CI
    try:
        engine = SleeptimeEngine(
            EngineConfig(
                store_path=str(tmp_path / "unused.db"),
                db_url=server.create_database(),
                model="sleeptime-scripted/test",
                enabled=False,
            )
        )
        engine.execution_started("k", "a.ipynb", "m1", 1, "first = 1")
        engine.execution_finished("k", "a.ipynb", "m1")
        server.pause()
        engine.execution_started("k", "a.ipynb", "m2", 2, "second = 2")
        engine.execution_finished("k", "a.ipynb", "m2")
        assert "could not be written" in engine.store_error
        assert "db_url" in engine.store_error and engine.records_waiting() == 2
        server.resume()
        assert engine.flush_records()
        assert engine.store_error is None and engine.records_waiting() == 0
        executions = engine.store.executions("a.ipynb")
        assert [(e.source, e.status) for e in executions] == [
            ("first = 1", "ok"),
            ("second = 2", "ok"),
        ]
        engine.close()
        assert not (tmp_path / "unused.db").exists()  # db_url set: no SQLite file made
    finally:
        server.stop()


def test_a_postgres_restart_between_writes_costs_no_write():
    """Connections are not pinged before each statement: the first one after a restart
    finds its connection closed, and the store goes on with a fresh one instead of failing."""
    from jupyter_sleeptime.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))  # the session fixture decides whether that fails CI
    try:
        store = Store(url=server.create_database(), user="alice")
        store.start_execution("a.ipynb", "k", "m1", 1, "before = 1")
        server.pause()
        server.resume()  # every pooled connection is now closed by the server
        store.start_execution("a.ipynb", "k", "m2", 2, "after = 2")
        assert [e.source for e in store.executions("a.ipynb")] == ["before = 1", "after = 2"]
        store.close()
    finally:
        server.stop()


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


def test_an_unreachable_database_at_start_says_which_setting_to_check():
    with pytest.raises(StoreError) as err:
        Store(url="postgresql://nobody@127.0.0.1:1/none")
    assert "db_url" in str(err.value) and "postgresql+psycopg://nobody@127.0.0.1:1" in str(
        err.value
    )


def test_a_db_url_that_is_no_url_is_a_clear_error():
    with pytest.raises(StoreError) as err:
        Store(url="not a url at all")
    assert "db_url" in str(err.value) and "postgresql://" in str(err.value)
