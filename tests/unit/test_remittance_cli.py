"""The post-era command's wiring, in process over the in-memory adapter: report, dry run, exit codes."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sessionkit import Address, BillingCode, Client, ClientSession, Coverage, Payer, PracticeSetup, Sex, cli
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.billing import bill
from sessionkit.claims import Receiver, Submitter
from sessionkit.domain.billing import ClaimStatus
from sessionkit.testing.x835 import Outcome, remittance_for, write_835

ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")


class _Database:
    """What the command needs of a database: unit_of_work() and close()."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self.uow = uow
        self.closed = 0

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return self.uow

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[_Database, Path]:
    """Two billed claims in memory, the command pointed at them, and a payer's 835 for them."""
    uow = InMemoryUnitOfWork().seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone="America/Chicago",
            address=ADDRESS,
        ),
        clients=[
            Client(
                id=c,
                first_name="Ada",
                last_name="Byron",
                date_of_birth=date(1990, 1, 2),
                sex=Sex.FEMALE,
                address=ADDRESS,
            )
            for c in ("c1", "c2")
        ],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054")],
        coverages=[
            Coverage(id=f"k{c}", client_id=c, payer_id="p1", member_id="M1", effective=date(2026, 1, 1))
            for c in ("c1", "c2")
        ],
        billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140.00")],
        sessions=[
            ClientSession(
                id=f"s-{c}",
                client_id=c,
                date_of_service=date(2026, 3, 2),
                billing_code="90834",
                minutes=45,
                charge="140.00",
                diagnoses=["F41.1"],
            )
            for c in ("c1", "c2")
        ],
    )
    with uow:
        run = bill(
            uow,
            today=date(2026, 6, 1),
            now=datetime(2026, 6, 1, tzinfo=timezone.utc),
            usage="T",
            submitter=Submitter(name="Calm", id="CALM01", contact_name="Bea", phone="2175550100"),
            receiver=Receiver(name="CH", id="CH"),
        )
        uow.commit()
    records = sorted(run.records, key=lambda r: r.client_id)
    remittance = remittance_for(
        records, [Outcome.paid(), Outcome.denied()], trace_number="CHK9", payment_date=date(2026, 6, 15)
    )
    path = tmp_path / "payer.835"
    path.write_text(write_835(remittance, created_at=datetime(2026, 6, 15, tzinfo=timezone.utc)), "ascii")
    db = _Database(uow)
    monkeypatch.setattr(cli, "_open_store", lambda _path, _practice: db)
    return db, path


def _main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _statuses(db: _Database) -> list[ClaimStatus]:
    with db.uow:
        return [r.status for r in sorted(db.uow.claim_records.list(), key=lambda r: r.client_id)]


def test_post_era_posts_and_prints_the_report(
    database: tuple[_Database, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Text report: posted with the new claim statuses, then unmatched, skipped and problems counts; exit 0."""
    db, path = database
    status, out, err = _main("post-era", str(path), "--db", "x.db", capsys=capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "posted 2 claim payment(s), paid 140.00"
    assert lines[1].endswith("-> paid")
    assert lines[2].endswith("-> denied")
    assert lines[3:] == ["unmatched 0", "skipped 0 (posted already)", "problems 0"]
    assert _statuses(db) == [ClaimStatus.PAID, ClaimStatus.DENIED]
    assert db.closed == 1
    status, out, _ = _main("post-era", str(path), "--db", "x.db", capsys=capsys)
    assert status == 0
    assert out.splitlines()[0] == "posted 0 claim payment(s), paid 0.00"
    assert "skipped 2 (posted already)" in out


def test_post_era_dry_run_json_writes_nothing(
    database: tuple[_Database, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run --format json: the report as JSON, nothing posted."""
    db, path = database
    status, out, _ = _main(
        "post-era", str(path), "--db", "x.db", "--dry-run", "--format", "json", capsys=capsys
    )
    assert status == 0
    report: dict[str, Any] = json.loads(out)
    assert report["dry_run"] is True
    assert [p["claim_status"] for p in report["posted"]] == ["paid", "denied"]
    assert _statuses(db) == [ClaimStatus.SUBMITTED, ClaimStatus.SUBMITTED]
    with db.uow:
        assert db.uow.adjudications.list() == []


def test_post_era_refuses_what_is_not_an_835_before_opening_the_database(
    database: tuple[_Database, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file that is not X12, and one too large, are one line on stderr and exit 2; the database is untouched."""
    db, _ = database
    junk = tmp_path / "junk.835"
    junk.write_text("Dear biller, ...", encoding="ascii")
    status, out, err = _main("post-era", str(junk), "--db", "x.db", capsys=capsys)
    assert (status, out) == (2, "")
    assert err.startswith("sessionkit: error: the file is not an X12 interchange")
    assert "Dear" not in err
    assert db.closed == 0
    big = tmp_path / "big.835"
    big.write_bytes(b"ISA")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "MAX_REMITTANCE_BYTES", 2)
        status, _, err = _main("post-era", str(big), "--db", "x.db", capsys=capsys)
    assert status == 2
    assert "larger than 2 bytes" in err


def test_text_report_lines_show_unmatched_problems_and_provider_adjustments() -> None:
    """Every section of the text report, from a report value."""
    from decimal import Decimal

    from sessionkit.remittance import PostingProblem, PostingReport, ProviderAdjustment, UnmatchedClaim

    report = PostingReport(
        unmatched=(
            UnmatchedClaim(
                claim=3, patient_control_number="SK1", code="remittance.unmatched_line", message="m", line=2
            ),
        ),
        problems=(PostingProblem(claim=4, code="x835.number", message="p", segment=17),),
        provider_adjustments=(
            ProviderAdjustment(
                provider_id="1", fiscal_period_end=date(2026, 12, 31), reason="L6", amount=Decimal("-1.00")
            ),
        ),
        dry_run=True,
    )
    assert cli._era_lines(report) == [
        "would post 0 claim payment(s), paid 0.00",
        "unmatched 1",
        "  claim 3  SK1  line 2  m [remittance.unmatched_line]",
        "skipped 0 (posted already)",
        "problems 1",
        "  claim 4 (segment 17)  p [x835.number]",
        "provider adjustments 1",
        "  L6  -1.00",
    ]
