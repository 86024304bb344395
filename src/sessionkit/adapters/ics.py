"""Appointments from iCalendar (.ics) files: Apple, Google, Outlook and Exchange exports.

Needs the ``ical`` extra (``icalendar`` and ``recurring-ical-events``).
Recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides), IANA zones,
Windows zone names, custom VTIMEZONE blocks and Google's ``X-WR-TIMEZONE``
are resolved by those libraries; this module adds what exports get wrong:

- times with no usable zone (floating times, an unknown TZID without a
  VTIMEZONE) are taken as practice time and flagged ``floating``;
- an RRULE ``UNTIL`` written in local time or as a bare date (against RFC
  5545) is read as the end of that local day, so the exporter's last
  occurrence is kept;
- a second VEVENT with the same UID (and no RECURRENCE-ID) is reported, not
  merged; one broken event becomes one :class:`InvalidAppointment` and the
  rest of the file still imports;
- a file that cannot be read at all raises :class:`CalendarError` naming the line.

Hostile or broken input is bounded (see ``docs/importing.md``, "Limits"):

- a property that may appear once (DTSTART, DTEND, DURATION, UID, ...) given
  twice makes that one event invalid;
- a TZID that no time zone database could load (300 characters, a control
  character) makes the events using it invalid;
- a series that repeats more often than daily (``FREQ=HOURLY``, ``MINUTELY``,
  ``SECONDLY``, or several BYHOUR/BYMINUTE/BYSECOND values) is invalid unless
  ``allow_sub_daily=True``; a series with more than ``max_occurrences_per_series``
  occurrences in the range read is invalid (counted lazily, never expanded first);
- a file above ``max_bytes`` is refused with :class:`CalendarError` before it is read whole;
- dates from year 1 to 9999 are read without overflow (an occurrence whose time
  cannot be shown in the practice zone is invalid).

>>> from datetime import date
>>> ics = '''BEGIN:VCALENDAR
... VERSION:2.0
... PRODID:-//Example//EN
... BEGIN:VEVENT
... UID:u1@example.org
... DTSTART;TZID=America/New_York:20260310T210000
... DTEND;TZID=America/New_York:20260310T215000
... SUMMARY:Therapy - Ada Byron
... END:VEVENT
... END:VCALENDAR
... '''
>>> [a] = IcsCalendar(ics, time_zone="America/New_York").appointments(date(2026, 3, 1), date(2026, 3, 31))
>>> a.key, a.start.isoformat(), a.duration_minutes
('u1@example.org', '2026-03-10T21:00:00-04:00', 50)
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessionkit._extras import reraise_missing

try:
    import icalendar
    import recurring_ical_events
    from recurring_ical_events.util import convert_to_datetime
except ModuleNotFoundError as exc:  # without the ical extra: one line naming the pip install
    reraise_missing(exc, "ical", "reading .ics files (sessionkit.adapters.ics)")
    raise

from sessionkit.adapters._files import (
    MAX_CALENDAR_BYTES,
    MAX_OCCURRENCES_PER_SERIES,
    check_size,
    decode,
    practice_zone,
    read_file,
)
from sessionkit.appointments import Appointment, InvalidAppointment, normalise_email, occurrence_key
from sessionkit.errors import CalendarError, InvalidValue, SessionkitError

__all__ = ["MAX_OCCURRENCES_PER_SERIES", "IcsCalendar"]


_UTC = timezone.utc
_END_OF_DAY = time(23, 59, 59)
# Properties whose breakage makes an event unusable (we read them, or the expansion does).
_NEEDED = frozenset(
    {
        "UID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "RRULE",
        "RDATE",
        "EXDATE",
        "RECURRENCE-ID",
        "SEQUENCE",
        "STATUS",
        "SUMMARY",
        "DESCRIPTION",
        "LOCATION",
        "ATTENDEE",
    }
)
_NAME = re.compile(r"[A-Z0-9-]{1,40}")
_CONTENT_LINE = re.compile(
    r"""[A-Za-z0-9-]+(;[A-Za-z0-9-]+=("[^"]*"|[^";:,]*)(,("[^"]*"|[^";:,]*))*)*:""", re.VERBOSE
)
_Time = date  # a date or a datetime (datetime subclasses date)
_EXPANSION_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ArithmeticError)
# Properties an event may hold once (RFC 5545 3.6.1); twice makes the event invalid.
_SINGLE = (
    "UID",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
)
_SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_DATED = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
_TZID_PARAM = re.compile(r'(;TZID=)("[^"]*"|[^;:\r\n]*)', re.IGNORECASE)
_UNUSABLE_TZID = "X-SESSIONKIT-UNUSABLE-TZID"
"""What an unloadable TZID is replaced with before parsing (the events using it become invalid)."""
_MAX_TZID = 128
_MOST_READ = 100_000
"""The most occurrences of one series read from its start to the end of the range: a
daily series begun 270 years before the range is refused rather than expanded."""
_UNFOLD = re.compile(r"\r?\n[ \t]")
# The dates the expansion reads at most: a day of margin at each end of what date holds.
_FIRST_DAY = date(1, 1, 2)
_LAST_DAY = date(9999, 12, 31)
# Read recurring-ical-events' occurrence objects rather than per-occurrence VEVENT copies
# (tests switch this off to check that both ways give the same appointments).
_USE_OCCURRENCES = True


def _read_text(source: str | bytes | os.PathLike[str], max_bytes: int | None) -> str:
    if isinstance(source, str) and ("\n" in source or source.lstrip()[:6].upper() == "BEGIN:"):
        check_size(len(source), max_bytes, "calendar file")
        return source.removeprefix("\ufeff")
    if isinstance(source, bytes):
        check_size(len(source), max_bytes, "calendar file")
        return decode(source)
    if not isinstance(source, (str, os.PathLike)):
        raise CalendarError("the calendar source must be a path, bytes or text", "calendar.source")
    return read_file(source, "calendar file", max_bytes)


def _usable_zone_name(name: str) -> bool:
    """Whether a time zone library may be asked for ``name`` without an OSError."""
    if len(name) > _MAX_TZID or not name.isprintable():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return True  # unknown: read as practice time (floating), as before
    except Exception:
        return False
    return True


def _tame_tzids(text: str) -> str:
    """Replace every TZID no zone library can be asked for by a harmless marker."""
    if "TZID" not in text.upper():
        return text
    unfolded = _UNFOLD.sub("", text) if _UNFOLD.search(text) else text
    bad = {
        value
        for value in {m.group(2) for m in _TZID_PARAM.finditer(unfolded)}
        if not _usable_zone_name(value.strip('"'))
    }
    lines = unfolded.splitlines(keepends=True)
    changed = False
    for i, line in enumerate(lines):
        head = line[:5].upper()
        if head in {"TZID:", "TZID;"}:
            name = line.split(":", 1)[-1].strip()
            if not _usable_zone_name(name):
                lines[i] = f"TZID:{_UNUSABLE_TZID}\r\n"
                changed = True
    if not bad and not changed:
        return text

    def swap(match: re.Match[str]) -> str:
        return f"{match.group(1)}{_UNUSABLE_TZID}" if match.group(2) in bad else match.group(0)

    return _TZID_PARAM.sub(swap, "".join(lines))


def _clamped(day: date, days: int) -> date:
    """``day`` moved by ``days``, kept within the dates the expansion can handle."""
    try:
        moved = day + timedelta(days=days)
    except OverflowError:
        moved = _FIRST_DAY if days < 0 else _LAST_DAY
    return min(max(moved, _FIRST_DAY), _LAST_DAY)


def _sub_daily(rule: Any) -> str | None:
    """The frequency name when an RRULE repeats more often than daily, else None."""
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    if freq in _SUB_DAILY:
        return freq
    per_day = 1
    for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        per_day *= max(1, len(_as_list(rule.get(part))))
    return f"{freq} with {per_day} times a day" if per_day > 1 else None


def _count_occurrences(series: Any, first: datetime, last: datetime, most: int) -> int | None:
    """How many occurrences ``series`` has from ``first`` to ``last``, stopping above ``most``.

    ``most + 1`` also when more than ``_MOST_READ`` occurrences come before ``last``.

    Reads recurring-ical-events' rules lazily (never a list of every occurrence);
    None when they cannot be read this way (the expansion then counts).
    """
    recurrence = getattr(series, "recurrence", None)
    rules = getattr(recurrence, "rrules", None)
    if rules is None:
        return 0 if recurrence is not None else None
    try:
        zone = getattr(recurrence, "tzinfo", None)
        low = convert_to_datetime(first, zone)
        high = convert_to_datetime(last, zone)
        if low.tzinfo is None and zone is None:
            low, high = low.replace(tzinfo=None), high.replace(tzinfo=None)
        found = 0
        read = 0
        for rule in rules:
            for moment in rule:
                read += 1
                if moment > high:
                    break
                if moment >= low:
                    found += 1
                if found > most or read > _MOST_READ:
                    return most + 1
    except (*_EXPANSION_ERRORS, OSError):
        return None
    return found


def _shown(name: str) -> str:
    name = name.strip().upper()
    return name if _NAME.fullmatch(name) else "?"


def _scan(text: str) -> list[int]:
    """Check the BEGIN/END structure; return the line numbers of the top-level BEGIN:VEVENT lines."""
    stack: list[tuple[str, int]] = []
    vevents: list[int] = []
    seen_calendar = False
    number = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw or raw[0] in " \t" or not raw.strip():
            continue
        head = raw[:6].upper()
        if head == "BEGIN:":
            name = raw[6:].strip().upper()
            if not stack:
                if name != "VCALENDAR" or seen_calendar:
                    what = "a second calendar" if seen_calendar else f"BEGIN:{_shown(name)}"
                    raise CalendarError(
                        f"line {number}: expected BEGIN:VCALENDAR, found {what}", "calendar.structure"
                    )
                seen_calendar = True
            elif name == "VEVENT" and len(stack) == 1:
                vevents.append(number)
            stack.append((name, number))
        elif head[:4] == "END:":
            name = raw[4:].strip().upper()
            if not stack or stack[-1][0] != name:
                opened = f"BEGIN:{_shown(stack[-1][0])} of line {stack[-1][1]}" if stack else "nothing"
                raise CalendarError(
                    f"line {number}: END:{_shown(name)} does not match {opened}", "calendar.structure"
                )
            stack.pop()
        elif not stack and raw[:9].upper() != "X-COMMENT":
            where = "after END:VCALENDAR" if seen_calendar else "before BEGIN:VCALENDAR"
            raise CalendarError(f"line {number}: content {where}", "calendar.structure")
    if stack:
        name, opened_at = stack[-1]
        raise CalendarError(
            f"line {opened_at}: BEGIN:{_shown(name)} is never closed (the file ends at line {number})",
            "calendar.structure",
        )
    if not seen_calendar:
        raise CalendarError("line 1: the file is empty, not an iCalendar file", "calendar.structure")
    return vevents


def _locate(text: str) -> str:
    """Say where icalendar probably failed: the first malformed line outside an event."""
    depth_names: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw[0] in " \t":
            continue
        head = raw[:6].upper()
        if head == "BEGIN:":
            depth_names.append(raw[6:].strip().upper())
        elif head[:4] == "END:":
            if depth_names:
                depth_names.pop()
        elif (not depth_names or depth_names[-1] != "VEVENT") and not _CONTENT_LINE.match(raw):
            return f"line {number}: not a valid iCalendar content line"
    return "the file cannot be read as iCalendar (line unknown)"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _limit(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue(f"{name} must be a whole number of at least 1", "value.out_of_range", name)
    return value


class _Event:
    """What the pre-pass learned about one VEVENT."""

    __slots__ = ("component", "line", "number", "recurrence_id", "start", "uid")

    def __init__(self, component: Any, number: int, line: int | None) -> None:
        self.component = component
        self.number = number
        self.line = line
        self.uid: str | None = None
        self.start: _Time | None = None
        self.recurrence_id: _Time | None = None


class IcsCalendar:
    """A :class:`~sessionkit.appointments.CalendarSource` reading an iCalendar file.

    :param source: a path, the file's bytes, or its text (a ``str`` containing a
        line break or starting with ``BEGIN:`` is taken as text, otherwise as a path).
    :param time_zone: the practice's IANA zone, used for floating times, all-day
        events and the date range of :meth:`appointments`.
    :param max_occurrences_per_series: the most occurrences one series (one UID)
        may have in the range of :meth:`appointments`; a series with more is one
        :class:`InvalidAppointment` (default :data:`MAX_OCCURRENCES_PER_SERIES`).
    :param allow_sub_daily: accept series repeating more often than daily
        (``FREQ=HOURLY``, ``MINUTELY``, ``SECONDLY``); by default they are invalid.
    :param max_bytes: the largest file read (default ``MAX_CALENDAR_BYTES``, 20 MB);
        ``None`` for no limit.
    :raises CalendarError: the file cannot be read at all (the message names the line),
        or is larger than ``max_bytes`` (``calendar.too_large``).
    :raises InvalidValue: a limit is not a positive whole number.
    """

    def __init__(
        self,
        source: str | bytes | os.PathLike[str],
        *,
        time_zone: str,
        max_occurrences_per_series: int = MAX_OCCURRENCES_PER_SERIES,
        allow_sub_daily: bool = False,
        max_bytes: int | None = MAX_CALENDAR_BYTES,
    ) -> None:
        self._zone = practice_zone(time_zone)
        self._most = _limit(max_occurrences_per_series, "max_occurrences_per_series")
        self._sub_daily = bool(allow_sub_daily)
        text = _read_text(source, None if max_bytes is None else _limit(max_bytes, "max_bytes"))
        vevent_lines = _scan(text)
        text = _tame_tzids(text)
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except (ValueError, TypeError, KeyError, IndexError, OSError, ArithmeticError):
            raise CalendarError(_locate(text), "calendar.syntax") from None
        if not isinstance(calendar, icalendar.Calendar):  # pragma: no cover - _scan requires VCALENDAR
            raise CalendarError("line 1: not an iCalendar file", "calendar.structure")
        self._calendar = calendar
        # (invalid event, its local start date if known, whether it recurs)
        self._invalid: list[tuple[InvalidAppointment, date | None, bool]] = []
        self._recurring: set[str] = set()
        self._first: dict[str, str] = {}  # the key of each series' first occurrence
        self._suppressed: set[str] = set()
        self._prepare(calendar, vevent_lines)
        self._query: Any = None
        self._groups: list[tuple[str, Any]] | None = None
        self._static: dict[int, tuple[Any, tuple[str, str, str, str, tuple[str, ...], bool]]] = {}

    # -- reading -------------------------------------------------------------------------------

    def _aware(self, value: _Time) -> tuple[datetime, bool]:
        """An aware datetime in the practice zone, and whether practice time was assumed."""
        if not isinstance(value, datetime):
            return datetime.combine(value, time(), tzinfo=self._zone), False
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=self._zone), True
        return value.astimezone(self._zone), False

    def _local_date(self, value: _Time) -> date:
        return self._aware(value)[0].date()

    def _occurrence_id(self, value: _Time) -> datetime | date:
        return self._aware(value)[0] if isinstance(value, datetime) else value

    def _key(self, uid: str, value: _Time) -> str:
        """The occurrence key of ``uid`` at ``value`` (also for a time at the edge of the calendar).

        A floating time keeps its wall-clock time in the key: the key does not
        depend on the zone assumed for it (``--tz``).
        """
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            return occurrence_key(uid, value.replace(tzinfo=None))
        try:
            return occurrence_key(uid, self._occurrence_id(value))
        except (ArithmeticError, ValueError):
            return f"{uid}#{value.isoformat()}"

    def _aliases(self, uid: str, key: str, value: _Time) -> tuple[str, ...]:
        """Keys the occurrence of ``uid`` at ``value`` had in earlier imports.

        A floating time's key in practice time (sessionkit before 0.x wrote it in
        UTC); the bare UID for the first occurrence of a series (it was a single
        event); the first-occurrence key for a single event (it was a series).
        """
        found: list[str] = []
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            with contextlib.suppress(ArithmeticError, ValueError):
                found.append(occurrence_key(uid, self._aware(value)[0]))
        if key == uid:
            found.append(self._key(uid, value))
        elif self._first.get(uid) == key:
            found.append(uid)
        return tuple(k for k in dict.fromkeys(found) if k != key)

    def _problem(self, event: _Event) -> str | None:
        """Read and check one VEVENT; return a reason (no client data) when it is unusable."""
        component = event.component
        broken = {name.upper() for name, _message in component.errors if name is not None}
        repeated = [name for name in _SINGLE if isinstance(component.get(name), list)]
        broken.update(repeated)
        if "UID" not in broken:
            uid = component.get("UID")
            if uid is not None and str(uid).strip():
                event.uid = str(uid)
        if "RECURRENCE-ID" not in broken:
            rid = component.get("RECURRENCE-ID")
            if rid is not None:
                event.recurrence_id = rid.dt
        if repeated:
            return f"{repeated[0]} appears more than once"
        if broken & _NEEDED:
            return f"{min(broken & _NEEDED)} cannot be read"
        for name in _DATED:
            for value in _as_list(component.get(name)):
                params = getattr(value, "params", {})
                if str(params.get("TZID", "")) == _UNUSABLE_TZID:
                    return f"the TZID of {name} is not a usable time zone name"
        if event.recurrence_id is None and not self._sub_daily:
            for rule in _as_list(component.get("RRULE")):
                freq = _sub_daily(rule)
                if freq is not None:
                    return (
                        f"the recurrence repeats more often than daily ({freq}); "
                        "sub-daily series are not imported unless allowed"
                    )
        if event.uid is None:
            return "the event has no UID"
        dtstart = component.get("DTSTART")
        if dtstart is None:
            return "DTSTART is missing"
        start = event.start = dtstart.dt
        if not isinstance(start, date):
            return "DTSTART is not a date or date-time"
        dtend = component.get("DTEND")
        if dtend is not None:
            end = dtend.dt
            if isinstance(start, datetime) != isinstance(end, datetime):
                return "DTSTART and DTEND are not both dates or both date-times"
            if self._aware(end)[0] < self._aware(start)[0]:
                return "DTEND is before DTSTART"
        duration = component.get("DURATION")
        if dtend is None and duration is not None:
            if not isinstance(duration.dt, timedelta):
                return "DURATION cannot be read"
            if duration.dt < timedelta(0):
                return "DURATION is negative"
        return None

    def _fix_until(self, component: icalendar.Event, start: _Time) -> None:
        """Read a local-time or date UNTIL as the end of that local day (the exporter's intent)."""
        if not isinstance(start, datetime):
            return
        for rule in _as_list(component.get("RRULE")):
            untils = rule.get("UNTIL")
            if not untils:
                continue
            until = untils[0]
            if start.tzinfo is not None:
                if not isinstance(until, datetime) or until.tzinfo is None:
                    day = until if not isinstance(until, datetime) else until.date()
                    rule["UNTIL"] = [datetime.combine(day, _END_OF_DAY, tzinfo=start.tzinfo).astimezone(_UTC)]
            elif not isinstance(until, datetime) or until.tzinfo is None:
                day = until if not isinstance(until, datetime) else until.date()
                rule["UNTIL"] = [datetime.combine(day, _END_OF_DAY)]
            else:  # floating start, UTC UNTIL: compare in practice time
                rule["UNTIL"] = [until.astimezone(self._zone).replace(tzinfo=None)]

    def _invalid_event(self, event: _Event, reason: str, *, positional: bool = False) -> None:
        if event.uid is None or positional:
            key = f"event#{event.number}"
        elif event.recurrence_id is not None:
            key = self._key(event.uid, event.recurrence_id)
            self._suppressed.add(key)
        else:
            key = event.uid
        component = event.component
        recurs = "RRULE" in component or "RDATE" in component
        first = None
        if isinstance(event.start, date):
            try:
                first = self._local_date(event.start)
            except (ArithmeticError, ValueError):
                first = None

        self._invalid.append(
            (InvalidAppointment(uid=event.uid, key=key, reason=reason, line=event.line), first, recurs)
        )

    def _prepare(self, calendar: icalendar.Calendar, vevent_lines: list[int]) -> None:
        components = calendar.subcomponents
        vevents = [c for c in components if c.name == "VEVENT"]
        lines: list[int | None] = list(vevent_lines)
        if len(lines) != len(vevents):  # pragma: no cover - the parser and the scanner disagree
            lines = [None] * len(vevents)
        masters: set[str] = set()
        broken_masters: set[str] = set()
        overrides: set[tuple[str, str]] = set()
        kept: list[_Event] = []
        for number, (component, line) in enumerate(zip(vevents, lines, strict=True), 1):
            event = _Event(component, number, line)
            try:
                reason = self._problem(event)
            except (ArithmeticError, ValueError, TypeError, AttributeError, OSError):
                reason = "a date or time of the event is outside the range sessionkit can read"
            uid = event.uid
            if uid is not None and event.recurrence_id is None:
                if uid in masters:
                    self._invalid_event(event, "a second event with the same UID", positional=True)
                    continue
                masters.add(uid)
                if reason is not None:
                    broken_masters.add(uid)
            elif uid is not None and event.recurrence_id is not None:
                slot = (uid, self._key(uid, event.recurrence_id))
                if slot in overrides:
                    self._invalid_event(event, "a second event for the same occurrence", positional=True)
                    continue
                overrides.add(slot)
            if reason is not None:
                self._invalid_event(event, reason)
                continue
            kept.append(event)
        good: list[Any] = []
        for event in kept:
            if event.uid is None or event.uid in broken_masters:
                self._invalid_event(event, "the series this occurrence belongs to cannot be read")
                continue
            component = event.component
            if event.recurrence_id is not None or "RRULE" in component or "RDATE" in component:
                self._recurring.add(event.uid)
                if event.recurrence_id is None and event.start is not None:
                    self._first[event.uid] = self._key(event.uid, event.start)
            if event.recurrence_id is None and "RRULE" in component and event.start is not None:
                try:
                    self._fix_until(component, event.start)
                except (ArithmeticError, ValueError, TypeError):
                    self._invalid_event(
                        event, "the recurrence's UNTIL is outside the range sessionkit can read"
                    )
                    continue
            good.append(component)
        calendar.subcomponents = [*(c for c in components if c.name != "VEVENT"), *good]

    # -- expansion -----------------------------------------------------------------------------

    def _groups_by_uid(self) -> list[tuple[str, Any]]:
        """One small calendar per UID, so that one bad series cannot stop the others."""
        calendar = self._calendar
        others = [c for c in calendar.subcomponents if c.name != "VEVENT"]
        by_uid: dict[str, list[Any]] = {}
        for component in calendar.subcomponents:
            if component.name == "VEVENT":
                by_uid.setdefault(str(component["UID"]), []).append(component)
        groups: list[tuple[str, Any]] = []
        for uid, events in by_uid.items():
            small = icalendar.Calendar()
            for name, value in calendar.items():
                small[name] = value
            small.subcomponents = [*others, *events]
            try:
                groups.append((uid, recurring_ical_events.of(small)))
            except (*_EXPANSION_ERRORS, OSError) as exc:
                groups.append((uid, exc))
        return groups

    def _spans(self, query: Any, first: date, last: date, over: set[str]) -> list[tuple[Any, Any, Any]]:
        """(start, end, source VEVENT) of each occurrence overlapping ``first..last``.

        A series with more than ``max_occurrences_per_series`` occurrences in the
        range is counted lazily first, left out and its UID added to ``over``.
        recurring-ical-events copies the VEVENT for every occurrence in ``between()``;
        when its occurrence objects are available we read them directly (same
        start, end and source event, without the copies), else we use ``between()``.
        """
        low, high = query.to_datetime(first), query.to_datetime(last)
        series_list = getattr(query, "series", None)
        if series_list is not None:
            for series in series_list:
                found = _count_occurrences(series, low, high, self._most)
                if found is not None and found > self._most:
                    over.add(str(getattr(series, "uid", "")))
        if _USE_OCCURRENCES and series_list is not None:
            occurrences: list[Any] = []
            for series in series_list:
                if str(getattr(series, "uid", "")) not in over:
                    occurrences.extend(series.between(low, high))
            try:
                return [(o.start, o.end, o._adapter._component) for o in occurrences]
            except AttributeError:  # pragma: no cover - another recurring-ical-events version
                pass
        return [
            (c["DTSTART"].dt, c["DTEND"].dt, c)
            for c in query.between(first, last)
            if str(c.get("UID", "")) not in over
        ]

    def _expand(
        self, first: date, last: date, over: set[str]
    ) -> Iterator[tuple[Any, Any, Any] | tuple[str, Exception]]:
        """Occurrence spans overlapping ``first..last``, or (uid, error) for a series that fails.

        The UIDs of series over the limit are added to ``over`` (their occurrences left out).
        """
        if self._groups is None:
            try:
                if self._query is None:
                    self._query = recurring_ical_events.of(self._calendar)
                spans = self._spans(self._query, first, last, over)
            except (*_EXPANSION_ERRORS, OSError):
                self._groups = self._groups_by_uid()
            else:
                yield from spans
                return
        for uid, query in self._groups:
            if isinstance(query, Exception):
                yield (uid, query)
                continue
            try:
                spans = self._spans(query, first, last, over)
            except (*_EXPANSION_ERRORS, OSError) as exc:
                yield (uid, exc)
            else:
                yield from spans

    def _fields(self, source: Any) -> tuple[str, str, str, str, tuple[str, ...], bool]:
        """What an occurrence takes unchanged from its VEVENT (cached per VEVENT)."""
        cached = self._static.get(id(source))
        if cached is not None and cached[0] is source:
            return cached[1]
        attendees = tuple(a for a in (normalise_email(str(v)) for v in _as_list(source.get("ATTENDEE"))) if a)
        fields = (
            str(source["UID"]),
            str(source.get("SUMMARY", "")),
            str(source.get("DESCRIPTION", "")),
            str(source.get("LOCATION", "")),
            attendees,
            str(source.get("STATUS", "")).upper() == "CANCELLED",
        )
        self._static[id(source)] = (source, fields)
        return fields

    def _appointment(self, raw_start: Any, raw_end: Any, source: Any) -> Appointment:
        uid, title, description, location, attendees, cancelled = self._fields(source)
        start, floating = self._aware(raw_start)
        end = self._aware(raw_end)[0]
        recurrence_id: datetime | date | None = None
        key = uid
        original = raw_start
        if uid in self._recurring:
            rid = source.get("RECURRENCE-ID")
            original = rid.dt if rid is not None else raw_start
            recurrence_id = self._occurrence_id(original)
            key = self._key(uid, original)
        return Appointment(
            uid=uid,
            key=key,
            aliases=self._aliases(uid, key, original),
            recurrence_id=recurrence_id,
            start=start,
            end=end,
            all_day=not isinstance(raw_start, datetime),
            title=title,
            description=description,
            location=location,
            attendees=attendees,
            cancelled=cancelled,
            floating=floating,
        )

    def appointments(self, start: date, end: date) -> Iterator[Appointment | InvalidAppointment]:
        """Yield the occurrences starting (practice local date) from ``start`` to ``end`` inclusive.

        Events that cannot be read come first, as :class:`InvalidAppointment`
        (those whose start is known and outside the range are left out); then
        the appointments in order of start.
        """
        for invalid, first, recurs in self._invalid:
            if first is None or (first <= end and (recurs or first >= start)):
                yield invalid
        found: list[Appointment] = []
        failed: list[InvalidAppointment] = []
        over: set[str] = set()
        per_series: dict[str, int] = {}
        for item in self._expand(_clamped(start, -1), _clamped(end, 2), over):
            if isinstance(item[0], str):
                uid, exc = item[0], item[1]
                reason = f"the recurrence cannot be expanded ({type(exc).__name__})"
                failed.append(InvalidAppointment(uid=uid, key=uid, reason=reason))
                continue
            raw_start, raw_end, source = item  # type: ignore[misc]
            try:
                appointment = self._appointment(raw_start, raw_end, source)
            except (SessionkitError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
                bad_uid = str(source.get("UID", "")) or None
                reason = f"an occurrence cannot be read ({type(exc).__name__})"
                failed.append(InvalidAppointment(uid=bad_uid, key=bad_uid or "event#?", reason=reason))
                continue
            if appointment.key in self._suppressed:
                continue
            if start <= appointment.start.date() <= end:
                found.append(appointment)
                per_series[appointment.uid] = per_series.get(appointment.uid, 0) + 1
        # A series the lazy count could not read (or one of many RDATEs) is capped here.
        over.update(uid for uid, n in per_series.items() if n > self._most)
        for uid in sorted(over):
            reason = (
                f"the series has more than {self._most} occurrences in the range read "
                f"(max_occurrences_per_series), or more than {_MOST_READ} before its end"
            )
            failed.append(InvalidAppointment(uid=uid or None, key=uid or "event#?", reason=reason))
        yield from failed
        found = [a for a in found if a.uid not in over]
        found.sort(key=lambda a: (a.start, a.key))
        yield from found
