"""The PostgreSQL adapter on a real server: practices kept apart by the server, schema versions, a restart."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import attrs
import pytest

if not os.environ.get("CI"):  # under CI a missing extra fails (in postgres_dsn), never skips
    pytest.importorskip("psycopg")

import psycopg
from psycopg import errors as pg_errors

from sessionkit import Client, ClientSession
from sessionkit.adapters.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresDatabase, upgrade
from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine, ClaimStatus, InvoiceLine, InvoiceRecord
from sessionkit.errors import AlreadyExists, ConcurrentUpdate, DatabaseError
from sessionkit.money import Money


def _session(sid: str, **kw: object) -> ClientSession:
    fields: dict[str, object] = {"client_id": "c1", "billing_code": "90834", "charge": "140", **kw}
    return ClientSession(id=sid, date_of_service=date(2026, 3, 2), **fields)  # type: ignore[arg-type]


@pytest.fixture
def db(postgres_dsn: str) -> Iterator[PostgresDatabase]:
    """The test database, upgraded and opened."""
    upgrade(postgres_dsn)
    with PostgresDatabase(postgres_dsn) as opened:
        yield opened


@pytest.fixture
def two_practices(db: PostgresDatabase) -> tuple[str, str]:
    """Practices A and B, each with session s1 (appointment key k1) and client c1."""
    a, b = (f"{name}-{uuid.uuid4().hex[:10]}" for name in "ab")
    for practice, note in ((a, "note of a"), (b, "note of b")):
        with db.unit_of_work(practice) as uow:
            uow.sessions.save(_session("s1", appointment_key="k1", line_note=note))
            uow.clients.put(Client(id="c1", first_name="Ada", last_name=note))
            uow.commit()
    return a, b


def test_raw_sql_in_a_unit_of_practice_a_cannot_read_practice_b(
    db: PostgresDatabase, two_practices: tuple[str, str]
) -> None:
    """A raw query naming practice B, or naming no practice, run in A's unit returns only A's rows."""
    a, b = two_practices
    with db.unit_of_work(a) as uow:
        conn = uow.connection
        assert conn.execute("SELECT count(*) FROM sessions WHERE practice_id = %s", (b,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM clients WHERE practice_id = %s", (b,)).fetchone() == (0,)
        assert conn.execute("SELECT DISTINCT practice_id FROM sessions").fetchall() == [(a,)]
        assert conn.execute("SELECT doc->>'line_note' FROM sessions").fetchall() == [("note of a",)]
        assert uow.sessions.get("s1").line_note == "note of a"
    with db.unit_of_work(b) as uow:
        assert uow.sessions.by_appointment_key("k1").line_note == "note of b"  # type: ignore[union-attr]
        assert uow.clients.get("c1").last_name == "note of b"


def test_practice_a_cannot_write_a_row_of_practice_b(
    db: PostgresDatabase, two_practices: tuple[str, str]
) -> None:
    """Inserting a row for B, or moving A's row to B, from A's unit is refused by the policy; B's rows stay."""
    a, b = two_practices
    with db.unit_of_work(a) as uow:
        conn = uow.connection
        with pytest.raises(pg_errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO clients (practice_id, id, version, doc) VALUES (%s, 'c9', 1, '{}')", (b,)
            )
    with db.unit_of_work(a) as uow, pytest.raises(pg_errors.InsufficientPrivilege):
        uow.connection.execute("UPDATE sessions SET practice_id = %s", (b,))
    with db.unit_of_work(a) as uow:
        assert uow.connection.execute("DELETE FROM sessions WHERE practice_id = %s", (b,)).rowcount == 0
        uow.connection.execute("ROLLBACK")
    with db.unit_of_work(b) as uow:
        assert [s.id for s in uow.sessions.list()] == ["s1"]
        assert uow.sessions.count() == 1


def test_a_connection_bound_to_no_practice_sees_nothing(
    postgres_dsn: str, two_practices: tuple[str, str]
) -> None:
    """A plain connection of the application's role, with no practice set, reads no row at all."""
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("SET search_path TO sessionkit")
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM diagnoses").fetchone() == (0,)


def test_control_numbers_are_per_practice(db: PostgresDatabase, two_practices: tuple[str, str]) -> None:
    """Each practice's sequences start at 1 and never hand out a number twice."""
    a, b = two_practices
    with db.unit_of_work(a) as uow:
        assert list(uow.control_numbers.allocate("claim", 3)) == [1, 2, 3]
        uow.rollback()
        assert list(uow.control_numbers.allocate("claim")) == [4]
    with db.unit_of_work(b) as uow:
        assert list(uow.control_numbers.allocate("claim", 2)) == [1, 2]


