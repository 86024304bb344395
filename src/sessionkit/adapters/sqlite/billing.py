"""SQLite repositories for what was billed: claim records, invoices, control numbers (private).

Used by :mod:`sessionkit.adapters.sqlite`; the tables come from its schema 4.
A unit of work reads its snapshot plus its own writes; writes go to the file
at commit (:meth:`flush`), where the partial unique indexes make a second
live claim for a session to the same coverage (schema 5), or a second
invoice line for it, fail: two
processes billing the same practice at once bill each session once.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable
from typing import Final

import attrs

from sessionkit import serialization
from sessionkit.domain import _checks
from sessionkit.domain.billing import ClaimRecord, InvoiceRecord
from sessionkit.errors import AlreadyExists, ConcurrentUpdate, NotFound

__all__ = ["SCHEMA", "SqliteClaimRecordRepository", "SqliteControlNumbers", "SqliteInvoiceRepository"]

SCHEMA: Final = (
    (
        "CREATE TABLE claim_records (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, created_at TEXT NOT NULL,"
        " version INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX claim_records_client ON claim_records (client_id, created_at)",
    "CREATE TABLE claim_sessions (session_id TEXT NOT NULL, record_id TEXT NOT NULL, live INTEGER NOT NULL)",
    "CREATE UNIQUE INDEX claim_sessions_live ON claim_sessions (session_id) WHERE live = 1",
    "CREATE INDEX claim_sessions_record ON claim_sessions (record_id)",
    "CREATE INDEX claim_sessions_session ON claim_sessions (session_id)",
    (
        "CREATE TABLE invoices (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, period_start TEXT NOT NULL,"
        " number INTEGER NOT NULL, doc TEXT NOT NULL)"
    ),
    "CREATE INDEX invoices_client ON invoices (client_id, period_start)",
    (
        "CREATE TABLE invoice_lines (session_id TEXT NOT NULL, kind TEXT NOT NULL, invoice_id TEXT NOT NULL,"
        " PRIMARY KEY (session_id, kind)) WITHOUT ROWID"
    ),
    "CREATE TABLE counters (kind TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
)
"""Schema 4: claim records with their sessions (one live claim per session), invoices, counters.

