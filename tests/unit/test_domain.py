"""Invariants of the domain objects: valid by construction, errors that name fields and never values."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
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
    InvalidValue,
    Modifier,
    Money,
    Payer,
    PlaceOfService,
    PracticeSetup,
    ReferringProvider,
    Relationship,
    Resubmission,
    SessionkitError,
    SessionStatus,
    Subscriber,
)
from sessionkit.domain import InsuranceOverrides
from sessionkit.errors import (
    FloatMoneyError,
    InvalidBillingCode,
    InvalidDiagnosisCode,
    InvalidEIN,
    InvalidModifier,
    InvalidNPI,
    InvalidPlaceOfService,
)
from sessionkit.money import MAX_AMOUNT
from sessionkit.testing import (
    add_on_lines,
    authorizations,
    coverages,
    diagnosis_codes,
    money,
    sessions,
)

SENTINEL = "ZZSECRET"
ONE: Any = 1  # typed Any: these tests pass wrong types on purpose
FLOAT: Any = 1.5
D = date(2026, 3, 2)


def _session(**kw: Any) -> ClientSession:
    base: dict[str, Any] = {"client_id": "c1", "date_of_service": D, "billing_code": "90834", "charge": "140"}
    return ClientSession(**{**base, **kw})


def _coverage(**kw: Any) -> Coverage:
    base: dict[str, Any] = {
        "id": "v1",
        "client_id": "c1",
        "payer_id": "p1",
        "member_id": "M1",
        "effective": D,
    }
    return Coverage(**{**base, **kw})


def _auth(**kw: Any) -> Authorization:
    base: dict[str, Any] = {
        "id": "a1",
        "client_id": "c1",
        "payer_id": "p1",
        "number": "A1",
        "start": D,
        "end": date(2026, 6, 30),
        "sessions_authorized": 10,
    }
    return Authorization(**{**base, **kw})


def _practice(**kw: Any) -> PracticeSetup:
    base: dict[str, Any] = {
        "name": "P",
        "npi": "1234567893",
        "tax_id": "12-3456789",
        "time_zone": "America/Chicago",
    }
    return PracticeSetup(**{**base, **kw})


def _address(**kw: Any) -> Address:
    base: dict[str, Any] = {
        "line1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    }
    return Address(**{**base, **kw})


def _client(**kw: Any) -> Client:
    return Client(**{"id": "c1", "first_name": "Ada", "last_name": "Byron", **kw})


# (id, build, error class, field, code)
INVALID: list[tuple[str, Callable[[], object], type[Exception], str | None, str]] = [
    ("money-float", lambda: Money(1.5), FloatMoneyError, "amount", "money.float"),
    ("money-bool", lambda: Money(True), InvalidValue, "amount", "money.type"),
    ("money-negative", lambda: Money("-0.01"), InvalidValue, "amount", "money.negative"),
    ("money-too-large", lambda: Money("100000000.00"), InvalidValue, "amount", "money.too_large"),
    ("money-precision", lambda: Money("1.005"), InvalidValue, "amount", "money.precision"),
    ("money-format", lambda: Money("abc"), InvalidValue, "amount", "money.format"),
    ("money-nan", lambda: Money("NaN"), InvalidValue, "amount", "money.format"),
    ("diagnosis", lambda: DiagnosisCode(code="F4"), InvalidDiagnosisCode, "code", "icd10.length"),
    ("diagnosis-dot", lambda: DiagnosisCode(code="F4.11"), InvalidDiagnosisCode, "code", "icd10.dot"),
    ("modifier", lambda: Modifier("9"), InvalidModifier, "code", "modifier.length"),
    ("pos", lambda: PlaceOfService("00"), InvalidPlaceOfService, "code", "pos.unassigned"),
    ("address-state", lambda: _address(state="Illinois"), InvalidValue, "state", "address.state"),
    ("address-zip", lambda: _address(postal_code="1234"), InvalidValue, "postal_code", "address.postal_code"),
    ("address-line1", lambda: _address(line1=" "), InvalidValue, "line1", "value.required"),
    ("client-id", lambda: _client(id="c 1"), InvalidValue, "id", "id.format"),
    ("client-name", lambda: _client(first_name=""), InvalidValue, "first_name", "value.required"),
    ("client-name-long", lambda: _client(last_name="x" * 61), InvalidValue, "last_name", "value.too_long"),
    (
        "client-dob-type",
        lambda: _client(date_of_birth="2000-01-01"),
        InvalidValue,
        "date_of_birth",
        "value.type",
    ),
    (
        "client-dob-datetime",
        lambda: _client(date_of_birth=datetime(2000, 1, 1, tzinfo=timezone.utc)),
        InvalidValue,
        "date_of_birth",
        "value.datetime_not_date",
    ),
    ("client-sex", lambda: _client(sex="X"), InvalidValue, "sex", "person.sex"),
    ("client-address", lambda: _client(address="1 Main St"), InvalidValue, "address", "value.type"),
    (
        "payer-id",
        lambda: Payer(id="p1", name="Aetna", payer_id="!"),
        InvalidValue,
        "payer_id",
        "payer.id_format",
    ),
    ("payer-bool", lambda: Payer(id="p1", name="A", requires_authorization=ONE), TypeError, None, ""),
    (
        "coverage-dates",
        lambda: _coverage(termination=date(2020, 1, 1)),
        InvalidValue,
        "termination",
        "coverage.dates",
    ),
    (
        "coverage-effective",
        lambda: _coverage(effective="2026-01-01"),
        InvalidValue,
        "effective",
        "value.type",
    ),
    (
        "coverage-coinsurance",
        lambda: _coverage(coinsurance="1.5"),
        InvalidValue,
        "coinsurance",
        "coverage.coinsurance_range",
    ),
    (
        "coverage-subscriber-self",
        lambda: _coverage(subscriber=Subscriber(first_name="A", last_name="B")),
        InvalidValue,
        "subscriber",
        "coverage.subscriber_self",
    ),
    ("coverage-member", lambda: _coverage(member_id="M 1"), InvalidValue, "member_id", "coverage.member_id"),
    ("coverage-copay", lambda: _coverage(copay="-1"), InvalidValue, "copay", "money.negative"),
    ("coverage-copay-float", lambda: _coverage(copay=20.0), FloatMoneyError, "copay", "money.float"),
    ("auth-dates", lambda: _auth(end=date(2026, 1, 1)), InvalidValue, "end", "authorization.dates"),
    (
        "auth-count",
        lambda: _auth(sessions_authorized=0),
        InvalidValue,
        "sessions_authorized",
        "value.out_of_range",
    ),
    ("auth-codes-str", lambda: _auth(billing_codes="90834"), InvalidValue, "billing_codes", "value.type"),
    (
        "auth-codes-bad",
        lambda: _auth(billing_codes=["9083"]),
        InvalidBillingCode,
        "billing_codes",
        "hcpcs.length",
    ),
    ("auth-number", lambda: _auth(number="A-1"), InvalidValue, "number", "authorization.number_format"),
    (
        "practice-tz",
        lambda: _practice(time_zone="Mars/Base"),
        InvalidValue,
        "time_zone",
        "practice.time_zone",
    ),
    ("practice-npi", lambda: _practice(npi="1234567890"), InvalidNPI, "npi", "npi.checksum"),
    ("practice-ein", lambda: _practice(tax_id="12-345"), InvalidEIN, "tax_id", "ein.length"),
    ("practice-taxonomy", lambda: _practice(taxonomy="101Y"), InvalidValue, "taxonomy", "practice.taxonomy"),
    (
        "practice-pos",
        lambda: _practice(default_place_of_service="00"),
        InvalidPlaceOfService,
        "place_of_service.code",
        "pos.unassigned",
    ),
    ("referring-npi", lambda: ReferringProvider(npi="1234567890"), InvalidNPI, "npi", "npi.checksum"),
    (
        "referring-qualifier",
        lambda: ReferringProvider(qualifier="XX"),
        InvalidValue,
        "qualifier",
        "provider.qualifier",
    ),
    (
        "referring-name",
        lambda: ReferringProvider(first_name="x" * 36),
        InvalidValue,
        "first_name",
        "value.too_long",
    ),
    (
        "resubmission-frequency",
        lambda: Resubmission(frequency="2"),
        InvalidValue,
        "frequency",
        "resubmission.frequency",
    ),
    (
        "resubmission-reference",
        lambda: Resubmission(original_reference="A 1"),
        InvalidValue,
        "original_reference",
        "resubmission.reference_format",
    ),
    (
        "addon-units-zero",
        lambda: AddOnLine(code="90785", charge="1", units=0),
        InvalidValue,
        "units",
        "units.out_of_range",
    ),
    (
        "addon-units-float",
        lambda: AddOnLine(code="90785", charge="1", units=FLOAT),
        InvalidValue,
        "units",
        "units.type",
    ),
    (
        "addon-units-precision",
        lambda: AddOnLine(code="90785", charge="1", units="1.0005"),
        InvalidValue,
        "units",
        "units.precision",
    ),
    ("addon-code", lambda: AddOnLine(code="9078", charge="1"), InvalidBillingCode, "code", "hcpcs.length"),
    ("addon-charge", lambda: AddOnLine(code="90785", charge=FLOAT), FloatMoneyError, "charge", "money.float"),
    (
        "addon-modifiers",
        lambda: AddOnLine(code="90785", charge="1", modifiers=["95", "GT", "HN", "HO", "U4"]),
        InvalidValue,
        "modifiers",
        "value.too_many",
    ),
    (
        "addon-modifier",
        lambda: AddOnLine(code="90785", charge="1", modifiers=["95", "9"]),
        InvalidModifier,
        "modifiers[1].code",
        "modifier.length",
    ),
    (
        "billing-code-minutes",
        lambda: BillingCode(code="90834", default_charge="1", default_minutes=2000),
        InvalidValue,
        "default_minutes",
        "value.out_of_range",
    ),
    (
        "billing-code-charge",
        lambda: BillingCode(code="90834", default_charge="x"),
        InvalidValue,
        "default_charge",
        "money.format",
    ),
    (
        "session-diagnoses-many",
        lambda: _session(diagnoses=["F41.1"] * 5),
        InvalidValue,
        "diagnoses",
        "value.too_many",
    ),
    (
        "session-diagnosis-objects-many",
        lambda: _session(diagnoses=(DiagnosisCode.of("F41.1"),) * 5),
        InvalidValue,
        "diagnoses",
        "value.too_many",
    ),
    (
        "session-diagnosis",
        lambda: _session(diagnoses=["F41.1", "Q"]),
        InvalidDiagnosisCode,
        "diagnoses[1].code",
        "icd10.length",
    ),
    ("session-diagnoses-str", lambda: _session(diagnoses="F41.1"), InvalidValue, "diagnoses", "value.type"),
    (
        "session-modifier",
        lambda: _session(modifiers=["95", "G"]),
        InvalidModifier,
        "modifiers[1].code",
        "modifier.length",
    ),
    (
        "session-pos",
        lambda: _session(place_of_service="00"),
        InvalidPlaceOfService,
        "place_of_service.code",
        "pos.unassigned",
    ),
    ("session-line-note", lambda: _session(line_note="x" * 81), InvalidValue, "line_note", "value.too_long"),
    (
        "session-dos-datetime",
        lambda: _session(date_of_service=datetime(2026, 3, 2, tzinfo=timezone.utc)),
        InvalidValue,
        "date_of_service",
        "value.datetime_not_date",
    ),
    ("session-minutes", lambda: _session(minutes=-1), InvalidValue, "minutes", "value.out_of_range"),
    ("session-minutes-bool", lambda: _session(minutes=True), InvalidValue, "minutes", "value.type"),
    ("session-version", lambda: _session(version=-1), InvalidValue, "version", "value.out_of_range"),
    ("session-bill-to", lambda: _session(bill_to="x"), InvalidValue, "bill_to", "session.bill_to"),
    ("session-status", lambda: _session(status="x"), InvalidValue, "status", "session.status"),
    ("session-add-on-type", lambda: _session(add_ons=["90785"]), InvalidValue, "add_ons[0]", "value.type"),
    ("session-charge-float", lambda: _session(charge=140.0), FloatMoneyError, "charge", "money.float"),
    (
        "session-paid",
        lambda: _session(paid_at_session="-5"),
        InvalidValue,
        "paid_at_session",
        "money.negative",
    ),
    ("session-client", lambda: _session(client_id=""), InvalidValue, "client_id", "value.required"),
    ("session-key", lambda: _session(appointment_key=" "), InvalidValue, "appointment_key", "value.required"),
    (
        "session-billing-code",
        lambda: _session(billing_code="9083"),
        InvalidBillingCode,
        "billing_code",
        "hcpcs.length",
    ),
    (
        "overrides-npi",
        lambda: InsuranceOverrides(facility_npi="1234567890"),
        InvalidNPI,
        "facility_npi",
        "npi.checksum",
    ),
    ("coverage-rank", lambda: _coverage(rank="Z"), InvalidValue, "rank", "coverage.rank"),
]

_DOMAIN_BUG: dict[str, str] = {}


def _cases() -> list[Any]:
    out = []
    for case in INVALID:
        marks = (
            [pytest.mark.xfail(strict=True, reason=_DOMAIN_BUG[case[0]])] if case[0] in _DOMAIN_BUG else []
        )
        out.append(pytest.param(*case[1:], id=case[0], marks=marks))
    return out


@pytest.mark.parametrize(("build", "error", "field", "code"), _cases())
def test_invalid_construction_names_field_and_code(
    build: Callable[[], object], error: type[Exception], field: str | None, code: str
) -> None:
    """An invalid object cannot be built: the error has the right class, field path and code."""
    with pytest.raises(error) as info:
        build()
    if issubclass(error, SessionkitError):
        assert info.value.field == field  # type: ignore[attr-defined]
        assert info.value.code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("build", "error", "field", "code"),
    [c for c in _cases() if c.id not in _DOMAIN_BUG and issubclass(c.values[1], SessionkitError)],
)
def test_errors_pickle_keeping_code_and_field(
    build: Callable[[], object], error: type[SessionkitError], field: str | None, code: str
) -> None:
    """Every domain error survives pickling with its class, code, field and message."""
    with pytest.raises(error) as info:
        build()
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is type(info.value)
    assert (copy.code, copy.field, copy.message, str(copy)) == (
        code,
        field,
        info.value.message,
        str(info.value),
    )


def _leak_free(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert SENTINEL not in text


SENTINEL_BUILDS: list[tuple[str, Callable[[str], object]]] = [
    ("client-dob", lambda s: _client(first_name=s, last_name=s, client_file_note=s, date_of_birth=s)),
    ("client-id", lambda s: _client(id=s + " x", first_name=s)),
    ("client-sex", lambda s: _client(first_name=s, sex=s)),
    ("session-modifier", lambda s: _session(comments=s, line_note=s[:80], modifiers=[s])),
    ("session-diagnosis", lambda s: _session(comments=s, diagnoses=[s])),
    ("session-code", lambda s: _session(comments=s, billing_code=s)),
    ("session-pos", lambda s: _session(comments=s, place_of_service=s)),
    ("session-charge", lambda s: _session(comments=s, charge=s)),
    ("session-units", lambda s: _session(comments=s, units=s)),
    ("session-key", lambda s: _session(comments=s, appointment_key=s, minutes=s)),
    ("session-bill-to", lambda s: _session(comments=s, bill_to=s)),
    ("coverage-member", lambda s: _coverage(member_id=s + " !", group_number=s)),
    ("coverage-coinsurance", lambda s: _coverage(group_number=s, coinsurance=s)),
    ("auth-number", lambda s: _auth(number=s + "-")),
    ("auth-codes", lambda s: _auth(billing_codes=[s])),
    ("referring", lambda s: ReferringProvider(first_name=s[:35], npi=s)),
    ("resubmission", lambda s: Resubmission(original_reference=s + " !")),
    ("address", lambda s: _address(line1=s, state=s)),
    ("payer", lambda s: Payer(id="p1", name=s, payer_id=s + "!")),
    ("practice", lambda s: _practice(name=s, time_zone=s)),
    ("overrides", lambda s: InsuranceOverrides(billing_provider_name=s, tax_id=s)),
    ("addon", lambda s: AddOnLine(code=s, charge="1")),
]


@pytest.mark.parametrize("build", [pytest.param(b, id=i) for i, b in SENTINEL_BUILDS])
@given(suffix=st.text(min_size=0, max_size=20))
def test_errors_never_contain_client_data(build: Callable[[str], object], suffix: str) -> None:
    """An object holding client data that fails validation raises an error without that data in it."""
    value = SENTINEL + suffix
    with pytest.raises(SessionkitError) as info:
        build(value)
    _leak_free(info.value)
    assert info.value.code


def test_coverage_rank_error_hides_the_value() -> None:
    """A bad coverage rank raises a sessionkit error that does not quote the value."""
    with pytest.raises(SessionkitError) as info:
        _coverage(rank=SENTINEL)
    _leak_free(info.value)


# -- Money -----------------------------------------------------------------------------------


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_money_never_accepts_float(value: float) -> None:
    """Any float, even a whole one, is refused with FloatMoneyError."""
    with pytest.raises(FloatMoneyError):
        Money(value)


@given(money())
def test_money_has_two_places_and_is_in_range(amount: Money) -> None:
    """Every amount has exponent -2 and lies from 0 to 99,999,999.99."""
    assert amount.amount.as_tuple().exponent == -2
    assert Decimal(0) <= amount.amount <= MAX_AMOUNT


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0", "$0.00"),
        (5, "$5.00"),
        ("1234.5", "$1,234.50"),
        ("99999999.99", "$99,999,999.99"),
        (Decimal("0.1"), "$0.10"),
    ],
)
def test_money_str_is_dollars_with_commas(value: Any, text: str) -> None:
    """str(Money) is a dollar amount with thousands separators and 2 places."""
    assert str(Money(value)) == text


def test_money_bounds_are_inclusive() -> None:
    """0 and 99,999,999.99 are accepted; one cent beyond either is refused."""
    assert Money(0).amount == Decimal("0.00")
    assert Money("99999999.99").amount == MAX_AMOUNT
    with pytest.raises(InvalidValue, match="above"):
        Money("100000000.00")
    with pytest.raises(InvalidValue) as info:
        Money("-0.01")
    assert info.value.code == "money.negative"


@given(st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False))
def test_money_refuses_more_than_two_places(value: Decimal) -> None:
    """An amount with a non-zero third decimal place is refused, never rounded."""
    if value == value.quantize(Decimal("0.01")):
        assert Money(value).amount == value
    else:
        with pytest.raises(InvalidValue) as info:
            Money(value)
        assert info.value.code == "money.precision"


@given(money(max_value="1000000.00"), money(max_value="1000000.00"))
def test_money_arithmetic(a: Money, b: Money) -> None:
    """Addition is exact, subtraction floors with minus_floor, and order follows the amount."""
    assert (a + b).amount == a.amount + b.amount
    assert (a + b) - b == a
    assert a.minus_floor(b).amount == max(a.amount - b.amount, Decimal(0))
    assert (a < b) == (a.amount < b.amount)
    assert bool(a) == (a.amount != 0)


@given(money(max_value="10000.00"), st.decimals(min_value=0, max_value=1, places=2))
def test_money_times_rounds_half_up(amount: Money, rate: Decimal) -> None:
    """times() gives the product rounded half up to the cent."""
    expected = (amount.amount * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert amount.times(rate).amount == expected
    with pytest.raises(FloatMoneyError):
        amount.times(0.5)  # type: ignore[arg-type]


def test_money_subtraction_below_zero_raises() -> None:
    """Subtracting a larger amount raises instead of going negative."""
    with pytest.raises(InvalidValue):
        Money("1") - Money("2")


def test_money_negative_zero_is_plain_zero() -> None:
    """Money('-0') is zero and prints as $0.00."""
    assert str(Money("-0")) == "$0.00"


# -- evolve, sessions, coverage, authorization ---------------------------------------------


@given(sessions())
def test_evolve_revalidates(session: ClientSession) -> None:
    """attrs.evolve runs the converters and validators again."""
    assert attrs.evolve(session, billing_code=" 90837 ").billing_code == "90837"
    with pytest.raises(InvalidModifier):
        attrs.evolve(session, modifiers=["9"])
    with pytest.raises(InvalidValue):
        attrs.evolve(session, line_note="x" * 81)


@given(sessions())
def test_session_total_charge_dates_and_lock(session: ClientSession) -> None:
    """total_charge sums the charge and each add-on (a session is one date of service)."""
    expected = session.charge.amount + sum(a.charge.amount for a in session.add_ons)
    assert session.total_charge.amount == expected
    assert session.locked is (session.status is SessionStatus.EOB_POSTED)
    assert session.primary_diagnosis == (session.diagnoses[0] if session.diagnoses else None)


def test_session_lock_follows_status() -> None:
    """A session is locked exactly when its EOB is posted."""
    assert not _session().locked
    assert _session(status="eob_posted").locked


@given(sessions(client_id="c42"))
def test_sessions_strategy_ties_client(session: ClientSession) -> None:
    """sessions(client_id=...) gives every session that client and a date in the supported range."""
    assert session.client_id == "c42"
    assert date(2015, 10, 1) <= session.date_of_service <= date(2030, 12, 31)


@given(
    coverages(client_id="c1", payer_id="p1"),
    st.dates(min_value=date(2015, 1, 1), max_value=date(2031, 12, 31)),
)
def test_coverage_is_active(coverage: Coverage, on: date) -> None:
    """A coverage is active from its effective date through its termination date, if any."""
    expected = coverage.effective <= on and (coverage.termination is None or on <= coverage.termination)
    assert coverage.is_active(on) is expected


@given(coverages(), money(max_value="10000.00"))
def test_coverage_client_share(coverage: Coverage, charge: Money) -> None:
    """The client's share is the copay (capped at the charge), else coinsurance of the charge, else zero."""
    share = coverage.client_share(charge)
    if coverage.copay is not None:
        assert share == min(coverage.copay, charge)
    elif coverage.coinsurance is not None:
        assert share == charge.times(coverage.coinsurance)
    else:
        assert share == Money(0)
    assert share <= charge


