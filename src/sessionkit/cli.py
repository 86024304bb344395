"""The ``sessionkit`` command line: thin wiring over the library.

Commands (see ``docs/cli.md``):

* ``sessionkit demo [--db PATH]``: seed a demo practice in an SQLite file,
  import the shipped sample calendar, print the import report and a
  readiness summary per target;
* ``sessionkit import FILE --db PATH [...]``: import an .ics or .csv calendar;
* ``sessionkit check --db PATH [--target ...] [--format text|json]``: claim
  readiness of every session;
* ``sessionkit export --db PATH --format json|csv [--output FILE]``: the sessions;
* ``sessionkit print-claims --db PATH --output FILE.pdf [--review] [--offset X,Y]``: the
  CMS-1500 forms of every session ready for one, as a PDF (the ``pdf`` extra);
* ``sessionkit superbill --db PATH --client ID --from DATE --to DATE --output FILE.pdf``:
  a client's superbill for a period.
* ``sessionkit post-era FILE.835 --db PATH [--dry-run] [--format text|json]``: post a
  payer's 835 remittance to the claims it pays (posted, unmatched, skipped, problems).

``--db`` is an SQLite file, or a ``postgresql://`` URL with ``--practice ID``:
the records of that practice in a PostgreSQL database (the ``postgres``
extra; :func:`_open_store`). No output shows the URL's password.

Exit status: 0 success; 1 ``check`` found a session that is not ready; 2 bad
input (a missing file, a file that is not a sessionkit database, a calendar
that cannot be read, a bad option or date: one line on stderr, or argparse's
usage line plus one error line); 3 an unexpected error; 130 interrupted.
``--debug`` prints the traceback of an error. Error lines never contain
client data: they name the argument, the field and a stable code.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, Protocol
from zoneinfo import ZoneInfo

from sessionkit._extras import install_command, require, require_zone_data
from sessionkit._version import __version__
from sessionkit.adapters._files import MAX_CALENDAR_BYTES, MAX_OCCURRENCES_PER_SERIES, read_bytes
from sessionkit.errors import AlreadyExists, CalendarError, ConcurrentUpdate, SessionkitError
from sessionkit.ports import SystemClock, UnitOfWork
from sessionkit.readiness import Finding, ReadinessContext, ReadinessReport, Severity, Target, check_many
from sessionkit.readiness.checker import _check_targets

# A command imports the modules only it uses inside its function (``check`` reads and checks
# sessions: no calendar import, builder, demo data, records, claims or PDF).
if TYPE_CHECKING:
    from sessionkit.adapters.postgres import PostgresDatabase, PostgresUnitOfWork
    from sessionkit.appointments import (
        Appointment,
        CalendarSource,
        ClientMatcher,
        InvalidAppointment,
        MappingMatcher,
    )
    from sessionkit.billing import BillingRun
    from sessionkit.codes.icd10 import DiagnosisCodeSet
    from sessionkit.domain import Client, ClientSession
    from sessionkit.importing import ImportReport
    from sessionkit.remittance import PostingReport

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_NOT_READY", "EXIT_OK", "build_parser", "main"]

EXIT_OK = 0
EXIT_NOT_READY = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

DEFAULT_DEMO_DB = "sessionkit-demo.db"
IMPORT_DAYS = 90
"""Without ``--from``, an import reads this many days before ``--to``."""

TARGETS: Mapping[str, Target] = {
    "cms1500": Target.CMS1500,
    "837p": Target.X12_837P,
    "invoice": Target.CLIENT_INVOICE,
}
EXPORT_FORMAT_VERSION = 1
"""``format_version`` of ``export --format json`` (``"format": "sessionkit.export"``)."""
CHECK_FORMAT_VERSION = 1
"""``format_version`` of ``check --format json`` (``"format": "sessionkit.check"``)."""
ICS_SUFFIXES = frozenset({".ics", ".ical", ".icalendar"})
TOP_FINDINGS = 5
MAX_ZONE_NAME = 64
"""The longest ``--tz`` accepted (IANA names are at most about 30 characters)."""
MAX_PATH_PART = 255
"""The longest file name (one path component) most file systems hold."""
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""A ``--db`` starting with one of these (in any case) is a PostgreSQL URL, anything else an SQLite file."""
POSTGRES_TIMEOUT = 15.0
"""Seconds the command waits for the PostgreSQL server (to connect, or for a free connection)."""
MAX_PRACTICE_ID = 64
"""The longest ``--practice`` accepted (the PostgreSQL adapter's limit)."""
CSV_KEY_SECRET_ENV = "SESSIONKIT_CSV_KEY_SECRET"  # noqa: S105 -- the variable's name, not a secret
"""Environment variable: the secret (16 characters or more) keying CSV rows without a uid."""


class UsageError(Exception):
    """Bad input found by the command itself: one line on stderr and exit 2.

    The message must not contain client data (name the argument, not its value).
    """


# -- the parser ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with a short error: the usage on one line, then one error line, exit 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(EXIT_BAD_INPUT, f"{usage}\n{self.prog}: error: {message}\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a date: use YYYY-MM-DD") from None


def _zone(text: str) -> str:
    bad = argparse.ArgumentTypeError("not an IANA time zone (e.g. America/New_York)")
    if len(text) > MAX_ZONE_NAME or not text.isprintable():
        raise bad
    try:
        ZoneInfo(text)
    except Exception:
        raise bad from None
    return text


