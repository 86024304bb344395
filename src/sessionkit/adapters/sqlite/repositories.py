"""SQLite adapter: every port of :mod:`sessionkit.ports` in one database file.

The embedded default store, on the standard library's :mod:`sqlite3`. It
behaves exactly as the reference :mod:`sessionkit.adapters.memory` documents
(orderings, error codes, versions, save sequence, snapshot semantics), and it
passes :mod:`sessionkit.testing.contract`.

The file
    WAL journal, foreign keys on, a busy timeout (5 seconds by default) so
    that two processes wait for each other rather than fail. Each record is
    stored as its JSON document (:func:`sessionkit.serialization.dumps`)
    beside indexed columns for the lookups the ports need: client, date of
    service (ISO text), appointment key (unique where set), version, save
    sequence, bill-to. Sessions are keyed by their save sequence (the rowid,
    so a commit appends), with a unique index on the id; the client index
    lists a client's sessions in save order, which serves both
    ``last_saved_for`` and ``by_client``. The schema is versioned:
    ``PRAGMA application_id``, ``PRAGMA user_version`` and a
    ``sessionkit_meta`` table (schema 3: one session per date of service;
    schema 2 keyed sessions by save sequence), upgraded when opened by an
    ordered list of :data:`MIGRATIONS`. An existing file is inspected
    read-only (no side file is created) before anything is written, and
    refused with :class:`~sessionkit.errors.DatabaseError`, left
    byte-for-byte untouched, when it is not SQLite (``database.not_sqlite``),
    not sessionkit's or holding a table, index, view or trigger that no
    migration creates (``database.foreign``), written by a newer sessionkit
    (``database.too_new``), damaged (``database.damaged``: ``PRAGMA
    quick_check``, or ``integrity_check`` with ``check="full"``, fails, or
    the schema version is missing, not a whole number or recorded twice
    differently), or read-only, itself or its folder (``database.read_only``,
    before SQLite could create its ``-wal`` and ``-shm`` files). A missing
    file is created with mode 0600 (owner only; SQLite gives the ``-wal``
    and ``-shm`` files the same mode); a missing or empty file is
    initialised. Clients, payers, coverages, authorizations, billing codes
    and the practice setup keep their ``version`` in their JSON document.

Transactions
    Entering a :class:`SqliteUnitOfWork` starts a read transaction: the
    repositories see the database as it was then (snapshot isolation, as in
    the memory adapter), plus the unit's own writes, which are kept in the
    unit until :meth:`SqliteUnitOfWork.commit`. The commit is one
    ``BEGIN IMMEDIATE`` transaction: every written session's version is
    checked against the file (``DELETE ... WHERE id = ? AND version = ?``
    and a row count; the other versioned records are read back and compared
    in the same transaction), a new id or an appointment key taken meanwhile fails
    on its unique index as the sessions are inserted with ``executemany``
    (a taken id is reported first), and every write is applied all or
    nothing. So no other process is blocked while a unit is open, and
    two processes can never silently overwrite each other's sessions: the
    later one gets :class:`~sessionkit.errors.ConcurrentUpdate`.

>>> import tempfile, pathlib
>>> from datetime import date
>>> from sessionkit import ClientSession
>>> folder = tempfile.TemporaryDirectory()
>>> with SqliteDatabase(pathlib.Path(folder.name) / "practice.sqlite") as db:
...     with db.unit_of_work() as uow:
...         saved = uow.sessions.save(ClientSession(id="s1", client_id="c1",
...             date_of_service=date(2026, 3, 2), billing_code="90834", charge="140"))
...         uow.commit()
...     with db.unit_of_work() as uow:
...         uow.sessions.get("s1").charge
Money('140.00')
>>> folder.cleanup()
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import sqlite3
import threading
import urllib.parse
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

import attrs

from sessionkit import serialization
from sessionkit.adapters.memory import stale_record
from sessionkit.codes import hcpcs, icd10
from sessionkit.domain import (
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Payer,
    PracticeSetup,
)
from sessionkit.domain.session import refuse_locked_change, with_version
from sessionkit.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    DatabaseError,
    InvalidValue,
    NotFound,
    TransactionError,
)
from sessionkit.facts import active_coverages, coverage_order
from sessionkit.routing import Destination, routed_to

if TYPE_CHECKING:
    from sessionkit.ports import SessionRepository, UnitOfWork

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SqliteDatabase",
    "SqliteUnitOfWork",
    "open_database",
]

V = TypeVar("V")

APPLICATION_ID: Final = 0x536B4954
"""``PRAGMA application_id`` of a sessionkit database (``"SkIT"``)."""

_HEADER: Final = b"SQLite format 3\x00"
_CHUNK: Final = 500  # ids per ``IN (...)`` query, well under SQLite's variable limit


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
)
"""The schema, one tuple of steps per version: ``MIGRATIONS[n]`` upgrades version ``n`` to ``n + 1``.

Files written by every earlier version exist, so a migration is never
changed once released; a new version appends one.
"""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this sessionkit writes (``PRAGMA user_version``)."""


# -- opening a file ---------------------------------------------------------------------


def _has_log(path: Path) -> bool:
    return path.with_name(path.name + "-wal").exists()


