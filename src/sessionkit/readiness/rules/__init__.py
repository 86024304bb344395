"""The default readiness rules: plain functions ``(session, context) -> findings``.

Each rule is declared with :func:`~sessionkit.readiness.registry.define_rule`
(name, targets, source) and the finding codes it may report. Rules are total:
they read only the session and the context, never the clock, and never raise.
Messages are fixed text (no client data, no code values); hints say how to
fix the problem and may name a billing code to use instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sessionkit.codes import behavioral, npi, x12
from sessionkit.domain import BillTo, ClientSession, Coverage, Frequency, Relationship
from sessionkit.money import MAX_AMOUNT, Money
from sessionkit.readiness.context import ReadinessContext, active_coverage
from sessionkit.readiness.findings import (
    ALL_TARGETS,
    INSURANCE_TARGETS,
    Finding,
    Severity,
    Target,
)
from sessionkit.readiness.registry import Rule, RuleDefinition, define_rule

__all__ = [
    "DEFAULT_RULES",
    "ICD10_START",
    "X12_BASIC_CHARACTERS",
    "client_share",
    "total_charge",
]

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

NUCC = "NUCC 1500 Claim Form Reference Instruction Manual (02/12)"
X12 = "ASC X12 837P 005010X222A1 implementation guide"
CPT_TIME = "CPT time rules (Novitas JL psychotherapy-time article; APA Services guidance)"
ROUTING = "sessionkit routing (seed: Bill To)"

ICD10_START = date(2015, 10, 1)
"""ICD-10-CM codes are valid for dates of service on or after this date."""

X12_BASIC_CHARACTERS = x12.BASIC_CHARACTERS
"""The X12 basic character set (:data:`sessionkit.codes.x12.BASIC_CHARACTERS`)."""

TELEHEALTH_POS = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "93", "FQ", "GT"})
CLAIM_MAX_DIAGNOSES = 12
LINE_MAX_POINTERS = 4
_NONE: tuple[Finding, ...] = ()

_definitions: list[RuleDefinition] = []


def _define(
    name: str,
    targets: Iterable[Target],
    source: str,
    description: str,
    *,
    enabled: bool = True,
) -> RuleDefinition:
    definition = define_rule(name, targets=targets, source=source, description=description, enabled=enabled)
    _definitions.append(definition)
    return definition


# -- client and routing ------------------------------------------------------------------------

_client = _define("client", ALL_TARGETS, "sessionkit", "the session's client is known")
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
    return _NONE


_routing = _define(
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
    return _NONE


_coverage = _define(
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


# -- practice, payer, patient, subscriber --------------------------------------------------------

_practice = _define(
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
    return _NONE


_payer_id = _define(
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
        return _NONE
    payer = context.payers.get(cov.payer_id)
    if payer is not None and payer.payer_id is None:
        return (PAYER_ID_MISSING.at("payer.payer_id"),)
    return _NONE


_patient = _define(
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


_subscriber = _define(
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


# -- diagnoses -----------------------------------------------------------------------------------

_diagnoses = _define(
    "diagnoses",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 21 and 24E; {X12}, loop 2300 HI and SV107; ICD-10-CM official guidelines",
    "a primary diagnosis, no duplicates, no sequela first, pointers and codes within the form's limits",
)
PRIMARY_MISSING = _diagnoses.code(
    "diagnosis.primary_missing",
    ERROR,
    "the session has no diagnosis",
    hint="add the primary diagnosis",
)
DUPLICATE = _diagnoses.code(
    "diagnosis.duplicate",
    ERROR,
    "a diagnosis is listed twice",
    hint="remove the repeated diagnosis",
)
SEQUELA_PRIMARY = _diagnoses.code(
    "diagnosis.sequela_primary",
    ERROR,
    "a sequela code (7th character S) may not be the primary diagnosis",
    hint="put the condition being treated first and the sequela code after it",
)
TOO_MANY_POINTERS = _diagnoses.code(
    "diagnosis.too_many_pointers",
    ERROR,
    "a claim line points to at most 4 diagnoses",
    hint="keep the 4 diagnoses that matter most for this service",
)
TOO_MANY_DIAGNOSES = _diagnoses.code(
    "claim.too_many_diagnoses",
    ERROR,
    "a claim holds at most 12 diagnoses",
    hint="split the claim",
)


@_diagnoses.checks
def diagnoses(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Primary diagnosis present, not a sequela, no duplicates, within the pointer limits."""
    codes = session.diagnoses
    if not codes:
        return [PRIMARY_MISSING.at("diagnoses")]
    found = []
    first = codes[0].code
    if len(first) == 8 and first[7] == "S":  # canonical dotted form: 'S72.001S'
        found.append(SEQUELA_PRIMARY.at("diagnoses[0]"))
    if len(codes) > 1:
        seen: set[str] = set()
        for i, d in enumerate(codes):
            if d.code in seen:
                found.append(DUPLICATE.at(f"diagnoses[{i}]"))
            seen.add(d.code)
    if len(codes) > CLAIM_MAX_DIAGNOSES:
        found.append(TOO_MANY_DIAGNOSES.at("diagnoses"))
    elif len(codes) > LINE_MAX_POINTERS:
        found.append(TOO_MANY_POINTERS.at("diagnoses"))
    return found


