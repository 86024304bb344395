"""Upgrading a version-1 SQLite file (written by the schema of ``MIGRATIONS[0]``) to the current schema."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from random import Random

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sessionkit import AddOnLine, ClientSession, Money, serialization, testing
from sessionkit.adapters.sqlite import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, open_database
from sessionkit.adapters.sqlite.ledger import at_session_payment, at_session_payment_id
from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine
from sessionkit.errors import AlreadyExists, ConcurrentUpdate

DAY = date(2026, 3, 2)


def _session(sid: str, client_id: str, day: date, **kw: object) -> ClientSession:
    fields: dict[str, object] = {"billing_code": "90834", "charge": "140.00", "version": 1, **kw}
    return ClientSession(id=sid, client_id=client_id, date_of_service=day, **fields)  # type: ignore[arg-type]


def _write_v1(path: Path, rows: Sequence[tuple[int, ClientSession]]) -> None:
    """A file as sessionkit's schema version 1 wrote it: its statements, pragmas, meta rows and session rows.

    ``rows`` are (save sequence, stored session); the rows use the version-1
    column order (id, client_id, date_of_service, appointment_key, version,
    save_seq, bill_to, doc).
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO sessionkit_meta (key, value) VALUES ('schema_version', 1)")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 1")
        conn.executemany(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.id,
                    s.client_id,
                    s.date_of_service.isoformat(),
                    s.appointment_key,
                    s.version,
                    seq,
                    s.bill_to.value,
                    serialization.dumps(s),
                )
                for seq, s in rows
            ],
        )
        next_seq = max((seq for seq, _ in rows), default=0) + 1
        conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'next_seq'", (next_seq,))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _schema(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return {
            name: sql or ""
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY name"
            )
        }
    finally:
        conn.close()


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# Saved in this order (save sequence 3, 5, 8, 9: a version-1 file may have gaps).
OLD = [
    (3, _session("s-b", "c1", date(2026, 3, 4), appointment_key="cal-1")),
    (5, _session("s-a", "c1", DAY, version=4, comments="moved once")),
    (8, _session("s-c", "c2", DAY, bill_to="client", appointment_key="cal-2")),
    (9, _session("s-d", "c1", date(2026, 2, 27), version=2)),
]


def test_the_current_schema_is_version_5() -> None:
    """SCHEMA_VERSION is 5 and MIGRATIONS holds one step list per version (1 kept as it was)."""
    assert SCHEMA_VERSION == 5
    assert len(MIGRATIONS) == 5
    assert any("save_seq INTEGER NOT NULL" in statement for statement in MIGRATIONS[0])


def test_a_version_1_file_opens_as_the_current_version(tmp_path: Path) -> None:
    """open_database upgrades a version-1 file: user_version, the meta row and the new sessions table."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    assert "sessions_client_seq" in _schema(path)
    with open_database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
    assert _raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _raw(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert _raw(path, "SELECT value FROM sessionkit_meta WHERE key = 'schema_version'") == [(SCHEMA_VERSION,)]
    schema = _schema(path)
    assert sorted(schema) == [
        "sessions",
        "sessions_appointment_key",
        "sessions_client",
        "sessions_date",
        "sessions_id",
    ]
    assert "save_seq INTEGER PRIMARY KEY" in schema["sessions"]


def test_every_row_keeps_its_save_sequence_columns_and_document(tmp_path: Path) -> None:
    """The upgrade copies every row: save sequence, id, indexed columns and document, unchanged."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    columns = "save_seq, id, client_id, date_of_service, appointment_key, version, bill_to, doc"
    before = _raw(path, f"SELECT {columns} FROM sessions ORDER BY save_seq")
    open_database(path).close()
    after = _raw(path, f"SELECT {columns} FROM sessions ORDER BY save_seq")
    assert after == before
    assert [row[0] for row in after] == [3, 5, 8, 9]
    assert _raw(path, "SELECT value FROM sessionkit_meta WHERE key = 'next_seq'") == [(10,)]


