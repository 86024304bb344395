"""What was billed: claim records and client invoices (the work lists' memory)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import attrs

from sessionkit.domain import _checks
from sessionkit.domain.values import Frequency
from sessionkit.errors import InvalidValue
from sessionkit.money import Money

__all__ = [
    "LIVE_CLAIM_STATUSES",
    "ClaimRecord",
    "ClaimRecordLine",
    "ClaimStatus",
    "InvoiceLine",
    "InvoiceLineKind",
    "InvoicePayment",
    "InvoiceRecord",
]


_ZERO = Money(0)


class ClaimStatus(str, enum.Enum):
    """Where a recorded claim is: sent, then acknowledged, then adjudicated (or voided)."""

    SUBMITTED = "submitted"
    """Written to a file (or printed) and recorded; no answer from the payer yet."""
    ACCEPTED = "accepted"
    """The payer (277CA) took it in: it has a payer claim control number."""
    REJECTED = "rejected"
    """The clearinghouse or payer refused it before adjudication: its sessions are to bill again."""
    PAID = "paid"
    """Adjudicated and paid (in whole or part)."""
    DENIED = "denied"
    """Adjudicated and denied: correct it (frequency 7) or bill the client."""
    VOID = "void"
    """Cancelled by a void claim (frequency 8): its sessions are to bill again."""


LIVE_CLAIM_STATUSES: frozenset[ClaimStatus] = frozenset(
    {ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED, ClaimStatus.PAID, ClaimStatus.DENIED}
)
"""A session on a claim in one of these is billed: it is not offered to bill again."""


def _status(value: ClaimStatus | str) -> ClaimStatus:
    try:
        return ClaimStatus(value)
    except ValueError:
        raise InvalidValue("status is not a claim status", "claim_record.status", "status") from None


def _id(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=64)


def _pcn(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=20)


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(
            f"{attribute.name} must be a timezone-aware datetime", "value.type", attribute.name
        )


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _claim_lines(values: Iterable[ClaimRecordLine]) -> tuple[ClaimRecordLine, ...]:
    return tuple(values)


def _invoice_lines(values: Iterable[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class ClaimRecordLine:
    """One service line of a recorded claim, as sent."""

    session_id: str
    date_of_service: date
    code: str
    charge: Money
    units: Decimal
    add_on: bool = False


@attrs.frozen(kw_only=True)
class ClaimRecord:
    """A claim as it was written and sent: what is billed, to whom, under which control numbers.

    ``patient_control_number`` (CLM01 / box 26) and the interchange, group and
    transaction set control numbers are handed out by the storage's control
    number sequences: unique per practice and never reused. ``replaces`` is
    the claim record a corrected (frequency 7) or void (8) claim refers to;
    its ``original_reference`` is that claim's ``payer_claim_number``.
    """

    id: str = attrs.field(validator=_id)
    client_id: str
    payer_id: str
    coverage_id: str
    target: str
    """``"x12_837p"`` or ``"cms1500"`` (:class:`sessionkit.readiness.Target` values)."""
    frequency: Frequency = Frequency.ORIGINAL
    original_reference: str | None = None
    replaces: str | None = None
    patient_control_number: str = attrs.field(validator=_pcn)
    interchange_control_number: int | None = None
    group_control_number: int | None = None
    transaction_control_number: int | None = None
    session_ids: tuple[str, ...] = attrs.field(converter=_ids)
    lines: tuple[ClaimRecordLine, ...] = attrs.field(converter=_claim_lines)
    total_charge: Money
    amount_paid: Money = _ZERO
    """What the client paid, as sent on the claim (837P ``AMT*F5``, CMS-1500 box 29)."""
    payer_paid: Money = _ZERO
    """What the payer paid on the claim so far: the sum over its posted adjudications (reversals included)."""
    created_at: datetime = attrs.field(validator=_aware)
    status: ClaimStatus = attrs.field(default=ClaimStatus.SUBMITTED, converter=_status)
    payer_claim_number: str | None = None
    """The payer's claim control number (277CA REF*1K or 835 CLP07): what a correction quotes."""
    version: int = 0

    @property
    def live(self) -> bool:
        """True while the claim bills its sessions (not rejected, not voided)."""
        return self.status in LIVE_CLAIM_STATUSES