_billable = _define(
    "diagnosis_billable",
    INSURANCE_TARGETS,
    "ICD-10-CM tabular list (only codes at the highest specificity are billable)",
    "every diagnosis exists in the code set's release and is billable",
)
NOT_IN_CODE_SET = _billable.code(
    "diagnosis.not_in_code_set",
    ERROR,
    "a diagnosis is not a code of the ICD-10-CM release used",
    hint="choose an existing ICD-10-CM code",
)
NOT_BILLABLE = _billable.code(
    "diagnosis.not_billable",
    ERROR,
    "a diagnosis is a category, not a billable code",
    hint="choose the most specific code under it",
)
UNCHECKED = _billable.code(
    "diagnosis.billability_unchecked",
    INFO,
    "no ICD-10-CM code set was given, so billability was not checked",
    hint="install sessionkit[icd10] or pass a code set in the context",
)


@_billable.checks
def diagnosis_billable(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Billable codes only, when a code set is given; an INFO finding otherwise."""
    code_set = context.code_set
    if not session.diagnoses:
        return []
    if code_set is None:
        return [UNCHECKED.at("diagnoses")]
    found = []
    for i, d in enumerate(session.diagnoses):
        status = context.diagnosis_status(d.code)
        if status == 2:
            found.append(NOT_IN_CODE_SET.at(f"diagnoses[{i}]"))
        elif status == 1:
            found.append(NOT_BILLABLE.at(f"diagnoses[{i}]"))
    return found


# -- dates ---------------------------------------------------------------------------------------

_future = _define(
    "date_of_service",
    ALL_TARGETS,
    f"{NUCC}, box 24A; {X12}, loop 2400 DTP*472",
    "no date of service is in the future",
)
DATE_FUTURE = _future.code(
    "date_of_service.future",
    ERROR,
    "a date of service is after today",
    hint="bill the session once it has taken place",
)


@_future.checks
def date_of_service(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Services are billed after they happen."""
    if session.date_of_service <= context.today:
        return _NONE
    return (DATE_FUTURE.at("date_of_service"),)


_icd10_era = _define(
    "icd10_era",
    INSURANCE_TARGETS,
    "CMS: ICD-10-CM applies to dates of service from 2015-10-01",
    "no date of service is before ICD-10-CM took effect",
)
DATE_BEFORE_ICD10 = _icd10_era.code(
    "date_of_service.before_icd10",
    ERROR,
    "a date of service is before 2015-10-01, when ICD-10-CM took effect",
    hint="bill that date with ICD-9-CM codes outside sessionkit",
)


@_icd10_era.checks
def icd10_era(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """ICD-10 codes need dates of service on or after 2015-10-01."""
    if session.date_of_service >= ICD10_START:
        return _NONE
    return (DATE_BEFORE_ICD10.at("date_of_service"),)


# -- billing code, units, charge, modifiers, place of service ------------------------------------

_billing_code = _define(
    "billing_code",
    INSURANCE_TARGETS,
    f"{NUCC}, box 24D; {X12}, loop 2400 SV101; CPT add-on code conventions",
    "the session's code is a primary code known to the practice's setup",
)
ADD_ON_AS_PRIMARY = _billing_code.code(
    "billing_code.add_on_as_primary",
    ERROR,
    "the session's billing code is an add-on code, which needs a primary code",
    hint="bill the primary service and attach this code as an add-on",
)
NOT_IN_SETUP = _billing_code.code(
    "billing_code.not_in_setup",
    WARNING,
    "a billing code is not in the practice's billing codes setup",
    hint="add the code to the billing codes setup",
)


def _is_add_on(code: str, context: ReadinessContext) -> bool:
    setup = context.billing_codes.get(code)
    if setup is not None:
        return setup.add_on
    r = behavioral.CATALOGUE.get(code)
    return r is not None and r.add_on


@_billing_code.checks
def billing_code(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The session's own code is not an add-on; codes are in the setup when one is given."""
    found = []
    if _is_add_on(session.billing_code, context):
        found.append(ADD_ON_AS_PRIMARY.at("billing_code"))
    setup = context.billing_codes
    if setup:
        if session.billing_code not in setup:
            found.append(NOT_IN_SETUP.at("billing_code"))
        found.extend(
            NOT_IN_SETUP.at(f"add_ons[{i}].code")
            for i, a in enumerate(session.add_ons)
            if a.code not in setup
        )
    return found


_units = _define(
    "whole_units",
    [Target.CMS1500],
    f"{NUCC}, box 24G (whole units)",
    "units are whole numbers on the paper form",
)
FRACTIONAL_UNITS = _units.code(
    "units.fractional",
    ERROR,
    "the paper form takes whole units only",
    hint="round the units to a whole number or send the claim electronically",
)


def _fractional(units: Decimal) -> bool:
    return units != units.to_integral_value()


@_units.checks
def whole_units(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """CMS-1500 box 24G holds whole units."""
    found = []
    if _fractional(session.units):
        found.append(FRACTIONAL_UNITS.at("units"))
    found.extend(
        FRACTIONAL_UNITS.at(f"add_ons[{i}].units")
        for i, a in enumerate(session.add_ons)
        if _fractional(a.units)
    )
    return found


_charge = _define(
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
    return coverage.client_share(Money(total)).amount


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


_modifiers = _define(
    "modifiers",
    INSURANCE_TARGETS,
    f"{NUCC}, box 24D; {X12}, loop 2400 SV101-3..6; CMS telehealth billing guidance",
    "no modifier twice; telehealth places of service carry a telehealth modifier",
)
MODIFIER_DUPLICATE = _modifiers.code(
    "modifier.duplicate",
    WARNING,
    "a modifier is listed twice on the line",
    hint="remove the repeated modifier",
)
TELEHEALTH_MODIFIER_MISSING = _modifiers.code(
    "place_of_service.telehealth_modifier_missing",
    WARNING,
    "the place of service is telehealth but no telehealth modifier (95, 93, FQ or GT) is on the line",
    hint="add 95 for audio and video, or 93 for audio only, if the payer asks for it",
)


@_modifiers.checks
def modifiers(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Distinct modifiers; a telehealth modifier with POS 02/10."""
    if (
        not session.add_ons
        and len(session.modifiers) < 2
        and session.place_of_service.code not in TELEHEALTH_POS
    ):
        return []
    found = []
    codes = [m.code for m in session.modifiers]
    if len(codes) > 1:
        seen: set[str] = set()
        for i, m in enumerate(codes):
            if m in seen:
                found.append(MODIFIER_DUPLICATE.at(f"modifiers[{i}]"))
            seen.add(m)
    for j, a in enumerate(session.add_ons):
        add_on_codes = [m.code for m in a.modifiers]
        if len(set(add_on_codes)) != len(add_on_codes):
            found.append(MODIFIER_DUPLICATE.at(f"add_ons[{j}].modifiers"))
    if session.place_of_service.code in TELEHEALTH_POS and TELEHEALTH_MODIFIERS.isdisjoint(codes):
        found.append(TELEHEALTH_MODIFIER_MISSING.at("modifiers"))
    return found


# -- referring provider, resubmission, line note -------------------------------------------------

_referring = _define(
    "referring_provider",
    INSURANCE_TARGETS,
    f"{NUCC}, boxes 17 and 17b; {X12}, loop 2310A; seed: all three parts or none",
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


_resubmission = _define(
    "resubmission",
    INSURANCE_TARGETS,
    f"{NUCC}, box 22; {X12}, loop 2300 CLM05-3 and REF*F8",
    "a replacement or void carries the original claim's reference; an original carries none",
)
REFERENCE_MISSING = _resubmission.code(
    "resubmission.reference_missing",
    ERROR,
    "a replacement or void claim needs the payer's original claim reference",
    hint="enter the payer's claim control number from the remittance",
)
REFERENCE_UNEXPECTED = _resubmission.code(
    "resubmission.reference_unexpected",
    ERROR,
    "an original claim carries no original claim reference",
    hint="remove the reference, or set the frequency to replacement (7) or void (8)",
)


@_resubmission.checks
def resubmission(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Frequency 7/8 needs the original reference; 1 must not carry one."""
    resub = session.resubmission
    if resub.frequency is Frequency.ORIGINAL:
        if resub.original_reference:
            return (REFERENCE_UNEXPECTED.at("resubmission.original_reference"),)
        return _NONE
    if not resub.original_reference:
        return (REFERENCE_MISSING.at("resubmission.original_reference"),)
    return _NONE


_note_paper = _define(
    "line_note_paper",
    [Target.CMS1500],
    f"{NUCC} (no box for line notes)",
    "a line note cannot be printed on the paper form",
)
NOTE_NOT_PRINTABLE = _note_paper.code(
    "line_note.not_printable",
    WARNING,
    "the line note cannot be printed on the CMS-1500 and will be left off",
    hint="send the claim electronically if the payer needs the note",
)


@_note_paper.checks
def line_note_paper(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """A line note is dropped from the paper form."""
    return (NOTE_NOT_PRINTABLE.at("line_note"),) if session.line_note else _NONE


_note_x12 = _define(
    "line_note_x12",
    [Target.X12_837P],
    f"{X12}, loop 2400 NTE*ADD (1-80 characters, basic character set)",
    "a line note is at most 80 characters of the X12 basic character set",
)
NOTE_CHARACTERS = _note_x12.code(
    "line_note.invalid_characters",
    ERROR,
    "the line note has characters outside the X12 basic character set",
    hint="use letters, digits, spaces and ! \" & ' ( ) + , - . / ; ? = only (letters are sent in capitals)",
)
NOTE_TOO_LONG = _note_x12.code(
    "line_note.too_long",
    ERROR,
    "the line note is longer than 80 characters",
    hint="shorten the line note",
)


@_note_x12.checks
def line_note_x12(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """NTE02 is 1-80 characters of the basic character set (less the separators)."""
    note = session.line_note
    if not note:
        return []
    found = []
    # The writer sends the note in capitals, so lowercase letters are fine here.
    if not x12.is_basic(note):
        found.append(NOTE_CHARACTERS.at("line_note"))
    if len(note) > 80:
        found.append(NOTE_TOO_LONG.at("line_note"))
    return found


# -- authorization, paid at session ---------------------------------------------------------------

_authorization = _define(
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


_paid = _define(
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
        return _NONE
    cov = active_coverage(session, context)
    if cov is None or (cov.copay is not None and paid <= cov.copay.amount and paid <= session.charge.amount):
        return _NONE  # the share is min(copay, total) and the total is at least the charge
    total = total_charge(session)
    if cov is None or total is None:
        return _NONE
    if paid > client_share(cov, total):
        return (OVER_PAID.at("paid_at_session"),)
    return _NONE


# -- behavioural-health codes: add-ons, same day, time ---------------------------------------------

_add_ons = _define(
    "add_on_pairing",
    INSURANCE_TARGETS,
    "CPT add-on pairing rules (APA Services 2022 interactive complexity guidance; AAPC)",
    "add-on codes only with an allowed primary, never with an excluded code",
)
NOT_AN_ADD_ON = _add_ons.code(
    "add_on.not_an_add_on",
    ERROR,
    "an add-on line holds a primary code",
    hint="bill the primary code as its own session",
)
PRIMARY_NOT_ALLOWED = _add_ons.code(
    "add_on.primary_not_allowed",
    ERROR,
    "the add-on code may not be added to the session's primary code",
    hint="check which primary codes the add-on goes with",
)
EXCLUDED_PAIR = _add_ons.code(
    "add_on.excluded_pair",
    ERROR,
    "the add-on code may not be billed with another code of the session",
    hint="remove one of the two codes",
)
_PAIRING_CODES = {
    "add_on.not_an_add_on": NOT_AN_ADD_ON,
    "add_on.primary_not_allowed": PRIMARY_NOT_ALLOWED,
    "add_on.excluded_pair": EXCLUDED_PAIR,
}


@_add_ons.checks
def add_on_pairing(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The catalogue's pairing rules, plus the setup's word on codes the catalogue does not know."""
    if not session.add_ons:
        return []
    codes = [a.code for a in session.add_ons]
    found = [
        _PAIRING_CODES[problem].at(f"add_ons[{i}].code")
        for i, problem, _ in behavioral.pairing_problems(session.billing_code, codes)
    ]
    for i, code in enumerate(codes):
        setup = context.billing_codes.get(code)
        if code not in behavioral.CATALOGUE and setup is not None and not setup.add_on:
            found.append(NOT_AN_ADD_ON.at(f"add_ons[{i}].code"))
    return found


_same_day = _define(
    "same_day",
    INSURANCE_TARGETS,
    "CPT same-day rules (crisis codes once per day, not with psychotherapy or evaluation codes)",
    "codes excluded together, or once per day, across the client's sessions of that day",
)
SAME_DAY_EXCLUDED = _same_day.code(
    "same_day.excluded_pair",
    ERROR,
    "a code of the session may not be billed with a code of another session that day",
    hint="bill one of the two codes, or correct the other session",
)
SAME_DAY_TWICE = _same_day.code(
    "same_day.once_per_day",
    ERROR,
    "the code may be billed only once per day and another session that day has it",
    hint="bill the time as one session, with add-on codes where they apply",
)


def _session_codes(session: ClientSession) -> list[tuple[str, str]]:
    return [(session.billing_code, "billing_code")] + [
        (a.code, f"add_ons[{i}].code") for i, a in enumerate(session.add_ons)
    ]


@_same_day.checks
def same_day(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Conflicts between this session's codes and the client's other sessions that day."""
    others = context.same_day_sessions(session)
    if not others:
        return []
    own = _session_codes(session)
    own_codes = [c for c, _ in own]
    other_codes = [c for s in others for c in (s.billing_code, *(a.code for a in s.add_ons))]
    field_of: dict[str, str] = {}
    for code, field in own:
        field_of.setdefault(code, field)
    within = set(behavioral.same_day_conflicts(own_codes))
    found = []
    for a, b, problem in behavioral.same_day_conflicts(own_codes + other_codes):
        if (a, b, problem) in within:
            continue
        if problem == "same_day.once_per_day":
            if a in field_of:
                found.append(SAME_DAY_TWICE.at(field_of[a]))
        elif a in field_of and b in other_codes:
            found.append(SAME_DAY_EXCLUDED.at(field_of[a]))
        elif b in field_of and a in other_codes:
            found.append(SAME_DAY_EXCLUDED.at(field_of[b]))
    return found


_time = _define(
    "session_time",
    INSURANCE_TARGETS,
    CPT_TIME,
    "the session length fits the time rule of its code",
)
MINUTES_MISSING = _time.code(
    "minutes.missing",
    WARNING,
    "the code is time-based and the session length is not recorded",
    hint="enter the session length in minutes",
)
TIME_MISMATCH = _time.code(
    "minutes.time_mismatch",
    WARNING,
    "the session is longer than the billing code's range: a longer code fits its length",
    hint="bill the code that fits the session length, or correct the minutes",
)
BELOW_MINIMUM = _time.code(
    "minutes.below_code_minimum",
    ERROR,
    "the session is shorter than the billing code's least time: the length supports a shorter code",
    hint="bill the code that fits the session length, or correct the minutes",
)
NOT_REPORTABLE = _time.code(
    "minutes.not_reportable",
    ERROR,
    "the session is shorter than the least time the code may be reported for",
    hint="correct the minutes; a shorter service is not reportable with this code",
)
OVER_MAXIMUM = _time.code(
    "minutes.over_code_maximum",
    WARNING,
    "the session is longer than the time the code covers",
    hint="bill the extra time with the code's add-on (e.g. 90840 for crisis time past 74 minutes)",
)


_TIMED = frozenset(code for code, r in behavioral.CATALOGUE.items() if r.has_time_rule)
_UNDER = behavioral.TimeFit.UNDER
_FITS = behavioral.TimeFit.FITS


@_time.checks
def session_time(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Minutes present and within the code's time rule (:func:`sessionkit.codes.behavioral.time_verdict`).

    Below the code's least time is an error (the hint names the code the
    minutes fit, if any); above its range a warning.
    """
    if session.billing_code not in _TIMED:
        return _NONE
    minutes = session.minutes
    if minutes is None:
        return (MINUTES_MISSING.at("minutes"),)
    verdict = behavioral.time_verdict(session.billing_code, minutes)
    if verdict.fit is _FITS:
        return _NONE
    suggestion = verdict.suggestion
    hint = None if suggestion is None else f"bill {suggestion} for this length, or correct the minutes"
    if verdict.fit is _UNDER:
        return ((NOT_REPORTABLE if suggestion is None else BELOW_MINIMUM).at("minutes", hint=hint),)
    return ((OVER_MAXIMUM if suggestion is None else TIME_MISMATCH).at("minutes", hint=hint),)


# -- client invoice --------------------------------------------------------------------------------

_invoice = _define(
    "invoice",
    [Target.CLIENT_INVOICE],
    "sessionkit routing (seed: Invoice Clients)",
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
    cov = active_coverage(session, context)
    if cov is not None and paid >= client_share(cov, total):
        found.append(NOTHING_DUE.at("bill_to"))
    return found


DEFAULT_RULES: tuple[Rule, ...] = tuple(d.rule for d in _definitions)
"""Every rule sessionkit ships enabled, in the order they run (payer rules are in
:mod:`sessionkit.readiness.payer_rules`)."""
