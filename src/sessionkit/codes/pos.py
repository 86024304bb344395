"""CMS place-of-service (POS) codes.

Two digits from the CMS POS code set; only assigned codes are valid.
Telehealth is ``02`` (patient not at home) or ``10`` (patient at home, since
2022-01-01).

>>> validate("11")
'11'
>>> name("53")
'Community Mental Health Center'
>>> is_telehealth("10")
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidPlaceOfService

__all__ = [
    "NAMES",
    "TELEHEALTH",
    "compact",
    "format",
    "is_telehealth",
    "is_valid",
    "name",
    "validate",
]

_FORM = re.compile(r"[0-9]{2}")

NAMES: Mapping[str, str] = MappingProxyType(
    {
        "01": "Pharmacy",
        "02": "Telehealth Provided Other than in Patient's Home",
        "03": "School",
        "04": "Homeless Shelter",
        "05": "Indian Health Service Free-standing Facility",
        "06": "Indian Health Service Provider-based Facility",
        "07": "Tribal 638 Free-standing Facility",
        "08": "Tribal 638 Provider-based Facility",
        "09": "Prison/Correctional Facility",
        "10": "Telehealth Provided in Patient's Home",
        "11": "Office",
        "12": "Home",
        "13": "Assisted Living Facility",
        "14": "Group Home",
        "15": "Mobile Unit",
        "16": "Temporary Lodging",
        "17": "Walk-in Retail Health Clinic",
        "18": "Place of Employment-Worksite",
        "19": "Off Campus-Outpatient Hospital",
        "20": "Urgent Care Facility",
        "21": "Inpatient Hospital",
        "22": "On Campus-Outpatient Hospital",
        "23": "Emergency Room - Hospital",
        "24": "Ambulatory Surgical Center",
        "25": "Birthing Center",
        "26": "Military Treatment Facility",
        "27": "Outreach Site/Street",
        "31": "Skilled Nursing Facility",
        "32": "Nursing Facility",
        "33": "Custodial Care Facility",
        "34": "Hospice",
        "41": "Ambulance - Land",
        "42": "Ambulance - Air or Water",
        "49": "Independent Clinic",
        "50": "Federally Qualified Health Center",
        "51": "Inpatient Psychiatric Facility",
        "52": "Psychiatric Facility-Partial Hospitalization",
        "53": "Community Mental Health Center",
        "54": "Intermediate Care Facility/Individuals with Intellectual Disabilities",
        "55": "Residential Substance Abuse Treatment Facility",
        "56": "Psychiatric Residential Treatment Center",
        "57": "Non-residential Substance Abuse Treatment Facility",
        "58": "Non-residential Opioid Treatment Program",
        "60": "Mass Immunization Center",
        "61": "Comprehensive Inpatient Rehabilitation Facility",
        "62": "Comprehensive Outpatient Rehabilitation Facility",
        "65": "End-Stage Renal Disease Treatment Facility",
        "66": "Programs of All-Inclusive Care for the Elderly (PACE) Center",
        "71": "Public Health Clinic",
        "72": "Rural Health Clinic",
        "81": "Independent Laboratory",
        "99": "Other Place of Service",
    }
)

TELEHEALTH: frozenset[str] = frozenset({"02", "10"})


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens, uppercase."""
    return clean(require_str(number, InvalidPlaceOfService, "pos"))


def validate(number: str) -> str:
    """Return the normal form (2 digits) or raise :class:`InvalidPlaceOfService`.

    A single digit is not padded: ``"3"`` is rejected, write ``"03"``.
    Error codes: ``pos.type``, ``pos.length``, ``pos.format``, ``pos.unassigned``.
    """
    number = compact(number)
    if len(number) != 2:
        raise InvalidPlaceOfService("place of service must be 2 digits", code="pos.length")
    if _FORM.fullmatch(number) is None:
        raise InvalidPlaceOfService("place of service must be digits", code="pos.format")
    if number not in NAMES:
        raise InvalidPlaceOfService("place of service code is not assigned by CMS", code="pos.unassigned")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is an assigned place-of-service code; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidPlaceOfService:
        return False
    return True


def format(number: str) -> str:
    """Return the display form (same as the normal form)."""
    return validate(number)


def name(code: str) -> str:
    """Return the CMS short name of a place-of-service code.

    :raises InvalidPlaceOfService: the code is malformed or not assigned.
    """
    return NAMES[validate(code)]


def is_telehealth(code: object) -> bool:
    """Return whether ``code`` is a telehealth place of service (02 or 10); never raises."""
    return isinstance(code, str) and is_valid(code) and compact(code) in TELEHEALTH
