"""Library input: every public constructor, Money.times and serialization.loads refuse junk with a SessionkitError.

The issue fuzzed 8,007 library calls and 452 raised something else (TypeError,
RecursionError, decimal.InvalidOperation...). Here each constructor gets a
valid object's fields with any of them replaced by arbitrary values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionkit as sk
from sessionkit import serialization, testing
from sessionkit.appointments import Appointment, InvalidAppointment
from sessionkit.domain import InsuranceOverrides
from sessionkit.errors import DocumentError, FloatMoneyError, InvalidType, InvalidValue, SessionkitError

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4300, max_value=10**4301),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.decimals(),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1E+999999")]),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=5), max_size=6),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.frozensets(st.integers(), max_size=2),
    st.builds(object),
)

_T0 = datetime(2026, 3, 10, 14, tzinfo=timezone.utc)


def _appointments() -> st.SearchStrategy[Appointment]:
    return st.just(Appointment(uid="u", key="u", start=_T0, end=_T0, title="t", attendees=["a@b.org"]))


def _invalid_appointments() -> st.SearchStrategy[InvalidAppointment]:
    return st.just(InvalidAppointment(uid="u", key="u", reason="r", line=3))


def _codes(cls: type[Any], strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return strategy.map(lambda code: cls(code=code) if cls is sk.DiagnosisCode else cls(code))


VALID: dict[type[Any], Callable[[], st.SearchStrategy[Any]]] = {
    sk.ClientSession: testing.sessions,
    sk.Client: testing.clients,
    sk.Payer: testing.payers,
    sk.Coverage: testing.coverages,
    sk.Authorization: testing.authorizations,
    sk.BillingCode: testing.billing_code_setups,
    sk.DiagnosisCode: lambda: _codes(sk.DiagnosisCode, testing.diagnosis_codes()),
    sk.Modifier: lambda: _codes(sk.Modifier, testing.modifiers()),
    sk.PlaceOfService: lambda: _codes(sk.PlaceOfService, testing.places_of_service()),
    sk.ReferringProvider: testing.referring_providers,
    sk.Resubmission: testing.resubmissions,
    sk.AddOnLine: testing.add_on_lines,
    sk.PracticeSetup: testing.practices,
    sk.Address: testing.addresses,
    InsuranceOverrides: testing.insurance_overrides,
    sk.Subscriber: testing.subscribers,
    Appointment: _appointments,
    InvalidAppointment: _invalid_appointments,
}


def attempt(call: Callable[[], Any]) -> Any:
    """What ``call`` returns, or the SessionkitError it raises (anything else fails the test)."""
    try:
        return call()
    except SessionkitError as exc:
        return exc


def _init_fields(cls: type[Any]) -> list[str]:
    return [f.name for f in attrs.fields(cls) if f.init]


@pytest.mark.parametrize("cls", list(VALID), ids=lambda c: c.__name__)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_constructors_raise_only_sessionkit_errors(cls: type[Any], data: st.DataObject) -> None:
    """A valid object's fields with some replaced by arbitrary values: built, or a SessionkitError naming a field."""
    valid = data.draw(VALID[cls](), label="valid")
    names = _init_fields(cls)
    kwargs = {name: getattr(valid, name) for name in names}
    replaced = data.draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="replaced"
    )
    for name in replaced:
        kwargs[name] = data.draw(JUNK, label=name)
    built = attempt(lambda: cls(**kwargs))
    if isinstance(built, SessionkitError):
        assert built.code
        assert isinstance(built, (ValueError, TypeError, LookupError))
    else:
        assert isinstance(built, cls)


@pytest.mark.parametrize("field", ["diagnoses", "modifiers", "add_ons"])
@pytest.mark.parametrize("value", [5, 5.0, None, object(), b"F41.1", "F41.1"])
def test_a_session_with_a_number_for_a_sequence_names_the_field(field: str, value: object) -> None:
    """ClientSession(diagnoses=5) and the like (a bare TypeError in the issue): InvalidType naming the field."""
    with pytest.raises(InvalidType) as caught:
        sk.ClientSession(
            client_id="c1",
            date_of_service=date(2026, 3, 2),
            billing_code="90834",
            charge="1",
            **{field: value},
        )
    assert caught.value.field == field
    assert caught.value.code == "value.type"


