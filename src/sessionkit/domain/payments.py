"""Money in: client payments (the ledger) and payers' adjudications (EOBs, 835 remittances).

* A :class:`Payment` is money a client paid: cash, check, card (Pay Now,
  through a :class:`sessionkit.payments.PaymentGateway`) or other. It is
  *applied* to sessions (:class:`PaymentApplication`) or left on the
  client's account as a credit (:attr:`Payment.unapplied`). Paid at the
  session is a payment applied to that session.
* An :class:`Adjudication` is a payer's answer to one claim, posted from a
  paper EOB or from one claim payment (loop 2100, ``CLP``) of an X12 835:
  per line what was allowed and paid, and the adjustments (``CAS``) with
  their group and reason codes (CO-45, PR-1, ...). Adjudications are never
  changed: a payer's reversal (``CLP02 = 22``) is a new adjudication with
  negative amounts. ``source_key`` makes posting the same remittance twice
  impossible (the repositories refuse a second adjudication with the key).

Amounts here are :class:`~decimal.Decimal` with two places and may be
negative where the payer's file may carry negative amounts (reversals,
adjustments that give money back); a payment itself is positive
(:class:`~sessionkit.money.Money`). The account arithmetic over both is
:func:`sessionkit.facts.account`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import attrs

from sessionkit.domain import _checks
from sessionkit.errors import InvalidValue
from sessionkit.money import Money

__all__ = [
    "Adjudication",
    "Adjustment",
    "AdjustmentGroup",
    "LineAdjudication",
    "Payment",
    "PaymentApplication",
    "PaymentMethod",
    "PaymentStatus",
    "refuse_key_change",
]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


def _amount(value: Decimal | int | str) -> Decimal:
    """A signed amount of dollars with two places (payers' files carry negative amounts)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidValue("amount must be a Decimal, an int or text", "value.type", "amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidValue("amount is not a number", "money.invalid", "amount") from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e11"):
        raise InvalidValue("amount is out of range", "money.invalid", "amount")
    quantized = amount.quantize(_CENT)
    if quantized != amount:
        raise InvalidValue("amount has more than 2 decimal places", "money.precision", "amount")
    return quantized + 0


def _optional_amount(value: Decimal | int | str | None) -> Decimal | None:
    return None if value is None else _amount(value)


def _positive_money(value: Money | Decimal | int | str) -> Money:
    money = _checks.money(value, "amount")
    if not money.amount:
        raise InvalidValue("a payment amount must be above zero", "payment.zero", "amount")
    return money


def _id(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=64)


def _optional_text(max_len: int) -> Callable[[object, attrs.Attribute[str | None], str | None], None]:
    def check(_inst: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            _checks.text(value, attribute.name, required=True, max_len=max_len)

    return check


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(
            f"{attribute.name} must be a timezone-aware datetime", "value.type", attribute.name
        )


def _a_date(_inst: object, attribute: attrs.Attribute[date], value: date) -> None:
    _checks.a_date(value, attribute.name)


class PaymentMethod(str, enum.Enum):
    """How a client paid."""

    CASH = "cash"
    CHECK = "check"
    CARD = "card"
    """Charged through the practice's merchant account (Pay Now): the reference is the gateway's charge id."""
    OTHER = "other"


class PaymentStatus(str, enum.Enum):
    """Whether a payment counts: only :attr:`RECEIVED` payments reduce a balance."""

    RECEIVED = "received"
    """The money is in (cash, a check, an approved card charge)."""
    PENDING = "pending"
    """A card charge whose outcome the gateway did not tell (a timeout): ask the gateway again."""
    DECLINED = "declined"
    """A pending card charge the gateway later answered declined: kept for the record, counts nothing."""
    VOID = "void"
    """An entry made in error and cancelled (a paid-at-session amount corrected down to nothing): kept
    for the record, counts nothing."""


@attrs.frozen(kw_only=True)
class PaymentApplication:
    """Part of a payment applied to one session."""

    session_id: str = attrs.field(validator=_id)
    amount: Money = attrs.field(converter=_positive_money)


def _applications(values: Iterable[PaymentApplication]) -> tuple[PaymentApplication, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, PaymentApplication):
            raise InvalidValue("applied must hold PaymentApplication values", "value.type", "applied")
    return found


def _method(value: PaymentMethod | str) -> PaymentMethod:
    try:
        return PaymentMethod(value)
    except ValueError:
        raise InvalidValue("method is not a payment method", "payment.method", "method") from None


def _payment_status(value: PaymentStatus | str) -> PaymentStatus:
    try:
        return PaymentStatus(value)
    except ValueError:
        raise InvalidValue("status is not a payment status", "payment.status", "status") from None


@attrs.frozen(kw_only=True)
class Payment:
    """Money a client paid, applied to sessions or left on account (a credit).

    ``reference`` is the check number or the gateway's charge id (never a
    card number: sessionkit only ever sees card *tokens*).
    ``idempotency_key`` is the key a card charge was asked with: one payment
    per key, so a retried Pay Now never records (or charges) twice.
    ``at_session`` marks the payment taken at the session (the entry
    screen's "Paid at Session").
    """

    id: str = attrs.field(validator=_id)
    client_id: str = attrs.field(validator=_id)
    amount: Money = attrs.field(converter=_positive_money)
    method: PaymentMethod = attrs.field(converter=_method)
    received_at: datetime = attrs.field(validator=_aware)
    reference: str | None = attrs.field(default=None, validator=_optional_text(80))
    applied: tuple[PaymentApplication, ...] = attrs.field(default=(), converter=_applications)
    status: PaymentStatus = attrs.field(default=PaymentStatus.RECEIVED, converter=_payment_status)
    idempotency_key: str | None = attrs.field(default=None, validator=_optional_text(128))
    at_session: bool = False
    version: int = 0

    def __attrs_post_init__(self) -> None:
        applied = sum((a.amount.amount for a in self.applied), _ZERO)
        if applied > self.amount.amount:
            raise InvalidValue(
                "a payment cannot apply more than its amount", "payment.over_applied", "applied"
            )
        if len({a.session_id for a in self.applied}) != len(self.applied):
            raise InvalidValue("a payment applies to a session once", "payment.session_twice", "applied")

    @property
    def counts(self) -> bool:
        """True when the money is in (:attr:`PaymentStatus.RECEIVED`)."""
        return self.status is PaymentStatus.RECEIVED

    @property
    def applied_total(self) -> Decimal:
        """What the payment applies to sessions."""
        return sum((a.amount.amount for a in self.applied), _ZERO)

    @property
    def unapplied(self) -> Decimal:
        """What is left on the client's account (a credit)."""
        return self.amount.amount - self.applied_total

    def applied_to(self, session_id: str) -> Decimal:
        """What the payment applies to ``session_id`` (zero when none)."""
        return sum((a.amount.amount for a in self.applied if a.session_id == session_id), _ZERO)


def refuse_key_change(stored: Payment, payment: Payment) -> None:
    """Raise InvalidValue (``payment.idempotency_key_changed``) when ``payment`` changes ``stored``'s key.

    The one home of the rule: every adapter's ``put`` calls it (a key is what
    makes a retried charge the same charge, so it never changes).
    """
    if payment.idempotency_key != stored.idempotency_key:
        raise InvalidValue(
            "a payment's idempotency key cannot change", "payment.idempotency_key_changed", "idempotency_key"
        )


class AdjustmentGroup(str, enum.Enum):
    """Claim adjustment group codes (X12 ``CAS01``): who bears an adjustment."""

    CO = "CO"
    """Contractual obligation: the provider writes it off."""
    PR = "PR"
    """Patient responsibility (deductible PR-1, coinsurance PR-2, copay PR-3): the client owes it."""
    OA = "OA"
    """Other adjustment."""
    PI = "PI"
    """Payer-initiated reduction."""
    CR = "CR"
    """Correction and reversal (an older group, still seen)."""


def _group(value: AdjustmentGroup | str) -> AdjustmentGroup:
    try:
        return AdjustmentGroup(value)
    except ValueError:
        raise InvalidValue("group is not an adjustment group code", "adjustment.group", "group") from None


def _reason(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=5)
    if not value.isascii() or not value.isalnum():
        raise InvalidValue("reason must be a claim adjustment reason code", "adjustment.reason", "reason")


@attrs.frozen(kw_only=True)
class Adjustment:
    """One claim adjustment (``CAS``): group, reason code (CARC) and amount."""

    group: AdjustmentGroup = attrs.field(converter=_group)
    reason: str = attrs.field(validator=_reason)
    amount: Decimal = attrs.field(converter=_amount)
    quantity: Decimal | None = None

    @property
    def patient_responsibility(self) -> bool:
        """True for group PR: the client owes the amount."""
        return self.group is AdjustmentGroup.PR


def _adjustments(values: Iterable[Adjustment]) -> tuple[Adjustment, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, Adjustment):
            raise InvalidValue("adjustments must hold Adjustment values", "value.type", "adjustments")
    return found


@attrs.frozen(kw_only=True)
class LineAdjudication:
    """The payer's answer to one claim line (835 loop 2110 ``SVC``, or an EOB line).

    ``line_control_number`` is the 837P's ``REF*6R`` the payer sent back
    (:func:`sessionkit.claims.x837.line_control_number`).
    """

    session_id: str = attrs.field(validator=_id)
    line_control_number: str | None = None
    code: str
    charge: Decimal = attrs.field(converter=_amount)
    paid: Decimal = attrs.field(converter=_amount)
    allowed: Decimal | None = attrs.field(default=None, converter=_optional_amount)
    units: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = attrs.field(default=(), converter=_adjustments)

    @property
    def patient_responsibility(self) -> Decimal:
        """What the client owes for the line: the sum of its PR adjustments."""
        return sum((a.amount for a in self.adjustments if a.patient_responsibility), _ZERO)

    @property
    def written_off(self) -> Decimal:
        """The adjustments the client does not owe (every group but PR)."""
        return sum((a.amount for a in self.adjustments if not a.patient_responsibility), _ZERO)


def _lines(values: Iterable[LineAdjudication]) -> tuple[LineAdjudication, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, LineAdjudication):
            raise InvalidValue("lines must hold LineAdjudication values", "value.type", "lines")
    return found


CLAIM_STATUS_PRIMARY = "1"
CLAIM_STATUS_SECONDARY = "2"
CLAIM_STATUS_TERTIARY = "3"
CLAIM_STATUS_DENIED = "4"
CLAIM_STATUS_REVERSAL = "22"


def _status_code(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=2)
    if not value.isdigit():
        raise InvalidValue(
            "status_code must be a claim status code (CLP02)", "adjudication.status", "status_code"
        )


@attrs.frozen(kw_only=True)
class Adjudication:
    """A payer's adjudication of one claim, as posted (an EOB, or one ``CLP`` loop of an 835).

    ``status_code`` is the 835's ``CLP02``: ``"1"`` processed as primary,
    ``"2"`` as secondary, ``"3"`` as tertiary, ``"4"`` denied, ``"22"``
    reversal of a previous payment (its amounts are negative), and the
    others of the code list. ``adjustments`` are the claim-level ``CAS``;
    the line-level ones are on the lines.

    ``source_key`` identifies what was posted so that it is posted once: for
    an 835, the payer, the check/EFT trace number (``TRN02``), the patient
    control number, ``CLP02`` and the payer's claim number; for a hand-entered
    EOB, whatever the biller's screen uses (the repositories refuse a second
    adjudication with the same key, :class:`~sessionkit.errors.AlreadyExists`
    ``adjudication.already_posted``).
    """

    id: str = attrs.field(validator=_id)
    claim_record_id: str = attrs.field(validator=_id)
    client_id: str = attrs.field(validator=_id)
    payer_id: str = attrs.field(validator=_id)
    coverage_id: str | None = None
    patient_control_number: str
    payer_claim_number: str | None = None
    status_code: str = attrs.field(validator=_status_code)
    charge: Decimal = attrs.field(converter=_amount)
    paid: Decimal = attrs.field(converter=_amount)
    patient_responsibility: Decimal = attrs.field(default=_ZERO, converter=_amount)
    """``CLP05`` as the payer sent it (the lines' PR adjustments should sum to it)."""
    lines: tuple[LineAdjudication, ...] = attrs.field(default=(), converter=_lines)
    adjustments: tuple[Adjustment, ...] = attrs.field(default=(), converter=_adjustments)
    paid_on: date = attrs.field(validator=_a_date)
    """The payment's date (the 835's ``BPR16``, the EOB's check date)."""
    trace_number: str | None = None
    """The check or EFT trace number (``TRN02``)."""
    source: str = "eob"
    """``"835"`` for a remittance file, ``"eob"`` for one entered by hand."""
    source_key: str = attrs.field(validator=_id)
    posted_at: datetime = attrs.field(validator=_aware)
    version: int = 0

    @property
    def denied(self) -> bool:
        """True when the payer denied the claim (``CLP02 = 4``)."""
        return self.status_code == CLAIM_STATUS_DENIED

    @property
    def reversal(self) -> bool:
        """True for a reversal of an earlier adjudication (``CLP02 = 22``)."""
        return self.status_code == CLAIM_STATUS_REVERSAL

    @property
    def written_off(self) -> Decimal:
        """Every adjustment the client does not owe, claim and line level."""
        claim_level = sum((a.amount for a in self.adjustments if not a.patient_responsibility), _ZERO)
        return claim_level + sum((line.written_off for line in self.lines), _ZERO)

    @property
    def client_owes(self) -> Decimal:
        """Patient responsibility from the adjustments, claim and line level (PR group)."""
        claim_level = sum((a.amount for a in self.adjustments if a.patient_responsibility), _ZERO)
        return claim_level + sum((line.patient_responsibility for line in self.lines), _ZERO)

    def lines_for(self, session_id: str) -> tuple[LineAdjudication, ...]:
        """The lines of ``session_id`` (a session and its add-ons are several lines)."""
        return tuple(line for line in self.lines if line.session_id == session_id)
