"""The billing facts: one function for each, called by the entry screen, readiness and claims alike.

Every figure that decides whether and to whom a session is billed is worked
out here, once, so that the session builder, :mod:`sessionkit.readiness`,
:mod:`sessionkit.claims` and the command line cannot disagree:

* **Coverage precedence** (:func:`active_coverages`, :func:`billed_coverage`):
  the coverages of the client in effect on the date of service, ordered by
  rank (primary, secondary, tertiary), then by the later effective date (the
  newer policy of two at the same rank), then by id. Insurance is billed to
  the first; a session billed to the client directly has none.
* **Client share** (:func:`client_share`): per date of service. A session
  billed to the client owes its whole charge (the service and its add-ons);
  an insured one owes the billed coverage's copay (capped at the charge),
  else its coinsurance of the charge, else nothing known.
* **Authorization use** (:class:`AuthorizationUse`): one unit per date of
  service billed to the authorization's payer with a code it covers.
  Sessions billed to the client do not use it, nor do voids (frequency 8); a
  corrected claim's session (frequency 7) shares its date's unit with the
  original, so it never uses a second one. The earliest dates are covered.
* **The client's account** (:func:`account`): charges of the client's
  sessions, less what payers paid, less what they wrote off (every
  adjustment but patient responsibility), less the client's payments that
  came in. What the ledger (:class:`~sessionkit.domain.payments.Payment`) and
  the posted adjudications (:class:`~sessionkit.domain.payments.Adjudication`)
  say is the only input: nothing is counted from a second copy.
* **Line limits** (:attr:`sessionkit.readiness.Target.max_lines`) and the
  **X12 character set** (:mod:`sessionkit.codes.x12`) live with their target
  and code set.

>>> from datetime import date
>>> from sessionkit import Authorization, ClientSession, Coverage
>>> cov = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="M1",
...                effective=date(2026, 1, 1), copay="25.00")
>>> auth = Authorization(id="a1", client_id="c1", payer_id="p1", number="A1",
...                      start=date(2026, 1, 1), end=date(2026, 6, 30), sessions_authorized=2)
>>> sessions = [ClientSession(client_id="c1", date_of_service=date(2026, 1, day),
...                           billing_code="90834", charge="140") for day in (5, 12, 19)]
>>> use = AuthorizationUse.count(auth, sessions, [cov])
>>> use.used, use.remaining, use.over_used, use.dates[0]
(3, 0, 1, datetime.date(2026, 1, 5))
>>> [use.allows(s) for s in sessions]
[True, True, False]
>>> client_share(sessions[0], [cov])
Money('25.00')
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.domain import Authorization, BillTo, ClientSession, Coverage, CoverageRank, Frequency
from sessionkit.domain.payments import Adjudication, Payment
from sessionkit.money import Money

__all__ = [
    "Account",
    "AuthorizationUse",
    "account",
    "active_coverages",
    "authorization_for",
    "billed_coverage",
    "claim_coverage",
    "client_responsibility",
    "client_share",
    "coverage_order",
    "coverage_to_bill",
    "draws_on",
    "over_payment",
    "prior_adjudications",
    "standing_adjudications",
]

_RANK_ORDER = {CoverageRank.PRIMARY: 0, CoverageRank.SECONDARY: 1, CoverageRank.TERTIARY: 2}


def coverage_order(coverage: Coverage) -> tuple[int, int, str]:
    """The sort key of coverage precedence: rank, then the later effective date, then id."""
    return (_RANK_ORDER[coverage.rank], -coverage.effective.toordinal(), coverage.id)


def active_coverages(client_id: str, on: date, coverages: Iterable[Coverage]) -> tuple[Coverage, ...]:
    """The coverages of ``client_id`` in effect on ``on``, in precedence order (see :func:`coverage_order`).

    ``coverages`` may hold other clients' and inactive coverages: they are skipped.
    """
    found = [c for c in coverages if c.client_id == client_id and c.is_active(on)]
    if len(found) > 1:
        found.sort(key=coverage_order)
    return tuple(found)


def billed_coverage(session: ClientSession, coverages: Iterable[Coverage]) -> Coverage | None:
    """The coverage insurance is billed to for ``session``: ``None`` when it goes to the client.

    ``None`` when the session is billed to the client directly or no coverage
    of the client is in effect on its date of service; otherwise the first
    active coverage in precedence order.
    """
    if session.bill_to is BillTo.CLIENT:
        return None
    best: Coverage | None = None
    for c in coverages:
        if (
            c.client_id == session.client_id
            and c.is_active(session.date_of_service)
            and (best is None or coverage_order(c) < coverage_order(best))
        ):
            best = c
    return best


def client_share(session: ClientSession, coverages: Iterable[Coverage]) -> Money:
    """What the client owes for ``session`` (one date of service).

    The whole :attr:`~ClientSession.total_charge` when the session is billed
    to the client or no coverage is in effect; otherwise the billed coverage's
    :meth:`~Coverage.client_share` of the total charge.
    """
    total = session.total_charge
    coverage = billed_coverage(session, coverages)
    return total if coverage is None else coverage.client_share(total)


def over_payment(session: ClientSession, coverages: Iterable[Coverage]) -> Money:
    """The credit paid-at-session would create: what was paid above the client's share (else zero)."""
    return session.paid_at_session.minus_floor(client_share(session, coverages))


