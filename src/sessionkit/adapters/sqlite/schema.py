"""The SQLite schema: :data:`MIGRATIONS`, one tuple of steps per version, and how a file is upgraded.

A new schema version appends one tuple to :data:`MIGRATIONS` (SQL text, or a
function given the connection inside the upgrade's transaction, such as
:func:`_split_additional_dates`); a released step is never changed, since
files written by every earlier version exist.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from typing import Final

from sessionkit import serialization
from sessionkit.adapters.sqlite.billing import SCHEMA as BILLING_SCHEMA
from sessionkit.adapters.sqlite.ledger import SCHEMA as LEDGER_SCHEMA
from sessionkit.errors import (
    DatabaseError,
)

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "Migration"]


APPLICATION_ID: Final = 0x536B4954
"""``PRAGMA application_id`` of a sessionkit database (``"SkIT"``)."""


def _split_additional_dates(conn: sqlite3.Connection) -> None:
    """Schema 3: each session with additional dates becomes one session per date.

    Earlier releases stored the same service on several dates as one
    session. :func:`sessionkit.serialization.split_legacy_session` splits each
    such document; the session keeps its row, and each further date is
    appended as a new session (next save sequence) whose id is derived from
    the original id and the date, so the upgrade gives the same ids wherever
    it runs. Documents without additional dates are not touched.
    """
    rows = conn.execute(
        "SELECT save_seq, doc FROM sessions WHERE instr(doc, '\"additional_dates\"') > 0 ORDER BY save_seq"
    ).fetchall()
    if not rows:
        return
    next_seq = int(conn.execute("SELECT value FROM sessionkit_meta WHERE key = 'next_seq'").fetchone()[0])
    for seq, doc in rows:
        first, *others = serialization.split_legacy_session(json.loads(doc), _split_id)
        if not others:
            continue  # no additional dates: the document reads as it is
        conn.execute("UPDATE sessions SET doc = ? WHERE save_seq = ?", (json.dumps(first), seq))
        for other in others:
            conn.execute(
                "INSERT INTO sessions (save_seq, id, client_id, date_of_service, appointment_key, version,"
                " bill_to, doc) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
                (
                    next_seq,
                    other["id"],
                    other["client_id"],
                    other["date_of_service"],
                    other["version"],
                    other["bill_to"],
                    json.dumps(other),
                ),
            )
            next_seq += 1
    conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'next_seq'", (next_seq,))


def _split_id(session_id: str, day: str) -> str:
    """The id of the session split off ``session_id`` for ``day``: 32 hex digits, the same everywhere."""
    return hashlib.sha256(f"{session_id}|{day}".encode()).hexdigest()[:32]


Migration = str | Callable[[sqlite3.Connection], None]
"""One step of a migration: an SQL statement, or a function given the connection (in the transaction)."""

MIGRATIONS: Final[tuple[tuple[Migration, ...], ...]] = (
    (
        "CREATE TABLE sessionkit_meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID",
        "CREATE TABLE clients (id TEXT PRIMARY KEY, doc TEXT NOT NULL)",
        "CREATE TABLE payers (id TEXT PRIMARY KEY, doc TEXT NOT NULL)",
        "CREATE TABLE coverages (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, doc TEXT NOT NULL)",
        "CREATE INDEX coverages_client ON coverages (client_id)",
        "CREATE TABLE billing_codes (code TEXT PRIMARY KEY, doc TEXT NOT NULL)",
        "CREATE TABLE diagnoses (code TEXT PRIMARY KEY, doc TEXT NOT NULL)",
        (
            "CREATE TABLE authorizations (id TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
            ' start TEXT NOT NULL, "end" TEXT NOT NULL, doc TEXT NOT NULL)'
        ),
        "CREATE INDEX authorizations_client ON authorizations (client_id, start)",
        "CREATE TABLE practice (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)",
        (
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
            " date_of_service TEXT NOT NULL, appointment_key TEXT UNIQUE, version INTEGER NOT NULL,"
            " save_seq INTEGER NOT NULL, bill_to TEXT NOT NULL, doc TEXT NOT NULL)"
        ),
        "CREATE INDEX sessions_date ON sessions (date_of_service, id)",
        "CREATE INDEX sessions_client ON sessions (client_id, date_of_service)",
        "CREATE INDEX sessions_client_seq ON sessions (client_id, save_seq)",
        "INSERT INTO sessionkit_meta (key, value) VALUES ('application', 'sessionkit'), ('next_seq', 1)",
    ),
    # 2: sessions keyed by save sequence (the rowid: a commit appends), one
    # client index (its entries are in rowid order within a client, so it
    # also gives last_saved_for), appointment keys indexed only where set.
    # The table is rebuilt as SQLite advises for such a change; every row
    # keeps its save sequence, id, columns and document.
    (
        (
            "CREATE TABLE sessions_v2 (save_seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
            " client_id TEXT NOT NULL, date_of_service TEXT NOT NULL, appointment_key TEXT,"
            " version INTEGER NOT NULL, bill_to TEXT NOT NULL, doc TEXT NOT NULL)"
        ),
        (
            "INSERT INTO sessions_v2 (save_seq, id, client_id, date_of_service, appointment_key, version,"
            " bill_to, doc) SELECT save_seq, id, client_id, date_of_service, appointment_key, version,"
            " bill_to, doc FROM sessions ORDER BY save_seq"
        ),
        "DROP TABLE sessions",
        "ALTER TABLE sessions_v2 RENAME TO sessions",
        "CREATE UNIQUE INDEX sessions_id ON sessions (id)",
        (
            "CREATE UNIQUE INDEX sessions_appointment_key ON sessions (appointment_key)"
            " WHERE appointment_key IS NOT NULL"
        ),
        "CREATE INDEX sessions_date ON sessions (date_of_service, id)",
        "CREATE INDEX sessions_client ON sessions (client_id)",
    ),
    # 3: one session per date of service (sessions with additional dates are split).
    (_split_additional_dates,),
    # 4: what was billed: claim records (one live claim per session), invoices, control numbers.
    BILLING_SCHEMA,
    # 5: money in: the payments ledger (paid at session becomes a payment), adjudications, and one
    # live claim per session and coverage.
    LEDGER_SCHEMA,
)
"""The schema, one tuple of steps per version: ``MIGRATIONS[n]`` upgrades version ``n`` to ``n + 1``.

