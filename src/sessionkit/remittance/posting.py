"""Posting payers' adjudications: from an 835 remittance, or an EOB entered by hand.

:func:`post_remittance` matches each claim payment (``CLP``) of an 835 to the
claim record with its patient control number (``CLP01``), and each service
line (``SVC``) to the record's line by the line item control number the 837P
sent (``REF*6R``; failing that, by procedure code, date of service and
charge, which the report lists). It builds an
:class:`~sessionkit.domain.payments.Adjudication` per claim payment and
posts it once: the ``source_key`` (payer, trace number, ``CLP01``, ``CLP02``,
``CLP07``) is refused a second time by the repository, so posting the same
file twice changes nothing the second time, also from two processes.

Posting a claim (:func:`post_adjudication` does the same for an EOB typed in):

* locks its sessions (status :attr:`~sessionkit.domain.SessionStatus.EOB_POSTED`:
  paid at session can no longer change);
* moves its claim record to ``paid`` (``CLP02`` 1, 2, 3 and 19-21), ``denied``
  (4), or back to ``accepted`` for a reversal (22), awaiting the payer's new
  adjudication; records the payer's claim number (``CLP07``) and what the
  payer paid on the claim so far (``payer_paid``, the sum over its
  adjudications, reversals included).

Nothing is committed here: the caller commits the unit of work. A dry run
reports what would be posted and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from sessionkit.claims.x837 import line_control_number
from sessionkit.domain import SessionStatus, new_id
from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine, ClaimStatus
from sessionkit.domain.payments import (
    CLAIM_STATUS_DENIED,
    CLAIM_STATUS_PRIMARY,
    CLAIM_STATUS_REVERSAL,
    CLAIM_STATUS_SECONDARY,
    CLAIM_STATUS_TERTIARY,
    Adjudication,
    LineAdjudication,
)
from sessionkit.errors import AlreadyExists, InvalidValue, SessionkitError
from sessionkit.money import Money
from sessionkit.ports import UnitOfWork
from sessionkit.remittance.x835 import ClaimPayment, ProviderAdjustment, Remittance, ServicePayment, read_835

__all__ = [
    "PostedClaim",
    "PostingProblem",
    "PostingReport",
    "SkippedClaim",
    "UnmatchedClaim",
    "post_adjudication",
    "post_remittance",
    "source_key",
]

_ZERO = Decimal("0.00")
_PAID_CODES = frozenset(
    {CLAIM_STATUS_PRIMARY, CLAIM_STATUS_SECONDARY, CLAIM_STATUS_TERTIARY, "19", "20", "21"}
)
REPORT_FORMAT_VERSION = 1
"""``format_version`` of :meth:`PostingReport.as_dict` (``"format": "sessionkit.post_era"``)."""


@attrs.frozen(kw_only=True)
class PostedClaim:
    """A claim payment posted (or, in a dry run, that would be)."""

    claim: int
    """The claim's 1-based position in the file."""
    patient_control_number: str
    claim_record_id: str
    adjudication_id: str
    status_code: str
    paid: Decimal
    claim_status: ClaimStatus
    """The claim record's status after posting."""
    session_ids: tuple[str, ...] = ()
    fallback_lines: tuple[int, ...] = ()
    """The service lines (1-based) matched by code, date and charge: the payer sent no usable REF*6R."""


@attrs.frozen(kw_only=True)
class UnmatchedClaim:
    """A claim payment that matches no claim record, or a line that matches none of the record's lines."""

    claim: int
    patient_control_number: str
    code: str
    """``remittance.unknown_claim`` or ``remittance.unmatched_line``."""
    message: str
    line: int | None = None


@attrs.frozen(kw_only=True)
class SkippedClaim:
    """A claim payment posted already (the same payer, trace number and claim): nothing changed."""

    claim: int
    patient_control_number: str
    claim_record_id: str
    adjudication_id: str | None
    """The adjudication posted earlier (``None`` in a dry run when it was earlier in the same file)."""


@attrs.frozen(kw_only=True)
class PostingProblem:
    """A claim payment that could not be read or posted; the message has no client data."""

    claim: int
    code: str
    message: str
    patient_control_number: str | None = None
    segment: int | None = None


