"""One home per billing fact: the entry screen, readiness and claims give the same answer."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import (
    Address,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Money,
    Payer,
    PracticeSetup,
    Resubmission,
    Sex,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.builder import SessionBuilder
from sessionkit.claims import ClaimContext, build_claims
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
from sessionkit.errors import ClaimNotReady
from sessionkit.facts import (
    AuthorizationUse,
    active_coverages,
    billed_coverage,
    claim_coverage,
    client_share,
    coverage_order,
    coverage_to_bill,
    draws_on,
    prior_adjudications,
    standing_adjudications,
)
from sessionkit.ports import FixedClock
from sessionkit.readiness import ReadinessContext, Target, check

DAY = date(2026, 3, 2)
TODAY = date(2026, 6, 1)
ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
COVERAGE = Coverage(
    id="k1", client_id="c1", payer_id="p1", member_id="M123", effective=date(2026, 1, 1), copay="25"
)
OTHER_PAYER = Coverage(
    id="k2", client_id="c1", payer_id="p2", member_id="M999", effective=date(2026, 1, 1), rank="S"
)


def _auth(units: int) -> Authorization:
    return Authorization(
        id="a1",
        client_id="c1",
        payer_id="p1",
        number="PA2",
        billing_codes=frozenset({"90834"}),
        start=DAY,
        end=DAY + timedelta(days=60),
        sessions_authorized=units,
    )


def _world(units: int = 2) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork().seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone="America/Chicago",
            default_billing_code="90834",
            address=ADDRESS,
        ),
        clients=[
            Client(
                id="c1",
                first_name="Ada",
                last_name="Byron",
                date_of_birth=date(1990, 1, 2),
                sex=Sex.FEMALE,
                address=ADDRESS,
            )
        ],
        payers=[
            Payer(id="p1", name="Acme Health", payer_id="60054", requires_authorization=True),
            Payer(id="p2", name="Second Health", payer_id="87726"),
        ],
        coverages=[COVERAGE, OTHER_PAYER],
        billing_codes=[
            BillingCode(code="90834", default_minutes=45, default_charge="140.00"),
            BillingCode(code="90837", default_minutes=60, default_charge="180.00"),
        ],
        diagnoses=[DiagnosisCode(code="F41.1")],
        authorizations=[_auth(units)],
    )


def _builder(uow: InMemoryUnitOfWork) -> SessionBuilder:
    return SessionBuilder(uow, FixedClock(TODAY))


def _save(builder: SessionBuilder, day: date, **changes: object) -> ClientSession:
    draft = builder.start("c1", day).with_diagnoses(["F41.1"])
    if changes:
        draft = attrs.evolve(draft, session=attrs.evolve(draft.session, **changes))
    return builder.save(draft).session


def _verdicts(
    uow: InMemoryUnitOfWork, builder: SessionBuilder, session: ClientSession
) -> tuple[bool, bool, bool]:
    """(screen warns exhausted, readiness says exhausted, claims refuse for exhaustion) for a saved session."""
    screen = "authorization.exhausted" in {w.code for w in builder.open(session.id).warnings}
    with uow:
        context = ReadinessContext.from_unit_of_work(uow, "c1", today=TODAY)
        claim_context = ClaimContext.from_unit_of_work(uow, ["c1"], today=TODAY)
    readiness = "authorization.exhausted" in check(session, context, Target.X12_837P).codes
    try:
        build_claims([session], claim_context, Target.X12_837P)
    except ClaimNotReady as exc:
        claims = "authorization.exhausted" in {f.code for f in exc.findings}
    else:
        claims = False
    return screen, readiness, claims


def test_three_sessions_on_a_two_session_authorization() -> None:
    """Regression: the third session on a 2-session authorization is refused by the screen, readiness
    and the claims gate alike, and never reaches an 837P with REF*G1."""
    uow = _world(units=2)
    builder = _builder(uow)
    sessions = [_save(builder, DAY + timedelta(days=7 * i)) for i in range(3)]
    assert [_verdicts(uow, builder, s) for s in sessions] == [
        (False, False, False),
        (False, False, False),
        (True, True, True),
    ]
    with uow:
        context = ClaimContext.from_unit_of_work(uow, ["c1"], today=TODAY)
    with pytest.raises(ClaimNotReady) as info:
        build_claims(sessions, context, "837p")
    assert info.value.field == "sessions[2]"
    claims = build_claims(sessions[:2], context, "837p")
    assert [c.prior_authorization for c in claims] == ["PA2"]
    usage = builder.open(sessions[0].id).authorizations[0]
    assert (usage.used, usage.remaining, usage.over_used) == (3, 0, 1)


def test_sessions_billed_to_the_client_do_not_use_the_authorization() -> None:
    """Two bill-to-client sessions leave both units: the screen shows 2 remaining and readiness agrees."""
    uow = _world(units=2)
    builder = _builder(uow)
    for i in range(2):
        _save(builder, DAY + timedelta(days=i), bill_to=BillTo.CLIENT)
    insured = _save(builder, DAY + timedelta(days=5))
    usage = builder.open(insured.id).authorizations[0]
    assert (usage.used, usage.remaining) == (1, 1)
    assert _verdicts(uow, builder, insured) == (False, False, False)


def test_additional_dates_save_one_session_per_date() -> None:
    """The entry screen takes additional dates; saving makes one session per date in one unit of work,
    each with its own client share, authorization unit and claim line."""
    uow = _world(units=2)
    builder = _builder(uow)
    days = [DAY + timedelta(days=7), DAY + timedelta(days=14)]
    draft = (
        builder.start("c1", DAY)
        .with_diagnoses(["F41.1"])
        .with_paid_at_session("25")
        .with_additional_dates(days)
    )
    result = builder.save(draft)
    assert [s.date_of_service for s in result.sessions] == [DAY, *days]
    assert result.sessions[0] == result.session
    assert len({s.id for s in result.sessions}) == 3
    assert all(
        (s.billing_code, s.charge, s.paid_at_session) == ("90834", Money("140"), Money("25"))
        for s in result.sessions
    )
    with uow:
        assert uow.sessions.count() == 3
        assert [s.date_of_service for s in uow.sessions.between(DAY, DAY + timedelta(days=30))] == [
            DAY,
            *days,
        ]
    assert [client_share(s, [COVERAGE]) for s in result.sessions] == [Money("25.00")] * 3
    assert [_verdicts(uow, builder, s) for s in result.sessions] == [
        (False, False, False),
        (False, False, False),
        (True, True, True),
    ]


def test_corrections_and_voids_do_not_use_a_second_unit() -> None:
    """A corrected claim's session (7) shares its date's unit with the original; a void (8) uses none;
    a correction on a date of its own uses that date's unit."""
    auth = _auth(5)
    original = ClientSession(id="s1", client_id="c1", date_of_service=DAY, billing_code="90834", charge="1")
    corrected = attrs.evolve(
        original, id="s2", resubmission=Resubmission(frequency="7", original_reference="X1")
    )
    void = attrs.evolve(
        original,
        id="s3",
        date_of_service=DAY + timedelta(days=2),
        resubmission=Resubmission(frequency="8", original_reference="X1"),
    )
    lone_correction = attrs.evolve(corrected, id="s4", date_of_service=DAY + timedelta(days=1))
    use = AuthorizationUse.count(auth, [original, corrected, void, lone_correction], [COVERAGE])
    assert use.dates == (DAY, DAY + timedelta(days=1))
    assert not draws_on(auth, void, [COVERAGE])
    assert use.with_session(corrected, [COVERAGE]) is use


