"""The SQLite unit of work: one read snapshot, one write transaction at commit."""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sessionkit.adapters.sqlite.billing import (
    SqliteClaimRecordRepository,
    SqliteControlNumbers,
    SqliteInvoiceRepository,
)
from sessionkit.adapters.sqlite.ledger import SqliteAdjudicationRepository, SqlitePaymentRepository
from sessionkit.adapters.sqlite.repositories import (
    SqliteAuthorizationRepository,
    SqliteBillingCodeRepository,
    SqliteClientRepository,
    SqliteCoverageRepository,
    SqliteDiagnosisCodeRepository,
    SqlitePayerRepository,
    SqlitePracticeRepository,
    SqliteSessionRepository,
    _Keyed,
)
from sessionkit.errors import (
    TransactionError,
)

if TYPE_CHECKING:
    from sessionkit.adapters.sqlite.database import SqliteDatabase
    from sessionkit.ports import SessionRepository, UnitOfWork

__all__ = ["SqliteUnitOfWork"]


class _Transaction:
    """The repositories of one unit of work over a read snapshot of the file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.clients = SqliteClientRepository(conn)
        self.payers = SqlitePayerRepository(conn)
        self.coverages = SqliteCoverageRepository(conn)
        self.billing_codes = SqliteBillingCodeRepository(conn)
        self.diagnoses = SqliteDiagnosisCodeRepository(conn)
        self.authorizations = SqliteAuthorizationRepository(conn)
        self.sessions = SqliteSessionRepository(conn, self.coverages)
        self.practice = SqlitePracticeRepository(conn)
        self.claim_records = SqliteClaimRecordRepository(conn)
        self.invoices = SqliteInvoiceRepository(conn)
        self.payments = SqlitePaymentRepository(conn)
        self.adjudications = SqliteAdjudicationRepository(conn)
        # Start the read transaction and take its snapshot now.
        conn.execute("BEGIN")
        conn.execute("SELECT value FROM sessionkit_meta WHERE key = 'next_seq'").fetchone()

    @property
    def dirty(self) -> bool:
        keyed: tuple[_Keyed[Any], ...] = (
            self.clients,
            self.payers,
            self.coverages,
            self.billing_codes,
            self.diagnoses,
            self.authorizations,
        )
        return (
            any(r.writes for r in keyed)
            or bool(self.sessions.writes)
            or self.practice.written is not None
            or bool(self.claim_records.writes)
            or bool(self.invoices.writes)
            or bool(self.payments.writes)
            or bool(self.adjudications.writes)
        )

    def commit(self) -> None:
        """Apply every write in one ``BEGIN IMMEDIATE`` transaction, or none (raising)."""
        conn = self.conn
        conn.execute("COMMIT")  # ends the read transaction; nothing was written in it
        if not self.dirty:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self.sessions.flush()
            for repo in (
                self.clients,
                self.payers,
                self.coverages,
                self.billing_codes,
                self.diagnoses,
                self.authorizations,
            ):
                repo.flush()
            self.practice.flush()
            self.claim_records.flush()
            self.invoices.flush()
            self.payments.flush()
            self.adjudications.flush()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


class SqliteUnitOfWork:
    """A unit of work over a :class:`SqliteDatabase`: one snapshot, one transaction.

    Semantics are those of :class:`sessionkit.adapters.memory.InMemoryUnitOfWork`
    (see the module docstring). The same object can be entered again after
    its ``with`` block ends; entering it while active raises
    :class:`~sessionkit.ports.TransactionError` (``uow.nested``).
    """

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        self._tx: _Transaction | None = None
        self._control_numbers = SqliteControlNumbers(database.acquire, database.release)

    @property
    def claim_records(self) -> SqliteClaimRecordRepository:
        """The claim records of this unit of work."""
        return self._active().claim_records

    @property
    def invoices(self) -> SqliteInvoiceRepository:
        """The invoices of this unit of work."""
        return self._active().invoices

    @property
    def payments(self) -> SqlitePaymentRepository:
        """The payments ledger of this unit of work."""
        return self._active().payments

    @property
    def adjudications(self) -> SqliteAdjudicationRepository:
        """The posted adjudications of this unit of work."""
        return self._active().adjudications

    @property
    def control_numbers(self) -> SqliteControlNumbers:
        """The practice's control number sequences (each allocation its own transaction, never rolled back)."""
        self._active()
        return self._control_numbers

    def _active(self) -> _Transaction:
        if self._tx is None:
            raise TransactionError("the unit of work is used outside its with block", "uow.inactive")
        return self._tx

    @property
    def clients(self) -> SqliteClientRepository:
        """The clients of this unit of work."""
        return self._active().clients

    @property
    def payers(self) -> SqlitePayerRepository:
        """The payers of this unit of work."""
        return self._active().payers

    @property
    def coverages(self) -> SqliteCoverageRepository:
        """The coverages of this unit of work."""
        return self._active().coverages

    @property
    def billing_codes(self) -> SqliteBillingCodeRepository:
        """The codes setup of this unit of work."""
        return self._active().billing_codes

    @property
    def diagnoses(self) -> SqliteDiagnosisCodeRepository:
        """The diagnosis setup of this unit of work."""
        return self._active().diagnoses

    @property
    def authorizations(self) -> SqliteAuthorizationRepository:
        """The authorizations of this unit of work."""
        return self._active().authorizations

    @property
    def sessions(self) -> SqliteSessionRepository:
        """The sessions of this unit of work."""
        return self._active().sessions

    @property
    def practice(self) -> SqlitePracticeRepository:
        """The practice setup of this unit of work."""
        return self._active().practice

    @property
    def active(self) -> bool:
        """True inside the ``with`` block."""
        return self._tx is not None

    def __enter__(self) -> SqliteUnitOfWork:
        if self._tx is not None:
            raise TransactionError("the unit of work is already active", "uow.nested")
        conn = self.database.acquire()
        try:
            self._tx = _Transaction(conn)
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

    def _restart(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        self._tx = _Transaction(conn)

    def commit(self) -> None:
        """Apply every write atomically, then continue with a fresh snapshot.

        Raises ConcurrentUpdate or AlreadyExists (and applies nothing,
        discarding this unit's writes) on a conflict with a commit made since
        the snapshot.
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


if TYPE_CHECKING:  # the SQLite adapters satisfy every port (checked by mypy)
    _UOW: UnitOfWork = SqliteUnitOfWork(SqliteDatabase(":memory:"))
    _SESSIONS: SessionRepository = _UOW.sessions
