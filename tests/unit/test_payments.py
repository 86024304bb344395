"""The payments service: the ledger, Pay Now through a gateway, paid at session, credits, the client's figures."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import ClientSession, Coverage
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.domain import Client, SessionStatus
from sessionkit.domain.payments import (
    Adjudication,
    Adjustment,
    LineAdjudication,
    PaymentMethod,
    PaymentStatus,
)
from sessionkit.errors import AlreadyExists, InvalidValue, NotFound, SessionLocked
from sessionkit.facts import client_responsibility
from sessionkit.money import Money
from sessionkit.payments import (
    CardNumberRefused,
    ChargeOutcome,
    ChargeResult,
    PaymentDeclined,
    PaymentGateway,
    apply_credit,
    client_account,
    is_card_number,
    ledger_paid_at_session,
    pay_now,
    record_payment,
    resolve_pending,
    set_paid_at_session,
)
from sessionkit.testing.gateway import (
    APPROVE,
    DECLINE_EXPIRED_CARD,
    DECLINE_INSUFFICIENT_FUNDS,
    TIMEOUT_APPROVE,
    TIMEOUT_DECLINE,
    TIMEOUT_LOST,
    TestGateway,
)

NOW = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
DAY = date(2026, 3, 2)
COV = Coverage(
    id="k1", client_id="c1", payer_id="p1", member_id="M100", effective=date(2026, 1, 1), copay="25"
)


def _world() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork().seed(
        clients=[
            Client(id="c1", first_name="Ada", last_name="Byron"),
            Client(id="c2", first_name="Alan", last_name="Turing"),
        ],
        coverages=[COV],
    )
    with uow:
        for sid, cid in (("s1", "c1"), ("s2", "c1"), ("s3", "c2")):
            uow.sessions.save(
                ClientSession(id=sid, client_id=cid, date_of_service=DAY, billing_code="90834", charge="140")
            )
        uow.commit()
    return uow


def _eob(
    sid: str = "s1", *, pr: str = "40", paid: str = "80", key: str = "eob-1", status: str = "1"
) -> Adjudication:
    sign = Decimal(-1) if status == "22" else Decimal(1)
    charge = Decimal("140") * sign
    co = charge - Decimal(paid) - Decimal(pr)
    return Adjudication(
        id=key,
        claim_record_id="r1",
        client_id="c1",
        payer_id="p1",
        patient_control_number="SK0000000001",
        status_code=status,
        charge=charge,
        paid=paid,
        lines=[
            LineAdjudication(
                session_id=sid,
                code="90834",
                charge=charge,
                paid=paid,
                adjustments=[
                    Adjustment(group="CO", reason="45", amount=co),
                    Adjustment(group="PR", reason="3", amount=pr),
                ],
            )
        ],
        paid_on=date(2026, 4, 1),
        source_key=key,
        posted_at=datetime(2026, 4, 2, tzinfo=timezone.utc),
    )


def _pay(uow: InMemoryUnitOfWork, gateway: TestGateway, token: str, key: str, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"client_id": "c1", "amount": "25", "apply_to": ("s1",), "now": NOW, **kw}
    return pay_now(uow, gateway, token=token, idempotency_key=key, **args)  # type: ignore[arg-type]


# -- the gateway port and the test gateway ------------------------------------------------------------


def test_test_gateway_satisfies_the_port_and_is_idempotent_on_the_key() -> None:
    """Asked twice with a key, the test gateway answers the first outcome and moves money once."""
    gateway = TestGateway()
    assert isinstance(gateway, PaymentGateway)
    first = gateway.charge(Money("25"), APPROVE, "k1")
    again = gateway.charge(Money("25"), APPROVE, "k1")
    assert first == again
    assert first.outcome is ChargeOutcome.APPROVED
    assert gateway.money_moved("k1") == 1
    assert gateway.charge_counts()["k1"] == 2
    other = gateway.charge(Money("30"), APPROVE, "k1")
    assert (other.outcome, other.decline_code) == (ChargeOutcome.DECLINED, "idempotency_key_in_use")
    assert gateway.lookup("nothing") == ChargeResult.declined(
        "no_such_charge", "no charge was made with this key"
    )


def test_charge_result_carries_a_charge_id_only_when_approved() -> None:
    """An approved result has the charge id; declined and unknown ones have none."""
    with pytest.raises(InvalidValue) as info:
        ChargeResult(outcome="approved")
    assert info.value.code == "charge.charge_id"
    with pytest.raises(InvalidValue):
        ChargeResult(outcome="declined", charge_id="ch_1")
    assert ChargeResult.unknown().charge_id is None


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4242424242424242", True),
        ("4242 4242 4242 4242", True),
        ("4242-4242-4242-4242", True),
        ("378282246310005", True),  # 15 digits (Amex test number)
        ("4242424242424241", False),  # Luhn fails
        ("424242424242", False),  # 12 digits
        ("tok_visa", False),
        ("", False),
    ],
)
def test_card_numbers_are_recognised(text: str, card: bool) -> None:
    """13-19 digits passing Luhn (spaces and hyphens aside) look like a card number; tokens do not."""
    assert is_card_number(text) is card


def test_a_card_number_is_refused_without_echoing_it() -> None:
    """A card number given as the token is refused before any charge; the error never repeats it."""
    uow, gateway = _world(), TestGateway()
    with uow, pytest.raises(CardNumberRefused) as info:
        _pay(uow, gateway, "4242 4242 4242 4242", "k1")
    assert (info.value.code, info.value.field) == ("payment.card_number", "token")
    assert "4242" not in str(info.value)
    assert "4242" not in repr(info.value.args)
    assert gateway.calls == []
    with uow, pytest.raises(CardNumberRefused):
        record_payment(uow, client_id="c1", amount="5", method="check", now=NOW, reference="4000056655665556")


# -- Pay Now -------------------------------------------------------------------------------------------


def test_pay_now_approved_records_a_received_card_payment() -> None:
    """Approved: a received card payment referencing the charge id, applied to the session."""
    uow, gateway = _world(), TestGateway()
    with uow:
        payment = _pay(uow, gateway, APPROVE, "k1")
        uow.commit()
    assert (payment.status, payment.method, payment.reference) == (
        PaymentStatus.RECEIVED,
        PaymentMethod.CARD,
        gateway.approved()["k1"][0],
    )
    assert payment.applied_to("s1") == Decimal("25.00")
    assert payment.idempotency_key == "k1"
    assert not payment.at_session
    with uow:
        assert uow.payments.by_idempotency_key("k1") == payment


@pytest.mark.parametrize(
    ("token", "code"),
    [(DECLINE_INSUFFICIENT_FUNDS, "insufficient_funds"), (DECLINE_EXPIRED_CARD, "expired_card")],
)
def test_pay_now_declined_records_nothing_and_says_why(token: str, code: str) -> None:
    """Declined: nothing in the ledger; PaymentDeclined carries the gateway's reason, and pickles."""
    uow, gateway = _world(), TestGateway()
    with uow:
        with pytest.raises(PaymentDeclined) as info:
            _pay(uow, gateway, token, "k1")
        assert uow.payments.list() == []
    error = info.value
    assert (error.code, error.field, error.reason_code) == ("payment.declined", "token", code)
    assert error.reason
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.reason_code) == ("payment.declined", code)
    with uow, pytest.raises(PaymentDeclined):  # a retry with the key gets the same answer, no new charge
        _pay(uow, gateway, token, "k1")
    assert gateway.money_moved("k1") == 0


