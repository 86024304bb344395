"""The superbill: an itemised bill a client files with an out-of-network payer for reimbursement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.adapters.pdf._document import money, new_document, output
from sessionkit.adapters.pdf._table import (
    MARGIN,
    PAGE_WIDTH,
    Table,
    address_lines,
    footer,
    practice_lines,
    us_date,
    write,
    write_right,
)
from sessionkit.codes import behavioral
from sessionkit.domain.parties import Client, Coverage, Payer, PracticeSetup
from sessionkit.domain.session import ClientSession
from sessionkit.domain.values import DiagnosisCode
from sessionkit.errors import InvalidValue

__all__ = ["SuperbillRow", "superbill_pdf", "superbill_rows"]

_ZERO = Decimal("0.00")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@attrs.frozen(kw_only=True)
class SuperbillRow:
    """One service on a superbill: a session's code, or one of its add-on codes."""

    session_id: str
    date_of_service: date
    place_of_service: str
    code: str
    modifiers: tuple[str, ...]
    description: str
    """sessionkit's own short note for the code (never CPT descriptor text); empty when unknown."""
    diagnoses: tuple[str, ...]
    minutes: int | None
    units: Decimal
    charge: Decimal
    paid: Decimal
    """Paid at the session (on the session's own row; add-on rows show 0.00)."""


def _description(code: str) -> str:
    rule = behavioral.rule(code)
    return "" if rule is None else rule.note


def superbill_rows(sessions: Iterable[ClientSession]) -> tuple[SuperbillRow, ...]:
    """One row per service, in date order: each session's code, then its add-on codes.

    >>> from datetime import date
    >>> s = ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 3, 2), billing_code="90834",
    ...                   minutes=45, charge="140", paid_at_session="20", diagnoses=["F41.1"])
    >>> [(r.code, r.charge, r.paid, r.description) for r in superbill_rows([s])]
    [('90834', Decimal('140.00'), Decimal('20.00'), 'individual psychotherapy, about 45 minutes')]
    """
    rows: list[SuperbillRow] = []
    for s in sorted(sessions, key=lambda s: (s.date_of_service, s.id)):
        codes = tuple(d.code for d in s.diagnoses)
        rows.append(
            SuperbillRow(
                session_id=s.id,
                date_of_service=s.date_of_service,
                place_of_service=s.place_of_service.code,
                code=s.billing_code,
                modifiers=tuple(m.code for m in s.modifiers),
                description=_description(s.billing_code),
                diagnoses=codes,
                minutes=s.minutes,
                units=s.units,
                charge=s.charge.amount,
                paid=s.paid_at_session.amount,
            )
        )
        rows.extend(
            SuperbillRow(
                session_id=s.id,
                date_of_service=s.date_of_service,
                place_of_service=s.place_of_service.code,
                code=a.code,
                modifiers=tuple(m.code for m in a.modifiers),
                description=_description(a.code),
                diagnoses=codes,
                minutes=None,
                units=a.units,
                charge=a.charge.amount,
                paid=_ZERO,
            )
            for a in s.add_ons
        )
    return tuple(rows)


def _diagnoses(sessions: Sequence[ClientSession]) -> list[DiagnosisCode]:
    found: list[DiagnosisCode] = []
    for s in sorted(sessions, key=lambda s: (s.date_of_service, s.id)):
        found.extend(d for d in s.diagnoses if d not in found)
    return found


def _pointer(index: int) -> str:
    return LETTERS[index] if index < len(LETTERS) else str(index + 1)


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


_COLUMNS = (
    ("Date", 56.0, "L"),
    ("POS", 28.0, "L"),
    ("Code", 36.0, "L"),
    ("Modifiers", 42.0, "L"),
    ("Description", 182.0, "L"),
    ("Dx", 28.0, "L"),
    ("Min", 26.0, "R"),
    ("Units", 30.0, "R"),
    ("Charge", 52.0, "R"),
    ("Paid", 52.0, "R"),
)


