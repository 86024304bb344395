"""The ``sessionkit`` command on PostgreSQL: ``--db postgresql://... --practice ID``, against a real server.

Two practices of one server (ids new for each run) get the demo; one of
them imports a calendar of the fixtures. Each command then sees only its
practice's records. The URL holds a password, which no output may show.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

if not os.environ.get("CI"):  # under CI a missing extra fails (in postgres_dsn), never skips
    pytest.importorskip("psycopg")

import psycopg

from sessionkit import cli
from sessionkit.adapters.postgres import SCHEMA_VERSION
from sessionkit.adapters.postgres import database as pg_database

pytest.importorskip("icalendar")

Run = Callable[..., subprocess.CompletedProcess[str]]

CALENDAR = Path(__file__).resolve().parents[1] / "fixtures" / "calendars" / "evening_sessions.ics"
SECRET = "Pw-7QzX-not-shown"
DEMO_SESSIONS = 12  # as on SQLite: 4 saved by the demo, 8 imported from the sample calendar
IMPORTED = 5  # evening_sessions.ics, 2026, into the demo practice


def _url(dsn: str, password: str | None, dbname: str | None = None) -> str:
    """``dsn`` (a URL or key=value string) as a postgresql:// URL, with ``password`` and ``dbname`` if given."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    user = urllib.parse.quote(str(params.get("user") or ""), safe="")
    secret = password if password is not None else params.get("password")
    userinfo = f"{user}:{urllib.parse.quote(str(secret), safe='')}" if secret else user
    host = str(params.get("host") or "127.0.0.1")
    port = params.get("port")
    name = dbname or str(params.get("dbname") or "")
    return f"postgresql://{userinfo}@{host}{':' + str(port) if port else ''}/{name}"


@pytest.fixture(scope="module")
def secret(postgres_dsn: str) -> str:
    """The password the URL holds: the DSN's own, else SECRET (a server that trusts the test role ignores it)."""
    own = psycopg.conninfo.conninfo_to_dict(postgres_dsn).get("password")
    if own:
        return str(own)
    try:
        psycopg.connect(_url(postgres_dsn, SECRET), connect_timeout=10).close()
    except psycopg.OperationalError:
        pytest.fail("the test server refuses a URL with a password; give one in SESSIONKIT_TEST_POSTGRES_DSN")
    return SECRET