def _read_only_uri(path: Path) -> str:
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    if not _has_log(path):
        # No write-ahead log: the file alone is the database. Reading it as
        # immutable creates no -wal/-shm files beside someone else's file.
        uri += "&immutable=1"
    return uri


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

Check = Literal["quick", "full"]
"""How :class:`SqliteDatabase` checks a file before writing: ``PRAGMA quick_check`` or ``integrity_check``."""

_CHECK_PRAGMA: Final[dict[str, str]] = {"quick": "quick_check", "full": "integrity_check"}


def _foreign(what: str = "an SQLite database that sessionkit did not create") -> DatabaseError:
    return DatabaseError(f"the file is {what}", "database.foreign")


def _damaged(why: str = "the file is damaged or not a database") -> DatabaseError:
    return DatabaseError(f"{why}; restore it from a backup", "database.damaged")


def _inspect(path: Path, check: Check) -> int:
    """The schema version of an existing file (0: missing or empty, to initialise); raise if not usable.

    Reads only (the header bytes, then a read-only connection that creates
    no side file): whether the file is SQLite, sessionkit's (application id,
    and no table, index, view or trigger that :data:`MIGRATIONS` does not
    create), of a known schema version stored as a whole number in both
    places, and undamaged (``PRAGMA quick_check`` or ``integrity_check``).
    """
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return 0
    except OSError:
        raise DatabaseError("the database file cannot be read", "database.unreadable") from None
    if not header:
        return 0
    if len(header) < len(_HEADER) or not header.startswith(_HEADER):
        raise DatabaseError("the file is not an SQLite database", "database.not_sqlite")
    logged = _has_log(path)
    try:
        return _inspect_once(path, check)
    except DatabaseError as exc:
        if exc.code != "database.damaged" or logged or not _has_log(path):
            raise
    # Read as immutable, the file looked damaged, but a writer has started
    # since (its -wal file appeared) and may have changed pages under the
    # check: read it again through that log, which gives a consistent view.
    return _inspect_once(path, check)


def _inspect_once(path: Path, check: Check) -> int:
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, isolation_level=None, timeout=5.0)
    except sqlite3.Error:
        raise DatabaseError("the database file cannot be opened", "database.unreadable") from None
    try:
        return _inspect_connection(conn, check)
    except sqlite3.DatabaseError:
        raise _damaged() from None
    finally:
        conn.close()


def _inspect_connection(conn: sqlite3.Connection, check: Check) -> int:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = {(kind, name) for kind, name in conn.execute("SELECT type, name FROM sqlite_master")}
    if app_id == 0 and user_version == 0 and not objects:
        return 0
    if app_id != APPLICATION_ID:
        raise _foreign()
    if any(obj not in _OWN_OBJECTS and not obj[1].startswith("sqlite_") for obj in objects):
        raise _foreign(
            "a sessionkit database holding tables, views, indexes or triggers sessionkit did not create"
        )
    if not objects and user_version == 0:
        return 0
    row = None
    if ("table", "sessionkit_meta") in objects:
        row = conn.execute(
            "SELECT value, typeof(value) FROM sessionkit_meta WHERE key = 'schema_version'"
        ).fetchone()
    if row is None:
        raise _damaged("the database has no schema version")
    meta_version, kind = row
    if kind != "integer":
        raise _damaged("the schema version stored in the database is not a whole number")
    _check_version(max(int(user_version), meta_version))
    if meta_version != user_version:
        raise _damaged("the database's two records of its schema version differ")
    result = conn.execute(f"PRAGMA {_CHECK_PRAGMA[check]}(1)").fetchone()
    if result is None or result[0] != "ok":
        raise _damaged("the database file is damaged (its integrity check failed)")
    return int(user_version)


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database was written by a newer sessionkit (schema {version}, this one reads up to "
            f"{SCHEMA_VERSION}); upgrade sessionkit to open it",
            "database.too_new",
        )


