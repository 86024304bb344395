"""Ports: what the services need from storage and from the outside world.

Each port is a :class:`typing.Protocol`; adapters satisfy them structurally
(:mod:`sessionkit.adapters.memory` is the reference implementation, whose
docstrings fix the behaviour every adapter must match). The services
(:class:`sessionkit.builder.SessionBuilder`) take ports as arguments.

Contract shared by every repository:

* ``get(key)`` returns the record or raises :class:`~sessionkit.errors.NotFound`;
  ``find(key)`` returns it or ``None``.
* ``put(record)`` inserts or replaces; ``add(record)`` inserts and raises
  :class:`AlreadyExists` when the key is taken.
* Clients, payers, coverages, authorizations, billing codes and the practice
  setup carry a ``version``, as sessions do: ``put``/``add`` of a record whose
  version is not the stored one (0 for a new record) raises
  :class:`~sessionkit.errors.ConcurrentUpdate` (code ``<kind>.version``) and
  writes nothing; the stored record has ``version + 1``; a
  commit refuses a record changed or deleted by another unit of work since
  the snapshot. Diagnoses of the setup are last-writer-wins.
* ``list()`` and every query returning several records return a new ``list``
  in a documented, deterministic order.
* Repositories are reached through a :class:`UnitOfWork`: nothing written is
  visible to other units of work until :meth:`UnitOfWork.commit`.

The clock lives here too: :class:`Clock`, with :class:`SystemClock` and
:class:`FixedClock`. The calendar ports, :class:`CalendarSource` and
:class:`ClientMatcher`, are defined beside their values in
:mod:`sessionkit.appointments` and re-exported here.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import date, datetime, time
from types import TracebackType
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessionkit._extras import require_zone_data
from sessionkit.appointments import CalendarSource, ClientMatcher
from sessionkit.domain import (
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Payer,
    PracticeSetup,
)
from sessionkit.domain.billing import ClaimRecord, InvoiceRecord
from sessionkit.domain.payments import Adjudication, Payment

# AlreadyExists and TransactionError live in sessionkit.errors; re-exported here
# so that ``from sessionkit.ports import AlreadyExists`` keeps working.
from sessionkit.errors import AlreadyExists, InvalidValue, TransactionError

__all__ = [
    "AdjudicationRepository",
    "AlreadyExists",
    "AuthorizationRepository",
    "BillingCodeRepository",
    "CalendarSource",
    "ClaimRecordRepository",
    "ClientMatcher",
    "ClientRepository",
    "Clock",
    "ControlNumbers",
    "CoverageRepository",
    "DiagnosisCodeRepository",
    "FixedClock",
    "InvoiceRepository",
    "PayerRepository",
    "PaymentRepository",
    "PracticeRepository",
    "SessionRepository",
    "SystemClock",
    "TransactionError",
    "UnitOfWork",
]


@runtime_checkable
class ClientRepository(Protocol):
    """**Protocol:** the practice's clients, keyed by ``Client.id``; ``list`` orders by id."""

    def get(self, client_id: str) -> Client: ...
    def find(self, client_id: str) -> Client | None: ...
    def add(self, client: Client) -> None: ...
    def put(self, client: Client) -> None: ...
    def list(self) -> builtins.list[Client]: ...


@runtime_checkable
class PayerRepository(Protocol):
    """**Protocol:** the insurance companies of the setup, keyed by ``Payer.id``; ``list`` orders by id."""

    def get(self, payer_id: str) -> Payer: ...
    def find(self, payer_id: str) -> Payer | None: ...
    def add(self, payer: Payer) -> None: ...
    def put(self, payer: Payer) -> None: ...
    def list(self) -> builtins.list[Payer]: ...


@runtime_checkable
class CoverageRepository(Protocol):
    """**Protocol:** clients' insurance policies, keyed by ``Coverage.id``.

    ``list`` orders by id; ``for_client`` and ``active_on`` order by coverage
    precedence, :func:`sessionkit.facts.coverage_order` (rank, then the later
    effective date, then id).
    """

    def get(self, coverage_id: str) -> Coverage: ...
    def find(self, coverage_id: str) -> Coverage | None: ...
    def add(self, coverage: Coverage) -> None: ...
    def put(self, coverage: Coverage) -> None: ...
    def delete(self, coverage_id: str) -> None: ...
    def list(self) -> builtins.list[Coverage]: ...
    def for_client(self, client_id: str) -> builtins.list[Coverage]: ...
    def active_on(self, client_id: str, on: date) -> builtins.list[Coverage]: ...


