"""Hypothesis strategies for sessionkit's codes and domain objects.

Use them in your own property-based tests (``pip install 'sessionkit-billing[testing]'``)::

    from hypothesis import given
    from sessionkit.testing import sessions

    @given(sessions())
    def test_total_covers_the_charge(session):
        assert session.total_charge >= session.charge

Every strategy draws valid values only: codes in their normal form, objects that
construct without error. Codes are returned as ``str`` (the form a user types
after normalisation); domain objects as the frozen attrs classes.

This module imports :mod:`hypothesis`, an optional dependency.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

from sessionkit._extras import reraise_missing

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ModuleNotFoundError as exc:  # without the testing extra: one line naming the pip install
    reraise_missing(exc, "testing", "sessionkit.testing")
    raise

from sessionkit.codes import behavioral, ein, icd10, npi, pos, usps
from sessionkit.domain import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    BillTo,
    ClaimFilingIndicator,
    Client,
    ClientSession,
    Coverage,
    CoverageRank,
    EntityType,
    Frequency,
    InsuranceOverrides,
    Payer,
    PracticeSetup,
    ProviderQualifier,
    ReferringProvider,
    Relationship,
    ReleaseOfInformation,
    Resubmission,
    SessionStatus,
    Sex,
    Subscriber,
)
from sessionkit.domain.payments import (
    Adjudication,
    Adjustment,
    AdjustmentGroup,
    LineAdjudication,
    Payment,
    PaymentApplication,
    PaymentMethod,
    PaymentStatus,
)
from sessionkit.money import Money

__all__ = [
    "BEHAVIORAL_DIAGNOSES",
    "FIRST_DATE_OF_SERVICE",
    "LAST_DATE_OF_SERVICE",
    "add_on_lines",
    "addresses",
    "adjudications",
    "adjustments",
    "amounts",
    "aware_datetimes",
    "authorizations",
    "billing_code_setups",
    "billing_codes",
    "clients",
    "coverages",
    "diagnosis_codes",
    "eins",
    "ids",
    "insurance_overrides",
    "line_adjudications",
    "modifiers",
    "money",
    "npis",
    "payers",
    "payment_applications",
    "payments",
    "places_of_service",
    "practices",
    "referring_providers",
    "resubmissions",
    "sessions",
    "subscribers",
]

FIRST_DATE_OF_SERVICE = date(2015, 10, 1)
"""ICD-10-CM took effect for dates of service from 1 October 2015."""
LAST_DATE_OF_SERVICE = date(2030, 12, 31)

BEHAVIORAL_DIAGNOSES: tuple[str, ...] = (
    "F10.20",
    "F10.21",
    "F11.20",
    "F17.210",
    "F20.9",
    "F31.81",
    "F32.0",
    "F32.1",
    "F32.9",
    "F32.A",
    "F33.1",
    "F33.9",
    "F40.10",
    "F41.0",
    "F41.1",
    "F41.9",
    "F42.2",
    "F43.10",
    "F43.12",
    "F43.20",
    "F43.21",
    "F43.22",
    "F43.23",
    "F43.25",
    "F50.00",
    "F60.3",
    "F84.0",
    "F90.0",
    "F90.2",
    "F91.3",
    "Z63.0",
    "Z71.89",
)
"""Realistic behavioural-health diagnosis codes (mostly ICD-10-CM chapter 5), in normal form."""

_ADD_ON_CODES = tuple(sorted(code for code, rule in behavioral.CATALOGUE.items() if rule.add_on))
_COMMON_MODIFIERS = ("95", "GT", "HN", "HO", "HQ", "U4", "AH", "AJ", "59", "25", "93", "FQ", "GA", "XU")
_TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits
# Text a person might type: any printable character that UTF-8 can encode (no lone surrogates).
_TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
# Notes and comments may also hold line breaks and tabs.
_NOTE_TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])


def _fixed(alphabet: str, size: int) -> SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


def _names(max_size: int = 60) -> SearchStrategy[str]:
    """A required name: 1-``max_size`` characters, not only spaces."""
    return st.text(_TEXT, min_size=1, max_size=max_size).filter(str.strip)


def _notes(max_size: int = 200) -> SearchStrategy[str]:
    return st.text(_NOTE_TEXT, max_size=max_size)


def _dates(low: date = FIRST_DATE_OF_SERVICE, high: date = LAST_DATE_OF_SERVICE) -> SearchStrategy[date]:
    return st.dates(min_value=low, max_value=high)


def ids() -> SearchStrategy[str]:
    """Record identifiers: 1-64 letters, digits or ``_ . : -``."""
    return st.from_regex(r"[A-Za-z0-9_.:\-]{1,64}", fullmatch=True)


# -- codes -------------------------------------------------------------------------------


@st.composite
def _npi(draw: st.DrawFn) -> str:
    first9 = draw(st.sampled_from("12")) + draw(_fixed(string.digits, 8))
    return first9 + npi.calc_check_digit(first9)


def npis() -> SearchStrategy[str]:
    """Valid 10-digit National Provider Identifiers (Luhn check digit with prefix 80840)."""
    return _npi()


def eins() -> SearchStrategy[str]:
    """Employer identification numbers in normal form: 9 digits, no hyphen, a prefix the IRS issues."""
    return st.tuples(st.sampled_from(sorted(ein.PREFIXES)), _fixed(string.digits, 7)).map("".join)


@st.composite
def _any_icd10(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(string.ascii_uppercase)) + draw(st.sampled_from(string.digits))
    head += draw(st.sampled_from(_UPPER_DIGITS))
    tail = draw(st.text(_UPPER_DIGITS, max_size=4))
    return icd10.validate(head + tail)


def diagnosis_codes() -> SearchStrategy[str]:
    """ICD-10-CM codes in normal dotted form (``F41.1``): realistic F-chapter codes or any well-formed code."""
    return st.one_of(st.sampled_from(BEHAVIORAL_DIAGNOSES), _any_icd10())


def _any_procedure_code() -> SearchStrategy[str]:
    return st.one_of(
        _fixed(string.digits, 5),
        st.tuples(_fixed(string.digits, 4), st.sampled_from("FTU")).map("".join),
        st.tuples(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUV"), _fixed(string.digits, 4)).map("".join),
    )


def billing_codes() -> SearchStrategy[str]:
    """CPT/HCPCS codes in normal form, mostly from the behavioural-health catalogue."""
    catalogue = st.sampled_from(sorted(behavioral.CATALOGUE))
    return st.one_of(catalogue, catalogue, catalogue, _any_procedure_code())


def modifiers() -> SearchStrategy[str]:
    """Billing code modifiers in normal form: 2 uppercase letters or digits, often a common one."""
    return st.one_of(st.sampled_from(_COMMON_MODIFIERS), _fixed(_UPPER_DIGITS, 2))


def places_of_service() -> SearchStrategy[str]:
    """Assigned CMS place-of-service codes (``"11"``, ``"10"``, ...)."""
    return st.sampled_from(sorted(pos.NAMES))


def money(min_value: str = "0", max_value: str = "99999999.99") -> SearchStrategy[Money]:
    """Amounts from ``min_value`` to ``max_value`` (inclusive), with exactly 2 places."""
    low, high = Money(min_value).amount, Money(max_value).amount
    return st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False).map(
        Money
    )


# -- value objects ---------------------------------------------------------------------------


def addresses(*, zip_plus_4: bool = False) -> SearchStrategy[Address]:
    """US postal addresses with USPS state codes; ``zip_plus_4`` draws only 9-digit ZIP codes."""
    return st.builds(
        Address,
        line1=_names(55),
        line2=st.text(_TEXT, max_size=55),
        city=_names(30).filter(lambda c: len(c.strip()) >= 2),
        state=st.sampled_from(sorted(usps.NAMES)),
        postal_code=_fixed(string.digits, 9)
        if zip_plus_4
        else st.one_of(_fixed(string.digits, 5), _fixed(string.digits, 9)),
    )


def referring_providers() -> SearchStrategy[ReferringProvider]:
    """Referring providers, complete or partly filled in."""
    return st.builds(
        ReferringProvider,
        first_name=st.text(_TEXT, max_size=35),
        last_name=st.text(_TEXT, max_size=35),
        npi=st.none() | npis(),
        qualifier=st.sampled_from(ProviderQualifier),
    )


def resubmissions() -> SearchStrategy[Resubmission]:
    """Claim frequency with or without the payer's original reference."""
    return st.builds(
        Resubmission,
        frequency=st.sampled_from(Frequency),
        original_reference=st.none() | st.text(_ALNUM, min_size=1, max_size=50),
    )


