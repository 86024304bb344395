"""The PostgreSQL schema: :data:`MIGRATIONS`, one tuple of SQL steps per version, and :func:`upgrade`.

Every table lives in one PostgreSQL schema (``sessionkit`` by default), has a
``practice_id`` column that defaults to the practice bound to the transaction
(``sessionkit.practice_id``, set by each unit of work with ``SET LOCAL``), and
a row-level security policy, forced on the owner too, that shows and accepts
only that practice's rows. A new schema version appends one tuple; a released
step is never changed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from sessionkit.errors import DatabaseError, InvalidValue

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "schema_version", "upgrade"]

PRACTICE_SETTING: Final = "sessionkit.practice_id"
"""The setting that binds a transaction to one practice (``SET LOCAL``, via ``set_config``)."""

_PRACTICE: Final = f"current_setting('{PRACTICE_SETTING}', true)"
_LOCK: Final = 0x536B4954  # pg_advisory_xact_lock key of an upgrade ("SkIT")


def _isolated(table: str) -> tuple[str, ...]:
    """Row-level security on ``table``: only the bound practice's rows, for the owner too."""
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        (
            f"CREATE POLICY {table}_practice ON {table} USING (practice_id = {_PRACTICE})"
            f" WITH CHECK (practice_id = {_PRACTICE})"
        ),
    )


_T: Final = 'text COLLATE "C"'  # compared and ordered by code point, as Python orders str


def _table(name: str, columns: str, key: str = "id") -> tuple[str, ...]:
    primary = "practice_id" if key == "practice_id" else f"practice_id, {key}"
    return (
        f"CREATE TABLE {name} (practice_id {_T} NOT NULL DEFAULT {_PRACTICE}, {columns}, PRIMARY KEY ({primary}))",
        *_isolated(name),
    )


