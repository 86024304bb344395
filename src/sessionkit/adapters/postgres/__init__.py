"""PostgreSQL adapter: many practices in one database server, kept apart by the server.

Install the extra: ``pip install "sessionkit-billing[postgres]"`` (psycopg 3 and its
pool). Create or upgrade the schema with ``sessionkit db upgrade --dsn ...``
(or :func:`upgrade`), as the database's owner; then open it as any role that
is neither a superuser nor allowed to bypass row-level security::

    db = PostgresDatabase("postgresql://app@db.example/sessionkit")
    with db.unit_of_work("practice-17") as uow:
        uow.sessions.save(session)
        uow.commit()

Practices
    Every row has a ``practice_id``. A unit of work is bound to one practice:
    its transaction sets ``sessionkit.practice_id`` (``SET LOCAL``), and a
    row-level security policy on every table, forced on the table's owner
    too, shows and accepts only that practice's rows. A query that names no
    practice, even raw SQL on :attr:`PostgresUnitOfWork.connection`, still
    sees only the bound practice. Ids, appointment keys, the one live claim
    per session and the control number sequences are per practice.

Transactions
    A unit of work is one ``REPEATABLE READ`` transaction: its reads see one
    snapshot, plus the unit's own writes, which are kept in the unit until
    :meth:`PostgresUnitOfWork.commit` writes them into the same transaction
    and commits it. A record changed by another commit since the snapshot
    makes the commit fail with :class:`~sessionkit.errors.ConcurrentUpdate`
    (the server's serialization failure, or a conditional delete that finds
    no row), a key taken meanwhile with ConcurrentUpdate or
    :class:`~sessionkit.errors.AlreadyExists`, and nothing is written. So no
    row is locked while a unit is open. Control numbers are handed out in a
    transaction of their own, never rolled back. The reads and their orders
    are the SQLite adapter's (the same SQL, through the pool's connection).

Schema
    Every table is in one PostgreSQL schema (``sessionkit`` by default), each
    record a ``jsonb`` document (:mod:`sessionkit.serialization`) beside
    indexed columns. The schema is versioned (:data:`MIGRATIONS`); opening a
    database of an older schema raises DatabaseError
    (``database.upgrade_needed``), of a newer one ``database.too_new``.
"""

from __future__ import annotations

from sessionkit.adapters.postgres.database import PostgresDatabase
from sessionkit.adapters.postgres.schema import MIGRATIONS, SCHEMA_VERSION, upgrade
from sessionkit.adapters.postgres.unit_of_work import PostgresUnitOfWork

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresDatabase", "PostgresUnitOfWork", "upgrade"]
