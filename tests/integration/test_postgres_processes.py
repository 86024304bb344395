"""Several processes on one PostgreSQL database: killed clients, racing writers, the same calendar imported at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import sessionkit
from sessionkit import BillingCode, Client, ClientSession, PracticeSetup

if not os.environ.get("CI"):  # under CI a missing extra fails (in postgres_dsn), never skips
    pytest.importorskip("psycopg")

from sessionkit.adapters.postgres import PostgresDatabase, upgrade

CHILD = Path(__file__).with_name("_postgres_child.py")
SRC = str(Path(sessionkit.__file__).resolve().parents[1])
SAMPLE = Path(sessionkit.__file__).parent / "data" / "sample_calendar.ics"
N = 10_000

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


@pytest.fixture
def dsn(postgres_dsn: str) -> str:
    """The test database, upgraded."""
    upgrade(postgres_dsn)
    return postgres_dsn


@pytest.fixture
def practice() -> str:
    """A practice id no other test uses."""
    return f"proc-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def db(dsn: str) -> Iterator[PostgresDatabase]:
    """The database, opened in the test's own process."""
    with PostgresDatabase(dsn) as opened:
        yield opened


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _line(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    return child.stdout.readline().strip()


def _kill(child: subprocess.Popen[str]) -> int:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    return child.returncode


def _count(db: PostgresDatabase, practice: str) -> int:
    with db.unit_of_work(practice) as uow:
        return uow.sessions.count()


def test_a_client_killed_before_its_commit_leaves_nothing(
    db: PostgresDatabase, dsn: str, practice: str
) -> None:
    """SIGKILL after 10,000 sessions are in the transaction but before COMMIT: the server keeps none; a finished commit keeps all."""
    child = _start("bulk", dsn, practice, str(-N))
    assert _line(child) == "ready"
    assert _line(child) == "midway"
    assert _kill(child) == -signal.SIGKILL
    assert _count(db, practice) == 0
    child = _start("bulk", dsn, practice, str(N))
    out, err = child.communicate(timeout=300)
    assert out.split() == ["ready", "done"], err
    assert _count(db, practice) == N
    with db.unit_of_work(practice) as uow:
        assert uow.sessions.get("s09999").appointment_key == "cal-9999"


def _seed(db: PostgresDatabase, practice: str) -> None:
    with db.unit_of_work(practice) as uow:
        uow.sessions.save(
            ClientSession(
                id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="140"
            )
        )
        uow.commit()


def test_two_processes_updating_one_session(db: PostgresDatabase, dsn: str, practice: str) -> None:
    """Two processes save the same session read at the same version: one wins, the other gets session.version."""
    _seed(db, practice)
    children = [_start("update", dsn, practice, note) for note in ("from a", "from b")]
    assert [_line(c) for c in children] == ["read", "read"]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=60)[0].strip() for child in children]
    assert sorted(results) == ["conflict session.version", "ok"]
    winner = ("from a", "from b")[results.index("ok")]
    with db.unit_of_work(practice) as uow:
        s1 = uow.sessions.get("s1")
    assert (s1.line_note, s1.version) == (winner, 2)


def test_no_update_is_lost(db: PostgresDatabase, dsn: str, practice: str) -> None:
    """Two processes each adding 1 to a session 25 times (retrying on conflict) end at exactly 50."""
    _seed(db, practice)
    children = [_start("increment", dsn, practice, "25") for _ in range(2)]
    outputs = [child.communicate(timeout=180) for child in children]
    assert all(out.startswith("done") for out, _ in outputs), outputs
    with db.unit_of_work(practice) as uow:
        s1 = uow.sessions.get("s1")
    assert (s1.minutes, s1.version) == (50, 51)


def test_processes_importing_the_same_calendar_duplicate_nothing(
    db: PostgresDatabase, dsn: str, practice: str
) -> None:
    """Three processes import the sample calendar at once: 8 sessions, each created once; control numbers never shared."""
    pytest.importorskip("icalendar")
    pytest.importorskip("recurring_ical_events")
    with db.unit_of_work(practice) as uow:
        uow.practice.put(
            PracticeSetup(
                name="Calm Practice",
                npi="1234567893",
                tax_id="123456789",
                time_zone="America/New_York",
                default_billing_code="90834",
            )
        )
        for cid, first, last in (
            ("c1", "Ada", "Byron"),
            ("c2", "Grace", "Hopper"),
            ("c3", "Alan", "Turing"),
            ("c4", "Mary", "Jackson"),
        ):
            uow.clients.put(Client(id=cid, first_name=first, last_name=last))
        uow.billing_codes.put(BillingCode(code="90834", default_minutes=45, default_charge="140.00"))
        uow.commit()
    children = [_start("import", dsn, practice, str(SAMPLE)) for _ in range(3)]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=180) for child in children]
    assert all(out.startswith("done") for out, _ in outputs), outputs
    created = [int(out.split()[1]) for out, _ in outputs]
    numbers = [int(n) for out, _ in outputs for n in [*out.split(), ""][2].split(",") if n]
    assert sum(created) == 8
    assert sorted(numbers) == list(range(1, 9))
    with db.unit_of_work(practice) as uow:
        sessions = uow.sessions.list()
    assert len(sessions) == 8
    assert len({s.appointment_key for s in sessions}) == 8