def test_a_role_that_bypasses_row_security_is_refused(postgres_dsn: str) -> None:
    """Opening the database as a superuser (who would see every practice) raises database.bypasses_rls."""
    superuser = psycopg.conninfo.make_conninfo(postgres_dsn, user="postgres")
    try:
        psycopg.connect(superuser).close()
    except psycopg.OperationalError:
        pytest.skip("no superuser login on this server")
    upgrade(postgres_dsn)
    with pytest.raises(DatabaseError) as caught:
        PostgresDatabase(superuser)
    assert caught.value.code == "database.bypasses_rls"


def test_the_practice_id_is_checked(db: PostgresDatabase) -> None:
    """An empty practice id is refused before any query."""
    with pytest.raises(ValueError, match="practice_id"):
        db.unit_of_work("  ")


# schema versions


@pytest.fixture
def schema(postgres_dsn: str) -> Iterator[str]:
    """A PostgreSQL schema no test uses (dropped afterwards)."""
    name = f"sk_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def _catalog(dsn: str, schema: str) -> list[tuple[object, ...]]:
    """Every column, index and policy of ``schema``."""
    with psycopg.connect(dsn) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name"
            " FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, replace(indexdef, %s, '') FROM pg_indexes WHERE schemaname = %s ORDER BY 1",
            (schema + ".", schema),
        ).fetchall()
        policies = conn.execute(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies WHERE schemaname = %s ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        forced = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE nspname = %s AND relkind = 'r' ORDER BY 1",
            (schema,),
        ).fetchall()
    return [*columns, *indexes, *policies, *forced]


def test_an_older_schema_is_refused_until_upgraded(postgres_dsn: str, schema: str) -> None:
    """An empty or older schema raises database.upgrade_needed naming the command; nothing is created by opening."""
    with pytest.raises(DatabaseError) as caught:
        PostgresDatabase(postgres_dsn, schema=schema)
    assert caught.value.code == "database.upgrade_needed"
    assert "sessionkit db upgrade --dsn" in str(caught.value)
    assert _catalog(postgres_dsn, schema) == []
    assert upgrade(postgres_dsn, schema=schema, to=1) == (0, 1)
    with pytest.raises(DatabaseError) as caught:
        PostgresDatabase(postgres_dsn, schema=schema)
    assert caught.value.code == "database.upgrade_needed"


@pytest.mark.parametrize("start", range(SCHEMA_VERSION))
def test_an_upgrade_from_each_earlier_version_keeps_the_data(
    postgres_dsn: str, schema: str, start: int
) -> None:
    """From every earlier version: the schema ends as a fresh one, and rows written before are read after."""
    assert upgrade(postgres_dsn, schema=schema, to=start) == (0, start)
    if start >= 1:  # a client of practice p, written as version 1 stored it
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(f"SET search_path TO {schema}")
            conn.execute("SELECT set_config('sessionkit.practice_id', 'p', true)")
            conn.execute(
                "INSERT INTO clients (id, version, doc) VALUES ('c1', 1, %s)",
                (
                    '{"schema_version": 1, "id": "c1", "first_name": "Ada", "last_name": "Byron", "version": 1}',
                ),
            )
    assert upgrade(postgres_dsn, schema=schema) == (start, SCHEMA_VERSION)
    fresh = f"{schema}_fresh"
    try:
        upgrade(postgres_dsn, schema=fresh)
        assert _catalog(postgres_dsn, schema) == [
            tuple(str(v).replace(fresh, schema) if isinstance(v, str) else v for v in row)
            for row in _catalog(postgres_dsn, fresh)
        ]
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {fresh} CASCADE")
    with PostgresDatabase(postgres_dsn, schema=schema) as db, db.unit_of_work("p") as uow:
        assert db.schema_version == SCHEMA_VERSION
        assert [c.last_name for c in uow.clients.list()] == (["Byron"] if start >= 1 else [])


def test_a_newer_schema_is_refused(postgres_dsn: str, schema: str) -> None:
    """A schema written by a newer sessionkit raises database.too_new on opening and on upgrading."""
    upgrade(postgres_dsn, schema=schema)
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute(f"UPDATE {schema}.sessionkit_meta SET value = %s", (str(SCHEMA_VERSION + 1),))
    for attempt in (
        lambda: PostgresDatabase(postgres_dsn, schema=schema),
        lambda: upgrade(postgres_dsn, schema=schema),
    ):
        with pytest.raises(DatabaseError) as caught:
            attempt()
        assert caught.value.code == "database.too_new"


