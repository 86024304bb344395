"""Tests for the generated session writer and reader of sessionkit.serialization: the same as the converter's.

The writer recognises defaults without calling ``__eq__`` and writes codes,
amounts, dates and code tuples inline; the reader remembers repeated values
(codes, client ids, durations, code lists, nested objects keyed by their
text) and leaves anything else to the plain way. Each path is compared with
the converter's, on sessions from :func:`sessionkit.testing.sessions` and on
documents whose values are equal to remembered ones but of another type.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import ClientSession, Modifier, Money, PlaceOfService
from sessionkit import serialization as ser
from sessionkit.domain import Authorization, Client, Coverage, DiagnosisCode
from sessionkit.domain.payments import Adjudication
from sessionkit.errors import DocumentError
from sessionkit.serialization import dumps, from_dict, loads, to_dict
from sessionkit.testing import adjudications, authorizations, clients, coverages, sessions

_BASE = {"schema_version": 1, "client_id": "c1", "date_of_service": "2026-03-02", "billing_code": "90834"}


def _outcome(read: Any, data: Any) -> Any:
    """What reading ``data`` gives: the object, or the error's code and problems."""
    try:
        return read(data)
    except DocumentError as exc:
        return ("error", exc.code, exc.problems)


def _converter_document(session: ClientSession) -> dict[str, Any]:
    return {"schema_version": ser.SCHEMA_VERSION, **ser._CONVERTER.unstructure(session)}


def _fresh_equal(value: Any) -> Any:
    """An object equal to ``value`` but not the same object (no cache hands it out)."""
    if isinstance(value, Money):
        return Money(Decimal(value.amount))
    if isinstance(value, PlaceOfService):
        return PlaceOfService(value.code)
    if isinstance(value, tuple):
        return tuple(Modifier(x.code) for x in value)
    return value


@given(sessions(), st.sets(st.sampled_from(["paid_at_session", "place_of_service", "charge", "modifiers"])))
def test_values_equal_to_the_default_but_not_the_default_object_are_left_out_alike(
    session: ClientSession, fresh: set[str]
) -> None:
    """A field holding a new object equal to its default (or any new equal object): the converter's document."""
    changes = {name: _fresh_equal(getattr(session, name)) for name in fresh}
    changes.update({"paid_at_session": Money("0.00")} if "paid_at_session" in fresh else {})
    changes.update({"place_of_service": PlaceOfService("11")} if "place_of_service" in fresh else {})
    session = attrs.evolve(session, **changes)
    document = to_dict(session)
    assert list(document.items()) == list(_converter_document(session).items())
    assert ("paid_at_session" in document) == (session.paid_at_session != Money(0))
    assert ("place_of_service" in document) == (session.place_of_service != PlaceOfService("11"))


@given(sessions())
def test_dumps_writes_the_converters_document_with_either_codec(session: ClientSession) -> None:
    """dumps: the converter's document, as the standard library writes it, with or without the fast extra."""
    expected = ser._std_encode(_converter_document(session))
    assert dumps(session) == expected
    saved = ser._encode, ser._decode
    ser._encode, ser._decode = ser._std_encode, ser._std_decode
    try:
        assert dumps(session) == expected
        assert loads(expected, ClientSession) == session
    finally:
        ser._encode, ser._decode = saved
    assert loads(expected, ClientSession) == session


def test_a_lone_surrogate_is_written_and_read_as_json_does() -> None:
    """Text msgspec refuses (a lone surrogate) goes through json both ways: the same text, the same session."""
    session = ClientSession(
        id="s1",
        client_id="c1",
        date_of_service=date(2026, 3, 2),
        billing_code="90834",
        charge="1",
        comments="\ud800",
    )
    text = dumps(session)
    assert text == ser._std_encode(_converter_document(session))
    assert loads(text, ClientSession) == session


def test_dates_are_written_from_memory_only_for_the_same_date() -> None:
    """The remembered ISO text of a date belongs to that date: other dates get their own."""
    days = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 1)]
    for day in days:
        session = ClientSession(
            id="s1", client_id="c1", date_of_service=day, billing_code="90834", charge="1"
        )
        assert to_dict(session)["date_of_service"] == day.isoformat()


