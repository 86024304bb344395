"""Tests for sessionkit.serialization: round trips, strict documents, problems by path."""

from __future__ import annotations

import json
import pickle
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Modifier,
    Money,
    Payer,
    PlaceOfService,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    Subscriber,
)
from sessionkit.domain import InsuranceOverrides
from sessionkit.errors import DocumentError, DocumentProblem
from sessionkit.serialization import (
    SCHEMA_VERSION,
    configure_converter,
    dumps,
    from_dict,
    loads,
    make_converter,
    split_legacy_session,
    to_dict,
)
from sessionkit.testing import (
    add_on_lines,
    addresses,
    authorizations,
    billing_code_setups,
    clients,
    coverages,
    diagnosis_codes,
    insurance_overrides,
    modifiers,
    money,
    payers,
    places_of_service,
    practices,
    referring_providers,
    resubmissions,
    sessions,
    subscribers,
)

SENTINEL = "ZZSECRETZZ"

STRATEGIES: list[tuple[type[Any], st.SearchStrategy[Any]]] = [
    (Client, clients()),
    (Subscriber, subscribers()),
    (Payer, payers()),
    (Coverage, coverages()),
    (BillingCode, billing_code_setups()),
    (DiagnosisCode, diagnosis_codes().map(DiagnosisCode.of)),
    (Modifier, modifiers().map(Modifier)),
    (PlaceOfService, places_of_service().map(PlaceOfService)),
    (ReferringProvider, referring_providers()),
    (Resubmission, resubmissions()),
    (Authorization, authorizations()),
    (PracticeSetup, practices()),
    (InsuranceOverrides, insurance_overrides()),
    (AddOnLine, add_on_lines()),
    (Address, addresses()),
    (ClientSession, sessions()),
    (Money, money()),
]
PARAMS = [pytest.param(t, s, id=t.__name__) for t, s in STRATEGIES]


@pytest.mark.parametrize(("type_", "strategy"), PARAMS)
@given(data=st.data())
def test_json_round_trip(type_: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject) -> None:
    """loads(dumps(x)) == x for every domain type, and the text is deterministic."""
    obj = data.draw(strategy)
    text = dumps(obj)
    back = loads(text, type_)
    assert back == obj
    assert type(back) is type_
    assert dumps(back) == text
    assert loads(text.encode("utf-8"), type_) == obj


@pytest.mark.parametrize(("type_", "strategy"), PARAMS)
@given(data=st.data())
def test_dict_round_trip(type_: type[Any], strategy: st.SearchStrategy[Any], data: st.DataObject) -> None:
    """from_dict(to_dict(x)) == x, and to_dict gives plain JSON data carrying the schema version."""
    obj = data.draw(strategy)
    doc = to_dict(obj)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert from_dict(doc, type_) == obj
    assert json.loads(json.dumps(doc)) == doc


def _doc(**changes: Any) -> dict[str, Any]:
    session = ClientSession(
        id="s1",
        client_id="c1",
        date_of_service=date(2026, 3, 2),
        billing_code="90834",
        minutes=45,
        charge="140.00",
        diagnoses=["F41.1", "F32.A"],
        modifiers=["95", "HN"],
        add_ons=[AddOnLine(code="90785", charge="20"), AddOnLine(code="90863", charge="30")],
        referring_provider=ReferringProvider(first_name="Ann", last_name="Lee", npi="1234567893"),
    )
    doc = to_dict(session)
    doc.update(changes)
    return doc


def _problems(doc: Any, type_: type[Any] = ClientSession) -> list[DocumentProblem]:
    with pytest.raises(DocumentError) as info:
        from_dict(doc, type_)
    return list(info.value.problems)


def test_session_document_shape() -> None:
    """A session is stored with ISO dates, money as text, codes as text and enums as values;
    values equal to their field's default are left out."""
    doc = _doc(bill_to="client")
    assert doc["date_of_service"] == "2026-03-02"
    assert doc["charge"] == "140.00"
    assert doc["diagnoses"] == ["F41.1", "F32.A"]
    assert doc["modifiers"] == ["95", "HN"]
    assert doc["bill_to"] == "client"
    assert doc["add_ons"][1] == {"code": "90863", "charge": "30.00"}
    assert doc["referring_provider"] == {"first_name": "Ann", "last_name": "Lee", "npi": "1234567893"}
    for default in ("paid_at_session", "units", "place_of_service", "status", "resubmission", "version"):
        assert default not in doc
    assert next(iter(doc)) == "schema_version"
    session = to_dict(
        ClientSession(
            id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="1"
        )
    )
    assert session == {
        "schema_version": 1,
        "id": "s1",
        "client_id": "c1",
        "date_of_service": "2026-03-02",
        "billing_code": "90834",
        "charge": "1.00",
    }


