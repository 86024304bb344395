"""In-memory adapters: every port of :mod:`sessionkit.ports`, held in dicts.

This is the reference implementation: other adapters (SQLite) must behave
exactly as documented here, and the test suite uses it as its fake.

Transactions
    A :class:`MemoryStore` holds the committed state; any number of
    :class:`InMemoryUnitOfWork` objects may share one store. Entering a unit
    of work takes a snapshot of the store (snapshot isolation): reads see that
    snapshot plus the unit's own writes, never another unit's uncommitted or
    later-committed writes. :meth:`InMemoryUnitOfWork.commit` first checks
    every saved session's version against the store (a session changed and
    committed by someone else since the snapshot raises
    :class:`~sessionkit.errors.ConcurrentUpdate`; an appointment key taken by a
    session committed meanwhile raises :class:`~sessionkit.ports.AlreadyExists`)
    and then applies all writes at once, or none. Clients, payers, coverages,
    authorizations, billing codes and the practice setup are versioned the
    same way: ``put`` (and ``add``) refuses a record whose ``version`` is not
    the stored one (0 for a new record) with ``ConcurrentUpdate`` (code
    ``client.version``, ``payer.version``, ...), stores and returns it with
    ``version + 1``, and the commit refuses a record changed or deleted in the
    store since the snapshot. Diagnoses of the setup (a code and the
    practice's label) are last-writer-wins. After a commit, or a rollback,
    the unit continues with a fresh snapshot. Leaving the ``with`` block
    discards uncommitted writes.

Ordering
    ``list()`` of clients, payers, coverages and authorizations orders by id;
    of billing and diagnosis codes by code. ``for_client``/``active_on`` of
    coverages: precedence (sessionkit.facts.coverage_order); of authorizations:
    start date, id. Every query returning sessions: date of service, then id.

>>> from datetime import date
>>> from sessionkit import Client, ClientSession
>>> uow = InMemoryUnitOfWork()
>>> with uow:
...     uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
...     saved = uow.sessions.save(ClientSession(id="s1", client_id="c1",
...         date_of_service=date(2026, 3, 2), billing_code="90834", charge="140"))
...     uow.commit()
>>> saved.version
1
>>> with uow:
...     uow.sessions.count()
1
"""

from __future__ import annotations

import builtins
import threading
import warnings
from collections.abc import Callable, Iterable
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from sessionkit.codes import hcpcs, icd10
from sessionkit.domain import (
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Payer,
    PracticeSetup,
    _checks,
)
from sessionkit.domain.billing import ClaimRecord, InvoiceRecord
from sessionkit.domain.payments import Adjudication, Payment, PaymentStatus, refuse_key_change
from sessionkit.domain.session import refuse_locked_change, with_version
from sessionkit.errors import AlreadyExists, ConcurrentUpdate, NotFound, TransactionError
from sessionkit.facts import active_coverages, coverage_order
from sessionkit.routing import Destination, routed_to

if TYPE_CHECKING:
    from sessionkit.ports import SessionRepository, UnitOfWork

__all__ = [
    "InMemoryAuthorizationRepository",
    "InMemoryBillingCodeRepository",
    "InMemoryClientRepository",
    "InMemoryCoverageRepository",
    "InMemoryDiagnosisCodeRepository",
    "InMemoryPayerRepository",
    "InMemoryPracticeRepository",
    "InMemorySessionRepository",
    "InMemoryUnitOfWork",
    "MemoryStore",
]

V = TypeVar("V")


class MemoryStore:
    """The committed state: one dict per record kind, keyed as the repositories key them.

    ``session_seq`` maps a session id to the save-sequence number of its last
    committed save; ``next_seq`` is the next number to hand out. ``commits``
    counts the commits applied (a convenience for tests).
    """

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.payers: dict[str, Payer] = {}
        self.coverages: dict[str, Coverage] = {}
        self.billing_codes: dict[str, BillingCode] = {}
        self.diagnoses: dict[str, DiagnosisCode] = {}
        self.authorizations: dict[str, Authorization] = {}
        self.sessions: dict[str, ClientSession] = {}
        self.session_seq: dict[str, int] = {}
        self.next_seq = 1
        self.practice: PracticeSetup | None = None
        self.claim_records: dict[str, ClaimRecord] = {}
        self.invoices: dict[str, InvoiceRecord] = {}
        self.payments: dict[str, Payment] = {}
        self.adjudications: dict[str, Adjudication] = {}
        self.counters: dict[str, int] = {}
        self.commits = 0


