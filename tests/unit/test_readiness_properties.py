"""Claim readiness: properties of the checker, the registry, the outputs and the findings page."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    Payer,
    ReferringProvider,
    Relationship,
    Subscriber,
)
from sessionkit.codes import behavioral
from sessionkit.domain.payments import Adjudication, LineAdjudication
from sessionkit.readiness import (
    Finding,
    ReadinessContext,
    ReadinessReport,
    RuleCheck,
    RuleRegistry,
    RuleRegistryError,
    Severity,
    Target,
    check,
    check_many,
    default_registry,
    define_rule,
    findings_markdown,
)
from sessionkit.readiness.checker import _check_targets
from sessionkit.testing.readiness import StaticCodeSet, readiness_contexts, readiness_sessions, ready_sessions

DOCS = Path(__file__).resolve().parents[2] / "docs"
TARGETS = st.sampled_from(Target)


@given(readiness_sessions(), readiness_contexts(), TARGETS)
def test_checker_never_raises_is_deterministic_and_ready_means_no_error(
    session: ClientSession, context: ReadinessContext, target: Target
) -> None:
    """Any session with any context gives a report, the same every time; ready iff no error finding."""
    report = check(session, context, target)
    assert check(attrs.evolve(session), attrs.evolve(context), target) == report
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks)
    assert report.session_id == session.id
    assert report.target is target
    assert report.ready is all(f.severity is not Severity.ERROR for f in report.findings)
    assert json.loads(json.dumps(report.to_dict()))["ready"] is report.ready
    assert str(report).startswith(f"session {session.id}:")
    assert report._repr_html_().startswith("<div")


@given(readiness_sessions(), TARGETS)
def test_checker_copes_with_an_empty_context(session: ClientSession, target: Target) -> None:
    """With nothing but today's date, the checker reports missing parts instead of raising."""
    report = check(session, ReadinessContext(today=date(2026, 1, 1)), target)
    assert "client.missing" in report.codes
    assert not report.ready


def test_checker_accepts_sessions_from_the_shared_strategies() -> None:
    """Sessions from sessionkit.testing.sessions() (when it exists) never make the checker raise."""
    testing = pytest.importorskip("sessionkit.testing")
    sessions = getattr(testing, "sessions", None)
    if sessions is None:
        pytest.skip("sessionkit.testing.sessions() is not written yet")

    @given(sessions(), readiness_contexts(), TARGETS)
    def run(session: ClientSession, context: ReadinessContext, target: Target) -> None:
        report = check(session, context, target)
        assert report.ready is not any(f.severity is Severity.ERROR for f in report.findings)

    run()


@given(ready_sessions(), TARGETS)
def test_ready_sessions_are_ready_for_every_target(
    pair: tuple[ClientSession, ReadinessContext], target: Target
) -> None:
    """The ready_sessions() strategy gives sessions with no error on either claim or the invoice."""
    session, context = pair
    report = check(session, context, target)
    assert report.ready, str(report)


SENTINEL_FIRST = "Zelphinia"
SENTINEL_LAST = "Quarrington"
SENTINEL_NOTE = "sentinel-note-xyzzy"
SENTINEL_MEMBER = "MEMBERXYZZY42"


def _sentinel_pair(session: ClientSession) -> tuple[ClientSession, ReadinessContext]:
    client = Client(
        id=session.client_id,
        first_name=SENTINEL_FIRST,
        last_name=SENTINEL_LAST,
        client_file_note=SENTINEL_NOTE,
        email="zq@example.com",
    )
    coverage = Coverage(
        id="cov1",
        client_id=session.client_id,
        payer_id="p1",
        member_id=SENTINEL_MEMBER,
        effective=date(2030, 1, 1),
        relationship=Relationship.SPOUSE,
        subscriber=Subscriber(first_name=SENTINEL_FIRST, last_name=SENTINEL_LAST),
    )
    context = ReadinessContext(
        today=date(2020, 1, 1),
        client=client,
        coverages=(coverage,),
        payers=[Payer(id="p1", name=SENTINEL_LAST, insurance_note=SENTINEL_NOTE)],
    )
    return attrs.evolve(session, comments=SENTINEL_NOTE, line_note=SENTINEL_NOTE), context