# Values equal to a remembered one, of another type: the reading must not mistake one for the other.
_LOOKALIKES = ["1", 1, True, 1.0, None, "", 0, False, [], {}, ["1"], {"a": "1"}, "F41.1", "90834", "95"]


def _read_alike(documents: list[dict[str, Any]]) -> None:
    for data in documents:
        fast = _outcome(lambda d: from_dict(d, ClientSession), dict(data))
        plain = _outcome(lambda d: ser._read_plain(d, ClientSession), dict(data))
        assert fast == plain
        # loads: parsed into the generated record (with the fast extra) and read from it.
        assert _outcome(lambda d: loads(ser._std_encode(d), ClientSession), dict(data)) == plain


@pytest.mark.parametrize(
    "key", ["client_id", "billing_code", "minutes", "diagnoses", "modifiers", "units", "version"]
)
def test_remembered_values_read_as_the_plain_way_reads_them(key: str) -> None:
    """Every pair of lookalike values, one document after the other, in a remembered field: each read as the plain way reads it."""
    for first in _LOOKALIKES:
        for second in _LOOKALIKES:
            _read_alike(
                [{**_BASE, "charge": "1.00", "id": "s1", key: value} for value in (first, second, second)]
            )


_NESTED = {
    "referring_provider": {"first_name": "Sam", "last_name": "Lee", "npi": "1234567893"},
    "resubmission": {"frequency": "7", "original_reference": "R1"},
    "add_ons": [{"code": "90785", "charge": "25.00"}],
    "overrides": {"billing_provider_name": "Clinic", "tax_id": "12-3456789"},
}
_NAMES = {
    "referring_provider": ["first_name", "npi", "qualifier"],
    "resubmission": ["frequency", "original_reference"],
    "add_ons": ["code", "charge", "units", "modifiers"],
    "overrides": ["tax_id", "billing_provider_name"],
}


@pytest.mark.parametrize("key", sorted(_NESTED))
def test_nested_objects_read_again_as_the_plain_way_reads_them(key: str) -> None:
    """Every pair of lookalike values in each key of a nested object, one document after the other: each read as the plain way does."""
    original = _NESTED[key]
    for name in _NAMES[key]:
        for first in _LOOKALIKES:
            for second in _LOOKALIKES:
                variants: list[Any] = []
                for value in (first, second, second):
                    if isinstance(original, list):
                        variants.append([{**original[0], name: value}])
                    else:
                        variants.append({**original, name: value})
                _read_alike([{**_BASE, "charge": "1.00", "id": "s1", key: v} for v in variants])


_SCALARS = st.none() | st.booleans() | st.integers(-2, 2) | st.floats(-2, 2) | st.sampled_from(["", "1", "a"])
_OBJECTS = st.dictionaries(st.sampled_from(["a", "b", "c"]), _SCALARS, max_size=3)


@given(_OBJECTS | st.lists(_OBJECTS, max_size=2), _OBJECTS | st.lists(_OBJECTS, max_size=2))
def test_equal_text_keys_mean_the_same_values_of_the_same_types(a: Any, b: Any) -> None:
    """Two documents with equal keys hold the same values of the same types, in the same order; only text and null get one."""

    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return [(k, type(v), v) for k, v in value.items()]
        return [typed(x) for x in value]

    key_a, key_b = ser._text_key(a), ser._text_key(b)
    if key_a is not None and key_a == key_b:
        assert typed(a) == typed(b)
    for value, key in ((a, key_a), (b, key_b)):
        items = [x for d in ([value] if isinstance(value, dict) else value) for x in d.values()]
        assert (key is not None) == all(x is None or type(x) is str for x in items)