def _writable(path: Path) -> bool:
    """Whether ``path`` may be written: by the process, and by someone (a file or folder marked read-only is not)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return True  # missing: creating it reports the problem
    return os.access(path, os.W_OK) and bool(mode & 0o222)


def _check_writable(path: Path) -> None:
    """Refuse a read-only file, or a file in a read-only folder, before SQLite creates its -wal and -shm beside it."""
    if str(path) == ":memory:":
        return
    if not (_writable(path) and _writable(path.absolute().parent)):
        raise DatabaseError(
            "the database file or its folder is read-only; sessionkit writes the file and keeps its "
            "-wal and -shm files beside it, so both must be writable",
            "database.read_only",
        )


def _create(path: Path) -> None:
    """Create a missing database file readable and writable by its owner only (0600), before SQLite opens it."""
    if str(path) == ":memory:":
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # created meanwhile (another process): its mode is its creator's
    except OSError:
        raise DatabaseError("the database file cannot be created", "database.unreadable") from None
    os.close(fd)


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=timeout, check_same_thread=False)
    except sqlite3.Error:
        raise DatabaseError("the database file cannot be opened", "database.unreadable") from None
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


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


class SqliteDatabase:
    """One sessionkit database file; :meth:`unit_of_work` makes the units of work over it.

    :param path: the file; created (mode 0600: owner only) and initialised
        when missing, initialised when empty.
    :param timeout: seconds to wait for another process's write (busy timeout).
    :param check: how the file is checked when opened, before anything is
        written: ``"quick"`` (``PRAGMA quick_check``, the default: every page
        and b-tree is well formed) or ``"full"`` (``PRAGMA integrity_check``:
        also that every index matches its table, about 7 times slower).
    :raises DatabaseError: ``database.not_sqlite``, ``database.foreign``,
        ``database.too_new``, ``database.damaged`` (including a failed
        integrity check or a schema version that is not a whole number),
        ``database.read_only`` (the file or its folder cannot be written) or
        ``database.unreadable``; the file is then left untouched, and no
        ``-wal``, ``-shm`` or ``-journal`` file is created beside it.

    Use it as a context manager, or call :meth:`close`. Each unit of work
    uses a connection of its own while it is active (idle connections are
    kept for reuse), so several units may be open at once.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0, check: Check = "quick") -> None:
        if check not in _CHECK_PRAGMA:
            raise InvalidValue("check must be 'quick' or 'full'", "database.check", "check")
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        _inspect(self.path, check)
        _check_writable(self.path)
        if not self.path.exists():
            _create(self.path)
        conn = _connect(self.path, timeout)
        try:
            _migrate(conn)
        except sqlite3.DatabaseError:
            conn.close()
            raise DatabaseError("the file is damaged or not a database", "database.damaged") from None
        except BaseException:
            conn.close()
            raise
        self._idle.append(conn)

    @property
    def schema_version(self) -> int:
        """The schema version of the file (after opening: :data:`SCHEMA_VERSION`)."""
        conn = self.acquire()
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            self.release(conn)

    def unit_of_work(self) -> SqliteUnitOfWork:
        """A new unit of work over this database (use it in a ``with`` block)."""
        return SqliteUnitOfWork(self)

    def acquire(self) -> sqlite3.Connection:
        """A connection for one unit of work (raises DatabaseError ``database.closed`` after close)."""
        with self._lock:
            if self._closed:
                raise DatabaseError("the database is closed", "database.closed")
            if self._idle:
                return self._idle.pop()
        return _connect(self.path, self.timeout)

    def release(self, conn: sqlite3.Connection) -> None:
        """Give back a connection taken with :meth:`acquire`."""
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; units still active close theirs when they end."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> SqliteDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.path)!r})"


def open_database(
    path: str | os.PathLike[str], *, timeout: float = 5.0, check: Check = "quick"
) -> SqliteDatabase:
    """Open (creating or upgrading when needed) the sessionkit database at ``path``; see :class:`SqliteDatabase`."""
    return SqliteDatabase(path, timeout=timeout, check=check)


# -- repositories ---------------------------------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


_DECODED_MAX = 10_000


def _doc_version(doc: str) -> int | None:
    """The ``version`` of a stored record's document (0 when it has none: written before records had one)."""
    try:
        data = json.loads(doc)
    except ValueError:
        return None  # never equal to an expected version: the commit refuses
    version = data.get("version", 0) if isinstance(data, dict) else None
    return version if type(version) is int else None


