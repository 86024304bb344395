"""The CMS-1500 PDF read back with pypdf: every box at its place, continued claims, offsets, review copies."""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDFs back")

from sessionkit import Address, Client, Coverage, Money, Payer, PracticeSetup, ReferringProvider  # noqa: E402
from sessionkit.adapters.pdf import cms1500_pdf  # noqa: E402
from sessionkit.adapters.pdf.cms1500 import (  # noqa: E402
    CHECKBOXES,
    CONTINUED,
    LAYOUT,
    NOT_PRINTED,
    ROW_LINES,
    field_position,
    printed,
)
from sessionkit.claims import (  # noqa: E402
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimTarget,
    Cms1500,
    RenderingProvider,
    ServiceFacility,
    to_cms1500,
)
from sessionkit.domain import Frequency  # noqa: E402
from sessionkit.domain.values import DiagnosisCode  # noqa: E402
from sessionkit.errors import InvalidValue, SessionkitError  # noqa: E402

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
REGEN_IMAGES = os.environ.get("SESSIONKIT_REGEN_IMAGES") == "1"
PAGE_HEIGHT = 792.0
TOLERANCE = 0.5
"""Points: how far a printed value may be from its box's place (1/144 inch)."""

ADDRESS = Address(
    line1="12 Elm Street", line2="Suite 4", city="Springfield", state="IL", postal_code="627011234"
)
PRACTICE = PracticeSetup(
    name="Calm Minds Counseling LLC",
    npi="1234567893",
    tax_id="12-3456789",
    taxonomy="101YM0800X",
    address=ADDRESS,
    time_zone="America/Chicago",
    phone="2175550100",
)
PAYER = Payer(id="p1", name="Acme Health", payer_id="60054", address=ADDRESS)


def client(n: int = 1) -> Client:
    """A client whose name and date of birth differ with ``n``."""
    return Client(
        id=f"c{n}",
        first_name=f"Ada{'x' * (n - 1)}",
        last_name="O'Byron-Lovelace" if n == 1 else f"Babbage{n}",
        date_of_birth=date(1990, 1, n),
        sex="F",
        address=ADDRESS,
    )


def claim(n_lines: int, *, who: int = 1, charges: list[Decimal] | None = None, rich: bool = True) -> Claim:
    """A CMS-1500 claim of ``n_lines`` lines (7 is more than a form holds: the claim continues)."""
    amounts = charges or [Decimal("140.00") + i for i in range(n_lines)]
    lines = tuple(
        ClaimLine(
            session_id=f"s{who}-{i}",
            date_of_service=date(2026, 3, 1 + i),
            code="90834" if i % 3 else "90837",
            modifiers=("95", "GT") if i % 2 else (),
            charge=Money(amounts[i]),
            units=Decimal(1),
            place_of_service="10" if i % 2 else "11",
            diagnosis_pointers=(1, 2) if i % 2 else (2,),
        )
        for i in range(n_lines)
    )
    return Claim(
        target=ClaimTarget.CMS1500,
        patient_control_number=f"SKPCN{who}",
        client=client(who),
        coverage=Coverage(
            id=f"cov{who}",
            client_id=f"c{who}",
            payer_id="p1",
            member_id=f"W12345678{who}",
            group_number="G77",
            effective=date(2025, 1, 1),
        ),
        payer=PAYER,
        billing_provider=BillingProvider.for_practice(PRACTICE, None),
        rendering_provider=RenderingProvider(first_name="Grace", last_name="Hopper", npi="1245319599")
        if rich
        else None,
        service_facility=ServiceFacility(name="Calm Minds Annex", address=ADDRESS, npi="1234567893")
        if rich
        else None,
        referring_provider=ReferringProvider(first_name="Alan", last_name="Turing", npi="1234567893")
        if rich
        else None,
        diagnoses=(DiagnosisCode(code="F41.1"), DiagnosisCode(code="F43.23")),
        lines=lines,
        frequency=Frequency.REPLACEMENT if rich else Frequency.ORIGINAL,
        original_reference="ORIG12345" if rich else None,
        prior_authorization="PA998877",
        amount_paid=Money("20.00"),
    )


def page_fragments(page: pypdf.PageObject) -> list[tuple[str, float, float]]:
    """Every text run of ``page``: (text, x from the left, baseline y from the top), in points."""
    found: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: object) -> None:
        if text.strip():
            x = tm[4] * cm[0] + cm[4]
            y = tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x, PAGE_HEIGHT - y))

    page.extract_text(visitor_text=visit)
    return found


