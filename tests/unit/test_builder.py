"""The session builder: the entry screen's behaviour over the in-memory adapter."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import (
    Authorization,
    BillingCode,
    BillTo,
    Client,
    Coverage,
    DiagnosisCode,
    InvalidValue,
    Money,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    SessionStatus,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore
from sessionkit.builder import (
    PROGRESS_NOTES,
    SaveAction,
    SessionBuilder,
    SessionDraft,
    authorization_usage,
)
from sessionkit.domain import InsuranceOverrides
from sessionkit.domain.payments import PaymentStatus
from sessionkit.errors import ConcurrentUpdate, NotFound, SessionLocked
from sessionkit.payments import PaymentDeclined, ledger_paid_at_session
from sessionkit.ports import FixedClock, SystemClock
from sessionkit.routing import Destination
from sessionkit.testing.gateway import APPROVE, DECLINE_EXPIRED_CARD, TestGateway

DAY = date(2026, 3, 2)
CODES = {
    "90834": BillingCode(code="90834", default_minutes=45, default_charge="140.00"),
    "90837": BillingCode(code="90837", default_minutes=60, default_charge="180.00"),
    "90832": BillingCode(code="90832", default_minutes=30, default_charge="100.00"),
    "90791": BillingCode(code="90791", default_charge="200.00"),
    "99213": BillingCode(code="99213", default_minutes=20, default_charge="120.00"),
    "90785": BillingCode(code="90785", default_charge="25.00"),
    "90833": BillingCode(code="90833", default_minutes=30, default_charge="80.00"),
    "90840": BillingCode(code="90840", default_charge="90.00"),
    "H0004": BillingCode(code="H0004", default_charge="30.00", add_on=True),
}
DIAGNOSES = [DiagnosisCode(code="F41.1"), DiagnosisCode(code="F32.A"), DiagnosisCode(code="F43.23")]
COV = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="M1", effective=date(2026, 1, 1), copay="25")
AUTH = Authorization(
    id="a1",
    client_id="c1",
    payer_id="p1",
    number="AUTH123",
    billing_codes=frozenset({"90834", "90837"}),
    start=DAY - timedelta(days=30),
    end=DAY + timedelta(days=30),
    sessions_authorized=3,
)


def _world(store: MemoryStore | None = None) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store).seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone="America/New_York",
            default_billing_code="90834",
        ),
        clients=[
            Client(id="c1", first_name="Ada", last_name="Byron", client_file_note="prefers mornings"),
            Client(id="c2", first_name="Alan", last_name="Turing"),
        ],
        payers=[Payer(id="p1", name="Acme Health", insurance_note="call before the 10th visit")],
        coverages=[COV],
        billing_codes=CODES.values(),
        diagnoses=DIAGNOSES,
        authorizations=[AUTH],
    )


def _builder(uow: InMemoryUnitOfWork | None = None) -> SessionBuilder:
    return SessionBuilder(uow if uow is not None else _world(), FixedClock(DAY))


def test_start_gives_the_practice_defaults() -> None:
    """With nothing saved: practice default code, its minutes and charge, office, automatic, no diagnoses."""
    draft = _builder().start("c1", DAY)
    s = draft.session
    assert (s.billing_code, s.minutes, s.charge) == ("90834", 45, Money("140.00"))
    assert s.place_of_service.code == "11"
    assert s.bill_to is BillTo.AUTOMATIC
    assert s.diagnoses == ()
    assert draft.is_new
    assert draft.warnings == ()


def test_start_defaults_the_date_to_today() -> None:
    """Without a date the clock's today is the date of service."""
    assert _builder().start("c2").session.date_of_service == DAY


def test_start_shows_notes_and_authorizations() -> None:
    """The screen shows the payer's insurance note, the client file note and the authorization usage."""
    draft = _builder().start("c1", DAY)
    assert [(n.payer_name, n.note) for n in draft.insurance_notes] == [
        ("Acme Health", "call before the 10th visit")
    ]
    assert draft.client_file_note == "prefers mornings"
    [usage] = draft.authorizations
    assert (usage.used, usage.remaining, usage.over_used, usage.end) == (0, 3, 0, AUTH.end)
    assert usage.sessions_authorized == 3
    uncovered = _builder().start("c2", DAY)
    assert uncovered.insurance_notes == ()
    assert uncovered.authorizations == ()