def test_coverage_copay_and_coinsurance_examples() -> None:
    """A $20 copay on $140 is $20; 20% coinsurance on $140 is $28; copay wins over coinsurance."""
    assert _coverage(copay="20").client_share(Money("140")) == Money("20")
    assert _coverage(coinsurance="0.20").client_share(Money("140")) == Money("28")
    assert _coverage(copay="20", coinsurance="0.5").client_share(Money("10")) == Money("10")
    assert _coverage(relationship=Relationship.CHILD).relationship is Relationship.CHILD


@given(authorizations(), st.dates(min_value=date(2015, 1, 1), max_value=date(2031, 12, 31)))
def test_authorization_is_active(auth: Authorization, on: date) -> None:
    """An authorization is active from start through end inclusive."""
    assert auth.is_active(on) is (auth.start <= on <= auth.end)
    assert auth.is_active(auth.start)
    assert auth.is_active(auth.end)


@given(authorizations())
def test_authorization_covers(auth: Authorization) -> None:
    """An authorization covers its listed codes, or every code when none are listed."""
    for code in auth.billing_codes:
        assert auth.covers(code)
    assert auth.covers("90834") is (not auth.billing_codes or "90834" in auth.billing_codes)


def test_authorization_codes_are_normalised() -> None:
    """Codes given in any case are stored normalised and matched exactly."""
    auth = _auth(billing_codes=["g0444 ", "90837"])
    assert auth.billing_codes == frozenset({"G0444", "90837"})
    assert auth.covers("G0444")
    assert not auth.covers("90834")


