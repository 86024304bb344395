"""Page furniture the superbill and the statement share: headings, tables that run over pages (private)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sessionkit.adapters.pdf._document import latin1
from sessionkit.codes import ein, zipcode

if TYPE_CHECKING:
    from fpdf import FPDF

    from sessionkit.domain.parties import PracticeSetup
    from sessionkit.domain.values import Address

MARGIN = 40.0
PAGE_WIDTH = 612.0
PAGE_BOTTOM = 740.0
ROW_PT = 14.0


def us_date(day: date | None) -> str:
    """``MM/DD/YYYY``, or empty."""
    return "" if day is None else day.strftime("%m/%d/%Y")


def address_lines(address: Address | None) -> list[str]:
    """The address as printed lines (street, second line, city ST ZIP)."""
    if address is None:
        return []
    lines = [address.line1, address.line2] if address.line2 else [address.line1]
    return [*lines, f"{address.city}, {address.state} {zipcode.format(address.postal_code)}"]


def phone(number: str) -> str:
    """``(217) 555-0100`` from 10 digits (anything else as given)."""
    if len(number) == 10 and number.isdigit():
        return f"({number[:3]}) {number[3:6]}-{number[6:]}"
    return number


def practice_lines(practice: PracticeSetup, provider_license: str = "") -> list[str]:
    """The practice header: name, address, phone, billing NPI, tax id, rendering provider and licence."""
    lines = [*address_lines(practice.address)]
    if practice.phone:
        lines.append(f"Phone {phone(practice.phone)}")
    lines.append(f"Billing NPI {practice.npi}    Tax ID (EIN) {ein.format(practice.tax_id)}")
    provider = " ".join(p for p in (practice.provider_first_name, practice.provider_last_name) if p)
    if provider or provider_license:
        text = f"Rendering provider {provider}" if provider else "Rendering provider"
        lines.append(f"{text}{', licence ' + provider_license if provider_license else ''}")
    return lines


def write(pdf: FPDF, x: float, y: float, text: str, *, size: float = 9, style: str = "") -> None:
    """One line of Helvetica text with its baseline at ``y``."""
    pdf.set_font("Helvetica", style, size)
    pdf.text(x, y, latin1(text))


def write_right(pdf: FPDF, right: float, y: float, text: str, *, size: float = 9, style: str = "") -> None:
    """One line of text ending at ``right``."""
    pdf.set_font("Helvetica", style, size)
    text = latin1(text)
    pdf.text(right - pdf.get_string_width(text), y, text)


def fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut (with ``...``) to fit ``width`` points in the current font."""
    text = latin1(text)
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


class Table:
    """A table of text cells that starts a new page (repeating its heading) when the page is full."""

    def __init__(self, pdf: FPDF, columns: Sequence[tuple[str, float, str]]) -> None:
        self.pdf = pdf
        self.columns = columns  # (heading, width, "L" or "R")
        self.y = 0.0

    def heading(self, y: float) -> None:
        """Draw the heading row with its top at ``y``."""
        self.y = y
        pdf = self.pdf
        pdf.set_fill_color(235, 235, 235)
        pdf.rect(MARGIN, y, PAGE_WIDTH - 2 * MARGIN, ROW_PT, style="F")
        self._cells([c[0] for c in self.columns], style="B")

    def _cells(self, cells: Sequence[str], *, style: str = "") -> None:
        pdf = self.pdf
        pdf.set_font("Helvetica", style, 8)
        x = MARGIN
        base = self.y + ROW_PT - 4
        for (_, width, align), cell in zip(self.columns, cells, strict=True):
            text = fit(pdf, cell, width - 6)
            left = x + 3 if align == "L" else x + width - 3 - pdf.get_string_width(text)
            pdf.text(left, base, text)
            x += width
        self.y += ROW_PT

    def row(self, cells: Sequence[str], *, style: str = "", rule: bool = True) -> None:
        """One row; a new page with the heading again when this one is full."""
        if self.y + ROW_PT > PAGE_BOTTOM:
            self.pdf.add_page()
            self.heading(MARGIN)
        self._cells(cells, style=style)
        if rule:
            self.pdf.set_draw_color(210, 210, 210)
            self.pdf.set_line_width(0.3)
            self.pdf.line(MARGIN, self.y, PAGE_WIDTH - MARGIN, self.y)
            self.pdf.set_draw_color(0, 0, 0)

    def room(self, height: float) -> None:
        """Start a new page unless ``height`` points fit below the table."""
        if self.y + height > PAGE_BOTTOM:
            self.pdf.add_page()
            self.y = MARGIN


def footer(pdf: FPDF, text: str) -> None:
    """``text`` and the page number at the foot of every page (call once, after the last page)."""
    pages = pdf.page
    for n in range(1, pages + 1):
        pdf.page = n
        write(pdf, MARGIN, 770, text, size=7)
        write_right(pdf, PAGE_WIDTH - MARGIN, 770, f"Page {n} of {pages}", size=7)
    pdf.page = pages