FIXTURES = Path(__file__).parent.parent / "fixtures" / "documents"
FIXTURE_TYPES = {
    "session": ClientSession,
    "client": Client,
    "payer": Payer,
    "coverage": Coverage,
    "authorization": Authorization,
    "billing": BillingCode,
    "practice": PracticeSetup,
}


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_documents_of_the_full_form_still_load(path: Path) -> None:
    """Documents written before defaults were left out (every field written) load, and equal the
    object that wrote them: written again they come back no larger and load equal."""
    text = path.read_text()
    type_ = FIXTURE_TYPES[path.stem.split("_")[0]]
    obj = loads(text, type_)
    assert type(obj) is type_
    full = json.loads(text)
    assert {"schema_version": 1, **full} == full
    again = dumps(obj)
    assert loads(again, type_) == obj
    assert len(again) <= len(json.dumps(full, separators=(",", ":")))
    # What is written now is the fixture less its default values.
    assert _within(to_dict(obj), full)


def _within(small: Any, full: Any) -> bool:
    """True when ``small`` is ``full`` with some keys of its objects left out, at any depth."""
    if isinstance(small, dict):
        return isinstance(full, dict) and all(k in full and _within(v, full[k]) for k, v in small.items())
    if isinstance(small, list):
        return isinstance(full, list) and len(small) == len(full) and all(map(_within, small, full))
    return bool(small == full)


def test_full_form_fixture_values() -> None:
    """A few values of the stored full-form documents, read back as they were written."""
    full = loads((FIXTURES / "session_full.json").read_text(), ClientSession)
    assert (full.id, full.version, full.bill_to.value, full.status.value) == (
        "s-full",
        3,
        "client",
        "eob_posted",
    )
    assert [d.code for d in full.diagnoses] == ["F41.1", "F32.A"]
    assert full.overrides is not None
    assert full.overrides.facility_address is not None
    assert full.add_ons[0].units == Decimal("1.5")
    minimal = loads((FIXTURES / "session_minimal.json").read_text(), ClientSession)
    assert minimal == ClientSession(
        id="s-min", client_id="c2", date_of_service=date(2026, 1, 5), billing_code="90834", charge="140"
    )
    assert len(dumps(minimal)) * 3 < len((FIXTURES / "session_minimal.json").read_text())


@given(sessions())
def test_a_document_with_every_default_written_reads_the_same(session: ClientSession) -> None:
    """A session document with its left-out defaults written back in (the earlier full form) reads equal."""
    doc = to_dict(session)
    converter = make_converter()
    for a in attrs.fields(ClientSession):
        if a.name not in doc:
            assert a.default is not attrs.NOTHING
            doc[a.name] = converter.unstructure(a.default, a.type)
    assert from_dict(doc, ClientSession) == session


def test_frozenset_is_a_sorted_list() -> None:
    """An authorization's codes are stored as a sorted list whatever the set order."""
    auth = Authorization(
        id="a1",
        client_id="c1",
        payer_id="p1",
        number="A1",
        billing_codes={"90837", "90791", "90834"},
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        sessions_authorized=12,
    )
    assert to_dict(auth)["billing_codes"] == ["90791", "90834", "90837"]


def test_extra_key_refused() -> None:
    """An unknown key, at the top or nested, is reported at its path."""
    doc = _doc(colour="blue")
    doc["add_ons"][0]["note"] = "x"
    problems = _problems(doc)
    assert {(p.path, p.code) for p in problems} == {
        ("$.colour", "document.extra_key"),
        ("$.add_ons[0].note", "document.extra_key"),
    }


def test_missing_key_reported() -> None:
    """A missing required key is reported as document.missing_field at its path."""
    doc = _doc()
    del doc["charge"]
    del doc["referring_provider"]["first_name"]  # has a default: not required
    del doc["add_ons"][1]["code"]
    problems = _problems(doc)
    assert [(p.path, p.code) for p in problems] == [
        ("$.charge", "document.missing_field"),
        ("$.add_ons[1].code", "document.missing_field"),
    ]


def test_bad_nested_fields_reported_by_path() -> None:
    """Every bad field is reported once, by path and code, with nothing else."""
    doc = _doc(charge="14O.00", billing_code="9O834", date_of_service="2026-02-30", bill_to="insurer")
    doc["add_ons"][1]["code"] = "9O863"
    doc["diagnoses"][1] = "F"
    doc["modifiers"][1] = "H"
    doc["referring_provider"]["npi"] = "1234567890"
    problems = {p.path: p.code for p in _problems(doc)}
    assert problems == {
        "$.charge": "money.format",
        "$.billing_code": "hcpcs.format",
        "$.date_of_service": "document.date",
        "$.bill_to": "document.enum",
        "$.add_ons[1].code": "hcpcs.format",
        "$.diagnoses[1]": "icd10.length",
        "$.modifiers[1]": "modifier.length",
        "$.referring_provider.npi": "npi.checksum",
    }