@given(diagnosis_codes())
def test_diagnosis_code_forms(code: str) -> None:
    """A drawn code is already in normal form; lower case and the undotted form normalise to it."""
    diagnosis = DiagnosisCode(code=code.lower().replace(".", ""))
    assert diagnosis.code == code
    assert diagnosis.x12 == code.replace(".", "")
    assert DiagnosisCode.of(diagnosis) is diagnosis


def test_diagnosis_description_not_in_equality() -> None:
    """The practice's description label does not take part in equality."""
    assert DiagnosisCode(code="F41.1", description="GAD") == DiagnosisCode(code="F411")


@given(add_on_lines())
def test_add_on_units_are_positive(line: AddOnLine) -> None:
    """Add-on units are above 0 and at most 9999, with at most 3 places."""
    assert Decimal(0) < line.units <= Decimal(9999)
    assert line.units == line.units.quantize(Decimal("0.001"))


def test_billing_code_add_on_defaults_from_catalogue() -> None:
    """BillingCode.add_on defaults to the catalogue's add-on flag and may be overridden."""
    assert BillingCode(code="90785", default_charge="20").add_on is True
    assert BillingCode(code="90834", default_charge="140").add_on is False
    assert BillingCode(code="90834", default_charge="140", add_on=True).add_on is True


