"""The store (SQLAlchemy: a SQLite file by default, PostgreSQL for teams)."""

from .database import BUSY_SECONDS, StoreError, default_user, normalise_url
from .store import DIGEST_LOG_KEEP, Store

__all__ = [
    "BUSY_SECONDS",
    "DIGEST_LOG_KEEP",
    "Store",
    "StoreError",
    "default_user",
    "normalise_url",
]