def test_coverage_precedence_is_deterministic() -> None:
    """Rank first, then the later effective date, then id; a session billed to the client has none."""
    old = attrs.evolve(COVERAGE, id="b", effective=date(2025, 1, 1))
    new = attrs.evolve(COVERAGE, id="c", effective=date(2026, 2, 1))
    twin = attrs.evolve(new, id="a")
    assert [c.id for c in active_coverages("c1", DAY, [OTHER_PAYER, old, new, twin])] == ["a", "c", "b", "k2"]
    s = ClientSession(client_id="c1", date_of_service=DAY, billing_code="90834", charge="140")
    assert billed_coverage(s, [old, OTHER_PAYER, new]) is new
    assert billed_coverage(attrs.evolve(s, bill_to=BillTo.CLIENT), [new]) is None


_HISTORY = st.lists(
    st.tuples(
        st.integers(0, 40),  # day offset
        st.sampled_from(["90834", "90834", "90837"]),  # a code the authorization covers, or not
        st.sampled_from([BillTo.AUTOMATIC, BillTo.AUTOMATIC, BillTo.CLIENT]),
        st.sampled_from(["1", "1", "7", "8"]),  # frequency
        st.lists(st.integers(1, 20), max_size=2, unique=True),  # additional dates (days after)
    ),
    min_size=1,
    max_size=6,
)


