"""The iCalendar adapter on hostile or broken files: one bad event is one INVALID item, work is bounded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sessionkit import InvalidValue
from sessionkit.appointments import Appointment, InvalidAppointment
from sessionkit.errors import CalendarError

pytest.importorskip("icalendar")

from sessionkit.adapters.ics import IcsCalendar

NY = "America/New_York"
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
GOOD = "BEGIN:VEVENT\r\nUID:good\r\nDTSTART:20260310T150000Z\r\nDTEND:20260310T155000Z\r\nSUMMARY:Ada Byron\r\nEND:VEVENT\r\n"


def calendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def event(body: str, uid: str = "bad") -> str:
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\n{body}SUMMARY:Ada Byron\r\nEND:VEVENT\r\n"


def items(text: str, start: date = MARCH[0], end: date = MARCH[1], **options: object) -> list[object]:
    return list(IcsCalendar(text, time_zone=NY, **options).appointments(start, end))  # type: ignore[arg-type]


def split(found: list[object]) -> tuple[list[InvalidAppointment], list[Appointment]]:
    bad = [i for i in found if isinstance(i, InvalidAppointment)]
    good = [i for i in found if isinstance(i, Appointment)]
    assert len(bad) + len(good) == len(found)
    return bad, good


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("DTSTART:20260310T100000Z\r\nDTSTART:20260311T100000Z\r\nDTEND:20260311T105000Z\r\n", "DTSTART"),
        ("DTSTART:20260310T100000Z\r\nDTEND:20260310T105000Z\r\nDTEND:20260310T110000Z\r\n", "DTEND"),
        ("DTSTART:20260310T100000Z\r\nDURATION:PT50M\r\nDURATION:PT40M\r\n", "DURATION"),
        ("UID:again\r\nDTSTART:20260310T100000Z\r\nDURATION:PT50M\r\n", "UID"),
        (
            (
                "RECURRENCE-ID:20260310T100000Z\r\nRECURRENCE-ID:20260317T100000Z\r\n"
                "DTSTART:20260310T100000Z\r\nDURATION:PT50M\r\n"
            ),
            "RECURRENCE-ID",
        ),
    ],
)
def test_a_property_given_twice_makes_that_event_invalid(body: str, name: str) -> None:
    """DTSTART, DTEND, DURATION, UID or RECURRENCE-ID twice: that event is INVALID naming it; the other imports."""
    bad, good = split(items(calendar(event(body), GOOD)))
    assert [b.reason for b in bad] == [f"{name} appears more than once"]
    assert [g.key for g in good] == ["good"]


@pytest.mark.parametrize("tzid", ["A" * 300, "Europe/" + "x" * 250, "a\x01b", "/" + "y" * 400])
def test_an_unloadable_tzid_makes_its_event_invalid(tzid: str) -> None:
    """A TZID of 300 characters (an OSError inside zoneinfo) or with a control character: INVALID, not OSError."""
    text = calendar(event(f"DTSTART;TZID={tzid}:20260310T100000\r\nDURATION:PT50M\r\n"), GOOD)
    bad, good = split(items(text))
    assert [b.reason for b in bad] == ["the TZID of DTSTART is not a usable time zone name"]
    assert [g.key for g in good] == ["good"]


def test_an_unloadable_tzid_folded_over_lines_and_in_a_vtimezone() -> None:
    """A long TZID folded over several lines, also as a VTIMEZONE's TZID, is caught the same way."""
    name = "Z" * 300
    folded = "\r\n ".join(f"DTSTART;TZID={name}:20260310T100000"[i : i + 70] for i in range(0, 330, 70))
    vtimezone = (
        f"BEGIN:VTIMEZONE\r\nTZID:{name}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + vtimezone
    text += event(f"{folded}\r\nDURATION:PT50M\r\n") + GOOD + "END:VCALENDAR\r\n"
    bad, good = split(items(text))
    assert [b.key for b in bad] == ["bad"]
    assert [g.key for g in good] == ["good"]


def test_a_bad_practice_zone_is_a_sessionkit_error() -> None:
    """A practice zone of 300 characters is InvalidValue naming time_zone, not OSError."""
    with pytest.raises(InvalidValue) as caught:
        IcsCalendar(calendar(GOOD), time_zone="A" * 300)
    assert caught.value.field == "time_zone"


@pytest.mark.parametrize(
    ("body", "start", "end", "kinds"),
    [
        # midnight UTC of 1 January of year 1 is in year 0 in New York: outside any range
        ("DTSTART:00010101T000000Z\r\nDURATION:PT50M\r\n", date(1, 1, 1), date(1, 12, 31), []),
        ("DTSTART:00010102T000000Z\r\nDURATION:PT50M\r\n", date(1, 1, 1), date(1, 12, 31), ["Appointment"]),
        ("DTSTART;VALUE=DATE:00010105\r\n", date(1, 1, 1), date(1, 1, 31), ["Appointment"]),
        (
            "DTSTART:99991201T230000Z\r\nDURATION:PT50M\r\n",
            date(9999, 12, 1),
            date(9999, 12, 31),
            ["Appointment"],
        ),
        (
            "DTSTART;TZID=America/New_York:99991230T100000\r\nDURATION:PT50M\r\n",
            date(9999, 12, 1),
            date(9999, 12, 31),
            ["Appointment"],
        ),
        (
            "DTSTART:00010105T000000Z\r\nDURATION:PT50M\r\nRRULE:FREQ=YEARLY;COUNT=3\r\n",
            date(1, 1, 1),
            date(9999, 12, 31),
            ["Appointment"] * 3,
        ),
        (
            "DTSTART:00010105T000000Z\r\nDURATION:PT50M\r\nRRULE:FREQ=DAILY\r\n",
            MARCH[0],
            MARCH[1],
            ["InvalidAppointment"],
        ),
    ],
)
def test_dates_at_the_edges_of_the_calendar_do_not_overflow(
    body: str, start: date, end: date, kinds: list[str]
) -> None:
    """DTSTART in year 1 or 9999, ranges up to 0001-01-01..9999-12-31: items, never OverflowError.

    A daily series begun in year 1 has more than 100,000 occurrences before March 2026: invalid.
    """
    found = items(calendar(event(body)), start, end)
    assert [type(i).__name__ for i in found] == kinds


def test_the_widest_range_reads_an_ordinary_event() -> None:
    """The range 0001-01-01 to 9999-12-31 still yields the ordinary event."""
    _, good = split(items(calendar(GOOD), date(1, 1, 1), date(9999, 12, 31)))
    assert [g.key for g in good] == ["good"]


@pytest.mark.parametrize("freq", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_sub_daily_series_are_invalid_unless_allowed(freq: str) -> None:
    """FREQ=MINUTELY with no end (131,044 sessions in the issue): one INVALID item naming the frequency."""
    text = calendar(event(f"DTSTART:20260301T000000Z\r\nDURATION:PT1M\r\nRRULE:FREQ={freq}\r\n"), GOOD)
    bad, good = split(items(text))
    assert len(bad) == 1
    assert freq in bad[0].reason
    assert "more often than daily" in bad[0].reason
    assert [g.key for g in good] == ["good"]


def test_several_times_a_day_by_byhour_is_sub_daily() -> None:
    """FREQ=DAILY with two BYHOUR values repeats more often than daily: refused too."""
    text = calendar(event("DTSTART:20260301T090000Z\r\nDURATION:PT50M\r\nRRULE:FREQ=DAILY;BYHOUR=9,15\r\n"))
    [bad] = items(text)
    assert isinstance(bad, InvalidAppointment)
    assert "more often than daily" in bad.reason


def test_sub_daily_allowed_is_capped_by_the_occurrence_limit() -> None:
    """allow_sub_daily=True expands an hourly series, and the cap still bounds it."""
    text = calendar(event("DTSTART:20260301T150000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=HOURLY;COUNT=5\r\n"))
    _, good = split(items(text, allow_sub_daily=True))
    assert len(good) == 5
    text = calendar(event("DTSTART:20260301T000000Z\r\nDURATION:PT1M\r\nRRULE:FREQ=MINUTELY\r\n"), GOOD)
    bad, good = split(items(text, allow_sub_daily=True, max_occurrences_per_series=100))
    assert [b.key for b in bad] == ["bad"]
    assert "more than 100 occurrences" in bad[0].reason
    assert [g.key for g in good] == ["good"]


def test_a_series_over_the_cap_is_invalid_and_the_cap_is_configurable() -> None:
    """A daily series through March: 33 occurrences in the range read (a day before and after).

    Invalid with a cap of 32, imported (its 31 March occurrences) with a cap of 33.
    """
    text = calendar(event("DTSTART:20260201T150000Z\r\nDURATION:PT50M\r\nRRULE:FREQ=DAILY\r\n"), GOOD)
    bad, good = split(items(text, max_occurrences_per_series=32))
    assert [b.key for b in bad] == ["bad"]
    assert "max_occurrences_per_series" in bad[0].reason
    assert [g.key for g in good] == ["good"]
    bad, good = split(items(text, max_occurrences_per_series=33))
    assert bad == []
    assert len(good) == 32


@pytest.mark.parametrize("value", [0, -1, True, "10", None])
def test_limits_must_be_positive_whole_numbers(value: object) -> None:
    """max_occurrences_per_series and max_bytes refuse 0, negatives, booleans and text."""
    with pytest.raises(InvalidValue):
        IcsCalendar(calendar(GOOD), time_zone=NY, max_occurrences_per_series=value)  # type: ignore[arg-type]
    if value is not None:
        with pytest.raises(InvalidValue):
            IcsCalendar(calendar(GOOD), time_zone=NY, max_bytes=value)  # type: ignore[arg-type]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    """A calendar above max_bytes: CalendarError calendar.too_large naming max_bytes, no client data."""
    text = calendar(GOOD, event("DTSTART:20260310T100000Z\r\nDESCRIPTION:" + "x" * 5000 + "\r\n"))
    path = tmp_path / "big.ics"
    path.write_text(text, encoding="utf-8")
    for source in (path, text, text.encode()):
        with pytest.raises(CalendarError) as caught:
            IcsCalendar(source, time_zone=NY, max_bytes=1000)
        assert caught.value.code == "calendar.too_large"
        assert caught.value.field == "max_bytes"
        assert "Ada" not in str(caught.value)
    assert len(items(text, max_bytes=None)) == 2


def test_a_path_too_long_for_the_file_system_is_a_calendar_error(tmp_path: Path) -> None:
    """A calendar path of 300 characters: CalendarError calendar.unreadable, not OSError."""
    with pytest.raises(CalendarError) as caught:
        IcsCalendar(tmp_path / ("a" * 300 + ".ics"), time_zone=NY)
    assert caught.value.code == "calendar.unreadable"
