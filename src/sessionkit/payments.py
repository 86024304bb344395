"""The payments service: the client payments ledger, Pay Now through a card gateway, paid at session.

A service over the ports (:class:`~sessionkit.ports.UnitOfWork`): every
function works inside the caller's unit of work and the caller commits.

* **The ledger** (:class:`~sessionkit.domain.payments.Payment`): cash, check,
  card and other payments, each applied to sessions or left on the client's
  account as a credit. :func:`record_payment` records one,
  :func:`apply_credit` applies what is left on account to sessions. A payment
  applied to sessions gives each at most what the client still owes for it
  (:func:`sessionkit.facts.client_responsibility` less the payments applied
  to it already); the rest stays on account.
* **Pay Now** (:func:`pay_now`): a card *token* (never a card number; text
  that looks like one is refused, :class:`CardNumberRefused`) is charged
  through a :class:`PaymentGateway` with an idempotency key. Approved: a
  received card payment whose reference is the gateway's charge id.
  Declined: nothing is recorded and :class:`PaymentDeclined` says why.
  Unknown (a timeout, an error): a *pending* payment, resolved later by
  asking the gateway again (:func:`resolve_pending`), never by charging
  again. The ledger is read by idempotency key before charging: a retry
  with the same key returns the recorded payment and never charges twice.
* **Paid at session** (:func:`set_paid_at_session`): the one function that
  changes it. A session's :attr:`~sessionkit.domain.ClientSession.paid_at_session`
  equals what the ledger's at-session payments that count apply to it
  (:func:`ledger_paid_at_session`); the figure is refused once the session is
  locked (its insurance EOB posted). An at-session payment applies wholly
  to its session, even above the client's share (the draft's over-payment
  warning names that credit).
* **The balance** is :func:`sessionkit.facts.account` (:func:`client_account`
  reads its inputs from a unit of work).

>>> from datetime import date, datetime, timezone
>>> from sessionkit.adapters.memory import InMemoryUnitOfWork
>>> from sessionkit.domain import Client, ClientSession
>>> from sessionkit.testing.gateway import TestGateway, APPROVE
>>> uow = InMemoryUnitOfWork().seed(clients=[Client(id="c1", first_name="Ada", last_name="Byron")])
>>> now = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
>>> with uow:
...     s = uow.sessions.save(ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 3, 2),
...                                         billing_code="90834", charge="140"))
...     paid = pay_now(uow, TestGateway(), client_id="c1", amount="40", token=APPROVE,
...                    idempotency_key="visit-s1-1", apply_to=["s1"], now=now)
...     again = pay_now(uow, TestGateway(), client_id="c1", amount="40", token=APPROVE,
...                     idempotency_key="visit-s1-1", apply_to=["s1"], now=now)
...     uow.commit()
>>> paid.status.value, paid.reference.startswith("ch_"), again == paid
('received', True, True)
>>> with uow:
...     client_account(uow, "c1").balance
Decimal('100.00')
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from sessionkit.domain import ClientSession, _checks, new_id, refuse_locked_change
from sessionkit.domain.payments import Payment, PaymentApplication, PaymentMethod, PaymentStatus
from sessionkit.errors import InvalidValue, SessionkitError, SessionLocked
from sessionkit.facts import Account, account, client_responsibility
from sessionkit.money import Money, MoneyLike
from sessionkit.ports import UnitOfWork

__all__ = [
    "CardNumberRefused",
    "ChargeOutcome",
    "ChargeResult",
    "PaymentDeclined",
    "PaymentGateway",
    "apply_credit",
    "client_account",
    "is_card_number",
    "ledger_paid_at_session",
    "pay_now",
    "record_payment",
    "resolve_pending",
    "set_paid_at_session",
]

_ZERO = Decimal("0.00")


# -- errors -------------------------------------------------------------------------------------------


class PaymentDeclined(SessionkitError, ValueError):
    """The gateway declined the card charge: nothing was recorded.

    ``reason_code`` and ``reason`` are the gateway's decline code and text
    (``insufficient_funds``, ``expired_card``, ...; never card data).
    """

    default_code = "payment.declined"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        field: str | None = None,
        *,
        reason_code: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, code, field)
        self.reason_code = reason_code
        self.reason = reason


class CardNumberRefused(InvalidValue):
    """A card number was given where a card token belongs: sessionkit never takes card numbers.

    The message never repeats what was given.
    """

    default_code = "payment.card_number"


# -- the gateway port -----------------------------------------------------------------------------------


class ChargeOutcome(str, enum.Enum):
    """What a card gateway answered."""

    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    """No answer (a timeout, a network or gateway error): ask again with :meth:`PaymentGateway.lookup`."""


def _short(max_len: int) -> Callable[[object, attrs.Attribute[str | None], str | None], None]:
    def check(_inst: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            _checks.text(value, attribute.name, required=True, max_len=max_len)

    return check


@attrs.frozen(kw_only=True)
class ChargeResult:
    """A gateway's answer to a charge (or to a lookup of one): approved, declined or unknown.

    Build it with :meth:`approved`, :meth:`declined` or :meth:`unknown`. It
    carries the gateway's charge id (approved) or its decline code and text,
    never card data.
    """

    outcome: ChargeOutcome = attrs.field(converter=ChargeOutcome)
    charge_id: str | None = attrs.field(default=None, validator=_short(80))
    decline_code: str | None = attrs.field(default=None, validator=_short(80))
    decline_reason: str | None = attrs.field(default=None, validator=_short(200))

    def __attrs_post_init__(self) -> None:
        if (self.outcome is ChargeOutcome.APPROVED) != (self.charge_id is not None):
            raise InvalidValue(
                "an approved charge, and only one, carries the charge id", "charge.charge_id", "charge_id"
            )

    @classmethod
    def approved(cls, charge_id: str) -> ChargeResult:
        """The charge went through: ``charge_id`` is the gateway's id for it."""
        return cls(outcome=ChargeOutcome.APPROVED, charge_id=charge_id)

    @classmethod
    def declined(cls, code: str, reason: str | None = None) -> ChargeResult:
        """The gateway refused the charge, with its decline code and text."""
        return cls(outcome=ChargeOutcome.DECLINED, decline_code=code, decline_reason=reason)

    @classmethod
    def unknown(cls) -> ChargeResult:
        """No answer: the charge may or may not have gone through."""
        return cls(outcome=ChargeOutcome.UNKNOWN)