def insurance_overrides() -> SearchStrategy[InsuranceOverrides]:
    """Per-session overrides of the practice setup, each part present or not."""
    return st.builds(
        InsuranceOverrides,
        billing_provider_name=st.none() | _names(),
        billing_provider_npi=st.none() | npis(),
        tax_id=st.none() | eins(),
        rendering_provider_first_name=st.none() | _names(35),
        rendering_provider_last_name=st.none() | _names(35),
        rendering_provider_npi=st.none() | npis(),
        facility_name=st.none() | _names(),
        facility_npi=st.none() | npis(),
        facility_address=st.none() | addresses(zip_plus_4=True),
        billing_provider_type=st.none() | st.sampled_from(EntityType),
        billing_provider_first_name=st.none() | _names(35),
    )


def add_on_lines() -> SearchStrategy[AddOnLine]:
    """Add-on lines, mostly with catalogue add-on codes (90785, 90840, ...)."""
    return st.builds(
        AddOnLine,
        code=st.one_of(st.sampled_from(_ADD_ON_CODES), billing_codes()),
        units=st.one_of(
            st.integers(min_value=1, max_value=9999).map(Decimal),
            st.decimals(min_value=Decimal("0.001"), max_value=Decimal(9999), places=3),
        ),
        charge=money(max_value="100000.00"),
        modifiers=st.lists(modifiers(), max_size=4).map(tuple),
    )