@pytest.fixture(scope="module")
def url(postgres_dsn: str, secret: str, run: Run, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database as a URL holding a password, its schema brought up to date with `db upgrade`."""
    done = run("db", "upgrade", "--dsn", postgres_dsn, cwd=tmp_path_factory.mktemp("upgrade"))
    assert done.returncode == 0, done.stderr
    assert f"at version {SCHEMA_VERSION}" in done.stdout or f"to {SCHEMA_VERSION}" in done.stdout
    return _url(postgres_dsn, secret)


class Practices:
    """Two demo practices of one server; ``b`` also imported CALENDAR."""

    demo_a: subprocess.CompletedProcess[str]
    demo_b: subprocess.CompletedProcess[str]
    imported: subprocess.CompletedProcess[str]
    sessions: dict[str, list[dict[str, object]]]  # each practice's, as `export --format json` wrote them

    def __init__(self, url: str, secret: str, run: Run, folder: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.url, self.secret, self._run, self.folder = url, secret, run, folder
        self.a, self.b = f"practice-a-{tag}", f"practice-b-{tag}"

    def run(self, practice: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``sessionkit ARGS --db URL --practice PRACTICE``; the password never in its output."""
        done = self._run(*args, "--db", self.url, "--practice", practice, cwd=self.folder)
        assert self.secret not in done.stdout + done.stderr
        return done

    def call(self, practice: str, *args: str) -> subprocess.CompletedProcess[str]:
        """As :meth:`run`, in this process (``cli.main``): quicker, for the commands run many times."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main([*args, "--db", self.url, "--practice", practice])
        done = subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())
        assert self.secret not in done.stdout + done.stderr
        return done

    def export(self, practice: str) -> list[dict[str, object]]:
        """The practice's sessions, as ``export --format json`` writes them."""
        done = self.call(practice, "export", "--format", "json")
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        assert (document["format"], document["format_version"]) == ("sessionkit.export", 1)
        sessions: list[dict[str, object]] = document["sessions"]
        return sessions


@pytest.fixture(scope="module")
def practices(url: str, secret: str, run: Run, tmp_path_factory: pytest.TempPathFactory) -> Practices:
    """Practices a and b: the demo in each, then CALENDAR imported into b only."""
    p = Practices(url, secret, run, tmp_path_factory.mktemp("pg-cli"))
    p.demo_a = p.run(p.a, "demo")
    p.demo_b = p.call(p.b, "demo")
    p.imported = p.run(p.b, "import", str(CALENDAR), "--from", "2026-01-01", "--to", "2026-06-30")
    p.sessions = {practice: p.export(practice) for practice in (p.a, p.b)}
    return p


def test_demo_creates_each_practice_in_one_server(practices: Practices) -> None:
    """`demo --db URL --practice ID` creates the demo under that id, shows the URL without its password."""
    shown = practices.url.replace(f":{urllib.parse.quote(practices.secret, safe='')}@", "@")
    for practice, done in ((practices.a, practices.demo_a), (practices.b, practices.demo_b)):
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Created the demo practice in {shown} as practice {practice} ")
        assert "8 created, 0 already imported" in done.stdout
        assert f"sessionkit claims --db {shown} --practice {practice} --format 837p" in done.stdout
    again = practices.run(practices.a, "demo")
    assert again.returncode == 0, again.stderr
    assert "nothing new to set up" in again.stdout
    assert "0 created, 8 already imported" in again.stdout


def test_import_goes_into_one_practice_only(practices: Practices) -> None:
    """The calendar imported into b creates its sessions in b; a does not see them (nor their keys)."""
    done = practices.imported
    assert done.returncode == 0, done.stderr
    assert f"{IMPORTED} created, 0 already imported" in done.stdout
    a, b = practices.sessions[practices.a], practices.sessions[practices.b]
    assert len(a) == DEMO_SESSIONS
    assert len(b) == DEMO_SESSIONS + IMPORTED
    keys_b = {s.get("appointment_key") for s in b} - {s.get("appointment_key") for s in a}
    assert len(keys_b) == IMPORTED
    assert all("scheduler.example" in str(k) for k in keys_b)
    again = practices.call(practices.b, "import", str(CALENDAR), "--from", "2026-01-01", "--to", "2026-06-30")
    assert f"0 created, {IMPORTED} already imported" in again.stdout
    in_a = practices.call(
        practices.a, "import", str(CALENDAR), "--from", "2026-01-01", "--to", "2026-06-30", "--dry-run"
    )
    assert in_a.returncode == 0, in_a.stderr
    assert f"{IMPORTED} would be created, 0 already imported" in in_a.stdout


def test_check_text_and_json_per_practice(practices: Practices) -> None:
    """`check` reads the practice's sessions only: text counts them, JSON reports each (exit 1: some not ready)."""
    text = practices.run(practices.a, "check")  # as a user runs it; the others in this process
    assert text.returncode == 1, text.stderr
    assert text.stdout.startswith(f"Readiness of {DEMO_SESSIONS} sessions on ")
    for practice, count in ((practices.a, DEMO_SESSIONS), (practices.b, DEMO_SESSIONS + IMPORTED)):
        done = practices.call(practice, "check", "--format", "json", "--target", "837p")
        assert done.returncode == 1, done.stderr
        document = json.loads(done.stdout)
        assert (document["format"], document["format_version"]) == ("sessionkit.check", 1)
        assert len(document["reports"]) == count
        assert document["targets"]["x12_837p"]["sessions"] == count
        ids = {s["id"] for s in practices.sessions[practice]}
        assert {r["session_id"] for r in document["reports"]} == ids


def test_export_csv_per_practice(practices: Practices) -> None:
    """`export --format csv` writes one row per session of the practice."""
    a = practices.call(practices.a, "export", "--format", "csv")
    b = practices.run(practices.b, "export", "--format", "csv")
    assert a.returncode == b.returncode == 0
    assert len(a.stdout.splitlines()) == 1 + DEMO_SESSIONS
    assert len(b.stdout.splitlines()) == 1 + DEMO_SESSIONS + IMPORTED
    assert a.stdout.splitlines()[0] == b.stdout.splitlines()[0]


def test_claims_are_recorded_per_practice(practices: Practices) -> None:
    """`claims` bills a's ready sessions once; b's are billed by b's own run, with b's own control numbers."""
    first = practices.run(practices.a, "claims", "--usage", "T", "--output", "a.x12")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("billed ")
    again = practices.call(
        practices.a, "claims", "--usage", "T", "--output", str(practices.folder / "a2.x12")
    )
    assert again.stdout == "Nothing to bill: every ready session is on a claim already.\n"
    b = practices.call(practices.b, "claims", "--usage", "T", "--output", str(practices.folder / "b.x12"))
    assert b.returncode == 0, b.stderr
    assert b.stdout.startswith("billed ")
    a_text = (practices.folder / "a.x12").read_text()
    b_text = (practices.folder / "b.x12").read_text()
    assert a_text.startswith("ISA*")
    assert b_text.startswith("ISA*")
    control = [text.split("*")[13] for text in (a_text, b_text)]  # ISA13: each practice's first
    assert control[0] == control[1]
    assert not (practices.folder / "a2.x12").exists()


def test_invoices_per_practice(practices: Practices) -> None:
    """`invoices` invoices each practice's own sessions, numbered from 1 in each practice."""
    seen: dict[str, set[str]] = {}
    for practice in (practices.a, practices.b):
        done = practices.call(practice, "invoices", "--format", "json")
        assert done.returncode == 0, done.stderr
        invoices = json.loads(done.stdout)["invoices"]
        assert invoices
        assert sorted(i["number"] for i in invoices) == list(range(1, len(invoices) + 1))
        seen[practice] = {line["session_id"] for i in invoices for line in i["lines"]}
        assert seen[practice] <= {s["id"] for s in practices.sessions[practice]}
    imported_ids = {s["id"] for s in practices.sessions[practices.b]} - {
        s["id"] for s in practices.sessions[practices.a]
    }
    assert seen[practices.b] & imported_ids


def test_paper_forms_from_one_practice(practices: Practices) -> None:
    """`print-claims` and `superbill` read the practice's records from the URL (the pdf extra)."""
    pytest.importorskip("fpdf")
    forms = practices.folder / "forms.pdf"
    done = practices.call(practices.a, "print-claims", "--output", str(forms))
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("wrote ")
    assert forms.read_bytes().startswith(b"%PDF-")
    bill = practices.folder / "superbill.pdf"
    args = (
        "superbill",
        "--client",
        "c-1004",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--output",
        str(bill),
    )
    done = practices.call(practices.b, *args)
    assert done.returncode == 0, done.stderr
    assert bill.read_bytes().startswith(b"%PDF-")
    assert "superbill of " in done.stderr


def test_an_unknown_practice_is_refused(practices: Practices) -> None:
    """A practice id the database does not hold (a typo): one line naming --practice, exit 2."""
    done = practices.call(f"{practices.a}-typo", "check")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "sessionkit: error: the database holds no practice with this id (argument --practice); "
        "'sessionkit demo --db URL --practice ID' creates a demo practice\n"
    )


