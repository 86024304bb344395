"""Small helpers shared by the identifier modules (private)."""

from __future__ import annotations

import re

__all__ = ["clean", "fullmatch", "require_str"]

from sessionkit.errors import InvalidValue


def clean(number: str, deletechars: str = " -") -> str:
    """Strip surrounding whitespace, delete ``deletechars`` and uppercase."""
    number = number.strip()
    for char in deletechars:
        number = number.replace(char, "")
    return number.upper()


def require_str(number: object, error: type[InvalidValue], module: str) -> str:
    """Return ``number`` if it is a ``str``, else raise ``error`` with code ``<module>.type``."""
    if not isinstance(number, str):
        raise error(f"{module} value must be a string", code=f"{module}.type")
    return number


def fullmatch(pattern: re.Pattern[str], number: str) -> bool:
    """Return whether ``pattern`` matches all of ``number``."""
    return pattern.fullmatch(number) is not None