def test_timeout_is_pending_then_resolved_approved_without_a_second_charge() -> None:
    """A timeout records a pending payment that counts nothing; resolving asks again and never charges."""
    uow, gateway = _world(), TestGateway()
    with uow:
        pending = _pay(uow, gateway, TIMEOUT_APPROVE, "k1")
        uow.commit()
    assert (pending.status, pending.reference) == (PaymentStatus.PENDING, None)
    with uow:
        assert client_account(uow, "c1").client_paid == Decimal("0.00")
        retried = _pay(uow, gateway, TIMEOUT_APPROVE, "k1")  # the retry resolves it by lookup
        uow.commit()
    assert retried.status is PaymentStatus.RECEIVED
    assert retried.id == pending.id
    assert gateway.charge_counts()["k1"] == 1
    assert gateway.money_moved("k1") == 1
    with uow:
        assert client_account(uow, "c1").client_paid == Decimal("25.00")
        assert resolve_pending(uow, gateway) == []


def test_resolve_pending_settles_each_pending_payment() -> None:
    """resolve_pending: approved ones become received, declined ones declined; unknown stay pending."""
    uow, gateway = _world(), TestGateway()
    with uow:
        a = _pay(uow, gateway, TIMEOUT_APPROVE, "ka")
        d = _pay(uow, gateway, TIMEOUT_DECLINE, "kd")
        lost = _pay(uow, gateway, TIMEOUT_LOST, "kl")
        uow.commit()
    assert {a.status, d.status, lost.status} == {PaymentStatus.PENDING}
    with uow:
        resolved = {p.id: p for p in resolve_pending(uow, gateway)}
        uow.commit()
    assert resolved[a.id].status is PaymentStatus.RECEIVED
    assert resolved[a.id].reference
    assert resolved[d.id].status is PaymentStatus.DECLINED
    assert resolved[lost.id].status is PaymentStatus.DECLINED  # the processor never had it
    with uow:
        assert uow.payments.pending() == []
        assert client_account(uow, "c1").client_paid == Decimal("25.00")
        with pytest.raises(PaymentDeclined):  # a retry of a charge resolved declined says so
            _pay(uow, gateway, TIMEOUT_DECLINE, "kd")
    assert sum(gateway.money_moved(k) for k in ("ka", "kd", "kl")) == 1