@given(readiness_sessions())
def test_findings_never_contain_client_data(session: ClientSession) -> None:
    """No message, hint, field or text rendering carries names, notes or member ids."""
    session, context = _sentinel_pair(session)
    for target in Target:
        report = check(session, context, target)
        assert report.findings
        texts = [str(report)] + [f"{f.message} {f.hint} {f.field} {f.source}" for f in report.findings]
        for text in texts:
            for sentinel in (SENTINEL_FIRST, SENTINEL_LAST, SENTINEL_NOTE, SENTINEL_MEMBER):
                assert sentinel not in text


def _counting(n: int, pulled: list[int]) -> Iterator[ClientSession]:
    for i in itertools.count():
        pulled.append(i)
        yield ClientSession(
            id=f"s{i}", client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90834", charge="1"
        )
        if i + 1 >= n:
            return


def test_check_many_is_lazy() -> None:
    """check_many pulls a session only when its report is asked for."""
    pulled: list[int] = []
    reports = check_many(
        _counting(1_000_000, pulled), ReadinessContext(today=date(2026, 2, 1)), Target.X12_837P
    )
    assert pulled == []
    first = list(itertools.islice(reports, 3))
    assert [r.session_id for r in first] == ["s0", "s1", "s2"]
    assert len(pulled) == 3


def test_check_many_takes_a_context_per_session() -> None:
    """A callable context_for is asked once per session, and its context is used."""
    asked: list[str] = []
    client = Client(id="c1", first_name="A", last_name="B")

    def context_for(session: ClientSession) -> ReadinessContext:
        asked.append(session.id)
        return ReadinessContext(today=date(2026, 2, 1), client=client)

    reports = list(check_many(_counting(3, []), context_for, "client_invoice"))
    assert asked == ["s0", "s1", "s2"]
    assert all(r.ready for r in reports)
    assert all(r.target is Target.CLIENT_INVOICE for r in reports)


def test_registry_add_remove_replace() -> None:
    """Apps add, replace and remove rules; rules_for follows every change."""
    registry = default_registry()
    before = len(registry.rules_for(Target.X12_837P))
    demo = define_rule("demo", targets=[Target.X12_837P], source="house rule")
    code = demo.code("demo.comments", Severity.ERROR, "the comments are not empty")

    @demo.checks
    def comments(session: ClientSession, context: ReadinessContext) -> list[Finding]:
        return [code.at("comments")] if session.comments else []

    registry.add(demo.rule)
    assert len(registry.rules_for(Target.X12_837P)) == before + 1
    assert registry.rules_for(Target.CMS1500) == default_registry().rules_for(Target.CMS1500)
    with pytest.raises(RuleRegistryError) as raised:
        registry.add(demo.rule)
    assert raised.value.code == "readiness.rule_exists"
    session = ClientSession(
        client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90834", charge="1", comments="x"
    )
    context = ReadinessContext(today=date(2026, 2, 1))
    assert "demo.comments" in check(session, context, Target.X12_837P, rules=registry).codes
    registry.replace(attrs.evolve(demo.rule, check=lambda s, c: []))
    assert "demo.comments" not in check(session, context, Target.X12_837P, rules=registry).codes
    registry.remove("demo")
    assert "demo" not in registry
    assert len(registry.rules_for(Target.X12_837P)) == before
    with pytest.raises(RuleRegistryError):
        registry.remove("demo")


def test_removing_a_rule_silences_its_codes() -> None:
    """Without the diagnoses rule, a session without diagnosis no longer says so."""
    session = ClientSession(
        client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90834", charge="1"
    )
    context = ReadinessContext(today=date(2026, 2, 1))
    registry = default_registry()
    registry.remove("diagnoses")
    assert "diagnosis.primary_missing" in check(session, context, Target.CMS1500).codes
    assert "diagnosis.primary_missing" not in check(session, context, Target.CMS1500, rules=registry).codes
    assert (
        "diagnosis.primary_missing" not in check(session, context, Target.CMS1500, rules=list(registry)).codes
    )


def test_default_registry_is_a_fresh_copy() -> None:
    """Changing one default registry does not change the next, nor the checker's defaults."""
    first = default_registry()
    first.disable("client")
    assert default_registry().get("client").enabled
    assert isinstance(first.copy(), RuleRegistry)


