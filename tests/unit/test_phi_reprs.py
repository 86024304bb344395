"""Client data stays out of reprs and error texts: they end up in logs.

The identifying fields are those declared with ``repr=redacted``; the tests
read them from :func:`attrs.fields`, so a field marked later is covered too.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sessionkit import (
    Address,
    Authorization,
    Client,
    ClientSession,
    Coverage,
    ReferringProvider,
    Subscriber,
)
from sessionkit.appointments import Appointment
from sessionkit.domain.values import REDACTED, redacted
from sessionkit.errors import SessionkitError
from sessionkit.serialization import from_dict, to_dict
from sessionkit.testing import (
    addresses,
    authorizations,
    clients,
    coverages,
    referring_providers,
    sessions,
    subscribers,
)

START = datetime(2026, 3, 10, 14, tzinfo=timezone.utc)


@st.composite
def appointments(draw: st.DrawFn) -> Appointment:
    """Calendar appointments whose texts hold a drawn client's name, email and note."""
    client = draw(clients())
    return Appointment(
        uid="u1",
        key="u1",
        start=START,
        end=START,
        title=f"Therapy - {client.full_name}",
        description=client.client_file_note,
        location=client.last_name,
        attendees=[f"mailto:{client.first_name.strip()[:1] or 'a'}{len(client.last_name)}@example.org"],
    )


STRATEGIES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (Client, clients()),
    (Subscriber, subscribers()),
    (Coverage, coverages()),
    (Address, addresses()),
    (ReferringProvider, referring_providers()),
    (Authorization, authorizations()),
    (ClientSession, sessions()),
    (Appointment, appointments()),
]
PARAMS = [pytest.param(t, s, id=t.__name__) for t, s in STRATEGIES]


def identifying(cls: type[Any]) -> list[str]:
    """The names of the fields of ``cls`` that print redacted."""
    return [a.name for a in attrs.fields(cls) if a.repr is redacted]


def test_the_identifying_fields() -> None:
    """Names, birth dates, member and group numbers, addresses, emails and notes are marked identifying."""
    assert identifying(Client) == [
        "first_name",
        "last_name",
        "date_of_birth",
        "address",
        "email",
        "client_file_note",
    ]
    assert identifying(Subscriber) == ["first_name", "last_name", "date_of_birth", "address"]
    assert identifying(Coverage) == ["member_id", "group_number", "subscriber"]
    assert identifying(Address) == ["line1", "line2", "city", "postal_code"]
    assert identifying(ReferringProvider) == ["first_name", "last_name"]
    assert identifying(Authorization) == ["number"]
    assert identifying(ClientSession) == ["line_note", "comments"]
    assert identifying(Appointment) == ["title", "description", "location", "attendees", "aliases", "slot"]


def test_repr_and_html_of_a_client() -> None:
    """repr and str show the redaction mark; the values stay on the object."""
    client = Client(id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 4, 1))
    assert repr(client) == str(client)
    assert repr(client) == (
        "Client(id='c1', first_name=<redacted>, last_name=<redacted>, date_of_birth=<redacted>,"
        " sex=<Sex.UNKNOWN: 'U'>, address=None, email='', client_file_note='', version=0)"
    )
    assert client.full_name == "Ada Byron"


def test_session_html_keeps_what_repr_hides() -> None:
    """The notebook display, opened on purpose, shows the notes that repr redacts."""
    session = ClientSession(
        client_id="c1",
        date_of_service=date(2026, 3, 2),
        billing_code="90834",
        charge="1",
        line_note="Ada's note",
        comments="Byron called",
    )
    assert "Ada" not in repr(session)
    assert "Byron" not in repr(session)
    assert "line_note=<redacted>, " in repr(session)
    page = session._repr_html_()
    assert "Ada&#x27;s note" in page
    assert "Byron called" in page


def _empty(value: object) -> bool:
    return redacted(value) != REDACTED