class _UnknownGateway:
    """A gateway that never answers (always raises)."""

    def charge(self, amount: Money, token: str, idempotency_key: str) -> ChargeResult:
        raise ConnectionError("down")

    def lookup(self, idempotency_key: str) -> ChargeResult:
        raise ConnectionError("down")


def test_a_gateway_error_is_unknown_and_stays_pending() -> None:
    """Any exception from the gateway means unknown: pending, and resolving leaves it pending."""
    uow = _world()
    with uow:
        payment = _pay(uow, _UnknownGateway(), APPROVE, "k1")
        assert payment.status is PaymentStatus.PENDING
        assert resolve_pending(uow, _UnknownGateway()) == []
        assert uow.payments.get(payment.id).status is PaymentStatus.PENDING


def test_a_key_reused_for_another_charge_is_refused() -> None:
    """The same idempotency key with another amount or client is refused, and nothing is charged."""
    uow, gateway = _world(), TestGateway()
    with uow:
        _pay(uow, gateway, APPROVE, "k1")
        with pytest.raises(InvalidValue) as info:
            _pay(uow, gateway, APPROVE, "k1", amount="30")
    assert (info.value.code, info.value.field) == ("payment.idempotency_key_reused", "idempotency_key")
    assert gateway.charge_counts()["k1"] == 1


def test_pay_now_refuses_bad_input_before_charging() -> None:
    """Zero amounts, another client's session, an unknown session: refused, nothing charged."""
    uow, gateway = _world(), TestGateway()
    with uow:
        with pytest.raises(InvalidValue) as info:
            _pay(uow, gateway, APPROVE, "k1", amount="0")
        assert info.value.code == "payment.zero"
        with pytest.raises(InvalidValue) as info:
            _pay(uow, gateway, APPROVE, "k2", apply_to=("s3",))
        assert (info.value.code, info.value.field) == ("payment.other_client", "apply_to[0]")
        with pytest.raises(NotFound) as missing:
            _pay(uow, gateway, APPROVE, "k3", apply_to=("nope",))
        assert missing.value.field == "apply_to[0]"
        with pytest.raises(InvalidValue) as info:
            _pay(uow, gateway, APPROVE, "k4", apply_to=("s1", "s2"), at_session=True)
        assert info.value.code == "payment.at_session"
        with pytest.raises(InvalidValue) as info:
            _pay(uow, gateway, APPROVE, "k5", apply_to="s1")  # one id is not a sequence of ids
        assert (info.value.code, info.value.field) == ("value.type", "apply_to")
    assert gateway.calls == []


def test_over_payment_is_left_on_account_and_applied_later() -> None:
    """A payment above what the sessions owe leaves the rest as a credit; apply_credit uses it later."""
    uow, gateway = _world(), TestGateway()
    with uow:
        payment = _pay(uow, gateway, APPROVE, "k1", amount="40")  # s1 owes 25 (the copay)
        assert (payment.applied_to("s1"), payment.unapplied) == (Decimal("25.00"), Decimal("15.00"))
        applied = apply_credit(uow, payment.id, ["s1", "s2"])
        assert (applied.applied_to("s2"), applied.unapplied) == (Decimal("15.00"), Decimal("0.00"))
        assert apply_credit(uow, payment.id, ["s2"]) == applied  # nothing left: unchanged
        cash = record_payment(uow, client_id="c1", amount="100", method="cash", now=NOW, apply_to=["s2"])
        assert (cash.applied_to("s2"), cash.unapplied) == (Decimal("10.00"), Decimal("90.00"))