def test_a_database_without_the_schema_says_to_upgrade(
    postgres_dsn: str, secret: str, run: Run, tmp_path: Path
) -> None:
    """No sessionkit schema in the database: `demo` creates nothing, says to run `sessionkit db upgrade --dsn`, exit 2."""
    url = _url(postgres_dsn, secret, dbname="postgres")  # every server has it; sessionkit never wrote there
    done = run("demo", "--db", url, "--practice", "p1", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "run 'sessionkit db upgrade --dsn ...'" in lines[0]
    assert lines[0].endswith("[database.upgrade_needed]")
    assert secret not in done.stderr
    with psycopg.connect(_url(postgres_dsn, None, dbname="postgres")) as conn:
        found = conn.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'sessionkit'").fetchone()
    assert found is None


@pytest.mark.parametrize(
    ("version", "code"), [(SCHEMA_VERSION + 1, "upgrade_needed"), (SCHEMA_VERSION - 1, "too_new")]
)
def test_a_schema_older_or_newer_than_this_sessionkit_is_refused(  # noqa: PLR0917 (fixtures)
    url: str,
    secret: str,
    version: int,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The schema of another version than this sessionkit's (faked by changing the version it needs): one line, exit 2."""
    monkeypatch.setattr(pg_database, "SCHEMA_VERSION", version)
    assert cli.main(["check", "--db", url, "--practice", "p1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.rstrip().endswith(f"[database.{code}]")
    assert secret not in err