def test_report_outputs() -> None:
    """str() is a table, _repr_html_() escapes everything, to_dict() is plain data."""
    finding = Finding(
        code="demo.x", severity=Severity.WARNING, field="line_note", message="<b>bold</b> & more", hint="h"
    )
    report = ReadinessReport(session_id="s1", target=Target.CMS1500, findings=(finding,))
    text = str(report).splitlines()
    assert text[0] == "session s1: ready for CMS-1500 (0 errors, 1 warnings, 0 info)"
    assert text[1].split() == ["SEVERITY", "CODE", "FIELD", "MESSAGE"]
    assert text[2].split()[:3] == ["WARNING", "demo.x", "line_note"]
    html = report._repr_html_()
    assert "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert report.to_dict() == {
        "session_id": "s1",
        "target": "cms1500",
        "ready": True,
        "findings": [
            {
                "code": "demo.x",
                "severity": "warning",
                "field": "line_note",
                "message": "<b>bold</b> & more",
                "hint": "h",
                "source": "",
                "rule": "",
            }
        ],
    }


def test_raise_if_not_ready_carries_the_findings() -> None:
    """A report with errors raises ClaimNotReady holding its findings; a ready one does not raise."""
    from sessionkit.errors import ClaimNotReady

    session = ClientSession(
        client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90834", charge="1"
    )
    report = check(session, ReadinessContext(today=date(2026, 2, 1)), Target.X12_837P)
    with pytest.raises(ClaimNotReady) as raised:
        report.raise_if_not_ready()
    assert raised.value.findings == report.findings
    ReadinessReport(session_id="s", target=Target.X12_837P).raise_if_not_ready()


def test_every_code_has_one_severity_and_a_source() -> None:
    """A code means the same wherever it is reported, and names its source."""
    seen: dict[str, Severity] = {}
    for rule in default_registry():
        assert rule.source
        for code in rule.codes:
            assert seen.setdefault(code.code, code.severity) is code.severity
            assert code.meaning
            assert code.hint


def test_findings_page_lists_exactly_the_registered_codes() -> None:
    """docs/findings.md is the page generated from the registry (regenerate it when rules change)."""
    expected = findings_markdown(default_registry())
    assert (DOCS / "findings.md").read_text(encoding="utf-8") == expected
    listed = {line.split("`")[1] for line in expected.splitlines() if line.startswith("| `")}
    assert listed == {info.code for info in default_registry().codes()}


def test_address_is_not_client_data_in_findings() -> None:
    """A practice address missing is reported by field, with a fixed message."""
    context = ReadinessContext(
        today=date(2026, 2, 1),
        client=Client(
            id="c1",
            first_name="A",
            last_name="B",
            address=Address(line1="9 Secret Ln", city="XX", state="IL", postal_code="62701"),
        ),
    )
    session = ClientSession(
        client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90834", charge="1"
    )
    assert all("Secret" not in str(f) for f in check(session, context, Target.X12_837P).findings)


# -- the fused checker gives exactly the plain checker's reports ------------------------------------


def _plain_registry() -> RuleRegistry:
    """The default rules behind wrappers: the same findings, but only the plain checker can run them."""
    wrapped = []
    for rule in default_registry():

        def call(session: ClientSession, context: ReadinessContext, check: RuleCheck = rule.check) -> Any:
            return check(session, context)

        wrapped.append(attrs.evolve(rule, check=call))
    return RuleRegistry(wrapped)


PLAIN = _plain_registry()


_ADD_ON_POOL = [
    (AddOnLine(code="90785", charge="20"),),
    (AddOnLine(code="90840", charge="20"),),
    (AddOnLine(code="90785", charge="20"), AddOnLine(code="90840", charge="0", units="0.5")),
    (AddOnLine(code="90785", charge="20", modifiers=("HO", "HO")),),
    (AddOnLine(code="90840", charge="20", modifiers=("95",)), AddOnLine(code="90840", charge="20")),
]


@st.composite
def _fused_sessions(draw: st.DrawFn) -> ClientSession:
    """Mostly sessions of the fused path's shape (a diagnosis), often plain ones.

    Shape 3 draws the fields from small pools so that repeated modifiers, telehealth places and
    same-day code clashes (with the other sessions of the list) come up often; its billing code is
    any code of the behavioural-health catalogue (and a code outside it), with minutes around
    every time threshold.
    """
    session = draw(readiness_sessions("c1") | readiness_sessions("other"))
    shape = draw(st.sampled_from([0, 1, 3, 3]))
    if shape == 0:
        return session
    session = attrs.evolve(session, diagnoses=session.diagnoses or ("F41.1",))
    if shape == 1:
        return session
    return attrs.evolve(
        session,
        id=draw(st.sampled_from(["o1", "s1", "s2"])),
        date_of_service=draw(st.sampled_from([date(2026, 3, 2), date(2026, 3, 9)])),
        billing_code=draw(st.sampled_from([*sorted(behavioral.CATALOGUE), "99213"])),
        minutes=draw(st.none() | st.sampled_from([10, 15, 16, 25, 26, 30, 37, 38, 45, 52, 53, 74, 75, 90])),
        add_ons=draw(st.sampled_from([(), session.add_ons, *_ADD_ON_POOL])),
        modifiers=draw(st.sampled_from([(), ("HO",), ("HO", "HO"), ("HO", "59"), ("95", "HO")])),
        place_of_service=draw(st.sampled_from(["10", "11"])),
    )


