"""The client statement: the client's invoices, the payments received, and the balance due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.adapters.pdf._document import money, new_document, output
from sessionkit.adapters.pdf._table import (
    MARGIN,
    PAGE_WIDTH,
    Table,
    address_lines,
    footer,
    phone,
    us_date,
    write,
    write_right,
)
from sessionkit.domain.billing import InvoiceLineKind, InvoiceRecord
from sessionkit.domain.parties import Client, PracticeSetup
from sessionkit.errors import InvalidValue

__all__ = ["StatementPayment", "statement_balance", "statement_pdf"]

_CENT = Decimal("0.01")
_KIND = {
    InvoiceLineKind.CHARGE: "session charge",
    InvoiceLineKind.CLIENT_SHARE: "your share (copay / coinsurance)",
    InvoiceLineKind.PAYMENT: "paid at the session",
    InvoiceLineKind.ADJUSTMENT: "your share changed after the insurance EOB",
}


def _amount(value: object) -> Decimal:
    if isinstance(value, (float, bool)):
        raise InvalidValue("a payment amount is a Decimal, never a float", "statement.amount", "amount")
    try:
        amount = Decimal(str(value)).quantize(_CENT)
    except ArithmeticError:
        raise InvalidValue("a payment amount is a number", "statement.amount", "amount") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidValue("a payment amount is more than zero", "statement.amount", "amount")
    return amount


@attrs.frozen(kw_only=True)
class StatementPayment:
    """A payment the client made after the latest invoice (the payments an invoice lists are on it already:
    :attr:`sessionkit.billing.Statement.uninvoiced_payments`)."""

    received_on: date
    amount: Decimal = attrs.field(converter=_amount)
    method: str = ""
    """How it was paid, e.g. ``card`` or ``check 1042`` (printed as given)."""


def statement_balance(invoices: Sequence[InvoiceRecord], payments: Sequence[StatementPayment]) -> Decimal:
    """The balance due: the first invoice's previous balance, plus every invoice's total, less the payments.

    >>> statement_balance([], [StatementPayment(received_on=date(2026, 4, 1), amount="20")])
    Decimal('-20.00')
    """
    ordered = sorted(invoices, key=lambda i: i.number)
    opening = ordered[0].previous_balance if ordered else Decimal("0.00")
    charged = sum((i.total for i in ordered), Decimal("0.00"))
    received = sum((p.amount for p in payments), Decimal("0.00"))
    return (opening + charged - received).quantize(_CENT)


def statement_pdf(
    *,
    practice: PracticeSetup,
    client: Client,
    invoices: Sequence[InvoiceRecord],
    payments: Sequence[StatementPayment] = (),
    as_of: date,
) -> bytes:
    """The client's statement as PDF bytes: each invoice with its lines, the payments, the balance due.

    Invoices are listed by number; the opening balance is the first one's
    ``previous_balance`` (:func:`statement_balance` computes the total due).

    :raises InvalidValue: ``statement.other_client`` when an invoice belongs to another client;
        ``statement.empty`` when there are neither invoices nor payments.
    """
    for i, invoice in enumerate(invoices):
        if invoice.client_id != client.id:
            raise InvalidValue(
                "an invoice belongs to another client", "statement.other_client", f"invoices[{i}]"
            )
    if not invoices and not payments:
        raise InvalidValue("there is nothing to state", "statement.empty", "invoices")
    ordered = sorted(invoices, key=lambda i: i.number)
    opening = ordered[0].previous_balance if ordered else Decimal("0.00")

    pdf = new_document("Statement", "Client account statement")
    pdf.add_page()
    right = PAGE_WIDTH - MARGIN
    write(pdf, MARGIN, 58, practice.name, size=14, style="B")
    y = 72.0
    contact = [
        *address_lines(practice.address),
        *([f"Phone {phone(practice.phone)}"] if practice.phone else []),
    ]
    for line in contact:
        write(pdf, MARGIN, y, line)
        y += 11
    write_right(pdf, right, 58, "STATEMENT", size=16, style="B")
    write_right(pdf, right, 72, f"as of {us_date(as_of)}", size=9)
    y = max(y, 100.0) + 12
    write(pdf, MARGIN, y, "STATEMENT FOR", size=8, style="B")
    y += 12
    for i, line in enumerate([f"{client.first_name} {client.last_name}", *address_lines(client.address)]):
        write(pdf, MARGIN, y, line, size=10 if i == 0 else 9, style="B" if i == 0 else "")
        y += 12
    due = statement_balance(ordered, payments)
    write_right(pdf, right, y - 24, "Balance due", size=9, style="B")
    write_right(pdf, right, y - 10, f"${money(due)}", size=14, style="B")

    y += 10
    table = Table(
        pdf, (("Date", 70.0, "L"), ("Description", 322.0, "L"), ("Amount", 70.0, "R"), ("Balance", 70.0, "R"))
    )
    table.heading(y)
    running = opening
    table.row(["", "Previous balance", "", money(running)])
    for invoice in ordered:
        table.row(
            [
                us_date(invoice.created_at.date()),
                f"Invoice {invoice.number}: services {us_date(invoice.period_start)} to {us_date(invoice.period_end)}",
                "",
                "",
            ],
            style="B",
            rule=False,
        )
        for item in (*invoice.lines, *invoice.adjustments):
            running += item.amount
            table.row(
                [
                    us_date(item.date_of_service),
                    f"   {item.code}  {_KIND[item.kind]}",
                    money(item.amount),
                    money(running),
                ],
                rule=False,
            )
        for paid in invoice.payments:
            running -= paid.amount
            when = "paid at the session" if paid.at_session else "payment received"
            credit = f", {money(paid.on_account)} on account" if paid.on_account > 0 else ""
            table.row(
                [
                    us_date(paid.received_on),
                    f"   {when} ({paid.method}){credit}",
                    money(-paid.amount),
                    money(running),
                ],
                rule=False,
            )
        table.row(["", f"Invoice {invoice.number} total", money(invoice.total), money(running)])
    for payment in sorted(payments, key=lambda p: p.received_on):
        running -= payment.amount
        method = f" ({payment.method})" if payment.method else ""
        table.row(
            [
                us_date(payment.received_on),
                f"Payment received{method}",
                money(-payment.amount),
                money(running),
            ]
        )
    table.row(["", "Balance due", "", money(running)], style="B", rule=False)
    footer(pdf, "Questions about this statement? Please contact the practice.")
    return output(pdf)