def test_sessions_read_back_equal_after_the_upgrade(tmp_path: Path) -> None:
    """Every query answers for the upgraded file as for the version-1 data: get, by_client, between, keys."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    by_id = {s.id: s for _, s in OLD}
    with open_database(path) as db, db.unit_of_work() as uow:
        repo = uow.sessions
        assert {sid: repo.get(sid) for sid in by_id} == by_id
        assert repo.count() == 4
        assert [s.id for s in repo.list()] == ["s-d", "s-a", "s-c", "s-b"]
        assert [s.id for s in repo.by_client("c1")] == ["s-d", "s-a", "s-b"]
        assert [s.id for s in repo.between(DAY, date(2026, 3, 3))] == ["s-a", "s-c"]
        assert repo.by_appointment_key("cal-2") == by_id["s-c"]
        assert repo.by_appointment_key("cal-9") is None
        assert repo.find("s-zz") is None


def test_last_saved_for_keeps_the_save_order(tmp_path: Path) -> None:
    """After the upgrade, last_saved_for is still the session with the highest version-1 save sequence."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    with open_database(path) as db, db.unit_of_work() as uow:
        last_c1 = uow.sessions.last_saved_for("c1")
        last_c2 = uow.sessions.last_saved_for("c2")
        assert (last_c1.id if last_c1 else None, last_c2.id if last_c2 else None) == ("s-d", "s-c")
        assert uow.sessions.last_saved_for("c3") is None


def test_the_upgraded_file_takes_new_saves(tmp_path: Path) -> None:
    """After the upgrade, saves continue the sequence, versions are still checked and keys still unique."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    with open_database(path) as db:
        with db.unit_of_work() as uow:
            updated = uow.sessions.save(attrs.evolve(uow.sessions.get("s-b"), comments="late"))
            added = uow.sessions.save(_session("s-e", "c2", DAY, version=0))
            uow.commit()
        assert (updated.version, added.version) == (2, 1)
        with db.unit_of_work() as uow:
            assert uow.sessions.last_saved_for("c1") == updated
            assert uow.sessions.last_saved_for("c2") == added
            assert uow.sessions.count() == 5
            with pytest.raises(ConcurrentUpdate):
                uow.sessions.save(_session("s-a", "c1", DAY, version=3))
    seqs = {row[0]: row[1] for row in _raw(path, "SELECT id, save_seq FROM sessions")}
    assert (seqs["s-b"], seqs["s-e"], seqs["s-a"]) == (10, 11, 5)


def test_opening_again_changes_nothing(tmp_path: Path) -> None:
    """A file upgraded once is not upgraded again: reopening leaves its rows and schema as they are."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, OLD)
    open_database(path).close()
    schema = _schema(path)
    rows = _raw(path, "SELECT * FROM sessions ORDER BY save_seq")
    with open_database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
    assert (_schema(path), _raw(path, "SELECT * FROM sessions ORDER BY save_seq")) == (schema, rows)


def test_an_empty_version_1_file_upgrades(tmp_path: Path) -> None:
    """A version-1 file without sessions upgrades and starts the save sequence where it was."""
    path = tmp_path / "v1.sqlite"
    _write_v1(path, [])
    with open_database(path) as db:
        with db.unit_of_work() as uow:
            assert uow.sessions.count() == 0
            uow.sessions.save(_session("s1", "c1", DAY, version=0))
            uow.commit()
        assert db.schema_version == SCHEMA_VERSION
    assert _raw(path, "SELECT save_seq, id FROM sessions") == [(1, "s1")]


def test_any_sessions_survive_the_upgrade(tmp_path: Path) -> None:
    """Any version-1 sessions, in any save order, read back equal and keep last_saved_for per client."""
    files = itertools.count()

    @settings(max_examples=20)
    @given(
        st.lists(
            testing.sessions(client_ids=["c1", "c2", "c3"]), min_size=1, max_size=6, unique_by=lambda s: s.id
        ),
        st.randoms(use_true_random=False),
    )
    def check(sessions: list[ClientSession], random: Random) -> None:
        keys = [s.appointment_key for s in sessions if s.appointment_key is not None]
        assume(len(keys) == len(set(keys)))
        seqs = sorted(random.sample(range(1, 1000), len(sessions)))
        path = tmp_path / f"v1-{next(files)}.sqlite"
        _write_v1(path, list(zip(seqs, sessions, strict=True)))
        last = {s.client_id: s for s in sessions}  # saved in list order
        with open_database(path) as db, db.unit_of_work() as uow:
            assert db.schema_version == SCHEMA_VERSION
            assert uow.sessions.count() == len(sessions)
            for s in sessions:
                assert uow.sessions.get(s.id) == s
                if s.appointment_key is not None:
                    assert uow.sessions.by_appointment_key(s.appointment_key) == s
            for client_id, s in last.items():
                assert uow.sessions.last_saved_for(client_id) == s
            assert uow.sessions.list() == sorted(sessions, key=lambda s: (s.date_of_service, s.id))
            for s in sessions:  # schema 5: paid at session is the sum of what at-session payments apply
                ledger = uow.payments.for_session(s.id)
                assert all(p.at_session and p.counts for p in ledger)
                assert sum((p.applied_to(s.id) for p in ledger), Decimal(0)) == s.paid_at_session.amount
                assert len(ledger) == (1 if s.paid_at_session.amount else 0)
            assert len(uow.payments.list()) == sum(1 for s in sessions if s.paid_at_session.amount)

    check()


