"""PostgreSQL repositories: the SQLite adapter's reads over a PostgreSQL connection, writes of their own.

The SQLite repositories keep a unit's writes in the unit and read the
database's snapshot through a DB-API style ``execute``; their SQL (plain
``SELECT ... WHERE``, ``?`` parameters) reads PostgreSQL's tables unchanged
through :class:`PgConnection`, which only swaps the parameter marks. So
every read has the same answer and the same order on both adapters. None of
the SQL names the practice: the row-level security policies of
:mod:`sessionkit.adapters.postgres.schema` show only the practice bound to
the transaction, and the ``practice_id`` column defaults to it.

What differs is the commit (``flush``): it runs inside the unit's own
``REPEATABLE READ`` transaction, where a row changed or deleted by a commit
made since the snapshot makes a ``DELETE ... AND version = ...`` fail with a
serialization failure, and a key taken meanwhile fails on its unique index;
both become :class:`~sessionkit.errors.ConcurrentUpdate` (or
:class:`~sessionkit.errors.AlreadyExists` for an appointment key, a second
live claim, a second invoice line).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

import psycopg
from psycopg import errors as pg_errors

from sessionkit import serialization
from sessionkit.adapters.memory import stale_record
from sessionkit.adapters.postgres._text import ESC, doc_needs_escape, escape, escape_doc
from sessionkit.adapters.sqlite.billing import (
    SqliteClaimRecordRepository,
    SqliteInvoiceRepository,
)
from sessionkit.adapters.sqlite.ledger import (
    SqliteAdjudicationRepository,
    SqlitePaymentRepository,
    _adjudication_exists,
    _already_posted,
    _idempotency_key_taken,
    _payment_changed,
    _payment_exists,
)
from sessionkit.adapters.sqlite.repositories import (
    SqliteAuthorizationRepository,
    SqliteBillingCodeRepository,
    SqliteClientRepository,
    SqliteCoverageRepository,
    SqliteDiagnosisCodeRepository,
    SqlitePayerRepository,
    SqlitePracticeRepository,
    SqliteSessionRepository,
    _key_taken,
    _version_conflict,
)
from sessionkit.domain import PracticeSetup, _checks
from sessionkit.errors import AlreadyExists, DatabaseError

__all__ = [
    "PgAdjudicationRepository",
    "PgAuthorizationRepository",
    "PgBillingCodeRepository",
    "PgClaimRecordRepository",
    "PgClientRepository",
    "PgConnection",
    "PgControlNumbers",
    "PgCoverageRepository",
    "PgDiagnosisCodeRepository",
    "PgInvoiceRepository",
    "PgPayerRepository",
    "PgPaymentRepository",
    "PgPracticeRepository",
    "PgSessionRepository",
]

Connection = psycopg.Connection[tuple[Any, ...]]


class PgConnection:
    """The ``execute`` of :class:`sqlite3.Connection` over a psycopg connection (``?`` -> ``%s``), for reads."""

    def __init__(self, conn: Connection) -> None:
        self.raw = conn
        self._sql: dict[str, str] = {}

    def _translate(self, sql: str) -> str:
        found = self._sql.get(sql)
        if found is None:
            found = self._sql[sql] = sql.replace("?", "%s")
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        """Run one statement (text parameters escaped); the cursor iterates over the rows."""
        values = tuple(escape(v) if isinstance(v, str) else v for v in params)
        try:
            return self.raw.execute(self._translate(sql).encode(), values)
        except psycopg.Error as exc:
            raise database_error(exc) from None

    def as_sqlite(self) -> sqlite3.Connection:
        """This object typed as what the SQLite repositories take (they use ``execute`` only to read)."""
        return cast(sqlite3.Connection, self)


def unavailable() -> DatabaseError:
    """The error for a server that went away (restarted, unreachable): nothing of the unit was written."""
    return DatabaseError(
        "the database server closed the connection; nothing of this unit of work was written",
        "database.unavailable",
    )


def database_error(exc: psycopg.Error) -> DatabaseError:
    """A psycopg error as DatabaseError, naming only its SQLSTATE (the server's message may quote data)."""
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, pg_errors.QueryCanceled):
        return unavailable()
    return DatabaseError(
        f"the database server refused a statement (SQLSTATE {exc.sqlstate or 'none'})", "database.refused"
    )