def test_override_npi_reported_at_its_key() -> None:
    """A bad NPI in the overrides is reported at its own key, not a generic 'npi'."""
    doc = _doc(overrides=to_dict(InsuranceOverrides()) | {"facility_npi": "1234567890"})
    del doc["overrides"]["schema_version"]
    assert [(p.path, p.code) for p in _problems(doc)] == [("$.overrides.facility_npi", "npi.checksum")]


def test_legacy_additional_dates() -> None:
    """A document of an earlier release reads when its additional dates are empty; else it must be split."""
    assert from_dict(_doc(additional_dates=[]), ClientSession) == from_dict(_doc(), ClientSession)
    assert [(p.path, p.code) for p in _problems(_doc(additional_dates=["2026-03-09"]))] == [
        ("$.additional_dates", "document.additional_dates")
    ]
    first, second = split_legacy_session(_doc(additional_dates=["2026-03-09"]), lambda i, d: f"{i}-{d}")
    assert from_dict(first, ClientSession).date_of_service == date(2026, 3, 2)
    split = from_dict(second, ClientSession)
    assert (split.id, split.date_of_service, split.appointment_key) == (
        f"{first['id']}-2026-03-09",
        date(2026, 3, 9),
        None,
    )


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("minutes", "45", "document.type"),
        ("minutes", True, "document.type"),
        ("charge", 140.0, "money.float"),
        ("billing_code", 90834, "document.type"),
        ("diagnoses", "F41.1", "document.type"),
        ("add_ons", {"code": "90785"}, "document.type"),
        ("referring_provider", ["Ann"], "document.type"),
        ("date_of_service", 20260302, "document.type"),
        ("date_of_service", "2026-3-2", "document.date"),
        ("units", 1.5, "document.type"),
        ("units", "one", "document.decimal"),
        ("status", ["open"], "document.enum"),
        ("version", 1.0, "document.type"),
    ],
)
def test_wrong_types_refused(key: str, value: Any, code: str) -> None:
    """Values of the wrong JSON type are refused, not coerced."""
    assert [(p.path, p.code) for p in _problems(_doc(**{key: value}))] == [(f"$.{key}", code)]


SECRET_PLACES: list[tuple[str, Any]] = [
    ("charge", SENTINEL),
    ("billing_code", SENTINEL),
    ("diagnoses", [SENTINEL]),
    ("modifiers", [SENTINEL]),
    ("place_of_service", SENTINEL),
    ("date_of_service", SENTINEL),
    ("bill_to", SENTINEL),
    ("status", SENTINEL),
    ("units", SENTINEL),
    ("minutes", SENTINEL),
    ("resubmission", {"frequency": SENTINEL, "original_reference": SENTINEL + " !"}),
    ("referring_provider", {"first_name": SENTINEL * 5, "npi": SENTINEL, "qualifier": SENTINEL}),
    ("add_ons", [{"code": SENTINEL, "charge": SENTINEL, "units": SENTINEL, "modifiers": [SENTINEL]}]),
    ("line_note", SENTINEL * 10),
    ("client_id", SENTINEL * 10),
]


@pytest.mark.parametrize(("key", "value"), SECRET_PLACES)
def test_problem_messages_never_contain_the_value(key: str, value: Any) -> None:
    """Neither the error, its problems nor their messages quote a bad value."""
    with pytest.raises(DocumentError) as info:
        from_dict(_doc(comments=SENTINEL, **{key: value}), ClientSession)
    error = info.value
    assert error.problems
    for text in (str(error), repr(error), *map(str, error.args), *map(repr, error.problems)):
        assert SENTINEL not in text
    assert all(p.path.startswith(f"$.{key}") for p in error.problems)


@given(st.text(min_size=1))
def test_any_bad_text_stays_out_of_messages(junk: str) -> None:
    """Whatever text is put in a coded field, the error text never contains it."""
    secret = SENTINEL + junk
    with pytest.raises(DocumentError) as info:
        from_dict(_doc(bill_to=secret, billing_code=secret, modifiers=[secret]), ClientSession)
    assert secret not in str(info.value)
    assert {p.path for p in info.value.problems} == {"$.bill_to", "$.billing_code", "$.modifiers[0]"}


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 99])
def test_newer_schema_version_refused(version: int) -> None:
    """A document from a newer sessionkit is refused with a clear message."""
    with pytest.raises(DocumentError, match="newer sessionkit") as info:
        from_dict(_doc(schema_version=version), ClientSession)
    assert info.value.code == "document.schema_version"
    assert [(p.path, p.code) for p in info.value.problems] == [
        ("$.schema_version", "document.schema_version")
    ]