class _Keyed(Generic[V]):
    """get/find/add/put/list over one table: the snapshot in SQLite plus this unit's writes.

    Versioned records (every kind but diagnoses) follow the session rule: a
    put must carry the stored version (0 for a new record) and stores
    ``version + 1``; ``expected`` keeps, for each key written in the unit,
    its version in the snapshot, which the commit checks against the file
    (the version lives in the JSON document).
    """

    _what = "record"
    _versioned = True
    _type: type[V]
    _table = ""
    _key_column = "id"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes: dict[str, V | None] = {}
        """This unit's writes by key (``None``: deleted)."""
        self._decoded: dict[str, V] = {}
        """Documents read in this unit, decoded once (the objects are immutable)."""
        self._queries: dict[tuple[str, tuple[Any, ...]], builtins.list[V]] = {}
        """Answers of queries read in this unit, until it writes to this repository."""
        self.expected: dict[str, int | None] = {}
        """For each key written in this unit: the record's version in the snapshot (None: absent)."""

    def _key(self, record: V) -> str:
        return str(record.id)  # type: ignore[attr-defined]

    def _normal(self, key: str) -> str | None:
        return key if isinstance(key, str) else None

    def columns(self, record: V) -> tuple[Any, ...]:
        """The values of the table's indexed columns after the key (none by default)."""
        return ()

    def _load(self, doc: str) -> V:
        hit = self._decoded.get(doc)
        if hit is None:
            hit = serialization.loads(doc, self._type)
            if len(self._decoded) < _DECODED_MAX:
                self._decoded[doc] = hit
        return hit

    def _dump(self, record: V) -> str:
        return serialization.dumps(record)

    def get(self, key: str) -> V:
        """The record with this key; raises NotFound (code ``<kind>.not_found``)."""
        found = self.find(key)
        if found is None:
            raise NotFound(f"{self._what} not found", f"{self._what}.not_found")
        return found

    def find(self, key: str) -> V | None:
        """The record with this key, or None."""
        normal = self._normal(key)
        if normal is None:
            return None
        if normal in self.writes:
            return self.writes[normal]
        memo_key = ("=", (normal,))
        if memo_key in self._queries:
            hit = self._queries[memo_key]
            return hit[0] if hit else None
        row = self._conn.execute(
            f"SELECT doc FROM {self._table} WHERE {self._key_column} = ?",  # noqa: S608 - fixed names
            (normal,),
        ).fetchone()
        found = None if row is None else self._load(row[0])
        if len(self._queries) < _DECODED_MAX:
            self._queries[memo_key] = [] if found is None else [found]
        return found

    def add(self, record: V) -> None:
        """Insert; raises AlreadyExists (code ``<kind>.exists``) when the key is taken."""
        if self.find(self._key(record)) is not None:
            raise AlreadyExists(f"{self._what} already exists", f"{self._what}.exists")
        self.put(record)

    def put(self, record: V) -> None:
        """Insert or replace; the stored record has its version bumped.

        Raises ConcurrentUpdate (``<kind>.version``) when the record's
        version is not the stored one (0 for a new record); nothing is
        written then.
        """
        key = self._key(record)
        if self._versioned:
            stored = self.find(key)
            version = record.version  # type: ignore[attr-defined]
            if version != (0 if stored is None else stored.version):  # type: ignore[attr-defined]
                raise stale_record(self._what)
            if key not in self.expected:
                self.expected[key] = None if stored is None else stored.version  # type: ignore[attr-defined]
            record = attrs.evolve(record, version=version + 1)  # type: ignore[misc]
        self.writes[key] = record
        self._queries.clear()

    def _remove(self, key: str) -> None:
        stored = self.get(key)
        if self._versioned and key not in self.expected:
            self.expected[key] = stored.version  # type: ignore[attr-defined]
        self.writes[key] = None
        self._queries.clear()

    def _where(self, where: str, params: Sequence[Any], keep: Callable[[V], bool]) -> builtins.list[V]:
        """Records matching ``where`` in SQLite (unless rewritten here) and the written ones ``keep`` accepts."""
        # The unit reads one snapshot, so a query's answer holds until this
        # repository is written to (put and delete clear the memo).
        memo_key = (where, tuple(params))
        hit = self._queries.get(memo_key)
        if hit is not None:
            return builtins.list(hit)
        sql = f"SELECT {self._key_column}, doc FROM {self._table} {where}"  # noqa: S608 - fixed names
        writes = self.writes
        found = [self._load(doc) for key, doc in self._conn.execute(sql, params) if key not in writes]
        found.extend(v for v in writes.values() if v is not None and keep(v))
        if len(self._queries) < _DECODED_MAX:
            self._queries[memo_key] = builtins.list(found)
        return found

    def list(self) -> builtins.list[V]:
        """Every record, ordered by key."""
        found = self._where("", (), lambda _: True)
        found.sort(key=self._key)
        return found

    def _check_versions(self) -> None:
        """Raise ConcurrentUpdate if a record written in the unit was changed in the file since the snapshot."""
        expected = self.expected
        if not expected:
            return
        current: dict[str, int | None] = dict.fromkeys(expected)
        keys = builtins.list(expected)
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {self._key_column}, doc FROM {self._table} WHERE {self._key_column} IN ({marks})"  # noqa: S608
            for key, doc in self._conn.execute(sql, chunk):
                current[key] = _doc_version(doc)
        if current != expected:
            raise stale_record(self._what, "by another unit of work")

    def flush(self) -> None:
        """Check versions, then write this unit's changes into the current (write) transaction."""
        self._check_versions()
        deleted = [(k,) for k, v in self.writes.items() if v is None]
        if deleted:
            self._conn.executemany(
                f"DELETE FROM {self._table} WHERE {self._key_column} = ?",  # noqa: S608 - fixed names
                deleted,
            )
        rows = [(k, *self.columns(v), self._dump(v)) for k, v in self.writes.items() if v is not None]
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self._conn.executemany(f"INSERT OR REPLACE INTO {self._table} VALUES ({marks})", rows)  # noqa: S608


class SqliteClientRepository(_Keyed[Client]):
    """Clients keyed by id. See :class:`sessionkit.ports.ClientRepository`."""

    _what = "client"
    _type = Client
    _table = "clients"


class SqlitePayerRepository(_Keyed[Payer]):
    """Payers keyed by id. See :class:`sessionkit.ports.PayerRepository`."""

    _what = "payer"
    _type = Payer
    _table = "payers"


class SqliteCoverageRepository(_Keyed[Coverage]):
    """Coverages keyed by id, indexed by client. See :class:`sessionkit.ports.CoverageRepository`."""

    _what = "coverage"
    _type = Coverage
    _table = "coverages"

    def columns(self, record: Coverage) -> tuple[Any, ...]:
        """The client id column."""
        return (record.client_id,)

    def delete(self, coverage_id: str) -> None:
        """Remove a coverage; raises NotFound when there is none."""
        self._remove(coverage_id)

    def for_client(self, client_id: str) -> builtins.list[Coverage]:
        """The client's coverages in precedence order (:func:`sessionkit.facts.coverage_order`)."""
        found = self._where("WHERE client_id = ?", (client_id,), lambda c: c.client_id == client_id)
        found.sort(key=coverage_order)
        return found

    def active_on(self, client_id: str, on: date) -> builtins.list[Coverage]:
        """The client's coverages in effect on ``on``, in precedence order (:func:`sessionkit.facts.active_coverages`)."""
        return builtins.list(active_coverages(client_id, on, self.for_client(client_id)))


def _billing_key(code: str) -> str | None:
    return hcpcs.validate(code) if hcpcs.is_valid(code) else None


