"""Claim readiness: each rule with a failing and a passing case, per target."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import attrs
import pytest

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    Frequency,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Relationship,
    Resubmission,
    Subscriber,
)
from sessionkit.readiness import ReadinessContext, Target, check, default_registry
from sessionkit.readiness.rules.conformance import CONFORMANCE_RULES
from sessionkit.testing.readiness import StaticCodeSet

TODAY = date(2026, 3, 9)
DOS = date(2026, 3, 2)
ADDRESS = Address(line1="1 Main St", city="Springfield", state="IL", postal_code="627011234")
CMS, X12, INVOICE = Target.CMS1500, Target.X12_837P, Target.CLIENT_INVOICE
SUPERBILL = Target.SUPERBILL
INSURANCE = (CMS, X12)
ALL = (CMS, X12, INVOICE)

Pair = tuple[ClientSession, ReadinessContext]
Change = Callable[[ClientSession, ReadinessContext], Pair]


def base() -> Pair:
    """A session ready for every target, with a complete context."""
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
            address=ADDRESS,
            time_zone="America/Chicago",
        ),
        client=Client(
            id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 5, 1), address=ADDRESS
        ),
        coverages=[
            Coverage(
                id="cov1",
                client_id="c1",
                payer_id="p1",
                member_id="M123",
                effective=date(2025, 1, 1),
                copay="20",
            )
        ],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054")],
        code_set=StaticCodeSet(billable={"F41.1", "F32.A", "F43.23"}, categories={"F41", "F43.2"}),
    )
    return session, context


def s(**changes: object) -> Change:
    """A change to the base session."""
    return lambda session, context: (attrs.evolve(session, **changes), context)


def c(**changes: object) -> Change:
    """A change to the base context."""
    return lambda session, context: (session, attrs.evolve(context, **changes))


def both(*steps: Change) -> Change:
    """Several changes in a row."""

    def run(session: ClientSession, context: ReadinessContext) -> Pair:
        for step in steps:
            session, context = step(session, context)
        return session, context

    return run


def same(session: ClientSession, context: ReadinessContext) -> Pair:
    """No change."""
    return session, context


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


def forced(**values: object) -> Change:
    """Set session fields bypassing the invariants (data from a bad source)."""

    def run(session: ClientSession, context: ReadinessContext) -> Pair:
        session = attrs.evolve(session)
        for name, value in values.items():
            object.__setattr__(session, name, value)
        return session, context

    return run


def _dates(n: int) -> tuple[date, ...]:
    return tuple(DOS - timedelta(days=i) for i in range(1, n + 1))


SUBSCRIBER = Subscriber(first_name="Sam", last_name="Byron", date_of_birth=date(1960, 1, 1), address=ADDRESS)
REFERRING = ReferringProvider(first_name="Grace", last_name="Hopper", npi="1234567893")
AUTH = Authorization(
    id="a1",
    client_id="c1",
    payer_id="p1",
    number="AUTH1",
    start=date(2026, 1, 1),
    end=date(2026, 6, 30),
    sessions_authorized=1,
)
EARLIER = ClientSession(
    id="s0", client_id="c1", date_of_service=date(2026, 2, 1), billing_code="90834", charge="140"
)


def bad_npi_referring(session: ClientSession, context: ReadinessContext) -> Pair:
    """A referring provider whose NPI fails the check digit (bypassing the invariant)."""
    ref = attrs.evolve(REFERRING)
    object.__setattr__(ref, "npi", "1234567890")
    return attrs.evolve(session, referring_provider=ref), context


def with_auth(
    sessions_authorized: int, *others: ClientSession, codes: frozenset[str] = frozenset()
) -> Change:
    """The payer requires authorization; one is on file, counted against ``others``."""
    return both(
        payer(requires_authorization=True),
        lambda session, context: (
            session,
            ReadinessContext.build(
                today=context.today,
                practice=context.practice,
                client=context.client,
                coverages=context.coverages,
                payers=context.payers,
                authorizations=[
                    attrs.evolve(AUTH, sessions_authorized=sessions_authorized, billing_codes=codes)
                ],
                sessions=[*others, session],
                code_set=context.code_set,
            ),
        ),
    )


def same_day(other_code: str, other_date: date = DOS) -> Change:
    """Another session of the client with ``other_code`` on ``other_date``."""
    other = ClientSession(
        id="s9", client_id="c1", date_of_service=other_date, billing_code=other_code, charge="100"
    )
    return c(other_sessions=(other,))


# (code, targets, failing change, passing change)
CASES: list[tuple[str, tuple[Target, ...], Change, Change]] = [
    ("client.missing", ALL, c(client=None), same),
    ("client.mismatch", ALL, client(id="c2"), same),
    ("bill_to.client_direct", INSURANCE, s(bill_to=BillTo.CLIENT), s(bill_to=BillTo.AUTOMATIC)),
    ("coverage.none_active", INSURANCE, c(coverages=()), same),
    ("coverage.none_active", INSURANCE, coverage(effective=date(2026, 3, 3)), coverage(effective=DOS)),
    ("coverage.payer_unknown", INSURANCE, c(payers=()), same),
    ("practice.missing", INSURANCE, c(practice=None), same),
    (
        "practice.address_missing",
        INSURANCE,
        lambda ss, cc: (ss, attrs.evolve(cc, practice=attrs.evolve(cc.practice, address=None))),
        same,
    ),
    ("payer.payer_id_missing", (X12,), payer(payer_id=None), same),
    ("patient.date_of_birth_missing", INSURANCE, client(date_of_birth=None), same),
    (
        "patient.date_of_birth_future",
        INSURANCE,
        client(date_of_birth=date(2026, 3, 10)),
        client(date_of_birth=TODAY),
    ),
    ("patient.address_missing", INSURANCE, client(address=None), same),
    (
        "subscriber.missing",
        INSURANCE,
        coverage(relationship=Relationship.CHILD),
        coverage(relationship=Relationship.CHILD, subscriber=SUBSCRIBER),
    ),
    (
        "subscriber.date_of_birth_missing",
        INSURANCE,
        coverage(relationship=Relationship.CHILD, subscriber=attrs.evolve(SUBSCRIBER, date_of_birth=None)),
        coverage(relationship=Relationship.CHILD, subscriber=SUBSCRIBER),
    ),
    (
        "subscriber.date_of_birth_future",
        INSURANCE,
        coverage(
            relationship=Relationship.CHILD,
            subscriber=attrs.evolve(SUBSCRIBER, date_of_birth=date(2030, 1, 1)),
        ),
        coverage(relationship=Relationship.CHILD, subscriber=SUBSCRIBER),
    ),
    (
        "subscriber.address_missing",
        INSURANCE,
        coverage(relationship=Relationship.SPOUSE, subscriber=attrs.evolve(SUBSCRIBER, address=None)),
        coverage(relationship=Relationship.SPOUSE, subscriber=SUBSCRIBER),
    ),
    ("diagnosis.primary_missing", INSURANCE, s(diagnoses=()), same),
    ("diagnosis.duplicate", INSURANCE, s(diagnoses=["F41.1", "f411"]), s(diagnoses=["F41.1", "F32.A"])),
    (
        "diagnosis.sequela_primary",
        INSURANCE,
        s(diagnoses=["S72.001S", "F41.1"]),
        s(diagnoses=["F41.1", "S72.001S"]),
    ),
    ("diagnosis.too_many_pointers", INSURANCE, forced(diagnoses=tuple(base()[0].diagnoses * 5)), same),
    ("claim.too_many_diagnoses", INSURANCE, forced(diagnoses=tuple(base()[0].diagnoses * 13)), same),
    ("diagnosis.not_in_code_set", INSURANCE, s(diagnoses=["F99"]), same),
    ("diagnosis.not_billable", INSURANCE, s(diagnoses=["F41.1", "F43.2"]), s(diagnoses=["F41.1", "F43.23"])),
    ("diagnosis.billability_unchecked", INSURANCE, c(code_set=None), same),
    ("date_of_service.future", ALL, s(date_of_service=date(2026, 3, 10)), s(date_of_service=TODAY)),
    (
        "date_of_service.before_icd10",
        INSURANCE,
        both(coverage(effective=date(2015, 1, 1)), s(date_of_service=date(2015, 9, 30))),
        both(coverage(effective=date(2015, 1, 1)), s(date_of_service=date(2015, 10, 1))),
    ),
    ("billing_code.add_on_as_primary", INSURANCE, s(billing_code="90785", minutes=None), same),
    (
        "billing_code.add_on_as_primary",
        INSURANCE,
        both(
            s(billing_code="99999"),
            c(billing_codes=[BillingCode(code="99999", default_charge="1", add_on=True)]),
        ),
        both(
            s(billing_code="99999"),
            c(billing_codes=[BillingCode(code="99999", default_charge="1", add_on=False)]),
        ),
    ),
    (
        "billing_code.not_in_setup",
        INSURANCE,
        c(billing_codes=[BillingCode(code="90837", default_charge="150")]),
        c(billing_codes=[BillingCode(code="90834", default_charge="140")]),
    ),
    ("units.fractional", (CMS,), s(units="1.5"), s(units="2")),
    (
        "units.fractional",
        (CMS,),
        s(add_ons=[AddOnLine(code="90785", units="0.5", charge="20")]),
        s(add_ons=[AddOnLine(code="90785", units="1", charge="20")]),
    ),
    ("charge.zero", ALL, s(charge="0"), same),
    (
        "charge.zero",
        ALL,
        s(add_ons=[AddOnLine(code="90785", charge="0")]),
        s(add_ons=[AddOnLine(code="90785", charge="1")]),
    ),
    (
        "charge.total_too_large",
        ALL,
        s(charge="99999999.99", add_ons=[AddOnLine(code="90785", charge="1")]),
        s(charge="99999998.99", add_ons=[AddOnLine(code="90785", charge="1")]),
    ),
    ("modifier.duplicate", INSURANCE, s(modifiers=["HO", "HO"]), s(modifiers=["HO", "59"])),
    (
        "modifier.duplicate",
        INSURANCE,
        s(add_ons=[AddOnLine(code="90785", charge="20", modifiers=["HO", "HO"])]),
        s(add_ons=[AddOnLine(code="90785", charge="20", modifiers=["HO"])]),
    ),
    (
        "place_of_service.telehealth_modifier_missing",
        INSURANCE,
        s(place_of_service="10"),
        s(place_of_service="10", modifiers=["95"]),
    ),
    (
        "place_of_service.telehealth_modifier_missing",
        INSURANCE,
        s(place_of_service="02", modifiers=["HO"]),
        s(place_of_service="02", modifiers=["GT"]),
    ),
    (
        "referring_provider.first_name_missing",
        INSURANCE,
        s(referring_provider=attrs.evolve(REFERRING, first_name=" ")),
        s(referring_provider=REFERRING),
    ),
    (
        "referring_provider.last_name_missing",
        INSURANCE,
        s(referring_provider=attrs.evolve(REFERRING, last_name="")),
        s(referring_provider=REFERRING),
    ),
    (
        "referring_provider.npi_missing",
        INSURANCE,
        s(referring_provider=attrs.evolve(REFERRING, npi=None)),
        s(referring_provider=REFERRING),
    ),
    ("referring_provider.npi_invalid", INSURANCE, bad_npi_referring, s(referring_provider=REFERRING)),
    (
        "referring_provider.required",
        INSURANCE,
        payer(requires_referring_provider=True),
        both(payer(requires_referring_provider=True), s(referring_provider=REFERRING)),
    ),
    (
        "resubmission.reference_missing",
        INSURANCE,
        s(resubmission=Resubmission(frequency=Frequency.REPLACEMENT)),
        s(resubmission=Resubmission(frequency=Frequency.REPLACEMENT, original_reference="CLM77")),
    ),
    (
        "resubmission.reference_missing",
        INSURANCE,
        s(resubmission=Resubmission(frequency=Frequency.VOID)),
        s(resubmission=Resubmission(frequency=Frequency.VOID, original_reference="CLM77")),
    ),
    (
        "resubmission.reference_unexpected",
        INSURANCE,
        s(resubmission=Resubmission(original_reference="CLM77")),
        same,
    ),
    ("line_note.not_printable", (CMS,), s(line_note="CALL BEFORE PAYING"), same),
    (
        "line_note.invalid_characters",
        (X12,),
        s(line_note="call before paying ~ now"),
        s(line_note="Call before paying"),
    ),
    ("line_note.invalid_characters", (X12,), s(line_note="REF*1"), s(line_note="REF 1")),
    ("line_note.too_long", (X12,), forced(line_note="A" * 81), s(line_note="A" * 80)),
    ("authorization.missing", INSURANCE, payer(requires_authorization=True), with_auth(1)),
    (
        "authorization.missing",
        INSURANCE,
        both(s(billing_code="90837", minutes=60), with_auth(5, codes=frozenset({"90834"}))),
        both(s(minutes=45), with_auth(5, codes=frozenset({"90834"}))),
    ),
    ("authorization.exhausted", INSURANCE, with_auth(1, EARLIER), with_auth(2, EARLIER)),
    ("paid_at_session.over_client_share", INSURANCE, s(paid_at_session="20.01"), s(paid_at_session="20")),
    (
        "paid_at_session.over_client_share",
        INSURANCE,
        both(coverage(copay=None, coinsurance="0.2"), s(paid_at_session="28.01")),
        both(coverage(copay=None, coinsurance="0.2"), s(paid_at_session="28")),
    ),
    (
        "add_on.not_an_add_on",
        INSURANCE,
        s(add_ons=[AddOnLine(code="90837", charge="20")]),
        s(add_ons=[AddOnLine(code="90785", charge="20")]),
    ),
    (
        "add_on.not_an_add_on",
        INSURANCE,
        both(
            s(add_ons=[AddOnLine(code="99999", charge="20")]),
            c(billing_codes=[BillingCode(code="99999", default_charge="1", add_on=False)]),
        ),
        both(
            s(add_ons=[AddOnLine(code="99999", charge="20")]),
            c(billing_codes=[BillingCode(code="99999", default_charge="1", add_on=True)]),
        ),
    ),
    (
        "add_on.primary_not_allowed",
        INSURANCE,
        s(billing_code="90791", minutes=None, add_ons=[AddOnLine(code="90863", charge="20")]),
        s(add_ons=[AddOnLine(code="90863", charge="20")]),
    ),
    (
        "add_on.excluded_pair",
        INSURANCE,
        s(billing_code="90839", minutes=60, add_ons=[AddOnLine(code="90785", charge="20")]),
        s(billing_code="90839", minutes=60, add_ons=[AddOnLine(code="90840", charge="20")]),
    ),
    ("same_day.excluded_pair", INSURANCE, same_day("90839"), same_day("90839", date(2026, 3, 1))),
    (
        "same_day.once_per_day",
        INSURANCE,
        both(s(billing_code="90839", minutes=60), same_day("90839")),
        both(s(billing_code="90839", minutes=60), same_day("90839", date(2026, 3, 1))),
    ),
    ("minutes.missing", INSURANCE, s(minutes=None), same),
    (
        "minutes.below_code_minimum",
        INSURANCE,
        s(billing_code="90837", minutes=45),
        s(billing_code="90837", minutes=53),
    ),
    (
        "minutes.below_code_minimum",
        INSURANCE,
        s(billing_code="90834", minutes=20),
        s(billing_code="90834", minutes=38),
    ),
    (
        "minutes.time_mismatch",
        INSURANCE,
        s(billing_code="90832", minutes=45),
        s(billing_code="90832", minutes=37),
    ),
    (
        "minutes.not_reportable",
        INSURANCE,
        s(billing_code="90832", minutes=15),
        s(billing_code="90832", minutes=16),
    ),
    (
        "minutes.not_reportable",
        INSURANCE,
        s(billing_code="90846", minutes=25),
        s(billing_code="90846", minutes=26),
    ),
    (
        "minutes.over_code_maximum",
        INSURANCE,
        s(billing_code="90839", minutes=75),
        s(billing_code="90839", minutes=74),
    ),
    ("invoice.address_missing", (INVOICE,), client(address=None), same),
    ("invoice.nothing_due", (INVOICE,), s(paid_at_session="20"), s(paid_at_session="19.99")),
    ("paid_at_session.over_charge", (INVOICE,), s(paid_at_session="140.01"), s(paid_at_session="140")),
    ("superbill.practice_missing", (SUPERBILL,), c(practice=None), same),
    ("superbill.diagnosis_missing", (SUPERBILL,), s(diagnoses=()), same),
    ("superbill.diagnosis_not_billable", (SUPERBILL,), s(diagnoses=["F41"]), same),
    ("superbill.client_dob_missing", (SUPERBILL,), client(date_of_birth=None), same),
    ("superbill.client_address_missing", (SUPERBILL,), client(address=None), same),
]


@pytest.mark.parametrize(
    ("code", "targets", "failing", "passing"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_rule_reports_failing_case_and_not_passing_case(
    code: str, targets: tuple[Target, ...], failing: Change, passing: Change
) -> None:
    """Each rule reports its code on the failing case and not on the passing one, for each of its targets."""
    for target in targets:
        bad = check(*failing(*base()), target)
        good = check(*passing(*base()), target)
        assert code in bad.codes, (target, str(bad))
        assert code not in good.codes, (target, str(good))
        severity = next(f.severity for f in bad.findings if f.code == code)
        assert bad.ready is (severity.value != "error" and good.ready)


def test_every_registered_code_has_a_case() -> None:
    """The table covers every finding code of the default registry (payer rules tested below).

    The conformance rules have their own table in test_readiness_conformance.py.
    """
    conformance = {r.name for r in CONFORMANCE_RULES}
    registered = {
        info.code for info in default_registry().codes() if info.enabled and not set(info.rules) & conformance
    }
    assert registered == {case[0] for case in CASES}


@pytest.mark.parametrize("target", list(Target))
def test_base_session_is_ready_for_every_target(target: Target) -> None:
    """The base of the table is ready, with no finding at all."""
    report = check(*base(), target)
    assert report.ready
    assert report.findings == ()


def test_client_direct_session_is_ready_for_the_invoice_only() -> None:
    """A session billed to the client is ready for the invoice and not for either claim."""
    session, context = s(bill_to=BillTo.CLIENT)(*base())
    assert check(session, context, INVOICE).ready
    assert not check(session, context, CMS).ready
    assert not check(session, context, X12).ready


def test_no_coverage_session_is_ready_for_the_invoice_only() -> None:
    """AUTOMATIC without active coverage routes to the client: invoice yes, claims no."""
    session, context = c(coverages=())(*base())
    assert check(session, context, INVOICE).ready
    assert check(session, context, X12).codes[0] == "coverage.none_active"


def test_payer_rules_are_off_by_default_and_can_be_enabled() -> None:
    """One 90791 per 6 months: silent by default, reported once the rule is enabled."""
    first = ClientSession(
        id="s0", client_id="c1", date_of_service=date(2025, 10, 1), billing_code="90791", charge="200"
    )
    session, context = both(s(billing_code="90791", minutes=None), c(other_sessions=(first,)))(*base())
    assert "payer.diagnostic_eval_frequency" not in check(session, context, X12).codes
    registry = default_registry()
    registry.enable("payer_diagnostic_eval_frequency")
    report = check(session, context, X12, rules=registry)
    assert "payer.diagnostic_eval_frequency" in report.codes
    assert not report.ready
    later = attrs.evolve(first, date_of_service=date(2025, 9, 1))
    assert (
        "payer.diagnostic_eval_frequency"
        not in check(session, attrs.evolve(context, other_sessions=(later,)), X12, rules=registry).codes
    )


def test_authorization_covers_the_earliest_sessions_first() -> None:
    """With 1 session authorized, the earlier session is covered and the later one is exhausted."""
    session, context = with_auth(1, EARLIER)(*base())
    assert "authorization.exhausted" in check(session, context, X12).codes
    assert "authorization.exhausted" not in check(EARLIER, context, X12).codes
    assert context.authorizations[0].used == 2
    assert context.authorizations[0].remaining == 0


def test_time_below_the_code_is_an_error_naming_the_code_that_fits() -> None:
    """45 minutes billed as 90837 (or 20 as 90834) is an error whose hint names the code the time fits;
    more time than the code (45 as 90832) is only a warning, also naming the longer code."""
    for code, minutes, expected in (("90837", 45, "90834"), ("90834", 20, "90832")):
        report = check(*s(billing_code=code, minutes=minutes)(*base()), X12)
        finding = next(f for f in report.findings if f.rule == "session_time")
        assert (finding.code, finding.field, finding.severity.value) == (
            "minutes.below_code_minimum",
            "minutes",
            "error",
        )
        assert expected in finding.hint
        assert not report.ready
    report = check(*s(billing_code="90832", minutes=45)(*base()), X12)
    finding = next(f for f in report.findings if f.rule == "session_time")
    assert (finding.code, finding.severity.value) == ("minutes.time_mismatch", "warning")
    assert "90834" in finding.hint


def test_findings_name_field_paths() -> None:
    """Findings on add-ons and dates point at the exact element."""
    session, context = s(
        date_of_service=date(2026, 4, 1),
        add_ons=[AddOnLine(code="90785", charge="1"), AddOnLine(code="90837", charge="1")],
    )(*base())
    fields = {(f.code, f.field) for f in check(session, context, X12).findings}
    assert ("date_of_service.future", "date_of_service") in fields
    assert ("add_on.not_an_add_on", "add_ons[1].code") in fields
