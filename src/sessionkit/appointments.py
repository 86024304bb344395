"""Calendar appointments and the ports that produce and match them.

An :class:`Appointment` is one occurrence of a calendar event, already expanded
from its recurrence rule, with timezone-aware start and end. Its ``key`` (the
event's UID plus the *original* occurrence) is the identity a calendar import
uses to stay idempotent: re-reading the same file, or reading it after one
occurrence was moved, gives the same keys.

Adapters (``sessionkit.adapters.ics``, ``sessionkit.adapters.csv``) implement
:class:`CalendarSource`; a :class:`ClientMatcher` says which client an
appointment is for. This module is pure: it reads no files and imports no
calendar library.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> ny = ZoneInfo("America/New_York")
>>> a = Appointment(
...     uid="u1",
...     key="u1",
...     start=datetime(2026, 3, 10, 21, 0, tzinfo=ny),
...     end=datetime(2026, 3, 10, 21, 50, tzinfo=ny),
...     title="Therapy - Ada Byron",
... )
>>> a.duration_minutes, a.local_date(ny).isoformat(), a.local_date(ZoneInfo("UTC")).isoformat()
(50, '2026-03-10', '2026-03-11')
>>> MappingMatcher(by_title_substring={"ada byron": "c1"}).match(a)
MatchResult(client_id='c1', reason=None)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import attrs

from sessionkit.domain import _checks
from sessionkit.domain.parties import Client
from sessionkit.domain.values import redacted
from sessionkit.errors import InvalidValue

__all__ = [
    "Appointment",
    "CalendarSource",
    "ClientMatcher",
    "InvalidAppointment",
    "MappingMatcher",
    "MatchFailure",
    "MatchResult",
    "NameMatcher",
    "occurrence_key",
]

_UTC = timezone.utc


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            f"{attribute.name} must be a timezone-aware datetime", "appointment.naive", attribute.name
        )


def _recurrence_id(
    _inst: object, attribute: attrs.Attribute[datetime | date | None], value: datetime | date | None
) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        _aware(_inst, attribute, value)  # type: ignore[arg-type]
    elif not isinstance(value, date):
        raise InvalidValue(
            "recurrence_id must be a date, an aware datetime or None", "value.type", attribute.name
        )


def _non_empty(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidValue(f"{attribute.name} must be non-empty text", "value.required", attribute.name)


def _text(inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.is_text(inst, attribute, value)


def _optional_text(inst: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    _checks.is_optional_text(inst, attribute, value)


def _optional_line(_inst: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        _checks.whole(value, attribute.name, low=0, high=2**62)


def _keys(value: Iterable[str]) -> tuple[str, ...]:
    keys = _checks.sequence(value, "aliases", "keys")
    for i, key in enumerate(keys):
        if not isinstance(key, str) or not key:
            raise InvalidValue("aliases must be non-empty text", "value.required", f"aliases[{i}]")
    return keys


def _emails(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(normalise_email(v) for v in _checks.sequence(value, "attendees", "email addresses"))


def normalise_email(value: str) -> str:
    """Lower-case an address and drop a leading ``mailto:``.

    >>> normalise_email("MAILTO:Ada@Example.ORG ")
    'ada@example.org'
    """
    text = str(value).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.strip().lower()


def occurrence_key(uid: str, occurrence: datetime | date | None) -> str:
    """The identity of one occurrence: ``uid`` alone, or ``uid#<original start>``.

    Datetimes are written in UTC (``2026-03-10T19:00:00Z``) so that the key does
    not depend on the zone the exporter used; all-day occurrences use the date.
    A floating (naive) datetime is written as it stands, without ``Z``, so that
    the key does not depend on the zone the importer assumed for it either.

    >>> from zoneinfo import ZoneInfo
    >>> occurrence_key("u1", datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("America/New_York")))
    'u1#2026-03-10T18:00:00Z'
    >>> occurrence_key("u1", date(2026, 3, 10)), occurrence_key("u1", None)
    ('u1#2026-03-10', 'u1')
    >>> occurrence_key("u1", datetime(2026, 3, 10, 14, 0))
    'u1#2026-03-10T14:00:00'
    """
    if occurrence is None:
        return uid
    if isinstance(occurrence, datetime) and occurrence.tzinfo is None:
        return f"{uid}#{occurrence.strftime('%Y-%m-%dT%H:%M:%S')}"
    if isinstance(occurrence, datetime):
        return f"{uid}#{occurrence.astimezone(_UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    return f"{uid}#{occurrence.isoformat()}"


@attrs.frozen(kw_only=True)
class Appointment:
    """One occurrence of a calendar event.

    ``key`` identifies the occurrence across re-imports: for a recurring event
    it is the UID plus the *original* start of the occurrence (its
    RECURRENCE-ID), so moving one session of a series keeps its key; for a
    single event it is the UID alone, so moving the event keeps its key too.

    ``start`` and ``end`` are timezone-aware. All-day events start at midnight
    in the practice's zone and have ``all_day`` set; ``floating`` is set when
    the source gave no usable zone and practice time was assumed.

    ``aliases`` are other keys the same occurrence may have been imported under
    before (a single event since made recurring, a key of an older sessionkit):
    an import that finds a session under one of them does not create another.
    ``slot`` is set by sources without a stable id (a CSV without a uid column):
    every key of theirs starts with it, and it names the start time, so an
    import can tell a session of the same client, date and start imported under
    another key of the same source (``CONFLICT``) from a new appointment.
    """

    uid: str = attrs.field(validator=_non_empty)
    key: str = attrs.field(validator=_non_empty)
    start: datetime = attrs.field(validator=_aware)
    end: datetime = attrs.field(validator=_aware)
    recurrence_id: datetime | date | None = attrs.field(default=None, validator=_recurrence_id)
    all_day: bool = attrs.field(default=False, validator=_checks.is_bool)
    title: str = attrs.field(default="", validator=_checks.is_text, repr=redacted)
    description: str = attrs.field(default="", validator=_checks.is_text, repr=redacted)
    location: str = attrs.field(default="", validator=_checks.is_text, repr=redacted)
    attendees: tuple[str, ...] = attrs.field(default=(), converter=_emails, repr=redacted)
    cancelled: bool = attrs.field(default=False, validator=_checks.is_bool)
    floating: bool = attrs.field(default=False, validator=_checks.is_bool)
    aliases: tuple[str, ...] = attrs.field(default=(), converter=_keys, repr=redacted)
    slot: str | None = attrs.field(default=None, validator=_checks.is_optional_text, repr=redacted)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidValue("end must not be before start", "appointment.end_before_start", "end")

    @property
    def duration_minutes(self) -> int:
        """Whole minutes from start to end (real elapsed time, also across a DST change)."""
        seconds = (self.end.astimezone(_UTC) - self.start.astimezone(_UTC)).total_seconds()
        return int(seconds // 60)

    def local_date(self, zone: ZoneInfo) -> date:
        """The date the appointment starts on in ``zone`` (the date of service)."""
        return self.start.astimezone(zone).date()


@attrs.frozen(kw_only=True)
class InvalidAppointment:
    """An event that could not be read; the rest of the calendar still imports.

    ``key`` is the occurrence key when it could be worked out, otherwise a
    positional key such as ``event#7`` (the 7th event of the file) or ``row#12``.
    ``reason`` names the property or column at fault, never its value.
    """

    uid: str | None = attrs.field(validator=_optional_text)
    key: str = attrs.field(validator=_non_empty)
    reason: str = attrs.field(validator=_text)
    line: int | None = attrs.field(default=None, validator=_optional_line)


@runtime_checkable
class CalendarSource(Protocol):
    """**Protocol:** a calendar whose appointments can be listed for a date range."""

    def appointments(self, start: date, end: date) -> Iterator[Appointment | InvalidAppointment]:
        """Yield the occurrences whose local start date (practice zone) is in ``start..end``, inclusive.

        A malformed event yields an :class:`InvalidAppointment` and does not stop
        the others. A file that cannot be read at all raises
        :class:`~sessionkit.errors.CalendarError`.
        """
        ...


class MatchFailure(str, enum.Enum):
    """Why an appointment has no client."""

    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"


@attrs.frozen(kw_only=True)
class MatchResult:
    """A client id, or ``None`` with the reason."""

    client_id: str | None = None
    reason: MatchFailure | None = None

    def __attrs_post_init__(self) -> None:
        if (self.client_id is None) == (self.reason is None):
            raise InvalidValue(
                "a match result has either a client id or a reason", "match.inconsistent", "reason"
            )

    @property
    def matched(self) -> bool:
        """Whether a client was found."""
        return self.client_id is not None


NO_MATCH = MatchResult(reason=MatchFailure.NO_MATCH)
AMBIGUOUS = MatchResult(reason=MatchFailure.AMBIGUOUS)


def _one(client_ids: set[str]) -> MatchResult | None:
    if len(client_ids) == 1:
        return MatchResult(client_id=next(iter(client_ids)))
    if len(client_ids) > 1:
        return AMBIGUOUS
    return None


@runtime_checkable
class ClientMatcher(Protocol):
    """**Protocol:** says which client an appointment is for."""

    def match(self, appointment: Appointment) -> MatchResult:
        """Return the client id, or no client with the reason (no match, ambiguous)."""
        ...


def _lower_keys(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return {k.casefold(): v for k, v in (value or {}).items() if k.strip()}


def _email_keys(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return {normalise_email(k): v for k, v in (value or {}).items() if k.strip()}


@attrs.frozen(kw_only=True)
class MappingMatcher:
    """Match by attendee email first, then by a case-insensitive substring of the title.

    Two different client ids from the same rule make the match ambiguous; the
    matcher never guesses. Empty keys are ignored.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 3, 10, 14, tzinfo=timezone.utc)
    >>> m = MappingMatcher(by_title_substring={"Ada": "c1", "Grace": "c2"}, by_email={"ab@x.org": "c3"})
    >>> m.match(Appointment(uid="u", key="u", start=t, end=t, title="ADA and Grace")).reason
    <MatchFailure.AMBIGUOUS: 'ambiguous'>
    >>> m.match(Appointment(uid="u", key="u", start=t, end=t, title="Ada", attendees=["mailto:AB@x.org"]))
    MatchResult(client_id='c3', reason=None)
    """

    by_title_substring: Mapping[str, str] = attrs.field(factory=dict, converter=_lower_keys, repr=redacted)
    by_email: Mapping[str, str] = attrs.field(factory=dict, converter=_email_keys, repr=redacted)

    def match(self, appointment: Appointment) -> MatchResult:
        """Return the client the appointment's attendees or title point to."""
        by_email = {self.by_email[e] for e in appointment.attendees if e in self.by_email}
        found = _one(by_email)
        if found is not None:
            return found
        title = appointment.title.casefold()
        by_title = {cid for sub, cid in self.by_title_substring.items() if sub in title}
        return _one(by_title) or NO_MATCH


