"""Child-process entry point for test_sqlite_processes.py: ``python _sqlite_child.py MODE PATH [ARG]``.

Modes:

* ``bulk PATH N``: save N sessions in one unit of work. Prints ``ready`` before
  the commit and ``midway`` (then sleeps) once half of the rows are being
  written inside the commit's transaction when N is negative (``-N``), so that
  the parent can kill it there. Prints ``done`` after the commit.
* ``update PATH NOTE``: read session ``s1``, print ``read``, wait for a line
  on stdin, save it with ``line_note=NOTE``; print ``ok`` or
  ``conflict <code>``.
* ``increment PATH K``: add 1 to session ``s1``'s minutes K times, retrying
  on ConcurrentUpdate; print ``done <retries>``.
* ``client PATH NOTE``: read client ``c1``, print ``read``, wait for a line
  on stdin, put it with ``client_file_note=NOTE``; print ``ok`` or
  ``conflict <code>``.
* ``client-append PATH K``: append one letter to client ``c1``'s file note K
  times, retrying on ConcurrentUpdate; print ``done <retries>``.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

import attrs

from sessionkit import ClientSession, serialization
from sessionkit.adapters.sqlite import SqliteDatabase
from sessionkit.errors import ConcurrentUpdate


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def bulk(path: str, n: int) -> None:
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
        real = serialization.dumps
        calls = [0]

        def dumps(obj: object) -> str:
            calls[0] += 1
            if calls[0] == n // 2:
                _say("midway")
                time.sleep(60)
            return real(obj)

        serialization.dumps = dumps
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.sessions.save_many(sessions)
        _say("ready")
        uow.commit()
    _say("done")


def update(path: str, note: str) -> None:
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        s1 = uow.sessions.get("s1")
        _say("read")
        sys.stdin.readline()
        try:
            uow.sessions.save(attrs.evolve(s1, line_note=note))
            uow.commit()
        except ConcurrentUpdate as exc:
            _say(f"conflict {exc.code}")
        else:
            _say("ok")


def increment(path: str, times: int) -> None:
    retries = 0
    with SqliteDatabase(path) as db:
        for _ in range(times):
            while True:
                with db.unit_of_work() as uow:
                    s1 = uow.sessions.get("s1")
                    uow.sessions.save(attrs.evolve(s1, minutes=(s1.minutes or 0) + 1))
                    try:
                        uow.commit()
                        break
                    except ConcurrentUpdate:
                        retries += 1
    _say(f"done {retries}")


def client(path: str, note: str) -> None:
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        c1 = uow.clients.get("c1")
        _say("read")
        sys.stdin.readline()
        try:
            uow.clients.put(attrs.evolve(c1, client_file_note=note))
            uow.commit()
        except ConcurrentUpdate as exc:
            _say(f"conflict {exc.code}")
        else:
            _say("ok")


def client_append(path: str, times: int) -> None:
    retries = 0
    with SqliteDatabase(path) as db:
        for _ in range(times):
            while True:
                with db.unit_of_work() as uow:
                    c1 = uow.clients.get("c1")
                    uow.clients.put(attrs.evolve(c1, client_file_note=c1.client_file_note + "x"))
                    try:
                        uow.commit()
                        break
                    except ConcurrentUpdate:
                        retries += 1
    _say(f"done {retries}")


if __name__ == "__main__":
    mode, db_path, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "bulk":
        bulk(db_path, int(arg))
    elif mode == "update":
        update(db_path, arg)
    elif mode == "client":
        client(db_path, arg)
    elif mode == "client-append":
        client_append(db_path, int(arg))
    else:
        increment(db_path, int(arg))
