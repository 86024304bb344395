"""What the rule modules share: severities, the sources they cite, limits, :func:`define`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sessionkit.codes import x12
from sessionkit.readiness.findings import Finding, Severity, Target
from sessionkit.readiness.registry import RuleDefinition, define_rule

__all__ = [
    "CLAIM_MAX_DIAGNOSES",
    "CPT_TIME",
    "ERROR",
    "ICD10_START",
    "INFO",
    "LINE_MAX_POINTERS",
    "NONE",
    "NUCC",
    "ROUTING",
    "TELEHEALTH_MODIFIERS",
    "TELEHEALTH_POS",
    "WARNING",
    "X12",
    "X12_BASIC_CHARACTERS",
    "define",
]

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

NUCC = "NUCC 1500 Claim Form Reference Instruction Manual (02/12)"
X12 = "ASC X12 837P 005010X222A1 implementation guide"
CPT_TIME = "CPT time rules (Novitas JL psychotherapy-time article; APA Services guidance)"
ROUTING = (
    "practice-management convention: the session's Bill To and the client's coverage on the date of service"
    " decide between the insurance claim and the client invoice"
)

ICD10_START = date(2015, 10, 1)
"""ICD-10-CM codes are valid for dates of service on or after this date."""

X12_BASIC_CHARACTERS = x12.BASIC_CHARACTERS
"""The X12 basic character set (:data:`sessionkit.codes.x12.BASIC_CHARACTERS`)."""

TELEHEALTH_POS = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "93", "FQ", "GT"})
CLAIM_MAX_DIAGNOSES = 12
LINE_MAX_POINTERS = 4
NONE: tuple[Finding, ...] = ()
"""No findings (one shared empty tuple)."""


def define(
    name: str,
    targets: Iterable[Target],
    source: str,
    description: str,
    *,
    enabled: bool = True,
) -> RuleDefinition:
    """:func:`~sessionkit.readiness.registry.define_rule` with positional arguments; registers nothing."""
    return define_rule(name, targets=targets, source=source, description=description, enabled=enabled)
