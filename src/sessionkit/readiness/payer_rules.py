"""Optional payer-specific rules: not national rules, so they ship disabled.

Turn one on in a registry with ``registry.enable(name)``:

>>> from sessionkit.readiness import default_registry
>>> registry = default_registry()
>>> registry.enable("payer_diagnostic_eval_frequency")
>>> registry.get("payer_diagnostic_eval_frequency").enabled
True
"""

from __future__ import annotations

import calendar
from datetime import date

from sessionkit.domain import BillTo, ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding, Severity
from sessionkit.readiness.registry import Rule, define_rule

__all__ = ["DIAGNOSTIC_EVALUATION_CODES", "PAYER_RULES", "months_before"]

DIAGNOSTIC_EVALUATION_CODES = frozenset({"90791", "90792"})


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter).

    >>> months_before(date(2026, 8, 31), 6)
    datetime.date(2026, 2, 28)
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_eval = define_rule(
    "payer_diagnostic_eval_frequency",
    targets=INSURANCE_TARGETS,
    source="payer policies (e.g. BCBS-IL: one diagnostic evaluation per client per 6 months)",
    description="at most one diagnostic evaluation (90791/90792) per client in 6 months",
    enabled=False,
)
EVAL_TOO_SOON = _eval.code(
    "payer.diagnostic_eval_frequency",
    Severity.ERROR,
    "the client had another diagnostic evaluation in the 6 months before this one",
    hint="bill a psychotherapy code instead, or check the payer's policy on repeat evaluations",
)


@_eval.checks
def payer_diagnostic_eval_frequency(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """One 90791/90792 per client per 6 months; the earlier evaluation is the one that counts."""
    if session.billing_code not in DIAGNOSTIC_EVALUATION_CODES:
        return []
    day = session.date_of_service
    since = months_before(day, 6)
    for other in context.other_sessions:
        if (
            other.id == session.id
            or other.client_id != session.client_id
            or other.bill_to is BillTo.CLIENT
            or other.billing_code not in DIAGNOSTIC_EVALUATION_CODES
        ):
            continue
        other_day = other.date_of_service
        if since < other_day < day or (other_day == day and other.id < session.id):
            return [EVAL_TOO_SOON.at("billing_code")]
    return []


PAYER_RULES: tuple[Rule, ...] = (_eval.rule,)
"""The optional payer rules, disabled by default."""