Schema 5 (:data:`sessionkit.adapters.sqlite.ledger.SCHEMA`) adds ``claim_sessions.coverage_id``
and makes the live index one live claim per session *and coverage*.
"""


def _by_time(records: builtins.list[ClaimRecord]) -> builtins.list[ClaimRecord]:
    return sorted(records, key=lambda r: (r.created_at, r.id))


class SqliteClaimRecordRepository:
    """Claim records of one unit of work (see :class:`sessionkit.ports.ClaimRecordRepository`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes: dict[str, ClaimRecord] = {}
        self.expected: dict[str, int | None] = {}

    def _load(self, doc: str) -> ClaimRecord:
        return serialization.loads(doc, ClaimRecord)

    def _stored(self, record_id: str) -> ClaimRecord | None:
        row = self._conn.execute("SELECT doc FROM claim_records WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else self._load(row[0])

    def find(self, record_id: str) -> ClaimRecord | None:
        """The record, or None."""
        if record_id in self.writes:
            return self.writes[record_id]
        return self._stored(record_id)

    def get(self, record_id: str) -> ClaimRecord:
        """The record; NotFound (``claim_record.not_found``) when there is none."""
        found = self.find(record_id)
        if found is None:
            raise NotFound("claim record not found", "claim_record.not_found", "id")
        return found

    def _store(self, record: ClaimRecord, stored: ClaimRecord | None) -> ClaimRecord:
        expected = 0 if stored is None else stored.version
        if record.version != expected:
            raise ConcurrentUpdate(
                "the claim record was changed since it was read", "claim_record.version", "version"
            )
        if record.id not in self.expected:
            self.expected[record.id] = None if stored is None else stored.version
        saved = attrs.evolve(record, version=record.version + 1)
        self.writes[record.id] = saved
        return saved

    def add(self, record: ClaimRecord) -> ClaimRecord:
        """Store a new record (AlreadyExists ``claim_record.exists`` for a taken id)."""
        if self.find(record.id) is not None:
            raise AlreadyExists("claim record already exists", "claim_record.exists", "id")
        return self._store(record, None)

    def put(self, record: ClaimRecord) -> ClaimRecord:
        """Replace a stored record carrying its stored version; return what was stored."""
        return self._store(record, self.get(record.id))

    def _where(
        self, sql: str, params: tuple[str, ...], keep: Callable[[ClaimRecord], bool]
    ) -> list[ClaimRecord]:
        found = {r.id: r for r in (self._load(doc) for (doc,) in self._conn.execute(sql, params))}
        for rid, record in self.writes.items():
            if keep(record):
                found[rid] = record
            else:
                found.pop(rid, None)
        return _by_time(list(found.values()))

    def list(self) -> builtins.list[ClaimRecord]:
        """Every record, by creation time then id."""
        return self._where("SELECT doc FROM claim_records", (), lambda r: True)

    def for_session(self, session_id: str) -> builtins.list[ClaimRecord]:
        """The records holding the session, by creation time then id."""
        return self._where(
            "SELECT r.doc FROM claim_records r JOIN claim_sessions s ON s.record_id = r.id WHERE s.session_id = ?",
            (session_id,),
            lambda r: session_id in r.session_ids,
        )

    def for_client(self, client_id: str) -> builtins.list[ClaimRecord]:
        """The client's records, by creation time then id."""
        return self._where(
            "SELECT doc FROM claim_records WHERE client_id = ?",
            (client_id,),
            lambda r: r.client_id == client_id,
        )

    def live_session_ids(self) -> frozenset[str]:
        """The sessions on a live claim."""
        ids = {sid for (sid,) in self._conn.execute("SELECT session_id FROM claim_sessions WHERE live = 1")}
        for record in self.writes.values():
            stored = self._stored(record.id) if self.expected.get(record.id) is not None else None
            if stored is not None and stored.live:
                ids.difference_update(stored.session_ids)
            if record.live:
                ids.update(record.session_ids)
        return frozenset(ids)

    def flush(self) -> None:
        """Write this unit's records (inside the commit's transaction)."""
        conn = self._conn
        for rid, record in self.writes.items():
            expected = self.expected[rid]
            if expected is None:
                try:
                    conn.execute(
                        "INSERT INTO claim_records (id, client_id, created_at, version, doc) VALUES (?, ?, ?, ?, ?)",
                        (
                            rid,
                            record.client_id,
                            record.created_at.isoformat(),
                            record.version,
                            serialization.dumps(record),
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise ConcurrentUpdate(
                        "the claim record was created by another unit of work",
                        "claim_record.version",
                        "version",
                    ) from None
            else:
                cursor = conn.execute(
                    "UPDATE claim_records SET version = ?, doc = ? WHERE id = ? AND version = ?",
                    (record.version, serialization.dumps(record), rid, expected),
                )
                if cursor.rowcount != 1:
                    raise ConcurrentUpdate(
                        "the claim record was changed by another unit of work",
                        "claim_record.version",
                        "version",
                    )
            conn.execute("DELETE FROM claim_sessions WHERE record_id = ?", (rid,))
            try:
                conn.executemany(
                    "INSERT INTO claim_sessions (session_id, record_id, live, coverage_id) VALUES (?, ?, ?, ?)",
                    [(sid, rid, 1 if record.live else 0, record.coverage_id) for sid in record.session_ids],
                )
            except sqlite3.IntegrityError:
                raise AlreadyExists(
                    "the session is already on a live claim", "claim_record.session_billed", "session_ids"
                ) from None


class SqliteInvoiceRepository:
    """Invoices of one unit of work (see :class:`sessionkit.ports.InvoiceRepository`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes: dict[str, InvoiceRecord] = {}

    def _all(self, sql: str, params: tuple[str, ...]) -> list[InvoiceRecord]:
        found = {
            i.id: i
            for i in (serialization.loads(doc, InvoiceRecord) for (doc,) in self._conn.execute(sql, params))
        }
        return list(found.values())

    def find(self, invoice_id: str) -> InvoiceRecord | None:
        """The invoice, or None."""
        if invoice_id in self.writes:
            return self.writes[invoice_id]
        row = self._conn.execute("SELECT doc FROM invoices WHERE id = ?", (invoice_id,)).fetchone()
        return None if row is None else serialization.loads(row[0], InvoiceRecord)

    def get(self, invoice_id: str) -> InvoiceRecord:
        """The invoice; NotFound (``invoice.not_found``) when there is none."""
        found = self.find(invoice_id)
        if found is None:
            raise NotFound("invoice not found", "invoice.not_found", "id")
        return found

    def add(self, invoice: InvoiceRecord) -> InvoiceRecord:
        """Store a new invoice (AlreadyExists ``invoice.exists`` for a taken id)."""
        if self.find(invoice.id) is not None:
            raise AlreadyExists("invoice already exists", "invoice.exists", "id")
        saved = attrs.evolve(invoice, version=1)
        self.writes[invoice.id] = saved
        return saved

    def list(self) -> builtins.list[InvoiceRecord]:
        """Every invoice, by period then number."""
        found = {i.id: i for i in self._all("SELECT doc FROM invoices", ())}
        found.update(self.writes)
        return sorted(found.values(), key=lambda i: (i.period_start, i.number))

    def for_client(self, client_id: str) -> builtins.list[InvoiceRecord]:
        """The client's invoices, by period then number."""
        found = {i.id: i for i in self._all("SELECT doc FROM invoices WHERE client_id = ?", (client_id,))}
        found.update({k: v for k, v in self.writes.items() if v.client_id == client_id})
        return sorted(found.values(), key=lambda i: (i.period_start, i.number))

    def invoiced_session_ids(self) -> frozenset[str]:
        """The sessions on an invoice."""
        ids = {sid for (sid,) in self._conn.execute("SELECT DISTINCT session_id FROM invoice_lines")}
        ids.update(sid for i in self.writes.values() for sid in i.session_ids)
        return frozenset(ids)

    def flush(self) -> None:
        """Write this unit's invoices (inside the commit's transaction)."""
        conn = self._conn
        for iid, invoice in self.writes.items():
            try:
                conn.execute(
                    "INSERT INTO invoices (id, client_id, period_start, number, doc) VALUES (?, ?, ?, ?, ?)",
                    (
                        iid,
                        invoice.client_id,
                        invoice.period_start.isoformat(),
                        invoice.number,
                        serialization.dumps(invoice),
                    ),
                )
                conn.executemany(
                    "INSERT INTO invoice_lines (session_id, kind, invoice_id) VALUES (?, ?, ?)",
                    [(line.session_id, line.kind.value, iid) for line in invoice.lines],
                )
            except sqlite3.IntegrityError:
                raise AlreadyExists(
                    "the session is already on an invoice", "invoice.session_invoiced", "lines"
                ) from None


class SqliteControlNumbers:
    """Control number sequences in the ``counters`` table, each allocation its own short transaction.

    ``connect`` opens a connection of its own (the unit's connection holds a
    read snapshot), so numbers are handed out at once, never twice (``BEGIN
    IMMEDIATE`` serialises two processes) and never rolled back.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], release: Callable[[sqlite3.Connection], None]
    ) -> None:
        self._connect = connect
        self._release = release

    def allocate(self, kind: str, count: int = 1) -> range:
        """``count`` fresh numbers of the sequence ``kind`` (from 1)."""
        _checks.text(kind, "kind", required=True, max_len=40)
        _checks.whole(count, "count", low=1, high=1_000_000)
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT value FROM counters WHERE kind = ?", (kind,)).fetchone()
                first = (0 if row is None else int(row[0])) + 1
                conn.execute(
                    "INSERT INTO counters (kind, value) VALUES (?, ?)"
                    " ON CONFLICT (kind) DO UPDATE SET value = excluded.value",
                    (kind, first + count - 1),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            self._release(conn)
        return range(first, first + count)
