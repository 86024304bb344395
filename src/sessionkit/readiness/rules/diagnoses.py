"""Diagnoses: the ICD-10-CM codes of the claim, their order and specificity, the ICD-10 era."""

from __future__ import annotations

from collections.abc import Sequence

from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    CLAIM_MAX_DIAGNOSES,
    ERROR,
    ICD10_START,
    INFO,
    LINE_MAX_POINTERS,
    NONE,
    NUCC,
    X12,
    define,
)

_diagnoses = define(
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


_billable = define(
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
    hint="pass a code set in the context: sessionkit.codes.icd10.default_code_set() needs no extra",
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


_icd10_era = define(
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
        return NONE
    return (DATE_BEFORE_ICD10.at("date_of_service"),)


DIAGNOSES_RULE: Rule = _diagnoses.rule
"""The ``diagnoses`` rule."""
DIAGNOSIS_BILLABLE_RULE: Rule = _billable.rule
"""The ``diagnosis_billable`` rule."""
ICD10_ERA_RULE: Rule = _icd10_era.rule
"""The ``icd10_era`` rule."""
