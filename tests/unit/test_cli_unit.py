"""The command line in process: main(argv) with every branch the subprocess tests do not reach."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import string
import subprocess
import sys
import urllib.parse
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import cli
from sessionkit.adapters.sqlite import open_database
from sessionkit.demo import sample_calendar, seed_demo
from sessionkit.readiness import Finding, ReadinessContext, ReadinessReport, Target, check_many
from sessionkit.readiness.rules.codes import MODIFIER_DUPLICATE, TELEHEALTH_MODIFIER_MISSING
from sessionkit.readiness.rules.parties import REFERRING_FIRST_MISSING, REFERRING_NPI_MISSING

pytest.importorskip("icalendar")

REAL_CODE_SET = cli._code_set


@pytest.fixture(autouse=True)
def _no_code_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep these tests fast: no ICD-10-CM code set (the subprocess tests use the real one)."""
    monkeypatch.setattr(cli, "_code_set", lambda: None)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with the demo practice and its 4 saved sessions."""
    path = tmp_path / "practice.db"
    with open_database(path) as database:
        seed_demo(database.unit_of_work())
    return path


def _count(path: Path) -> int:
    with open_database(path) as database, database.unit_of_work() as uow:
        return uow.sessions.count()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the version and returns 0."""
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("sessionkit ")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command, the help is printed and the status is 0."""
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "export" in out


def test_usage_error_is_two_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """An argparse error gives the usage on one line and one error line, status 2."""
    assert cli.main(["export", "--db", "x.db"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("usage: sessionkit export")
    assert "--format" in lines[1]


def test_demo_in_process_then_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """demo seeds, imports and summarises; the second run creates nothing."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo"]) == 0
    first = capsys.readouterr().out
    assert "8 created, 0 already imported" in first
    assert "ICD-10-CM code set: not installed" in first
    assert cli.main(["demo", "--db", "sessionkit-demo.db"]) == 0
    assert "0 created, 8 already imported: nothing new to import" in capsys.readouterr().out
    assert _count(tmp_path / "sessionkit-demo.db") == 12


