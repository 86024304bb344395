"""Claim readiness: every reason a session cannot go on a claim, per target, as data.

>>> from datetime import date
>>> from sessionkit import ClientSession
>>> from sessionkit.readiness import ReadinessContext, Target, check
>>> session = ClientSession(client_id="c1", date_of_service=date(2026, 3, 2),
...                         billing_code="90834", minutes=45, charge="140.00")
>>> report = check(session, ReadinessContext(today=date(2026, 3, 9)), Target.X12_837P)
>>> report.ready
False
>>> "diagnosis.primary_missing" in report.codes
True
"""

from __future__ import annotations

from sessionkit.errors import RuleRegistryError  # lives in sessionkit.errors; re-exported here
from sessionkit.readiness._render import findings_markdown
from sessionkit.readiness.checker import ContextFor, Rules, check, check_many, default_registry
from sessionkit.readiness.context import AuthorizationUse, ReadinessContext, active_coverage
from sessionkit.readiness.findings import Finding, FindingCode, ReadinessReport, Severity, Target
from sessionkit.readiness.registry import (
    CodeInfo,
    Rule,
    RuleCheck,
    RuleDefinition,
    RuleRegistry,
    define_rule,
)

__all__ = [
    "AuthorizationUse",
    "CodeInfo",
    "ContextFor",
    "Finding",
    "FindingCode",
    "ReadinessContext",
    "ReadinessReport",
    "Rule",
    "RuleCheck",
    "RuleDefinition",
    "RuleRegistry",
    "RuleRegistryError",
    "Rules",
    "Severity",
    "Target",
    "active_coverage",
    "check",
    "check_many",
    "default_registry",
    "define_rule",
    "findings_markdown",
]
