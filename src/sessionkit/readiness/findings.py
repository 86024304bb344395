"""Targets, severities, findings and the readiness report."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from sessionkit.errors import ClaimNotReady, InvalidValue

__all__ = ["Finding", "FindingCode", "ReadinessReport", "Severity", "Target"]


class Target(str, enum.Enum):
    """Where a session is going: a paper claim, an electronic claim or the client's invoice."""

    CMS1500 = "cms1500"
    """The paper claim form (NUCC 1500, version 02/12)."""
    X12_837P = "x12_837p"
    """The electronic professional claim (ANSI X12 837P, 005010X222A1)."""
    CLIENT_INVOICE = "client_invoice"
    """The invoice the practice sends the client."""
    SUPERBILL = "superbill"
    """The itemised receipt a client files with an out-of-network payer (or keeps, when billed directly)."""

    @classmethod
    def parse(cls, value: Target | str) -> Target:
        """The target named by ``value``: a member, its value, or a spelling the command line uses.

        Accepted spellings, case and ``-``/``_`` ignored: ``cms1500``, ``1500``,
        ``paper``; ``x12_837p``, ``837p``, ``837``, ``x12``; ``client_invoice``,
        ``invoice``, ``client``; ``superbill``. Anything else raises
        :class:`~sessionkit.errors.InvalidValue` (code ``target.unknown``, field ``target``).

        >>> Target.parse("837P"), Target.parse("cms-1500"), Target("invoice")
        (<Target.X12_837P: 'x12_837p'>, <Target.CMS1500: 'cms1500'>, <Target.CLIENT_INVOICE: 'client_invoice'>)
        """
        if type(value) is cls:
            return value
        found = (
            _ALIASES.get(value.lower().replace("-", "").replace("_", "")) if isinstance(value, str) else None
        )
        if found is None:
            raise InvalidValue(
                "the target must be cms1500, 837p, client_invoice or superbill", "target.unknown", "target"
            )
        return found

    @classmethod
    def _missing_(cls, value: object) -> Target | None:
        try:
            return cls.parse(value)  # type: ignore[arg-type]
        except InvalidValue:
            return None

    @property
    def is_insurance(self) -> bool:
        """Whether the target is an insurance claim (paper or electronic)."""
        return self in INSURANCE_TARGETS

    @property
    def max_lines(self) -> int:
        """How many service lines one claim of this form holds: 6 on a CMS-1500, 50 on an 837P.

        The client invoice and the superbill have no such limit (0 here means none).
        """
        return _MAX_LINES[self]

    @property
    def label(self) -> str:
        """A short display name: ``CMS-1500``, ``837P`` or ``client invoice``."""
        return _LABELS[self]


_LABELS = {
    Target.CMS1500: "CMS-1500",
    Target.X12_837P: "837P",
    Target.CLIENT_INVOICE: "client invoice",
    Target.SUPERBILL: "superbill",
}
_MAX_LINES = {Target.CMS1500: 6, Target.X12_837P: 50, Target.CLIENT_INVOICE: 0, Target.SUPERBILL: 0}
_ALIASES = {
    **dict.fromkeys(("cms1500", "1500", "paper"), Target.CMS1500),
    **dict.fromkeys(("x12837p", "837p", "837", "x12"), Target.X12_837P),
    **dict.fromkeys(("clientinvoice", "invoice", "client"), Target.CLIENT_INVOICE),
    "superbill": Target.SUPERBILL,
}

INSURANCE_TARGETS: frozenset[Target] = frozenset({Target.CMS1500, Target.X12_837P})
ALL_TARGETS: frozenset[Target] = frozenset(Target)


class Severity(str, enum.Enum):
    """How much a finding matters: an error blocks the target, a warning or info does not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info (the report's sort order)."""
        return _RANKS[self]