@attrs.frozen(kw_only=True)
class PostingReport:
    """What :func:`post_remittance` did (or, with ``dry_run``, would do)."""

    posted: tuple[PostedClaim, ...] = ()
    unmatched: tuple[UnmatchedClaim, ...] = ()
    skipped: tuple[SkippedClaim, ...] = ()
    problems: tuple[PostingProblem, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    dry_run: bool = False

    @property
    def paid(self) -> Decimal:
        """What the posted claim payments paid."""
        return sum((p.paid for p in self.posted), _ZERO)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (amounts as strings)."""
        return {
            "format": "sessionkit.post_era",
            "format_version": REPORT_FORMAT_VERSION,
            "dry_run": self.dry_run,
            "paid": str(self.paid),
            "posted": [
                {
                    "claim": p.claim,
                    "patient_control_number": p.patient_control_number,
                    "claim_record_id": p.claim_record_id,
                    "adjudication_id": p.adjudication_id,
                    "status_code": p.status_code,
                    "paid": str(p.paid),
                    "claim_status": p.claim_status.value,
                    "session_ids": list(p.session_ids),
                    "fallback_lines": list(p.fallback_lines),
                }
                for p in self.posted
            ],
            "unmatched": [attrs.asdict(u) for u in self.unmatched],
            "skipped": [attrs.asdict(s) for s in self.skipped],
            "problems": [attrs.asdict(p) for p in self.problems],
            "provider_adjustments": [
                {
                    "provider_id": a.provider_id,
                    "fiscal_period_end": a.fiscal_period_end.isoformat(),
                    "reason": a.reason,
                    "reference": a.reference,
                    "amount": str(a.amount),
                }
                for a in self.provider_adjustments
            ],
        }


def source_key(remittance: Remittance, claim: ClaimPayment) -> str:
    """The key that posts a claim payment once: payer, trace number, CLP01, CLP02 and CLP07 (hashed)."""
    parts = (
        remittance.payer_key,
        remittance.trace_number,
        claim.patient_control_number,
        claim.status_code,
        claim.payer_claim_number,
    )
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"835:{digest[:56]}"


def _match_lines(
    record: ClaimRecord, claim: ClaimPayment
) -> tuple[list[ClaimRecordLine], tuple[int, ...], int | None]:
    """The record line of each service line, the lines matched by fallback, or the first unmatched line."""
    by_control = {line_control_number(record, n): n - 1 for n in range(1, len(record.lines) + 1)}
    used: set[int] = set()
    matched: list[ClaimRecordLine] = []
    fallback: list[int] = []
    single_day = claim.statement_from if claim.statement_from == claim.statement_to else None
    for k, service in enumerate(claim.services, 1):
        index = by_control.get(service.line_control_number or "")
        if index is None or index in used:
            day = service.date_of_service or single_day
            index = next(
                (
                    i
                    for i, line in enumerate(record.lines)
                    if i not in used
                    and line.code == service.code
                    and line.charge.amount == abs(service.charge)
                    and (day is None or line.date_of_service == day)
                ),
                None,
            )
            if index is None:
                return [], (), k
            fallback.append(k)
        used.add(index)
        matched.append(record.lines[index])
    return matched, tuple(fallback), None


def _line(service: ServicePayment, line: ClaimRecordLine) -> LineAdjudication:
    return LineAdjudication(
        session_id=line.session_id,
        line_control_number=service.line_control_number,
        code=service.code,
        charge=service.charge,
        paid=service.paid,
        allowed=service.allowed,
        units=service.units,
        adjustments=service.adjustments,
    )


def _new_status(record: ClaimRecord, status_code: str) -> ClaimStatus:
    if status_code in _PAID_CODES:
        return ClaimStatus.PAID
    if status_code == CLAIM_STATUS_DENIED:
        return ClaimStatus.DENIED
    if status_code == CLAIM_STATUS_REVERSAL:
        return ClaimStatus.ACCEPTED
    return record.status  # forwarded to another payer, predetermination, ...: no change


def _apply(uow: UnitOfWork, adjudication: Adjudication) -> tuple[ClaimRecord, Adjudication, tuple[str, ...]]:
    """Add the adjudication, then update its claim record and lock its sessions."""
    stored = uow.adjudications.add(adjudication)
    record = uow.claim_records.get(adjudication.claim_record_id)
    paid = sum((a.paid for a in uow.adjudications.for_claim(record.id)), _ZERO)
    record = uow.claim_records.put(
        attrs.evolve(
            record,
            status=_new_status(record, adjudication.status_code),
            payer_claim_number=adjudication.payer_claim_number or record.payer_claim_number,
            payer_paid=Money(max(paid, _ZERO)),
        )
    )
    locked = []
    for session_id in record.session_ids:
        session = uow.sessions.find(session_id)
        if session is not None and not session.locked:
            uow.sessions.save(attrs.evolve(session, status=SessionStatus.EOB_POSTED))
            locked.append(session_id)
    return record, stored, tuple(locked)


def post_adjudication(uow: UnitOfWork, adjudication: Adjudication) -> Adjudication:
    """Post an EOB entered by hand: add the adjudication, update its claim record, lock its sessions.

    The adjudication names its claim record; its patient control number must
    be the record's and its lines must be sessions of the record. Returns the
    adjudication as stored. The caller commits.

    :raises NotFound: no claim record ``adjudication.claim_record_id``.
    :raises InvalidValue: the adjudication does not fit the record
        (``adjudication.claim_mismatch``, ``adjudication.session_mismatch``).
    :raises AlreadyExists: its ``source_key`` was posted already
        (``adjudication.already_posted``).
    """
    record = uow.claim_records.get(adjudication.claim_record_id)
    if (
        record.patient_control_number != adjudication.patient_control_number
        or record.client_id != adjudication.client_id
        or record.payer_id != adjudication.payer_id
    ):
        raise InvalidValue(
            "the adjudication's claim, client or payer is not its claim record's",
            "adjudication.claim_mismatch",
            "claim_record_id",
        )
    sessions = set(record.session_ids)
    for n, line in enumerate(adjudication.lines):
        if line.session_id not in sessions:
            raise InvalidValue(
                "an adjudication line names a session that is not on the claim",
                "adjudication.session_mismatch",
                f"lines[{n}].session_id",
            )
    return _apply(uow, adjudication)[1]


def _remittances(value: str | bytes | Remittance | Iterable[Remittance]) -> Sequence[Remittance]:
    if isinstance(value, (str, bytes)):
        return read_835(value)
    if isinstance(value, Remittance):
        return (value,)
    return tuple(value)


def _adjudication(
    remittance: Remittance,
    claim: ClaimPayment,
    record: ClaimRecord,
    lines: Sequence[ClaimRecordLine],
    now: datetime,
) -> Adjudication:
    return Adjudication(
        id=new_id(),
        claim_record_id=record.id,
        client_id=record.client_id,
        payer_id=record.payer_id,
        coverage_id=record.coverage_id,
        patient_control_number=claim.patient_control_number,
        payer_claim_number=claim.payer_claim_number or None,
        status_code=claim.status_code,
        charge=claim.charge,
        paid=claim.paid,
        patient_responsibility=claim.patient_responsibility or _ZERO,
        lines=[_line(s, line) for s, line in zip(claim.services, lines, strict=True)],
        adjustments=claim.adjustments,
        paid_on=remittance.payment_date,
        trace_number=remittance.trace_number,
        source="835",
        source_key=source_key(remittance, claim),
        posted_at=now,
    )


class _Run:
    """One posting run over a unit of work."""

    def __init__(self, uow: UnitOfWork, now: datetime, dry_run: bool) -> None:
        self.uow = uow
        self.now = now
        self.dry_run = dry_run
        self.records: dict[str, list[ClaimRecord]] = {}
        for record in uow.claim_records.list():
            self.records.setdefault(record.patient_control_number, []).append(record)
        self.seen: set[str] = set()
        self.posted: list[PostedClaim] = []
        self.unmatched: list[UnmatchedClaim] = []
        self.skipped: list[SkippedClaim] = []
        self.problems: list[PostingProblem] = []
        self.adjustments: list[ProviderAdjustment] = []
        self.statuses: dict[str, ClaimStatus] = {}

    def remittance(self, remittance: Remittance) -> None:
        self.adjustments.extend(remittance.provider_adjustments)
        self.problems.extend(
            PostingProblem(
                claim=p.claim,
                code=p.code,
                message=p.message,
                patient_control_number=p.patient_control_number,
                segment=p.segment,
            )
            for p in remittance.problems
        )
        for claim in remittance.claims:
            self.claim(remittance, claim)

    def _unmatched(self, claim: ClaimPayment, code: str, message: str, line: int | None = None) -> None:
        self.unmatched.append(
            UnmatchedClaim(
                claim=claim.position,
                patient_control_number=claim.patient_control_number,
                code=code,
                message=message,
                line=line,
            )
        )

    def claim(self, remittance: Remittance, claim: ClaimPayment) -> None:
        found = self.records.get(claim.patient_control_number, [])
        if not found:
            self._unmatched(
                claim, "remittance.unknown_claim", "no claim record has this patient control number (CLP01)"
            )
            return
        if len(found) > 1:
            self._problem(
                claim, "remittance.ambiguous_claim", "several claim records have this patient control number"
            )
            return
        record = found[0]
        if record.status in {ClaimStatus.VOID, ClaimStatus.REJECTED}:
            self._problem(
                claim,
                "remittance.claim_not_live",
                f"the claim record is {record.status.value}: post the payer's answer to the claim that replaced it",
            )
            return
        key = source_key(remittance, claim)
        earlier = self.uow.adjudications.by_source_key(key)
        if earlier is not None or key in self.seen:
            self.skipped.append(
                SkippedClaim(
                    claim=claim.position,
                    patient_control_number=claim.patient_control_number,
                    claim_record_id=record.id,
                    adjudication_id=None if earlier is None else earlier.id,
                )
            )
            return
        lines, fallback, missing = _match_lines(record, claim)
        if missing is not None:
            self._unmatched(
                claim,
                "remittance.unmatched_line",
                "a service line matches no line of the claim record (REF*6R, or code, date and charge)",
                line=missing,
            )
            return
        try:
            adjudication = _adjudication(remittance, claim, record, lines, self.now)
            if self.dry_run:
                status = _new_status(
                    attrs.evolve(record, status=self.statuses.get(record.id, record.status)),
                    claim.status_code,
                )
                sessions: tuple[str, ...] = record.session_ids
            else:
                record, adjudication, sessions = _apply(self.uow, adjudication)
                status = record.status
        except AlreadyExists as exc:  # posted by another unit of work since we looked
            if exc.code != "adjudication.already_posted":
                raise
            self.skipped.append(
                SkippedClaim(
                    claim=claim.position,
                    patient_control_number=claim.patient_control_number,
                    claim_record_id=record.id,
                    adjudication_id=None,
                )
            )
            return
        except SessionkitError as exc:
            self._problem(claim, exc.code, exc.message)
            return
        self.seen.add(key)
        self.statuses[record.id] = status
        self.posted.append(
            PostedClaim(
                claim=claim.position,
                patient_control_number=claim.patient_control_number,
                claim_record_id=record.id,
                adjudication_id=adjudication.id,
                status_code=claim.status_code,
                paid=claim.paid,
                claim_status=status,
                session_ids=sessions,
                fallback_lines=fallback,
            )
        )

    def _problem(self, claim: ClaimPayment, code: str, message: str) -> None:
        self.problems.append(
            PostingProblem(
                claim=claim.position,
                code=code,
                message=message,
                patient_control_number=claim.patient_control_number,
            )
        )

    def report(self) -> PostingReport:
        return PostingReport(
            posted=tuple(self.posted),
            unmatched=tuple(self.unmatched),
            skipped=tuple(self.skipped),
            problems=tuple(sorted(self.problems, key=lambda p: p.claim)),
            provider_adjustments=tuple(self.adjustments),
            dry_run=self.dry_run,
        )


def post_remittance(
    uow: UnitOfWork,
    remittance: str | bytes | Remittance | Iterable[Remittance],
    *,
    now: datetime,
    dry_run: bool = False,
) -> PostingReport:
    """Post every claim payment of an 835 (its text, or what :func:`read_835` returned) once.

    Inside an open unit of work; the caller commits. Claim payments that
    match no claim record (or whose lines match none of its lines) are
    reported unmatched, those posted already skipped, unreadable ones as
    problems: none stops the others. ``now`` is the posting time
    (timezone-aware). With ``dry_run`` nothing is written.

    When another process posts the same file at the same time, the commit
    raises :class:`~sessionkit.errors.AlreadyExists` (``adjudication.already_posted``)
    or :class:`~sessionkit.errors.ConcurrentUpdate` (a claim record or session
    changed): post again in a new unit of work, and what the other process
    posted is skipped (``sessionkit post-era`` does so).

    :raises sessionkit.remittance.x835.RemittanceError: the text is not a readable 835.
    """
    remittances = _remittances(remittance)
    run = _Run(uow, now, dry_run)
    for item in remittances:
        run.remittance(item)
    return run.report()
