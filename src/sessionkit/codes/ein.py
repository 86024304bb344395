"""EIN (US employer identification number, the practice's tax id).

An EIN is 9 digits, written ``12-3456789``. Only the form is checked: the
IRS prefix list changes and is not a national claim rule.

>>> validate("12-3456789")
'123456789'
>>> format("123456789")
'12-3456789'
"""

from __future__ import annotations

import re

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidEIN

__all__ = ["compact", "format", "is_valid", "validate"]

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
