"""Behavioural-health code rules: add-on pairing, same-day limits, session time."""

from __future__ import annotations

from collections.abc import Sequence

from sessionkit.codes import behavioral
from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    CPT_TIME,
    ERROR,
    NONE,
    WARNING,
    define,
)

_add_ons = define(
    "add_on_pairing",
    INSURANCE_TARGETS,
    "CPT add-on pairing rules (APA Services 2022 interactive complexity guidance; AAPC)",
    "add-on codes only with an allowed primary, never with an excluded code",
)
NOT_AN_ADD_ON = _add_ons.code(
    "add_on.not_an_add_on",
    ERROR,
    "an add-on line holds a primary code",
    hint="bill the primary code as its own session",
)
PRIMARY_NOT_ALLOWED = _add_ons.code(
    "add_on.primary_not_allowed",
    ERROR,
    "the add-on code may not be added to the session's primary code",
    hint="check which primary codes the add-on goes with",
)
EXCLUDED_PAIR = _add_ons.code(
    "add_on.excluded_pair",
    ERROR,
    "the add-on code may not be billed with another code of the session",
    hint="remove one of the two codes",
)
_PAIRING_CODES = {
    "add_on.not_an_add_on": NOT_AN_ADD_ON,
    "add_on.primary_not_allowed": PRIMARY_NOT_ALLOWED,
    "add_on.excluded_pair": EXCLUDED_PAIR,
}


@_add_ons.checks
def add_on_pairing(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The catalogue's pairing rules, plus the setup's word on codes the catalogue does not know."""
    if not session.add_ons:
        return []
    codes = [a.code for a in session.add_ons]
    found = [
        _PAIRING_CODES[problem].at(f"add_ons[{i}].code")
        for i, problem, _ in behavioral.pairing_problems(session.billing_code, codes)
    ]
    for i, code in enumerate(codes):
        setup = context.billing_codes.get(code)
        if code not in behavioral.CATALOGUE and setup is not None and not setup.add_on:
            found.append(NOT_AN_ADD_ON.at(f"add_ons[{i}].code"))
    return found


_same_day = define(
    "same_day",
    INSURANCE_TARGETS,
    "CPT same-day rules (crisis codes once per day, not with psychotherapy or evaluation codes)",
    "codes excluded together, or once per day, across the client's sessions of that day",
)
SAME_DAY_EXCLUDED = _same_day.code(
    "same_day.excluded_pair",
    ERROR,
    "a code of the session may not be billed with a code of another session that day",
    hint="bill one of the two codes, or correct the other session",
)
SAME_DAY_TWICE = _same_day.code(
    "same_day.once_per_day",
    ERROR,
    "the code may be billed only once per day and another session that day has it",
    hint="bill the time as one session, with add-on codes where they apply",
)


def _session_codes(session: ClientSession) -> list[tuple[str, str]]:
    return [(session.billing_code, "billing_code")] + [
        (a.code, f"add_ons[{i}].code") for i, a in enumerate(session.add_ons)
    ]


@_same_day.checks
def same_day(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Conflicts between this session's codes and the client's other sessions that day."""
    others = context.same_day_sessions(session)
    if not others:
        return []
    own = _session_codes(session)
    own_codes = [c for c, _ in own]
    other_codes = [c for s in others for c in (s.billing_code, *(a.code for a in s.add_ons))]
    field_of: dict[str, str] = {}
    for code, field in own:
        field_of.setdefault(code, field)
    within = set(behavioral.same_day_conflicts(own_codes))
    found = []
    for a, b, problem in behavioral.same_day_conflicts(own_codes + other_codes):
        if (a, b, problem) in within:
            continue
        if problem == "same_day.once_per_day":
            if a in field_of:
                found.append(SAME_DAY_TWICE.at(field_of[a]))
        elif a in field_of and b in other_codes:
            found.append(SAME_DAY_EXCLUDED.at(field_of[a]))
        elif b in field_of and a in other_codes:
            found.append(SAME_DAY_EXCLUDED.at(field_of[b]))
    return found


_time = define(
    "session_time",
    INSURANCE_TARGETS,
    CPT_TIME,
    "the session length fits the time rule of its code",
)
MINUTES_MISSING = _time.code(
    "minutes.missing",
    WARNING,
    "the code is time-based and the session length is not recorded",
    hint="enter the session length in minutes",
)
TIME_MISMATCH = _time.code(
    "minutes.time_mismatch",
    WARNING,
    "the session is longer than the billing code's range: a longer code fits its length",
    hint="bill the code that fits the session length, or correct the minutes",
)
BELOW_MINIMUM = _time.code(
    "minutes.below_code_minimum",
    ERROR,
    "the session is shorter than the billing code's least time: the length supports a shorter code",
    hint="bill the code that fits the session length, or correct the minutes",
)
NOT_REPORTABLE = _time.code(
    "minutes.not_reportable",
    ERROR,
    "the session is shorter than the least time the code may be reported for",
    hint="correct the minutes; a shorter service is not reportable with this code",
)
OVER_MAXIMUM = _time.code(
    "minutes.over_code_maximum",
    WARNING,
    "the session is longer than the time the code covers",
    hint="bill the extra time with the code's add-on (e.g. 90840 for crisis time past 74 minutes)",
)


_TIMED = frozenset(code for code, r in behavioral.CATALOGUE.items() if r.has_time_rule)
_UNDER = behavioral.TimeFit.UNDER
_FITS = behavioral.TimeFit.FITS


@_time.checks
def session_time(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Minutes present and within the code's time rule (:func:`sessionkit.codes.behavioral.time_verdict`).

    Below the code's least time is an error (the hint names the code the
    minutes fit, if any); above its range a warning.
    """
    if session.billing_code not in _TIMED:
        return NONE
    minutes = session.minutes
    if minutes is None:
        return (MINUTES_MISSING.at("minutes"),)
    verdict = behavioral.time_verdict(session.billing_code, minutes)
    if verdict.fit is _FITS:
        return NONE
    suggestion = verdict.suggestion
    hint = None if suggestion is None else f"bill {suggestion} for this length, or correct the minutes"
    if verdict.fit is _UNDER:
        return ((NOT_REPORTABLE if suggestion is None else BELOW_MINIMUM).at("minutes", hint=hint),)
    return ((OVER_MAXIMUM if suggestion is None else TIME_MISMATCH).at("minutes", hint=hint),)


ADD_ON_PAIRING_RULE: Rule = _add_ons.rule
"""The ``add_on_pairing`` rule."""
SAME_DAY_RULE: Rule = _same_day.rule
"""The ``same_day`` rule."""
SESSION_TIME_RULE: Rule = _time.rule
"""The ``session_time`` rule."""