@runtime_checkable
class BillingCodeRepository(Protocol):
    """**Protocol:** the practice's codes setup, keyed by the normalised code; ``list`` orders by code.

    ``get``/``find`` accept any spelling the code module normalises
    (``" 90834 "``); a malformed code is simply not found.
    """

    def get(self, code: str) -> BillingCode: ...
    def find(self, code: str) -> BillingCode | None: ...
    def put(self, billing_code: BillingCode) -> None: ...
    def list(self) -> builtins.list[BillingCode]: ...


@runtime_checkable
class DiagnosisCodeRepository(Protocol):
    """**Protocol:** the practice's diagnosis setup, keyed by the canonical code; ``list`` orders by code.

    ``get``/``find`` accept any spelling (``"f411"`` finds ``F41.1``); a
    malformed code is simply not found.
    """

    def get(self, code: str) -> DiagnosisCode: ...
    def find(self, code: str) -> DiagnosisCode | None: ...
    def put(self, diagnosis: DiagnosisCode) -> None: ...
    def list(self) -> builtins.list[DiagnosisCode]: ...


@runtime_checkable
class AuthorizationRepository(Protocol):
    """**Protocol:** prior authorizations, keyed by ``Authorization.id``.

    ``list`` orders by id; ``for_client`` and ``active_on`` order by start
    date, then id. ``active_on(client_id, d)`` holds those with
    ``start <= d <= end``.
    """

    def get(self, authorization_id: str) -> Authorization: ...
    def find(self, authorization_id: str) -> Authorization | None: ...
    def add(self, authorization: Authorization) -> None: ...
    def put(self, authorization: Authorization) -> None: ...
    def list(self) -> builtins.list[Authorization]: ...
    def for_client(self, client_id: str) -> builtins.list[Authorization]: ...
    def active_on(self, client_id: str, on: date) -> builtins.list[Authorization]: ...


@runtime_checkable
class SessionRepository(Protocol):
    """**Protocol:** client sessions, keyed by ``ClientSession.id``, with optimistic versions.

    Every query returning several sessions orders them by date of service,
    then id. ``between(start, end)`` is inclusive at both ends and looks at
    the date of service only.

    ``save(session)``: a session not yet stored must have version 0; a stored
    one must carry the stored version. Anything else raises
    :class:`~sessionkit.errors.ConcurrentUpdate`. The stored (and returned)
    session has ``version + 1``. An ``appointment_key`` already used by
    another session raises :class:`AlreadyExists` (field ``appointment_key``).
    Each save gets the next value of a save sequence:
    ``last_saved_for(client_id)`` is the client's session saved last by that
    sequence (not the latest date of service), ``None`` if there is none.

    The port answers storage questions only; billing policy such as which
    sessions wait for a claim is a service over it
    (:func:`sessionkit.routing.sessions_for`).
    """

    def get(self, session_id: str) -> ClientSession: ...
    def find(self, session_id: str) -> ClientSession | None: ...
    def list(self) -> builtins.list[ClientSession]: ...
    def by_client(self, client_id: str) -> builtins.list[ClientSession]: ...
    def client_ids(self) -> builtins.list[str]:
        """The ids of the clients that have sessions, sorted (to read sessions one client at a time)."""
        ...

    def between(self, start: date, end: date) -> builtins.list[ClientSession]: ...
    def by_appointment_key(self, key: str) -> ClientSession | None: ...
    def last_saved_for(self, client_id: str) -> ClientSession | None: ...
    def save(self, session: ClientSession) -> ClientSession: ...
    def save_many(self, sessions: Iterable[ClientSession]) -> builtins.list[ClientSession]: ...
    def delete(self, session_id: str) -> None: ...
    def count(self) -> int: ...


@runtime_checkable
class PracticeRepository(Protocol):
    """**Protocol:** the one practice setup: ``get`` raises NotFound until one is ``put``."""

    def get(self) -> PracticeSetup: ...
    def find(self) -> PracticeSetup | None: ...
    def put(self, practice: PracticeSetup) -> None: ...


