"""IcsCalendar against real-world shaped exports (tests/fixtures/calendars) and generated calendars."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("icalendar")
pytest.importorskip("recurring_ical_events")

from sessionkit.adapters.ics import IcsCalendar
from sessionkit.appointments import Appointment, CalendarSource, InvalidAppointment
from sessionkit.errors import CalendarError, InvalidValue

FIXTURES = Path(__file__).parent.parent / "fixtures" / "calendars"
SAMPLE = Path(__file__).parent.parent.parent / "src" / "sessionkit" / "data" / "sample_calendar.ics"
NY = ZoneInfo("America/New_York")
MARCH = (date(2026, 2, 1), date(2026, 4, 30))
SECRET = "Ada Byron"


def load(
    name: str, zone: str = "America/New_York", span: tuple[date, date] = MARCH
) -> list[Appointment | InvalidAppointment]:
    return list(IcsCalendar(FIXTURES / name, time_zone=zone).appointments(*span))


def good(items: list[Appointment | InvalidAppointment]) -> list[Appointment]:
    return [a for a in items if isinstance(a, Appointment)]


def bad(items: list[Appointment | InvalidAppointment]) -> list[InvalidAppointment]:
    return [a for a in items if isinstance(a, InvalidAppointment)]


def local(a: Appointment, zone: ZoneInfo = NY) -> str:
    return a.start.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def test_is_a_calendar_source() -> None:
    """IcsCalendar satisfies the CalendarSource protocol."""
    assert isinstance(IcsCalendar(FIXTURES / "evening_sessions.ics", time_zone="UTC"), CalendarSource)


def test_weekly_series_across_dst_with_exdate_and_moved_occurrence() -> None:
    """A weekly 2 pm series keeps 2 pm local across DST, skips the EXDATE and moves the override."""
    items = load("apple_weekly_dst.ics")
    assert bad(items) == []
    got = [(local(a), a.duration_minutes) for a in good(items)]
    assert got == [
        ("2026-02-24 14:00", 50),
        ("2026-03-03 14:00", 50),
        ("2026-03-10 14:00", 50),
        ("2026-03-25 16:00", 50),
        ("2026-03-31 14:00", 50),
    ]
    utc_hours = [a.start.astimezone(timezone.utc).hour for a in good(items)]
    assert utc_hours == [19, 19, 18, 20, 18]


def test_moved_occurrence_keeps_the_key_of_its_original_slot() -> None:
    """The moved occurrence is keyed by its RECURRENCE-ID (24 March 2 pm), not its new start."""
    uid = "5F3A2C1E-7B9D-4E21-9C55-0A1B2C3D4E5F"
    moved = good(load("apple_weekly_dst.ics"))[3]
    assert moved.key == f"{uid}#2026-03-24T18:00:00Z"
    assert moved.recurrence_id == datetime(2026, 3, 24, 14, 0, tzinfo=NY)
    assert moved.local_date(NY) == date(2026, 3, 25)
    keys = [a.key for a in good(load("apple_weekly_dst.ics"))]
    assert keys[0] == f"{uid}#2026-02-24T19:00:00Z"
    assert len(set(keys)) == 5


def test_keys_are_stable_when_the_occurrence_is_moved_again() -> None:
    """Moving an occurrence (editing the override) does not change any key."""
    text = (FIXTURES / "apple_weekly_dst.ics").read_text()
    before = [a.key for a in good(list(IcsCalendar(text, time_zone="America/New_York").appointments(*MARCH)))]
    moved = text.replace("20260325T160000", "20260327T090000").replace("20260325T165000", "20260327T095000")
    after = good(list(IcsCalendar(moved, time_zone="America/New_York").appointments(*MARCH)))
    assert [a.key for a in after] == before
    assert local(after[3]) == "2026-03-27 09:00"


def test_attendees_are_lowercase_emails_without_mailto() -> None:
    """ATTENDEE values lose ``mailto:`` and case, also when the line was folded."""
    first = good(load("apple_weekly_dst.ics"))[0]
    assert first.attendees == ("ada.byron@example.org",)
    assert first.title == "Therapy - Ada Byron"
    assert first.location == "Office 2"
    assert first.description == "Weekly session"


def test_windows_zone_with_vtimezone_block() -> None:
    """Outlook's "Eastern Standard Time" block gives 9:45 local before and after DST, UTC UNTIL inclusive."""
    items = good(load("outlook_windows_tz.ics"))
    assert [local(a) for a in items] == [
        "2026-03-05 09:45",
        "2026-03-12 09:45",
        "2026-03-19 09:45",
        "2026-03-26 09:45",
        "2026-04-02 09:45",
    ]
    assert items[0].start.astimezone(timezone.utc).hour == 14
    assert items[1].start.astimezone(timezone.utc).hour == 13
    assert items[0].attendees == ("grace.hopper@example.com",)


