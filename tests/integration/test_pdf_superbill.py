"""Superbills read back with pypdf: header, diagnoses, one row per service, totals, no other client's data."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDFs back")

from sessionkit import AddOnLine, Address, Client, ClientSession, Coverage, Payer, PracticeSetup  # noqa: E402
from sessionkit.adapters.pdf import superbill_pdf, superbill_rows  # noqa: E402
from sessionkit.codes import behavioral  # noqa: E402
from sessionkit.errors import InvalidValue  # noqa: E402

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
REGEN_IMAGES = os.environ.get("SESSIONKIT_REGEN_IMAGES") == "1"
ADDRESS = Address(
    line1="12 Elm Street", line2="Suite 4", city="Springfield", state="IL", postal_code="627011234"
)
HOME = Address(line1="9 Lake Road", city="Peoria", state="IL", postal_code="61602")
PRACTICE = PracticeSetup(
    name="Calm Minds Counseling",
    npi="1234567893",
    tax_id="12-3456789",
    address=ADDRESS,
    time_zone="America/Chicago",
    phone="2175550100",
    provider_first_name="Grace",
    provider_last_name="Hopper",
)
ADA = Client(id="c1", first_name="José", last_name="Núñez", date_of_birth=date(1990, 1, 2), address=HOME)
BOB = Client(
    id="c2", first_name="Roberta", last_name="Quimby", date_of_birth=date(1985, 7, 14), address=ADDRESS
)
PAYER = Payer(id="p1", name="Acme Health", payer_id="60054")
ADA_COVERAGE = Coverage(
    id="cov1",
    client_id="c1",
    payer_id="p1",
    member_id="W111222333",
    group_number="G77",
    effective=date(2025, 1, 1),
)
BOB_COVERAGE = Coverage(
    id="cov2", client_id="c2", payer_id="p1", member_id="Z999888777", effective=date(2025, 1, 1)
)


def sessions_of(client: Client, n: int = 4, *, first: date = date(2026, 3, 2)) -> list[ClientSession]:
    """``n`` weekly sessions of ``client``, billed to the client, one with an add-on and one by video."""
    codes = ["90791", "90834", "90837", "90832"]
    return [
        ClientSession(
            id=f"{client.id}-s{i}",
            client_id=client.id,
            date_of_service=date.fromordinal(first.toordinal() + 7 * i),
            billing_code=codes[i % 4],
            minutes=[None, 45, 60, 30][i % 4],
            charge=Decimal("150.00") + i,
            diagnoses=["F41.1", "F43.23"] if i % 2 else ["F41.1"],
            modifiers=["95"] if i % 4 == 2 else [],
            place_of_service="10" if i % 4 == 2 else "11",
            paid_at_session=Decimal("150.00") if i % 2 == 0 else Decimal("0.00"),
            add_ons=[AddOnLine(code="90785", charge="25")] if i % 4 == 1 else [],
            bill_to="client",
        )
        for i in range(n)
    ]


def text_lines(data: bytes) -> list[list[str]]:
    """Per page, the text runs grouped by baseline: one list of runs per printed line, top to bottom."""
    pages = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        runs: dict[float, list[tuple[float, str]]] = {}

        def visit(
            text: str, cm: list[float], tm: list[float], _f: object, _s: object, runs: dict = runs
        ) -> None:  # type: ignore[type-arg]
            if text.strip():
                runs.setdefault(round(tm[5] * cm[3] + cm[5], 1), []).append((tm[4], text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append([" | ".join(t for _x, t in sorted(runs[y])) for y in sorted(runs, reverse=True)])
    return pages


def all_text(data: bytes) -> str:
    """Every text run of every page, one line per printed line."""
    return "\n".join(line for page in text_lines(data) for line in page)


def ada_superbill(**changes: object) -> bytes:
    """Ada's superbill for March 2026."""
    arguments: dict[str, object] = {
        "practice": PRACTICE,
        "client": ADA,
        "sessions": sessions_of(ADA),
        "start": date(2026, 3, 1),
        "end": date(2026, 3, 31),
        "coverage": ADA_COVERAGE,
        "payer": PAYER,
        "provider_license": "LCPC 180.012345 (IL)",
        "diagnosis_descriptions": {"F41.1": "Generalized anxiety disorder"},
        "signed_on": date(2026, 4, 1),
    }
    arguments.update(changes)
    return superbill_pdf(**arguments)  # type: ignore[arg-type]