def billing_code_setups() -> SearchStrategy[BillingCode]:
    """Billing codes of a practice setup (:class:`~sessionkit.BillingCode` objects)."""

    @st.composite
    def build(draw: st.DrawFn) -> BillingCode:
        code = draw(billing_codes())
        add_on = draw(st.none() | st.booleans())
        description = draw(_notes(80))
        minutes = draw(st.none() | st.integers(min_value=0, max_value=1440))
        charge = draw(money(max_value="100000.00"))
        if add_on is None:  # let the catalogue decide
            return BillingCode(
                code=code, description=description, default_minutes=minutes, default_charge=charge
            )
        return BillingCode(
            code=code, description=description, default_minutes=minutes, default_charge=charge, add_on=add_on
        )

    return build()


# -- parties ------------------------------------------------------------------------------


def clients(id: SearchStrategy[str] | None = None) -> SearchStrategy[Client]:
    """Clients; pass ``id=st.just("c1")`` (or any strategy) to fix their identifiers."""
    return st.builds(
        Client,
        id=ids() if id is None else id,
        first_name=_names(),
        last_name=_names(),
        date_of_birth=st.none() | st.dates(min_value=date(1900, 1, 1), max_value=LAST_DATE_OF_SERVICE),
        sex=st.sampled_from(Sex),
        address=st.none() | addresses(),
        email=st.text(_TEXT, max_size=80),
        client_file_note=_notes(),
    )


