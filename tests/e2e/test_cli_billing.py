"""``sessionkit claims`` and ``sessionkit invoices`` as a biller runs them: record, then send; never twice."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def demo(tmp_path: Path, run: Run) -> Path:
    """A folder with a fresh demo database."""
    done = run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "to bill (837P)" in done.stdout
    return tmp_path


def _live(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT session_id, COUNT(*) FROM claim_sessions WHERE live = 1 GROUP BY session_id"
        ).fetchall()


def test_claims_are_written_once_and_recorded(demo: Path, run: Run) -> None:
    """The first run writes an 837P (0600) and records the claims; the second bills nothing."""
    first = run("claims", "--db", "sessionkit-demo.db", "--usage", "T", "--output", "claims.x12", cwd=demo)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("billed ")
    text = (demo / "claims.x12").read_text()
    assert text.startswith("ISA*")
    assert "CLM*SK" in text
    assert stat.S_IMODE((demo / "claims.x12").stat().st_mode) == 0o600
    billed = _live(demo / "sessionkit-demo.db")
    assert billed
    assert all(count == 1 for _, count in billed)
    again = run("claims", "--db", "sessionkit-demo.db", "--usage", "T", "--output", "more.x12", cwd=demo)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "Nothing to bill: every ready session is on a claim already.\n"
    assert not (demo / "more.x12").exists()
    if sys.version_info >= (3, 11):
        document = pytest.importorskip("pyx12.x12n_document")
        import io

        import pyx12.params

        ack = io.StringIO()
        document.x12n_document(
            param=pyx12.params.params(),
            src_file=str(demo / "claims.x12"),
            fd_997=ack,
            fd_html=None,
            fd_xmldoc=None,
        )
        assert "IK5*A" in ack.getvalue()


def test_a_dry_run_records_nothing_and_837p_needs_a_usage(demo: Path, run: Run) -> None:
    """--dry-run shows the claims and records none; an 837P without --usage is one error line, exit 2."""
    dry = run("claims", "--db", "sessionkit-demo.db", "--usage", "T", "--dry-run", cwd=demo)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("ISA*")
    assert dry.stderr.startswith("would bill ")
    assert _live(demo / "sessionkit-demo.db") == []
    bad = run("claims", "--db", "sessionkit-demo.db", cwd=demo)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "--usage" in bad.stderr


def test_cms1500_claims_are_versioned_json(demo: Path, run: Run) -> None:
    """--format cms1500 writes the box values as a versioned JSON document."""
    done = run("claims", "--db", "sessionkit-demo.db", "--format", "cms1500", cwd=demo)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["format"], data["format_version"]) == ("sessionkit.cms1500", 1)
    assert all(claim["boxes"]["26"] == claim["patient_control_number"] for claim in data["claims"])


def test_two_processes_billing_at_once_bill_each_session_once(
    demo: Path, command_line: tuple[list[str], dict[str, str]]
) -> None:
    """Two `sessionkit claims` started together: every session ends on exactly one claim, and one file
    holds them (the other run finds nothing left, or bills only what the first did not)."""
    for attempt in range(3):
        folder = demo / f"race{attempt}"
        folder.mkdir()
        shutil.copy(demo / "sessionkit-demo.db", folder / "practice.db")
        base, env = command_line
        argv = [*base, "claims", "--db", "practice.db", "--usage", "T"]
        procs = [
            subprocess.Popen(
                [*argv, "--output", f"out{i}.x12"],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        billed = _live(folder / "practice.db")
        assert billed
        assert all(count == 1 for _, count in billed)
        files = [folder / f"out{i}.x12" for i in range(2) if (folder / f"out{i}.x12").exists()]
        in_files = sum(f.read_text().count("LX*") for f in files)
        with sqlite3.connect(folder / "practice.db") as conn:
            lines = sum(
                len(json.loads(doc)["lines"]) for (doc,) in conn.execute("SELECT doc FROM claim_records")
            )
        assert in_files == lines


def test_invoices_are_made_once_and_listed(demo: Path, run: Run) -> None:
    """invoices makes one per client owing something; a second run makes none; JSON and CSV are versioned/flat."""
    first = run("invoices", "--db", "sessionkit-demo.db", cwd=demo)
    assert first.returncode == 0, first.stderr
    made = [line for line in first.stdout.splitlines() if line.endswith("(new)")]
    assert made
    second = run("invoices", "--db", "sessionkit-demo.db", "--format", "json", cwd=demo)
    data = json.loads(second.stdout)
    assert (data["format"], data["format_version"]) == ("sessionkit.invoices", 1)
    assert len(data["invoices"]) == len(made)
    again = run("invoices", "--db", "sessionkit-demo.db", cwd=demo)
    assert "(new)" not in again.stdout
    rows = run("invoices", "--db", "sessionkit-demo.db", "--format", "csv", cwd=demo).stdout.splitlines()
    assert rows[0] == "invoice,client_id,session_id,date_of_service,code,kind,amount"
    assert not any(",'" in row for row in rows[1:])  # amounts are unsigned: no neutralised minus signs