def fragments(data: bytes) -> list[list[tuple[str, float, float]]]:
    """Per page, every text run (:func:`page_fragments`)."""
    return [page_fragments(page) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def at(page: list[tuple[str, float, float]], text: str, x: float, y: float) -> bool:
    """Whether ``text`` is printed with its baseline start within the tolerance of (x, y)."""
    return any(t == text and abs(tx - x) <= TOLERANCE and abs(ty - y) <= TOLERANCE for t, tx, ty in page)


def placed(text: str, line: int, column: int) -> tuple[str, float, float]:
    """``text`` printed from ``column`` of ``line``: its leading spaces are columns skipped."""
    stripped = text.lstrip(" ")
    return (stripped, *field_position(line, column + len(text) - len(stripped)))


def expected_page(form: Mapping[str, str], rows: list[Mapping[str, str]]) -> list[tuple[str, float, float]]:
    """What the page of ``form`` should show, from the layout table: (text, x, y) for every filled box."""
    out = []
    for box, value in form.items():
        if not value:
            continue
        if box in CHECKBOXES:
            line, columns = CHECKBOXES[box]
            out.append(("X", *field_position(line, columns[value])))
        else:
            field = LAYOUT[box]
            out.append(placed(printed(field, value), field.line, field.column))
    for n, row in enumerate(rows, start=1):
        for box, value in row.items():
            if value and box not in NOT_PRINTED:
                field = LAYOUT[box]
                out.append(placed(printed(field, value), ROW_LINES[n - 1], field.column))
    return out


def test_every_box_the_form_fills_has_a_place() -> None:
    """Each box to_cms1500 fills is in the layout, is a check box, or is pre-printed on the form (24I)."""
    form = to_cms1500(claim(6), signed_on=date(2026, 3, 10))
    for box in form.header():
        assert box in LAYOUT or box in CHECKBOXES, box
    for row in form.lines:
        for box in row:
            assert box in LAYOUT or box in NOT_PRINTED, box


def test_every_box_is_printed_at_its_place() -> None:
    """The value of every filled box is on the page at its box's print line and column (within 1/144 inch)."""
    form = to_cms1500(claim(6), signed_on=date(2026, 3, 10))
    [page] = fragments(cms1500_pdf([form]))
    wanted = expected_page(form.header(), list(form.lines))
    assert len(wanted) > 90
    missing = [(t, x, y) for t, x, y in wanted if not at(page, t, x, y)]
    assert missing == []
    # nothing else is printed on a form for the red paper
    assert len(page) == len(wanted)


def test_values_sit_on_the_ten_pitch_six_lines_per_inch_grid() -> None:
    """Every value starts on a 1/10-inch column and a 1/6-inch line, from a quarter inch and a sixth of an inch."""
    [page] = fragments(cms1500_pdf([to_cms1500(claim(6))]))
    for text, x, y in page:
        column = (x - 18.0) / 7.2
        line = (y - 12.0 - 9.0) / 12.0
        assert abs(column - round(column)) < 0.01, text
        assert abs(line - round(line)) < 0.01, text


def test_known_boxes_by_hand() -> None:
    """A few boxes checked by hand against the grid: patient name, 24D of row 1 and 6, the total charge."""
    form = to_cms1500(claim(6, rich=False))
    [page] = fragments(cms1500_pdf([form]))
    # box 2 on line 10, column 1: x = 1/4 inch, baseline = 1/6 inch + 9 lines + 9 points
    assert at(page, "OBYRON-LOVELACE, ADA", 18.0, 12.0 + 9 * 12.0 + 9.0)
    # 24D of row 1 on line 44, column 25; of row 6 on line 54
    assert at(page, "90837", 18.0 + 24 * 7.2, 12.0 + 43 * 12.0 + 9.0)
    assert at(page, "90834", 18.0 + 24 * 7.2, 12.0 + 53 * 12.0 + 9.0)
    # box 28: 140 + 141 + ... + 145 = 855.00, dollars right-aligned in 6 columns from column 51
    assert at(page, "855 00", 18.0 + 53 * 7.2, 12.0 + 55 * 12.0 + 9.0)
    # box 1: an X in Group Health Plan (column 31, line 8)
    assert at(page, "X", 18.0 + 30 * 7.2, 12.0 + 7 * 12.0 + 9.0)


def test_a_seven_line_claim_spans_two_pages_with_the_total_on_the_last() -> None:
    """7 lines: rows 1-6 on page 1 (box 28 CONTINUED), row 7 on page 2 with the total; header boxes on both."""
    c = claim(7)
    form = to_cms1500(c)
    pages = fragments(cms1500_pdf([form]))
    assert len(pages) == 2
    codes = [
        [t for t, x, _y in p if t in {"90834", "90837"} and abs(x - (18.0 + 24 * 7.2)) < 1] for p in pages
    ]
    assert [len(c) for c in codes] == [6, 1]
    total = sum((line.charge.amount for line in c.lines), Decimal(0))
    assert total == Decimal("1001.00")
    box28 = field_position(LAYOUT["28"].line, LAYOUT["28"].column)
    assert at(pages[0], CONTINUED, *box28)
    assert at(
        pages[1], *placed(printed(LAYOUT["28"], f"{total:.2f}"), LAYOUT["28"].line, LAYOUT["28"].column)
    )
    assert not any(t.replace(" ", "") == "100100" for t, _x, _y in pages[0])
    box29 = field_position(LAYOUT["29"].line, LAYOUT["29"].column)
    assert at(pages[1], "20 00", box29[0] + 4 * 7.2, box29[1]) or at(
        pages[1], printed(LAYOUT["29"], "20.00"), *box29
    )
    assert not any(abs(x - box29[0]) < 1 and abs(y - box29[1]) < 1 for _t, x, y in pages[0])
    for page in pages:
        assert at(page, "OBYRON-LOVELACE, ADA", *field_position(10, 1))
        assert at(page, "W123456781", *field_position(8, 50))
    assert at(pages[0], "PAGE 1 OF 2", *field_position(4, 41))
    assert at(pages[1], "PAGE 2 OF 2", *field_position(4, 41))
    # row 7 of the claim is row 1 of page 2
    row7 = form.lines[6]
    assert at(pages[1], printed(LAYOUT["24A.from"], row7["24A.from"]), *field_position(ROW_LINES[0], 1))


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
        min_size=1,
        max_size=20,
    )
)
def test_pages_and_totals_add_up(charges: list[Decimal]) -> None:
    """n lines make ceil(n/6) pages; the rows printed are the claim's; the last page's box 28 is their sum."""
    form = to_cms1500(claim(len(charges), charges=charges, rich=False))
    pages = fragments(cms1500_pdf([form]))
    assert len(pages) == math.ceil(len(charges) / 6)
    left, right = field_position(0, 50)[0], field_position(0, 59)[0]
    rows = {field_position(line, 1)[1] for line in ROW_LINES}
    printed_charges = [t for p in pages for t, x, y in p if left <= x <= right and y in rows]
    assert [Decimal(t.replace(" ", "")) / 100 for t in printed_charges] == charges
    box28 = field_position(LAYOUT["28"].line, LAYOUT["28"].column)
    assert at(
        pages[-1],
        *placed(printed(LAYOUT["28"], f"{sum(charges):.2f}"), LAYOUT["28"].line, LAYOUT["28"].column),
    )
    assert all(at(p, CONTINUED, *box28) for p in pages[:-1])


