"""The SQLite state machine run against PostgreSQL: the PostgreSQL and in-memory adapters side by side.

Each run is a new practice in the test database; reopening opens a new pool.
"""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings
from hypothesis.stateful import rule

if not os.environ.get("CI"):  # under CI a missing extra fails (in postgres_dsn), never skips
    pytest.importorskip("psycopg")

from test_sqlite_stateful import SqliteAgainstMemory

from sessionkit.adapters.memory import MemoryStore
from sessionkit.adapters.postgres import PostgresDatabase, upgrade
from sessionkit.ports import UnitOfWork

_DSN: list[str] = []


@pytest.fixture(autouse=True)
def _server(postgres_dsn: str) -> None:
    """The test database, upgraded, for the machine (which pytest cannot hand fixtures to)."""
    upgrade(postgres_dsn)
    _DSN[:] = [postgres_dsn]


def _open() -> PostgresDatabase:
    # Every connection opened at once: a pool growing later draws on random
    # in its thread, which hypothesis reports while it draws a step.
    return PostgresDatabase(_DSN[0], min_size=2, max_size=2)


class _Bound:
    """A PostgreSQL database seen through one practice: ``unit_of_work()`` takes no argument, as SQLite's."""

    def __init__(self, practice: str) -> None:
        self.practice = practice
        self.database = _open()

    def unit_of_work(self) -> UnitOfWork:
        return self.database.unit_of_work(self.practice)

    def close(self) -> None:
        self.database.close()


class PostgresAgainstMemory(SqliteAgainstMemory):
    """Every step is done on PostgreSQL (one new practice) and in memory; their answers must match."""

    def __init__(self) -> None:
        super(SqliteAgainstMemory, self).__init__()
        self.db = _Bound(f"machine-{uuid.uuid4().hex[:12]}")  # type: ignore[assignment]
        self.store = MemoryStore()
        self.stale = {}

    @rule()
    def reopen(self) -> None:
        """Close the pool and open another."""
        practice = self.db.practice  # type: ignore[attr-defined]
        self.db.close()
        self.db = _Bound(practice)  # type: ignore[assignment]

    def teardown(self) -> None:
        self.db.close()


# At most 60 runs (the default profile's number; the quick profile's 10 stays): each run is a new
# practice and pool on the server, and the same machine runs at the full count against SQLite.
PostgresAgainstMemory.TestCase.settings = settings(
    settings.default, max_examples=min(60, settings.default.max_examples), stateful_step_count=25
)
TestPostgresAgainstMemory = PostgresAgainstMemory.TestCase
