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

from sessionkit.domain import BillTo, ClientSession, Coverage
from sessionkit.facts import active_coverages, billed_coverage, client_share, over_payment

__all__ = ["Destination", "active_coverages", "client_share", "over_payment", "route"]


class Destination(str, enum.Enum):
    """A place a session is billed to (the seed's "Insurance" and "Invoice Clients" lists)."""

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
