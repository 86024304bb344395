"""SQLite repositories for money in: the payments ledger and payers' adjudications (private).

Used by :mod:`sessionkit.adapters.sqlite`; the tables come from its schema 5
(:data:`SCHEMA`). A unit of work reads its snapshot plus its own writes;
writes go to the file at commit (:meth:`SqlitePaymentRepository.flush`),
where the unique indexes refuse a payment id or idempotency key, or an
adjudication id or source key, that another unit of work took meanwhile:
a retried charge is recorded once and a remittance is posted once, even by
two processes at the same moment.
"""

from __future__ import annotations

import builtins
import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import Final

import attrs

from sessionkit import serialization
from sessionkit.domain.payments import (
    Adjudication,
    Payment,
    PaymentApplication,
    PaymentMethod,
    PaymentStatus,
    refuse_key_change,
)
from sessionkit.errors import AlreadyExists, ConcurrentUpdate, NotFound

__all__ = [
    "SCHEMA",
    "SqliteAdjudicationRepository",
    "SqlitePaymentRepository",
    "at_session_payment",
    "at_session_payment_id",
]


def at_session_payment_id(session_id: str) -> str:
    """The id of the payment the schema-5 upgrade makes of a session's paid at session: the same everywhere.

    ``"pas"`` and the first 29 hex digits of the SHA-256 of the session id
    (32 characters), so two copies of a file upgrade to the same ledger.
    """
    return "pas" + hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:29]


def at_session_payment(session_id: str, client_id: str, day: date, amount: Decimal) -> Payment:
    """The payment standing for a paid at session stored before the ledger existed (schema 5).

    Taken at the session (``at_session``), method "other", received at the
    date of service at 00:00 UTC, applied wholly to the session, stored as
    version 1. The convention shared with the payments service: a session's
    paid at session equals what its ``at_session`` payments that count apply
    to it.
    """
    return Payment(
        id=at_session_payment_id(session_id),
        client_id=client_id,
        amount=amount,
        method=PaymentMethod.OTHER,
        received_at=datetime.combine(day, time(0, 0), tzinfo=timezone.utc),
        applied=[PaymentApplication(session_id=session_id, amount=amount)],
        status=PaymentStatus.RECEIVED,
        at_session=True,
        version=1,
    )


def _ledger_for_paid_at_session(conn: sqlite3.Connection) -> None:
    """Schema 5: each stored session with a paid at session above zero gets its one payment.

    Only the id, the client, the date of service and the document's
    ``paid_at_session`` are read (not whole sessions), in batches, so a large
    file upgrades in little memory; an amount that is not a positive number
    gets no payment.
    """
    cursor = conn.execute(
        "SELECT id, client_id, date_of_service, json_extract(doc, '$.paid_at_session') FROM sessions"
        " WHERE instr(doc, '\"paid_at_session\"') > 0 ORDER BY save_seq"
    )
    while rows := cursor.fetchmany(5000):
        payments: list[Payment] = []
        for session_id, client_id, day, paid in rows:
            try:
                amount = Decimal(paid) if isinstance(paid, str) else Decimal(0)
            except InvalidOperation:
                continue
            if amount.is_finite() and amount > 0:
                payments.append(at_session_payment(session_id, client_id, date.fromisoformat(day), amount))
        conn.executemany(
            "INSERT INTO payments (id, client_id, received_at, status, idempotency_key, version, doc)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?)",
            [
                (
                    p.id,
                    p.client_id,
                    _instant(p.received_at),
                    p.status.value,
                    p.version,
                    serialization.dumps(p),
                )
                for p in payments
            ],
        )
        conn.executemany(
            "INSERT INTO payment_sessions (session_id, payment_id) VALUES (?, ?)",
            [(a.session_id, p.id) for p in payments for a in p.applied],
        )


