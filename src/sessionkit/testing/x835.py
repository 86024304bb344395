"""Write X12 835 remittances from sessionkit's own claim records, for tests.

A payer's answer to each claim is an :class:`Outcome`: paid in full, partly
paid (a contractual CO-45 reduction and a patient share PR-1/2/3), denied
(CO-197, PR-96, ...) or a reversal (``CLP02 = 22``) of an earlier outcome,
with every amount negated. :func:`remittance_for` turns claim records and
outcomes into the :class:`~sessionkit.remittance.x835.Remittance` a payer
would send; :func:`write_835` writes any remittance as an 835 interchange
(005010X221A1) that pyx12 accepts and :func:`~sessionkit.remittance.x835.read_835`
reads back equal.

>>> from datetime import date, datetime, timezone
>>> from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine
>>> from sessionkit.money import Money
>>> from sessionkit.remittance.x835 import read_835
>>> record = ClaimRecord(
...     id="r1", client_id="c1", payer_id="p1", coverage_id="k1", target="x12_837p",
...     patient_control_number="SK0000000001", session_ids=["s1"],
...     lines=[ClaimRecordLine(session_id="s1", date_of_service=date(2026, 3, 2), code="90834",
...                            charge=Money("140.00"), units=1)],
...     total_charge=Money("140.00"), created_at=datetime(2026, 3, 3, tzinfo=timezone.utc))
>>> remittance = remittance_for([record], [Outcome.partly_paid(contractual="20", patient="25")],
...                             trace_number="CHK1001", payment_date=date(2026, 4, 1))
>>> text = write_835(remittance, created_at=datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc))
>>> read_835(text) == (remittance,)
True
>>> remittance.claims[0].paid
Decimal('95.00')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import attrs

from sessionkit.claims.x837 import line_control_number
from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine
from sessionkit.domain.payments import (
    CLAIM_STATUS_DENIED,
    CLAIM_STATUS_PRIMARY,
    CLAIM_STATUS_REVERSAL,
    Adjustment,
    AdjustmentGroup,
)
from sessionkit.money import Money
from sessionkit.remittance.x835 import ClaimPayment, ProviderAdjustment, Remittance, ServicePayment

__all__ = ["Outcome", "claim_payment", "line_control_number", "remittance_for", "write_835"]

_ZERO = Decimal("0.00")
PAID = "paid"
PARTLY_PAID = "partly_paid"
DENIED = "denied"
REVERSAL = "reversal"


def _dec(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


@attrs.frozen(kw_only=True)
class Outcome:
    """What the payer did with one claim, per line (amounts are capped at each line's charge)."""

    kind: str = PAID
    contractual: Decimal = attrs.field(default=_ZERO, converter=_dec)
    """CO-45 per line (charge above the fee schedule)."""
    patient: Decimal = attrs.field(default=_ZERO, converter=_dec)
    """The patient's share per line, group PR with ``patient_reason``."""
    patient_reason: str = "3"
    """1 deductible, 2 coinsurance, 3 copay."""
    denial_group: str = "CO"
    denial_reason: str = "197"
    reverses: Outcome | None = None
    """For a reversal: the outcome being taken back."""
    status_code: str = CLAIM_STATUS_PRIMARY
    """CLP02 of a paid claim (1, 2 or 3)."""

    @classmethod
    def paid(cls) -> Outcome:
        """Paid in full."""
        return cls(kind=PAID)

    @classmethod
    def partly_paid(
        cls, *, contractual: Decimal | str = "0", patient: Decimal | str = "0", reason: str = "3"
    ) -> Outcome:
        """Paid less a CO-45 reduction and a patient share (PR-``reason``) per line."""
        return cls(kind=PARTLY_PAID, contractual=contractual, patient=patient, patient_reason=reason)

    @classmethod
    def denied(cls, *, group: str = "CO", reason: str = "197") -> Outcome:
        """Denied (CLP02 = 4): every line adjusted in full with ``group``-``reason``."""
        return cls(kind=DENIED, denial_group=group, denial_reason=reason)

    @classmethod
    def reversal(cls, of: Outcome) -> Outcome:
        """The payer takes back ``of`` (CLP02 = 22, every amount negated)."""
        return cls(kind=REVERSAL, reverses=of)


def _charge(line: ClaimRecordLine) -> Decimal:
    return line.charge.amount if isinstance(line.charge, Money) else _dec(line.charge)


def _line(line: ClaimRecordLine, outcome: Outcome) -> tuple[Decimal, list[Adjustment], Decimal | None]:
    """Paid amount, adjustments and allowed amount of one line (before any reversal)."""
    charge = _charge(line)
    if outcome.kind == PAID:
        return charge, [], charge
    if outcome.kind == DENIED:
        group = AdjustmentGroup(outcome.denial_group)
        return _ZERO, [Adjustment(group=group, reason=outcome.denial_reason, amount=charge)], None
    co = min(outcome.contractual, charge)
    pr = min(outcome.patient, charge - co)
    adjustments = []
    if co:
        adjustments.append(Adjustment(group=AdjustmentGroup.CO, reason="45", amount=co))
    if pr:
        adjustments.append(Adjustment(group=AdjustmentGroup.PR, reason=outcome.patient_reason, amount=pr))
    return charge - co - pr, adjustments, charge - co


def _negated(adjustment: Adjustment) -> Adjustment:
    return attrs.evolve(adjustment, amount=-adjustment.amount)


def claim_payment(
    record: ClaimRecord, outcome: Outcome, *, position: int = 1, payer_claim_number: str | None = None
) -> ClaimPayment:
    """The claim payment (loop 2100) a payer would send for ``record`` with ``outcome``."""
    base = outcome.reverses if outcome.kind == REVERSAL else outcome
    if base is None or base.kind == REVERSAL:
        raise ValueError("a reversal reverses a paid, partly paid or denied outcome")
    sign = Decimal(-1) if outcome.kind == REVERSAL else Decimal(1)
    services = []
    for n, line in enumerate(record.lines, 1):
        paid, adjustments, allowed = _line(line, base)
        if sign < 0:
            adjustments = [_negated(a) for a in adjustments]
        services.append(
            ServicePayment(
                code=line.code,
                charge=sign * _charge(line) + 0,
                paid=sign * paid + 0,
                units=Decimal(line.units),
                date_of_service=line.date_of_service,
                line_control_number=line_control_number(record, n),
                allowed=None if allowed is None else sign * allowed + 0,
                adjustments=tuple(adjustments),
            )
        )
    if outcome.kind == REVERSAL:
        status = CLAIM_STATUS_REVERSAL
    elif base.kind == DENIED:
        status = CLAIM_STATUS_DENIED
    else:
        status = base.status_code
    patient = sum((a.amount for s in services for a in s.adjustments if a.patient_responsibility), _ZERO)
    dates = [line.date_of_service for line in record.lines]
    return ClaimPayment(
        position=position,
        patient_control_number=record.patient_control_number,
        status_code=status,
        charge=sum((s.charge for s in services), _ZERO),
        paid=sum((s.paid for s in services), _ZERO),
        patient_responsibility=patient,
        filing_indicator="12",
        payer_claim_number=payer_claim_number or f"PCN{record.patient_control_number}",
        services=tuple(services),
        statement_from=min(dates) if dates else None,
        statement_to=max(dates) if dates else None,
    )


def remittance_for(
    records: Sequence[ClaimRecord],
    outcomes: Sequence[Outcome],
    *,
    trace_number: str,
    payment_date: date,
    payer_name: str = "ACME HEALTH",
    payer_identifier: str = "1999999999",
    payer_id: str = "60054",
    payee_name: str = "CALM PRACTICE",
    payee_npi: str = "1234567893",
    sender_id: str = "ACMEHEALTH",
    receiver_id: str = "CALMPRACTICE",
    interchange_control_number: str = "000000001",
    usage: str = "T",
    payer_claim_numbers: Sequence[str] | None = None,
    provider_adjustments: Sequence[ProviderAdjustment] = (),
) -> Remittance:
    """The remittance a payer sends for ``records``, one ``outcome`` each (in order).

    The payment is the claims' paid amounts less ``provider_adjustments``; when
    that is below zero (a reversal alone), a forwarding balance (``PLB*FB``)
    carries it to a later payment and nothing is paid now (``BPR01 = H``).
    """
    if len(records) != len(outcomes):
        raise ValueError("one outcome per claim record")
    claims = tuple(
        claim_payment(
            record,
            outcome,
            position=n,
            payer_claim_number=None if payer_claim_numbers is None else payer_claim_numbers[n - 1],
        )
        for n, (record, outcome) in enumerate(zip(records, outcomes, strict=True), 1)
    )
    adjustments = list(provider_adjustments)
    total = sum((c.paid for c in claims), _ZERO) - sum((a.amount for a in adjustments), _ZERO)
    if total < 0:
        adjustments.append(
            ProviderAdjustment(
                provider_id=payee_npi,
                fiscal_period_end=date(payment_date.year, 12, 31),
                reason="FB",
                reference=trace_number,
                amount=total,
            )
        )
        total = _ZERO
    return Remittance(
        sender_id=sender_id,
        receiver_id=receiver_id,
        interchange_control_number=interchange_control_number,
        usage=usage,
        group_control_number="1",
        transaction_control_number="0001",
        handling_code="I" if total > 0 else "H",
        total_paid=total,
        credit_debit="C",
        method="CHK" if total > 0 else "NON",
        payment_date=payment_date,
        trace_number=trace_number,
        payer_identifier=payer_identifier,
        payer_name=payer_name,
        payer_id=payer_id,
        payee_name=payee_name,
        payee_id_qualifier="XX",
        payee_id=payee_npi,
        claims=claims,
        provider_adjustments=tuple(adjustments),
    )


def _amount(value: Decimal) -> str:
    return "0" if value == 0 else f"{value.normalize():f}"


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _segment(*elements: str) -> str:
    parts = list(elements)
    while parts and parts[-1] == "":
        parts.pop()
    return "*".join(parts) + "~"


def _claim_segments(claim: ClaimPayment) -> list[str]:
    out = [
        _segment(
            "CLP",
            claim.patient_control_number,
            claim.status_code,
            _amount(claim.charge),
            _amount(claim.paid),
            "" if claim.patient_responsibility is None else _amount(claim.patient_responsibility),
            claim.filing_indicator,
            claim.payer_claim_number,
        )
    ]
    out.extend(_cas(claim.adjustments))
    out.append(_segment("NM1", "QC", "1", claim.patient_last_name, claim.patient_first_name))
    for qualifier, day in (
        ("232", claim.statement_from),
        ("233", claim.statement_to),
        ("050", claim.received_on),
    ):
        if day is not None:
            out.append(_segment("DTM", qualifier, _d8(day)))
    for service in claim.services:
        composite = ":".join([service.qualifier, service.code, *service.modifiers])
        units = "" if service.units is None else _amount(service.units)
        out.append(_segment("SVC", composite, _amount(service.charge), _amount(service.paid), "", units))
        if service.date_of_service is not None:
            out.append(_segment("DTM", "472", _d8(service.date_of_service)))
        out.extend(_cas(service.adjustments))
        if service.line_control_number is not None:
            out.append(_segment("REF", "6R", service.line_control_number))
        if service.allowed is not None:
            out.append(_segment("AMT", "B6", _amount(service.allowed)))
    return out


def _cas(adjustments: Sequence[Adjustment]) -> list[str]:
    """One CAS per group, at most 6 reason/amount/quantity triples each."""
    out = []
    groups: dict[str, list[Adjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group.value, []).append(a)
    for group, found in groups.items():
        for start in range(0, len(found), 6):
            elements = ["CAS", group]
            for a in found[start : start + 6]:
                quantity = "" if a.quantity is None else _amount(a.quantity)
                elements += [a.reason, _amount(a.amount), quantity]
            out.append(_segment(*elements))
    return out


def write_835(
    remittance: Remittance,
    *,
    created_at: datetime,
    payer_address: tuple[str, str, str, str] = ("PO BOX 100", "SPRINGFIELD", "IL", "627010100"),
    newlines: bool = True,
) -> str:
    """Write ``remittance`` as an 835 interchange (``~`` ends segments, ``*`` elements, ``:`` components)."""
    r = remittance
    body = [
        _segment(
            "BPR",
            r.handling_code,
            _amount(r.total_paid),
            r.credit_debit,
            r.method,
            *([""] * 11),
            _d8(r.payment_date),
        ),
        _segment("TRN", "1", r.trace_number, r.payer_identifier),
    ]
    if r.production_date is not None:
        body.append(_segment("DTM", "405", _d8(r.production_date)))
    line1, city, state, postal = payer_address
    body += [
        _segment("N1", "PR", r.payer_name),
        _segment("N3", line1),
        _segment("N4", city, state, postal),
    ]
    if r.payer_id:
        body.append(_segment("REF", "2U", r.payer_id))
    body += [
        _segment("PER", "BL", "TECHNICAL SUPPORT", "TE", "8005550100"),
        _segment("N1", "PE", r.payee_name, r.payee_id_qualifier, r.payee_id),
    ]
    if r.claims:
        body.append(_segment("LX", "1"))
    for claim in r.claims:
        body += _claim_segments(claim)
    for a in r.provider_adjustments:
        reason = f"{a.reason}:{a.reference}" if a.reference else a.reason
        body.append(_segment("PLB", a.provider_id, _d8(a.fiscal_period_end), reason, _amount(a.amount)))
    stcn = r.transaction_control_number
    segments = [
        (
            "ISA*00*          *00*          *ZZ*"
            f"{r.sender_id:<15}*ZZ*{r.receiver_id:<15}*{created_at:%y%m%d}*{created_at:%H%M}*^*00501*"
            f"{int(r.interchange_control_number):09d}*0*{r.usage}*:~"
        ),
        _segment(
            "GS",
            "HP",
            r.sender_id,
            r.receiver_id,
            f"{created_at:%Y%m%d}",
            f"{created_at:%H%M}",
            r.group_control_number,
            "X",
            "005010X221A1",
        ),
        _segment("ST", "835", stcn),
        *body,
        _segment("SE", str(len(body) + 2), stcn),
        _segment("GE", "1", r.group_control_number),
        _segment("IEA", "1", f"{int(r.interchange_control_number):09d}"),
    ]
    return ("\n" if newlines else "").join(segments) + ("\n" if newlines else "")
