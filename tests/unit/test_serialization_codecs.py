"""Tests for the fast paths of sessionkit.serialization: the fast reading of documents and the JSON codecs.

The fast reading (a decoder generated from the attrs fields, nested objects
remembered by their document) and the ``fast`` extra's codec (msgspec) must
give exactly what the plain paths give: the same sessions, the same text, the
same errors.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import ClientSession, ReferringProvider
from sessionkit import serialization as ser
from sessionkit.errors import DocumentError
from sessionkit.serialization import dumps, from_dict, loads, to_dict
from sessionkit.testing import sessions

pytest.importorskip("msgspec", reason="the fast extra (msgspec) is not installed")

# Plain JSON data as documents hold it (no floats: amounts are text), and odd text: control
# characters, lone surrogates, non-BMP characters.
_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers() | _TEXT


def _json(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
        max_leaves=12,
    )


_JSON = _json(_SCALARS)
_JSON_WITH_FLOATS = _json(_SCALARS | st.floats(allow_nan=False, allow_infinity=False))
_FIELDS = [a.name for a in attrs.fields(ClientSession)]


def _outcome(read: Any, data: Any) -> Any:
    """What reading ``data`` gives: the object, or the error's code and problems."""
    try:
        return read(data)
    except DocumentError as exc:
        return ("error", exc.code, exc.problems)
    except ValueError as exc:  # the codecs' own errors
        return ("error", type(exc).__name__)


@given(sessions())
def test_both_codecs_write_the_same_text_and_read_the_same_session(session: ClientSession) -> None:
    """A session's document is the same text by json and by msgspec, and each reads back the session."""
    data = to_dict(session)
    text = ser._std_encode(data)
    assert ser._fast_encode(data) == text
    assert ser._std_decode(text) == ser._fast_decode(text) == data
    assert from_dict(ser._fast_decode(text), ClientSession) == session
    assert loads(dumps(session), ClientSession) == session


@given(_JSON)
def test_both_codecs_write_the_same_text_for_any_document_data(data: Any) -> None:
    """Any data a document can hold (lone surrogates, big integers included) gives the same text both ways."""
    text = ser._std_encode(data)
    assert ser._fast_encode(data) == text
    assert ser._fast_decode(text) == ser._std_decode(text)


@given(_JSON_WITH_FLOATS)
def test_both_codecs_read_any_json_alike(data: Any) -> None:
    """Any JSON text (floats too) reads back as the same data both ways, from text and from UTF-8 bytes."""
    text = json.dumps(data, ensure_ascii=False)
    assert ser._fast_decode(text) == ser._std_decode(text)
    raw = text.encode("utf-8", "surrogatepass")
    assert _outcome(ser._fast_decode, raw) == _outcome(ser._std_decode, raw)


def _field_types(cls: type, seen: set[type]) -> set[Any]:
    """Every annotated type under ``cls`` (its fields, and the attrs classes they name), recursively."""
    found: set[Any] = set()
    if cls in seen or not attrs.has(cls):
        return found
    seen.add(cls)
    attrs.resolve_types(cls)
    for a in attrs.fields(cls):
        stack = [a.type]
        while stack:
            t = stack.pop()
            found.add(t)
            stack.extend(getattr(t, "__args__", ()))
            if isinstance(t, type):
                found |= _field_types(t, seen)
    return found


def test_session_documents_hold_no_floats() -> None:
    """No field under a session is a float, so the codecs' differing float notation never reaches a document."""
    assert float not in _field_types(ClientSession, set())


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"schema_version": 1, "id": NaN}', "document.invalid"),
        ("[" * 100_000 + "]" * 100_000, "document.too_deep"),
        ('{"a": 1,}', "document.json"),
        ("\ufeff{}", "document.json"),
        ('{"a": ' + "1" * 5000 + "}", "document.json"),
    ],
)
def test_text_the_fast_codec_refuses_is_read_or_refused_as_json_does(text: str, code: str) -> None:
    """Where msgspec refuses what json reads (NaN) or errs its own way, loads reports json's outcome."""
    with pytest.raises(DocumentError) as caught:
        loads(text, ClientSession)
    assert caught.value.code in (code, "document.invalid")
    if code != "document.invalid":
        assert caught.value.code == code


