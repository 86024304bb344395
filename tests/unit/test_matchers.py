"""Appointments, occurrence keys and the client matchers (mapping and name)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit.appointments import (
    Appointment,
    ClientMatcher,
    InvalidAppointment,
    MappingMatcher,
    MatchFailure,
    MatchResult,
    NameMatcher,
    occurrence_key,
)
from sessionkit.domain.parties import Client
from sessionkit.errors import InvalidValue

NY = ZoneInfo("America/New_York")
T = datetime(2026, 3, 10, 14, 0, tzinfo=NY)
ADA = Client(id="c-ada", first_name="Ada", last_name="Byron")
GRACE = Client(id="c-grace", first_name="Grace", last_name="Hopper")
ALAN = Client(id="c-alan", first_name="Alan", last_name="Turing")
MARY = Client(id="c-mary", first_name="Mary", last_name="Jackson")
ADA_TWIN = Client(id="c-ada-2", first_name="Ada", last_name="Byron")


def appt(title: str = "", attendees: tuple[str, ...] = ()) -> Appointment:
    return Appointment(
        uid="u", key="u", start=T, end=T + timedelta(minutes=50), title=title, attendees=attendees
    )


# --- Appointment and keys ------------------------------------------------------------------------


def test_appointment_requires_aware_times() -> None:
    """A naive start is refused, naming the field."""
    with pytest.raises(InvalidValue) as info:
        Appointment(uid="u", key="u", start=datetime(2026, 3, 10, 14), end=T)
    assert info.value.field == "start"


def test_appointment_refuses_end_before_start() -> None:
    """End before start is refused."""
    with pytest.raises(InvalidValue, match="end must not be before start"):
        Appointment(uid="u", key="u", start=T, end=T - timedelta(minutes=1))


def test_duration_is_elapsed_time_across_dst() -> None:
    """1:30 to 3:30 on the spring-forward night is 60 minutes, not 120."""
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    end = datetime(2026, 3, 8, 3, 30, tzinfo=NY)
    assert Appointment(uid="u", key="u", start=start, end=end).duration_minutes == 60


def test_local_date_is_in_the_given_zone() -> None:
    """9 pm in New York is the next day in UTC."""
    a = Appointment(uid="u", key="u", start=datetime(2026, 3, 10, 21, tzinfo=NY), end=T.replace(day=11))
    assert a.local_date(NY) == date(2026, 3, 10)
    assert a.local_date(ZoneInfo("UTC")) == date(2026, 3, 11)


def test_attendees_are_normalised() -> None:
    """Attendee emails are lower-cased and lose ``mailto:``."""
    assert appt(attendees=("MAILTO:Ada@Example.ORG", "grace@x.org")).attendees == (
        "ada@example.org",
        "grace@x.org",
    )


def test_occurrence_key_forms() -> None:
    """Keys are the UID alone, UID#UTC instant, or UID#date."""
    assert occurrence_key("u", None) == "u"
    assert occurrence_key("u", datetime(2026, 3, 10, 21, tzinfo=NY)) == "u#2026-03-11T01:00:00Z"
    assert occurrence_key("u", date(2026, 3, 10)) == "u#2026-03-10"


@given(st.datetimes(timezones=st.sampled_from([NY, ZoneInfo("Europe/Berlin"), timezone.utc])))
def test_occurrence_key_depends_only_on_the_instant(moment: datetime) -> None:
    """The same instant written in different zones gives the same key."""
    assert occurrence_key("u", moment) == occurrence_key("u", moment.astimezone(timezone.utc))
    assert occurrence_key("u", moment) == occurrence_key("u", moment.astimezone(NY))


def test_invalid_appointment_holds_position() -> None:
    """An InvalidAppointment keeps uid, key, reason and line."""
    bad = InvalidAppointment(uid=None, key="event#7", reason="DTSTART cannot be read", line=42)
    assert (bad.uid, bad.key, bad.line) == (None, "event#7", 42)


def test_match_result_is_either_client_or_reason() -> None:
    """A MatchResult has exactly one of client id and reason."""
    assert MatchResult(client_id="c").matched
    assert not MatchResult(reason=MatchFailure.AMBIGUOUS).matched
    with pytest.raises(InvalidValue):
        MatchResult()
    with pytest.raises(InvalidValue):
        MatchResult(client_id="c", reason=MatchFailure.NO_MATCH)


# --- MappingMatcher ----------------------------------------------------------------------------


def test_mapping_matcher_is_a_client_matcher() -> None:
    """Both matchers satisfy the ClientMatcher protocol."""
    assert isinstance(MappingMatcher(), ClientMatcher)
    assert isinstance(NameMatcher([ADA]), ClientMatcher)


def test_mapping_email_wins_over_title() -> None:
    """An attendee email match is used before the title."""
    m = MappingMatcher(by_title_substring={"grace": "c-grace"}, by_email={"Ada@Example.org": "c-ada"})
    assert m.match(appt("Grace Hopper", ("mailto:ada@example.org",))) == MatchResult(client_id="c-ada")


