"""The schema the store had before it moved to SQLAlchemy (SQLite, WAL).

Tables are created only where missing: a store file written by an earlier version already
has them, and is taken over as it is.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# REAL on SQLite as before; double precision on Postgres (its REAL is 4 bytes: timestamps
# would lose minutes).
REAL = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _table(name: str, *columns: sa.Column | sa.Constraint) -> None:
    op.create_table(name, *columns, sqlite_autoincrement=True, if_not_exists=True)


def _index(name: str, table: str, columns: list[str]) -> None:
    op.create_index(name, table, columns, if_not_exists=True)


def upgrade() -> None:
    _table(
        "executions",
        _id(),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("kernel_id", sa.Text, nullable=False),
        sa.Column("msg_id", sa.Text, nullable=False),
        sa.Column("execution_count", sa.Integer),
        sa.Column("cell_id", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("outputs", sa.Text, nullable=False, server_default="[]"),
        sa.Column("status", sa.Text),
        sa.Column("started", REAL),
        sa.Column("ended", REAL),
        sa.UniqueConstraint("kernel_id", "msg_id"),
    )
    _index("executions_notebook", "executions", ["notebook", "id"])
    op.create_table(
        "digests",
        sa.Column("notebook", sa.Text, primary_key=True),
        sa.Column("kernel_id", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    _table(
        "digest_log",
        _id(),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("after", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("at", REAL),
    )
    _index("digest_log_notebook", "digest_log", ["notebook", "id"])
    op.create_table(
        "docs",
        sa.Column("notebook", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    op.create_table(
        "memory",
        sa.Column("notebook", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state_version", sa.Integer, nullable=False),
        sa.Column("covered", sa.Integer, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    op.create_table(
        "cell_notes",
        sa.Column("cell_hash", sa.Text, primary_key=True),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    op.create_table(
        "diagnoses",
        sa.Column("cell_hash", sa.Text, primary_key=True),
        sa.Column("diagnosis", sa.Text, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    op.create_table(
        "insights",
        sa.Column("notebook", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("state_version", sa.Integer, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    op.create_table(
        "cursors",
        sa.Column("notebook", sa.Text, primary_key=True),
        sa.Column("seen", sa.Integer, nullable=False),
        sa.Column("at", REAL),
        if_not_exists=True,
    )
    _table(
        "usage",
        _id(),
        sa.Column("at", REAL, nullable=False),
        sa.Column("notebook", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("task", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("cached_tokens", sa.Integer),
        sa.Column("seconds", REAL),
        sa.Column("cost", REAL),
        sa.Column("ok", sa.Integer),
        sa.Column("error", sa.Text),
    )
    _index("usage_at", "usage", ["at"])
    _table(
        "runs",
        _id(),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("at", REAL, nullable=False),
        sa.Column("ran", sa.Text, nullable=False),
        sa.Column("ok", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("seconds", REAL),
    )


def downgrade() -> None:
    for name in (
        "runs", "usage", "cursors", "insights", "diagnoses", "cell_notes", "memory", "docs",
        "digest_log", "digests", "executions",
    ):  # fmt: skip
        op.drop_table(name)
