"""835 test files pass pyx12 (005010X221A1), and one written from billed claims posts correctly.

pyx12 4.0 cannot write a 999 for an 835 (it wants ST03, which the 835 guide
does not use), so its verdict is the return value and an empty error log.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionkit import Address, BillingCode, Client, ClientSession, Coverage, Payer, PracticeSetup, Sex
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.billing import bill
from sessionkit.claims import Receiver, Submitter
from sessionkit.domain import SessionStatus
from sessionkit.domain.billing import ClaimRecord, ClaimStatus
from sessionkit.facts import account
from sessionkit.remittance import post_remittance, read_835
from sessionkit.remittance.x835 import validate_with_pyx12
from sessionkit.testing.x835 import Outcome, remittance_for, write_835

pytest.importorskip("pyx12", minversion="4.0", reason="pyx12 4 needs Python 3.11+")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remittances"
OUTCOMES_FILE = FIXTURES / "sessionkit_outcomes.835"
REVERSAL_FILE = FIXTURES / "sessionkit_reversal.835"
TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
WRITTEN = datetime(2026, 6, 15, 8, 0, tzinfo=timezone.utc)
DAY = date(2026, 3, 2)
ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
OUTCOMES = [
    Outcome.paid(),
    Outcome.partly_paid(contractual="20", patient="25", reason="3"),
    Outcome.partly_paid(contractual="15", patient="100", reason="1"),
    Outcome.denied(group="CO", reason="197"),
]


def assert_accepted(text: str, caplog: pytest.LogCaptureFixture) -> None:
    """pyx12 accepts ``text``; on failure, show its log and the file."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pyx12"):
        valid = validate_with_pyx12(text)
    assert valid, caplog.text + "\n--- 835 ---\n" + text


def _billed() -> tuple[InMemoryUnitOfWork, list[ClaimRecord]]:
    """Four clients with two sessions each, billed by billing.bill (one claim per client)."""
    ids = ["c1", "c2", "c3", "c4"]
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
            for c in ids
        ],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054")],
        coverages=[
            Coverage(id=f"k{c}", client_id=c, payer_id="p1", member_id=f"M{c}", effective=date(2026, 1, 1))
            for c in ids
        ],
        billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140.00")],
        sessions=[
            ClientSession(
                id=f"{c}-{w}",
                client_id=c,
                date_of_service=DAY + timedelta(days=7 * w),
                billing_code="90834",
                minutes=45,
                charge="140.00",
                diagnoses=["F41.1"],
            )
            for c in ids
            for w in (0, 1)
        ],
    )
    with uow:
        run = bill(
            uow,
            today=TODAY,
            now=NOW,
            usage="T",
            submitter=Submitter(name="Calm Practice", id="CALM01", contact_name="Bea", phone="2175550100"),
            receiver=Receiver(name="Clearinghouse", id="CLEARHOUSE"),
        )
        uow.commit()
    return uow, sorted(run.records, key=lambda r: r.client_id)


def _outcomes_text(records: list[ClaimRecord]) -> str:
    remittance = remittance_for(records, OUTCOMES, trace_number="CHK20260615", payment_date=date(2026, 6, 15))
    return write_835(remittance, created_at=WRITTEN)


def _reversal_text(records: list[ClaimRecord]) -> str:
    remittance = remittance_for(
        records[:1],
        [Outcome.reversal(OUTCOMES[0])],
        trace_number="CHK20260701",
        payment_date=date(2026, 7, 1),
        interchange_control_number="000000002",
    )
    return write_835(remittance, created_at=WRITTEN)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.835")), ids=lambda p: p.name)
def test_pyx12_accepts_every_835_fixture(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The guide-shaped example, the professional example and the files written from sessionkit's claims."""
    text = path.read_text(encoding="ascii")
    assert_accepted(text, caplog)
    (remittance,) = read_835(text)
    assert remittance.problems == ()


def test_pyx12_refuses_a_broken_835(caplog: pytest.LogCaptureFixture) -> None:
    """The check can fail: a claim without its patient (NM1*QC) is refused by pyx12."""
    text = (FIXTURES / "professional_example.835").read_text(encoding="ascii")
    broken = text.replace("NM1*QC*1*BYRON*ADA****MI*M100~\n", "", 1)
    with caplog.at_level(logging.INFO, logger="pyx12"):
        assert validate_with_pyx12(broken) is False


def test_the_fixtures_written_from_billed_claims_are_what_the_writer_writes() -> None:
    """sessionkit_outcomes.835 and sessionkit_reversal.835 are the writer's output for billing.bill's records."""
    _, records = _billed()
    assert OUTCOMES_FILE.read_text(encoding="ascii") == _outcomes_text(records)
    assert REVERSAL_FILE.read_text(encoding="ascii") == _reversal_text(records)


def test_an_835_for_billed_claims_posts_paid_partly_paid_denied_and_reversed() -> None:
    """Posted from the files: statuses, amounts paid, locked sessions, balances; then the reversal."""
    uow, records = _billed()
    with uow:
        report = post_remittance(uow, OUTCOMES_FILE.read_text(encoding="ascii"), now=WRITTEN)
        uow.commit()
    assert [p.claim_status for p in report.posted] == [
        ClaimStatus.PAID,
        ClaimStatus.PAID,
        ClaimStatus.PAID,
        ClaimStatus.DENIED,
    ]
    expected_paid = ["280.00", "190.00", "50.00", "0.00"]
    expected_balance = ["0.00", "50.00", "200.00", "0.00"]
    with uow:
        for record, paid, balance in zip(records, expected_paid, expected_balance, strict=True):
            stored = uow.claim_records.get(record.id)
            assert stored.payer_paid.amount == Decimal(paid)
            sessions = uow.sessions.by_client(record.client_id)
            assert all(s.status is SessionStatus.EOB_POSTED for s in sessions)
            found = account(sessions, uow.adjudications.for_client(record.client_id), [])
            assert found.balance == Decimal(balance)
    with uow:
        reversal = post_remittance(uow, REVERSAL_FILE.read_text(encoding="ascii"), now=WRITTEN)
        uow.commit()
    assert [p.claim_status for p in reversal.posted] == [ClaimStatus.ACCEPTED]
    with uow:
        first = uow.claim_records.get(records[0].id)
        assert (first.status, first.payer_paid.amount) == (ClaimStatus.ACCEPTED, Decimal("0.00"))
        again = post_remittance(uow, OUTCOMES_FILE.read_text(encoding="ascii"), now=WRITTEN)
    assert (again.posted, len(again.skipped)) == ((), 4)


outcomes = st.one_of(
    st.just(Outcome.paid()),
    st.builds(
        Outcome.partly_paid,
        contractual=st.decimals("0", "150", places=2),
        patient=st.decimals("0", "150", places=2),
        reason=st.sampled_from(["1", "2", "3"]),
    ),
    st.builds(
        Outcome.denied, group=st.sampled_from(["CO", "PR", "OA", "PI"]), reason=st.sampled_from(["197", "96"])
    ),
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(chosen=st.lists(st.one_of(outcomes, outcomes.map(Outcome.reversal)), min_size=4, max_size=4))
def test_pyx12_accepts_any_outcomes_the_writer_writes(
    chosen: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Random outcomes for billed claims, reversals included: pyx12 accepts the 835 (0.2 s each: few examples)."""
    _, records = _billed()
    remittance = remittance_for(records, chosen, trace_number="T1", payment_date=date(2026, 6, 15))
    assert_accepted(write_835(remittance, created_at=WRITTEN), caplog)