_DOC: Final = "version bigint NOT NULL, doc jsonb NOT NULL"

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the records of a practice, each a JSON document beside its indexed columns.
    (
        "CREATE TABLE sessionkit_meta (key text PRIMARY KEY, value text NOT NULL)",
        *_table("clients", f"id {_T} NOT NULL, {_DOC}"),
        *_table("payers", f"id {_T} NOT NULL, {_DOC}"),
        *_table("coverages", f"id {_T} NOT NULL, client_id {_T} NOT NULL, {_DOC}"),
        "CREATE INDEX coverages_client ON coverages (practice_id, client_id)",
        *_table("billing_codes", f"code {_T} NOT NULL, {_DOC}", "code"),
        # The diagnosis setup is last-writer-wins: each put appends an entry
        # (an insert never conflicts with a concurrent commit) and the view
        # shows each code's latest entry, under the reader's row security.
        *_table(
            "diagnosis_entries",
            f"seq bigint GENERATED ALWAYS AS IDENTITY, code {_T} NOT NULL, {_DOC}",
            "seq",
        ),
        "CREATE INDEX diagnosis_entries_code ON diagnosis_entries (practice_id, code, seq DESC)",
        (
            "CREATE VIEW diagnoses WITH (security_invoker = true) AS SELECT DISTINCT ON (practice_id, code)"
            " practice_id, code, version, doc FROM diagnosis_entries ORDER BY practice_id, code, seq DESC"
        ),
        *_table(
            "authorizations",
            f'id {_T} NOT NULL, client_id {_T} NOT NULL, start date NOT NULL, "end" date NOT NULL, {_DOC}',
        ),
        "CREATE INDEX authorizations_client ON authorizations (practice_id, client_id, start)",
        *_table("practice", _DOC, "practice_id"),
        *_table(
            "sessions",
            f"id {_T} NOT NULL, save_seq bigint GENERATED ALWAYS AS IDENTITY, client_id {_T} NOT NULL,"
            f" date_of_service date NOT NULL, appointment_key {_T}, bill_to text NOT NULL, {_DOC}",
        ),
        (
            "CREATE UNIQUE INDEX sessions_appointment_key ON sessions (practice_id, appointment_key)"
            " WHERE appointment_key IS NOT NULL"
        ),
        "CREATE INDEX sessions_date ON sessions (practice_id, date_of_service, id)",
        "CREATE INDEX sessions_client ON sessions (practice_id, client_id, save_seq)",
    ),
    # 2: what was billed: claim records (one live claim per session), invoices, control numbers.
    (
        *_table(
            "claim_records",
            f"id {_T} NOT NULL, client_id {_T} NOT NULL, created_at timestamptz NOT NULL, {_DOC}",
        ),
        "CREATE INDEX claim_records_client ON claim_records (practice_id, client_id, created_at)",
        (
            f"CREATE TABLE claim_sessions (practice_id {_T} NOT NULL DEFAULT {_PRACTICE},"
            f" session_id {_T} NOT NULL, record_id {_T} NOT NULL, live integer NOT NULL)"
        ),
        *_isolated("claim_sessions"),
        "CREATE UNIQUE INDEX claim_sessions_live ON claim_sessions (practice_id, session_id) WHERE live = 1",
        "CREATE INDEX claim_sessions_record ON claim_sessions (practice_id, record_id)",
        "CREATE INDEX claim_sessions_session ON claim_sessions (practice_id, session_id)",
        *_table(
            "invoices",
            f"id {_T} NOT NULL, client_id {_T} NOT NULL, period_start date NOT NULL, number bigint NOT NULL,"
            " doc jsonb NOT NULL",
        ),
        "CREATE INDEX invoices_client ON invoices (practice_id, client_id, period_start)",
        *_table(
            "invoice_lines",
            f"session_id {_T} NOT NULL, kind {_T} NOT NULL, invoice_id {_T} NOT NULL",
            "session_id, kind",
        ),
        *_table("counters", f"kind {_T} NOT NULL, value bigint NOT NULL", "kind"),
    ),
    # 3: money in: the payments ledger (paid at session becomes a payment), adjudications, and one
    # live claim per session and coverage.
    (
        *_table(
            "payments",
            f"id {_T} NOT NULL, client_id {_T} NOT NULL, received_at timestamptz NOT NULL,"
            f" status text NOT NULL, idempotency_key {_T}, {_DOC}",
        ),
        (
            "CREATE UNIQUE INDEX payments_idempotency_key ON payments (practice_id, idempotency_key)"
            " WHERE idempotency_key IS NOT NULL"
        ),
        "CREATE INDEX payments_received ON payments (practice_id, received_at, id)",
        "CREATE INDEX payments_client ON payments (practice_id, client_id, received_at)",
        "CREATE INDEX payments_status ON payments (practice_id, status, received_at)",
        *_table(
            "payment_sessions",
            f"session_id {_T} NOT NULL, payment_id {_T} NOT NULL",
            "session_id, payment_id",
        ),
        "CREATE INDEX payment_sessions_payment ON payment_sessions (practice_id, payment_id)",
        *_table(
            "adjudications",
            f"id {_T} NOT NULL, claim_record_id {_T} NOT NULL, client_id {_T} NOT NULL,"
            f" source_key {_T} NOT NULL, posted_at timestamptz NOT NULL, {_DOC}",
        ),
        "CREATE UNIQUE INDEX adjudications_source_key ON adjudications (practice_id, source_key)",
        "CREATE INDEX adjudications_claim ON adjudications (practice_id, claim_record_id, posted_at)",
        "CREATE INDEX adjudications_client ON adjudications (practice_id, client_id, posted_at)",
        *_table(
            "adjudication_sessions",
            f"session_id {_T} NOT NULL, adjudication_id {_T} NOT NULL",
            "session_id, adjudication_id",
        ),
        "CREATE INDEX adjudication_sessions_adjudication ON adjudication_sessions (practice_id, adjudication_id)",
        # The upgrade runs as the tables' owner and bound to no practice: it lifts the forced row
        # security of the tables it reads and fills (for every practice at once), then forces it again.
        *(
            f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY"
            for name in ("claim_records", "claim_sessions", "sessions", "payments", "payment_sessions")
        ),
        f"ALTER TABLE claim_sessions ADD COLUMN coverage_id {_T} NOT NULL DEFAULT ''",
        (
            "UPDATE claim_sessions s SET coverage_id = coalesce(r.doc->>'coverage_id', '') FROM claim_records r"
            " WHERE r.practice_id = s.practice_id AND r.id = s.record_id"
        ),
        "DROP INDEX claim_sessions_live",
        (
            "CREATE UNIQUE INDEX claim_sessions_live ON claim_sessions (practice_id, session_id, coverage_id)"
            " WHERE live = 1"
        ),
        # Paid at session becomes one payment per session, as SQLite's schema 5 makes it
        # (sessionkit.adapters.sqlite.ledger.at_session_payment): the same id, document and columns.
        (
            "WITH paid AS (SELECT practice_id, 'pas' || left(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 29)"
            " AS payment_id, id AS session_id, client_id, date_of_service, doc->>'paid_at_session' AS amount"
            " FROM sessions WHERE CASE WHEN doc->>'paid_at_session' ~ '^[0-9]+(\\.[0-9]+)?$'"
            " THEN (doc->>'paid_at_session')::numeric > 0 ELSE false END),"
            " ledger AS (INSERT INTO payments (practice_id, id, client_id, received_at, status, idempotency_key,"
            " version, doc) SELECT practice_id, payment_id, client_id, date_of_service::timestamp AT TIME ZONE 'UTC',"
            " 'received', NULL, 1, jsonb_build_object('schema_version', 1, 'id', payment_id,"
            " 'client_id', client_id, 'amount', amount, 'method', 'other',"
            " 'received_at', to_char(date_of_service, 'YYYY-MM-DD') || 'T00:00:00+00:00',"
            " 'applied', jsonb_build_array(jsonb_build_object('session_id', session_id, 'amount', amount)),"
            " 'at_session', true, 'version', 1) FROM paid)"
            " INSERT INTO payment_sessions (practice_id, session_id, payment_id)"
            " SELECT practice_id, session_id, payment_id FROM paid"
        ),
        *(
            f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"
            for name in ("claim_records", "claim_sessions", "sessions", "payments", "payment_sessions")
        ),
    ),
)
"""The schema, one tuple of steps per version: ``MIGRATIONS[n]`` upgrades version ``n`` to ``n + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this sessionkit writes and reads."""

