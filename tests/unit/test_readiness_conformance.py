"""Readiness rules for what clearinghouses reject (issue 15): a failing and a passing case for each code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone

import attrs
import pytest
from hypothesis import given, settings

from sessionkit import AddOnLine, Address, Client, ClientSession, Coverage, Payer, PracticeSetup, Subscriber
from sessionkit.domain import InsuranceOverrides
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
from sessionkit.readiness import ReadinessContext, Target, check, check_many, default_registry
from sessionkit.readiness.rules.conformance import CONFORMANCE_RULES
from sessionkit.testing.readiness import StaticCodeSet, ready_sessions

TODAY = date(2026, 3, 9)
DOS = date(2026, 3, 2)
STREET = Address(line1="1 Main St", city="Springfield", state="IL", postal_code="627011234")
CMS, X12 = Target.CMS1500, Target.X12_837P
INSURANCE = (CMS, X12)

Pair = tuple[ClientSession, ReadinessContext]
Change = Callable[[ClientSession, ReadinessContext], Pair]


def base() -> Pair:
    """A session ready for both claims, with a complete context that has every kind of address."""
    session = ClientSession(
        id="s1",
        client_id="c1",
        date_of_service=DOS,
        billing_code="90834",
        minutes=45,
        charge="140.00",
        diagnoses=["F41.1"],
    )
    context = ReadinessContext.build(
        today=TODAY,
        practice=PracticeSetup(
            name="Calm Waters",
            npi="1234567893",
            tax_id="12-3456789",
            address=STREET,
            pay_to_address=Address(line1="PO Box 12", city="Springfield", state="IL", postal_code="62705"),
            time_zone="America/Chicago",
        ),
        client=Client(
            id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 5, 1), address=STREET
        ),
        coverages=[
            Coverage(
                id="cov1",
                client_id="c1",
                payer_id="p1",
                member_id="M123",
                effective=date(2015, 10, 1),
                copay="20",
            )
        ],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054", address=STREET)],
    )
    return session, context


def s(**changes: object) -> Change:
    """A change to the base session."""
    return lambda session, context: (attrs.evolve(session, **changes), context)


def practice(**changes: object) -> Change:
    """A change to the base practice."""
    return lambda session, context: (
        session,
        attrs.evolve(context, practice=attrs.evolve(context.practice, **changes)),
    )


def client(**changes: object) -> Change:
    """A change to the base client."""
    return lambda session, context: (
        session,
        attrs.evolve(context, client=attrs.evolve(context.client, **changes)),
    )


def coverage(**changes: object) -> Change:
    """A change to the base coverage."""
    return lambda session, context: (
        session,
        attrs.evolve(context, coverages=[attrs.evolve(context.coverages[0], **changes)]),
    )


def payer(**changes: object) -> Change:
    """A change to the base payer."""
    return lambda session, context: (
        session,
        attrs.evolve(context, payers=[attrs.evolve(context.payers["p1"], **changes)]),
    )


def address(**changes: object) -> Address:
    return attrs.evolve(STREET, **changes)


def facility(where: Address) -> Change:
    return s(overrides=InsuranceOverrides(facility_name="Oak Clinic", facility_address=where))


def dependent(where: Address) -> Change:
    return coverage(
        relationship="19",
        subscriber=Subscriber(
            first_name="Bob", last_name="Byron", date_of_birth=date(1960, 1, 1), address=where
        ),
    )


BAD_STATE = address(state="XX")

CASES: list[tuple[str, str, Change, Change]] = [
    (
        "practice.zip_plus_4_missing",
        "practice.address.postal_code",
        practice(address=address(postal_code="62701")),
        practice(address=address(postal_code="62701-0001")),
    ),
    (
        "practice.address_po_box",
        "practice.address.line1",
        practice(address=address(line1="P.O. Box 12")),
        practice(address=address(line1="12 Boxwood Ln")),
    ),
    (
        "practice.address_po_box",
        "practice.address.line2",
        practice(address=address(line2="Lock Box 7")),
        practice(address=address(line2="Suite 7")),
    ),
    (
        "facility.zip_plus_4_missing",
        "overrides.facility_address.postal_code",
        facility(address(postal_code="61602")),
        facility(address(postal_code="616021234")),
    ),
    (
        "facility.address_po_box",
        "overrides.facility_address.line1",
        facility(address(line1="PO Box 3")),
        facility(address(line1="3 Oak Ave")),
    ),
    (
        "address.state_unknown",
        "practice.address.state",
        practice(address=BAD_STATE),
        practice(address=address(state="PR")),
    ),
    (
        "address.state_unknown",
        "practice.pay_to_address.state",
        practice(pay_to_address=BAD_STATE),
        practice(pay_to_address=address(state="AE")),
    ),
    (
        "address.state_unknown",
        "client.address.state",
        client(address=BAD_STATE),
        client(address=address(state="GU")),
    ),
    (
        "address.state_unknown",
        "coverage.subscriber.address.state",
        dependent(BAD_STATE),
        dependent(address(state="DC")),
    ),
    (
        "address.state_unknown",
        "payer.address.state",
        payer(address=BAD_STATE),
        payer(address=address(state="VI")),
    ),
    (
        "address.state_unknown",
        "overrides.facility_address.state",
        facility(BAD_STATE),
        facility(address(state="MP")),
    ),
    (
        "date_of_service.before_birth",
        "date_of_service",
        client(date_of_birth=date(2026, 3, 3)),
        client(date_of_birth=date(2026, 3, 2)),
    ),
    (
        "diagnosis.not_valid_on_date",
        "diagnoses[1]",
        s(date_of_service=date(2021, 9, 30), diagnoses=["F41.1", "F32.A"]),
        s(date_of_service=date(2025, 10, 1), diagnoses=["F41.1", "F32.A"]),
    ),
    ("diagnosis.not_valid_on_date", "diagnoses[0]", s(diagnoses=["F43.2"]), s(diagnoses=["F43.23"])),
    (
        "diagnosis.validity_unknown",
        "diagnoses[0]",
        s(date_of_service=date(2023, 6, 1), diagnoses=["F32.A"]),
        s(date_of_service=date(2023, 6, 1), diagnoses=["F32.9"]),
    ),
    ("diagnosis.validity_unknown", "diagnoses[0]", s(date_of_service=date(2019, 6, 1)), same := s()),
    ("units.per_session_code", "units", s(units=2), s(units=1)),
    (
        "units.per_session_code",
        "units",
        s(billing_code="90791", minutes=None, units="1.5"),
        s(billing_code="90853", minutes=None, units=2),
    ),
    ("coverage.primary_not_adjudicated", "coverage.rank", coverage(rank="S"), coverage(rank="P")),
    ("coverage.primary_not_adjudicated", "coverage.rank", coverage(rank="T"), same),
    (
        "coverage.prior_unbalanced",
        "charge",
        (lambda s, c: primary_answered(balanced=False)),
        (lambda s, c: primary_answered(balanced=True)),
    ),
]


@pytest.mark.parametrize(
    ("code", "field", "failing", "passing"), CASES, ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)]
)
def test_rule_reports_failing_case_and_not_passing_case(
    code: str, field: str, failing: Change, passing: Change
) -> None:
    """Each code is reported at its field on the failing case and not on the passing one, on both claims."""
    for target in INSURANCE:
        bad = check(*failing(*base()), target)
        good = check(*passing(*base()), target)
        assert (code, field) in {(f.code, f.field) for f in bad.findings}, (target, str(bad))
        assert code not in good.codes, (target, str(good))
        severity = next(f.severity for f in bad.findings if f.code == code)
        assert bad.ready is (severity.value != "error" and good.ready)


def test_base_is_ready_with_no_finding() -> None:
    """The base of the table has no finding for either claim (the pay-to address may be a PO box)."""
    for target in INSURANCE:
        assert check(*base(), target).codes == ("diagnosis.billability_unchecked",)


def test_every_conformance_code_has_a_case() -> None:
    """The table covers every code of the conformance rules, and they are in the default registry."""
    codes = {
        info.code
        for info in default_registry().codes()
        if set(info.rules) & {r.name for r in CONFORMANCE_RULES}
    }
    assert codes == {case[0] for case in CASES}
    assert all(r.name in default_registry() for r in CONFORMANCE_RULES)
    assert {r.name for r in CONFORMANCE_RULES} == {
        "billing_address_street",
        "address_states",
        "service_after_birth",
        "diagnosis_on_date",
        "per_session_units",
        "secondary_payer",
    }


def test_invoice_target_is_not_affected() -> None:
    """The conformance rules are for claims: the client invoice does not run them."""
    session, context = practice(address=address(postal_code="62701"))(*base())
    assert "practice.zip_plus_4_missing" not in check(session, context, Target.CLIENT_INVOICE).codes


def test_diagnosis_on_date_does_not_repeat_the_code_set_rule() -> None:
    """With a code set that already calls a code not billable, the date rule stays silent about it."""
    session, context = s(diagnoses=["F43.2"])(*base())
    context = attrs.evolve(context, code_set=StaticCodeSet(billable={"F41.1"}, categories={"F43.2"}))
    codes = check(session, context, X12).codes
    assert "diagnosis.not_billable" in codes
    assert "diagnosis.not_valid_on_date" not in codes


def test_findings_carry_no_client_data() -> None:
    """Messages name no address, date or code values."""
    session, context = practice(address=address(line1="PO Box 98765", postal_code="62701", state="XX"))(
        *base()
    )
    for f in check(session, context, X12).findings:
        assert "98765" not in f.message
        assert "XX" not in f.message
        assert "62701" not in f.message


def _mixed() -> list[ClientSession]:
    session = base()[0]
    return [
        session,
        attrs.evolve(session, id="s2", units=3),
        attrs.evolve(session, id="s3", date_of_service=date(2019, 1, 1)),
        attrs.evolve(session, id="s4", diagnoses=["F32.A"], date_of_service=date(2021, 5, 5)),
        attrs.evolve(session, id="s5", date_of_service=date(1980, 1, 1)),
    ]


@pytest.mark.parametrize("target", INSURANCE)
def test_check_many_runs_the_conformance_rules_as_check_does(target: Target) -> None:
    """check_many (the fused path for one context) reports the conformance findings check reports."""
    sessions = _mixed()
    for change in (practice(address=address(postal_code="62701")), coverage(rank="S"), same):
        context = change(sessions[0], base()[1])[1]
        one_by_one = [check(x, context, target) for x in sessions]
        assert list(check_many(sessions, context, target)) == one_by_one
        assert list(check_many(sessions, lambda _s, context=context: context, target)) == one_by_one
    flagged = [check(x, base()[1], target).codes for x in sessions]
    assert "units.per_session_code" in flagged[1]
    assert "diagnosis.validity_unknown" in flagged[2]
    assert "diagnosis.not_valid_on_date" in flagged[3]


@settings(max_examples=40)
@given(ready_sessions())
def test_ready_sessions_pass_the_conformance_rules(pair: Pair) -> None:
    """ready_sessions() draws only what a payer accepts: no conformance error for either claim."""
    session, context = pair
    for target in INSURANCE:
        errors = [f for f in check(session, context, target).findings if f.severity.value == "error"]
        assert errors == [], str(errors)


def _secondary_world(*, answered: str | None) -> Pair:
    """The base session with a primary (p1) and a secondary (p2) coverage; the primary answered or not."""
    session, context = base()
    primary = context.coverages[0]
    secondary = Coverage(
        id="cov2", client_id="c1", payer_id="p2", member_id="S9", rank="S", effective=date(2015, 10, 1)
    )
    adjudications = []
    if answered is not None:
        adjudications.append(
            Adjudication(
                id="a1",
                claim_record_id="r1",
                client_id="c1",
                payer_id="p1",
                coverage_id=primary.id,
                patient_control_number="SK1",
                status_code=answered,
                charge="140.00",
                paid="0.00" if answered == "4" else "100.00",
                lines=[
                    LineAdjudication(
                        session_id="s1",
                        code="90834",
                        charge="140.00",
                        paid="0.00" if answered == "4" else "100.00",
                        adjustments=[
                            Adjustment(group="CO", reason="96", amount="140.00")
                            if answered == "4"
                            else Adjustment(group="CO", reason="45", amount="40.00")
                        ],
                    )
                ],
                paid_on=date(2026, 3, 8),
                source_key="k1",
                posted_at=datetime(2026, 3, 8, 12, tzinfo=timezone.utc),
            )
        )
    payers = [*context.payers.values(), Payer(id="p2", name="Second Mutual", address=STREET)]
    return session, attrs.evolve(
        context, coverages=[primary, secondary], payers=payers, adjudications=adjudications
    )


@pytest.mark.parametrize("answered", ["1", "4"])
def test_a_secondary_is_billable_once_the_primary_answered(answered: str) -> None:
    """Paid or denied, the primary's posted answer makes the secondary the coverage to bill: no
    coverage.primary_not_adjudicated, and the secondary payer's own requirements apply (its payer id)."""
    session, context = _secondary_world(answered=answered)
    for target in INSURANCE:
        report = check(session, context, target)
        assert "coverage.primary_not_adjudicated" not in report.codes
    assert "payer.payer_id_missing" in check(session, context, X12).codes
    fixed = attrs.evolve(
        context, payers=[*context.payers.values(), Payer(id="p2", name="Second Mutual", payer_id="22222")]
    )
    assert check(session, fixed, X12).ready
    before, unanswered = _secondary_world(answered=None)
    assert check(before, unanswered, X12).ready  # billed to the primary, as before