SCHEMA: Final = (
    # The ledger: one row per payment, its sessions apart (for_session).
    (
        "CREATE TABLE payments (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, received_at TEXT NOT NULL,"
        " status TEXT NOT NULL, idempotency_key TEXT UNIQUE, version INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX payments_received ON payments (received_at, id)",
    "CREATE INDEX payments_client ON payments (client_id, received_at)",
    "CREATE INDEX payments_status ON payments (status, received_at)",
    (
        "CREATE TABLE payment_sessions (session_id TEXT NOT NULL, payment_id TEXT NOT NULL,"
        " PRIMARY KEY (session_id, payment_id)) WITHOUT ROWID"
    ),
    "CREATE INDEX payment_sessions_payment ON payment_sessions (payment_id)",
    # Adjudications as posted: one per source key (a remittance is posted once).
    (
        "CREATE TABLE adjudications (id TEXT PRIMARY KEY, claim_record_id TEXT NOT NULL,"
        " client_id TEXT NOT NULL, source_key TEXT NOT NULL UNIQUE, posted_at TEXT NOT NULL,"
        " version INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX adjudications_claim ON adjudications (claim_record_id, posted_at)",
    "CREATE INDEX adjudications_client ON adjudications (client_id, posted_at)",
    (
        "CREATE TABLE adjudication_sessions (session_id TEXT NOT NULL, adjudication_id TEXT NOT NULL,"
        " PRIMARY KEY (session_id, adjudication_id)) WITHOUT ROWID"
    ),
    "CREATE INDEX adjudication_sessions_adjudication ON adjudication_sessions (adjudication_id)",
    # One live claim per session AND coverage (a secondary claim beside the paid primary).
    "ALTER TABLE claim_sessions ADD COLUMN coverage_id TEXT NOT NULL DEFAULT ''",
    (
        "UPDATE claim_sessions SET coverage_id = coalesce((SELECT json_extract(r.doc, '$.coverage_id')"
        " FROM claim_records r WHERE r.id = claim_sessions.record_id), '')"
    ),
    "DROP INDEX claim_sessions_live",
    "CREATE UNIQUE INDEX claim_sessions_live ON claim_sessions (session_id, coverage_id) WHERE live = 1",
    # The ledger for what was stored before it: paid at session becomes a payment.
    _ledger_for_paid_at_session,
)
"""Schema 5: payments and adjudications with their sessions; one live claim per session and coverage."""


def _instant(value: datetime) -> str:
    """An instant as UTC text that sorts as the instants do (the ``received_at``/``posted_at`` columns)."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _by_receipt(payments: Iterable[Payment]) -> builtins.list[Payment]:
    return sorted(payments, key=lambda p: (p.received_at, p.id))


def _by_posting(adjudications: Iterable[Adjudication]) -> builtins.list[Adjudication]:
    return sorted(adjudications, key=lambda a: (a.posted_at, a.id))


def _payment_exists() -> AlreadyExists:
    return AlreadyExists("payment already exists", "payment.exists", "id")


def _idempotency_key_taken() -> AlreadyExists:
    return AlreadyExists(
        "a payment with this idempotency key exists", "payment.idempotency_key_taken", "idempotency_key"
    )


def _payment_changed(since: str = "since it was read") -> ConcurrentUpdate:
    return ConcurrentUpdate(f"the payment was changed {since}", "payment.version", "version")


def _adjudication_exists() -> AlreadyExists:
    return AlreadyExists("adjudication already exists", "adjudication.exists", "id")


def _already_posted() -> AlreadyExists:
    return AlreadyExists("this remittance is posted already", "adjudication.already_posted", "source_key")


class SqlitePaymentRepository:
    """The payments ledger of one unit of work (see :class:`sessionkit.ports.PaymentRepository`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes: dict[str, Payment] = {}
        self.expected: dict[str, int | None] = {}

    def _load(self, doc: str) -> Payment:
        return serialization.loads(doc, Payment)

    def _stored(self, payment_id: str) -> Payment | None:
        row = self._conn.execute("SELECT doc FROM payments WHERE id = ?", (payment_id,)).fetchone()
        return None if row is None else self._load(row[0])

    def find(self, payment_id: str) -> Payment | None:
        """The payment, or None."""
        if payment_id in self.writes:
            return self.writes[payment_id]
        return self._stored(payment_id)

    def get(self, payment_id: str) -> Payment:
        """The payment; NotFound (``payment.not_found``) when there is none."""
        found = self.find(payment_id)
        if found is None:
            raise NotFound("payment not found", "payment.not_found", "id")
        return found

    def _store(self, payment: Payment, stored: Payment | None) -> Payment:
        expected = 0 if stored is None else stored.version
        if payment.version != expected:
            raise _payment_changed()
        if payment.id not in self.expected:
            self.expected[payment.id] = None if stored is None else stored.version
        saved = attrs.evolve(payment, version=payment.version + 1)
        self.writes[payment.id] = saved
        return saved

    def add(self, payment: Payment) -> Payment:
        """Store a new payment (AlreadyExists for a taken id or idempotency key)."""
        if self.find(payment.id) is not None:
            raise _payment_exists()
        if payment.idempotency_key is not None and self.by_idempotency_key(payment.idempotency_key):
            raise _idempotency_key_taken()
        return self._store(payment, None)

    def put(self, payment: Payment) -> Payment:
        """Replace a stored payment carrying its stored version; return what was stored."""
        stored = self.get(payment.id)
        refuse_key_change(stored, payment)
        return self._store(payment, stored)

    def _where(self, sql: str, params: tuple[str, ...], keep: Callable[[Payment], bool]) -> list[Payment]:
        found = {p.id: p for p in (self._load(doc) for (doc,) in self._conn.execute(sql, params))}
        for pid, payment in self.writes.items():
            if keep(payment):
                found[pid] = payment
            else:
                found.pop(pid, None)
        return _by_receipt(found.values())

    def list(self) -> builtins.list[Payment]:
        """Every payment, by receipt time then id."""
        return self._where("SELECT doc FROM payments", (), lambda p: True)

    def for_client(self, client_id: str) -> builtins.list[Payment]:
        """The client's payments, by receipt time then id."""
        return self._where(
            "SELECT doc FROM payments WHERE client_id = ?", (client_id,), lambda p: p.client_id == client_id
        )

    def for_session(self, session_id: str) -> builtins.list[Payment]:
        """The payments applying to the session, by receipt time then id."""
        return self._where(
            "SELECT p.doc FROM payments p JOIN payment_sessions s ON s.payment_id = p.id WHERE s.session_id = ?",
            (session_id,),
            lambda p: any(a.session_id == session_id for a in p.applied),
        )

    def by_idempotency_key(self, key: str) -> Payment | None:
        """The payment asked with ``key``, or None."""
        for payment in self.writes.values():
            if payment.idempotency_key == key:
                return payment
        row = self._conn.execute("SELECT doc FROM payments WHERE idempotency_key = ?", (key,)).fetchone()
        return None if row is None else self._load(row[0])

    def pending(self) -> builtins.list[Payment]:
        """The payments whose outcome is unknown, by receipt time then id."""
        return self._where(
            "SELECT doc FROM payments WHERE status = ?",
            (PaymentStatus.PENDING.value,),
            lambda p: p.status is PaymentStatus.PENDING,
        )

    def flush(self) -> None:
        """Write this unit's payments (inside the commit's transaction).

        A payment id or idempotency key taken since the snapshot raises
        AlreadyExists (``payment.exists`` first); a payment changed since it
        was read raises ConcurrentUpdate (``payment.version``).
        """
        conn = self._conn
        for pid, payment in self.writes.items():
            expected = self.expected[pid]
            doc = serialization.dumps(payment)
            if expected is None:
                try:
                    conn.execute(
                        "INSERT INTO payments (id, client_id, received_at, status, idempotency_key, version, doc)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            pid,
                            payment.client_id,
                            _instant(payment.received_at),
                            payment.status.value,
                            payment.idempotency_key,
                            payment.version,
                            doc,
                        ),
                    )
                except sqlite3.IntegrityError:
                    taken = conn.execute("SELECT 1 FROM payments WHERE id = ?", (pid,)).fetchone()
                    raise (_payment_exists() if taken else _idempotency_key_taken()) from None
            else:
                cursor = conn.execute(
                    "UPDATE payments SET client_id = ?, received_at = ?, status = ?, version = ?, doc = ?"
                    " WHERE id = ? AND version = ?",
                    (
                        payment.client_id,
                        _instant(payment.received_at),
                        payment.status.value,
                        payment.version,
                        doc,
                        pid,
                        expected,
                    ),
                )
                if cursor.rowcount != 1:
                    raise _payment_changed("by another unit of work")
                conn.execute("DELETE FROM payment_sessions WHERE payment_id = ?", (pid,))
            conn.executemany(
                "INSERT INTO payment_sessions (session_id, payment_id) VALUES (?, ?)",
                [(a.session_id, pid) for a in payment.applied],
            )


class SqliteAdjudicationRepository:
    """Posted adjudications of one unit of work (see :class:`sessionkit.ports.AdjudicationRepository`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes: dict[str, Adjudication] = {}

    def _load(self, doc: str) -> Adjudication:
        return serialization.loads(doc, Adjudication)

    def find(self, adjudication_id: str) -> Adjudication | None:
        """The adjudication, or None."""
        if adjudication_id in self.writes:
            return self.writes[adjudication_id]
        row = self._conn.execute("SELECT doc FROM adjudications WHERE id = ?", (adjudication_id,)).fetchone()
        return None if row is None else self._load(row[0])

    def get(self, adjudication_id: str) -> Adjudication:
        """The adjudication; NotFound (``adjudication.not_found``) when there is none."""
        found = self.find(adjudication_id)
        if found is None:
            raise NotFound("adjudication not found", "adjudication.not_found", "id")
        return found

    def add(self, adjudication: Adjudication) -> Adjudication:
        """Store a new adjudication (AlreadyExists for a taken id or source key)."""
        if self.find(adjudication.id) is not None:
            raise _adjudication_exists()
        if adjudication.version != 0:
            raise ConcurrentUpdate("a new adjudication has version 0", "adjudication.version", "version")
        if self.by_source_key(adjudication.source_key) is not None:
            raise _already_posted()
        saved = attrs.evolve(adjudication, version=1)
        self.writes[adjudication.id] = saved
        return saved

    def _where(
        self, sql: str, params: tuple[str, ...], keep: Callable[[Adjudication], bool]
    ) -> list[Adjudication]:
        found = {a.id: a for a in (self._load(doc) for (doc,) in self._conn.execute(sql, params))}
        found.update((aid, a) for aid, a in self.writes.items() if keep(a))
        return _by_posting(found.values())

    def list(self) -> builtins.list[Adjudication]:
        """Every adjudication, by posting time then id."""
        return self._where("SELECT doc FROM adjudications", (), lambda a: True)

    def for_claim(self, claim_record_id: str) -> builtins.list[Adjudication]:
        """The adjudications of a claim record, by posting time then id."""
        return self._where(
            "SELECT doc FROM adjudications WHERE claim_record_id = ?",
            (claim_record_id,),
            lambda a: a.claim_record_id == claim_record_id,
        )

    def for_client(self, client_id: str) -> builtins.list[Adjudication]:
        """The client's adjudications, by posting time then id."""
        return self._where(
            "SELECT doc FROM adjudications WHERE client_id = ?",
            (client_id,),
            lambda a: a.client_id == client_id,
        )

    def for_session(self, session_id: str) -> builtins.list[Adjudication]:
        """The adjudications with a line of the session, by posting time then id."""
        return self._where(
            "SELECT a.doc FROM adjudications a JOIN adjudication_sessions s ON s.adjudication_id = a.id"
            " WHERE s.session_id = ?",
            (session_id,),
            lambda a: any(line.session_id == session_id for line in a.lines),
        )

    def by_source_key(self, source_key: str) -> Adjudication | None:
        """The adjudication posted from ``source_key``, or None."""
        for adjudication in self.writes.values():
            if adjudication.source_key == source_key:
                return adjudication
        row = self._conn.execute(
            "SELECT doc FROM adjudications WHERE source_key = ?", (source_key,)
        ).fetchone()
        return None if row is None else self._load(row[0])

    def flush(self) -> None:
        """Write this unit's adjudications (AlreadyExists for an id or source key taken meanwhile)."""
        conn = self._conn
        for aid, adjudication in self.writes.items():
            try:
                conn.execute(
                    "INSERT INTO adjudications (id, claim_record_id, client_id, source_key, posted_at, version, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        aid,
                        adjudication.claim_record_id,
                        adjudication.client_id,
                        adjudication.source_key,
                        _instant(adjudication.posted_at),
                        adjudication.version,
                        serialization.dumps(adjudication),
                    ),
                )
            except sqlite3.IntegrityError:
                taken = conn.execute("SELECT 1 FROM adjudications WHERE id = ?", (aid,)).fetchone()
                raise (_adjudication_exists() if taken else _already_posted()) from None
            conn.executemany(
                "INSERT INTO adjudication_sessions (session_id, adjudication_id) VALUES (?, ?)",
                sorted({(line.session_id, aid) for line in adjudication.lines}),
            )