class _Table(Generic[V]):
    """A snapshot of one committed dict plus the writes made to it (``None`` = deleted)."""

    def __init__(self, committed: dict[str, V]) -> None:
        self.committed = committed
        self.data: dict[str, V] = dict(committed)
        self.writes: dict[str, V | None] = {}

    def set(self, key: str, value: V) -> None:
        self.data[key] = value
        self.writes[key] = value

    def remove(self, key: str) -> None:
        del self.data[key]
        self.writes[key] = None

    def apply(self) -> None:
        for key, value in self.writes.items():
            if value is None:
                self.committed.pop(key, None)
            else:
                self.committed[key] = value


class _Keyed(Generic[V]):
    """get/find/add/put/list over a table, for records keyed by a string.

    Versioned records (every kind but diagnoses) follow the session rule: a
    put must carry the stored version (0 for a new record) and stores
    ``version + 1``; ``expected`` keeps, for each key written in the unit,
    its version in the snapshot, which the commit checks against the store.
    """

    _what = "record"
    _versioned = True

    def __init__(self, table: _Table[V], key: Callable[[V], str]) -> None:
        self._table = table
        self._key = key
        self.expected: dict[str, int | None] = {}
        """For each key written in this unit: the record's version in the snapshot (None: absent)."""

    def _normal(self, key: str) -> str | None:
        return key if isinstance(key, str) else None

    def get(self, key: str) -> V:
        """The record with this key; raises NotFound (code ``<kind>.not_found``)."""
        found = self.find(key)
        if found is None:
            raise NotFound(f"{self._what} not found", f"{self._what}.not_found")
        return found

    def find(self, key: str) -> V | None:
        """The record with this key, or None."""
        normal = self._normal(key)
        return None if normal is None else self._table.data.get(normal)

    def add(self, record: V) -> None:
        """Insert; raises AlreadyExists (code ``<kind>.exists``) when the key is taken."""
        key = self._key(record)
        if key in self._table.data:
            raise AlreadyExists(f"{self._what} already exists", f"{self._what}.exists")
        self.put(record)

    def put(self, record: V) -> None:
        """Insert or replace; the stored record has its version bumped.

        Raises ConcurrentUpdate (``<kind>.version``) when the record's
        version is not the stored one (0 for a new record); nothing is
        written then.
        """
        key = self._key(record)
        if not self._versioned:
            self._table.set(key, record)
            return
        stored = self._table.data.get(key)
        version = record.version  # type: ignore[attr-defined]
        if version != (0 if stored is None else stored.version):  # type: ignore[attr-defined]
            raise stale_record(self._what)
        if key not in self.expected:
            self.expected[key] = None if stored is None else stored.version  # type: ignore[attr-defined]
        self._table.set(key, attrs.evolve(record, version=version + 1))  # type: ignore[misc]

    def _remove(self, key: str) -> None:
        stored = self.get(key)
        if key not in self.expected:
            self.expected[key] = stored.version  # type: ignore[attr-defined]
        self._table.remove(key)

    def check(self) -> None:
        """Raise ConcurrentUpdate if a record written in the unit was changed in the store since the snapshot."""
        committed = self._table.committed
        for key, expected in self.expected.items():
            current = committed.get(key)
            if (None if current is None else current.version) != expected:  # type: ignore[attr-defined]
                raise stale_record(self._what, "by another unit of work")

    def list(self) -> builtins.list[V]:
        """Every record, ordered by key."""
        return [self._table.data[k] for k in sorted(self._table.data)]


def stale_record(what: str, since: str = "since it was read") -> ConcurrentUpdate:
    """The ConcurrentUpdate of a record of kind ``what`` (code ``<kind>.version``, field ``version``)."""
    return ConcurrentUpdate(f"the {what.replace('_', ' ')} was changed {since}", f"{what}.version", "version")


class InMemoryClientRepository(_Keyed[Client]):
    """Clients keyed by id. See :class:`sessionkit.ports.ClientRepository`."""

    _what = "client"


class InMemoryPayerRepository(_Keyed[Payer]):
    """Payers keyed by id. See :class:`sessionkit.ports.PayerRepository`."""

    _what = "payer"


class InMemoryCoverageRepository(_Keyed[Coverage]):
    """Coverages keyed by id. See :class:`sessionkit.ports.CoverageRepository`."""

    _what = "coverage"

    def delete(self, coverage_id: str) -> None:
        """Remove a coverage; raises NotFound when there is none."""
        self._remove(coverage_id)

    def for_client(self, client_id: str) -> builtins.list[Coverage]:
        """The client's coverages in precedence order (:func:`sessionkit.facts.coverage_order`)."""
        found = [c for c in self._table.data.values() if c.client_id == client_id]
        found.sort(key=coverage_order)
        return found

    def active_on(self, client_id: str, on: date) -> builtins.list[Coverage]:
        """The client's coverages in effect on ``on``, in precedence order (:func:`sessionkit.facts.active_coverages`)."""
        return builtins.list(active_coverages(client_id, on, self._table.data.values()))


def _billing_key(code: str) -> str | None:
    return hcpcs.validate(code) if hcpcs.is_valid(code) else None


