"""CPT and HCPCS Level II procedure codes (format only).

A code is 5 characters: CPT is 5 digits, or 4 digits followed by ``F``, ``T``
or ``U`` (category II, III and PLA codes); HCPCS Level II is a letter ``A``-``V``
followed by 4 digits. Whether a code exists in this year's code set is not
checked.

>>> validate(" 90837 ")
'90837'
>>> validate("g0444")
'G0444'
>>> kind("0591T")
'cpt'
"""

from __future__ import annotations

import re
from typing import Literal

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidBillingCode

__all__ = ["compact", "format", "is_valid", "kind", "validate"]

_CPT = re.compile(r"[0-9]{4}[0-9FTU]")
_LEVEL2 = re.compile(r"[A-V][0-9]{4}")


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and hyphens, uppercase."""
    return clean(require_str(number, InvalidBillingCode, "hcpcs"))


def validate(number: str) -> str:
    """Return the normal form (uppercase, 5 characters) or raise :class:`InvalidBillingCode`.

    Error codes: ``hcpcs.type``, ``hcpcs.length``, ``hcpcs.format``.
    """
    number = compact(number)
    if len(number) != 5:
        raise InvalidBillingCode("procedure code must be 5 characters", code="hcpcs.length")
    if _CPT.fullmatch(number) is None and _LEVEL2.fullmatch(number) is None:
        raise InvalidBillingCode(
            "procedure code must be 5 digits, 4 digits and F/T/U, or a letter A-V and 4 digits",
            code="hcpcs.format",
        )
    return number


def kind(code: str) -> Literal["cpt", "hcpcs"]:
    """Return ``"cpt"`` for a CPT code and ``"hcpcs"`` for a HCPCS Level II code.

    :raises InvalidBillingCode: the code is not well formed.
    """
    code = validate(code)
    return "cpt" if code[0].isdigit() else "hcpcs"


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a well-formed CPT or HCPCS code; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidBillingCode:
        return False
    return True


def format(number: str) -> str:
    """Return the display form (same as the normal form)."""
    return validate(number)
