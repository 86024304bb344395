"""The client invoice: what the practice bills the client directly."""

from __future__ import annotations

from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext, first_coverage
from sessionkit.readiness.findings import Finding, Target
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    INFO,
    WARNING,
    define,
)
from sessionkit.readiness.rules.money import client_share, total_charge

_invoice = define(
    "invoice",
    [Target.CLIENT_INVOICE],
    "practice-management convention: the practice bills the client's share on a client invoice",
    "the invoice has somewhere to go and something to ask for",
)
INVOICE_ADDRESS_MISSING = _invoice.code(
    "invoice.address_missing",
    WARNING,
    "the client has no postal address for the invoice",
    hint="enter the client's address, or send the invoice by e-mail",
)
NOTHING_DUE = _invoice.code(
    "invoice.nothing_due",
    INFO,
    "the session is billed to insurance and the client's share is already paid",
    hint="nothing to invoice unless the insurance payment falls short",
)
OVER_CHARGE = _invoice.code(
    "paid_at_session.over_charge",
    WARNING,
    "the amount paid at the session is more than the session's charges",
    hint="refund or apply the credit, or correct the amount paid",
)


@_invoice.checks
def invoice(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """An address for the client, a note when nothing is due, and no payment above the charges."""
    found = []
    person = context.client
    if person is not None and person.id == session.client_id and person.address is None:
        found.append(INVOICE_ADDRESS_MISSING.at("client.address"))
    total = total_charge(session)
    if total is None:
        return found
    paid = session.paid_at_session.amount
    if paid > total:
        found.append(OVER_CHARGE.at("paid_at_session"))
    cov = first_coverage(session, context)
    if cov is not None and paid >= client_share(cov, total):
        found.append(NOTHING_DUE.at("bill_to"))
    return found


INVOICE_RULE: Rule = _invoice.rule
"""The ``invoice`` rule."""
