"""Behavioural-health CPT codes: time rules and pairing rules, as data.

Only code numbers, minutes and pairing facts are kept here (with short notes
in sessionkit's own words); CPT descriptor text is copyrighted and is not
shipped. National rules only: payer-specific limits (e.g. one 90791 per six
months) belong in optional payer rules elsewhere.

>>> suggest_psychotherapy_code(45)
'90834'
>>> time_mismatch("90837", 45)
'90834'
>>> is_add_on("90785")
True
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import attrs

__all__ = [
    "CATALOGUE",
    "EM_PRIMARIES",
    "PER_SESSION",
    "CodeRule",
    "TimeFit",
    "TimeVerdict",
    "is_add_on",
    "minutes_in_range",
    "pairing_problems",
    "rule",
    "same_day_conflicts",
    "suggest_psychotherapy_code",
    "time_mismatch",
    "time_verdict",
]


@attrs.frozen(kw_only=True)
class CodeRule:
    """What sessionkit knows about one behavioural-health code.

    :ivar code: the 5-digit CPT code.
    :ivar min_minutes: least minutes for the code, ``None`` if it has no time rule.
    :ivar max_minutes: most minutes, ``None`` if open-ended or no time rule.
    :ivar add_on: the code is an add-on and needs a primary code.
    :ivar allowed_primaries: for add-ons, the codes it may go with (empty for primaries).
    :ivar excluded_with: codes it may not be billed with on the same day / session.
    :ivar once_per_day: the code may be billed at most once per day.
    :ivar note: a short description in sessionkit's words.
    """

    code: str
    min_minutes: int | None = None
    max_minutes: int | None = None
    add_on: bool = False
    allowed_primaries: frozenset[str] = frozenset()
    excluded_with: frozenset[str] = frozenset()
    once_per_day: bool = False
    note: str

    @property
    def has_time_rule(self) -> bool:
        """Whether the code has a minimum or maximum number of minutes."""
        return self.min_minutes is not None or self.max_minutes is not None

    def minutes_ok(self, minutes: int) -> bool | None:
        """Return whether ``minutes`` fits this code, ``None`` if it has no time rule."""
        if not self.has_time_rule:
            return None
        if self.min_minutes is not None and minutes < self.min_minutes:
            return False
        return not (self.max_minutes is not None and minutes > self.max_minutes)


def _codes(*ranges: tuple[int, int]) -> frozenset[str]:
    return frozenset(str(n) for lo, hi in ranges for n in range(lo, hi + 1))


#: Evaluation and management codes an interactive psychotherapy add-on
#: (90833/90836/90838) may go with: 99202-99255 and 99304-99350.
EM_PRIMARIES: frozenset[str] = _codes((99202, 99255), (99304, 99350))

_PSYCHOTHERAPY = frozenset({"90832", "90834", "90837"})
_PSYCHOTHERAPY_ADD_ON = frozenset({"90833", "90836", "90838"})
_CRISIS = frozenset({"90839", "90840"})
_FAMILY = frozenset({"90846", "90847"})

PER_SESSION: frozenset[str] = frozenset({"90791", "90792", "90839"}) | _PSYCHOTHERAPY | _FAMILY
"""Codes reported once per session: 1 unit on a date (evaluation, psychotherapy, crisis, family)."""

# Codes that pick one of them by the minutes; the minutes themselves are in CATALOGUE.
_TIME_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("90832", "90834", "90837"),
    ("90833", "90836", "90838"),
)


def _build(rules: Iterable[CodeRule]) -> Mapping[str, CodeRule]:
    """Index the rules by code and make ``excluded_with`` symmetric."""
    by_code = {r.code: r for r in rules}
    excluded: dict[str, set[str]] = {code: set(r.excluded_with) for code, r in by_code.items()}
    for code, r in by_code.items():
        for other in r.excluded_with:
            if other in excluded:
                excluded[other].add(code)
    return MappingProxyType(
        {
            code: attrs.evolve(r, excluded_with=frozenset(excluded[code]))
            for code, r in sorted(by_code.items())
        }
    )


def _psychotherapy(code: str, lo: int, hi: int | None, note: str) -> CodeRule:
    return CodeRule(
        code=code,
        min_minutes=lo,
        max_minutes=hi,
        excluded_with=_CRISIS | _PSYCHOTHERAPY_ADD_ON,
        note=note,
    )


def _psychotherapy_add_on(code: str, lo: int, hi: int | None, note: str) -> CodeRule:
    return CodeRule(
        code=code,
        min_minutes=lo,
        max_minutes=hi,
        add_on=True,
        allowed_primaries=EM_PRIMARIES,
        excluded_with=_PSYCHOTHERAPY | _CRISIS | _FAMILY,
        note=note,
    )


_DIAGNOSTIC_EXCLUDED = _CRISIS | {"90791", "90792"}
_CRISIS_EXCLUDED = frozenset({"90791", "90792", "90785"}) | _PSYCHOTHERAPY | _PSYCHOTHERAPY_ADD_ON

#: Every behavioural-health code sessionkit has rules for, by code.
CATALOGUE: Mapping[str, CodeRule] = _build(
    [
        CodeRule(
            code="90791",
            excluded_with=_DIAGNOSTIC_EXCLUDED - {"90791"},
            once_per_day=True,
            note="diagnostic evaluation (intake), no medical services; untimed",
        ),
        CodeRule(
            code="90792",
            excluded_with=_DIAGNOSTIC_EXCLUDED - {"90792"},
            once_per_day=True,
            note="diagnostic evaluation (intake) including medical services; untimed",
        ),
        _psychotherapy("90832", 16, 37, "individual psychotherapy, about 30 minutes"),
        _psychotherapy("90834", 38, 52, "individual psychotherapy, about 45 minutes"),
        _psychotherapy("90837", 53, None, "individual psychotherapy, about 60 minutes"),
        _psychotherapy_add_on("90833", 16, 37, "psychotherapy added to an E/M visit, ~30 min"),
        _psychotherapy_add_on("90836", 38, 52, "psychotherapy added to an E/M visit, ~45 min"),
        _psychotherapy_add_on("90838", 53, None, "psychotherapy added to an E/M visit, ~60 min"),
        CodeRule(
            code="90839",
            min_minutes=30,
            max_minutes=74,
            excluded_with=_CRISIS_EXCLUDED,
            once_per_day=True,
            note="crisis psychotherapy, first 30-74 minutes of the day",
        ),
        CodeRule(
            code="90840",
            add_on=True,
            allowed_primaries=frozenset({"90839"}),
            excluded_with=_CRISIS_EXCLUDED,
            note="crisis psychotherapy, each further 30 minutes past the first 74 (one unit each)",
        ),
        CodeRule(
            code="90785",
            add_on=True,
            allowed_primaries=frozenset({"90791", "90792", "90853"}) | _PSYCHOTHERAPY | _PSYCHOTHERAPY_ADD_ON,
            excluded_with=_CRISIS | _FAMILY,
            note="interactive complexity (communication factors complicate the session)",
        ),
        CodeRule(code="90845", note="psychoanalysis; untimed"),
        CodeRule(
            code="90846",
            min_minutes=26,
            note="family psychotherapy without the client present, 26+ minutes",
        ),
        CodeRule(
            code="90847",
            min_minutes=26,
            note="family psychotherapy with the client present, 26+ minutes",
        ),
        CodeRule(code="90849", note="multiple-family group psychotherapy; untimed"),
        CodeRule(code="90853", note="group psychotherapy (not family); untimed"),
        CodeRule(
            code="90863",
            add_on=True,
            allowed_primaries=_PSYCHOTHERAPY,
            note="medication management added to psychotherapy (prescribing non-physicians)",
        ),
    ]
)


def _key(code: object) -> str | None:
    if not isinstance(code, str):
        return None
    return code.strip().replace(" ", "").replace("-", "").upper()


def rule(code: str) -> CodeRule | None:
    """Return the rule for ``code`` (whitespace and case ignored), ``None`` if not catalogued."""
    key = _key(code)
    return None if key is None else CATALOGUE.get(key)


def is_add_on(code: str) -> bool:
    """Return whether ``code`` is a catalogued add-on code (never raises)."""
    r = rule(code)
    return r is not None and r.add_on


def _pick(family: tuple[str, ...], minutes: int) -> str | None:
    for code in family:
        if CATALOGUE[code].minutes_ok(minutes):
            return code
    return None


class TimeFit(str, enum.Enum):
    """How a session's minutes compare with its code's time rule."""

    UNTIMED = "untimed"
    """The code has no time rule (or is not catalogued)."""
    FITS = "fits"
    """The minutes are within the code's range."""
    UNDER = "under"
    """Fewer minutes than the code's least reportable time: the code is not supported."""
    OVER = "over"
    """More minutes than the code's range: the time supports a longer code or an add-on."""