def _diagnosis_key(code: str) -> str | None:
    return icd10.validate(code) if icd10.is_valid(code) else None


class SqliteBillingCodeRepository(_Keyed[BillingCode]):
    """The codes setup keyed by normalised code. See :class:`sessionkit.ports.BillingCodeRepository`."""

    _what = "billing_code"
    _type = BillingCode
    _table = "billing_codes"
    _key_column = "code"

    def _key(self, record: BillingCode) -> str:
        return record.code

    def _normal(self, key: str) -> str | None:
        return _billing_key(key)


class SqliteDiagnosisCodeRepository(_Keyed[DiagnosisCode]):
    """The diagnosis setup keyed by canonical code. See :class:`sessionkit.ports.DiagnosisCodeRepository`."""

    _what = "diagnosis"
    _type = DiagnosisCode
    _table = "diagnoses"
    _key_column = "code"
    _versioned = False  # a code with the practice's label: last writer wins

    def _key(self, record: DiagnosisCode) -> str:
        return record.code

    def _normal(self, key: str) -> str | None:
        return _diagnosis_key(key)

    # The document format of a code value leaves out the description (the
    # practice's own label), which the setup must keep: store both.
    def _load(self, doc: str) -> DiagnosisCode:
        data = json.loads(doc)
        return DiagnosisCode(code=data["code"], description=data["description"])

    def _dump(self, record: DiagnosisCode) -> str:
        return json.dumps(
            {
                "schema_version": serialization.SCHEMA_VERSION,
                "code": record.code,
                "description": record.description,
            }
        )


class SqliteAuthorizationRepository(_Keyed[Authorization]):
    """Authorizations keyed by id, indexed by client. See :class:`sessionkit.ports.AuthorizationRepository`."""

    _what = "authorization"
    _type = Authorization
    _table = "authorizations"

    def columns(self, record: Authorization) -> tuple[Any, ...]:
        """The client id, start and end columns (ISO dates)."""
        return (record.client_id, record.start.isoformat(), record.end.isoformat())

    def for_client(self, client_id: str) -> builtins.list[Authorization]:
        """The client's authorizations by start date, then id."""
        found = self._where("WHERE client_id = ?", (client_id,), lambda a: a.client_id == client_id)
        found.sort(key=lambda a: (a.start, a.id))
        return found

    def active_on(self, client_id: str, on: date) -> builtins.list[Authorization]:
        """The client's authorizations with ``start <= on <= end``, by start date, then id."""
        return [a for a in self.for_client(client_id) if a.is_active(on)]


class SqlitePracticeRepository:
    """The practice setup (one row). See :class:`sessionkit.ports.PracticeRepository`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.written: PracticeSetup | None = None
        self._decoded: tuple[str, PracticeSetup] | None = None
        self.expected: int | None = None
        """The setup's version in the snapshot when the unit first put it (None: absent)."""

    def get(self) -> PracticeSetup:
        """The practice setup; raises NotFound (``practice.not_found``) before one is put."""
        found = self.find()
        if found is None:
            raise NotFound("the practice is not set up", "practice.not_found")
        return found

    def find(self) -> PracticeSetup | None:
        """The practice setup, or None."""
        if self.written is not None:
            return self.written
        if self._decoded is not None:
            return self._decoded[1]  # the unit reads one snapshot
        row = self._conn.execute("SELECT doc FROM practice WHERE id = 1").fetchone()
        if row is None:
            return None
        practice = serialization.loads(row[0], PracticeSetup)
        self._decoded = (row[0], practice)
        return practice

    def put(self, practice: PracticeSetup) -> None:
        """Set the practice setup; the stored setup has its version bumped.

        Raises ConcurrentUpdate (``practice.version``) when its version is
        not the stored one (0 before any setup).
        """
        stored = self.find()
        if practice.version != (0 if stored is None else stored.version):
            raise stale_record("practice")
        if self.written is None:
            self.expected = None if stored is None else stored.version
        self.written = attrs.evolve(practice, version=practice.version + 1)

    def flush(self) -> None:
        """Check the version, then write the setup into the current (write) transaction."""
        if self.written is not None:
            row = self._conn.execute("SELECT doc FROM practice WHERE id = 1").fetchone()
            if (None if row is None else _doc_version(row[0])) != self.expected:
                raise stale_record("practice", "by another unit of work")
            self._conn.execute(
                "INSERT OR REPLACE INTO practice (id, doc) VALUES (1, ?)",
                (serialization.dumps(self.written),),
            )


def _session_order(s: ClientSession) -> tuple[date, str]:
    return (s.date_of_service, s.id)


def _load_session(doc: str) -> ClientSession:
    return serialization.loads(doc, ClientSession)


_VERSION_CONFLICT: Final = "the session was changed since it was read"


def _version_conflict(message: str = _VERSION_CONFLICT) -> ConcurrentUpdate:
    return ConcurrentUpdate(message, "session.version", "version")


def _key_taken() -> AlreadyExists:
    return AlreadyExists(
        "another session has this appointment key", "session.appointment_key_taken", "appointment_key"
    )


