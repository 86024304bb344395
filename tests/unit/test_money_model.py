"""The money-in model: payments, adjudications, and the account arithmetic over them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit.domain import ClientSession
from sessionkit.domain.payments import (
    Adjudication,
    Adjustment,
    AdjustmentGroup,
    LineAdjudication,
    Payment,
    PaymentApplication,
    PaymentStatus,
)
from sessionkit.errors import InvalidValue
from sessionkit.facts import account

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
cents = st.integers(min_value=1, max_value=10_000_00).map(lambda c: Decimal(c) / 100)
signed_cents = st.integers(min_value=-10_000_00, max_value=10_000_00).map(lambda c: Decimal(c) / 100)


def _payment(amount: object = "50", **kw: object) -> Payment:
    fields: dict[str, object] = {
        "id": "p1",
        "client_id": "c1",
        "amount": amount,
        "method": "cash",
        "received_at": NOW,
    }
    fields.update(kw)
    return Payment(**fields)  # type: ignore[arg-type]


def _adjudication(lines: tuple[LineAdjudication, ...], **kw: object) -> Adjudication:
    fields: dict[str, object] = {
        "id": "a1",
        "claim_record_id": "r1",
        "client_id": "c1",
        "payer_id": "p1",
        "patient_control_number": "SK0000000001",
        "status_code": "1",
        "charge": sum((line.charge for line in lines), Decimal("0.00")),
        "paid": sum((line.paid for line in lines), Decimal("0.00")),
        "lines": lines,
        "paid_on": date(2026, 3, 20),
        "source_key": "835:p1:T1:SK0000000001:1",
        "posted_at": NOW,
    }
    fields.update(kw)
    return Adjudication(**fields)  # type: ignore[arg-type]


@given(amount=cents, parts=st.lists(cents, max_size=4))
def test_a_payment_applies_at_most_its_amount_and_the_rest_is_credit(
    amount: Decimal, parts: list[Decimal]
) -> None:
    """What a payment does not apply to sessions is left on account; it never applies more than it is."""
    applied = [PaymentApplication(session_id=f"s{i}", amount=a) for i, a in enumerate(parts)]
    if sum(parts, Decimal(0)) > amount:
        with pytest.raises(InvalidValue) as info:
            _payment(amount, applied=applied)
        assert (info.value.code, info.value.field) == ("payment.over_applied", "applied")
        return
    payment = _payment(amount, applied=applied)
    assert payment.applied_total == sum(parts, Decimal("0.00"))
    assert payment.unapplied == amount - payment.applied_total
    assert [payment.applied_to(f"s{i}") for i in range(len(parts))] == parts
    assert payment.applied_to("elsewhere") == Decimal("0.00")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"amount": "0"}, "payment.zero", "amount"),
        ({"amount": "-5"}, "money.negative", "amount"),
        ({"method": "bitcoin"}, "payment.method", "method"),
        ({"status": "lost"}, "payment.status", "status"),
        ({"received_at": datetime(2026, 3, 2, 9)}, "value.type", "received_at"),
        (
            {"applied": [PaymentApplication(session_id="s1", amount="1")] * 2},
            "payment.session_twice",
            "applied",
        ),
    ],
)
def test_a_bad_payment_names_the_field(fields: dict[str, object], code: str, field: str) -> None:
    """Each refusal carries a stable code and the field, and never the value."""
    with pytest.raises(InvalidValue) as info:
        _payment(**fields)
    assert (info.value.code, info.value.field) == (code, field)


def test_only_received_payments_count() -> None:
    """A pending or declined card charge is on the ledger but reduces nothing."""
    assert [_payment(status=s).counts for s in PaymentStatus] == [True, False, False, False]


def test_adjustments_split_into_what_the_client_owes_and_what_is_written_off() -> None:
    """PR adjustments are the client's; CO, OA, PI and CR are written off; claim and line level add up."""
    line = LineAdjudication(
        session_id="s1",
        code="90834",
        charge="140.00",
        paid="80.00",
        allowed="110.00",
        adjustments=(
            Adjustment(group="CO", reason="45", amount="30.00"),
            Adjustment(group="PR", reason="2", amount="20.00"),
            Adjustment(group="PR", reason="3", amount="10.00"),
        ),
    )
    adjudication = _adjudication(
        (line,), adjustments=(Adjustment(group=AdjustmentGroup.OA, reason="23", amount="1.50"),)
    )
    assert line.patient_responsibility == Decimal("30.00")
    assert line.written_off == Decimal("30.00")
    assert adjudication.client_owes == Decimal("30.00")
    assert adjudication.written_off == Decimal("31.50")
    assert adjudication.lines_for("s1") == (line,)
    assert adjudication.lines_for("s2") == ()
    assert (adjudication.denied, adjudication.reversal) == (False, False)
    assert _adjudication((line,), status_code="22").reversal
    assert _adjudication((line,), status_code="4").denied


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: Adjustment(group="XX", reason="45", amount="1"), "adjustment.group"),
        (lambda: Adjustment(group="CO", reason="4-5", amount="1"), "adjustment.reason"),
        (lambda: Adjustment(group="CO", reason="45", amount="1.001"), "money.precision"),
        (lambda: Adjustment(group="CO", reason="45", amount="NaN"), "money.invalid"),
        (lambda: _adjudication((), status_code="A1"), "adjudication.status"),
    ],
)
def test_bad_remittance_values_are_refused(make: object, code: str) -> None:
    """Group, reason and status codes are checked; amounts keep two places."""
    with pytest.raises(InvalidValue) as info:
        make()  # type: ignore[operator]
    assert info.value.code == code