def subscribers() -> SearchStrategy[Subscriber]:
    """Insured persons other than the client."""
    return st.builds(
        Subscriber,
        first_name=_names(),
        last_name=_names(),
        date_of_birth=st.none() | st.dates(min_value=date(1900, 1, 1), max_value=LAST_DATE_OF_SERVICE),
        sex=st.sampled_from(Sex),
        address=st.none() | addresses(),
    )


def payers() -> SearchStrategy[Payer]:
    """Insurance companies of a practice setup."""
    return st.builds(
        Payer,
        id=ids(),
        name=_names(),
        payer_id=st.none() | st.text(_ALNUM, min_size=2, max_size=80),
        insurance_note=_notes(),
        requires_authorization=st.booleans(),
        requires_referring_provider=st.booleans(),
        address=st.none() | addresses(),
        claim_filing_indicator=st.sampled_from(ClaimFilingIndicator),
    )


@st.composite
def _coverage(draw: st.DrawFn, client_id: str | None, payer_id: str | None) -> Coverage:
    effective = draw(_dates())
    termination = draw(st.none() | _dates(low=effective))
    relationship = draw(st.sampled_from(Relationship))
    subscriber = None if relationship is Relationship.SELF else draw(st.none() | subscribers())
    return Coverage(
        id=draw(ids()),
        client_id=draw(ids()) if client_id is None else client_id,
        payer_id=draw(ids()) if payer_id is None else payer_id,
        member_id=draw(st.text(_ALNUM + "-", min_size=2, max_size=80)),
        group_number=draw(st.text(_TEXT, max_size=30)),
        rank=draw(st.sampled_from(CoverageRank)),
        effective=effective,
        termination=termination,
        copay=draw(st.none() | money(max_value="1000.00")),
        coinsurance=draw(
            st.none() | st.decimals(min_value=0, max_value=1, places=2, allow_nan=False, allow_infinity=False)
        ),
        relationship=relationship,
        subscriber=subscriber,
    )


def coverages(client_id: str | None = None, payer_id: str | None = None) -> SearchStrategy[Coverage]:
    """Coverages (insurance policies), tied to ``client_id`` / ``payer_id`` when given."""
    return _coverage(client_id, payer_id)


@st.composite
def _authorization(draw: st.DrawFn, client_id: str | None, payer_id: str | None) -> Authorization:
    start = draw(_dates())
    return Authorization(
        id=draw(ids()),
        client_id=draw(ids()) if client_id is None else client_id,
        payer_id=draw(ids()) if payer_id is None else payer_id,
        number=draw(st.text(_ALNUM, min_size=1, max_size=50)),
        billing_codes=draw(st.frozensets(billing_codes(), max_size=3)),
        start=start,
        end=draw(_dates(low=start)),
        sessions_authorized=draw(st.integers(min_value=1, max_value=10_000)),
    )


def authorizations(
    client_id: str | None = None, payer_id: str | None = None
) -> SearchStrategy[Authorization]:
    """Prior authorizations, tied to ``client_id`` / ``payer_id`` when given."""
    return _authorization(client_id, payer_id)


@st.composite
def _practice(draw: st.DrawFn) -> PracticeSetup:
    npi_type = draw(st.sampled_from(EntityType))
    person = npi_type is EntityType.PERSON
    return PracticeSetup(
        name=draw(_names()),
        npi=draw(npis()),
        tax_id=draw(eins()),
        taxonomy=draw(st.none() | st.from_regex(r"[0-9]{3}[A-Z0-9]{6}X", fullmatch=True)),
        address=draw(st.none() | addresses(zip_plus_4=True)),
        time_zone=draw(st.sampled_from(_TIME_ZONES)),
        default_place_of_service=draw(places_of_service()),
        default_billing_code=draw(st.none() | billing_codes()),
        npi_type=npi_type,
        provider_first_name=draw(_names(35) if person else st.just("")),
        provider_last_name=draw(_names(60) if person else st.just("")),
        phone=draw(st.just("") | _fixed(string.digits, 10).filter(lambda p: p[0] in "23456789")),
        pay_to_address=draw(st.none() | addresses()),
        accept_assignment=draw(st.booleans()),
        benefits_assigned=draw(st.booleans()),
        release_of_information=draw(st.sampled_from(ReleaseOfInformation)),
    )