def test_windows_zone_without_vtimezone() -> None:
    """TZID=Pacific Standard Time without a block is read as America/Los_Angeles."""
    la = ZoneInfo("America/Los_Angeles")
    items = good(load("exchange_windows_tz_no_vtimezone.ics", zone="America/Los_Angeles"))
    assert [local(a, la) for a in items] == ["2026-03-09 17:00", "2026-03-10 22:00"]
    assert [a.floating for a in items] == [False, False]
    assert [a.duration_minutes for a in items] == [53, 50]


def test_local_date_depends_on_the_practice_zone() -> None:
    """10 pm in Los Angeles is the next day for a New York practice."""
    items = good(load("exchange_windows_tz_no_vtimezone.ics", zone="America/New_York"))
    assert [a.local_date(NY) for a in items] == [date(2026, 3, 9), date(2026, 3, 11)]


def test_custom_vtimezone() -> None:
    """A custom-named VTIMEZONE with US rules: 5 pm local stays 5 pm across DST."""
    chicago = ZoneInfo("America/Chicago")
    items = good(load("custom_vtimezone.ics", zone="America/Chicago"))
    assert [local(a, chicago) for a in items] == ["2026-03-02 17:00", "2026-03-09 17:00", "2026-03-16 17:00"]
    assert [a.start.astimezone(timezone.utc).hour for a in items] == [23, 22, 22]


def test_google_utc_with_x_wr_timezone() -> None:
    """Google's UTC times follow X-WR-TIMEZONE: the series stays at 5 pm Chicago time across DST."""
    chicago = ZoneInfo("America/Chicago")
    items = good(load("google_utc_xwr.ics", zone="America/Chicago"))
    series = [a for a in items if a.title == "Grace Hopper"]
    assert [local(a, chicago) for a in series] == ["2026-03-06 17:00", "2026-03-13 17:00", "2026-03-20 17:00"]
    [late] = [a for a in items if a.title == "Session"]
    assert local(late, chicago) == "2026-03-11 22:30"
    assert late.local_date(chicago) == date(2026, 3, 11)
    assert late.start.astimezone(timezone.utc).date() == date(2026, 3, 12)
    assert late.attendees == ("clinician@example.org", "mjackson@example.net")


def test_floating_times_are_practice_time() -> None:
    """Floating times and an unknown TZID without VTIMEZONE become practice time, flagged floating."""
    items = good(load("apple_floating.ics"))
    assert [(local(a), a.duration_minutes, a.floating) for a in items] == [
        ("2026-03-05 18:00", 45, True),
        ("2026-03-10 09:00", 53, True),
        ("2026-03-11 15:30", 50, True),
        ("2026-03-12 18:00", 45, True),
    ]
    denver = ZoneInfo("America/Denver")
    in_denver = good(load("apple_floating.ics", zone="America/Denver"))
    assert local(in_denver[1], denver) == "2026-03-10 09:00"


def test_all_day_events_are_flagged() -> None:
    """All-day events start at local midnight, are flagged, and keep their length in days."""
    items = good(load("all_day.ics"))
    flags = {a.title: (local(a), a.all_day, a.duration_minutes) for a in items}
    assert flags == {
        "Office closed": ("2026-03-16 00:00", True, 1440),
        "Conference (Ada Byron presenting)": ("2026-03-18 00:00", True, 3 * 1440),
        "Ada Byron": ("2026-03-16 10:00", False, 50),
    }


@pytest.mark.parametrize(
    ("uid", "floating"),
    [
        ("until-utc@scheduler.example", False),
        ("until-local@scheduler.example", False),
        ("until-date@scheduler.example", False),
        ("until-date-floating@scheduler.example", True),
    ],
)
def test_until_forms_all_include_the_last_occurrence(uid: str, floating: bool) -> None:
    """UNTIL in UTC, in local time and as a bare date all keep the 25 March occurrence."""
    items = [a for a in good(load("until_forms.ics")) if a.uid == uid]
    assert [local(a) for a in items] == [
        "2026-03-04 11:00",
        "2026-03-11 11:00",
        "2026-03-18 11:00",
        "2026-03-25 11:00",
    ]
    assert {a.floating for a in items} == {floating}


