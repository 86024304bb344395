"""Secondary and tertiary 837P claims (coordination of benefits) pass pyx12 and balance.

A session whose primary payer's adjudication is posted is billed to the
secondary payer: the claim carries the primary's adjudication in loops
2320/2330A/2330B (and 2430 per line). pyx12 validates the file against
005010X222A1; the amounts must balance as the guide's COB rules ask (the
claim's charge is what the earlier payer paid plus every adjustment, per
claim and per line).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionkit import AddOnLine, Address, Client, ClientSession, Coverage, Payer, PracticeSetup, Subscriber
from sessionkit.claims import Claim, ClaimContext, ClaimTarget, Receiver, Submitter, build_claims, to_837p
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication

pytest.importorskip("pyx12", minversion="4.0", reason="pyx12 4 needs Python 3.11+")
x12n_document = pytest.importorskip("pyx12.x12n_document", reason="pyx12 4 needs Python 3.11+")
pyx12_params = pytest.importorskip("pyx12.params")

TODAY = date(2026, 7, 1)
CREATED = datetime(2026, 7, 1, 8, 15, tzinfo=timezone(timedelta(hours=-5)))
POSTED = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
SUBMITTER = Submitter(name="Calm Minds", id="CALMMINDS01", contact_name="Bea Biller", phone="2175550100")
RECEIVER = Receiver(name="Example Clearinghouse", id="CLEARHOUSE")
STREET = Address(line1="12 Elm St", city="Springfield", state="IL", postal_code="627011234")
HOME = Address(line1="4 Oak Ave", city="Springfield", state="IL", postal_code="62704")
PRACTICE = PracticeSetup(
    name="Calm Minds", npi="1234567893", tax_id="123456789", address=STREET, time_zone="America/Chicago"
)
PAYERS = (
    Payer(id="p1", name="First Health", payer_id="11111"),
    Payer(id="p2", name="Second Mutual", payer_id="22222"),
    Payer(id="p3", name="Third Trust", payer_id="33333"),
)
CLIENT = Client(
    id="c1", first_name="Ana", last_name="Diaz", date_of_birth=date(1990, 4, 2), sex="F", address=HOME
)
SPOUSE = Subscriber(first_name="Ben", last_name="Diaz", date_of_birth=date(1988, 1, 9), sex="M", address=HOME)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


@pytest.fixture
def pyx12_log() -> Iterator[_Capture]:
    capture = _Capture()
    logger = logging.getLogger("pyx12")
    logger.addHandler(capture)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)


def assert_accepted(text: str, log: _Capture) -> None:
    """Validate ``text`` with pyx12; fail with its log and 999 unless the transaction is accepted."""
    del log.lines[:]
    ack = io.StringIO()
    valid = x12n_document.x12n_document(
        param=pyx12_params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None, fd_xmldoc=None
    )
    errors = [line for line in log.lines if line.startswith(("ERROR", "CRITICAL"))]
    detail = "\n".join(log.lines) + "\n--- 999 ---\n" + ack.getvalue() + "\n--- 837P ---\n" + text
    assert "IK5*A~" in ack.getvalue().replace("\n", ""), detail
    assert valid, detail
    assert errors == [], detail


def coverage(cov_id: str, payer_id: str, rank: str, *, dependent: bool = False) -> Coverage:
    return Coverage(
        id=cov_id,
        client_id="c1",
        payer_id=payer_id,
        member_id=f"M{cov_id.upper()}1",
        rank=rank,
        effective=date(2025, 1, 1),
        relationship="01" if dependent else "18",
        subscriber=SPOUSE if dependent else None,
    )


CENT = Decimal("0.01")
OUTCOMES = ("paid", "partly_paid", "deductible", "coinsurance", "copay", "contractual", "denied")


def line_answer(outcome: str, session_id: str, code: str, charge: Decimal, pcn: int) -> LineAdjudication:
    """The payer's answer to one line for ``outcome``; paid plus adjustments is the charge."""
    half = (charge / 2).quantize(CENT)
    fifth = (charge / 5).quantize(CENT)
    adjustments: list[Adjustment] = []
    if outcome == "paid":
        paid = charge
    elif outcome == "partly_paid":
        paid = charge - half - fifth
        adjustments = [
            Adjustment(group="CO", reason="45", amount=half),
            Adjustment(group="PR", reason="2", amount=fifth),
        ]
    elif outcome in {"deductible", "coinsurance", "copay"}:
        reason = {"deductible": "1", "coinsurance": "2", "copay": "3"}[outcome]
        paid = charge - fifth
        adjustments = [Adjustment(group="PR", reason=reason, amount=fifth, quantity=Decimal(1))]
    elif outcome == "contractual":
        paid = charge - half
        adjustments = [Adjustment(group="CO", reason="45", amount=half)]
    else:  # denied: nothing paid, the whole charge a non-covered service
        paid = Decimal("0.00")
        adjustments = [Adjustment(group="CO", reason="96", amount=charge)]
    return LineAdjudication(
        session_id=session_id,
        code=code,
        charge=charge,
        paid=paid,
        adjustments=adjustments,
        line_control_number=f"L{pcn}",
    )


