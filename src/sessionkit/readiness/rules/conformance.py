"""Readiness rules for the front-end edits clearinghouses apply and pyx12 does not.

A session these rules pass is one a clearinghouse accepts, not merely one
pyx12 parses: billing and facility addresses with a 9-digit ZIP and a street
(not a post-office or lock box), USPS state codes on every claim address, a
date of service on or after the patient's birth, diagnosis codes billable on
the date of service (from the ICD-10-CM history shipped with sessionkit), one
unit for per-session codes, and no claim to a secondary or tertiary payer
without the earlier payers' adjudication (coordination of benefits: the 837P
never says ``SBR*S`` or ``SBR*T`` without loops 2320/2330).

:data:`CONFORMANCE_RULES` run after the other default rules (they are the last
entries of :data:`sessionkit.readiness.rules.DEFAULT_RULES`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from decimal import Decimal

from sessionkit.codes import behavioral, icd10, usps, zipcode
from sessionkit.domain import Address, ClientSession, CoverageRank, Relationship
from sessionkit.domain.payments import Adjudication
from sessionkit.readiness.context import ReadinessContext, active_coverage
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding, FindingCode, Severity
from sessionkit.readiness.registry import Rule, RuleDefinition, define_rule

__all__ = ["CONFORMANCE_RULES"]

ERROR = Severity.ERROR
INFO = Severity.INFO
X12 = "ASC X12 837P 005010X222A1 implementation guide"
NUCC = "NUCC 1500 Claim Form Reference Instruction Manual (02/12)"
_NONE: tuple[Finding, ...] = ()

_definitions: list[RuleDefinition] = []


def _define(name: str, source: str, description: str) -> RuleDefinition:
    definition = define_rule(name, targets=INSURANCE_TARGETS, source=source, description=description)
    _definitions.append(definition)
    return definition


# -- billing provider and service facility addresses ---------------------------------------------

_street = _define(
    "billing_address_street",
    f"{X12}, loops 2010AA and 2310C N3/N4; {NUCC}, boxes 32 and 33",
    "the billing provider's and the service facility's addresses have a 9-digit ZIP and a street",
)
PRACTICE_ZIP = _street.code(
    "practice.zip_plus_4_missing",
    ERROR,
    "the billing provider's ZIP code has 5 digits; claims need all 9 (ZIP+4)",
    hint="enter the practice's ZIP+4 code (the USPS ZIP code lookup gives it)",
)
PRACTICE_PO_BOX = _street.code(
    "practice.address_po_box",
    ERROR,
    "the billing provider's address is a post-office or lock box; claims need a street address",
    hint="enter the street address, and the box as the practice's pay-to address",
)
FACILITY_ZIP = _street.code(
    "facility.zip_plus_4_missing",
    ERROR,
    "the service facility's ZIP code has 5 digits; claims need all 9 (ZIP+4)",
    hint="enter the facility's ZIP+4 code",
)
FACILITY_PO_BOX = _street.code(
    "facility.address_po_box",
    ERROR,
    "the service facility's address is a post-office or lock box; it must be where the service was given",
    hint="enter the facility's street address",
)


@functools.lru_cache(maxsize=1024)
def _street_findings(
    address: Address, path: str, zip_code: FindingCode, box: FindingCode
) -> tuple[Finding, ...]:
    """The findings of one address (remembered: a practice's addresses repeat on every session)."""
    found = []
    if not zipcode.is_zip_plus_4(address.postal_code):
        found.append(zip_code.at(f"{path}.postal_code"))
    found.extend(
        box.at(f"{path}.{line}") for line in ("line1", "line2") if usps.is_po_box(getattr(address, line))
    )
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _known_state(state: str) -> bool:
    return usps.is_valid(state)


@_street.checks
def billing_address_street(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """2010AA and 2310C: a 9-digit ZIP and a street address (a box goes in the pay-to address)."""
    found: list[Finding] = []
    practice = context.practice
    if practice is not None and practice.address is not None:
        found.extend(_street_findings(practice.address, "practice.address", PRACTICE_ZIP, PRACTICE_PO_BOX))
    overrides = session.overrides
    if overrides is not None and overrides.facility_address is not None:
        found.extend(
            _street_findings(
                overrides.facility_address, "overrides.facility_address", FACILITY_ZIP, FACILITY_PO_BOX
            )
        )
    return found


# -- USPS state codes ------------------------------------------------------------------------------

_states = _define(
    "address_states",
    f"{X12}, N402 (USPS state codes); {NUCC}, boxes 5, 7, 32 and 33",
    "every address on the claim has a USPS state code (states, DC, territories, military)",
)
STATE_UNKNOWN = _states.code(
    "address.state_unknown",
    ERROR,
    "an address on the claim has a state that is not a USPS state, territory or military code",
    hint="correct the two-letter state code",
)


def _claim_addresses(session: ClientSession, context: ReadinessContext) -> Iterator[tuple[str, Address]]:
    practice = context.practice
    if practice is not None:
        if practice.address is not None:
            yield "practice.address", practice.address
        if practice.pay_to_address is not None:
            yield "practice.pay_to_address", practice.pay_to_address
    client = context.client
    if client is not None and client.id == session.client_id and client.address is not None:
        yield "client.address", client.address
    cov = active_coverage(session, context)
    if cov is not None:
        sub = cov.subscriber
        if cov.relationship is not Relationship.SELF and sub is not None and sub.address is not None:
            yield "coverage.subscriber.address", sub.address
        payer = context.payers.get(cov.payer_id)
        if payer is not None and payer.address is not None:
            yield "payer.address", payer.address
    overrides = session.overrides
    if overrides is not None and overrides.facility_address is not None:
        yield "overrides.facility_address", overrides.facility_address


@_states.checks
def address_states(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The practice, pay-to, client, subscriber, payer and facility addresses use USPS state codes."""
    return [
        STATE_UNKNOWN.at(f"{path}.state")
        for path, address in _claim_addresses(session, context)
        if not _known_state(address.state)
    ]


# -- dates -----------------------------------------------------------------------------------------

_birth = _define(
    "service_after_birth",
    "clearinghouse front-end edits (date of service before the patient's birth)",
    "the date of service is not before the patient's date of birth",
)
BEFORE_BIRTH = _birth.code(
    "date_of_service.before_birth",
    ERROR,
    "the date of service is before the client's date of birth",
    hint="correct the date of service or the client's date of birth",
)


@_birth.checks
def service_after_birth(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Nobody is treated before they are born."""
    client = context.client
    if client is None or client.id != session.client_id or client.date_of_birth is None:
        return _NONE
    if session.date_of_service < client.date_of_birth:
        return (BEFORE_BIRTH.at("date_of_service"),)
    return _NONE


_on_date = _define(
    "diagnosis_on_date",
    "ICD-10-CM releases (CDC; effective October 1, and April 1 since 2023)",
    "every diagnosis is billable in the ICD-10-CM release in force on the date of service",
)
NOT_VALID_ON_DATE = _on_date.code(
    "diagnosis.not_valid_on_date",
    ERROR,
    "a diagnosis is not a billable ICD-10-CM code on the date of service (added later, deleted, or expanded)",
    hint="choose the code that was in force on the date of service",
)
VALIDITY_UNKNOWN = _on_date.code(
    "diagnosis.validity_unknown",
    INFO,
    "the ICD-10-CM history shipped with sessionkit cannot tell whether a diagnosis was billable on the date",
    hint="check the code against the release in force on the date of service",
)


@_on_date.checks
def diagnosis_on_date(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Each diagnosis against the release in force on the date of service; unknown dates are INFO.

    A code that the context's code set already reports as unknown or not billable
    (rule ``diagnosis_billable``) is not reported twice.
    """
    if not session.diagnoses:
        return []
    history = icd10.history()
    day = session.date_of_service
    found = []
    for i, diagnosis in enumerate(session.diagnoses):
        answer = history.valid_on(diagnosis.code, day)
        if answer is True:
            continue
        if answer is None:
            found.append(VALIDITY_UNKNOWN.at(f"diagnoses[{i}]"))
        elif context.code_set is None or context.diagnosis_status(diagnosis.code) == 0:
            found.append(NOT_VALID_ON_DATE.at(f"diagnoses[{i}]"))
    return found


# -- units -----------------------------------------------------------------------------------------

_per_session = _define(
    "per_session_units",
    "CPT: evaluation, psychotherapy, crisis and family codes are reported once per session",
    "per-session codes (90791, 90792, 90832, 90834, 90837, 90839, 90846, 90847) carry 1 unit",
)
PER_SESSION_UNITS = _per_session.code(
    "units.per_session_code",
    ERROR,
    "the billing code is reported once per session, so its units must be 1",
    hint="set units to 1; bill further time with the code's add-on",
)


@_per_session.checks
def per_session_units(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """One unit for a per-session code."""
    if session.billing_code in behavioral.PER_SESSION and session.units != 1:
        return (PER_SESSION_UNITS.at("units"),)
    return _NONE


# -- coordination of benefits ----------------------------------------------------------------------

_secondary = _define(
    "secondary_payer",
    f"{X12}, loops 2320/2330 (other subscriber and payer) required with SBR01 S or T",
    "a claim to a secondary or tertiary payer carries the earlier payers' posted adjudication",
)
PRIMARY_NOT_ADJUDICATED = _secondary.code(
    "coverage.primary_not_adjudicated",
    ERROR,
    "the coverage to bill is secondary or tertiary and no earlier payer's adjudication of the session "
    "is posted; the claim needs it (coordination of benefits)",
    hint="bill the primary payer and post its EOB first, or correct the coverages' ranks and dates",
)


PRIOR_UNBALANCED = _secondary.code(
    "coverage.prior_unbalanced",
    ERROR,
    "an earlier payer's posted adjudication does not match the session's lines "
    "(a line it did not answer, or paid plus adjustments differ from the line's charge)",
    hint="post the earlier payer's answer for every line, or bill the charges it adjudicated",
)
_ZERO = Decimal("0.00")


def _unbalanced(session: ClientSession, adjudication: Adjudication) -> list[str]:
    """The session's line fields that ``adjudication`` does not answer in balance (837P 2430, guide 1.4.4)."""
    unused = list(adjudication.lines_for(session.id))
    found = []
    lines = [("charge", session.billing_code, session.charge.amount)]
    lines += [(f"add_ons[{i}].charge", a.code, a.charge.amount) for i, a in enumerate(session.add_ons)]
    for field, code, charge in lines:
        match = next((line for line in unused if line.code == code), None)
        if match is None or match.paid + sum((a.amount for a in match.adjustments), _ZERO) != charge:
            found.append(field)
        if match is not None:
            unused.remove(match)
    claim_level = sum((a.amount for a in adjudication.adjustments), _ZERO)
    if adjudication.paid + claim_level != sum((line.paid for line in adjudication.lines), _ZERO):
        found.append("charge")
    return found


@_secondary.checks
def secondary_payer(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """A secondary or tertiary coverage is billed with the earlier payers' posted adjudications.

    The coverage to bill (:func:`sessionkit.facts.coverage_to_bill`) is
    secondary or tertiary only once the coverages before it have answered;
    when none of them has (no primary in effect on the date, say), the claim
    would have no adjudication to carry. Each earlier adjudication must answer
    every line of the session in balance (the charge is what was paid plus the
    adjustments), as the 837P writer requires.
    """
    cov = active_coverage(session, context)
    if cov is None:
        return _NONE
    priors = context.prior_adjudications(session, cov)
    if not priors:
        if cov.rank is not CoverageRank.PRIMARY:
            return (PRIMARY_NOT_ADJUDICATED.at("coverage.rank"),)
        return _NONE
    fields = {field: None for _, adjudication in priors for field in _unbalanced(session, adjudication)}
    return tuple(PRIOR_UNBALANCED.at(field) for field in fields)


CONFORMANCE_RULES: tuple[Rule, ...] = tuple(d.rule for d in _definitions)
"""The rules of this module, in the order they run."""
