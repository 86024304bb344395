"""SQLite adapter: every port of :mod:`sessionkit.ports` in one database file.

The embedded default store, on the standard library's :mod:`sqlite3`. It
behaves exactly as the reference :mod:`sessionkit.adapters.memory` documents
(orderings, error codes, versions, save sequence, snapshot semantics), and it
passes :mod:`sessionkit.testing.contract`.

The package: :mod:`~sessionkit.adapters.sqlite.schema` (the schema and its
:data:`MIGRATIONS`), :mod:`~sessionkit.adapters.sqlite.database` (opening
and checking a file, :class:`SqliteDatabase`),
:mod:`~sessionkit.adapters.sqlite.repositories`, ``billing`` (claim
records, invoices, control numbers), ``ledger`` (payments, adjudications)
and :mod:`~sessionkit.adapters.sqlite.unit_of_work`.

The file
    WAL journal, foreign keys on, a busy timeout (5 seconds by default) so
    that two processes wait for each other rather than fail. Each record is
    stored as its JSON document (:func:`sessionkit.serialization.dumps`)
    beside indexed columns for the lookups the ports need: client, date of
    service (ISO text), appointment key (unique where set), version, save
    sequence, bill-to. Sessions are keyed by their save sequence (the rowid,
    so a commit appends), with a unique index on the id; the client index
    lists a client's sessions in save order, which serves both
    ``last_saved_for`` and ``by_client``. The schema is versioned:
    ``PRAGMA application_id``, ``PRAGMA user_version`` and a
    ``sessionkit_meta`` table (schema 5: the payments ledger and
    adjudications, paid at session migrated to payments, one live claim per
    session and coverage; schema 4: what was billed; schema 3: one session
    per date of service; schema 2 keyed sessions by save sequence), upgraded
    when opened by an
    ordered list of :data:`MIGRATIONS`. An existing file is inspected
    read-only (no side file is created) before anything is written, and
    refused with :class:`~sessionkit.errors.DatabaseError`, left
    byte-for-byte untouched, when it is not SQLite (``database.not_sqlite``),
    not sessionkit's or holding a table, index, view or trigger that no
    migration creates (``database.foreign``), written by a newer sessionkit
    (``database.too_new``), damaged (``database.damaged``: ``PRAGMA
    quick_check``, or ``integrity_check`` with ``check="full"``, fails, or
    the schema version is missing, not a whole number or recorded twice
    differently), or read-only, itself or its folder (``database.read_only``,
    before SQLite could create its ``-wal`` and ``-shm`` files). A missing
    file is created with mode 0600 (owner only; SQLite gives the ``-wal``
    and ``-shm`` files the same mode); a missing or empty file is
    initialised. Clients, payers, coverages, authorizations, billing codes
    and the practice setup keep their ``version`` in their JSON document.

Transactions
    Entering a :class:`SqliteUnitOfWork` starts a read transaction: the
    repositories see the database as it was then (snapshot isolation, as in
    the memory adapter), plus the unit's own writes, which are kept in the
    unit until :meth:`SqliteUnitOfWork.commit`. The commit is one
    ``BEGIN IMMEDIATE`` transaction: every written session's version is
    checked against the file (``DELETE ... WHERE id = ? AND version = ?``
    and a row count; the other versioned records are read back and compared
    in the same transaction), a new id or an appointment key taken meanwhile fails
    on its unique index as the sessions are inserted with ``executemany``
    (a taken id is reported first), and every write is applied all or
    nothing. So no other process is blocked while a unit is open, and
    two processes can never silently overwrite each other's sessions: the
    later one gets :class:`~sessionkit.errors.ConcurrentUpdate`.

>>> import tempfile, pathlib
>>> from datetime import date
>>> from sessionkit import ClientSession
>>> folder = tempfile.TemporaryDirectory()
>>> with SqliteDatabase(pathlib.Path(folder.name) / "practice.sqlite") as db:
...     with db.unit_of_work() as uow:
...         saved = uow.sessions.save(ClientSession(id="s1", client_id="c1",
...             date_of_service=date(2026, 3, 2), billing_code="90834", charge="140"))
...         uow.commit()
...     with db.unit_of_work() as uow:
...         uow.sessions.get("s1").charge
Money('140.00')
>>> folder.cleanup()
"""

from __future__ import annotations

from sessionkit.adapters.sqlite.database import Check, SqliteDatabase, open_database
from sessionkit.adapters.sqlite.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Migration
from sessionkit.adapters.sqlite.unit_of_work import SqliteUnitOfWork

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Check",
    "Migration",
    "SqliteDatabase",
    "SqliteUnitOfWork",
    "open_database",
]