_FUSED_SESSIONS = st.lists(_fused_sessions(), min_size=1, max_size=4)


@given(_FUSED_SESSIONS, readiness_contexts(), TARGETS, st.booleans())
def test_fused_checker_reports_exactly_what_the_plain_checker_reports(
    sessions: list[ClientSession], context: ReadinessContext, target: Target, saved: bool
) -> None:
    """Many sessions through one context: the fused path's reports equal the plain path's, twice over."""
    if saved:
        context = attrs.evolve(context, other_sessions=(*context.other_sessions, *sessions))
    plain = [check(s, context, target, PLAIN) for s in sessions]
    assert list(check_many(sessions, context, target)) == plain
    assert list(check_many(sessions, context, target)) == plain  # with the caches warm
    assert list(check_many(sessions, lambda s: context, target)) == plain
    assert [check(s, context, target) for s in sessions] == plain


@given(_FUSED_SESSIONS, readiness_contexts(), readiness_contexts(), TARGETS, st.booleans())
def test_fused_checker_shares_across_contexts_only_what_the_setup_decides(
    sessions: list[ClientSession],
    first: ReadinessContext,
    second: ReadinessContext,
    target: Target,
    same_setup: bool,
) -> None:
    """Contexts checked one after the other (as the command line checks a practice, client by client),
    with the same billing codes setup and code set or not: every fused report equals the plain path's."""
    if same_setup:
        second = attrs.evolve(second, billing_codes=dict(first.billing_codes), code_set=first.code_set)
    for context in (first, second, first, attrs.evolve(second)):
        plain = [check(s, context, target, PLAIN) for s in sessions]
        assert list(check_many(sessions, context, target)) == plain


@pytest.mark.parametrize("target", [Target.X12_837P, Target.CMS1500])
def test_fused_checker_keeps_setups_and_code_sets_apart(target: Target) -> None:
    """Two clients' contexts differing only in the billing codes setup, or only in the code set, in turn:
    each gets its own findings (an answer remembered for one setup is not reused for another)."""
    session = ClientSession(
        id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="100",
        diagnoses=["F41.1"],
    )  # fmt: skip
    base = ReadinessContext(
        today=date(2026, 12, 31),
        billing_codes=[BillingCode(code="90834", default_charge="1")],
        code_set=StaticCodeSet(billable=frozenset({"F41.1"})),
    )
    other_setup = attrs.evolve(base, billing_codes=[BillingCode(code="90837", default_charge="1")])
    other_codes = attrs.evolve(base, code_set=StaticCodeSet(billable=frozenset({"F32.A"})))
    seen = []
    for context in (base, other_setup, other_codes, base, other_codes, other_setup):
        plain = [check(s, context, target, PLAIN) for s in (session, session)]
        fused = list(check_many([session, session], context, target))
        assert fused == plain
        seen.append(fused[0].codes)
    assert "billing_code.not_in_setup" not in seen[0]
    assert "billing_code.not_in_setup" in seen[1]
    assert "diagnosis.not_in_code_set" in seen[2]
    assert "diagnosis.not_in_code_set" not in seen[0]
    assert (seen[3], seen[5], seen[4]) == (seen[0], seen[1], seen[2])


@given(ready_sessions(), TARGETS)
def test_fused_checker_agrees_on_ready_sessions(
    pair: tuple[ClientSession, ReadinessContext], target: Target
) -> None:
    """Ready sessions with complete contexts: the fused and the plain paths agree."""
    session, context = pair
    assert check(session, context, target) == check(session, context, target, PLAIN)


def _second_evaluation_case() -> tuple[RuleRegistry, ClientSession, ReadinessContext]:
    """A registry with a payer rule on (a second diagnostic evaluation), a session it speaks on, its context."""
    registry = default_registry()
    registry.enable("payer_diagnostic_eval_frequency")
    earlier = ClientSession(
        id="a", client_id="c1", date_of_service=date(2026, 1, 5), billing_code="90791", charge="200"
    )
    later = attrs.evolve(earlier, id="b", date_of_service=date(2026, 3, 2), diagnoses=("F41.1",))
    return registry, later, ReadinessContext.build(today=date(2026, 12, 31), sessions=[earlier, later])


