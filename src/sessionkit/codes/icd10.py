"""ICD-10-CM diagnosis codes.

The format is a letter, a digit and an alphanumeric, then optionally a dot and
1-4 alphanumerics. The normal form (what :func:`validate` returns) is uppercase
with the dot after the third character when there are more than 3 characters;
:func:`compact` and :func:`to_x12` give the form without the dot (X12 HI
segment).

Whether a code exists, and whether it is billable (a leaf of the tabular
list), depends on the release: see :class:`DiagnosisCodeSet`,
:class:`SimpleIcd10CmCodeSet` and :func:`default_code_set`.

>>> validate("f411")
'F41.1'
>>> to_x12("S72.001A")
'S72001A'
>>> is_sequela("S72.001S")
True
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from types import ModuleType
from typing import Protocol, runtime_checkable

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidDiagnosisCode

__all__ = [
    "DiagnosisCodeSet",
    "SimpleIcd10CmCodeSet",
    "compact",
    "default_code_set",
    "format",
    "is_sequela",
    "is_valid",
    "to_x12",
    "validate",
]

_FORM = re.compile(r"[A-Z][0-9][A-Z0-9][A-Z0-9]{0,4}")
_SIMPLE_MODULE = "simple_icd_10_cm"


def compact(number: str) -> str:
    """Strip surrounding whitespace, remove spaces, hyphens and dots, uppercase."""
    return clean(require_str(number, InvalidDiagnosisCode, "icd10"), " -.")


def validate(number: str) -> str:
    """Return the normal form (``F41.1``, ``F41``) or raise :class:`InvalidDiagnosisCode`.

    Only the format is checked, not that the code exists in a release.
    Error codes: ``icd10.type``, ``icd10.length`` (not 3-7 characters),
    ``icd10.format``, ``icd10.dot`` (a dot anywhere but after the third
    character, or with nothing after it).
    """
    number = require_str(number, InvalidDiagnosisCode, "icd10")
    dotted = clean(number)
    code = dotted.replace(".", "")
    if not 3 <= len(code) <= 7:
        raise InvalidDiagnosisCode("diagnosis code must have 3 to 7 characters", code="icd10.length")
    if _FORM.fullmatch(code) is None:
        raise InvalidDiagnosisCode(
            "diagnosis code must be a letter, a digit, then letters or digits",
            code="icd10.format",
        )
    if "." in dotted and (dotted.count(".") != 1 or dotted.index(".") != 3 or len(code) == 3):
        raise InvalidDiagnosisCode(
            "diagnosis code may only have a dot after the third character", code="icd10.dot"
        )
    return code if len(code) == 3 else f"{code[:3]}.{code[3:]}"


def is_valid(number: object) -> bool:
    """Return whether ``number`` is a well-formed ICD-10-CM code; never raises."""
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except InvalidDiagnosisCode:
        return False
    return True


def format(number: str) -> str:
    """Return the display form, with the dot (``F41.1``)."""
    return validate(number)


def to_x12(code: str) -> str:
    """Return the code as X12 wants it: uppercase, no dot (``F411``).

    :raises InvalidDiagnosisCode: the code is not well formed.
    """
    return validate(code).replace(".", "")


def is_sequela(code: object) -> bool:
    """Return whether ``code`` is a well-formed 7-character code whose 7th character is ``S``.

    A sequela code may not be the primary diagnosis. Never raises.
    """
    if not isinstance(code, str) or not is_valid(code):
        return False
    number = compact(code)
    return len(number) == 7 and number[6] == "S"


@runtime_checkable
class DiagnosisCodeSet(Protocol):
    """**Protocol:** one release of the ICD-10-CM code set.

    Implementations never raise for malformed input: they return ``False``.
    """

    @property
    def release(self) -> str:
        """The release the answers come from, e.g. ``"2026-04 CDC (simple-icd-10-cm)"``."""
        ...

    def is_valid(self, code: str) -> bool:
        """Return whether ``code`` exists in this release (any level, billable or not)."""
        ...

    def is_billable(self, code: str) -> bool:
        """Return whether ``code`` exists and is billable (a leaf of the tabular list)."""
        ...


class SimpleIcd10CmCodeSet:
    """The April 2026 CDC release, as shipped by the PyPI package ``simple-icd-10-cm``.

    The package is imported on first use (the import takes more than a second).

    :raises ImportError: the package is not installed (``pip install sessionkit[icd10]``).
    """

    def __init__(self) -> None:
        if importlib.util.find_spec(_SIMPLE_MODULE) is None:
            raise ImportError(
                "simple-icd-10-cm is not installed; install sessionkit[icd10]",
                name=_SIMPLE_MODULE,
            )
        self._module: ModuleType | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def release(self) -> str:
        """The release the answers come from."""
        return "2026-04 CDC (simple-icd-10-cm)"

    def _lib(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(_SIMPLE_MODULE)
        return self._module

    def is_valid(self, code: str) -> bool:
        """Return whether ``code`` is a code of this release (any level); never raises."""
        if not is_valid(code):
            return False
        try:
            return bool(self._lib().is_valid_item(validate(code)))
        except Exception:
            return False

    def is_billable(self, code: str) -> bool:
        """Return whether ``code`` is a billable (leaf) code of this release; never raises."""
        if not self.is_valid(code):
            return False
        try:
            return bool(self._lib().is_leaf(validate(code)))
        except Exception:
            return False


def default_code_set() -> DiagnosisCodeSet | None:
    """Return the best installed code set, or ``None`` if none is installed.

    Does not import the package (that happens on first use).
    """
    if importlib.util.find_spec(_SIMPLE_MODULE) is None:
        return None
    return SimpleIcd10CmCodeSet()
