"""CsvCalendar: spreadsheet exports with a column mapping, practice-zone times, bad rows reported."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit.adapters.csv import CsvCalendar, CsvColumns
from sessionkit.appointments import Appointment, CalendarSource, InvalidAppointment
from sessionkit.errors import CalendarError

NY = ZoneInfo("America/New_York")
MARCH = (date(2026, 3, 1), date(2026, 3, 31))

SIMPLE_PRACTICE_STYLE = """\
Appointment ID,Client,Date,Start Time,Duration (min),Status,Email,Notes
A-100,Ada Byron,03/10/2026,9:00 PM,53,Confirmed,Ada.Byron@Example.org,
A-101,Grace Hopper,03/12/2026,10:15 AM,45,Cancelled,,rescheduled
A-102,Alan Turing,03/13/2026,,,,,
A-103,Mary Jackson,03/14/2026,soon,50,,,
A-104,Ada Byron,2026-03-16,08:30,fifty,,,
A-100,Ada Byron,03/17/2026,9:00 PM,53,,,
"""
COLUMNS = CsvColumns(
    uid="Appointment ID",
    title="Client",
    date="Date",
    start_time="Start Time",
    duration_minutes="Duration (min)",
    status="Status",
    attendees="Email",
    description="Notes",
)


def rows(text: str, **kwargs: object) -> list[Appointment | InvalidAppointment]:
    cal = CsvCalendar(text, time_zone="America/New_York", **kwargs)  # type: ignore[arg-type]
    return list(cal.appointments(*MARCH))


def test_is_a_calendar_source() -> None:
    """CsvCalendar satisfies the CalendarSource protocol."""
    assert isinstance(CsvCalendar("title,start,end\n", time_zone="UTC"), CalendarSource)


def test_practice_export_with_date_and_time_columns() -> None:
    """Date + start time + duration columns give aware practice-zone appointments; bad rows are reported."""
    items = rows(SIMPLE_PRACTICE_STYLE, columns=COLUMNS)
    appointments = [a for a in items if isinstance(a, Appointment)]
    got = [
        (a.uid, a.start.strftime("%Y-%m-%d %H:%M"), a.duration_minutes, a.all_day, a.cancelled)
        for a in appointments
    ]
    assert got == [
        ("A-100", "2026-03-10 21:00", 53, False, False),
        ("A-101", "2026-03-12 10:15", 45, False, True),
        ("A-102", "2026-03-13 00:00", 1440, True, False),
    ]
    first = appointments[0]
    assert first.start.utcoffset() == timedelta(hours=-4)
    assert first.local_date(NY) == date(2026, 3, 10)
    assert first.start.astimezone(timezone.utc).date() == date(2026, 3, 11)
    assert first.attendees == ("ada.byron@example.org",)
    assert first.floating is True
    assert appointments[1].description == "rescheduled"
    invalid = [a for a in items if isinstance(a, InvalidAppointment)]
    assert [(a.key, a.reason, a.line) for a in invalid] == [
        ("row#5", "row 5: start_time cannot be read", 5),
        ("row#6", "row 6: duration_minutes cannot be read", 6),
        ("row#7", "row 7: a second row with the same uid", 7),
    ]
    assert all("Mary" not in a.reason and "soon" not in a.reason for a in invalid)


def test_start_and_end_columns_with_offsets_and_default_headers() -> None:
    """Default headers; an explicit offset is kept; an end given as a time is on the start's day."""
    text = (
        "Title, Start ,End,Location\n"
        "Therapy - Grace Hopper,2026-03-09T17:00:00-06:00,2026-03-09T17:50:00-06:00,Office\n"
        "Therapy - Alan Turing,3/11/2026 8:30 PM,9:20 PM,\n"
    )
    items = rows(text)
    assert all(isinstance(a, Appointment) for a in items)
    grace, alan = items
    assert isinstance(grace, Appointment)
    assert isinstance(alan, Appointment)
    assert grace.start == datetime(2026, 3, 9, 23, 0, tzinfo=timezone.utc)
    assert grace.floating is False
    assert grace.location == "Office"
    assert alan.start == datetime(2026, 3, 11, 20, 30, tzinfo=NY)
    assert alan.duration_minutes == 50
    assert grace.key == grace.uid
    assert grace.uid.startswith("csv-")