def test_fused_checker_steps_aside_for_other_rule_sets() -> None:
    """A registry other than the defaults (a payer rule on) runs the plain checker, with its findings."""
    registry, later, context = _second_evaluation_case()
    codes = next(check_many([later], context, Target.X12_837P, registry)).codes
    assert "payer.diagnostic_eval_frequency" in codes
    assert "payer.diagnostic_eval_frequency" not in check(later, context, Target.X12_837P).codes


def _grid() -> list[ClientSession]:
    """Sessions crossing every value the fused path remembers answers by (codes, places, referrers)."""
    referrers = [
        None,
        ReferringProvider(first_name="Ada", last_name=""),
        ReferringProvider(first_name="Ada", last_name="", npi="1234567893"),
        ReferringProvider(first_name="Ada", last_name="Byron", npi="1234567893"),
    ]
    grid = itertools.product(
        ["10", "11"],
        [(), ("HO",), ("HO", "HO"), ("HO", "59"), ("95",)],
        [(), *_ADD_ON_POOL[:3]],
        ["90834", "90839", "90785"],
        [None, 45],
        referrers,
        ["0", "30"],
    )
    return [
        ClientSession(
            id=f"s{i}",
            client_id="c1" if i % 3 else "other",
            date_of_service=date(2026, 3, 2) if i % 2 else date(2026, 3, 9),
            billing_code=code,
            minutes=minutes,
            charge="100",
            diagnoses=["F41.1"],
            modifiers=modifiers,
            place_of_service=place,
            add_ons=add_ons,
            referring_provider=referrer,
            paid_at_session=paid,
        )
        for i, (place, modifiers, add_ons, code, minutes, referrer, paid) in enumerate(grid)
    ]


def _grid_contexts() -> list[ReadinessContext]:
    payer = Payer(id="p1", name="Acme", requires_authorization=True, requires_referring_provider=True)
    full = ReadinessContext.build(
        today=date(2026, 12, 31),
        client=Client(id="c1", first_name="Pat", last_name="Doe", date_of_birth=date(1980, 1, 1)),
        coverages=[
            Coverage(
                id="v1", client_id="c1", payer_id="p1", member_id="M1", effective=date(2026, 3, 5), copay="20"
            ),
            Coverage(
                id="v2",
                client_id="c1",
                payer_id="p2",
                member_id="M2",
                effective=date(2020, 1, 1),
                coinsurance="0.2",
                rank="S",
                relationship=Relationship.SPOUSE,
            ),
        ],
        payers=[payer],
        authorizations=[
            Authorization(
                id="a1",
                client_id="c1",
                payer_id="p1",
                number="A1",
                billing_codes={"90834"},
                start=date(2026, 1, 1),
                end=date(2026, 12, 31),
                sessions_authorized=1,
            ),
        ],
        sessions=[
            ClientSession(
                id="o1", client_id="c1", date_of_service=date(2026, 3, 9), billing_code="90839", charge="100"
            )
        ],
        code_set=StaticCodeSet(billable=frozenset({"F41.1"})),
        billing_codes=[
            BillingCode(code="90834", default_charge="1"),
            BillingCode(code="90785", default_charge="1"),
        ],
    )
    return [full, ReadinessContext(today=date(2026, 3, 5))]


@pytest.mark.parametrize("target", [Target.X12_837P, Target.CMS1500])
def test_fused_checker_remembers_nothing_it_should_not(target: Target) -> None:
    """One context checks a grid of sessions: each report equals the plain path's, cold and warm."""
    sessions = _grid()
    for context in _grid_contexts():
        plain = [check(s, context, target, PLAIN) for s in sessions]
        assert list(check_many(sessions, context, target)) == plain
        assert list(check_many(reversed(sessions), context, target)) == plain[::-1]
        assert len({r.codes for r in plain}) > 10  # the grid does vary the findings