def test_evening_sessions_keep_their_local_date() -> None:
    """9 pm and 8:30 pm New York sessions are dated locally although UTC is the next day."""
    items = good(load("evening_sessions.ics"))
    got = [(a.uid.split("@")[0], local(a), a.local_date(NY)) for a in items]
    assert got == [
        ("evening-weekly", "2026-03-02 20:30", date(2026, 3, 2)),
        ("evening-weekly", "2026-03-09 20:30", date(2026, 3, 9)),
        ("evening-single", "2026-03-10 21:00", date(2026, 3, 10)),
        ("evening-utc", "2026-03-12 21:00", date(2026, 3, 12)),
        ("evening-weekly", "2026-03-16 20:30", date(2026, 3, 16)),
    ]
    assert all(a.start.astimezone(timezone.utc).date() == a.local_date(NY) + timedelta(days=1) for a in items)


def test_date_range_is_inclusive_local_dates() -> None:
    """The range selects by local start date, both ends included, even when UTC is the next day."""
    cal = IcsCalendar(FIXTURES / "evening_sessions.ics", time_zone="America/New_York")
    one_day = [a.uid for a in cal.appointments(date(2026, 3, 10), date(2026, 3, 10))]
    assert one_day == ["evening-single@scheduler.example"]
    assert list(cal.appointments(date(2026, 3, 11), date(2026, 3, 11))) == []
    two = [
        local(a) for a in cal.appointments(date(2026, 3, 9), date(2026, 3, 12)) if isinstance(a, Appointment)
    ]
    assert two == ["2026-03-09 20:30", "2026-03-10 21:00", "2026-03-12 21:00"]


def test_cancelled_events_are_flagged() -> None:
    """STATUS:CANCELLED on a single event or on one occurrence flags just that appointment."""
    items = good(load("cancelled.ics"))
    got = [(a.uid.split("@")[0], local(a), a.cancelled) for a in items]
    assert got == [
        ("cancel-series", "2026-03-09 13:00", False),
        ("cancel-single", "2026-03-11 09:00", True),
        ("cancel-series", "2026-03-16 13:00", True),
        ("cancel-series", "2026-03-23 13:00", False),
    ]


def test_duplicate_uid_keeps_the_first_and_reports_the_second() -> None:
    """A second VEVENT with the same UID is one InvalidAppointment with its position and line."""
    items = load("duplicate_uids.ics")
    assert [(a.uid, local(a)) for a in good(items)] == [
        ("dup-1@scheduler.example", "2026-03-10 10:00"),
        ("other@scheduler.example", "2026-03-11 10:00"),
    ]
    assert bad(items) == [
        InvalidAppointment(
            uid="dup-1@scheduler.example", key="event#3", reason="a second event with the same UID", line=18
        )
    ]


def test_broken_events_are_reported_one_by_one() -> None:
    """Each broken event is one InvalidAppointment (with its line); the good ones still import."""
    items = load("garbage_lines.ics")
    assert [(a.uid, local(a), a.duration_minutes) for a in good(items)] == [
        ("good-1@legacy.example", "2026-03-10 10:00", 53),
        ("good-2@legacy.example", "2026-03-14 10:00", 53),
    ]
    assert [(a.uid, a.key, a.reason, a.line) for a in bad(items)] == [
        ("bad-start@legacy.example", "bad-start@legacy.example", "DTSTART cannot be read", 12),
        ("end-before-start@legacy.example", "end-before-start@legacy.example", "DTEND is before DTSTART", 19),
        (None, "event#4", "the event has no UID", 26),
        ("bad-rule@legacy.example", "bad-rule@legacy.example", "RRULE cannot be read", 32),
        ("no-start@legacy.example", "no-start@legacy.example", "DTSTART is missing", 40),
    ]
    assert all(SECRET not in a.reason and "Grace" not in a.reason for a in bad(items))


def test_invalid_events_outside_the_range_are_left_out() -> None:
    """A broken single event dated before the range is left out; unreadable and recurring ones stay."""
    items = list(
        IcsCalendar(FIXTURES / "garbage_lines.ics", time_zone="America/New_York").appointments(
            date(2026, 5, 1), date(2026, 5, 31)
        )
    )
    assert {a.key for a in items} == {
        "bad-start@legacy.example",
        "event#4",
        "no-start@legacy.example",
        "bad-rule@legacy.example",
    }


def test_invalid_override_does_not_resurrect_its_original_slot() -> None:
    """When a moved occurrence is broken, the original slot is reported invalid, not imported."""
    text = (FIXTURES / "apple_weekly_dst.ics").read_text()
    broken = text.replace(
        "DTEND;TZID=America/New_York:20260325T165000", "DTEND;TZID=America/New_York:20260325T150000"
    )
    items = list(IcsCalendar(broken, time_zone="America/New_York").appointments(*MARCH))
    uid = "5F3A2C1E-7B9D-4E21-9C55-0A1B2C3D4E5F"
    assert [a.key for a in bad(items)] == [f"{uid}#2026-03-24T18:00:00Z"]
    assert [local(a) for a in good(items)] == [
        "2026-02-24 14:00",
        "2026-03-03 14:00",
        "2026-03-10 14:00",
        "2026-03-31 14:00",
    ]