def draws_on(authorization: Authorization, session: ClientSession, coverages: Iterable[Coverage]) -> bool:
    """Whether ``session`` uses a unit of ``authorization``.

    It does when it is the authorization's client's, its date lies in the
    authorization's dates, the authorization covers its billing code, it is
    not a void (frequency 8), and it is billed to the authorization's payer
    (its :func:`billed_coverage` is with that payer; so never when billed to
    the client).
    """
    if (
        session.client_id != authorization.client_id
        or not authorization.start <= session.date_of_service <= authorization.end
        or not authorization.covers(session.billing_code)
        or session.resubmission.frequency is Frequency.VOID
    ):
        return False
    coverage = billed_coverage(session, coverages)
    return coverage is not None and coverage.payer_id == authorization.payer_id


class _SortedDates(tuple[date, ...]):
    """Dates already sorted and unique (made by :meth:`AuthorizationUse.with_session`): no sort needed."""

    __slots__ = ()


def _dates(values: Iterable[date]) -> tuple[date, ...]:
    if type(values) is _SortedDates:
        return tuple(values)  # a copy in C; sorting again made counting an import quadratic
    return tuple(sorted(set(values)))


@attrs.frozen(kw_only=True)
class AuthorizationUse:
    """An authorization with the dates of service that use it.

    ``dates`` holds each date of service that uses a unit, once, sorted: all
    the sessions of one date (a corrected claim's session beside its original,
    say) share that date's unit. The earliest dates are the covered ones: a
    date is allowed when fewer than ``sessions_authorized`` used dates come
    before it, whatever order sessions were entered or are checked in.
    """

    authorization: Authorization
    dates: tuple[date, ...] = attrs.field(default=(), converter=_dates)

    @property
    def used(self) -> int:
        """How many dates of service use the authorization."""
        return len(self.dates)

    @property
    def remaining(self) -> int:
        """Units left (never negative)."""
        return max(0, self.authorization.sessions_authorized - len(self.dates))

    @property
    def over_used(self) -> int:
        """Units used beyond those authorized (never negative)."""
        return max(0, len(self.dates) - self.authorization.sessions_authorized)

    @property
    def sessions_authorized(self) -> int:
        """How many sessions the payer authorized."""
        return self.authorization.sessions_authorized

    @property
    def end(self) -> date:
        """The last date the authorization covers."""
        return self.authorization.end

    def allows(self, session: ClientSession) -> bool:
        """Whether ``session``'s date of service is within the units authorized (earliest dates first).

        Its date must lie in the authorization's dates, and fewer than
        ``sessions_authorized`` used dates may come before it (whether or not
        its own date is counted yet).
        """
        auth = self.authorization
        on = session.date_of_service
        return auth.start <= on <= auth.end and bisect_left(self.dates, on) < auth.sessions_authorized

    def with_session(self, session: ClientSession, coverages: Iterable[Coverage]) -> AuthorizationUse:
        """The use once ``session`` is saved too (unchanged when it does not use a unit)."""
        on = session.date_of_service
        if on in self.dates or not draws_on(self.authorization, session, coverages):
            return self
        i = bisect_left(self.dates, on)
        return AuthorizationUse(
            authorization=self.authorization, dates=_SortedDates((*self.dates[:i], on, *self.dates[i:]))
        )

    @classmethod
    def count(
        cls, authorization: Authorization, sessions: Iterable[ClientSession], coverages: Iterable[Coverage]
    ) -> AuthorizationUse:
        """Count the dates of ``sessions`` that use a unit of ``authorization`` (see :func:`draws_on`).

        ``coverages`` are the client's coverages (others are skipped): they say
        which payer each session is billed to.
        """
        coverages = tuple(coverages)
        return cls(
            authorization=authorization,
            dates=[s.date_of_service for s in sessions if draws_on(authorization, s, coverages)],
        )