def test_overrides_check_their_types() -> None:
    """InsuranceOverrides refuses a facility address that is not an Address."""
    with pytest.raises(InvalidValue):
        InsuranceOverrides(facility_address="1 Main St")  # type: ignore[arg-type]


def test_new_id_is_a_version_4_uuid_in_hex() -> None:
    """Session ids are 32 hex digits of an RFC 4122 version-4 UUID, and do not repeat."""
    import uuid

    from sessionkit.domain import new_id

    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.hex, parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


@given(sessions(), st.integers(0, 2**62))
def test_with_version_copies_every_field_and_sets_the_version(session: ClientSession, version: int) -> None:
    """with_version gives attrs.evolve(session, version=...) field for field and leaves the session alone."""
    from sessionkit.domain.session import with_version

    before = attrs.asdict(session, recurse=False)
    copy = with_version(session, version)
    assert type(copy) is ClientSession
    assert attrs.asdict(copy, recurse=False) == {**before, "version": version}
    assert copy == attrs.evolve(session, version=version)
    assert attrs.asdict(session, recurse=False) == before


_JUNK = st.one_of(
    st.none(),
    st.integers(-3, 2**63),
    st.text(max_size=90),
    st.lists(st.text(max_size=6), max_size=6),
    st.floats(),
)


