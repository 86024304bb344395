"""A hypothesis state machine drives the SQLite adapter and the in-memory adapter side by side.

Random saves, updates, stale saves, deletes, batches, rollbacks, coverage
puts (of the stored or of any version) and deletes, concurrent units on a
session or a client, payments added and put (of the stored or another
version), two units racing to record a charge with one idempotency key,
adjudications posted (once per source key), and reopenings of the file;
after every step every query must answer the same on both (the in-memory
adapter is the model).
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sessionkit import Client, ClientSession, Coverage, SessionkitError
from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore
from sessionkit.adapters.sqlite import SqliteDatabase
from sessionkit.domain.payments import (
    Adjudication,
    LineAdjudication,
    Payment,
    PaymentApplication,
    PaymentStatus,
)
from sessionkit.ports import UnitOfWork
from sessionkit.routing import Destination, sessions_for

_SHM = Path("/dev/shm")
FAST_DIR = str(_SHM) if _SHM.is_dir() else None
DAY = date(2026, 3, 2)
SESSION_IDS = st.sampled_from(["s1", "s2", "s3", "s4", "s5"])
CLIENT_IDS = st.sampled_from(["c1", "c2"])
KEYS = st.none() | st.sampled_from(["k1", "k2"])
DAYS = st.integers(0, 20).map(lambda n: DAY + timedelta(days=n))
PAYMENT_IDS = st.sampled_from(["p1", "p2", "p3", "p4"])
CHARGE_KEYS = st.none() | st.sampled_from(["charge-1", "charge-2"])
MONEY_SESSIONS = ("s1", "s2", "s3")
NOON = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
# Instants whose order differs from their local text's order (UTC offsets from -5 to +5 hours).
INSTANTS = st.tuples(st.integers(0, 6), st.integers(-5, 5)).map(
    lambda h: (NOON + timedelta(hours=h[0])).astimezone(timezone(timedelta(hours=h[1])))
)


def _payment(
    pid: str, client_id: str, *, key: str | None, sessions: list[str], at: datetime, status: str
) -> Payment:
    return Payment(
        id=pid,
        client_id=client_id,
        amount="50.00",
        method="card",
        received_at=at,
        idempotency_key=key,
        applied=[PaymentApplication(session_id=sid, amount="10.00") for sid in sessions],
        status=status,
    )


def _outcome(action: Any) -> tuple[str, Any]:
    """What an action did: its value, or the error's class and code."""
    try:
        return ("ok", action())
    except SessionkitError as exc:
        return (type(exc).__name__, exc.code)