def test_apply_credit_needs_a_received_payment() -> None:
    """A pending card charge cannot be applied to sessions."""
    uow, gateway = _world(), TestGateway()
    with uow:
        pending = _pay(uow, gateway, TIMEOUT_APPROVE, "k1", apply_to=())
        with pytest.raises(InvalidValue) as info:
            apply_credit(uow, pending.id, ["s1"])
    assert info.value.code == "payment.not_received"


# -- paid at session ------------------------------------------------------------------------------------


def test_paid_at_session_and_the_ledger_stay_equal_through_corrections() -> None:
    """Raising, lowering and zeroing paid at session keeps the ledger's at-session payments equal to it."""
    uow = _world()
    with uow:
        for amount, method in (
            ("25", "cash"),
            ("30", "cash"),
            ("40", "check"),
            ("10", "cash"),
            ("0", "cash"),
        ):
            session = set_paid_at_session(uow, "s1", amount, method=method, now=NOW)
            assert session.paid_at_session == Money(amount)
            assert ledger_paid_at_session(uow, "s1") == Money(amount)
            assert uow.sessions.get("s1").paid_at_session == Money(amount)
        uow.commit()
        statuses = sorted(p.status.value for p in uow.payments.for_client("c1"))
    assert "void" in statuses  # an entry corrected to nothing is kept, voided


def test_pay_now_at_session_adds_to_paid_at_session() -> None:
    """Pay Now at the session applies the whole amount and raises paid at session once received."""
    uow, gateway = _world(), TestGateway()
    with uow:
        set_paid_at_session(uow, "s1", "10", now=NOW)
        _pay(uow, gateway, APPROVE, "k1", amount="30", at_session=True)
        assert uow.sessions.get("s1").paid_at_session == Money("40")
        _pay(uow, gateway, TIMEOUT_APPROVE, "k2", amount="5", at_session=True, now=NOW + timedelta(minutes=1))
        assert uow.sessions.get("s1").paid_at_session == Money("40")  # pending counts nothing yet
        resolve_pending(uow, gateway)
        assert uow.sessions.get("s1").paid_at_session == Money("45") == ledger_paid_at_session(uow, "s1")
        # lowering below the card charges moves their money to the account; it is not un-charged
        set_paid_at_session(uow, "s1", "20", now=NOW)
        assert ledger_paid_at_session(uow, "s1") == Money("20")
        assert client_account(uow, "c1").client_paid == Decimal("35.00")  # the 10.00 cash entry is voided
        first = uow.payments.by_idempotency_key("k1")
        moved = uow.payments.by_idempotency_key("k2")
        assert first is not None
        assert moved is not None
        assert (first.applied_to("s1"), first.unapplied, first.at_session) == (
            Decimal("20.00"),
            Decimal("10.00"),
            True,
        )
        assert (moved.applied, moved.at_session) == ((), False)  # wholly on account: an ordinary credit
        assert apply_credit(uow, moved.id, ["s2"]).applied_to("s2") == Decimal("5.00")
        with pytest.raises(InvalidValue) as info:
            apply_credit(uow, first.id, ["s2"])
        assert info.value.code == "payment.at_session"


def test_paid_at_session_is_locked_once_the_eob_is_posted() -> None:
    """After the EOB: set_paid_at_session and Pay Now at session refuse; a charge resolved later goes on account."""
    uow, gateway = _world(), TestGateway()
    with uow:
        set_paid_at_session(uow, "s1", "25", now=NOW)
        pending = _pay(uow, gateway, TIMEOUT_APPROVE, "k1", amount="5", at_session=True)
        s1 = uow.sessions.get("s1")
        uow.sessions.save(attrs.evolve(s1, status=SessionStatus.EOB_POSTED))
        with pytest.raises(SessionLocked) as info:
            set_paid_at_session(uow, "s1", "30", now=NOW)
        assert (info.value.code, info.value.field) == ("session.locked", "paid_at_session")
        with pytest.raises(SessionLocked):
            _pay(uow, gateway, APPROVE, "k2", at_session=True)
        assert set_paid_at_session(uow, "s1", "25", now=NOW).paid_at_session == Money(
            "25"
        )  # unchanged is fine
        (resolved,) = resolve_pending(uow, gateway)
        assert resolved.id == pending.id
        assert resolved.status is PaymentStatus.RECEIVED
        assert not resolved.at_session
        assert resolved.applied_to("s1") == Decimal("5.00")
        assert uow.sessions.get("s1").paid_at_session == Money("25") == ledger_paid_at_session(uow, "s1")
    assert "k2" not in gateway.charge_counts()


