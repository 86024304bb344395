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
  is not on an invoice yet. An invoice lists what the client owes for them
  (:func:`sessionkit.facts.client_responsibility`), the changes an EOB made
  to sessions invoiced before (adjustments), and the ledger's payments
  received since (with what they left on account), and carries the client's
  balance forward. :func:`statement` adds the account
  (:func:`sessionkit.facts.account`): payments, credit and balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import attrs

from sessionkit.claims import Claim, ClaimContext, Receiver, Submitter, build_claims, to_837p, to_cms1500
from sessionkit.claims.cms1500 import Cms1500
from sessionkit.claims.grouping import claim_target
from sessionkit.codes.icd10 import DiagnosisCodeSet
from sessionkit.domain import BillTo, ClientSession, Coverage, Frequency, Resubmission, new_id
from sessionkit.domain.billing import (
    ClaimRecord,
    ClaimRecordLine,
    ClaimStatus,
    InvoiceLine,
    InvoiceLineKind,
    InvoicePayment,
    InvoiceRecord,
)
from sessionkit.domain.payments import Adjudication, Payment, PaymentStatus
from sessionkit.errors import InvalidValue, NotFound
from sessionkit.facts import (
    Account,
    account,
    billed_coverage,
    client_responsibility,
    coverage_to_bill,
)
from sessionkit.money import Money
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

_ZERO = Decimal("0.00")

_NOT_CHECKED = "billing.not_checked"
"""The gate's finding for a session :func:`bill` did not check itself (never expected)."""

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
    # Every session was checked for ``target`` with ``rules`` in this unit of work a moment ago
    # (sessions_to_bill returns the ready ones only): the claims' gate reuses that verdict instead
    # of checking again. Anything else is refused (fail closed).
    checked = frozenset(s.id for s in sessions)
    claims = build_claims(
        sessions,
        context,
        target,
        rules=rules,
        readiness_check=lambda s, t: () if t is target and s.id in checked else (_NOT_CHECKED,),
    )
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


def _share_line(session: ClientSession, owed: Money, coverages: Sequence[Coverage]) -> InvoiceLine:
    kind = (
        InvoiceLineKind.CHARGE
        if billed_coverage(session, coverages) is None
        else InvoiceLineKind.CLIENT_SHARE
    )
    return InvoiceLine(
        session_id=session.id,
        date_of_service=session.date_of_service,
        code=session.billing_code,
        kind=kind,
        amount=owed.amount,
    )


def _invoice_lines(
    session: ClientSession, coverages: Sequence[Coverage], adjudications: Sequence[Adjudication]
) -> list[InvoiceLine]:
    """The line of a session not invoiced yet: what the client owes for it (none when nothing).

    The figure is :func:`sessionkit.facts.client_responsibility`: the payer's
    patient responsibility once its EOB is posted, else the estimate.
    Payments are not session lines: they come from the ledger (:attr:`InvoiceRecord.payments`).
    """
    owed = client_responsibility(session, coverages, adjudications)
    if not owed.amount and session.bill_to is not BillTo.CLIENT:
        return []
    return [_share_line(session, owed, coverages)]


def sessions_to_invoice(
    uow: UnitOfWork, *, client_id: str | None = None, start: date | None = None, end: date | None = None
) -> list[ClientSession]:
    """Sessions not invoiced yet for which the client owes something (or billed to the client directly).

    What the client owes is :func:`sessionkit.facts.client_responsibility`; a
    session whose estimate was nothing is offered once an EOB makes the
    client owe part of it.
    """
    invoiced = uow.invoices.invoiced_session_ids()
    clients = [client_id] if client_id is not None else uow.sessions.client_ids()
    found = []
    for cid in clients:
        coverages = uow.coverages.for_client(cid)
        adjudications = uow.adjudications.for_client(cid)
        for s in uow.sessions.by_client(cid):
            if s.id in invoiced or (start is not None and s.date_of_service < start):
                continue
            if end is not None and s.date_of_service > end:
                continue
            if s.bill_to is BillTo.CLIENT or client_responsibility(s, coverages, adjudications).amount:
                found.append(s)
    return found


def _adjustments(uow: UnitOfWork, client_id: str, earlier: Sequence[InvoiceRecord]) -> list[InvoiceLine]:
    """For each session invoiced before, the change of what the client owes since (none when unchanged)."""
    invoiced: dict[str, Decimal] = {}
    for invoice in earlier:
        for line in (*invoice.lines, *invoice.adjustments):
            if line.kind is not InvoiceLineKind.PAYMENT:
                invoiced[line.session_id] = invoiced.get(line.session_id, _ZERO) + line.amount
    if not invoiced:
        return []
    coverages = uow.coverages.for_client(client_id)
    adjudications = uow.adjudications.for_client(client_id)
    found = []
    for s in uow.sessions.by_client(client_id):
        if s.id not in invoiced:
            continue
        change = client_responsibility(s, coverages, adjudications).amount - invoiced[s.id]
        if change:
            found.append(
                InvoiceLine(
                    session_id=s.id,
                    date_of_service=s.date_of_service,
                    code=s.billing_code,
                    kind=InvoiceLineKind.ADJUSTMENT,
                    amount=change,
                )
            )
    return found