def _direct_grid() -> list[ClientSession]:
    """Sessions crossing every value the direct plans remember findings by: the client, a past or future
    date, who is billed, the charge, the add-ons' charges, the amount paid and the diagnosis list."""
    grid = itertools.product(
        ["c1", "other"],
        [date(2026, 3, 2), date(2026, 3, 9), date(2027, 1, 4)],
        [BillTo.AUTOMATIC, BillTo.CLIENT],
        ["0", "20", "100", "99999999.99"],
        [(), (AddOnLine(code="90785", charge="20"),), (AddOnLine(code="90785", charge="0"),)],
        ["0", "20", "30", "100", "150"],
        [(), ("F41.1",), ("F99.9",)],
    )
    return [
        ClientSession(
            id=f"d{i}",
            client_id=client_id,
            date_of_service=day,
            bill_to=bill_to,
            billing_code="90834",
            charge=charge,
            add_ons=add_ons,
            paid_at_session=paid,
            diagnoses=diagnoses,
        )
        for i, (client_id, day, bill_to, charge, add_ons, paid, diagnoses) in enumerate(grid)
    ]


@pytest.mark.parametrize("target", [Target.CLIENT_INVOICE, Target.SUPERBILL])
def test_direct_plans_remember_nothing_they_should_not(target: Target) -> None:
    """One context checks a grid of client-billed sessions: each report equals the plain path's, cold and
    warm, in either order; contexts with and without a client address, birth date, practice and code set."""
    sessions = _direct_grid()
    full = _grid_contexts()[0]
    bare_client = Client(id="c1", first_name="Pat", last_name="Doe")
    copays = attrs.evolve(
        full,
        coverages=[
            attrs.evolve(c, copay="30", coinsurance=None, effective=date(2026, 3, 5))
            for c in full.coverages[:1]
        ],
    )
    contexts = [
        full,
        copays,
        attrs.evolve(full, client=bare_client, practice=None, code_set=None),
        ReadinessContext(today=date(2026, 3, 5)),
    ]
    for context in contexts:
        plain = [check(s, context, target, PLAIN) for s in sessions]
        assert list(check_many(sessions, context, target)) == plain
        assert list(check_many(reversed(sessions), context, target)) == plain[::-1]
        assert len({r.codes for r in plain}) > 3  # the grid does vary the findings


def test_the_fused_checker_covers_exactly_the_default_rules() -> None:
    """Fail closed: the default rules of each insurance target are exactly the rules the fused body
    covers (a new default rule must get a guard there, or the fused path turns itself off)."""
    from sessionkit.readiness import _fused

    for target in (Target.X12_837P, Target.CMS1500):
        rules = default_registry().rules_for(target)
        assert {r.name for r in rules} == _fused.COVERED[target]
        assert _fused.covers(rules, target)
        assert _fused.plan_for(rules, target) is not None
    for target, names in _fused.DIRECT.items():  # the targets billed to the client
        rules = default_registry().rules_for(target)
        assert tuple(r.name for r in rules) == names
        assert _fused.plan_for(rules, target) is not None
    assert set(_fused.DIRECT) | set(_fused.COVERED) == set(Target)  # every target has a plan


def test_a_rule_the_fused_body_does_not_know_turns_it_off() -> None:
    """A default rule set with one more rule (or a rule replaced) has no fused plan: every check is plain."""
    from sessionkit.readiness import _fused

    extra = define_rule("house_extra", targets=[Target.X12_837P], source="the payer", description="x")
    extra.checks(lambda s, c: ())
    rules = (*default_registry().rules_for(Target.X12_837P), extra.rule)
    assert not _fused.covers(rules, Target.X12_837P)
    assert _fused.plan_for(rules, Target.X12_837P) is None
    swapped = tuple(
        attrs.evolve(r, check=lambda s, c: ()) if r.name == "modifiers" else r
        for r in default_registry().rules_for(Target.X12_837P)
    )
    assert _fused.plan_for(swapped, Target.X12_837P) is None


def test_a_custom_rule_is_reported_by_check_check_many_and_the_claims_gate() -> None:
    """A rule added to a default registry is reported alike by check, check_many and build_claims."""
    from sessionkit.claims import ClaimContext, build_claims
    from sessionkit.errors import ClaimNotReady
    from sessionkit.testing.readiness import ready_sessions as ready

    house = define_rule("house_no_90837", targets=[Target.X12_837P], source="the payer", description="x")
    code = house.code("house.no_90837", Severity.ERROR, "the payer does not take 90837")

    @house.checks
    def no_90837(session: ClientSession, context: ReadinessContext) -> list[Finding]:
        return [code.at("billing_code")] if session.billing_code == "90837" else []

    registry = default_registry()
    registry.add(house.rule)

    @given(ready())
    @settings(max_examples=25)
    def agree(pair: tuple[ClientSession, ReadinessContext]) -> None:
        session, context = pair
        session = attrs.evolve(session, billing_code="90837", minutes=60, add_ons=())
        assert "house.no_90837" in check(session, context, Target.X12_837P, registry).codes
        many = list(check_many([session, session], context, Target.X12_837P, registry))
        assert all("house.no_90837" in r.codes for r in many)
        assert context.practice is not None
        assert context.client is not None
        claim_context = ClaimContext(
            practice=context.practice,
            clients=[context.client],
            coverages=context.coverages,
            payers=context.payers.values(),
            authorizations=[u.authorization for u in context.authorizations],
            today=context.today,
            code_set=context.code_set,
        )
        with pytest.raises(ClaimNotReady) as info:
            build_claims([session], claim_context, "837p", rules=registry)
        assert "house.no_90837" in {f.code for f in info.value.findings}

    agree()


