"""Rules as plain functions with metadata, kept in a registry an app can change."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from sessionkit.errors import RuleRegistryError  # re-exported: it lives in sessionkit.errors
from sessionkit.readiness.findings import Finding, FindingCode, Severity, Target

if TYPE_CHECKING:
    from sessionkit.domain import ClientSession
    from sessionkit.readiness.context import ReadinessContext

__all__ = [
    "CodeInfo",
    "Rule",
    "RuleCheck",
    "RuleDefinition",
    "RuleRegistry",
    "RuleRegistryError",
    "define_rule",
]

RuleCheck = Callable[["ClientSession", "ReadinessContext"], Iterable[Finding]]
"""A rule's function: ``(session, context) -> findings``. It must never raise."""


def _targets(values: Iterable[Target | str]) -> frozenset[Target]:
    return frozenset(Target(v) for v in values)


def _codes(values: Iterable[FindingCode]) -> tuple[FindingCode, ...]:
    return tuple(values)


def _severity_rank(finding: Finding) -> int:
    return finding.severity.rank


def plain_findings(
    session: ClientSession, context: ReadinessContext, rules: Iterable[Rule]
) -> tuple[Finding, ...]:
    """What the plain checker finds (private to the readiness package): every rule in turn, the findings
    ordered errors first, then warnings, then info, in rule order within a severity."""
    found: list[Finding] = []
    for rule in rules:
        produced = rule.check(session, context)
        if produced:
            found.extend(produced)
    if len(found) > 1:
        found.sort(key=_severity_rank)
    return tuple(found)


@attrs.frozen(kw_only=True)
class Rule:
    """A readiness rule: its function and what the documentation says of it.

    :ivar name: unique in a registry, e.g. ``referring_provider``.
    :ivar check: ``(session, context) -> Iterable[Finding]``; must never raise.
    :ivar codes: every finding code it may report, with severity and meaning.
    :ivar targets: the targets it applies to.
    :ivar source: where the rule comes from.
    :ivar enabled: whether the registry runs it (payer-specific rules ship disabled).
    :ivar description: one line on what it checks.
    """

    name: str
    check: RuleCheck = attrs.field(eq=False)
    codes: tuple[FindingCode, ...] = attrs.field(default=(), converter=_codes)
    targets: frozenset[Target] = attrs.field(converter=_targets)
    source: str = ""
    enabled: bool = True
    description: str = ""


class RuleDefinition:
    """Helper to write a rule: declare its codes, decorate its function, take the :class:`Rule`.

    >>> demo = define_rule("demo", targets=[Target.X12_837P], source="house rule",
    ...                    description="comments must be empty")
    >>> NOT_EMPTY = demo.code("demo.comments", Severity.WARNING, "the comments are not empty",
    ...                       hint="clear them")
    >>> @demo.checks
    ... def comments_empty(session, context):
    ...     return [NOT_EMPTY.at("comments")] if session.comments else []
    >>> demo.rule.name, [c.code for c in demo.rule.codes]
    ('demo', ['demo.comments'])
    """

    def __init__(
        self,
        name: str,
        *,
        targets: Iterable[Target | str],
        source: str,
        description: str = "",
        enabled: bool = True,
    ) -> None:
        self.name = name
        self.targets = _targets(targets)
        self.source = source
        self.description = description
        self.enabled = enabled
        self.codes: list[FindingCode] = []
        self.function: RuleCheck | None = None

    def code(self, code: str, severity: Severity, meaning: str, *, hint: str = "") -> FindingCode:
        """Declare a finding code this rule reports; returns it for the rule's function to use."""
        finding_code = FindingCode(
            code=code, severity=severity, meaning=meaning, hint=hint, rule=self.name, source=self.source
        )
        self.codes.append(finding_code)
        return finding_code

    def checks(self, function: RuleCheck) -> RuleCheck:
        """Decorator: the rule's function."""
        self.function = function
        return function

    @property
    def rule(self) -> Rule:
        """The :class:`Rule` (after :meth:`checks` was applied)."""
        if self.function is None:
            raise RuleRegistryError(
                "the rule has no function yet; decorate one with .checks", field=self.name
            )
        return Rule(
            name=self.name,
            check=self.function,
            codes=tuple(self.codes),
            targets=self.targets,
            source=self.source,
            enabled=self.enabled,
            description=self.description,
        )


