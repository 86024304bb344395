"""The CSV calendar adapter on hostile input: a bad row is one INVALID item, files are bounded."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from sessionkit import InvalidValue
from sessionkit.adapters.csv import CsvCalendar
from sessionkit.appointments import Appointment, InvalidAppointment
from sessionkit.errors import CalendarError

NY = "America/New_York"
ALL = (date(1, 1, 1), date(9999, 12, 31))


def rows(start: str) -> str:
    return f"title,start,duration_minutes\nAda Byron,{start},50\nGrace Hopper,2026-03-10 10:00,50\n"


@pytest.mark.parametrize(
    "start",
    [
        "2026-03-10T10:00+24:00",
        "2026-03-10T10:00-25:00",
        "3/10/2026 10:00 +2400",
        "2026-03-10T10:00+99:59",
        "0001-01-01T00:00+05:00",
        "9999-12-31T23:59-05:00",
    ],
)
def test_an_offset_of_24_hours_or_a_date_at_the_edge_is_an_invalid_row(start: str) -> None:
    """A UTC offset of 24 hours or more (ValueError in the issue), or a time overflowing the zone: INVALID row."""
    found = list(CsvCalendar(rows(start), time_zone=NY).appointments(*ALL))
    assert [type(i).__name__ for i in found] == ["InvalidAppointment", "Appointment"]
    bad = found[0]
    assert isinstance(bad, InvalidAppointment)
    assert bad.reason == "row 2: a date, time or offset is out of range"
    assert "Ada" not in bad.reason


def test_an_offset_just_under_24_hours_is_read() -> None:
    """+23:59 is a valid (if odd) offset: the row imports."""
    found = list(CsvCalendar(rows("2026-03-10T10:00+23:59"), time_zone=NY).appointments(*ALL))
    assert all(isinstance(i, Appointment) for i in found)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    """A CSV above max_bytes (path, text or open file): CalendarError calendar.too_large naming max_bytes."""
    text = rows("2026-03-10 10:00") + "x" * 2000 + ",2026-03-11 10:00,50\n"
    path = tmp_path / "big.csv"
    path.write_text(text, encoding="utf-8")
    for source in (path, text, io.StringIO(text)):
        with pytest.raises(CalendarError) as caught:
            CsvCalendar(source, time_zone=NY, max_bytes=500)
        assert (caught.value.code, caught.value.field) == ("calendar.too_large", "max_bytes")
    assert len(list(CsvCalendar(text, time_zone=NY, max_bytes=None).appointments(*ALL))) == 3


@pytest.mark.parametrize("secret", [b"short", "", 5, b"x" * 15])
def test_a_key_secret_must_be_16_bytes_or_more(secret: object) -> None:
    """A key secret shorter than 16 bytes (or not bytes/text) is refused: InvalidValue naming key_secret."""
    with pytest.raises(InvalidValue) as caught:
        CsvCalendar(rows("2026-03-10 10:00"), time_zone=NY, key_secret=secret)  # type: ignore[arg-type]
    assert caught.value.field == "key_secret"


def test_a_bad_practice_zone_is_a_sessionkit_error() -> None:
    """A practice zone of 300 characters: InvalidValue naming time_zone, not OSError."""
    with pytest.raises(InvalidValue) as caught:
        CsvCalendar(rows("2026-03-10 10:00"), time_zone="A" * 300)
    assert caught.value.field == "time_zone"