@runtime_checkable
class PaymentGateway(Protocol):
    """**Protocol:** the practice's card processor, reached through tokens and idempotency keys.

    ``charge`` charges ``amount`` to the card behind ``token`` (the processor's
    token, made by its own card form: sessionkit never sees the card number).
    It must be idempotent on ``idempotency_key``: asked again with the same
    key, the processor answers the first charge's outcome and moves no money
    again. ``lookup`` answers the outcome of the charge made with the key
    (after a timeout): approved or declined once the processor knows,
    declined when it has no charge under the key (none was made), unknown
    when it cannot tell yet. An exception from either counts as unknown. See
    ``docs/payments.md`` for an adapter of a Stripe-like processor.
    """

    def charge(self, amount: Money, token: str, idempotency_key: str) -> ChargeResult: ...

    def lookup(self, idempotency_key: str) -> ChargeResult: ...


def _ask(call: Callable[[], ChargeResult]) -> ChargeResult:
    """The gateway's answer; an exception or a malformed answer is :meth:`ChargeResult.unknown`."""
    try:
        result = call()
    except Exception:
        return ChargeResult.unknown()
    return result if isinstance(result, ChargeResult) else ChargeResult.unknown()


# -- card numbers never come in ---------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-]")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_card_number(text: object) -> bool:
    """True when ``text`` looks like a payment card number: 13 to 19 digits (spaces and hyphens
    aside) passing the Luhn check.

    >>> is_card_number("4242 4242 4242 4242"), is_card_number("tok_visa"), is_card_number("4242424242424241")
    (True, False, False)
    """
    if not isinstance(text, str):
        return False
    digits = _SEPARATORS.sub("", text)
    return 13 <= len(digits) <= 19 and digits.isascii() and digits.isdigit() and _luhn(digits)