def test_series_that_fails_to_expand_does_not_stop_the_others() -> None:
    """A rule that parses but cannot be expanded becomes one InvalidAppointment; other events import."""
    text = (
        (FIXTURES / "evening_sessions.ics")
        .read_text()
        .replace("RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=WEEKLY;COUNT=3;BYSETPOS=0")
    )
    items = list(IcsCalendar(text, time_zone="America/New_York").appointments(*MARCH))
    assert [a.uid for a in bad(items)] == ["evening-weekly@scheduler.example"]
    assert [a.uid for a in good(items)] == [
        "evening-single@scheduler.example",
        "evening-utc@scheduler.example",
    ]


CAL_HEAD = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n"
EVENT = "BEGIN:VEVENT\nUID:x\nDTSTART:20260310T100000Z\nSUMMARY:Ada Byron\nEND:VEVENT\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1"),
        ("Subject,Start Date\nAda Byron,3/10/2026\n", "line 1"),
        (CAL_HEAD + "X-BROKEN;not a parameter\n" + EVENT + "END:VCALENDAR\n", "line 4"),
        (CAL_HEAD + EVENT, "line 1: BEGIN:VCALENDAR is never closed"),
        (CAL_HEAD + "BEGIN:VEVENT\nUID:x\nEND:VTODO\nEND:VCALENDAR\n", "line 6: END:VTODO does not match"),
        (CAL_HEAD + EVENT + "END:VCALENDAR\nAda Byron\n", "line 10: content after END:VCALENDAR"),
        (EVENT, "line 1: expected BEGIN:VCALENDAR"),
        (CAL_HEAD + "END:VCALENDAR\n" + CAL_HEAD + "END:VCALENDAR\n", "line 5: expected BEGIN:VCALENDAR"),
    ],
)
def test_unreadable_files_raise_calendar_error_saying_where(text: str, where: str) -> None:
    """A file that cannot be parsed raises CalendarError naming the line and no client data."""
    with pytest.raises(CalendarError) as info:
        IcsCalendar(text.encode(), time_zone="America/New_York")
    assert where in str(info.value)
    assert SECRET not in str(info.value)
    assert "not a parameter" not in str(info.value)


def test_missing_file_raises_calendar_error(tmp_path: Path) -> None:
    """A path that does not exist raises CalendarError, not a bare OSError."""
    with pytest.raises(CalendarError, match="cannot be read"):
        IcsCalendar(tmp_path / "nope.ics", time_zone="America/New_York")


def test_unknown_practice_zone_is_refused() -> None:
    """The practice zone must be an IANA name."""
    with pytest.raises(InvalidValue):
        IcsCalendar(FIXTURES / "evening_sessions.ics", time_zone="Eastern Standard Time!")


def test_crlf_bytes_and_text_give_the_same_appointments() -> None:
    """Bytes with CRLF line ends, a BOM, and plain text parse to the same appointments."""
    text = (FIXTURES / "apple_weekly_dst.ics").read_text()
    as_bytes = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    one = list(IcsCalendar(text, time_zone="America/New_York").appointments(*MARCH))
    two = list(IcsCalendar(as_bytes, time_zone="America/New_York").appointments(*MARCH))
    assert one == two
    assert len(one) == 5


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ics")))
def test_occurrence_objects_and_public_between_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading occurrence objects gives exactly what recurring-ical-events' public between() gives."""
    from sessionkit.adapters import ics

    fast = load(name)
    monkeypatch.setattr(ics, "_USE_OCCURRENCES", False)
    assert load(name) == fast
    assert fast