def authorization_for(
    session: ClientSession, uses: Iterable[AuthorizationUse], coverages: Iterable[Coverage]
) -> AuthorizationUse | None:
    """The authorization a claim for ``session`` quotes (prior-auth number), or ``None``.

    Among the authorizations of the billed payer that cover the session's code
    on its date, the first (by start date, then id) that still allows the date;
    else the first of them (an exhausted one: readiness says so).
    """
    coverage = billed_coverage(session, coverages)
    if coverage is None:
        return None
    candidates = sorted(
        (
            u
            for u in uses
            if u.authorization.client_id == session.client_id
            and u.authorization.payer_id == coverage.payer_id
            and u.authorization.covers(session.billing_code)
            and u.authorization.is_active(session.date_of_service)
        ),
        key=lambda u: (u.authorization.start, u.authorization.id),
    )
    for use in candidates:
        if use.allows(session):
            return use
    return candidates[0] if candidates else None


_NO_MONEY = Decimal("0.00")


@attrs.frozen(kw_only=True)
class Account:
    """A client's account: what was charged, paid and written off, and the balance."""

    charges: Decimal = _NO_MONEY
    """The total charge of every session (the service and its add-ons)."""
    payer_paid: Decimal = _NO_MONEY
    """What payers paid (a reversal counts negative)."""
    written_off: Decimal = _NO_MONEY
    """Payers' adjustments the client does not owe (every group but PR)."""
    client_paid: Decimal = _NO_MONEY
    """The client's payments that came in (applied to sessions or on account)."""

    @property
    def balance(self) -> Decimal:
        """Charges less payer payments, write-offs and client payments: owed by client or payer.

        Negative: a credit on the client's account.
        """
        return self.charges - self.payer_paid - self.written_off - self.client_paid


def account(
    sessions: Iterable[ClientSession],
    adjudications: Iterable[Adjudication],
    payments: Iterable[Payment],
) -> Account:
    """The account of the client whose ``sessions``, ``adjudications`` and ``payments`` are given.

    Only payments that came in (:attr:`~sessionkit.domain.payments.Payment.counts`)
    count; a pending or declined card charge does not.

    >>> from datetime import date, datetime, timezone
    >>> from sessionkit.domain.payments import Payment
    >>> s = ClientSession(client_id="c1", date_of_service=date(2026, 1, 5),
    ...                   billing_code="90834", charge="140")
    >>> paid = Payment(id="p1", client_id="c1", amount="25", method="cash",
    ...                received_at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
    >>> account([s], [], [paid]).balance
    Decimal('115.00')
    """
    charges = sum((s.total_charge.amount for s in sessions), _NO_MONEY)
    payer_paid = _NO_MONEY
    written_off = _NO_MONEY
    for a in adjudications:
        payer_paid += a.paid
        written_off += a.written_off
    client_paid = sum((p.amount.amount for p in payments if p.counts), _NO_MONEY)
    return Account(charges=charges, payer_paid=payer_paid, written_off=written_off, client_paid=client_paid)


