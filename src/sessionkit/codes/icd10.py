"""ICD-10-CM diagnosis codes.

The format is a letter, a digit and an alphanumeric, then optionally a dot and
1-4 alphanumerics. The normal form (what :func:`validate` returns) is uppercase
with the dot after the third character when there are more than 3 characters;
:func:`compact` and :func:`to_x12` give the form without the dot (X12 HI
segment).

Whether a code exists, and whether it is billable (a leaf of the tabular
list), depends on the release: see :class:`DiagnosisCodeSet`,
:class:`SimpleIcd10CmCodeSet` and :func:`default_code_set`. Whether a code is
billable **on a date** is answered by :func:`history` (:class:`IcdHistory`), a
table of several CDC releases shipped with sessionkit (no extra install):

>>> from datetime import date
>>> history().valid_on("F32.A", date(2021, 9, 30))
False
>>> history().valid_on("F32.A", date(2025, 6, 1))
True
>>> history().valid_on("F41.1", date(2030, 1, 1)) is None  # a date the table does not know
True

>>> validate("f411")
'F41.1'
>>> to_x12("S72.001A")
'S72001A'
>>> is_sequela("S72.001S")
True
"""

from __future__ import annotations

import functools
import gzip
import importlib
import importlib.resources
import importlib.util
import re
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Protocol, runtime_checkable

import attrs

from sessionkit.codes._util import clean, require_str
from sessionkit.errors import InvalidDiagnosisCode

