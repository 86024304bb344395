"""The service line's codes: the billing code, its units, its modifiers."""

from __future__ import annotations

from decimal import Decimal

from sessionkit.codes import behavioral
from sessionkit.domain import ClientSession
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import INSURANCE_TARGETS, Finding, Target
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    ERROR,
    NUCC,
    TELEHEALTH_MODIFIERS,
    TELEHEALTH_POS,
    WARNING,
    X12,
    define,
)

_billing_code = define(
    "billing_code",
    INSURANCE_TARGETS,
    f"{NUCC}, box 24D; {X12}, loop 2400 SV101; CPT add-on code conventions",
    "the session's code is a primary code known to the practice's setup",
)
ADD_ON_AS_PRIMARY = _billing_code.code(
    "billing_code.add_on_as_primary",
    ERROR,
    "the session's billing code is an add-on code, which needs a primary code",
    hint="bill the primary service and attach this code as an add-on",
)
NOT_IN_SETUP = _billing_code.code(
    "billing_code.not_in_setup",
    WARNING,
    "a billing code is not in the practice's billing codes setup",
    hint="add the code to the billing codes setup",
)


def _is_add_on(code: str, context: ReadinessContext) -> bool:
    setup = context.billing_codes.get(code)
    if setup is not None:
        return setup.add_on
    r = behavioral.CATALOGUE.get(code)
    return r is not None and r.add_on


@_billing_code.checks
def billing_code(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """The session's own code is not an add-on; codes are in the setup when one is given."""
    found = []
    if _is_add_on(session.billing_code, context):
        found.append(ADD_ON_AS_PRIMARY.at("billing_code"))
    setup = context.billing_codes
    if setup:
        if session.billing_code not in setup:
            found.append(NOT_IN_SETUP.at("billing_code"))
        found.extend(
            NOT_IN_SETUP.at(f"add_ons[{i}].code")
            for i, a in enumerate(session.add_ons)
            if a.code not in setup
        )
    return found


_units = define(
    "whole_units",
    [Target.CMS1500],
    f"{NUCC}, box 24G (whole units)",
    "units are whole numbers on the paper form",
)
FRACTIONAL_UNITS = _units.code(
    "units.fractional",
    ERROR,
    "the paper form takes whole units only",
    hint="round the units to a whole number or send the claim electronically",
)


def _fractional(units: Decimal) -> bool:
    return units != units.to_integral_value()


@_units.checks
def whole_units(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """CMS-1500 box 24G holds whole units."""
    found = []
    if _fractional(session.units):
        found.append(FRACTIONAL_UNITS.at("units"))
    found.extend(
        FRACTIONAL_UNITS.at(f"add_ons[{i}].units")
        for i, a in enumerate(session.add_ons)
        if _fractional(a.units)
    )
    return found


_modifiers = define(
    "modifiers",
    INSURANCE_TARGETS,
    f"{NUCC}, box 24D; {X12}, loop 2400 SV101-3..6; CMS telehealth billing guidance",
    "no modifier twice; telehealth places of service carry a telehealth modifier",
)
MODIFIER_DUPLICATE = _modifiers.code(
    "modifier.duplicate",
    WARNING,
    "a modifier is listed twice on the line",
    hint="remove the repeated modifier",
)
TELEHEALTH_MODIFIER_MISSING = _modifiers.code(
    "place_of_service.telehealth_modifier_missing",
    WARNING,
    "the place of service is telehealth but no telehealth modifier (95, 93, FQ or GT) is on the line",
    hint="add 95 for audio and video, or 93 for audio only, if the payer asks for it",
)


@_modifiers.checks
def modifiers(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """Distinct modifiers; a telehealth modifier with POS 02/10."""
    if (
        not session.add_ons
        and len(session.modifiers) < 2
        and session.place_of_service.code not in TELEHEALTH_POS
    ):
        return []
    found = []
    codes = [m.code for m in session.modifiers]
    if len(codes) > 1:
        seen: set[str] = set()
        for i, m in enumerate(codes):
            if m in seen:
                found.append(MODIFIER_DUPLICATE.at(f"modifiers[{i}]"))
            seen.add(m)
    for j, a in enumerate(session.add_ons):
        add_on_codes = [m.code for m in a.modifiers]
        if len(set(add_on_codes)) != len(add_on_codes):
            found.append(MODIFIER_DUPLICATE.at(f"add_ons[{j}].modifiers"))
    if session.place_of_service.code in TELEHEALTH_POS and TELEHEALTH_MODIFIERS.isdisjoint(codes):
        found.append(TELEHEALTH_MODIFIER_MISSING.at("modifiers"))
    return found


BILLING_CODE_RULE: Rule = _billing_code.rule
"""The ``billing_code`` rule."""
WHOLE_UNITS_RULE: Rule = _units.rule
"""The ``whole_units`` rule."""
MODIFIERS_RULE: Rule = _modifiers.rule
"""The ``modifiers`` rule."""
