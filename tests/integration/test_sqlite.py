"""The SQLite adapter: the file it writes, what it refuses to open, and round trips through a reopened file."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sessionkit import (
    BillingCode,
    Client,
    ClientSession,
    DiagnosisCode,
    Money,
    PracticeSetup,
    SessionkitError,
    testing,
)
from sessionkit.adapters.sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SqliteDatabase,
    open_database,
)
from sessionkit.builder import SessionBuilder
from sessionkit.errors import ConcurrentUpdate, DatabaseError
from sessionkit.ports import AlreadyExists, FixedClock

DAY = date(2026, 3, 2)


def _session(sid: str, **kw: object) -> ClientSession:
    fields: dict[str, object] = {"billing_code": "90834", "charge": "140.00", **kw}
    return ClientSession(id=sid, client_id="c1", date_of_service=DAY, **fields)  # type: ignore[arg-type]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_new_file_is_initialised(tmp_path: Path) -> None:
    """A missing path becomes a sessionkit database: WAL, application id, schema version, meta table."""
    path = tmp_path / "new.sqlite"
    with open_database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        with db.unit_of_work() as uow:
            assert uow.sessions.count() == 0
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT key, value FROM sessionkit_meta").fetchall())
        assert meta["application"] == "sessionkit"
        assert meta["schema_version"] == SCHEMA_VERSION
    finally:
        conn.close()


def test_an_empty_file_is_initialised(tmp_path: Path) -> None:
    """An existing empty file (0 bytes) is initialised, not refused."""
    path = tmp_path / "empty.sqlite"
    path.touch()
    with SqliteDatabase(path) as db:
        assert db.schema_version == SCHEMA_VERSION


def test_connections_wait_and_enforce_foreign_keys(tmp_path: Path) -> None:
    """A unit of work's connection has a 5 s busy timeout and foreign keys on."""
    with SqliteDatabase(tmp_path / "db.sqlite") as db, db.unit_of_work() as uow:
        conn = uow.sessions._conn
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    """Records committed, then the database closed and opened again, are all there."""
    path = tmp_path / "db.sqlite"
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
        uow.diagnoses.put(DiagnosisCode(code="F41.1", description="Generalised anxiety"))
        uow.billing_codes.put(BillingCode(code="90834", default_charge="140.00", default_minutes=45))
        uow.sessions.save(_session("s1", charge="140.10", diagnoses=["F41.1"]))
        uow.commit()
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        assert uow.clients.get("c1").last_name == "Byron"
        assert uow.diagnoses.get("F41.1").description == "Generalised anxiety"
        assert uow.billing_codes.get("90834").default_minutes == 45
        s1 = uow.sessions.get("s1")
        assert (s1.charge, s1.version, s1.date_of_service) == (Money("140.10"), 1, DAY)


def test_rows_hold_iso_dates_and_documents(tmp_path: Path) -> None:
    """The sessions table holds ISO dates, the version, the bill-to and the JSON document with its schema version."""
    path = tmp_path / "db.sqlite"
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.sessions.save(_session("s1", appointment_key="cal-1"))
        uow.commit()
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT date_of_service, appointment_key, version, bill_to, doc FROM sessions WHERE id = 's1'"
        ).fetchone()
    finally:
        conn.close()
    assert row[:4] == ("2026-03-02", "cal-1", 1, "automatic")
    doc = json.loads(row[4])
    assert (doc["schema_version"], doc["charge"], doc["version"]) == (1, "140.00", 1)


def test_a_text_file_is_refused_untouched(tmp_path: Path) -> None:
    """A file that is not SQLite raises DatabaseError database.not_sqlite and stays byte-for-byte the same."""
    path = tmp_path / "notes.txt"
    path.write_text("client notes, not a database\n" * 10)
    before = _files(tmp_path)
    with pytest.raises(DatabaseError) as info:
        SqliteDatabase(path)
    assert info.value.code == "database.not_sqlite"
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, SessionkitError)
    assert _files(tmp_path) == before