def _short_id(value: object) -> str:
    return "huge-int" if isinstance(value, int) and abs(value) > 10**20 else repr(value)[:20]


@pytest.mark.parametrize(
    ("factor", "error", "code"),
    [
        (None, InvalidType, "money.factor_type"),
        ([], InvalidType, "money.factor_type"),
        (True, InvalidType, "money.factor_type"),
        ("", InvalidValue, "money.factor_format"),
        ("abc", InvalidValue, "money.factor_format"),
        (Decimal("NaN"), InvalidValue, "money.factor_range"),
        (Decimal("sNaN"), InvalidValue, "money.factor_range"),
        (Decimal("Infinity"), InvalidValue, "money.factor_range"),
        (Decimal("1E+999999"), InvalidValue, "money.factor_range"),
        ("-1", InvalidValue, "money.factor_range"),
        (10**5000, InvalidValue, "money.factor_range"),
        (1.5, FloatMoneyError, "money.float"),
        (10_000, InvalidValue, "money.too_large"),
    ],
    ids=_short_id,
)
def test_money_times_refuses_bad_factors(factor: object, error: type[SessionkitError], code: str) -> None:
    """Money.times with a bad, huge, NaN or infinite factor (InvalidOperation, Overflow, TypeError in the issue)."""
    with pytest.raises(error) as caught:
        sk.Money("99999.99").times(factor)  # type: ignore[arg-type]
    assert caught.value.code == code


@given(JUNK)
def test_money_times_raises_only_sessionkit_errors(factor: object) -> None:
    """Money.times of anything: Money, or a SessionkitError."""
    result = attempt(lambda: sk.Money("12.34").times(factor))  # type: ignore[arg-type]
    if isinstance(result, SessionkitError):
        assert result.code.startswith("money.")
    else:
        assert isinstance(result, sk.Money)


def test_money_times_keeps_rounding_half_up() -> None:
    """Unchanged for good factors: 10.00 x 1.005 = 10.05 (half up), 140 x 0.2 = 28.00, zero is zero."""
    assert sk.Money("10").times("1.005") == sk.Money("10.05")
    assert sk.Money("140").times(Decimal("0.20")) == sk.Money("28.00")
    assert sk.Money("140").times(0) == sk.Money(0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, "document.too_deep"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "document.too_deep"),
        ("1" * 4301, "document.json"),
        ('{"id": ' + "9" * 4301 + "}", "document.json"),
        (b"\xff\xfe\x00", "document.json"),
    ],
    ids=["deep-list", "deep-object", "long-number", "long-field", "bad-bytes"],
)
def test_loads_refuses_deep_or_huge_documents(text: str | bytes, code: str) -> None:
    """loads of deeply nested JSON (RecursionError) or a 4,301-digit number (ValueError): DocumentError."""
    with pytest.raises(DocumentError) as caught:
        serialization.loads(text, sk.ClientSession)
    assert caught.value.code == code


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
LOADABLE = [sk.ClientSession, sk.Client, sk.Payer, sk.Coverage, sk.Authorization, sk.PracticeSetup]


@pytest.mark.parametrize("cls", LOADABLE, ids=lambda c: c.__name__)
@settings(max_examples=30)
@given(
    text=st.one_of(
        st.text(max_size=40),
        JSON.map(json.dumps),
        st.dictionaries(
            st.sampled_from(["id", "client_id", "schema_version", "charge", "diagnoses"]), JSON
        ).map(json.dumps),
    )
)
def test_loads_raises_only_sessionkit_errors(cls: type[Any], text: str) -> None:
    """serialization.loads of arbitrary text or JSON: an object, or a DocumentError (a SessionkitError)."""
    loaded = attempt(lambda: serialization.loads(text, cls))
    if isinstance(loaded, SessionkitError):
        assert loaded.code.startswith("document.")
    else:
        assert isinstance(loaded, cls)