def _token(token: str) -> str:
    if not isinstance(token, str):
        raise InvalidValue("the card token must be text", "value.type", "token")
    if is_card_number(token):
        raise CardNumberRefused(
            "a card number was given where a card token belongs: pass the processor's token, never the number",
            "payment.card_number",
            "token",
        )
    _checks.text(token, "token", required=True, max_len=255)
    return token


def _key(key: str) -> str:
    _checks.text(key, "idempotency_key", required=True, max_len=128)
    if is_card_number(key):
        raise CardNumberRefused(
            "the idempotency key looks like a card number: refused", "payment.card_number", "idempotency_key"
        )
    return key


# -- applying money to sessions -----------------------------------------------------------------------------


def _outstanding(uow: UnitOfWork, session: ClientSession, skip: str | None) -> Decimal:
    """What the client still owes for ``session`` after the payments that count (but ``skip``)."""
    owed = client_responsibility(
        session, uow.coverages.for_client(session.client_id), uow.adjudications.for_session(session.id)
    ).amount
    paid = sum(
        (p.applied_to(session.id) for p in uow.payments.for_session(session.id) if p.counts and p.id != skip),
        _ZERO,
    )
    return max(owed - paid, _ZERO)


def _client_session(uow: UnitOfWork, client_id: str, session_id: str, field: str) -> ClientSession:
    try:
        session = uow.sessions.get(session_id)
    except SessionkitError as exc:
        raise exc.at(field) from None
    if session.client_id != client_id:
        raise InvalidValue("the session is another client's", "payment.other_client", field)
    return session