def test_a_foreign_database_is_refused_untouched(tmp_path: Path) -> None:
    """Another application's SQLite database raises database.foreign; no byte changes and no WAL files appear."""
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (id TEXT, notes TEXT)")
    conn.execute("INSERT INTO sessions VALUES ('x', 'private')")
    conn.commit()
    conn.close()
    before = _files(tmp_path)
    with pytest.raises(DatabaseError) as info:
        SqliteDatabase(path)
    assert info.value.code == "database.foreign"
    assert _files(tmp_path) == before


def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    """A file written by a newer sessionkit (higher schema version) raises database.too_new and is not changed."""
    path = tmp_path / "db.sqlite"
    SqliteDatabase(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _files(tmp_path)
    with pytest.raises(DatabaseError) as info:
        SqliteDatabase(path)
    assert info.value.code == "database.too_new"
    assert "upgrade sessionkit" in info.value.message
    assert _files(tmp_path) == before


def test_a_damaged_file_is_refused_untouched(tmp_path: Path) -> None:
    """A file with an SQLite header but garbage after it raises DatabaseError and stays the same."""
    path = tmp_path / "damaged.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    before = _files(tmp_path)
    with pytest.raises(DatabaseError) as info:
        SqliteDatabase(path)
    assert info.value.code in {"database.damaged", "database.foreign"}
    assert _files(tmp_path) == before


def test_a_closed_database_refuses_new_units(tmp_path: Path) -> None:
    """After close(), entering a unit of work raises DatabaseError database.closed."""
    db = SqliteDatabase(tmp_path / "db.sqlite")
    db.close()
    with pytest.raises(DatabaseError) as info, db.unit_of_work():
        pass
    assert info.value.code == "database.closed"


def test_a_unit_active_at_close_still_finishes(tmp_path: Path) -> None:
    """A unit of work open when the database is closed can still commit; its connection closes at the end."""
    path = tmp_path / "db.sqlite"
    db = SqliteDatabase(path)
    with db.unit_of_work() as uow:
        db.close()
        uow.sessions.save(_session("s1"))
        uow.commit()
    with SqliteDatabase(path) as again, again.unit_of_work() as uow:
        assert uow.sessions.count() == 1


def test_the_builder_takes_the_factory(tmp_path: Path) -> None:
    """SessionBuilder(db.unit_of_work, clock) starts a draft from what the database holds."""
    practice = PracticeSetup(
        name="Calm",
        npi="1234567893",
        tax_id="123456789",
        time_zone="America/New_York",
        default_billing_code="90834",
    )
    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        with db.unit_of_work() as uow:
            uow.practice.put(practice)
            uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
            uow.billing_codes.put(BillingCode(code="90834", default_charge="140.00", default_minutes=45))
            uow.commit()
        draft = SessionBuilder(db.unit_of_work, FixedClock(DAY)).start("c1")
    assert (draft.session.billing_code, draft.session.charge, draft.session.minutes) == (
        "90834",
        Money("140.00"),
        45,
    )


def test_every_field_reads_back_equal_after_reopening(tmp_path: Path) -> None:
    """Any session (money, dates, every field) saved, closed and reopened reads back equal, version + 1."""
    files = itertools.count()

    @settings(max_examples=25)
    @given(st.lists(testing.sessions().map(_fresh), min_size=1, max_size=3, unique_by=lambda s: s.id))
    def check(sessions: list[ClientSession]) -> None:
        keys = [s.appointment_key for s in sessions if s.appointment_key is not None]
        assume(len(keys) == len(set(keys)))
        path = tmp_path / f"roundtrip-{next(files)}.sqlite"
        with SqliteDatabase(path) as db, db.unit_of_work() as uow:
            uow.sessions.save_many(sessions)
            uow.commit()
        with SqliteDatabase(path) as db, db.unit_of_work() as uow:
            for s in sessions:
                back = uow.sessions.get(s.id)
                assert back == attrs.evolve(s, version=1)
                assert back.charge.amount == s.charge.amount
                assert back.paid_at_session == s.paid_at_session
                assert back.total_charge == s.total_charge
                assert back.date_of_service == s.date_of_service
                assert isinstance(back.units, Decimal)

    check()


def _fresh(s: ClientSession) -> ClientSession:
    return attrs.evolve(s, version=0)


def test_session_queries_search_an_index(tmp_path: Path) -> None:
    """find, by_appointment_key, last_saved_for, by_client and between each search an index (no table scan)."""
    path = tmp_path / "db.sqlite"
    with SqliteDatabase(path) as db:
        with db.unit_of_work() as uow:
            uow.sessions.save_many(
                [
                    _session("s1", appointment_key="cal-1"),
                    attrs.evolve(_session("s2"), client_id="c2"),
                    _session("s3"),
                ]
            )
            uow.commit()
        with db.unit_of_work() as uow:
            conn = uow.sessions._conn
            statements: list[str] = []
            conn.set_trace_callback(statements.append)
            try:
                one = (
                    uow.sessions.find("s1"),
                    uow.sessions.by_appointment_key("cal-1"),
                    uow.sessions.last_saved_for("c1"),
                )
                many = (uow.sessions.by_client("c1"), uow.sessions.between(DAY, DAY))
            finally:
                conn.set_trace_callback(None)
            plans = {sql: [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)] for sql in statements}
    assert [None if s is None else s.id for s in one] == ["s1", "s1", "s3"]
    assert [[s.id for s in group] for group in many] == [["s1", "s3"], ["s1", "s2", "s3"]]
    assert len(plans) == 5
    for sql, plan in plans.items():
        assert any(step.startswith("SEARCH sessions USING") for step in plan), (sql, plan)
        assert not any(step.startswith("SCAN sessions") for step in plan), (sql, plan)
    (last_plan,) = [plan for sql, plan in plans.items() if "save_seq DESC" in sql]
    assert last_plan == ["SEARCH sessions USING INDEX sessions_client (client_id=?)"]  # no sort step