@given(sessions(), st.sampled_from([*_FIELDS, "schema_version", "extra"]), _JSON | st.just("<drop>"))
def test_the_fast_reading_gives_what_the_plain_reading_gives(
    session: ClientSession, key: str, value: Any
) -> None:
    """A session document with one key changed, added or dropped: the same session or the same problems both ways."""
    data = to_dict(session)
    if value == "<drop>":
        data.pop(key, None)
    else:
        data[key] = value
    fast = _outcome(lambda d: from_dict(d, ClientSession), dict(data))
    plain = _outcome(lambda d: ser._read_plain(d, ClientSession), dict(data))
    # loads: the session parsed into the generated msgspec record and read from it.
    record = _outcome(lambda d: loads(ser._std_encode(d), ClientSession), dict(data))
    if "id" not in data and isinstance(fast, ClientSession):  # each reading mints its own id
        assert fast.id != plain.id
        fast, plain = attrs.evolve(fast, id="x"), attrs.evolve(plain, id="x")
        record = attrs.evolve(record, id="x")
    assert fast == plain
    assert record == plain
    assert type(record) is type(plain)


def _read_text_both_ways(text: str) -> tuple[Any, Any]:
    """What loads gives for ``text``, and what the plain reading of json's parse of it gives."""
    loads(
        '{"schema_version":1,"client_id":"c1","date_of_service":"2026-03-02","billing_code":"90834","charge":"1.00"}',
        ClientSession,
    )  # the record reader is built on the first session read
    assert ClientSession in ser._RECORD_READERS
    return (
        _outcome(lambda t: loads(t, ClientSession), text),
        _outcome(lambda t: ser._read_plain(json.loads(t), ClientSession), text),
    )


_HEAD = '"schema_version":1,"client_id":"c1","date_of_service":"2026-03-02","billing_code":"90834"'


@pytest.mark.parametrize(
    "text",
    [
        "{" + _HEAD + ',"charge":"1.00","id":"s1"}',
        "{" + _HEAD + ',"charge":"1.00","id":"s1","charge":"2.00"}',  # a repeated key: the last one counts
        "{" + _HEAD + ',"charge":"1.00","id":"s1","id":"s2","minutes":null}',
        "{" + _HEAD + ',"id":"s1"}',  # a required key missing
        "{" + _HEAD + ',"charge":"1.00","id":"s1","extra":1}',
        "{" + _HEAD + ',"charge":"1.00","id":"s1","additional_dates":[]}',  # an earlier sessionkit's
        "{" + _HEAD + ',"charge":"1.00","id":"s1","additional_dates":["2026-03-09"]}',
        "{" + _HEAD.replace(":1,", ":2,") + ',"charge":"1.00","id":"s1"}',
        "{" + _HEAD.replace(":1,", ":true,") + ',"charge":"1.00","id":"s1"}',
        "{" + _HEAD.replace(":1,", ':"1",') + ',"charge":"1.00","id":"s1"}',
        "{" + _HEAD.replace('"schema_version":1,', "") + ',"charge":"1.00","id":"s1"}',
        "{" + _HEAD + ',"charge":1,"id":"s1","minutes":"45","status":"nope","version":true}',
        "{" + _HEAD + ',"charge":"1.00","id":"s1","referring_provider":{"first_name":"A","npi":"1"}}',
        "{" + _HEAD + ',"charge":"1.00","id":"s1","diagnoses":["F41.1",1],"modifiers":"95"}',
        "{" + _HEAD + ',"charge":"1.00","\\u0069d":"s1"}',  # a key written with an escape
        " {" + _HEAD + ',"charge":"1.00","id":"s1"}\n',
        '["schema_version", 1]',
        '"text"',
        "null",
    ],
)
def test_loads_gives_what_the_plain_reading_gives_for_odd_text(text: str) -> None:
    """Text with repeated, missing, unknown or legacy keys, bad values or no object: loads (by the record) = the plain reading."""
    fast, plain = _read_text_both_ways(text)
    assert fast == plain
    if isinstance(plain, tuple):
        assert plain[0] == "error"
    for raw in (
        text.encode(),
        text.encode("utf-16"),
        b"\xef\xbb\xbf" + text.encode(),
    ):  # bytes, UTF-16, a BOM
        assert _outcome(lambda t: loads(t, ClientSession), raw) == _outcome(
            lambda t: ser._read_plain(json.loads(t), ClientSession), raw
        )