def define_rule(
    name: str,
    *,
    targets: Iterable[Target | str],
    source: str,
    description: str = "",
    enabled: bool = True,
) -> RuleDefinition:
    """Start a rule definition (see :class:`RuleDefinition`)."""
    return RuleDefinition(name, targets=targets, source=source, description=description, enabled=enabled)


class RuleRegistry:
    """An ordered set of rules, by name; the checker runs those enabled for a target.

    The rule list per target is computed once and cached until the registry changes.
    """

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: dict[str, Rule] = {}
        self._per_target: dict[Target, tuple[Rule, ...]] = {}
        for r in rules:
            self.add(r)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def __repr__(self) -> str:
        return f"RuleRegistry({len(self._rules)} rules)"

    def get(self, name: str) -> Rule:
        """The rule called ``name``.

        :raises RuleRegistryError: no such rule.
        """
        try:
            return self._rules[name]
        except KeyError:
            raise RuleRegistryError(
                "no rule has that name", code="readiness.rule_unknown", field=name
            ) from None

    def add(self, rule: Rule) -> None:
        """Add ``rule`` at the end.

        :raises RuleRegistryError: a rule of that name is already registered (use :meth:`replace`).
        """
        if rule.name in self._rules:
            raise RuleRegistryError(
                "a rule of that name is already registered", code="readiness.rule_exists", field=rule.name
            )
        self._rules[rule.name] = rule
        self._per_target.clear()

    def remove(self, name: str) -> Rule:
        """Remove the rule called ``name`` and return it."""
        rule = self.get(name)
        del self._rules[name]
        self._per_target.clear()
        return rule

    def replace(self, rule: Rule) -> Rule:
        """Put ``rule`` in the place of the rule with the same name; return the old one."""
        old = self.get(rule.name)
        self._rules[rule.name] = rule
        self._per_target.clear()
        return old

    def enable(self, name: str, enabled: bool = True) -> None:
        """Turn the rule called ``name`` on (or off with ``enabled=False``)."""
        self.replace(attrs.evolve(self.get(name), enabled=enabled))

    def disable(self, name: str) -> None:
        """Turn the rule called ``name`` off."""
        self.enable(name, enabled=False)

    def copy(self) -> RuleRegistry:
        """An independent registry with the same rules."""
        return RuleRegistry(self._rules.values())

    def rules_for(self, target: Target) -> tuple[Rule, ...]:
        """The enabled rules that apply to ``target``, in registry order."""
        found = self._per_target.get(target)
        if found is None:
            found = tuple(r for r in self._rules.values() if r.enabled and target in r.targets)
            self._per_target[target] = found
        return found

    def codes(self) -> tuple[CodeInfo, ...]:
        """Every finding code the registered rules may report (enabled or not), sorted by code.

        A code reported by several rules (e.g. ``claim.too_many_lines``, one rule per
        form) appears once, with the union of their targets.
        """
        found: dict[str, CodeInfo] = {}
        for r in self._rules.values():
            for c in r.codes:
                info = found.get(c.code)
                if info is None:
                    found[c.code] = CodeInfo(
                        code=c.code,
                        severity=c.severity,
                        meaning=c.meaning,
                        hint=c.hint,
                        targets=r.targets,
                        sources=(r.source,),
                        rules=(r.name,),
                        enabled=r.enabled,
                    )
                else:
                    found[c.code] = attrs.evolve(
                        info,
                        targets=info.targets | r.targets,
                        sources=info.sources if r.source in info.sources else (*info.sources, r.source),
                        rules=(*info.rules, r.name),
                        enabled=info.enabled or r.enabled,
                    )
        return tuple(found[k] for k in sorted(found))


@attrs.frozen(kw_only=True)
class CodeInfo:
    """What the documentation says of one finding code (see :meth:`RuleRegistry.codes`)."""

    code: str
    severity: Severity
    meaning: str
    hint: str
    targets: frozenset[Target]
    sources: tuple[str, ...]
    rules: tuple[str, ...]
    enabled: bool
    """Whether a rule reporting it is enabled."""
