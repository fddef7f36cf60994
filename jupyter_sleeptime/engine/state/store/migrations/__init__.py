"""Schema migrations of the store (Alembic)."""
