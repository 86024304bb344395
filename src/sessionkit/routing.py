"""Where a session is billed: an insurance claim, a client invoice, or both.

The rules (DOMAIN.md section 2, *Bill To*):

* ``BillTo.CLIENT`` (bill the client directly): the client invoice only.
* ``BillTo.AUTOMATIC`` with no coverage of the client active on the date of
  service: the client invoice only.
* ``BillTo.AUTOMATIC`` with coverage active on the date of service: the
  insurance claim, plus the client invoice when the client's share is more
  than what was paid at the session.

Every session therefore has at least one destination.

>>> from datetime import date
>>> from sessionkit import ClientSession, Coverage
>>> s = ClientSession(client_id="c1", date_of_service=date(2026, 3, 2),
...                   billing_code="90834", charge="140.00")
>>> sorted(d.value for d in route(s, []))
['client_invoice']
>>> cov = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="M1",
...                effective=date(2026, 1, 1), copay="25.00")
>>> sorted(d.value for d in route(s, [cov]))
['client_invoice', 'insurance_claim']
>>> import attrs
>>> sorted(d.value for d in route(attrs.evolve(s, paid_at_session="25.00"), [cov]))
['insurance_claim']
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

from sessionkit.domain import BillTo, ClientSession, Coverage, CoverageRank
from sessionkit.money import Money

__all__ = ["Destination", "active_coverages", "client_share", "over_payment", "route"]


class Destination(str, enum.Enum):
    """A place a session is billed to (the seed's "Insurance" and "Invoice Clients" lists)."""

    INSURANCE_CLAIM = "insurance_claim"
    CLIENT_INVOICE = "client_invoice"


_RANK_ORDER = {CoverageRank.PRIMARY: 0, CoverageRank.SECONDARY: 1, CoverageRank.TERTIARY: 2}


def active_coverages(client_id: str, on: date, coverages: Iterable[Coverage]) -> tuple[Coverage, ...]:
    """The coverages of ``client_id`` in effect on ``on``, primary first (then by effective date, id)."""
    found = [c for c in coverages if c.client_id == client_id and c.is_active(on)]
    found.sort(key=lambda c: (_RANK_ORDER[c.rank], c.effective, c.id))
    return tuple(found)


def client_share(session: ClientSession, coverages: Iterable[Coverage]) -> Money:
    """What the client owes for ``session``.

    The whole :attr:`~ClientSession.total_charge` when the session is billed to
    the client or no coverage of the client is active on its date of service;
    otherwise the first active coverage's :meth:`~Coverage.client_share` of the
    total charge (its copay, counted once per session and capped at the charge,
    else its coinsurance rate times the charge, else zero).
    """
    total = session.total_charge
    if session.bill_to is BillTo.CLIENT:
        return total
    active = active_coverages(session.client_id, session.date_of_service, coverages)
    if not active:
        return total
    return active[0].client_share(total)


def over_payment(session: ClientSession, coverages: Iterable[Coverage]) -> Money:
    """The credit that paid-at-session would create: what was paid above the client's share (else 0)."""
    return session.paid_at_session.minus_floor(client_share(session, coverages))


def route(session: ClientSession, coverages: Iterable[Coverage]) -> frozenset[Destination]:
    """The billing destinations of ``session`` given the client's coverages (never empty).

    ``coverages`` may hold coverages of other clients and inactive ones: only
    those of the session's client active on its date of service count.
    """
    if session.bill_to is BillTo.CLIENT:
        return frozenset({Destination.CLIENT_INVOICE})
    coverages = tuple(coverages)
    if not active_coverages(session.client_id, session.date_of_service, coverages):
        return frozenset({Destination.CLIENT_INVOICE})
    if client_share(session, coverages) > session.paid_at_session:
        return frozenset({Destination.INSURANCE_CLAIM, Destination.CLIENT_INVOICE})
    return frozenset({Destination.INSURANCE_CLAIM})