def _as_text(value: Any) -> Any:
    """A field's value as text where it has one (amounts, places of service), else the value."""
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, PlaceOfService):
        return value.code
    return value


def test_the_remembered_texts_are_the_converters_own_answers() -> None:
    """Each converter whose memo the generated __init__ reads inline answers every text in that memo
    with the very object the memo holds (so reading the memo is the converter's own first step)."""
    from sessionkit.domain.session import _TEXT_MEMOS

    ClientSession(
        client_id="c1", date_of_service=D, billing_code="90834 ", charge="140", place_of_service="02"
    )
    assert len(_TEXT_MEMOS) == 4
    for convert, memo in _TEXT_MEMOS.items():
        texts = [k for k in list(memo) if type(k) is str]
        assert texts  # filled by the sessions built so far
        for text in texts:
            assert convert(text) is memo[text]


def _construct(init: Callable[..., None], kwargs: dict[str, Any]) -> tuple[str, Any]:
    """("ok", fields without the id when it was minted) or ("error", type, code, field)."""
    session = ClientSession.__new__(ClientSession)
    try:
        init(session, **kwargs)
    except Exception as exc:
        return "error", (type(exc), getattr(exc, "code", None), getattr(exc, "field", None))
    values = attrs.asdict(session, recurse=False)
    if kwargs.get("id") is None:
        values.pop("id")
    return "ok", values


