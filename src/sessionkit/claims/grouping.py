"""From ready sessions to claims: the readiness gate, grouping, splitting and line order."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from sessionkit.claims.model import (
    MAX_CLAIM_DIAGNOSES,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimTarget,
    OtherPayer,
    PriorLine,
    RenderingProvider,
    ServiceFacility,
)
from sessionkit.codes.icd10 import DiagnosisCodeSet
from sessionkit.domain.parties import Authorization, Client, Coverage, Payer, PracticeSetup
from sessionkit.domain.payments import Adjudication, LineAdjudication
from sessionkit.domain.session import ClientSession
from sessionkit.domain.values import BillTo, DiagnosisCode, InsuranceOverrides, ReferringProvider
from sessionkit.errors import ClaimNotReady, InvalidValue
from sessionkit.facts import AuthorizationUse, authorization_for, claim_coverage, prior_adjudications
from sessionkit.money import Money
from sessionkit.readiness import ReadinessContext, Rules, Severity, Target, check

if TYPE_CHECKING:
    from sessionkit.ports import UnitOfWork

__all__ = [
    "ClaimContext",
    "ReadinessCheck",
    "billing_provider_for",
    "build_claims",
    "claim_target",
    "claims_for_client",
    "patient_control_number",
    "readiness_gate",
    "rendering_provider_for",
    "service_facility_for",
]

ReadinessCheck = Callable[[ClientSession, ClaimTarget], Sequence[Any]]
"""A readiness hook: the *blocking* findings of a session for a target; empty means ready."""


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class ClaimContext:
    """What claims need beyond the sessions: the practice and the clients' insurance.

    ``sessions`` are the clients' other saved sessions (the ones not being
    claimed): authorization uses are counted over them and the sessions being
    claimed together (:class:`sessionkit.facts.AuthorizationUse`), and the
    same-day rules see them. ``adjudications`` are the clients' payers'
    posted adjudications: a session whose primary answered is billed to its
    secondary with the primary's adjudication (:func:`sessionkit.facts.coverage_to_bill`).
    Build the whole context from storage with :meth:`from_unit_of_work`.
    """

    practice: PracticeSetup
    clients: tuple[Client, ...] = attrs.field(converter=_tuple)
    coverages: tuple[Coverage, ...] = attrs.field(default=(), converter=_tuple)
    payers: tuple[Payer, ...] = attrs.field(default=(), converter=_tuple)
    authorizations: tuple[Authorization, ...] = attrs.field(default=(), converter=_tuple)
    sessions: tuple[ClientSession, ...] = attrs.field(default=(), converter=_tuple, repr=False)
    today: date | None = None
    """The day readiness is judged on (None: today in the practice's time zone)."""
    code_set: DiagnosisCodeSet | None = None
    """An ICD-10-CM release for the readiness check (``sessionkit.codes.icd10`` code set), or None."""
    adjudications: tuple[Adjudication, ...] = attrs.field(default=(), converter=_tuple, repr=False)
    _by_session: dict[tuple[str, str], tuple[Adjudication, ...]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    @_by_session.default
    def _index_adjudications(self) -> dict[tuple[str, str], tuple[Adjudication, ...]]:
        found: dict[tuple[str, str], list[Adjudication]] = {}
        for a in self.adjudications:
            for session_id in dict.fromkeys(line.session_id for line in a.lines):
                found.setdefault((a.client_id, session_id), []).append(a)
        return {k: tuple(v) for k, v in found.items()}

    @classmethod
    def from_unit_of_work(
        cls,
        uow: UnitOfWork,
        client_ids: Iterable[str],
        *,
        today: date | None = None,
        code_set: DiagnosisCodeSet | None = None,
    ) -> ClaimContext:
        """The context for claims of ``client_ids``, read from storage (inside an entered unit of work).

        Unknown clients are left out (claiming their sessions raises
        ``claim.no_client``).
        """
        ids = list(dict.fromkeys(client_ids))
        clients = [c for c in (uow.clients.find(i) for i in ids) if c is not None]
        return cls(
            practice=uow.practice.get(),
            clients=clients,
            coverages=[c for i in ids for c in uow.coverages.for_client(i)],
            payers=uow.payers.list(),
            authorizations=[a for i in ids for a in uow.authorizations.for_client(i)],
            sessions=[s for i in ids for s in uow.sessions.by_client(i)],
            today=today,
            code_set=code_set,
            adjudications=[a for i in ids for a in uow.adjudications.for_client(i)],
        )

    def client(self, client_id: str) -> Client:
        """The client with ``client_id``, or :class:`ClaimNotReady`."""
        for client in self.clients:
            if client.id == client_id:
                return client
        raise ClaimNotReady(
            "the session's client is not in the claim context", "claim.no_client", "client_id"
        )

    def payer(self, payer_id: str) -> Payer:
        """The payer with ``payer_id``, or :class:`ClaimNotReady`."""
        for payer in self.payers:
            if payer.id == payer_id:
                return payer
        raise ClaimNotReady("the coverage's payer is not in the claim context", "claim.no_payer", "payer_id")

    def coverage_on(self, session: ClientSession) -> Coverage | None:
        """The coverage a claim for ``session`` goes to (:func:`sessionkit.facts.claim_coverage`).

        The primary until its payer's adjudication of the session is posted,
        then the next coverage in effect (:func:`sessionkit.facts.coverage_to_bill`).
        """
        return claim_coverage(session, self.coverages, self._adjudications_of(session))

    def prior_adjudications(
        self, session: ClientSession, coverage: Coverage
    ) -> tuple[tuple[Coverage, Adjudication], ...]:
        """The earlier payers' answers a claim for ``session`` to ``coverage`` carries."""
        return prior_adjudications(session, coverage, self.coverages, self._adjudications_of(session))

    def _adjudications_of(self, session: ClientSession) -> tuple[Adjudication, ...]:
        return self._by_session.get((session.client_id, session.id), ())

    def history(self, client_id: str, claimed: Sequence[ClientSession]) -> tuple[ClientSession, ...]:
        """The client's saved sessions with the ones being claimed (each once, the claimed copy first)."""
        seen = {s.id for s in claimed}
        return (
            *(s for s in claimed if s.client_id == client_id),
            *(s for s in self.sessions if s.client_id == client_id and s.id not in seen),
        )

    def readiness_context(self, client_id: str, claimed: Sequence[ClientSession]) -> ReadinessContext:
        """The readiness context of ``client_id``: authorization uses counted over :meth:`history`."""
        client = next((c for c in self.clients if c.id == client_id), None)
        return ReadinessContext.build(
            today=self.today or datetime.now(self.practice.zone).date(),
            practice=self.practice,
            client=client,
            coverages=[c for c in self.coverages if c.client_id == client_id],
            payers=self.payers,
            authorizations=[a for a in self.authorizations if a.client_id == client_id],
            sessions=self.history(client_id, claimed),
            code_set=self.code_set,
            adjudications=[a for a in self.adjudications if a.client_id == client_id],
        )


# -- the readiness gate -------------------------------------------------------------------------


def readiness_gate(
    context: ClaimContext, sessions: Sequence[ClientSession], rules: Rules = None
) -> ReadinessCheck:
    """The default readiness hook: :func:`sessionkit.readiness.check` with the context's data.

    ``sessions`` are all sessions being claimed; with the context's saved
    sessions they count authorization uses and give the same-day sessions
    (:meth:`ClaimContext.readiness_context`). ``rules`` as for
    :func:`~sessionkit.readiness.check` (``None``: the default rules).
    """
    contexts: dict[str, ReadinessContext] = {}

    def gate(session: ClientSession, target: ClaimTarget) -> Sequence[Any]:
        context.client(session.client_id)
        found = contexts.get(session.client_id)
        if found is None:
            found = contexts[session.client_id] = context.readiness_context(session.client_id, sessions)
        report = check(session, found, target, rules)
        return () if report.ready else [f for f in report.findings if f.severity is Severity.ERROR]

    return gate


def _gate(sessions: Sequence[ClientSession], target: ClaimTarget, check: ReadinessCheck) -> None:
    for i, session in enumerate(sessions):
        if session.bill_to is BillTo.CLIENT:
            raise ClaimNotReady(
                "the session is billed to the client directly, not to insurance",
                "claim.billed_to_client",
                f"sessions[{i}].bill_to",
            )
        findings = tuple(check(session, target))
        if findings:
            raise ClaimNotReady(
                f"the session is not ready for {target.value} ({len(findings)} blocking finding(s))",
                field=f"sessions[{i}]",
                findings=findings,
            )


# -- providers after overrides ------------------------------------------------------------------


def billing_provider_for(practice: PracticeSetup, overrides: InsuranceOverrides | None) -> BillingProvider:
    """The billing provider: the practice setup with the session's insurance overrides applied."""
    return BillingProvider.for_practice(practice, overrides)


def rendering_provider_for(
    overrides: InsuranceOverrides | None, billing_npi: str
) -> RenderingProvider | None:
    """The overridden rendering provider, when it has a name and an NPI different from the billing one."""
    if overrides is None or overrides.rendering_provider_npi is None:
        return None
    if overrides.rendering_provider_npi == billing_npi:
        return None
    first = (overrides.rendering_provider_first_name or "").strip()
    last = (overrides.rendering_provider_last_name or "").strip()
    if not last:
        raise ClaimNotReady(
            "a rendering provider override needs a last name",
            "claim.rendering_incomplete",
            "overrides.rendering_provider_last_name",
        )
    return RenderingProvider(first_name=first, last_name=last, npi=overrides.rendering_provider_npi)


def service_facility_for(overrides: InsuranceOverrides | None) -> ServiceFacility | None:
    """The overridden service facility; it needs a name and an address."""
    if overrides is None or (
        overrides.facility_name is None
        and overrides.facility_address is None
        and overrides.facility_npi is None
    ):
        return None
    if not (overrides.facility_name or "").strip():
        raise ClaimNotReady(
            "a facility override needs a name", "claim.facility_incomplete", "overrides.facility_name"
        )
    if overrides.facility_address is None:
        raise ClaimNotReady(
            "a facility override needs an address", "claim.facility_incomplete", "overrides.facility_address"
        )
    return ServiceFacility(
        name=overrides.facility_name.strip(),  # type: ignore[union-attr]
        address=overrides.facility_address,
        npi=overrides.facility_npi,
    )


# -- lines ----------------------------------------------------------------------------------------


@attrs.frozen
class _Block:
    """Lines that must stay on one claim: a session's line with its add-ons."""

    session: ClientSession
    lines: tuple[tuple[date, str, tuple[str, ...], Money, Decimal, bool], ...]
    carries_payment: bool


def _blocks(session: ClientSession) -> list[_Block]:
    mods = tuple(m.code for m in session.modifiers)
    first = [(session.date_of_service, session.billing_code, mods, session.charge, session.units, False)]
    first += [
        (session.date_of_service, a.code, tuple(m.code for m in a.modifiers), a.charge, a.units, True)
        for a in session.add_ons
    ]
    return [_Block(session, tuple(first), carries_payment=True)]


def patient_control_number(lines: Iterable[ClaimLine]) -> str:
    """A deterministic claim id from the claim's lines: 20 uppercase letters and digits.

    >>> from datetime import date, datetime
    >>> len(patient_control_number([]))
    20
    """
    digest = hashlib.sha256()
    for line in lines:
        digest.update(f"{line.session_id}|{line.date_of_service.isoformat()}|{line.code}\n".encode())
    text = base64.b32encode(digest.digest()).decode("ascii").rstrip("=")
    return "SK" + text[:18]


@attrs.frozen
class _Key:
    billing: BillingProvider
    rendering: RenderingProvider | None
    facility: ServiceFacility | None
    referring: ReferringProvider | None
    frequency: str
    original_reference: str | None
    prior_authorization: str | None
    prior: tuple[str, ...] = ()
    """The ids of the earlier payers' adjudications: a secondary claim carries one set of them."""


def claims_for_client(
    sessions: Sequence[ClientSession],
    *,
    practice: PracticeSetup,
    client: Client,
    coverage: Coverage,
    payer: Payer,
    target: ClaimTarget | str,
    readiness_check: ReadinessCheck,
    authorization_number: str | None = None,
) -> tuple[Claim, ...]:
    """Claims for one client's sessions under one coverage, after the readiness gate.

    Sessions are split by billing provider (after overrides), rendering provider,
    facility, referring provider, frequency code and original reference, and prior
    authorization; then packed in date order into claims of at most
    ``target.max_lines`` lines and 12 diagnoses. Add-on lines follow their
    primary on the same claim.

    :raises ClaimNotReady: a session is not ready for ``target`` (``findings`` says why).
    """
    target = claim_target(target)
    _gate(sessions, target, readiness_check)
    for i, session in enumerate(sessions):
        if session.client_id != client.id:
            raise ClaimNotReady("a session belongs to another client", "claim.other_client", f"sessions[{i}]")
    return _claims(
        sessions,
        practice=practice,
        client=client,
        coverage=coverage,
        payer=payer,
        target=target,
        authorization=lambda _s: authorization_number,
    )


def _claims(
    sessions: Sequence[ClientSession],
    *,
    practice: PracticeSetup,
    client: Client,
    coverage: Coverage,
    payer: Payer,
    target: ClaimTarget,
    authorization: Callable[[ClientSession], str | None],
    priors: Callable[[ClientSession], tuple[tuple[Coverage, Adjudication], ...]] = lambda _s: (),
    payers: Callable[[str], Payer] | None = None,
) -> tuple[Claim, ...]:
    groups: dict[_Key, list[ClientSession]] = {}
    earlier: dict[str, tuple[tuple[Coverage, Adjudication], ...]] = {}
    for session in sorted(sessions, key=lambda s: (s.date_of_service, s.id)):
        billing = billing_provider_for(practice, session.overrides)
        key = _Key(
            billing=billing,
            rendering=rendering_provider_for(session.overrides, billing.npi),
            facility=service_facility_for(session.overrides),
            referring=session.referring_provider,
            frequency=session.resubmission.frequency.value,
            original_reference=session.resubmission.original_reference,
            prior_authorization=authorization(session),
            prior=tuple(a.id for _, a in earlier.setdefault(session.id, priors(session))),
        )
        groups.setdefault(key, []).append(session)

    claims: list[Claim] = []
    for key, members in groups.items():
        blocks = sorted(
            (b for s in members for b in _blocks(s)),
            key=lambda b: (b.lines[0][0], b.session.id, not b.carries_payment),
        )
        packs: list[list[_Block]] = []
        diagnoses: list[DiagnosisCode] = []
        for block in blocks:
            new = [d for d in block.session.diagnoses if d not in diagnoses]
            if not packs or (
                sum(len(b.lines) for b in packs[-1]) + len(block.lines) > target.max_lines
                or len(diagnoses) + len(new) > MAX_CLAIM_DIAGNOSES
            ):
                packs.append([])
                diagnoses = []
                new = list(dict.fromkeys(block.session.diagnoses))
            packs[-1].append(block)
            diagnoses.extend(new)
        claims.extend(
            _with_other_payers(
                _claim(pack, key, client=client, coverage=coverage, payer=payer, target=target),
                earlier[pack[0].session.id],
                payers,
            )
            for pack in packs
        )
    claims.sort(key=lambda c: (c.lines[0].date_of_service, c.patient_control_number))
    return tuple(claims)


def _claim(
    pack: list[_Block], key: _Key, *, client: Client, coverage: Coverage, payer: Payer, target: ClaimTarget
) -> Claim:
    diagnoses: list[DiagnosisCode] = []
    for block in pack:
        for d in block.session.diagnoses:
            if d not in diagnoses:
                diagnoses.append(d)
    lines: list[ClaimLine] = []
    paid = Decimal(0)
    session_ids: list[str] = []
    for block in pack:
        s = block.session
        pointers = tuple(dict.fromkeys(diagnoses.index(d) + 1 for d in s.diagnoses))
        if not pointers:
            raise ClaimNotReady("a session has no diagnosis", "claim.no_diagnosis", "diagnoses")
        if block.carries_payment:
            paid += s.paid_at_session.amount
        if s.id not in session_ids:
            session_ids.append(s.id)
        lines.extend(
            ClaimLine(
                session_id=s.id,
                date_of_service=dos,
                code=code,
                modifiers=mods,
                charge=charge,
                units=units,
                place_of_service=s.place_of_service.code,
                diagnosis_pointers=pointers,
                note="" if add_on else s.line_note,
                add_on=add_on,
            )
            for dos, code, mods, charge, units, add_on in block.lines
        )
    return Claim(
        target=target,
        patient_control_number=patient_control_number(lines),
        client=client,
        coverage=coverage,
        payer=payer,
        billing_provider=key.billing,
        rendering_provider=key.rendering,
        service_facility=key.facility,
        referring_provider=key.referring,
        diagnoses=tuple(diagnoses),
        lines=tuple(lines),
        frequency=pack[0].session.resubmission.frequency,
        original_reference=key.original_reference,
        prior_authorization=key.prior_authorization,
        amount_paid=Money(paid),
        session_ids=tuple(session_ids),
    )


def _prior_lines(
    claim: Claim, coverage: Coverage, adjudication: Adjudication
) -> tuple[list[PriorLine | None], int]:
    """Each claim line's line of ``adjudication`` (matched by session and code, in order), and how many matched."""
    unused: dict[str, list[LineAdjudication]] = {}
    for answered in adjudication.lines:
        unused.setdefault(answered.session_id, []).append(answered)
    found: list[PriorLine | None] = []
    for line in claim.lines:
        candidates = unused.get(line.session_id, [])
        match = next((c for c in candidates if c.code == line.code), None)
        if match is None:
            found.append(None)
            continue
        candidates.remove(match)
        found.append(
            PriorLine(
                coverage_id=coverage.id,
                paid=match.paid,
                code=match.code,
                modifiers=line.modifiers,
                units=line.units if match.units is None else match.units,
                adjustments=match.adjustments,
                adjudicated_on=adjudication.paid_on,
            )
        )
    return found, sum(1 for f in found if f is not None)


def _with_other_payers(
    claim: Claim,
    priors: tuple[tuple[Coverage, Adjudication], ...],
    payers: Callable[[str], Payer] | None,
) -> Claim:
    """``claim`` with the earlier payers' adjudications (2320/2330 and 2430 per line)."""
    if not priors or payers is None:
        return claim
    others: list[OtherPayer] = []
    per_line: list[list[PriorLine]] = [[] for _ in claim.lines]
    for coverage, adjudication in priors:
        lines, matched = _prior_lines(claim, coverage, adjudication)
        whole = matched == len(adjudication.lines)
        for i, prior in enumerate(lines):
            if prior is not None:
                per_line[i].append(prior)
        paid = adjudication.paid if whole else sum((p.paid for p in lines if p is not None), Decimal("0.00"))
        others.append(
            OtherPayer(
                coverage=coverage,
                payer=payers(coverage.payer_id),
                paid=paid,
                adjustments=adjudication.adjustments if whole else (),
                payer_claim_number=adjudication.payer_claim_number,
                adjudicated_on=adjudication.paid_on,
                adjudication_id=adjudication.id,
            )
        )
    return attrs.evolve(
        claim,
        other_payers=tuple(others),
        lines=tuple(
            attrs.evolve(line, prior=tuple(found)) for line, found in zip(claim.lines, per_line, strict=True)
        ),
    )


def claim_target(target: ClaimTarget | str) -> ClaimTarget:
    """The claim form named by ``target`` (any spelling :meth:`Target.parse` takes).

    Raises InvalidValue: ``target.unknown`` for an unknown name, ``target.not_a_claim`` for the
    client invoice (not a claim form).
    """
    found = Target.parse(target)
    if not found.is_insurance:
        raise InvalidValue("claims are built for cms1500 or 837p", "target.not_a_claim", "target")
    return found


def build_claims(
    sessions: Sequence[ClientSession],
    context: ClaimContext,
    target: ClaimTarget | str,
    *,
    readiness_check: ReadinessCheck | None = None,
    rules: Rules = None,
) -> tuple[Claim, ...]:
    """Group ready sessions into claims for ``target``.

    Each session goes under the coverage it is billed to next
    (:func:`sessionkit.facts.coverage_to_bill`: the primary, then, once the
    primary's adjudication is posted, the secondary with that adjudication in
    :attr:`Claim.other_payers` and :attr:`ClaimLine.prior`), with that payer's
    authorization that covers its code and date. One claim holds one client, one coverage, one billing provider (the
    practice with the session's overrides), one frequency code and original
    reference; see :func:`claims_for_client` for the splitting rules.

    ``readiness_check`` defaults to :func:`readiness_gate` with ``rules`` (``None``:
    the default rules), so a session the readiness check refuses never goes on a claim.

    :raises ClaimNotReady: a session is not ready for ``target``, or has no coverage
        or client in ``context``.
    """
    target = claim_target(target)
    gate = readiness_check if readiness_check is not None else readiness_gate(context, sessions, rules)
    _gate(sessions, target, gate)
    by_party: dict[tuple[str, str], list[ClientSession]] = {}
    coverages: dict[str, Coverage] = {}
    for i, session in enumerate(sessions):
        context.client(session.client_id)
        coverage = context.coverage_on(session)
        if coverage is None:
            raise ClaimNotReady(
                "the client has no coverage in effect on the date of service",
                "claim.no_coverage",
                f"sessions[{i}].date_of_service",
            )
        coverages[coverage.id] = coverage
        by_party.setdefault((session.client_id, coverage.id), []).append(session)
    uses: dict[str, tuple[AuthorizationUse, ...]] = {}
    for client_id, _ in by_party:
        if client_id not in uses:
            history = context.history(client_id, sessions)
            client_coverages = [c for c in context.coverages if c.client_id == client_id]
            uses[client_id] = tuple(
                AuthorizationUse.count(a, history, client_coverages)
                for a in context.authorizations
                if a.client_id == client_id
            )
    claims: list[Claim] = []
    for (client_id, coverage_id), members in by_party.items():
        coverage = coverages[coverage_id]

        def auth_number(
            session: ClientSession, client_id: str = client_id, coverage: Coverage = coverage
        ) -> str | None:
            use = authorization_for(session, uses[client_id], (coverage,))
            return None if use is None else use.authorization.number

        def priors(
            session: ClientSession, coverage: Coverage = coverage
        ) -> tuple[tuple[Coverage, Adjudication], ...]:
            return context.prior_adjudications(session, coverage)

        claims.extend(
            _claims(
                members,
                practice=context.practice,
                client=context.client(client_id),
                coverage=coverage,
                payer=context.payer(coverage.payer_id),
                target=target,
                authorization=auth_number,
                priors=priors,
                payers=context.payer,
            )
        )
    return tuple(claims)