def test_mapping_title_substring_is_case_insensitive() -> None:
    """Title substrings match in any case."""
    m = MappingMatcher(by_title_substring={"Ada Byron": "c-ada"})
    assert m.match(appt("THERAPY - ada byron")).client_id == "c-ada"


def test_mapping_two_ids_are_ambiguous() -> None:
    """Two different client ids by title (or by email) are ambiguous; the same id twice is not."""
    m = MappingMatcher(
        by_title_substring={"Ada": "c-ada", "Byron": "c-ada", "Hopper": "c-grace"},
        by_email={"a@x.org": "c-ada", "g@x.org": "c-grace"},
    )
    assert m.match(appt("Ada Byron")).client_id == "c-ada"
    assert m.match(appt("Ada and Hopper")).reason is MatchFailure.AMBIGUOUS
    assert m.match(appt("Ada", ("a@x.org", "g@x.org"))).reason is MatchFailure.AMBIGUOUS


def test_mapping_no_match_and_empty_keys_ignored() -> None:
    """Nothing matching gives NO_MATCH; an empty substring never matches everything."""
    m = MappingMatcher(by_title_substring={"": "c-all", "  ": "c-all"})
    assert m.match(appt("anything")).reason is MatchFailure.NO_MATCH


# --- NameMatcher ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Therapy - Ada Byron", "c-ada"),
        ("ada byron", "c-ada"),
        ("ADA  BYRON (telehealth)", "c-ada"),
        ("Session: Grace Hopper, intake", "c-grace"),
        ("Adam Byron", None),
        ("Ada Byronson", None),
        ("Byron Ada", None),
        ("Ada", None),
        ("", None),
    ],
)
def test_name_matcher_word_boundaries(title: str, expected: str | None) -> None:
    """The full name must appear as whole words, in any case."""
    result = NameMatcher([ADA, GRACE, ALAN, MARY]).match(appt(title))
    assert result.client_id == expected
    if expected is None:
        assert result.reason is MatchFailure.NO_MATCH


def test_name_matcher_two_clients_in_title_is_ambiguous() -> None:
    """Two clients named in one title is ambiguous, not a guess."""
    result = NameMatcher([ADA, GRACE]).match(appt("Couples: Ada Byron & Grace Hopper"))
    assert result == MatchResult(reason=MatchFailure.AMBIGUOUS)


def test_name_matcher_two_clients_with_the_same_name_is_ambiguous() -> None:
    """Two clients sharing a full name cannot be told apart."""
    assert NameMatcher([ADA, ADA_TWIN]).match(appt("Ada Byron")).reason is MatchFailure.AMBIGUOUS


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéñ", min_size=1, max_size=10)
separators = st.sampled_from([" ", " - ", ": ", "(", ")", ", ", "/"])


@given(names, names, separators, separators, st.sampled_from([str.upper, str.lower, str.title]))
def test_name_in_any_case_between_separators_matches(
    first: str, last: str, before: str, after: str, case: object
) -> None:
    """A client's name between non-word separators matches in any case."""
    client = Client(id="c1", first_name=first.title(), last_name=last.title())
    title = f"Therapy{before}{case(f'{first} {last}')}{after}note"  # type: ignore[operator]
    assert NameMatcher([client]).match(appt(title)).client_id == "c1"


@given(names, names, names)
def test_name_glued_to_other_letters_does_not_match(first: str, last: str, extra: str) -> None:
    """A name that is only part of a longer word does not match."""
    client = Client(id="c1", first_name=first, last_name=last)
    assert NameMatcher([client]).match(appt(f"{first} {last}{extra}")).client_id is None
    assert NameMatcher([client]).match(appt(f"{extra}{first} {last}")).client_id is None


@given(
    st.lists(
        st.sampled_from(["Ada Byron", "ada byron", "Grace Hopper", "Ada Byron & Grace Hopper", "x"]),
        max_size=20,
    )
)
def test_name_matcher_remembers_titles_without_changing_answers(titles: list[str]) -> None:
    """A matcher that saw titles before answers each title as a fresh matcher does."""
    seasoned = NameMatcher([ADA, GRACE])
    for title in titles:
        assert seasoned.match(appt(title)) == NameMatcher([ADA, GRACE]).match(appt(title))


def test_name_matcher_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The remembered titles are dropped when the bound is reached; answers stay right."""
    from sessionkit import appointments

    monkeypatch.setattr(appointments, "_TITLES_KEPT", 3)
    matcher = NameMatcher([ADA])
    for i in range(10):
        assert matcher.match(appt(f"Ada Byron {i}")).client_id == ADA.id
        assert len(matcher._by_title) <= 3
    assert matcher.match(appt("Grace Hopper")).client_id is None
