"""The SQLite repositories: every repository port of :mod:`sessionkit.ports` over one connection."""

from __future__ import annotations

import builtins
import json
import operator
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

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
    NotFound,
)
from sessionkit.facts import active_coverages, coverage_order
from sessionkit.routing import Destination, routed_to

if TYPE_CHECKING:
    pass

__all__ = [
    "SqliteAuthorizationRepository",
    "SqliteBillingCodeRepository",
    "SqliteClientRepository",
    "SqliteCoverageRepository",
    "SqliteDiagnosisCodeRepository",
    "SqlitePayerRepository",
    "SqlitePracticeRepository",
    "SqliteSessionRepository",
]

V = TypeVar("V")

_CHUNK: Final = 500  # ids per ``IN (...)`` query, well under SQLite's variable limit


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


_WIDE_CACHE_FROM: Final = 5_000
"""Sessions in one commit from which the insert runs with the wider page cache."""
_WIDE_CACHE: Final = -65_536
"""``PRAGMA cache_size`` of a large insert: 64 MiB at most (pages are taken as needed, then freed)."""

_VERSION_CONFLICT: Final = "the session was changed since it was read"


def _drop_lookup_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the sessions table's lookup indexes (not the unique ones); return the SQL that makes them again.

    For an insert that at least doubles the table: building an index once from
    the rows costs less than placing every new row in it. Called inside the
    insert's savepoint, so a failed insert takes the drop back with its rows;
    the unique indexes stay, and still refuse a taken id or appointment key.
    """
    unique = {row[1] for row in conn.execute("PRAGMA index_list(sessions)") if row[2]}
    found = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND sql IS NOT NULL"
            " ORDER BY name"
        )
        if name not in unique
    ]
    for name, _ in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


_date_of: Final = operator.attrgetter("date_of_service")


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

    def client_ids(self) -> builtins.list[str]:
        """The ids of the clients that have sessions, sorted (the client index answers it)."""
        ids: set[str] = {row[0] for row in self._conn.execute("SELECT DISTINCT client_id FROM sessions")}
        if self.writes:  # this unit's saves and deletes
            touched = {s.client_id for s in self.writes.values() if s is not None}
            for sid, s in self.writes.items():
                if s is None:
                    row = self._conn.execute("SELECT client_id FROM sessions WHERE id = ?", (sid,)).fetchone()
                    if row is not None:
                        touched.add(row[0])
            ids = {i for i in ids | touched if i not in touched or self.by_client(i)}
        return sorted(ids)

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
        if len(batch) > 1:
            fast = self._save_new(batch)
            if fast is not None:
                return fast
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

    def _save_new(self, batch: builtins.list[ClientSession]) -> builtins.list[ClientSession] | None:
        """Save ``batch`` in bulk when it is proven to be all new sessions; None (nothing done) otherwise.

        Proven: every version is 0, the ids are unique and none of them is
        written in this unit (saved or deleted) or stored in the snapshot, the
        appointment keys are unique, none is used in this unit and none is
        stored in the snapshot. Each session then saves as in :meth:`_save`
        with nothing to refuse: stored as version 1, appended to the writes in
        batch order, expected absent, its key owned by it, the client's last
        save the batch's last one for that client. Any condition not proven
        (a stored key whose session this unit rewrote, for one) leaves the
        batch to :meth:`_save`, which decides it one session at a time.
        """
        ids = [s.id for s in batch if s.version == 0]
        new_ids = dict.fromkeys(ids)  # shorter than the batch: a version not 0, or an id twice
        writes = self.writes
        if len(new_ids) != len(batch) or not writes.keys().isdisjoint(new_ids):
            return None
        keyed = [(s.appointment_key, s.id) for s in batch if s.appointment_key is not None]
        key_owners = dict(keyed)
        if len(key_owners) != len(keyed) or not self._keys.keys().isdisjoint(key_owners):
            return None
        if self._any_in_snapshot() and (
            self._any_stored("id", ids) or self._any_stored("appointment_key", builtins.list(key_owners))
        ):
            return None
        saved = [with_version(s, 1) for s in batch]
        state = (dict(writes), dict(self.expected), dict(self._keys), dict(self._last))
        try:
            writes.update(zip(ids, saved, strict=True))
            self.expected.update(new_ids)  # every value None: absent from the snapshot
            self._keys.update(key_owners)
            self._last.update({s.client_id: s.id for s in batch})  # the last of each client's wins
        except BaseException:  # pragma: no cover - only an interrupt between the updates
            self.writes, self.expected, self._keys, self._last = state
            raise
        return saved

    def _any_stored(self, column: str, values: Sequence[str]) -> bool:
        """Whether the file holds a session whose ``column`` (id or appointment_key) is one of ``values``.

        Read in the unit's snapshot; at the commit (in the write transaction), the file as it is now.
        """
        for chunk in _chunks(values):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT 1 FROM sessions WHERE {column} IN ({marks}) LIMIT 1"  # noqa: S608 - fixed names
            if self._conn.execute(sql, chunk).fetchone() is not None:
                return True
        return False

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
        expected = self.expected
        replaced = []
        if operator.countOf(expected.values(), None) != len(expected):  # else every session is new
            replaced = [(sid, version) for sid, version in expected.items() if version is not None]
        if replaced:
            cursor = conn.executemany("DELETE FROM sessions WHERE id = ? AND version = ?", replaced)
            if cursor.rowcount != len(replaced):
                raise _version_conflict("the session was changed by another unit of work")
        next_seq = int(conn.execute("SELECT value FROM sessionkit_meta WHERE key = 'next_seq'").fetchone()[0])
        saved = [s for s in self.writes.values() if s is not None]  # in save order
        dumps = serialization.dumps
        # A practice's sessions share their dates: each date's text is made once.
        days = {day: day.isoformat() for day in set(map(_date_of, saved))}
        rows = (
            (
                seq,
                s.id,
                s.client_id,
                days[s.date_of_service],
                s.appointment_key,
                s.version,
                s.bill_to._value_,  # the member's value without the enum's property lookup
                dumps(s),
            )
            for seq, s in enumerate(saved, next_seq)
        )
        # A new id or an appointment key taken by a commit since the snapshot
        # fails on a unique index; the savepoint then takes back the rows of
        # this insert, so that the check below sees the file as it was.
        conn.execute("SAVEPOINT sessions_insert")
        # A large insert puts entries all over the date and client indexes: with SQLite's default
        # page cache (2 MiB) their pages are written out and read back again and again, which
        # grows the cost per session with the size of the file. The cache is widened for the
        # insert only (a connection setting: durability is unchanged) and then given back.
        cache = None
        rebuilt: list[str] = []
        if len(saved) >= _WIDE_CACHE_FROM:
            cache = conn.execute("PRAGMA cache_size").fetchone()[0]
            conn.execute(f"PRAGMA cache_size = {_WIDE_CACHE}")
            if len(saved) >= next_seq - 1:  # at least as many new rows as were ever stored
                rebuilt = _drop_lookup_indexes(conn)
        try:
            conn.executemany(
                "INSERT INTO sessions (save_seq, id, client_id, date_of_service, appointment_key, version,"
                " bill_to, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            for sql in rebuilt:
                conn.execute(sql)
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK TO sessions_insert")
            new = [sid for sid, version in expected.items() if version is None]
            if "appointment_key" in str(exc) and not self._any_stored("id", new):
                raise _key_taken() from None
            raise _version_conflict("the session was changed by another unit of work") from None
        finally:
            if cache is not None:
                conn.execute(f"PRAGMA cache_size = {int(cache)}")
        conn.execute("RELEASE sessions_insert")
        conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'next_seq'", (next_seq + len(saved),))