@given(sessions(), st.data())
def test_generated_init_gives_what_the_attrs_init_gives(session: ClientSession, data: st.DataObject) -> None:
    """The generated ClientSession.__init__ agrees with attrs' own: each field left out, given its
    default object, given a drawn valid value or a junk value, gives the same session or the same error."""
    from sessionkit.domain.session import _attrs_init

    kwargs: dict[str, Any] = {}
    for field in attrs.fields(ClientSession):
        choice = data.draw(st.sampled_from(["leave out", "default", "valid", "valid", "text", "junk"]))
        if field.default is attrs.NOTHING and choice in ("leave out", "default"):
            choice = "valid"
        if choice == "default":
            kwargs[field.name] = field.default
        elif choice == "valid":
            kwargs[field.name] = getattr(session, field.name)
        elif choice == "text":  # as typed on the entry screen: the converters' remembered texts
            kwargs[field.name] = _as_text(getattr(session, field.name))
        elif choice == "junk":
            kwargs[field.name] = data.draw(_JUNK)
    assert ClientSession.__init__ is not _attrs_init
    assert _construct(ClientSession.__init__, kwargs) == _construct(_attrs_init, kwargs)


def test_with_version_refuses_a_version_past_the_highest() -> None:
    """A version above 2**62 raises the domain's own error, naming the field."""
    from sessionkit.domain.session import with_version

    session = ClientSession(
        client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834", charge="1"
    )
    with pytest.raises(InvalidValue) as raised:
        with_version(session, 2**62 + 1)
    assert raised.value.field == "version"