def test_an_unbalanced_or_partial_primary_answer_blocks_the_secondary() -> None:
    """The primary's answer must cover every line of the session in balance, as the 837P writer
    requires: a line paid plus adjustments not equal to its charge, or an add-on the primary did not
    answer, is coverage.prior_unbalanced at that line's field."""
    session, context = _secondary_world(answered="1")
    context = attrs.evolve(
        context, payers=[*context.payers.values(), Payer(id="p2", name="Second Mutual", payer_id="22222")]
    )
    (answer,) = context.adjudications
    ok = context
    assert check(session, ok, X12).ready
    line = attrs.evolve(answer.lines[0], adjustments=[])
    off = attrs.evolve(context, adjudications=[attrs.evolve(answer, lines=[line])])  # 100 + 0 != 140
    assert [(f.code, f.field) for f in check(session, off, X12).findings if f.severity.value == "error"] == [
        ("coverage.prior_unbalanced", "charge")
    ]
    with_add_on = attrs.evolve(session, add_ons=[AddOnLine(code="90785", charge="20")])
    report = check(with_add_on, ok, X12)
    assert ("coverage.prior_unbalanced", "add_ons[0].charge") in {(f.code, f.field) for f in report.findings}


def primary_answered(*, balanced: bool) -> Pair:
    """The base session billed to its secondary (p2) after the primary's answer, balanced or not."""
    session, context = _secondary_world(answered="1")
    second = Payer(id="p2", name="Second Mutual", payer_id="22222", address=STREET)
    context = attrs.evolve(context, payers=[*context.payers.values(), second])
    if not balanced:
        (answer,) = context.adjudications
        line = attrs.evolve(answer.lines[0], adjustments=[])
        context = attrs.evolve(context, adjudications=[attrs.evolve(answer, lines=[line])])
    return session, context
