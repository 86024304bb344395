"""The superbill: what a payer needs to reimburse a client who files the claim themselves.

A superbill is for sessions the client pays for: billed to the client directly,
or to an out-of-network payer the client claims from. The payer reimburses
only with a diagnosis, the provider's NPI and tax id, and billable codes, so
those block the superbill; the client's date of birth and address are asked
for by the claim forms a client fills in, so their absence is a warning.
Whether a payer is out of network is not recorded, so a session billed to
insurance may have a superbill too (the client may see it as a receipt).
"""

from __future__ import annotations

from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import Finding, Target
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import ERROR, WARNING, define

__all__ = [
    "SUPERBILL_CLIENT_ADDRESS_MISSING",
    "SUPERBILL_CLIENT_DOB_MISSING",
    "SUPERBILL_DIAGNOSIS_MISSING",
    "SUPERBILL_DIAGNOSIS_NOT_BILLABLE",
    "SUPERBILL_PRACTICE_MISSING",
    "SUPERBILL_RULES",
    "SUPERBILL_RULE",
    "superbill",
]

_superbill = define(
    "superbill",
    [Target.SUPERBILL],
    "payers' member reimbursement forms: an itemised bill with diagnosis, provider NPI and tax id, and codes",
    "the superbill carries what a payer needs to reimburse the client",
)
SUPERBILL_PRACTICE_MISSING = _superbill.code(
    "superbill.practice_missing",
    ERROR,
    "the practice setup is not in the context: the superbill has no NPI or tax id",
    hint="load the practice setup (its NPI and tax id go on the superbill)",
)
SUPERBILL_DIAGNOSIS_MISSING = _superbill.code(
    "superbill.diagnosis_missing",
    ERROR,
    "the session has no diagnosis: a payer does not reimburse a service without one",
    hint="add the ICD-10-CM diagnosis the service treated",
)
SUPERBILL_DIAGNOSIS_NOT_BILLABLE = _superbill.code(
    "superbill.diagnosis_not_billable",
    ERROR,
    "a diagnosis is not a billable ICD-10-CM code of the release used",
    hint="choose the most specific existing code",
)
SUPERBILL_CLIENT_DOB_MISSING = _superbill.code(
    "superbill.client_dob_missing",
    WARNING,
    "the client has no date of birth: payers match the member by it",
    hint="enter the client's date of birth",
)
SUPERBILL_CLIENT_ADDRESS_MISSING = _superbill.code(
    "superbill.client_address_missing",
    WARNING,
    "the client has no postal address",
    hint="enter the client's address",
)


@_superbill.checks
def superbill(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The practice (NPI, tax id), a billable diagnosis, and the client's date of birth and address."""
    found: list[Finding] = []
    practice = context.practice
    if practice is None:
        found.append(SUPERBILL_PRACTICE_MISSING.at("practice"))
    if not session.diagnoses:
        found.append(SUPERBILL_DIAGNOSIS_MISSING.at("diagnoses"))
    elif context.code_set is not None:
        found.extend(
            SUPERBILL_DIAGNOSIS_NOT_BILLABLE.at(f"diagnoses[{i}]")
            for i, d in enumerate(session.diagnoses)
            if context.diagnosis_status(d.code) != 0
        )
    person = context.client
    if person is not None and person.id == session.client_id:
        if person.date_of_birth is None:
            found.append(SUPERBILL_CLIENT_DOB_MISSING.at("client.date_of_birth"))
        if person.address is None:
            found.append(SUPERBILL_CLIENT_ADDRESS_MISSING.at("client.address"))
    return found


SUPERBILL_RULE: Rule = _superbill.rule
"""The ``superbill`` rule."""

SUPERBILL_RULES: tuple[Rule, ...] = (SUPERBILL_RULE,)
"""The superbill's rules, in the order they run (appended to the default rules)."""