def _diagnosis_key(code: str) -> str | None:
    return icd10.validate(code) if icd10.is_valid(code) else None


class InMemoryBillingCodeRepository(_Keyed[BillingCode]):
    """The codes setup keyed by normalised code. See :class:`sessionkit.ports.BillingCodeRepository`."""

    _what = "billing_code"

    def _normal(self, key: str) -> str | None:
        return _billing_key(key)


class InMemoryDiagnosisCodeRepository(_Keyed[DiagnosisCode]):
    """The diagnosis setup keyed by canonical code. See :class:`sessionkit.ports.DiagnosisCodeRepository`."""

    _what = "diagnosis"
    _versioned = False  # a code with the practice's label: last writer wins

    def _normal(self, key: str) -> str | None:
        return _diagnosis_key(key)


class InMemoryAuthorizationRepository(_Keyed[Authorization]):
    """Authorizations keyed by id. See :class:`sessionkit.ports.AuthorizationRepository`."""

    _what = "authorization"

    def for_client(self, client_id: str) -> builtins.list[Authorization]:
        """The client's authorizations by start date, then id."""
        found = [a for a in self._table.data.values() if a.client_id == client_id]
        found.sort(key=lambda a: (a.start, a.id))
        return found

    def active_on(self, client_id: str, on: date) -> builtins.list[Authorization]:
        """The client's authorizations with ``start <= on <= end``, by start date, then id."""
        return [a for a in self.for_client(client_id) if a.is_active(on)]


class InMemoryPracticeRepository:
    """The practice setup. See :class:`sessionkit.ports.PracticeRepository`."""

    def __init__(self, committed: PracticeSetup | None) -> None:
        self.value = committed
        self.written = False
        self.expected: int | None = None
        """The setup's version in the snapshot when the unit first put it (None: absent)."""

    def get(self) -> PracticeSetup:
        """The practice setup; raises NotFound (``practice.not_found``) before one is put."""
        if self.value is None:
            raise NotFound("the practice is not set up", "practice.not_found")
        return self.value

    def find(self) -> PracticeSetup | None:
        """The practice setup, or None."""
        return self.value

    def put(self, practice: PracticeSetup) -> None:
        """Set the practice setup; the stored setup has its version bumped.

        Raises ConcurrentUpdate (``practice.version``) when its version is
        not the stored one (0 before any setup).
        """
        stored = self.value
        if practice.version != (0 if stored is None else stored.version):
            raise stale_record("practice")
        if not self.written:
            self.expected = None if stored is None else stored.version
        self.value = attrs.evolve(practice, version=practice.version + 1)
        self.written = True

    def check(self, committed: PracticeSetup | None) -> None:
        """Raise ConcurrentUpdate if the unit put the setup and the store's changed since the snapshot."""
        if self.written and (None if committed is None else committed.version) != self.expected:
            raise stale_record("practice", "by another unit of work")


def _session_order(s: ClientSession) -> tuple[date, str]:
    return (s.date_of_service, s.id)