def test_upgrading_twice_changes_nothing(postgres_dsn: str, schema: str) -> None:
    """A second upgrade finds the schema current and reports (version, version)."""
    assert upgrade(postgres_dsn, schema=schema) == (0, SCHEMA_VERSION)
    assert upgrade(postgres_dsn, schema=schema) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert len(MIGRATIONS) == SCHEMA_VERSION


# the server going away


def test_a_server_restart_in_the_middle_of_a_unit_loses_it_whole(
    own_postgres: tuple[str, Callable[[], None]],
) -> None:
    """Sessions saved in a unit when the server restarts: the commit raises database.unavailable, none is kept, the unit goes on."""
    dsn, restart = own_postgres  # a server of this test alone: the restart breaks no test beside it
    upgrade(dsn)
    practice = f"restart-{uuid.uuid4().hex[:10]}"
    with PostgresDatabase(dsn) as db:
        uow = db.unit_of_work(practice)
        with uow:
            uow.sessions.save_many([_session(f"s{i}") for i in range(100)])
            restart()
            with pytest.raises(DatabaseError) as caught:
                uow.commit()
            assert caught.value.code == "database.unavailable"
            assert uow.sessions.count() == 0
            uow.sessions.save(_session("after"))
            uow.commit()
        with db.unit_of_work(practice) as fresh:
            assert [s.id for s in fresh.sessions.list()] == ["after"]


