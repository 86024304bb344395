"""Every field of every stored record survives JSON and every adapter: a forgotten path fails here.

Each record below sets every field to a value other than the field's default.
The field lists come from :func:`attrs.fields`, so a field added to a class
without a value here fails :func:`test_every_field_is_set`, and one that a
document or an adapter drops fails the round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    Client,
    ClientSession,
    Coverage,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    Subscriber,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore
from sessionkit.adapters.sqlite import open_database
from sessionkit.domain import DiagnosisCode, InsuranceOverrides, Modifier, PlaceOfService
from sessionkit.domain.payments import (
    Adjudication,
    Adjustment,
    LineAdjudication,
    Payment,
    PaymentApplication,
)
from sessionkit.money import Money
from sessionkit.serialization import dumps, loads
from sessionkit.testing import adjudications, payments

ADDRESS = Address(line1="12 Elm St", line2="Apt 3", city="Springfield", state="IL", postal_code="627041234")

SESSION = ClientSession(
    id="s-every",
    client_id="c-every",
    date_of_service=date(2026, 3, 2),
    billing_code="90837",
    minutes=55,
    units="2",
    charge="180.00",
    diagnoses=["F41.1", "F32.A"],
    modifiers=["95", "HO"],
    place_of_service="10",
    bill_to="client",
    paid_at_session="25.50",
    referring_provider=ReferringProvider(first_name="Sam", last_name="Lee", npi="1234567893", qualifier="DK"),
    line_note="line note",
    resubmission=Resubmission(frequency="7", original_reference="ABC123"),
    overrides=InsuranceOverrides(
        billing_provider_name="Group",
        billing_provider_npi="1234567893",
        billing_provider_type="1",
        billing_provider_first_name="Gail",
        tax_id="12-3456789",
        rendering_provider_first_name="Ann",
        rendering_provider_last_name="Roe",
        rendering_provider_npi="1234567893",
        facility_name="Clinic",
        facility_npi="1234567893",
        facility_address=ADDRESS,
    ),
    comments="called once",
    add_ons=[AddOnLine(code="90785", units="1.5", charge="20", modifiers=["95"])],
    appointment_key="cal:evt-1",
    status="eob_posted",
    version=1,  # what a first save stores
)

CLIENT = Client(
    id="c-every",
    first_name="Ada",
    last_name="Byron",
    date_of_birth=date(1990, 4, 1),
    sex="F",
    address=ADDRESS,
    email="ada@example.org",
    client_file_note="prefers mornings",
    version=1,
)
PAYER = Payer(
    id="p-every",
    name="Acme Health",
    payer_id="ACME1",
    insurance_note="fax first",
    requires_authorization=True,
    requires_referring_provider=True,
    address=ADDRESS,
    claim_filing_indicator="MB",
    version=1,
)
COVERAGE = Coverage(
    id="cov-every",
    client_id="c-every",
    payer_id="p-every",
    member_id="XYZ12345",
    group_number="G-1",
    rank="S",
    effective=date(2026, 1, 1),
    termination=date(2026, 12, 31),
    copay="20",
    coinsurance="0.2",
    relationship="19",
    subscriber=Subscriber(
        first_name="Pat", last_name="Byron", date_of_birth=date(1960, 5, 6), sex="M", address=ADDRESS
    ),
    version=1,
)
AUTHORIZATION = Authorization(
    id="a-every",
    client_id="c-every",
    payer_id="p-every",
    number="AUTH1",
    billing_codes=["90834", "90837"],
    start=date(2026, 1, 1),
    end=date(2026, 6, 30),
    sessions_authorized=12,
    version=1,
)
BILLING_CODE = BillingCode(
    code="90785",
    description="Interactive complexity",
    default_minutes=5,
    default_charge="20",
    add_on=False,
    version=1,
)
PRACTICE = PracticeSetup(
    name="Every Field Practice",
    npi="1234567893",
    tax_id="12-3456789",
    taxonomy="101YM0800X",
    address=ADDRESS,
    time_zone="America/New_York",
    default_place_of_service="10",
    default_billing_code="90834",
    npi_type="1",
    provider_first_name="Rita",
    provider_last_name="Render",
    phone="2175550100",
    pay_to_address=Address(
        line1="PO Box 77", line2="Dept 4", city="Springfield", state="IL", postal_code="627010077"
    ),
    accept_assignment=False,
    benefits_assigned=False,
    release_of_information="I",
    version=1,
)

PAYMENT = Payment(
    id="pay-every",
    client_id="c-every",
    amount="60.00",
    method="card",
    received_at=datetime(2026, 3, 2, 18, 45, 12, 345678, tzinfo=timezone(timedelta(hours=-5))),
    reference="ch_3Nabc",
    applied=[PaymentApplication(session_id="s-every", amount="25.50")],
    status="pending",
    idempotency_key="pay-now:s-every:1",
    at_session=True,
    version=1,
)
ADJUDICATION = Adjudication(
    id="adj-every",
    claim_record_id="r-every",
    client_id="c-every",
    payer_id="p-every",
    coverage_id="cov-every",
    patient_control_number="SK000123",
    payer_claim_number="PCN98765",
    status_code="2",
    charge="180.00",
    paid="-90.00",
    patient_responsibility="25.50",
    lines=[
        LineAdjudication(
            session_id="s-every",
            line_control_number="SK000123-1",
            code="90837",
            charge="180.00",
            paid="-90.00",
            allowed="120.00",
            units=Decimal("2"),
            adjustments=[Adjustment(group="PR", reason="3", amount="25.50", quantity=Decimal("1.5"))],
        )
    ],
    adjustments=[Adjustment(group="OA", reason="23", amount="-4.50", quantity=Decimal(1))],
    paid_on=date(2026, 3, 20),
    trace_number="EFT0001",
    source="835",
    source_key="835|ACME1|EFT0001|SK000123|2|PCN98765",
    posted_at=datetime(2026, 3, 21, 9, 0, tzinfo=timezone.utc),
    version=1,
)

RECORDS: list[Any] = [
    SESSION,
    CLIENT,
    PAYER,
    COVERAGE,
    AUTHORIZATION,
    BILLING_CODE,
    PRACTICE,
    PAYMENT,
    ADJUDICATION,
]
IDS = [type(r).__name__ for r in RECORDS]

# Stored as their code text: their own fields are the code module's business.
_CODE_VALUES = (DiagnosisCode, Modifier, PlaceOfService, Money)


def _default(field: attrs.Attribute[Any], obj: Any) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory(obj) if default.takes_self else default.factory()  # type: ignore[attr-defined]
    return default


def _fields_left_at_default(obj: Any, path: str = "") -> Iterator[str]:
    """The path of every field (at any depth, from attrs.fields) whose value is its default."""
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        here = f"{path}.{field.name}"
        if field.default is not attrs.NOTHING and value == _default(field, obj):
            yield here
        nested = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and not value:
            yield f"{here} (empty)"
        for i, item in enumerate(nested):
            if attrs.has(type(item)) and not isinstance(item, _CODE_VALUES):
                yield from _fields_left_at_default(item, f"{here}[{i}]" if isinstance(value, tuple) else here)


def _differences(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Fields that differ, compared one by one at any depth (also those left out of ==, like version)."""
    if type(a) is not type(b):
        yield f"{path} (type)"
    elif attrs.has(type(a)) and not isinstance(a, _CODE_VALUES):
        for field in attrs.fields(type(a)):
            yield from _differences(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, tuple):
        if len(a) != len(b):
            yield f"{path} (length)"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif isinstance(a, datetime) and (a, a.utcoffset()) != (b, b.utcoffset()):
        yield f"{path} (instant or UTC offset)"
    elif a != b:
        yield path


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_every_field_is_set(record: Any) -> None:
    """Every field, nested ones too, holds a value other than its default (add one for a new field)."""
    assert list(_fields_left_at_default(record)) == []
    assert len(attrs.fields(type(record))) >= 5


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_every_field_survives_json(record: Any) -> None:
    """loads(dumps(x)) gives back every field of x, one by one."""
    back = loads(dumps(record), type(record))
    assert list(_differences(record, back)) == []


