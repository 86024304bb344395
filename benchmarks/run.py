"""sessionkit benchmarks: speed and memory as ratios to floors measured in the same run.

Each pair runs the subject and its floor in the same process, interleaved,
over several repetitions (a smaller N runs several times per timing, so that
every timing covers about as many records as the largest N's); the table shows
the median cost per record, the
ratio subject/floor (the median of the repetitions' ratios, each measured back
to back), and how the per-record cost changes from the smallest N to the
largest: the subject's own growth, the floor's, and the subject's relative to
the floor's, which is the growth of the ratio (the figure the target is judged
on, since the machine's speed drifts between the two sizes). Results are also written as JSON.

    python benchmarks/run.py                      # N = 10,000 and 100,000
    python benchmarks/run.py --n 2000 20000 --repeat 3 --stream 0

Targets (issue 8): build <= 6x, JSON round trip <= 4x, readiness <= 1x,
SQLite save <= 2x and load <= 2.5x, calendar import <= 1.3x, growth from the
smallest to the largest N within 1.25x, and streaming 1,000,000 checks under
200 MB peak. Issue 19: the peers' table (pydantic v2, msgspec, attrs +
cattrs), the whole commands (``check`` under 5 s and 200 MB with memory flat as
the file grows, ``demo`` under 1 s, the ICD-10-CM code set's first answer
under 100 ms and 20 MB), each printed beside its figure when the issue was
filed, and documents about half their size then.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs

from sessionkit import (
    AddOnLine,
    Address,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    FixedClock,
    Payer,
    PracticeSetup,
    ReferringProvider,
)
from sessionkit import serialization as ser

HERE = Path(__file__).resolve().parent

DIAGNOSES = ["F41.1", "F32.A", "F43.23", "F33.1", "F90.0", "F42.2", "F43.10", "F60.3"]
CODES = [("90834", 45, "140.00"), ("90837", 55, "180.00"), ("90832", 30, "95.00"), ("90791", 60, "200.00")]
MODIFIERS = ["95", "HO", "GT", "59", "U4"]
NPI_OK = "1234567893"


def raw_sessions(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """N sessions as plain keyword dicts of primitive values (deterministic)."""
    rng = random.Random(seed)
    base = date(2026, 1, 5)
    out = []
    for i in range(n):
        code, minutes, charge = CODES[i % len(CODES)]
        values: dict[str, Any] = {
            "id": f"s{i:08d}",
            "client_id": f"c{rng.randrange(2000):05d}",
            "date_of_service": base + timedelta(days=rng.randrange(300)),
            "billing_code": code,
            "minutes": minutes,
            "charge": charge,
            "diagnoses": tuple(rng.sample(DIAGNOSES, rng.randint(1, 3))),
            "modifiers": tuple(rng.sample(MODIFIERS, rng.randint(0, 2))),
            "place_of_service": "10" if i % 3 == 0 else "11",
            "paid_at_session": "20.00" if i % 2 else "0",
            "comments": "" if i % 5 else "called to reschedule once",
            "version": 0,
        }
        if i % 10 == 0:
            values["referring_provider"] = ReferringProvider(first_name="Sam", last_name="Lee", npi=NPI_OK)
        if i % 7 == 0:
            values["add_ons"] = (AddOnLine(code="90785", charge="25.00"),)
        out.append(values)
    return out


def build_sessions(raws: list[dict[str, Any]]) -> list[ClientSession]:
    return [ClientSession(**r) for r in raws]


def session_tuple(
    *,
    id: str,
    client_id: str,
    date_of_service: date,
    billing_code: str,
    minutes: int | None = None,
    units: int = 1,
    charge: str,
    diagnoses: tuple[str, ...] = (),
    modifiers: tuple[str, ...] = (),
    place_of_service: str = "11",
    bill_to: str = "automatic",
    paid_at_session: str = "0",
    referring_provider: object = None,
    line_note: str = "",
    resubmission: object = None,
    overrides: object = None,
    comments: str = "",
    add_ons: tuple[object, ...] = (),
    appointment_key: str | None = None,
    status: str = "open",
    version: int = 0,
) -> tuple[Any, ...]:
    """The floor: the same keyword arguments packed into a plain tuple, no checks."""
    return (
        id, client_id, date_of_service, billing_code, minutes, units, charge, diagnoses,
        modifiers, place_of_service, bill_to, paid_at_session, referring_provider, line_note, resubmission,
        overrides, comments, add_ons, appointment_key, status, version,
    )  # fmt: skip


def build_tuples(raws: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [session_tuple(**r) for r in raws]


@dataclass
class Pair:
    name: str
    subject: Callable[[], object]
    floor: Callable[[], object]
    records: int
    target: float
    subject_times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    loops: int = 1
    """Runs of each side per timing (each timing is their mean): a smaller N runs more often, so every
    timing covers about as many records at every N and is as long (short timings are the noisy ones)."""
    reset: Callable[[], object] | None = None
    """Run after each repetition, not timed: puts back what both sides changed (a server's tables), so
    that every repetition, at every N, starts from the same state."""

    def run_once(self, order: int) -> None:
        steps = [(self.subject, self.subject_times), (self.floor, self.floor_times)]
        if order % 2:
            steps.reverse()
        for fn, times in steps:
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(self.loops):
                    fn()
                times.append((time.perf_counter() - t0) / self.loops)
            finally:
                gc.enable()
        if self.reset is not None:
            self.reset()

    def result(self) -> dict[str, Any]:
        s = statistics.median(self.subject_times) / self.records
        f = statistics.median(self.floor_times) / self.records
        # The ratio is the median of each repetition's own ratio: a subject
        # and its floor run back to back, so a slow spell of a shared machine
        # slows both and cancels out of their ratio.
        ratio = statistics.median(a / b for a, b in zip(self.subject_times, self.floor_times, strict=True))
        return {
            "pair": self.name,
            "records": self.records,
            "subject_us": s * 1e6,
            "floor_us": f * 1e6,
            "ratio": ratio,
            "ratio_of_medians": s / f,
            "target": self.target,
            "met": ratio <= self.target,
        }


def make_pairs(n: int) -> Iterator[Pair]:
    raws = raw_sessions(n)
    sessions = build_sessions(raws)
    yield Pair("build sessions vs tuples", lambda: build_sessions(raws), lambda: build_tuples(raws), n, 6.0)

    dicts = [ser.to_dict(s) for s in sessions]
    texts = [ser.dumps(s) for s in sessions]

    def ser_round() -> None:
        for s in sessions:
            ser.loads(ser.dumps(s), ClientSession)

    def json_round() -> None:
        for d in dicts:
            json.loads(json.dumps(d))

    yield Pair("JSON round trip vs json", ser_round, json_round, n, 4.0)
    if ser._FAST_CODEC:
        # The same round trip without the fast extra (the standard library's json codec), against
        # the same floor: the default installation's figure.
        def ser_round_std() -> None:
            with standard_codec():
                ser_round()

        yield Pair("JSON round trip (json codec) vs json", ser_round_std, json_round, n, 4.0)
    try:
        import orjson  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:

        def orjson_round() -> None:
            for d in dicts:
                orjson.loads(orjson.dumps(d))

        yield Pair("JSON round trip vs orjson", ser_round, orjson_round, n, float("inf"))

    yield from readiness_pairs(sessions, texts)
    yield from sqlite_pairs(sessions)
    yield from postgres_pairs(sessions)


@contextlib.contextmanager
def standard_codec() -> Iterator[None]:
    """sessionkit.serialization with the standard library's json codec, as without the fast extra."""
    saved = ser._encode, ser._decode
    ser._encode, ser._decode = ser._std_encode, ser._std_decode
    try:
        yield
    finally:
        ser._encode, ser._decode = saved


def codec_name() -> str:
    return "msgspec (the fast extra)" if ser._FAST_CODEC else "json (standard library)"


def readiness_pairs(sessions: list[ClientSession], texts: list[str]) -> Iterator[Pair]:
    try:
        from sessionkit.readiness import Target, check_many
    except ImportError:
        return
    context = demo_context()

    def check_all() -> None:
        for _ in check_many(sessions, context, Target.X12_837P):
            pass

    def decode_all() -> None:
        for t in texts:
            json.loads(t)

    yield Pair("check_many vs json.loads", check_all, decode_all, len(sessions), 1.0)


def demo_practice() -> PracticeSetup:
    return PracticeSetup(
        name="Bench Practice",
        npi=NPI_OK,
        tax_id="123456789",
        taxonomy="101YM0800X",
        address=Address(line1="1 Main St", city="Albany", state="NY", postal_code="122071234"),
        time_zone="America/New_York",
        default_billing_code="90834",
    )


def demo_context() -> Any:
    from sessionkit.readiness import ReadinessContext

    practice = demo_practice()
    client = Client(
        id="c00001",
        first_name="Pat",
        last_name="Doe",
        date_of_birth=date(1980, 1, 1),
        sex="F",
        address=Address(line1="2 Elm St", city="Albany", state="NY", postal_code="12208"),
    )
    payer = Payer(id="p1", name="Acme Health", payer_id="ACME1")
    coverage = Coverage(
        id="v1",
        client_id="c00001",
        payer_id="p1",
        member_id="M123",
        effective=date(2020, 1, 1),
        copay="20.00",
    )
    return ReadinessContext.build(  # type: ignore[attr-defined]
        practice=practice,
        client=client,
        coverages=(coverage,),
        payers={"p1": payer},
        today=date(2026, 12, 31),
    )


def sqlite_pairs(sessions: list[ClientSession]) -> Iterator[Pair]:
    try:
        from sessionkit.adapters import sqlite as sk_sqlite
    except ImportError:
        return
    tmp = Path(tempfile.mkdtemp(prefix="skbench"))
    counter = iter(range(1_000_000))

    def fresh(name: str) -> Path:
        return tmp / f"{name}{next(counter)}.db"

    def save_subject() -> None:
        db = sk_sqlite.SqliteDatabase(fresh("s"))  # type: ignore[attr-defined]
        with db.unit_of_work() as uow:
            uow.sessions.save_many(sessions)
            uow.commit()
        db.close()

    def save_floor() -> None:
        con = sqlite3.connect(fresh("f"), isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE t (id TEXT PRIMARY KEY, client_id TEXT, dos TEXT, doc TEXT)")
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [(s.id, s.client_id, s.date_of_service.isoformat(), ser.dumps(s)) for s in sessions],
        )
        con.execute("COMMIT")
        con.close()

    yield Pair("SQLite save vs executemany", save_subject, save_floor, len(sessions), 2.0)

    loaded = fresh("l")
    db = sk_sqlite.SqliteDatabase(loaded)  # type: ignore[attr-defined]
    with db.unit_of_work() as uow:
        uow.sessions.save_many(sessions)
        uow.commit()
    db.close()
    raw_path = fresh("r")
    con = sqlite3.connect(raw_path)
    con.execute("CREATE TABLE t (id TEXT PRIMARY KEY, doc TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(s.id, ser.dumps(s)) for s in sessions])
    con.commit()
    con.close()

    def load_subject() -> None:
        db = sk_sqlite.SqliteDatabase(loaded)  # type: ignore[attr-defined]
        with db.unit_of_work() as uow:
            uow.sessions.list()
        db.close()

    def load_floor() -> None:
        con = sqlite3.connect(raw_path)
        [json.loads(doc) for (doc,) in con.execute("SELECT doc FROM t")]
        con.close()

    yield Pair("SQLite load vs select+json.loads", load_subject, load_floor, len(sessions), 2.5)


def _postgres_dsn() -> str | None:
    """The server of the PostgreSQL pairs (``SESSIONKIT_TEST_POSTGRES_DSN``), None when none is named or psycopg is missing."""
    dsn = os.environ.get("SESSIONKIT_TEST_POSTGRES_DSN")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    return dsn or None


def postgres_pairs(sessions: list[ClientSession]) -> Iterator[Pair]:
    """PostgreSQL save and load against raw psycopg (COPY; select + json.loads), skipped without a DSN."""
    dsn = _postgres_dsn()
    if dsn is None:
        return
    import psycopg

    from sessionkit.adapters.postgres import PostgresDatabase, upgrade
    from sessionkit.adapters.postgres.schema import PRACTICE_SETTING

    upgrade(dsn)
    db = PostgresDatabase(dsn, min_size=1, max_size=2)
    raw = psycopg.connect(dsn, autocommit=True)
    raw.execute("CREATE SCHEMA IF NOT EXISTS sessionkit_bench")
    raw.execute(
        "CREATE TABLE IF NOT EXISTS sessionkit_bench.floor (practice_id text, id text, client_id text,"
        " date_of_service date, doc jsonb, PRIMARY KEY (practice_id, id))"
    )
    raw.execute("CREATE INDEX IF NOT EXISTS floor_client ON sessionkit_bench.floor (practice_id, client_id)")
    run = f"{os.getpid()}-{time.time_ns()}"
    counter = iter(range(1_000_000))
    used: list[str] = []

    def fresh(name: str) -> str:
        used.append(f"bench-{run}-{name}{next(counter)}")
        return used[-1]

    saved_practices: list[str] = []

    def save_subject() -> None:
        saved_practices.append(fresh("s"))
        with db.unit_of_work(saved_practices[-1]) as uow:
            uow.sessions.save_many(sessions)
            uow.commit()

    def reset() -> None:
        """Empty what the save pairs wrote, each side's table back to its state before: without it
        every repetition saves into tables grown by the ones before (a million rows and more by the
        100,000 phase), and the growth from 10,000 to 100,000 would be the pile's, not a save's.
        The server filling up is measured by ``--postgres-scale``."""
        for practice in saved_practices:
            with raw.transaction():  # row-level security: bound to the practice, as the adapter binds
                raw.execute("SELECT set_config(%s, %s, true)", (PRACTICE_SETTING, practice))
                raw.execute("DELETE FROM sessions WHERE practice_id = %s", (practice,))
        saved_practices.clear()
        raw.execute("TRUNCATE sessionkit_bench.floor")
        raw.execute("VACUUM sessions")

    def save_floor() -> None:
        practice = fresh("f")
        with (
            raw.transaction(),
            raw.cursor() as cur,
            cur.copy(
                "COPY sessionkit_bench.floor (practice_id, id, client_id, date_of_service, doc) FROM STDIN"
            ) as copy,
        ):
            for s in sessions:
                copy.write_row((practice, s.id, s.client_id, s.date_of_service, ser.dumps(s)))

    def save_floor_many() -> None:
        practice = fresh("e")
        with raw.transaction(), raw.cursor() as cur:
            cur.executemany(
                "INSERT INTO sessionkit_bench.floor (practice_id, id, client_id, date_of_service, doc)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(practice, s.id, s.client_id, s.date_of_service, ser.dumps(s)) for s in sessions],
            )

    yield Pair(
        "PostgreSQL save vs executemany", save_subject, save_floor_many, len(sessions), 2.0, reset=reset
    )
    yield Pair("PostgreSQL save vs COPY", save_subject, save_floor, len(sessions), 3.0, reset=reset)

    loaded = fresh("l")
    with db.unit_of_work(loaded) as uow:
        uow.sessions.save_many(sessions)
        uow.commit()
    floor_practice = fresh("r")
    with (
        raw.transaction(),
        raw.cursor() as cur,
        cur.copy(
            "COPY sessionkit_bench.floor (practice_id, id, client_id, date_of_service, doc) FROM STDIN"
        ) as copy,
    ):
        for s in sessions:
            copy.write_row((floor_practice, s.id, s.client_id, s.date_of_service, ser.dumps(s)))

    def load_subject() -> None:
        with db.unit_of_work(loaded) as uow:
            uow.sessions.list()

    def load_floor() -> None:
        rows = raw.execute(
            "SELECT doc::text FROM sessionkit_bench.floor WHERE practice_id = %s ORDER BY date_of_service, id",
            (floor_practice,),
        )
        [json.loads(doc) for (doc,) in rows]

    yield Pair("PostgreSQL load vs select+json.loads", load_subject, load_floor, len(sessions), 2.5)
    db.close()
    raw.execute("DROP SCHEMA sessionkit_bench CASCADE")
    raw.close()


def postgres_scale(
    total: int, practices: int = 100, batch: int = 1000, lookups: int = 300
) -> list[dict[str, Any]]:
    """Time per session of a save and of a one-client lookup as one server fills up to ``total`` sessions.

    Sessions go to ``practices`` practices in turn, 10 per client; at 10k,
    100k, ... up to ``total`` stored, a batch of ``batch`` sessions is saved
    in one unit (time per session) and ``lookups`` one-client reads (a unit
    of work and ``by_client`` of a random stored client: 10 sessions) are
    timed. Flat figures mean the indexes and policies keep each practice's
    work independent of the others'.
    """
    dsn = _postgres_dsn()
    if dsn is None:
        return []
    import random

    import psycopg

    from sessionkit.adapters.postgres import PostgresDatabase, upgrade

    schema = "sessionkit_scale"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    upgrade(dsn, schema=schema)
    db = PostgresDatabase(dsn, schema=schema, min_size=1, max_size=2)
    rng = random.Random(3)
    raws = raw_sessions(batch)
    stored = 0
    rows = []
    mark = 10_000
    try:
        while mark <= total:
            while stored < mark:
                practice = f"p{(stored // batch) % practices:03d}"
                chunk = build_sessions(raws)
                chunk = [
                    attrs.evolve(
                        s, id=f"x{stored + i:08d}", client_id=f"c{(stored + i) // 10}", appointment_key=None
                    )
                    for i, s in enumerate(chunk)
                ]
                with db.unit_of_work(practice) as uow:
                    uow.sessions.save_many(chunk)
                    uow.commit()
                stored += batch
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"ANALYZE {schema}.sessions")
            chunk = [
                attrs.evolve(s, id=f"m{mark:08d}-{i}", client_id=f"m{mark}-c{i // 10}", appointment_key=None)
                for i, s in enumerate(build_sessions(raws))
            ]
            t0 = time.perf_counter()
            with db.unit_of_work(f"p{rng.randrange(practices):03d}") as uow:
                uow.sessions.save_many(chunk)
                uow.commit()
            save_us = (time.perf_counter() - t0) / batch * 1e6
            t0 = time.perf_counter()
            found = 0
            for _ in range(lookups):
                j = rng.randrange(stored)  # a stored session: its client has 10, all in its practice
                with db.unit_of_work(f"p{(j // batch) % practices:03d}") as uow:
                    found += len(uow.sessions.by_client(f"c{j // 10}"))
            lookup_us = (time.perf_counter() - t0) / lookups * 1e6
            rows.append(
                {
                    "stored": mark,
                    "save_us_per_session": save_us,
                    "lookup_us": lookup_us,
                    "sessions_per_lookup": found / lookups,
                }
            )
            print(
                f"PostgreSQL at {mark:>9,} sessions ({practices} practices): save {save_us:7.1f} us/session,"
                f" one-client lookup {lookup_us:8.1f} us ({found / lookups:.0f} sessions each)"
            )
            mark *= 10
    finally:
        db.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return rows


FIRST_NAMES = ["Ada", "Grace", "Alan", "Mary", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = [f"Client{i:03d}" for i in range(20)]


def calendar_clients() -> list[Client]:
    return [
        Client(
            id=f"k{i:03d}",
            first_name=FIRST_NAMES[i % 10],
            last_name=LAST_NAMES[i // 10],
            date_of_birth=date(1980, 1, 1),
            address=Address(line1="2 Elm St", city="Albany", state="NY", postal_code="12208"),
        )
        for i in range(200)
    ]


def generated_calendar(events: int = 2000, series: int = 200) -> bytes:
    """An .ics export: ``series`` weekly series over 2026 and single events for the rest."""
    clients = calendar_clients()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//sessionkit//bench//EN",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "TZNAME:EDT",
        "DTSTART:19700308T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:-0400",
        "TZOFFSETTO:-0500",
        "TZNAME:EST",
        "DTSTART:19701101T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
    rng = random.Random(11)
    for i in range(events):
        client = clients[i % len(clients)]
        day = date(2026, 1, 5) + timedelta(days=(i % 7) + (0 if i < series else rng.randrange(350)))
        hour = 8 + (i % 11)
        stamp = f"{day:%Y%m%d}T{hour:02d}0000"
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{i}@sessionkit.test",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID=America/New_York:{stamp}",
            f"DTEND;TZID=America/New_York:{day:%Y%m%d}T{hour:02d}5300",
            f"SUMMARY:Therapy - {client.full_name}",
        ]
        if i < series:
            lines.append("RRULE:FREQ=WEEKLY;UNTIL=20261231T235959Z")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def calendar_pair(repeat_data: bytes) -> Iterator[Pair]:
    try:
        import icalendar
        import recurring_ical_events

        from sessionkit.adapters import sqlite as sk_sqlite
        from sessionkit.adapters.ics import IcsCalendar
    except ImportError:
        return
    from sessionkit import NameMatcher, SessionBuilder, import_appointments

    clients = calendar_clients()
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    tmp = Path(tempfile.mkdtemp(prefix="skcal"))
    counter = iter(range(1_000_000))
    practice = demo_practice()
    codes = [BillingCode(code="90834", default_minutes=45, default_charge="140.00")]

    def bare() -> None:
        cal = icalendar.Calendar.from_ical(repeat_data)
        for _ in recurring_ical_events.of(cal).between(start, end + timedelta(days=1)):
            pass

    def subject() -> None:
        db = sk_sqlite.open_database(tmp / f"cal{next(counter)}.db")
        with db.unit_of_work() as uow:
            uow.practice.put(practice)
            for c in clients:
                uow.clients.put(c)
            for code in codes:
                uow.billing_codes.put(code)
            uow.commit()
        builder = SessionBuilder(db.unit_of_work, FixedClock(date(2026, 12, 31)))
        report = import_appointments(
            IcsCalendar(repeat_data, time_zone="America/New_York"), start, end, NameMatcher(clients), builder
        )
        db.close()
        assert report.counts()  # the import ran

    occurrences = sum(
        1
        for _ in recurring_ical_events.of(icalendar.Calendar.from_ical(repeat_data)).between(
            start, end + timedelta(days=1)
        )
    )
    yield Pair("calendar import vs parse+expand", subject, bare, occurrences, 1.3)


DOCUMENT_BEFORE = 514
"""Issue 19: characters of a stored session document on average when the issue was filed (every default
value written out)."""


def document_characters(n: int) -> float:
    """The mean length of the JSON documents of the benchmark's ``n`` sessions."""
    return statistics.mean(len(ser.dumps(s)) for s in build_sessions(raw_sessions(n)))


def bytes_per_session(n: int) -> float:
    """Memory held per ClientSession in a list (tracemalloc), built from fresh raw values."""
    raws = raw_sessions(n, seed=99)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = build_sessions(raws)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(held) == n
    return (after - before) / n


STREAM_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import run
from sessionkit import ClientSession
from sessionkit.readiness import Target, check_many

def stream(n):
    chunk = run.raw_sessions(1000, seed=5)
    for i in range(n):
        values = dict(chunk[i % 1000])
        values["id"] = "s%09d" % i
        yield ClientSession(**values)

context = run.demo_context()
errors = 0
count = 0
for report in check_many(stream({n}), context, Target.X12_837P):
    count += 1
    errors += not report.ready
# VmHWM is this process's own peak (ru_maxrss would include the parent's, inherited at fork)
with open("/proc/self/status") as status:
    peak_kb = int(next(l for l in status if l.startswith("VmHWM")).split()[1])
print(count, errors, peak_kb)
"""


def stream_peak(n: int) -> dict[str, Any]:
    """Peak resident memory of a fresh process streaming ``n`` sessions through check_many."""
    import subprocess

    script = STREAM_SCRIPT.format(here=str(HERE), n=n)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t0
    count, errors, peak_kb = (int(x) for x in out.stdout.split())
    return {"sessions": count, "not_ready": errors, "peak_mb": peak_kb / 1024, "seconds": elapsed}


def practice_database(path: Path, n: int, clients: int = 2000) -> None:
    """A practice of ``n`` sessions over ``clients`` clients, each with a primary coverage (issue 19's shape)."""
    from sessionkit.adapters.sqlite import open_database

    raws = raw_sessions(n)
    db = open_database(path)
    try:
        with db.unit_of_work() as uow:
            uow.practice.put(demo_practice())
            uow.payers.add(Payer(id="p1", name="Acme Health", payer_id="ACME1"))
            for code, minutes, charge in CODES:
                uow.billing_codes.put(BillingCode(code=code, default_minutes=minutes, default_charge=charge))
            for i in range(clients):
                cid = f"c{i:05d}"
                uow.clients.add(
                    Client(
                        id=cid,
                        first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                        last_name=LAST_NAMES[i % len(LAST_NAMES)],
                        date_of_birth=date(1980, 1, 1) + timedelta(days=i),
                        sex="F" if i % 2 else "M",
                        address=Address(line1="2 Elm St", city="Albany", state="NY", postal_code="12208"),
                    )
                )
                uow.coverages.add(
                    Coverage(
                        id=f"v{i:05d}",
                        client_id=cid,
                        payer_id="p1",
                        member_id=f"M{i:06d}",
                        effective=date(2020, 1, 1),
                        copay="20.00",
                    )
                )
            uow.sessions.save_many(ClientSession(**r) for r in raws)
            uow.commit()
    finally:
        db.close()


def _run_child(argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``argv`` in a child process: wall seconds and the child's peak resident set (MB)."""
    script = (
        "import resource, subprocess, sys, time, json\n"
        "t0 = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "seconds = time.perf_counter() - t0\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "peak = usage.ru_maxrss / 1024\n"
        "cpu = usage.ru_utime + usage.ru_stime\n"
        "print(json.dumps({'seconds': seconds, 'cpu_seconds': cpu, 'peak_mb': peak, 'exit': done.returncode}))\n"
    )
    return _child_json([sys.executable, "-c", script, *argv], cwd)


def _child_json(argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``argv`` (a Python child printing one JSON object) as from an installed package; its object."""
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True, env=_installed_env())
    return dict(json.loads(out.stdout))


def _installed_env() -> dict[str, str]:
    """The environment of the whole commands: Python's bytecode cache on, as in an installed package (pip
    compiles the modules when it installs them), even where the shell turns it off
    (``PYTHONDONTWRITEBYTECODE``), kept in a folder of its own (``PYTHONPYCACHEPREFIX``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    return env


_PYCACHE = Path(tempfile.gettempdir()) / "sessionkit-bench-pycache"


def whole_process_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    """Whole commands as a user runs them: check on an n-session practice (text, JSON), demo, code set.

    Each runs as from an installed package: with Python's bytecode cache (:func:`_installed_env`),
    after a first run that is not timed.
    """
    exe = Path(sys.executable).with_name("sessionkit")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "sessionkit.cli"]
    tmp = Path(tempfile.mkdtemp(prefix="skwhole"))
    db = tmp / "practice.db"
    practice_database(db, n)
    small = max(n // 10, 1)  # memory flat as the file grows: the same check on a tenth of it
    small_db = tmp / "small.db"
    practice_database(small_db, small)
    rows = []
    for fmt, sessions, path in (("text", n, db), ("json", n, db), ("json", small, small_db)):
        name = f"check --format {fmt} ({sessions:,} sessions)"
        argv = [*command, "check", "--db", str(path), *([] if fmt == "text" else ["--format", fmt])]
        max_s, max_mb = 5.0, 200.0
        _run_child(argv, tmp)  # a first run, not timed: Python compiles the modules as pip does at install
        runs = [_run_child(argv, tmp) for _ in range(repeat)]
        seconds = statistics.median(r["seconds"] for r in runs)
        # CPU seconds (user + system) beside the wall time: on a machine shared with other jobs the
        # wall time waits for the cores, the CPU time is the command's own work.
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        rows.append(
            {
                "command": name,
                "format": fmt,
                "sessions": sessions,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mb": peak,
                "max_seconds": max_s,
                "max_mb": max_mb,
                "met": seconds < max_s and peak < max_mb,
            }
        )
    demo_runs = []
    (tmp / "demo-first").mkdir()
    _run_child([*command, "demo"], tmp / "demo-first")  # not timed, as above
    for i in range(repeat):
        folder = tmp / f"demo{i}"
        folder.mkdir()
        demo_runs.append(_run_child([*command, "demo"], folder))
    rows.append(
        {
            "command": "demo (fresh database)",
            "seconds": statistics.median(r["seconds"] for r in demo_runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in demo_runs),
            "peak_mb": max(r["peak_mb"] for r in demo_runs),
            "max_seconds": 1.0,
            "max_mb": float("inf"),
            "met": statistics.median(r["seconds"] for r in demo_runs) < 1.0,
        }
    )
    load = (
        "from sessionkit.codes import icd10\n"
        "cs = icd10.default_code_set()\n"
        "assert cs is not None and cs.is_billable('F41.1')\n"
    )
    code_runs = [_run_child([sys.executable, "-c", load], tmp) for _ in range(repeat)]
    seconds = statistics.median(r["seconds"] for r in code_runs)
    rows.append(
        {
            "command": "ICD-10-CM code set: import + first answer (whole process)",
            "seconds": seconds,
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in code_runs),
            "peak_mb": max(r["peak_mb"] for r in code_runs),
            "max_seconds": float("inf"),
            "max_mb": float("inf"),
            "met": True,
        }
    )
    inside = [_code_set_in_process(tmp) for _ in range(repeat)]
    seconds = statistics.median(r["seconds"] for r in inside)
    grown = max(r["peak_mb"] for r in inside)
    rows.append(
        {
            "command": CODE_SET_ROW,
            "seconds": seconds,
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in inside),
            "peak_mb": grown,
            "max_seconds": 0.1,
            "max_mb": 20.0,
            "met": seconds < 0.1 and grown < 20.0,
        }
    )
    for row in rows:
        row["before"] = WHOLE_BEFORE.get(row["command"])
    return rows


CODE_SET_ROW = "ICD-10-CM code set: import + first answer, timed in the process (MB: its growth)"

WHOLE_BEFORE = {
    "check --format json (100,000 sessions)": "21.9 s, 1,049 MiB",
    "demo (fresh database)": "2.5 s, 217 MB",
    CODE_SET_ROW: "2.4 s, 198 MB (the import alone)",
}
"""Issue 19: the whole commands' figures when the issue was filed (wall time, peak memory), printed
beside today's."""


def memory_flat(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``check --format json``'s peak memory on the largest practice over its peak on one a tenth the size
    (target: within 1.25x, flat as the file grows); None without both rows."""
    checks = sorted((r["sessions"], r["peak_mb"]) for r in rows if r.get("format") == "json")
    if len(checks) < 2:
        return None
    (small, small_mb), (large, large_mb) = checks[0], checks[-1]
    ratio = large_mb / small_mb
    return {
        "from": small,
        "to": large,
        "from_mb": small_mb,
        "to_mb": large_mb,
        "ratio": ratio,
        "met": ratio <= 1.25,
    }


def _code_set_in_process(cwd: Path) -> dict[str, Any]:
    """The ICD-10-CM code set's first billability answer, timed by the child from just before the import;
    its memory is the growth of the child's peak resident set (``VmHWM``: this process's own, where
    ``ru_maxrss`` starts from the parent's peak after a vfork) over the peak before the import."""
    script = (
        "import json, time\n"
        "def peak():\n"
        "    with open('/proc/self/status') as f:\n"
        "        return int(next(line for line in f if line.startswith('VmHWM:')).split()[1]) / 1024\n"
        "before = peak()\n"
        "t0, c0 = time.perf_counter(), time.process_time()\n"
        "from sessionkit.codes import icd10\n"
        "cs = icd10.default_code_set()\n"
        "assert cs is not None and cs.is_billable('F41.1')\n"
        "seconds, cpu = time.perf_counter() - t0, time.process_time() - c0\n"
        "print(json.dumps({'seconds': seconds, 'cpu_seconds': cpu, 'peak_mb': peak() - before}))\n"
    )
    return _child_json([sys.executable, "-c", script], cwd)


def peer_rows(n: int, repeat: int) -> list[dict[str, Any]]:
    """sessionkit against its peers (pydantic v2, msgspec, attrs + cattrs) on the same sessions and inputs.

    Per-record medians over ``repeat`` runs; ``ratio`` is sessionkit's cost over
    the peer's (below 1: sessionkit is faster), the median of ratios measured
    back to back. Peers not installed are skipped.
    """
    try:
        import peers
    except ImportError:  # run from elsewhere
        from benchmarks import peers  # type: ignore[no-redef]
    raws = raw_sessions(n)
    ours = build_sessions(raws)
    texts = [ser.dumps(s) for s in ours]

    rows = []
    for name, peer in peers.PEERS.items():
        args = [peer["prepare"](r) for r in raws]
        built = [peer["build"](a) for a in args]
        dumped = [peer["dumps"](b) for b in built]

        def round_trip() -> object:
            return [ser.loads(ser.dumps(s), ClientSession) for s in ours]

        def round_trip_std() -> object:
            with standard_codec():
                return round_trip()

        peer_round: Callable[[], object] = lambda b=built, p=peer: [p["loads"](p["dumps"](x)) for x in b]  # noqa: E731
        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            ("build", lambda: build_sessions(raws), lambda a=args, p=peer: [p["build"](x) for x in a]),
            ("JSON round trip", round_trip, peer_round),
        ]
        if ser._FAST_CODEC:
            cases.append(("JSON round trip, json codec", round_trip_std, peer_round))
        for what, subject, other in cases:
            # Timed as a pair (sessionkit and the peer back to back, in turn first): the ratio is the
            # median of the repetitions' own ratios, as for the pairs above.
            pair = Pair(what, subject, other, n, 1.0)
            for rep in range(repeat):
                pair.run_once(rep)
            timing = pair.result()
            rows.append(
                {
                    "peer": name,
                    "what": what,
                    "sessionkit": timing["subject_us"],
                    "other": timing["floor_us"],
                    "ratio": timing["ratio"],
                }
            )
        size = statistics.mean(len(t) for t in texts), statistics.mean(len(d) for d in dumped)
        rows.append(
            {
                "peer": name,
                "what": "document characters",
                "sessionkit": size[0],
                "other": size[1],
                "ratio": size[0] / size[1],
            }
        )
    return rows


PEER_TARGETS = {"pydantic v2": 1.0, "msgspec": 2.0}
"""Issue 19: a JSON round trip at or below pydantic v2's, within 2x of msgspec's."""
PEER_BEFORE = {"pydantic v2": 1.8, "msgspec": 3.3}
"""Issue 19: the round trip's ratios when the issue was filed; without the fast extra (the standard
library's json codec) the round trip must still beat them."""


def peer_verdict(row: dict[str, Any]) -> str:
    if row["what"] == "JSON round trip, json codec":
        before = PEER_BEFORE.get(row["peer"])
        if before is None:
            return ""
        return f" (target < {before:g}x, the figure before): {'met' if row['ratio'] < before else 'MISSED'}"
    target = PEER_TARGETS.get(row["peer"])
    if target is None or row["what"] != "JSON round trip":
        return ""
    return f" (target <= {target:g}x): {'met' if row['ratio'] <= target else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--stream", type=int, default=1_000_000, help="sessions streamed through check_many")
    parser.add_argument("--skip-calendar", action="store_true")
    parser.add_argument("--only", help="run only the pairs whose name contains this text")
    parser.add_argument(
        "--whole",
        type=int,
        default=100_000,
        help="sessions in the practice the whole commands run on (0: skip)",
    )
    parser.add_argument("--whole-repeat", type=int, default=3, help="runs of each whole command (median)")
    parser.add_argument(
        "--peers",
        type=int,
        default=10_000,
        help="sessions for the peers' comparison: pydantic v2, msgspec, attrs + cattrs (0: skip)",
    )
    parser.add_argument(
        "--postgres-scale",
        type=int,
        default=0,
        help="fill a PostgreSQL server (SESSIONKIT_TEST_POSTGRES_DSN) up to this many sessions across 100 "
        "practices, timing a save and a one-client lookup at each power of ten from 10k (0: skip)",
    )
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    print(
        f"sessionkit benchmarks on {platform.machine()} {platform.processor() or ''}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"sessionkit.serialization JSON codec: {codec_name()}")
    print(f"{'pair':<40} {'n':>8} {'subject':>11} {'floor':>11} {'ratio':>7} {'target':>7}")
    # One N after the other: each N is measured as if it ran alone. (Running
    # every N's pairs in rounds was tried: the smaller N's costs then came out
    # lower than when it runs alone, and the growth figures with them.)
    for n in sorted(args.n):
        for pair in make_pairs(n):
            if args.only and args.only not in pair.name:
                continue
            pair.loops = max(1, round(max(args.n) / n))
            for rep in range(args.repeat):
                pair.run_once(rep)
            results.append(pair.result())
            print_row(results[-1])
    if not args.skip_calendar and (not args.only or args.only in "calendar import vs parse+expand"):
        for pair in calendar_pair(generated_calendar()):
            for rep in range(args.repeat):
                pair.run_once(rep)
            results.append(pair.result())
            print_row(results[-1])
    growth = growth_rows(results)
    for g in growth:
        print(
            f"growth {g['pair']:<33} per-record cost x{g['growth']:.2f} from n={g['from']} to n={g['to']},"
            f" floor x{g['floor_growth']:.2f}: relative x{g['relative_growth']:.2f}"
            f" (target <= 1.25): {'met' if g['met'] else 'MISSED'}"
        )
    memory: dict[str, Any] = {"bytes_per_session": bytes_per_session(min(args.n))}
    print(f"memory: {memory['bytes_per_session']:.0f} bytes per ClientSession held in a list")
    chars = document_characters(min(args.n))
    memory["document_characters"] = chars
    print(
        f"documents: {chars:.0f} characters a session on average (before: {DOCUMENT_BEFORE}; target about half,"
        f" <= {DOCUMENT_BEFORE // 2}): {'met' if chars <= DOCUMENT_BEFORE // 2 else 'MISSED'}"
    )
    if args.stream:
        memory["stream"] = stream_peak(args.stream)
        st_ = memory["stream"]
        print(
            f"memory: check_many over {st_['sessions']:,} sessions peaked at {st_['peak_mb']:.0f} MB RSS"
            f" in {st_['seconds']:.0f} s (target < 200 MB): {'met' if st_['peak_mb'] < 200 else 'MISSED'}"
        )
    peer_table: list[dict[str, Any]] = []
    if args.peers and not args.only:
        peer_table = peer_rows(args.peers, args.repeat)
        if peer_table:
            print(
                f"\npeers on the same {args.peers:,} sessions (ratio: sessionkit / peer; below 1: sessionkit wins)"
            )
            print(f"{'peer':<15} {'what':<28} {'sessionkit':>11} {'peer':>11} {'ratio':>7}")
            for row in peer_table:
                unit = "" if row["what"].startswith("document") else "us"
                print(
                    f"{row['peer']:<15} {row['what']:<28} {row['sessionkit']:>9.2f}{unit:<2} "
                    f"{row['other']:>9.2f}{unit:<2} {row['ratio']:>6.2f}x{peer_verdict(row)}"
                )
        missing = sorted(set(PEER_TARGETS) - {row["peer"] for row in peer_table})
        if missing:
            print(f"peers not installed: {', '.join(missing)} (pip install pydantic msgspec)")
    whole: list[dict[str, Any]] = []
    if args.whole and not args.only:
        whole = whole_process_rows(args.whole, args.whole_repeat)
        for w in whole:
            limits = []
            if w["max_seconds"] != float("inf"):
                limits.append(f"< {w['max_seconds']:g} s")
            if w["max_mb"] != float("inf"):
                limits.append(f"< {w['max_mb']:.0f} MB")
            verdict = f" (target {', '.join(limits)}): {'met' if w['met'] else 'MISSED'}" if limits else ""
            before = f"; before: {w['before']}" if w["before"] else ""
            print(
                f"whole: {w['command']:<58} {w['seconds']:6.2f} s ({w['cpu_seconds']:5.2f} s CPU) "
                f"{w['peak_mb']:6.0f} MB peak{verdict}{before}"
            )
        flat = memory_flat(whole)
        if flat is not None:
            memory["check_flat"] = flat
            print(
                f"memory: check --format json peaks at {flat['to_mb']:.0f} MB on {flat['to']:,} sessions and"
                f" {flat['from_mb']:.0f} MB on {flat['from']:,}: x{flat['ratio']:.2f}"
                f" (target <= 1.25, flat): {'met' if flat['met'] else 'MISSED'}"
            )
    scale = postgres_scale(args.postgres_scale) if args.postgres_scale else []
    args.json.write_text(
        json.dumps(
            {
                "pairs": results,
                "peers": peer_table,
                "postgres_scale": scale,
                "whole_process": [
                    {k: (None if v == float("inf") else v) for k, v in w.items()} for w in whole
                ],
                "growth": growth,
                "memory": memory,
                "codec": codec_name(),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cores": os.cpu_count(),
            },
            indent=2,
        )
    )
    print(f"results written to {args.json}")
    return 0


def growth_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    by_pair: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_pair.setdefault(r["pair"], []).append(r)
    for name, rs in by_pair.items():
        if len(rs) < 2:
            continue
        rs.sort(key=lambda r: r["records"])
        g = rs[-1]["subject_us"] / rs[0]["subject_us"]
        # The floor does the same plain work per record at every N, so its own
        # growth is the machine's: a shared machine that slows down between
        # the small and the large N (its speed was seen to halve) moves both.
        # The target is judged on the subject's growth beyond the floor's: the
        # growth of the pair's ratio, each ratio the median of ratios measured
        # back to back (a slow spell between two timings of one size would
        # otherwise move one side's median only).
        floor_g = rs[-1]["floor_us"] / rs[0]["floor_us"]
        relative = rs[-1]["ratio"] / rs[0]["ratio"]
        rows.append(
            {
                "pair": name,
                "from": rs[0]["records"],
                "to": rs[-1]["records"],
                "growth": g,
                "floor_growth": floor_g,
                "relative_growth": relative,
                "met": relative <= 1.25,
            }
        )
    return rows


def print_row(r: dict[str, Any]) -> None:
    mark = "met" if r["met"] else "MISSED"
    print(
        f"{r['pair']:<40} {r['records']:>8} {r['subject_us']:>9.2f}us {r['floor_us']:>9.2f}us "
        f"{r['ratio']:>6.2f}x {r['target']:>6.2f}x {mark}"
    )


if __name__ == "__main__":
    sys.exit(main())