_VERSIONED: dict[str, Callable[..., Any]] = {
    "Client": lambda **kw: Client(id="c1", first_name="Ada", last_name="Byron", **kw),
    "Payer": lambda **kw: Payer(id="p1", name="Aetna", **kw),
    "Coverage": lambda **kw: Coverage(
        id="k1", client_id="c1", payer_id="p1", member_id="M1", effective=D, **kw
    ),
    "Authorization": lambda **kw: Authorization(
        id="a1", client_id="c1", payer_id="p1", number="A1", start=D, end=D, sessions_authorized=4, **kw
    ),
    "BillingCode": lambda **kw: BillingCode(code="90834", default_charge="140", **kw),
    "PracticeSetup": lambda **kw: PracticeSetup(
        name="Calm Practice", npi="1234567893", tax_id="123456789", time_zone="America/New_York", **kw
    ),
}
"""Every stored aggregate that carries an optimistic-concurrency version (sessions have their own tests)."""


@pytest.mark.parametrize("kind", _VERSIONED)
@given(version=st.integers(0, 2**62))
def test_every_aggregate_has_a_version_from_0(kind: str, version: int) -> None:
    """Each stored aggregate defaults to version 0 and takes any whole version from 0 to 2**62."""
    build = _VERSIONED[kind]
    assert build().version == 0
    assert build(version=version).version == version