def adjudicate(
    adj_id: str, coverage: Coverage, sessions: list[ClientSession], outcome: str, status: str
) -> Adjudication:
    lines = []
    for s in sessions:
        lines.append(line_answer(outcome, s.id, s.billing_code, s.charge.amount, len(lines)))
        lines.extend(line_answer(outcome, s.id, a.code, a.charge.amount, len(lines)) for a in s.add_ons)
    charge = sum((line.charge for line in lines), Decimal("0.00"))
    paid = sum((line.paid for line in lines), Decimal("0.00"))
    return Adjudication(
        id=adj_id,
        claim_record_id=f"r{adj_id}",
        client_id="c1",
        payer_id=coverage.payer_id,
        coverage_id=coverage.id,
        patient_control_number=f"SK{adj_id.upper()}",
        payer_claim_number=f"PCN{adj_id.upper()}",
        status_code="4" if outcome == "denied" else status,
        charge=charge,
        paid=paid,
        patient_responsibility=sum((line.patient_responsibility for line in lines), Decimal("0.00")),
        lines=lines,
        paid_on=date(2026, 6, 1),
        source_key=f"k{adj_id}",
        posted_at=POSTED,
    )


def render(claims: tuple[Claim, ...]) -> str:
    return to_837p(
        claims,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        interchange_control_number=7,
        group_control_number=7,
        created_at=CREATED,
        usage="T",
    )


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


@st.composite
def cob_worlds(draw: st.DrawFn) -> tuple[ClaimContext, list[ClientSession], int]:
    """A client with primary and secondary (maybe tertiary) coverage, sessions, and posted adjudications."""
    tertiary = draw(st.booleans())
    covs = [
        coverage("k1", "p1", "P", dependent=draw(st.booleans())),
        coverage("k2", "p2", "S", dependent=draw(st.booleans())),
    ]
    if tertiary:
        covs.append(coverage("k3", "p3", "T"))
    sessions = []
    for i in range(draw(st.integers(1, 3))):
        code = draw(st.sampled_from(["90834", "90837", "90791"]))
        add_on = draw(st.booleans()) and code != "90791"
        sessions.append(
            ClientSession(
                id=f"s{i}",
                client_id="c1",
                date_of_service=date(2026, 5, 4 + i),
                billing_code=code,
                minutes={"90834": 45, "90837": 60, "90791": None}[code],
                charge=draw(st.decimals("40", "400", places=2)),
                diagnoses=["F41.1"],
                add_ons=[AddOnLine(code="90785", charge=draw(st.decimals("10", "60", places=2)))]
                if add_on
                else [],
            )
        )
    adjudications = [adjudicate("a1", covs[0], sessions, draw(st.sampled_from(OUTCOMES)), "1")]
    if tertiary:
        adjudications.append(adjudicate("a2", covs[1], sessions, draw(st.sampled_from(OUTCOMES)), "2"))
    context = ClaimContext(
        practice=PRACTICE,
        clients=[CLIENT],
        coverages=covs,
        payers=PAYERS,
        today=TODAY,
        adjudications=adjudications,
    )
    return context, sessions, len(covs)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=cob_worlds())