def client_responsibility(
    session: ClientSession, coverages: Iterable[Coverage], adjudications: Iterable[Adjudication]
) -> Money:
    """What the client owes for ``session``: the payer's word once its EOB is posted, else the estimate.

    Once an adjudication of the billed payer (the payer of
    :func:`billed_coverage`; a later rank's, a secondary payer's, when one is
    posted too) has lines of the session, the client owes the patient
    responsibility (group PR adjustments) of those lines, net of reversals
    (``CLP02 = 22`` carries negative amounts); an adjudication reversed
    without a replacement (the lines' charges net to zero) counts as none.
    Before that, :func:`client_share` (the copay or coinsurance estimate). A
    session billed to the client owes its whole charge.

    The one home of the figure: invoices, statements and the payments
    service call it.

    >>> from datetime import date, datetime, timezone
    >>> from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
    >>> cov = Coverage(id="k1", client_id="c1", payer_id="p1", member_id="M1",
    ...                effective=date(2026, 1, 1), copay="25.00")
    >>> s = ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 1, 5),
    ...                   billing_code="90834", charge="140")
    >>> client_responsibility(s, [cov], [])
    Money('25.00')
    >>> eob = Adjudication(id="a1", claim_record_id="r1", client_id="c1", payer_id="p1",
    ...     patient_control_number="SK0000000001", status_code="1", charge="140", paid="80",
    ...     lines=[LineAdjudication(session_id="s1", code="90834", charge="140", paid="80",
    ...            adjustments=[Adjustment(group="CO", reason="45", amount="20"),
    ...                         Adjustment(group="PR", reason="3", amount="40")])],
    ...     paid_on=date(2026, 2, 1), source_key="eob-1",
    ...     posted_at=datetime(2026, 2, 2, tzinfo=timezone.utc))
    >>> client_responsibility(s, [cov], [eob])
    Money('40.00')
    """
    coverage = billed_coverage(session, coverages)
    if coverage is None:
        return session.total_charge
    ranks: dict[str, int] = {}
    for c in coverages:
        if c.client_id == session.client_id and c.is_active(session.date_of_service):
            ranks.setdefault(c.payer_id, _RANK_ORDER[c.rank])
    by_payer: dict[str, tuple[Decimal, Decimal]] = {}  # payer -> (net charge, net PR) of the session's lines
    for a in adjudications:
        if a.client_id == session.client_id and a.payer_id in ranks:
            for line in a.lines_for(session.id):
                charge, owed = by_payer.get(a.payer_id, (_NO_MONEY, _NO_MONEY))
                by_payer[a.payer_id] = (charge + line.charge, owed + line.patient_responsibility)
    decided = [(ranks[payer], payer) for payer, (charge, _) in by_payer.items() if charge != 0]
    if not decided or coverage.payer_id not in {payer for _, payer in decided}:
        return client_share(session, coverages)
    _, last = max(decided)
    return Money(max(by_payer[last][1], _NO_MONEY))


# -- coordination of benefits: which payer is billed next ------------------------------------------


def _adjudicates(adjudication: Adjudication, session: ClientSession, coverage: Coverage) -> bool:
    """Whether ``adjudication`` is ``coverage``'s payer's answer for ``session`` (it has a line of it)."""
    if adjudication.client_id != session.client_id:
        return False
    if adjudication.coverage_id is not None:
        if adjudication.coverage_id != coverage.id:
            return False
    elif adjudication.payer_id != coverage.payer_id:
        return False
    return any(line.session_id == session.id for line in adjudication.lines)


def _reversed_by(reversal: Adjudication, standing: list[Adjudication]) -> Adjudication | None:
    """The standing adjudication ``reversal`` cancels: same payer claim number, else claim record, else the latest."""
    latest_first = standing[::-1]
    if reversal.payer_claim_number is not None:
        for s in latest_first:
            if s.payer_claim_number == reversal.payer_claim_number:
                return s
    for s in latest_first:
        if s.claim_record_id == reversal.claim_record_id:
            return s
    return latest_first[0] if latest_first else None


def standing_adjudications(
    session: ClientSession, coverage: Coverage, adjudications: Iterable[Adjudication]
) -> tuple[Adjudication, ...]:
    """``coverage``'s payer's adjudications of ``session`` that stand: posted and not reversed.

    An adjudication is the coverage's (its ``coverage_id``, or when it has
    none its ``payer_id``) and the session's (it has a line of the session:
    an 835's ``SVC``, a hand-entered EOB's line). A reversal (``CLP02 = 22``)
    cancels the standing adjudication with its payer claim number, else the
    one of its claim record, else the latest; in posting order
    (``posted_at``, then id), the oldest first.
    """
    mine = sorted(
        (a for a in adjudications if _adjudicates(a, session, coverage)), key=lambda a: (a.posted_at, a.id)
    )
    standing: list[Adjudication] = []
    for a in mine:
        if not a.reversal:
            standing.append(a)
            continue
        hit = _reversed_by(a, standing)
        if hit is not None:
            standing.remove(hit)
    return tuple(standing)


