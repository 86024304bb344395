"""Procedure code modifiers (two alphanumerics, e.g. ``95``, ``HO``, ``U4``).

:data:`COMMON` holds the modifiers common in behavioural-health billing with a
short meaning (sessionkit's own wording). State Medicaid modifiers
(``U1``-``U9``, ``UA``-``UD``) mean whatever each state says they mean.

>>> validate("gt")
'GT'
>>> describe("95") is not None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidModifier

__all__ = ["COMMON", "compact", "describe", "format", "is_valid", "validate"]

_FORM = re.compile(r"[A-Z0-9]{2}")

_STATE = "state Medicaid modifier; meaning set by each state's program"

COMMON: Mapping[str, str] = MappingProxyType(
    {
        "95": "telehealth, live audio and video",
        "93": "telehealth, live audio only",
        "FQ": "service delivered audio only (RHC/FQHC and some payers)",
        "GT": "telehealth, audio and video (older modifier some payers still want)",
        "59": "service distinct from others billed that day",
        "XE": "distinct service: a separate encounter",
        "XS": "distinct service: a separate organ or structure",
        "XP": "distinct service: a different practitioner",
        "XU": "distinct service: does not overlap the usual components",
        "25": "separately identifiable E/M service on the same day as another service",
        "HO": "provider holds a master's degree",
        "HN": "provider holds a bachelor's degree",
        "HP": "provider holds a doctoral degree",
        "AH": "service by a clinical psychologist",
        "AJ": "service by a clinical social worker",
        "HE": "mental health program",
        "HQ": "group setting",
        "HR": "family or couple session, client present",
        "HS": "family or couple session, client not present",
        **{f"U{c}": _STATE for c in "123456789ABCD"},
        "KX": "payer's policy requirements are met and documented",
        "GA": "advance beneficiary notice (liability waiver) is on file",
        "GY": "item or service not covered by law or by the plan",
        "GZ": "expected to be denied as not medically necessary; no notice on file",
        "52": "service reduced from its full form",
        "53": "service stopped before completion",
        "76": "same service repeated by the same practitioner",
    }
)


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens, uppercase."""
    return clean(require_str(number, InvalidModifier, "modifier"))


def validate(number: str) -> str:
    """Return the normal form (2 uppercase alphanumerics) or raise :class:`InvalidModifier`.

    Error codes: ``modifier.type``, ``modifier.length``, ``modifier.format``.
    """
    number = compact(number)
    if len(number) != 2:
        raise InvalidModifier("modifier must be 2 characters", code="modifier.length")
    if _FORM.fullmatch(number) is None:
        raise InvalidModifier("modifier must be letters A-Z or digits", code="modifier.format")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a well-formed modifier; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidModifier:
        return False
    return True


def format(number: str) -> str:
    """Return the display form (same as the normal form)."""
    return validate(number)


def describe(code: str) -> str | None:
    """Return the short meaning of a common modifier, or ``None`` if unknown or malformed."""
    if not is_valid(code):
        return None
    return COMMON.get(compact(code))