def test_secondary_and_tertiary_837p_are_accepted_and_balance(
    world: tuple[ClaimContext, list[ClientSession], int], pyx12_log: _Capture
) -> None:
    """Whatever the earlier payers answered (paid, partly, PR-1/2/3, CO-45, denied), the next payer's
    837P passes pyx12 and, for each earlier payer, the claim's charge is its paid amount plus every
    adjustment (claim and lines), and each line's charge its SVD paid plus the line's CAS."""
    context, sessions, n_coverages = world
    claims = build_claims(sessions, context, ClaimTarget.X12_837P)
    rank = "T" if n_coverages == 3 else "S"
    assert {c.coverage.rank.value for c in claims} == {rank}
    text = render(claims)
    assert_accepted(text, pyx12_log)
    for claim in claims:
        assert len(claim.other_payers) == n_coverages - 1
        for other in claim.other_payers:
            line_adjusted = sum(
                (
                    p.adjusted
                    for line in claim.lines
                    for p in line.prior
                    if p.coverage_id == other.coverage.id
                ),
                Decimal("0.00"),
            )
            assert other.paid + other.adjusted + line_adjusted == claim.total_charge.amount
        for line in claim.lines:
            assert [p.coverage_id for p in line.prior] == [o.coverage.id for o in claim.other_payers]
            assert all(p.paid + p.adjusted == line.charge.amount for p in line.prior)
    # The file says the same: per claim, one 2320 SBR per earlier payer (P, then S), AMT*D as posted.
    segs = segments(text)
    sbr = [s[1] for s in segs if s[0] == "SBR"]
    expected = [rank, *["P", "S"][: n_coverages - 1]] * len(claims)
    assert sbr == expected
    paid = [Decimal(s[2]) for s in segs if s[0] == "AMT" and s[1] == "D"]
    assert paid == [o.paid for c in claims for o in c.other_payers]
    svd = [s for s in segs if s[0] == "SVD"]
    assert len(svd) == sum(len(line.prior) for c in claims for line in c.lines)
    assert sum(1 for s in segs if s[0] == "DTP" and s[1] == "573") == len(svd)


def test_a_denied_primary_sends_its_cas_and_zero_paid(pyx12_log: _Capture) -> None:
    """A primary's denial is an answer: the secondary claim says AMT*D*0 and the denial's CO-96 per line."""
    covs = [coverage("k1", "p1", "P"), coverage("k2", "p2", "S")]
    session = ClientSession(
        id="s1",
        client_id="c1",
        date_of_service=date(2026, 5, 4),
        billing_code="90834",
        minutes=45,
        charge="140.00",
        diagnoses=["F41.1"],
    )
    context = ClaimContext(
        practice=PRACTICE,
        clients=[CLIENT],
        coverages=covs,
        payers=PAYERS,
        today=TODAY,
        adjudications=[adjudicate("a1", covs[0], [session], "denied", "4")],
    )
    (claim,) = build_claims([session], context, ClaimTarget.X12_837P)
    text = render((claim,))
    assert_accepted(text, pyx12_log)
    assert "SBR*S*18*******CI~" in text
    assert (
        "SBR*P*18*******CI~AMT*D*0~OI***Y***Y~NM1*IL*1*DIAZ*ANA****MI*MK11~NM1*PR*2*FIRST HEALTH*****PI*11111~REF*F8*PCNA1~"
        in text
    )
    assert "SVD*11111*0*HC:90834**1~CAS*CO*96*140~DTP*573*D8*20260601~" in text