@runtime_checkable
class ClaimRecordRepository(Protocol):
    """**Protocol:** the claims written and sent, keyed by ``ClaimRecord.id``, with optimistic versions.

    ``add`` stores a new record (version 0 in, 1 stored); ``put`` replaces one
    carrying the stored version (a status change, the payer's claim number),
    else :class:`~sessionkit.errors.ConcurrentUpdate`. ``for_session`` and
    ``for_client`` order by ``created_at``, then id; so does ``list``.
    ``live_session_ids`` are the sessions on a claim whose status is live
    (:data:`sessionkit.domain.billing.LIVE_CLAIM_STATUSES`), whatever the
    coverage. A session can be on at most one live claim *per coverage* (its
    primary claim, then a secondary claim once the primary is adjudicated),
    and a commit that would put it on a second live claim to the same
    ``coverage_id`` raises :class:`AlreadyExists` (``claim_record.session_billed``).
    """

    def get(self, record_id: str) -> ClaimRecord: ...
    def find(self, record_id: str) -> ClaimRecord | None: ...
    def add(self, record: ClaimRecord) -> ClaimRecord: ...
    def put(self, record: ClaimRecord) -> ClaimRecord: ...
    def list(self) -> builtins.list[ClaimRecord]: ...
    def for_session(self, session_id: str) -> builtins.list[ClaimRecord]: ...
    def for_client(self, client_id: str) -> builtins.list[ClaimRecord]: ...
    def live_session_ids(self) -> frozenset[str]: ...


@runtime_checkable
class InvoiceRepository(Protocol):
    """**Protocol:** client invoices, keyed by ``InvoiceRecord.id``; ``for_client`` by period, then number.

    A session's line of a kind can be on one invoice only: a commit that
    would invoice it twice raises :class:`AlreadyExists` (``invoice.session_invoiced``).
    """

    def get(self, invoice_id: str) -> InvoiceRecord: ...
    def find(self, invoice_id: str) -> InvoiceRecord | None: ...
    def add(self, invoice: InvoiceRecord) -> InvoiceRecord: ...
    def list(self) -> builtins.list[InvoiceRecord]: ...
    def for_client(self, client_id: str) -> builtins.list[InvoiceRecord]: ...
    def invoiced_session_ids(self) -> frozenset[str]: ...


@runtime_checkable
class PaymentRepository(Protocol):
    """**Protocol:** the client payments ledger, keyed by ``Payment.id``, with optimistic versions.

    ``add`` stores a new payment (version 0 in, 1 stored; AlreadyExists
    ``payment.exists`` for a taken id, ``payment.idempotency_key_taken`` for a
    taken idempotency key, also at commit against another unit of work).
    ``put`` replaces one carrying the stored version (a pending charge
    resolved, an application changed), else
    :class:`~sessionkit.errors.ConcurrentUpdate` (``payment.version``).
    ``list``, ``for_client``, ``for_session`` and ``pending`` order by
    ``received_at``, then id. ``for_session`` holds the payments applying
    part of their amount to the session; ``pending`` those of status
    :attr:`~sessionkit.domain.payments.PaymentStatus.PENDING`.
    """

    def get(self, payment_id: str) -> Payment: ...
    def find(self, payment_id: str) -> Payment | None: ...
    def add(self, payment: Payment) -> Payment: ...
    def put(self, payment: Payment) -> Payment: ...
    def list(self) -> builtins.list[Payment]: ...
    def for_client(self, client_id: str) -> builtins.list[Payment]: ...
    def for_session(self, session_id: str) -> builtins.list[Payment]: ...
    def by_idempotency_key(self, key: str) -> Payment | None: ...
    def pending(self) -> builtins.list[Payment]: ...