def test_start_unknown_client_or_no_default_code() -> None:
    """An unknown client raises NotFound; a practice without a default code and no history too."""
    builder = _builder()
    with pytest.raises(NotFound):
        builder.start("nobody", DAY)
    uow = _world()
    with uow:
        uow.practice.put(attrs.evolve(uow.practice.get(), default_billing_code=None))
        uow.commit()
    with pytest.raises(NotFound) as info:
        _builder(uow).start("c1", DAY)
    assert info.value.code == "practice.no_default_billing_code"
    with uow:
        uow.practice.put(attrs.evolve(uow.practice.get(), default_billing_code="90847"))
        uow.commit()
    with pytest.raises(NotFound) as info:
        _builder(uow).start("c1", DAY)
    assert info.value.code == "billing_code.not_in_setup"


def test_defaults_come_from_the_last_saved_session() -> None:
    """After a save, the next draft takes its code (with the setup's minutes and charge) and diagnoses."""
    builder = _builder()
    draft = builder.start("c1", DAY).with_billing_code("90837").with_charge("175").with_diagnoses(["F32.A"])
    builder.save(draft)
    nxt = builder.start("c1", DAY + timedelta(days=7))
    assert (nxt.session.billing_code, nxt.session.minutes, nxt.session.charge) == (
        "90837",
        60,
        Money("180.00"),
    )
    assert [d.code for d in nxt.session.diagnoses] == ["F32.A"]
    assert builder.start("c2", DAY).session.billing_code == "90834"


def test_last_code_missing_from_setup_keeps_its_own_values() -> None:
    """When the setup lost the last code, the new draft copies that session's minutes and charge."""
    uow = _world()
    builder = _builder(uow)
    builder.save(builder.start("c2", DAY).with_billing_code("90832").with_minutes(33).with_charge("99"))
    with uow:
        del uow.store.billing_codes["90832"]
    draft = builder.start("c2", DAY)
    assert (draft.session.billing_code, draft.session.minutes, draft.session.charge) == (
        "90832",
        33,
        Money("99"),
    )


save_steps = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2"]),
        st.sampled_from(["90834", "90837", "90832", "90791"]),
        st.lists(st.sampled_from(["F41.1", "F32.A", "F43.23"]), unique=True, max_size=4),
        st.integers(0, 40),
        st.one_of(st.none(), st.decimals(1, 500, places=2).map(str)),
    ),
    min_size=1,
    max_size=6,
)


@given(save_steps)
def test_new_draft_defaults_equal_the_last_saved_session(
    steps: list[tuple[str, str, list[str], int, str | None]],
) -> None:
    """After any sequence of saves, each client's new draft defaults to its last saved session."""
    builder = _builder()
    last: dict[str, tuple[str, list[str]]] = {}
    for client, code, dx, offset, charge in steps:
        draft = builder.start(client, DAY + timedelta(days=offset)).with_billing_code(code).with_diagnoses(dx)
        if charge is not None:
            draft = draft.with_charge(charge)
        builder.save(draft)
        last[client] = (code, dx)
    for client, (code, dx) in last.items():
        s = builder.start(client, DAY).session
        assert s.billing_code == code
        assert (s.minutes, s.charge) == (CODES[code].default_minutes, CODES[code].default_charge)
        assert [d.code for d in s.diagnoses] == dx


@given(
    st.lists(st.sampled_from(sorted(CODES)), min_size=1, max_size=5),
    st.integers(0, 600),
    st.decimals(0, 999, places=2),
)
def test_code_change_resets_minutes_and_charge(codes: list[str], minutes: int, charge: Decimal) -> None:
    """Whatever was edited before, a code change gives that code's default minutes and charge."""
    draft = _builder().start("c1", DAY)
    for code in codes:
        draft = draft.with_minutes(minutes).with_charge(charge)
        assert (draft.session.minutes, draft.session.charge) == (minutes, Money(charge))
        draft = draft.with_billing_code(code)
        assert (draft.session.minutes, draft.session.charge) == (
            CODES[code].default_minutes,
            CODES[code].default_charge,
        )