def practices() -> SearchStrategy[PracticeSetup]:
    """Practice setups in US time zones; the billing address, when set, has a ZIP+4."""
    return _practice()


# -- sessions ----------------------------------------------------------------------------


@st.composite
def _session(
    draw: st.DrawFn,
    client_ids: SearchStrategy[str],
    dates_of_service: SearchStrategy[date],
) -> ClientSession:
    date_of_service = draw(dates_of_service)
    code = draw(billing_codes())
    values: dict[str, Any] = {
        "id": draw(st.uuids().map(lambda u: u.hex)),
        "client_id": draw(client_ids),
        "date_of_service": date_of_service,
        "billing_code": code,
        "minutes": draw(st.none() | st.integers(min_value=0, max_value=1440)),
        "units": Decimal(1) if code in behavioral.PER_SESSION else draw(st.integers(1, 4).map(Decimal)),
        "charge": draw(money(max_value="100000.00")),
        "diagnoses": draw(st.lists(diagnosis_codes(), max_size=4)),
        "modifiers": draw(st.lists(modifiers(), max_size=4)),
        "place_of_service": draw(places_of_service()),
        "bill_to": draw(st.sampled_from(BillTo)),
        "paid_at_session": draw(money(max_value="100000.00")),
        "referring_provider": draw(st.none() | referring_providers()),
        "line_note": draw(st.text(_TEXT, max_size=80)),
        "resubmission": draw(resubmissions()),
        "overrides": draw(st.none() | insurance_overrides()),
        "comments": draw(_notes()),
        "add_ons": draw(st.lists(add_on_lines(), max_size=4)),
        "appointment_key": draw(st.none() | _names(100)),
        "status": draw(st.sampled_from(SessionStatus)),
        "version": draw(st.integers(min_value=0, max_value=2**62)),
    }
    # Fail closed: a field added to ClientSession without a strategy here stops every test that draws one.
    missing = _SESSION_FIELDS - values.keys()
    if missing:
        raise AssertionError(f"sessionkit.testing.sessions() draws no value for {sorted(missing)}")
    return ClientSession(**values)


_SESSION_FIELDS = frozenset(a.name for a in attrs.fields(ClientSession))


def sessions(
    client_id: str | None = None,
    *,
    client_ids: Sequence[str] | None = None,
    min_date: date = FIRST_DATE_OF_SERVICE,
    max_date: date = LAST_DATE_OF_SERVICE,
) -> SearchStrategy[ClientSession]:
    """Valid client sessions, every field exercised.

    :param client_id: give every session this client.
    :param client_ids: draw each session's client from these (e.g. the ids of
        clients you saved first).
    :param min_date: earliest date of service (default 2015-10-01).
    :param max_date: latest date of service (default 2030-12-31).

    Charges are at most 100,000.00 a line, so that :attr:`ClientSession.total_charge`
    stays within what a claim can carry.
    """
    if client_id is not None and client_ids is not None:
        raise ValueError("pass client_id or client_ids, not both")
    if client_id is not None:
        who: SearchStrategy[str] = st.just(client_id)
    elif client_ids is not None:
        if not client_ids:
            raise ValueError("client_ids is empty")
        who = st.sampled_from(list(client_ids))
    else:
        who = ids()
    return _session(who, _dates(min_date, max_date))


# -- money in: payments and adjudications ---------------------------------------------------------

# Whole-minute UTC offsets from -12:00 to +14:00 (what ISO 8601 text and every adapter keep).
_OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