@pytest.mark.parametrize("kind", _VERSIONED)
@given(
    bad=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=2**62 + 1),
        st.booleans(),
        st.floats(),
        st.text(max_size=3),
        st.none(),
        st.decimals(allow_nan=False),
    )
)
def test_a_version_that_is_not_a_whole_number_from_0_is_refused(kind: str, bad: object) -> None:
    """A negative, huge, boolean, fractional, text or missing version raises InvalidValue naming ``version``."""
    with pytest.raises(InvalidValue) as raised:
        _VERSIONED[kind](version=bad)
    assert raised.value.field == "version"
    assert raised.value.code in {"value.type", "value.out_of_range"}


@pytest.mark.parametrize("kind", _VERSIONED)
def test_an_aggregate_version_takes_no_part_in_equality(kind: str) -> None:
    """Two copies with the same data are equal (and hash alike) whatever their versions; evolve keeps the version."""
    build = _VERSIONED[kind]
    first, later = build(), build(version=7)
    assert first == later
    assert hash(first) == hash(later)
    assert attrs.evolve(later).version == 7


# --- claim settings: filing indicator, NPI type, assignment, pay-to ---


def test_payer_claim_filing_indicator_defaults_to_commercial() -> None:
    """A payer is commercial (SBR09 CI) unless set; codes are taken by value; unknown codes refused."""
    from sessionkit.domain import ClaimFilingIndicator

    assert Payer(id="p", name="Acme").claim_filing_indicator is ClaimFilingIndicator.COMMERCIAL
    assert Payer(id="p", name="Acme", claim_filing_indicator="MB").claim_filing_indicator.value == "MB"
    with pytest.raises(InvalidValue) as info:
        Payer(id="p", name="Acme", claim_filing_indicator="XX")
    assert info.value.code == "payer.claim_filing_indicator"


def test_practice_claim_settings_defaults() -> None:
    """A practice bills as an organisation, accepts assignment, has benefits assigned and a signed release."""
    from sessionkit.domain import EntityType, ReleaseOfInformation

    practice = _practice()
    assert practice.npi_type is EntityType.ORGANIZATION
    assert practice.accept_assignment is True
    assert practice.benefits_assigned is True
    assert practice.release_of_information is ReleaseOfInformation.SIGNED
    assert practice.pay_to_address is None
    assert practice.phone == ""


def test_practice_type_1_npi_needs_the_practitioners_last_name() -> None:
    """A practice billing under a person's NPI must name the person."""
    with pytest.raises(InvalidValue) as info:
        _practice(npi_type="1")
    assert (info.value.code, info.value.field) == ("practice.provider_name", "provider_last_name")
    practice = _practice(npi_type="1", provider_last_name="Rivera", provider_first_name="Ana")
    assert practice.provider_last_name == "Rivera"


@pytest.mark.parametrize(
    ("raw", "stored"), [("(212) 555-0100", "2125550100"), ("1-212-555-0100", "2125550100"), ("", "")]
)
def test_practice_phone_is_ten_digits(raw: str, stored: str) -> None:
    """The phone keeps 10 digits (a leading 1 and punctuation dropped)."""
    assert _practice(phone=raw).phone == stored


def test_practice_phone_refuses_other_lengths() -> None:
    """A phone that is not 10 digits is refused with a code."""
    with pytest.raises(InvalidValue) as info:
        _practice(phone="555-0100")
    assert info.value.code == "practice.phone"
