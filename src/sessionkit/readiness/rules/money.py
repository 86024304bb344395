"""Money: the charge, and what the client paid at the session."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sessionkit.domain import ClientSession, Coverage
from sessionkit.money import MAX_AMOUNT
from sessionkit.readiness.context import ReadinessContext, first_coverage
from sessionkit.readiness.findings import ALL_TARGETS, INSURANCE_TARGETS, Finding
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    ERROR,
    NONE,
    NUCC,
    WARNING,
    X12,
    define,
)

_charge = define(
    "charge",
    ALL_TARGETS,
    f"{NUCC}, box 24F; {X12}, loop 2400 SV102",
    "every line has a charge above zero",
)
CHARGE_ZERO = _charge.code(
    "charge.zero",
    ERROR,
    "a line's charge is zero",
    hint="enter the charge for the service",
)
TOTAL_TOO_LARGE = _charge.code(
    "charge.total_too_large",
    ERROR,
    "the session's total charge (the service and its add-ons) is above 99,999,999.99",
    hint="correct the charges or split the session",
)


def total_charge(session: ClientSession) -> Decimal | None:
    """The session's total charge (the service plus its add-ons), ``None`` above the claim maximum."""
    total = session.charge.amount
    for a in session.add_ons:
        total += a.charge.amount
    return total if total <= MAX_AMOUNT else None


def client_share(coverage: Coverage, total: Decimal) -> Decimal:
    """The client's share of ``total`` under ``coverage``: :meth:`Coverage.client_share` (one home)."""
    return coverage.share_of(total)


@_charge.checks
def charge(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Charges above zero and a total a claim can carry (each amount's limits are Money invariants)."""
    found = []
    if not session.charge:
        found.append(CHARGE_ZERO.at("charge"))
    found.extend(
        CHARGE_ZERO.at(f"add_ons[{i}].charge") for i, a in enumerate(session.add_ons) if not a.charge
    )
    if session.add_ons and total_charge(session) is None:
        found.append(TOTAL_TOO_LARGE.at("charge"))
    return found


_paid = define(
    "paid_at_session",
    INSURANCE_TARGETS,
    "practice-management convention: paid at session must not exceed the client's share (over-payment credit); "
    f"{NUCC}, box 29; {X12}, loop 2300 AMT*F5",
    "the amount paid at the session is not above the client's share",
)
OVER_PAID = _paid.code(
    "paid_at_session.over_client_share",
    WARNING,
    "the amount paid at the session is more than the client's share and creates a credit",
    hint="refund or apply the credit, or correct the amount paid",
)


@_paid.checks
def paid_at_session(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Paid at session <= copay (else coinsurance x charge) of the coverage."""
    paid = session.paid_at_session.amount
    if not paid:
        return NONE
    cov = first_coverage(session, context)
    if cov is None or (cov.copay is not None and paid <= cov.copay.amount and paid <= session.charge.amount):
        return NONE  # the share is min(copay, total) and the total is at least the charge
    total = total_charge(session)
    if cov is None or total is None:
        return NONE
    if paid > client_share(cov, total):
        return (OVER_PAID.at("paid_at_session"),)
    return NONE


CHARGE_RULE: Rule = _charge.rule
"""The ``charge`` rule."""
PAID_AT_SESSION_RULE: Rule = _paid.rule
"""The ``paid_at_session`` rule."""