def coverage_to_bill(
    session: ClientSession, coverages: Iterable[Coverage], adjudications: Iterable[Adjudication]
) -> Coverage | None:
    """The coverage ``session`` is to be billed to next: ``None`` when no payer is left to bill.

    The session's coverages in effect on its date, in precedence order
    (:func:`active_coverages`): the first whose payer has no standing
    adjudication of the session (:func:`standing_adjudications`). So the
    primary (:func:`billed_coverage`) until its payer's adjudication is
    posted; then the secondary, then the tertiary. ``None`` when the session
    is billed to the client directly, no coverage is in effect, or every
    coverage in effect has answered.

    **A denial counts as an answer.** A primary's denial (``CLP02 = 4``, or
    lines paid nothing with CO/PI/OA adjustments) lets the secondary be billed:
    the 837P carries the denial's adjustments (``CAS``) and a paid amount of
    zero in loop 2320 (``AMT*D``) and per line in 2430 (``SVD``, ``CAS``).
    The 005010X222A1 guide sends every adjustment of the prior payer to the
    next one (sections 1.4.1.1.1 and 1.4.1.1.2, coordination of benefits at
    claim and service line level), and its balancing rules (1.4.4.1) hold
    "regardless of whether the Payer Paid Amount is a positive amount,
    negative amount, or Zero" (X12 RFI 1583): a denial is an adjudication
    like any other. Whether a denial reason (a non-covered service, CO-96)
    lets the secondary pay is that payer's decision, not the
    biller's. An adjudication without a line of the session (a claim-level
    EOB entered without lines) does not count: the secondary claim needs the
    lines' adjudication.

    **A corrected or void claim goes to the payer whose claim it corrects.** A
    session with frequency 7 or 8 whose original reference is the payer claim
    number of a standing adjudication of it is billed to that adjudication's
    coverage (a replacement of the primary's paid claim goes to the primary,
    never to the secondary with the primary's claim number); otherwise (the
    claim corrected was not adjudicated yet) it is billed as above.
    """
    if session.bill_to is BillTo.CLIENT:
        return None
    adjudications = tuple(adjudications)
    in_effect = active_coverages(session.client_id, session.date_of_service, coverages)
    reference = session.resubmission.original_reference
    if session.resubmission.frequency is not Frequency.ORIGINAL and reference:
        for coverage in in_effect:
            if any(
                a.payer_claim_number == reference
                for a in standing_adjudications(session, coverage, adjudications)
            ):
                return coverage
    for coverage in in_effect:
        if not standing_adjudications(session, coverage, adjudications):
            return coverage
    return None


def claim_coverage(
    session: ClientSession, coverages: Iterable[Coverage], adjudications: Iterable[Adjudication]
) -> Coverage | None:
    """The coverage a claim for ``session`` goes to: :func:`coverage_to_bill`, else the billed one.

    When every coverage in effect has answered, a claim for the session (a
    corrected or void claim) goes to :func:`billed_coverage`; ``None`` when the
    session goes to the client. Readiness judges, and claims are built, for it.
    """
    coverages = tuple(coverages)
    found = coverage_to_bill(session, coverages, adjudications)
    return found if found is not None else billed_coverage(session, coverages)


def prior_adjudications(
    session: ClientSession,
    coverage: Coverage,
    coverages: Iterable[Coverage],
    adjudications: Iterable[Adjudication],
) -> tuple[tuple[Coverage, Adjudication], ...]:
    """The earlier payers' answers a claim for ``session`` to ``coverage`` carries (837P loops 2320/2330).

    For each coverage in effect before ``coverage`` in precedence order, its
    latest standing adjudication of the session (skipped when it has none:
    then ``coverage`` is not the coverage to bill). Empty for the first payer.
    """
    adjudications = tuple(adjudications)
    found: list[tuple[Coverage, Adjudication]] = []
    for earlier in active_coverages(session.client_id, session.date_of_service, coverages):
        if earlier.id == coverage.id:
            break
        standing = standing_adjudications(session, earlier, adjudications)
        if standing:
            found.append((earlier, standing[-1]))
    return tuple(found)