def test_demo_db_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """demo --db DIRECTORY is bad input."""
    assert cli.main(["demo", "--db", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


def test_check_all_targets_text_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check without --target checks all three targets; text lists the sessions not ready."""
    assert cli.main(["check", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "CMS-1500:" in out
    assert "837P:" in out
    assert "client invoice:" in out
    assert "s-0004  837P: bill_to.client_direct @ bill_to" in out
    assert cli.main(["check", "--db", str(db), "--format", "json", "--target", "837p"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["code_set"] is None
    # Without a code set, the shipped ICD-10-CM history still finds the category F43.2 (s-0003).
    assert data["targets"] == {"x12_837p": {"sessions": 4, "ready": 2, "not_ready": 2}}


def test_check_ready_exits_zero(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every session ready for the invoice target: status 0, no 'Not ready' section."""
    assert cli.main(["check", "--db", str(db), "--target", "invoice", "--target", "invoice"]) == 0
    out = capsys.readouterr().out
    assert "4 ready,    0 not ready" in out
    assert "Not ready" not in out


def test_check_empty_database_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty file is not a sessionkit database and stays empty."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert cli.main(["check", "--db", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err
    assert empty.read_bytes() == b""


def test_check_database_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A directory given as the database is bad input."""
    assert cli.main(["check", "--db", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


def test_import_with_practice_time_zone_and_explicit_tz(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """import reads the calendar in --tz; the default range ends today (nothing in 2026-02 then)."""
    calendar = tmp_path / "sample.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    args = ["import", str(calendar), "--db", str(db), "--tz", "America/Chicago"]
    assert cli.main([*args, "--from", "2026-03-01", "--to", "2026-03-06"]) == 0
    out = capsys.readouterr().out
    assert "Import 2026-03-01 to 2026-03-06" in out
    assert "2 created" in out
    assert _count(db) == 6


def test_import_default_range_is_90_days_to_today(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --from, the range starts 90 days before --to."""
    calendar = tmp_path / "sample.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    assert cli.main(["import", str(calendar), "--db", str(db), "--to", "2026-05-30"]) == 0
    assert "Import 2026-03-01 to 2026-05-30" in capsys.readouterr().out


def test_import_from_after_to(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--from after --to is bad input."""
    calendar = tmp_path / "a.csv"
    calendar.write_text("title,start,end\n", encoding="utf-8")
    assert (
        cli.main(["import", str(calendar), "--db", str(db), "--from", "2026-05-02", "--to", "2026-05-01"])
        == 2
    )
    assert "--from is after --to" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cal.doc", "x", "must end in .ics or .csv"),
        ("cal.csv", "no,useful,columns\n1,2,3\n", "calendar."),
    ],
)
def test_import_unreadable_calendars(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, name: str, content: str, message: str
) -> None:
    """An unknown file type or a CSV without the needed columns is bad input."""
    calendar = tmp_path / name
    calendar.write_text(content, encoding="utf-8")
    assert cli.main(["import", str(calendar), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_import_calendar_path_is_a_directory(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory given as FILE is bad input."""
    assert cli.main(["import", str(tmp_path), "--db", str(db)]) == 2
    assert "not a file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("email,id\nx@y.org,c-1\n", "columns match and client_id"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        ('match,client_id\n"unclosed,c-1\n', "cannot be read at line"),
    ],
)
def test_client_map_errors(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, message: str
) -> None:
    """A missing, headerless, undecodable or broken client map is bad input."""
    calendar = tmp_path / "a.csv"
    calendar.write_text("title,start,end\n", encoding="utf-8")
    client_map = tmp_path / "map.csv"
    if isinstance(content, bytes):
        client_map.write_bytes(content)
    elif content is not None:
        client_map.write_text(content, encoding="utf-8")
    assert cli.main(["import", str(calendar), "--db", str(db), "--client-map", str(client_map)]) == 2
    assert message in capsys.readouterr().err


def test_client_map_skips_blank_rows(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rows without a match or a client id are ignored; the rest map titles to clients."""
    calendar = tmp_path / "a.csv"
    calendar.write_text("uid,title,start,end\nr1,Intake AB,2026-03-02 10:00,2026-03-02 10:53\n", "utf-8")
    client_map = tmp_path / "map.csv"
    client_map.write_text("Match, Client_ID\n,c-1004\nintake ab,c-1001\n", encoding="utf-8")
    args = ["import", str(calendar), "--db", str(db), "--client-map", str(client_map)]
    assert cli.main([*args, "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    assert "1 created" in capsys.readouterr().out


def test_import_practice_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sessionkit database without a practice setup: the error code, status 2."""
    path = tmp_path / "bare.db"
    open_database(path).close()
    calendar = tmp_path / "a.csv"
    calendar.write_text("title,start,end\n", encoding="utf-8")
    assert cli.main(["import", str(calendar), "--db", str(path)]) == 2
    assert "practice.not_found" in capsys.readouterr().err


def test_import_without_the_ical_extra(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without icalendar installed, an .ics import says which extra to install."""
    monkeypatch.setitem(__import__("sys").modules, "sessionkit.adapters.ics", None)
    calendar = tmp_path / "a.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    assert cli.main(["import", str(calendar), "--db", str(db)]) == 2
    assert "pip install 'sessionkit-billing[ical]'" in capsys.readouterr().err


def test_check_on_a_database_without_practice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no practice (and no sessions), check reports zero sessions, all ready."""
    path = tmp_path / "bare.db"
    open_database(path).close()
    assert cli.main(["check", "--db", str(path), "--target", "837p"]) == 0
    assert "Readiness of 0 sessions" in capsys.readouterr().out


def test_export_csv_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """export writes CSV (booleans and empty values as text) and JSON documents."""
    assert cli.main(["export", "--db", str(db), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,client_id,date_of_service,")
    assert len(lines) == 5
    assert cli.main(["export", "--db", str(db), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["format"], document["format_version"]) == ("sessionkit.export", 1)
    assert [d["id"] for d in document["sessions"]] == ["s-0001", "s-0002", "s-0003", "s-0004"]


def test_export_to_a_file_and_to_an_unwritable_place(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output writes the file and says so on stderr; a directory as output is bad input."""
    out = tmp_path / "sessions.json"
    assert cli.main(["export", "--db", str(db), "--format", "json", "--output", str(out)]) == 0
    assert "wrote 4 sessions" in capsys.readouterr().err
    assert len(json.loads(out.read_text(encoding="utf-8"))["sessions"]) == 4
    assert cli.main(["export", "--db", str(db), "--format", "json", "--output", str(tmp_path)]) == 2
    assert "argument --output" in capsys.readouterr().err


def test_csv_cells() -> None:
    """CSV cells: None empty, booleans lower case, dates ISO, decimals as text."""
    from decimal import Decimal

    from sessionkit.records import csv_cell

    assert [csv_cell(v) for v in (None, True, False, date(2026, 3, 2), Decimal("1.50"), 7)] == [
        "",
        "true",
        "false",
        "2026-03-02",
        "1.50",
        "7",
    ]


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (RuntimeError("boom"), 3, "unexpected RuntimeError"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (BrokenPipeError(), 0, ""),
    ],
)
def test_unexpected_errors(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    error: BaseException,
    status: int,
    message: str,
) -> None:
    """An unexpected error is one line and status 3; Ctrl-C 130; a closed pipe ends quietly."""

    def fail(*_args: object) -> int:
        raise error

    monkeypatch.setattr(cli, "_run_export", fail)
    monkeypatch.setattr(cli, "_silence_stdout", lambda: None)  # never touch the real stdout of pytest -s
    assert cli.main(["export", "--db", str(db), "--format", "json"]) == status
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert "boom" not in err


def test_debug_prints_the_traceback(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--debug (before or after the command) prints the traceback, then the one error line."""

    def fail(*_args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_run_export", fail)
    for argv in (["--debug", "export"], ["export", "--debug"]):
        assert cli.main([*argv, "--db", str(db), "--format", "json"]) == 3
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err
        assert err.strip().splitlines()[-1].startswith("sessionkit: error: unexpected RuntimeError")


def test_progress_shows_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress line is written to a terminal (then cleared), never to a pipe."""
    monkeypatch.setattr(cli.Progress, "delay", 0.0)
    monkeypatch.setattr(cli.Progress, "interval", 0.0)
    tty = _Tty()
    progress = cli.Progress("checking", 2, tty)
    progress.step(1)
    progress.step(2)
    progress.close()
    assert tty.getvalue() == "\rchecking 1/2\rchecking 2/2\r\x1b[K"
    pipe = io.StringIO()
    quiet = cli.Progress("checking", 2, pipe)
    quiet.step(1)
    quiet.close()
    assert pipe.getvalue() == ""


def test_progress_waits_for_long_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work that ends before the delay shows nothing, even on a terminal."""
    monkeypatch.setattr(cli.Progress, "delay", 3600.0)
    tty = _Tty()
    progress = cli.Progress("importing", 5, tty)
    progress.step(1)
    progress.close()
    assert tty.getvalue() == ""


def test_progress_on_stderr_during_a_check(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """check writes its progress line to stderr when stderr is a terminal."""
    monkeypatch.setattr(cli.Progress, "delay", 0.0)
    monkeypatch.setattr(cli.Progress, "interval", 0.0)
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert cli.main(["check", "--db", str(db), "--target", "invoice"]) == 0
    assert "\rchecking 4/4" in tty.getvalue()
    assert tty.getvalue().endswith("\r\x1b[K")
    assert "checking" not in capsys.readouterr().out


def test_python_dash_m_entry_point() -> None:
    """sessionkit.__main__ runs main only when executed as a script."""
    import importlib

    module = importlib.import_module("sessionkit.__main__")
    assert module.main is cli.main


def test_import_summary_mentions_changed_appointments() -> None:
    """The summary line counts appointments changed in the calendar since their import."""
    from sessionkit import ImportReport
    from sessionkit.importing import ImportOutcome, OutcomeKind

    report = ImportReport(
        outcomes=(ImportOutcome(key="k", kind=OutcomeKind.CHANGED),),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )
    assert cli._import_summary(report) == (
        "0 created, 0 already imported, 1 changed in the calendar since: nothing new to import"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "x.ics", "--db", "x.db", "--to", "tomorrow"], "not a date"),
        (["import", "x.ics", "--db", "x.db", "--tz", "Mars/Olympus"], "not an IANA time zone"),
    ],
)
def test_bad_option_values(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad date or time zone is a usage error naming the option."""
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_files_in_process(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing calendar file or database is one line and status 2."""
    assert cli.main(["import", str(tmp_path / "none.ics"), "--db", str(db)]) == 2
    assert "calendar file does not exist" in capsys.readouterr().err
    assert cli.main(["export", "--db", str(tmp_path / "none.db"), "--format", "csv"]) == 2
    assert "database file does not exist" in capsys.readouterr().err


def test_default_code_set_is_used_when_installed() -> None:
    """check uses the installed ICD-10-CM code set, or none without the extra."""
    from sessionkit.codes.icd10 import default_code_set

    expected = default_code_set()
    found = REAL_CODE_SET()
    assert type(found) is type(expected)


# -- --db postgresql://... --practice ID (no server needed) -------------------------------------

SECRET = "Pw-7QzX-never-shown"
UNREACHABLE = f"postgresql://app:{SECRET}@127.0.0.1:1/sessionkit"  # port 1: refused at once


def _db_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Every command that takes --db, with the other arguments it needs to reach the database."""
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("uid,title,start,end\n", encoding="utf-8")
    pdf = str(tmp_path / "out.pdf")
    commands = {
        "demo": ["demo"],
        "import": ["import", str(calendar)],
        "check": ["check"],
        "export": ["export", "--format", "json"],
        "claims": ["claims", "--usage", "T"],
        "invoices": ["invoices"],
    }
    if importlib.util.find_spec("fpdf") is not None:  # else these stop at the missing pdf extra first
        commands["print-claims"] = ["print-claims", "--output", pdf]
        commands["superbill"] = ["superbill", "--client", "c1", "--from", "2026-01-01", "--to", "2026-01-31"]
        commands["superbill"] += ["--output", pdf]
    return commands


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert SECRET not in err
    return lines[0]


def test_every_command_with_db_takes_practice(tmp_path: Path) -> None:
    """Every subcommand that has --db also has --practice (the PostgreSQL form of --db needs it)."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    with_db = {
        name: {o for a in sub._actions for o in a.option_strings}
        for name, sub in commands.choices.items()
        if any("--db" in a.option_strings for a in sub._actions)
    }
    assert set(_db_commands(tmp_path)) <= set(with_db)
    assert all("--practice" in options for options in with_db.values())


def test_a_url_without_practice_is_refused_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--db URL without --practice: one line naming --practice, exit 2, for every command, nothing written."""
    for name, argv in _db_commands(tmp_path).items():
        assert cli.main([*argv, "--db", UNREACHABLE]) == 2, name
        line = _one_line(capsys)
        assert line == (
            "sessionkit: error: a PostgreSQL database needs --practice ID, the practice whose records "
            "to use (argument --practice)"
        ), name
    assert not (tmp_path / "out.pdf").exists()


def test_practice_with_an_sqlite_file_is_refused(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--practice with an SQLite file (also demo's default file): one line, exit 2, no file created."""
    monkeypatch.chdir(tmp_path)
    for argv in (["check", "--db", str(db)], ["demo"], ["export", "--db", str(db), "--format", "csv"]):
        assert cli.main([*argv, "--practice", "p1"]) == 2
        assert _one_line(capsys) == (
            "sessionkit: error: --practice goes with a PostgreSQL URL in --db; an SQLite file holds "
            "one practice (argument --practice)"
        )
    assert not (tmp_path / cli.DEFAULT_DEMO_DB).exists()


@pytest.mark.parametrize("practice", ["", "   ", "x" * 65, "a\tb", "a\nb"])
def test_a_bad_practice_id_is_a_usage_error(practice: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--practice must be 1 to 64 printable characters: the usage line and one error line, exit 2."""
    assert cli.main(["check", "--db", UNREACHABLE, "--practice", practice]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert "argument --practice: not a practice id: 1 to 64 printable characters" in lines[1]
    assert SECRET not in err


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@db.example:port/sessionkit",
        f"postgresql://app:{SECRET}@db.example:70000/sessionkit",
        f"postgresql://app:{SECRET}@db.example/sessionkit?nosuchparameter=1",
        f"postgresql://app:{SECRET}@db.example/sessionkit?sslmode",
        f"postgresql://app:{SECRET}@[::1/sessionkit",
        f"postgres://app:{SECRET}%zz@db.example/sessionkit",
        f"postgresql://app@db.example/sessionkit?password={SECRET}&nosuchparameter",
    ],
)
def test_a_bad_url_is_one_line_without_the_password(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A URL libpq cannot read: one line naming --db, exit 2; never the password (libpq's message quotes it)."""
    pytest.importorskip("psycopg")
    assert cli.main(["check", "--db", url, "--practice", "p1"]) == 2
    assert _one_line(capsys) == (
        "sessionkit: error: the database URL is not a valid PostgreSQL URL, "
        "postgresql://[user@]host[:port]/database (argument --db)"
    )


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "url", [UNREACHABLE, UNREACHABLE.replace("postgresql", "PostgreSQL"), UNREACHABLE + "?sslmode=disable"]
)
def test_an_unreachable_server_is_one_line_without_the_password(
    url: str, debug: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server at the URL (the scheme in any case): one line, exit 2, never the password, even with --debug."""
    pytest.importorskip("psycopg")
    assert cli.main([*(["--debug"] if debug else []), "check", "--db", url, "--practice", "p1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert SECRET not in err
    assert err.splitlines()[-1] == (
        "sessionkit: error: the database server cannot be reached or refused the login [database.unreachable]"
    )
    assert ("Traceback" in err) is debug


@given(password=st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=12, max_size=40))
@settings(max_examples=25)
def test_no_refusal_shows_the_password(password: str) -> None:
    """Whatever the password, neither a bad URL nor an unreachable server prints it."""
    pytest.importorskip("psycopg")
    for url in (
        f"postgresql://app:{password}@127.0.0.1:1/db",
        f"postgresql://app:{password}@127.0.0.1:1/db?bad",
        f"postgres://127.0.0.1:1/db?password={password}",
    ):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["--debug", "export", "--db", url, "--practice", "p1", "--format", "csv"]) == 2
        assert password not in err.getvalue()


def test_without_the_postgres_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A URL without psycopg installed: the shared missing-extra line naming the pip install, exit 2."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    assert cli.main(["check", "--db", UNREACHABLE, "--practice", "p1"]) == 2
    line = _one_line(capsys)
    assert "python -m pip install 'sessionkit-billing[postgres]'" in line
    assert line.endswith("[extra.missing @ postgres]")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://app:{SECRET}@db.example:5432/sk", "postgresql://app@db.example:5432/sk"),
        ("postgresql://app@db.example/sk", "postgresql://app@db.example/sk"),
        (f"postgresql://:{SECRET}@db.example/sk", "postgresql://db.example/sk"),
        (f"postgres://app:{SECRET}@[::1]:5432,h2:5433/sk", "postgresql://app@[::1]:5432,h2:5433/sk"),
        (
            f"postgresql://db.example/sk?sslmode=require&password={SECRET}&sslpassword={SECRET}",
            "postgresql://db.example/sk?sslmode=require",
        ),
        (f"postgresql://app:{SECRET}@db.example?password={SECRET}", "postgresql://app@db.example"),
        (
            f"postgresql://app:{SECRET}?w@db.example/sk",
            "postgresql://app@db.example/sk",
        ),  # libpq: a ? in the password
        (f"postgresql://app:{SECRET}#w@db.example/sk", "postgresql://app@db.example/sk"),
        (
            f"postgresql://app%40corp:{SECRET}%40w@db.example/s%20k",
            "postgresql://app%40corp@db.example/s%20k",
        ),
        ("postgresql://", "postgresql://"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    """The URL printed (by demo) is what libpq reads: user, hosts, database and parameters, never a password."""
    pytest.importorskip("psycopg")
    assert cli._shown_url(url) == shown


@given(
    password=st.text(
        alphabet=string.ascii_letters + string.digits + "?#!$&'()*+,;=%@:", min_size=8, max_size=30
    ),
    form=st.sampled_from(["raw", "quoted", "query"]),
    query=st.sampled_from(["", "sslmode=require", "application_name=a%20b&connect_timeout=5"]),
)
@settings(max_examples=40)
def test_a_shown_url_reads_back_the_same_without_the_password(password: str, form: str, query: str) -> None:
    """Whatever libpq reads from a URL, the shown URL reads back to the same parameters but the password."""
    conninfo = pytest.importorskip("psycopg.conninfo")
    secret = "Zq9" + password
    quoted = urllib.parse.quote(secret, safe="")
    url = (
        {
            "raw": f"postgresql://app:{secret}@db.example:5433/sk",
            "quoted": f"postgresql://app:{quoted}@db.example:5433/sk",
            "query": f"postgresql://app@db.example:5433/sk?password={quoted}",
        }[form]
        + ("?" if form != "query" and query else "&" if query else "")
        + query
    )
    try:
        params = conninfo.conninfo_to_dict(url)
    except Exception:
        return  # libpq cannot read it: the CLI refuses it before showing anything
    shown = cli._shown_url(url)
    taken = str(params.pop("password", ""))
    if len(taken) >= 4:
        assert taken not in shown
        assert urllib.parse.quote(taken, safe="") not in shown
    assert conninfo.conninfo_to_dict(shown) == params


def test_open_existing_still_opens_an_sqlite_file(db: Path) -> None:
    """_open_existing(path) opens an SQLite file as before; with a URL it needs the practice."""
    store = cli._open_existing(str(db))
    try:
        with store.unit_of_work() as uow:
            assert uow.sessions.count() == 4
    finally:
        store.close()
    with pytest.raises(cli.UsageError, match="--practice"):
        cli._open_existing(UNREACHABLE)


def test_help_does_not_import_the_postgres_adapter() -> None:
    """`sessionkit check --help` stays fast: neither psycopg nor the PostgreSQL adapter is imported."""
    code = (
        "import sys\n"
        "from sessionkit import cli\n"
        "try:\n"
        "    cli.main(['check', '--help'])\n"
        "finally:\n"
        "    print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'sessionkit.adapters'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])},
    )
    assert done.returncode == 0, done.stderr
    assert "--practice ID" in done.stdout
    imported = done.stdout.splitlines()[-1]
    assert "psycopg" not in imported
    assert "sessionkit.adapters.postgres" not in imported
    assert "sessionkit.adapters.sqlite" not in imported


def _tally_pool() -> list[tuple[Finding, ...]]:
    """Findings tuples as checks return them: some shared, some equal but distinct objects."""
    warning = TELEHEALTH_MODIFIER_MISSING.at("modifiers")
    error = REFERRING_NPI_MISSING.at("referring_provider.npi")
    return [
        (),
        (warning,),
        (warning,),  # equal to the one before, another tuple
        (error, warning),
        (REFERRING_FIRST_MISSING.at("referring_provider.first_name"), error),
        (MODIFIER_DUPLICATE.at("modifiers[1]"), MODIFIER_DUPLICATE.at("modifiers[1]")),
    ]


@settings(max_examples=60)
@given(st.lists(st.integers(0, 5), max_size=40), st.integers(1, 4))
def test_the_tally_counts_each_finding_of_each_report(picks: list[int], held: int) -> None:
    """Reports sharing findings tuples, counted per tuple and spilled into per-finding counts whenever
    the tally holds too many tuples: the same counts, ready figures and ready answers as counting
    every finding of every report."""
    pool = _tally_pool()
    reports = [
        ReadinessReport(session_id=f"s{i}", target=Target.X12_837P, findings=pool[k])
        for i, k in enumerate(picks)
    ]
    tally = cli._Tally()
    tally._MAX_HELD = held
    half = len(reports) // 2
    answers = [ready for r in reports[:half] for ready in tally.add_all([r])] + tally.add_all(reports[half:])
    expected: Counter[tuple[int, str, str, str]] = Counter(
        (f.severity.rank, f.severity.value, f.code, f.field) for r in reports for f in r.findings
    )
    assert answers == [r.ready for r in reports]
    assert (tally.sessions, tally.ready) == (len(reports), sum(r.ready for r in reports))
    assert tally.findings == expected
    assert tally.findings == expected  # reading the counts twice changes nothing


def test_check_json_reports_are_check_many_target_by_target(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON reports of check (one pass over every target) are check_many's, client by client and
    target by target in the order asked, with the session's client and date."""
    targets = [Target.CMS1500, Target.X12_837P, Target.CLIENT_INVOICE]
    argv = ["check", "--db", str(db), "--format", "json"]
    for t in targets:
        argv += ["--target", t.value]
    cli.main(argv)
    reports = json.loads(capsys.readouterr().out)["reports"]
    store = open_database(db)
    try:
        today = cli._today(store.unit_of_work())
        with store.unit_of_work() as uow:
            expected = []
            for client_id in uow.sessions.client_ids():
                sessions = uow.sessions.by_client(client_id)
                context = ReadinessContext.from_unit_of_work(uow, client_id, today=today, sessions=sessions)
                for t in targets:
                    for session, report in zip(sessions, check_many(sessions, context, t), strict=True):
                        expected.append(
                            {
                                **report.to_dict(),
                                "client_id": session.client_id,
                                "date_of_service": session.date_of_service.isoformat(),
                            }
                        )
    finally:
        store.close()
    assert len(expected) == 4 * len(targets)
    assert reports == expected