@given(sessions(), _JSON)
def test_loads_of_a_document_with_an_extra_nested_value_gives_the_plain_reading(
    session: ClientSession, value: Any
) -> None:
    """Any JSON value under any field of a session's text: loads (by the record) = the plain reading of json's parse."""
    data = to_dict(session)
    for key in ("referring_provider", "add_ons", "resubmission", "overrides", "comments"):
        text = ser._std_encode({**data, key: value})
        fast, plain = _read_text_both_ways(text)
        if isinstance(fast, ClientSession) and "id" not in data:  # each reading mints its own id
            fast, plain = attrs.evolve(fast, id="x"), attrs.evolve(plain, id="x")
        assert fast == plain


@given(sessions())
def test_a_stored_session_reads_back_equal_by_both_ways(session: ClientSession) -> None:
    """An untouched document: the fast reading and the plain reading give the session itself."""
    data = to_dict(session)
    assert ser._read_fast(dict(data), ClientSession) == session
    assert ser._read_plain(dict(data), ClientSession) == session


def test_a_referring_provider_read_again_is_the_same_object() -> None:
    """Documents repeating a referring provider share one object: its NPI check digit is not worked out again."""
    base = {"schema_version": 1, "client_id": "c1", "date_of_service": "2026-03-02", "billing_code": "90834"}
    ref = {"first_name": "Sam", "last_name": "Lee", "npi": "1234567893"}
    a = from_dict({**base, "charge": "1.00", "referring_provider": dict(ref)}, ClientSession)
    b = from_dict({**base, "charge": "2.00", "referring_provider": dict(ref)}, ClientSession)
    assert a.referring_provider is b.referring_provider
    assert a.referring_provider == ReferringProvider(first_name="Sam", last_name="Lee", npi="1234567893")


def test_a_bad_npi_is_refused_after_a_good_one_was_read() -> None:
    """The remembered objects are keyed by the whole document: a wrong check digit is still refused."""
    base = {"schema_version": 1, "client_id": "c1", "date_of_service": "2026-03-02", "billing_code": "90834"}
    good = {"first_name": "Sam", "last_name": "Lee", "npi": "1234567893"}
    from_dict({**base, "charge": "1.00", "referring_provider": good}, ClientSession)
    with pytest.raises(DocumentError) as caught:
        from_dict(
            {**base, "charge": "1.00", "referring_provider": {**good, "npi": "1234567890"}}, ClientSession
        )
    assert [p.path for p in caught.value.problems] == ["$.referring_provider.npi"]


def test_an_integer_is_not_read_as_true() -> None:
    """Remembered objects tell 1 from true: a boolean where text is expected is refused both times."""
    base = {"schema_version": 1, "client_id": "c1", "date_of_service": "2026-03-02", "billing_code": "90834"}
    resub = {"frequency": "7", "original_reference": "R1"}
    from_dict({**base, "charge": "1.00", "resubmission": resub}, ClientSession)
    with pytest.raises(DocumentError):
        from_dict(
            {**base, "charge": "1.00", "resubmission": {**resub, "original_reference": True}}, ClientSession
        )


def test_the_codec_in_use_is_the_fast_one_when_installed() -> None:
    """With msgspec installed, dumps and loads go through it (and give json's text)."""
    assert ser._FAST_CODEC
    assert ser._encode is ser._fast_encode
    assert ser._decode is ser._fast_decode
    assert json.loads(ser._encode({"a": "é"})) == {"a": "é"}


@given(sessions())
def test_the_fast_writing_gives_the_converters_document_key_for_key(session: ClientSession) -> None:
    """A session's document from the generated writer: the converter's keys, in its order, with its values."""
    expected = {"schema_version": ser.SCHEMA_VERSION, **ser._CONVERTER.unstructure(session)}
    assert list(to_dict(session).items()) == list(expected.items())
