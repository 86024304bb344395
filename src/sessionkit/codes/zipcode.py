"""US ZIP codes: 5 digits, or ZIP+4 (9 digits, written ``12345-6789``).

Billing provider and service facility addresses on a claim need the full 9
digits (:func:`is_zip_plus_4`); other addresses may have 5.

>>> validate("10001-0001")
'100010001'
>>> format("100010001")
'10001-0001'
>>> is_zip_plus_4("10001")
False
"""

from __future__ import annotations

import re

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidValue

__all__ = ["compact", "format", "is_valid", "is_zip_plus_4", "validate"]

_DIGITS = re.compile(r"[0-9]+")


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens."""
    return clean(require_str(number, InvalidValue, "zipcode"))


def validate(number: str) -> str:
    """Return the normal form (5 or 9 digits) or raise :class:`~sessionkit.errors.InvalidValue`.

    Error codes: ``zipcode.type``, ``zipcode.format`` (not only digits),
    ``zipcode.length`` (not 5 or 9 digits).
    """
    number = compact(number)
    if _DIGITS.fullmatch(number) is None:
        raise InvalidValue("ZIP code must contain only digits", code="zipcode.format")
    if len(number) not in (5, 9):
        raise InvalidValue("ZIP code must be 5 or 9 digits", code="zipcode.length")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a 5- or 9-digit ZIP code; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidValue:
        return False
    return True


def is_zip_plus_4(number: object) -> bool:
    """Return whether ``number`` is a full 9-digit ZIP+4 code; never raises."""
    return is_valid(number) and len(compact(number)) == 9  # type: ignore[arg-type]


def format(number: str) -> str:
    """Return the display form: ``12345`` or ``12345-6789``."""
    number = validate(number)
    return number if len(number) == 5 else f"{number[:5]}-{number[5:]}"