Files written by every earlier version exist, so a migration is never
changed once released; a new version appends one.
"""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this sessionkit writes (``PRAGMA user_version``)."""


_CREATED = re.compile(
    r'CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)', re.I
)
_RENAMED = re.compile(r'ALTER\s+TABLE\s+"?\w+"?\s+RENAME\s+TO\s+"?(\w+)', re.I)


def _own_objects() -> frozenset[tuple[str, str]]:
    """Every (type, name) of a schema object some step of :data:`MIGRATIONS` creates."""
    found: set[tuple[str, str]] = set()
    for migration in MIGRATIONS:
        for step in migration:
            if isinstance(step, str):  # a Python step changes rows, never the schema
                found.update((kind.lower(), name) for kind, name in _CREATED.findall(step))
                found.update(("table", name) for name in _RENAMED.findall(step))
    return frozenset(found)


_OWN_OBJECTS: Final = _own_objects()


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database was written by a newer sessionkit (schema {version}, this one reads up to "
            f"{SCHEMA_VERSION}); upgrade sessionkit to open it",
            "database.too_new",
        )


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the file up to :data:`SCHEMA_VERSION` in one transaction (another process may race us)."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # pragma: no cover - e.g. a file system without shared memory
        raise DatabaseError("the database cannot use a write-ahead log here", "database.no_wal")
    conn.execute("BEGIN IMMEDIATE")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):  # pragma: no cover - changed since inspection
            raise DatabaseError(
                "the file is an SQLite database that sessionkit did not create", "database.foreign"
            )
        _check_version(version)
        for number in range(version, SCHEMA_VERSION):
            for step in MIGRATIONS[number]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
        if version < SCHEMA_VERSION:
            conn.execute(
                "INSERT OR REPLACE INTO sessionkit_meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
