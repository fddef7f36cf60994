"""The store: executions, digests, thinking results, usage ledger, run log.

Everything is keyed by notebook (its path; `kernel:<id>` when a kernel has no notebook), so
what was recorded survives kernel and server restarts. Each call is one short transaction;
a lock serialises them because the server calls in from the event loop and worker threads.
The same SQL runs on SQLite and PostgreSQL (`database.py` opens either).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..records import Digest, Execution, Output, Usage, dumps
from .database import BUSY_SECONDS, Database, Rows, StoreError

DIGEST_LOG_KEEP = 200  # digests kept per notebook for earlier values (a few KB each)
IN_CHUNK = 500

_SQL: dict[str, sa.TextClause] = {}


def _q(conn: sa.Connection, sql: str, **params: Any) -> Any:
    """A textual query's result (rows of any width: their shape is the SQL's, not a type's)."""
    clause = _SQL.get(sql)
    if clause is None:
        clause = _SQL[sql] = sa.text(sql)
    return conn.execute(clause, params)


def _upsert(table: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """INSERT that replaces the row with the same key (SQLite and Postgres alike)."""
    names = keys + columns
    sets = ", ".join(f"{c}=excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )


class Store:
    """`Store(path)` opens a SQLite file; `Store(url=...)` any SQLAlchemy URL (PostgreSQL
    through psycopg 3). `user` names whose records these are on a shared database."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        user: str | None = None,
    ) -> None:
        self.db = Database(path, url, user)
        self.path: Path | None = self.db.path

    @property
    def backend(self) -> str:
        return "sqlite" if self.db.sqlite else "postgresql"

    @property
    def _conn(self) -> Any:
        """SQLite's one connection (tests tune its pragmas)."""
        return self.db.raw

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> Rows:
        """One statement in the driver's own dialect (tests and inspection)."""
        return self.db.raw_sql(sql, tuple(params))

    def close(self) -> None:
        self.db.close()

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
        def work(conn: sa.Connection) -> int:
            return int(
                _q(
                    conn,
                    "INSERT INTO executions (notebook, kernel_id, msg_id, execution_count,"
                    " cell_id, source, started) VALUES (:notebook, :kernel_id, :msg_id,"
                    " :execution_count, :cell_id, :source, :started) ON CONFLICT (kernel_id,"
                    " msg_id) DO UPDATE SET execution_count=excluded.execution_count,"
                    " source=excluded.source RETURNING id",
                    notebook=notebook,
                    kernel_id=kernel_id,
                    msg_id=msg_id,
                    execution_count=execution_count,
                    cell_id=cell_id,
                    source=source,
                    started=started or time.time(),
                ).scalar_one()
            )

        return self.db.run(work)

    def finish_execution(
        self,
        kernel_id: str,
        msg_id: str,
        status: str,
        outputs: list[Output],
        ended: float | None = None,
    ) -> int | None:
        def work(conn: sa.Connection) -> int | None:
            row = _q(
                conn,
                "UPDATE executions SET status=:status, outputs=:outputs, ended=:ended"
                " WHERE kernel_id=:kernel_id AND msg_id=:msg_id RETURNING id",
                status=status,
                outputs=dumps([o.to_dict() for o in outputs]),
                ended=ended or time.time(),
                kernel_id=kernel_id,
                msg_id=msg_id,
            ).first()
            return int(row[0]) if row else None

        return self.db.run(work)

    def abandon_running(self, kernel_id: str, reason: str) -> int:
        """Close executions that can no longer finish (kernel died or restarted)."""

        def work(conn: sa.Connection) -> int:
            rows = _q(
                conn,
                "SELECT id, outputs FROM executions WHERE kernel_id=:k AND status IS NULL",
                k=kernel_id,
            ).all()
            for row_id, text in rows:
                outputs = json.loads(text)
                outputs.append({"output_type": "error", "ename": "KernelDied", "evalue": reason})
                _q(
                    conn,
                    "UPDATE executions SET status='error', outputs=:outputs, ended=:ended"
                    " WHERE id=:id",
                    outputs=dumps(outputs),
                    ended=time.time(),
                    id=row_id,
                )
            return len(rows)

        return self.db.run(work)

    def executions(
        self, notebook: str, after: int = 0, complete_only: bool = False
    ) -> list[Execution]:
        sql = "SELECT * FROM executions WHERE notebook=:notebook AND id>:after"
        if complete_only:
            sql += " AND status IS NOT NULL"
        rows = self.db.run(
            lambda c: _q(c, sql + " ORDER BY id", notebook=notebook, after=after).mappings().all(),
            write=False,
        )
        return [_execution(r) for r in rows]

    def execution_count(self, notebook: str | None = None) -> int:
        if notebook is None:
            return self._scalar("SELECT count(*) FROM executions")
        return self._scalar("SELECT count(*) FROM executions WHERE notebook=:n", n=notebook)

    def state_version(self, notebook: str) -> int:
        """Changes whenever an execution of the notebook completes (the id of the newest one)."""
        return self.db.run(lambda c: _state_version(c, notebook), write=False)

    def notebooks(self) -> list[str]:
        rows = self.db.run(lambda c: _q(c, "SELECT DISTINCT notebook FROM executions").all(), False)
        return [r[0] for r in rows]

    def rename_notebook(self, old: str, new: str) -> None:
        """A kernel first seen without a notebook got one (or a notebook was renamed)."""
        if old == new:
            return

        def work(conn: sa.Connection) -> None:
            names = {"old": old, "new": new}
            for table in ("executions", "digest_log"):
                _q(conn, f"UPDATE {table} SET notebook=:new WHERE notebook=:old", **names)
            # What the old name holds replaces what the new one held, key by key.
            for table, extra in (
                ("digests", None),
                ("memory", None),
                ("cursors", None),
                ("insights", "kind"),
                ("docs", "name"),
            ):
                match = f" AND {extra} IN (SELECT {extra} FROM {table} WHERE notebook=:old)"
                exists = f" AND EXISTS (SELECT 1 FROM {table} WHERE notebook=:old)"
                _q(
                    conn,
                    f"DELETE FROM {table} WHERE notebook=:new" + (match if extra else exists),
                    **names,
                )
                _q(conn, f"UPDATE {table} SET notebook=:new WHERE notebook=:old", **names)

        self.db.run(work)

    # -- digests ------------------------------------------------------------------------------
    def save_digest(self, notebook: str, kernel_id: str, digest: Digest) -> None:
        """The newest digest, and a log entry tagged with the newest complete execution it
        follows: the facts read earlier values of a name from the log."""
        data = dumps({**digest.to_public(), "at": digest.at or time.time()})  # when it was read

        def work(conn: sa.Connection) -> None:
            now = time.time()
            _q(
                conn,
                _upsert("digests", ("notebook",), ("kernel_id", "data", "at")),
                notebook=notebook,
                kernel_id=kernel_id,
                data=data,
                at=now,
            )
            after = _state_version(conn, notebook)
            last = _q(
                conn,
                "SELECT id, after FROM digest_log WHERE notebook=:n ORDER BY id DESC LIMIT 1",
                n=notebook,
            ).first()
            if last is not None and last[1] == after:  # same state: keep the newest
                _q(conn, "DELETE FROM digest_log WHERE id=:id", id=last[0])
            _q(
                conn,
                "INSERT INTO digest_log (notebook, after, data, at) VALUES (:n, :after, :data,"
                " :at)",
                n=notebook,
                after=after,
                data=data,
                at=now,
            )
            _q(
                conn,
                "DELETE FROM digest_log WHERE notebook=:n AND id NOT IN (SELECT id FROM "
                "digest_log WHERE notebook=:n ORDER BY id DESC LIMIT :keep)",
                n=notebook,
                keep=DIGEST_LOG_KEEP,
            )

        self.db.run(work)

    def digest(self, notebook: str) -> Digest | None:
        text = self._scalar("SELECT data FROM digests WHERE notebook=:n", n=notebook, default=None)
        return _digest(text) if text else None

    def digest_log(self, notebook: str) -> list[tuple[int, Digest]]:
        """(newest complete execution id before it, digest), oldest first."""
        rows = self.db.run(
            lambda c: _q(
                c, "SELECT after, data FROM digest_log WHERE notebook=:n ORDER BY id", n=notebook
            ).all(),
            write=False,
        )
        return [(int(after), _digest(data)) for after, data in rows]

    # -- library documentation read from the kernel ----------------------------------------------
    def save_docs(self, notebook: str, docs: dict[str, str]) -> None:
        """Docstrings by dotted name; an empty text records that there is none to read."""
        if not docs:
            return
        now = time.time()
        rows = [{"notebook": notebook, "name": k, "text": v, "at": now} for k, v in docs.items()]
        sql = _upsert("docs", ("notebook", "name"), ("text", "at"))
        self.db.run(lambda c: _q_many(c, sql, rows))

    def docs(self, notebook: str) -> dict[str, str]:
        rows = self.db.run(
            lambda c: _q(c, "SELECT name, text FROM docs WHERE notebook=:n", n=notebook).all(),
            write=False,
        )
        return {name: text for name, text in rows}

    # -- thinking results ------------------------------------------------------------------------
    def memory(self, notebook: str) -> dict[str, Any] | None:
        row = self.db.run(
            lambda c: (
                _q(c, "SELECT * FROM memory WHERE notebook=:n", n=notebook).mappings().first()
            ),
            write=False,
        )
        return dict(row) if row else None

    def save_memory(self, notebook: str, text: str, state_version: int, covered: int) -> int:
        def work(conn: sa.Connection) -> int:
            previous = _q(conn, "SELECT version FROM memory WHERE notebook=:n", n=notebook).first()
            version = (int(previous[0]) + 1) if previous else 1
            _q(
                conn,
                _upsert(
                    "memory", ("notebook",), ("text", "version", "state_version", "covered", "at")
                ),
                notebook=notebook,
                text=text,
                version=version,
                state_version=state_version,
                covered=covered,
                at=time.time(),
            )
            return version

        return self.db.run(work)

    def cell_notes(self, hashes: Iterable[str]) -> dict[str, str]:
        return {k: text for k, (text, _) in self.cell_notes_shared(hashes).items()}

    def cell_notes_shared(self, hashes: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """Explanations by cell hash, each with whether it was reused from another user."""
        keys = list(dict.fromkeys(hashes))
        if not keys:
            return {}
        query = sa.text(
            "SELECT cell_hash, explanation, shared FROM cell_notes WHERE cell_hash IN :keys"
        ).bindparams(sa.bindparam("keys", expanding=True))

        def work(conn: sa.Connection) -> dict[str, tuple[str, bool]]:
            found: dict[str, tuple[str, bool]] = {}
            for start in range(0, len(keys), IN_CHUNK):
                rows = conn.execute(query, {"keys": keys[start : start + IN_CHUNK]}).all()
                found.update({h: (text, bool(shared)) for h, text, shared in rows})
            return found

        return self.db.run(work, write=False)

    def save_cell_notes(self, notes: dict[str, str], shared: bool = False) -> None:
        if not notes:
            return
        now = time.time()
        rows = [
            {"cell_hash": k, "explanation": v, "shared": int(shared), "at": now}
            for k, v in notes.items()
        ]
        sql = _upsert("cell_notes", ("cell_hash",), ("explanation", "shared", "at"))
        self.db.run(lambda c: _q_many(c, sql, rows))

    def diagnosis(self, cell_hash: str) -> str | None:
        found = self.diagnosis_shared(cell_hash)
        return found[0] if found else None

    def diagnosis_shared(self, cell_hash: str) -> tuple[str, bool] | None:
        row = self.db.run(
            lambda c: _q(
                c, "SELECT diagnosis, shared FROM diagnoses WHERE cell_hash=:h", h=cell_hash
            ).first(),
            write=False,
        )
        return (row[0], bool(row[1])) if row else None

    def save_diagnosis(self, cell_hash: str, text: str, shared: bool = False) -> None:
        self.db.run(
            lambda c: _q(
                c,
                _upsert("diagnoses", ("cell_hash",), ("diagnosis", "shared", "at")),
                cell_hash=cell_hash,
                diagnosis=text,
                shared=int(shared),
                at=time.time(),
            )
        )

    def insight(self, notebook: str, kind: str) -> tuple[Any, int] | None:
        """Notebook-level insight (`anticipated`, `next_steps`) and the state version it is for."""
        row = self.db.run(
            lambda c: _q(
                c,
                "SELECT data, state_version FROM insights WHERE notebook=:n AND kind=:kind",
                n=notebook,
                kind=kind,
            ).first(),
            write=False,
        )
        return (json.loads(row[0]), int(row[1])) if row else None

    def save_insight(self, notebook: str, kind: str, data: Any, state_version: int) -> None:
        self.db.run(
            lambda c: _q(
                c,
                _upsert("insights", ("notebook", "kind"), ("data", "state_version", "at")),
                notebook=notebook,
                kind=kind,
                data=dumps(data),
                state_version=state_version,
                at=time.time(),
            )
        )

    # -- shared insights (other users' explanations, keyed by hashes only) -------------------
    # A row with an empty text is a claim: a user is asking the model for it right now.
    def shared_insight(self, scope: str, kind: str, key: str) -> str | None:
        """The shared text; "" while another user's claim on it stands; None if absent."""
        table = self._shared_table()
        return self._scalar(
            f"SELECT text FROM {table} WHERE scope=:scope AND kind=:kind AND key=:key",
            scope=scope,
            kind=kind,
            key=key,
            default=None,
        )

    def claim_shared(self, scope: str, kind: str, key: str, stale_after: float) -> bool:
        """Claim the work for a key: True when this user should do it (nobody has, or a
        claim older than `stale_after` seconds was left behind)."""
        table = self._shared_table()
        now = time.time()

        def work(conn: sa.Connection) -> bool:
            made = _q(
                conn,
                f"INSERT INTO {table} (scope, kind, key, text, at) VALUES (:scope, :kind, :key,"
                " '', :at) ON CONFLICT (scope, kind, key) DO NOTHING",
                scope=scope,
                kind=kind,
                key=key,
                at=now,
            ).rowcount
            if made:
                return True
            return bool(
                _q(
                    conn,
                    f"UPDATE {table} SET at=:at WHERE scope=:scope AND kind=:kind AND key=:key"
                    " AND text='' AND at<:stale",
                    scope=scope,
                    kind=kind,
                    key=key,
                    at=now,
                    stale=now - stale_after,
                ).rowcount
            )

        return self.db.run(work)

    def unclaim_shared(self, scope: str, kind: str, key: str) -> None:
        table = self._shared_table()
        self.db.run(
            lambda c: _q(
                c,
                f"DELETE FROM {table} WHERE scope=:scope AND kind=:kind AND key=:key AND text=''",
                scope=scope,
                kind=kind,
                key=key,
            )
        )

    def share_insight(self, scope: str, kind: str, key: str, text: str) -> None:
        """Offer an insight to the scope; the first text offered for a key stays."""
        table = self._shared_table()
        self.db.run(
            lambda c: _q(
                c,
                f"INSERT INTO {table} (scope, kind, key, text, at) VALUES (:scope, :kind, :key,"
                " :text, :at) ON CONFLICT (scope, kind, key) DO UPDATE SET text=excluded.text,"
                " at=excluded.at WHERE shared_insights.text=''",
                scope=scope,
                kind=kind,
                key=key,
                text=text,
                at=time.time(),
            )
        )

    def _shared_table(self) -> str:
        schema = self.db.shared_schema
        return f'"{schema}".shared_insights' if schema else "shared_insights"

    # -- cursor -----------------------------------------------------------------------------------
    def cursor(self, notebook: str) -> int:
        return self._scalar("SELECT seen FROM cursors WHERE notebook=:n", n=notebook)

    def advance_cursor(self, notebook: str, seen: int) -> None:
        self.db.run(
            lambda c: _q(
                c,
                _upsert("cursors", ("notebook",), ("seen", "at")),
                notebook=notebook,
                seen=seen,
                at=time.time(),
            )
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
        values = {
            "at": time.time(),
            "notebook": notebook,
            "kind": kind,
            "task": task,
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cached_tokens": cached_tokens,
            "seconds": seconds,
            "cost": cost,
            "ok": int(ok),
            "error": error,
        }
        sql = (
            f"INSERT INTO usage ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"
        )
        self.db.run(lambda c: _q(c, sql, **values))

    def usage(self, notebook: str | None = None, since: float = 0.0) -> dict[str, Usage]:
        sql = (
            "SELECT kind, count(*), coalesce(sum(prompt_tokens),0), coalesce(sum(completion_tokens),0)"
            " FROM usage WHERE at>=:since"
        )
        params: dict[str, Any] = {"since": since}
        if notebook is not None:
            sql += " AND notebook=:n"
            params["n"] = notebook
        rows = self.db.run(lambda c: _q(c, sql + " GROUP BY kind", **params).all(), write=False)
        totals = {"sleep": Usage(), "query": Usage()}
        for kind, calls, prompt, completion in rows:
            totals[kind] = Usage(int(calls), int(prompt), int(completion))
        return totals

    def usage_rows(self, notebook: str | None = None, kind: str | None = None) -> list[dict]:
        sql, params = "SELECT * FROM usage WHERE 1=1", {}
        if notebook is not None:
            sql += " AND notebook=:n"
            params["n"] = notebook
        if kind is not None:
            sql += " AND kind=:kind"
            params["kind"] = kind
        rows = self.db.run(
            lambda c: _q(c, sql + " ORDER BY id", **params).mappings().all(), write=False
        )
        return [dict(r) for r in rows]

    def tokens_since(self, since: float) -> int:
        return self._scalar(
            "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM usage"
            " WHERE at>=:since",
            since=since,
        )

    # -- run log ----------------------------------------------------------------------------------
    def record_run(
        self, notebook: str, ran: list[str], ok: bool, error: str | None, seconds: float
    ) -> None:
        self.db.run(
            lambda c: _q(
                c,
                "INSERT INTO runs (notebook, at, ran, ok, error, seconds) VALUES (:n, :at, :ran,"
                " :ok, :error, :seconds)",
                n=notebook,
                at=time.time(),
                ran=dumps(ran),
                ok=int(ok),
                error=error,
                seconds=seconds,
            )
        )

    def last_run(self, notebook: str) -> dict[str, Any] | None:
        row = self.db.run(
            lambda c: (
                _q(c, "SELECT * FROM runs WHERE notebook=:n ORDER BY id DESC LIMIT 1", n=notebook)
                .mappings()
                .first()
            ),
            write=False,
        )
        if not row:
            return None
        return {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["at"])),
            "ran": json.loads(row["ran"]),
            "ok": bool(row["ok"]),
            "error": row["error"],
            "seconds": row["seconds"],
        }

    # -- helpers ----------------------------------------------------------------------------------
    def _scalar(self, sql: str, default: Any = 0, **params: Any) -> Any:
        value = self.db.run(lambda c: _q(c, sql, **params).scalar(), write=False)
        if value is None:
            return default
        return int(value) if isinstance(default, int) and not isinstance(value, str) else value


def _q_many(conn: sa.Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    clause = _SQL.get(sql)
    if clause is None:
        clause = _SQL[sql] = sa.text(sql)
    conn.execute(clause, rows)


def _state_version(conn: sa.Connection, notebook: str) -> int:
    value = _q(
        conn,
        "SELECT max(id) FROM executions WHERE notebook=:n AND status IS NOT NULL",
        n=notebook,
    ).scalar()
    return int(value or 0)


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


def _execution(row: Any) -> Execution:
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


__all__ = ["BUSY_SECONDS", "DIGEST_LOG_KEEP", "Store", "StoreError"]