@runtime_checkable
class AdjudicationRepository(Protocol):
    """**Protocol:** payers' adjudications as posted, keyed by ``Adjudication.id``; never changed.

    ``add`` stores a new adjudication (version 0 in, 1 stored; AlreadyExists
    ``adjudication.exists`` for a taken id and ``adjudication.already_posted``
    for a taken ``source_key``, also at commit against another unit of work:
    a remittance is posted once). ``list``, ``for_claim``, ``for_client`` and
    ``for_session`` order by ``posted_at``, then id; ``for_session`` holds
    the adjudications with a line of the session.
    """

    def get(self, adjudication_id: str) -> Adjudication: ...
    def find(self, adjudication_id: str) -> Adjudication | None: ...
    def add(self, adjudication: Adjudication) -> Adjudication: ...
    def list(self) -> builtins.list[Adjudication]: ...
    def for_claim(self, claim_record_id: str) -> builtins.list[Adjudication]: ...
    def for_client(self, client_id: str) -> builtins.list[Adjudication]: ...
    def for_session(self, session_id: str) -> builtins.list[Adjudication]: ...
    def by_source_key(self, source_key: str) -> Adjudication | None: ...


@runtime_checkable
class ControlNumbers(Protocol):
    """**Protocol:** the practice's control number sequences (interchange, group, claim, invoice, ...).

    ``allocate(kind, count)`` hands out ``count`` numbers of the sequence
    ``kind`` at once, in their own transaction: never handed out twice, even
    to two processes at the same moment, and never reused, even if the unit
    of work that asked for them rolls back (a gap is harmless; a reused
    number is a rejected file).
    """

    def allocate(self, kind: str, count: int = 1) -> range: ...


class UnitOfWork(Protocol):
    """**Protocol:** one atomic piece of work over every repository.

    Use it as a context manager. Inside the ``with`` block the repositories
    see the state as of entering the block plus this unit's own writes.
    :meth:`commit` applies every write at once (or none, raising) and starts
    afresh; :meth:`rollback` discards them. Leaving the block without
    committing, or by an exception, rolls back. A repository used outside
    the block raises :class:`TransactionError`.
    """

    @property
    def clients(self) -> ClientRepository: ...
    @property
    def payers(self) -> PayerRepository: ...
    @property
    def coverages(self) -> CoverageRepository: ...
    @property
    def billing_codes(self) -> BillingCodeRepository: ...
    @property
    def diagnoses(self) -> DiagnosisCodeRepository: ...
    @property
    def authorizations(self) -> AuthorizationRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def practice(self) -> PracticeRepository: ...
    @property
    def claim_records(self) -> ClaimRecordRepository: ...
    @property
    def invoices(self) -> InvoiceRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def adjudications(self) -> AdjudicationRepository: ...
    @property
    def control_numbers(self) -> ControlNumbers: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """**Protocol:** the current date and time, as the practice sees them."""

    def today(self) -> date:
        """Today's date in the practice's time zone."""
        ...

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real clock, reading dates in the practice's IANA time zone.

    >>> SystemClock("America/New_York").now().tzinfo is not None
    True

    :raises InvalidValue: ``time_zone`` is not an IANA zone name (``time_zone.unknown``).
    :raises sessionkit._extras.MissingZoneData: this Python has no zone data at
        all (``time_zone.no_data``; the message says ``pip install tzdata``).
    """

    def __init__(self, time_zone: str | ZoneInfo) -> None:
        if isinstance(time_zone, ZoneInfo):
            self.zone = time_zone
            return
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            require_zone_data()
            raise InvalidValue(
                "time_zone must be an IANA zone name (e.g. America/Chicago)", "time_zone.unknown", "time_zone"
            ) from None

    def today(self) -> date:
        """Today's local date in the practice's zone."""
        return self.now().date()

    def now(self) -> datetime:
        """The current instant in the practice's zone."""
        return datetime.now(self.zone)

    def __repr__(self) -> str:
        return f"SystemClock({self.zone.key!r})"


class FixedClock:
    """A clock stopped at ``today`` (``at`` o'clock in ``time_zone``), for tests and examples.

    >>> FixedClock(date(2026, 3, 2)).now().isoformat()
    '2026-03-02T09:00:00+00:00'
    """

    def __init__(self, today: date, *, at: time = time(9, 0), time_zone: str = "UTC") -> None:
        if isinstance(today, datetime) or not isinstance(today, date):
            raise InvalidValue("today must be a date", "value.type", "today")
        self._today = today
        self._at = at
        self.zone = ZoneInfo(time_zone)

    def today(self) -> date:
        """The fixed date."""
        return self._today

    def now(self) -> datetime:
        """The fixed date at the fixed time, aware."""
        return datetime.combine(self._today, self._at, tzinfo=self.zone)

    def __repr__(self) -> str:
        return f"FixedClock({self._today!r})"