_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case PostgreSQL name (it is written into SQL), else InvalidValue."""
    if not isinstance(schema, str) or _NAME.fullmatch(schema) is None:
        raise InvalidValue(
            "the schema name must be lower-case letters, digits and underscores", "database.schema", "schema"
        )
    return schema


def schema_version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    """The schema version of ``schema`` in the connected database (0: no sessionkit tables there)."""
    row = conn.execute(
        "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = 'sessionkit_meta'",
        (schema,),
    ).fetchone()
    if row is None:
        return 0
    row = conn.execute(
        f"SELECT value FROM {check_schema_name(schema)}.sessionkit_meta WHERE key = 'schema_version'"  # noqa: S608
    ).fetchone()
    if row is None or not str(row[0]).isdigit():
        raise DatabaseError(
            "the database has no valid sessionkit schema version; restore it from a backup",
            "database.damaged",
        )
    return int(str(row[0]))


def too_new(version: int) -> DatabaseError:
    """The error for a database written by a newer sessionkit."""
    return DatabaseError(
        f"the database was written by a newer sessionkit (schema {version}, this one reads up to "
        f"{SCHEMA_VERSION}); upgrade sessionkit to open it",
        "database.too_new",
    )


def upgrade(dsn: str, *, schema: str = "sessionkit", to: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring ``schema`` of the database at ``dsn`` up to version ``to``, in one transaction; (from, to).

    Run by ``sessionkit db upgrade --dsn ...``, by a role that may create
    tables (the database's owner), never silently by an open database. An
    advisory lock makes two upgrades at once run one after the other. A
    database of a newer schema is refused (``database.too_new``).
    """
    import psycopg  # noqa: PLC0415 - the postgres extra

    check_schema_name(schema)
    if not 0 <= to <= SCHEMA_VERSION:
        raise InvalidValue(f"to must be from 0 to {SCHEMA_VERSION}", "value.out_of_range", "to")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            conn.execute(f"SET LOCAL search_path TO {schema}")
            version = schema_version(conn, schema)
            if version > SCHEMA_VERSION:
                raise too_new(version)
            for number in range(version, max(version, to)):
                for step in MIGRATIONS[number]:
                    conn.execute(step.encode())
            if to > version:
                conn.execute(
                    "INSERT INTO sessionkit_meta (key, value) VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(to),),
                )
    except psycopg.OperationalError:
        raise DatabaseError(
            "the database server cannot be reached or refused the login", "database.unreachable"
        ) from None
    except psycopg.Error as exc:
        raise DatabaseError(
            f"the database could not be upgraded (SQLSTATE {exc.sqlstate or 'none'}, {type(exc).__name__})",
            "database.upgrade_failed",
        ) from None
    return version, max(version, to)