def test_a_commit_conflicting_on_an_id_and_a_key_is_a_version_conflict(tmp_path: Path) -> None:
    """A taken id outranks a taken key (as before schema 2): ConcurrentUpdate, and none of the rows is written."""
    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        a, b = db.unit_of_work(), db.unit_of_work()
        with a, b:
            b.sessions.save_many([_session("n1"), _session("b1", appointment_key="k1"), _session("s1")])
            a.sessions.save_many([_session("a1", appointment_key="k1"), _session("s1", line_note="a")])
            a.commit()
            with pytest.raises(ConcurrentUpdate) as info:
                b.commit()
            assert info.value.code == "session.version"
        with db.unit_of_work() as uow:
            assert [(s.id, s.line_note) for s in uow.sessions.list()] == [("a1", ""), ("s1", "a")]
            assert [s.id for s in uow.sessions.by_client("c1")] == ["a1", "s1"]


def test_a_commit_conflicting_only_on_a_key_is_key_taken(tmp_path: Path) -> None:
    """A key taken meanwhile, after new sessions in the same commit, raises AlreadyExists and writes none of them."""
    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        a, b = db.unit_of_work(), db.unit_of_work()
        with a, b:
            b.sessions.save_many([_session("n1"), _session("n2"), _session("b1", appointment_key="k1")])
            a.sessions.save(_session("a1", appointment_key="k1"))
            a.commit()
            with pytest.raises(AlreadyExists) as info:
                b.commit()
            assert info.value.code == "session.appointment_key_taken"
        with db.unit_of_work() as uow:
            assert [s.id for s in uow.sessions.list()] == ["a1"]


def _session_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' ORDER BY name"
    ).fetchall()


def test_a_bulk_insert_rebuilds_the_lookup_indexes_as_they_were(tmp_path: Path) -> None:
    """A large first save into a file builds the lookup indexes after the rows (dropped before them):
    the same indexes, with the same SQL, come back, every row is in them, and the planner uses them."""
    from sessionkit.adapters.sqlite.repositories import _WIDE_CACHE_FROM

    n = _WIDE_CACHE_FROM + 3
    batch = [attrs.evolve(_session(f"s{i:06d}"), client_id=f"c{i % 11}") for i in range(n)]
    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        with db.unit_of_work() as uow:
            before = _session_indexes(uow.sessions._conn)
            uow.sessions.save_many(batch)
            uow.commit()
        with db.unit_of_work() as uow:
            conn = uow.sessions._conn
            assert _session_indexes(conn) == before
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            plan = " ".join(
                r[3]
                for r in conn.execute("EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE client_id = 'c3'")
            )
            assert "INDEX sessions_client" in plan
            assert [s.id for s in uow.sessions.by_client("c3")] == [
                s.id for s in batch if s.client_id == "c3"
            ]


