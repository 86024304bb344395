"""The adapter contract suite run against the PostgreSQL adapter: each store is a new practice."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Callable, Iterator

import pytest

from sessionkit.ports import UnitOfWork
from sessionkit.testing.contract import StoreUnderTest, UnitOfWorkContract

_STORES = itertools.count()


class TestPostgresContract(UnitOfWorkContract):
    """Every contract test against :class:`PostgresUnitOfWork`; reopening opens a new pool on the server.

    The pools open all their connections at once (``min_size == max_size``):
    a pool growing later draws on :mod:`random` in its thread, which
    hypothesis reports when it happens while it draws an example. A fresh, empty store is a practice no one has used: the other practices'
    rows are there, in the same tables, and must stay invisible.
    """

    @pytest.fixture(autouse=True)
    def _database(self, postgres_dsn: str) -> Iterator[None]:
        from sessionkit.adapters.postgres import PostgresDatabase, upgrade

        upgrade(postgres_dsn)
        self._dsn = postgres_dsn
        with PostgresDatabase(postgres_dsn, min_size=4, max_size=4) as db:
            self._db = db
            yield

    @contextlib.contextmanager
    def open_store(self) -> Iterator[StoreUnderTest]:
        """A new practice in the shared database; reopening closes nothing but opens another pool."""
        from sessionkit.adapters.postgres import PostgresDatabase

        practice = f"contract-{uuid.uuid4().hex[:12]}-{next(_STORES)}"
        opened: list[PostgresDatabase] = []

        def reopen() -> Callable[[], UnitOfWork]:
            if opened:
                opened[-1].close()
            opened.append(PostgresDatabase(self._dsn, min_size=2, max_size=2))
            db = opened[-1]
            return lambda: db.unit_of_work(practice)

        try:
            yield StoreUnderTest(lambda: self._db.unit_of_work(practice), reopen=reopen)
        finally:
            for db in opened:
                db.close()
