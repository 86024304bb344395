"""NPI (National Provider Identifier).

An NPI is 10 digits. The first digit is 1 or 2 and the last digit is a Luhn
check digit computed over the prefix ``80840`` followed by the first 9 digits
(CMS NPI check-digit requirements).

>>> validate("1234567893")
'1234567893'
>>> is_valid("1234567890")
False
>>> calc_check_digit("123456789")
'3'
"""

from __future__ import annotations

import re

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidNPI

__all__ = ["calc_check_digit", "compact", "format", "is_valid", "validate"]

_DIGITS = re.compile(r"[0-9]+")
_PREFIX = "80840"


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens, uppercase."""
    return clean(require_str(number, InvalidNPI, "npi"))


def _luhn_check_digit(digits: str) -> str:
    """Return the Luhn digit that makes ``digits`` + digit pass the Luhn check."""
    total = 0
    # Double every second digit starting from the rightmost of the payload.
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def calc_check_digit(first9: str) -> str:
    """Return the check digit for the first 9 digits of an NPI.

    :raises InvalidNPI: ``first9`` is not exactly 9 ASCII digits (code
        ``npi.format`` or ``npi.length``; ``npi.type`` if not a string).
    """
    first9 = require_str(first9, InvalidNPI, "npi")
    if _DIGITS.fullmatch(first9) is None:
        raise InvalidNPI("NPI prefix must contain only digits", code="npi.format")
    if len(first9) != 9:
        raise InvalidNPI("NPI prefix must be 9 digits", code="npi.length")
    return _luhn_check_digit(_PREFIX + first9)


def validate(number: str) -> str:
    """Return the normal form (10 digits) of an NPI or raise :class:`InvalidNPI`.

    Error codes: ``npi.type``, ``npi.format`` (not only digits), ``npi.length``,
    ``npi.first_digit`` (not 1 or 2), ``npi.checksum``.
    """
    number = compact(number)
    if _DIGITS.fullmatch(number) is None:
        raise InvalidNPI("NPI must contain only digits", code="npi.format")
    if len(number) != 10:
        raise InvalidNPI("NPI must be 10 digits", code="npi.length")
    if number[0] not in "12":
        raise InvalidNPI("NPI must start with 1 or 2", code="npi.first_digit")
    if _luhn_check_digit(_PREFIX + number[:9]) != number[9]:
        raise InvalidNPI("NPI check digit does not match", code="npi.checksum")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a valid NPI; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidNPI:
        return False
    return True


def format(number: str) -> str:
    """Return the display form of an NPI (the 10 digits, no separators)."""
    return validate(number)