def _offset(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        x, y = (float(p) for p in parts)  # printer alignment in points, not money
    except ValueError:
        raise argparse.ArgumentTypeError("expected two numbers of points, like 3.6,-6") from None
    if not all(-72.0 <= v <= 72.0 for v in (x, y)):
        raise argparse.ArgumentTypeError("each number must be within one inch (72 points) of zero")
    return (x, y)


def _target(text: str) -> Target:
    try:
        return Target.parse(text)
    except SessionkitError:
        raise argparse.ArgumentTypeError(
            "not a target: use cms1500, x12_837p or client_invoice (or 837p, invoice)"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("not a whole number of at least 1")
    return value


def _practice(text: str) -> str:
    if not text.strip() or len(text) > MAX_PRACTICE_ID or not text.isprintable():
        raise argparse.ArgumentTypeError(f"not a practice id: 1 to {MAX_PRACTICE_ID} printable characters")
    return text


def _db_options(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    """``--db`` (an SQLite file or a PostgreSQL URL) and ``--practice`` (the practice, with a URL)."""
    parser.add_argument(
        "--db",
        metavar="DB",
        required=default is None,
        default=default,
        help="the sessionkit database: an SQLite file, or a postgresql:// URL (with --practice)"
        + ("" if default is None else f" (default: {default})"),
    )
    parser.add_argument(
        "--practice",
        metavar="ID",
        type=_practice,
        help="the practice whose records to use in a PostgreSQL database (required with a URL)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sessionkit`` command."""
    parser = _Parser(
        prog="sessionkit",
        description="Client sessions and claims for behavioural-health practices.",
        epilog="Exit status: 0 ok, 1 check found sessions not ready, 2 bad input, 3 unexpected error.",
    )
    parser.add_argument("--version", action="version", version=f"sessionkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    common = _Parser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="create a demo practice, import the sample calendar, check readiness",
        description="Create (or reuse) a demo practice in an SQLite file, or under --practice in a "
        "PostgreSQL database whose schema 'sessionkit db upgrade' created, import the sample calendar "
        "shipped with sessionkit and summarise claim readiness. Running it again creates nothing new.",
    )
    _db_options(demo, default=DEFAULT_DEMO_DB)
    demo.set_defaults(run=_run_demo)

    imp = commands.add_parser(
        "import",
        parents=[common],
        help="import a calendar (.ics or .csv) as client sessions",
        description="Import the appointments of an iCalendar (.ics) or CSV file as client sessions. "
        "Appointments imported before are not imported again.",
    )
    imp.add_argument("file", metavar="FILE", help="the calendar file (.ics or .csv)")
    _db_options(imp)
    imp.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        type=_date,
        help=f"first date to import (default: {IMPORT_DAYS} days before --to)",
    )
    imp.add_argument(
        "--to", dest="end", metavar="DATE", type=_date, help="last date to import (default: today)"
    )
    imp.add_argument(
        "--tz",
        metavar="ZONE",
        type=_zone,
        help="IANA zone for times without one (default: the practice's time zone)",
    )
    imp.add_argument(
        "--client-map",
        metavar="CSV",
        help="CSV with columns match,client_id (match: an email or a title substring); "
        "default: match the clients' names in the titles",
    )
    imp.add_argument(
        "--select", metavar="KEY", nargs="+", action="extend", help="import only these appointment keys"
    )
    imp.add_argument("--dry-run", action="store_true", help="show what would be imported; save nothing")
    imp.add_argument(
        "--max-bytes",
        metavar="N",
        type=_positive,
        default=MAX_CALENDAR_BYTES,
        help=f"refuse a calendar file or client map larger than N bytes (default: {MAX_CALENDAR_BYTES})",
    )
    imp.add_argument(
        "--max-occurrences",
        metavar="N",
        type=_positive,
        default=MAX_OCCURRENCES_PER_SERIES,
        help="a recurring event with more occurrences than N in the range is invalid "
        f"(default: {MAX_OCCURRENCES_PER_SERIES})",
    )
    imp.add_argument(
        "--allow-sub-daily",
        action="store_true",
        help="import series repeating more often than daily (FREQ=HOURLY, MINUTELY, SECONDLY)",
    )
    imp.set_defaults(run=_run_import)

    chk = commands.add_parser(
        "check",
        parents=[common],
        help="check whether every session is ready for a claim or invoice",
        description="Check every session's readiness. Exit 0 when every session is ready, "
        "1 when any has an error finding.",
    )
    _db_options(chk)
    chk.add_argument(
        "--target",
        type=_target,
        metavar="TARGET",
        action="append",
        help="cms1500, x12_837p or client_invoice; 837p and invoice also work (repeatable; default: all)",
    )
    chk.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    chk.set_defaults(run=_run_check)

    exp = commands.add_parser(
        "export",
        parents=[common],
        help="write the sessions as JSON or CSV",
        description="Write every session as JSON documents or as a flat CSV table.",
    )
    _db_options(exp)
    exp.add_argument("--format", choices=["json", "csv"], required=True, help="output format")
    exp.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    exp.set_defaults(run=_run_export)

    clm = commands.add_parser(
        "claims",
        parents=[common],
        help="write the claims for every session to bill, and record them",
        description="Put every session that is ready and not billed yet on claims: an 837P file or the "
        "CMS-1500 box values (JSON). The claims are recorded, so running it again bills nothing twice; "
        "the file is written only once they are recorded.",
    )
    _db_options(clm)
    clm.add_argument(
        "--format", choices=["837p", "cms1500"], default="837p", help="claim form (default: 837p)"
    )
    clm.add_argument("--payer", metavar="ID", help="bill only the sessions billed to this payer")
    clm.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    clm.add_argument(
        "--usage", choices=["T", "P"], help="837P ISA15: T (test) or P (production); required for 837p"
    )
    clm.add_argument(
        "--submitter-id", metavar="ID", help="ISA06 / 1000A id the receiver gave (default: the NPI)"
    )
    clm.add_argument("--receiver-id", metavar="ID", default="CLEARINGHOUSE", help="ISA08 / 1000B id")
    clm.add_argument("--receiver-name", metavar="NAME", default="CLEARINGHOUSE", help="1000B name")
    clm.add_argument("--contact", metavar="NAME", default="BILLING", help="1000A PER contact name")
    clm.add_argument("--dry-run", action="store_true", help="show what would be billed; record nothing")
    clm.set_defaults(run=_run_claims)

    inv = commands.add_parser(
        "invoices",
        parents=[common],
        help="invoice the clients for what they owe, and list the invoices",
        description="Make an invoice per client for the sessions of the period whose client share, "
        "charge or payment is not invoiced yet, then list the invoices (text, JSON or CSV).",
    )
    _db_options(inv)
    inv.add_argument("--client", metavar="ID", help="only this client")
    inv.add_argument(
        "--from", dest="start", metavar="DATE", type=_date, help="period start (default: 2015-10-01)"
    )
    inv.add_argument("--to", dest="end", metavar="DATE", type=_date, help="period end (default: today)")
    inv.add_argument("--format", choices=["text", "json", "csv"], default="text", help="output format")
    inv.add_argument("--dry-run", action="store_true", help="list what would be invoiced; record nothing")
    inv.set_defaults(run=_run_invoices)

    prn = commands.add_parser(
        "print-claims",
        parents=[common],
        help="print the CMS-1500 form of every session ready for one, as a PDF",
        description="Group every session ready for the CMS-1500 into claims and write their forms as "
        "one PDF, for printing onto the red pre-printed form (or, with --review, with the form drawn "
        "under the values). Sessions not ready are left out and counted on stderr. Needs the pdf extra.",
    )
    _db_options(prn)
    prn.add_argument("--output", metavar="FILE", required=True, help="the PDF file to write (mode 0600)")
    prn.add_argument("--review", action="store_true", help="draw the form (in red) under the values")
    prn.add_argument(
        "--offset",
        metavar="X,Y",
        type=_offset,
        default=(0.0, 0.0),
        help="move every value X points right and Y points down (negative: left, up) to align a printer",
    )
    prn.set_defaults(run=_run_print_claims)

    sup = commands.add_parser(
        "superbill",
        parents=[common],
        help="write a client's superbill for a period, as a PDF",
        description="Write the superbill of one client's sessions from --from to --to: the itemised "
        "bill a client files with an out-of-network payer. Sessions not ready for the superbill are "
        "left out and listed on stderr. Needs the pdf extra.",
    )
    _db_options(sup)
    sup.add_argument("--client", metavar="ID", required=True, help="the client's id")
    sup.add_argument(
        "--from", dest="start", metavar="DATE", type=_date, required=True, help="first date of service"
    )
    sup.add_argument(
        "--to", dest="end", metavar="DATE", type=_date, required=True, help="last date of service"
    )
    sup.add_argument("--output", metavar="FILE", required=True, help="the PDF file to write (mode 0600)")
    sup.add_argument(
        "--license", metavar="TEXT", default="", help="the rendering provider's licence, as printed"
    )
    sup.set_defaults(run=_run_superbill)

    era = commands.add_parser(
        "post-era",
        parents=[common],
        help="post a payer's 835 remittance (ERA) to the claims it pays",
        description="Read an X12 835 remittance and post each claim payment once to the claim it pays "
        "(matched by patient control number, lines by REF*6R): the claim becomes paid or denied and its "
        "sessions are locked. Prints what was posted, what matched no claim, what was posted already "
        "(skipped: posting a file twice changes nothing) and the claims that could not be read.",
    )
    era.add_argument("file", metavar="FILE.835", help="the 835 file")
    _db_options(era)
    era.add_argument("--dry-run", action="store_true", help="report what would be posted; write nothing")
    era.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    era.set_defaults(run=_run_post_era)

    dbc = commands.add_parser(
        "db",
        parents=[common],
        help="manage a PostgreSQL database (the postgres extra)",
        description="Manage the schema of a sessionkit PostgreSQL database.",
    )
    db_commands = dbc.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser, required=True)
    upg = db_commands.add_parser(
        "upgrade",
        parents=[common],
        help="create or upgrade the schema",
        description="Create the sessionkit schema in a PostgreSQL database, or upgrade it to this "
        "sessionkit's version, in one transaction. Run it as the database's owner before starting "
        "applications of a new sessionkit: they refuse an older schema and never upgrade it themselves. "
        "A password is best given by PGPASSWORD or ~/.pgpass, not in the DSN.",
    )
    upg.add_argument(
        "--dsn",
        metavar="DSN",
        required=True,
        help="a libpq connection string, e.g. postgresql://owner@host/db",
    )
    upg.add_argument("--schema", default="sessionkit", help="the PostgreSQL schema (default: sessionkit)")
    upg.set_defaults(run=_run_db_upgrade)
    return parser


# -- progress -----------------------------------------------------------------------------------


class Progress:
    """A progress line on a terminal's stderr (``label n/total``), cleared at the end.

    Silent when the stream is not a terminal, and for work that ends within
    ``delay`` seconds.
    """

    delay = 0.5
    interval = 0.1

    def __init__(self, label: str, total: int, stream: IO[str] | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.total = total
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def step(self, done: int) -> None:
        """Report ``done`` items of ``total``."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or (now - self.last < self.interval and done < self.total):
            return
        self.last = now
        self.shown = True
        self.stream.write(f"\r{self.label} {done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line if anything was shown."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


class _ListSource:
    """A calendar read once, whose items are handed out with a progress line."""

    def __init__(self, items: list[Appointment | InvalidAppointment], progress: Progress) -> None:
        self.items = items
        self.progress = progress

    def appointments(self, start: date, end: date) -> Iterator[Appointment | InvalidAppointment]:
        for i, item in enumerate(self.items, 1):
            yield item
            self.progress.step(i)


# -- shared helpers -----------------------------------------------------------------------------


def _path(text: str, argument: str) -> Path:
    """``text`` as a path, or UsageError naming ``argument`` when no file system could hold it."""
    if not text or "\0" in text or any(len(part.encode()) > MAX_PATH_PART for part in Path(text).parts):
        raise UsageError(
            f"the path is not a usable file name (too long, empty or with a NUL) (argument {argument})"
        )
    path = Path(text)
    try:
        path.exists()
    except (OSError, ValueError):
        raise UsageError(f"the path cannot be used on this system (argument {argument})") from None
    return path


class Store(Protocol):
    """What a command opens with ``--db``: units of work over one practice's records, and ``close``."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (use it in a ``with`` block)."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


class PracticeStore:
    """A PostgreSQL database seen as one practice's store: every unit of work is bound to ``practice_id``."""

    def __init__(self, database: PostgresDatabase, practice_id: str) -> None:
        self.database = database
        self.practice_id = practice_id

    def unit_of_work(self) -> PostgresUnitOfWork:
        """A new unit of work over the practice's records."""
        return self.database.unit_of_work(self.practice_id)

    def close(self) -> None:
        """Close the database's connections."""
        self.database.close()


def _is_url(db: str) -> bool:
    return db[:16].lower().startswith(POSTGRES_SCHEMES)


def _db_file(db: str) -> Path | None:
    """The SQLite file named by ``--db``; None for a PostgreSQL URL."""
    return None if _is_url(db) else _path(db, "--db")


def _postgres_dsn(url: str) -> str:
    """``url`` checked as a libpq URI (scheme in lower case), else UsageError; never quotes it (a password)."""
    from psycopg import conninfo  # noqa: PLC0415 - the postgres extra

    scheme, _, rest = url.partition("://")
    dsn = f"{scheme.lower()}://{rest}"
    bad = UsageError(
        "the database URL is not a valid PostgreSQL URL, postgresql://[user@]host[:port]/database "
        "(argument --db)"
    )
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except Exception:  # libpq's message quotes the URL, password included
        raise bad from None
    ports = str(params.get("port") or "").split(",")
    if any(p and not (p.isdigit() and 0 < int(p) < 65536) for p in ports):
        raise bad
    return dsn


_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def _shown_url(url: str) -> str:
    """``url`` as libpq reads it, without the password, to print; the same libpq parameters otherwise.

    Made from the parameters libpq finds in the URL (not by cutting the text),
    so that whatever libpq takes for a password is left out:
    ``postgresql://app:pw@host/db?sslmode=require&password=x`` is shown as
    ``postgresql://app@host/db?sslmode=require``.
    """
    from psycopg import conninfo  # noqa: PLC0415 - the postgres extra

    params = {k: str(v) for k, v in conninfo.conninfo_to_dict(url).items() if k not in _SECRET_PARAMETERS}
    user = urllib.parse.quote(params.pop("user", ""), safe="")
    hosts = params.pop("host", "").split(",")
    ports = params.pop("port", "").split(",")
    if len(ports) != len(hosts):
        ports = ports[:1] * len(hosts)
    netloc = ",".join(
        (f"[{h}]" if ":" in h else urllib.parse.quote(h, safe="/")) + (f":{p}" if p else "")
        for h, p in zip(hosts, ports, strict=True)
    )
    dbname = params.pop("dbname", "")
    path = f"/{urllib.parse.quote(dbname, safe='')}" if dbname else ""
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)  # libpq reads no "+" as a space
    return f"postgresql://{user + '@' if user else ''}{netloc}{path}{'?' + query if query else ''}"


def _open_postgres(url: str, practice: str | None, *, create: bool) -> PracticeStore:
    if practice is None:
        raise UsageError(
            "a PostgreSQL database needs --practice ID, the practice whose records to use (argument --practice)"
        )
    require("postgres", "a PostgreSQL database")  # one line naming the pip install
    dsn = _postgres_dsn(url)
    from sessionkit.adapters.postgres import PostgresDatabase  # noqa: PLC0415 - the postgres extra

    store = PracticeStore(PostgresDatabase(dsn, max_size=4, timeout=POSTGRES_TIMEOUT), practice)
    if create:
        return store
    try:
        with store.unit_of_work() as uow:
            found = uow.practice.find() is not None
    except BaseException:
        store.close()
        raise
    if not found:
        store.close()
        raise UsageError(
            "the database holds no practice with this id (argument --practice); "
            "'sessionkit demo --db URL --practice ID' creates a demo practice"
        )
    return store


def _open_store(db: str, practice: str | None, *, create: bool = False) -> Store:
    """The database of ``--db`` and ``--practice``, for every command.

    A ``postgresql://`` or ``postgres://`` URL opens a PostgreSQL database
    (the ``postgres`` extra) bound to ``practice``, which must exist unless
    ``create`` (``demo``); the schema is never created or upgraded here
    (``sessionkit db upgrade``). Anything else is an SQLite file, which must
    exist unless ``create``; ``--practice`` goes only with a URL. Refusals
    are one line (UsageError or SessionkitError) that never quote the URL.
    """
    if _is_url(db):
        return _open_postgres(db, practice, create=create)
    if practice is not None:
        raise UsageError(
            "--practice goes with a PostgreSQL URL in --db; an SQLite file holds one practice (argument --practice)"
        )
    from sessionkit.adapters.sqlite import open_database  # noqa: PLC0415 (keeps --help fast)

    if create:
        path = Path(db)
        if path.is_dir():
            raise UsageError("the database path is a directory, not a file (argument --db)")
        return open_database(path)
    path = _path(db, "--db")
    if not path.exists():
        raise UsageError(
            "the database file does not exist (argument --db); create one with 'sessionkit demo'"
        )
    if path.is_dir():
        raise UsageError("the database path is a directory, not a file (argument --db)")
    if path.stat().st_size == 0:
        raise UsageError("the database file is empty: not a sessionkit database (argument --db)")
    return open_database(path)


def _open_existing(db: str, practice: str | None = None) -> Store:
    """An existing database of ``--db`` (and ``--practice`` with a URL): :func:`_open_store`."""
    return _open_store(db, practice)


def _today(uow: UnitOfWork) -> date:
    with uow:
        practice = uow.practice.find()
    return SystemClock(practice.time_zone if practice is not None else "UTC").today()


def _code_set() -> DiagnosisCodeSet | None:
    from sessionkit.codes.icd10 import default_code_set  # noqa: PLC0415 (optional extra)

    return default_code_set()


def _ics_calendar(source: str | Path, time_zone: str, **limits: Any) -> CalendarSource:
    try:
        from sessionkit.adapters.ics import IcsCalendar  # noqa: PLC0415 (optional extra)
    except ModuleNotFoundError:
        raise UsageError(f"reading .ics files needs the ical extra: {install_command('ical')}") from None
    return IcsCalendar(source, time_zone=time_zone, **limits)


def _too_large(exc: CalendarError, argument: str) -> UsageError:
    return UsageError(f"{exc.message} (argument {argument}; the limit is set with --max-bytes)")


def _calendar(path: Path, time_zone: str, args: argparse.Namespace) -> CalendarSource:
    suffix = path.suffix.lower()
    try:
        if suffix in ICS_SUFFIXES:
            return _ics_calendar(
                path,
                time_zone,
                max_bytes=args.max_bytes,
                max_occurrences_per_series=args.max_occurrences,
                allow_sub_daily=args.allow_sub_daily,
            )
        if suffix in {".csv", ".txt"}:
            from sessionkit.adapters.csv import CsvCalendar  # noqa: PLC0415 (keeps --help fast)

            secret = os.environ.get(CSV_KEY_SECRET_ENV) or None
            if secret is not None and len(secret.encode()) < 16:
                raise UsageError(f"{CSV_KEY_SECRET_ENV} must be at least 16 characters")
            return CsvCalendar(path, time_zone=time_zone, key_secret=secret, max_bytes=args.max_bytes)
    except CalendarError as exc:
        if exc.code == "calendar.too_large":
            raise _too_large(exc, "FILE") from None
        raise
    raise UsageError("the calendar file must end in .ics or .csv (argument FILE)")


def _client_map(path_text: str, max_bytes: int = MAX_CALENDAR_BYTES) -> MappingMatcher:
    from sessionkit.appointments import MappingMatcher  # noqa: PLC0415 (keeps check fast)

    path = _path(path_text, "--client-map")
    if not path.is_file():
        raise UsageError("the client map file does not exist (argument --client-map)")
    try:
        text = read_bytes(path, "client map file", max_bytes).decode("utf-8-sig")
    except CalendarError as exc:
        if exc.code == "calendar.too_large":
            raise _too_large(exc, "--client-map") from None
        raise UsageError("the client map file cannot be read (argument --client-map)") from None
    except UnicodeDecodeError:
        raise UsageError("the client map file cannot be read as UTF-8 text (argument --client-map)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = {(name or "").strip().casefold(): name for name in reader.fieldnames or ()}
    if "match" not in header or "client_id" not in header:
        raise UsageError("the client map needs the columns match and client_id (argument --client-map)")
    by_email: dict[str, str] = {}
    by_title: dict[str, str] = {}
    try:
        for row in reader:
            match = (row.get(header["match"]) or "").strip()
            client_id = (row.get(header["client_id"]) or "").strip()
            if not match or not client_id:
                continue
            (by_email if "@" in match else by_title)[match] = client_id
    except csv.Error:
        raise UsageError(
            f"the client map cannot be read at line {reader.line_num} (argument --client-map)"
        ) from None
    return MappingMatcher(by_title_substring=by_title, by_email=by_email)


def _import_summary(report: ImportReport) -> str:
    from sessionkit.importing import OutcomeKind  # noqa: PLC0415 (keeps check fast)

    counts = report.counts()
    created = counts[OutcomeKind.WOULD_CREATE if report.dry_run else OutcomeKind.CREATED]
    done = "would be created" if report.dry_run else "created"
    line = f"{created} {done}, {counts[OutcomeKind.ALREADY_IMPORTED]} already imported"
    if counts[OutcomeKind.CHANGED]:
        line += f", {counts[OutcomeKind.CHANGED]} changed in the calendar since"
    if counts[OutcomeKind.CONFLICT]:
        line += f", {counts[OutcomeKind.CONFLICT]} in conflict with a saved session"
    if created == 0:
        line += ": nothing new to import"
    return line


def _run_import_with(  # noqa: PLR0917 (private; every argument is needed)
    uow_factory: Callable[[], UnitOfWork],
    source: CalendarSource,
    start: date,
    end: date,
    matcher: ClientMatcher | None,
    select: Sequence[str] | None,
    *,
    dry_run: bool,
    clock: SystemClock,
) -> ImportReport:
    from sessionkit.appointments import NameMatcher  # noqa: PLC0415 (keeps check fast)
    from sessionkit.builder import SessionBuilder  # noqa: PLC0415 (keeps check fast)
    from sessionkit.importing import import_appointments  # noqa: PLC0415 (keeps check fast)

    if matcher is None:
        with uow_factory() as uow:
            clients: list[Client] = uow.clients.list()
        matcher = NameMatcher(clients)
    progress = Progress("importing", 0)
    try:
        items = list(source.appointments(start, end))
        progress.total = len(items)
        builder = SessionBuilder(uow_factory, clock)
        return import_appointments(
            _ListSource(items, progress), start, end, matcher, builder, select, dry_run=dry_run
        )
    finally:
        progress.close()


# -- readiness ----------------------------------------------------------------------------------


_TallyKey = tuple[int, str, str, str]
"""How a finding is tallied: severity rank, severity, code, field."""


class _Tally:
    """What a streamed check keeps per target: counts and finding frequencies, never the reports.

    Findings tuples are shared between sessions (the fused checker returns the
    same tuple for sessions with the same findings), so a report whose tuple was
    counted before is counted by that tuple's identity, one increment (the tuple
    is held while counted, so an equal id is the same tuple, hence the same
    findings); those counts join the per-finding counts when :attr:`findings`
    is read.
    """

    _MAX_HELD = 4096

    def __init__(self) -> None:
        self.sessions = 0
        self.ready = 0
        self._findings: Counter[_TallyKey] = Counter()
        self._held: dict[int, list[Any]] = {}
        """id of a findings tuple -> [the tuple, kept alive; whether it is ready; its findings' tally keys;
        how many more reports had it since it was counted]."""
        self._keys: dict[int, tuple[object, _TallyKey, bool]] = {}
        """id of a finding -> (the finding, kept alive; its tally key; whether it is an error): each key
        is made once."""

    def add_all(self, reports: Iterable[ReadinessReport]) -> list[bool]:
        """Count ``reports``; return whether each is ready."""
        held = self._held
        keys = self._keys
        counts = self._findings
        ready: list[bool] = []
        for report in reports:
            findings = report.findings
            if not findings:
                ready.append(True)
                continue
            hit = held.get(id(findings))
            if hit is not None and hit[0] is findings:
                hit[3] += 1  # the same tuple again: counted when the counts are read
                ready.append(hit[1])
                continue
            # A tuple not seen (or no longer held): its findings counted now, the tuple held.
            is_ready = True
            tally_keys = []
            for f in findings:
                known = keys.get(id(f))
                if known is None or known[0] is not f:
                    key = (f.severity.rank, f.severity.value, f.code, f.field)
                    known = (f, key, f.severity is Severity.ERROR)
                    if len(keys) >= 65_536:
                        keys.clear()
                    keys[id(f)] = known
                counts[known[1]] += 1
                tally_keys.append(known[1])
                if known[2]:
                    is_ready = False
            if len(held) >= self._MAX_HELD:
                self._flush()
            held[id(findings)] = [findings, is_ready, tally_keys, 0]
            ready.append(is_ready)
        self.sessions += len(ready)
        self.ready += ready.count(True)
        return ready

    def _flush(self) -> None:
        """Add the counts of the held tuples seen again to the per-finding counts; forget the tuples."""
        counts = self._findings
        for _findings, _ready, tally_keys, again in self._held.values():
            if again:
                for key in tally_keys:
                    counts[key] += again
        self._held.clear()

    @property
    def findings(self) -> Counter[_TallyKey]:
        """How many reports had each finding (by severity, code and field)."""
        self._flush()
        return self._findings


class _Readiness:
    """The outcome of a streamed check: per-target tallies (the reports went to a sink as they came)."""

    def __init__(self, targets: Sequence[Target], today: date, code_set: DiagnosisCodeSet | None) -> None:
        self.targets = targets
        self.today = today
        self.code_set = code_set
        self.tallies = {t: _Tally() for t in targets}
        self.sessions = 0

    @property
    def all_ready(self) -> bool:
        return all(t.ready == t.sessions for t in self.tallies.values())


ReportSink = Callable[[Target, Sequence["ClientSession"], Sequence[ReadinessReport], Sequence[bool]], None]
"""Takes one client's reports for one target as they are made, with their sessions and whether each is
ready (three sequences in the same order)."""


def _check(
    uow_factory: Callable[[], UnitOfWork],
    targets: Sequence[Target],
    sink: ReportSink | None = None,
    *,
    every: bool = True,
) -> _Readiness:
    """Check every session for ``targets``, one client at a time: memory stays flat as the file grows.

    Each client's sessions are read once, its context is built once
    (:meth:`ReadinessContext.from_unit_of_work`), one pass checks its sessions
    for every target (the 837P and the CMS-1500 fused together), the reports go
    to ``sink`` target by target (every client's reports, or with ``every=False``
    only a client's with one not ready), and the client is forgotten.
    """
    code_set = _code_set()
    today = _today(uow_factory())
    readiness = _Readiness(targets, today, code_set)
    tallies = [readiness.tallies[t] for t in targets]
    with uow_factory() as uow:
        total = uow.sessions.count()
        progress = Progress("checking", total * len(targets))
        try:
            done = 0
            for client_id in uow.sessions.client_ids():
                sessions = uow.sessions.by_client(client_id)
                context = ReadinessContext.from_unit_of_work(
                    uow, client_id, today=today, code_set=code_set, sessions=sessions
                )
                readiness.sessions += len(sessions)
                # Every target in one pass; the reports go out target by target, as they always have.
                rows = list(_check_targets(sessions, context, targets))
                columns = zip(*rows, strict=True) if rows else [()] * len(targets)
                for target, tally, reports in zip(targets, tallies, columns, strict=True):
                    ready = tally.add_all(reports)
                    if sink is not None and (every or not all(ready)):
                        sink(target, sessions, reports, ready)
                    done += len(sessions)
                    progress.step(done)
        finally:
            progress.close()
    return readiness


def _summary_lines(readiness: _Readiness) -> list[str]:
    release = "not installed" if readiness.code_set is None else readiness.code_set.release
    n = readiness.sessions
    lines = [
        (
            f"Readiness of {n} session{'' if n == 1 else 's'} on {readiness.today.isoformat()} "
            f"(ICD-10-CM code set: {release})"
        )
    ]
    for target in readiness.targets:
        tally = readiness.tallies[target]
        lines.append(
            f"  {target.label + ':':<16}{tally.ready:>4} ready, {tally.sessions - tally.ready:>4} not ready"
        )
        common = tally.findings.most_common()
        common.sort(key=lambda item: (-item[1], item[0][0], item[0][2], item[0][3]))
        for (_rank, severity, code, field), count in common[:TOP_FINDINGS]:
            lines.append(f"      {count:>4} x {severity:<8}{code} @ {field}")
    return lines


def _not_ready_line(session: ClientSession, report: ReadinessReport) -> str:
    errors = "; ".join(f"{f.code} @ {f.field}" for f in report.errors)
    return f"  {session.date_of_service.isoformat()}  {report.session_id}  {report.target.label}: {errors}\n"


def _run_check_text(db: Store, targets: Sequence[Target], out: IO[str]) -> _Readiness:
    """The summary first, then the sessions not ready: those are spooled to a private temporary file."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:  # created 0600, removed on close

        def sink(
            _target: Target,
            sessions: Sequence[ClientSession],
            reports: Sequence[ReadinessReport],
            ready: Sequence[bool],
        ) -> None:
            for session, report, is_ready in zip(sessions, reports, ready, strict=True):
                if not is_ready:
                    spool.write(_not_ready_line(session, report))

        readiness = _check(db.unit_of_work, targets, sink, every=False)
        out.write("\n".join(_summary_lines(readiness)) + "\n")
        if spool.tell():
            out.write("\nNot ready (date, session, target: errors):\n")
            spool.seek(0)
            shutil.copyfileobj(spool, out)
    return readiness


def _run_check_json(db: Store, targets: Sequence[Target], out: IO[str]) -> _Readiness:
    """One JSON document, written as it goes: the reports stream out, the summary follows them.

    Each report is the JSON of :meth:`ReadinessReport.to_dict` with the
    session's client id and date of service; a finding's JSON is made once
    per finding object (findings are shared between sessions).
    """
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    first = True
    finding_json: dict[int, tuple[object, str]] = {}  # id -> (the finding, kept alive; its JSON)
    out.write(f'{{"format": "sessionkit.check", "format_version": {CHECK_FORMAT_VERSION},\n"reports": [')

    list_json: dict[int, tuple[object, str]] = {}  # id of a findings tuple (often shared) -> (it; its JSON)

    def findings_text(findings: tuple[Finding, ...]) -> str:
        """The JSON of ``findings`` (without the brackets), remembered by the tuple's identity."""
        parts = []
        for f in findings:
            hit = finding_json.get(id(f))
            if hit is None or hit[0] is not f:
                hit = (f, encode(f.to_dict()))
                if len(finding_json) < 65_536:
                    finding_json[id(f)] = hit
            parts.append(hit[1])
        found = ",".join(parts)
        if len(list_json) >= 4096:
            list_json.clear()
        list_json[id(findings)] = (findings, found)
        return found

    text = json.encoder.encode_basestring  # what the encoder does with a str, without its dispatch
    date_text: dict[date, str] = {}
    # The current client's sessions (the same list for each target) and each one's JSON before the
    # target and after the findings, made once for all the targets.
    current: list[Any] = [None, [], []]

    def sink(
        target: Target,
        sessions: Sequence[ClientSession],
        reports: Sequence[ReadinessReport],
        ready: Sequence[bool],
    ) -> None:
        nonlocal first
        if current[0] is not sessions:
            heads, tails, client_json = [], [], ""
            for session in sessions:
                day = date_text.get(session.date_of_service)
                if day is None:
                    if len(date_text) >= 4096:
                        date_text.clear()
                    day = date_text[session.date_of_service] = session.date_of_service.isoformat()
                client_json = text(session.client_id)
                heads.append(f'\n{{"session_id":{text(session.id)}')
                tails.append(f'],"client_id":{client_json},"date_of_service":"{day}"}}')
            current[:] = [sessions, heads, tails]
        when_ready = f',"target":"{target.value}","ready":true,"findings":['
        when_not = f',"target":"{target.value}","ready":false,"findings":['
        batch = []
        for head, tail, report, is_ready in zip(current[1], current[2], reports, ready, strict=True):
            findings = report.findings
            if findings:
                known = list_json.get(id(findings))
                listed = known[1] if known is not None and known[0] is findings else findings_text(findings)
            else:
                listed = ""
            batch.append(f"{head}{when_ready if is_ready else when_not}{listed}{tail}")
        if batch:  # written client by client: memory stays flat
            if not first:
                out.write(",")
            out.write(",".join(batch))
            first = False

    readiness = _check(db.unit_of_work, targets, sink)
    summary = {
        t.value: {"sessions": tally.sessions, "ready": tally.ready, "not_ready": tally.sessions - tally.ready}
        for t, tally in readiness.tallies.items()
    }
    out.write("\n],\n")
    out.write(f'"today": {encode(readiness.today.isoformat())},\n')
    release = None if readiness.code_set is None else readiness.code_set.release
    out.write(f'"code_set": {encode(release)},\n')
    out.write(f'"ready": {encode(readiness.all_ready)},\n"targets": {encode(summary)}}}\n')
    return readiness


# -- commands -----------------------------------------------------------------------------------


def _queue_lines(db: Store) -> list[str]:
    """What is waiting: sessions to bill (837P) and sessions to invoice."""
    from sessionkit import billing  # noqa: PLC0415 (keeps --help fast)

    today, _ = _billing_now(db.unit_of_work())
    with db.unit_of_work() as uow:
        to_bill = billing.sessions_to_bill(uow, today=today, code_set=_code_set())
        to_invoice = billing.sessions_to_invoice(uow, end=today)
    return [
        "",
        (
            f"Work lists: {len(to_bill)} session{'' if len(to_bill) == 1 else 's'} to bill (837P), "
            f"{len(to_invoice)} to invoice"
        ),
    ]


def _run_demo(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit.demo import (  # noqa: PLC0415 (keeps check fast)
        DEMO_TIME_ZONE,
        SAMPLE_END,
        SAMPLE_START,
        sample_calendar,
        seed_demo,
    )

    require("ical", "sessionkit demo")  # before anything is written
    db = _open_store(args.db, args.practice, create=True)
    if _is_url(args.db):  # never the password: the URL is shown without it
        where = f"{_shown_url(args.db)} as practice {args.practice}"
        again = f"{shlex.quote(_shown_url(args.db))} --practice {shlex.quote(args.practice)}"
    else:
        where = again = str(Path(args.db))
    try:
        created = seed_demo(db.unit_of_work())
        if created:
            out.write(f"Created the demo practice in {where} (fictional clients, payers and codes).\n")
        else:
            out.write(f"Using the practice already in {where}: nothing new to set up.\n")
        source = _ics_calendar(sample_calendar(), DEMO_TIME_ZONE)
        report = _run_import_with(
            db.unit_of_work,
            source,
            SAMPLE_START,
            SAMPLE_END,
            None,
            None,
            dry_run=False,
            clock=SystemClock(DEMO_TIME_ZONE),
        )
        out.write("\nImporting the sample calendar (sessionkit/data/sample_calendar.ics)\n")
        out.write(f"{report}\n{_import_summary(report)}\n\n")
        readiness = _check(db.unit_of_work, list(TARGETS.values()))
        out.write("\n".join(_summary_lines(readiness)) + "\n")
        out.write("\n".join(_queue_lines(db)) + "\n")
        out.write(
            f"\nNext: sessionkit check --db {again} --target x12_837p   (every finding, per session)\n"
            f"      sessionkit claims --db {again} --format 837p --usage T --output claims.x12\n"
            f"      sessionkit invoices --db {again}\n"
            f"      sessionkit export --db {again} --format csv\n"
            f"      sessionkit print-claims --db {again} --output claims.pdf --review   (paper: also 'sessionkit superbill')\n"
        )
    finally:
        db.close()
    return EXIT_OK


def _run_import(args: argparse.Namespace, out: IO[str]) -> int:
    file = _path(args.file, "FILE")
    if not file.exists():
        raise UsageError("the calendar file does not exist (argument FILE)")
    if not file.is_file():
        raise UsageError("the calendar path is not a file (argument FILE)")
    if file.suffix.lower() in ICS_SUFFIXES:
        require("ical", "reading .ics files")  # before the database is opened
    matcher = _client_map(args.client_map, args.max_bytes) if args.client_map else None
    db = _open_store(args.db, args.practice)
    try:
        with db.unit_of_work() as uow:
            practice = uow.practice.get()
        zone = args.tz or practice.time_zone
        source = _calendar(file, zone, args)
        clock = SystemClock(practice.time_zone)
        end = args.end if args.end is not None else clock.today()
        if args.start is not None:
            start = args.start
        else:
            try:
                start = end - timedelta(days=IMPORT_DAYS)
            except OverflowError:
                start = date.min
        if end < start:
            raise UsageError("--from is after --to")
        report = _run_import_with(
            db.unit_of_work, source, start, end, matcher, args.select, dry_run=args.dry_run, clock=clock
        )
    finally:
        db.close()
    out.write(f"{report}\n{_import_summary(report)}\n")
    return EXIT_OK


def _run_check(args: argparse.Namespace, out: IO[str]) -> int:
    targets = list(dict.fromkeys(args.target or TARGETS.values()))
    db = _open_store(args.db, args.practice)
    try:
        run = _run_check_json if args.format == "json" else _run_check_text
        readiness = run(db, targets, out)
    finally:
        db.close()
    return EXIT_OK if readiness.all_ready else EXIT_NOT_READY


def _sessions_csv(sessions: list[ClientSession]) -> str:
    from sessionkit.records import to_records, write_csv  # noqa: PLC0415 (keeps check fast)

    buffer = io.StringIO(newline="")
    write_csv(to_records(sessions), buffer)  # cells a spreadsheet would run as formulas are neutralised
    return buffer.getvalue()


def _same_file(a: Path, b: Path | None) -> bool:
    if b is None:  # a PostgreSQL database: no file
        return False
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, RuntimeError):
        return False


def _write_private(target: Path, text: str | bytes) -> None:
    """Write ``text`` to ``target`` created with mode 0600, never through a symbolic link.

    An existing regular file is truncated and set to 0600 too; a symbolic link,
    even to a file, is refused (``O_NOFOLLOW``).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if target.is_symlink():
        raise UsageError("the output file is a symbolic link: refused (argument --output)")
    try:
        fd = os.open(target, flags, 0o600)
    except OSError:
        raise UsageError("the output file cannot be written (argument --output)") from None
    try:
        with contextlib.suppress(OSError):  # an existing file of another owner keeps its mode
            os.fchmod(fd, 0o600)
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as raw:
                raw.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
    except OSError:
        raise UsageError("the output file cannot be written (argument --output)") from None


def _run_export(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit import serialization  # noqa: PLC0415 (keeps check fast)

    target = _path(args.output, "--output") if args.output else None
    if target is not None and _same_file(target, _db_file(args.db)):
        raise UsageError("the output file is the database being read: refused (argument --output)")
    db = _open_store(args.db, args.practice)
    try:
        with db.unit_of_work() as uow:
            sessions = uow.sessions.list()
    finally:
        db.close()
    if args.format == "json":
        document = {
            "format": "sessionkit.export",
            "format_version": EXPORT_FORMAT_VERSION,
            "sessions": [serialization.to_dict(s) for s in sessions],
        }
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = _sessions_csv(sessions)
    if target is not None:
        _write_private(target, text)
        n = len(sessions)
        sys.stderr.write(f"wrote {n} session{'' if n == 1 else 's'} to the output file\n")
    else:
        out.write(text)
    return EXIT_OK


# -- billing -----------------------------------------------------------------------------------


def _billing_now(uow: UnitOfWork) -> tuple[date, datetime]:
    with uow:
        practice = uow.practice.get()
    clock = SystemClock(practice.time_zone)
    return clock.today(), datetime.now(ZoneInfo(practice.time_zone))


def _bill_once(db: Store, args: argparse.Namespace, today: date, now: datetime) -> BillingRun:
    """One billing run in one unit of work, committed before anything is written or sent."""
    from sessionkit import billing  # noqa: PLC0415 (keeps --help fast)
    from sessionkit.claims import Receiver, Submitter  # noqa: PLC0415

    with db.unit_of_work() as uow:
        practice = uow.practice.get()
        submitter = Submitter(
            name=practice.name,
            id=args.submitter_id or practice.npi,
            contact_name=args.contact,
            phone=practice.phone or "0000000000",
        )
        run = billing.bill(
            uow,
            today=today,
            now=now,
            target=args.format,
            submitter=submitter,
            receiver=Receiver(name=args.receiver_name, id=args.receiver_id),
            usage=args.usage,
            payer_id=args.payer,
            code_set=_code_set(),
            dry_run=args.dry_run,
        )
        if not args.dry_run:
            uow.commit()  # recorded before anything is sent: a concurrent run cannot bill them again
    return run


def _run_claims(args: argparse.Namespace, out: IO[str]) -> int:
    target = _path(args.output, "--output") if args.output else None
    if target is not None and _same_file(target, _db_file(args.db)):
        raise UsageError("the output file is the database being read: refused (argument --output)")
    if args.format == "837p" and args.usage is None:
        raise UsageError("an 837P needs --usage T (test) or P (production)")
    db = _open_store(args.db, args.practice)
    try:
        today, now = _billing_now(db.unit_of_work())
        for attempt in range(3):
            try:
                run = _bill_once(db, args, today, now)
                break
            except AlreadyExists as exc:  # another run billed some of these sessions first: bill the rest
                if exc.code != "claim_record.session_billed" or attempt == 2:
                    raise
    finally:
        db.close()
    if not run.claims:
        out.write("Nothing to bill: every ready session is on a claim already.\n")
        return EXIT_OK
    if run.text is not None:
        text = run.text
    else:
        forms = [
            {"boxes": dict(f), "patient_control_number": c.patient_control_number}
            for f, c in zip(run.forms, run.claims, strict=True)
        ]
        text = (
            json.dumps({"format": "sessionkit.cms1500", "format_version": 1, "claims": forms}, indent=2)
            + "\n"
        )
    n, m = len(run.claims), len(run.session_ids)
    summary = (
        f"{'would bill' if args.dry_run else 'billed'} {m} session{'' if m == 1 else 's'} "
        f"on {n} claim{'' if n == 1 else 's'} ({run.target.label})\n"
    )
    if target is not None:
        _write_private(target, text)
        out.write(summary)
    else:
        out.write(text)
        sys.stderr.write(summary)
    return EXIT_OK


def _run_invoices(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit import billing, serialization  # noqa: PLC0415 (keeps --help and check fast)
    from sessionkit.domain.billing import InvoiceLineKind  # noqa: PLC0415 (keeps --help fast)
    from sessionkit.records import write_csv  # noqa: PLC0415 (keeps check fast)

    db = _open_store(args.db, args.practice)
    try:
        today, now = _billing_now(db.unit_of_work())
        start = args.start or date(2015, 10, 1)
        end = args.end or today
        if end < start:
            raise UsageError("--from is after --to")
        with db.unit_of_work() as uow:
            clients = [args.client] if args.client else uow.sessions.client_ids()
            made = [
                i
                for i in (billing.invoice_client(uow, c, start=start, end=end, now=now) for c in clients)
                if i
            ]
            if not args.dry_run:
                uow.commit()
            invoices = [i for c in clients for i in uow.invoices.for_client(c)] if not args.dry_run else made
    finally:
        db.close()
    if args.format == "json":
        out.write(
            json.dumps(
                {
                    "format": "sessionkit.invoices",
                    "format_version": 1,
                    "invoices": [serialization.to_dict(i) for i in invoices],
                },
                indent=2,
            )
            + "\n"
        )
    elif args.format == "csv":
        rows = [
            {
                "invoice": i.number,
                "client_id": i.client_id,
                "session_id": line.session_id,
                "date_of_service": line.date_of_service,
                "code": line.code,
                "kind": line.kind.value,
                # a payment is a credit by its kind (no leading minus in CSV); an adjustment keeps its sign
                "amount": line.amount if line.kind is InvoiceLineKind.ADJUSTMENT else abs(line.amount),
            }
            for i in invoices
            for line in (*i.lines, *i.adjustments)
        ] + [
            {
                "invoice": i.number,
                "client_id": i.client_id,
                "session_id": "",
                "date_of_service": p.received_on,
                "code": p.method,
                "kind": InvoiceLineKind.PAYMENT.value,
                "amount": p.amount,
            }
            for i in invoices
            for p in i.payments
        ]
        write_csv(rows, out)
    else:
        new = {i.id for i in made}
        for i in invoices:
            mark = " (new)" if i.id in new else ""
            out.write(
                f"invoice {i.number:>5}  {i.client_id}  {i.period_start.isoformat()}..{i.period_end.isoformat()}"
                f"  {len(i.lines)} lines  total {i.total:>10}  balance {i.balance:>10}{mark}\n"
            )
        if not invoices:
            out.write("No invoices: nothing is owed.\n")
    return EXIT_OK


def _pdf_output(args: argparse.Namespace) -> Path:
    target = _path(args.output, "--output")
    if _same_file(target, _db_file(args.db)):
        raise UsageError("the output file is the database being read: refused (argument --output)")
    if target.is_dir():
        raise UsageError("the output path is a directory, not a file (argument --output)")
    return target


def _pdf_module() -> Any:
    from sessionkit._extras import require  # noqa: PLC0415 (keeps --help fast)

    require("pdf", "printing PDFs")  # one line naming the pip install, before anything is written
    from sessionkit.adapters import pdf  # noqa: PLC0415 (keeps --help fast)

    return pdf


def _run_print_claims(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit.claims import ClaimContext, build_claims, to_cms1500  # noqa: PLC0415 (keeps --help fast)

    target = _pdf_output(args)
    pdf = _pdf_module()
    db = _open_store(args.db, args.practice)
    try:
        code_set = _code_set()
        today = _today(db.unit_of_work())
        ready: list[ClientSession] = []
        left_out = 0
        with db.unit_of_work() as uow:
            for client_id in uow.sessions.client_ids():
                sessions = uow.sessions.by_client(client_id)
                context = ReadinessContext.from_unit_of_work(
                    uow, client_id, today=today, code_set=code_set, sessions=sessions
                )
                for session, report in zip(
                    sessions, check_many(sessions, context, Target.CMS1500), strict=True
                ):
                    if report.ready:
                        ready.append(session)
                    else:
                        left_out += 1
            claim_context = ClaimContext.from_unit_of_work(
                uow, (s.client_id for s in ready), today=today, code_set=code_set
            )
    finally:
        db.close()
    note = f"; {left_out} session{'' if left_out == 1 else 's'} not ready left out" if left_out else ""
    if not ready:
        sys.stderr.write(f"no session is ready for the CMS-1500{note}: nothing written\n")
        return EXIT_NOT_READY
    claims = build_claims(ready, claim_context, Target.CMS1500)
    forms = [to_cms1500(claim, signed_on=today) for claim in claims]
    _write_private(target, pdf.cms1500_pdf(forms, review=args.review, offset=args.offset))
    pages = sum(-(-len(form.lines) // 6) for form in forms)
    n = len(forms)
    sys.stderr.write(
        f"wrote {n} claim{'' if n == 1 else 's'} ({pages} page{'' if pages == 1 else 's'}) "
        f"to the output file{note} (see 'sessionkit check --target cms1500')\n"
    )
    return EXIT_OK


def _run_superbill(args: argparse.Namespace, out: IO[str]) -> int:
    target = _pdf_output(args)
    if args.end < args.start:
        raise UsageError("--from is after --to")
    pdf = _pdf_module()
    db = _open_store(args.db, args.practice)
    try:
        code_set = _code_set()
        today = _today(db.unit_of_work())
        with db.unit_of_work() as uow:
            practice = uow.practice.get()
            client = uow.clients.find(args.client)
            if client is None:
                raise UsageError("no client has this id (argument --client)")
            sessions = [
                s for s in uow.sessions.by_client(client.id) if args.start <= s.date_of_service <= args.end
            ]
            context = ReadinessContext.from_unit_of_work(
                uow, client.id, today=today, code_set=code_set, sessions=sessions
            )
            coverages = sorted(
                (
                    c
                    for c in uow.coverages.for_client(client.id)
                    if c.effective <= args.end and (c.termination is None or c.termination >= args.start)
                ),
                key=lambda c: (c.rank.value, c.effective),
            )
            payers = {p.id: p for p in uow.payers.list()}
            descriptions = {d.code: d.description for d in uow.diagnoses.list() if d.description}
    finally:
        db.close()
    chosen: list[ClientSession] = []
    for session, report in zip(sessions, check_many(sessions, context, Target.SUPERBILL), strict=True):
        if report.ready:
            chosen.append(session)
        else:
            sys.stderr.write(_not_ready_line(session, report))
    if not chosen:
        sys.stderr.write(
            "no session of the client in the period is ready for the superbill: nothing written\n"
        )
        return EXIT_NOT_READY
    coverage = coverages[0] if coverages else None
    data = pdf.superbill_pdf(
        practice=practice,
        client=client,
        sessions=chosen,
        start=args.start,
        end=args.end,
        coverage=coverage,
        payer=None if coverage is None else payers.get(coverage.payer_id),
        provider_license=args.license,
        diagnosis_descriptions=descriptions,
        signed_on=today,
    )
    _write_private(target, data)
    n = len(chosen)
    sys.stderr.write(f"wrote a superbill of {n} session{'' if n == 1 else 's'} to the output file\n")
    return EXIT_OK


def _run_db_upgrade(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit._extras import require  # noqa: PLC0415 (keeps --help fast)

    require("postgres", "the PostgreSQL adapter")  # one line naming the pip install
    from sessionkit.adapters.postgres import upgrade  # noqa: PLC0415 - the postgres extra

    before, after = upgrade(args.dsn, schema=args.schema)
    if before == after:
        out.write(f"schema {args.schema} is at version {after}: nothing to do\n")
    else:
        out.write(f"schema {args.schema} upgraded from version {before} to {after}\n")
    return EXIT_OK


# -- remittances -------------------------------------------------------------------------------

MAX_REMITTANCE_BYTES = 50_000_000
"""The largest 835 file read: 50 MB, far above a large payer's daily remittance."""


def _era_lines(report: PostingReport) -> list[str]:
    verb = "would post" if report.dry_run else "posted"
    lines = [f"{verb} {len(report.posted)} claim payment(s), paid {report.paid}"]
    lines += [
        f"  claim {p.claim}  {p.patient_control_number}  CLP02 {p.status_code}  paid {p.paid}  "
        f"-> {p.claim_status.value}"
        + (
            f"  (lines {', '.join(map(str, p.fallback_lines))} matched by code, date and charge)"
            if p.fallback_lines
            else ""
        )
        for p in report.posted
    ]
    lines.append(f"unmatched {len(report.unmatched)}")
    lines += [
        f"  claim {u.claim}  {u.patient_control_number}"
        + (f"  line {u.line}" if u.line is not None else "")
        + f"  {u.message} [{u.code}]"
        for u in report.unmatched
    ]
    lines.append(f"skipped {len(report.skipped)} (posted already)")
    lines += [f"  claim {s.claim}  {s.patient_control_number}" for s in report.skipped]
    lines.append(f"problems {len(report.problems)}")
    lines += [
        f"  claim {p.claim}"
        + (f" (segment {p.segment})" if p.segment is not None else "")
        + f"  {p.message} [{p.code}]"
        for p in report.problems
    ]
    if report.provider_adjustments:
        lines.append(f"provider adjustments {len(report.provider_adjustments)}")
        lines += [f"  {a.reason}  {a.amount}" for a in report.provider_adjustments]
    return lines


def _run_post_era(args: argparse.Namespace, out: IO[str]) -> int:
    from sessionkit.remittance import post_remittance, read_835  # noqa: PLC0415 (keeps --help fast)

    path = _path(args.file, "FILE.835")
    if path.is_dir():
        raise UsageError("the 835 path is a directory, not a file (argument FILE.835)")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_REMITTANCE_BYTES + 1)
    except OSError:
        raise UsageError("the 835 file cannot be read (argument FILE.835)") from None
    if len(data) > MAX_REMITTANCE_BYTES:
        raise UsageError(f"the 835 file is larger than {MAX_REMITTANCE_BYTES} bytes (argument FILE.835)")
    remittances = read_835(data)  # a broken or foreign file: one line on stderr, exit 2
    db = _open_store(args.db, args.practice)
    try:
        _, now = _billing_now(db.unit_of_work())
        for attempt in range(3):
            try:
                with db.unit_of_work() as uow:
                    report = post_remittance(uow, remittances, now=now, dry_run=args.dry_run)
                    if not args.dry_run:
                        uow.commit()
                break
            except (AlreadyExists, ConcurrentUpdate) as exc:
                # Another process posted some of these (or changed their claims or sessions) first:
                # post again from what is stored now; what it posted is skipped.
                if isinstance(exc, AlreadyExists) and exc.code != "adjudication.already_posted":
                    raise
                if attempt == 2:
                    raise
    finally:
        db.close()
    if args.format == "json":
        out.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        out.write("\n".join(_era_lines(report)) + "\n")
    return EXIT_OK


# -- entry point --------------------------------------------------------------------------------


def _fail(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)
    sys.stderr.write(f"sessionkit: error: {message}\n")


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if getattr(args, "run", None) is None:
        parser.print_help()
        return EXIT_OK
    debug = bool(args.debug)
    try:
        require_zone_data()  # one clear line, not a stored practice reported as invalid
        status: int = args.run(args, sys.stdout)
    except UsageError as exc:
        _fail(str(exc), debug)
        return EXIT_BAD_INPUT
    except SessionkitError as exc:
        where = f" @ {exc.field}" if exc.field else ""
        _fail(f"{exc.message} [{exc.code}{where}]", debug)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("sessionkit: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `sessionkit export ... | head`: stop quietly
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        _fail(f"unexpected {type(exc).__name__} (run with --debug for the traceback)", debug)
        return EXIT_INTERNAL
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