def test_header_has_the_practice_the_provider_and_the_client() -> None:
    """Practice name, address, phone, NPI, tax id, provider and licence; client name, birth date, address, member id."""
    text = all_text(ada_superbill())
    for expected in (
        "Calm Minds Counseling",
        "12 Elm Street",
        "Springfield, IL 62701-1234",
        "Phone (217) 555-0100",
        "Billing NPI 1234567893",
        "Tax ID (EIN) 12-3456789",
        "Rendering provider Grace Hopper, licence LCPC 180.012345 (IL)",
        "José Núñez",
        "Date of birth 01/02/1990",
        "9 Lake Road",
        "Peoria, IL 61602",
        "Acme Health",
        "Member ID W111222333",
        "Services 03/01/2026 to 03/31/2026",
        "Provider's signature",
        "04/01/2026",
    ):
        assert expected in text, expected


def test_diagnoses_are_listed_with_the_descriptions_given() -> None:
    """Each diagnosis once, lettered in order of first use; a description only where the caller gave one."""
    lines = text_lines(ada_superbill())[0]
    assert "A.  F41.1 | Generalized anxiety disorder" in lines
    assert "B.  F43.23" in lines


def test_one_row_per_service_with_its_values() -> None:
    """Each session and each add-on is a row: date, POS, code, modifiers, note, pointers, minutes, units, charge, paid."""
    sessions = sessions_of(ADA)
    lines = text_lines(ada_superbill(sessions=sessions))[0]
    rows = superbill_rows(sessions)
    assert len(rows) == len(sessions) + 1  # one add-on
    for row in rows:
        expected = [
            row.date_of_service.strftime("%m/%d/%Y"),
            row.place_of_service,
            row.code,
            *([" ".join(row.modifiers)] if row.modifiers else []),
        ]
        matching = [line for line in lines if line.startswith(" | ".join(expected) + " | ")]
        assert matching, expected
        assert any(line.endswith(f" | {row.charge:.2f} | {row.paid:.2f}") for line in matching)
    assert "03/09/2026 | 11 | 90785 | interactive complexity" in "\n".join(lines)


def test_descriptions_are_sessionkits_notes_only() -> None:
    """A row's description is the behavioural catalogue's own note, and empty for a code it does not know."""
    session = sessions_of(ADA, 1)[0]
    other = ClientSession(
        id="x",
        client_id="c1",
        date_of_service=date(2026, 3, 3),
        billing_code="99213",
        charge="90",
        diagnoses=["F41.1"],
    )
    rows = superbill_rows([session, other])
    assert rows[0].description == behavioral.rule("90791").note  # type: ignore[union-attr]
    assert rows[1].description == ""


def test_totals_add_up() -> None:
    """The total row is the sum of the charges and of the paid amounts; the balance is their difference."""
    sessions = sessions_of(ADA)
    lines = text_lines(ada_superbill(sessions=sessions))[0]
    charged = sum(
        (s.charge.amount + sum((a.charge.amount for a in s.add_ons), Decimal(0)) for s in sessions),
        Decimal(0),
    )
    paid = sum((s.paid_at_session.amount for s in sessions), Decimal(0))
    assert (charged, paid) == (Decimal("631.00"), Decimal("300.00"))
    assert f"Total | {charged:.2f} | {paid:.2f}" in lines
    assert f"Balance (charges less paid) | {charged - paid:.2f}" in lines


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=1, max_value=70))
def test_rows_run_over_pages_and_still_add_up(n: int) -> None:
    """However many sessions, every row is printed once (heading repeated per page) and the totals add up."""
    sessions = sessions_of(ADA, n, first=date(2025, 1, 6))
    data = ada_superbill(sessions=sessions, start=date(2025, 1, 1), end=date(2026, 12, 31))
    pages = text_lines(data)
    rows = [
        line for page in pages for line in page if " | " in line and line[:2].isdigit() and line[2] == "/"
    ]
    assert len(rows) == len(superbill_rows(sessions))
    assert all(
        page.count("Date | POS | Code | Modifiers | Description | Dx | Min | Units | Charge | Paid") == 1
        for page in pages
        if any(r in page for r in rows)
    )
    charges = sum((Decimal(r.split(" | ")[-2].replace(",", "")) for r in rows), Decimal(0))
    total = next(line for page in pages for line in page if line.startswith("Total | "))
    assert (
        total
        == f"Total | {charges:,.2f} | {sum((s.paid_at_session.amount for s in sessions), Decimal(0)):,.2f}"
    )
    assert pages[-1][-1].endswith(f" | Page {len(pages)} of {len(pages)}")


