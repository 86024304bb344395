"""Helpers the calendar adapters share: the practice zone and reading exported files (private)."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessionkit.errors import CalendarError, InvalidValue


def practice_zone(name: str) -> ZoneInfo:
    """The practice's IANA time zone, or InvalidValue naming ``time_zone``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidValue(
            "time_zone must be an IANA time zone name", "practice.time_zone", "time_zone"
        ) from None


def decode(data: bytes) -> str:
    """Exported text: UTF-8 (with or without a byte-order mark), else Windows-1252 as Outlook writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_file(path: str | os.PathLike[str], what: str) -> str:
    """The decoded text of the file at ``path``; CalendarError when it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(f"the {what} cannot be read", "calendar.unreadable") from exc
    return decode(data)