__all__ = [
    "DiagnosisCodeSet",
    "IcdHistory",
    "IcdRelease",
    "SimpleIcd10CmCodeSet",
    "compact",
    "default_code_set",
    "format",
    "history",
    "is_sequela",
    "is_valid",
    "next_release_date",
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
        """The release the answers come from, e.g. ``"FY2026 (code-list-April-2026)"``."""
        ...

    def is_valid(self, code: str) -> bool:
        """Return whether ``code`` exists in this release (any level, billable or not)."""
        ...

    def is_billable(self, code: str) -> bool:
        """Return whether ``code`` exists and is billable (a leaf of the tabular list)."""
        ...


class SimpleIcd10CmCodeSet:
    """The CDC release shipped by the PyPI package ``simple-icd-10-cm`` (optional).

    sessionkit does not need it: :func:`default_code_set` falls back to the
    release table sessionkit ships (:func:`history`). The package is imported
    on first use (the import takes more than a second); :attr:`release` is
    read from the name of the code list the package ships, without importing it.

    :raises ImportError: the package is not installed (``pip install 'sessionkit-billing[icd10]'``).
    """

    def __init__(self) -> None:
        if importlib.util.find_spec(_SIMPLE_MODULE) is None:
            raise ImportError(
                "simple-icd-10-cm is not installed: python -m pip install 'sessionkit-billing[icd10]'",
                name=_SIMPLE_MODULE,
            )
        self._module: ModuleType | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def release(self) -> str:
        """The release the answers come from: the package's code list file (``code-list-April-2026``)."""
        return f"{_simple_code_list()} (simple-icd-10-cm)"

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


@functools.cache
def _simple_code_list() -> str:
    """The stem of the code list simple-icd-10-cm ships (its release), found without importing it."""
    spec = importlib.util.find_spec(_SIMPLE_MODULE)
    folders = (spec.submodule_search_locations or ()) if spec is not None else ()
    lists = sorted(p.stem for folder in folders for p in Path(folder, "data").glob("code-list-*.txt"))
    return lists[-1] if lists else "unknown release"


def default_code_set() -> DiagnosisCodeSet:
    """Return the code set readiness uses by default: the latest release of the shipped history table.

    The table ships with sessionkit (a compact file read on first use, in
    milliseconds, a few MB): no extra needed. The ``simple-icd-10-cm``
    package (:class:`SimpleIcd10CmCodeSet`, extra ``icd10``) is only needed for
    its descriptions and hierarchy; importing it takes seconds and about 200 MB.

    >>> default_code_set().release.startswith(("FY", "code-list-"))
    True
    """
    return history()


# --- validity by date -------------------------------------------------------------------------

_HISTORY_FILE = "icd10cm_history.txt.gz"
_HISTORY_MAGIC = "#sessionkit icd10cm history 2"
_KEY = 7  # characters of the code part of a record
_SPRING_RELEASES_FROM = 2023  # April 1 updates exist since 2023
_MEMO_MAX = 65_536


def next_release_date(day: date) -> date:
    """Return the first scheduled release date (Oct 1, or Apr 1 since 2023) after ``day``.

    >>> next_release_date(date(2021, 1, 1))
    datetime.date(2021, 10, 1)
    >>> next_release_date(date(2022, 10, 1))
    datetime.date(2023, 4, 1)
    """
    candidates = [date(day.year, 10, 1), date(day.year + 1, 10, 1)]
    candidates += [date(y, 4, 1) for y in (day.year, day.year + 1) if y >= _SPRING_RELEASES_FROM]
    return min(c for c in candidates if c > day)


@attrs.frozen(kw_only=True)
class IcdRelease:
    """One ICD-10-CM release the history table knows.

    ``label`` comes from the release's own files (fiscal year and file name);
    the release is in force from ``effective`` through ``through`` (the day
    before the next scheduled release).
    """

    label: str
    effective: date
    through: date

    def covers(self, day: date) -> bool:
        """Return whether ``day`` falls while this release was in force."""
        return self.effective <= day <= self.through


class IcdHistory:
    """ICD-10-CM codes across several CDC releases: which code was billable on which date.

    Built by ``tools/build_icd10_history.py`` from published releases and
    shipped as one small table; read on first use. :meth:`valid_on` answers

    - for a date while a release the table holds was in force: that release's answer;
    - for a date between two such releases: the answer of both when they agree
      (a code billable in both is taken to have stayed billable), else ``None``;
    - for a date before the first or after the last release: ``None`` (unknown).

    It is also a :class:`DiagnosisCodeSet` answering for the latest release.
    """

    def __init__(self, text: str | None = None) -> None:
        self._text = text
        self._loaded: tuple[tuple[IcdRelease, ...], str] | None = None
        # Answers are remembered: a practice bills the same few codes on the same few dates.
        self._statuses: dict[object, str | None] = {}
        self._standings: dict[tuple[str, date], str | None] = {}
        self._periods: dict[date, int] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _load(self) -> tuple[tuple[IcdRelease, ...], str]:
        if self._loaded is None:
            text = self._text
            if text is None:
                resource = importlib.resources.files("sessionkit.codes") / "data" / _HISTORY_FILE
                text = gzip.decompress(resource.read_bytes()).decode("ascii")
            self._loaded = _parse_history(text)
        return self._loaded

    @property
    def releases(self) -> tuple[IcdRelease, ...]:
        """The releases the table holds, oldest first."""
        return self._load()[0]

    @property
    def release(self) -> str:
        """The label of the latest release (the one :meth:`is_valid` and :meth:`is_billable` use)."""
        return self.releases[-1].label

    def _status(self, code: object) -> str | None:
        """Return the per-release status string of ``code``, ``None`` if malformed (remembered)."""
        try:
            return self._statuses[code]
        except (KeyError, TypeError):  # not seen yet, or unhashable
            pass
        found = self._lookup(code)
        if isinstance(code, str):
            if len(self._statuses) >= _MEMO_MAX:
                self._statuses.clear()
            self._statuses[code] = found
        return found

    def _lookup(self, code: object) -> str | None:
        if not isinstance(code, str) or not is_valid(code):
            return None
        releases, records = self._load()
        width = _KEY + len(releases)
        key = compact(code).ljust(_KEY)
        low, high = 0, len(records) // width
        while low < high:
            middle = (low + high) // 2
            start = middle * width
            found = records[start : start + _KEY]
            if found == key:
                return records[start + _KEY : start + width]
            if found < key:
                low = middle + 1
            else:
                high = middle
        return "-" * len(releases)

    def is_valid(self, code: str) -> bool:
        """Return whether ``code`` is a code of the latest release (any level); never raises."""
        status = self._status(code)
        return status is not None and status[-1] != "-"

    def is_billable(self, code: str) -> bool:
        """Return whether ``code`` is billable in the latest release; never raises."""
        status = self._status(code)
        return status is not None and status[-1] == "b"

    def release_on(self, day: date) -> IcdRelease | None:
        """Return the release in force on ``day`` if the table holds it, else ``None``."""
        for release in self.releases:
            if release.covers(day):
                return release
        return None

    def _standing(self, code: str, day: date) -> str | None:
        key = (code, day)
        try:
            return self._standings[key]
        except (KeyError, TypeError):
            pass
        found = self._standing_of(code, day)
        if isinstance(code, str) and isinstance(day, date):
            if len(self._standings) >= _MEMO_MAX:
                self._standings.clear()
            self._standings[key] = found
        return found

    def _standing_of(self, code: str, day: date) -> str | None:
        status = self._status(code)
        if status is None:
            return "-"
        releases = self.releases
        if day < releases[0].effective or day > releases[-1].through:
            return None
        for index, release in enumerate(releases):
            if release.covers(day):
                return status[index]
            if index + 1 < len(releases) and release.through < day < releases[index + 1].effective:
                before, after = status[index], status[index + 1]
                return before if before == after else None
        return None  # pragma: no cover (the releases cover every day between the first and last)

    def period(self, day: date) -> int:
        """A number for the stretch of time ``day`` falls in: the same for two days on which every
        code has the same standing (in the same release, or in the same gap between two, or before
        the first or after the last). Remembered per day."""
        found = self._periods.get(day)
        if found is None:
            releases = self.releases
            if day < releases[0].effective:
                found = -1
            elif day > releases[-1].through:
                found = 2 * len(releases)
            else:
                found = next(
                    2 * i if release.covers(day) else 2 * i + 1
                    for i, release in enumerate(releases)
                    if day <= release.through or (i + 1 < len(releases) and day < releases[i + 1].effective)
                )
            if len(self._periods) >= _MEMO_MAX:
                self._periods.clear()
            self._periods[day] = found
        return found

    def valid_on(self, code: str, day: date) -> bool | None:
        """Return whether ``code`` was billable on ``day``; ``None`` when the table cannot tell.

        A malformed code is ``False``; never raises.
        """
        standing = self._standing(code, day)
        return None if standing is None else standing == "b"

    def exists_on(self, code: str, day: date) -> bool | None:
        """Return whether ``code`` was a code (billable or not) on ``day``; ``None`` when unknown."""
        standing = self._standing(code, day)
        return None if standing is None else standing != "-"


def _parse_history(text: str) -> tuple[tuple[IcdRelease, ...], str]:
    lines = text.split("\n")
    if not lines or lines[0] != _HISTORY_MAGIC:
        raise ValueError("not a sessionkit ICD-10-CM history table")
    starts: list[tuple[date, str]] = []
    records = ""
    for line in lines[1:]:
        if line.startswith("R\t"):
            _, month, label = line.split("\t", 2)
            year, number = month.split("-")
            starts.append((date(int(year), int(number), 1), label))
        elif line:
            records = line
    releases = tuple(
        IcdRelease(label=label, effective=start, through=next_release_date(start) - timedelta(days=1))
        for start, label in starts
    )
    if not releases or len(records) % (_KEY + len(releases)):
        raise ValueError("the ICD-10-CM history table is damaged")
    return releases, records


@functools.cache
def history() -> IcdHistory:
    """Return the shipped ICD-10-CM history (one shared instance, read on first use)."""
    return IcdHistory()