def test_keys_without_a_uid_column_survive_reordering() -> None:
    """Without a uid column the key comes from start and title, so re-sorted rows keep their keys."""
    head = "title,start,duration_minutes\n"
    a_row = "Ada Byron,2026-03-10 09:00,50\n"
    b_row = "Grace Hopper,2026-03-11 09:00,50\n"
    one = {a.title: a.key for a in rows(head + a_row + b_row) if isinstance(a, Appointment)}
    two = {a.title: a.key for a in rows(head + b_row + a_row) if isinstance(a, Appointment)}
    assert one == two
    assert len(set(one.values())) == 2
    assert all("Ada" not in key for key in one.values())


def test_dayfirst_option() -> None:
    """``dayfirst=True`` reads 03/04/2026 as 3 April."""
    text = "title,start,duration_minutes\nAda Byron,03/04/2026 10:00,50\n"
    cal = CsvCalendar(text, time_zone="America/New_York", dayfirst=True)
    [a] = list(cal.appointments(date(2026, 4, 1), date(2026, 4, 30)))
    assert isinstance(a, Appointment)
    assert a.start == datetime(2026, 4, 3, 10, 0, tzinfo=NY)


def test_range_is_inclusive_local_dates() -> None:
    """Rows are selected by local start date, both ends included."""
    text = (
        "title,start,duration_minutes\nA,2026-03-01 00:00,50\nB,2026-03-31 23:30,50\nC,2026-04-01 00:00,50\n"
    )
    assert [a.title for a in rows(text) if isinstance(a, Appointment)] == ["A", "B"]


def test_end_before_start_row_is_invalid() -> None:
    """A row whose end precedes its start is one InvalidAppointment; the next row imports."""
    text = (
        "title,start,end\nAda Byron,2026-03-10 10:00,2026-03-10 09:00\nGrace Hopper,2026-03-10 11:00,11:45\n"
    )
    items = rows(text)
    assert isinstance(items[0], InvalidAppointment)
    assert items[0].reason == "row 2: end is before start"
    assert isinstance(items[1], Appointment)
    assert items[1].duration_minutes == 45


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "row 1: the file is empty"),
        ("name,when\nAda Byron,today\n", "row 1: no column for title"),
        ("title,notes\nAda Byron,x\n", "row 1: no column for the start"),
        ("title,start\nAda Byron,2026-03-10 10:00\n", "row 1: no column for the end"),
        (
            'title,start,duration_minutes\nGrace,2026-03-10 10:00,50\n"Ada Byron"x,2026,50\n',
            "line 3: the CSV cannot be read",
        ),
    ],
)
def test_unreadable_files_raise_calendar_error(text: str, where: str) -> None:
    """A CSV without the needed columns (or that cannot be read) raises CalendarError saying where."""
    with pytest.raises(CalendarError) as info:
        CsvCalendar(io.StringIO(text), time_zone="America/New_York")
    assert where in str(info.value)
    assert "Ada" not in str(info.value)


def test_reads_a_path(tmp_path: Path) -> None:
    """A path to a UTF-8 file with a BOM is read like text."""
    path = tmp_path / "export.csv"
    path.write_bytes("\ufefftitle,start,duration_minutes\nAda Byron,2026-03-10 10:00,50\n".encode())
    [a] = list(CsvCalendar(path, time_zone="America/New_York").appointments(*MARCH))
    assert isinstance(a, Appointment)
    assert a.title == "Ada Byron"


titles = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
starts = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@given(
    st.lists(st.tuples(titles, starts, st.integers(1, 240)), min_size=1, max_size=8),
    st.sampled_from(["iso", "us"]),
)
def test_csv_round_trip(generated: list[tuple[str, datetime, int]], style: str) -> None:
    """Generated rows written to CSV read back with the same title, local start and minutes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["uid", "title", "start", "duration_minutes"])
    for i, (title, start, minutes) in enumerate(generated):
        shown = start.isoformat(sep=" ") if style == "iso" else start.strftime("%m/%d/%Y %I:%M %p")
        writer.writerow([f"row-{i}", title, shown, minutes])
    cal = CsvCalendar(buffer.getvalue(), time_zone="America/New_York")
    items = list(cal.appointments(date(2025, 12, 31), date(2027, 1, 1)))
    assert all(isinstance(a, Appointment) for a in items)
    got = [(a.uid, a.title, a.start, a.end) for a in items if isinstance(a, Appointment)]
    want = []
    for i, (title, start, minutes) in enumerate(generated):
        aware = start.replace(tzinfo=NY)
        end = (aware.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(NY)
        want.append((f"row-{i}", title, aware, end))
    assert got == want
    assert all(a.duration_minutes == m for a, (_, _, m) in zip(items, generated, strict=True))  # type: ignore[union-attr]