class InMemorySessionRepository:
    """Client sessions with versions and a save sequence. See :class:`sessionkit.ports.SessionRepository`.

    Within a unit of work, sessions saved in it count as saved after every
    committed session (their sequence numbers continue the store's); the
    commit renumbers them in the order they were saved.
    """

    def __init__(self, table: _Table[ClientSession], store: MemoryStore, coverages: _Table[Coverage]) -> None:
        self._table = table
        self._coverages = coverages
        self.seq: dict[str, int] = dict(store.session_seq)
        self.counter = store.next_seq
        self.expected: dict[str, int | None] = {}
        """For each session written in this unit: its version in the snapshot (None: absent)."""

    def _sorted(self, sessions: Iterable[ClientSession]) -> builtins.list[ClientSession]:
        return sorted(sessions, key=_session_order)

    def get(self, session_id: str) -> ClientSession:
        """The session; raises NotFound (``session.not_found``)."""
        found = self.find(session_id)
        if found is None:
            raise NotFound("session not found", "session.not_found")
        return found

    def find(self, session_id: str) -> ClientSession | None:
        """The session, or None."""
        return self._table.data.get(session_id)

    def list(self) -> builtins.list[ClientSession]:
        """Every session, by date of service then id."""
        return self._sorted(self._table.data.values())

    def by_client(self, client_id: str) -> builtins.list[ClientSession]:
        """The client's sessions, by date of service then id."""
        return self._sorted(s for s in self._table.data.values() if s.client_id == client_id)

    def client_ids(self) -> builtins.list[str]:
        """The ids of the clients that have sessions, sorted."""
        return sorted({s.client_id for s in self._table.data.values()})

    def between(self, start: date, end: date) -> builtins.list[ClientSession]:
        """Sessions with ``start <= date_of_service <= end``, by date of service then id."""
        return self._sorted(s for s in self._table.data.values() if start <= s.date_of_service <= end)

    def by_appointment_key(self, key: str) -> ClientSession | None:
        """The session imported from this calendar appointment, or None."""
        for s in self._table.data.values():
            if s.appointment_key == key:
                return s
        return None

    def last_saved_for(self, client_id: str) -> ClientSession | None:
        """The client's session saved last (by save sequence), or None."""
        best: ClientSession | None = None
        best_seq = -1
        for s in self._table.data.values():
            if s.client_id == client_id and self.seq.get(s.id, 0) > best_seq:
                best, best_seq = s, self.seq.get(s.id, 0)
        return best

    def by_destination(self, destination: Destination) -> builtins.list[ClientSession]:
        """Deprecated: use :func:`sessionkit.routing.sessions_for` (routing is a service, not storage).

        Kept for one release; warns with :class:`DeprecationWarning`.
        """
        warnings.warn(
            "SessionRepository.by_destination is deprecated; use sessionkit.routing.sessions_for(uow, destination)",
            DeprecationWarning,
            stacklevel=2,
        )
        return routed_to(destination, self.list(), self._coverages.data.values())

    def save(self, session: ClientSession) -> ClientSession:
        """Store ``session`` with its version bumped and return what was stored.

        Raises ConcurrentUpdate (``session.version``) when the version is not
        the stored one (0 for a new session), AlreadyExists
        (``session.appointment_key_taken``) when another session has its
        appointment key.
        """
        stored = self._table.data.get(session.id)
        expected = 0 if stored is None else stored.version
        if session.version != expected:
            raise ConcurrentUpdate("the session was changed since it was read", "session.version", "version")
        refuse_locked_change(stored, session)
        if session.appointment_key is not None:
            other = self.by_appointment_key(session.appointment_key)
            if other is not None and other.id != session.id:
                raise AlreadyExists(
                    "another session has this appointment key",
                    "session.appointment_key_taken",
                    "appointment_key",
                )
        if session.id not in self.expected:
            self.expected[session.id] = None if stored is None else stored.version
        saved = with_version(session, session.version + 1)
        self._table.set(session.id, saved)
        self.seq[session.id] = self.counter
        self.counter += 1
        return saved

    def save_many(self, sessions: Iterable[ClientSession]) -> builtins.list[ClientSession]:
        """Save each session in order; if one fails, none of them is saved (then the error is raised)."""
        data, writes = dict(self._table.data), dict(self._table.writes)
        seq, counter, expected = dict(self.seq), self.counter, dict(self.expected)
        try:
            return [self.save(s) for s in sessions]
        except BaseException:
            self._table.data, self._table.writes = data, writes
            self.seq, self.counter, self.expected = seq, counter, expected
            raise

    def delete(self, session_id: str) -> None:
        """Remove a session; raises NotFound when there is none."""
        stored = self.get(session_id)
        if session_id not in self.expected:
            self.expected[session_id] = stored.version
        self._table.remove(session_id)
        self.seq.pop(session_id, None)

    def count(self) -> int:
        """How many sessions there are."""
        return len(self._table.data)


def _by_time(records: Iterable[ClaimRecord]) -> builtins.list[ClaimRecord]:
    return sorted(records, key=lambda r: (r.created_at, r.id))


class InMemoryClaimRecordRepository:
    """Claim records of one unit of work (see :class:`sessionkit.ports.ClaimRecordRepository`)."""

    def __init__(self, table: _Table[ClaimRecord]) -> None:
        self._table = table
        self.expected: dict[str, int | None] = {}

    def get(self, record_id: str) -> ClaimRecord:
        """The record; NotFound (``claim_record.not_found``) when there is none."""
        found = self.find(record_id)
        if found is None:
            raise NotFound("claim record not found", "claim_record.not_found", "id")
        return found

    def find(self, record_id: str) -> ClaimRecord | None:
        """The record, or None."""
        return self._table.data.get(record_id) if isinstance(record_id, str) else None

    def _store(self, record: ClaimRecord, stored: ClaimRecord | None) -> ClaimRecord:
        expected = 0 if stored is None else stored.version
        if record.version != expected:
            raise ConcurrentUpdate(
                "the claim record was changed since it was read", "claim_record.version", "version"
            )
        if record.id not in self.expected:
            self.expected[record.id] = None if stored is None else stored.version
        saved = attrs.evolve(record, version=record.version + 1)
        self._table.set(record.id, saved)
        return saved

    def add(self, record: ClaimRecord) -> ClaimRecord:
        """Store a new record (AlreadyExists ``claim_record.exists`` for a taken id)."""
        if record.id in self._table.data:
            raise AlreadyExists("claim record already exists", "claim_record.exists", "id")
        return self._store(record, None)

    def put(self, record: ClaimRecord) -> ClaimRecord:
        """Replace a stored record carrying its stored version; return what was stored."""
        return self._store(record, self.get(record.id))

    def list(self) -> builtins.list[ClaimRecord]:
        """Every record, by creation time then id."""
        return _by_time(self._table.data.values())

    def for_session(self, session_id: str) -> builtins.list[ClaimRecord]:
        """The records holding the session, by creation time then id."""
        return _by_time(r for r in self._table.data.values() if session_id in r.session_ids)

    def for_client(self, client_id: str) -> builtins.list[ClaimRecord]:
        """The client's records, by creation time then id."""
        return _by_time(r for r in self._table.data.values() if r.client_id == client_id)

    def live_session_ids(self) -> frozenset[str]:
        """The sessions on a live claim."""
        return frozenset(sid for r in self._table.data.values() if r.live for sid in r.session_ids)


