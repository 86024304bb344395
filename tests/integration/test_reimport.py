"""Re-importing an edited calendar never creates a second session for the same appointment."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("icalendar")
pytest.importorskip("recurring_ical_events")

from sessionkit import BillingCode, Client, ClientSession, NameMatcher, PracticeSetup
from sessionkit.adapters.csv import CsvCalendar, CsvColumns
from sessionkit.adapters.ics import IcsCalendar
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.appointments import CalendarSource
from sessionkit.builder import SessionBuilder
from sessionkit.importing import ImportReport, OutcomeKind, import_appointments
from sessionkit.ports import FixedClock

ZONE = "America/New_York"
SPAN = (date(2026, 3, 1), date(2026, 3, 31))
CLIENTS = [
    Client(id="c1", first_name="Ada", last_name="Byron"),
    Client(id="c2", first_name="Grace", last_name="Hopper"),
]
SECRET = b"a practice secret of 32 bytes!!!"
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


def run(source: CalendarSource, builder: SessionBuilder) -> ImportReport:
    return import_appointments(source, *SPAN, NameMatcher(CLIENTS), builder)


def saved(uow: InMemoryUnitOfWork) -> list[ClientSession]:
    with uow:
        return sorted(uow.sessions.list(), key=lambda s: (s.date_of_service, s.appointment_key or ""))


def ics(body: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
        f"{body}SUMMARY:Therapy - Ada Byron\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


SINGLE = "DTSTART;TZID=America/New_York:20260303T100000\r\nDURATION:PT45M\r\n"
WEEKLY = SINGLE + "RRULE:FREQ=WEEKLY;COUNT=4\r\n"


def test_a_single_event_made_weekly_keeps_its_first_session() -> None:
    """An event imported once, then made weekly (same UID): the first date is ALREADY_IMPORTED, 3 new."""
    uow, builder = world()
    first = run(IcsCalendar(ics(SINGLE), time_zone=ZONE), builder)
    assert [o.kind for o in first.outcomes] == [K.CREATED]
    again = run(IcsCalendar(ics(WEEKLY), time_zone=ZONE), builder)
    assert [o.kind for o in again.outcomes] == [K.ALREADY_IMPORTED, K.CREATED, K.CREATED, K.CREATED]
    assert again.outcomes[0].session_id == first.outcomes[0].session_id
    days = [s.date_of_service for s in saved(uow)]
    assert days == [date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 17), date(2026, 3, 24)]


def test_a_weekly_series_made_single_keeps_its_first_session() -> None:
    """The reverse: a series imported, then cut to one event: ALREADY_IMPORTED, nothing new."""
    uow, builder = world()
    run(IcsCalendar(ics(WEEKLY), time_zone=ZONE), builder)
    again = run(IcsCalendar(ics(SINGLE), time_zone=ZONE), builder)
    assert [o.kind for o in again.outcomes] == [K.ALREADY_IMPORTED]
    assert len(saved(uow)) == 4


@pytest.mark.parametrize("other_zone", ["America/Chicago", "Europe/Paris", "Pacific/Auckland"])
def test_floating_times_reimported_with_another_zone_do_not_duplicate(other_zone: str) -> None:
    """A weekly series in floating time imported with --tz New York, then Chicago: no second session."""
    floating = "DTSTART:20260303T100000\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
    uow, builder = world()
    first = run(IcsCalendar(ics(floating), time_zone=ZONE), builder)
    assert [o.kind for o in first.outcomes] == [K.CREATED] * 4
    again = run(IcsCalendar(ics(floating), time_zone=other_zone), builder)
    assert K.CREATED not in [o.kind for o in again.outcomes]
    assert len(saved(uow)) == 4


def test_floating_keys_of_older_imports_are_recognised() -> None:
    """A floating occurrence imported by an older sessionkit (key in UTC) is found by its alias."""
    floating = "DTSTART:20260303T100000\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY;COUNT=1\r\n"
    [appointment] = list(IcsCalendar(ics(floating), time_zone=ZONE).appointments(*SPAN))
    assert appointment.key == "u1#2026-03-03T10:00:00"
    assert appointment.aliases == ("u1#2026-03-03T15:00:00Z", "u1")


def csv_text(title: str, start: str = "2026-03-03 10:00") -> str:
    return f"title,start,duration_minutes\n{title},{start},45\nTherapy - Grace Hopper,{start},45\n"


@pytest.mark.parametrize("secret", [None, SECRET])
def test_a_csv_title_edit_is_a_conflict_not_a_second_session(secret: bytes | None) -> None:
    """A CSV without uid: editing a title (same client, date and start) never creates a second session."""
    uow, builder = world()
    first = run(CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE, key_secret=secret), builder)
    assert [o.kind for o in first.outcomes] == [K.CREATED, K.CREATED]
    edited = CsvCalendar(csv_text("Ada Byron - intake"), time_zone=ZONE, key_secret=secret)
    again = run(edited, builder)
    expected = K.CONFLICT if secret else K.ALREADY_IMPORTED
    assert [o.kind for o in again.outcomes] == [expected, K.ALREADY_IMPORTED]
    assert again.outcomes[0].session_id == first.outcomes[0].session_id
    assert len(saved(uow)) == 2
    third = run(edited, builder)
    assert [o.kind for o in third.outcomes] == [expected, K.ALREADY_IMPORTED]
    assert len(saved(uow)) == 2


def test_conflict_is_reported_in_a_dry_run_and_within_one_file() -> None:
    """Two rows of the same client at the same start in one file: the second is CONFLICT, dry run too."""
    text = (
        "title,start,duration_minutes\nAda Byron,2026-03-03 10:00,45\nAda Byron again,2026-03-03 10:00,45\n"
    )
    for dry_run in (True, False):
        uow, builder = world()
        source = CsvCalendar(text, time_zone=ZONE, key_secret=SECRET)
        report = import_appointments(source, *SPAN, NameMatcher(CLIENTS), builder, dry_run=dry_run)
        made = K.WOULD_CREATE if dry_run else K.CREATED
        assert [o.kind for o in report.outcomes] == [made, K.CONFLICT]
        assert report.outcomes[1].code == "import.conflict"
        assert "Ada" not in report.outcomes[1].reason
        assert len(saved(uow)) == (0 if dry_run else 1)


def test_csv_keys_hold_neither_the_title_nor_an_unkeyed_hash_of_it() -> None:
    """CSV row keys: the start and an HMAC (with a secret), or the start alone; never the SHA-256 of the title."""
    import hashlib

    plain = [a.key for a in CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE).appointments(*SPAN)]
    assert plain == ["csv-20260303T100000", "csv-20260303T100000~2"]
    keyed = [
        a.key
        for a in CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE, key_secret=SECRET).appointments(*SPAN)
    ]
    other = [
        a.key
        for a in CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE, key_secret=SECRET[::-1]).appointments(
            *SPAN
        )
    ]
    assert all(k.startswith("csv-20260303T100000-") for k in keyed)
    assert keyed != other
    unkeyed = hashlib.sha256(b"2026-03-03T10:00:00-05:00|Ada Byron").hexdigest()
    for key in plain + keyed:
        assert "Ada" not in key
        assert unkeyed[:20] not in key


def test_csv_keys_do_not_depend_on_the_assumed_zone() -> None:
    """Floating CSV times give the same keys with any practice zone (another --tz does not duplicate)."""
    ny = [a.key for a in CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE).appointments(*SPAN)]
    paris = [a.key for a in CsvCalendar(csv_text("Ada Byron"), time_zone="Europe/Paris").appointments(*SPAN)]
    assert ny == paris


def test_csv_rows_imported_by_an_older_sessionkit_are_found_by_their_old_key() -> None:
    """A row saved under the old unkeyed key is ALREADY_IMPORTED (the old key is looked up, never written)."""
    import hashlib

    uow, builder = world()
    old = "csv-" + hashlib.sha256(b"2026-03-03T10:00:00-05:00|Ada Byron").hexdigest()[:20]
    with uow:
        uow.sessions.save(
            ClientSession(
                client_id="c1",
                date_of_service=date(2026, 3, 3),
                billing_code="90834",
                minutes=45,
                charge="140.00",
                appointment_key=old,
            )
        )
        uow.commit()
    report = run(CsvCalendar(csv_text("Ada Byron"), time_zone=ZONE, key_secret=SECRET), builder)
    assert [o.kind for o in report.outcomes] == [K.ALREADY_IMPORTED, K.CREATED]
    assert {s.appointment_key for s in saved(uow)} >= {old}


def test_a_csv_with_a_uid_column_keeps_its_uids() -> None:
    """With a uid column nothing changes: the uid is the key and no slot is set."""
    text = "uid,title,start,duration_minutes\nrow-1,Ada Byron,2026-03-03 10:00,45\n"
    [a] = CsvCalendar(text, time_zone=ZONE, columns=CsvColumns()).appointments(*SPAN)
    assert (a.key, a.slot, a.aliases) == ("row-1", None, ())
