"""The adapter contract: a pytest suite every storage adapter must pass.

:mod:`sessionkit.adapters.memory` fixes the behaviour of every port of
:mod:`sessionkit.ports`; this suite checks another adapter against it:
records read back equal, the documented orderings, ``NotFound`` and
``AlreadyExists`` codes, session versions and
:class:`~sessionkit.errors.ConcurrentUpdate`, appointment-key uniqueness,
``last_saved_for`` by save sequence, ``between``, and the
unit of work: reads see the snapshot plus the unit's own writes, commit is all
or nothing, leaving the block or an exception rolls back, ``save_many`` is all
or nothing, and (when the adapter can) what was committed is still there after
reopening the store.

To run it against your adapter, subclass :class:`UnitOfWorkContract` in a test
module, in a class whose name starts with ``Test``, and implement
:meth:`~UnitOfWorkContract.open_store`: a context manager giving a fresh,
empty :class:`StoreUnderTest` (and cleaning up after it)::

    from contextlib import contextmanager
    from sessionkit.testing.contract import StoreUnderTest, UnitOfWorkContract

    class TestMyAdapter(UnitOfWorkContract):
        @contextmanager
        def open_store(self):
            db = MyDatabase.create_empty()
            try:
                yield StoreUnderTest(db.unit_of_work, reopen=db.reopen)
            finally:
                db.drop()

The base class's name has no ``Test`` prefix, so pytest collects the suite
only through subclasses. The tests draw their data from
:mod:`sessionkit.testing` with hypothesis, so ``open_store`` is entered once
per example: keep it quick (a temporary file, not a server round trip per
table). The tests carry their own hypothesis settings (no deadline; the
``too_slow``, ``data_too_large`` and ``differing_executors`` health checks
off), so the suite needs no conftest of yours; the number of examples comes
from your hypothesis profile. This module imports :mod:`pytest` and
:mod:`hypothesis` (``pip install 'sessionkit-billing[testing]'``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

from sessionkit._extras import reraise_missing

try:
    import pytest
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError as exc:  # without the testing extra: one line naming the pip install
    reraise_missing(exc, "testing", "sessionkit.testing.contract")
    raise

from sessionkit import testing
from sessionkit.domain import (
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    CoverageRank,
    DiagnosisCode,
    Payer,
    PracticeSetup,
    SessionStatus,
)
from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine, InvoiceLine, InvoiceRecord
from sessionkit.domain.payments import (
    Adjudication,
    Adjustment,
    LineAdjudication,
    Payment,
    PaymentApplication,
    PaymentStatus,
)
from sessionkit.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    InvalidValue,
    NotFound,
    SessionLocked,
    TransactionError,
)
from sessionkit.money import Money
from sessionkit.ports import UnitOfWork
from sessionkit.routing import active_coverages

__all__ = ["SUPPRESSED_HEALTH_CHECKS", "StoreUnderTest", "UnitOfWorkContract"]

UnitOfWorkFactory = Callable[[], UnitOfWork]


class StoreUnderTest:
    """One fresh, empty store of the adapter under test.

    :param unit_of_work: makes a new unit of work over the store; several may
        be active at once (they are independent transactions).
    :param reopen: optional: closes the store and opens it again (a new
        connection, a new process's view), returning the new factory. Tests
        of persistence are skipped without it.
    """

    def __init__(
        self, unit_of_work: UnitOfWorkFactory, reopen: Callable[[], UnitOfWorkFactory] | None = None
    ) -> None:
        self._factory = unit_of_work
        self._reopen = reopen

    def uow(self) -> UnitOfWork:
        """A new unit of work over the store."""
        return self._factory()

    @property
    def can_reopen(self) -> bool:
        """True when the adapter gave a ``reopen`` hook."""
        return self._reopen is not None

    def reopen(self) -> None:
        """Close and reopen the store (skips the test when the adapter cannot)."""
        if self._reopen is None:
            pytest.skip("the adapter has no reopen hook")
        self._factory = self._reopen()


DAY = date(2026, 3, 2)
PRACTICE = PracticeSetup(
    name="Calm Practice", npi="1234567893", tax_id="123456789", time_zone="America/New_York"
)

_KINDS = ("client", "payer", "coverage", "authorization", "billing_code", "diagnosis", "session")


def _session(sid: str, client_id: str = "c1", day: date = DAY, **kw: Any) -> ClientSession:
    fields: dict[str, Any] = {"billing_code": "90834", "charge": "140.00", **kw}
    return ClientSession(id=sid, client_id=client_id, date_of_service=day, **fields)


def _claim_record(rid: str, session_ids: Sequence[str], coverage_id: str = "k1") -> ClaimRecord:
    return ClaimRecord(
        id=rid,
        client_id="c1",
        payer_id="p1",
        coverage_id=coverage_id,
        target="x12_837p",
        patient_control_number=f"SK{rid}",
        session_ids=session_ids,
        lines=[
            ClaimRecordLine(
                session_id=sid, date_of_service=DAY, code="90834", charge=Money("140"), units=Decimal(1)
            )
            for sid in session_ids
        ],
        total_charge=Money(140 * len(session_ids)),
        created_at=datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc),
    )


NOON = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def _payment(
    pid: str,
    client_id: str = "c1",
    *,
    at: datetime = NOON,
    key: str | None = None,
    applied: Sequence[tuple[str, str]] = (),
    amount: str = "100.00",
    status: PaymentStatus = PaymentStatus.RECEIVED,
) -> Payment:
    return Payment(
        id=pid,
        client_id=client_id,
        amount=amount,
        method="card",
        received_at=at,
        idempotency_key=key,
        applied=[PaymentApplication(session_id=sid, amount=share) for sid, share in applied],
        status=status,
    )


def _adjudication(
    aid: str,
    claim_record_id: str = "r1",
    client_id: str = "c1",
    *,
    sessions: Sequence[str] = ("s1",),
    source_key: str | None = None,
    at: datetime = NOON,
) -> Adjudication:
    return Adjudication(
        id=aid,
        claim_record_id=claim_record_id,
        client_id=client_id,
        payer_id="p1",
        coverage_id="k1",
        patient_control_number=f"SK{claim_record_id}",
        status_code="1",
        charge=Decimal(140 * len(sessions)),
        paid=Decimal(100 * len(sessions)),
        lines=[
            LineAdjudication(
                session_id=sid,
                code="90834",
                charge=Decimal(140),
                paid=Decimal(100),
                adjustments=[Adjustment(group="CO", reason="45", amount=Decimal(40))],
            )
            for sid in sessions
        ],
        paid_on=DAY,
        source_key=source_key or f"835|{aid}",
        posted_at=at,
    )


def _distinct_payments(drawn: list[Payment]) -> list[Payment]:
    """The payments of ``drawn`` whose id and idempotency key no earlier one has, each as version 0."""
    kept: list[Payment] = []
    ids: set[str] = set()
    keys: set[str] = set()
    for payment in drawn:
        if payment.id in ids or payment.idempotency_key in keys:
            continue
        ids.add(payment.id)
        if payment.idempotency_key is not None:
            keys.add(payment.idempotency_key)
        kept.append(attrs.evolve(payment, version=0))
    return kept


def _distinct_adjudications(drawn: list[Adjudication]) -> list[Adjudication]:
    """The adjudications of ``drawn`` whose id and source key no earlier one has, each as version 0."""
    kept: list[Adjudication] = []
    seen: set[str] = set()
    keys: set[str] = set()
    for adjudication in drawn:
        if adjudication.id in seen or adjudication.source_key in keys:
            continue
        seen.add(adjudication.id)
        keys.add(adjudication.source_key)
        kept.append(attrs.evolve(adjudication, version=0))
    return kept


def _by_receipt(payments: Any) -> list[Payment]:
    return sorted(payments, key=lambda p: (p.received_at, p.id))


def _by_posting(adjudications: Any) -> list[Adjudication]:
    return sorted(adjudications, key=lambda a: (a.posted_at, a.id))


_MONEY_SESSIONS = ("s1", "s2", "s3")
_MONEY_CLIENTS = ("c1", "c2")


def _invoice(iid: str, number: int, session_ids: Sequence[str]) -> InvoiceRecord:
    return InvoiceRecord(
        id=iid,
        client_id="c1",
        period_start=DAY,
        period_end=DAY,
        number=number,
        lines=[
            InvoiceLine(
                session_id=sid,
                date_of_service=DAY,
                code="90834",
                kind="client_share",
                amount=Decimal("25.00"),
            )
            for sid in session_ids
        ],
        created_at=datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc),
    )


def _coverage(cid: str, client_id: str = "c1", **kw: Any) -> Coverage:
    fields: dict[str, Any] = {"payer_id": "p1", "member_id": "M1", "effective": date(2026, 1, 1), **kw}
    return Coverage(id=cid, client_id=client_id, **fields)


_AGGREGATES: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "clients": (
        Client(id="c1", first_name="A", last_name="B"),
        lambda r: attrs.evolve(r, client_file_note="changed"),
    ),
    "payers": (Payer(id="p1", name="Aetna"), lambda r: attrs.evolve(r, insurance_note="changed")),
    "coverages": (_coverage("k1"), lambda r: attrs.evolve(r, group_number="changed")),
    "authorizations": (
        Authorization(
            id="a1", client_id="c1", payer_id="p1", number="A1", start=DAY, end=DAY, sessions_authorized=4
        ),
        lambda r: attrs.evolve(r, sessions_authorized=8),
    ),
    "billing_codes": (
        BillingCode(code="90834", default_charge="140"),
        lambda r: attrs.evolve(r, description="changed"),
    ),
    "practice": (PRACTICE, lambda r: attrs.evolve(r, name="Changed Practice")),
}
"""Every versioned aggregate: a record and a change to it, by the unit-of-work attribute of its repository."""

_KIND_CODE = {
    "clients": "client",
    "payers": "payer",
    "coverages": "coverage",
    "authorizations": "authorization",
    "billing_codes": "billing_code",
    "practice": "practice",
}


def _key_of(kind: str, record: Any) -> str:
    return str(record.code if kind == "billing_codes" else record.id)


def _put(uow: UnitOfWork, kind: str, record: Any) -> Any:
    """Put ``record`` in its repository; return what is stored now."""
    getattr(uow, kind).put(record)
    if kind == "practice":
        return uow.practice.get()
    return getattr(uow, kind).get(_key_of(kind, record))


def _get(uow: UnitOfWork, kind: str) -> Any:
    """The one record of the aggregate's example (key c1, p1, k1, a1, 90834; or the practice)."""
    if kind == "practice":
        return uow.practice.get()
    return getattr(uow, kind).get(_key_of(kind, _AGGREGATES[kind][0]))


def _all(uow: UnitOfWork, kind: str) -> list[Any]:
    if kind == "practice":
        found = uow.practice.find()
        return [] if found is None else [found]
    return list(getattr(uow, kind).list())


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same version (a record's version takes no part in ``==``)."""
    return bool(a == b) and getattr(a, "version", None) == getattr(b, "version", None)


def _fresh(s: ClientSession) -> ClientSession:
    """The session as never stored (version 0)."""
    return attrs.evolve(s, version=0)


def _unique_keys(items: list[ClientSession]) -> list[ClientSession]:
    """Drop appointment keys used twice (only the first session keeps its key)."""
    seen: set[str] = set()
    out = []
    for item in items:
        s = item
        if s.appointment_key is not None and s.appointment_key in seen:
            s = attrs.evolve(s, appointment_key=None)
        if s.appointment_key is not None:
            seen.add(s.appointment_key)
        out.append(s)
    return out


_CLIENT_IDS = ("c1", "c2", "c3")
_DATES = st.dates(date(2025, 1, 1), date(2026, 12, 31))
_FULL_SESSIONS = st.lists(
    testing.sessions(client_ids=_CLIENT_IDS, min_date=date(2025, 1, 1), max_date=date(2026, 12, 31)).map(
        _fresh
    ),
    max_size=4,
    unique_by=lambda s: s.id,
).map(_unique_keys)
"""Sessions with every field exercised (slow to draw: for the read-back tests)."""


def _light_session(
    *, sid: str, client_id: str, day: date, bill_to: BillTo, charge: int, paid: int, key: str | None
) -> ClientSession:
    return _session(
        sid,
        client_id,
        day,
        bill_to=bill_to,
        charge=str(charge),
        paid_at_session=str(paid),
        appointment_key=key,
    )


_SESSIONS = st.lists(
    st.builds(
        _light_session,
        sid=st.text("abcdef0123", min_size=1, max_size=3),
        client_id=st.sampled_from(_CLIENT_IDS),
        day=_DATES,
        bill_to=st.sampled_from(BillTo),
        charge=st.integers(0, 300),
        paid=st.integers(0, 300),
        key=st.none() | st.sampled_from(("k1", "k2", "k3")),
    ),
    max_size=10,
    unique_by=lambda s: s.id,
).map(_unique_keys)
"""Sessions varying in what the queries look at: id, client, date, bill-to, amounts, appointment key."""


# The suite carries its own hypothesis settings, so that it runs the same in a third party's
# project as in ours (no conftest needed): storage does I/O, so no deadline and no "too slow"
# health check; each subclass runs the same tests against its own adapter, so sharing the
# examples (and the example database) between adapters is intended (differing executors).
# The number of examples still comes from the profile loaded when this module is imported.
_PROFILE = settings.default
SUPPRESSED_HEALTH_CHECKS = (
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.differing_executors,
)
"""The health checks the contract suite turns off (besides those of the loaded profile)."""
_SHARED = settings(
    deadline=None,
    suppress_health_check=[
        *(_PROFILE.suppress_health_check if _PROFILE else ()),
        *SUPPRESSED_HEALTH_CHECKS,
    ],
)


# The money round trips draw lists of nested records, each example a fresh store: at most 50
# examples of them (the profile's number when it is lower), to keep a CI run short.
_MONEY = settings(_SHARED, max_examples=min(50, _PROFILE.max_examples if _PROFILE else 50))


class UnitOfWorkContract:
    """The contract suite: subclass it as ``Test...`` and implement :meth:`open_store`."""

    def open_store(self) -> contextlib.AbstractContextManager[StoreUnderTest]:
        """A fresh, empty store of the adapter under test (a context manager that cleans up)."""
        raise NotImplementedError("subclasses of UnitOfWorkContract implement open_store")

    @contextlib.contextmanager
    def _seeded(self, sessions: Sequence[ClientSession] = (), **records: Any) -> Iterator[StoreUnderTest]:
        with self.open_store() as store:
            with store.uow() as uow:
                for name, values in records.items():
                    repo = getattr(uow, name)
                    for value in values:
                        repo.put(value)
                uow.sessions.save_many(sessions)
                uow.commit()
            yield store

    # -- the unit of work itself ----------------------------------------------------------

    def test_repositories_outside_the_block_raise(self) -> None:
        """Every repository of a unit of work not entered raises TransactionError (uow.inactive)."""
        with self.open_store() as store:
            uow = store.uow()
            for name in ("clients", "payers", "coverages", "billing_codes", "diagnoses", "authorizations"):
                with pytest.raises(TransactionError) as info:
                    getattr(uow, name).list()
                assert info.value.code == "uow.inactive"
            with pytest.raises(TransactionError):
                uow.sessions.count()
            with pytest.raises(TransactionError):
                uow.practice.find()
            with pytest.raises(TransactionError):
                uow.commit()
            with uow:
                pass
            with pytest.raises(TransactionError):
                uow.sessions.list()

    def test_entering_an_active_unit_raises(self) -> None:
        """Entering a unit of work inside its own block raises TransactionError (uow.nested)."""
        with self.open_store() as store:
            uow = store.uow()
            with uow:
                with pytest.raises(TransactionError) as info:
                    uow.__enter__()
                assert info.value.code == "uow.nested"
                assert uow.sessions.count() == 0

    def test_an_empty_store(self) -> None:
        """A new store holds nothing: empty lists, zero sessions, get raises NotFound with each kind's code."""
        with self.open_store() as store, store.uow() as uow:
            assert uow.clients.list() == []
            assert uow.payers.list() == []
            assert uow.coverages.list() == []
            assert uow.billing_codes.list() == []
            assert uow.diagnoses.list() == []
            assert uow.authorizations.list() == []
            assert uow.sessions.list() == []
            assert uow.sessions.count() == 0
            assert uow.practice.find() is None
            getters: list[Callable[[], object]] = [
                lambda: uow.clients.get("x"),
                lambda: uow.payers.get("x"),
                lambda: uow.coverages.get("x"),
                lambda: uow.authorizations.get("x"),
                lambda: uow.billing_codes.get("90834"),
                lambda: uow.diagnoses.get("F41.1"),
                lambda: uow.sessions.get("x"),
            ]
            for kind, get in zip(_KINDS, getters, strict=True):
                with pytest.raises(NotFound) as info:
                    get()
                assert info.value.code == f"{kind}.not_found"
            with pytest.raises(NotFound) as info:
                uow.practice.get()
            assert info.value.code == "practice.not_found"

    def test_leaving_without_commit_discards(self) -> None:
        """Writes not committed when the block ends are gone; the same unit can be entered again."""
        with self.open_store() as store:
            uow = store.uow()
            with uow:
                uow.clients.put(Client(id="c1", first_name="A", last_name="B"))
                uow.sessions.save(_session("s1"))
                uow.practice.put(PRACTICE)
            with uow:
                assert uow.clients.find("c1") is None
                assert uow.sessions.count() == 0
                assert uow.practice.find() is None

    def test_an_exception_rolls_back(self) -> None:
        """An exception leaving the block discards the unit's writes and propagates."""
        with self.open_store() as store:

            def fail() -> None:
                with store.uow() as uow:
                    uow.sessions.save(_session("s1"))
                    uow.clients.put(Client(id="c1", first_name="A", last_name="B"))
                    raise ZeroDivisionError

            with pytest.raises(ZeroDivisionError):
                fail()
            with store.uow() as uow:
                assert uow.sessions.find("s1") is None
                assert uow.clients.list() == []

    def test_rollback_discards_and_continues(self) -> None:
        """rollback() discards the writes; the unit stays usable and can commit afterwards."""
        with self.open_store() as store:
            with store.uow() as uow:
                uow.sessions.save(_session("s1"))
                uow.rollback()
                assert uow.sessions.find("s1") is None
                uow.sessions.save(_session("s2"))
                uow.commit()
                uow.sessions.save(_session("s3"))
                uow.commit()
            with store.uow() as uow:
                assert [s.id for s in uow.sessions.list()] == ["s2", "s3"]

    def test_reads_see_own_writes(self) -> None:
        """Inside the block every query sees the unit's own puts, saves and deletes."""
        seeded = self._seeded([_session("s1"), _session("s2", day=DAY + timedelta(days=1))])
        with seeded as store, store.uow() as uow:
            uow.clients.put(Client(id="c1", first_name="A", last_name="B"))
            uow.sessions.delete("s1")
            uow.sessions.save(_session("s3", day=DAY - timedelta(days=1), appointment_key="k3"))
            assert uow.clients.get("c1").first_name == "A"
            assert [s.id for s in uow.sessions.list()] == ["s3", "s2"]
            assert [s.id for s in uow.sessions.by_client("c1")] == ["s3", "s2"]
            assert [s.id for s in uow.sessions.between(DAY - timedelta(days=1), DAY)] == ["s3"]
            assert uow.sessions.count() == 2
            assert uow.sessions.find("s1") is None
            found = uow.sessions.by_appointment_key("k3")
            assert found is not None
            assert found.id == "s3"
            last = uow.sessions.last_saved_for("c1")
            assert last is not None
            assert last.id == "s3"

    def test_a_unit_sees_its_snapshot_only(self) -> None:
        """A unit entered before another unit commits does not see that commit; a later unit does."""
        with self.open_store() as store:
            reader, writer = store.uow(), store.uow()
            with reader:
                assert reader.sessions.count() == 0
                with writer:
                    writer.sessions.save(_session("s1"))
                    writer.clients.put(Client(id="c1", first_name="A", last_name="B"))
                    writer.commit()
                assert reader.sessions.find("s1") is None
                assert reader.sessions.count() == 0
                assert reader.clients.list() == []
                reader.rollback()  # continues with a fresh snapshot
                assert reader.sessions.count() == 1

    # -- keyed records ----------------------------------------------------------------------

    @_SHARED
    @given(
        clients=st.lists(testing.clients(), max_size=3, unique_by=lambda c: c.id),
        payers=st.lists(testing.payers(), max_size=3, unique_by=lambda p: p.id),
        coverages=st.lists(testing.coverages(), max_size=3, unique_by=lambda c: c.id),
        authorizations=st.lists(testing.authorizations(), max_size=3, unique_by=lambda a: a.id),
        billing_codes=st.lists(testing.billing_code_setups(), max_size=3, unique_by=lambda b: b.code),
        practice=st.none() | testing.practices(),
    )
    def test_records_read_back_equal_in_key_order(
        self,
        *,
        clients: list[Client],
        payers: list[Payer],
        coverages: list[Coverage],
        authorizations: list[Authorization],
        billing_codes: list[BillingCode],
        practice: PracticeSetup | None,
    ) -> None:
        """Committed records read back equal, listed in key order, from a new unit of work (and after reopening)."""
        with self._seeded(
            clients=clients,
            payers=payers,
            coverages=coverages,
            authorizations=authorizations,
            billing_codes=billing_codes,
        ) as store:
            if practice is not None:
                with store.uow() as uow:
                    uow.practice.put(practice)
                    uow.commit()
            for _ in range(2 if store.can_reopen else 1):
                with store.uow() as uow:
                    assert uow.clients.list() == sorted(clients, key=lambda c: c.id)
                    assert uow.payers.list() == sorted(payers, key=lambda p: p.id)
                    assert uow.coverages.list() == sorted(coverages, key=lambda c: c.id)
                    assert uow.authorizations.list() == sorted(authorizations, key=lambda a: a.id)
                    assert uow.billing_codes.list() == sorted(billing_codes, key=lambda b: b.code)
                    for client in clients:
                        assert uow.clients.get(client.id) == client
                    for coverage in coverages:
                        assert uow.coverages.get(coverage.id) == coverage
                    assert uow.practice.find() == practice
                    for repo in (
                        uow.clients,
                        uow.payers,
                        uow.coverages,
                        uow.authorizations,
                        uow.billing_codes,
                    ):
                        assert {r.version for r in repo.list()} <= {1}
                    assert practice is None or uow.practice.get().version == 1
                if store.can_reopen:
                    store.reopen()

    def test_add_refuses_a_taken_key(self) -> None:
        """add() raises AlreadyExists with ``<kind>.exists`` for a taken key (committed or written in the unit)."""
        client = Client(id="c1", first_name="A", last_name="B")
        payer = Payer(id="p1", name="Aetna")
        coverage = _coverage("k1")
        auth = Authorization(
            id="a1", client_id="c1", payer_id="p1", number="A1", start=DAY, end=DAY, sessions_authorized=4
        )
        with self._seeded(clients=[client]) as store, store.uow() as uow:
            uow.payers.add(payer)
            uow.coverages.add(coverage)
            uow.authorizations.add(auth)
            cases: list[tuple[str, Callable[[], None]]] = [
                ("client", lambda: uow.clients.add(client)),
                ("payer", lambda: uow.payers.add(payer)),
                ("coverage", lambda: uow.coverages.add(coverage)),
                ("authorization", lambda: uow.authorizations.add(auth)),
            ]
            for kind, add in cases:
                with pytest.raises(AlreadyExists) as info:
                    add()
                assert info.value.code == f"{kind}.exists"
            assert len(uow.clients.list()) == 1

    def test_put_replaces(self) -> None:
        """put() of the stored version replaces the record with the same key, in the unit and once committed."""
        with self._seeded(clients=[Client(id="c1", first_name="A", last_name="B")]) as store:
            with store.uow() as uow:
                stored = uow.clients.get("c1")
                assert stored.version == 1
                uow.clients.put(attrs.evolve(stored, first_name="Z"))
                put = uow.clients.get("c1")
                assert (put.first_name, put.version) == ("Z", 2)
                uow.commit()
            with store.uow() as uow:
                assert [(c.first_name, c.version) for c in uow.clients.list()] == [("Z", 2)]

    def test_codes_are_found_by_any_spelling(self) -> None:
        """Billing and diagnosis setups are found by any spelling; malformed codes are simply not found."""
        with (
            self._seeded(
                billing_codes=[
                    BillingCode(code="90834", description="Psychotherapy 45", default_charge="140")
                ],
                diagnoses=[DiagnosisCode(code="F41.1", description="GAD")],
            ) as store,
            store.uow() as uow,
        ):
            assert uow.billing_codes.get(" 90834 ").code == "90834"
            assert uow.diagnoses.get("f411").code == "F41.1"
            assert uow.diagnoses.get("F41.1").description == "GAD"
            assert uow.billing_codes.find("not a code") is None
            assert uow.diagnoses.find("??") is None
            assert [d.description for d in uow.diagnoses.list()] == ["GAD"]

    def test_coverages_by_client_rank_and_date(self) -> None:
        """for_client orders by precedence (rank, later effective date, id); active_on keeps those in effect."""
        covs = [
            _coverage("k3", rank=CoverageRank.SECONDARY),
            _coverage("k2", effective=date(2025, 6, 1), termination=date(2025, 12, 31)),
            _coverage("k1"),
            _coverage("k4", client_id="c2"),
        ]
        with self._seeded(coverages=covs) as store:
            with store.uow() as uow:
                assert [c.id for c in uow.coverages.for_client("c1")] == ["k1", "k2", "k3"]
                assert [c.id for c in uow.coverages.active_on("c1", DAY)] == ["k1", "k3"]
                assert [c.id for c in uow.coverages.active_on("c1", date(2025, 7, 1))] == ["k2"]
                assert list(active_coverages("c1", DAY, covs)) == uow.coverages.active_on("c1", DAY)
                uow.coverages.delete("k1")
                with pytest.raises(NotFound) as info:
                    uow.coverages.delete("k1")
                assert info.value.code == "coverage.not_found"
                assert [c.id for c in uow.coverages.for_client("c1")] == ["k2", "k3"]
                uow.commit()
            with store.uow() as uow:
                assert [c.id for c in uow.coverages.list()] == ["k2", "k3", "k4"]

    def test_authorizations_by_start_date(self) -> None:
        """Authorizations for_client order by start date then id; active_on keeps start <= day <= end."""

        def auth(aid: str, start: date, end: date, client_id: str = "c1") -> Authorization:
            return Authorization(
                id=aid,
                client_id=client_id,
                payer_id="p1",
                number="A1",
                start=start,
                end=end,
                sessions_authorized=4,
            )

        auths = [
            auth("a2", date(2026, 1, 1), date(2026, 3, 1)),
            auth("a1", date(2026, 3, 1), date(2026, 6, 30)),
            auth("a0", date(2026, 1, 1), date(2026, 12, 31)),
            auth("a9", date(2026, 1, 1), date(2026, 12, 31), client_id="c2"),
        ]
        with self._seeded(authorizations=auths) as store, store.uow() as uow:
            assert [a.id for a in uow.authorizations.for_client("c1")] == ["a0", "a2", "a1"]
            assert [a.id for a in uow.authorizations.active_on("c1", date(2026, 3, 1))] == ["a0", "a2", "a1"]
            assert [a.id for a in uow.authorizations.active_on("c1", DAY)] == ["a0", "a1"]
            assert uow.authorizations.active_on("c3", DAY) == []

    @_SHARED
    @given(practice=testing.practices(), other=testing.practices())
    def test_the_practice_setup(self, practice: PracticeSetup, other: PracticeSetup) -> None:
        """The practice setup is one record: put replaces it, and it reads back equal."""
        with self.open_store() as store:
            for number, value in enumerate((practice, other), 1):
                with store.uow() as uow:
                    current = uow.practice.find()
                    uow.practice.put(attrs.evolve(value, version=number - 1))
                    stored = uow.practice.get()
                    assert _same(stored, attrs.evolve(value, version=number))
                    assert current is None or current.version == number - 1
                    assert _same(uow.practice.get(), stored)
                    uow.commit()
                with store.uow() as uow:
                    assert _same(uow.practice.get(), stored)

    # -- versions of every stored aggregate -------------------------------------------------

    @pytest.mark.parametrize("kind", _AGGREGATES)
    def test_put_bumps_the_version_of_every_aggregate(self, kind: str) -> None:
        """put() stores and returns the record with version + 1; add() too; the stored version reads back."""
        first_record, change = _AGGREGATES[kind]
        with self.open_store() as store:
            with store.uow() as uow:
                first = _put(uow, kind, first_record)
                assert _same(first, attrs.evolve(first_record, version=1))
                second = _put(uow, kind, change(first))
                assert _same(second, attrs.evolve(change(first_record), version=2))
                assert _same(_get(uow, kind), second)
                uow.commit()
            with store.uow() as uow:
                assert _same(_get(uow, kind), second)
                third = _put(uow, kind, second)
                assert third.version == 3
                uow.commit()
            with store.uow() as uow:
                assert _get(uow, kind).version == 3
                if kind not in ("billing_codes", "practice"):  # the ports with add()
                    other = attrs.evolve(first_record, id="other")
                    getattr(uow, kind).add(other)
                    assert _same(getattr(uow, kind).get("other"), attrs.evolve(other, version=1))

    @pytest.mark.parametrize("kind", _AGGREGATES)
    def test_a_wrong_version_of_every_aggregate_is_refused(self, kind: str) -> None:
        """A put whose version is not the stored one (0 for a new record) raises ``<kind>.version``; nothing is written."""
        record, change = _AGGREGATES[kind]
        what = _KIND_CODE[kind]
        with self._seeded_one(kind, record) as store:
            with store.uow() as uow:
                stored = _get(uow, kind)
                bad = [change(attrs.evolve(stored, version=v)) for v in (0, 2, 7)]
                if kind != "practice":  # a new key must come with version 0
                    bad.append(
                        attrs.evolve(record, id="new", version=1)
                        if kind != "billing_codes"
                        else attrs.evolve(record, code="90837", version=1)
                    )
                for copy in bad:
                    with pytest.raises(ConcurrentUpdate) as info:
                        _put(uow, kind, copy)
                    assert (info.value.code, info.value.field) == (f"{what}.version", "version")
                assert _same(_get(uow, kind), stored)
                uow.commit()
            with store.uow() as uow:
                assert _same(_get(uow, kind), stored)
                assert len(_all(uow, kind)) == 1

    @pytest.mark.parametrize("kind", _AGGREGATES)
    def test_a_stale_copy_of_every_aggregate_is_refused(self, kind: str) -> None:
        """A record read, then changed and committed by another unit, cannot be put from the stale copy."""
        record, change = _AGGREGATES[kind]
        with self._seeded_one(kind, record) as store:
            with store.uow() as uow:
                stale = _get(uow, kind)
            with store.uow() as uow:
                winner = _put(uow, kind, change(stale))
                assert winner.version == 2
                uow.commit()
            with store.uow() as uow:
                with pytest.raises(ConcurrentUpdate) as info:
                    _put(uow, kind, stale)
                assert info.value.code == f"{_KIND_CODE[kind]}.version"
                uow.commit()
            with store.uow() as uow:
                assert _same(_get(uow, kind), winner)

    @pytest.mark.parametrize("kind", _AGGREGATES)
    def test_concurrent_units_on_every_aggregate_one_wins(self, kind: str) -> None:
        """Two open units put the same record: the first commit wins, the second raises and applies none of its writes."""
        record, change = _AGGREGATES[kind]
        with self._seeded_one(kind, record) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                won = _put(a, kind, change(_get(a, kind)))
                _put(b, kind, _get(b, kind))  # the same version as a's: accepted in b's own snapshot
                b.sessions.save(_session("s9"))
                a.commit()
                with pytest.raises(ConcurrentUpdate) as info:
                    b.commit()
                assert info.value.code == f"{_KIND_CODE[kind]}.version"
                assert _same(_get(b, kind), won)  # b continues with a fresh snapshot
            with store.uow() as uow:
                assert _same(_get(uow, kind), won)
                assert uow.sessions.find("s9") is None

    @pytest.mark.parametrize("kind", _AGGREGATES)
    def test_concurrent_creates_of_every_aggregate_conflict(self, kind: str) -> None:
        """Two units creating a record with the same key: the second commit raises ConcurrentUpdate."""
        record, change = _AGGREGATES[kind]
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                _put(a, kind, record)
                _put(b, kind, change(record))
                a.commit()
                with pytest.raises(ConcurrentUpdate):
                    b.commit()
            with store.uow() as uow:
                assert _same(_get(uow, kind), attrs.evolve(record, version=1))

    def test_deleting_a_coverage_changed_meanwhile_conflicts(self) -> None:
        """A unit deleting a coverage another unit changed and committed meanwhile gets coverage.version."""
        with self._seeded(coverages=[_coverage("k1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.coverages.put(attrs.evolve(a.coverages.get("k1"), group_number="G2"))
                b.coverages.delete("k1")
                a.commit()
                with pytest.raises(ConcurrentUpdate) as info:
                    b.commit()
                assert info.value.code == "coverage.version"
            with store.uow() as uow:
                assert uow.coverages.get("k1").group_number == "G2"

    def test_putting_a_coverage_deleted_meanwhile_conflicts(self) -> None:
        """A unit changing a coverage another unit deleted meanwhile gets coverage.version (it is not recreated)."""
        with self._seeded(coverages=[_coverage("k1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.coverages.delete("k1")
                b.coverages.put(attrs.evolve(b.coverages.get("k1"), group_number="G2"))
                a.commit()
                with pytest.raises(ConcurrentUpdate):
                    b.commit()
            with store.uow() as uow:
                assert uow.coverages.find("k1") is None

    def test_diagnoses_of_the_setup_are_last_writer_wins(self) -> None:
        """Diagnoses carry no version: a later put replaces the label, across units too."""
        with self._seeded(diagnoses=[DiagnosisCode(code="F41.1", description="GAD")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.diagnoses.put(DiagnosisCode(code="F41.1", description="from a"))
                b.diagnoses.put(DiagnosisCode(code="F41.1", description="from b"))
                a.commit()
                b.commit()
            with store.uow() as uow:
                assert uow.diagnoses.get("F41.1").description == "from b"

    @contextlib.contextmanager
    def _seeded_one(self, kind: str, record: Any) -> Iterator[StoreUnderTest]:
        with self.open_store() as store:
            with store.uow() as uow:
                _put(uow, kind, record)
                uow.commit()
            yield store

    # -- sessions ---------------------------------------------------------------------------

    @_SHARED
    @given(sessions=_FULL_SESSIONS)
    def test_sessions_read_back_equal_and_ordered(self, sessions: list[ClientSession]) -> None:
        """Saved sessions come back with version 1, equal in every field, ordered by date of service then id."""
        with self._seeded(sessions) as store:
            for _ in range(2 if store.can_reopen else 1):
                expected = sorted(
                    (attrs.evolve(s, version=1) for s in sessions), key=lambda s: (s.date_of_service, s.id)
                )
                with store.uow() as uow:
                    assert uow.sessions.list() == expected
                    assert uow.sessions.count() == len(sessions)
                    for s in expected:
                        assert uow.sessions.get(s.id) == s
                    for client_id in _CLIENT_IDS:
                        assert uow.sessions.by_client(client_id) == [
                            s for s in expected if s.client_id == client_id
                        ]
                    for s in expected:
                        if s.appointment_key is not None:
                            assert uow.sessions.by_appointment_key(s.appointment_key) == s
                if store.can_reopen:
                    store.reopen()

    @_SHARED
    @given(sessions=_SESSIONS, start=_DATES, days=st.integers(0, 400))
    def test_between_is_inclusive(self, sessions: list[ClientSession], start: date, days: int) -> None:
        """between(start, end) holds exactly the sessions with start <= date of service <= end, in order."""
        end = start + timedelta(days=days)
        with self._seeded(sessions) as store, store.uow() as uow:
            expected = sorted(
                (attrs.evolve(s, version=1) for s in sessions if start <= s.date_of_service <= end),
                key=lambda s: (s.date_of_service, s.id),
            )
            assert uow.sessions.between(start, end) == expected
            on_start = uow.sessions.between(start, start)
            assert all(s.date_of_service == start for s in on_start)

    def test_save_bumps_the_version(self) -> None:
        """save() stores and returns the session with version + 1; saving that again bumps it again."""
        with self.open_store() as store:
            with store.uow() as uow:
                first = uow.sessions.save(_session("s1"))
                assert first.version == 1
                second = uow.sessions.save(attrs.evolve(first, charge="150.00"))
                assert second.version == 2
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.get("s1") == second
                third = uow.sessions.save(second)
                assert third.version == 3
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.get("s1").version == 3

    def test_a_wrong_version_is_a_concurrent_update(self) -> None:
        """Saving a new session with version != 0, or a stored one with another version, raises session.version."""
        with self._seeded([_session("s1")]) as store, store.uow() as uow:
            for bad in (_session("s2", version=3), _session("s1"), _session("s1", version=2)):
                with pytest.raises(ConcurrentUpdate) as info:
                    uow.sessions.save(bad)
                assert info.value.code == "session.version"
                assert info.value.field == "version"
            assert uow.sessions.get("s1").version == 1
            assert uow.sessions.count() == 1

    # -- what was billed: claim records, invoices, control numbers --------------------------------

    def test_claim_records_are_versioned_and_a_session_is_on_one_live_claim(self) -> None:
        """add stores version 1; a stale put is refused; a second live claim for a session fails at commit."""
        with self._seeded([_session("s1"), _session("s2")]) as store:
            with store.uow() as uow:
                first = uow.claim_records.add(_claim_record("r1", ["s1", "s2"]))
                assert first.version == 1
                uow.commit()
            with store.uow() as uow:
                assert uow.claim_records.get("r1") == first
                assert [r.id for r in uow.claim_records.for_session("s2")] == ["r1"]
                assert [r.id for r in uow.claim_records.for_client("c1")] == ["r1"]
                assert uow.claim_records.live_session_ids() == {"s1", "s2"}
                with pytest.raises(ConcurrentUpdate):
                    uow.claim_records.put(attrs.evolve(first, version=0))
                uow.claim_records.add(_claim_record("r2", ["s2"]))
                with pytest.raises(AlreadyExists) as info:
                    uow.commit()
                assert info.value.code == "claim_record.session_billed"
            with store.uow() as uow:
                assert [r.id for r in uow.claim_records.list()] == ["r1"]
                rejected = uow.claim_records.put(attrs.evolve(first, status="rejected"))
                assert rejected.version == 2
                assert uow.claim_records.live_session_ids() == frozenset()
                uow.claim_records.add(_claim_record("r2", ["s2"]))
                uow.commit()
            with store.uow() as uow:
                assert uow.claim_records.live_session_ids() == {"s2"}
                assert [r.id for r in uow.claim_records.for_session("s2")] == ["r1", "r2"]

    def test_two_units_billing_one_session_one_wins(self) -> None:
        """Two open units put the same session on a claim: the first commit wins, the second adds nothing."""
        with self._seeded([_session("s1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.claim_records.add(_claim_record("ra", ["s1"]))
                b.claim_records.add(_claim_record("rb", ["s1"]))
                a.commit()
                with pytest.raises(AlreadyExists):
                    b.commit()
            with store.uow() as uow:
                assert [r.id for r in uow.claim_records.list()] == ["ra"]

    def test_a_session_is_on_one_invoice(self) -> None:
        """Invoices are stored once; a session's line of a kind on a second invoice fails at commit."""
        with self._seeded([_session("s1")]) as store:
            with store.uow() as uow:
                saved = uow.invoices.add(_invoice("i1", 1, ["s1"]))
                uow.commit()
            with store.uow() as uow:
                assert uow.invoices.get("i1") == saved
                assert [i.id for i in uow.invoices.for_client("c1")] == ["i1"]
                assert uow.invoices.invoiced_session_ids() == {"s1"}
                with pytest.raises(AlreadyExists):
                    uow.invoices.add(_invoice("i1", 9, []))
                uow.invoices.add(_invoice("i2", 2, ["s1"]))
                with pytest.raises(AlreadyExists) as info:
                    uow.commit()
                assert info.value.code == "invoice.session_invoiced"
            with store.uow() as uow:
                assert [i.id for i in uow.invoices.list()] == ["i1"]

    # -- money in: the payments ledger ---------------------------------------------------------------

    @_MONEY
    @given(drawn=st.lists(testing.payments(session_ids=_MONEY_SESSIONS), max_size=6), data=st.data())
    def test_payments_read_back_equal_and_ordered(self, drawn: list[Payment], data: st.DataObject) -> None:
        """Payments read back equal (every field, through the documents), in receipt order, by every query.

        The same answers in the unit that wrote them, in a new unit, and after reopening the store.
        """
        clients = data.draw(
            st.lists(st.sampled_from(_MONEY_CLIENTS), min_size=len(drawn), max_size=len(drawn))
        )
        payments = _distinct_payments(
            [attrs.evolve(p, client_id=c) for p, c in zip(drawn, clients, strict=True)]
        )
        stored = [attrs.evolve(p, version=1) for p in payments]
        with self.open_store() as store:

            def check(uow: UnitOfWork) -> None:
                assert uow.payments.list() == _by_receipt(stored)
                for payment in stored:
                    back = uow.payments.get(payment.id)
                    assert back == payment
                    assert (back.version, back.received_at.utcoffset()) == (
                        1,
                        payment.received_at.utcoffset(),
                    )
                    if payment.idempotency_key is not None:
                        assert uow.payments.by_idempotency_key(payment.idempotency_key) == payment
                for client_id in _MONEY_CLIENTS:
                    assert uow.payments.for_client(client_id) == _by_receipt(
                        p for p in stored if p.client_id == client_id
                    )
                for sid in _MONEY_SESSIONS:
                    assert uow.payments.for_session(sid) == _by_receipt(
                        p for p in stored if any(a.session_id == sid for a in p.applied)
                    )
                assert uow.payments.pending() == _by_receipt(
                    p for p in stored if p.status is PaymentStatus.PENDING
                )
                assert uow.payments.by_idempotency_key("never used") is None

            with store.uow() as uow:
                assert [uow.payments.add(p) for p in payments] == stored
                check(uow)
                uow.commit()
            with store.uow() as uow:
                check(uow)
            if store.can_reopen:
                store.reopen()
                with store.uow() as uow:
                    check(uow)

    def test_payments_are_versioned(self) -> None:
        """add stores version 1 (0 in); put needs the stored version and bumps it; the key cannot change."""
        with self.open_store() as store:
            with store.uow() as uow:
                assert uow.payments.find("p1") is None
                with pytest.raises(NotFound) as missing:
                    uow.payments.get("p1")
                assert (missing.value.code, missing.value.field) == ("payment.not_found", "id")
                with pytest.raises(ConcurrentUpdate) as info:
                    uow.payments.add(attrs.evolve(_payment("p1"), version=1))
                assert (info.value.code, info.value.field) == ("payment.version", "version")
                first = uow.payments.add(_payment("p1", key="k1", status=PaymentStatus.PENDING))
                assert first.version == 1
                again = uow.payments.put(attrs.evolve(first, reference="ch_1"))  # put in the same unit
                assert again.version == 2
                uow.commit()
            with store.uow() as uow:
                stored = uow.payments.get("p1")
                assert (stored, stored.version, stored.reference) == (again, 2, "ch_1")
                with pytest.raises(AlreadyExists) as taken:
                    uow.payments.add(_payment("p1"))
                assert (taken.value.code, taken.value.field) == ("payment.exists", "id")
                for stale in (1, 3, 0):
                    with pytest.raises(ConcurrentUpdate) as info:
                        uow.payments.put(attrs.evolve(stored, version=stale))
                    assert info.value.code == "payment.version"
                with pytest.raises(InvalidValue) as changed:
                    uow.payments.put(attrs.evolve(stored, idempotency_key="k2"))
                assert changed.value.code == "payment.idempotency_key_changed"
                with pytest.raises(NotFound):
                    uow.payments.put(_payment("p9"))
                received = uow.payments.put(attrs.evolve(stored, status=PaymentStatus.RECEIVED))
                assert received.version == 3
                uow.commit()
            with store.uow() as uow:
                assert uow.payments.get("p1") == received
                assert uow.payments.get("p1").version == 3
                assert uow.payments.pending() == []

    def test_a_put_moves_a_payment_between_sessions_and_states(self) -> None:
        """for_session and pending follow a put: in the unit that made it and after its commit."""
        pending = _payment("p1", applied=[("s1", "40.00")], status=PaymentStatus.PENDING)
        with self.open_store() as store:
            with store.uow() as uow:
                uow.payments.add(pending)
                uow.payments.add(_payment("p2", at=NOON + timedelta(hours=1), applied=[("s2", "10.00")]))
                uow.commit()
            with store.uow() as uow:
                assert [p.id for p in uow.payments.pending()] == ["p1"]
                assert [p.id for p in uow.payments.for_session("s1")] == ["p1"]
                moved = uow.payments.put(
                    attrs.evolve(
                        uow.payments.get("p1"),
                        status=PaymentStatus.RECEIVED,
                        applied=[PaymentApplication(session_id="s2", amount="40.00")],
                    )
                )
                for _ in range(2):
                    assert uow.payments.pending() == []
                    assert uow.payments.for_session("s1") == []
                    assert [p.id for p in uow.payments.for_session("s2")] == ["p1", "p2"]
                    assert uow.payments.get("p1") == moved
                    if uow.payments.get("p1").version == 2:
                        uow.commit()

    def test_an_idempotency_key_is_taken_once_in_a_unit(self) -> None:
        """A second payment with a key taken (committed, or written in the unit) is refused at add."""
        with self.open_store() as store:
            with store.uow() as uow:
                uow.payments.add(_payment("p1", key="charge-1"))
                uow.commit()
            with store.uow() as uow:
                uow.payments.add(_payment("p2", key="charge-2"))
                for pid, key in (("p3", "charge-1"), ("p4", "charge-2")):
                    with pytest.raises(AlreadyExists) as info:
                        uow.payments.add(_payment(pid, key=key))
                    assert (info.value.code, info.value.field) == (
                        "payment.idempotency_key_taken",
                        "idempotency_key",
                    )
                assert uow.payments.by_idempotency_key("charge-2") == attrs.evolve(
                    _payment("p2", key="charge-2"), version=1
                )
                uow.commit()
            with store.uow() as uow:
                assert [p.id for p in uow.payments.list()] == ["p1", "p2"]

    def test_two_units_racing_one_idempotency_key_record_one_payment(self) -> None:
        """Two open units record a charge with the same key: the first commit wins, the second adds nothing."""
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.payments.add(_payment("pa", key="charge-1"))
                b.payments.add(_payment("pb", key="charge-1"))
                b.clients.put(Client(id="c1", first_name="A", last_name="B"))
                a.commit()
                with pytest.raises(AlreadyExists) as info:
                    b.commit()
                assert info.value.code == "payment.idempotency_key_taken"
            with store.uow() as uow:
                assert [p.id for p in uow.payments.list()] == ["pa"]
                assert uow.payments.by_idempotency_key("charge-1") == attrs.evolve(
                    _payment("pa", key="charge-1"), version=1
                )
                assert uow.clients.list() == []

    def test_two_units_racing_one_payment_id_record_one_payment(self) -> None:
        """Two open units add a payment with the same id: the second commit raises payment.exists."""
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.payments.add(_payment("p1", amount="10.00"))
                b.payments.add(_payment("p1", amount="20.00"))
                a.commit()
                with pytest.raises(AlreadyExists) as info:
                    b.commit()
                assert info.value.code == "payment.exists"
            with store.uow() as uow:
                assert uow.payments.get("p1").amount == Money("10.00")

    def test_concurrent_puts_of_a_payment_one_wins(self) -> None:
        """Two open units change the same payment: the first commit wins, the second raises payment.version."""
        with self.open_store() as store:
            with store.uow() as uow:
                uow.payments.add(_payment("p1", status=PaymentStatus.PENDING))
                uow.commit()
            a, b = store.uow(), store.uow()
            with a, b:
                a.payments.put(attrs.evolve(a.payments.get("p1"), status=PaymentStatus.RECEIVED))
                b.payments.put(attrs.evolve(b.payments.get("p1"), status=PaymentStatus.DECLINED))
                a.commit()
                with pytest.raises(ConcurrentUpdate) as info:
                    b.commit()
                assert info.value.code == "payment.version"
            with store.uow() as uow:
                assert uow.payments.get("p1").status is PaymentStatus.RECEIVED
                assert uow.payments.get("p1").version == 2

    def test_payments_roll_back(self) -> None:
        """rollback, leaving without commit and an exception discard added and changed payments."""
        with self.open_store() as store:
            with store.uow() as uow:
                uow.payments.add(_payment("p1", key="k1"))
                uow.commit()
                uow.payments.put(attrs.evolve(uow.payments.get("p1"), reference="changed"))
                uow.payments.add(_payment("p2", key="k2", applied=[("s1", "1.00")]))
                uow.rollback()
                assert uow.payments.get("p1").reference is None
                assert uow.payments.find("p2") is None
                uow.payments.add(_payment("p3"))

            def fail() -> None:
                with store.uow() as uow:
                    uow.payments.add(_payment("p4"))
                    raise RuntimeError("boom")

            with pytest.raises(RuntimeError):
                fail()
            with store.uow() as uow:
                assert [p.id for p in uow.payments.list()] == ["p1"]
                assert uow.payments.by_idempotency_key("k2") is None
                assert uow.payments.for_session("s1") == []
                assert uow.payments.get("p1").version == 1

    # -- money in: adjudications ---------------------------------------------------------------------

    @_MONEY
    @given(drawn=st.lists(testing.adjudications(session_ids=_MONEY_SESSIONS), max_size=4), data=st.data())
    def test_adjudications_read_back_equal_and_ordered(
        self, drawn: list[Adjudication], data: st.DataObject
    ) -> None:
        """Adjudications read back equal (every field), in posting order, by every query, before and after commit."""
        size = len(drawn)
        clients = data.draw(st.lists(st.sampled_from(_MONEY_CLIENTS), min_size=size, max_size=size))
        claims = data.draw(st.lists(st.sampled_from(("r1", "r2")), min_size=size, max_size=size))
        adjudications = _distinct_adjudications(
            [
                attrs.evolve(a, client_id=c, claim_record_id=r)
                for a, c, r in zip(drawn, clients, claims, strict=True)
            ]
        )
        stored = [attrs.evolve(a, version=1) for a in adjudications]
        with self.open_store() as store:

            def check(uow: UnitOfWork) -> None:
                assert uow.adjudications.list() == _by_posting(stored)
                for adjudication in stored:
                    back = uow.adjudications.get(adjudication.id)
                    assert (back, back.version) == (adjudication, 1)
                    assert uow.adjudications.by_source_key(adjudication.source_key) == adjudication
                for client_id in _MONEY_CLIENTS:
                    assert uow.adjudications.for_client(client_id) == _by_posting(
                        a for a in stored if a.client_id == client_id
                    )
                for rid in ("r1", "r2"):
                    assert uow.adjudications.for_claim(rid) == _by_posting(
                        a for a in stored if a.claim_record_id == rid
                    )
                for sid in _MONEY_SESSIONS:
                    assert uow.adjudications.for_session(sid) == _by_posting(
                        a for a in stored if any(line.session_id == sid for line in a.lines)
                    )

            with store.uow() as uow:
                assert [uow.adjudications.add(a) for a in adjudications] == stored
                check(uow)
                uow.commit()
            with store.uow() as uow:
                check(uow)
            if store.can_reopen:
                store.reopen()
                with store.uow() as uow:
                    check(uow)

    def test_an_adjudication_is_posted_once(self) -> None:
        """add refuses a taken id (adjudication.exists), a taken source key (already_posted) and a version."""
        with self.open_store() as store:
            with store.uow() as uow:
                assert uow.adjudications.find("a1") is None
                with pytest.raises(NotFound) as missing:
                    uow.adjudications.get("a1")
                assert missing.value.code == "adjudication.not_found"
                first = uow.adjudications.add(_adjudication("a1", source_key="835|T1|SK1|1"))
                assert first.version == 1
                with pytest.raises(AlreadyExists) as posted:
                    uow.adjudications.add(_adjudication("a2", source_key="835|T1|SK1|1"))
                assert (posted.value.code, posted.value.field) == (
                    "adjudication.already_posted",
                    "source_key",
                )
                uow.commit()
            with store.uow() as uow:
                assert uow.adjudications.get("a1") == first
                with pytest.raises(AlreadyExists) as taken:
                    uow.adjudications.add(_adjudication("a1", source_key="other"))
                assert (taken.value.code, taken.value.field) == ("adjudication.exists", "id")
                with pytest.raises(AlreadyExists) as posted:
                    uow.adjudications.add(_adjudication("a3", source_key="835|T1|SK1|1"))
                assert posted.value.code == "adjudication.already_posted"
                with pytest.raises(ConcurrentUpdate) as info:
                    uow.adjudications.add(attrs.evolve(_adjudication("a4"), version=1))
                assert info.value.code == "adjudication.version"
                uow.commit()
            with store.uow() as uow:
                assert [a.id for a in uow.adjudications.list()] == ["a1"]

    def test_two_units_posting_one_remittance_post_it_once(self) -> None:
        """Two open units post the same source key (or id): the first commit wins, the second adds nothing."""
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.adjudications.add(_adjudication("aa", source_key="835|T1"))
                b.adjudications.add(_adjudication("ab", source_key="835|T1"))
                b.payments.add(_payment("p1"))
                a.commit()
                with pytest.raises(AlreadyExists) as info:
                    b.commit()
                assert info.value.code == "adjudication.already_posted"
            a, b = store.uow(), store.uow()
            with a, b:
                a.adjudications.add(_adjudication("a2", source_key="835|T2"))
                b.adjudications.add(_adjudication("a2", source_key="835|T3"))
                a.commit()
                with pytest.raises(AlreadyExists) as info:
                    b.commit()
                assert info.value.code == "adjudication.exists"
            with store.uow() as uow:
                assert [a.id for a in uow.adjudications.list()] == ["a2", "aa"]
                assert uow.adjudications.by_source_key("835|T3") is None
                assert uow.payments.list() == []

    def test_adjudications_roll_back(self) -> None:
        """rollback and leaving without commit discard posted adjudications; their source key stays free."""
        with self.open_store() as store:
            with store.uow() as uow:
                uow.adjudications.add(_adjudication("a1", source_key="835|T1"))
                uow.rollback()
                assert uow.adjudications.list() == []
                uow.adjudications.add(_adjudication("a2", source_key="835|T1"))
            with store.uow() as uow:
                assert uow.adjudications.list() == []
                assert uow.adjudications.for_session("s1") == []
                uow.adjudications.add(_adjudication("a3", source_key="835|T1"))
                uow.commit()
            with store.uow() as uow:
                assert [a.id for a in uow.adjudications.for_session("s1")] == ["a3"]

    def test_a_secondary_claim_beside_a_live_primary(self) -> None:
        """A session on a live claim to one coverage may go on a claim to another; a second to the same is refused."""
        with self._seeded([_session("s1"), _session("s2")]) as store:
            with store.uow() as uow:
                uow.claim_records.add(_claim_record("r1", ["s1", "s2"], coverage_id="k1"))
                uow.commit()
            with store.uow() as uow:
                uow.claim_records.add(_claim_record("r2", ["s1"], coverage_id="k2"))
                uow.commit()
            with store.uow() as uow:
                assert [r.id for r in uow.claim_records.for_session("s1")] == ["r1", "r2"]
                assert uow.claim_records.live_session_ids() == {"s1", "s2"}
                uow.claim_records.add(_claim_record("r3", ["s2"], coverage_id="k1"))
                with pytest.raises(AlreadyExists) as info:
                    uow.commit()
                assert info.value.code == "claim_record.session_billed"
            a, b = store.uow(), store.uow()
            with a, b:
                a.claim_records.add(_claim_record("ra", ["s2"], coverage_id="k2"))
                b.claim_records.add(_claim_record("rb", ["s2"], coverage_id="k2"))
                a.commit()
                with pytest.raises(AlreadyExists):
                    b.commit()
            with store.uow() as uow:
                assert [r.id for r in uow.claim_records.list()] == ["r1", "r2", "ra"]
                primary = uow.claim_records.get("r1")
                uow.claim_records.put(attrs.evolve(primary, status="rejected"))
                uow.claim_records.add(_claim_record("r4", ["s2"], coverage_id="k1"))
                uow.commit()
            with store.uow() as uow:
                assert [r.id for r in uow.claim_records.for_session("s2")] == ["r1", "r4", "ra"]

    def test_control_numbers_are_handed_out_once_and_never_rolled_back(self) -> None:
        """Each sequence counts from 1, per kind; numbers stay used when the unit rolls back."""
        with self.open_store() as store:
            with store.uow() as uow:
                assert list(uow.control_numbers.allocate("claim", 3)) == [1, 2, 3]
                assert list(uow.control_numbers.allocate("interchange")) == [1]
                uow.rollback()
            with store.uow() as uow:
                assert list(uow.control_numbers.allocate("claim", 2)) == [4, 5]

    def test_client_ids_lists_the_clients_with_sessions(self) -> None:
        """client_ids() is the sorted ids of clients having sessions, this unit's saves and deletes included."""
        with self._seeded([_session("s1", "c2"), _session("s2", "c1"), _session("s3", "c2")]) as store:
            with store.uow() as uow:
                assert uow.sessions.client_ids() == ["c1", "c2"]
                uow.sessions.delete("s2")
                uow.sessions.save(_session("s4", "c3"))
                assert uow.sessions.client_ids() == ["c2", "c3"]
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.client_ids() == ["c2", "c3"]

    def test_the_eob_lock_holds_in_storage(self) -> None:
        """Once its EOB is posted, saving a session with another paid-at-session raises SessionLocked.

        The lock holds in the repository itself, not only in the session
        builder: nothing is written, and other changes still save.
        """
        posted = _session("s1", paid_at_session="25.00", status=SessionStatus.EOB_POSTED)
        with self._seeded([posted]) as store:
            with store.uow() as uow:
                stored = uow.sessions.get("s1")
                with pytest.raises(SessionLocked) as info:
                    uow.sessions.save(attrs.evolve(stored, paid_at_session="30.00"))
                assert (info.value.code, info.value.field) == ("session.locked", "paid_at_session")
                with pytest.raises(SessionLocked):
                    uow.sessions.save_many([attrs.evolve(stored, paid_at_session="0")])
                saved = uow.sessions.save(attrs.evolve(stored, comments="EOB filed"))
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.get("s1") == saved
                assert uow.sessions.get("s1").paid_at_session == Money("25.00")

    def test_a_stale_copy_is_refused(self) -> None:
        """A session read, then changed and committed by another unit, cannot be saved from the stale copy."""
        with self._seeded([_session("s1")]) as store:
            with store.uow() as uow:
                stale = uow.sessions.get("s1")
            with store.uow() as uow:
                uow.sessions.save(attrs.evolve(stale, charge="150.00"))
                uow.commit()
            with store.uow() as uow, pytest.raises(ConcurrentUpdate):
                uow.sessions.save(attrs.evolve(stale, charge="160.00"))
            with store.uow() as uow:
                assert uow.sessions.get("s1").charge == Money("150.00")

    def test_concurrent_units_one_wins(self) -> None:
        """Two open units update the same session: the first commit wins, the second raises and applies nothing."""
        with self._seeded([_session("s1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.sessions.save(attrs.evolve(a.sessions.get("s1"), line_note="from a"))
                b.sessions.save(attrs.evolve(b.sessions.get("s1"), line_note="from b"))
                b.clients.put(Client(id="c9", first_name="B", last_name="B"))
                a.commit()
                with pytest.raises(ConcurrentUpdate) as info:
                    b.commit()
                assert info.value.code == "session.version"
                assert b.sessions.get("s1").line_note == "from a"  # b continues with a fresh snapshot
            with store.uow() as uow:
                s1 = uow.sessions.get("s1")
                assert (s1.line_note, s1.version) == ("from a", 2)
                assert uow.clients.find("c9") is None

    def test_concurrent_delete_conflicts(self) -> None:
        """A unit deleting a session another unit updated and committed meanwhile gets ConcurrentUpdate."""
        with self._seeded([_session("s1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.sessions.save(a.sessions.get("s1"))
                b.sessions.delete("s1")
                a.commit()
                with pytest.raises(ConcurrentUpdate):
                    b.commit()
            with store.uow() as uow:
                assert uow.sessions.get("s1").version == 2

    def test_concurrent_creates_conflict(self) -> None:
        """Two units creating a session with the same id: the second commit raises ConcurrentUpdate."""
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.sessions.save(_session("s1", line_note="a"))
                b.sessions.save(_session("s1", line_note="b"))
                a.commit()
                with pytest.raises(ConcurrentUpdate):
                    b.commit()
            with store.uow() as uow:
                assert uow.sessions.get("s1").line_note == "a"

    def test_delete_a_session(self) -> None:
        """delete() removes a session (NotFound session.not_found when there is none); a new one may reuse the id."""
        with self._seeded([_session("s1", appointment_key="k1")]) as store:
            with store.uow() as uow:
                uow.sessions.delete("s1")
                with pytest.raises(NotFound) as info:
                    uow.sessions.delete("s1")
                assert info.value.code == "session.not_found"
                assert uow.sessions.by_appointment_key("k1") is None
                assert uow.sessions.count() == 0
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.find("s1") is None
                assert uow.sessions.save(_session("s1", appointment_key="k1")).version == 1
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.count() == 1

    def test_appointment_keys_are_unique(self) -> None:
        """Another session with a used appointment key raises AlreadyExists (session.appointment_key_taken)."""
        with self._seeded([_session("s1", appointment_key="k1")]) as store, store.uow() as uow:
            for sid in ("s2", "s3"):
                with pytest.raises(AlreadyExists) as info:
                    uow.sessions.save(_session(sid, appointment_key="k1"))
                assert (info.value.code, info.value.field) == (
                    "session.appointment_key_taken",
                    "appointment_key",
                )
            uow.sessions.save(_session("s2", appointment_key="k2"))
            with pytest.raises(AlreadyExists):
                uow.sessions.save(_session("s3", appointment_key="k2"))
            # the same session keeps its key; a key given up is free again
            s1 = uow.sessions.save(attrs.evolve(uow.sessions.get("s1"), line_note="again"))
            uow.sessions.save(attrs.evolve(s1, appointment_key=None))
            assert uow.sessions.save(_session("s3", appointment_key="k1")).appointment_key == "k1"
            uow.commit()
            found = uow.sessions.by_appointment_key("k1")
            assert found is not None
            assert found.id == "s3"
            assert uow.sessions.by_appointment_key("nope") is None

    def test_concurrent_units_cannot_share_a_key(self) -> None:
        """Two units importing the same appointment: the second commit raises AlreadyExists and applies nothing."""
        with self.open_store() as store:
            a, b = store.uow(), store.uow()
            with a, b:
                a.sessions.save(_session("s1", appointment_key="k1"))
                b.sessions.save(_session("s2", appointment_key="k1"))
                a.commit()
                with pytest.raises(AlreadyExists) as info:
                    b.commit()
                assert info.value.code == "session.appointment_key_taken"
            with store.uow() as uow:
                assert [s.id for s in uow.sessions.list()] == ["s1"]

    def test_last_saved_for_follows_the_save_sequence(self) -> None:
        """last_saved_for is the client's session saved last, not the latest date of service."""
        late, early = (
            _session("s1", day=DAY + timedelta(days=30)),
            _session("s2", day=DAY - timedelta(days=30)),
        )
        with self._seeded([late, early, _session("s3", client_id="c2")]) as store:
            with store.uow() as uow:
                last = uow.sessions.last_saved_for("c1")
                assert last is not None
                assert last.id == "s2"
                assert uow.sessions.last_saved_for("nobody") is None
                uow.sessions.save(uow.sessions.get("s1"))  # saved again: now the last
                last = uow.sessions.last_saved_for("c1")
                assert last is not None
                assert last.id == "s1"
                uow.commit()
            with store.uow() as uow:
                last = uow.sessions.last_saved_for("c1")
                assert last is not None
                assert last.id == "s1"
                uow.sessions.delete("s1")
                last = uow.sessions.last_saved_for("c1")
                assert last is not None
                assert last.id == "s2"

    def test_save_many_is_all_or_nothing(self) -> None:
        """If one session of save_many fails, none of them is saved and the unit's earlier writes stay."""
        with self._seeded([_session("s0", appointment_key="k0")]) as store, store.uow() as uow:
            uow.sessions.save(_session("before"))
            batch = [
                _session("s1"),
                _session("s2", appointment_key="k2"),
                _session("s3", appointment_key="k0"),
            ]
            with pytest.raises(AlreadyExists):
                uow.sessions.save_many(batch)
            with pytest.raises(ConcurrentUpdate):
                uow.sessions.save_many([_session("s4"), _session("s4")])
            assert sorted(s.id for s in uow.sessions.list()) == ["before", "s0"]
            assert uow.sessions.by_appointment_key("k2") is None
            saved = uow.sessions.save_many([_session("s1"), _session("s2", appointment_key="k2")])
            assert [s.version for s in saved] == [1, 1]
            uow.commit()
            assert uow.sessions.count() == 4

    def test_commit_is_all_or_nothing(self) -> None:
        """A commit that conflicts applies none of the unit's writes, of any kind."""
        with self._seeded([_session("s1")]) as store:
            a, b = store.uow(), store.uow()
            with a, b:
                b.clients.put(Client(id="c1", first_name="A", last_name="B"))
                b.practice.put(PRACTICE)
                b.coverages.put(_coverage("k1"))
                b.sessions.save_many([_session(f"n{i}") for i in range(20)])
                b.sessions.save(b.sessions.get("s1"))
                a.sessions.delete("s1")
                a.commit()
                with pytest.raises(ConcurrentUpdate):
                    b.commit()
            with store.uow() as uow:
                assert uow.clients.list() == []
                assert uow.practice.find() is None
                assert uow.coverages.list() == []
                assert uow.sessions.count() == 0

    def test_many_sessions_in_one_unit(self) -> None:
        """A thousand sessions saved in one unit are all there after the commit, in order."""
        batch = [
            _session(f"s{i:04d}", client_id=f"c{i % 7}", day=DAY + timedelta(days=i % 50))
            for i in range(1000)
        ]
        with self.open_store() as store:
            with store.uow() as uow:
                uow.sessions.save_many(batch)
                uow.commit()
            with store.uow() as uow:
                assert uow.sessions.count() == 1000
                listed = uow.sessions.list()
                assert [s.id for s in listed] == [
                    s.id for s in sorted(batch, key=lambda s: (s.date_of_service, s.id))
                ]
                assert all(s.version == 1 for s in listed)
