"""USPS state codes, and the post-office-box test for street lines.

A claim address needs a real USPS two-letter code: the 50 states, DC, the
territories (PR, VI, GU, AS, MP) and the military "states" (AA, AE, AP).
:class:`~sessionkit.domain.Address` keeps accepting any two letters;
readiness decides whether a claim can go.

>>> validate(" ny ")
'NY'
>>> is_valid("XX")
False
>>> is_po_box("P.O. Box 12")
True
>>> is_po_box("12 Boxwood Lane")
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidValue

__all__ = [
    "MILITARY",
    "NAMES",
    "STATES",
    "TERRITORIES",
    "compact",
    "format",
    "is_po_box",
    "is_valid",
    "validate",
]

STATES: Mapping[str, str] = MappingProxyType(
    {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
    }
)
"""The 50 states."""

TERRITORIES: Mapping[str, str] = MappingProxyType(
    {
        "DC": "District of Columbia",
        "PR": "Puerto Rico",
        "VI": "U.S. Virgin Islands",
        "GU": "Guam",
        "AS": "American Samoa",
        "MP": "Northern Mariana Islands",
    }
)
"""The District of Columbia and the territories."""

MILITARY: Mapping[str, str] = MappingProxyType(
    {
        "AA": "Armed Forces Americas",
        "AE": "Armed Forces Europe",
        "AP": "Armed Forces Pacific",
    }
)
"""The military "state" codes of APO/FPO/DPO addresses."""

NAMES: Mapping[str, str] = MappingProxyType({**STATES, **TERRITORIES, **MILITARY})
"""Every code a claim address may carry, with its name."""

_FORM = re.compile(r"[A-Z]{2}")


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces and dots, uppercase."""
    return clean(require_str(number, InvalidValue, "usps"), " .")


def validate(number: str) -> str:
    """Return the normal form (``NY``) or raise :class:`~sessionkit.errors.InvalidValue`.

    Error codes: ``usps.type``, ``usps.format`` (not two letters), ``usps.unknown``
    (two letters that are not a USPS code).
    """
    number = compact(number)
    if _FORM.fullmatch(number) is None:
        raise InvalidValue("state must be two letters", code="usps.format")
    if number not in NAMES:
        raise InvalidValue("state is not a USPS state, territory or military code", code="usps.unknown")
    return number


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a USPS state code; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidValue:
        return False
    return True


def format(number: str) -> str:
    """Return the display form (``NY``)."""
    return validate(number)


# "PO Box", "P.O. Box", "P O Box", "Post Office Box", "POB 12", "Box 12", "Lock Box",
# "Lockbox", "Drawer 5", "Caller 7", "Firm Caller", "PMB" is a private mailbox (a street
# address with a box): not a post-office box.
_PO_BOX = re.compile(
    r"""
    \b(?:
        p\W*o\W*b(?:ox)?\b            # PO Box, P.O.Box, P O B
      | post\W*(?:office)?\W*box\b    # Post Office Box, Postbox
      | lock\W*box\b                  # Lock Box, Lockbox
      | (?:p\W*o\W*)?drawer\b         # PO Drawer, Drawer
      | caller\b                      # Caller, Firm Caller
      | ^\W*box\W*\d                  # Box 123 at the start of the line
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_po_box(line: object) -> bool:
    """Return whether a street line is a post-office box, lock box, drawer or caller service.

    Such an address is fine for mail (the pay-to address, X12 2010AB) but
    not as the billing provider's or a facility's street address. Never raises.
    """
    if not isinstance(line, str):
        return False
    return _PO_BOX.search(line) is not None