def test_a_refused_bulk_insert_keeps_the_lookup_indexes(tmp_path: Path) -> None:
    """A large insert refused on a taken appointment key (after the lookup indexes were dropped for it)
    writes nothing and leaves the indexes as they were."""
    from sessionkit.adapters.sqlite.repositories import _WIDE_CACHE_FROM

    n = _WIDE_CACHE_FROM + 3
    with SqliteDatabase(tmp_path / "db.sqlite") as db:
        a, b = db.unit_of_work(), db.unit_of_work()
        with a, b:
            before = _session_indexes(a.sessions._conn)
            b.sessions.save_many(
                [*(_session(f"n{i:06d}") for i in range(n)), _session("b1", appointment_key="k1")]
            )
            a.sessions.save(_session("a1", appointment_key="k1"))
            a.commit()
            with pytest.raises(AlreadyExists):
                b.commit()
        with db.unit_of_work() as uow:
            assert [s.id for s in uow.sessions.list()] == ["a1"]
            assert _session_indexes(uow.sessions._conn) == before
            assert uow.sessions._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_unit_that_committed_into_an_empty_file_sees_what_it_committed(tmp_path: Path) -> None:
    """After a commit the unit reads a fresh snapshot: a stale version or a taken key is refused."""
    with SqliteDatabase(tmp_path / "db.sqlite") as db, db.unit_of_work() as uow:
        saved = uow.sessions.save(_session("s1", appointment_key="k1"))
        uow.commit()
        with pytest.raises(ConcurrentUpdate):
            uow.sessions.save(_session("s1"))  # version 0: the file has version 1 now
        with pytest.raises(AlreadyExists):
            uow.sessions.save(_session("s2", appointment_key="k1"))
        assert uow.sessions.save(saved).version == 2


def test_a_large_save_commits_every_session_and_gives_back_the_page_cache(tmp_path: Path) -> None:
    """A commit of more sessions than the wide-cache threshold stores each one (version 1, in save
    order, findable by date and by client), and the connection's page cache is back to its size after."""
    from sessionkit.adapters.sqlite.repositories import _WIDE_CACHE_FROM

    n = _WIDE_CACHE_FROM + 7
    days = [date(2026, 1, 1 + i % 28) for i in range(n)]
    batch = [
        ClientSession(
            id=f"s{i:06d}", client_id=f"c{i % 13}", date_of_service=days[i], billing_code="90834", charge="1"
        )
        for i in range(n)
    ]
    with open_database(tmp_path / "big.sqlite") as db:
        with db.unit_of_work() as uow:
            saved = uow.sessions.save_many(batch)
            uow.commit()
            cache = uow.sessions._conn.execute("PRAGMA cache_size").fetchone()[0]
        assert cache == -2000  # SQLite's default, given back after the insert
        assert [s.version for s in saved] == [1] * n
        with db.unit_of_work() as uow:
            assert uow.sessions.count() == n
            assert [s.id for s in uow.sessions.by_client("c5")] == sorted(
                (s.id for s in batch if s.client_id == "c5"), key=lambda i: (days[int(i[1:])], i)
            )
            assert len(uow.sessions.between(date(2026, 1, 3), date(2026, 1, 3))) == sum(
                1 for d in days if d == date(2026, 1, 3)
            )
            assert uow.sessions.last_saved_for("c0") == saved[n - 1 - (n - 1) % 13]
            conn = uow.sessions._conn
            rows = conn.execute("SELECT id FROM sessions ORDER BY save_seq").fetchall()
            assert [r[0] for r in rows] == [s.id for s in batch]
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