def _posted(session_id: str, coverage: Coverage, n: int, status: str) -> Adjudication:
    sign = -1 if status == "22" else 1
    return Adjudication(
        id=f"adj{n}",
        claim_record_id="r1",
        client_id=coverage.client_id,
        payer_id=coverage.payer_id,
        coverage_id=coverage.id,
        patient_control_number="SK1",
        status_code=status,
        charge=Decimal("140.00") * sign,
        paid=Decimal("0.00"),
        lines=[
            LineAdjudication(session_id=session_id, code="90834", charge=Decimal("140.00") * sign, paid="0")
        ],
        paid_on=date(2026, 3, 20),
        source_key=f"key{n}",
        posted_at=datetime(2026, 3, 20, 12, n % 60, tzinfo=timezone.utc),
    )


@settings(max_examples=25)
@given(_FUSED_SESSIONS, readiness_contexts(), TARGETS, st.data())
def test_fused_checker_agrees_when_payers_have_answered(
    sessions: list[ClientSession], context: ReadinessContext, target: Target, data: st.DataObject
) -> None:
    """With posted adjudications (some sessions billed to a later payer, some reversed), the fused
    path's reports still equal the plain path's."""
    coverages = list(context.coverages)
    if coverages:
        answers = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["o1", "s1", "s2", *(s.id for s in sessions)]),
                    st.sampled_from(coverages),
                    st.sampled_from(["1", "4", "22"]),
                ),
                max_size=4,
            )
        )
        context = attrs.evolve(
            context,
            adjudications=[_posted(sid, cov, n, status) for n, (sid, cov, status) in enumerate(answers)],
        )
    plain = [check(s, context, target, PLAIN) for s in sessions]
    assert list(check_many(sessions, context, target)) == plain
    assert [check(s, context, target) for s in sessions] == plain


_ALL_TARGETS = st.lists(st.sampled_from(Target), min_size=1, max_size=len(Target), unique=True)


def _with_answers(
    context: ReadinessContext, sessions: list[ClientSession], data: st.DataObject
) -> ReadinessContext:
    """``context`` with some posted adjudications of ``sessions`` (billed to a later payer, reversed), or as is."""
    coverages = list(context.coverages)
    if not coverages or not data.draw(st.booleans()):
        return context
    answers = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(["o1", *(s.id for s in sessions)]),
                st.sampled_from(coverages),
                st.sampled_from(["1", "4", "22"]),
            ),
            max_size=3,
        )
    )
    return attrs.evolve(
        context, adjudications=[_posted(sid, cov, n, status) for n, (sid, cov, status) in enumerate(answers)]
    )


@settings(max_examples=60)
@given(_FUSED_SESSIONS, readiness_contexts(), _ALL_TARGETS, st.booleans(), st.data())
def test_the_combined_pass_reports_what_check_many_reports_per_target(
    sessions: list[ClientSession],
    context: ReadinessContext,
    targets: list[Target],
    saved: bool,
    data: st.DataObject,
) -> None:
    """Any targets in any order (the 837P and the CMS-1500 together run in one fused pass): per session,
    one report per target, each equal to check_many's for that target and to the plain checker's;
    sessions without a diagnosis, with overrides or already answered by a payer included."""
    if saved:
        context = attrs.evolve(context, other_sessions=(*context.other_sessions, *sessions))
    context = _with_answers(context, sessions, data)
    rows = list(_check_targets(sessions, context, targets))
    assert len(rows) == len(sessions)
    for i, target in enumerate(targets):
        column = [row[i] for row in rows]
        assert column == list(check_many(sessions, context, target))
        assert column == [check(s, context, target, PLAIN) for s in sessions]
        assert all(r.target is target for r in column)
    again = list(_check_targets(sessions, context, targets))  # the caches warm
    assert again == rows


