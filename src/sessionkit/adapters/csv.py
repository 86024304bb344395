"""Appointments from spreadsheet exports (CSV with a header row).

:class:`CsvColumns` maps our fields to the file's header names (matched
without regard to case or surrounding spaces). A row needs a start, either one
``start`` column or a ``date`` plus a ``start_time`` column, and an ``end``
or a ``duration_minutes`` column. Dates and times are read with
``dateutil.parser.parse`` (month first unless ``dayfirst=True``); times
without an offset are practice time (``floating=True``). A row with a date
and no time is an all-day appointment.

Rows without a ``uid`` column get a key made from their start (``csv-`` and
the start in UTC, or the wall-clock time for a time without an offset, so
that another ``--tz`` gives the same key) and, when the caller passes a
``key_secret``, a keyed hash (HMAC-SHA256) of start and title: the key never
holds the title (usually the client's name) nor an unkeyed hash of it. Without
a secret, rows at the same start are told apart by their order. The start part
is the appointment's ``slot``: an import reports a row whose title was edited
(same client, date and start, another key) as ``CONFLICT`` rather than
creating a second session.

A bad row becomes an :class:`InvalidAppointment` naming the row number (the
header is row 1) and the column, never the cell's value.

>>> from datetime import date
>>> text = "Client,Start,Minutes\\nAda Byron,3/10/2026 9:00 PM,50\\n"
>>> columns = CsvColumns(title="Client", duration_minutes="Minutes")
>>> [a] = CsvCalendar(text, time_zone="America/New_York", columns=columns).appointments(
...     date(2026, 3, 1), date(2026, 3, 31)
... )
>>> a.start.isoformat(), a.duration_minutes, a.title
('2026-03-10T21:00:00-04:00', 50, 'Ada Byron')
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

import attrs
from dateutil import parser as date_parser  # type: ignore[import-untyped, unused-ignore]

from sessionkit.adapters._files import MAX_CALENDAR_BYTES, check_size, practice_zone, read_file
from sessionkit.appointments import Appointment, InvalidAppointment, normalise_email
from sessionkit.errors import CalendarError, InvalidValue, SessionkitError

__all__ = ["CsvCalendar", "CsvColumns"]

_CANCELLED = frozenset({"cancelled", "canceled", "cancel", "no show cancelled"})
_SPLIT_EMAILS = re.compile(r"[;,\s]+")
_UTC = ZoneInfo("UTC")
_PROBE_DEFAULT = datetime(2000, 1, 1, 13, 17, 19)  # noqa: DTZ001 (a sentinel: was a time given?)


@attrs.frozen(kw_only=True)
class CsvColumns:
    """The header names of the columns holding each field (``None``: no such column)."""

    uid: str | None = "uid"
    title: str = "title"
    start: str | None = "start"
    end: str | None = "end"
    duration_minutes: str | None = "duration_minutes"
    date: str | None = "date"
    start_time: str | None = "start_time"
    description: str | None = "description"
    location: str | None = "location"
    attendees: str | None = "attendees"
    status: str | None = "status"


def _read_text(source: str | os.PathLike[str] | TextIO, max_bytes: int | None) -> str:
    if isinstance(source, str) and "\n" in source:
        check_size(len(source), max_bytes, "CSV file")
        return source.removeprefix("\ufeff")
    if isinstance(source, (str, os.PathLike)):
        return read_file(source, "CSV file", max_bytes)
    read = getattr(source, "read", None)
    if read is None:
        raise CalendarError("the CSV source must be a path, an open text file or text", "calendar.source")
    try:
        text = read() if max_bytes is None else read(max_bytes + 1)
    except (OSError, ValueError) as exc:
        raise CalendarError("the CSV file cannot be read", "calendar.unreadable") from exc
    if not isinstance(text, str):
        raise CalendarError("the CSV file must be opened as text", "calendar.source")
    check_size(len(text), max_bytes, "CSV file")
    return text.removeprefix("\ufeff")


def _secret(value: bytes | str | None) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, bytes) or len(value) < 16:
        raise InvalidValue("key_secret must be at least 16 bytes", "csv.key_secret", "key_secret")
    return value


def _slot(start: datetime, floating: bool) -> str:
    """``csv-`` and the start: wall-clock time when floating, else UTC with ``Z``."""
    if floating:
        return f"csv-{start.replace(tzinfo=None).strftime('%Y%m%dT%H%M%S')}"
    return f"csv-{start.astimezone(_UTC).strftime('%Y%m%dT%H%M%SZ')}"


class _BadCell(ValueError):
    """A cell that cannot be read; the message names the column, not the value."""


class CsvCalendar:
    """A :class:`~sessionkit.appointments.CalendarSource` reading a CSV export.

    :param source: a path, an open text file, or the CSV text itself (a ``str``
        containing a line break).
    :param time_zone: the practice's IANA zone: times without an offset are in it.
    :param columns: which header holds which field.
    :param dayfirst: read ``03/04/2026`` as 3 April rather than March 4.
    :param key_secret: a secret of at least 16 bytes (keep it with the database):
        rows without a uid get a key holding an HMAC of their start and title, so
        two rows at the same start keep their keys however the file is sorted.
        Without it the key holds the start alone (and the row's rank among rows
        at that start).
    :param max_bytes: the largest file read (default 20 MB); ``None`` for no limit.
    :raises CalendarError: the file cannot be read, is larger than ``max_bytes``
        (``calendar.too_large``), or a required column is missing.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | TextIO,
        *,
        time_zone: str,
        columns: CsvColumns = CsvColumns(),
        dayfirst: bool = False,
        key_secret: bytes | str | None = None,
        max_bytes: int | None = MAX_CALENDAR_BYTES,
    ) -> None:
        self._zone = practice_zone(time_zone)
        self._columns = columns
        self._dayfirst = dayfirst
        self._secret = _secret(key_secret)
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1
        ):
            raise InvalidValue(
                "max_bytes must be a whole number of at least 1", "value.out_of_range", "max_bytes"
            )
        text = _read_text(source, max_bytes)
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise CalendarError("row 1: the file is empty (a header row is needed)", "calendar.structure")
            self._index = self._header(header)
            rows: list[tuple[int, int, list[str]]] = []
            row_number = 1
            line = reader.line_num + 1
            for row in reader:
                row_number += 1
                if any(cell.strip() for cell in row):
                    rows.append((row_number, line, row))
                line = reader.line_num + 1
        except csv.Error:
            raise CalendarError(
                f"line {reader.line_num}: the CSV cannot be read", "calendar.syntax"
            ) from None
        self._items: list[Appointment | InvalidAppointment] = []
        seen: set[str] = set()
        for row_number, line_number, row in rows:
            item = self._row(row_number, line_number, row)
            if isinstance(item, Appointment) and item.slot is not None and self._secret is None:
                rank = 1
                key = item.key
                while key in seen:  # rows at the same start, told apart by their order
                    rank += 1
                    key = f"{item.slot}~{rank}"
                item = attrs.evolve(item, uid=key, key=key)
            if isinstance(item, Appointment):
                if item.key in seen:
                    item = InvalidAppointment(
                        uid=item.uid,
                        key=f"row#{row_number}",
                        reason=f"row {row_number}: a second row with the same uid",
                        line=line_number,
                    )
                else:
                    seen.add(item.key)
            self._items.append(item)

    def _header(self, header: list[str]) -> Mapping[str, int]:
        names = {name.strip().casefold(): i for i, name in reversed(list(enumerate(header)))}
        index: dict[str, int] = {}
        for field in attrs.fields(CsvColumns):
            wanted = getattr(self._columns, field.name)
            if wanted is not None and wanted.strip().casefold() in names:
                index[field.name] = names[wanted.strip().casefold()]
        if "title" not in index:
            raise CalendarError(
                f"row 1: no column for title (header {self._columns.title!r})", "calendar.columns"
            )
        if "start" not in index and "date" not in index:
            raise CalendarError(
                "row 1: no column for the start (a start column, or a date and a start_time column)",
                "calendar.columns",
            )
        if "end" not in index and "duration_minutes" not in index and "start" in index:
            raise CalendarError(
                "row 1: no column for the end (an end or a duration_minutes column)", "calendar.columns"
            )
        return index

    def _cell(self, row: list[str], field: str) -> str:
        i = self._index.get(field)
        if i is None or i >= len(row):
            return ""
        return row[i].strip()

    def _parse(self, text: str, field: str, *, base: date | None = None) -> tuple[datetime, bool]:
        """A datetime and whether a time of day was given."""
        try:
            default = datetime.combine(base, time()) if base else datetime(2000, 1, 1)  # noqa: DTZ001
            with warnings.catch_warnings():
                # an unknown zone name ("EST") is ignored: the time is then practice time
                warnings.simplefilter("ignore", date_parser.UnknownTimezoneWarning)
                value = date_parser.parse(text, dayfirst=self._dayfirst, default=default)
                if value.time() != time() or value.tzinfo is not None:
                    return value, True
                probe_default = datetime.combine(base, _PROBE_DEFAULT.time()) if base else _PROBE_DEFAULT
                probe = date_parser.parse(text, dayfirst=self._dayfirst, default=probe_default)
        except (ValueError, OverflowError, TypeError):
            raise _BadCell(f"{field} cannot be read") from None
        return value, probe.time() == time()

    def _aware(self, value: datetime) -> tuple[datetime, bool]:
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=self._zone), True
        return value.astimezone(self._zone), False

    def _row(self, row_number: int, line: int, row: list[str]) -> Appointment | InvalidAppointment:
        uid = self._cell(row, "uid") or None
        try:
            return self._appointment(uid, row)
        except (_BadCell, SessionkitError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, _BadCell):
                reason = str(exc)
            elif isinstance(exc, SessionkitError):
                reason = (exc.field or exc.code) + " is not valid"
            else:  # a UTC offset of 24 hours or more, a date at the edge of the calendar
                reason = "a date, time or offset is out of range"
            return InvalidAppointment(
                uid=uid, key=f"row#{row_number}", reason=f"row {row_number}: {reason}", line=line
            )

    def _appointment(self, uid: str | None, row: list[str]) -> Appointment:
        title = self._cell(row, "title")
        start_text = self._cell(row, "start")
        if start_text:
            naive_start, timed = self._parse(start_text, "start")
        else:
            day_text = self._cell(row, "date")
            if not day_text:
                raise _BadCell("start is empty")
            day, _ = self._parse(day_text, "date")
            time_text = self._cell(row, "start_time")
            if time_text:
                naive_start, timed = self._parse(time_text, "start_time", base=day.date())
            else:
                naive_start, timed = day, False
        start, floating = self._aware(naive_start) if timed else (self._aware(naive_start)[0], False)
        end_text = self._cell(row, "end")
        minutes_text = self._cell(row, "duration_minutes")
        if end_text:
            naive_end, _ = self._parse(end_text, "end", base=naive_start.date())
            end = self._aware(naive_end)[0]
        elif minutes_text:
            try:
                minutes = float(minutes_text)
            except ValueError:
                raise _BadCell("duration_minutes cannot be read") from None
            if not 0 <= minutes < 100_000:
                raise _BadCell("duration_minutes is out of range")
            end = self._aware(
                (start.astimezone(ZoneInfo("UTC")) + timedelta(minutes=minutes)).astimezone(self._zone)
            )[0]
        elif not timed:
            end = self._aware(datetime.combine(naive_start.date() + timedelta(days=1), time()))[0]
        else:
            raise _BadCell("end and duration_minutes are both empty")
        if end < start:
            raise _BadCell("end is before start")
        slot = None
        aliases: tuple[str, ...] = ()
        if uid is None:
            slot = _slot(start, floating)
            uid = slot
            if self._secret is not None:
                mac = hmac.new(self._secret, f"{slot}|{title}".encode(), hashlib.sha256).hexdigest()[:20]
                uid = f"{slot}-{mac}"
            # The key sessionkit gave such rows before (an unkeyed hash): looked up, never stored.
            legacy = hashlib.sha256(f"{start.isoformat()}|{title}".encode()).hexdigest()[:20]
            aliases = (f"csv-{legacy}",)
        status = self._cell(row, "status").casefold()
        attendees = [normalise_email(a) for a in _SPLIT_EMAILS.split(self._cell(row, "attendees")) if a]
        return Appointment(
            uid=uid,
            key=uid,
            start=start,
            end=end,
            all_day=not timed,
            title=title,
            description=self._cell(row, "description"),
            location=self._cell(row, "location"),
            attendees=attendees,
            cancelled=status in _CANCELLED,
            floating=floating,
            aliases=aliases,
            slot=slot,
        )

    def appointments(self, start: date, end: date) -> Iterator[Appointment | InvalidAppointment]:
        """Yield the rows whose start (practice local date) is from ``start`` to ``end`` inclusive.

        Bad rows come first as :class:`InvalidAppointment` (all of them: their
        date may be what is wrong), then the appointments in file order.
        """
        for item in self._items:
            if isinstance(item, InvalidAppointment):
                yield item
        for item in self._items:
            if isinstance(item, Appointment) and start <= item.start.date() <= end:
                yield item