def test_several_claims_in_one_pdf() -> None:
    """Each claim starts a new page; each page shows its own client only."""
    forms = [to_cms1500(claim(3, who=1)), to_cms1500(claim(7, who=2)), to_cms1500(claim(1, who=3))]
    pages = fragments(cms1500_pdf(forms))
    assert len(pages) == 4
    names = [[t for t, x, y in p if (x, y) == pytest.approx(field_position(10, 1))] for p in pages]
    assert names == [["OBYRON-LOVELACE, ADA"], ["BABBAGE2, ADAX"], ["BABBAGE2, ADAX"], ["BABBAGE3, ADAXX"]]


def test_offset_moves_every_value() -> None:
    """An offset of (right, down) points moves every printed value by exactly that much."""
    form = to_cms1500(claim(4))
    [plain] = fragments(cms1500_pdf([form]))
    [moved] = fragments(cms1500_pdf([form], offset=(3.6, -6.0)))
    assert len(plain) == len(moved)
    for (t1, x1, y1), (t2, x2, y2) in zip(plain, moved, strict=True):
        assert t1 == t2
        assert x2 - x1 == pytest.approx(3.6, abs=0.01)
        assert y2 - y1 == pytest.approx(-6.0, abs=0.01)


@pytest.mark.parametrize("offset", [(100, 0), (0, -73), ("a", 1), (1,), None, (float("nan"), 0)])
def test_an_offset_beyond_an_inch_is_refused(offset: object) -> None:
    """The offset is two numbers within an inch of zero (pdf.offset)."""
    with pytest.raises(InvalidValue) as info:
        cms1500_pdf([to_cms1500(claim(1))], offset=offset)  # type: ignore[arg-type]
    assert info.value.code == "pdf.offset"


def test_no_forms_is_refused() -> None:
    """An empty list of forms makes no empty PDF (pdf.no_forms)."""
    with pytest.raises(InvalidValue) as info:
        cms1500_pdf([])
    assert info.value.code == "pdf.no_forms"