def aware_datetimes(
    min_date: date = FIRST_DATE_OF_SERVICE, max_date: date = LAST_DATE_OF_SERVICE
) -> SearchStrategy[datetime]:
    """Timezone-aware instants on ``min_date`` to ``max_date`` (UTC offsets in quarter hours), microseconds included."""
    # hypothesis takes naive bounds and attaches the drawn zone
    low = datetime.combine(min_date, time.min)
    high = datetime.combine(max_date, time.max)
    return st.datetimes(min_value=low, max_value=high, timezones=_OFFSETS)


def amounts(min_value: str = "-99999999.99", max_value: str = "99999999.99") -> SearchStrategy[Decimal]:
    """Signed dollar amounts with exactly 2 places, as payers' files carry them (reversals are negative)."""
    return st.integers(min_value=int(Decimal(min_value) * 100), max_value=int(Decimal(max_value) * 100)).map(
        lambda cents: Decimal(cents).scaleb(-2)
    )


def _quantities() -> SearchStrategy[Decimal | None]:
    return st.none() | st.integers(min_value=0, max_value=99999).map(lambda n: Decimal(n).scaleb(-1))


def payment_applications(session_id: str | None = None) -> SearchStrategy[PaymentApplication]:
    """Parts of a payment applied to one session (``session_id``, else any id)."""
    return st.builds(
        PaymentApplication,
        session_id=ids() if session_id is None else st.just(session_id),
        amount=money(min_value="0.01", max_value="99999.99"),
    )


@functools.cache
def _parts() -> dict[str, SearchStrategy[Any]]:
    """The strategies the money strategies draw from, built once (building one per draw is slow)."""
    return {
        "id": ids(),
        "optional_id": st.none() | ids(),
        "name38": _names(38),
        "name64": _names(64),
        "optional_name50": st.none() | _names(50),
        "optional_name80": st.none() | _names(80),
        "optional_name128": st.none() | _names(128),
        "amount": amounts(),
        "instant": aware_datetimes(),
        "date": _dates(),
        "version": st.integers(min_value=0, max_value=2**62),
        "line": line_adjudications(),
        "adjustments": st.lists(adjustments(), max_size=2),
        "status_code": st.sampled_from(("1", "2", "3", "4", "19", "20", "21", "22", "23")),
    }


@st.composite
def _payment(draw: st.DrawFn, client_ids: SearchStrategy[str], session_ids: SearchStrategy[str]) -> Payment:
    parts = _parts()
    sessions = draw(st.lists(session_ids, max_size=4, unique=True))
    shares = [draw(st.integers(min_value=1, max_value=9_999_999)) for _ in sessions]
    left_on_account = draw(st.integers(min_value=0 if shares else 1, max_value=9_999_999))
    values: dict[str, Any] = {
        "id": draw(parts["id"]),
        "client_id": draw(client_ids),
        "amount": Money(Decimal(sum(shares) + left_on_account).scaleb(-2)),
        "method": draw(st.sampled_from(PaymentMethod)),
        "received_at": draw(parts["instant"]),
        "reference": draw(parts["optional_name80"]),
        "applied": [
            PaymentApplication(session_id=sid, amount=Money(Decimal(cents).scaleb(-2)))
            for sid, cents in zip(sessions, shares, strict=True)
        ],
        "status": draw(st.sampled_from(PaymentStatus)),
        "idempotency_key": draw(parts["optional_name128"]),
        "at_session": draw(st.booleans()),
        "version": draw(parts["version"]),
    }
    missing = _PAYMENT_FIELDS - values.keys()
    if missing:  # fail closed: a field added to Payment without a strategy here stops the tests
        raise AssertionError(f"sessionkit.testing.payments() draws no value for {sorted(missing)}")
    return Payment(**values)


_PAYMENT_FIELDS = frozenset(a.name for a in attrs.fields(Payment))


