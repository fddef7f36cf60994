"""The connection side of the store: SQLAlchemy engine for a SQLite file (WAL) or a
PostgreSQL database, schema migrations (Alembic), and what a failure means.

SQLite: one connection, serialised by the store's lock; writes take the write lock up front
(`BEGIN IMMEDIATE`) and wait for it only `BUSY_SECONDS`. A corrupt file is moved aside and a
fresh store opens. PostgreSQL: each user (`JUPYTERHUB_USER`, else the login name) gets a
schema of their own, so notebooks of the same path never meet; insights that users agreed to
share live in one schema (`sleeptime_shared`).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

BUSY_SECONDS = 2.0
SHARED_SCHEMA = "sleeptime_shared"
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK = 0x51EE9  # advisory lock: servers starting together migrate one at a time

T = TypeVar("T")


class StoreError(RuntimeError):
    """The store could not be opened or written; the message says what to do."""


def normalise_url(url: str) -> str:
    """`postgresql://` (and Heroku-style `postgres://`) means psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_user() -> str:
    """Who the records belong to: the JupyterHub user, else the login name."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "user"
    return os.environ.get("JUPYTERHUB_USER") or login


def user_schema(user: str) -> str:
    """A schema name per user: readable, and unique even where names differ only in
    characters that cannot appear in it."""
    readable = re.sub(r"[^a-z0-9_]", "_", user.lower())[:32]
    return f"sleeptime_u_{readable}_{hashlib.sha256(user.encode()).hexdigest()[:8]}"


def _corrupt(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "malformed" in text or "not a database" in text


class Rows:
    """Fetched rows, usable after the connection is back in the pool (tests and tools)."""

    def __init__(self, keys: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        self._rows = [_Row(keys, r) for r in rows]

    def fetchone(self) -> _Row | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[_Row]:
        return list(self._rows)

    def __iter__(self) -> Iterator[_Row]:
        return iter(self._rows)


class _Row(tuple[Any, ...]):
    """A row read by position or by column name, as sqlite3.Row is."""

    _keys: list[str]

    def __new__(cls, keys: Sequence[str], values: Sequence[Any]) -> _Row:
        row = super().__new__(cls, values)
        row._keys = list(keys)
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._keys.index(key))
        return tuple.__getitem__(self, key)


class Database:
    def __init__(
        self, path: str | os.PathLike[str] | None, url: str | None, user: str | None
    ) -> None:
        if not url and path is None:
            raise StoreError("The sleeptime store needs a SQLite file or a db_url.")
        self.configured_by = "db_url" if url else "store_path"
        try:
            self.url = sa.make_url(normalise_url(url) if url else f"sqlite:///{Path(path)}")  # type: ignore[arg-type]
        except sa.exc.ArgumentError as exc:
            raise StoreError(
                f"SleeptimeApp.db_url {url!r} is not a database URL (e.g. "
                "postgresql://user@host/sleeptime or sqlite:////path/to/file.db)."
            ) from exc
        self.sqlite = self.url.get_backend_name() == "sqlite"
        file = self.url.database if self.sqlite else None
        self.path: Path | None = Path(file) if file and file != ":memory:" else None
        self.user = user or default_user()
        self.schema = None if self.sqlite else user_schema(self.user)
        self.shared_schema = None if self.sqlite else SHARED_SCHEMA
        self.where = str(self.path) if self.sqlite else self.url.render_as_string(True)
        self.lock = threading.RLock()
        self.raw: sqlite3.Connection | None = None  # SQLite's one connection (tests tune it)
        self.engine = self._open()

    # -- opening ----------------------------------------------------------------------------
    def _open(self) -> sa.Engine:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._start()
        except ImportError as exc:
            raise StoreError(
                f"The sleeptime store at {self.where} needs a database driver that is not "
                f"installed ({exc}); for PostgreSQL: pip install 'jupyter-sleeptime[postgres]'."
            ) from exc
        except sa.exc.DBAPIError as exc:
            if not (self.sqlite and self.path is not None and _corrupt(exc)):
                raise StoreError(
                    f"The sleeptime store at {self.where} could not be opened ({exc.orig}); "
                    f"check SleeptimeApp.{self.configured_by}."
                ) from exc
            return self._replace_corrupt(exc)

    def _start(self) -> sa.Engine:
        engine = self._create_engine()
        try:
            self._migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine

    def _create_engine(self) -> sa.Engine:
        if self.sqlite:
            engine = sa.create_engine(
                self.url,
                poolclass=StaticPool,
                connect_args={
                    "check_same_thread": False,
                    "timeout": BUSY_SECONDS,
                    "isolation_level": None,  # transactions are begun explicitly below
                },
            )

            @sa.event.listens_for(engine, "connect")
            def _setup(dbapi_connection: sqlite3.Connection, record: Any) -> None:
                dbapi_connection.isolation_level = None
                dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
                dbapi_connection.execute("PRAGMA synchronous=NORMAL")
                self.raw = dbapi_connection

            return engine
        # Writes happen on the server's event loop: wait for a lock only briefly; what cannot
        # be written is kept by the engine and written later.
        timeouts = f"-c lock_timeout={int(BUSY_SECONDS * 1000)} -c statement_timeout=30000"
        return sa.create_engine(
            self.url,
            pool_size=2,
            max_overflow=2,
            connect_args={
                "connect_timeout": 10,
                "options": f"-c search_path={self.schema} {timeouts}",
            },
        )

    def _migrate(self, engine: sa.Engine) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["shared_schema"] = self.shared_schema
        with engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                for schema in (self.schema, self.shared_schema):
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.exec_driver_sql("SELECT count(*) FROM executions").scalar()  # corrupt?
            conn.commit()

    def _replace_corrupt(self, exc: BaseException) -> sa.Engine:
        # A corrupt file must not take the server down: keep it aside for inspection.
        assert self.path is not None
        aside = self.path.with_suffix(self.path.suffix + f".corrupt-{int(time.time())}")
        log.error("sleeptime store %s is unreadable (%s); moved to %s", self.path, exc, aside)
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            extra = Path(str(self.path) + suffix)
            if extra.exists():
                extra.unlink()
        return self._start()

    def close(self) -> None:
        with self.lock:
            self.engine.dispose()

    # -- running work -----------------------------------------------------------------------
    def run(self, work: Callable[[sa.Connection], T], write: bool = True) -> T:
        """`work` in one transaction; a failure becomes a StoreError that says what to do."""
        with self.lock:
            try:
                return self._attempt_reconnecting(work, write)
            except sa.exc.DBAPIError as exc:
                if self.sqlite and self.path is not None and _corrupt(exc):
                    return self._recover(work, write, exc)
                if isinstance(exc, sa.exc.OperationalError) or exc.connection_invalidated:
                    raise StoreError(
                        f"The sleeptime store at {self.where} could not be written ({exc.orig})."
                        f" {self._advice()}"
                    ) from exc
                raise StoreError(f"The sleeptime store at {self.where} failed: {exc.orig}") from exc

    def _advice(self) -> str:
        if self.sqlite:
            return (
                "Another process may hold a lock on it; set SleeptimeApp.store_path to a "
                "different file if this persists."
            )
        return (
            "The database may be down or a table locked; records are kept and written when it "
            "answers again. Check SleeptimeApp.db_url if this persists."
        )

    def _attempt_reconnecting(self, work: Callable[[sa.Connection], T], write: bool) -> T:
        try:
            return self._attempt(work, write)
        except sa.exc.DBAPIError as exc:
            if self.sqlite or not exc.connection_invalidated:
                raise
            # A connection the database closed (a restart, an idle timeout) is found when used
            # rather than pinged before every statement (a round trip each): SQLAlchemy has
            # dropped the pool's stale connections; once more on a fresh one.
            return self._attempt(work, write)

    def _attempt(self, work: Callable[[sa.Connection], T], write: bool) -> T:
        with self.engine.connect() as conn:
            if self.sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            result = work(conn)
            conn.commit()
            return result

    def _recover(self, work: Callable[[sa.Connection], T], write: bool, exc: BaseException) -> T:
        # The file went bad under a running server: start a fresh one, keep the old.
        self.engine.dispose()
        try:
            self.engine = self._replace_corrupt(exc)
            return self._attempt(work, write)
        except (OSError, sa.exc.SQLAlchemyError) as again:
            raise StoreError(
                f"The sleeptime store at {self.where} is corrupt and could not be replaced "
                f"({again}); set SleeptimeApp.store_path to a writable file."
            ) from again

    def raw_sql(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement in the driver's own dialect (tests and inspection)."""

        def work(conn: sa.Connection) -> Rows:
            result = conn.exec_driver_sql(sql, tuple(params))
            if not result.returns_rows:
                return Rows([], [])
            return Rows(list(result.keys()), [tuple(r) for r in result.all()])

        return self.run(work)