@attrs.frozen
class TimeVerdict:
    """:func:`time_verdict`'s answer: the fit, and the code of the same family the minutes fit."""

    fit: TimeFit
    suggestion: str | None = None


_UNTIMED = TimeVerdict(TimeFit.UNTIMED)
_FITS = TimeVerdict(TimeFit.FITS)


def time_verdict(code: str, minutes: int) -> TimeVerdict:
    """Compare ``minutes`` with the time rule of ``code`` (the one table: :data:`CATALOGUE`).

    ``suggestion`` is the code of the same family (90832/90834/90837, or the
    add-ons 90833/90836/90838) that the minutes fit, or ``None`` when none does
    (under 16 minutes, or a code without a family such as 90839).

    >>> time_verdict("90837", 45)
    TimeVerdict(fit=<TimeFit.UNDER: 'under'>, suggestion='90834')
    >>> time_verdict("90832", 45)
    TimeVerdict(fit=<TimeFit.OVER: 'over'>, suggestion='90834')
    >>> time_verdict("90832", 10).suggestion is None, time_verdict("90834", 45).fit.value
    (True, 'fits')
    """
    key = _key(code)
    r = None if key is None else CATALOGUE.get(key)
    if r is None or not r.has_time_rule:
        return _UNTIMED
    if r.minutes_ok(minutes):
        return _FITS
    suggestion = None
    for family in _TIME_FAMILIES:
        if key in family:
            suggestion = _pick(family, minutes)
            break
    fit = TimeFit.UNDER if r.min_minutes is not None and minutes < r.min_minutes else TimeFit.OVER
    return TimeVerdict(fit, suggestion)


