"""Hypothesis strategies for claim readiness: ready sessions with their context, and anything at all.

- :func:`ready_sessions` gives ``(session, context)`` pairs for which
  :func:`sessionkit.readiness.check` reports no error for any target
  (CMS-1500, 837P and the client invoice): use it to test what consumes
  ready sessions (claim renderers, exports).
- :func:`readiness_sessions` and :func:`readiness_contexts` give any valid
  session and any context, complete or not (empty ones included): use them to
  test that code built on the checker copes with every report.
- :class:`StaticCodeSet` is a small in-memory ICD-10-CM code set.

>>> from sessionkit.readiness import Target, check
>>> session, context = ready_sessions().example()  # doctest: +SKIP
>>> check(session, context, Target.X12_837P).ready  # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from sessionkit.codes import behavioral, ein, icd10, npi, pos
from sessionkit.codes.x12 import BASIC_CHARACTERS as X12_BASIC_CHARACTERS
from sessionkit.domain import (
    AddOnLine,
    Address,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    Frequency,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Relationship,
    Resubmission,
    Sex,
    Subscriber,
)
from sessionkit.money import Money
from sessionkit.readiness.context import AuthorizationUse, ReadinessContext
from sessionkit.readiness.rules import ICD10_START

__all__ = [
    "BILLABLE_DIAGNOSES",
    "StaticCodeSet",
    "readiness_contexts",
    "readiness_sessions",
    "ready_sessions",
]

#: Billable ICD-10-CM codes common in behavioural health (leaves of the 2026 tabular list).
BILLABLE_DIAGNOSES: tuple[str, ...] = (
    "F32.0",
    "F32.1",
    "F32.A",
    "F33.1",
    "F41.0",
    "F41.1",
    "F43.10",
    "F43.21",
    "F43.23",
    "F90.0",
    "F84.0",
    "Z63.0",
)
_CATEGORIES: tuple[str, ...] = ("F41", "F43.2", "F32", "F43")
"""Codes that exist but are not billable."""


def _compact_all(codes: Iterable[str]) -> frozenset[str]:
    return frozenset(icd10.compact(c) for c in codes)


@attrs.frozen
class StaticCodeSet:
    """An ICD-10-CM code set from explicit lists (for tests and small apps).

    ``billable`` codes are valid and billable; ``categories`` are valid, not billable.

    >>> codes = StaticCodeSet(billable=frozenset({"F41.1"}), categories=frozenset({"F41"}))
    >>> codes.is_billable("f411"), codes.is_valid("F41"), codes.is_billable("F41")
    (True, True, False)
    """

    billable: frozenset[str] = attrs.field(converter=_compact_all)
    categories: frozenset[str] = attrs.field(default=frozenset(), converter=_compact_all)
    release: str = "static test code set"

    def is_valid(self, code: str) -> bool:
        """Whether ``code`` is one of the set's codes (billable or not); never raises."""
        key = _key(code)
        return key in self.billable or key in self.categories

    def is_billable(self, code: str) -> bool:
        """Whether ``code`` is one of the billable codes; never raises."""
        return _key(code) in self.billable


def _key(code: object) -> str:
    return code.replace(".", "").replace(" ", "").strip().upper() if isinstance(code, str) else ""


# -- small building blocks -------------------------------------------------------------------------


def _with_check_digit(first9: str) -> str:
    return first9 + npi.calc_check_digit(first9)


def _npis() -> SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from("12"), st.text("0123456789", min_size=8, max_size=8)).map(
        _with_check_digit
    )


_STREETS = st.sampled_from(["1 Main St", "22 Elm Ave", "300 Oak Rd Apt 4"])
_CITIES = st.sampled_from(["Springfield", "Riverside", "Fairview"])
_STATES = st.sampled_from(["IL", "NY", "CA", "TX", "DC", "PR", "AE"])


def _addresses(*, zip_plus_4: bool = False) -> SearchStrategy[Address]:
    """Addresses a payer accepts: a street, a USPS state; a ZIP+4 when ``zip_plus_4``."""
    return st.builds(
        Address,
        line1=_STREETS,
        city=_CITIES,
        state=_STATES,
        postal_code=st.sampled_from(["627011234", "100010001", "900121234"])
        if zip_plus_4
        else st.sampled_from(["62701", "10001", "900121234"]),
    )