def test_unknown_or_malformed_billing_code() -> None:
    """A code outside the setup raises NotFound; a malformed one InvalidValue naming the field."""
    draft = _builder().start("c1", DAY)
    with pytest.raises(NotFound) as info:
        draft.with_billing_code("90847")
    assert info.value.code == "billing_code.not_in_setup"
    with pytest.raises(InvalidValue) as info2:
        draft.with_billing_code("9")
    assert info2.value.field == "billing_code"
    assert draft.setup_code("90834 ") == CODES["90834"]
    assert draft.setup_code("junk") is None


@given(
    st.integers(1, 6),
    st.lists(st.tuples(st.integers(-40, 40), st.sampled_from(["90834", "90837", "90832"])), max_size=10),
)
def test_authorization_usage_never_negative(authorized: int, sessions: list[tuple[int, str]]) -> None:
    """One use per date of service: used + remaining == authorized unless over-used; nothing is negative."""
    from sessionkit import ClientSession

    auth = attrs.evolve(AUTH, sessions_authorized=authorized)
    saved = [
        ClientSession(client_id="c1", date_of_service=DAY + timedelta(days=d), billing_code=c, charge="1")
        for d, c in sessions
    ]
    usage = authorization_usage(auth, saved, [COV])
    expected_used = len({d for d, c in sessions if abs(d) <= 30 and c in auth.billing_codes})
    assert usage.used == expected_used
    assert usage.remaining >= 0
    assert usage.over_used >= 0
    if usage.over_used == 0:
        assert usage.used + usage.remaining == authorized
    else:
        assert (usage.remaining, usage.used - authorized) == (0, usage.over_used)


def test_authorization_warnings_exhausted_then_over_used() -> None:
    """A new covered session on a used-up authorization warns; an over-used one warns too."""
    uow = _world()
    builder = _builder(uow)
    earliest = builder.save(builder.start("c1", DAY - timedelta(days=3))).session
    for days in (1, 2):
        builder.save(builder.start("c1", DAY - timedelta(days=days)))
    draft = builder.start("c1", DAY)
    usage = draft.authorizations[0]
    assert (usage.authorization, usage.used, usage.remaining, usage.over_used) == (AUTH, 3, 0, 0)
    assert [w.code for w in draft.warnings] == ["authorization.exhausted"]
    assert [w.code for w in draft.with_billing_code("90791").warnings] == []
    builder.save(draft)
    over = builder.start("c1", DAY)
    assert over.authorizations[0].over_used == 1
    assert [(w.code, w.field) for w in over.warnings] == [("authorization.exhausted", "authorizations[0]")]
    first = builder.open(earliest.id)  # the earliest date is covered; later ones over-use
    assert [(w.code, w.field) for w in first.warnings] == [("authorization.over_used", "authorizations[0]")]


def test_over_payment_warning_names_the_credit() -> None:
    """Paying more than the copay warns with the credit amount; the copay itself does not."""
    draft = _builder().start("c1", DAY)
    assert draft.with_paid_at_session("25").warnings == ()
    [warning] = draft.with_paid_at_session("40").warnings
    assert (warning.code, warning.field, warning.amount) == (
        "paid_at_session.over_payment",
        "paid_at_session",
        Money("15"),
    )
    assert "$15.00" in warning.message
    direct = draft.with_bill_to("client").with_paid_at_session("140")
    assert direct.warnings == ()
    assert direct.client_share == Money("140.00")
    assert direct.with_paid_at_session("150").over_payment == Money("10")
    uncovered = _builder().start("c2", DAY).with_paid_at_session("140")
    assert uncovered.warnings == ()


def test_time_mismatch_warning_suggests_the_code() -> None:
    """45 minutes billed as 90837 warns and suggests 90834; minutes outside a rule without suggestion warn too."""
    draft = _builder().start("c1", DAY).with_billing_code("90837").with_minutes(45)
    [warning] = draft.warnings
    assert (warning.code, warning.suggestion) == ("billing_code.time_mismatch", "90834")
    short = draft.with_billing_code("90832").with_minutes(10)
    assert [w.code for w in short.warnings] == ["billing_code.minutes_out_of_range"]
    assert draft.with_billing_code("90791").warnings == ()


def test_future_date_warns() -> None:
    """A date of service after today is a warning."""
    draft = _builder().start("c2", DAY + timedelta(days=1))
    assert [w.code for w in draft.warnings] == ["date_of_service.future"]