@settings(max_examples=30)
@given(_FUSED_SESSIONS, readiness_contexts(), readiness_contexts(), st.booleans())
def test_the_combined_pass_shares_across_contexts_only_what_the_setup_decides(
    sessions: list[ClientSession], first: ReadinessContext, second: ReadinessContext, same_setup: bool
) -> None:
    """Contexts in turn (client by client, as the command line checks): the combined pass's reports equal
    the plain checker's for both insurance targets."""
    if same_setup:
        second = attrs.evolve(second, billing_codes=dict(first.billing_codes), code_set=first.code_set)
    targets = [Target.X12_837P, Target.CMS1500]
    for context in (first, second, first, attrs.evolve(second)):
        rows = list(_check_targets(sessions, context, targets))
        for i, target in enumerate(targets):
            assert [row[i] for row in rows] == [check(s, context, target, PLAIN) for s in sessions]


def test_the_combined_pass_agrees_on_the_grid() -> None:
    """The grid of remembered values through the combined pass, cold and warm: plain findings for both
    insurance targets and the client invoice."""
    sessions = _grid()
    targets = [Target.CMS1500, Target.CLIENT_INVOICE, Target.X12_837P]
    for context in _grid_contexts():
        plain = [[check(s, context, t, PLAIN) for t in targets] for s in sessions]
        assert [list(row) for row in _check_targets(sessions, context, targets)] == plain
        assert [list(row) for row in _check_targets(sessions[::-1], context, targets)] == plain[::-1]


def test_the_combined_plan_exists_only_for_the_default_rules() -> None:
    """Fail closed: one fused pass for the 837P and the CMS-1500 exactly when each target's rules are its
    plan's; they differ by the target-specific rules only; another rule set checks each target alone."""
    from sessionkit.readiness import _fused
    from sessionkit.readiness.checker import _rules_for

    both = {t: default_registry().rules_for(t) for t in (Target.X12_837P, Target.CMS1500)}
    plan = _fused.plan_for_all(both)
    assert plan is not None
    assert plan.targets == (Target.X12_837P, Target.CMS1500)
    assert _fused.COVERED[Target.X12_837P] ^ _fused.COVERED[Target.CMS1500] == {
        "payer_id",
        "line_note_x12",
        "line_note_paper",
        "whole_units",
    }
    assert _fused.plan_for_all({Target.X12_837P: both[Target.X12_837P]}) is None
    swapped = tuple(
        attrs.evolve(r, check=lambda s, c: ()) if r.name == "whole_units" else r for r in both[Target.CMS1500]
    )
    assert _fused.plan_for_all({**both, Target.CMS1500: swapped}) is None
    registry = default_registry()
    registry.enable("payer_diagnostic_eval_frequency")
    assert _fused.plan_for_all({t: _rules_for(registry, t) for t in both}) is None
    with pytest.raises(TypeError):
        plan.bind(ReadinessContext(today=date(2026, 3, 2)))
    single = _fused.plan_for(both[Target.X12_837P], Target.X12_837P)
    assert single is not None
    with pytest.raises(TypeError):
        single.bind_all(ReadinessContext(today=date(2026, 3, 2)))


def test_the_combined_pass_runs_a_custom_rule_set_per_target() -> None:
    """A registry with a payer rule on: the combined pass steps aside, and the rule's finding is reported."""
    registry, later, context = _second_evaluation_case()
    targets = [Target.X12_837P, Target.CMS1500]
    (row,) = _check_targets([later], context, targets, registry)
    assert [r.target for r in row] == targets
    assert "payer.diagnostic_eval_frequency" in row[0].codes
    assert row[1] == check(later, context, Target.CMS1500, registry)


def test_sessions_with_the_same_findings_share_one_findings_tuple() -> None:
    """Two sessions of a context with the same extra findings (a telehealth place without a modifier)
    get the very same findings tuple, in both insurance targets (the command line counts it once)."""
    one = ClientSession(
        id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="100",
        diagnoses=["F41.1"], place_of_service="10",
    )  # fmt: skip
    two = attrs.evolve(one, id="s2", date_of_service=date(2026, 3, 9))
    context = ReadinessContext(today=date(2026, 12, 31))
    first, second = _check_targets([one, two], context, [Target.X12_837P, Target.CMS1500])
    for a, b in zip(first, second, strict=True):
        assert "place_of_service.telehealth_modifier_missing" in a.codes
        assert a.findings is b.findings