def test_sessionkit_db_upgrade_creates_then_finds_nothing_to_do(
    postgres_dsn: str, schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sessionkit db upgrade --dsn` creates the schema, says so, and a second run has nothing to do."""
    from sessionkit.cli import main

    assert main(["db", "upgrade", "--dsn", postgres_dsn, "--schema", schema]) == 0
    assert capsys.readouterr().out == f"schema {schema} upgraded from version 0 to {SCHEMA_VERSION}\n"
    assert main(["db", "upgrade", "--dsn", postgres_dsn, "--schema", schema]) == 0
    assert capsys.readouterr().out == f"schema {schema} is at version {SCHEMA_VERSION}: nothing to do\n"
    with PostgresDatabase(postgres_dsn, schema=schema) as db:
        assert db.schema_version == SCHEMA_VERSION


def test_sessionkit_db_upgrade_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    """No server at the DSN: exit status 2 and database.unreachable, without the DSN in the message."""
    from sessionkit.cli import main

    assert main(["db", "upgrade", "--dsn", "postgresql://nobody:secret@127.0.0.1:1/none"]) == 2
    err = capsys.readouterr().err
    assert "database.unreachable" in err
    assert "secret" not in err


# what was billed


def _claim(rid: str, *session_ids: str, status: str = "submitted") -> ClaimRecord:
    return ClaimRecord(
        id=rid,
        client_id="c1",
        payer_id="p1",
        coverage_id="cov1",
        target="837p",
        patient_control_number=f"PCN{rid}",
        session_ids=session_ids,
        lines=[
            ClaimRecordLine(
                session_id=s,
                date_of_service=date(2026, 3, 2),
                code="90834",
                charge=Money("140"),
                units=Decimal(1),
            )
            for s in session_ids
        ],
        total_charge=Money(140 * len(session_ids)),
        created_at=datetime(2026, 3, 3, 9, tzinfo=timezone.utc),
        status=status,
    )


def _invoice(iid: str, number: int, *session_ids: str) -> InvoiceRecord:
    return InvoiceRecord(
        id=iid,
        client_id="c1",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        number=number,
        lines=[
            InvoiceLine(
                session_id=s,
                date_of_service=date(2026, 3, 2),
                code="90834",
                kind="charge",
                amount=Decimal("140.00"),
            )
            for s in session_ids
        ],
        created_at=datetime(2026, 4, 1, 9, tzinfo=timezone.utc),
    )


def test_a_session_is_on_one_live_claim_per_practice(
    db: PostgresDatabase, two_practices: tuple[str, str]
) -> None:
    """Two units claiming s1 at once: the second commit is refused; a voided claim frees it; B may claim its own s1."""
    a, b = two_practices
    first, second = db.unit_of_work(a), db.unit_of_work(a)
    with first, second:
        first.claim_records.add(_claim("r1", "s1"))
        second.claim_records.add(_claim("r2", "s1"))
        first.commit()
        with pytest.raises(AlreadyExists) as caught:
            second.commit()
        assert caught.value.code == "claim_record.session_billed"
    with db.unit_of_work(a) as uow:
        assert [r.id for r in uow.claim_records.for_session("s1")] == ["r1"]
        assert uow.claim_records.live_session_ids() == frozenset({"s1"})
        stored = uow.claim_records.get("r1")
        assert stored.version == 1
        uow.claim_records.put(attrs.evolve(stored, status=ClaimStatus.VOID))
        uow.claim_records.add(_claim("r3", "s1"))
        uow.commit()
    with db.unit_of_work(a) as uow:
        assert [(r.id, r.status.value, r.version) for r in uow.claim_records.list()] == [
            ("r1", "void", 2),
            ("r3", "submitted", 1),
        ]
    with db.unit_of_work(b) as uow:
        assert uow.claim_records.list() == []
        uow.claim_records.add(_claim("r1", "s1"))
        uow.commit()


def test_a_claim_record_changed_meanwhile_is_refused(
    db: PostgresDatabase, two_practices: tuple[str, str]
) -> None:
    """Two units putting the same record read at version 1: the later commit raises claim_record.version."""
    a, _ = two_practices
    with db.unit_of_work(a) as uow:
        uow.claim_records.add(_claim("r1", "s1"))
        uow.commit()
    first, second = db.unit_of_work(a), db.unit_of_work(a)
    with first, second:
        for uow, number in ((first, "A1"), (second, "B1")):
            uow.claim_records.put(attrs.evolve(uow.claim_records.get("r1"), payer_claim_number=number))
        first.commit()
        with pytest.raises(ConcurrentUpdate) as caught:
            second.commit()
        assert caught.value.code == "claim_record.version"
    with db.unit_of_work(a) as uow:
        assert uow.claim_records.get("r1").payer_claim_number == "A1"


def test_a_session_line_is_invoiced_once(db: PostgresDatabase, two_practices: tuple[str, str]) -> None:
    """Two units invoicing s1's charge at once: the second commit raises invoice.session_invoiced."""
    a, _ = two_practices
    first, second = db.unit_of_work(a), db.unit_of_work(a)
    with first, second:
        first.invoices.add(_invoice("i1", 1, "s1"))
        second.invoices.add(_invoice("i2", 2, "s1"))
        first.commit()
        with pytest.raises(AlreadyExists) as caught:
            second.commit()
        assert caught.value.code == "invoice.session_invoiced"
    with db.unit_of_work(a) as uow:
        assert [i.id for i in uow.invoices.for_client("c1")] == ["i1"]
        assert uow.invoices.invoiced_session_ids() == frozenset({"s1"})
        assert uow.invoices.get("i1").version == 1


# schema 3: money in (payments and adjudications) and one live claim per session and coverage


def _write_at(dsn: str, schema: str, practice: str, sessions: list[ClientSession], claims: bool) -> None:
    """Rows as schema 1 (sessions) and 2 (a live claim of ``s-paid`` to coverage k1) wrote them, for ``practice``."""
    from sessionkit import serialization

    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("SELECT set_config('sessionkit.practice_id', %s, true)", (practice,))
        for s in sessions:
            conn.execute(
                "INSERT INTO sessions (id, client_id, date_of_service, appointment_key, bill_to, version, doc)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    s.id,
                    s.client_id,
                    s.date_of_service,
                    s.appointment_key,
                    s.bill_to.value,
                    1,
                    serialization.dumps(s),
                ),
            )
        if claims:
            record = _claim_to("r1", ["s-paid"], coverage_id="k1")
            conn.execute(
                "INSERT INTO claim_records (id, client_id, created_at, version, doc) VALUES (%s, %s, %s, 1, %s)",
                (
                    record.id,
                    record.client_id,
                    record.created_at,
                    serialization.dumps(attrs.evolve(record, version=1)),
                ),
            )
            conn.execute(
                "INSERT INTO claim_sessions (session_id, record_id, live) VALUES ('s-paid', 'r1', 1)"
            )


def _claim_to(rid: str, session_ids: list[str], *, coverage_id: str) -> ClaimRecord:
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
                session_id=sid,
                date_of_service=date(2026, 3, 2),
                code="90834",
                charge=Money("140"),
                units=Decimal(1),
            )
            for sid in session_ids
        ],
        total_charge=Money(140 * len(session_ids)),
        created_at=datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize("start", [1, 2])
def test_the_upgrade_to_3_makes_a_ledger_of_paid_at_session(
    postgres_dsn: str, schema: str, start: int
) -> None:
    """Upgrading from 1 or 2: each session paid at the session gets one payment, as SQLite's schema 5 makes it.

    Each practice gets its own payments (the practice's row security holds
    after the upgrade), a session with nothing paid gets none, and a live
    claim written by schema 2 still holds its session for its coverage
    only: a secondary claim is accepted beside it, a second one to the same
    coverage is refused.
    """
    from sessionkit.adapters.sqlite.ledger import at_session_payment, at_session_payment_id

    upgrade(postgres_dsn, schema=schema, to=start)
    paid = _session("s-paid", paid_at_session="25.50")
    practices = {"pa": [paid, _session("s-none")], "pb": [attrs.evolve(paid, paid_at_session="7.00")]}
    for practice, sessions in practices.items():
        _write_at(postgres_dsn, schema, practice, sessions, claims=start == 2)
    assert upgrade(postgres_dsn, schema=schema) == (start, SCHEMA_VERSION)
    with psycopg.connect(postgres_dsn) as conn:
        flags = conn.execute(
            "SELECT bool_and(c.relrowsecurity AND c.relforcerowsecurity), count(*) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'"
            " AND c.relname <> 'sessionkit_meta'",
            (schema,),
        ).fetchone()
    assert flags == (True, 17)
    with PostgresDatabase(postgres_dsn, schema=schema) as db:
        for practice, amount in (("pa", "25.50"), ("pb", "7.00")):
            with db.unit_of_work(practice) as uow:
                expected = at_session_payment("s-paid", "c1", date(2026, 3, 2), Decimal(amount))
                assert uow.payments.list() == [expected]
                assert uow.payments.for_session("s-paid") == [expected]
                assert uow.payments.for_client("c1") == [expected]
                assert uow.payments.for_session("s-none") == []
                assert expected.id == at_session_payment_id("s-paid")
                assert expected.received_at == datetime(2026, 3, 2, tzinfo=timezone.utc)
        with db.unit_of_work("pa") as uow:
            if start == 2:
                assert uow.claim_records.live_session_ids() == {"s-paid"}
            uow.claim_records.add(_claim_to("r2", ["s-paid"], coverage_id="k2"))
            uow.commit()
            uow.claim_records.add(_claim_to("r3", ["s-paid"], coverage_id="k2" if start == 1 else "k1"))
            with pytest.raises(AlreadyExists) as caught:
                uow.commit()
            assert caught.value.code == "claim_record.session_billed"


def test_payments_and_adjudications_are_kept_apart_by_the_server(db: PostgresDatabase) -> None:
    """Each practice sees only its own payments, adjudications and their session rows, even by raw SQL.

    Both practices use the same idempotency key and source key: each key is
    unique per practice, not across practices.
    """
    from sessionkit.domain.payments import Adjudication, LineAdjudication, Payment, PaymentApplication

    a, b = (f"{name}-{uuid.uuid4().hex[:10]}" for name in "ab")
    for practice in (a, b):
        with db.unit_of_work(practice) as uow:
            uow.payments.add(
                Payment(
                    id="p1",
                    client_id="c1",
                    amount="30.00",
                    method="card",
                    received_at=datetime(2026, 3, 2, 15, tzinfo=timezone.utc),
                    idempotency_key="charge-1",
                    applied=[PaymentApplication(session_id="s1", amount="30.00")],
                    reference=f"ch_{practice}",
                )
            )
            uow.adjudications.add(
                Adjudication(
                    id="a1",
                    claim_record_id="r1",
                    client_id="c1",
                    payer_id="p1",
                    patient_control_number="SK1",
                    status_code="1",
                    charge="140",
                    paid="100",
                    lines=[LineAdjudication(session_id="s1", code="90834", charge="140", paid="100")],
                    paid_on=date(2026, 3, 20),
                    source_key="835|T1|SK1|1",
                    posted_at=datetime(2026, 3, 21, tzinfo=timezone.utc),
                    trace_number=practice,
                )
            )
            uow.commit()
    with db.unit_of_work(a) as uow:
        conn = uow.connection
        for table in ("payments", "payment_sessions", "adjudications", "adjudication_sessions"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE practice_id = %s", (b,)).fetchone() == (
                0,
            )
            assert conn.execute(f"SELECT DISTINCT practice_id FROM {table}").fetchall() == [(a,)]
        assert conn.execute("SELECT doc->>'reference' FROM payments").fetchall() == [(f"ch_{a}",)]
        assert [p.reference for p in uow.payments.for_session("s1")] == [f"ch_{a}"]
        assert uow.adjudications.by_source_key("835|T1|SK1|1").trace_number == a  # type: ignore[union-attr]
        with pytest.raises(pg_errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO payments (practice_id, id, client_id, received_at, status, version, doc)"
                " VALUES (%s, 'p9', 'c1', now(), 'received', 1, '{}')",
                (b,),
            )
    with db.unit_of_work(b) as uow:
        assert [p.reference for p in uow.payments.list()] == [f"ch_{b}"]
        assert [x.trace_number for x in uow.adjudications.for_session("s1")] == [b]