def test_review_copy_draws_the_form_in_red_under_the_same_values() -> None:
    """The review copy has the box labels, red rules, and every value where the print copy has it."""
    form = to_cms1500(claim(6), signed_on=date(2026, 3, 10))
    [plain] = fragments(cms1500_pdf([form]))
    data = cms1500_pdf([form], review=True)
    [review] = fragments(data)
    for t, x, y in plain:
        assert at(review, t, x, y), t
    texts = " ".join(t for t, _x, _y in review)
    for label in (
        "1a. INSURED'S I.D. NUMBER",
        "21. DIAGNOSIS",
        "33. BILLING PROVIDER INFO",
        "HEALTH INSURANCE CLAIM FORM",
    ):
        assert label in texts
    content = pypdf.PdfReader(io.BytesIO(data)).pages[0].get_contents()
    assert content is not None
    red = b"0.7843 0.1176 0.1569"  # (200, 30, 40): the rules (RG) and the labels (rg)
    assert red + b" RG" in content.get_data()
    assert red + b" rg" in content.get_data()
    plain_content = pypdf.PdfReader(io.BytesIO(cms1500_pdf([form]))).pages[0].get_contents()
    assert plain_content is not None
    assert red not in plain_content.get_data()


def test_metadata_carries_no_client_data() -> None:
    """Title, author, subject (and every other metadata field) hold fixed text, none of the claim's data."""
    c = claim(7)
    form = to_cms1500(c)
    for data in (cms1500_pdf([form]), cms1500_pdf([form], review=True)):
        meta = pypdf.PdfReader(io.BytesIO(data)).metadata
        assert meta is not None
        assert meta.title == "CMS-1500 claim forms"
        assert meta.author == "sessionkit"
        assert meta.subject == "Health insurance claim forms (CMS-1500 02/12)"
        everything = " ".join(str(v) for v in meta.values()).upper()
        for secret in ("BYRON", "ADA", "W123456781", "SKPCN1", "1990", "ACME", "F41.1"):
            assert secret not in everything


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fpdf2 the call raises SessionkitError extra.missing naming the pip install of the pdf extra."""
    monkeypatch.setitem(sys.modules, "fpdf", None)
    with pytest.raises(SessionkitError) as info:
        cms1500_pdf([to_cms1500(claim(1))])
    assert (info.value.code, info.value.field) == ("extra.missing", "pdf")
    assert "pip install 'sessionkit-billing[pdf]'" in info.value.message


def render_png(data: bytes, tmp_path: Path, name: str, page: int = 1) -> Path:
    """Page ``page`` of the PDF as a PNG made by pdftoppm (kept in docs/images with SESSIONKIT_REGEN_IMAGES=1)."""
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(tmp_path / name),
        ],
        check=True,
        timeout=60,
    )
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if REGEN_IMAGES:
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, IMAGES / png.name)
    return png


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (Debian poppler-utils) is not installed"
)
def test_pages_render_to_png(tmp_path: Path) -> None:
    """pdftoppm renders the print copy and the review copy: a letter page at 80 dpi (680 x 880 pixels)."""
    form = to_cms1500(claim(7), signed_on=date(2026, 3, 10))
    for name, data in (
        ("cms1500-review", cms1500_pdf([form], review=True)),
        ("cms1500-print", cms1500_pdf([form])),
    ):
        png = render_png(data, tmp_path, name)
        header = png.read_bytes()[16:24]
        assert (int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")) == (680, 880)


def test_cms1500_mapping_is_accepted_as_built() -> None:
    """The PDF takes Cms1500 objects as to_cms1500 returns them (and a rebuilt equal mapping prints the same)."""
    form = to_cms1500(claim(2))
    again = Cms1500(form.header(), form.lines)
    assert fragments(cms1500_pdf([form])) == fragments(cms1500_pdf([again]))


def _printed_width(box: str) -> int:
    field = LAYOUT[box]
    return {"money": field.width + 3, "phone": 11}.get(field.kind, field.width)


def test_every_field_fits_inside_its_drawn_box() -> None:
    """Each value's widest print stays within the box drawn around its start (no value runs into the next box)."""
    from sessionkit.adapters.pdf._form import BOXES

    def box_at(line: int, column: int) -> tuple[str, int, int, int, int]:
        hits = [b for b in BOXES if b[1] <= line <= b[2] and b[3] <= column <= b[4]]
        assert len(hits) == 1, (line, column, hits)
        return hits[0]

    for box, field in LAYOUT.items():
        if box.startswith("carrier."):  # above the form's body: it only has to stay on the page
            assert field.column + field.width - 1 <= 80, box
            continue
        line = field.line or 41  # a box-24 row: its column's heading box
        label, *_edges, right = box_at(line, field.column)
        assert field.column + _printed_width(box) - 1 <= right, (box, label)
    for box, (line, columns) in CHECKBOXES.items():
        for column in columns.values():
            assert column + 1 <= box_at(line, column)[4], box