@given(units=st.integers(1, 4), history=_HISTORY)
@settings(max_examples=40, deadline=None)
def test_screen_readiness_and_claims_agree_on_every_history(
    units: int, history: list[tuple[int, str, BillTo, str, list[int]]]
) -> None:
    """Whatever the history (on and off the authorization, bill-to-client, resubmissions, several
    dates), the screen's usage, readiness and build_claims agree on which sessions are exhausted."""
    uow = _world(units=units)
    builder = _builder(uow)
    saved: list[ClientSession] = []
    for offset, code, bill_to, frequency, extra in history:
        day = DAY + timedelta(days=offset)
        draft = builder.start("c1", day).with_diagnoses(["F41.1"]).with_bill_to(bill_to)
        if code != "90834":
            draft = draft.with_billing_code(code)
        if frequency != "1":
            draft = draft.with_resubmission(Resubmission(frequency=frequency, original_reference="ORIG1"))
        extra_days = [day + timedelta(days=e) for e in extra]
        result = builder.save(draft.with_additional_dates(extra_days))
        saved.extend(result.sessions)
    with uow:
        all_saved = uow.sessions.by_client("c1")
    use = AuthorizationUse.count(_auth(units), all_saved, [COVERAGE, OTHER_PAYER])
    screen_usage = builder.open(saved[0].id).authorizations
    if screen_usage:
        assert (screen_usage[0].used, screen_usage[0].remaining) == (use.used, use.remaining)
    for session in saved:
        screen, readiness, claims = _verdicts(uow, builder, session)
        assert screen == readiness == claims
        expected = draws_on(_auth(units), session, [COVERAGE]) and not use.allows(session)
        assert readiness == expected


# -- coordination of benefits: the coverage to bill next --------------------------------------------

_COB_DAY = date(2026, 5, 4)
_POSTED = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _cob_coverage(
    cov_id: str, rank: str, *, payer: str | None = None, effective: date = date(2026, 1, 1)
) -> Coverage:
    return Coverage(
        id=cov_id,
        client_id="c1",
        payer_id=payer or f"p{cov_id}",
        member_id="M1",
        rank=rank,
        effective=effective,
    )


def _answer(
    coverage: Coverage, n: int, *, session_id: str = "s1", status: str = "1", pcn: str = "X"
) -> Adjudication:
    sign = -1 if status == "22" else 1
    return Adjudication(
        id=f"a{n}",
        claim_record_id="r1",
        client_id="c1",
        payer_id=coverage.payer_id,
        coverage_id=coverage.id,
        patient_control_number="SK1",
        payer_claim_number=pcn,
        status_code=status,
        charge=Decimal("140.00") * sign,
        paid=Decimal("100.00") * sign,
        lines=[
            LineAdjudication(
                session_id=session_id,
                code="90834",
                charge=Decimal("140.00") * sign,
                paid=Decimal("100.00") * sign,
                adjustments=[Adjustment(group="CO", reason="45", amount=Decimal("40.00") * sign)],
            )
        ],
        paid_on=date(2026, 6, 1),
        source_key=f"k{n}",
        posted_at=_POSTED + timedelta(minutes=n),
    )


_COB_SESSION = ClientSession(
    id="s1", client_id="c1", date_of_service=_COB_DAY, billing_code="90834", charge="140", diagnoses=["F41.1"]
)


