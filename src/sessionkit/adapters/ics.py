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

import os
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import icalendar
import recurring_ical_events

from sessionkit.adapters._files import decode, practice_zone, read_file
from sessionkit.appointments import Appointment, InvalidAppointment, normalise_email, occurrence_key
from sessionkit.errors import CalendarError, SessionkitError

__all__ = ["IcsCalendar"]

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
# Read recurring-ical-events' occurrence objects rather than per-occurrence VEVENT copies
# (tests switch this off to check that both ways give the same appointments).
_USE_OCCURRENCES = True


def _read_text(source: str | bytes | os.PathLike[str]) -> str:
    if isinstance(source, str) and ("\n" in source or source.lstrip()[:6].upper() == "BEGIN:"):
        return source.removeprefix("\ufeff")
    if isinstance(source, bytes):
        return decode(source)
    return read_file(source, "calendar file")


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
    :raises CalendarError: the file cannot be read at all (the message names the line).
    """

    def __init__(self, source: str | bytes | os.PathLike[str], *, time_zone: str) -> None:
        self._zone = practice_zone(time_zone)
        text = _read_text(source)
        vevent_lines = _scan(text)
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except (ValueError, TypeError, KeyError, IndexError):
            raise CalendarError(_locate(text), "calendar.syntax") from None
        if not isinstance(calendar, icalendar.Calendar):  # pragma: no cover - _scan requires VCALENDAR
            raise CalendarError("line 1: not an iCalendar file", "calendar.structure")
        self._calendar = calendar
        # (invalid event, its local start date if known, whether it recurs)
        self._invalid: list[tuple[InvalidAppointment, date | None, bool]] = []
        self._recurring: set[str] = set()
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

    def _problem(self, event: _Event) -> str | None:
        """Read and check one VEVENT; return a reason (no client data) when it is unusable."""
        component = event.component
        broken = {name.upper() for name, _message in component.errors if name is not None}
        if "UID" not in broken:
            uid = component.get("UID")
            if uid is not None and str(uid).strip():
                event.uid = str(uid)
        if "RECURRENCE-ID" not in broken:
            rid = component.get("RECURRENCE-ID")
            if rid is not None:
                event.recurrence_id = rid.dt
        if broken & _NEEDED:
            return f"{min(broken & _NEEDED)} cannot be read"
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
            key = occurrence_key(event.uid, self._occurrence_id(event.recurrence_id))
            self._suppressed.add(key)
        else:
            key = event.uid
        component = event.component
        recurs = "RRULE" in component or "RDATE" in component
        first = None
        if isinstance(event.start, date):
            first = self._local_date(event.start)
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
            reason = self._problem(event)
            uid = event.uid
            if uid is not None and event.recurrence_id is None:
                if uid in masters:
                    self._invalid_event(event, "a second event with the same UID", positional=True)
                    continue
                masters.add(uid)
                if reason is not None:
                    broken_masters.add(uid)
            elif uid is not None and event.recurrence_id is not None:
                slot = (uid, occurrence_key(uid, self._occurrence_id(event.recurrence_id)))
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
            if event.recurrence_id is None and "RRULE" in component and event.start is not None:
                self._fix_until(component, event.start)
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
            except _EXPANSION_ERRORS as exc:
                groups.append((uid, exc))
        return groups

    def _spans(self, query: Any, first: date, last: date) -> list[tuple[Any, Any, Any]]:
        """(start, end, source VEVENT) of each occurrence overlapping ``first..last``.

        recurring-ical-events copies the VEVENT for every occurrence in ``between()``;
        when its occurrence objects are available we read them directly (same
        start, end and source event, without the copies), else we use ``between()``.
        """
        if _USE_OCCURRENCES:
            private = getattr(query, "_occurrences_between", None)
            if private is not None:
                occurrences = private(query.to_datetime(first), query.to_datetime(last))
                try:
                    return [(o.start, o.end, o._adapter._component) for o in occurrences]
                except AttributeError:  # pragma: no cover - another recurring-ical-events version
                    pass
        return [(c["DTSTART"].dt, c["DTEND"].dt, c) for c in query.between(first, last)]

    def _expand(self, first: date, last: date) -> Iterator[tuple[Any, Any, Any] | tuple[str, Exception]]:
        """Occurrence spans overlapping ``first..last``, or (uid, error) for a series that fails."""
        if self._groups is None:
            try:
                if self._query is None:
                    self._query = recurring_ical_events.of(self._calendar)
                spans = self._spans(self._query, first, last)
            except _EXPANSION_ERRORS:
                self._groups = self._groups_by_uid()
            else:
                yield from spans
                return
        for uid, query in self._groups:
            if isinstance(query, Exception):
                yield (uid, query)
                continue
            try:
                spans = self._spans(query, first, last)
            except _EXPANSION_ERRORS as exc:
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
        if uid in self._recurring:
            rid = source.get("RECURRENCE-ID")
            recurrence_id = self._occurrence_id(rid.dt if rid is not None else raw_start)
        return Appointment(
            uid=uid,
            key=occurrence_key(uid, recurrence_id),
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
        for item in self._expand(start - timedelta(days=1), end + timedelta(days=2)):
            if isinstance(item[0], str):
                uid, exc = item[0], item[1]
                reason = f"the recurrence cannot be expanded ({type(exc).__name__})"
                failed.append(InvalidAppointment(uid=uid, key=uid, reason=reason))
                continue
            raw_start, raw_end, source = item  # type: ignore[misc]
            try:
                appointment = self._appointment(raw_start, raw_end, source)
            except (SessionkitError, ValueError, TypeError, KeyError, AttributeError) as exc:
                bad_uid = str(source.get("UID", "")) or None
                reason = f"an occurrence cannot be read ({type(exc).__name__})"
                failed.append(InvalidAppointment(uid=bad_uid, key=bad_uid or "event#?", reason=reason))
                continue
            if appointment.key in self._suppressed:
                continue
            if start <= appointment.start.date() <= end:
                found.append(appointment)
        yield from failed
        found.sort(key=lambda a: (a.start, a.key))
        yield from found
