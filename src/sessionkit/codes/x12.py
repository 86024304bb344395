"""The X12 basic character set: what free text on an 837P may hold.

The one home of the character set: readiness checks line notes against it,
the 837P writer sends text in it, and the test strategies draw from it.

>>> is_basic("Session held by video")
True
>>> is_basic("50% off")
False
>>> compact("Dr. O'Brien; 2nd visit")
"DR. O'BRIEN; 2ND VISIT"
"""

from __future__ import annotations

__all__ = ["BASIC_CHARACTERS", "compact", "is_basic"]

BASIC_CHARACTERS: frozenset[str] = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()+,-./;?=")
"""The X12 basic character set, less ``*`` and ``:`` (sessionkit's element and component separators)."""


def compact(text: str) -> str:
    """``text`` as an 837P sends it: in capitals (the basic set has no lowercase letters)."""
    return text.upper()


def is_basic(text: str) -> bool:
    """Whether ``text`` (sent in capitals) holds only characters of the basic set (never raises)."""
    return isinstance(text, str) and BASIC_CHARACTERS.issuperset(text.upper())