def insert(
    raw: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (in order) into ``table`` in one statement; ``columns`` are (name, SQL type).

    Each column travels as ONE text value, its values escaped (see
    :mod:`sessionkit.adapters.postgres._text`) and joined by a separator that
    escaped text cannot hold, split by the server (``string_to_array``) and
    cast to its type, so the server gets one statement however many rows,
    the client does no work per value beyond a join, and identity columns
    number the rows in the order given.
    """
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    cast_ = ", ".join(f"c{i}::{kind}" for i, (_, kind) in enumerate(columns))
    arrays = ", ".join([_SPLIT] * len(columns))
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {cast_} FROM unnest({arrays})"  # noqa: S608 - fixed names
        f" WITH ORDINALITY AS u({aliases}, n) WHERE n > 1 ORDER BY n"
    )
    params = [
        column_text(v, doc=kind == "jsonb")
        for v, (_, kind) in zip(zip(*rows, strict=True), columns, strict=True)
    ]
    raw.execute(sql.encode(), params)


# A column's text, as bytes (UTF-8): each value preceded by the separator (the
# first element, empty, is dropped by ``WHERE n > 1``: it keeps a single empty
# string from being split into no element at all), NULL as the null string.
# Escaped text holds no NUL and no ESC followed by anything but ESC or "0", so
# it can neither hold the separator (a character other than ESC, then ESC, then
# "1": an ESC after another character starts a run of ESC) nor equal the null
# string (ESC + "2"). The values are joined by NUL (the search for NUL and ESC
# is one pass over the column) and NUL becomes the separator in the bytes.
_SEP: Final = ("\x01" + ESC + "1").encode()
_NULL: Final = ESC + "2"
_SPLIT: Final = (
    "string_to_array(convert_from(%b::bytea, 'UTF8'), chr(1) || chr(1114111) || '1', chr(1114111) || '2')"
)


def column_text(values: Sequence[Any], *, doc: bool) -> bytes:
    """The values of one column (str, None, numbers, dates) as the text :func:`insert` sends."""
    try:
        joined = "\x00".join(values)  # nearly always: every value a str
        nulls = 0
    except TypeError:
        nulls = values.count(None)
        if nulls:
            joined = "\x00".join([_NULL if v is None else str(v) for v in values])
        else:  # numbers, dates
            joined = "\x00".join(map(str, values))
    if (
        joined.count(ESC) != nulls
        or joined.count("\x00") != len(values) - 1
        or (doc and doc_needs_escape(joined))
    ):
        fix = escape_doc if doc else escape  # some value holds NUL or ESC: each escaped, as it used to be
        joined = "\x00".join(
            [_NULL if v is None else fix(v) if isinstance(v, str) else str(v) for v in values]
        )
    return _SEP + joined.encode().replace(b"\x00", _SEP)


_UNIQUE: Final = (pg_errors.UniqueViolation,)
_CONFLICT: Final = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


@contextlib.contextmanager
def conflicts_as(what: str) -> Iterator[None]:
    """Turn a write conflict with a concurrent commit into ConcurrentUpdate (``<what>.version``)."""
    try:
        yield
    except (*_CONFLICT, *_UNIQUE):
        raise stale_record(what, "by another unit of work") from None


class _PgKeyed:
    """The commit of a keyed repository: conditional deletes of the replaced rows, then inserts."""

    _what: str
    _table: str
    _key_column: str
    _versioned: bool
    _columns: tuple[tuple[str, str], ...] = ()
    _entries = ""
    writes: dict[str, Any]
    expected: dict[str, int | None]
    pg: PgConnection

    if TYPE_CHECKING:  # given by the SQLite repository this is mixed into

        def columns(self, record: Any) -> tuple[Any, ...]: ...
        def _dump(self, record: Any) -> str: ...

    def flush(self) -> None:
        """Write this unit's changes into the unit's transaction (ConcurrentUpdate on a conflict)."""
        if not self.writes:
            return
        raw = self.pg.raw
        table, key = self._table, self._key_column
        with conflicts_as(self._what):
            if self._versioned:
                replaced = [(k, v) for k, v in self.expected.items() if v is not None]
                if replaced:
                    cursor = raw.execute(
                        f"DELETE FROM {table} WHERE ({key}, version) IN"  # noqa: S608 - fixed names
                        " (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
                        ([escape(k) for k, _ in replaced], [v for _, v in replaced]),
                    )
                    if cursor.rowcount != len(replaced):
                        raise stale_record(self._what, "by another unit of work")
            else:
                table = self._entries  # last writer wins: an appended entry, never a conflict
            rows = [
                (k, *self.columns(v), getattr(v, "version", 0), self._dump(v))
                for k, v in self.writes.items()
                if v is not None
            ]
            insert(raw, table, [(key, "text"), *self._columns, ("version", "bigint"), ("doc", "jsonb")], rows)


class PgClientRepository(_PgKeyed, SqliteClientRepository):
    """Clients of the unit's practice. See :class:`sessionkit.ports.ClientRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgPayerRepository(_PgKeyed, SqlitePayerRepository):
    """Payers of the unit's practice. See :class:`sessionkit.ports.PayerRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgCoverageRepository(_PgKeyed, SqliteCoverageRepository):
    """Coverages of the unit's practice. See :class:`sessionkit.ports.CoverageRepository`."""

    _columns = (("client_id", "text"),)

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgBillingCodeRepository(_PgKeyed, SqliteBillingCodeRepository):
    """The codes setup of the unit's practice. See :class:`sessionkit.ports.BillingCodeRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgDiagnosisCodeRepository(_PgKeyed, SqliteDiagnosisCodeRepository):
    """The diagnosis setup of the unit's practice (last writer wins). See :class:`sessionkit.ports.DiagnosisCodeRepository`.

    Read from the view ``diagnoses`` (each code's latest entry); a put appends
    to ``diagnosis_entries``, which never conflicts with a concurrent commit.
    """

    _entries = "diagnosis_entries"

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgAuthorizationRepository(_PgKeyed, SqliteAuthorizationRepository):
    """Authorizations of the unit's practice. See :class:`sessionkit.ports.AuthorizationRepository`."""

    _columns = (("client_id", "text"), ("start", "date"), ('"end"', "date"))

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn


class PgPracticeRepository(SqlitePracticeRepository):
    """The setup of the unit's practice. See :class:`sessionkit.ports.PracticeRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn

    def find(self) -> PracticeSetup | None:
        """The practice setup, or None."""
        if self.written is not None:
            return self.written
        if self._decoded is not None:
            return self._decoded[1]  # the unit reads one snapshot
        row = self.pg.execute("SELECT doc FROM practice").fetchone()
        if row is None:
            return None
        practice = serialization.loads(row[0], PracticeSetup)
        self._decoded = (row[0], practice)
        return practice

    def flush(self) -> None:
        """Replace the setup if its version is still the one read, in the unit's transaction."""
        written = self.written
        if written is None:
            return
        raw = self.pg.raw
        with conflicts_as("practice"):
            if self.expected is not None:
                cursor = raw.execute("DELETE FROM practice WHERE version = %s", (self.expected,))
                if cursor.rowcount != 1:
                    raise stale_record("practice", "by another unit of work")
            raw.execute(
                "INSERT INTO practice (version, doc) VALUES (%s, %s)",
                (written.version, escape_doc(serialization.dumps(written))),
            )


class PgSessionRepository(SqliteSessionRepository):
    """Sessions of the unit's practice. See :class:`sessionkit.ports.SessionRepository`."""

    def __init__(self, conn: PgConnection, coverages: PgCoverageRepository) -> None:
        super().__init__(conn.as_sqlite(), coverages)
        self.pg = conn

    def flush(self) -> None:
        """Check versions and write this unit's sessions into the unit's transaction.

        Raises ConcurrentUpdate or AlreadyExists on a conflict with what was
        committed since the snapshot (a taken id is reported first).
        """
        if not self.writes:
            return
        raw = self.pg.raw
        replaced = [(sid, v) for sid, v in self.expected.items() if v is not None]
        try:
            if replaced:
                cursor = raw.execute(
                    "DELETE FROM sessions WHERE (id, version) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
                    ([escape(sid) for sid, _ in replaced], [v for _, v in replaced]),
                )
                if cursor.rowcount != len(replaced):
                    raise _version_conflict("the session was changed by another unit of work")
        except _CONFLICT:
            raise _version_conflict("the session was changed by another unit of work") from None
        dumps = serialization.dumps
        rows = [
            (s.id, s.client_id, s.date_of_service, s.appointment_key, s.version, s.bill_to.value, dumps(s))
            for s in self.writes.values()
            if s is not None
        ]  # in save order: the identity column numbers them so
        if not rows:
            return
        raw.execute("SAVEPOINT sessions_insert")
        try:
            insert(raw, "sessions", _SESSION_COLUMNS, rows)
        except _UNIQUE as exc:
            raw.execute("ROLLBACK TO SAVEPOINT sessions_insert")
            if exc.diag.constraint_name != "sessions_appointment_key":
                raise _version_conflict("the session was changed by another unit of work") from None
            try:  # the key is taken: is an id taken too? That is reported first.
                insert(raw, "sessions", _SESSION_COLUMNS, [(*r[:3], None, *r[4:]) for r in rows])
            except _UNIQUE:
                raise _version_conflict("the session was changed by another unit of work") from None
            raise _key_taken() from None
        except _CONFLICT:
            raise _version_conflict("the session was changed by another unit of work") from None


_SESSION_COLUMNS: Final = (
    ("id", "text"),
    ("client_id", "text"),
    ("date_of_service", "date"),
    ("appointment_key", "text"),
    ("version", "bigint"),
    ("bill_to", "text"),
    ("doc", "jsonb"),
)


class PgClaimRecordRepository(SqliteClaimRecordRepository):
    """Claim records of the unit's practice. See :class:`sessionkit.ports.ClaimRecordRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn

    def flush(self) -> None:
        """Write this unit's records into the unit's transaction."""
        raw = self.pg.raw
        for rid, record in self.writes.items():
            expected = self.expected[rid]
            doc = escape_doc(serialization.dumps(record))
            try:
                if expected is None:
                    raw.execute(
                        "INSERT INTO claim_records (id, client_id, created_at, version, doc) VALUES (%s, %s, %s, %s, %s)",
                        (escape(rid), escape(record.client_id), record.created_at, record.version, doc),
                    )
                else:
                    cursor = raw.execute(
                        "UPDATE claim_records SET version = %s, doc = %s WHERE id = %s AND version = %s",
                        (record.version, doc, escape(rid), expected),
                    )
                    if cursor.rowcount != 1:
                        raise stale_record("claim_record", "by another unit of work")
            except (*_CONFLICT, *_UNIQUE):
                raise stale_record("claim_record", "by another unit of work") from None
            try:
                raw.execute("DELETE FROM claim_sessions WHERE record_id = %s", (escape(rid),))
                insert(
                    raw,
                    "claim_sessions",
                    (
                        ("session_id", "text"),
                        ("record_id", "text"),
                        ("live", "integer"),
                        ("coverage_id", "text"),
                    ),
                    [(sid, rid, 1 if record.live else 0, record.coverage_id) for sid in record.session_ids],
                )
            except _UNIQUE:
                raise AlreadyExists(
                    "the session is already on a live claim", "claim_record.session_billed", "session_ids"
                ) from None
            except _CONFLICT:
                raise stale_record("claim_record", "by another unit of work") from None


class PgInvoiceRepository(SqliteInvoiceRepository):
    """Invoices of the unit's practice. See :class:`sessionkit.ports.InvoiceRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn

    def flush(self) -> None:
        """Write this unit's invoices into the unit's transaction."""
        raw = self.pg.raw
        for iid, invoice in self.writes.items():
            try:
                raw.execute(
                    "INSERT INTO invoices (id, client_id, period_start, number, doc) VALUES (%s, %s, %s, %s, %s)",
                    (
                        escape(iid),
                        escape(invoice.client_id),
                        invoice.period_start,
                        invoice.number,
                        escape_doc(serialization.dumps(invoice)),
                    ),
                )
                insert(
                    raw,
                    "invoice_lines",
                    (("session_id", "text"), ("kind", "text"), ("invoice_id", "text")),
                    [(line.session_id, line.kind.value, iid) for line in invoice.lines],
                )
            except (*_UNIQUE, *_CONFLICT):
                raise AlreadyExists(
                    "the session is already on an invoice", "invoice.session_invoiced", "lines"
                ) from None


class PgPaymentRepository(SqlitePaymentRepository):
    """The payments ledger of the unit's practice. See :class:`sessionkit.ports.PaymentRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn

    def flush(self) -> None:
        """Write this unit's payments into the unit's transaction.

        An id or idempotency key taken by a commit made since the snapshot
        fails on its unique index (AlreadyExists ``payment.exists`` or
        ``payment.idempotency_key_taken``); a payment changed meanwhile
        fails the versioned update (ConcurrentUpdate ``payment.version``).
        """
        raw = self.pg.raw
        for pid, payment in self.writes.items():
            expected = self.expected[pid]
            doc = escape_doc(serialization.dumps(payment))
            key = None if payment.idempotency_key is None else escape(payment.idempotency_key)
            try:
                if expected is None:
                    raw.execute(
                        "INSERT INTO payments (id, client_id, received_at, status, idempotency_key, version, doc)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (
                            escape(pid),
                            escape(payment.client_id),
                            payment.received_at,
                            payment.status.value,
                            key,
                            payment.version,
                            doc,
                        ),
                    )
                else:
                    cursor = raw.execute(
                        "UPDATE payments SET client_id = %s, received_at = %s, status = %s, version = %s, doc = %s"
                        " WHERE id = %s AND version = %s",
                        (
                            escape(payment.client_id),
                            payment.received_at,
                            payment.status.value,
                            payment.version,
                            doc,
                            escape(pid),
                            expected,
                        ),
                    )
                    if cursor.rowcount != 1:
                        raise _payment_changed("by another unit of work")
                    raw.execute("DELETE FROM payment_sessions WHERE payment_id = %s", (escape(pid),))
                insert(
                    raw,
                    "payment_sessions",
                    (("session_id", "text"), ("payment_id", "text")),
                    [(a.session_id, pid) for a in payment.applied],
                )
            except _UNIQUE as exc:
                if exc.diag.constraint_name == "payments_idempotency_key":
                    raise _idempotency_key_taken() from None
                raise _payment_exists() from None
            except _CONFLICT:
                raise _payment_changed("by another unit of work") from None


class PgAdjudicationRepository(SqliteAdjudicationRepository):
    """Posted adjudications of the unit's practice. See :class:`sessionkit.ports.AdjudicationRepository`."""

    def __init__(self, conn: PgConnection) -> None:
        super().__init__(conn.as_sqlite())
        self.pg = conn

    def flush(self) -> None:
        """Write this unit's adjudications (AlreadyExists for an id or source key taken meanwhile)."""
        raw = self.pg.raw
        for aid, adjudication in self.writes.items():
            try:
                raw.execute(
                    "INSERT INTO adjudications (id, claim_record_id, client_id, source_key, posted_at, version, doc)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        escape(aid),
                        escape(adjudication.claim_record_id),
                        escape(adjudication.client_id),
                        escape(adjudication.source_key),
                        adjudication.posted_at,
                        adjudication.version,
                        escape_doc(serialization.dumps(adjudication)),
                    ),
                )
                insert(
                    raw,
                    "adjudication_sessions",
                    (("session_id", "text"), ("adjudication_id", "text")),
                    sorted({(line.session_id, aid) for line in adjudication.lines}),
                )
            except _UNIQUE as exc:
                if exc.diag.constraint_name == "adjudications_source_key":
                    raise _already_posted() from None
                raise _adjudication_exists() from None
            except _CONFLICT:
                raise _adjudication_exists() from None


class PgControlNumbers:
    """Control number sequences of one practice, each allocation its own short transaction.

    ``connect`` lends a connection of the pool (the unit's connection holds
    its snapshot); one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
    hands the numbers out atomically, never twice, never rolled back.
    """

    def __init__(
        self, practice_id: str, connect: Callable[[], Connection], release: Callable[[Connection], None]
    ) -> None:
        self._practice_id = practice_id
        self._connect = connect
        self._release = release

    def allocate(self, kind: str, count: int = 1) -> range:
        """``count`` fresh numbers of the sequence ``kind`` (from 1)."""
        _checks.text(kind, "kind", required=True, max_len=40)
        _checks.whole(count, "count", low=1, high=1_000_000)
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute("SELECT set_config('sessionkit.practice_id', %s, true)", (self._practice_id,))
                row = conn.execute(
                    "INSERT INTO counters (kind, value) VALUES (%s, %s) ON CONFLICT (practice_id, kind)"
                    " DO UPDATE SET value = counters.value + excluded.value RETURNING value",
                    (escape(kind), count),
                ).fetchone()
        except psycopg.Error as exc:
            raise database_error(exc) from None
        finally:
            self._release(conn)
        assert row is not None
        last = int(row[0])
        return range(last - count + 1, last + 1)
