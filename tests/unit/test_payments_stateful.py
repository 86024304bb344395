"""The money adds up whatever happens: sessions, cash, Pay Now (approved, declined, timeouts, retries), EOBs,
reversals and corrections in any order, checked against a model that counts on its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sessionkit import ClientSession, Coverage
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.billing import invoice_client, statement
from sessionkit.domain import Client, SessionStatus
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication, PaymentStatus
from sessionkit.errors import SessionLocked
from sessionkit.payments import (
    PaymentDeclined,
    apply_credit,
    client_account,
    ledger_paid_at_session,
    pay_now,
    record_payment,
    resolve_pending,
    set_paid_at_session,
)
from sessionkit.testing.gateway import (
    APPROVE,
    DECLINE_INSUFFICIENT_FUNDS,
    TIMEOUT_APPROVE,
    TIMEOUT_DECLINE,
    TIMEOUT_LOST,
    TestGateway,
)

NOW = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
DAY = date(2026, 3, 2)
CLIENTS = ("c1", "c2")
ZERO = Decimal("0.00")
TOKENS = (APPROVE, APPROVE, DECLINE_INSUFFICIENT_FUNDS, TIMEOUT_APPROVE, TIMEOUT_DECLINE, TIMEOUT_LOST)
AMOUNTS = st.sampled_from([Decimal("5.00"), Decimal("25.00"), Decimal("40.00"), Decimal("99.99")])


@attrs.define
class Key:
    """What the model knows of one Pay Now idempotency key."""

    client: str
    amount: Decimal
    token: str
    session: str | None
    at_session: bool
    status: str  # "received", "pending", "declined" or "none" (declined at once: nothing recorded)


class PaymentsMachine(RuleBasedStateMachine):
    """Random sessions, payments, gateway outcomes, retries, EOBs, reversals, corrections and invoices."""

    @initialize()
    def start(self) -> None:
        self.uow = InMemoryUnitOfWork().seed(
            clients=[Client(id=c, first_name="Ada", last_name="Byron") for c in CLIENTS],
            coverages=[
                Coverage(
                    id="k1",
                    client_id="c1",
                    payer_id="p1",
                    member_id="M1",
                    effective=date(2026, 1, 1),
                    copay="25",
                )
            ],
        )
        self.gateway = TestGateway()
        self.count = 0
        self.sessions: dict[str, tuple[str, Decimal]] = {}  # id -> (client, charge)
        self.locked: set[str] = set()
        self.charges: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.payer_paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.written_off: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.client_paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.by_hand: dict[str, Decimal] = defaultdict(lambda: ZERO)  # paid at session entered by hand
        self.by_card: dict[str, Decimal] = defaultdict(lambda: ZERO)  # paid at session charged by Pay Now
        self.keys: dict[str, Key] = {}
        self.keys_made = 0  # keys are never reused, even when one is forgotten
        self.payment_ids: list[str] = []  # in the order recorded (ids are random: never sort by them)
        self.eobs: dict[str, tuple[Decimal, Decimal, Decimal]] = {}  # session -> (paid, co, pr) standing

    # -- sessions and corrections --------------------------------------------------------------------

    @rule(client=st.sampled_from(CLIENTS), charge=st.sampled_from(["90.00", "140.00", "180.00"]))
    def add_session(self, client: str, charge: str) -> None:
        self.count += 1
        sid = f"s{self.count}"
        with self.uow:
            self.uow.sessions.save(
                ClientSession(
                    id=sid,
                    client_id=client,
                    date_of_service=DAY + timedelta(days=self.count),
                    billing_code="90834",
                    charge=charge,
                )
            )
            self.uow.commit()
        self.sessions[sid] = (client, Decimal(charge))
        self.charges[client] += Decimal(charge)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), charge=st.sampled_from(["100.00", "150.00"]))
    def correct_charge(self, data: st.DataObject, charge: str) -> None:
        """A correction of the session's charge before its EOB."""
        sid = data.draw(st.sampled_from(sorted(self.sessions)))
        if sid in self.eobs:
            return
        client, old = self.sessions[sid]
        with self.uow:
            self.uow.sessions.save(attrs.evolve(self.uow.sessions.get(sid), charge=charge))
            self.uow.commit()
        self.sessions[sid] = (client, Decimal(charge))
        self.charges[client] += Decimal(charge) - old

    @precondition(lambda self: self.sessions)
    @rule(
        data=st.data(),
        amount=st.sampled_from(["0", "10.00", "25.00", "30.00"]),
        method=st.sampled_from(["cash", "check"]),
    )
    def paid_at_session(self, data: st.DataObject, amount: str, method: str) -> None:
        sid = data.draw(st.sampled_from(sorted(self.sessions)))
        client = self.sessions[sid][0]
        target = Decimal(amount)
        current = self.by_hand[sid] + self.by_card[sid]
        with self.uow:
            if sid in self.locked and target != current:
                with pytest.raises(SessionLocked):
                    set_paid_at_session(self.uow, sid, amount, method=method, now=NOW)
                return
            set_paid_at_session(self.uow, sid, amount, method=method, now=NOW)
            self.uow.commit()
        if target >= current:
            self.by_hand[sid] += target - current
            self.client_paid[client] += target - current
            return
        excess = current - target
        from_hand = min(excess, self.by_hand[sid])  # entries by hand are corrected first
        self.by_hand[sid] -= from_hand
        self.client_paid[client] -= from_hand
        self.by_card[sid] -= excess - from_hand  # card money moves to the account: still paid

    # -- payments -------------------------------------------------------------------------------------

    @rule(client=st.sampled_from(CLIENTS), amount=AMOUNTS, data=st.data())
    def cash(self, client: str, amount: Decimal, data: st.DataObject) -> None:
        mine = sorted(s for s, (c, _) in self.sessions.items() if c == client)
        apply_to = data.draw(st.lists(st.sampled_from(mine), unique=True, max_size=2)) if mine else []
        with self.uow:
            paid = record_payment(
                self.uow, client_id=client, amount=amount, method="cash", now=NOW, apply_to=apply_to
            )
            self.payment_ids.append(paid.id)
            self.uow.commit()
        self.client_paid[client] += amount

    @rule(
        client=st.sampled_from(CLIENTS),
        amount=AMOUNTS,
        token=st.sampled_from(TOKENS),
        at_session=st.booleans(),
        data=st.data(),
    )
    def pay_now_new_key(
        self, client: str, amount: Decimal, token: str, at_session: bool, data: st.DataObject
    ) -> None:
        mine = sorted(s for s, (c, _) in self.sessions.items() if c == client)
        if at_session and not mine:
            return
        session = data.draw(st.sampled_from(mine)) if mine else None
        self.keys_made += 1
        key = f"key{self.keys_made}"
        self.keys[key] = Key(client, amount, token, session, at_session, "none")
        self._pay(key)

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def pay_now_retry(self, data: st.DataObject) -> None:
        """The app asks again with a key it used (a retry after a timeout, a double click)."""
        self._pay(data.draw(st.sampled_from(sorted(self.keys))))

    def _pay(self, key: str) -> None:
        k = self.keys[key]
        before = k.status
        apply_to = (k.session,) if k.session is not None else ()
        charged_before = self.gateway.charge_counts()[key]  # a card declined at once was charged once
        with self.uow:
            try:
                payment = pay_now(
                    self.uow,
                    self.gateway,
                    client_id=k.client,
                    amount=k.amount,
                    token=k.token,
                    idempotency_key=key,
                    apply_to=apply_to,
                    now=NOW,
                    at_session=k.at_session,
                )
            except PaymentDeclined:
                self.uow.commit()  # a retry may have resolved a pending charge as declined
                if before == "pending":
                    assert k.token in (TIMEOUT_DECLINE, TIMEOUT_LOST)
                    k.status = "declined"
                elif before == "none":
                    assert k.token == DECLINE_INSUFFICIENT_FUNDS  # declined at once, or again on a retry
                else:
                    assert before == "declined"
                return
            except SessionLocked:
                assert before == "none"
                assert k.at_session
                assert k.session in self.locked
                del self.keys[key]  # nothing recorded with the key
                assert self.gateway.charge_counts()[key] == charged_before  # and nothing charged now
                return
            self.uow.commit()
        if before == "none":
            assert payment.status in (PaymentStatus.RECEIVED, PaymentStatus.PENDING)
            self.payment_ids.append(payment.id)
            if payment.status is PaymentStatus.RECEIVED:
                self._received(k)
            else:
                k.status = "pending"
        elif before == "pending":
            assert payment.status is PaymentStatus.RECEIVED  # looked up again: it went through
            self._received(k)
        else:
            assert before == "received"
            assert payment.status is PaymentStatus.RECEIVED

    def _received(self, k: Key) -> None:
        k.status = "received"
        self.client_paid[k.client] += k.amount
        if k.at_session and k.session is not None and k.session not in self.locked:
            self.by_card[k.session] += k.amount

    @rule()
    def resolve(self) -> None:
        with self.uow:
            resolved = resolve_pending(self.uow, self.gateway)
            self.uow.commit()
        by_key = {p.idempotency_key: p for p in resolved}
        for key, k in self.keys.items():
            if k.status == "pending":
                payment = by_key[key]  # the test gateway always knows by now
                if k.token == TIMEOUT_APPROVE:
                    assert payment.status is PaymentStatus.RECEIVED
                    self._received(k)
                else:
                    assert payment.status is PaymentStatus.DECLINED
                    k.status = "declined"

    @rule(client=st.sampled_from(CLIENTS), data=st.data())
    def apply_a_credit(self, client: str, data: st.DataObject) -> None:
        with self.uow:
            stored = {p.id: p for p in self.uow.payments.for_client(client)}
            credits = [
                pid
                for pid in self.payment_ids
                if pid in stored
                and stored[pid].counts
                and stored[pid].unapplied
                and not stored[pid].at_session
            ]
            mine = sorted(s for s, (c, _) in self.sessions.items() if c == client)
            if not credits or not mine:
                return
            payment = data.draw(st.sampled_from(credits))
            apply_credit(
                self.uow, payment, data.draw(st.lists(st.sampled_from(mine), unique=True, min_size=1))
            )
            self.uow.commit()

    # -- the payer -------------------------------------------------------------------------------------

    @precondition(lambda self: any(c == "c1" for c, _ in self.sessions.values()))
    @rule(
        data=st.data(),
        paid=st.sampled_from(["0", "50.00", "80.00"]),
        pr=st.sampled_from(["0", "25.00", "40.00"]),
    )
    def post_eob(self, data: st.DataObject, paid: str, pr: str) -> None:
        """A hand-entered EOB: the payer's adjudication of one session; the session is locked."""
        sid = data.draw(st.sampled_from(sorted(s for s, (c, _) in self.sessions.items() if c == "c1")))
        if sid in self.eobs and self.eobs[sid] != (ZERO, ZERO, ZERO):
            return  # adjudicated and standing: a new one comes after a reversal
        charge = self.sessions[sid][1]
        co = charge - Decimal(paid) - Decimal(pr)
        self._adjudicate(sid, charge, Decimal(paid), co, Decimal(pr), status="1")
        self.eobs[sid] = (Decimal(paid), co, Decimal(pr))

    @precondition(lambda self: any(v != (ZERO, ZERO, ZERO) for v in self.eobs.values()))
    @rule(data=st.data())
    def reverse_eob(self, data: st.DataObject) -> None:
        """The payer reverses its payment (CLP02 = 22): negative amounts."""
        sid = data.draw(st.sampled_from(sorted(s for s, v in self.eobs.items() if v != (ZERO, ZERO, ZERO))))
        paid, co, pr = self.eobs[sid]
        self._adjudicate(sid, -self.sessions[sid][1], -paid, -co, -pr, status="22")
        self.eobs[sid] = (ZERO, ZERO, ZERO)

    def _adjudicate(
        self, sid: str, charge: Decimal, paid: Decimal, co: Decimal, pr: Decimal, *, status: str
    ) -> None:
        self.count += 1
        with self.uow:
            self.uow.adjudications.add(
                Adjudication(
                    id=f"a{self.count}",
                    claim_record_id="r1",
                    client_id="c1",
                    payer_id="p1",
                    patient_control_number="SK0000000001",
                    status_code=status,
                    charge=charge,
                    paid=paid,
                    patient_responsibility=pr,
                    lines=[
                        LineAdjudication(
                            session_id=sid,
                            code="90834",
                            charge=charge,
                            paid=paid,
                            adjustments=[
                                Adjustment(group="CO", reason="45", amount=co),
                                Adjustment(group="PR", reason="2", amount=pr),
                            ],
                        )
                    ],
                    paid_on=DAY,
                    source_key=f"eob-{self.count}",
                    posted_at=NOW,
                )
            )
            session = self.uow.sessions.get(sid)
            if not session.locked:
                self.uow.sessions.save(attrs.evolve(session, status=SessionStatus.EOB_POSTED))
            self.uow.commit()
        self.locked.add(sid)
        self.payer_paid["c1"] += paid
        self.written_off["c1"] += co

    @rule(client=st.sampled_from(CLIENTS))
    def invoice(self, client: str) -> None:
        """After an invoice, each payment is listed for what it counts now: never lost, never twice."""
        with self.uow:
            invoice_client(self.uow, client, start=DAY, end=DAY + timedelta(days=400), now=NOW)
            self.uow.commit()
            invoices = self.uow.invoices.for_client(client)
            listed: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for i in invoices:
                for item in i.payments:
                    listed[item.payment_id] += item.amount
            for p in self.uow.payments.for_client(client):
                assert listed[p.id] == (p.amount.amount if p.counts else ZERO)
            if invoices:
                paid = sum(listed.values(), ZERO)
                assert paid == self.client_paid[client]

    # -- invariants ------------------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        with self.uow:
            for client in CLIENTS:
                got = client_account(self.uow, client)
                assert got.charges == self.charges[client]
                assert got.payer_paid == self.payer_paid[client]
                assert got.written_off == self.written_off[client]
                assert got.client_paid == self.client_paid[client]
                expected = self.charges[client] - self.payer_paid[client] - self.written_off[client]
                assert got.balance == expected - self.client_paid[client]
                assert statement(self.uow, client).balance == got.balance

    @invariant()
    def paid_at_session_equals_the_ledger(self) -> None:
        with self.uow:
            for sid in self.sessions:
                stored = self.uow.sessions.get(sid).paid_at_session
                assert stored == ledger_paid_at_session(self.uow, sid)
                assert stored.amount == self.by_hand[sid] + self.by_card[sid]

    @invariant()
    def no_payment_lost_or_charged_twice(self) -> None:
        approved = self.gateway.approved()
        with self.uow:
            for key in self.gateway.charge_counts():
                assert self.gateway.money_moved(key) <= 1
            for key, (charge_id, amount) in approved.items():
                payment = self.uow.payments.by_idempotency_key(key)
                assert payment is not None, "money moved at the gateway but the ledger lost it"
                assert payment.amount.amount == amount.amount
                assert payment.status in (PaymentStatus.RECEIVED, PaymentStatus.PENDING)
                if payment.status is PaymentStatus.RECEIVED:
                    assert payment.reference == charge_id
            for payment in self.uow.payments.list():
                if payment.method.value == "card" and payment.status is PaymentStatus.RECEIVED:
                    assert payment.idempotency_key in approved
            keys = [p.idempotency_key for p in self.uow.payments.list() if p.idempotency_key is not None]
            assert len(keys) == len(set(keys))


TestPaymentsMachine = PaymentsMachine.TestCase
TestPaymentsMachine.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
