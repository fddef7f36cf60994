"""Shared insights: explanations and diagnoses other users may reuse, keyed by hashes only;
a user's own notes say whether they were reused (`shared`).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REAL = sa.REAL().with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")


def upgrade() -> None:
    for table in ("cell_notes", "diagnoses"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("shared", sa.Integer, nullable=False, server_default="0"))
    # On Postgres one table for every user (in its own schema); on SQLite, in the same file.
    op.create_table(
        "shared_insights",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),  # explanation | diagnosis
        sa.Column("key", sa.Text, primary_key=True),  # hash of cell (and prompt) and model
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", REAL),
        schema=context.config.attributes.get("shared_schema"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("shared_insights", schema=context.config.attributes.get("shared_schema"))
    for table in ("cell_notes", "diagnoses"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("shared")
