"""The checker: run the rules of a target over a session, or a stream of sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import Finding, ReadinessReport, Severity, Target
from sessionkit.readiness.payer_rules import PAYER_RULES
from sessionkit.readiness.registry import Rule, RuleRegistry
from sessionkit.readiness.rules import DEFAULT_RULES

__all__ = ["ContextFor", "Rules", "check", "check_many", "default_registry", "error_count"]

Rules = RuleRegistry | Iterable[Rule] | None
"""What ``check`` accepts as rules: a registry, some rules, or ``None`` for the defaults."""

ContextFor = ReadinessContext | Callable[[ClientSession], ReadinessContext]
"""One context for every session, or a function giving each session its context."""


def default_registry() -> RuleRegistry:
    """A new registry with every shipped rule: the default rules enabled, the payer rules disabled.

    Each call returns an independent registry: change it freely.

    >>> registry = default_registry()
    >>> "referring_provider" in registry, registry.get("payer_diagnostic_eval_frequency").enabled
    (True, False)
    """
    return RuleRegistry((*DEFAULT_RULES, *PAYER_RULES))


_DEFAULT = default_registry()


def _severity_rank(finding: Finding) -> int:
    return finding.severity.rank


def _rules_for(rules: Rules, target: Target) -> tuple[Rule, ...]:
    if rules is None:
        return _DEFAULT.rules_for(target)
    if isinstance(rules, RuleRegistry):
        return rules.rules_for(target)
    return tuple(r for r in rules if r.enabled and target in r.targets)


def _run(
    session: ClientSession, context: ReadinessContext, target: Target, rules: tuple[Rule, ...]
) -> ReadinessReport:
    found: list[Finding] = []
    for rule in rules:
        found.extend(rule.check(session, context))
    if len(found) > 1:
        found.sort(key=_severity_rank)
    return ReadinessReport(session_id=session.id, target=target, findings=tuple(found))


def check(
    session: ClientSession,
    context: ReadinessContext,
    target: Target | str,
    rules: Rules = None,
) -> ReadinessReport:
    """Check whether ``session`` is ready for ``target``; every finding is in the report.

    :param rules: a :class:`RuleRegistry` (its enabled rules for the target run),
        an iterable of rules (the enabled ones for the target run), or ``None``
        for the default rules.

    The findings are ordered errors first, then warnings, then info, and in
    rule order within a severity. Rules never raise for any valid session and
    any context: missing parts of the context are findings.
    """
    target = Target(target)
    return _run(session, context, target, _rules_for(rules, target))


def check_many(
    sessions: Iterable[ClientSession],
    context_for: ContextFor,
    target: Target | str,
    rules: Rules = None,
) -> Iterator[ReadinessReport]:
    """Yield one report per session, lazily: memory stays flat however many sessions stream in.

    :param context_for: one :class:`ReadinessContext` for all the sessions, or
        a function returning the context of each session.
    """
    target = Target(target)
    selected = _rules_for(rules, target)
    if isinstance(context_for, ReadinessContext):
        context = context_for
        for session in sessions:
            yield _run(session, context, target, selected)
    else:
        for session in sessions:
            yield _run(session, context_for(session), target, selected)


def error_count(report: ReadinessReport) -> int:
    """How many findings of ``report`` are errors."""
    return sum(1 for f in report.findings if f.severity is Severity.ERROR)
