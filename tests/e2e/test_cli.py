"""The ``sessionkit`` command end to end: demo, import, check, export and bad input."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from sessionkit import ClientSession
from sessionkit.adapters.sqlite import open_database
from sessionkit.demo import sample_calendar, seed_demo
from sessionkit.serialization import from_dict

Run = Callable[..., subprocess.CompletedProcess[str]]

pytest.importorskip("icalendar")

HAS_ICD10 = importlib.util.find_spec("simple_icd_10_cm") is not None
CLIENT_NAMES = ("Ada", "Byron", "Grace", "Hopper", "Alan", "Turing", "Mary", "Jackson", "Babbage")
DEMO_SESSIONS = 12  # 4 saved before + 8 imported from the sample calendar


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, run: Run) -> tuple[Path, str]:
    """A folder where ``sessionkit demo`` ran once; its stdout."""
    folder = tmp_path_factory.mktemp("demo")
    done = run("demo", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder, done.stdout


@pytest.fixture
def practice_db(tmp_path: Path) -> Path:
    """A database holding the demo practice and its 4 saved sessions (no import yet)."""
    path = tmp_path / "practice.db"
    with open_database(path) as db:
        assert seed_demo(db.unit_of_work())
    return path


def _session_count(path: Path) -> int:
    with open_database(path) as db, db.unit_of_work() as uow:
        return uow.sessions.count()


def test_demo_creates_the_practice_and_reports(demo_dir: tuple[Path, str]) -> None:
    """The first demo run creates the database, imports 8 sessions and summarises each target."""
    folder, out = demo_dir
    assert (folder / "sessionkit-demo.db").is_file()
    assert "Created the demo practice" in out
    assert "8 created, 0 already imported" in out
    assert "unmatched client" in out
    assert "skipped cancelled" in out
    assert "skipped all day" in out
    for label in ("CMS-1500:", "837P:", "client invoice:"):
        assert label in out
    assert "authorization.exhausted @ date_of_service" in out
    assert "coverage.none_active @ date_of_service" in out
    if HAS_ICD10:
        assert "2 x error   diagnosis.not_billable @ diagnoses[0]" in out
    assert _session_count(folder / "sessionkit-demo.db") == DEMO_SESSIONS


def test_demo_twice_creates_nothing_new(demo_dir: tuple[Path, str], run: Run) -> None:
    """Running the demo again reuses the practice and imports nothing."""
    folder, _ = demo_dir
    again = run("demo", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert "nothing new to set up" in again.stdout
    assert "0 created, 8 already imported" in again.stdout
    assert again.stderr == ""
    assert _session_count(folder / "sessionkit-demo.db") == DEMO_SESSIONS


@pytest.mark.parametrize(("target", "ready"), [("cms1500", False), ("837p", False), ("invoice", True)])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_each_target_and_format(
    demo_dir: tuple[Path, str], run: Run, target: str, ready: bool, fmt: str
) -> None:
    """check exits 0 when every session is ready for the target, else 1; json parses."""
    folder, _ = demo_dir
    done = run("check", "--db", "sessionkit-demo.db", "--target", target, "--format", fmt, cwd=folder)
    assert done.returncode == (0 if ready else 1), done.stderr
    assert done.stderr == ""
    if fmt == "json":
        data = json.loads(done.stdout)
        assert data["ready"] is ready
        [(name, summary)] = data["targets"].items()
        assert summary["sessions"] == DEMO_SESSIONS
        assert summary["ready"] + summary["not_ready"] == DEMO_SESSIONS
        assert len(data["reports"]) == DEMO_SESSIONS
        assert {r["target"] for r in data["reports"]} == {name}
        assert all(set(r) >= {"session_id", "ready", "findings", "date_of_service"} for r in data["reports"])
    else:
        assert f"Readiness of {DEMO_SESSIONS} sessions" in done.stdout
        assert ("Not ready" in done.stdout) is not ready
    if not ready:
        assert "authorization.exhausted" in done.stdout
        assert "bill_to.client_direct" in done.stdout
    for name in CLIENT_NAMES:
        assert name not in done.stdout


def test_export_json_round_trips(demo_dir: tuple[Path, str], run: Run) -> None:
    """export --format json writes every session as a document that loads back."""
    folder, _ = demo_dir
    done = run("export", "--db", "sessionkit-demo.db", "--format", "json", cwd=folder)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["format"], document["format_version"]) == ("sessionkit.export", 1)
    sessions = [from_dict(doc, ClientSession) for doc in document["sessions"]]
    assert len(sessions) == DEMO_SESSIONS
    assert sessions[0].id == "s-0001"
    assert [s.date_of_service for s in sessions] == sorted(s.date_of_service for s in sessions)


def test_export_csv_to_stdout_and_to_a_file(demo_dir: tuple[Path, str], run: Run) -> None:
    """export --format csv gives one flat row per session, to stdout or to --output."""
    folder, _ = demo_dir
    done = run("export", "--db", "sessionkit-demo.db", "--format", "csv", cwd=folder)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == DEMO_SESSIONS
    assert rows[0]["id"] == "s-0001"
    assert rows[0]["charge"] == "180.00"
    assert rows[0]["diagnoses.0"] == "F41.1"
    assert rows[0]["resubmission.frequency"] == "1"
    written = run(
        "export", "--db", "sessionkit-demo.db", "--format", "csv", "--output", "out.csv", cwd=folder
    )
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert (folder / "out.csv").read_text(encoding="utf-8") == done.stdout


def test_import_ics_then_again(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """Importing an .ics creates the sessions once; a second import creates nothing."""
    calendar = tmp_path / "sample.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    args = ("import", str(calendar), "--db", str(practice_db), "--from", "2026-02-01", "--to", "2026-04-30")
    first = run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "8 created, 0 already imported" in first.stdout
    second = run(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 created, 8 already imported: nothing new to import" in second.stdout
    assert _session_count(practice_db) == 4 + 8


def test_import_dry_run_saves_nothing(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """--dry-run reports what would be created and writes nothing."""
    calendar = tmp_path / "sample.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    done = run(
        "import", str(calendar), "--db", str(practice_db), "--from", "2026-02-01", "--to", "2026-04-30",
        "--dry-run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dry run: nothing saved" in done.stdout
    assert "8 would be created" in done.stdout
    assert _session_count(practice_db) == 4


def test_import_select_imports_only_the_keys_given(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """--select KEY imports that appointment only; the others are 'not selected'."""
    calendar = tmp_path / "sample.ics"
    calendar.write_text(sample_calendar(), encoding="utf-8")
    done = run(
        "import", str(calendar), "--db", str(practice_db), "--from", "2026-02-01", "--to", "2026-04-30",
        "--select", "sample-grace-intake@sessionkit.invalid", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 created, 0 already imported" in done.stdout
    assert "not selected" in done.stdout
    assert _session_count(practice_db) == 5


def test_import_csv_with_a_client_map(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """A CSV calendar imports; --client-map matches by email and by title substring."""
    calendar = tmp_path / "appointments.csv"
    calendar.write_text(
        "uid,title,start,end,attendees\n"
        "r1,Session GH,2026-04-02 14:00,2026-04-02 14:45,grace.hopper@example.org\n"
        "r2,Session AT,2026-04-03 21:00,2026-04-03 21:45,\n"
        "r3,Session XX,2026-04-04 09:00,2026-04-04 09:45,\n",
        encoding="utf-8",
    )
    client_map = tmp_path / "map.csv"
    client_map.write_text("match,client_id\ngrace.hopper@example.org,c-1002\nSession AT,c-1003\n", "utf-8")
    done = run(
        "import", str(calendar), "--db", str(practice_db), "--from", "2026-04-01", "--to", "2026-04-30",
        "--client-map", str(client_map), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 created, 0 already imported" in done.stdout
    assert "unmatched client" in done.stdout
    with open_database(practice_db) as db, db.unit_of_work() as uow:
        created = uow.sessions.between(date(2026, 4, 1), date(2026, 4, 30))
    assert sorted(s.client_id for s in created) == ["c-1002", "c-1003"]


# -- bad input: one line on stderr, exit 2 -------------------------------------------------------


def _assert_one_error_line(done: subprocess.CompletedProcess[str], *, usage: bool = False) -> str:
    stdout, stderr, code = done.stdout, done.stderr, done.returncode
    assert code == 2, (stdout, stderr)
    assert stdout == ""
    lines = stderr.strip().splitlines()
    if usage:
        assert len(lines) == 2, lines
        assert lines[0].startswith("usage: sessionkit")
    else:
        assert len(lines) == 1, lines
    assert "error:" in lines[-1]
    assert "Traceback" not in stderr
    for name in CLIENT_NAMES:
        assert name not in stderr
    return lines[-1]


def test_missing_calendar_file(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """A calendar file that does not exist: one line, exit 2."""
    line = _assert_one_error_line(run("import", "nope.ics", "--db", str(practice_db), cwd=tmp_path))
    assert "does not exist" in line


def test_missing_database(run: Run, tmp_path: Path) -> None:
    """check of a database that does not exist: one line, exit 2, no file created."""
    line = _assert_one_error_line(run("check", "--db", "nothing.db", cwd=tmp_path))
    assert "does not exist" in line
    assert not (tmp_path / "nothing.db").exists()


@pytest.mark.parametrize("command", [["check"], ["export", "--format", "json"]])
def test_not_a_database_is_left_untouched(run: Run, tmp_path: Path, command: list[str]) -> None:
    """A text file given as the database: one line, exit 2, the file byte-for-byte unchanged."""
    notes = tmp_path / "notes.txt"
    content = b"Therapy notes for Ada Byron\r\nnot a database\x00\xff\n"
    notes.write_bytes(content)
    line = _assert_one_error_line(run(*command, "--db", str(notes), cwd=tmp_path))
    assert "database.not_sqlite" in line
    assert notes.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_malformed_calendar(practice_db: Path, run: Run, tmp_path: Path) -> None:
    """A calendar that cannot be read at all: one line naming the line, no client data, exit 2."""
    bad = tmp_path / "broken.ics"
    bad.write_text(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Therapy - Ada Byron\nDTSTART:2026\nEND:VCALENDAR\n",
        encoding="utf-8",
    )
    before = practice_db.read_bytes()
    line = _assert_one_error_line(run("import", str(bad), "--db", str(practice_db), cwd=tmp_path))
    assert "calendar." in line
    assert "line" in line
    assert _session_count(practice_db) == 4
    assert len(before) > 0


def test_unknown_option(run: Run, tmp_path: Path) -> None:
    """An unknown option: argparse's usage line plus one error line, exit 2."""
    line = _assert_one_error_line(run("check", "--db", "x.db", "--colour", cwd=tmp_path), usage=True)
    assert "--colour" in line


def test_bad_date(run: Run, tmp_path: Path) -> None:
    """A date that is not YYYY-MM-DD: usage plus one error line, exit 2."""
    line = _assert_one_error_line(
        run("import", "x.ics", "--db", "x.db", "--from", "03/02/2026", cwd=tmp_path), usage=True
    )
    assert "YYYY-MM-DD" in line


def test_debug_shows_the_traceback(run: Run, tmp_path: Path) -> None:
    """--debug prints the traceback before the error line."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    done = run("check", "--db", str(notes), "--debug", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("sessionkit: error:")


def test_version(run: Run, tmp_path: Path) -> None:
    """--version prints the version and exits 0."""
    import sessionkit

    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"sessionkit {sessionkit.__version__}"
