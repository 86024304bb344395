"""Opening a sessionkit SQLite file: inspect it read-only, refuse what is not ours, upgrade it."""

from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from sessionkit.adapters.sqlite.schema import (
    _OWN_OBJECTS,
    APPLICATION_ID,
    _check_version,
    _migrate,
)
from sessionkit.adapters.sqlite.unit_of_work import SqliteUnitOfWork
from sessionkit.errors import (
    DatabaseError,
    InvalidValue,
)

__all__ = ["Check", "SqliteDatabase", "open_database"]


_HEADER: Final = b"SQLite format 3\x00"


def _has_log(path: Path) -> bool:
    return path.with_name(path.name + "-wal").exists()


def _read_only_uri(path: Path) -> str:
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    if not _has_log(path):
        # No write-ahead log: the file alone is the database. Reading it as
        # immutable creates no -wal/-shm files beside someone else's file.
        uri += "&immutable=1"
    return uri


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
