"""Routing: insurance claim and/or client invoice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from sessionkit import AddOnLine, BillTo, ClientSession, Coverage, CoverageRank, Money
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.routing import (
    Destination,
    active_coverages,
    client_share,
    over_payment,
    route,
    routed_to,
    sessions_for,
)

DAY = date(2026, 3, 2)

money = st.decimals(min_value=0, max_value=1000, places=2).map(Money)


def _session(**kw: object) -> ClientSession:
    base: dict[str, object] = {
        "client_id": "c1",
        "date_of_service": DAY,
        "billing_code": "90834",
        "charge": "140.00",
    }
    base.update(kw)
    return ClientSession(**base)  # type: ignore[arg-type]


@st.composite
def coverages(draw: st.DrawFn) -> Coverage:
    """A coverage of client c1 or c2, effective around DAY, with a copay, a coinsurance or neither."""
    start = DAY + timedelta(days=draw(st.integers(-30, 30)))
    end = draw(st.none() | st.integers(0, 60).map(lambda n: start + timedelta(days=n)))
    kind = draw(st.sampled_from(["copay", "coins", "none"]))
    return Coverage(
        id=draw(st.sampled_from(["k1", "k2", "k3"])),
        client_id=draw(st.sampled_from(["c1", "c2"])),
        payer_id="p1",
        member_id="M1",
        rank=draw(st.sampled_from(list(CoverageRank))),
        effective=start,
        termination=end,
        copay=draw(money) if kind == "copay" else None,
        coinsurance=draw(st.decimals(0, 1, places=2)) if kind == "coins" else None,
    )


@st.composite
def sessions(draw: st.DrawFn) -> ClientSession:
    """A session of client c1 on DAY with random charge, payment, bill-to and add-ons."""
    return _session(
        charge=draw(money),
        paid_at_session=draw(money),
        bill_to=draw(st.sampled_from(list(BillTo))),
    )


@given(sessions(), st.lists(coverages(), max_size=4))
def test_route_is_total_and_follows_the_rules(session: ClientSession, covs: list[Coverage]) -> None:
    """Every session has a destination, and it is the one the bill-to rules give."""
    result = route(session, covs)
    active = [c for c in covs if c.client_id == "c1" and c.is_active(DAY)]
    if session.bill_to is BillTo.CLIENT or not active:
        assert result == {Destination.CLIENT_INVOICE}
    else:
        assert Destination.INSURANCE_CLAIM in result
        share = client_share(session, covs)
        assert (Destination.CLIENT_INVOICE in result) == (share > session.paid_at_session)
    assert result


@given(sessions(), st.lists(coverages(), max_size=4))
def test_over_payment_is_what_was_paid_above_the_share(session: ClientSession, covs: list[Coverage]) -> None:
    """The credit is paid minus share when positive, else zero."""
    share = client_share(session, covs)
    expected = max(session.paid_at_session.amount - share.amount, Decimal(0))
    assert over_payment(session, covs) == Money(expected)


def test_client_share_is_copay_else_coinsurance_else_whole_charge() -> None:
    """Copay wins over coinsurance; no coverage or bill-to CLIENT means the whole charge."""
    copay = Coverage(id="k1", client_id="c1", payer_id="p", member_id="MM", effective=DAY, copay="25")
    coins = Coverage(id="k2", client_id="c1", payer_id="p", member_id="MM", effective=DAY, coinsurance="0.2")
    s = _session()
    assert client_share(s, [copay]) == Money("25.00")
    assert client_share(s, [coins]) == Money("28.00")
    assert client_share(s, []) == Money("140.00")
    assert client_share(attrs.evolve(s, bill_to=BillTo.CLIENT), [copay]) == Money("140.00")


def test_client_share_covers_add_ons() -> None:
    """Coinsurance applies to the total charge of the session's lines (the service and its add-ons)."""
    coins = Coverage(id="k2", client_id="c1", payer_id="p", member_id="MM", effective=DAY, coinsurance="0.5")
    s = _session(add_ons=[AddOnLine(code="90785", charge="20.00")])
    assert client_share(s, [coins]) == Money("80.00")


def test_active_coverages_orders_primary_first_and_skips_others() -> None:
    """Only the client's coverages in effect count, primary rank first."""
    sec = Coverage(id="a", client_id="c1", payer_id="p", member_id="MM", effective=DAY, rank="S")
    pri = Coverage(id="b", client_id="c1", payer_id="p", member_id="MM", effective=DAY, rank="P")
    other = Coverage(id="c", client_id="c2", payer_id="p", member_id="MM", effective=DAY)
    ended = Coverage(
        id="d",
        client_id="c1",
        payer_id="p",
        member_id="MM",
        effective=date(2020, 1, 1),
        termination=date(2020, 2, 1),
    )
    assert [c.id for c in active_coverages("c1", DAY, [sec, other, ended, pri])] == ["b", "a"]


def test_paid_share_goes_to_insurance_only() -> None:
    """A client who paid the copay is not invoiced."""
    copay = Coverage(id="k1", client_id="c1", payer_id="p", member_id="MM", effective=DAY, copay="25")
    assert route(_session(paid_at_session="25"), [copay]) == {Destination.INSURANCE_CLAIM}
    assert route(_session(paid_at_session="10"), [copay]) == {
        Destination.INSURANCE_CLAIM,
        Destination.CLIENT_INVOICE,
    }


@given(
    st.lists(sessions(), max_size=5),
    st.lists(coverages(), max_size=4, unique_by=lambda c: c.id),
    st.sampled_from(["c1", "c2"]),
)
def test_sessions_for_routes_every_stored_session_with_the_units_coverages(
    drawn: list[ClientSession], covs: list[Coverage], other_client: str
) -> None:
    """A queue holds the stored sessions whose route, with the coverages the unit sees, has the destination."""
    stored = [
        attrs.evolve(s, id=f"s{i}", client_id=other_client if i % 2 else "c1") for i, s in enumerate(drawn)
    ]
    uow = InMemoryUnitOfWork().seed(coverages=covs, sessions=stored)
    with uow:
        listed = uow.sessions.list()
        for destination in Destination:
            queue = sessions_for(uow, destination)
            by_client = {c: [k for k in covs if k.client_id == c] for c in ("c1", "c2")}
            assert queue == [s for s in listed if destination in route(s, by_client[s.client_id])]
            assert queue == routed_to(destination, listed, covs)
        # a coverage written in the unit counts at once
        uow.coverages.put(
            Coverage(id="zz", client_id="c1", payer_id="p1", member_id="M1", effective=date(2000, 1, 1))
        )
        claims = sessions_for(uow, Destination.INSURANCE_CLAIM)
        assert claims == routed_to(Destination.INSURANCE_CLAIM, listed, uow.coverages.list())
        assert all(s.bill_to is BillTo.AUTOMATIC for s in claims)
        assert {s.id for s in listed if s.client_id == "c1" and s.bill_to is BillTo.AUTOMATIC} <= {
            s.id for s in claims
        }
