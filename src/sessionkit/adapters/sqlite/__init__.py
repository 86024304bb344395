"""SQLite adapter: every port of :mod:`sessionkit.ports` in one database file (moving into a package)."""

from __future__ import annotations

from sessionkit.adapters.sqlite.repositories import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    SqliteDatabase,
    SqliteUnitOfWork,
    open_database,
)

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SqliteDatabase",
    "SqliteUnitOfWork",
    "open_database",
]