class InMemoryInvoiceRepository:
    """Invoices of one unit of work (see :class:`sessionkit.ports.InvoiceRepository`)."""

    def __init__(self, table: _Table[InvoiceRecord]) -> None:
        self._table = table

    def get(self, invoice_id: str) -> InvoiceRecord:
        """The invoice; NotFound (``invoice.not_found``) when there is none."""
        found = self.find(invoice_id)
        if found is None:
            raise NotFound("invoice not found", "invoice.not_found", "id")
        return found

    def find(self, invoice_id: str) -> InvoiceRecord | None:
        """The invoice, or None."""
        return self._table.data.get(invoice_id) if isinstance(invoice_id, str) else None

    def add(self, invoice: InvoiceRecord) -> InvoiceRecord:
        """Store a new invoice (AlreadyExists ``invoice.exists`` for a taken id)."""
        if invoice.id in self._table.data:
            raise AlreadyExists("invoice already exists", "invoice.exists", "id")
        saved = attrs.evolve(invoice, version=1)
        self._table.set(invoice.id, saved)
        return saved

    def list(self) -> builtins.list[InvoiceRecord]:
        """Every invoice, by period then number."""
        return sorted(self._table.data.values(), key=lambda i: (i.period_start, i.number))

    def for_client(self, client_id: str) -> builtins.list[InvoiceRecord]:
        """The client's invoices, by period then number."""
        return [i for i in self.list() if i.client_id == client_id]

    def invoiced_session_ids(self) -> frozenset[str]:
        """The sessions on an invoice."""
        return frozenset(sid for i in self._table.data.values() for sid in i.session_ids)


def _by_receipt(payments: Iterable[Payment]) -> builtins.list[Payment]:
    return sorted(payments, key=lambda p: (p.received_at, p.id))


class InMemoryPaymentRepository:
    """The payments ledger of one unit of work (see :class:`sessionkit.ports.PaymentRepository`)."""

    def __init__(self, table: _Table[Payment]) -> None:
        self._table = table
        self.expected: dict[str, int | None] = {}

    def get(self, payment_id: str) -> Payment:
        """The payment; NotFound (``payment.not_found``) when there is none."""
        found = self.find(payment_id)
        if found is None:
            raise NotFound("payment not found", "payment.not_found", "id")
        return found

    def find(self, payment_id: str) -> Payment | None:
        """The payment, or None."""
        return self._table.data.get(payment_id) if isinstance(payment_id, str) else None

    def _store(self, payment: Payment, stored: Payment | None) -> Payment:
        expected = 0 if stored is None else stored.version
        if payment.version != expected:
            raise ConcurrentUpdate("the payment was changed since it was read", "payment.version", "version")
        if payment.id not in self.expected:
            self.expected[payment.id] = None if stored is None else stored.version
        saved = attrs.evolve(payment, version=payment.version + 1)
        self._table.set(payment.id, saved)
        return saved

    def add(self, payment: Payment) -> Payment:
        """Store a new payment (AlreadyExists for a taken id or idempotency key)."""
        if payment.id in self._table.data:
            raise AlreadyExists("payment already exists", "payment.exists", "id")
        if payment.idempotency_key is not None and self.by_idempotency_key(payment.idempotency_key):
            raise AlreadyExists(
                "a payment with this idempotency key exists",
                "payment.idempotency_key_taken",
                "idempotency_key",
            )
        return self._store(payment, None)

    def put(self, payment: Payment) -> Payment:
        """Replace a stored payment carrying its stored version; return what was stored."""
        stored = self.get(payment.id)
        refuse_key_change(stored, payment)
        return self._store(payment, stored)

    def list(self) -> builtins.list[Payment]:
        """Every payment, by receipt time then id."""
        return _by_receipt(self._table.data.values())

    def for_client(self, client_id: str) -> builtins.list[Payment]:
        """The client's payments, by receipt time then id."""
        return _by_receipt(p for p in self._table.data.values() if p.client_id == client_id)

    def for_session(self, session_id: str) -> builtins.list[Payment]:
        """The payments applying to the session, by receipt time then id."""
        return _by_receipt(
            p for p in self._table.data.values() if any(a.session_id == session_id for a in p.applied)
        )

    def by_idempotency_key(self, key: str) -> Payment | None:
        """The payment asked with ``key``, or None."""
        for p in self._table.data.values():
            if p.idempotency_key == key:
                return p
        return None

    def pending(self) -> builtins.list[Payment]:
        """The payments whose outcome is unknown, by receipt time then id."""
        return _by_receipt(p for p in self._table.data.values() if p.status is PaymentStatus.PENDING)