def test_a_remembered_nested_object_is_shared_and_a_bad_one_still_refused() -> None:
    """Add-on lines read again are the same tuple; a changed charge or a number for text is read (or refused) anew."""
    add_ons = [{"code": "90785", "charge": "25.00"}]
    a = from_dict({**_BASE, "charge": "1.00", "add_ons": add_ons}, ClientSession)
    b = from_dict({**_BASE, "charge": "2.00", "add_ons": [dict(add_ons[0])]}, ClientSession)
    assert a.add_ons is b.add_ons
    c = from_dict(
        {**_BASE, "charge": "1.00", "add_ons": [{"code": "90785", "charge": "26.00"}]}, ClientSession
    )
    assert c.add_ons[0].charge == Money("26.00")
    with pytest.raises(DocumentError) as caught:
        from_dict({**_BASE, "charge": "1.00", "add_ons": [{"code": 90785, "charge": "25.00"}]}, ClientSession)
    assert [p.path for p in caught.value.problems] == ["$.add_ons[0].code"]


def test_code_lists_read_again_give_the_same_codes() -> None:
    """A diagnosis or modifier list read again gives the same tuple of code objects."""
    first = from_dict(
        {**_BASE, "charge": "1.00", "diagnoses": ["F41.1", "F33.1"], "modifiers": ["95"]}, ClientSession
    )
    again = from_dict(
        {**_BASE, "charge": "1.00", "diagnoses": ["F41.1", "F33.1"], "modifiers": ["95"]}, ClientSession
    )
    assert first.diagnoses is again.diagnoses
    assert first.diagnoses == (DiagnosisCode(code="F41.1"), DiagnosisCode(code="F33.1"))
    assert again.modifiers == (Modifier("95"),)


# -- the records read once per client: Client, Coverage, Authorization, Adjudication ----------------

_RECORDS: dict[type[Any], st.SearchStrategy[Any]] = {
    Client: clients(),
    Coverage: coverages(),
    Authorization: authorizations(),
    Adjudication: adjudications(),
}


def _same(a: Any, b: Any) -> bool:
    """The same object field by field: types, every field (``eq=False`` ones too), Decimal exponents, time zones."""
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, frozenset):
        return a == b and all(type(x) is str for x in (*a, *b))
    return bool(a == b) and repr(a) == repr(b)


def _stored(record: Any) -> dict[str, Any]:
    """The document SQLite stores for ``record``: its JSON text read back as plain data."""
    data: dict[str, Any] = ser._parse(dumps(record))
    return data


@pytest.mark.parametrize("cls", list(_RECORDS), ids=lambda c: c.__name__)
def test_the_records_read_per_client_have_a_generated_reader(cls: type[Any]) -> None:
    """Client, Coverage, Authorization and Adjudication are read by a reader generated from their fields, through ``__init__``."""
    assert cls in ser._FAST_READS
    assert ser._fast_decoder(cls) is not None


@pytest.mark.parametrize("cls", list(_RECORDS), ids=lambda c: c.__name__)
@given(data=st.data())
def test_a_stored_record_reads_the_same_both_ways(cls: type[Any], data: st.DataObject) -> None:
    """The generated reader gives the object the plain converter gives, field by field, and the one written."""
    record = data.draw(_RECORDS[cls])
    document = _stored(record)
    decode = ser._fast_decoder(cls)
    assert decode is not None
    fast = decode(dict(document))  # the generated reader itself, no fallback
    plain = ser._read_plain(dict(document), cls)
    assert _same(fast, plain)
    assert _same(from_dict(dict(document), cls), plain)
    assert fast == record
    assert fast.version == record.version


_BAD_VALUES = [
    *_LOOKALIKES,
    "x",
    "2026-02-30",
    "20260302",
    "1e3",
    "-1",
    "NaN",
    "1.005",
    "F",
    "Z",
    "a" * 81,
    " ",
]


@pytest.mark.parametrize("cls", list(_RECORDS), ids=lambda c: c.__name__)
@given(data=st.data())
def test_a_bad_record_document_gives_the_plain_ways_error(cls: type[Any], data: st.DataObject) -> None:
    """A stored record with one key changed, dropped or added: both ways give the same record or the same DocumentError."""
    document = _stored(data.draw(_RECORDS[cls]))
    names = [*(a.name for a in attrs.fields(cls)), "schema_version", "extra"]
    key = data.draw(st.sampled_from(names), label="key")
    if data.draw(st.booleans(), label="drop"):
        document.pop(key, None)
    else:
        document[key] = data.draw(st.sampled_from(_BAD_VALUES), label="value")
    fast = _outcome(lambda d: from_dict(d, cls), dict(document))
    plain = _outcome(lambda d: ser._read_plain(d, cls), dict(document))
    if isinstance(plain, tuple):
        assert fast == plain
    else:
        assert _same(fast, plain)


