"""``sessionkit post-era`` as a biller runs it: demo, bill, the payer's 835, post; twice is once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from sessionkit.testing.x835 import Outcome, remittance_for, write_835

Run = Callable[..., subprocess.CompletedProcess[str]]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remittances"
SRC = Path(__file__).resolve().parents[2] / "src"


def _sqlite_stores_adjudications() -> bool:
    from sessionkit.adapters.sqlite import SqliteUnitOfWork

    return hasattr(SqliteUnitOfWork, "adjudications")


needs_adjudications = pytest.mark.skipif(
    not _sqlite_stores_adjudications(),
    reason="the SQLite adapter stores adjudications once the storage branch is merged",
)


@pytest.fixture
def billed(tmp_path: Path, run: Run) -> Path:
    """A demo database whose ready sessions are billed (837P written to claims.x12)."""
    done = run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    billed = run(
        "claims", "--db", "sessionkit-demo.db", "--usage", "T", "--output", "claims.x12", cwd=tmp_path
    )
    assert billed.returncode == 0, billed.stderr
    return tmp_path


def _records(folder: Path) -> list[object]:
    from sessionkit.adapters.sqlite import open_database

    db = open_database(folder / "sessionkit-demo.db")
    try:
        with db.unit_of_work() as uow:
            return sorted(uow.claim_records.list(), key=lambda r: r.patient_control_number)
    finally:
        db.close()


def _write_835(folder: Path) -> tuple[Path, list[object]]:
    records = _records(folder)
    assert records
    chosen = [Outcome.paid(), Outcome.partly_paid(contractual="10", patient="25"), Outcome.denied()]
    outcomes = [chosen[i % len(chosen)] for i in range(len(records))]
    remittance = remittance_for(
        records,  # type: ignore[arg-type]
        outcomes,
        trace_number="CHK555",
        payment_date=date(2026, 6, 15),
    )
    path = folder / "payer.835"
    path.write_text(write_835(remittance, created_at=datetime(2026, 6, 15, 8, tzinfo=timezone.utc)), "ascii")
    return path, records


@needs_adjudications
def test_post_era_posts_once_and_a_dry_run_writes_nothing(billed: Path, run: Run) -> None:
    """--dry-run reports and changes nothing; the real run posts every claim; running it again skips them all."""
    path, records = _write_835(billed)
    dry = run(
        "post-era", str(path), "--db", "sessionkit-demo.db", "--dry-run", "--format", "json", cwd=billed
    )
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["format"], report["dry_run"]) == ("sessionkit.post_era", True)
    assert len(report["posted"]) == len(records)
    assert _records(billed) == records
    done = run("post-era", str(path), "--db", "sessionkit-demo.db", cwd=billed)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"posted {len(records)} claim payment(s)")
    statuses = [r.status.value for r in _records(billed)]  # type: ignore[attr-defined]
    assert statuses == [["paid", "paid", "denied"][i % 3] for i in range(len(records))]
    again = run("post-era", str(path), "--db", "sessionkit-demo.db", "--format", "json", cwd=billed)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert (len(second["posted"]), len(second["skipped"])) == (0, len(records))


@needs_adjudications
def test_an_835_for_unknown_claims_reports_them_unmatched(billed: Path, run: Run) -> None:
    """The professional example's claim numbers are not this database's: reported unmatched, exit 0."""
    done = run("post-era", str(FIXTURES / "guide_example.835"), "--db", "sessionkit-demo.db", cwd=billed)
    assert done.returncode == 0, done.stderr
    assert "posted 0 claim payment(s)" in done.stdout
    assert "unmatched 2" in done.stdout
    assert "remittance.unknown_claim" in done.stdout


def test_a_claim_file_is_not_an_835(billed: Path, run: Run) -> None:
    """The 837P the biller sent, given by mistake: one line on stderr naming the code, exit 2."""
    done = run("post-era", "claims.x12", "--db", "sessionkit-demo.db", cwd=billed)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "x835.not_835" in done.stderr


def test_a_broken_835_is_one_line_without_its_content(billed: Path, run: Run) -> None:
    """A truncated 835, or one whose counts are wrong: one line, exit 2, nothing of the file in it."""
    text = (FIXTURES / "professional_example.835").read_text(encoding="ascii")
    (billed / "cut.835").write_text(text[: len(text) // 2], encoding="ascii")
    (billed / "count.835").write_text(text.replace("SE*38*", "SE*39*"), encoding="ascii")
    for name, code in (("cut.835", "x835.truncated"), ("count.835", "x835.count")):
        done = run("post-era", name, "--db", "sessionkit-demo.db", cwd=billed)
        assert done.returncode == 2, name
        assert len(done.stderr.strip().splitlines()) == 1
        assert code in done.stderr
        assert "BYRON" not in done.stderr
        assert "SK000" not in done.stderr


def test_a_missing_file_or_database_is_one_line(billed: Path, run: Run) -> None:
    """No such 835, a directory, or no database: exit 2 with one line naming the argument."""
    missing = run("post-era", "nope.835", "--db", "sessionkit-demo.db", cwd=billed)
    assert (missing.returncode, "FILE.835" in missing.stderr) == (2, True)
    folder = run("post-era", ".", "--db", "sessionkit-demo.db", cwd=billed)
    assert (folder.returncode, "FILE.835" in folder.stderr) == (2, True)
    no_db = run("post-era", str(FIXTURES / "guide_example.835"), "--db", "none.db", cwd=billed)
    assert (no_db.returncode, "--db" in no_db.stderr) == (2, True)
    for done in (missing, folder, no_db):
        assert len(done.stderr.strip().splitlines()) == 1


@needs_adjudications
def test_two_processes_posting_the_same_file_post_each_claim_once(billed: Path) -> None:
    """Two post-era runs at once on one database: every claim payment is posted by exactly one of them."""
    path, records = _write_835(billed)
    args = [
        sys.executable,
        "-m",
        "sessionkit",
        "post-era",
        str(path),
        "--db",
        "sessionkit-demo.db",
        "--format",
        "json",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    processes = [
        subprocess.Popen(args, cwd=billed, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    posted = sorted(p["claim"] for r in reports for p in r["posted"])
    skipped = sorted(s["claim"] for r in reports for s in r["skipped"])
    assert posted == list(range(1, len(records) + 1))
    assert skipped == posted