@pytest.mark.parametrize("version", [0, "1", True, None, 1.0])
def test_bad_schema_version_refused(version: Any) -> None:
    """A schema_version that is not a whole number from 1 is refused."""
    with pytest.raises(DocumentError) as info:
        from_dict(_doc(schema_version=version), ClientSession)
    assert info.value.code == "document.schema_version"


def test_missing_schema_version_refused() -> None:
    """A document without schema_version is refused."""
    doc = _doc()
    del doc["schema_version"]
    with pytest.raises(DocumentError) as info:
        from_dict(doc, ClientSession)
    assert info.value.problems[0].path == "$.schema_version"


@pytest.mark.parametrize("text", ["", "{", '{"schema_version": 1,}', b"\xff\xfe{", "[1, 2"])
def test_invalid_json_refused(text: str | bytes) -> None:
    """Text that is not JSON raises DocumentError with code document.json."""
    with pytest.raises(DocumentError) as info:
        loads(text, ClientSession)
    assert info.value.code == "document.json"
    assert info.value.problems[0].code == "document.json"


@pytest.mark.parametrize("text", ["[]", "1", '"session"', "null"])
def test_document_must_be_an_object(text: str) -> None:
    """A JSON value that is not an object is refused as document.type."""
    with pytest.raises(DocumentError) as info:
        loads(text, ClientSession)
    assert info.value.code == "document.type"


def test_value_object_documents() -> None:
    """A code value object is stored under 'value' and read back strictly."""
    assert to_dict(DiagnosisCode(code="f411")) == {"schema_version": 1, "value": "F41.1"}
    assert loads('{"schema_version": 1, "value": "95"}', Modifier) == Modifier("95")
    problems = _problems({"schema_version": 1, "value": "1", "x": 2}, PlaceOfService)
    assert [(p.path, p.code) for p in problems] == [("$.x", "document.extra_key")]
    problems = _problems({"schema_version": 1}, Money)
    assert [(p.path, p.code) for p in problems] == [("$.value", "document.missing_field")]
    problems = _problems({"schema_version": 1, "value": "-1"}, Money)
    assert [(p.path, p.code) for p in problems] == [("$.value", "money.negative")]


def test_to_dict_refuses_non_domain_objects() -> None:
    """to_dict takes attrs domain objects only."""
    with pytest.raises(TypeError):
        to_dict({"a": 1})


def test_document_error_pickles() -> None:
    """A DocumentError survives pickling with its code, message and problems."""
    with pytest.raises(DocumentError) as info:
        from_dict(_doc(charge="x", colour="blue"), ClientSession)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is DocumentError
    assert (copy.code, copy.message, copy.problems, str(copy)) == (
        info.value.code,
        info.value.message,
        info.value.problems,
        str(info.value),
    )
    assert len(copy.problems) == 2


def test_make_converter_and_configure_converter() -> None:
    """make_converter gives a fresh strict converter; configure_converter prepares any cattrs Converter."""
    session = from_dict(_doc(), ClientSession)
    first, second = make_converter(), make_converter()
    assert first is not second
    assert first.structure(first.unstructure(session), ClientSession) == session
    plain = cattrs.Converter(detailed_validation=True)
    configure_converter(plain)
    assert plain.unstructure(Money("3")) == "3.00"
    assert plain.structure("F411", DiagnosisCode) == DiagnosisCode(code="F41.1")
    lax = make_converter(forbid_extra_keys=False)
    body = {k: v for k, v in _doc(colour="blue").items() if k != "schema_version"}
    assert lax.structure(body, ClientSession) == session


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id", None, "document.type"),
        ("minutes", "45", "document.type"),
        ("charge", 12.5, "money.float"),
        ("diagnoses", "F41.1", "document.type"),
        ("date_of_service", "20260302", "document.date"),
        ("units", "many", "document.decimal"),
    ],
)
def test_bad_session_documents_reported_field_by_field(field: str, value: object, code: str) -> None:
    """A document with one bad value is reported at that value's key, with its code."""
    doc = to_dict(
        ClientSession(
            id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="1"
        )
    )
    doc[field] = value
    with pytest.raises(DocumentError) as info:
        from_dict(doc, ClientSession)
    assert [(p.path, p.code) for p in info.value.problems] == [(f"$.{field}", code)]