def _session_ids(values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidValue("apply_to must be a sequence of session ids", "value.type", "apply_to")
    found = tuple(values)
    for i, value in enumerate(found):
        _checks.text(value, f"apply_to[{i}]", required=True, max_len=64)
    return tuple(str(v) for v in found)


def _allocate(
    uow: UnitOfWork,
    client_id: str,
    amount: Decimal,
    session_ids: Sequence[str],
    *,
    skip: str | None = None,
    already: Iterable[PaymentApplication] = (),
) -> tuple[PaymentApplication, ...]:
    """Spread ``amount`` over ``session_ids`` in order, each up to what the client still owes for it."""
    if len(set(session_ids)) != len(session_ids):
        raise InvalidValue("apply_to names a session twice", "payment.session_twice", "apply_to")
    applied = {a.session_id: a.amount.amount for a in already}
    left = amount
    for i, sid in enumerate(session_ids):
        session = _client_session(uow, client_id, sid, f"apply_to[{i}]")
        share = min(left, _outstanding(uow, session, skip) - applied.get(sid, _ZERO))
        if share > 0:
            applied[sid] = applied.get(sid, _ZERO) + share
            left -= share
    return tuple(PaymentApplication(session_id=sid, amount=a) for sid, a in applied.items() if a > 0)


def record_payment(
    uow: UnitOfWork,
    *,
    client_id: str,
    amount: MoneyLike,
    method: PaymentMethod | str,
    now: datetime,
    reference: str | None = None,
    apply_to: Sequence[str] = (),
    received_at: datetime | None = None,
) -> Payment:
    """Record a payment received (cash, a check, a card charged elsewhere, other) and return it as stored.

    It applies to the sessions of ``apply_to`` in order, each up to what the
    client still owes for it; the rest stays on the account as a credit.
    ``reference`` is the check number (never a card number: refused).
    Raises NotFound for an unknown client or session and InvalidValue
    (``payment.other_client``) for another client's session.
    """
    uow.clients.get(client_id)
    money = _checks.money(amount, "amount")
    if reference is not None and is_card_number(reference):
        raise CardNumberRefused(
            "the reference looks like a card number: refused", "payment.card_number", "reference"
        )
    applied = _allocate(uow, client_id, money.amount, _session_ids(apply_to))
    return uow.payments.add(
        Payment(
            id=new_id(),
            client_id=client_id,
            amount=money,
            method=method,
            received_at=now if received_at is None else received_at,
            reference=reference,
            applied=applied,
        )
    )


def apply_credit(
    uow: UnitOfWork, payment_id: str, apply_to: Sequence[str], *, amount: MoneyLike | None = None
) -> Payment:
    """Apply what ``payment_id`` left on account (at most ``amount``) to sessions; return it as stored.

    Each session takes at most what the client still owes for it; what is
    not needed stays on account. Only a payment that came in can be applied
    (InvalidValue ``payment.not_received``), and not one taken at a session
    (``payment.at_session``: its figure is the session's paid at session).
    """
    payment = uow.payments.get(payment_id)
    if not payment.counts:
        raise InvalidValue("only a payment received can be applied", "payment.not_received", "status")
    if payment.at_session:
        raise InvalidValue(
            "a payment taken at a session changes through set_paid_at_session",
            "payment.at_session",
            "at_session",
        )
    available = payment.unapplied
    if amount is not None:
        available = min(available, _checks.money(amount, "amount").amount)
    applied = _allocate(
        uow, payment.client_id, available, _session_ids(apply_to), skip=payment.id, already=payment.applied
    )
    if applied == payment.applied:
        return payment
    return uow.payments.put(attrs.evolve(payment, applied=applied))


# -- paid at session -------------------------------------------------------------------------------------------


def ledger_paid_at_session(uow: UnitOfWork, session_id: str) -> Money:
    """What the ledger says was paid at the session: its at-session payments that count, applied to it."""
    return Money(
        sum(
            (
                p.applied_to(session_id)
                for p in uow.payments.for_session(session_id)
                if p.at_session and p.counts
            ),
            _ZERO,
        )
    )


def _reduce_application(payment: Payment, session_id: str, by: Decimal) -> Payment:
    applied = []
    for a in payment.applied:
        if a.session_id == session_id:
            if a.amount.amount > by:
                applied.append(PaymentApplication(session_id=session_id, amount=a.amount.amount - by))
        else:
            applied.append(a)
    return attrs.evolve(payment, applied=applied)


def _sync_paid_at_session(
    uow: UnitOfWork,
    session: ClientSession,
    amount: Money,
    *,
    method: PaymentMethod | str,
    now: datetime,
    reference: str | None,
) -> None:
    """Make the ledger's at-session payments of ``session`` add up to ``amount``."""
    current = ledger_paid_at_session(uow, session.id).amount
    target = amount.amount
    if target == current:
        return
    mine = [p for p in uow.payments.for_session(session.id) if p.at_session and p.counts]
    # Entered by hand (no idempotency key) apply to this session only; gateway charges have a key.
    by_hand = [p for p in mine if p.idempotency_key is None and len(p.applied) == 1]
    if target > current:
        delta = target - current
        method = PaymentMethod(method)
        same = [p for p in by_hand if p.method is method and p.reference == reference]
        if same:
            p = same[-1]
            uow.payments.put(
                attrs.evolve(
                    p,
                    amount=p.amount.amount + delta,
                    applied=[PaymentApplication(session_id=session.id, amount=p.amount.amount + delta)],
                )
            )
            return
        uow.payments.add(
            Payment(
                id=new_id(),
                client_id=session.client_id,
                amount=delta,
                method=method,
                received_at=now,
                reference=reference,
                applied=[PaymentApplication(session_id=session.id, amount=delta)],
                at_session=True,
            )
        )
        return
    excess = current - target
    for p in reversed(by_hand):  # a correction: the latest entries by hand first
        if not excess:
            return
        had = p.applied_to(session.id)
        if had > excess:
            less = had - excess
            uow.payments.put(
                attrs.evolve(p, amount=less, applied=[PaymentApplication(session_id=session.id, amount=less)])
            )
            return
        uow.payments.put(attrs.evolve(p, status=PaymentStatus.VOID))
        excess -= had
    for p in reversed([p for p in mine if p not in by_hand]):
        # A card charge cannot be undone here: the money stays on the client's account (a credit).
        if not excess:
            return
        had = p.applied_to(session.id)
        cut = min(had, excess)
        reduced = _reduce_application(p, session.id, cut)
        # wholly off the session, it is a credit on account like any other (apply_credit can use it)
        uow.payments.put(attrs.evolve(reduced, at_session=bool(reduced.applied)))
        excess -= cut


def set_paid_at_session(
    uow: UnitOfWork,
    session_id: str,
    amount: MoneyLike,
    *,
    method: PaymentMethod | str = PaymentMethod.CASH,
    now: datetime,
    reference: str | None = None,
) -> ClientSession:
    """Set what the client paid at the session, in the ledger and on the session; return the session.

    The one function that changes paid at session: the ledger's at-session
    payments applied to the session add up to ``amount`` afterwards, and so
    does :attr:`~sessionkit.domain.ClientSession.paid_at_session`. A rise is
    recorded as a payment of ``method`` (added to an earlier at-session
    entry of the same method and reference); a fall corrects the entries
    made by hand, latest first (one corrected to nothing is voided), then
    moves card charges' money off the session onto the account (a charge is
    not undone: refunds happen at the processor). Raises SessionLocked
    (``session.locked``) once the session's insurance EOB is posted.
    """
    session = uow.sessions.get(session_id)
    money = _checks.money(amount, "amount")
    refuse_locked_change(session, attrs.evolve(session, paid_at_session=money))
    if reference is not None and is_card_number(reference):
        raise CardNumberRefused(
            "the reference looks like a card number: refused", "payment.card_number", "reference"
        )
    _sync_paid_at_session(uow, session, money, method=method, now=now, reference=reference)
    if session.paid_at_session != money:
        session = uow.sessions.save(attrs.evolve(session, paid_at_session=money))
    return session


def _credit_session(uow: UnitOfWork, payment: Payment) -> Payment:
    """Add an at-session payment that now counts to its session's paid at session.

    A session locked since (its EOB posted) keeps its figure: the payment
    then applies to it as an ordinary payment (``at_session`` False).
    """
    for a in payment.applied:
        session = uow.sessions.get(a.session_id)
        if session.locked:
            return uow.payments.put(attrs.evolve(payment, at_session=False))
    for a in payment.applied:
        session = uow.sessions.get(a.session_id)
        uow.sessions.save(
            attrs.evolve(session, paid_at_session=session.paid_at_session.amount + a.amount.amount)
        )
    return payment


# -- Pay Now ----------------------------------------------------------------------------------------------------


def _declined(result: ChargeResult) -> PaymentDeclined:
    return PaymentDeclined(
        "the card was declined",
        "payment.declined",
        "token",
        reason_code=result.decline_code,
        reason=result.decline_reason,
    )


def _resolve(uow: UnitOfWork, gateway: PaymentGateway, payment: Payment) -> tuple[Payment, ChargeResult]:
    key = payment.idempotency_key
    assert key is not None  # only gateway charges are pending
    result = _ask(lambda: gateway.lookup(key))
    if result.outcome is ChargeOutcome.APPROVED:
        payment = uow.payments.put(
            attrs.evolve(payment, status=PaymentStatus.RECEIVED, reference=result.charge_id)
        )
        if payment.at_session:
            payment = _credit_session(uow, payment)
    elif result.outcome is ChargeOutcome.DECLINED:
        payment = uow.payments.put(attrs.evolve(payment, status=PaymentStatus.DECLINED))
    return payment, result


def pay_now(
    uow: UnitOfWork,
    gateway: PaymentGateway,
    *,
    client_id: str,
    amount: MoneyLike,
    token: str,
    idempotency_key: str,
    apply_to: Sequence[str] = (),
    now: datetime,
    at_session: bool = False,
) -> Payment:
    """Charge a card token through ``gateway`` and record the payment; return it as stored.

    * Approved: a received card payment (reference: the gateway's charge id).
    * Declined: nothing is recorded; raises :class:`PaymentDeclined` with the reason.
    * Unknown (a timeout or a gateway error): a pending payment; :func:`resolve_pending` asks again.

    The ledger is read by ``idempotency_key`` first: a payment recorded with
    it is returned (a pending one is looked up again, a declined one raises
    :class:`PaymentDeclined`) and nothing is charged. The key with another
    client or amount raises InvalidValue (``payment.idempotency_key_reused``).

    The payment applies to ``apply_to`` in order, each session up to what the
    client still owes for it, the rest left on account. ``at_session`` (the
    entry screen's Pay Now) takes exactly one session, applies the whole
    amount to it and adds it to its paid at session once received; a locked
    session is refused before anything is charged (SessionLocked).

    The charge happens before the caller commits. Should the commit fail (a
    concurrent Pay Now with the key, say: AlreadyExists
    ``payment.idempotency_key_taken``), call again with the same key: the
    gateway answers the first charge again, moving no money, and the payment
    is recorded once.
    """
    money = _checks.money(amount, "amount")
    if not money:
        raise InvalidValue("a payment amount must be above zero", "payment.zero", "amount")
    token = _token(token)
    key = _key(idempotency_key)
    apply_to = _session_ids(apply_to)
    recorded = uow.payments.by_idempotency_key(key)
    if recorded is not None:
        if recorded.client_id != client_id or recorded.amount != money:
            raise InvalidValue(
                "the idempotency key was used for another charge",
                "payment.idempotency_key_reused",
                "idempotency_key",
            )
        if recorded.status is PaymentStatus.PENDING:
            recorded, _ = _resolve(uow, gateway, recorded)
        if recorded.status is PaymentStatus.DECLINED:
            raise _declined(_ask(lambda: gateway.lookup(key)))
        return recorded
    uow.clients.get(client_id)
    if at_session:
        if len(apply_to) != 1:
            raise InvalidValue(
                "paid at session applies to exactly one session", "payment.at_session", "apply_to"
            )
        session = _client_session(uow, client_id, apply_to[0], "apply_to[0]")
        if session.locked:
            raise SessionLocked(
                "paid at session cannot change: an insurance EOB is posted for the session",
                "session.locked",
                "paid_at_session",
            )
        applied: tuple[PaymentApplication, ...] = (PaymentApplication(session_id=session.id, amount=money),)
    else:
        applied = _allocate(uow, client_id, money.amount, apply_to)
    result = _ask(lambda: gateway.charge(money, token, key))
    if result.outcome is ChargeOutcome.DECLINED:
        raise _declined(result)
    approved = result.outcome is ChargeOutcome.APPROVED
    payment = uow.payments.add(
        Payment(
            id=new_id(),
            client_id=client_id,
            amount=money,
            method=PaymentMethod.CARD,
            received_at=now,
            reference=result.charge_id if approved else None,
            applied=applied,
            status=PaymentStatus.RECEIVED if approved else PaymentStatus.PENDING,
            idempotency_key=key,
            at_session=at_session,
        )
    )
    if approved and at_session:
        payment = _credit_session(uow, payment)
    return payment


def resolve_pending(uow: UnitOfWork, gateway: PaymentGateway) -> list[Payment]:
    """Ask the gateway about every pending card payment; return those it answered, as stored.

    Approved: received (an at-session payment adds to its session's paid at
    session). Declined: declined, counting nothing. Still unknown: left
    pending (not returned).
    """
    resolved = []
    for payment in uow.payments.pending():
        if payment.idempotency_key is None:
            continue
        stored, result = _resolve(uow, gateway, payment)
        if result.outcome is not ChargeOutcome.UNKNOWN:
            resolved.append(stored)
    return resolved


# -- the balance -----------------------------------------------------------------------------------------------


def client_account(uow: UnitOfWork, client_id: str) -> Account:
    """The client's :func:`sessionkit.facts.account` from the sessions, adjudications and payments of ``uow``."""
    return account(
        uow.sessions.by_client(client_id),
        uow.adjudications.for_client(client_id),
        uow.payments.for_client(client_id),
    )