# -- what the client owes ----------------------------------------------------------------------------------


def test_client_responsibility_follows_the_eob_and_its_reversal() -> None:
    """Before the EOB the copay; after, the PR adjustments; a reversal alone goes back to the estimate."""
    uow = _world()
    with uow:
        s1 = uow.sessions.get("s1")
    assert client_responsibility(s1, [COV], []) == Money("25")
    first = _eob(pr="40")
    assert client_responsibility(s1, [COV], [first]) == Money("40")
    reversal = _eob(pr="-40", paid="-80", key="rev-1", status="22")
    assert client_responsibility(s1, [COV], [first, reversal]) == Money("25")
    again = _eob(pr="15", paid="105", key="eob-2")
    assert client_responsibility(s1, [COV], [first, reversal, again]) == Money("15")
    other_payer = attrs.evolve(first, payer_id="p9")
    assert client_responsibility(s1, [COV], [other_payer]) == Money("25")
    billed_to_client = attrs.evolve(s1, bill_to="client")
    assert client_responsibility(billed_to_client, [COV], [first]) == Money("140")


@settings(max_examples=30, deadline=None)
@given(
    amounts=st.lists(st.decimals(1, 200, places=2), min_size=1, max_size=4),
    pr=st.decimals(0, 140, places=2),
)
def test_the_account_balance_is_what_the_client_owes_after_the_eob(
    amounts: list[Decimal], pr: Decimal
) -> None:
    """Once the payer paid and wrote off the rest, the balance is the PR amount less the client's payments."""
    uow = _world()
    paid = Decimal("140") - pr - Decimal("20")
    with uow:
        for amount in amounts:
            record_payment(uow, client_id="c2", amount=amount, method="cash", now=NOW, apply_to=["s3"])
        eob = attrs.evolve(_eob("s3", pr=str(pr), paid=str(max(paid, Decimal(0)))), client_id="c2")
        if paid < 0:  # the PR amount leaves less than the 20.00 write-off: write off less
            eob = attrs.evolve(_eob("s3", pr=str(pr), paid="0"), client_id="c2")
        uow.adjudications.add(eob)
        got = client_account(uow, "c2")
    assert got.balance == pr - sum(amounts, Decimal("0.00"))


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@settings(max_examples=40, deadline=None)
@given(body=st.text("0123456789", min_size=12, max_size=18), sep=st.sampled_from(["", " ", "-"]))
def test_every_luhn_valid_number_is_refused_and_never_echoed(body: str, sep: str) -> None:
    """Any 13-19 digit Luhn-valid number (with or without separators) is refused as a token, unrepeated."""
    number = body + _luhn_digit(body)
    text = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    assert is_card_number(text)
    uow, gateway = _world(), TestGateway()
    with uow, pytest.raises(CardNumberRefused) as info:
        _pay(uow, gateway, text, "k1")
    assert number not in str(info.value)
    assert number[-4:] not in info.value.message
    assert gateway.calls == []


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: sum(c.isdigit() for c in t) < 13))
def test_text_with_fewer_than_13_digits_is_never_a_card_number(text: str) -> None:
    """Tokens and references with fewer than 13 digits are never taken for a card number."""
    assert not is_card_number(text)


def test_two_pay_nows_at_once_with_a_key_record_one_payment() -> None:
    """Two units of work charging with one key: the money moves once, one commit wins, a retry gets it."""
    uow, gateway = _world(), TestGateway()
    other = InMemoryUnitOfWork(uow.store)
    with uow, other:
        first = _pay(uow, gateway, APPROVE, "k1")
        second = _pay(other, gateway, APPROVE, "k1")
        uow.commit()
        with pytest.raises(AlreadyExists) as info:
            other.commit()
    assert info.value.code == "payment.idempotency_key_taken"
    assert first.reference == second.reference
    assert gateway.money_moved("k1") == 1
    with uow:
        assert _pay(uow, gateway, APPROVE, "k1") == first
        assert [p.id for p in uow.payments.list()] == [first.id]
        assert client_account(uow, "c1").client_paid == Decimal("25.00")
