"""SQLite store (WAL): executions, digests, thinking results, usage ledger, run log.

Everything is keyed by notebook (its path; `kernel:<id>` when a kernel has no notebook), so
what was recorded survives kernel and server restarts. Writes are small and synchronous;
a lock serialises them because the server calls in from the event loop and worker threads.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .records import Digest, Execution, Output, Usage, dumps

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notebook TEXT NOT NULL,
    kernel_id TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    execution_count INTEGER,
    cell_id TEXT,
    source TEXT NOT NULL,
    outputs TEXT NOT NULL DEFAULT '[]',
    status TEXT,
    started REAL,
    ended REAL,
    UNIQUE (kernel_id, msg_id)
);
CREATE INDEX IF NOT EXISTS executions_notebook ON executions (notebook, id);
CREATE TABLE IF NOT EXISTS digests (
    notebook TEXT PRIMARY KEY, kernel_id TEXT, data TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS digest_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, notebook TEXT NOT NULL, after INTEGER NOT NULL,
    data TEXT NOT NULL, at REAL
);
CREATE INDEX IF NOT EXISTS digest_log_notebook ON digest_log (notebook, id);
CREATE TABLE IF NOT EXISTS docs (
    notebook TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, at REAL,
    PRIMARY KEY (notebook, name)
);
CREATE TABLE IF NOT EXISTS memory (
    notebook TEXT PRIMARY KEY, text TEXT NOT NULL, version INTEGER NOT NULL,
    state_version INTEGER NOT NULL, covered INTEGER NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS cell_notes (
    cell_hash TEXT PRIMARY KEY, explanation TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS diagnoses (
    cell_hash TEXT PRIMARY KEY, diagnosis TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS insights (
    notebook TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    state_version INTEGER NOT NULL, at REAL, PRIMARY KEY (notebook, kind)
);
CREATE TABLE IF NOT EXISTS cursors (
    notebook TEXT PRIMARY KEY, seen INTEGER NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, notebook TEXT, kind TEXT NOT NULL,
    task TEXT, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    cached_tokens INTEGER, seconds REAL, cost REAL, ok INTEGER, error TEXT
);
CREATE INDEX IF NOT EXISTS usage_at ON usage (at);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, notebook TEXT NOT NULL, at REAL NOT NULL,
    ran TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT, seconds REAL
);
"""


BUSY_SECONDS = 2.0
DIGEST_LOG_KEEP = 200  # digests kept per notebook for earlier values (a few KB each)


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


class StoreError(RuntimeError):
    """The store could not be opened or written; the message says what to do."""