# -- schema 3: one session per date of service ------------------------------------------------------


def _write_legacy(path: Path, rows: Sequence[tuple[int, ClientSession, Sequence[date]]]) -> None:
    """A version-1 file whose session documents carry ``additional_dates`` as earlier releases wrote them."""
    _write_v1(path, [(seq, s) for seq, s, _ in rows])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for seq, s, extra in rows:
            doc = serialization.to_dict(s)
            doc["additional_dates"] = [d.isoformat() for d in extra]
            conn.execute("UPDATE sessions SET doc = ? WHERE save_seq = ?", (json.dumps(doc), seq))
    finally:
        conn.close()


def test_sessions_with_additional_dates_are_split_one_per_date(tmp_path: Path) -> None:
    """Schema 3 splits a stored multi-date session into one session per date; nothing is lost.

    The first keeps its id, key, add-ons and payment; each further date is a new session (an id
    derived from the original's and the date) with the same details, appended in save order.
    """
    path = tmp_path / "legacy.sqlite"
    multi = _session(
        "s-m",
        "c1",
        DAY,
        appointment_key="cal-9",
        paid_at_session="25.00",
        add_ons=[AddOnLine(code="90785", charge="20.00")],
        diagnoses=["F41.1"],
    )
    plain = _session("s-p", "c2", DAY)
    _write_legacy(path, [(1, multi, [date(2026, 3, 9), date(2026, 3, 16)]), (2, plain, [])])
    with open_database(path) as db, db.unit_of_work() as uow:
        assert uow.sessions.count() == 4
        split = uow.sessions.by_client("c1")
        assert [s.date_of_service for s in split] == [DAY, date(2026, 3, 9), date(2026, 3, 16)]
        first, *others = split
        assert first == multi
        assert [s.appointment_key for s in others] == [None, None]
        assert [s.paid_at_session for s in others] == [Money(0), Money(0)]
        assert [s.add_ons for s in others] == [(), ()]
        assert all(
            (s.billing_code, s.charge, s.diagnoses, s.version)
            == (multi.billing_code, multi.charge, multi.diagnoses, multi.version)
            for s in others
        )
        assert len({s.id for s in split}) == 3
        assert uow.sessions.get("s-p") == plain
        assert [s.id for s in uow.sessions.between(date(2026, 3, 9), date(2026, 3, 9))] == [others[0].id]
    ids = sorted(r[0] for r in _raw(path, "SELECT id FROM sessions"))
    again = tmp_path / "again.sqlite"
    _write_legacy(again, [(1, multi, [date(2026, 3, 9), date(2026, 3, 16)]), (2, plain, [])])
    open_database(again).close()
    assert sorted(r[0] for r in _raw(again, "SELECT id FROM sessions")) == ids  # the same ids everywhere
    before = _raw(path, "SELECT save_seq, id, doc FROM sessions ORDER BY save_seq")
    open_database(path).close()
    assert _raw(path, "SELECT save_seq, id, doc FROM sessions ORDER BY save_seq") == before


# -- schema 5: money in, one live claim per session and coverage ----------------------------------------


def _claim(rid: str, session_ids: Sequence[str], coverage_id: str) -> ClaimRecord:
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


def _write_at(path: Path, version: int, rows: Sequence[tuple[int, ClientSession]]) -> None:
    """A file of schema ``version``: written as version 1 did, then upgraded step by step as that release did.

    From version 4 on, the file also holds claim record ``r1`` (coverage
    ``k1``) with session ``s-paid`` on it, live, as schema 4 stored it.
    """
    _write_v1(path, rows)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for number in range(1, version):
            for step in MIGRATIONS[number]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
        if version >= 4:
            record = attrs.evolve(_claim("r1", ["s-paid"], "k1"), version=1)
            conn.execute(
                "INSERT INTO claim_records (id, client_id, created_at, version, doc) VALUES (?, ?, ?, ?, ?)",
                (record.id, record.client_id, record.created_at.isoformat(), 1, serialization.dumps(record)),
            )
            conn.execute(
                "INSERT INTO claim_sessions (session_id, record_id, live) VALUES ('s-paid', 'r1', 1)"
            )
        conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'schema_version'", (version,))
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    finally:
        conn.close()


PAID = [
    (1, _session("s-paid", "c1", DAY, paid_at_session="25.50")),
    (2, _session("s-none", "c1", DAY)),
    (3, _session("s-other", "c2", date(2026, 2, 27), paid_at_session="0.01", status="eob_posted")),
]