def suggest_psychotherapy_code(minutes: int) -> str | None:
    """Return the individual psychotherapy code for ``minutes`` of face-to-face time.

    90832 for 16-37, 90834 for 38-52, 90837 for 53 or more; ``None`` under 16
    minutes (not reportable as psychotherapy).
    """
    return _pick(_TIME_FAMILIES[0], minutes)


def minutes_in_range(code: str, minutes: int) -> bool | None:
    """Return whether ``minutes`` fits the time rule of ``code``; ``None`` if it has none.

    For 90839 the range is the 30-74 minutes the code itself covers; time past
    74 minutes is billed with 90840.
    """
    r = rule(code)
    return None if r is None else r.minutes_ok(minutes)


def time_mismatch(code: str, minutes: int) -> str | None:
    """Return the code the minutes suggest when they contradict ``code``, else ``None``.

    Within the psychotherapy family (90832/90834/90837) and the add-on family
    (90833/90836/90838) the suggestion comes from the same family. ``None`` is
    returned when the minutes fit, when the code has no time rule, and when no
    code of the family fits (e.g. under 16 minutes, or 90839 under 30 minutes):
    use :func:`minutes_in_range` to catch those.
    """
    return time_verdict(code, minutes).suggestion


def pairing_problems(primary: str, add_ons: Sequence[str]) -> list[tuple[int, str, str]]:
    """Return the problems with the add-on codes billed with ``primary``.

    Each problem is ``(index in add_ons, problem code, message)``; problem
    codes are ``add_on.not_an_add_on``, ``add_on.primary_not_allowed`` and
    ``add_on.excluded_pair``. An add-on may also lean on another add-on of the
    same line-up (90785 with 99213 + 90833). Codes not in the catalogue are
    not judged. Messages name only billing codes, never client data.
    """
    primary_key = _key(primary) or ""
    keys = [_key(a) or "" for a in add_ons]
    problems: list[tuple[int, str, str]] = []
    for i, key in enumerate(keys):
        r = CATALOGUE.get(key)
        if r is None:
            continue
        if not r.add_on:
            problems.append((i, "add_on.not_an_add_on", f"{key} is a primary code, not an add-on"))
            continue
        others = {k for j, k in enumerate(keys) if j != i}
        if primary_key in r.excluded_with:
            problems.append((i, "add_on.excluded_pair", f"{key} may not be billed with {primary_key}"))
        elif primary_key not in r.allowed_primaries and not (others & r.allowed_primaries):
            problems.append((i, "add_on.primary_not_allowed", f"{key} may not be added to {primary_key}"))
        clashes = sorted(others & r.excluded_with)
        if clashes:
            problems.append((i, "add_on.excluded_pair", f"{key} may not be billed with {', '.join(clashes)}"))
    return problems


def same_day_conflicts(codes: Sequence[str]) -> list[tuple[str, str, str]]:
    """Return the conflicts among the codes billed for one client on one day.

    Each conflict is ``(code_a, code_b, problem code)``: ``same_day.excluded_pair``
    for two codes that exclude each other (``code_a < code_b``), and
    ``same_day.once_per_day`` (with ``code_a == code_b``) for a once-per-day
    code that appears more than once. Each conflict is reported once.
    """
    keys = sorted({k for k in (_key(c) for c in codes) if k})
    counts: dict[str, int] = {}
    for c in codes:
        k = _key(c)
        if k:
            counts[k] = counts.get(k, 0) + 1
    conflicts: list[tuple[str, str, str]] = []
    for i, a in enumerate(keys):
        r = CATALOGUE.get(a)
        if r is None:
            continue
        if r.once_per_day and counts[a] > 1:
            conflicts.append((a, a, "same_day.once_per_day"))
        conflicts.extend((a, b, "same_day.excluded_pair") for b in keys[i + 1 :] if b in r.excluded_with)
    return conflicts
