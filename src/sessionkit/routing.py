"""Where a session is billed: an insurance claim, a client invoice, or both.

The rules (the entry screen's *Bill To*; coverage precedence and the client's
share come from :mod:`sessionkit.facts`):

* ``BillTo.CLIENT`` (bill the client directly): the client invoice only.
* ``BillTo.AUTOMATIC`` with no coverage of the client active on the date of
  service: the client invoice only.
* ``BillTo.AUTOMATIC`` with coverage active on the date of service: the
  insurance claim, plus the client invoice when the client's share is more
  than what was paid at the session.

Every session therefore has at least one destination.

The queues (the sessions waiting for a claim, or for an invoice) are a
service over the ports: :func:`sessions_for` asks the unit of work's
repositories for the sessions and coverages and routes each session, so
every adapter gives the same answer without knowing the rules.

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
from typing import TYPE_CHECKING

from sessionkit.domain import BillTo, ClientSession, Coverage
from sessionkit.facts import active_coverages, billed_coverage, client_share, over_payment

if TYPE_CHECKING:
    from sessionkit.ports import UnitOfWork

__all__ = [
    "Destination",
    "active_coverages",
    "client_share",
    "over_payment",
    "route",
    "routed_to",
    "sessions_for",
]


class Destination(str, enum.Enum):
    """A place a session is billed to (the practice's insurance claim queue, or its client invoice queue)."""

    INSURANCE_CLAIM = "insurance_claim"
    CLIENT_INVOICE = "client_invoice"


def route(session: ClientSession, coverages: Iterable[Coverage]) -> frozenset[Destination]:
    """The billing destinations of ``session`` given the client's coverages (never empty).

    ``coverages`` may hold coverages of other clients and inactive ones: only
    those of the session's client active on its date of service count.
    """
    if session.bill_to is BillTo.CLIENT:
        return frozenset({Destination.CLIENT_INVOICE})
    coverages = tuple(coverages)
    if billed_coverage(session, coverages) is None:
        return frozenset({Destination.CLIENT_INVOICE})
    if client_share(session, coverages) > session.paid_at_session:
        return frozenset({Destination.INSURANCE_CLAIM, Destination.CLIENT_INVOICE})
    return frozenset({Destination.INSURANCE_CLAIM})


def routed_to(
    destination: Destination, sessions: Iterable[ClientSession], coverages: Iterable[Coverage]
) -> list[ClientSession]:
    """The ``sessions`` whose :func:`route` with ``coverages`` contains ``destination``, in their order.

    ``coverages`` may hold every client's coverages; each session is routed
    with its own client's.
    """
    by_client: dict[str, list[Coverage]] = {}
    for coverage in coverages:
        by_client.setdefault(coverage.client_id, []).append(coverage)
    return [s for s in sessions if destination in route(s, by_client.get(s.client_id, ()))]


def sessions_for(uow: UnitOfWork, destination: Destination) -> list[ClientSession]:
    """The sessions of ``uow`` routed to ``destination``, by date of service then id.

    Each session is routed with the coverages the same unit of work sees
    (its own writes included), so a coverage added or deleted in the unit
    moves sessions between the queues at once.

    >>> from datetime import date
    >>> from sessionkit import ClientSession, Coverage
    >>> from sessionkit.adapters.memory import InMemoryUnitOfWork
    >>> uow = InMemoryUnitOfWork().seed(
    ...     coverages=[Coverage(id="k1", client_id="c1", payer_id="p1", member_id="M1",
    ...                         effective=date(2026, 1, 1))],
    ...     sessions=[ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 3, 2),
    ...                             billing_code="90834", charge="140.00")])
    >>> with uow:
    ...     [s.id for s in sessions_for(uow, Destination.INSURANCE_CLAIM)]
    ['s1']
    """
    return routed_to(destination, uow.sessions.list(), uow.coverages.list())