@pytest.mark.parametrize("start", [1, 2, 3, 4])
def test_paid_at_session_becomes_one_payment_from_each_earlier_version(tmp_path: Path, start: int) -> None:
    """From every earlier version: each session paid at the session gets one at-session payment.

    Method "other", received, applied wholly to the session, received at the
    date of service at 00:00 UTC, version 1, id from the session id (the
    same in every copy of the file); a session with nothing paid gets none,
    and the sessions are untouched.
    """
    path = tmp_path / f"v{start}.sqlite"
    _write_at(path, start, PAID)
    with open_database(path) as db, db.unit_of_work() as uow:
        assert db.schema_version == SCHEMA_VERSION
        paid = at_session_payment("s-paid", "c1", DAY, Decimal("25.50"))
        other = at_session_payment("s-other", "c2", date(2026, 2, 27), Decimal("0.01"))
        assert (paid.id, other.id) == (at_session_payment_id("s-paid"), at_session_payment_id("s-other"))
        assert paid.id == "pas" + hashlib.sha256(b"s-paid").hexdigest()[:29]
        assert (paid.received_at, paid.version, paid.method.value) == (
            datetime(2026, 3, 2, tzinfo=timezone.utc),
            1,
            "other",
        )
        assert uow.payments.list() == [other, paid]
        assert uow.payments.for_session("s-paid") == [paid]
        assert uow.payments.for_session("s-none") == []
        assert uow.payments.for_client("c2") == [other]
        assert uow.payments.pending() == []
        for _, session in PAID:
            assert uow.sessions.get(session.id) == session
        stored = uow.payments.put(
            attrs.evolve(paid, reference="receipt 12")
        )  # a migrated payment is a payment
        assert stored.version == 2
        uow.commit()
    again = tmp_path / f"again-v{start}.sqlite"
    _write_at(again, start, PAID)
    open_database(again).close()
    ledger = (
        "SELECT id, client_id, received_at, status, idempotency_key, version, doc FROM payments ORDER BY id"
    )
    assert _raw(again, ledger)[0] == (
        other.id,
        "c2",
        "2026-02-27T00:00:00.000000",
        "received",
        None,
        1,
        serialization.dumps(other),
    )
    assert len(_raw(again, ledger)) == 2
    assert _raw(again, "SELECT * FROM payment_sessions ORDER BY session_id") == [
        ("s-other", other.id),
        ("s-paid", paid.id),
    ]


def test_a_live_claim_of_schema_4_holds_its_session_for_its_coverage_only(tmp_path: Path) -> None:
    """Upgraded, a schema-4 live claim keeps its coverage: a secondary claim is accepted, a second primary refused."""
    path = tmp_path / "v4.sqlite"
    _write_at(path, 4, PAID)
    assert _raw(path, "SELECT session_id, record_id, live FROM claim_sessions") == [("s-paid", "r1", 1)]
    with open_database(path) as db:
        assert _raw(path, "SELECT session_id, record_id, live, coverage_id FROM claim_sessions") == [
            ("s-paid", "r1", 1, "k1")
        ]
        with db.unit_of_work() as uow:
            assert uow.claim_records.live_session_ids() == {"s-paid"}
            uow.claim_records.add(_claim("r2", ["s-paid"], "k2"))
            uow.commit()
            uow.claim_records.add(_claim("r3", ["s-paid"], "k1"))
            with pytest.raises(AlreadyExists) as caught:
                uow.commit()
            assert caught.value.code == "claim_record.session_billed"
            assert [r.id for r in uow.claim_records.for_session("s-paid")] == ["r1", "r2"]


def test_a_file_of_more_sessions_than_one_batch_gets_its_whole_ledger(tmp_path: Path) -> None:
    """The ledger is made in batches: every paid session of a file larger than one batch gets its payment."""
    rows = [
        (seq, _session(f"s{seq:05d}", f"c{seq % 3}", DAY, paid_at_session="0" if seq % 4 == 0 else "12.00"))
        for seq in range(1, 5104)
    ]
    path = tmp_path / "large-v4.sqlite"
    _write_at(path, 4, rows)
    open_database(path).close()
    paid = sorted(s.id for _, s in rows if s.paid_at_session.amount)
    assert len(paid) == 3828
    found = _raw(path, "SELECT session_id, payment_id FROM payment_sessions ORDER BY session_id")
    assert found == [(sid, at_session_payment_id(sid)) for sid in paid]
    assert _raw(path, "SELECT count(*), sum(version) FROM payments") == [(3828, 3828)]