def payments(
    client_id: str | None = None, *, session_ids: Sequence[str] | None = None
) -> SearchStrategy[Payment]:
    """Valid client payments, every field exercised: applied to up to 4 sessions, the rest on account.

    :param client_id: give every payment this client.
    :param session_ids: apply payments to sessions drawn from these (default: any ids).
    """
    who: SearchStrategy[str] = ids() if client_id is None else st.just(client_id)
    if session_ids is not None and not session_ids:
        raise ValueError("session_ids is empty")
    where: SearchStrategy[str] = ids() if session_ids is None else st.sampled_from(list(session_ids))
    return _payment(who, where)


def adjustments() -> SearchStrategy[Adjustment]:
    """Claim adjustments: any group, a reason code (CARC), a signed amount, maybe a quantity."""
    return st.builds(
        Adjustment,
        group=st.sampled_from(AdjustmentGroup),
        reason=st.sampled_from(("1", "2", "3", "45", "96", "97", "18", "29", "197", "253", "B7", "N1")),
        amount=amounts("-99999.99", "99999.99"),
        quantity=_quantities(),
    )


def line_adjudications(session_id: str | None = None) -> SearchStrategy[LineAdjudication]:
    """A payer's answer to one claim line (``session_id``, else any id)."""
    return st.builds(
        LineAdjudication,
        session_id=ids() if session_id is None else st.just(session_id),
        line_control_number=st.none() | st.text(_UPPER_DIGITS, min_size=1, max_size=30),
        code=billing_codes(),
        charge=amounts("-99999.99", "99999.99"),
        paid=amounts("-99999.99", "99999.99"),
        allowed=st.none() | amounts("-99999.99", "99999.99"),
        units=_quantities(),
        adjustments=st.lists(adjustments(), max_size=2),
    )


@st.composite
def _adjudication(
    draw: st.DrawFn, client_ids: SearchStrategy[str], session_ids: SearchStrategy[str]
) -> Adjudication:
    parts = _parts()
    lines = [
        attrs.evolve(draw(parts["line"]), session_id=draw(session_ids))
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    values: dict[str, Any] = {
        "id": draw(parts["id"]),
        "claim_record_id": draw(parts["id"]),
        "client_id": draw(client_ids),
        "payer_id": draw(parts["id"]),
        "coverage_id": draw(parts["optional_id"]),
        "patient_control_number": draw(parts["name38"]),
        "payer_claim_number": draw(parts["optional_name50"]),
        "status_code": draw(parts["status_code"]),
        "charge": draw(parts["amount"]),
        "paid": draw(parts["amount"]),
        "patient_responsibility": draw(parts["amount"]),
        "lines": lines,
        "adjustments": draw(parts["adjustments"]),
        "paid_on": draw(parts["date"]),
        "trace_number": draw(parts["optional_name50"]),
        "source": draw(st.sampled_from(("835", "eob"))),
        "source_key": draw(parts["name64"]),
        "posted_at": draw(parts["instant"]),
        "version": draw(parts["version"]),
    }
    missing = _ADJUDICATION_FIELDS - values.keys()
    if missing:  # fail closed: a field added to Adjudication without a strategy here stops the tests
        raise AssertionError(f"sessionkit.testing.adjudications() draws no value for {sorted(missing)}")
    return Adjudication(**values)


_ADJUDICATION_FIELDS = frozenset(a.name for a in attrs.fields(Adjudication))


def adjudications(
    client_id: str | None = None, *, session_ids: Sequence[str] | None = None
) -> SearchStrategy[Adjudication]:
    """Valid adjudications as posted (amounts signed, as reversals carry them), every field exercised.

    :param client_id: give every adjudication this client.
    :param session_ids: draw the lines' sessions from these (default: any ids).
    """
    who: SearchStrategy[str] = ids() if client_id is None else st.just(client_id)
    if session_ids is not None and not session_ids:
        raise ValueError("session_ids is empty")
    where: SearchStrategy[str] = ids() if session_ids is None else st.sampled_from(list(session_ids))
    return _adjudication(who, where)