def test_diagnosis_added_to_setup_is_saved_with_the_session() -> None:
    """A new diagnosis must be added before use, and is stored in the same save."""
    uow = _world()
    builder = _builder(uow)
    draft = builder.start("c1", DAY)
    with pytest.raises(NotFound) as info:
        draft.with_diagnoses(["F41.1", "F90.0"])
    assert (info.value.code, info.value.field) == ("diagnosis.not_in_setup", "diagnoses[1]")
    with pytest.raises(InvalidValue) as info2:
        draft.with_diagnoses(["F41.1", "!"])
    assert info2.value.field == "diagnoses[1].code"
    with pytest.raises(InvalidValue):
        draft.with_diagnoses("F41.1")
    draft = draft.add_diagnosis_to_setup(DiagnosisCode(code="F90.0", description="ADHD"))
    assert draft.add_diagnosis_to_setup("f900") is draft
    assert draft.add_diagnosis_to_setup("F41.1") is draft
    draft = draft.with_diagnoses(["F90.0", "F41.1"])
    with uow:
        assert uow.diagnoses.find("F90.0") is None
    result = builder.save(draft)
    with uow:
        assert uow.diagnoses.get("F90.0").description == "ADHD"
        assert uow.sessions.get(result.session.id).diagnoses[0].code == "F90.0"


def test_save_actions() -> None:
    """SAVE returns the stored session; SAVE_AND_ADD_NOTE names progress notes for the client."""
    builder = _builder()
    result = builder.save(builder.start("c1", DAY))
    assert (result.session.version, result.next_step, result.add_on_draft) == (1, None, None)
    assert result.destinations == {Destination.INSURANCE_CLAIM, Destination.CLIENT_INVOICE}
    noted = builder.save(builder.start("c1", DAY).with_paid_at_session("25"), SaveAction.SAVE_AND_ADD_NOTE)
    assert noted.next_step is not None
    assert (noted.next_step.screen, noted.next_step.client_id) == (PROGRESS_NOTES, "c1")
    assert noted.destinations == {Destination.INSURANCE_CLAIM}


def test_create_add_ons_attaches_lines_to_the_primary() -> None:
    """CREATE_ADD_ONS saves the primary and returns an add-on draft; saving it attaches the lines."""
    uow = _world()
    builder = _builder(uow)
    result = builder.save(builder.start("c1", DAY), SaveAction.CREATE_ADD_ONS)
    add_ons = result.add_on_draft
    assert add_ons is not None
    assert add_ons.primary.id == result.session.id
    add_ons = add_ons.with_add_on("90785").with_add_on("H0004", units=2).with_add_on("90840", charge="50")
    assert [(a.code, a.charge) for a in add_ons.lines] == [
        ("90785", Money("25.00")),
        ("H0004", Money("60.00")),
        ("90840", Money("50.00")),
    ]
    assert [(w.code, w.field) for w in add_ons.warnings] == [
        ("add_on.excluded_pair", "add_ons[0].code"),
        ("add_on.excluded_pair", "add_ons[2].code"),
        ("add_on.excluded_pair", "add_ons[2].code"),
    ]
    add_ons = add_ons.without_add_on(2)
    assert add_ons.warnings == ()
    saved = builder.save_add_ons(add_ons)
    assert saved.session.version == 2
    with uow:
        assert [a.code for a in uow.sessions.get(result.session.id).add_ons] == ["90785", "H0004"]


def test_add_on_rules() -> None:
    """Only add-on codes, at most 4; a code outside the setup needs a charge."""
    draft = _builder().start("c1", DAY)
    with pytest.raises(InvalidValue) as info:
        draft.with_add_on("90837")
    assert (info.value.code, info.value.field) == ("add_on.not_an_add_on", "add_ons[0].code")
    with pytest.raises(NotFound) as info2:
        draft.with_add_on("90863")
    assert info2.value.field == "add_ons[0].charge"
    draft = draft.with_add_on("90863", charge="40")
    full = draft.with_add_on("90785").with_add_on("90785").with_add_on("90785")
    with pytest.raises(InvalidValue) as info3:
        full.with_add_on("90785")
    assert info3.value.field == "add_ons"
    with pytest.raises(InvalidValue):
        full.without_add_on(4)
    assert len(full.without_add_on(0).session.add_ons) == 3
    crisis = draft.with_billing_code("90834").without_add_on(0).with_add_on("90833")
    assert [w.code for w in crisis.warnings] == ["add_on.excluded_pair"]


