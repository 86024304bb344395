"""The checker: run the rules of a target over a session, or a stream of sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from sessionkit.domain import ClientSession
from sessionkit.readiness._fused import plan_for, plan_for_all
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import ReadinessReport, Severity, Target, make_report
from sessionkit.readiness.payer_rules import PAYER_RULES
from sessionkit.readiness.registry import Rule, RuleRegistry, plain_findings
from sessionkit.readiness.rules import DEFAULT_RULES

__all__ = ["ContextFor", "Rules", "check", "check_many", "default_registry", "error_count"]
# _check_targets is private (the command line's combined pass), so not in __all__.

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


def _rules_for(rules: Rules, target: Target) -> tuple[Rule, ...]:
    if rules is None:
        return _DEFAULT.rules_for(target)
    if isinstance(rules, RuleRegistry):
        return rules.rules_for(target)
    return tuple(r for r in rules if r.enabled and target in r.targets)


def _run(
    session: ClientSession, context: ReadinessContext, target: Target, rules: tuple[Rule, ...]
) -> ReadinessReport:
    """The plain checker: every rule in turn."""
    return make_report(session.id, target, plain_findings(session, context, rules))


def _checker(
    context: ReadinessContext, target: Target, rules: tuple[Rule, ...], *, reuse: bool
) -> Callable[[ClientSession], ReadinessReport]:
    """A function checking sessions against ``context``.

    The fused checker runs the default rules when ``context`` will check many
    sessions (``reuse``) or already has; otherwise the plain checker runs.
    """
    plan = plan_for(rules, target)
    if plan is None or not (plan.reused(context) or reuse):

        def plain(session: ClientSession) -> ReadinessReport:
            return _run(session, context, target, rules)

        return plain
    fused = plan.bind(context)

    def checked(session: ClientSession) -> ReadinessReport:
        found = fused(session)
        if found is None:
            return _run(session, context, target, rules)
        return make_report(session.id, target, found)

    return checked


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
    target = Target.parse(target)
    return _checker(context, target, _rules_for(rules, target), reuse=False)(session)


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
    target = Target.parse(target)
    selected = _rules_for(rules, target)
    if isinstance(context_for, ReadinessContext):
        plan = plan_for(selected, target)
        if plan is not None:
            # The hot loop of the fused path, inlined: one call per session.
            context = context_for
            fused = plan.bind(context)
            for session in sessions:
                found = fused(session)
                yield (
                    _run(session, context, target, selected)
                    if found is None
                    else make_report(session.id, target, found)
                )
            return
        checker = _checker(context_for, target, selected, reuse=True)
        for session in sessions:
            yield checker(session)
        return
    last: ReadinessContext | None = None
    current: Callable[[ClientSession], ReadinessReport] | None = None
    repeated = False
    for session in sessions:
        context = context_for(session)
        if current is None or context is not last:
            current = _checker(context, target, selected, reuse=False)
            last, repeated = context, False
        elif not repeated:  # the same context again: worth the fused checker
            current = _checker(context, target, selected, reuse=True)
            repeated = True
        yield current(session)


def _check_targets(
    sessions: Iterable[ClientSession],
    context: ReadinessContext,
    targets: Sequence[Target],
    rules: Rules = None,
) -> Iterator[tuple[ReadinessReport, ...]]:
    """Yield, per session, one report per target of ``targets`` (in that order), lazily (private).

    Each report equals ``check_many``'s for its target with ``context``. When the
    837P and the CMS-1500 are both asked for with their default rules, one fused
    pass checks a session for both (they share all but three rules); any other
    rule set checks each target on its own, as ``check_many`` does (fail closed).
    """
    targets = tuple(Target.parse(t) for t in targets)
    selected = {t: _rules_for(rules, t) for t in targets}
    plan = plan_for_all(selected)
    combined: tuple[Target, ...] = () if plan is None else plan.targets
    fused_all = None if plan is None else plan.bind_all(context)
    slot = {t: i for i, t in enumerate(combined)}
    own = {t: _checker(context, t, selected[t], reuse=True) for t in targets if t not in slot}
    if fused_all is None:
        checkers = tuple(own[t] for t in targets)
        for session in sessions:
            yield tuple([checker(session) for checker in checkers])
        return
    steps = tuple((t, slot.get(t, -1), own.get(t)) for t in targets)
    for session in sessions:
        found = fused_all(session)
        if found is None:  # outside the fused path's assumptions: the plain checker
            yield tuple(
                [
                    _run(session, context, t, selected[t]) if checker is None else checker(session)
                    for t, _, checker in steps
                ]
            )
        else:
            session_id = session.id
            yield tuple(
                [
                    make_report(session_id, t, found[i]) if checker is None else checker(session)
                    for t, i, checker in steps
                ]
            )


def error_count(report: ReadinessReport) -> int:
    """How many findings of ``report`` are errors."""
    return sum(1 for f in report.findings if f.severity is Severity.ERROR)