_RANKS = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@attrs.frozen(kw_only=True)
class Finding:
    """One reason a session is not (or may not be) ready for a target.

    :ivar code: a stable dotted code, e.g. ``referring_provider.npi_missing``.
    :ivar severity: ERROR blocks the target; WARNING and INFO do not.
    :ivar field: the path of the field concerned, e.g. ``add_ons[1].code``.
    :ivar message: plain text; never contains client data.
    :ivar hint: how to fix it.
    :ivar source: where the rule comes from, e.g. ``NUCC 1500 instructions, box 17``.
    :ivar rule: the name of the rule that reported it.
    """

    code: str
    severity: Severity
    field: str
    message: str
    hint: str = ""
    source: str = ""
    rule: str = ""

    def to_dict(self) -> dict[str, str]:
        """Plain data (JSON-serialisable)."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "source": self.source,
            "rule": self.rule,
        }


_CACHE_MAX = 64


@attrs.frozen(kw_only=True)
class FindingCode:
    """What a rule may report: the code, its severity and meaning, bound to its rule.

    Rules build findings with :meth:`at`, so that a code's severity, message,
    hint and source are the same wherever it is reported. Messages are fixed
    text: they cannot leak client data.

    >>> code = FindingCode(code="demo.missing", severity=Severity.ERROR,
    ...                    meaning="the demo field is missing", hint="fill it in",
    ...                    rule="demo", source="house rule")
    >>> code.at("demo").message
    'the demo field is missing'
    """

    code: str
    severity: Severity = attrs.field(converter=Severity)
    meaning: str
    """Plain text, used as the finding's message."""
    hint: str = ""
    rule: str = ""
    source: str = ""
    _cache: dict[str, Finding] = attrs.field(factory=dict, init=False, eq=False, repr=False, hash=False)

    def at(self, field: str, *, hint: str | None = None) -> Finding:
        """Return the finding for ``field`` (with another ``hint`` when given)."""
        if hint is None:
            found = self._cache.get(field)
            if found is not None:
                return found
        finding = Finding(
            code=self.code,
            severity=self.severity,
            field=field,
            message=self.meaning,
            hint=self.hint if hint is None else hint,
            source=self.source,
            rule=self.rule,
        )
        if hint is None and len(self._cache) < _CACHE_MAX:
            self._cache[field] = finding
        return finding


@attrs.frozen(kw_only=True)
class ReadinessReport:
    """Whether one session is ready for one target, and every reason it is not.

    ``findings`` are ordered errors first, then warnings, then info; within a
    severity in rule order (deterministic for the same input and rules).
    """

    session_id: str
    target: Target
    findings: tuple[Finding, ...] = ()

    @property
    def ready(self) -> bool:
        """True exactly when no finding is an error."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that block the target."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings worth a look that do not block the target."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the findings, in report order."""
        return tuple(f.code for f in self.findings)

    def raise_if_not_ready(self) -> None:
        """Raise :class:`~sessionkit.errors.ClaimNotReady` (carrying the findings) unless ready."""
        if not self.ready:
            errors = self.errors
            raise ClaimNotReady(
                f"session is not ready for the {self.target.label} target: "
                f"{len(errors)} error(s), first {errors[0].code}",
                code="claim.not_ready",
                field=errors[0].field,
                findings=self.findings,
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serialisable)."""
        return {
            "session_id": self.session_id,
            "target": self.target.value,
            "ready": self.ready,
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        from sessionkit.readiness._render import report_text  # noqa: PLC0415 (avoid an import cycle)

        return report_text(self)

    def _repr_html_(self) -> str:
        from sessionkit.readiness._render import report_html  # noqa: PLC0415 (avoid an import cycle)

        return report_html(self)


_SET_SESSION_ID = ReadinessReport.__dict__["session_id"].__set__
_SET_TARGET = ReadinessReport.__dict__["target"].__set__
_SET_FINDINGS = ReadinessReport.__dict__["findings"].__set__
_new_object = object.__new__


def make_report(session_id: str, target: Target, findings: tuple[Finding, ...]) -> ReadinessReport:
    """``ReadinessReport(session_id=..., target=..., findings=...)`` at a third of the cost (hot path).

    The report has no converters or validators, so filling its slots directly
    gives the same object as the attrs ``__init__``.
    """
    report: ReadinessReport = _new_object(ReadinessReport)
    _SET_SESSION_ID(report, session_id)
    _SET_TARGET(report, target)
    _SET_FINDINGS(report, findings)
    return report
