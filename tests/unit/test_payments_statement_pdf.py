"""The PDF statement of an invoice made from the ledger: adjustments and payments in the running balance."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import attrs
import pytest

pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDFs back")

from sessionkit import Address, Client, PracticeSetup  # noqa: E402
from sessionkit.adapters.pdf import statement_balance, statement_pdf  # noqa: E402
from sessionkit.domain.billing import InvoiceLine, InvoicePayment, InvoiceRecord  # noqa: E402

ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
PRACTICE = PracticeSetup(
    name="Calm Minds", npi="1234567893", tax_id="12-3456789", address=ADDRESS, time_zone="America/Chicago"
)
ADA = Client(id="c1", first_name="Ada", last_name="Byron", address=ADDRESS)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_statement_prints_adjustments_and_ledger_payments() -> None:
    """An adjustment line and each ledger payment (with what it left on account) move the running balance."""
    line = InvoiceLine(
        session_id="s1",
        date_of_service=date(2026, 3, 2),
        code="90834",
        kind="client_share",
        amount=Decimal("25"),
    )
    invoice = InvoiceRecord(
        id="i1",
        client_id="c1",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        number=7,
        lines=[line],
        adjustments=[attrs.evolve(line, kind="adjustment", amount=Decimal("15.00"))],
        payments=[
            InvoicePayment(
                payment_id="p1",
                received_on=date(2026, 3, 2),
                method="card",
                amount=Decimal("50.00"),
                applied=Decimal("40.00"),
                at_session=True,
            )
        ],
        created_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
    )
    assert invoice.total == Decimal("-10.00")
    text = _text(statement_pdf(practice=PRACTICE, client=ADA, invoices=[invoice], as_of=date(2026, 4, 2)))
    assert "your share changed after the insurance EOB" in text
    assert "paid at the session (card), 10.00 on account" in text
    assert "-50.00" in text
    assert statement_balance([invoice], []) == Decimal("-10.00")