class SqliteSessionRepository:
    """Client sessions with versions and a save sequence. See :class:`sessionkit.ports.SessionRepository`.

    Sessions saved in a unit count as saved after every committed session;
    the commit numbers them in the order they were saved.
    """

    def __init__(self, conn: sqlite3.Connection, coverages: SqliteCoverageRepository) -> None:
        self._conn = conn
        self._coverages = coverages
        self.writes: dict[str, ClientSession | None] = {}
        """This unit's writes by id (``None``: deleted), saved ones in the order they were last saved."""
        self.expected: dict[str, int | None] = {}
        """For each session written in this unit: its version in the snapshot (None: absent)."""
        self._keys: dict[str, str] = {}
        """Appointment key -> id, for the sessions saved in this unit."""
        self._last: dict[str, str] = {}
        """Client id -> id of the session saved last for it in this unit (a hint, checked on use)."""
        self._snapshot_has_sessions: bool | None = None
        """Whether the unit's snapshot holds any session (read once: the snapshot does not change)."""

    # reading

    def _rows(
        self, sql: str, params: Sequence[Any], keep: Callable[[ClientSession], bool]
    ) -> builtins.list[ClientSession]:
        writes = self.writes
        found = [_load_session(doc) for sid, doc in self._conn.execute(sql, params) if sid not in writes]
        if writes:
            found.extend(s for s in writes.values() if s is not None and keep(s))
            found.sort(key=_session_order)
        return found

    def get(self, session_id: str) -> ClientSession:
        """The session; raises NotFound (``session.not_found``)."""
        found = self.find(session_id)
        if found is None:
            raise NotFound("session not found", "session.not_found")
        return found

    def find(self, session_id: str) -> ClientSession | None:
        """The session, or None."""
        if session_id in self.writes:
            return self.writes[session_id]
        row = self._conn.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else _load_session(row[0])

    def list(self) -> builtins.list[ClientSession]:
        """Every session, by date of service then id."""
        return self._rows("SELECT id, doc FROM sessions ORDER BY date_of_service, id", (), lambda _: True)

    def by_client(self, client_id: str) -> builtins.list[ClientSession]:
        """The client's sessions, by date of service then id."""
        return self._rows(
            "SELECT id, doc FROM sessions WHERE client_id = ? ORDER BY date_of_service, id",
            (client_id,),
            lambda s: s.client_id == client_id,
        )

    def between(self, start: date, end: date) -> builtins.list[ClientSession]:
        """Sessions with ``start <= date_of_service <= end``, by date of service then id."""
        return self._rows(
            "SELECT id, doc FROM sessions WHERE date_of_service BETWEEN ? AND ? ORDER BY date_of_service, id",
            (start.isoformat(), end.isoformat()),
            lambda s: start <= s.date_of_service <= end,
        )

    def by_appointment_key(self, key: str) -> ClientSession | None:
        """The session imported from this calendar appointment, or None."""
        if key in self._keys:
            return self.writes[self._keys[key]]
        row = self._conn.execute("SELECT id, doc FROM sessions WHERE appointment_key = ?", (key,)).fetchone()
        if row is None or row[0] in self.writes:
            return None
        return _load_session(row[1])

    def last_saved_for(self, client_id: str) -> ClientSession | None:
        """The client's session saved last (by save sequence), or None."""
        hint = self._last.get(client_id)
        if hint is not None:  # else this unit saved nothing for the client
            saved = self.writes.get(hint)
            if saved is not None and saved.client_id == client_id:
                return saved  # saved after every other write of this unit for the client
            for s in reversed(self.writes.values()):  # in save order
                if s is not None and s.client_id == client_id:
                    return s
        rows = self._conn.execute(
            "SELECT id, doc FROM sessions WHERE client_id = ? ORDER BY save_seq DESC", (client_id,)
        )
        for sid, doc in rows:
            if sid not in self.writes:
                return _load_session(doc)
        return None

    def by_destination(self, destination: Destination) -> builtins.list[ClientSession]:
        """Deprecated: use :func:`sessionkit.routing.sessions_for` (routing is a service, not storage).

        Kept for one release; warns with :class:`DeprecationWarning`.
        """
        warnings.warn(
            "SessionRepository.by_destination is deprecated; use sessionkit.routing.sessions_for(uow, destination)",
            DeprecationWarning,
            stacklevel=2,
        )
        return routed_to(destination, self.list(), self._coverages.list())

    def count(self) -> int:
        """How many sessions there are."""
        stored = int(self._conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
        gone = sum(1 for v in self.expected.values() if v is not None)
        added = sum(1 for s in self.writes.values() if s is not None)
        return stored - gone + added

    # writing

    def _stored_versions(self, ids: Iterable[str]) -> dict[str, int | None]:
        """The current version of each id in this unit (None: absent)."""
        result: dict[str, int | None] = {}
        unknown = []
        writes = self.writes
        for sid in ids:
            if sid in writes:
                s = writes[sid]
                result[sid] = None if s is None else s.version
            else:
                result[sid] = None
                unknown.append(sid)
        if unknown and self._any_in_snapshot():
            for chunk in _chunks(unknown):
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, version FROM sessions WHERE id IN ({marks})"  # noqa: S608 - only marks
                result.update(self._conn.execute(sql, chunk).fetchall())
        return result

    def _any_in_snapshot(self) -> bool:
        """Whether the unit's snapshot holds any session (asked once per unit)."""
        if self._snapshot_has_sessions is None:
            row = self._conn.execute("SELECT 1 FROM sessions LIMIT 1").fetchone()
            self._snapshot_has_sessions = row is not None
        return self._snapshot_has_sessions

    def _any_id_stored(self, ids: Sequence[str]) -> bool:
        """Whether the file now holds a session with one of ``ids`` (asked by the commit)."""
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT 1 FROM sessions WHERE id IN ({marks}) LIMIT 1"  # noqa: S608 - only marks
            if self._conn.execute(sql, chunk).fetchone() is not None:
                return True
        return False

    def _key_owners(self, keys: Iterable[str]) -> dict[str, str]:
        """For each appointment key in use in this unit, the id of its session."""
        result: dict[str, str] = {}
        unknown = []
        for key in keys:
            if key in self._keys:
                result[key] = self._keys[key]
            else:
                unknown.append(key)
        if not self._any_in_snapshot():
            return result
        for chunk in _chunks(unknown):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT appointment_key, id FROM sessions WHERE appointment_key IN ({marks})"  # noqa: S608
            result.update((k, sid) for k, sid in self._conn.execute(sql, chunk) if sid not in self.writes)
        return result

    def save(self, session: ClientSession) -> ClientSession:
        """Store ``session`` with its version bumped and return what was stored.

        Raises ConcurrentUpdate (``session.version``) when the version is not
        the stored one (0 for a new session), AlreadyExists
        (``session.appointment_key_taken``) when another session has its
        appointment key.
        """
        return self.save_many([session])[0]

    def save_many(self, sessions: Iterable[ClientSession]) -> builtins.list[ClientSession]:
        """Save each session in order; if one fails, none of them is saved (then the error is raised)."""
        batch = builtins.list(sessions)
        versions = self._stored_versions({s.id: None for s in batch})
        owners = self._key_owners({s.appointment_key: None for s in batch if s.appointment_key is not None})
        if len(batch) == 1:
            # _save checks everything before it changes anything: nothing to restore.
            return self._save(batch, versions, owners)
        state = (dict(self.writes), dict(self.expected), dict(self._keys), dict(self._last))
        try:
            return self._save(batch, versions, owners)
        except BaseException:
            self.writes, self.expected, self._keys, self._last = state
            raise

    def _save(
        self, batch: builtins.list[ClientSession], versions: dict[str, int | None], owners: dict[str, str]
    ) -> builtins.list[ClientSession]:
        """Save ``batch`` in order; a failing session leaves the ones before it saved (save_many restores).

        ``versions`` (id -> version in this unit) and ``owners`` (appointment
        key -> id) hold every id and key of the batch and follow its saves.
        """
        writes, expected, keys, last = self.writes, self.expected, self._keys, self._last
        key_of = {sid: key for key, sid in owners.items()}
        result = []
        for session in batch:
            sid = session.id
            stored = versions[sid]
            version = session.version
            if version != (0 if stored is None else stored):
                raise _version_conflict()
            if stored is not None:
                refuse_locked_change(self.find(sid), session)
            key = session.appointment_key
            if key is not None:
                owner = owners.get(key)
                if owner is not None and owner != sid:
                    raise _key_taken()
            saved = with_version(session, version + 1)
            if sid not in expected:
                expected[sid] = stored
            # Popped and put back: the dict keeps this unit's saves in save order.
            previous = writes.pop(sid, None)
            if previous is not None and previous.appointment_key is not None:
                keys.pop(previous.appointment_key, None)
            old_key = key_of.pop(sid, None)
            if old_key is not None and old_key != key and owners.get(old_key) == sid:
                del owners[old_key]  # the key this session had (stored or saved earlier) is free again
            writes[sid] = saved
            versions[sid] = version + 1
            if key is not None:
                keys[key] = sid
                owners[key] = sid
                key_of[sid] = key
            last[session.client_id] = sid
            result.append(saved)
        return result

    def delete(self, session_id: str) -> None:
        """Remove a session; raises NotFound when there is none."""
        stored = self.get(session_id)
        if session_id not in self.expected:
            self.expected[session_id] = stored.version
        if stored.appointment_key is not None and self._keys.get(stored.appointment_key) == session_id:
            del self._keys[stored.appointment_key]
        self.writes[session_id] = None

    def flush(self) -> None:
        """Check versions and write this unit's sessions into the current (write) transaction.

        Raises ConcurrentUpdate or AlreadyExists on a conflict with what was
        committed since the snapshot.
        """
        conn = self._conn
        if not self.writes:
            return
        replaced = []
        new = []
        for sid, version in self.expected.items():
            if version is None:
                new.append(sid)
            else:
                replaced.append((sid, version))
        if replaced:
            cursor = conn.executemany("DELETE FROM sessions WHERE id = ? AND version = ?", replaced)
            if cursor.rowcount != len(replaced):
                raise _version_conflict("the session was changed by another unit of work")
        next_seq = int(conn.execute("SELECT value FROM sessionkit_meta WHERE key = 'next_seq'").fetchone()[0])
        saved = [s for s in self.writes.values() if s is not None]  # in save order
        dumps = serialization.dumps
        rows = (
            (
                seq,
                s.id,
                s.client_id,
                s.date_of_service.isoformat(),
                s.appointment_key,
                s.version,
                s.bill_to.value,
                dumps(s),
            )
            for seq, s in enumerate(saved, next_seq)
        )
        # A new id or an appointment key taken by a commit since the snapshot
        # fails on a unique index; the savepoint then takes back the rows of
        # this insert, so that the check below sees the file as it was.
        conn.execute("SAVEPOINT sessions_insert")
        try:
            conn.executemany(
                "INSERT INTO sessions (save_seq, id, client_id, date_of_service, appointment_key, version,"
                " bill_to, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK TO sessions_insert")
            if "appointment_key" in str(exc) and not self._any_id_stored(new):
                raise _key_taken() from None
            raise _version_conflict("the session was changed by another unit of work") from None
        conn.execute("RELEASE sessions_insert")
        conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'next_seq'", (next_seq + len(saved),))


# -- unit of work -----------------------------------------------------------------------


class _Transaction:
    """The repositories of one unit of work over a read snapshot of the file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.clients = SqliteClientRepository(conn)
        self.payers = SqlitePayerRepository(conn)
        self.coverages = SqliteCoverageRepository(conn)
        self.billing_codes = SqliteBillingCodeRepository(conn)
        self.diagnoses = SqliteDiagnosisCodeRepository(conn)
        self.authorizations = SqliteAuthorizationRepository(conn)
        self.sessions = SqliteSessionRepository(conn, self.coverages)
        self.practice = SqlitePracticeRepository(conn)
        # Start the read transaction and take its snapshot now.
        conn.execute("BEGIN")
        conn.execute("SELECT value FROM sessionkit_meta WHERE key = 'next_seq'").fetchone()

    @property
    def dirty(self) -> bool:
        keyed: tuple[_Keyed[Any], ...] = (
            self.clients,
            self.payers,
            self.coverages,
            self.billing_codes,
            self.diagnoses,
            self.authorizations,
        )
        return any(r.writes for r in keyed) or bool(self.sessions.writes) or self.practice.written is not None

    def commit(self) -> None:
        """Apply every write in one ``BEGIN IMMEDIATE`` transaction, or none (raising)."""
        conn = self.conn
        conn.execute("COMMIT")  # ends the read transaction; nothing was written in it
        if not self.dirty:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self.sessions.flush()
            for repo in (
                self.clients,
                self.payers,
                self.coverages,
                self.billing_codes,
                self.diagnoses,
                self.authorizations,
            ):
                repo.flush()
            self.practice.flush()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


class SqliteUnitOfWork:
    """A unit of work over a :class:`SqliteDatabase`: one snapshot, one transaction.

    Semantics are those of :class:`sessionkit.adapters.memory.InMemoryUnitOfWork`
    (see the module docstring). The same object can be entered again after
    its ``with`` block ends; entering it while active raises
    :class:`~sessionkit.ports.TransactionError` (``uow.nested``).
    """

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        self._tx: _Transaction | None = None

    def _active(self) -> _Transaction:
        if self._tx is None:
            raise TransactionError("the unit of work is used outside its with block", "uow.inactive")
        return self._tx

    @property
    def clients(self) -> SqliteClientRepository:
        """The clients of this unit of work."""
        return self._active().clients

    @property
    def payers(self) -> SqlitePayerRepository:
        """The payers of this unit of work."""
        return self._active().payers

    @property
    def coverages(self) -> SqliteCoverageRepository:
        """The coverages of this unit of work."""
        return self._active().coverages

    @property
    def billing_codes(self) -> SqliteBillingCodeRepository:
        """The codes setup of this unit of work."""
        return self._active().billing_codes

    @property
    def diagnoses(self) -> SqliteDiagnosisCodeRepository:
        """The diagnosis setup of this unit of work."""
        return self._active().diagnoses

    @property
    def authorizations(self) -> SqliteAuthorizationRepository:
        """The authorizations of this unit of work."""
        return self._active().authorizations

    @property
    def sessions(self) -> SqliteSessionRepository:
        """The sessions of this unit of work."""
        return self._active().sessions

    @property
    def practice(self) -> SqlitePracticeRepository:
        """The practice setup of this unit of work."""
        return self._active().practice

    @property
    def active(self) -> bool:
        """True inside the ``with`` block."""
        return self._tx is not None

    def __enter__(self) -> SqliteUnitOfWork:
        if self._tx is not None:
            raise TransactionError("the unit of work is already active", "uow.nested")
        conn = self.database.acquire()
        try:
            self._tx = _Transaction(conn)
        except BaseException:
            self.database.release(conn)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tx, self._tx = self._tx, None
        if tx is not None:
            self.database.release(tx.conn)

    def _restart(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        self._tx = _Transaction(conn)

    def commit(self) -> None:
        """Apply every write atomically, then continue with a fresh snapshot.

        Raises ConcurrentUpdate or AlreadyExists (and applies nothing,
        discarding this unit's writes) on a conflict with a commit made since
        the snapshot.
        """
        tx = self._active()
        try:
            tx.commit()
        finally:
            self._restart(tx.conn)

    def rollback(self) -> None:
        """Discard every write of this unit, continuing with a fresh snapshot."""
        tx = self._active()
        self._restart(tx.conn)


if TYPE_CHECKING:  # the SQLite adapters satisfy every port (checked by mypy)
    _UOW: UnitOfWork = SqliteUnitOfWork(SqliteDatabase(":memory:"))
    _SESSIONS: SessionRepository = _UOW.sessions
