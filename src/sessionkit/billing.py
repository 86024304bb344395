"""From session to claim and invoice: the work lists a biller empties, and what was billed.

A service over the ports (:class:`~sessionkit.ports.UnitOfWork`); the routing
and readiness rules it applies live in :mod:`sessionkit.facts`,
:mod:`sessionkit.routing` and :mod:`sessionkit.readiness`.

* **To bill** (:func:`sessions_to_bill`): sessions with a coverage to bill
  (:func:`sessionkit.facts.coverage_to_bill`: the primary, then the secondary
  once the primary's adjudication is posted), ready for the target, and on no
  live claim record to that coverage. :func:`bill` turns them into claims, hands out control
  numbers (never reused), writes the 837P (or the CMS-1500 boxes) and records
  one :class:`~sessionkit.domain.billing.ClaimRecord` per claim; the caller
  commits the unit of work, then sends the file. A session on a live claim is
  not offered again; one on a rejected or voided claim is.
* **Corrections and voids** (:func:`correct`): from a claim record the payer
  acknowledged, the sessions get frequency 7 or 8 with the payer's claim
  number as original reference, and the record is voided, so the next run
  bills the corrected claim.
* **To invoice** (:func:`sessions_to_invoice`, :func:`invoice_client`): the
  sessions whose client share (or whole charge, when billed to the client)
  is not on an invoice yet. An invoice lists charges, client shares and what
  was paid at the sessions, and carries the client's balance forward.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from sessionkit.claims import Claim, ClaimContext, Receiver, Submitter, build_claims, to_837p, to_cms1500
from sessionkit.claims.cms1500 import Cms1500
from sessionkit.claims.grouping import claim_target
from sessionkit.codes.icd10 import DiagnosisCodeSet
from sessionkit.domain import BillTo, ClientSession, Frequency, Resubmission, new_id
from sessionkit.domain.billing import (
    ClaimRecord,
    ClaimRecordLine,
    ClaimStatus,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceRecord,
)
from sessionkit.errors import InvalidValue, NotFound
from sessionkit.facts import billed_coverage, client_share, coverage_to_bill
from sessionkit.ports import UnitOfWork
from sessionkit.readiness import ReadinessContext, Rules, Target, check_many

__all__ = [
    "BillingRun",
    "Statement",
    "bill",
    "correct",
    "invoice_client",
    "record_answer",
    "sessions_to_bill",
    "sessions_to_invoice",
    "statement",
]

PCN_PREFIX = "SK"
"""Patient control numbers are ``SK`` and the claim sequence number, 10 digits (CLM01 / box 26)."""


def sessions_to_bill(
    uow: UnitOfWork,
    *,
    today: date,
    target: Target | str = Target.X12_837P,
    payer_id: str | None = None,
    code_set: DiagnosisCodeSet | None = None,
    rules: Rules = None,
) -> list[ClientSession]:
    """The sessions to put on claims now: with a coverage to bill, ready for ``target``, on no live
    claim to that coverage.

    The coverage to bill is :func:`sessionkit.facts.coverage_to_bill`: a
    session whose primary payer's adjudication is posted is offered again, to
    its secondary payer. Read one client at a time; ``payer_id`` keeps the
    sessions to bill to that payer only. In client order, then date of service.
    """
    target = claim_target(target)
    live = uow.claim_records.live_session_ids()
    found: list[ClientSession] = []
    for client_id in uow.sessions.client_ids():
        sessions = uow.sessions.by_client(client_id)
        context = ReadinessContext.from_unit_of_work(
            uow, client_id, today=today, code_set=code_set, sessions=sessions
        )
        billed: set[tuple[str, str]] = set()
        if any(s.id in live for s in sessions):
            billed = {
                (sid, r.coverage_id)
                for r in uow.claim_records.for_client(client_id)
                if r.live
                for sid in r.session_ids
            }
        candidates = []
        for s in sessions:
            coverage = coverage_to_bill(s, context.coverages, context.adjudications_of(s))
            if (
                coverage is None
                or (s.id, coverage.id) in billed
                or (payer_id is not None and coverage.payer_id != payer_id)
            ):
                continue
            candidates.append(s)
        found.extend(
            s
            for s, r in zip(candidates, check_many(candidates, context, target, rules), strict=True)
            if r.ready
        )
    return found


@attrs.frozen(kw_only=True)
class BillingRun:
    """What :func:`bill` made: the claims, their records, and the 837P text or the CMS-1500 forms."""

    target: Target
    claims: tuple[Claim, ...] = ()
    records: tuple[ClaimRecord, ...] = ()
    text: str | None = None
    """The 837P interchange (``None`` for CMS-1500 or when there was nothing to bill)."""
    forms: tuple[Cms1500, ...] = ()
    """The CMS-1500 box values, one per claim."""
    dry_run: bool = False

    @property
    def session_ids(self) -> tuple[str, ...]:
        """Every session billed, each once."""
        return tuple(dict.fromkeys(sid for c in self.claims for sid in c.session_ids))


def _record(
    claim: Claim, *, target: Target, created_at: datetime, numbers: tuple[int | None, int | None]
) -> ClaimRecord:
    return ClaimRecord(
        id=new_id(),
        client_id=claim.client.id,
        payer_id=claim.payer.id,
        coverage_id=claim.coverage.id,
        target=target.value,
        frequency=claim.frequency,
        original_reference=claim.original_reference,
        patient_control_number=claim.patient_control_number,
        interchange_control_number=numbers[0],
        group_control_number=numbers[1],
        transaction_control_number=1 if numbers[0] is not None else None,
        session_ids=claim.session_ids,
        lines=[
            ClaimRecordLine(
                session_id=line.session_id,
                date_of_service=line.date_of_service,
                code=line.code,
                charge=line.charge,
                units=line.units,
                add_on=line.add_on,
            )
            for line in claim.lines
        ],
        total_charge=claim.total_charge,
        amount_paid=claim.amount_paid,
        created_at=created_at,
    )


def bill(
    uow: UnitOfWork,
    *,
    today: date,
    now: datetime,
    target: Target | str = Target.X12_837P,
    submitter: Submitter | None = None,
    receiver: Receiver | None = None,
    usage: str | None = None,
    payer_id: str | None = None,
    code_set: DiagnosisCodeSet | None = None,
    rules: Rules = None,
    dry_run: bool = False,
) -> BillingRun:
    """Bill every session to bill for ``target``: claims, control numbers, the file, the records.

    For the 837P, ``submitter``, ``receiver`` and ``usage`` (``"T"`` test or
    ``"P"`` production) are required. Each claim's patient control number,
    and the interchange and group control numbers, are handed out by
    ``uow.control_numbers`` (never reused, even when the run is not
    committed). The records are added to ``uow.claim_records``: commit the
    unit of work, and send the file only once the commit succeeded (a
    concurrent run that billed the same sessions first makes the commit raise
    :class:`~sessionkit.errors.AlreadyExists`, ``claim_record.session_billed``).
    With ``dry_run`` nothing is allocated or recorded and the claims keep
    their provisional control numbers.
    """
    target = claim_target(target)
    if target is Target.X12_837P and (submitter is None or receiver is None or usage is None):
        raise InvalidValue(
            "an 837P needs a submitter, a receiver and a usage (T or P)", "bill.x12_setup", "usage"
        )
    sessions = sessions_to_bill(
        uow, today=today, target=target, payer_id=payer_id, code_set=code_set, rules=rules
    )
    if not sessions:
        return BillingRun(target=target, dry_run=dry_run)
    client_ids = list(dict.fromkeys(s.client_id for s in sessions))
    context = ClaimContext.from_unit_of_work(uow, client_ids, today=today, code_set=code_set)
    claims = build_claims(sessions, context, target, rules=rules)
    numbers: tuple[int | None, int | None] = (None, None)
    if not dry_run:
        pcns = uow.control_numbers.allocate("claim", len(claims))
        claims = tuple(
            attrs.evolve(c, patient_control_number=f"{PCN_PREFIX}{n:010d}")
            for c, n in zip(claims, pcns, strict=True)
        )
        if target is Target.X12_837P:
            numbers = (
                uow.control_numbers.allocate("interchange")[0],
                uow.control_numbers.allocate("group")[0],
            )
    text = None
    forms: tuple[Cms1500, ...] = ()
    if target is Target.X12_837P:
        assert submitter is not None  # checked above, as are receiver and usage
        assert receiver is not None
        assert usage is not None
        text = to_837p(
            claims,
            submitter=submitter,
            receiver=receiver,
            interchange_control_number=numbers[0] or 1,
            group_control_number=numbers[1] or 1,
            created_at=now,
            usage=usage,
            newlines=True,
        )
    else:
        forms = tuple(to_cms1500(c, signed_on=today) for c in claims)
    records = tuple(_record(c, target=target, created_at=now, numbers=numbers) for c in claims)
    if not dry_run:
        records = tuple(uow.claim_records.add(r) for r in records)
    return BillingRun(
        target=target, claims=tuple(claims), records=records, text=text, forms=forms, dry_run=dry_run
    )


def record_answer(
    uow: UnitOfWork, record_id: str, *, status: ClaimStatus | str, payer_claim_number: str | None = None
) -> ClaimRecord:
    """Record the payer's answer to a claim: accepted (with its claim number), rejected, paid, denied.

    A rejected claim frees its sessions: the next run bills them again.
    """
    record = uow.claim_records.get(record_id)
    number = record.payer_claim_number if payer_claim_number is None else payer_claim_number
    return uow.claim_records.put(attrs.evolve(record, status=ClaimStatus(status), payer_claim_number=number))


def correct(uow: UnitOfWork, record_id: str, *, void: bool = False) -> list[ClientSession]:
    """Correct (frequency 7) or void (8) a claim from its record: the next run bills the new claim.

    The record must carry the payer's claim number (:func:`record_answer`);
    its sessions get that number as original reference, and the record is
    voided so that they are to bill again. Returns the sessions as saved.
    """
    record = uow.claim_records.get(record_id)
    if not record.payer_claim_number:
        raise InvalidValue(
            "the claim has no payer claim number yet: record the payer's acknowledgment first",
            "claim_record.no_payer_claim_number",
            "payer_claim_number",
        )
    if not record.live:
        raise InvalidValue("the claim is rejected or void already", "claim_record.not_live", "status")
    resubmission = Resubmission(
        frequency=Frequency.VOID if void else Frequency.REPLACEMENT,
        original_reference=record.payer_claim_number,
    )
    uow.claim_records.put(attrs.evolve(record, status=ClaimStatus.VOID))
    return [
        uow.sessions.save(attrs.evolve(uow.sessions.get(sid), resubmission=resubmission))
        for sid in record.session_ids
    ]


# -- client invoices ------------------------------------------------------------------------------


def _invoice_lines(session: ClientSession, uow: UnitOfWork) -> list[InvoiceLine]:
    coverages = uow.coverages.for_client(session.client_id)
    owed = client_share(session, coverages)
    kind = (
        InvoiceLineKind.CHARGE
        if billed_coverage(session, coverages) is None
        else InvoiceLineKind.CLIENT_SHARE
    )
    lines = []
    if owed.amount:
        lines.append(
            InvoiceLine(
                session_id=session.id,
                date_of_service=session.date_of_service,
                code=session.billing_code,
                kind=kind,
                amount=owed.amount,
            )
        )
    if session.paid_at_session.amount:
        lines.append(
            InvoiceLine(
                session_id=session.id,
                date_of_service=session.date_of_service,
                code=session.billing_code,
                kind=InvoiceLineKind.PAYMENT,
                amount=-session.paid_at_session.amount,
            )
        )
    return lines


def sessions_to_invoice(
    uow: UnitOfWork, *, client_id: str | None = None, start: date | None = None, end: date | None = None
) -> list[ClientSession]:
    """Sessions whose client share (or whole charge, billed to the client) or payment is not invoiced yet."""
    invoiced = uow.invoices.invoiced_session_ids()
    clients = [client_id] if client_id is not None else uow.sessions.client_ids()
    found = []
    for cid in clients:
        coverages = uow.coverages.for_client(cid)
        for s in uow.sessions.by_client(cid):
            if s.id in invoiced or (start is not None and s.date_of_service < start):
                continue
            if end is not None and s.date_of_service > end:
                continue
            if client_share(s, coverages).amount or s.paid_at_session.amount or s.bill_to is BillTo.CLIENT:
                found.append(s)
    return found


def invoice_client(
    uow: UnitOfWork, client_id: str, *, start: date, end: date, now: datetime
) -> InvoiceRecord | None:
    """Invoice ``client_id``'s sessions of ``start``..``end`` not invoiced yet (``None`` when there are none).

    The invoice number comes from the ``invoice`` control number sequence;
    the previous balance is the balance of the client's latest invoice.
    """
    if end < start:
        raise InvalidValue("the period ends before it starts", "invoice.period", "end")
    sessions = sessions_to_invoice(uow, client_id=client_id, start=start, end=end)
    lines = [line for s in sessions for line in _invoice_lines(s, uow)]
    if not lines:
        return None
    earlier = uow.invoices.for_client(client_id)
    number = uow.control_numbers.allocate("invoice")[0]
    return uow.invoices.add(
        InvoiceRecord(
            id=new_id(),
            client_id=client_id,
            period_start=start,
            period_end=end,
            number=number,
            lines=lines,
            previous_balance=earlier[-1].balance if earlier else Decimal("0.00"),
            created_at=now,
        )
    )


@attrs.frozen(kw_only=True)
class Statement:
    """A client's invoices and what the client owes now."""

    client_id: str
    invoices: tuple[InvoiceRecord, ...]

    @property
    def balance(self) -> Decimal:
        """What the client owes (negative: a credit)."""
        return sum((i.total for i in self.invoices), Decimal("0.00"))


def statement(uow: UnitOfWork, client_id: str) -> Statement:
    """The client's invoices, oldest first, and the balance (NotFound for an unknown client)."""
    if uow.clients.find(client_id) is None and not uow.invoices.for_client(client_id):
        raise NotFound("client not found", "client.not_found", "client_id")
    return Statement(client_id=client_id, invoices=tuple(uow.invoices.for_client(client_id)))
