"""Helpers the calendar adapters share: the practice zone and reading exported files (private)."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from sessionkit.errors import CalendarError, InvalidValue

MAX_CALENDAR_BYTES = 20_000_000
"""The largest calendar file (or client map) read by default: 20 MB, far above a
practice's years of appointments, far below what would exhaust memory."""

MAX_OCCURRENCES_PER_SERIES = 2000
"""The default most occurrences one recurring event may have in the range of one
import (about five years of a daily series)."""


def practice_zone(name: str) -> ZoneInfo:
    """The practice's IANA time zone, or InvalidValue naming ``time_zone``.

    Any name zoneinfo cannot load is refused the same way, also one too long
    for the file system (an ``OSError`` inside zoneinfo).
    """
    if not isinstance(name, str) or not name or len(name) > 255 or not name.isprintable():
        raise InvalidValue("time_zone must be an IANA time zone name", "practice.time_zone", "time_zone")
    try:
        return ZoneInfo(name)
    except Exception:
        raise InvalidValue(
            "time_zone must be an IANA time zone name", "practice.time_zone", "time_zone"
        ) from None


def check_size(size: int, max_bytes: int | None, what: str) -> None:
    """CalendarError ``calendar.too_large`` when ``size`` is above ``max_bytes`` (None: no limit)."""
    if max_bytes is not None and size > max_bytes:
        raise CalendarError(
            f"the {what} is larger than {max_bytes} bytes (raise max_bytes to read it)",
            "calendar.too_large",
            "max_bytes",
        )


def decode(data: bytes) -> str:
    """Exported text: UTF-8 (with or without a byte-order mark), else Windows-1252 as Outlook writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_bytes(path: str | os.PathLike[str], what: str, max_bytes: int | None = MAX_CALENDAR_BYTES) -> bytes:
    """The bytes of the file at ``path``, reading at most ``max_bytes`` (+1 to tell it is larger).

    :raises CalendarError: ``calendar.unreadable`` when it cannot be read (also a
        path too long for the file system), ``calendar.too_large`` above ``max_bytes``.
    """
    try:
        with Path(path).open("rb") as stream:
            data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise CalendarError(f"the {what} cannot be read", "calendar.unreadable") from exc
    check_size(len(data), max_bytes, what)
    return data


def read_file(path: str | os.PathLike[str], what: str, max_bytes: int | None = MAX_CALENDAR_BYTES) -> str:
    """The decoded text of the file at ``path``; CalendarError when it cannot be read or is too large."""
    return decode(read_bytes(path, what, max_bytes))
