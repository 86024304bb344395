"""A demo practice with fictional clients, for ``sessionkit demo``, the docs and notebooks.

:func:`demo_setup` builds the records; :func:`seed_demo` puts them into any
:class:`~sessionkit.ports.UnitOfWork` (in memory or SQLite) once.
:func:`sample_calendar` is the text of the iCalendar file shipped with the
package, whose appointments (February to March 2026, practice time
America/New_York) exercise the hard cases of a calendar import: a weekly
series across the change to daylight saving time, a cancelled occurrence, a
moved one, a cancelled single event, an unknown client, an all-day event and a
9 pm session that is already the next day in UTC.

The data is chosen so that a readiness check has something to say: the
clients' previously saved sessions set the builder's defaults (the billing
code and diagnoses of the session saved last), and after importing the
sample calendar some sessions are ready for a claim and some are not:

* Ada Byron (``c-1001``) is covered by a payer that requires authorization;
  her authorization runs out before her last March session;
* Grace Hopper (``c-1002``) is billed 90834 by default, but her intake ran
  53 minutes (a time-mismatch warning);
* Alan Turing (``c-1003``) carries the diagnosis ``F43.2``, a category that is
  not billable (an error when the ICD-10-CM code set is installed);
* Mary Jackson (``c-1004``) pays for herself: no coverage, so her sessions go
  to the client invoice and are not ready for an insurance claim.

All names, numbers and addresses are made up.

>>> from sessionkit.adapters.memory import InMemoryUnitOfWork
>>> uow = InMemoryUnitOfWork()
>>> seed_demo(uow), seed_demo(uow)
(True, False)
>>> with uow:
...     uow.practice.get().time_zone, len(uow.clients.list()), uow.sessions.count()
('America/New_York', 4, 4)
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal
from importlib import resources

import attrs

from sessionkit.domain import (
    Address,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    Payer,
    PlaceOfService,
    PracticeSetup,
    Sex,
)
from sessionkit.money import Money
from sessionkit.payments import set_paid_at_session
from sessionkit.ports import UnitOfWork

__all__ = [
    "DEMO_TIME_ZONE",
    "SAMPLE_END",
    "SAMPLE_START",
    "DemoSetup",
    "demo_setup",
    "sample_calendar",
    "seed_demo",
]

DEMO_TIME_ZONE = "America/New_York"
"""The demo practice's time zone (and the sample calendar's)."""
SAMPLE_START = date(2026, 2, 1)
"""First date of a range covering every appointment of the sample calendar."""
SAMPLE_END = date(2026, 4, 30)
"""Last date of a range covering every appointment of the sample calendar."""


@attrs.frozen(kw_only=True)
class DemoSetup:
    """Every record of the demo practice."""

    practice: PracticeSetup
    billing_codes: tuple[BillingCode, ...]
    diagnoses: tuple[DiagnosisCode, ...]
    clients: tuple[Client, ...]
    payers: tuple[Payer, ...]
    coverages: tuple[Coverage, ...]
    authorizations: tuple[Authorization, ...]
    sessions: tuple[ClientSession, ...]


# (code, default minutes, default charge): the behavioural-health codes a practice bills most.
_CODES = (
    ("90791", 60, "200.00"),
    ("90832", 30, "90.00"),
    ("90834", 45, "140.00"),
    ("90837", 60, "180.00"),
    ("90839", 60, "220.00"),
    ("90840", 30, "100.00"),
    ("90785", None, "25.00"),
    ("90846", 50, "150.00"),
    ("90847", 50, "160.00"),
    ("90853", 90, "60.00"),
)

_DIAGNOSES = (
    ("F32.1", "Major depressive disorder, single episode, moderate"),
    ("F41.1", "Generalized anxiety disorder"),
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ("F43.2", "Adjustment disorders (category: pick a subcode)"),
    ("F43.23", "Adjustment disorder with mixed anxiety and depressed mood"),
    ("F90.0", "ADHD, predominantly inattentive type"),
)


def _address(line1: str, city: str = "Springfield", postal_code: str = "62704") -> Address:
    return Address(line1=line1, city=city, state="IL", postal_code=postal_code)


def demo_setup() -> DemoSetup:
    """The demo practice: setup, codes, four clients, two payers, coverages, an authorization, sessions."""
    practice = PracticeSetup(
        name="Calm Waters Counseling",
        npi="1234567893",
        tax_id="12-3456789",
        taxonomy="101YM0800X",
        address=_address("100 Main Street", postal_code="627011234"),
        time_zone=DEMO_TIME_ZONE,
        default_billing_code="90834",
    )
    clients = (
        Client(
            id="c-1001",
            first_name="Ada",
            last_name="Byron",
            date_of_birth=date(1985, 12, 10),
            sex=Sex.FEMALE,
            address=_address("12 Analytical Way"),
            email="ada.byron@example.org",
            client_file_note="Prefers morning appointments",
        ),
        Client(
            id="c-1002",
            first_name="Grace",
            last_name="Hopper",
            date_of_birth=date(1976, 12, 9),
            sex=Sex.FEMALE,
            address=_address("7 Compiler Court"),
            email="grace.hopper@example.org",
        ),
        Client(
            id="c-1003",
            first_name="Alan",
            last_name="Turing",
            date_of_birth=date(1982, 6, 23),
            sex=Sex.MALE,
            address=_address("42 Enigma Road"),
        ),
        Client(
            id="c-1004",
            first_name="Mary",
            last_name="Jackson",
            date_of_birth=date(1991, 4, 9),
            sex=Sex.FEMALE,
            address=_address("3 Wind Tunnel Lane"),
            client_file_note="Self-pay; invoice monthly",
        ),
    )
    payers = (
        Payer(
            id="p-acme",
            name="Acme Health Plan",
            payer_id="ACME1",
            insurance_note="Prior authorization required for every visit after the intake; "
            "call 1-800-555-0100 for more sessions",
            requires_authorization=True,
            address=_address("1 Insurance Plaza", city="Chicago", postal_code="60601"),
        ),
        Payer(
            id="p-pine",
            name="Blue Pine Insurance",
            payer_id="BPINE",
            address=_address("500 Pine Street", city="Peoria", postal_code="61602"),
        ),
    )
    coverages = (
        Coverage(
            id="k-1001",
            client_id="c-1001",
            payer_id="p-acme",
            member_id="ACM100200",
            group_number="G-77",
            effective=date(2026, 1, 1),
            copay="25.00",
        ),
        Coverage(
            id="k-1002",
            client_id="c-1002",
            payer_id="p-pine",
            member_id="BP55501",
            effective=date(2025, 6, 1),
            coinsurance=Decimal("0.2"),
        ),
        Coverage(
            id="k-1003",
            client_id="c-1003",
            payer_id="p-pine",
            member_id="BP55502",
            effective=date(2026, 1, 1),
            copay="30.00",
        ),
    )
    authorizations = (
        Authorization(
            id="a-1001",
            client_id="c-1001",
            payer_id="p-acme",
            number="ACM2026A1",
            billing_codes=frozenset({"90834", "90837"}),
            start=date(2026, 1, 1),
            end=date(2026, 3, 31),
            sessions_authorized=5,
        ),
    )
    sessions = (
        ClientSession(
            id="s-0001",
            client_id="c-1001",
            date_of_service=date(2026, 2, 10),
            billing_code="90837",
            minutes=55,
            charge="180.00",
            diagnoses=["F41.1"],
            paid_at_session="25.00",
        ),
        ClientSession(
            id="s-0002",
            client_id="c-1002",
            date_of_service=date(2026, 2, 12),
            billing_code="90834",
            minutes=45,
            charge="140.00",
            diagnoses=["F32.1"],
        ),
        ClientSession(
            id="s-0003",
            client_id="c-1003",
            date_of_service=date(2026, 2, 17),
            billing_code="90834",
            minutes=45,
            charge="140.00",
            diagnoses=["F43.2"],
            place_of_service=PlaceOfService("10"),
        ),
        ClientSession(
            id="s-0004",
            client_id="c-1004",
            date_of_service=date(2026, 2, 26),
            billing_code="90832",
            minutes=30,
            charge="90.00",
            diagnoses=["F43.23"],
            bill_to=BillTo.CLIENT,
            paid_at_session="90.00",
        ),
    )
    return DemoSetup(
        practice=practice,
        billing_codes=tuple(
            BillingCode(code=code, default_minutes=minutes, default_charge=charge)
            for code, minutes, charge in _CODES
        ),
        diagnoses=tuple(DiagnosisCode(code=code, description=text) for code, text in _DIAGNOSES),
        clients=clients,
        payers=payers,
        coverages=coverages,
        authorizations=authorizations,
        sessions=sessions,
    )


def seed_demo(uow: UnitOfWork) -> bool:
    """Put the demo practice into ``uow`` in one commit; False (and nothing written) if a practice exists.

    ``uow`` must not be active: it is entered here.
    """
    setup = demo_setup()
    with uow:
        if uow.practice.find() is not None:
            return False
        uow.practice.put(setup.practice)
        for billing_code in setup.billing_codes:
            uow.billing_codes.put(billing_code)
        for diagnosis in setup.diagnoses:
            uow.diagnoses.put(diagnosis)
        for client in setup.clients:
            uow.clients.put(client)
        for payer in setup.payers:
            uow.payers.put(payer)
        for coverage in setup.coverages:
            uow.coverages.put(coverage)
        for authorization in setup.authorizations:
            uow.authorizations.put(authorization)
        # Paid at the session goes through the payments ledger (one source of truth): the
        # sessions are saved without it, then each amount is recorded as a payment.
        uow.sessions.save_many(attrs.evolve(s, paid_at_session=Money(0)) for s in setup.sessions)
        for session in setup.sessions:
            if session.paid_at_session.amount:
                received = datetime.combine(session.date_of_service, time(9), tzinfo=timezone.utc)
                set_paid_at_session(uow, session.id, session.paid_at_session, now=received)
        uow.commit()
    return True


def sample_calendar() -> str:
    """The text of the sample iCalendar file shipped in the package (``sessionkit/data``).

    >>> sample_calendar().startswith("BEGIN:VCALENDAR")
    True
    """
    return resources.files("sessionkit").joinpath("data/sample_calendar.ics").read_text(encoding="utf-8")