def superbill_pdf(
    *,
    practice: PracticeSetup,
    client: Client,
    sessions: Sequence[ClientSession],
    start: date,
    end: date,
    coverage: Coverage | None = None,
    payer: Payer | None = None,
    provider_license: str = "",
    diagnosis_descriptions: Mapping[str, str] | None = None,
    signed_on: date | None = None,
) -> bytes:
    """A superbill for ``client``'s sessions from ``start`` to ``end`` (inclusive), as PDF bytes.

    The page has the practice header (name, address, phone, billing NPI, tax id,
    rendering provider and ``provider_license`` when given), the client (name,
    date of birth, address, and the payer and member id when ``coverage`` is
    given), the diagnoses (ICD-10-CM codes; sessionkit ships no code
    descriptions, so a code's description is the one ``diagnosis_descriptions``
    maps it to, else the practice's own ``DiagnosisCode.description``, else
    none), one row per service
    (:func:`superbill_rows`), the totals and the provider's signature line
    (dated ``signed_on`` when given). Sessions outside the period are left out.

    :raises InvalidValue: ``superbill.other_client`` when a session (or the
        coverage) belongs to another client; ``superbill.period`` when ``end`` is
        before ``start``; ``superbill.no_sessions`` when no session falls in the period.
    """
    if end < start:
        raise InvalidValue("the period ends before it starts", "superbill.period", "end")
    for i, s in enumerate(sessions):
        if s.client_id != client.id:
            raise InvalidValue(
                "a session belongs to another client", "superbill.other_client", f"sessions[{i}]"
            )
    if coverage is not None and coverage.client_id != client.id:
        raise InvalidValue("the coverage belongs to another client", "superbill.other_client", "coverage")
    chosen = [s for s in sessions if start <= s.date_of_service <= end]
    if not chosen:
        raise InvalidValue(
            "no session of the client falls in the period", "superbill.no_sessions", "sessions"
        )
    rows = superbill_rows(chosen)
    diagnoses = _diagnoses(chosen)
    descriptions = diagnosis_descriptions or {}

    pdf = new_document("Superbill", "Itemised bill for insurance reimbursement")
    pdf.add_page()
    right = PAGE_WIDTH - MARGIN
    write(pdf, MARGIN, 58, practice.name, size=14, style="B")
    y = 72.0
    for line in practice_lines(practice, provider_license):
        write(pdf, MARGIN, y, line)
        y += 11
    write_right(pdf, right, 58, "SUPERBILL", size=16, style="B")
    write_right(pdf, right, 72, "Itemised bill for insurance reimbursement", size=8)
    write_right(pdf, right, 83, f"Services {us_date(start)} to {us_date(end)}", size=8)

    y = max(y, 100.0) + 12
    write(pdf, MARGIN, y, "CLIENT", size=8, style="B")
    write(pdf, 320, y, "INSURANCE", size=8, style="B")
    y += 12
    client_lines = [f"{client.first_name} {client.last_name}"]
    if client.date_of_birth is not None:
        client_lines.append(f"Date of birth {us_date(client.date_of_birth)}")
    client_lines += address_lines(client.address)
    insurance_lines = []
    if coverage is not None:
        if payer is not None:
            insurance_lines.append(payer.name)
        insurance_lines.append(f"Member ID {coverage.member_id}")
        if coverage.group_number:
            insurance_lines.append(f"Group {coverage.group_number}")
    else:
        insurance_lines.append("Billed to the client")
    for i in range(max(len(client_lines), len(insurance_lines))):
        if i < len(client_lines):
            write(pdf, MARGIN, y, client_lines[i], size=10 if i == 0 else 9, style="B" if i == 0 else "")
        if i < len(insurance_lines):
            write(pdf, 320, y, insurance_lines[i])
        y += 12

    y += 8
    write(pdf, MARGIN, y, "DIAGNOSES (ICD-10-CM)", size=8, style="B")
    y += 12
    letters = {d.code: _pointer(i) for i, d in enumerate(diagnoses)}
    for i, d in enumerate(diagnoses):
        text = f"{_pointer(i)}.  {d.code}"
        description = descriptions.get(d.code, "") or d.description
        write(pdf, MARGIN + 4, y, text)
        if description:
            write(pdf, MARGIN + 80, y, description)
        y += 11

    y += 10
    table = Table(pdf, _COLUMNS)
    table.heading(y)
    for row in rows:
        table.row(
            [
                us_date(row.date_of_service),
                row.place_of_service,
                row.code,
                " ".join(row.modifiers),
                row.description,
                "".join(letters[c] for c in row.diagnoses),
                "" if row.minutes is None else str(row.minutes),
                _units(row.units),
                money(row.charge),
                money(row.paid),
            ]
        )
    charged = sum((r.charge for r in rows), _ZERO)
    paid = sum((r.paid for r in rows), _ZERO)
    table.row(["", "", "", "", "Total", "", "", "", money(charged), money(paid)], style="B", rule=False)
    table.row(
        ["", "", "", "", "Balance (charges less paid)", "", "", "", "", money(charged - paid)], style="B"
    )

    table.room(90)
    y = table.y + 40
    pdf.set_line_width(0.5)
    pdf.line(MARGIN, y, MARGIN + 250, y)
    pdf.line(MARGIN + 300, y, MARGIN + 420, y)
    write(pdf, MARGIN, y + 10, "Provider's signature", size=8)
    write(pdf, MARGIN + 300, y + 10, "Date", size=8)
    if signed_on is not None:
        write(pdf, MARGIN + 300, y - 4, us_date(signed_on))
    write(
        pdf,
        MARGIN,
        y + 28,
        "I certify that the services above were provided by me or under my supervision.",
        size=8,
    )
    footer(
        pdf, "Codes: POS = CMS place of service; Dx = the diagnoses above. Descriptions are sessionkit's own."
    )
    return output(pdf)
