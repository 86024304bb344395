"""The default readiness rules: plain functions ``(session, context) -> findings``, by topic.

Each topic module declares its rules with
:func:`~sessionkit.readiness.registry.define_rule` (name, targets, source) and
the finding codes they may report:

* :mod:`~sessionkit.readiness.rules.parties`: client, practice, payer id, patient, subscriber, referring provider;
* :mod:`~sessionkit.readiness.rules.coverage`: where the session is billed, coverage, prior authorization;
* :mod:`~sessionkit.readiness.rules.diagnoses`: ICD-10-CM codes, their specificity and era;
* :mod:`~sessionkit.readiness.rules.claim`: date of service, resubmission, line notes;
* :mod:`~sessionkit.readiness.rules.codes`: billing code, units, modifiers;
* :mod:`~sessionkit.readiness.rules.money`: charge, paid at session;
* :mod:`~sessionkit.readiness.rules.behavioral`: add-on pairing, same-day limits, session time;
* :mod:`~sessionkit.readiness.rules.invoice`: the client invoice;
* :mod:`~sessionkit.readiness.rules.superbill`: the superbill (what a payer needs to reimburse the client).

:data:`DEFAULT_RULES` lists every rule in the order the checker runs them;
that order is the order of the findings in a report, so it is part of the
behaviour (``docs/findings.md`` follows it too). Importing a topic module
registers nothing: a rule runs because it is named in :data:`DEFAULT_RULES`.

Rules are total: they read only the session and the context, never the clock,
and never raise. Messages are fixed text (no client data, no code values);
hints say how to fix the problem and may name a billing code to use instead.
Every name the topic modules define (rule functions, finding codes, the
``*_RULE`` objects) is importable from this package.
"""

from __future__ import annotations

from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    CLAIM_MAX_DIAGNOSES,
    ICD10_START,
    LINE_MAX_POINTERS,
    TELEHEALTH_MODIFIERS,
    TELEHEALTH_POS,
    X12_BASIC_CHARACTERS,
)
from sessionkit.readiness.rules.behavioral import (
    ADD_ON_PAIRING_RULE,
    BELOW_MINIMUM,
    EXCLUDED_PAIR,
    MINUTES_MISSING,
    NOT_AN_ADD_ON,
    NOT_REPORTABLE,
    OVER_MAXIMUM,
    PRIMARY_NOT_ALLOWED,
    SAME_DAY_EXCLUDED,
    SAME_DAY_RULE,
    SAME_DAY_TWICE,
    SESSION_TIME_RULE,
    TIME_MISMATCH,
    add_on_pairing,
    same_day,
    session_time,
)
from sessionkit.readiness.rules.claim import (
    DATE_FUTURE,
    DATE_OF_SERVICE_RULE,
    LINE_NOTE_PAPER_RULE,
    LINE_NOTE_X12_RULE,
    NOTE_CHARACTERS,
    NOTE_NOT_PRINTABLE,
    NOTE_TOO_LONG,
    REFERENCE_MISSING,
    REFERENCE_UNEXPECTED,
    RESUBMISSION_RULE,
    date_of_service,
    line_note_paper,
    line_note_x12,
    resubmission,
)
from sessionkit.readiness.rules.codes import (
    ADD_ON_AS_PRIMARY,
    BILLING_CODE_RULE,
    FRACTIONAL_UNITS,
    MODIFIER_DUPLICATE,
    MODIFIERS_RULE,
    NOT_IN_SETUP,
    TELEHEALTH_MODIFIER_MISSING,
    WHOLE_UNITS_RULE,
    billing_code,
    modifiers,
    whole_units,
)
from sessionkit.readiness.rules.conformance import CONFORMANCE_RULES
from sessionkit.readiness.rules.coverage import (
    AUTH_EXHAUSTED,
    AUTH_MISSING,
    AUTHORIZATION_RULE,
    BILLED_TO_CLIENT,
    COVERAGE_RULE,
    NO_COVERAGE,
    PAYER_UNKNOWN,
    ROUTING_RULE,
    authorization,
    coverage,
    routing,
)
from sessionkit.readiness.rules.diagnoses import (
    DATE_BEFORE_ICD10,
    DIAGNOSES_RULE,
    DIAGNOSIS_BILLABLE_RULE,
    DUPLICATE,
    ICD10_ERA_RULE,
    NOT_BILLABLE,
    NOT_IN_CODE_SET,
    PRIMARY_MISSING,
    SEQUELA_PRIMARY,
    TOO_MANY_DIAGNOSES,
    TOO_MANY_POINTERS,
    UNCHECKED,
    diagnoses,
    diagnosis_billable,
    icd10_era,
)
from sessionkit.readiness.rules.invoice import (
    INVOICE_ADDRESS_MISSING,
    INVOICE_RULE,
    NOTHING_DUE,
    OVER_CHARGE,
    invoice,
)
from sessionkit.readiness.rules.money import (
    CHARGE_RULE,
    CHARGE_ZERO,
    OVER_PAID,
    PAID_AT_SESSION_RULE,
    TOTAL_TOO_LARGE,
    charge,
    client_share,
    paid_at_session,
    total_charge,
)
from sessionkit.readiness.rules.parties import (
    CLIENT_MISMATCH,
    CLIENT_MISSING,
    CLIENT_RULE,
    PATIENT_ADDRESS_MISSING,
    PATIENT_DOB_FUTURE,
    PATIENT_DOB_MISSING,
    PATIENT_RULE,
    PAYER_ID_MISSING,
    PAYER_ID_RULE,
    PRACTICE_ADDRESS_MISSING,
    PRACTICE_MISSING,
    PRACTICE_RULE,
    REFERRING_FIRST_MISSING,
    REFERRING_LAST_MISSING,
    REFERRING_NPI_INVALID,
    REFERRING_NPI_MISSING,
    REFERRING_PROVIDER_RULE,
    REFERRING_REQUIRED,
    SUBSCRIBER_ADDRESS_MISSING,
    SUBSCRIBER_DOB_FUTURE,
    SUBSCRIBER_DOB_MISSING,
    SUBSCRIBER_MISSING,
    SUBSCRIBER_RULE,
    client,
    patient,
    payer_id,
    practice,
    referring_provider,
    subscriber,
)
from sessionkit.readiness.rules.superbill import (
    SUPERBILL_CLIENT_ADDRESS_MISSING,
    SUPERBILL_CLIENT_DOB_MISSING,
    SUPERBILL_DIAGNOSIS_MISSING,
    SUPERBILL_DIAGNOSIS_NOT_BILLABLE,
    SUPERBILL_PRACTICE_MISSING,
    SUPERBILL_RULE,
    SUPERBILL_RULES,
    superbill,
)

