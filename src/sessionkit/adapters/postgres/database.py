"""Opening a sessionkit PostgreSQL database: check the role and the schema version, keep a pool."""

from __future__ import annotations

from types import TracebackType

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from sessionkit.adapters.postgres._text import JsonbTextLoader, TextLoader
from sessionkit.adapters.postgres.repositories import Connection, unavailable
from sessionkit.adapters.postgres.schema import SCHEMA_VERSION, check_schema_name, schema_version, too_new
from sessionkit.adapters.postgres.unit_of_work import PostgresUnitOfWork
from sessionkit.domain import _checks
from sessionkit.errors import DatabaseError

__all__ = ["PostgresDatabase"]


def _prepare(conn: Connection, schema: str) -> None:
    """A new connection: autocommit (units of work open their own transactions), our schema, jsonb as text."""
    conn.autocommit = True
    conn.execute(f"SET search_path TO {schema}")
    # Documents are read as text and decoded once by sessionkit.serialization;
    # text and documents are unescaped (PostgreSQL cannot hold NUL).
    conn.adapters.register_loader("jsonb", JsonbTextLoader)
    conn.adapters.register_loader("text", TextLoader)


class PostgresDatabase:
    """A sessionkit database on a PostgreSQL server; :meth:`unit_of_work` makes units bound to one practice.

    :param dsn: a libpq connection string or URI (``postgresql://user@host/db``).
    :param schema: the PostgreSQL schema holding sessionkit's tables.
    :param min_size: connections the pool keeps open.
    :param max_size: connections the pool may open (units of work at once).
    :param timeout: seconds to wait for a free connection or for the server.
    :raises DatabaseError: ``database.unreachable`` (no server, or the login
        is refused), ``database.upgrade_needed`` (an older or missing schema:
        run ``sessionkit db upgrade --dsn ...``; nothing is migrated
        silently), ``database.too_new``, ``database.bypasses_rls`` (the role
        is a superuser or may bypass row-level security, so the server could
        not keep practices apart).

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "sessionkit",
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        self.schema = check_schema_name(schema)
        self.timeout = timeout
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(timeout))) as conn:
                self._check(conn)
        except psycopg.OperationalError:
            raise DatabaseError(
                "the database server cannot be reached or refused the login", "database.unreachable"
            ) from None
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=True,
            configure=lambda conn: _prepare(conn, self.schema),
            check=ConnectionPool.check_connection,  # a connection broken by a server restart is replaced
            name="sessionkit",
        )
        try:
            self._pool.wait(timeout)  # min_size connections open before the first unit of work
        except PoolTimeout:
            self._pool.close()
            raise unavailable() from None

    def _check(self, conn: Connection) -> None:
        row = conn.execute(
            "SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"
        ).fetchone()
        if row is None or row[0]:
            raise DatabaseError(
                "the database role is a superuser or may bypass row-level security, so the server "
                "would not keep practices apart; connect as a role without those rights",
                "database.bypasses_rls",
            )
        version = schema_version(conn, self.schema)
        if version > SCHEMA_VERSION:
            raise too_new(version)
        if version < SCHEMA_VERSION:
            raise DatabaseError(
                f"the database schema is version {version} and this sessionkit needs {SCHEMA_VERSION}; "
                "run 'sessionkit db upgrade --dsn ...' (sessionkit never upgrades an open database)",
                "database.upgrade_needed",
            )

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        conn = self.acquire()
        try:
            return schema_version(conn, self.schema)
        finally:
            self.release(conn)

    def unit_of_work(self, practice_id: str) -> PostgresUnitOfWork:
        """A new unit of work over the records of ``practice_id`` (use it in a ``with`` block)."""
        _checks.text(practice_id, "practice_id", required=True, max_len=64)
        return PostgresUnitOfWork(self, practice_id)

    def acquire(self) -> Connection:
        """A connection of the pool (DatabaseError ``database.closed`` after close, ``database.unavailable``)."""
        if self._pool.closed:
            raise DatabaseError("the database is closed", "database.closed")
        try:
            return self._pool.getconn()
        except PoolTimeout:
            raise unavailable() from None

    def release(self, conn: Connection) -> None:
        """Give back a connection taken with :meth:`acquire` (rolled back first)."""
        try:
            if not conn.broken and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # broken: the pool drops it
        if self._pool.closed:
            conn.close()
        else:
            self._pool.putconn(conn)

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.close()

    def __enter__(self) -> PostgresDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresDatabase(schema={self.schema!r})"  # never the DSN: it may hold a password

    def __del__(self) -> None:  # pragma: no cover - a forgotten close
        pool = getattr(self, "_pool", None)
        if pool is not None and not pool.closed:
            pool.close(timeout=0)
