"""What the readiness rules may look at besides the session itself."""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from sessionkit.codes.icd10 import DiagnosisCodeSet
from sessionkit.domain import (
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    Payer,
    PracticeSetup,
)
from sessionkit.domain.payments import Adjudication
from sessionkit.facts import AuthorizationUse, claim_coverage, coverage_order, prior_adjudications

if TYPE_CHECKING:
    from sessionkit.ports import UnitOfWork

__all__ = ["AuthorizationUse", "ReadinessContext", "active_coverage", "first_coverage"]

_UNKNOWN = object()
_CACHE_MAX = 4096
_ONE_DAY = timedelta(days=1)
_STATUS_BY_CODE_SET: weakref.WeakKeyDictionary[DiagnosisCodeSet, dict[str, int]] = weakref.WeakKeyDictionary()


def _payers(value: Mapping[str, Payer] | Iterable[Payer]) -> Mapping[str, Payer]:
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return MappingProxyType({p.id: p for p in value})


def _billing_codes(value: Mapping[str, BillingCode] | Iterable[BillingCode]) -> Mapping[str, BillingCode]:
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return MappingProxyType({b.code: b for b in value})


def _authorizations(values: Iterable[AuthorizationUse | Authorization]) -> tuple[AuthorizationUse, ...]:
    return tuple(v if isinstance(v, AuthorizationUse) else AuthorizationUse(authorization=v) for v in values)


def _coverages(values: Iterable[Coverage]) -> tuple[Coverage, ...]:
    return tuple(values)


def _sessions(values: Iterable[ClientSession]) -> tuple[ClientSession, ...]:
    return tuple(values)


def _adjudications(values: Iterable[Adjudication]) -> tuple[Adjudication, ...]:
    return tuple(values)


def _by_session(adjudications: tuple[Adjudication, ...]) -> Mapping[str, tuple[Adjudication, ...]]:
    found: dict[str, list[Adjudication]] = {}
    for a in adjudications:
        for session_id in dict.fromkeys(line.session_id for line in a.lines):
            found.setdefault(session_id, []).append(a)
    return MappingProxyType({k: tuple(v) for k, v in found.items()})


def _index(sessions: tuple[ClientSession, ...]) -> Mapping[date, tuple[ClientSession, ...]]:
    # Most dates have one session: a one-session tuple at once, grown on the rare second one.
    by_date: dict[date, tuple[ClientSession, ...]] = {}
    get = by_date.get
    for s in sessions:
        day = s.date_of_service
        same = get(day)
        by_date[day] = (s,) if same is None else (*same, s)
    return MappingProxyType(by_date)