__all__ = [
    "ADD_ON_AS_PRIMARY",
    "ADD_ON_PAIRING_RULE",
    "AUTHORIZATION_RULE",
    "AUTH_EXHAUSTED",
    "AUTH_MISSING",
    "BELOW_MINIMUM",
    "BILLED_TO_CLIENT",
    "BILLING_CODE_RULE",
    "CHARGE_RULE",
    "CHARGE_ZERO",
    "CLAIM_MAX_DIAGNOSES",
    "CLIENT_MISMATCH",
    "CLIENT_MISSING",
    "CLIENT_RULE",
    "COVERAGE_RULE",
    "DATE_BEFORE_ICD10",
    "DATE_FUTURE",
    "DATE_OF_SERVICE_RULE",
    "DEFAULT_RULES",
    "DIAGNOSES_RULE",
    "DIAGNOSIS_BILLABLE_RULE",
    "DUPLICATE",
    "EXCLUDED_PAIR",
    "FRACTIONAL_UNITS",
    "ICD10_ERA_RULE",
    "ICD10_START",
    "INVOICE_ADDRESS_MISSING",
    "INVOICE_RULE",
    "LINE_MAX_POINTERS",
    "LINE_NOTE_PAPER_RULE",
    "LINE_NOTE_X12_RULE",
    "MINUTES_MISSING",
    "MODIFIERS_RULE",
    "MODIFIER_DUPLICATE",
    "NOTE_CHARACTERS",
    "NOTE_NOT_PRINTABLE",
    "NOTE_TOO_LONG",
    "NOTHING_DUE",
    "NOT_AN_ADD_ON",
    "NOT_BILLABLE",
    "NOT_IN_CODE_SET",
    "NOT_IN_SETUP",
    "NOT_REPORTABLE",
    "NO_COVERAGE",
    "OVER_CHARGE",
    "OVER_MAXIMUM",
    "OVER_PAID",
    "PAID_AT_SESSION_RULE",
    "PATIENT_ADDRESS_MISSING",
    "PATIENT_DOB_FUTURE",
    "PATIENT_DOB_MISSING",
    "PATIENT_RULE",
    "PAYER_ID_MISSING",
    "PAYER_ID_RULE",
    "PAYER_UNKNOWN",
    "PRACTICE_ADDRESS_MISSING",
    "PRACTICE_MISSING",
    "PRACTICE_RULE",
    "PRIMARY_MISSING",
    "PRIMARY_NOT_ALLOWED",
    "REFERENCE_MISSING",
    "REFERENCE_UNEXPECTED",
    "REFERRING_FIRST_MISSING",
    "REFERRING_LAST_MISSING",
    "REFERRING_NPI_INVALID",
    "REFERRING_NPI_MISSING",
    "REFERRING_PROVIDER_RULE",
    "REFERRING_REQUIRED",
    "RESUBMISSION_RULE",
    "ROUTING_RULE",
    "SAME_DAY_EXCLUDED",
    "SAME_DAY_RULE",
    "SAME_DAY_TWICE",
    "SEQUELA_PRIMARY",
    "SESSION_TIME_RULE",
    "SUBSCRIBER_ADDRESS_MISSING",
    "SUBSCRIBER_DOB_FUTURE",
    "SUBSCRIBER_DOB_MISSING",
    "SUBSCRIBER_MISSING",
    "SUBSCRIBER_RULE",
    "SUPERBILL_CLIENT_ADDRESS_MISSING",
    "SUPERBILL_CLIENT_DOB_MISSING",
    "SUPERBILL_DIAGNOSIS_MISSING",
    "SUPERBILL_DIAGNOSIS_NOT_BILLABLE",
    "SUPERBILL_PRACTICE_MISSING",
    "SUPERBILL_RULE",
    "SUPERBILL_RULES",
    "TELEHEALTH_MODIFIERS",
    "TELEHEALTH_MODIFIER_MISSING",
    "TELEHEALTH_POS",
    "TIME_MISMATCH",
    "TOO_MANY_DIAGNOSES",
    "TOO_MANY_POINTERS",
    "TOTAL_TOO_LARGE",
    "UNCHECKED",
    "WHOLE_UNITS_RULE",
    "X12_BASIC_CHARACTERS",
    "add_on_pairing",
    "authorization",
    "billing_code",
    "charge",
    "client",
    "client_share",
    "coverage",
    "date_of_service",
    "diagnoses",
    "diagnosis_billable",
    "icd10_era",
    "invoice",
    "line_note_paper",
    "line_note_x12",
    "modifiers",
    "paid_at_session",
    "patient",
    "payer_id",
    "practice",
    "referring_provider",
    "resubmission",
    "routing",
    "same_day",
    "session_time",
    "subscriber",
    "superbill",
    "total_charge",
    "whole_units",
]

