"""Client statements read back with pypdf: invoices with their lines, payments, the balance due."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDFs back")

from sessionkit import Address, Client, PracticeSetup  # noqa: E402
from sessionkit.adapters.pdf import StatementPayment, statement_balance, statement_pdf  # noqa: E402
from sessionkit.domain.billing import InvoiceLine, InvoiceRecord  # noqa: E402
from sessionkit.errors import InvalidValue  # noqa: E402

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
REGEN_IMAGES = os.environ.get("SESSIONKIT_REGEN_IMAGES") == "1"
ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
PRACTICE = PracticeSetup(
    name="Calm Minds Counseling",
    npi="1234567893",
    tax_id="12-3456789",
    address=ADDRESS,
    time_zone="America/Chicago",
)
ADA = Client(
    id="c1",
    first_name="Ada",
    last_name="Byron",
    address=Address(line1="9 Lake Road", city="Peoria", state="IL", postal_code="61602"),
)
CREATED = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)


def invoice(
    number: int, amounts: list[Decimal], *, previous: Decimal = Decimal("0.00"), client_id: str = "c1"
) -> InvoiceRecord:
    """An invoice of ``client_id`` with one line per amount (negative amounts are payments at the session)."""
    return InvoiceRecord(
        id=f"i{number}",
        client_id=client_id,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        number=number,
        lines=[
            InvoiceLine(
                session_id=f"s{number}-{i}",
                date_of_service=date(2026, 3, 2 + i),
                code="90834",
                kind="payment" if amount < 0 else "charge",
                amount=amount,
            )
            for i, amount in enumerate(amounts)
        ],
        previous_balance=previous,
        created_at=CREATED,
    )


def lines_of(data: bytes) -> list[str]:
    """The text runs of every page grouped by baseline, top to bottom."""
    out = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        runs: dict[float, list[tuple[float, str]]] = {}

        def visit(
            text: str, cm: list[float], tm: list[float], _f: object, _s: object, runs: dict = runs
        ) -> None:  # type: ignore[type-arg]
            if text.strip():
                runs.setdefault(round(tm[5] * cm[3] + cm[5], 1), []).append((tm[4], text.strip()))

        page.extract_text(visitor_text=visit)
        out += [" | ".join(t for _x, t in sorted(runs[y])) for y in sorted(runs, reverse=True)]
    return out


def test_statement_lists_invoices_payments_and_the_balance() -> None:
    """Previous balance, each invoice line with the running balance, the payments, and the balance due."""
    invoices = [
        invoice(1041, [Decimal("150.00"), Decimal("-50.00")], previous=Decimal("20.00")),
        invoice(1042, [Decimal("30.00")]),
    ]
    payments = [StatementPayment(received_on=date(2026, 4, 10), amount=Decimal("100.00"), method="card")]
    data = statement_pdf(
        practice=PRACTICE, client=ADA, invoices=invoices, payments=payments, as_of=date(2026, 4, 15)
    )
    lines = lines_of(data)
    assert "Previous balance | 20.00" in lines
    assert "03/02/2026 | 90834  session charge | 150.00 | 170.00" in lines
    assert "03/03/2026 | 90834  paid at the session | -50.00 | 120.00" in lines
    assert "Invoice 1041 total | 100.00 | 120.00" in lines
    assert "Invoice 1042 total | 30.00 | 150.00" in lines
    assert "04/10/2026 | Payment received (card) | -100.00 | 50.00" in lines
    assert "Balance due | 50.00" in lines
    assert "$50.00" in lines
    assert statement_balance(invoices, payments) == Decimal("50.00")


@settings(max_examples=10, deadline=None)
@given(
    st.lists(
        st.lists(
            st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2).filter(bool),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900"), places=2), max_size=3),
)
def test_balance_adds_up(amounts: list[list[Decimal]], paid: list[Decimal]) -> None:
    """The balance due printed is the opening balance plus every invoice line less every payment."""
    invoices = [
        invoice(100 + i, a, previous=Decimal("12.50") if i == 0 else Decimal("0.00"))
        for i, a in enumerate(amounts)
    ]
    payments = [StatementPayment(received_on=date(2026, 4, 2 + i), amount=p) for i, p in enumerate(paid)]
    expected = (
        Decimal("12.50") + sum((sum(a, Decimal(0)) for a in amounts), Decimal(0)) - sum(paid, Decimal(0))
    )
    assert statement_balance(invoices, payments) == expected
    lines = lines_of(
        statement_pdf(
            practice=PRACTICE, client=ADA, invoices=invoices, payments=payments, as_of=date(2026, 5, 1)
        )
    )
    assert f"Balance due | {expected:,.2f}" in lines


def test_another_clients_invoice_is_refused() -> None:
    """An invoice of another client never goes on the statement (statement.other_client)."""
    with pytest.raises(InvalidValue) as info:
        statement_pdf(
            practice=PRACTICE,
            client=ADA,
            invoices=[invoice(1, [Decimal("5")]), invoice(2, [Decimal("5")], client_id="c2")],
            as_of=date(2026, 4, 1),
        )
    assert (info.value.code, info.value.field) == ("statement.other_client", "invoices[1]")


def test_nothing_to_state_and_bad_payments_are_refused() -> None:
    """No invoices and no payments is refused; a payment is a positive Decimal, never a float."""
    with pytest.raises(InvalidValue) as info:
        statement_pdf(practice=PRACTICE, client=ADA, invoices=[], as_of=date(2026, 4, 1))
    assert info.value.code == "statement.empty"
    for bad in (0, -5, 1.5, "x", True):
        with pytest.raises(InvalidValue) as info:
            StatementPayment(received_on=date(2026, 4, 1), amount=bad)  # type: ignore[arg-type]
        assert info.value.code == "statement.amount"


def test_metadata_carries_no_client_data() -> None:
    """The statement's title, author and subject are fixed text."""
    data = statement_pdf(
        practice=PRACTICE, client=ADA, invoices=[invoice(7, [Decimal("80")])], as_of=date(2026, 4, 1)
    )
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta is not None
    assert (meta.title, meta.author, meta.subject) == ("Statement", "sessionkit", "Client account statement")
    assert "Byron" not in " ".join(str(v) for v in meta.values())


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (Debian poppler-utils) is not installed"
)
def test_statement_renders_to_png(tmp_path: Path) -> None:
    """pdftoppm renders the statement (kept in docs/images with SESSIONKIT_REGEN_IMAGES=1)."""
    invoices = [
        invoice(1041, [Decimal("150.00"), Decimal("-50.00")], previous=Decimal("20.00")),
        invoice(1042, [Decimal("30.00")]),
    ]
    payments = [StatementPayment(received_on=date(2026, 4, 10), amount=Decimal("100.00"), method="card")]
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(
        statement_pdf(
            practice=PRACTICE, client=ADA, invoices=invoices, payments=payments, as_of=date(2026, 4, 15)
        )
    )
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(tmp_path / "statement")],
        check=True,
        timeout=60,
    )
    png = tmp_path / "statement.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if REGEN_IMAGES:
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, IMAGES / png.name)