class InvoiceLineKind(str, enum.Enum):
    """What an invoice line asks for or credits."""

    CHARGE = "charge"
    """A session billed to the client directly: its whole charge."""
    CLIENT_SHARE = "client_share"
    """An insured session: the client's share (copay or coinsurance)."""
    PAYMENT = "payment"
    """Paid at the session: a credit (negative amount). Invoices made since the payments ledger list the
    payments in :attr:`InvoiceRecord.payments` instead; earlier invoices keep these lines."""
    ADJUSTMENT = "adjustment"
    """The client's share changed (the payer's EOB was posted, or reversed): the difference to what
    earlier invoices asked for the session (negative: the client owes less)."""


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line of a client invoice; ``amount`` is negative for payments."""

    session_id: str
    date_of_service: date
    code: str
    kind: InvoiceLineKind = attrs.field(converter=InvoiceLineKind)
    amount: Decimal


def _invoice_payments(values: Iterable[InvoicePayment]) -> tuple[InvoicePayment, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class InvoicePayment:
    """A payment of the ledger as an invoice lists it (received since the client's previous invoice).

    ``amount`` is what was paid; ``applied`` what of it went to sessions;
    the rest, :attr:`on_account`, is a credit on the account. A payment
    corrected after it was invoiced is listed again with the difference
    (negative when the client paid less than first recorded).
    """

    payment_id: str
    received_on: date
    method: str
    """``cash``, ``check``, ``card`` or ``other`` (:class:`sessionkit.domain.payments.PaymentMethod`)."""
    amount: Decimal
    applied: Decimal = Decimal("0.00")
    at_session: bool = False

    @property
    def on_account(self) -> Decimal:
        """What the payment left on the account as a credit."""
        return self.amount - self.applied


@attrs.frozen(kw_only=True)
class InvoiceRecord:
    """A client invoice for a period: what the client owes for its sessions, less what was paid.

    ``previous_balance`` is the balance carried forward from the client's
    earlier invoices; ``balance`` what the client owes after this one.
    """

    id: str
    client_id: str
    period_start: date
    period_end: date
    number: int
    """The invoice number (a control number sequence of the practice)."""
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_invoice_lines)
    previous_balance: Decimal = Decimal("0.00")
    created_at: datetime = attrs.field(validator=_aware)
    version: int = 0
    adjustments: tuple[InvoiceLine, ...] = attrs.field(default=(), converter=_invoice_lines)
    """Changes of the client's share of sessions invoiced before (kind ``adjustment``)."""
    payments: tuple[InvoicePayment, ...] = attrs.field(default=(), converter=_invoice_payments)
    """The ledger's payments received since the previous invoice (each on one invoice)."""

    @property
    def session_ids(self) -> tuple[str, ...]:
        """The sessions this invoice bills (each once)."""
        return tuple(dict.fromkeys(line.session_id for line in self.lines))

    @property
    def total(self) -> Decimal:
        """What this invoice adds to the balance: charges, shares and adjustments, less payments."""
        charged = sum((line.amount for line in (*self.lines, *self.adjustments)), Decimal("0.00"))
        return charged - self.paid

    @property
    def paid(self) -> Decimal:
        """The payments this invoice lists (:attr:`payments`)."""
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def payment_ids(self) -> tuple[str, ...]:
        """The ledger payments this invoice lists."""
        return tuple(p.payment_id for p in self.payments)

    @property
    def balance(self) -> Decimal:
        """What the client owes after this invoice."""
        return self.previous_balance + self.total