def _payments(uow: UnitOfWork, client_id: str, earlier: Sequence[InvoiceRecord]) -> list[InvoicePayment]:
    """The client's ledger payments as the next invoice lists them.

    A payment that came in and is on no invoice yet is listed once; one
    listed before whose counted amount changed since (a paid-at-session entry
    corrected, voided) is listed again with the difference (negative: the
    client paid less than an earlier invoice said).
    """
    listed: dict[str, tuple[Decimal, Decimal]] = {}
    for invoice in earlier:
        for item in invoice.payments:
            amount, applied = listed.get(item.payment_id, (_ZERO, _ZERO))
            listed[item.payment_id] = (amount + item.amount, applied + item.applied)
    # Invoices made before the ledger listed paid at session as lines: an at-session payment
    # received by then (recorded when the ledger came) is on them already.
    legacy = {
        line.session_id: invoice.created_at
        for invoice in earlier
        for line in invoice.lines
        if line.kind is InvoiceLineKind.PAYMENT
    }
    found = []
    for p in uow.payments.for_client(client_id):
        if p.id not in listed and (
            p.at_session
            and p.applied
            and all(a.session_id in legacy and p.received_at <= legacy[a.session_id] for a in p.applied)
        ):
            continue
        amount, applied = (p.amount.amount, p.applied_total) if p.counts else (_ZERO, _ZERO)
        before, applied_before = listed.get(p.id, (_ZERO, _ZERO))
        if amount != before:
            found.append(
                InvoicePayment(
                    payment_id=p.id,
                    received_on=p.received_at.date(),
                    method=p.method.value,
                    amount=amount - before,
                    applied=applied - applied_before,
                    at_session=p.at_session,
                )
            )
    return found


def invoice_client(
    uow: UnitOfWork, client_id: str, *, start: date, end: date, now: datetime
) -> InvoiceRecord | None:
    """Invoice ``client_id``: what is owed for the sessions of ``start``..``end`` not invoiced yet,
    the changes since earlier invoices, and the payments received (``None`` when there is nothing).

    * a line per session not invoiced yet: what the client owes for it
      (:func:`sessionkit.facts.client_responsibility`: the payer's patient
      responsibility once its EOB is posted, else the estimate);
    * an adjustment (:attr:`~sessionkit.domain.billing.InvoiceRecord.adjustments`) for each
      session invoiced before whose figure changed since (an EOB posted or
      reversed), whatever its date;
    * the ledger's payments that came in and are on no earlier invoice, with
      what each left on account (a credit); a payment listed before whose
      amount was corrected since is listed again with the difference.

    The invoice number comes from the ``invoice`` control number sequence;
    the previous balance is the balance of the client's latest invoice.
    """
    if end < start:
        raise InvalidValue("the period ends before it starts", "invoice.period", "end")
    earlier = uow.invoices.for_client(client_id)
    sessions = sessions_to_invoice(uow, client_id=client_id, start=start, end=end)
    # The client's coverages and adjudications, read once for every session of the invoice.
    coverages = uow.coverages.for_client(client_id)
    adjudications = uow.adjudications.for_client(client_id)
    lines = [line for s in sessions for line in _invoice_lines(s, coverages, adjudications)]
    adjustments = _adjustments(uow, client_id, earlier)
    payments = _payments(uow, client_id, earlier)
    if not lines and not adjustments and not payments:
        return None
    number = uow.control_numbers.allocate("invoice")[0]
    return uow.invoices.add(
        InvoiceRecord(
            id=new_id(),
            client_id=client_id,
            period_start=start,
            period_end=end,
            number=number,
            lines=lines,
            adjustments=adjustments,
            payments=payments,
            previous_balance=earlier[-1].balance if earlier else _ZERO,
            created_at=now,
        )
    )


@attrs.frozen(kw_only=True)
class Statement:
    """A client's account: the invoices, the payments of the ledger, the credit on account, the balance.

    ``account`` is :func:`sessionkit.facts.account` (charges, what payers paid
    and wrote off, what the client paid); :attr:`balance` is its balance,
    owed by the client or still by a payer (negative: a credit).
    """

    client_id: str
    invoices: tuple[InvoiceRecord, ...]
    payments: tuple[Payment, ...] = ()
    """The client's payments that came in, by receipt time."""
    pending: tuple[Payment, ...] = ()
    """Card charges whose outcome the gateway has not told yet (they count nothing)."""
    account: Account = attrs.field(factory=Account)

    @property
    def balance(self) -> Decimal:
        """What is owed on the account (:attr:`sessionkit.facts.Account.balance`; negative: a credit)."""
        return self.account.balance

    @property
    def credit(self) -> Decimal:
        """The payments' amounts left on account, applied to no session."""
        return sum((p.unapplied for p in self.payments), _ZERO)

    @property
    def invoiced_balance(self) -> Decimal:
        """The balance of the latest invoice (what the client was last asked for)."""
        return self.invoices[-1].balance if self.invoices else _ZERO

    @property
    def uninvoiced_payments(self) -> tuple[Payment, ...]:
        """The payments that came in after the latest invoice (on no invoice yet)."""
        listed = {pid for invoice in self.invoices for pid in invoice.payment_ids}
        return tuple(p for p in self.payments if p.id not in listed)


def statement(uow: UnitOfWork, client_id: str) -> Statement:
    """The client's invoices (oldest first), payments, credit on account and balance.

    NotFound for an unknown client.
    """
    if uow.clients.find(client_id) is None and not uow.invoices.for_client(client_id):
        raise NotFound("client not found", "client.not_found", "client_id")
    payments = uow.payments.for_client(client_id)
    return Statement(
        client_id=client_id,
        invoices=tuple(uow.invoices.for_client(client_id)),
        payments=tuple(p for p in payments if p.counts),
        pending=tuple(p for p in payments if p.status is PaymentStatus.PENDING),
        account=account(uow.sessions.by_client(client_id), uow.adjudications.for_client(client_id), payments),
    )