def _unsaved(record: Any) -> Any:
    return attrs.evolve(record, version=0)


def _write(uow: Any) -> None:
    """Store every record, each with version 0 (a first save stores version 1: the value above)."""
    with uow:
        uow.practice.put(_unsaved(PRACTICE))
        uow.clients.put(_unsaved(CLIENT))
        uow.payers.put(_unsaved(PAYER))
        uow.coverages.put(_unsaved(COVERAGE))
        uow.authorizations.put(_unsaved(AUTHORIZATION))
        uow.billing_codes.put(_unsaved(BILLING_CODE))
        uow.sessions.save(_unsaved(SESSION))
        uow.payments.add(_unsaved(PAYMENT))
        uow.adjudications.add(_unsaved(ADJUDICATION))
        uow.commit()


def _read(uow: Any) -> list[Any]:
    with uow:
        return [
            uow.sessions.get(SESSION.id),
            uow.clients.get(CLIENT.id),
            uow.payers.get(PAYER.id),
            uow.coverages.get(COVERAGE.id),
            uow.authorizations.get(AUTHORIZATION.id),
            uow.billing_codes.get(BILLING_CODE.code),
            uow.practice.get(),
            uow.payments.get(PAYMENT.id),
            uow.adjudications.get(ADJUDICATION.id),
        ]


def _memory(_tmp: Path) -> Iterator[Callable[[], Any]]:
    store = MemoryStore()
    yield lambda: InMemoryUnitOfWork(store)


def _sqlite(tmp: Path) -> Iterator[Callable[[], Any]]:
    path = tmp / "every.db"
    opened: list[Any] = []

    def unit() -> Any:
        # A new database object for each unit: the second reads the file afresh.
        db = open_database(path)
        opened.append(db)
        return db.unit_of_work()

    yield unit
    for db in opened:
        db.close()


@pytest.mark.parametrize("adapter", [_memory, _sqlite], ids=["memory", "sqlite"])
def test_every_field_survives_every_adapter(
    adapter: Callable[[Path], Iterator[Callable[[], Any]]], tmp_path: Path
) -> None:
    """Saved, reopened and read back, every record of every kind has every field as it was saved."""
    units = adapter(tmp_path)
    new_unit = next(units)
    _write(new_unit())
    back = _read(new_unit())
    for saved, read in zip(RECORDS, back, strict=True):
        assert list(_differences(saved, read)) == [], type(saved).__name__
    for _ in units:  # close what the adapter opened
        pass


@settings(max_examples=40)
@given(payment=payments(), adjudication=adjudications())
def test_any_payment_and_adjudication_survive_json(payment: Payment, adjudication: Adjudication) -> None:
    """loads(dumps(x)) gives back every field of any drawn Payment and Adjudication, UTC offsets included."""
    for record in (payment, adjudication):
        assert list(_differences(record, loads(dumps(record), type(record)))) == []