@pytest.mark.parametrize(("cls", "strategy"), PARAMS)
@settings(max_examples=40)
@given(data=st.data())
def test_repr_does_not_depend_on_identifying_values(
    cls: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    """Putting another drawn client's identifying values in an object leaves its repr and str as they were."""
    first, other = data.draw(strategy), data.draw(strategy)
    changes = {
        name: getattr(other, name)
        for name in identifying(cls)
        if _empty(getattr(first, name)) == _empty(getattr(other, name))
    }
    try:
        swapped = attrs.evolve(first, **changes)
    except SessionkitError:  # e.g. a subscriber where the relationship is SELF
        assume(False)
    assert repr(swapped) == repr(first)
    assert str(swapped) == str(first)


def _leaves(obj: Any) -> list[Any]:
    """The identifying values of ``obj`` (and of the objects it holds), not empty."""
    out: list[Any] = []
    for a in attrs.fields(type(obj)):
        value = getattr(obj, a.name)
        if attrs.has(type(value)):
            out.extend(_leaves(value) if a.repr is not redacted else _all_values(value))
        elif a.repr is redacted and not _empty(value):
            out.extend(value if isinstance(value, tuple) else [value])
    return out


def _all_values(obj: Any) -> list[Any]:
    values = [getattr(obj, a.name) for a in attrs.fields(type(obj))]
    return [v for v in values if isinstance(v, (str, date)) and not _empty(v)]


def _forms(value: Any) -> list[str]:
    if isinstance(value, date):
        return [repr(value), value.isoformat()]
    return [str(value)]


def _shown_values(obj: Any) -> list[str]:
    """The reprs of the values of ``obj`` (at any depth) that are not identifying: they may show."""
    out: list[str] = []
    for a in attrs.fields(type(obj)):
        if a.repr is redacted:
            continue
        value = getattr(obj, a.name)
        for item in value if isinstance(value, tuple) else (value,):
            out.extend(_shown_values(item) if attrs.has(type(item)) else [repr(item)])
    return out


@pytest.mark.parametrize(("cls", "strategy"), PARAMS)
@settings(max_examples=40)
@given(data=st.data())
def test_no_long_identifying_value_appears_in_a_repr(
    cls: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    """No identifying value (of 12 characters or more, so as not to match by chance) is in repr or str,
    unless a field that is not identifying holds it too."""
    obj = data.draw(strategy)
    texts = (repr(obj), str(obj))
    shown = _shown_values(obj)
    for value in _leaves(obj):
        for form in _forms(value):
            if len(form.strip()) >= 12 and not any(form in other for other in shown):
                assert all(form not in text for text in texts)


LONG_NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=61, max_size=90)


@settings(max_examples=40)
@given(name=LONG_NAME, member_id=st.text(min_size=1, max_size=30).map(lambda t: t + " !"))
def test_refused_identifying_values_stay_out_of_error_texts(name: str, member_id: str) -> None:
    """A name too long or a member id of the wrong form is refused without being quoted."""
    for make in (
        lambda: Client(id="c1", first_name=name, last_name="B"),
        lambda: Client(id="c1", first_name="A", last_name=name),
        lambda: Subscriber(first_name=name, last_name="B"),
        lambda: ReferringProvider(first_name=name),
        lambda: Address(line1=name, city="Springfield", state="IL", postal_code="62704"),
        lambda: Coverage(
            id="v", client_id="c", payer_id="p", member_id=member_id, effective=date(2026, 1, 1)
        ),
        lambda: ClientSession(
            client_id="c",
            date_of_service=date(2026, 3, 2),
            billing_code="90834",
            charge="1",
            line_note=name * 2,
        ),
    ):
        with pytest.raises(SessionkitError) as info:
            make()
        error = info.value
        for text in (str(error), repr(error), *map(str, error.args)):
            assert name not in text
            assert member_id not in text


@settings(max_examples=40)
@given(client=clients(), member_id=st.text(min_size=1, max_size=30).map(lambda t: t + " !"))
def test_refused_identifying_values_stay_out_of_document_errors(client: Client, member_id: str) -> None:
    """A stored document with a bad identifying value is refused by path, without quoting it."""
    doc = to_dict(client) | {"first_name": client.first_name * 61, "email": 7}
    coverage = {
        "schema_version": 1,
        "id": "v",
        "client_id": "c",
        "payer_id": "p",
        "member_id": member_id,
        "effective": "2026-01-01",
    }
    for document, type_ in ((doc, Client), (coverage, Coverage)):
        with pytest.raises(SessionkitError) as info:
            from_dict(document, type_)
        error = info.value
        texts = [str(error), repr(error), *map(str, error.args), *map(repr, getattr(error, "problems", ()))]
        for text in texts:
            assert client.first_name * 61 not in text
            assert member_id not in text