def test_sample_calendar_content() -> None:
    """The shipped sample has the cases the demo shows, on the documented dates."""
    items = list(
        IcsCalendar(SAMPLE, time_zone="America/New_York").appointments(date(2026, 2, 1), date(2026, 4, 30))
    )
    assert bad(items) == []
    got = [(local(a), a.title, a.all_day, a.cancelled) for a in good(items)]
    assert got == [
        ("2026-02-24 10:00", "Therapy - Ada Byron", False, False),
        ("2026-03-03 10:00", "Therapy - Ada Byron", False, False),
        ("2026-03-05 14:00", "Therapy - Grace Hopper", False, False),
        ("2026-03-10 10:00", "Therapy - Ada Byron", False, False),
        ("2026-03-10 21:00", "Therapy - Alan Turing", False, False),
        ("2026-03-12 16:00", "Therapy - Mary Jackson", False, True),
        ("2026-03-13 09:00", "Therapy - Charles Babbage", False, False),
        ("2026-03-16 00:00", "Office closed", True, False),
        ("2026-03-19 16:00", "Therapy - Mary Jackson", False, False),
        ("2026-03-26 11:00", "Therapy - Ada Byron", False, False),
        ("2026-03-31 10:00", "Therapy - Ada Byron", False, False),
    ]
    evening = good(items)[4]
    assert evening.start.astimezone(timezone.utc).date() == date(2026, 3, 11)


# --- generated calendars ------------------------------------------------------------------------

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/Berlin", "UTC", None]


@st.composite
def generated_events(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(1, 5))
    events: list[dict[str, object]] = []
    for i in range(count):
        zone = draw(st.sampled_from(ZONES))
        day = draw(st.dates(date(2026, 1, 5), date(2026, 12, 20)))
        hour = draw(st.integers(7, 22))
        minute = draw(st.sampled_from([0, 15, 30, 45]))
        repeats = draw(st.integers(1, 6))
        skipped = draw(st.none() | st.integers(1, max(1, repeats - 1))) if repeats > 1 else None
        until_form = draw(st.sampled_from(["count", "utc", "local", "date"]))
        events.append(
            {
                "uid": f"gen-{i}@test",
                "zone": zone,
                "start": datetime(day.year, day.month, day.day, hour, minute),
                "minutes": draw(st.sampled_from([30, 45, 53, 60])),
                "repeats": repeats,
                "skipped": skipped,
                "until": until_form,
            }
        )
    return events


def _fmt(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _ics(events: list[dict[str, object]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//gen//EN"]
    for e in events:
        start = e["start"]
        assert isinstance(start, datetime)
        zone = e["zone"]
        tzid = f";TZID={zone}" if zone else ""
        end = start + timedelta(minutes=int(str(e["minutes"])))
        lines += ["BEGIN:VEVENT", f"UID:{e['uid']}", "DTSTAMP:20260101T000000Z"]
        lines += [f"DTSTART{tzid}:{_fmt(start)}", f"DTEND{tzid}:{_fmt(end)}", "SUMMARY:Therapy - Ada Byron"]
        repeats = int(str(e["repeats"]))
        if repeats > 1:
            last = start + timedelta(weeks=repeats - 1)
            if e["until"] == "count":
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={repeats}")
            elif e["until"] == "date":
                lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={last:%Y%m%d}")
            elif e["until"] == "local" or zone is None:
                lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={_fmt(last)}")
            else:
                utc = last.replace(tzinfo=ZoneInfo(str(zone))).astimezone(timezone.utc)
                lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={_fmt(utc)}Z")
            if e["skipped"] is not None:
                skipped = start + timedelta(weeks=int(str(e["skipped"])))
                lines.append(f"EXDATE{tzid}:{_fmt(skipped)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@given(generated_events(), st.sampled_from(["America/New_York", "Asia/Kolkata"]))
def test_generated_calendars_give_one_appointment_per_occurrence(
    events: list[dict[str, object]], practice: str
) -> None:
    """Every generated occurrence appears once, at its wall-clock time, with a unique key."""
    practice_zone = ZoneInfo(practice)
    expected = set()
    for e in events:
        start = e["start"]
        assert isinstance(start, datetime)
        zone = ZoneInfo(str(e["zone"])) if e["zone"] else practice_zone
        for week in range(int(str(e["repeats"]))):
            if e["skipped"] is not None and week == e["skipped"]:
                continue
            local_start = (start + timedelta(weeks=week)).replace(tzinfo=zone)
            expected.add((e["uid"], local_start.astimezone(timezone.utc), int(str(e["minutes"]))))
    cal = IcsCalendar(_ics(events), time_zone=practice)
    items = list(cal.appointments(date(2025, 12, 1), date(2027, 3, 1)))
    assert bad(items) == []
    got = [(a.uid, a.start.astimezone(timezone.utc), a.duration_minutes) for a in good(items)]
    assert sorted(got) == sorted(expected)
    keys = [a.key for a in good(items)]
    assert len(keys) == len(set(keys))
    again = [
        a.key
        for a in good(
            list(
                IcsCalendar(_ics(events), time_zone=practice).appointments(
                    date(2025, 12, 1), date(2027, 3, 1)
                )
            )
        )
    ]
    assert again == keys