def _by_posting(adjudications: Iterable[Adjudication]) -> builtins.list[Adjudication]:
    return sorted(adjudications, key=lambda a: (a.posted_at, a.id))


class InMemoryAdjudicationRepository:
    """Posted adjudications of one unit of work (see :class:`sessionkit.ports.AdjudicationRepository`)."""

    def __init__(self, table: _Table[Adjudication]) -> None:
        self._table = table

    def get(self, adjudication_id: str) -> Adjudication:
        """The adjudication; NotFound (``adjudication.not_found``) when there is none."""
        found = self.find(adjudication_id)
        if found is None:
            raise NotFound("adjudication not found", "adjudication.not_found", "id")
        return found

    def find(self, adjudication_id: str) -> Adjudication | None:
        """The adjudication, or None."""
        return self._table.data.get(adjudication_id) if isinstance(adjudication_id, str) else None

    def add(self, adjudication: Adjudication) -> Adjudication:
        """Store a new adjudication (AlreadyExists for a taken id or source key)."""
        if adjudication.id in self._table.data:
            raise AlreadyExists("adjudication already exists", "adjudication.exists", "id")
        if adjudication.version != 0:
            raise ConcurrentUpdate("a new adjudication has version 0", "adjudication.version", "version")
        if self.by_source_key(adjudication.source_key) is not None:
            raise AlreadyExists(
                "this remittance is posted already", "adjudication.already_posted", "source_key"
            )
        saved = attrs.evolve(adjudication, version=1)
        self._table.set(adjudication.id, saved)
        return saved

    def list(self) -> builtins.list[Adjudication]:
        """Every adjudication, by posting time then id."""
        return _by_posting(self._table.data.values())

    def for_claim(self, claim_record_id: str) -> builtins.list[Adjudication]:
        """The adjudications of a claim record, by posting time then id."""
        return _by_posting(a for a in self._table.data.values() if a.claim_record_id == claim_record_id)

    def for_client(self, client_id: str) -> builtins.list[Adjudication]:
        """The client's adjudications, by posting time then id."""
        return _by_posting(a for a in self._table.data.values() if a.client_id == client_id)

    def for_session(self, session_id: str) -> builtins.list[Adjudication]:
        """The adjudications with a line of the session, by posting time then id."""
        return _by_posting(
            a for a in self._table.data.values() if any(line.session_id == session_id for line in a.lines)
        )

    def by_source_key(self, source_key: str) -> Adjudication | None:
        """The adjudication posted from ``source_key``, or None."""
        for a in self._table.data.values():
            if a.source_key == source_key:
                return a
        return None