class SqliteAgainstMemory(RuleBasedStateMachine):
    """Every step is done on both adapters; their answers must match."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory(dir=FAST_DIR)
        self.path = Path(self.folder.name) / "machine.sqlite"
        self.db = SqliteDatabase(self.path)
        self.store = MemoryStore()
        self.stale: dict[str, ClientSession] = {}

    def units(self) -> tuple[UnitOfWork, UnitOfWork]:
        return self.db.unit_of_work(), InMemoryUnitOfWork(self.store)

    def both(self, action: Any, *, commit: bool = True) -> None:
        """Run ``action(uow)`` in a unit of work on each adapter (committing); outcomes must match."""
        results = []
        for uow in self.units():
            with uow:
                results.append(_outcome(lambda uow=uow: (action(uow), uow.commit() if commit else None)[0]))
        assert results[0] == results[1]

    @rule(sid=SESSION_IDS, client_id=CLIENT_IDS, day=DAYS, key=KEYS, charge=st.integers(0, 500))
    def save_new(self, sid: str, client_id: str, day: date, key: str | None, charge: int) -> None:
        """Save a new session (fails on both when the id or key is taken)."""
        s = ClientSession(
            id=sid,
            client_id=client_id,
            date_of_service=day,
            billing_code="90834",
            charge=str(charge),
            appointment_key=key,
        )
        self.both(lambda uow: uow.sessions.save(s))

    @rule(
        sid=SESSION_IDS,
        day=DAYS,
        key=KEYS,
        paid=st.integers(0, 200),
        bill_to=st.sampled_from(["automatic", "client"]),
    )
    def update(self, sid: str, day: date, key: str | None, paid: int, bill_to: str) -> None:
        """Read a session and save it changed (keeping the copy read, for a stale save later)."""

        def change(uow: UnitOfWork) -> ClientSession | None:
            found = uow.sessions.find(sid)
            if found is None:
                return None
            self.stale[sid] = found
            changed = attrs.evolve(
                found, date_of_service=day, appointment_key=key, paid_at_session=str(paid), bill_to=bill_to
            )
            return uow.sessions.save(changed)

        self.both(change)

    @precondition(lambda self: bool(self.stale))
    @rule(data=st.data())
    def save_stale(self, data: st.DataObject) -> None:
        """Save a copy read earlier: a ConcurrentUpdate on both when it changed since."""
        stale = self.stale[data.draw(st.sampled_from(sorted(self.stale)))]
        self.both(lambda uow: uow.sessions.save(attrs.evolve(stale, line_note="stale")))

    @rule(sid=SESSION_IDS)
    def delete(self, sid: str) -> None:
        """Delete a session (NotFound on both when there is none)."""
        self.both(lambda uow: uow.sessions.delete(sid))

    @rule(ids=st.lists(SESSION_IDS, min_size=1, max_size=4), key=KEYS)
    def save_batch(self, ids: list[str], key: str | None) -> None:
        """save_many of new sessions: all or nothing on both."""
        batch = [
            ClientSession(
                id=sid,
                client_id="c1",
                date_of_service=DAY,
                billing_code="90837",
                charge="170",
                appointment_key=key if i == 0 else None,
            )
            for i, sid in enumerate(ids)
        ]
        self.both(lambda uow: uow.sessions.save_many(batch))

    @rule(sid=SESSION_IDS)
    def rolled_back(self, sid: str) -> None:
        """Writes of a unit left without commit are discarded on both."""
        self.both(lambda uow: uow.sessions.delete(sid), commit=False)

    @rule(
        cid=st.sampled_from(["k1", "k2"]),
        client_id=CLIENT_IDS,
        start=st.integers(-5, 25),
        copay=st.integers(0, 60),
    )
    def put_coverage(self, cid: str, client_id: str, start: int, copay: int) -> None:
        """Put a coverage (changing where sessions are billed)."""
        coverage = Coverage(
            id=cid,
            client_id=client_id,
            payer_id="p1",
            member_id="M1",
            effective=DAY + timedelta(days=start),
            copay=str(copay),
        )

        def put(uow: UnitOfWork) -> None:
            stored = uow.coverages.find(cid)
            uow.coverages.put(attrs.evolve(coverage, version=0 if stored is None else stored.version))

        self.both(put)

    @rule(cid=st.sampled_from(["k1", "k2"]), version=st.integers(0, 3))
    def put_coverage_of_a_version(self, cid: str, version: int) -> None:
        """Put a coverage carrying a given version: stored, or ConcurrentUpdate, alike on both."""
        coverage = Coverage(
            id=cid, client_id="c1", payer_id="p1", member_id="M2", effective=DAY, version=version
        )
        self.both(lambda uow: uow.coverages.put(coverage))

    @rule(cid=st.sampled_from(["k1", "k2"]))
    def delete_coverage(self, cid: str) -> None:
        """Delete a coverage (NotFound on both when there is none)."""
        self.both(lambda uow: uow.coverages.delete(cid))

    @rule(client_id=CLIENT_IDS, note=st.sampled_from(["x", "y"]), first=st.booleans())
    def concurrent_client(self, client_id: str, note: str, first: bool) -> None:
        """Two open units put the same client (or create it); the later commit fails alike on both adapters."""
        results = []
        sqlite_units = (self.db.unit_of_work(), self.db.unit_of_work())
        memory_units = (InMemoryUnitOfWork(self.store), InMemoryUnitOfWork(self.store))
        for a, b in (sqlite_units, memory_units):
            with a, b:
                out = []
                for uow, who in ((a, "a"), (b, "b")):
                    stored = uow.clients.find(client_id)
                    base = stored or Client(id=client_id, first_name="Ada", last_name="Byron")
                    out.append(
                        _outcome(
                            lambda uow=uow, base=base, who=who: uow.clients.put(
                                attrs.evolve(base, client_file_note=note + who)
                            )
                        )
                    )
                order = (a, b) if first else (b, a)
                out.extend(_outcome(u.commit) for u in order)
                results.append(out)
        assert results[0] == results[1]

    @rule(sid=SESSION_IDS, first=st.booleans())
    def concurrent(self, sid: str, first: bool) -> None:
        """Two open units change the same session; the later commit fails alike on both adapters."""
        results = []
        sqlite_units = (self.db.unit_of_work(), self.db.unit_of_work())
        memory_units = (InMemoryUnitOfWork(self.store), InMemoryUnitOfWork(self.store))
        for a, b in (sqlite_units, memory_units):
            with a, b:
                out = []
                for uow, note in ((a, "a"), (b, "b")):
                    out.append(
                        _outcome(
                            lambda uow=uow, note=note: uow.sessions.save(
                                attrs.evolve(uow.sessions.get(sid), line_note=note)
                            )
                        )
                    )
                order = (a, b) if first else (b, a)
                out.extend(_outcome(u.commit) for u in order)
                results.append(out)
        assert results[0] == results[1]

    # -- money in -----------------------------------------------------------------------------------

    @rule(
        pid=PAYMENT_IDS,
        client_id=CLIENT_IDS,
        key=CHARGE_KEYS,
        sessions=st.lists(st.sampled_from(MONEY_SESSIONS), max_size=2, unique=True),
        at=INSTANTS,
        status=st.sampled_from(PaymentStatus),
    )
    def add_payment(
        self, *, pid: str, client_id: str, key: str | None, sessions: list[str], at: datetime, status: str
    ) -> None:
        """Record a payment (refused alike for a taken id or idempotency key)."""
        payment = _payment(pid, client_id, key=key, sessions=sessions, at=at, status=status)
        self.both(lambda uow: uow.payments.add(payment))

    @rule(
        pid=PAYMENT_IDS,
        status=st.sampled_from(PaymentStatus),
        sessions=st.lists(st.sampled_from(MONEY_SESSIONS), max_size=2, unique=True),
        off_by=st.sampled_from([0, 0, 0, -1, 1]),
    )
    def put_payment(self, pid: str, status: str, sessions: list[str], off_by: int) -> None:
        """Resolve or re-apply a stored payment, from the stored version or a wrong one."""

        def put(uow: UnitOfWork) -> Payment:
            stored = uow.payments.get(pid)
            return uow.payments.put(
                attrs.evolve(
                    stored,
                    status=status,
                    applied=[PaymentApplication(session_id=sid, amount="10.00") for sid in sessions],
                    version=stored.version + off_by,
                )
            )

        self.both(put)

    @rule(pids=st.lists(PAYMENT_IDS, min_size=2, max_size=2), key=st.sampled_from(["charge-1", "charge-2"]))
    def racing_charges(self, pids: list[str], key: str) -> None:
        """Two open units record a charge with one idempotency key; the later commit fails alike."""
        results = []
        sqlite_units = (self.db.unit_of_work(), self.db.unit_of_work())
        memory_units = (InMemoryUnitOfWork(self.store), InMemoryUnitOfWork(self.store))
        for a, b in (sqlite_units, memory_units):
            with a, b:
                out = [
                    _outcome(
                        lambda uow=uow, pid=pid: uow.payments.add(
                            _payment(pid, "c1", key=key, sessions=[], at=NOON, status="received")
                        )
                    )
                    for uow, pid in ((a, pids[0]), (b, pids[1]))
                ]
                out.extend(_outcome(u.commit) for u in (a, b))
                results.append(out)
        assert results[0] == results[1]

    @rule(
        aid=st.sampled_from(["a1", "a2", "a3"]),
        source_key=st.sampled_from(["835|T1", "835|T2"]),
        sid=st.sampled_from(MONEY_SESSIONS),
        at=INSTANTS,
    )
    def post_adjudication(self, aid: str, source_key: str, sid: str, at: datetime) -> None:
        """Post an adjudication (refused alike for a taken id or source key)."""
        adjudication = Adjudication(
            id=aid,
            claim_record_id="r1",
            client_id="c1",
            payer_id="p1",
            patient_control_number="SK1",
            status_code="1",
            charge="140.00",
            paid="100.00",
            lines=[LineAdjudication(session_id=sid, code="90834", charge="140.00", paid="100.00")],
            paid_on=DAY,
            source_key=source_key,
            posted_at=at,
        )
        self.both(lambda uow: uow.adjudications.add(adjudication))

    @rule()
    def reopen(self) -> None:
        """Close the SQLite file and open it again."""
        self.db.close()
        self.db = SqliteDatabase(self.path)

    @invariant()
    def same_answers(self) -> None:
        """Every query answers the same on SQLite and in memory."""
        answers = []
        for uow in self.units():
            with uow:
                s = uow.sessions
                answers.append(
                    (
                        s.list(),
                        s.count(),
                        [s.by_client(c) for c in ("c1", "c2")],
                        [s.last_saved_for(c) for c in ("c1", "c2")],
                        [s.by_appointment_key(k) for k in ("k1", "k2")],
                        s.between(DAY + timedelta(days=3), DAY + timedelta(days=10)),
                        [sessions_for(uow, d) for d in Destination],
                        [(c, c.version) for c in uow.coverages.list()],
                        [(c, c.version) for c in uow.clients.list()],
                        # the money queries the rules can change (each query's own answers: the contract)
                        uow.payments.list(),
                        uow.payments.for_session("s1"),
                        [uow.payments.by_idempotency_key(k) for k in ("charge-1", "charge-2")],
                        uow.payments.pending(),
                        uow.adjudications.list(),
                    )
                )
        assert answers[0] == answers[1]

    def teardown(self) -> None:
        self.db.close()
        self.folder.cleanup()


SqliteAgainstMemory.TestCase.settings = settings(settings.default, stateful_step_count=25)
TestSqliteAgainstMemory = SqliteAgainstMemory.TestCase