def test_all_fields_are_settable_with_invariants() -> None:
    """Every screen field can be set; invalid values raise naming the field."""
    draft = (
        _builder()
        .start("c1", DAY)
        .with_modifiers(["95", "hn"])
        .with_place_of_service("10")
        .with_referring_provider(ReferringProvider(first_name="A", last_name="B", npi="1234567893"))
        .with_line_note("per payer")
        .with_resubmission(Resubmission(frequency="7", original_reference="ABC123"))
        .with_overrides(InsuranceOverrides(tax_id="123456789"))
        .with_comments("called twice")
        .with_units(2)
    )
    s = draft.session
    assert [m.code for m in s.modifiers] == ["95", "HN"]
    assert s.place_of_service.code == "10"
    assert s.referring_provider is not None
    assert s.referring_provider.complete
    assert (s.line_note, s.comments, s.resubmission.original_reference) == (
        "per payer",
        "called twice",
        "ABC123",
    )
    assert s.overrides is not None
    assert s.overrides.tax_id == "123456789"
    assert s.units == 2
    with pytest.raises(InvalidValue) as info:
        draft.with_line_note("x" * 81)
    assert info.value.field == "line_note"
    with pytest.raises(InvalidValue):
        draft.with_modifiers(["95", "HN", "GT", "59", "25"])
    with pytest.raises(InvalidValue) as info:
        draft.with_additional_dates([DAY])
    assert (info.value.code, info.value.field) == ("session.dates_repeated", "additional_dates")
    assert draft.with_referring_provider(None).with_overrides(None).session.overrides is None


def test_eob_lock_on_edit_and_on_save() -> None:
    """After an EOB is posted, paid-at-session cannot change, at the edit or at the save."""
    builder = _builder()
    saved = builder.save(builder.start("c1", DAY).with_paid_at_session("25")).session
    stale = builder.open(saved.id)
    posted = builder.mark_eob_posted(saved.id)
    assert (posted.status, posted.version) == (SessionStatus.EOB_POSTED, 2)
    assert builder.mark_eob_posted(saved.id) == posted
    draft = builder.open(saved.id)
    with pytest.raises(SessionLocked) as info:
        draft.with_paid_at_session("30")
    assert info.value.field == "paid_at_session"
    assert draft.with_paid_at_session("25").session.paid_at_session == Money("25")
    sneaky = attrs.evolve(draft, session=attrs.evolve(draft.session, paid_at_session=Money("30")))
    with pytest.raises(SessionLocked):
        builder.save(sneaky)
    with pytest.raises(ConcurrentUpdate):
        builder.save(stale.with_comments("late edit"))
    kept = builder.save(draft.with_comments("after EOB")).session
    assert (kept.status, kept.paid_at_session, kept.comments) == (
        SessionStatus.EOB_POSTED,
        Money("25"),
        "after EOB",
    )


@given(st.lists(st.decimals(0, 300, places=2), min_size=1, max_size=5))
def test_locked_paid_at_session_never_changes(amounts: list[Decimal]) -> None:
    """Whatever amounts are tried after the EOB, the stored paid-at-session stays as it was."""
    uow = _world()
    builder = _builder(uow)
    saved = builder.save(builder.start("c1", DAY).with_paid_at_session("25")).session
    builder.mark_eob_posted(saved.id)
    for amount in amounts:
        draft = builder.open(saved.id)
        try:
            draft = draft.with_paid_at_session(amount)
        except SessionLocked:
            assert Money(amount) != Money("25")
        builder.save(draft)
        with uow:
            assert uow.sessions.get(saved.id).paid_at_session == Money("25")


def test_open_and_edit_a_saved_session() -> None:
    """open gives a draft of the stored session; saving it bumps the version and keeps the id."""
    builder = _builder()
    first = builder.save(builder.start("c1", DAY)).session
    draft = builder.open(first.id)
    assert not draft.is_new
    assert draft.authorizations[0].used == 1
    again = builder.save(draft.with_minutes(50)).session
    assert (again.id, again.version, again.minutes) == (first.id, 2, 50)
    with pytest.raises(NotFound):
        builder.open("missing")


