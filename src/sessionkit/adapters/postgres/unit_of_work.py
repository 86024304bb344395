"""The PostgreSQL unit of work: one ``REPEATABLE READ`` transaction bound to one practice."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg

from sessionkit.adapters.postgres.repositories import (
    Connection,
    PgAdjudicationRepository,
    PgAuthorizationRepository,
    PgBillingCodeRepository,
    PgClaimRecordRepository,
    PgClientRepository,
    PgConnection,
    PgControlNumbers,
    PgCoverageRepository,
    PgDiagnosisCodeRepository,
    PgInvoiceRepository,
    PgPayerRepository,
    PgPaymentRepository,
    PgPracticeRepository,
    PgSessionRepository,
    database_error,
)
from sessionkit.adapters.postgres.schema import PRACTICE_SETTING
from sessionkit.errors import TransactionError

if TYPE_CHECKING:
    from sessionkit.adapters.postgres.database import PostgresDatabase
    from sessionkit.ports import SessionRepository, UnitOfWork

__all__ = ["PostgresUnitOfWork"]


class _Transaction:
    """The repositories of one unit of work over the transaction's snapshot."""

    def __init__(self, conn: Connection, practice_id: str) -> None:
        self.conn = conn
        pg = PgConnection(conn)
        self.clients = PgClientRepository(pg)
        self.payers = PgPayerRepository(pg)
        self.coverages = PgCoverageRepository(pg)
        self.billing_codes = PgBillingCodeRepository(pg)
        self.diagnoses = PgDiagnosisCodeRepository(pg)
        self.authorizations = PgAuthorizationRepository(pg)
        self.sessions = PgSessionRepository(pg, self.coverages)
        self.practice = PgPracticeRepository(pg)
        self.claim_records = PgClaimRecordRepository(pg)
        self.invoices = PgInvoiceRepository(pg)
        self.payments = PgPaymentRepository(pg)
        self.adjudications = PgAdjudicationRepository(pg)
        # The transaction, bound to the practice; its first statement takes the snapshot.
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            conn.execute(f"SELECT set_config('{PRACTICE_SETTING}', %s, true)", (practice_id,))
        except psycopg.Error as exc:
            raise database_error(exc) from None

    @property
    def dirty(self) -> bool:
        keyed: tuple[Any, ...] = (
            self.clients,
            self.payers,
            self.coverages,
            self.billing_codes,
            self.diagnoses,
            self.authorizations,
            self.sessions,
            self.claim_records,
            self.invoices,
            self.payments,
            self.adjudications,
        )
        return any(r.writes for r in keyed) or self.practice.written is not None

    def commit(self) -> None:
        """Write everything into the transaction and commit it, or nothing (raising)."""
        conn = self.conn
        try:
            if self.dirty:
                self.sessions.flush()
                for repo in (
                    self.clients,
                    self.payers,
                    self.coverages,
                    self.billing_codes,
                    self.diagnoses,
                    self.authorizations,
                    self.practice,
                    self.claim_records,
                    self.invoices,
                    self.payments,
                    self.adjudications,
                ):
                    repo.flush()
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            raise database_error(exc) from None


class PostgresUnitOfWork:
    """A unit of work over a :class:`PostgresDatabase`, bound to one practice: one snapshot, one transaction.

    Semantics are those of :class:`sessionkit.adapters.memory.InMemoryUnitOfWork`
    and :class:`sessionkit.adapters.sqlite.SqliteUnitOfWork`; every
    repository sees only the practice's records (the server enforces it).
    """

    def __init__(self, database: PostgresDatabase, practice_id: str) -> None:
        self.database = database
        self.practice_id = practice_id
        self._tx: _Transaction | None = None
        self._control_numbers = PgControlNumbers(practice_id, database.acquire, database.release)

    def _active(self) -> _Transaction:
        if self._tx is None:
            raise TransactionError("the unit of work is used outside its with block", "uow.inactive")
        return self._tx

    @property
    def connection(self) -> Connection:
        """The unit's psycopg connection, inside its transaction (for reports the ports do not offer)."""
        return self._active().conn

    @property
    def clients(self) -> PgClientRepository:
        """The clients of this unit of work."""
        return self._active().clients

    @property
    def payers(self) -> PgPayerRepository:
        """The payers of this unit of work."""
        return self._active().payers

    @property
    def coverages(self) -> PgCoverageRepository:
        """The coverages of this unit of work."""
        return self._active().coverages

    @property
    def billing_codes(self) -> PgBillingCodeRepository:
        """The codes setup of this unit of work."""
        return self._active().billing_codes

    @property
    def diagnoses(self) -> PgDiagnosisCodeRepository:
        """The diagnosis setup of this unit of work."""
        return self._active().diagnoses

    @property
    def authorizations(self) -> PgAuthorizationRepository:
        """The authorizations of this unit of work."""
        return self._active().authorizations

    @property
    def sessions(self) -> PgSessionRepository:
        """The sessions of this unit of work."""
        return self._active().sessions

    @property
    def practice(self) -> PgPracticeRepository:
        """The practice setup of this unit of work."""
        return self._active().practice

    @property
    def claim_records(self) -> PgClaimRecordRepository:
        """The claim records of this unit of work."""
        return self._active().claim_records

    @property
    def invoices(self) -> PgInvoiceRepository:
        """The invoices of this unit of work."""
        return self._active().invoices

    @property
    def payments(self) -> PgPaymentRepository:
        """The payments ledger of this unit of work."""
        return self._active().payments

    @property
    def adjudications(self) -> PgAdjudicationRepository:
        """The posted adjudications of this unit of work."""
        return self._active().adjudications

    @property
    def control_numbers(self) -> PgControlNumbers:
        """The practice's control number sequences (each allocation its own transaction, never rolled back)."""
        self._active()
        return self._control_numbers

    @property
    def active(self) -> bool:
        """True inside the ``with`` block."""
        return self._tx is not None

    def __enter__(self) -> PostgresUnitOfWork:
        if self._tx is not None:
            raise TransactionError("the unit of work is already active", "uow.nested")
        conn = self.database.acquire()
        try:
            self._tx = _Transaction(conn, self.practice_id)
        except BaseException:
            self.database.release(conn)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tx, self._tx = self._tx, None
        if tx is not None:
            self.database.release(tx.conn)

    def _restart(self, conn: Connection) -> None:
        self._tx = None
        try:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.OperationalError:
            pass  # the connection is gone (the server restarted): take another one
        if conn.broken or conn.closed:
            self.database.release(conn)  # the pool drops it
            conn = self.database.acquire()
        try:
            self._tx = _Transaction(conn, self.practice_id)
        except BaseException:
            self.database.release(conn)
            raise

    def commit(self) -> None:
        """Apply every write atomically, then continue with a fresh snapshot.

        Raises ConcurrentUpdate or AlreadyExists (and applies nothing,
        discarding this unit's writes) on a conflict with a commit made since
        the snapshot; DatabaseError (``database.unavailable``) when the server
        went away (nothing was written).
        """
        tx = self._active()
        try:
            tx.commit()
        finally:
            self._restart(tx.conn)

    def rollback(self) -> None:
        """Discard every write of this unit, continuing with a fresh snapshot."""
        tx = self._active()
        self._restart(tx.conn)


if TYPE_CHECKING:  # the PostgreSQL adapters satisfy every port (checked by mypy)
    _UOW: UnitOfWork = PostgresUnitOfWork(PostgresDatabase(""), "p")
    _SESSIONS: SessionRepository = _UOW.sessions
