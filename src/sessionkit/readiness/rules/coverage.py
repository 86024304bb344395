"""Coverage: where the session is billed, the client's active coverage, prior authorizations."""

from __future__ import annotations

from collections.abc import Sequence

from sessionkit.domain import BillTo, ClientSession, Frequency
from sessionkit.readiness.context import ReadinessContext, active_coverage
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    ERROR,
    NONE,
    NUCC,
    ROUTING,
    X12,
    define,
)

_routing = define(
    "routing", INSURANCE_TARGETS, ROUTING, "the session is billed to insurance, not to the client"
)
BILLED_TO_CLIENT = _routing.code(
    "bill_to.client_direct",
    ERROR,
    "the session is billed to the client directly, so it goes on the client invoice, not a claim",
    hint="set bill to Automatic if insurance should be billed",
)
NO_COVERAGE = _routing.code(
    "coverage.none_active",
    ERROR,
    "no coverage of the client is active on the date of service, so the session goes to the client",
    hint="add or correct the client's coverage dates",
)


@_routing.checks
def routing(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """A session billed to the client, or without active coverage, is not for insurance."""
    if session.bill_to is BillTo.CLIENT:
        return (BILLED_TO_CLIENT.at("bill_to"),)
    if context.coverage_on(session.date_of_service, session.client_id) is None:
        return (NO_COVERAGE.at("date_of_service"),)
    return NONE


_coverage = define(
    "coverage",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 1a and 11; {X12}, loop 2010BA",
    "the coverage billed has a payer the practice knows",
)
PAYER_UNKNOWN = _coverage.code(
    "coverage.payer_unknown",
    ERROR,
    "the coverage's payer is not in the practice's payers",
    hint="add the payer to the practice setup",
)


@_coverage.checks
def coverage(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The payer of the coverage billed is known."""
    cov = active_coverage(session, context)
    if cov is None or cov.payer_id in context.payers:
        return []
    return [PAYER_UNKNOWN.at("coverage.payer_id")]


_authorization = define(
    "authorization",
    INSURANCE_TARGETS,
    f"payer prior-authorization requirements; {NUCC}, box 23; {X12}, loop 2300 REF*G1",
    "when the payer requires authorization, an active one covers the date with sessions left",
)
AUTH_MISSING = _authorization.code(
    "authorization.missing",
    ERROR,
    "the payer requires authorization and none covers this code on this date",
    hint="enter the authorization the payer issued, or ask the payer for one",
)
AUTH_EXHAUSTED = _authorization.code(
    "authorization.exhausted",
    ERROR,
    "every authorization covering this date has no sessions left",
    hint="ask the payer to extend the authorization",
)


@_authorization.checks
def authorization(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The date lies in an active authorization covering the code that allows it
    (:meth:`sessionkit.facts.AuthorizationUse.allows`: the earliest dates use the units)."""
    cov = active_coverage(session, context)
    if cov is None or session.resubmission.frequency is Frequency.VOID:
        return []  # a void cancels a claim: it uses no unit (sessionkit.facts.draws_on)
    payer = context.payers.get(cov.payer_id)
    if payer is None or not payer.requires_authorization:
        return []
    day = session.date_of_service
    usable = False
    for use in context.authorizations_for(cov.payer_id, session.client_id, session.billing_code):
        if use.authorization.is_active(day):
            usable = True
            if use.allows(session):
                return []
    return [(AUTH_EXHAUSTED if usable else AUTH_MISSING).at("date_of_service")]


ROUTING_RULE: Rule = _routing.rule
"""The ``routing`` rule."""
COVERAGE_RULE: Rule = _coverage.rule
"""The ``coverage`` rule."""
AUTHORIZATION_RULE: Rule = _authorization.rule
"""The ``authorization`` rule."""