def test_a_reversal_carries_negative_amounts() -> None:
    """Payers' files hold negative amounts (reversals); they are kept signed."""
    line = LineAdjudication(session_id="s1", code="90834", charge="-140.00", paid="-80.00")
    assert _adjudication((line,), status_code="22").paid == Decimal("-80.00")


@given(
    charges=st.lists(cents, min_size=1, max_size=5),
    paid=st.lists(signed_cents, max_size=3),
    co=st.lists(cents, max_size=3),
    pr=st.lists(cents, max_size=3),
    client=st.lists(st.tuples(cents, st.sampled_from(list(PaymentStatus))), max_size=4),
)
def test_the_balance_is_charges_less_payer_payments_write_offs_and_client_payments(
    charges: list[Decimal],
    paid: list[Decimal],
    co: list[Decimal],
    pr: list[Decimal],
    client: list[tuple[Decimal, PaymentStatus]],
) -> None:
    """facts.account: PR adjustments stay owed, other adjustments are written off, pending pays nothing."""
    sessions = [
        ClientSession(client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge=c)
        for c in charges
    ]
    adjudications = [
        _adjudication(
            (
                LineAdjudication(
                    session_id=sessions[0].id,
                    code="90834",
                    charge="1.00",
                    paid=p,
                    adjustments=[Adjustment(group="CO", reason="45", amount=a) for a in co]
                    + [Adjustment(group="PR", reason="1", amount=a) for a in pr],
                ),
            ),
            id=f"a{i}",
            source_key=f"k{i}",
        )
        for i, p in enumerate(paid)
    ]
    payments = [_payment(a, id=f"p{i}", status=s) for i, (a, s) in enumerate(client)]
    result = account(sessions, adjudications, payments)
    expected = (
        sum(charges, Decimal(0))
        - sum(paid, Decimal(0))
        - len(paid) * sum(co, Decimal(0))
        - sum((a for a, s in client if s is PaymentStatus.RECEIVED), Decimal(0))
    )
    assert result.balance == expected
    assert result.client_paid == sum((a for a, s in client if s is PaymentStatus.RECEIVED), Decimal(0))


def test_the_demo_practice_keeps_paid_at_session_in_the_ledger() -> None:
    """Every demo session's paid-at-session figure is what the ledger applies to it, and nothing else pays."""
    from sessionkit.adapters.memory import InMemoryUnitOfWork
    from sessionkit.demo import demo_setup, seed_demo
    from sessionkit.payments import ledger_paid_at_session

    uow = InMemoryUnitOfWork()
    assert seed_demo(uow)
    expected = {s.id: s.paid_at_session for s in demo_setup().sessions}
    with uow:
        stored = {s.id: s.paid_at_session for s in uow.sessions.list()}
        ledger = {sid: ledger_paid_at_session(uow, sid) for sid in stored}
        total = sum((p.amount.amount for p in uow.payments.list()), Decimal("0.00"))
    assert stored == expected
    assert ledger == stored
    assert total == sum((v.amount for v in expected.values()), Decimal("0.00")) > 0
