"""Optional features and the extra that installs each: one line naming the ``pip install`` to run.

sessionkit's core needs only attrs, cattrs, python-dateutil and tzdata. A
feature that needs more names its extra; when the extra is missing, the
feature raises :class:`MissingExtra` (a :class:`~sessionkit.errors.SessionkitError`
and a :class:`ModuleNotFoundError`) whose one-line message is the command to run:

>>> print(install_command("ical"))
python -m pip install 'sessionkit-billing[ical]'
>>> missing_modules("ical")
()
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessionkit.errors import SessionkitError

__all__ = [
    "DISTRIBUTION",
    "EXTRAS",
    "MissingExtra",
    "MissingZoneData",
    "install_command",
    "missing_modules",
    "require",
    "reraise_missing",
    "require_zone_data",
    "zone_data_missing",
]

DISTRIBUTION = "sessionkit-billing"
"""The name sessionkit is published under (the import name is ``sessionkit``)."""

EXTRAS: Mapping[str, tuple[str, ...]] = {
    "ical": ("icalendar", "recurring_ical_events"),
    "icd10": ("simple_icd_10_cm",),
    "pdf": ("fpdf",),
    "postgres": ("psycopg", "psycopg_pool"),
    "testing": ("hypothesis", "pytest"),
    "x12": ("pyx12",),
}
"""Each extra and the modules it brings (the modules a feature imports, not every package)."""


class MissingExtra(SessionkitError, ModuleNotFoundError):
    """A feature needs an extra that is not installed; the message names the ``pip install``.

    ``code`` is ``extra.missing`` and ``field`` the extra's name (``ical``).
    Also a :class:`ModuleNotFoundError`, so ``except ImportError`` still catches it.
    """

    default_code = "extra.missing"


class MissingZoneData(SessionkitError, ZoneInfoNotFoundError):
    """This Python finds no time-zone data at all (no system zoneinfo, no ``tzdata`` package).

    ``code`` is ``time_zone.no_data``; the message names the ``pip install``.
    Also a :class:`zoneinfo.ZoneInfoNotFoundError`.
    """

    default_code = "time_zone.no_data"


def install_command(extra: str) -> str:
    """The command that installs ``extra``."""
    return f"python -m pip install '{DISTRIBUTION}[{extra}]'"


def _absent(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is None
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def missing_modules(extra: str) -> tuple[str, ...]:
    """The modules of ``extra`` that cannot be imported (found without importing them)."""
    return tuple(module for module in EXTRAS[extra] if _absent(module))


def _error(extra: str, feature: str) -> MissingExtra:
    return MissingExtra(f"{feature} needs the {extra} extra: {install_command(extra)}", field=extra)


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` naming the install command when ``extra`` is not installed.

    Call it before doing anything that writes, so that nothing is left half done.

    :param feature: what needs the extra, as the user knows it (``sessionkit demo``).
    """
    if missing_modules(extra):
        raise _error(extra, feature)


def reraise_missing(exc: ModuleNotFoundError, extra: str, feature: str) -> None:
    """Inside ``except ModuleNotFoundError``: raise :class:`MissingExtra` if ``exc`` is one of
    ``extra``'s modules (or a module under one); otherwise do nothing, so the caller re-raises."""
    top = (exc.name or "").split(".")[0]
    if top in EXTRAS[extra]:
        raise _error(extra, feature) from None


_PROBE_ZONE = "America/New_York"


@functools.cache
def _zone_data_missing() -> bool:
    try:
        ZoneInfo(_PROBE_ZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return True
    return False


def zone_data_missing() -> bool:
    """Whether this Python has no IANA time-zone data at all (asked once, then remembered)."""
    return _zone_data_missing()


def require_zone_data() -> None:
    """Raise :class:`MissingZoneData` naming the install command when there is no zone data."""
    if zone_data_missing():
        raise MissingZoneData(
            "this Python has no IANA time-zone data (no system zoneinfo and no tzdata package): "
            "python -m pip install tzdata",
            field="time_zone",
        )