_WORD = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


class NameMatcher:
    """Match a client whose full name appears in the title, on word boundaries.

    Case and the spacing or punctuation between words do not matter ("Therapy -
    ada  byron" matches Ada Byron; "Adam Byrons" does not). Two candidate
    clients (also two clients with the same name) make the match ambiguous.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 3, 10, 14, tzinfo=timezone.utc)
    >>> m = NameMatcher([Client(id="c1", first_name="Ada", last_name="Byron")])
    >>> m.match(Appointment(uid="u", key="u", start=t, end=t, title="Therapy - ADA BYRON")).client_id
    'c1'
    >>> m.match(Appointment(uid="u", key="u", start=t, end=t, title="Adam Byron")).reason
    <MatchFailure.NO_MATCH: 'no_match'>
    """

    __slots__ = ("_by_first", "_by_title")

    def __init__(self, clients: Iterable[Client]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        # The answer depends on the title alone, and a calendar repeats the
        # same few titles (weekly series): remember the latest answers.
        self._by_title: dict[str, MatchResult] = {}
        for client in clients:
            words = tuple(_tokens(client.full_name))
            if words:
                self._by_first.setdefault(words[0], []).append((words, client.id))

    def __repr__(self) -> str:
        count = sum(len(v) for v in self._by_first.values())
        return f"NameMatcher(<{count} clients>)"

    def match(self, appointment: Appointment) -> MatchResult:
        """Return the one client named in the title, or the reason there is none."""
        title = appointment.title
        known = self._by_title.get(title)
        if known is not None:
            return known
        words = _tokens(title)
        found: set[str] = set()
        for i, word in enumerate(words):
            for name, client_id in self._by_first.get(word, ()):
                if tuple(words[i : i + len(name)]) == name:
                    found.add(client_id)
        result = _one(found) or NO_MATCH
        if len(self._by_title) >= _TITLES_KEPT:
            self._by_title.clear()
        self._by_title[title] = result
        return result


_TITLES_KEPT = 4096
"""How many titles a :class:`NameMatcher` remembers the answer for."""