def test_builder_accepts_a_unit_of_work_factory() -> None:
    """A factory of fresh units of work over one store works like a shared unit."""
    store = MemoryStore()
    _world(store)
    builder = SessionBuilder(lambda: InMemoryUnitOfWork(store), SystemClock("America/New_York"))
    result = builder.save(builder.start("c2", DAY), SaveAction.SAVE)
    assert store.sessions[result.session.id].version == 1
    assert isinstance(builder.start("c2"), SessionDraft)


def test_destinations_on_the_draft() -> None:
    """The draft says where the session would be billed."""
    draft = _builder().start("c1", DAY)
    assert draft.destinations == {Destination.INSURANCE_CLAIM, Destination.CLIENT_INVOICE}
    assert draft.with_bill_to(BillTo.CLIENT).destinations == {Destination.CLIENT_INVOICE}


def test_clocks() -> None:
    """SystemClock reads the practice zone; FixedClock is stopped and refuses datetimes."""
    clock = SystemClock("America/New_York")
    assert clock.now().tzinfo is not None
    assert abs((clock.today() - clock.now().date()).days) <= 1
    assert repr(clock) == "SystemClock('America/New_York')"
    fixed = FixedClock(DAY, time_zone="America/New_York")
    assert (fixed.today(), fixed.now().hour, repr(fixed)) == (DAY, 9, "FixedClock(datetime.date(2026, 3, 2))")
    from datetime import datetime

    with pytest.raises(InvalidValue):
        FixedClock(datetime(2026, 3, 2))


def test_paid_at_session_is_recorded_in_the_ledger_on_save() -> None:
    """Saving a paid-at-session amount records it in the ledger; an edit corrects it; extra dates get their own."""
    uow = _world()
    builder = _builder(uow)
    draft = builder.start("c1", DAY).with_paid_at_session("25", method="check", reference="1042")
    draft = draft.with_additional_dates([DAY + timedelta(days=7)])
    result = builder.save(draft)
    with uow:
        for s in result.sessions:
            assert ledger_paid_at_session(uow, s.id) == Money("25") == s.paid_at_session
        (entry,) = uow.payments.for_session(result.session.id)
    assert (entry.method.value, entry.reference, entry.at_session) == ("check", "1042", True)
    edited = builder.save(
        builder.open(result.session.id).with_paid_at_session("20", method="check", reference="1042")
    )
    assert edited.session.version == 2  # one save: the ledger follows, the session is not saved twice
    with uow:
        assert ledger_paid_at_session(uow, result.session.id) == Money("20")
        (entry,) = uow.payments.for_session(result.session.id)
        assert entry.amount == Money("20")
    untouched = builder.save(builder.open(result.session.id).with_comments("no money change"))
    with uow:
        assert len(uow.payments.for_session(untouched.session.id)) == 1


def test_pay_now_on_the_entry_screen() -> None:
    """Pay Now saves the draft, charges once per key, and adds the payment to paid at session."""
    uow = _world()
    gateway = TestGateway()
    builder = SessionBuilder(uow, FixedClock(DAY), gateway)
    draft = builder.start("c1", DAY).with_paid_at_session("5")
    paid = builder.pay_now(draft, "20", token=APPROVE, idempotency_key="visit-1")
    assert paid.payment.status is PaymentStatus.RECEIVED
    assert paid.payment.at_session
    assert paid.draft.session.paid_at_session == Money("25")
    again = builder.pay_now(draft, "20", token=APPROVE, idempotency_key="visit-1")  # a double click
    assert again.payment == paid.payment
    assert gateway.money_moved("visit-1") == 1
    assert again.draft.session.paid_at_session == Money("25")
    fresh = builder.start("c1", DAY + timedelta(days=1))
    with pytest.raises(PaymentDeclined) as info:
        builder.pay_now(fresh, "20", token=DECLINE_EXPIRED_CARD, idempotency_key="visit-2")
    assert info.value.reason_code == "expired_card"
    with uow:
        assert uow.sessions.find(fresh.session.id) is None  # nothing saved with a declined charge
    with pytest.raises(InvalidValue) as no_gateway:
        _builder(uow).pay_now(fresh, "20", token=APPROVE, idempotency_key="visit-3")
    assert no_gateway.value.code == "builder.no_gateway"
