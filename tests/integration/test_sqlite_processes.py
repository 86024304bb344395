"""Several processes on one SQLite file: a commit killed half-way, two writers on one session or one client."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

import sessionkit
from sessionkit import Client, ClientSession
from sessionkit.adapters.sqlite import SqliteDatabase

CHILD = Path(__file__).with_name("_sqlite_child.py")
SRC = str(Path(sessionkit.__file__).resolve().parents[1])
N = 10_000

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


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
    """SIGKILL the child (unless it has ended already); return its exit status."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    return child.returncode


def _count(path: Path) -> int:
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        return uow.sessions.count()


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_a_commit_killed_half_way_leaves_all_or_nothing(tmp_path: Path) -> None:
    """SIGKILL during a 10,000-session commit leaves a clean file holding none of them, or all of them."""
    path = tmp_path / "killed.sqlite"
    SqliteDatabase(path).close()
    # Killed inside the commit's transaction, half of the rows written: none are kept.
    child = _start("bulk", str(path), str(-N))
    assert _line(child) == "ready"
    assert _line(child) == "midway"
    assert _kill(child) == -signal.SIGKILL
    assert _integrity(path) == "ok"
    assert _count(path) == 0
    # Killed at a random moment of the commit: none or all.
    rng = random.Random(5)
    for _ in range(2):
        child = _start("bulk", str(tmp_path / "random.sqlite"), str(N))
        assert _line(child) == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        status = _kill(child)
        assert status in {0, -signal.SIGKILL}
        assert _count(tmp_path / "random.sqlite") in ({N} if status == 0 else {0, N})
        (tmp_path / "random.sqlite").unlink()
    # A commit left to finish keeps every one of them, readable after reopening.
    child = _start("bulk", str(path), str(N))
    out, err = child.communicate(timeout=120)
    assert out.split() == ["ready", "done"], err
    assert _integrity(path) == "ok"
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        assert uow.sessions.count() == N
        assert uow.sessions.get("s09999").appointment_key == "cal-9999"


def _seed(path: Path) -> None:
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.sessions.save(
            ClientSession(
                id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="140"
            )
        )
        uow.commit()


def test_two_processes_updating_one_session(tmp_path: Path) -> None:
    """Two processes save the same session read at the same version: one wins, the other gets session.version."""
    path = tmp_path / "race.sqlite"
    _seed(path)
    children = [_start("update", str(path), note) for note in ("from a", "from b")]
    assert [_line(c) for c in children] == ["read", "read"]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=60)[0].strip() for child in children]
    assert sorted(results) == ["conflict session.version", "ok"]
    winner = ("from a", "from b")[results.index("ok")]
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        s1 = uow.sessions.get("s1")
    assert (s1.line_note, s1.version) == (winner, 2)


def test_no_update_is_lost(tmp_path: Path) -> None:
    """Two processes each adding 1 to a session 25 times (retrying on conflict) end at exactly 50."""
    path = tmp_path / "counter.sqlite"
    _seed(path)
    children = [_start("increment", str(path), "25") for _ in range(2)]
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(out.startswith("done") for out, _ in outputs), outputs
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        s1 = uow.sessions.get("s1")
    assert (s1.minutes, s1.version) == (50, 51)


def _seed_client(path: Path) -> None:
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
        uow.commit()


def test_two_processes_editing_one_client(tmp_path: Path) -> None:
    """Two processes put the same client read at the same version: one wins, the other gets client.version."""
    path = tmp_path / "clients.sqlite"
    _seed_client(path)
    children = [_start("client", str(path), note) for note in ("from a", "from b")]
    assert [_line(c) for c in children] == ["read", "read"]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=60)[0].strip() for child in children]
    assert sorted(results) == ["conflict client.version", "ok"]
    winner = ("from a", "from b")[results.index("ok")]
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        c1 = uow.clients.get("c1")
    assert (c1.client_file_note, c1.version) == (winner, 2)


def test_no_client_edit_is_lost(tmp_path: Path) -> None:
    """Two processes each appending to a client's note 20 times (retrying on conflict) leave all 40 letters."""
    path = tmp_path / "client-counter.sqlite"
    _seed_client(path)
    children = [_start("client-append", str(path), "20") for _ in range(2)]
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(out.startswith("done") for out, _ in outputs), outputs
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        c1 = uow.clients.get("c1")
    assert (c1.client_file_note, c1.version) == ("x" * 40, 41)
