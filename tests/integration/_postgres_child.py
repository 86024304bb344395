"""Child-process entry point for test_postgres_processes.py: ``python _postgres_child.py MODE DSN PRACTICE [ARG]``.

Modes:

* ``bulk DSN PRACTICE N``: save N sessions in one unit of work; print
  ``ready`` before the commit, ``midway`` (then sleep) when every row is in
  the transaction and only ``COMMIT`` is left (the parent kills it there),
  or ``done`` after the commit when N is positive (no pause).
* ``update DSN PRACTICE NOTE``: read session ``s1``, print ``read``, wait for
  a line on stdin, save it with ``line_note=NOTE``; print ``ok`` or
  ``conflict <code>``.
* ``increment DSN PRACTICE K``: add 1 to session ``s1``'s minutes K times,
  retrying on ConcurrentUpdate; print ``done <retries>``.
* ``import DSN PRACTICE``: wait for a line on stdin, import the shipped
  sample calendar, allocate a claim control number for every session it
  created; print ``done <created> <numbers>``.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from typing import Any

import attrs
import psycopg

from sessionkit import ClientSession
from sessionkit.adapters.postgres import PostgresDatabase
from sessionkit.errors import AlreadyExists, ConcurrentUpdate


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def bulk(dsn: str, practice: str, n: int) -> None:
    stop_midway = n < 0
    n = abs(n)
    sessions = [
        ClientSession(
            id=f"s{i:05d}",
            client_id=f"c{i % 100}",
            date_of_service=date(2026, 1, 1) + timedelta(days=i % 300),
            billing_code="90834",
            charge="140.00",
            appointment_key=f"cal-{i}",
        )
        for i in range(n)
    ]
    if stop_midway:
        real = psycopg.Connection.execute

        def execute(self: psycopg.Connection[Any], query: Any, *args: Any, **kw: Any) -> Any:
            if query == "COMMIT":
                _say("midway")
                time.sleep(60)
            return real(self, query, *args, **kw)

        psycopg.Connection.execute = execute  # type: ignore[method-assign]
    with PostgresDatabase(dsn) as db, db.unit_of_work(practice) as uow:
        uow.sessions.save_many(sessions)
        _say("ready")
        uow.commit()
    _say("done")


def update(dsn: str, practice: str, note: str) -> None:
    with PostgresDatabase(dsn) as db, db.unit_of_work(practice) as uow:
        s1 = uow.sessions.get("s1")
        _say("read")
        sys.stdin.readline()
        try:
            uow.sessions.save(attrs.evolve(s1, line_note=note))
            uow.commit()
        except ConcurrentUpdate as exc:
            _say(f"conflict {exc.code}")
            return
    _say("ok")


def increment(dsn: str, practice: str, k: int) -> None:
    retries = 0
    with PostgresDatabase(dsn) as db:
        uow = db.unit_of_work(practice)
        for _ in range(k):
            while True:
                with uow:
                    s1 = uow.sessions.get("s1")
                    try:
                        uow.sessions.save(attrs.evolve(s1, minutes=(s1.minutes or 0) + 1))
                        uow.commit()
                        break
                    except ConcurrentUpdate:
                        retries += 1
    _say(f"done {retries}")


def import_calendar(dsn: str, practice: str) -> None:
    from sessionkit import NameMatcher
    from sessionkit.adapters.ics import IcsCalendar
    from sessionkit.builder import SessionBuilder
    from sessionkit.importing import OutcomeKind, import_appointments
    from sessionkit.ports import FixedClock

    sys.stdin.readline()
    with PostgresDatabase(dsn) as db:
        uow = db.unit_of_work(practice)
        with uow:
            clients = uow.clients.list()
        builder = SessionBuilder(uow, FixedClock(date(2026, 4, 1)))
        calendar = IcsCalendar(sys.argv[4], time_zone="America/New_York")
        for _ in range(5):
            try:
                report = import_appointments(
                    calendar, date(2026, 2, 1), date(2026, 4, 30), NameMatcher(clients), builder
                )
                break
            except (AlreadyExists, ConcurrentUpdate):
                continue
        created = [o for o in report.outcomes if o.kind is OutcomeKind.CREATED]
        with uow:
            numbers = uow.control_numbers.allocate("claim", len(created)) if created else range(0)
    _say(f"done {len(created)} {','.join(map(str, numbers))}")


if __name__ == "__main__":
    mode, dsn, practice, *rest = sys.argv[1:]
    if mode == "bulk":
        bulk(dsn, practice, int(rest[0]))
    elif mode == "update":
        update(dsn, practice, rest[0])
    elif mode == "increment":
        increment(dsn, practice, int(rest[0]))
    elif mode == "import":
        import_calendar(dsn, practice)
    else:
        raise SystemExit(f"unknown mode {mode}")
