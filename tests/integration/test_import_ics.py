"""Importing iCalendar files (the shipped sample and tests/fixtures/calendars) into sessions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("icalendar")
pytest.importorskip("recurring_ical_events")

from sessionkit import BillingCode, Client, ClientSession, NameMatcher, PracticeSetup
from sessionkit.adapters.ics import IcsCalendar
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.builder import SessionBuilder
from sessionkit.importing import ImportReport, OutcomeKind, import_appointments
from sessionkit.ports import FixedClock

FIXTURES = Path(__file__).parent.parent / "fixtures" / "calendars"
SAMPLE = Path(__file__).parent.parent.parent / "src" / "sessionkit" / "data" / "sample_calendar.ics"
SPAN = (date(2026, 2, 1), date(2026, 4, 30))
ZONE = "America/New_York"
CLIENTS = [
    Client(id="c1", first_name="Ada", last_name="Byron"),
    Client(id="c2", first_name="Grace", last_name="Hopper"),
    Client(id="c3", first_name="Alan", last_name="Turing"),
    Client(id="c4", first_name="Mary", last_name="Jackson"),
]
K = OutcomeKind


def world() -> tuple[InMemoryUnitOfWork, SessionBuilder]:
    uow = InMemoryUnitOfWork().seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone=ZONE,
            default_billing_code="90834",
        ),
        clients=CLIENTS,
        billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140.00")],
    )
    return uow, SessionBuilder(uow, FixedClock(date(2026, 4, 1)))


def ics_import(source: Path | str | bytes, builder: SessionBuilder) -> ImportReport:
    calendar = IcsCalendar(source, time_zone=ZONE)
    return import_appointments(calendar, *SPAN, NameMatcher(CLIENTS), builder)


def stored(uow: InMemoryUnitOfWork) -> dict[str, ClientSession]:
    with uow:
        return {s.appointment_key or "": s for s in uow.sessions.list()}


def summary(report: ImportReport) -> list[tuple[OutcomeKind, str, int | None]]:
    return [
        (o.kind, "" if o.date_of_service is None else o.date_of_service.isoformat(), o.minutes)
        for o in report.outcomes
    ]


def test_sample_calendar_imports_each_case() -> None:
    """The sample: a DST-spanning series with an EXDATE and a moved occurrence, 9 pm, cancelled, unknown, all-day."""
    uow, builder = world()
    report = ics_import(SAMPLE, builder)
    assert summary(report) == [
        (K.CREATED, "2026-02-24", 53),  # Ada, before DST
        (K.CREATED, "2026-03-03", 53),
        (K.CREATED, "2026-03-05", 53),  # Grace
        (K.CREATED, "2026-03-10", 53),  # Ada, after DST: still 10 am local
        (K.CREATED, "2026-03-10", 45),  # Alan at 9 pm: 01:00 UTC on the 11th
        (K.SKIPPED_CANCELLED, "2026-03-12", 53),
        (K.UNMATCHED_CLIENT, "2026-03-13", 53),
        (K.SKIPPED_ALL_DAY, "2026-03-16", 1440),
        (K.CREATED, "2026-03-19", 30),  # Mary
        (K.CREATED, "2026-03-26", 53),  # Ada's 24 March occurrence, moved to the 26th
        (K.CREATED, "2026-03-31", 53),
    ]
    sessions = stored(uow)
    assert len(sessions) == 8
    evening = sessions["sample-alan-evening@sessionkit.invalid"]
    assert (evening.client_id, evening.date_of_service, evening.minutes) == ("c3", date(2026, 3, 10), 45)
    moved = sessions["sample-ada-weekly@sessionkit.invalid#2026-03-24T14:00:00Z"]
    assert moved.date_of_service == date(2026, 3, 26)
    assert "2026-03-17" not in {o.date_of_service.isoformat() for o in report.outcomes if o.date_of_service}


def test_reimporting_the_sample_creates_nothing() -> None:
    """A second import of the same file reports every created session as ALREADY_IMPORTED."""
    uow, builder = world()
    first = ics_import(SAMPLE, builder)
    before = stored(uow)
    second = ics_import(SAMPLE, builder)
    assert stored(uow) == before
    assert second.counts()[K.ALREADY_IMPORTED] == 8
    assert second.counts()[K.CREATED] == 0
    assert [o.session_id for o in second.by_kind(K.ALREADY_IMPORTED)] == list(first.session_ids)


def test_edited_calendar_reports_changes_and_keeps_sessions() -> None:
    """After moving, resizing and cancelling events in the file, re-import says CHANGED and alters nothing."""
    uow, builder = world()
    ics_import(SAMPLE, builder)
    before = stored(uow)
    text = SAMPLE.read_text(encoding="utf-8")
    edits = [
        # the moved occurrence moves again, from the 26th to the 27th
        ("DTSTART;TZID=America/New_York:20260326T110000", "DTSTART;TZID=America/New_York:20260327T110000"),
        ("DTEND;TZID=America/New_York:20260326T115300", "DTEND;TZID=America/New_York:20260327T115300"),
        # the 9 pm session runs an hour instead of 45 minutes
        ("DTEND;TZID=America/New_York:20260310T214500", "DTEND;TZID=America/New_York:20260310T220000"),
        # Mary's session is cancelled
        ("STATUS:CONFIRMED", "STATUS:CANCELLED"),
    ]
    for old, new in edits:
        assert text.count(old) == 1
        text = text.replace(old, new)
    report = ics_import(text.encode("utf-8"), builder)
    changed = {o.key: o.changes for o in report.by_kind(K.CHANGED)}
    assert changed == {
        "sample-ada-weekly@sessionkit.invalid#2026-03-24T14:00:00Z": ("date_of_service",),
        "sample-alan-evening@sessionkit.invalid": ("minutes",),
        "sample-mary-session@sessionkit.invalid": ("cancelled",),
    }
    assert report.counts()[K.ALREADY_IMPORTED] == 5
    assert report.counts()[K.CREATED] == 0
    assert stored(uow) == before


def test_evening_sessions_get_their_local_date() -> None:
    """Sessions at 8:30 and 9 pm New York time, also written in UTC, are on the local date."""
    uow, builder = world()
    report = ics_import(FIXTURES / "evening_sessions.ics", builder)
    assert sorted(
        (o.date_of_service.isoformat(), o.client_id) for o in report.created if o.date_of_service
    ) == [
        ("2026-03-02", "c4"),
        ("2026-03-09", "c4"),  # the day after the DST change: still 8:30 pm local
        ("2026-03-10", "c3"),
        ("2026-03-12", "c2"),  # 01:00 UTC on the 13th
        ("2026-03-16", "c4"),
    ]
    assert len(stored(uow)) == 5


def test_cancelled_events_are_skipped() -> None:
    """A cancelled occurrence of a series and a cancelled single event create no session."""
    uow, builder = world()
    report = ics_import(FIXTURES / "cancelled.ics", builder)
    assert sorted(summary(report)) == [
        (K.CREATED, "2026-03-09", 50),
        (K.CREATED, "2026-03-23", 50),
        (K.SKIPPED_CANCELLED, "2026-03-11", 50),
        (K.SKIPPED_CANCELLED, "2026-03-16", 50),
    ]
    assert sorted(s.date_of_service.isoformat() for s in stored(uow).values()) == ["2026-03-09", "2026-03-23"]


def test_all_day_events_are_skipped() -> None:
    """All-day events are skipped, even one naming a client; the timed event that day imports."""
    uow, builder = world()
    report = ics_import(FIXTURES / "all_day.ics", builder)
    assert sorted(o.kind for o in report.outcomes) == sorted(
        [K.SKIPPED_ALL_DAY, K.SKIPPED_ALL_DAY, K.CREATED]
    )
    [s] = stored(uow).values()
    assert (s.client_id, s.date_of_service, s.minutes) == ("c1", date(2026, 3, 16), 50)


@pytest.mark.parametrize(
    ("name", "invalid", "created"), [("garbage_lines.ics", 5, 2), ("duplicate_uids.ics", 1, 2)]
)
def test_broken_events_are_invalid_and_the_rest_imports(name: str, invalid: int, created: int) -> None:
    """Each unreadable event is one INVALID outcome (reason names the property); the good ones import."""
    uow, builder = world()
    report = ics_import(FIXTURES / name, builder)
    assert (len(report.by_kind(K.INVALID)), len(report.created)) == (invalid, created)
    assert all(o.code == "appointment.invalid" and o.reason for o in report.by_kind(K.INVALID))
    assert len(stored(uow)) == created
    for secret in ("Ada", "Byron", "Grace", "Hopper"):
        assert secret not in str(report)


def test_unknown_client_is_unmatched() -> None:
    """An event naming nobody in the setup is UNMATCHED_CLIENT with NO_MATCH."""
    _, builder = world()
    [o] = [o for o in ics_import(SAMPLE, builder).outcomes if o.kind is K.UNMATCHED_CLIENT]
    assert (o.key, o.match_failure is not None and o.match_failure.value) == (
        "sample-unknown-client@sessionkit.invalid",
        "no_match",
    )


def event(uid: str, day: int, broken: bool) -> str:
    start = f"202603{day:02d}T1X0000" if broken else f"202603{day:02d}T100000"
    return (
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\n"
        "DTSTAMP:20260301T000000Z\r\n"
        f"DTSTART;TZID=America/New_York:{start}\r\n"
        f"DTEND;TZID=America/New_York:202603{day:02d}T105000\r\n"
        "SUMMARY:Therapy - Ada Byron\r\n"
        "END:VEVENT\r\n"
    )


@given(st.lists(st.integers(1, 31), min_size=1, max_size=6), st.integers(0, 6))
def test_generated_broken_event_among_good_ones(days: list[int], at: int) -> None:
    """One generated event with an unreadable DTSTART is one INVALID; every other event imports once."""
    body = [event(f"good-{i}", d, broken=False) for i, d in enumerate(days)]
    body.insert(min(at, len(body)), event("broken", 15, broken=True))
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(body) + "END:VCALENDAR\r\n"
    uow, builder = world()
    report = ics_import(text.encode(), builder)
    assert [o.key for o in report.by_kind(K.INVALID)] == ["broken"]
    assert len(report.outcomes) == len(days) + 1
    assert sorted(o.key for o in report.created) == sorted(f"good-{i}" for i in range(len(days)))
    assert len(stored(uow)) == len(days)
    again = ics_import(text.encode(), builder)
    assert (len(again.created), len(again.by_kind(K.ALREADY_IMPORTED))) == (0, len(days))
