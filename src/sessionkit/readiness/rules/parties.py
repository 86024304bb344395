"""Parties of the claim: the client, the practice, the payer, the patient, the subscriber, the referring provider."""

from __future__ import annotations

from collections.abc import Sequence

from sessionkit.codes import npi
from sessionkit.domain import ClientSession, Relationship
from sessionkit.readiness.context import ReadinessContext, active_coverage
from sessionkit.readiness.findings import ALL_TARGETS, INSURANCE_TARGETS, Finding, Target
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    ERROR,
    NONE,
    NUCC,
    X12,
    define,
)

_client = define(
    "client",
    ALL_TARGETS,
    "practice-management convention: a claim is built from the record of the session's own client",
    "the session's client is known",
)
CLIENT_MISSING = _client.code(
    "client.missing", ERROR, "the session's client is not in the context", hint="load the client's setup"
)
CLIENT_MISMATCH = _client.code(
    "client.mismatch",
    ERROR,
    "the context holds a different client than the session's",
    hint="build the context for the session's client",
)


@_client.checks
def client(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """The client is in the context and is the session's client."""
    if context.client is None:
        return (CLIENT_MISSING.at("client_id"),)
    if context.client.id != session.client_id:
        return (CLIENT_MISMATCH.at("client_id"),)
    return NONE


_practice = define(
    "practice",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 25 and 33; {X12}, loop 2010AA",
    "the billing provider (NPI, tax id, address) is known",
)
PRACTICE_MISSING = _practice.code(
    "practice.missing", ERROR, "the practice setup is not in the context", hint="load the practice setup"
)
PRACTICE_ADDRESS_MISSING = _practice.code(
    "practice.address_missing",
    ERROR,
    "the billing provider has no address",
    hint="enter the practice's address in the practice setup",
)


@_practice.checks
def practice(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """The practice is known and has an address (its NPI and tax id are valid by construction)."""
    if context.practice is None:
        return (PRACTICE_MISSING.at("practice"),)
    if context.practice.address is None:
        return (PRACTICE_ADDRESS_MISSING.at("practice.address"),)
    return NONE


_payer_id = define(
    "payer_id", [Target.X12_837P], f"{X12}, loop 2010BB NM109", "the payer has an electronic payer id"
)
PAYER_ID_MISSING = _payer_id.code(
    "payer.payer_id_missing",
    ERROR,
    "the payer has no electronic payer id",
    hint="enter the payer id from the clearinghouse's payer list",
)


@_payer_id.checks
def payer_id(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """An electronic claim needs the payer's electronic id."""
    cov = active_coverage(session, context)
    if cov is None:
        return NONE
    payer = context.payers.get(cov.payer_id)
    if payer is not None and payer.payer_id is None:
        return (PAYER_ID_MISSING.at("payer.payer_id"),)
    return NONE


_patient = define(
    "patient",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 3 and 5; {X12}, loops 2010BA/2010CA DMG and N3/N4",
    "the patient has a date of birth (not in the future) and an address",
)
PATIENT_DOB_MISSING = _patient.code(
    "patient.date_of_birth_missing",
    ERROR,
    "the client has no date of birth",
    hint="enter the client's date of birth",
)
PATIENT_DOB_FUTURE = _patient.code(
    "patient.date_of_birth_future",
    ERROR,
    "the client's date of birth is in the future",
    hint="correct the client's date of birth",
)
PATIENT_ADDRESS_MISSING = _patient.code(
    "patient.address_missing", ERROR, "the client has no address", hint="enter the client's address"
)


@_patient.checks
def patient(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The patient's date of birth and address (name and sex code are valid by construction)."""
    person = context.client
    if person is None or person.id != session.client_id:
        return []
    found = []
    if person.date_of_birth is None:
        found.append(PATIENT_DOB_MISSING.at("client.date_of_birth"))
    elif person.date_of_birth > context.today:
        found.append(PATIENT_DOB_FUTURE.at("client.date_of_birth"))
    if person.address is None:
        found.append(PATIENT_ADDRESS_MISSING.at("client.address"))
    return found


_subscriber = define(
    "subscriber",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 4, 7 and 11a; {X12}, loop 2010BA",
    "when the client is not the subscriber, the subscriber has a date of birth and an address",
)
SUBSCRIBER_MISSING = _subscriber.code(
    "subscriber.missing",
    ERROR,
    "the client is not the subscriber and the coverage has no subscriber",
    hint="enter the subscriber on the coverage",
)
SUBSCRIBER_DOB_MISSING = _subscriber.code(
    "subscriber.date_of_birth_missing",
    ERROR,
    "the subscriber has no date of birth",
    hint="enter the subscriber's date of birth",
)
SUBSCRIBER_DOB_FUTURE = _subscriber.code(
    "subscriber.date_of_birth_future",
    ERROR,
    "the subscriber's date of birth is in the future",
    hint="correct the subscriber's date of birth",
)
SUBSCRIBER_ADDRESS_MISSING = _subscriber.code(
    "subscriber.address_missing",
    ERROR,
    "the subscriber has no address",
    hint="enter the subscriber's address",
)


@_subscriber.checks
def subscriber(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """A subscriber other than the client needs a date of birth and an address."""
    cov = active_coverage(session, context)
    if cov is None or cov.relationship is Relationship.SELF:
        return []
    sub = cov.subscriber
    if sub is None:
        return [SUBSCRIBER_MISSING.at("coverage.subscriber")]
    found = []
    if sub.date_of_birth is None:
        found.append(SUBSCRIBER_DOB_MISSING.at("coverage.subscriber.date_of_birth"))
    elif sub.date_of_birth > context.today:
        found.append(SUBSCRIBER_DOB_FUTURE.at("coverage.subscriber.date_of_birth"))
    if sub.address is None:
        found.append(SUBSCRIBER_ADDRESS_MISSING.at("coverage.subscriber.address"))
    return found


_referring = define(
    "referring_provider",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 17 and 17b; {X12}, loop 2310A; a referring provider is given whole (first name, last name and NPI) or not at all",
    "a referring provider, when given or required, has first name, last name and a valid NPI",
)
REFERRING_FIRST_MISSING = _referring.code(
    "referring_provider.first_name_missing",
    ERROR,
    "the referring provider has no first name",
    hint="enter the referring provider's first name",
)
REFERRING_LAST_MISSING = _referring.code(
    "referring_provider.last_name_missing",
    ERROR,
    "the referring provider has no last name",
    hint="enter the referring provider's last name",
)
REFERRING_NPI_MISSING = _referring.code(
    "referring_provider.npi_missing",
    ERROR,
    "the referring provider has no NPI",
    hint="enter the referring provider's NPI (NPPES registry)",
)
REFERRING_NPI_INVALID = _referring.code(
    "referring_provider.npi_invalid",
    ERROR,
    "the referring provider's NPI is not valid",
    hint="check the NPI against the NPPES registry",
)
REFERRING_REQUIRED = _referring.code(
    "referring_provider.required",
    ERROR,
    "the payer requires a referring provider and none is given",
    hint="enter the referring provider's first name, last name and NPI",
)


@_referring.checks
def referring_provider(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """All three parts of the referring provider, and one when the payer requires it."""
    ref = session.referring_provider
    if ref is None:
        cov = active_coverage(session, context)
        payer = None if cov is None else context.payers.get(cov.payer_id)
        if payer is not None and payer.requires_referring_provider:
            return [REFERRING_REQUIRED.at("referring_provider")]
        return []
    found = []
    if not ref.first_name.strip():
        found.append(REFERRING_FIRST_MISSING.at("referring_provider.first_name"))
    if not ref.last_name.strip():
        found.append(REFERRING_LAST_MISSING.at("referring_provider.last_name"))
    if not ref.npi:
        found.append(REFERRING_NPI_MISSING.at("referring_provider.npi"))
    elif not npi.is_valid(ref.npi):
        found.append(REFERRING_NPI_INVALID.at("referring_provider.npi"))
    return found


CLIENT_RULE: Rule = _client.rule
"""The ``client`` rule."""
PRACTICE_RULE: Rule = _practice.rule
"""The ``practice`` rule."""
PAYER_ID_RULE: Rule = _payer_id.rule
"""The ``payer_id`` rule."""
PATIENT_RULE: Rule = _patient.rule
"""The ``patient`` rule."""
SUBSCRIBER_RULE: Rule = _subscriber.rule
"""The ``subscriber`` rule."""
REFERRING_PROVIDER_RULE: Rule = _referring.rule
"""The ``referring_provider`` rule."""
