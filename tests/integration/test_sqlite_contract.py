"""The adapter contract suite run against the SQLite adapter, one temporary file per store."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sessionkit.adapters.sqlite import SqliteDatabase
from sessionkit.ports import UnitOfWork
from sessionkit.testing.contract import StoreUnderTest, UnitOfWorkContract

_SHM = Path("/dev/shm")
_FAST_DIR = str(_SHM) if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None


class TestSqliteContract(UnitOfWorkContract):
    """Every contract test against :class:`SqliteUnitOfWork`; reopening closes and reopens the file."""

    @contextlib.contextmanager
    def open_store(self) -> Iterator[StoreUnderTest]:
        """A new database file in a temporary folder, closed and removed afterwards.

        The folder is in ``/dev/shm`` where there is one: the contract is about
        behaviour, and skipping the disk's fsyncs keeps hypothesis quick
        (durability is tested in ``test_sqlite_processes.py``).
        """
        with tempfile.TemporaryDirectory(dir=_FAST_DIR) as folder:
            path = Path(folder) / "contract.sqlite"
            databases = [SqliteDatabase(path)]

            def reopen() -> Callable[[], UnitOfWork]:
                databases[-1].close()
                databases.append(SqliteDatabase(path))
                return databases[-1].unit_of_work

            try:
                yield StoreUnderTest(databases[0].unit_of_work, reopen=reopen)
            finally:
                databases[-1].close()
