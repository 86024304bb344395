"""EIN (US employer identification number, the practice's tax id).

An EIN is 9 digits, written ``12-3456789``. Only the form is checked: the
IRS prefix list changes and is not a national claim rule. :data:`PREFIXES`
holds the prefixes the IRS currently issues (its "How EINs are assigned"
page), for data that should look real (:func:`has_irs_prefix`).

>>> validate("12-3456789")
'123456789'
>>> format("123456789")
'12-3456789'
"""

from __future__ import annotations

import re

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidEIN

__all__ = ["PREFIXES", "compact", "format", "has_irs_prefix", "is_valid", "validate"]

PREFIXES: frozenset[str] = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "38",
        "39",
        "40",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "50",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "59",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "67",
        "68",
        "71",
        "72",
        "73",
        "74",
        "75",
        "76",
        "77",
        "80",
        "81",
        "82",
        "83",
        "84",
        "85",
        "86",
        "87",
        "88",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
        "99",
    ]
)
"""The two-digit prefixes the IRS campuses issue EINs with."""

_DIGITS = re.compile(r"[0-9]+")


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens, uppercase."""
    return clean(require_str(number, InvalidEIN, "ein"))


def validate(number: str) -> str:
    """Return the normal form (9 digits) of an EIN or raise :class:`InvalidEIN`.

    Error codes: ``ein.type``, ``ein.format`` (not only digits), ``ein.length``.
    """
    number = compact(number)
    if _DIGITS.fullmatch(number) is None:
        raise InvalidEIN("EIN must contain only digits", code="ein.format")
    if len(number) != 9:
        raise InvalidEIN("EIN must be 9 digits", code="ein.length")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a well-formed EIN; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidEIN:
        return False
    return True


def format(number: str) -> str:
    """Return the display form of an EIN, ``12-3456789``."""
    number = validate(number)
    return f"{number[:2]}-{number[2:]}"


def has_irs_prefix(number: object) -> bool:
    """Return whether ``number`` is a well-formed EIN whose prefix the IRS issues; never raises.

    >>> has_irs_prefix("12-3456789"), has_irs_prefix("07-3456789")
    (True, False)
    """
    return is_valid(number) and compact(number)[:2] in PREFIXES  # type: ignore[arg-type]