DEFAULT_RULES: tuple[Rule, ...] = (
    # who the claim is for, and where it goes
    CLIENT_RULE,
    ROUTING_RULE,
    COVERAGE_RULE,
    PRACTICE_RULE,
    PAYER_ID_RULE,
    PATIENT_RULE,
    SUBSCRIBER_RULE,
    # diagnoses and dates
    DIAGNOSES_RULE,
    DIAGNOSIS_BILLABLE_RULE,
    DATE_OF_SERVICE_RULE,
    ICD10_ERA_RULE,
    # the service line
    BILLING_CODE_RULE,
    WHOLE_UNITS_RULE,
    CHARGE_RULE,
    MODIFIERS_RULE,
    # claim fields
    REFERRING_PROVIDER_RULE,
    RESUBMISSION_RULE,
    LINE_NOTE_PAPER_RULE,
    LINE_NOTE_X12_RULE,
    # authorization and payment
    AUTHORIZATION_RULE,
    PAID_AT_SESSION_RULE,
    # behavioural-health codes
    ADD_ON_PAIRING_RULE,
    SAME_DAY_RULE,
    SESSION_TIME_RULE,
    # the client invoice
    INVOICE_RULE,
    # what clearinghouses check beyond the implementation guide (addresses, dates, units, COB)
    *CONFORMANCE_RULES,
    # Rules of another topic module go here, in the order they run, after the rules
    # above: appending keeps every existing finding in its place.
    # the superbill (its own target: no insurance plan changes)
    *SUPERBILL_RULES,
)
"""Every shipped rule, in the order the checker runs them (and reports their findings)."""