def _any_addresses() -> SearchStrategy[Address]:
    """Addresses a payer may refuse too: boxes, 5-digit ZIP codes, two letters that are no state."""
    return st.builds(
        Address,
        line1=_STREETS | st.sampled_from(["PO Box 12", "Lockbox 4410"]),
        city=_CITIES,
        state=_STATES | st.sampled_from(["XX", "QC"]),
        postal_code=st.sampled_from(["62701", "10001", "900121234"]),
    )


def _eins() -> SearchStrategy[str]:
    """Tax ids with a prefix the IRS issues."""
    return st.builds(
        str.__add__, st.sampled_from(sorted(ein.PREFIXES)), st.text("0123456789", min_size=7, max_size=7)
    )


_NAMES = st.sampled_from(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald"])
_LAST_NAMES = st.sampled_from(["Byron", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth"])


def _practices(*, with_address: bool = True) -> SearchStrategy[PracticeSetup]:
    """With an address: one a payer accepts (street, ZIP+4); without: any address or none."""
    return st.builds(
        PracticeSetup,
        name=st.just("Calm Waters Counselling"),
        npi=_npis(),
        tax_id=_eins(),
        address=_addresses(zip_plus_4=True) if with_address else st.none() | _any_addresses(),
        time_zone=st.sampled_from(["America/New_York", "America/Chicago", "America/Los_Angeles"]),
        pay_to_address=st.none()
        | st.builds(
            Address, line1=st.just("PO Box 4410"), city=_CITIES, state=_STATES, postal_code=st.just("62705")
        ),
    )


def _money(low: int, high: int) -> SearchStrategy[Money]:
    return st.integers(low * 100, high * 100).map(lambda cents: Money(Decimal(cents) / 100))


def _clients(client_id: str, today: date, *, complete: bool) -> SearchStrategy[Client]:
    """Complete: born on or before ``today`` (pass the first date of service)."""
    dob = st.dates(date(1930, 1, 1), today)
    return st.builds(
        Client,
        id=st.just(client_id),
        first_name=_NAMES,
        last_name=_LAST_NAMES,
        date_of_birth=dob if complete else st.none() | st.dates(date(1930, 1, 1), date(2040, 1, 1)),
        sex=st.sampled_from(Sex),
        address=_addresses() if complete else st.none() | _any_addresses(),
    )


# -- ready sessions --------------------------------------------------------------------------------


def _valid_on(code: str, day: date) -> bool:
    """Whether ``code`` is billable on ``day`` per the shipped ICD-10-CM history.

    A day outside the releases the history holds is judged by the nearest one it
    holds, so that no code is drawn for a date before it existed.
    """
    history = icd10.history()
    releases = history.releases
    known = min(max(day, releases[0].effective), releases[-1].through)
    return history.valid_on(code, known) is True


# (primary code, minutes strategy, add-ons allowed with it)
_READY_CODES: tuple[tuple[str, SearchStrategy[int | None], tuple[str, ...]], ...] = (
    ("90791", st.none() | st.integers(30, 120), ("90785",)),
    ("90832", st.integers(16, 37), ("90785",)),
    ("90834", st.integers(38, 52), ("90785",)),
    ("90837", st.integers(53, 120), ("90785",)),
    ("90846", st.integers(26, 90), ()),
    ("90847", st.integers(26, 90), ()),
    ("90853", st.none() | st.integers(30, 120), ("90785",)),
)


@st.composite
def _ready(draw: st.DrawFn) -> tuple[ClientSession, ReadinessContext]:
    today = draw(st.dates(date(2016, 1, 1), date(2035, 12, 31)))
    earliest = max(ICD10_START, today - timedelta(days=365))
    dos = draw(st.dates(earliest, today))
    first = last = dos

    payer = Payer(
        id="p1",
        name="Acme Health",
        payer_id=draw(st.sampled_from(["60054", "BCBSIL", "87726"])),
        requires_authorization=draw(st.booleans()),
        requires_referring_provider=draw(st.booleans()),
    )
    relationship = draw(st.sampled_from(Relationship))
    subscriber = None
    if relationship is not Relationship.SELF:
        subscriber = Subscriber(
            first_name=draw(_NAMES),
            last_name=draw(_LAST_NAMES),
            date_of_birth=draw(st.dates(date(1930, 1, 1), first)),
            sex=draw(st.sampled_from(Sex)),
            address=draw(_addresses()),
        )
    code, minutes_strategy, add_on_codes = draw(st.sampled_from(_READY_CODES))
    minutes = draw(minutes_strategy)
    add_ons: list[AddOnLine] = []
    if len(add_on_codes) > 0 and draw(st.booleans()):
        add_ons.append(AddOnLine(code=draw(st.sampled_from(add_on_codes)), charge=draw(_money(1, 100))))
    charge = draw(_money(1, 400))
    units = 1 if code in behavioral.PER_SESSION else draw(st.integers(1, 4))

    copay = draw(st.none() | _money(0, 60))
    coinsurance = None if copay is not None else draw(st.none() | st.sampled_from(["0.10", "0.20", "0.50"]))
    coverage = Coverage(
        id="cov1",
        client_id="c1",
        payer_id=payer.id,
        member_id=draw(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=12)),
        effective=draw(st.dates(date(2015, 1, 1), first)),
        termination=draw(st.none() | st.dates(last, date(2040, 12, 31))),
        copay=copay,
        coinsurance=None if coinsurance is None else Decimal(coinsurance),
        relationship=relationship,
        subscriber=subscriber,
    )
    place = draw(st.sampled_from(["11", "11", "02", "10", "03", "12", "53"]))
    modifiers: list[str] = []
    if place in pos.TELEHEALTH:
        modifiers.append(draw(st.sampled_from(["95", "93", "GT"])))
    modifiers.extend(
        m for m in draw(st.lists(st.sampled_from(["HO", "HN", "U4", "59"]), max_size=2, unique=True))
    )
    referring = None
    if payer.requires_referring_provider or draw(st.booleans()):
        referring = ReferringProvider(first_name=draw(_NAMES), last_name=draw(_LAST_NAMES), npi=draw(_npis()))
    resubmission = draw(
        st.sampled_from(
            [
                Resubmission(),
                Resubmission(frequency=Frequency.REPLACEMENT, original_reference="CLM20240001"),
                Resubmission(frequency=Frequency.VOID, original_reference="99887766"),
            ]
        )
    )
    valid = [c for c in BILLABLE_DIAGNOSES if _valid_on(c, dos)]
    diagnoses = draw(st.lists(st.sampled_from(valid), min_size=1, max_size=4, unique=True))
    line_note = draw(st.just("") | st.text(sorted(X12_BASIC_CHARACTERS), min_size=1, max_size=80))
    session = ClientSession(
        client_id="c1",
        date_of_service=dos,
        billing_code=code,
        minutes=minutes,
        units=units,
        charge=charge,
        diagnoses=diagnoses,
        modifiers=modifiers,
        place_of_service=place,
        referring_provider=referring,
        line_note=line_note,
        resubmission=resubmission,
        add_ons=add_ons,
    )
    share = coverage.client_share(session.total_charge)
    paid = draw(st.integers(0, int(share.amount * 100)).map(lambda cents: Money(Decimal(cents) / 100)))
    session = attrs.evolve(session, paid_at_session=paid)

    authorizations: list[Authorization] = []
    if payer.requires_authorization:
        authorizations.append(
            Authorization(
                id="a1",
                client_id="c1",
                payer_id=payer.id,
                number=draw(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=12)),
                billing_codes=draw(st.sampled_from([frozenset(), frozenset({code})])),
                start=draw(st.dates(date(2015, 1, 1), first)),
                end=draw(st.dates(last, date(2040, 12, 31))),
                sessions_authorized=draw(st.integers(1, 40)),
            )
        )
    setup: list[BillingCode] = []
    if draw(st.booleans()):
        setup = [BillingCode(code=c, default_charge="100") for c in {code, *(a.code for a in add_ons)}]
    code_set = draw(
        st.none()
        | st.just(StaticCodeSet(billable=frozenset(BILLABLE_DIAGNOSES), categories=frozenset(_CATEGORIES)))
    )
    context = ReadinessContext.build(
        today=today,
        practice=draw(_practices()),
        client=draw(_clients("c1", first, complete=True)),
        coverages=[coverage],
        payers=[payer],
        authorizations=authorizations,
        sessions=[session],
        code_set=code_set,
        billing_codes=setup,
    )
    return session, context


def ready_sessions() -> SearchStrategy[tuple[ClientSession, ReadinessContext]]:
    """``(session, context)`` pairs ready for every target.

    :func:`sessionkit.readiness.check` with the default rules reports no error
    for CMS-1500, 837P or the client invoice (warnings and info may remain:
    a line note on paper, billability unchecked without a code set, nothing
    due on the invoice). The session is billed to insurance (AUTOMATIC with an
    active primary coverage); the context is complete: practice with address,
    client with date of birth and address, the payer with an electronic id,
    the subscriber when the client is not, an authorization with sessions left
    when the payer requires one, a referring provider when it requires one.
    """
    return _ready()


# -- anything at all -------------------------------------------------------------------------------

_ANY_CODES = st.sampled_from(sorted(behavioral.CATALOGUE)) | st.sampled_from(
    ["99213", "99214", "97110", "H0031", "G0444", "0591T", "T1015"]
)
_ANY_DIAGNOSES = st.sampled_from([*BILLABLE_DIAGNOSES, *_CATEGORIES, "S72.001S", "T74.11XS", "Z99.89", "F99"])
_ANY_MODIFIERS = st.sampled_from(["95", "93", "FQ", "GT", "59", "25", "HO", "U4", "KX", "GA"])


_DATE_POOL = (date(2015, 9, 30), date(2015, 10, 1), date(2024, 2, 29), date(2026, 3, 2), date(2026, 3, 9))


def _any_dates() -> SearchStrategy[date]:
    # A small pool makes dates coincide (same-day sessions, coverage edges, today) often enough.
    return st.sampled_from(_DATE_POOL) | st.dates(date(2010, 1, 1), date(2035, 12, 31))


def _any_referring() -> SearchStrategy[ReferringProvider | None]:
    return st.none() | st.builds(
        ReferringProvider,
        first_name=st.sampled_from(["", " ", "Ada"]),
        last_name=st.sampled_from(["", "Byron"]),
        npi=st.none() | _npis(),
    )


def _any_resubmission() -> SearchStrategy[Resubmission]:
    return st.builds(
        Resubmission,
        frequency=st.sampled_from(Frequency),
        original_reference=st.none() | st.sampled_from(["CLM1", "77889900"]),
    )


def _any_add_ons() -> SearchStrategy[list[AddOnLine]]:
    return st.lists(
        st.builds(
            AddOnLine,
            code=_ANY_CODES,
            units=st.sampled_from(["1", "2", "0.5", "1.25"]),
            charge=_money(0, 200),
            modifiers=st.lists(_ANY_MODIFIERS, max_size=3),
        ),
        max_size=4,
    )


@st.composite
def _any_session(draw: st.DrawFn, client_id: str) -> ClientSession:
    dos = draw(_any_dates())
    return ClientSession(
        client_id=client_id,
        date_of_service=dos,
        billing_code=draw(_ANY_CODES),
        minutes=draw(st.none() | st.integers(0, 1440)),
        units=draw(st.sampled_from(["1", "2", "0.5", "1.125", "9999"])),
        charge=draw(_money(0, 1000) | st.just(Money("99999999.99"))),
        diagnoses=draw(st.lists(_ANY_DIAGNOSES, max_size=4)),
        modifiers=draw(st.lists(_ANY_MODIFIERS, max_size=4)),
        place_of_service=draw(st.sampled_from(sorted(pos.NAMES))),
        bill_to=draw(st.sampled_from(BillTo)),
        paid_at_session=draw(_money(0, 1000)),
        referring_provider=draw(_any_referring()),
        line_note=draw(st.text(max_size=80)),
        resubmission=draw(_any_resubmission()),
        add_ons=draw(_any_add_ons()),
    )


def _other_sessions(client_id: str) -> SearchStrategy[ClientSession]:
    return st.builds(
        ClientSession,
        id=st.sampled_from(["o1", "o2", "o3"]),
        client_id=st.sampled_from([client_id, "other"]),
        date_of_service=_any_dates(),
        billing_code=_ANY_CODES,
        charge=st.just(Money(100)),
        bill_to=st.sampled_from(BillTo),
        add_ons=st.lists(st.builds(AddOnLine, code=_ANY_CODES, charge=st.just(Money(10))), max_size=1),
    )


def readiness_sessions(client_id: str = "c1") -> SearchStrategy[ClientSession]:
    """Any valid session of ``client_id``, claimable or not (every field varies)."""
    return _any_session(client_id)


def _any_code_sets() -> SearchStrategy[StaticCodeSet | None]:
    return st.none() | st.builds(
        StaticCodeSet,
        billable=st.frozensets(st.sampled_from(BILLABLE_DIAGNOSES)),
        categories=st.frozensets(st.sampled_from(_CATEGORIES)),
    )


def _any_authorizations(
    client_id: str, sessions: Iterable[ClientSession], coverages: Iterable[Coverage]
) -> SearchStrategy[AuthorizationUse]:
    saved = tuple(sessions)
    covs = tuple(coverages)

    @st.composite
    def build(draw: st.DrawFn) -> AuthorizationUse:
        start = draw(_any_dates())
        auth = Authorization(
            id=draw(st.sampled_from(["a1", "a2"])),
            client_id=draw(st.sampled_from([client_id, "other"])),
            payer_id=draw(st.sampled_from(["p1", "p2"])),
            number=draw(st.sampled_from(["A1", "XYZ123"])),
            billing_codes=draw(st.frozensets(_ANY_CODES, max_size=2)),
            start=start,
            end=draw(st.dates(start, date(2036, 1, 1))),
            sessions_authorized=draw(st.integers(1, 5)),
        )
        return AuthorizationUse.count(auth, saved, covs)

    return build()


@st.composite
def _any_context(draw: st.DrawFn, client_id: str) -> ReadinessContext:
    others = draw(st.lists(_other_sessions(client_id), max_size=3))
    payers = draw(
        st.lists(
            st.builds(
                Payer,
                id=st.sampled_from(["p1", "p2"]),
                name=st.just("Payer"),
                payer_id=st.none() | st.just("60054"),
                requires_authorization=st.booleans(),
                requires_referring_provider=st.booleans(),
            ),
            max_size=2,
            unique_by=lambda p: p.id,
        )
    )

    @st.composite
    def coverages(draw: st.DrawFn) -> Coverage:
        effective = draw(_any_dates())
        relationship = draw(st.sampled_from(Relationship))
        subscriber = None
        if relationship is not Relationship.SELF and draw(st.booleans()):
            subscriber = Subscriber(
                first_name="Sam",
                last_name="Byron",
                date_of_birth=draw(st.none() | _any_dates()),
                address=draw(st.none() | _any_addresses()),
            )
        return Coverage(
            id=draw(st.sampled_from(["cov1", "cov2"])),
            client_id=draw(st.sampled_from([client_id, "other"])),
            payer_id=draw(st.sampled_from(["p1", "p2", "p3"])),
            member_id="M123",
            effective=effective,
            termination=draw(st.none() | st.dates(effective, date(2036, 1, 1))),
            copay=draw(st.none() | _money(0, 50)),
            coinsurance=draw(st.none() | st.sampled_from([Decimal("0.2"), Decimal(0), Decimal(1)])),
            rank=draw(st.sampled_from(["P", "S", "T"])),
            relationship=relationship,
            subscriber=subscriber,
        )

    covs = draw(st.lists(coverages(), max_size=3))
    return ReadinessContext(
        today=draw(_any_dates()),
        practice=draw(st.none() | _practices(with_address=False)),
        client=draw(
            st.none()
            | _clients(draw(st.sampled_from([client_id, "other"])), date(2035, 1, 1), complete=False)
        ),
        coverages=covs,
        payers=payers,
        authorizations=draw(st.lists(_any_authorizations(client_id, others, covs), max_size=2)),
        other_sessions=others,
        code_set=draw(_any_code_sets()),
        billing_codes=draw(
            st.lists(
                st.builds(BillingCode, code=_ANY_CODES, default_charge=st.just("10"), add_on=st.booleans()),
                max_size=3,
            )
        ),
    )


def readiness_contexts(client_id: str = "c1") -> SearchStrategy[ReadinessContext]:
    """Any context for sessions of ``client_id``: parts missing, mismatched or contradictory included."""
    return _any_context(client_id)