@settings(max_examples=60, deadline=None)
@given(
    ranks=st.lists(st.sampled_from("PST"), min_size=1, max_size=3),
    answered=st.lists(st.booleans(), min_size=3, max_size=3),
    reversed_=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_coverage_to_bill_is_the_first_coverage_in_effect_without_a_standing_answer(
    ranks: list[str], answered: list[bool], reversed_: list[bool]
) -> None:
    """coverage_to_bill walks the coverages in precedence order and stops at the first whose payer has
    no standing adjudication of the session (a reversal cancels one); None when all answered. The
    earlier ones are exactly prior_adjudications, and claim_coverage falls back to the billed one."""
    coverages = [_cob_coverage(f"k{i}", rank) for i, rank in enumerate(ranks)]
    adjudications = []
    for i, c in enumerate(coverages):
        if answered[i]:
            adjudications.append(_answer(c, 2 * i))
            if reversed_[i]:
                adjudications.append(_answer(c, 2 * i + 1, status="22"))
    order = list(active_coverages("c1", _COB_DAY, coverages))
    done = [bool(standing_adjudications(_COB_SESSION, c, adjudications)) for c in order]
    assert done == [answered[coverages.index(c)] and not reversed_[coverages.index(c)] for c in order]
    expected = next((c for c, d in zip(order, done, strict=True) if not d), None)
    assert coverage_to_bill(_COB_SESSION, coverages, adjudications) == expected
    assert claim_coverage(_COB_SESSION, coverages, adjudications) == (expected or order[0])
    if expected is not None:
        priors = prior_adjudications(_COB_SESSION, expected, coverages, adjudications)
        assert [c for c, _ in priors] == order[: order.index(expected)]
    if not adjudications:
        assert coverage_to_bill(_COB_SESSION, coverages, adjudications) == billed_coverage(
            _COB_SESSION, coverages
        )


def test_coverage_to_bill_skips_other_sessions_inactive_coverages_and_client_billing() -> None:
    """Only an answer with a line of this session counts; a secondary not in effect is skipped; a session
    billed to the client has no coverage to bill; a denial counts as an answer."""
    primary = _cob_coverage("k1", "P")
    secondary = _cob_coverage("k2", "S")
    late = _cob_coverage("k3", "T", effective=date(2026, 6, 1))
    coverages = [late, secondary, primary]
    assert coverage_to_bill(_COB_SESSION, coverages, [_answer(primary, 1, session_id="s9")]) == primary
    assert coverage_to_bill(_COB_SESSION, coverages, [_answer(primary, 1, status="4")]) == secondary
    both = [_answer(primary, 1), _answer(secondary, 2)]
    assert coverage_to_bill(_COB_SESSION, coverages, both) is None  # the tertiary is not in effect yet
    assert claim_coverage(_COB_SESSION, coverages, both) == primary
    to_client = attrs.evolve(_COB_SESSION, bill_to="client")
    assert coverage_to_bill(to_client, coverages, []) is None
    # Paid again after a reversal: the answer stands again.
    again = [
        _answer(primary, 1, pcn="A"),
        _answer(primary, 2, status="22", pcn="A"),
        _answer(primary, 3, pcn="B"),
    ]
    assert [a.id for a in standing_adjudications(_COB_SESSION, primary, again)] == ["a3"]


_WINDOW = [date(2026, 1, 1) + timedelta(days=d) for d in range(0, 40, 3)]


@st.composite
def _window_coverages(draw: st.DrawFn) -> list[Coverage]:
    """Up to five coverages of two clients starting and ending on a few nearby days (or never ending)."""
    found = []
    for i in range(draw(st.integers(0, 5))):
        effective = draw(st.sampled_from(_WINDOW))
        termination = draw(st.none() | st.sampled_from([d for d in _WINDOW if d >= effective] + [date.max]))
        found.append(
            attrs.evolve(
                COVERAGE,
                id=f"k{i}",
                client_id=draw(st.sampled_from(["c1", "c2"])),
                rank=draw(st.sampled_from(["P", "S", "T"])),
                effective=effective,
                termination=termination,
            )
        )
    return found


_ASKED = [(date(2025, 12, 30) + timedelta(days=d), c) for d in range(46) for c in ("c1", "c2", "c3", None)]


@given(_window_coverages(), st.permutations(_ASKED))
def test_coverage_on_is_the_first_coverage_in_effect_on_every_day(
    coverages: list[Coverage], asked: list[tuple[date, str | None]]
) -> None:
    """The context's remembered answer (per day, and per span between coverage start and end dates) is
    always the first coverage in precedence order of those in effect that day, asked in any order."""
    context = ReadinessContext(today=TODAY, coverages=coverages)
    for day, client_id in asked:
        in_effect = (
            active_coverages(client_id, day, coverages)
            if client_id is not None
            else tuple(sorted((c for c in coverages if c.is_active(day)), key=coverage_order))
        )
        assert context.coverage_on(day, client_id) == (in_effect[0] if in_effect else None)