class Store:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = self._open()

    # -- connection -------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            return self._replace_corrupt(exc)

    def _replace_corrupt(self, exc: Exception) -> sqlite3.Connection:
        # A corrupt file must not take the server down: keep it aside for inspection.
        aside = self.path.with_suffix(self.path.suffix + f".corrupt-{int(time.time())}")
        log.error("sleeptime store %s is unreadable (%s); moved to %s", self.path, exc, aside)
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            extra = Path(str(self.path) + suffix)
            if extra.exists():
                extra.unlink()
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        # Writes happen on the server's event loop: wait for another writer's lock only briefly;
        # what cannot be written is kept by the engine and written later.
        conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=BUSY_SECONDS, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        conn.executescript(SCHEMA)
        conn.execute("SELECT count(*) FROM executions").fetchone()  # detects corruption early
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params))
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    f"The sleeptime store at {self.path} could not be written ({exc}). "
                    "Another process may hold a lock on it; set SleeptimeApp.store_path to a "
                    "different file if this persists."
                ) from exc
            except sqlite3.DatabaseError as exc:
                if not _corrupt(exc):
                    raise StoreError(f"The sleeptime store at {self.path} failed: {exc}") from exc
                # The file went bad under a running server: start a fresh one, keep the old.
                self._conn.close()
                try:
                    self._conn = self._replace_corrupt(exc)
                    return self._conn.execute(sql, tuple(params))
                except (OSError, sqlite3.Error) as again:
                    raise StoreError(
                        f"The sleeptime store at {self.path} is corrupt and could not be "
                        f"replaced ({again}); set SleeptimeApp.store_path to a writable file."
                    ) from again

    # -- executions ---------------------------------------------------------------------------
    def start_execution(
        self,
        notebook: str,
        kernel_id: str,
        msg_id: str,
        execution_count: int | None,
        source: str,
        started: float | None = None,
        cell_id: str | None = None,
    ) -> int:
        cur = self._exec(
            "INSERT INTO executions (notebook, kernel_id, msg_id, execution_count, cell_id, source,"
            " started) VALUES (?,?,?,?,?,?,?) ON CONFLICT (kernel_id, msg_id) DO UPDATE SET"
            " execution_count=excluded.execution_count, source=excluded.source RETURNING id",
            (notebook, kernel_id, msg_id, execution_count, cell_id, source, started or time.time()),
        )
        return int(cur.fetchone()[0])

    def finish_execution(
        self,
        kernel_id: str,
        msg_id: str,
        status: str,
        outputs: list[Output],
        ended: float | None = None,
    ) -> int | None:
        cur = self._exec(
            "UPDATE executions SET status=?, outputs=?, ended=? WHERE kernel_id=? AND msg_id=?"
            " RETURNING id",
            (
                status,
                dumps([o.to_dict() for o in outputs]),
                ended or time.time(),
                kernel_id,
                msg_id,
            ),
        )
        row = cur.fetchone()
        return int(row[0]) if row else None

    def abandon_running(self, kernel_id: str, reason: str) -> int:
        """Close executions that can no longer finish (kernel died or restarted)."""
        rows = self._exec(
            "SELECT id, outputs FROM executions WHERE kernel_id=? AND status IS NULL", (kernel_id,)
        ).fetchall()
        for row in rows:
            outputs = json.loads(row["outputs"])
            outputs.append({"output_type": "error", "ename": "KernelDied", "evalue": reason})
            self._exec(
                "UPDATE executions SET status='error', outputs=?, ended=? WHERE id=?",
                (dumps(outputs), time.time(), row["id"]),
            )
        return len(rows)

    def executions(
        self, notebook: str, after: int = 0, complete_only: bool = False
    ) -> list[Execution]:
        sql = "SELECT * FROM executions WHERE notebook=? AND id>?"
        if complete_only:
            sql += " AND status IS NOT NULL"
        rows = self._exec(sql + " ORDER BY id", (notebook, after)).fetchall()
        return [_execution(r) for r in rows]

    def execution_count(self, notebook: str | None = None) -> int:
        if notebook is None:
            return int(self._exec("SELECT count(*) FROM executions").fetchone()[0])
        return int(
            self._exec("SELECT count(*) FROM executions WHERE notebook=?", (notebook,)).fetchone()[
                0
            ]
        )

    def state_version(self, notebook: str) -> int:
        """Changes whenever an execution of the notebook completes (the id of the newest one)."""
        row = self._exec(
            "SELECT max(id) FROM executions WHERE notebook=? AND status IS NOT NULL", (notebook,)
        ).fetchone()
        return int(row[0] or 0)

    def notebooks(self) -> list[str]:
        return [r[0] for r in self._exec("SELECT DISTINCT notebook FROM executions").fetchall()]

    def rename_notebook(self, old: str, new: str) -> None:
        """A kernel first seen without a notebook got one (or a notebook was renamed)."""
        if old == new:
            return
        with self._lock:
            self._exec("UPDATE executions SET notebook=? WHERE notebook=?", (new, old))
            for table in ("digests", "memory", "insights", "cursors", "digest_log", "docs"):
                self._exec(f"UPDATE OR REPLACE {table} SET notebook=? WHERE notebook=?", (new, old))

    # -- digests ------------------------------------------------------------------------------
    def save_digest(self, notebook: str, kernel_id: str, digest: Digest) -> None:
        """The newest digest, and a log entry tagged with the newest complete execution it
        follows: the facts read earlier values of a name from the log."""
        data = dumps({**digest.to_public(), "at": digest.at or time.time()})  # when it was read
        with self._lock:
            self._exec(
                "INSERT OR REPLACE INTO digests (notebook, kernel_id, data, at) VALUES (?,?,?,?)",
                (notebook, kernel_id, data, time.time()),
            )
            after = self.state_version(notebook)
            last = self._exec(
                "SELECT id, after FROM digest_log WHERE notebook=? ORDER BY id DESC LIMIT 1",
                (notebook,),
            ).fetchone()
            if last is not None and last["after"] == after:  # same state: keep the newest
                self._exec("DELETE FROM digest_log WHERE id=?", (last["id"],))
            self._exec(
                "INSERT INTO digest_log (notebook, after, data, at) VALUES (?,?,?,?)",
                (notebook, after, data, time.time()),
            )
            self._exec(
                "DELETE FROM digest_log WHERE notebook=? AND id NOT IN (SELECT id FROM "
                "digest_log WHERE notebook=? ORDER BY id DESC LIMIT ?)",
                (notebook, notebook, DIGEST_LOG_KEEP),
            )

    def digest(self, notebook: str) -> Digest | None:
        row = self._exec("SELECT data FROM digests WHERE notebook=?", (notebook,)).fetchone()
        return _digest(row[0]) if row else None

    def digest_log(self, notebook: str) -> list[tuple[int, Digest]]:
        """(newest complete execution id before it, digest), oldest first."""
        rows = self._exec(
            "SELECT after, data FROM digest_log WHERE notebook=? ORDER BY id", (notebook,)
        ).fetchall()
        return [(int(r["after"]), _digest(r["data"])) for r in rows]

    # -- library documentation read from the kernel ----------------------------------------------
    def save_docs(self, notebook: str, docs: dict[str, str]) -> None:
        """Docstrings by dotted name; an empty text records that there is none to read."""
        with self._lock:
            for name, text in docs.items():
                self._exec(
                    "INSERT OR REPLACE INTO docs (notebook, name, text, at) VALUES (?,?,?,?)",
                    (notebook, name, text, time.time()),
                )

    def docs(self, notebook: str) -> dict[str, str]:
        rows = self._exec("SELECT name, text FROM docs WHERE notebook=?", (notebook,)).fetchall()
        return {r["name"]: r["text"] for r in rows}

    # -- thinking results ------------------------------------------------------------------------
    def memory(self, notebook: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM memory WHERE notebook=?", (notebook,)).fetchone()
        return dict(row) if row else None

    def save_memory(self, notebook: str, text: str, state_version: int, covered: int) -> int:
        previous = self.memory(notebook)
        version = (previous["version"] + 1) if previous else 1
        self._exec(
            "INSERT OR REPLACE INTO memory (notebook, text, version, state_version, covered, at)"
            " VALUES (?,?,?,?,?,?)",
            (notebook, text, version, state_version, covered, time.time()),
        )
        return version

    def cell_notes(self, hashes: Iterable[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(hashes))
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._exec(
                f"SELECT cell_hash, explanation FROM cell_notes WHERE cell_hash IN ({marks})", chunk
            ).fetchall()
            found.update({r[0]: r[1] for r in rows})
        return found

    def save_cell_notes(self, notes: dict[str, str]) -> None:
        with self._lock:
            for cell_hash, text in notes.items():
                self._exec(
                    "INSERT OR REPLACE INTO cell_notes (cell_hash, explanation, at) VALUES (?,?,?)",
                    (cell_hash, text, time.time()),
                )

    def diagnosis(self, cell_hash: str) -> str | None:
        row = self._exec(
            "SELECT diagnosis FROM diagnoses WHERE cell_hash=?", (cell_hash,)
        ).fetchone()
        return row[0] if row else None

    def save_diagnosis(self, cell_hash: str, text: str) -> None:
        self._exec(
            "INSERT OR REPLACE INTO diagnoses (cell_hash, diagnosis, at) VALUES (?,?,?)",
            (cell_hash, text, time.time()),
        )

    def insight(self, notebook: str, kind: str) -> tuple[Any, int] | None:
        """Notebook-level insight (`anticipated`, `next_steps`) and the state version it is for."""
        row = self._exec(
            "SELECT data, state_version FROM insights WHERE notebook=? AND kind=?", (notebook, kind)
        ).fetchone()
        return (json.loads(row[0]), int(row[1])) if row else None

    def save_insight(self, notebook: str, kind: str, data: Any, state_version: int) -> None:
        self._exec(
            "INSERT OR REPLACE INTO insights (notebook, kind, data, state_version, at)"
            " VALUES (?,?,?,?,?)",
            (notebook, kind, dumps(data), state_version, time.time()),
        )

    # -- cursor -----------------------------------------------------------------------------------
    def cursor(self, notebook: str) -> int:
        row = self._exec("SELECT seen FROM cursors WHERE notebook=?", (notebook,)).fetchone()
        return int(row[0]) if row else 0

    def advance_cursor(self, notebook: str, seen: int) -> None:
        self._exec(
            "INSERT OR REPLACE INTO cursors (notebook, seen, at) VALUES (?,?,?)",
            (notebook, seen, time.time()),
        )

    # -- usage ledger -------------------------------------------------------------------------
    def record_usage(
        self,
        *,
        notebook: str | None,
        kind: str,
        task: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        seconds: float = 0.0,
        cost: float | None = None,
        ok: bool = True,
        error: str | None = None,
    ) -> None:
        self._exec(
            "INSERT INTO usage (at, notebook, kind, task, model, prompt_tokens, completion_tokens,"
            " cached_tokens, seconds, cost, ok, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                time.time(),
                notebook,
                kind,
                task,
                model,
                prompt_tokens,
                completion_tokens,
                cached_tokens,
                seconds,
                cost,
                int(ok),
                error,
            ),
        )

    def usage(self, notebook: str | None = None, since: float = 0.0) -> dict[str, Usage]:
        sql = (
            "SELECT kind, count(*), coalesce(sum(prompt_tokens),0), coalesce(sum(completion_tokens),0)"
            " FROM usage WHERE at>=?"
        )
        params: list[Any] = [since]
        if notebook is not None:
            sql += " AND notebook=?"
            params.append(notebook)
        totals = {"sleep": Usage(), "query": Usage()}
        for kind, calls, prompt, completion in self._exec(sql + " GROUP BY kind", params):
            totals[kind] = Usage(int(calls), int(prompt), int(completion))
        return totals

    def usage_rows(self, notebook: str | None = None, kind: str | None = None) -> list[dict]:
        sql, params = "SELECT * FROM usage WHERE 1=1", []
        if notebook is not None:
            sql += " AND notebook=?"
            params.append(notebook)
        if kind is not None:
            sql += " AND kind=?"
            params.append(kind)
        return [dict(r) for r in self._exec(sql + " ORDER BY id", params).fetchall()]

    def tokens_since(self, since: float) -> int:
        row = self._exec(
            "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM usage WHERE at>=?",
            (since,),
        ).fetchone()
        return int(row[0])

    # -- run log ----------------------------------------------------------------------------------
    def record_run(
        self, notebook: str, ran: list[str], ok: bool, error: str | None, seconds: float
    ) -> None:
        self._exec(
            "INSERT INTO runs (notebook, at, ran, ok, error, seconds) VALUES (?,?,?,?,?,?)",
            (notebook, time.time(), dumps(ran), int(ok), error, seconds),
        )

    def last_run(self, notebook: str) -> dict[str, Any] | None:
        row = self._exec(
            "SELECT * FROM runs WHERE notebook=? ORDER BY id DESC LIMIT 1", (notebook,)
        ).fetchone()
        if not row:
            return None
        return {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["at"])),
            "ran": json.loads(row["ran"]),
            "ok": bool(row["ok"]),
            "error": row["error"],
            "seconds": row["seconds"],
        }


def _digest(text: str) -> Digest:
    data = json.loads(text)
    return Digest(
        variables=data.get("variables", []),
        took_ms=float(data.get("took_ms", 0.0)),
        truncated=bool(data.get("truncated")),
        total=int(data.get("total", 0)),
        at=float(data.get("at", 0.0)),
        probes=data.get("probes") or {},
        results=data.get("results") or {},
    )


def _execution(row: sqlite3.Row) -> Execution:
    return Execution(
        id=row["id"],
        notebook=row["notebook"],
        kernel_id=row["kernel_id"],
        msg_id=row["msg_id"],
        execution_count=row["execution_count"],
        source=row["source"],
        outputs=[Output.from_dict(o) for o in json.loads(row["outputs"])],
        status=row["status"],
        cell_id=row["cell_id"],
        started=row["started"],
        ended=row["ended"],
    )