def test_sessions_outside_the_period_are_left_out() -> None:
    """Only the sessions dated within the period are rows."""
    text = all_text(ada_superbill(start=date(2026, 3, 5), end=date(2026, 3, 20)))
    assert "03/02/2026" not in text
    assert "03/09/2026" in text
    assert "03/16/2026" in text
    assert "03/23/2026" not in text


def test_nothing_leaks_from_one_clients_superbill_into_anothers() -> None:
    """Bob's superbill has none of Ada's particulars, and a session of Bob's is refused on Ada's superbill."""
    bob = superbill_pdf(
        practice=PRACTICE,
        client=BOB,
        sessions=sessions_of(BOB, 2),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        coverage=BOB_COVERAGE,
        payer=PAYER,
    )
    text = all_text(bob)
    assert "Roberta Quimby" in text
    assert "Z999888777" in text
    for secret in ("Núñez", "José", "W111222333", "01/02/1990", "Lake Road", "Peoria", "c1-s"):
        assert secret not in text
    with pytest.raises(InvalidValue) as info:
        ada_superbill(sessions=[*sessions_of(ADA), sessions_of(BOB, 1)[0]])
    assert (info.value.code, info.value.field) == ("superbill.other_client", "sessions[4]")
    assert "Quimby" not in str(info.value)
    with pytest.raises(InvalidValue) as info:
        ada_superbill(coverage=BOB_COVERAGE)
    assert info.value.code == "superbill.other_client"


def test_bad_periods_and_empty_superbills_are_refused() -> None:
    """An end before the start, or no session in the period, is refused with its own code."""
    with pytest.raises(InvalidValue) as info:
        ada_superbill(start=date(2026, 4, 1), end=date(2026, 3, 1))
    assert info.value.code == "superbill.period"
    with pytest.raises(InvalidValue) as info:
        ada_superbill(start=date(2027, 1, 1), end=date(2027, 1, 31))
    assert info.value.code == "superbill.no_sessions"


def test_a_client_billed_directly_says_so() -> None:
    """Without a coverage the insurance block says the client is billed; no member id is printed."""
    text = all_text(ada_superbill(coverage=None, payer=None))
    assert "Billed to the client" in text
    assert "Member ID" not in text


def test_metadata_carries_no_client_data() -> None:
    """Title, author and subject are fixed text; no metadata value holds the client's data."""
    meta = pypdf.PdfReader(io.BytesIO(ada_superbill())).metadata
    assert meta is not None
    assert (meta.title, meta.author, meta.subject) == (
        "Superbill",
        "sessionkit",
        "Itemised bill for insurance reimbursement",
    )
    everything = " ".join(str(v) for v in meta.values())
    for secret in ("Núñez", "Nunez", "José", "W111222333", "1990", "Lake", "F41.1"):
        assert secret not in everything


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (Debian poppler-utils) is not installed"
)
def test_superbill_renders_to_png(tmp_path: Path) -> None:
    """pdftoppm renders page 1 of the superbill (kept in docs/images with SESSIONKIT_REGEN_IMAGES=1)."""
    png = render_png(ada_superbill(), tmp_path, "superbill")
    assert png.stat().st_size > 10_000


def render_png(data: bytes, tmp_path: Path, name: str) -> Path:
    """Page 1 of the PDF as a PNG made by pdftoppm (copied to docs/images with SESSIONKIT_REGEN_IMAGES=1)."""
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    command = [
        "pdftoppm",
        "-png",
        "-r",
        "80",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(pdf),
        str(tmp_path / name),
    ]
    subprocess.run(command, check=True, timeout=60)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if REGEN_IMAGES:
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, IMAGES / png.name)
    return png


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_any_name_prints_with_the_core_fonts(name: str) -> None:
    """Any text becomes printable Latin-1 (curly quotes straightened, other letters without accents or '?')."""
    from sessionkit.adapters.pdf._document import latin1

    printed = latin1(name)
    printed.encode("latin-1")
    assert all(ch.isprintable() for ch in printed)
    assert latin1("Łukasz \u2018Ann\u2019 \u2013 Zoë") == "Lukasz 'Ann' - Zoë"