def test_the_validators_run_on_the_generated_path() -> None:
    """A coverage ending before it starts, or with a subscriber for SELF: refused as the plain way refuses it."""
    base = _stored(
        Coverage(id="v1", client_id="c1", payer_id="p1", member_id="M1", effective=date(2026, 1, 1))
    )
    for change, path in (
        ({"termination": "2025-12-31"}, "$.termination"),
        ({"subscriber": {"first_name": "Ann", "last_name": "Lee"}}, "$.subscriber"),
        ({"member_id": "-"}, "$.member_id"),
        ({"version": -1}, "$.version"),
    ):
        document = {**base, **change}
        with pytest.raises(DocumentError) as caught:
            from_dict(dict(document), Coverage)
        assert caught.value.problems == _outcome(lambda d: ser._read_plain(d, Coverage), document)[2]
        assert [p.path for p in caught.value.problems] == [path]
    client = {"schema_version": 1, "id": "c1", "first_name": " ", "last_name": "Lee"}
    with pytest.raises(DocumentError) as caught:
        from_dict(client, Client)
    assert [(p.path, p.code) for p in caught.value.problems] == [("$.first_name", "value.required")]


def _record_path_built() -> None:
    """Read and write one session, which builds the session's record reader and writer (with the fast extra)."""
    session = ClientSession(
        id="s0", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="1"
    )
    loads(dumps(session), ClientSession)
    loads(dumps(session), ClientSession)


def test_the_session_record_has_every_field_in_the_written_order() -> None:
    """The generated msgspec record: schema_version, the required fields, then the defaulted ones, as to_dict writes them."""
    msgspec = pytest.importorskip("msgspec", reason="the fast extra (msgspec) is not installed")
    _record_path_built()
    record = ser._document_record(ClientSession)
    fields = attrs.fields(ClientSession)
    expected = [
        "schema_version",
        *(a.name for a in fields if a.default is attrs.NOTHING),
        *(a.name for a in fields if a.default is not attrs.NOTHING),
    ]
    assert [f.name for f in msgspec.structs.fields(record)] == expected
    assert ClientSession in ser._RECORD_READERS
    assert ClientSession in ser._RECORD_WRITERS


@given(sessions())
def test_the_record_writer_writes_the_converters_document(session: ClientSession) -> None:
    """The session written by its record (no dict) is the text json writes of the converter's document."""
    pytest.importorskip("msgspec", reason="the fast extra (msgspec) is not installed")
    _record_path_built()
    record = ser._RECORD_WRITERS[ClientSession](session)
    assert ser._msgspec_encode(record).decode() == ser._std_encode(_converter_document(session))
    assert dumps(session) == ser._std_encode(_converter_document(session))
    assert loads(dumps(session), ClientSession) == session


_PLAIN_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
_PLAIN_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _PLAIN_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_PLAIN_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _json_outcome(read: Any, text: Any) -> Any:
    """What ``read`` gives for ``text``: the data, or the error's type and message."""
    try:
        return ("data", read(text))
    except (ValueError, TypeError, RecursionError) as exc:
        return ("error", type(exc), str(exc))


@given(
    _PLAIN_DATA,
    st.sampled_from(["", " ", "\n\t", "\ufeff"]),
    st.sampled_from(["", " ", "\n", "x", "]", "{}", ' "a"']),
)
def test_the_standard_codec_reads_and_writes_as_json_does(data: Any, before: str, after: str) -> None:
    """json's scanner and encoder called directly: the data or the error of json.loads, the text of json.dumps."""
    assert ser._std_encode(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = before + json.dumps(data, ensure_ascii=False) + after
    assert _json_outcome(ser._std_decode, text) == _json_outcome(json.loads, text)
    raw = text.encode("utf-8", "surrogatepass")
    assert _json_outcome(ser._std_decode, raw) == _json_outcome(json.loads, raw)