class InMemoryControlNumbers:
    """Control number sequences kept in the store, handed out at once (never rolled back)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def allocate(self, kind: str, count: int = 1) -> range:
        """``count`` fresh numbers of the sequence ``kind`` (from 1)."""
        _checks.text(kind, "kind", required=True, max_len=40)
        _checks.whole(count, "count", low=1, high=1_000_000)
        with _COUNTER_LOCK:
            first = self._store.counters.get(kind, 0) + 1
            self._store.counters[kind] = first + count - 1
        return range(first, first + count)


_COUNTER_LOCK = threading.Lock()


class _Transaction:
    """The repositories of one unit of work over a snapshot of ``store``."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.tables = (
            _Table(store.clients),
            _Table(store.payers),
            _Table(store.coverages),
            _Table(store.billing_codes),
            _Table(store.diagnoses),
            _Table(store.authorizations),
        )
        clients, payers, coverages, billing_codes, diagnoses, authorizations = self.tables
        self.session_table = _Table(store.sessions)
        self.clients = InMemoryClientRepository(clients, lambda c: c.id)
        self.payers = InMemoryPayerRepository(payers, lambda p: p.id)
        self.coverages = InMemoryCoverageRepository(coverages, lambda c: c.id)
        self.billing_codes = InMemoryBillingCodeRepository(billing_codes, lambda b: b.code)
        self.diagnoses = InMemoryDiagnosisCodeRepository(diagnoses, lambda d: d.code)
        self.authorizations = InMemoryAuthorizationRepository(authorizations, lambda a: a.id)
        self.sessions = InMemorySessionRepository(self.session_table, store, coverages)
        self.practice = InMemoryPracticeRepository(store.practice)
        self.claim_table = _Table(store.claim_records)
        self.invoice_table = _Table(store.invoices)
        self.claim_records = InMemoryClaimRecordRepository(self.claim_table)
        self.invoices = InMemoryInvoiceRepository(self.invoice_table)
        self.payment_table = _Table(store.payments)
        self.adjudication_table = _Table(store.adjudications)
        self.payments = InMemoryPaymentRepository(self.payment_table)
        self.adjudications = InMemoryAdjudicationRepository(self.adjudication_table)
        self.control_numbers = InMemoryControlNumbers(store)

    def check(self) -> None:
        """Raise if a write conflicts with what was committed since the snapshot."""
        store = self.store
        keyed: tuple[_Keyed[Any], ...] = (
            self.clients,
            self.payers,
            self.coverages,
            self.billing_codes,
            self.authorizations,
        )
        for repo in keyed:
            repo.check()
        self.practice.check(store.practice)
        for session_id, expected in self.sessions.expected.items():
            current = store.sessions.get(session_id)
            if (None if current is None else current.version) != expected:
                raise ConcurrentUpdate(
                    "the session was changed by another unit of work", "session.version", "version"
                )
        self._check_billing()
        written = self.session_table.writes
        keys = {s.appointment_key: s.id for s in written.values() if s is not None and s.appointment_key}
        if keys:
            for s in store.sessions.values():
                if s.id not in written and s.appointment_key in keys and keys[s.appointment_key] != s.id:
                    raise AlreadyExists(
                        "another session has this appointment key",
                        "session.appointment_key_taken",
                        "appointment_key",
                    )

    def _check_billing(self) -> None:
        """Claim record versions, one live claim per session, one invoice per session."""
        store = self.store
        for record_id, expected in self.claim_records.expected.items():
            current = store.claim_records.get(record_id)
            if (None if current is None else current.version) != expected:
                raise ConcurrentUpdate(
                    "the claim record was changed by another unit of work", "claim_record.version", "version"
                )
        merged = {
            **store.claim_records,
            **{k: v for k, v in self.claim_table.writes.items() if v is not None},
        }
        seen: set[tuple[str, str]] = set()
        for record in merged.values():
            if record.live:
                for sid in record.session_ids:
                    if (sid, record.coverage_id) in seen:
                        raise AlreadyExists(
                            "the session is already on a live claim",
                            "claim_record.session_billed",
                            "session_ids",
                        )
                    seen.add((sid, record.coverage_id))
        invoices = {**store.invoices, **{k: v for k, v in self.invoice_table.writes.items() if v is not None}}
        lines: set[tuple[str, str]] = set()
        for invoice in invoices.values():
            for line in invoice.lines:
                key = (line.session_id, line.kind.value)
                if key in lines:
                    raise AlreadyExists(
                        "the session is already on an invoice", "invoice.session_invoiced", "lines"
                    )
            lines.update((line.session_id, line.kind.value) for line in invoice.lines)
        self._check_money()

    def _check_money(self) -> None:
        """Payment versions and idempotency keys; one adjudication per source key."""
        store = self.store
        for payment_id, expected in self.payments.expected.items():
            current = store.payments.get(payment_id)
            if expected is None and current is not None:
                raise AlreadyExists("payment already exists", "payment.exists", "id")
            if (None if current is None else current.version) != expected:
                raise ConcurrentUpdate(
                    "the payment was changed by another unit of work", "payment.version", "version"
                )
        new_keys = {
            p.idempotency_key: p.id
            for p in self.payment_table.writes.values()
            if p is not None and p.idempotency_key is not None
        }
        for p in store.payments.values():
            if p.idempotency_key in new_keys and new_keys[p.idempotency_key] != p.id:
                raise AlreadyExists(
                    "a payment with this idempotency key exists",
                    "payment.idempotency_key_taken",
                    "idempotency_key",
                )
        for a in self.adjudication_table.writes.values():
            if a is None:
                continue
            if a.id in store.adjudications:
                raise AlreadyExists("adjudication already exists", "adjudication.exists", "id")
            if any(b.source_key == a.source_key for b in store.adjudications.values()):
                raise AlreadyExists(
                    "this remittance is posted already", "adjudication.already_posted", "source_key"
                )

    def apply(self) -> None:
        """Apply every write to the store (after :meth:`check`)."""
        store = self.store
        self.claim_table.apply()
        self.invoice_table.apply()
        self.payment_table.apply()
        self.adjudication_table.apply()
        for table in self.tables:
            table.apply()
        self.session_table.apply()
        saved = [sid for sid, s in self.session_table.writes.items() if s is not None]
        for sid in sorted(saved, key=lambda sid: self.sessions.seq[sid]):
            store.session_seq[sid] = store.next_seq
            store.next_seq += 1
        for sid, s in self.session_table.writes.items():
            if s is None:
                store.session_seq.pop(sid, None)
        if self.practice.written:
            store.practice = self.practice.value
        store.commits += 1


class InMemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore` (a new empty one unless given).

    See the module docstring for the transaction semantics. The same object
    can be entered again after its ``with`` block ends; entering it while
    active raises :class:`~sessionkit.ports.TransactionError`
    (``uow.nested``).
    """

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self._tx: _Transaction | None = None

    def _active(self) -> _Transaction:
        if self._tx is None:
            raise TransactionError("the unit of work is used outside its with block", "uow.inactive")
        return self._tx

    @property
    def clients(self) -> InMemoryClientRepository:
        """The clients of this unit of work."""
        return self._active().clients

    @property
    def payers(self) -> InMemoryPayerRepository:
        """The payers of this unit of work."""
        return self._active().payers

    @property
    def coverages(self) -> InMemoryCoverageRepository:
        """The coverages of this unit of work."""
        return self._active().coverages

    @property
    def billing_codes(self) -> InMemoryBillingCodeRepository:
        """The codes setup of this unit of work."""
        return self._active().billing_codes

    @property
    def diagnoses(self) -> InMemoryDiagnosisCodeRepository:
        """The diagnosis setup of this unit of work."""
        return self._active().diagnoses

    @property
    def authorizations(self) -> InMemoryAuthorizationRepository:
        """The authorizations of this unit of work."""
        return self._active().authorizations

    @property
    def sessions(self) -> InMemorySessionRepository:
        """The sessions of this unit of work."""
        return self._active().sessions

    @property
    def practice(self) -> InMemoryPracticeRepository:
        """The practice setup of this unit of work."""
        return self._active().practice

    @property
    def claim_records(self) -> InMemoryClaimRecordRepository:
        """The claim records of this unit of work."""
        return self._active().claim_records

    @property
    def invoices(self) -> InMemoryInvoiceRepository:
        """The invoices of this unit of work."""
        return self._active().invoices

    @property
    def payments(self) -> InMemoryPaymentRepository:
        """The payments ledger of this unit of work."""
        return self._active().payments

    @property
    def adjudications(self) -> InMemoryAdjudicationRepository:
        """The posted adjudications of this unit of work."""
        return self._active().adjudications

    @property
    def control_numbers(self) -> InMemoryControlNumbers:
        """The practice's control number sequences (allocations are never rolled back)."""
        return self._active().control_numbers

    @property
    def active(self) -> bool:
        """True inside the ``with`` block."""
        return self._tx is not None

    def __enter__(self) -> InMemoryUnitOfWork:
        if self._tx is not None:
            raise TransactionError("the unit of work is already active", "uow.nested")
        self._tx = _Transaction(self.store)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tx = None

    def commit(self) -> None:
        """Apply every write atomically, then continue with a fresh snapshot.

        Raises ConcurrentUpdate or AlreadyExists (and applies nothing,
        discarding this unit's writes) on a conflict with a commit made since
        the snapshot.
        """
        tx = self._active()
        try:
            tx.check()
        except BaseException:
            self._tx = _Transaction(self.store)
            raise
        tx.apply()
        self._tx = _Transaction(self.store)

    def rollback(self) -> None:
        """Discard every write of this unit, continuing with a fresh snapshot."""
        self._active()
        self._tx = _Transaction(self.store)

    def seed(
        self,
        *,
        practice: PracticeSetup | None = None,
        clients: Iterable[Client] = (),
        payers: Iterable[Payer] = (),
        coverages: Iterable[Coverage] = (),
        billing_codes: Iterable[BillingCode] = (),
        diagnoses: Iterable[DiagnosisCode] = (),
        authorizations: Iterable[Authorization] = (),
        sessions: Iterable[ClientSession] = (),
    ) -> InMemoryUnitOfWork:
        """Put the given records (sessions via ``save``) in one committed unit of work; return self."""
        with self:
            if practice is not None:
                self.practice.put(practice)
            for client in clients:
                self.clients.put(client)
            for payer in payers:
                self.payers.put(payer)
            for coverage in coverages:
                self.coverages.put(coverage)
            for billing_code in billing_codes:
                self.billing_codes.put(billing_code)
            for diagnosis in diagnoses:
                self.diagnoses.put(diagnosis)
            for authorization in authorizations:
                self.authorizations.put(authorization)
            self.sessions.save_many(sessions)
            self.commit()
        return self


if TYPE_CHECKING:  # the in-memory adapters satisfy every port (checked by mypy)
    _UOW: UnitOfWork = InMemoryUnitOfWork()
    _SESSIONS: SessionRepository = _UOW.sessions