@attrs.frozen(kw_only=True)
class ReadinessContext:
    """Everything besides the session that the rules may read.

    Every part is optional except ``today``: a missing part (no client, no
    practice) is reported as a finding, never raised. Rules never read the
    clock: ``today`` is the date the check is made on.

    :ivar practice: the practice setup (billing provider).
    :ivar client: the session's client.
    :ivar coverages: the client's coverages.
    :ivar payers: the practice's payers by id (a mapping, or an iterable of :class:`Payer`).
    :ivar authorizations: the client's authorizations with their uses
        (:class:`AuthorizationUse`; bare :class:`Authorization` objects count as unused).
    :ivar other_sessions: the client's other saved sessions: at least those on the
        same dates (same-day rules); all of them for the optional payer rules that
        look back in time. The session being checked is skipped if it is included.
    :ivar code_set: an ICD-10-CM release to check billability against; ``None``
        gives an INFO finding instead.
    :ivar billing_codes: the practice's billing codes setup by code (add-on knowledge).
    :ivar adjudications: the client's payers' adjudications as posted: they say which
        coverage a session is billed to next (:func:`sessionkit.facts.coverage_to_bill`).
    :ivar today: the date of the check.
    """

    today: date
    practice: PracticeSetup | None = None
    client: Client | None = None
    coverages: tuple[Coverage, ...] = attrs.field(default=(), converter=_coverages)
    payers: Mapping[str, Payer] = attrs.field(factory=dict, converter=_payers)
    authorizations: tuple[AuthorizationUse, ...] = attrs.field(default=(), converter=_authorizations)
    other_sessions: tuple[ClientSession, ...] = attrs.field(default=(), converter=_sessions)
    code_set: DiagnosisCodeSet | None = None
    billing_codes: Mapping[str, BillingCode] = attrs.field(factory=dict, converter=_billing_codes)
    adjudications: tuple[Adjudication, ...] = attrs.field(default=(), converter=_adjudications, repr=False)
    _adjudications_by_session: Mapping[str, tuple[Adjudication, ...]] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )
    _by_date: Mapping[date, tuple[ClientSession, ...]] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    _coverage_cache: dict[tuple[date, str | None], Coverage | None] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
    )
    _coverage_breaks: tuple[date, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)
    """The dates on which some coverage starts or stops being in effect (its effective date, the day after
    its termination), sorted: between two of them every coverage is in effect on every day or on none, so
    :meth:`coverage_on` answers a span once."""
    _coverage_spans: dict[tuple[int, str | None], Coverage | None] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
    )

    _diagnosis_cache: dict[str, int] = attrs.field(factory=dict, init=False, eq=False, repr=False, hash=False)
    _authorization_cache: dict[tuple[str, str, str], tuple[AuthorizationUse, ...]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
    )
    _fused_state: dict[int, object] = attrs.field(factory=dict, init=False, eq=False, repr=False, hash=False)
    """Per-plan caches of the fused checker (:mod:`sessionkit.readiness._fused`)."""

    @_coverage_breaks.default
    def _find_coverage_breaks(self) -> tuple[date, ...]:
        breaks = set()
        for c in self.coverages:
            breaks.add(c.effective)
            if c.termination is not None and c.termination < date.max:
                breaks.add(c.termination + _ONE_DAY)
        return tuple(sorted(breaks))

    @_adjudications_by_session.default
    def _index_adjudications(self) -> Mapping[str, tuple[Adjudication, ...]]:
        return _by_session(self.adjudications)

    @_by_date.default
    def _index_sessions(self) -> Mapping[date, tuple[ClientSession, ...]]:
        return _index(self.other_sessions)

    def adjudications_of(self, session: ClientSession) -> tuple[Adjudication, ...]:
        """The adjudications with a line of ``session`` (any payer, reversals included)."""
        return self._adjudications_by_session.get(session.id, ())

    def claim_coverage(self, session: ClientSession) -> Coverage | None:
        """The coverage a claim for ``session`` goes to (:func:`sessionkit.facts.claim_coverage`)."""
        adjudications = self.adjudications_of(session)
        if not adjudications:  # no payer answered: the first coverage in effect
            return first_coverage(session, self)
        return claim_coverage(session, self.coverages, adjudications)

    def prior_adjudications(
        self, session: ClientSession, coverage: Coverage
    ) -> tuple[tuple[Coverage, Adjudication], ...]:
        """The earlier payers' answers a claim to ``coverage`` carries (:func:`sessionkit.facts.prior_adjudications`)."""
        adjudications = self.adjudications_of(session)
        if not adjudications:
            return ()
        return prior_adjudications(session, coverage, self.coverages, adjudications)

    def same_day_sessions(self, session: ClientSession) -> tuple[ClientSession, ...]:
        """The other sessions of ``session``'s client on its date of service."""
        found = self._by_date.get(session.date_of_service, ())
        return tuple(s for s in found if s.id != session.id and s.client_id == session.client_id)

    def coverage_on(self, on: date, client_id: str | None = None) -> Coverage | None:
        """The coverage that pays first on ``on``, or ``None`` (precedence: :func:`sessionkit.facts.coverage_order`).

        Answers are remembered (the context is immutable), so the rules may ask freely.
        """
        key = (on, client_id)
        cache = self._coverage_cache
        known = cache.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        # The same answer for every day of a span between two breaks (Coverage.is_active changes on breaks).
        span = (bisect_right(self._coverage_breaks, on), client_id)
        spans = self._coverage_spans
        known = spans.get(span, _UNKNOWN)
        best: Coverage | None
        if known is not _UNKNOWN:
            best = known  # type: ignore[assignment]
        else:
            best = None
            for c in self.coverages:
                if (
                    (client_id is None or c.client_id == client_id)
                    and c.is_active(on)
                    and (best is None or coverage_order(c) < coverage_order(best))
                ):
                    best = c
            if len(spans) >= _CACHE_MAX:
                spans.clear()
            spans[span] = best
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = best
        return best

    def diagnosis_status(self, code: str) -> int:
        """0 when ``code`` is billable in ``code_set``, 1 when it exists but is not billable,
        2 when it is not in the release, -1 when there is no code set. Answers are remembered."""
        code_set = self.code_set
        if code_set is None:
            return -1
        cache = self._diagnosis_cache
        if not cache:  # shared by every context over the same code set (a code's status never changes)
            try:
                cache = _STATUS_BY_CODE_SET.setdefault(code_set, cache)
            except TypeError:  # a code set that cannot be weakly referenced or hashed keeps its own
                pass
            else:
                object.__setattr__(self, "_diagnosis_cache", cache)
        status = cache.get(code)
        if status is None:
            status = 2 if not code_set.is_valid(code) else (0 if code_set.is_billable(code) else 1)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[code] = status
        return status

    def authorizations_for(
        self, payer_id: str, client_id: str, billing_code: str
    ) -> tuple[AuthorizationUse, ...]:
        """The authorizations of ``client_id`` with ``payer_id`` that cover ``billing_code`` (any dates)."""
        key = (payer_id, client_id, billing_code)
        cache = self._authorization_cache
        found = cache.get(key)
        if found is None:
            found = tuple(
                u
                for u in self.authorizations
                if u.authorization.payer_id == payer_id
                and u.authorization.client_id == client_id
                and u.authorization.covers(billing_code)
            )
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[key] = found
        return found

    @classmethod
    def build(
        cls,
        *,
        today: date,
        practice: PracticeSetup | None = None,
        client: Client | None = None,
        coverages: Iterable[Coverage] = (),
        payers: Mapping[str, Payer] | Iterable[Payer] = (),
        authorizations: Iterable[Authorization | AuthorizationUse] = (),
        sessions: Iterable[ClientSession] = (),
        code_set: DiagnosisCodeSet | None = None,
        billing_codes: Mapping[str, BillingCode] | Iterable[BillingCode] = (),
        adjudications: Iterable[Adjudication] = (),
    ) -> ReadinessContext:
        """Build a context, counting each authorization's uses among ``sessions``.

        ``sessions`` are the client's saved sessions; they also serve as
        ``other_sessions`` (same-day and look-back rules). Uses are counted by
        :meth:`sessionkit.facts.AuthorizationUse.count` with ``coverages``.

        >>> from datetime import date
        >>> ReadinessContext.build(today=date(2026, 3, 1)).client is None
        True
        """
        saved = tuple(sessions)
        coverages = tuple(coverages)
        uses = tuple(
            a if isinstance(a, AuthorizationUse) else AuthorizationUse.count(a, saved, coverages)
            for a in authorizations
        )
        return cls(
            today=today,
            practice=practice,
            client=client,
            coverages=coverages,
            payers=payers,
            authorizations=uses,
            other_sessions=saved,
            code_set=code_set,
            billing_codes=billing_codes,
            adjudications=adjudications,
        )

    @classmethod
    def from_unit_of_work(
        cls,
        uow: UnitOfWork,
        client_id: str,
        *,
        today: date,
        code_set: DiagnosisCodeSet | None = None,
        sessions: Iterable[ClientSession] | None = None,
    ) -> ReadinessContext:
        """The context of ``client_id``'s sessions, read from storage (inside an entered unit of work).

        The practice, the client (``None`` if unknown: a finding says so), the
        client's coverages, authorizations and adjudications, every payer and
        billing code of the practice, and the client's saved sessions, over
        which authorization uses are counted. Pass ``sessions`` when the client's sessions are
        already at hand (the command line reads them once per client).

        >>> from datetime import date
        >>> from sessionkit.adapters.memory import InMemoryUnitOfWork
        >>> uow = InMemoryUnitOfWork()
        >>> with uow:
        ...     ReadinessContext.from_unit_of_work(uow, "c1", today=date(2026, 3, 2)).client is None
        True
        """
        saved = tuple(uow.sessions.by_client(client_id) if sessions is None else sessions)
        return cls.build(
            today=today,
            practice=uow.practice.find(),
            client=uow.clients.find(client_id),
            coverages=uow.coverages.for_client(client_id),
            payers=uow.payers.list(),
            authorizations=uow.authorizations.for_client(client_id),
            sessions=saved,
            code_set=code_set,
            billing_codes=uow.billing_codes.list(),
            adjudications=uow.adjudications.for_client(client_id),
        )


def active_coverage(session: ClientSession, context: ReadinessContext) -> Coverage | None:
    """The coverage a claim for ``session`` goes to, or ``None`` when it goes to the client.

    The coverage to bill next (:func:`sessionkit.facts.coverage_to_bill`: the
    primary until its payer's adjudication of the session is posted, then the
    secondary, ...), or the first coverage when every payer has answered
    (:func:`sessionkit.facts.claim_coverage`). ``None`` when the session is
    billed to the client directly, or when no coverage of the client is active
    on the date of service (AUTOMATIC routing).
    """
    if session.bill_to is BillTo.CLIENT:
        return None
    return context.claim_coverage(session)


def first_coverage(session: ClientSession, context: ReadinessContext) -> Coverage | None:
    """The coverage that pays first for ``session`` (:func:`sessionkit.facts.billed_coverage`), or ``None``.

    The client's share (copay, coinsurance) is that coverage's, whoever is billed next.
    """
    if session.bill_to is BillTo.CLIENT:
        return None
    return context.coverage_on(session.date_of_service, session.client_id)
