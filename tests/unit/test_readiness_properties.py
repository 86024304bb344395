"""Claim readiness: properties of the checker, the registry, the outputs and the findings page."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import Address, Client, ClientSession, Coverage, Payer, Relationship, Subscriber
from sessionkit.readiness import (
    Finding,
    ReadinessContext,
    ReadinessReport,
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
from sessionkit.testing.readiness import readiness_contexts, readiness_sessions, ready_sessions

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
