"""The CMS-1500 (02/12) as a PDF: the box values on the form's print grid, and a drawn review copy.

The form is laid out for 10-pitch type at 6 lines per inch: each box has a
print line (1-66, from the top) and a column (1-85, from the left), as the
NUCC 1500 instructions describe the form for printing. :data:`LAYOUT` is that
table, written for sessionkit (no image of the form is used or shipped). The
values come from :func:`sessionkit.claims.to_cms1500`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from sessionkit.adapters.pdf._document import latin1, new_document, output
from sessionkit.errors import InvalidValue

if TYPE_CHECKING:
    from fpdf import FPDF

    from sessionkit.claims import Cms1500

__all__ = [
    "CHECKBOXES",
    "COLUMN_PT",
    "LAYOUT",
    "LINES_PER_PAGE",
    "LINE_PT",
    "ORIGIN",
    "ROW_LINES",
    "Field",
    "cms1500_pdf",
    "field_position",
    "printed",
]

LINE_PT = 12.0
"""One print line: 1/6 inch."""
COLUMN_PT = 7.2
"""One print column: 1/10 inch (10 pitch; Courier at 12 points is exactly that wide)."""
FONT_SIZE = 12.0
ORIGIN = (18.0, 12.0)
"""Where column 1 / line 1 start on the page, in points from the left and top edges (1/4 and 1/6 inch)."""
BASELINE_PT = 9.0
"""The text's baseline below the top of its print line."""
LINES_PER_PAGE = 6
"""Service lines on one form (box 24, rows 1-6)."""
ROW_LINES = tuple(44 + 2 * i for i in range(LINES_PER_PAGE))
"""The print line of each box-24 row (the unshaded half; the shaded half is the line above)."""


@attrs.frozen
class Field:
    """Where a box's value goes: print ``line`` and ``column`` (1-based), at most ``width`` characters.

    ``kind`` says how the value is printed: ``text`` as is; ``date`` (MMDDYY or
    MMDDCCYY) with a space between month, day and year; ``money`` as dollars
    right-aligned in ``width`` columns, a space where the form's rule divides
    them, then the cents; ``phone`` as the area code, a space, the number.
    """

    line: int
    column: int
    width: int
    kind: str = "text"


def _row(column: int, width: int, kind: str = "text") -> Field:
    return Field(0, column, width, kind)  # line 0: filled in per row


LAYOUT: Mapping[str, Field] = {
    # the carrier block, top right
    "carrier.name": Field(1, 41, 40),
    "carrier.street": Field(2, 41, 40),
    "carrier.city": Field(3, 41, 20),
    "carrier.state": Field(3, 62, 2),
    "carrier.zip": Field(3, 65, 10),
    "1a": Field(8, 50, 29),
    "2": Field(10, 1, 28),
    "3.birth_date": Field(10, 31, 10, "date"),
    "4": Field(10, 50, 29),
    "5.street": Field(12, 1, 28),
    "7.street": Field(12, 50, 29),
    "5.city": Field(14, 1, 24),
    "5.state": Field(14, 26, 2),
    "7.city": Field(14, 50, 23),
    "7.state": Field(14, 74, 2),
    "5.zip": Field(16, 1, 12),
    "7.zip": Field(16, 50, 12),
    "9": Field(18, 1, 28),
    "9a": Field(20, 1, 28),
    "9d": Field(26, 1, 28),
    "11": Field(18, 50, 29),
    "12": Field(29, 7, 22),
    "13": Field(29, 56, 22),
    "17.qualifier": Field(34, 1, 2),
    "17": Field(34, 4, 26),
    "17b": Field(34, 34, 15),
    "21.ICD_IND": Field(37, 38, 1),
    **{f"21.{letter}": Field(38 + i // 4, 3 + 13 * (i % 4), 8) for i, letter in enumerate("ABCDEFGHIJKL")},
    "22.code": Field(38, 50, 11),
    "22.original_ref": Field(38, 62, 18),
    "23": Field(40, 50, 29),
    "25": Field(56, 1, 15),
    "26": Field(56, 23, 14),
    "28": Field(56, 51, 6, "money"),
    "29": Field(56, 62, 6, "money"),
    "33.phone": Field(57, 66, 11, "phone"),
    "31": Field(59, 1, 21),
    "31.date": Field(61, 14, 8, "date"),
    "32.name": Field(58, 23, 26),
    "32.street": Field(59, 23, 26),
    "32.city": Field(60, 23, 13),
    "32.state": Field(60, 37, 2),
    "32.zip": Field(60, 40, 10),
    "32a": Field(61, 24, 10),
    "33.name": Field(58, 50, 29),
    "33.street": Field(59, 50, 29),
    "33.city": Field(60, 50, 15),
    "33.state": Field(60, 66, 2),
    "33.zip": Field(60, 69, 10),
    "33a": Field(61, 51, 10),
    "33b": Field(61, 63, 16),
    # box 24, per row (the line comes from ROW_LINES)
    "24A.from": _row(1, 8, "date"),
    "24A.to": _row(10, 8, "date"),
    "24B": _row(19, 2),
    "24C": _row(22, 2),
    "24D.code": _row(25, 6),
    "24D.modifiers": _row(32, 11),
    "24E": _row(45, 4),
    "24F": _row(50, 6, "money"),
    "24G": _row(60, 4),
    "24H": _row(65, 2),
    "24J": _row(69, 11),
}
"""Box key (as :class:`sessionkit.claims.Cms1500` names it) -> where its value is printed."""

CHECKBOXES: Mapping[str, tuple[int, Mapping[str, int]]] = {
    "1": (
        8,
        {
            "MEDICARE": 1,
            "MEDICAID": 8,
            "TRICARE": 15,
            "CHAMPVA": 24,
            "GROUP HEALTH PLAN": 31,
            "FECA BLK LUNG": 39,
            "OTHER": 46,
        },
    ),
    "3.sex": (10, {"M": 43, "F": 48}),
    "6": (12, {"SELF": 33, "SPOUSE": 38, "CHILD": 42, "OTHER": 47}),
    "10a": (20, {"YES": 35, "NO": 41}),
    "10b": (22, {"YES": 35, "NO": 41}),
    "10c": (24, {"YES": 35, "NO": 41}),
    "11d": (26, {"YES": 52, "NO": 57}),
    "25.type": (56, {"SSN": 17, "EIN": 19}),
    "27": (56, {"YES": 37, "NO": 42}),
}
"""Boxes answered by an ``X`` in one of several places: box -> (line, value -> column)."""

NOT_PRINTED = frozenset({"24I"})
"""Boxes :func:`to_cms1500` fills that the form already shows: 24I ``NPI`` is pre-printed."""
CONTINUED = "CONTINUED"
"""Box 28 on every page of a continued claim but the last (the total goes on the last page)."""


def field_position(line: int, column: int, offset: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """The baseline start of print ``line`` / ``column`` in points from the page's left and top edges.

    >>> field_position(1, 1), field_position(2, 11, (1.5, -2.0))
    ((18.0, 21.0), (91.5, 31.0))
    """
    return (
        ORIGIN[0] + (column - 1) * COLUMN_PT + offset[0],
        ORIGIN[1] + (line - 1) * LINE_PT + BASELINE_PT + offset[1],
    )


def printed(field: Field, value: str) -> str:
    """The characters printed for ``value`` in ``field`` (cut to the field's width).

    >>> printed(LAYOUT["24F"], "1140.50"), printed(LAYOUT["3.birth_date"], "05011990")
    ('  1140 50', '05 01 1990')
    >>> printed(LAYOUT["33.phone"], "5551234567"), printed(LAYOUT["24A.from"], "030226")
    ('555 1234567', '03 02 26')
    """
    if not value:
        return ""
    if field.kind == "money":
        dollars, _, cents = value.partition(".")
        return f"{dollars[-field.width :]:>{field.width}} {(cents + '00')[:2]}"
    if field.kind == "date":
        return f"{value[:2]} {value[2:4]} {value[4:]}"[: field.width]
    if field.kind == "phone":
        return f"{value[:3]} {value[3:]}" if len(value) == 10 else value[: field.width]
    return value[: field.width]


def _pages(form: Cms1500) -> list[tuple[dict[str, str], list[tuple[int, Mapping[str, str]]]]]:
    """The pages of one form: its header boxes and the rows on each page (row numbers 1-6)."""
    header = form.header()
    lines = list(form.lines)
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    pages = []
    for n, chunk in enumerate(chunks, start=1):
        boxes = dict(header)
        if n < len(chunks):
            boxes["28"] = CONTINUED
            boxes["29"] = ""
        pages.append((boxes, list(enumerate(chunk, start=1))))
    return pages


def _text(pdf: FPDF, line: int, column: int, text: str, offset: tuple[float, float]) -> None:
    """``text`` from ``column``, its leading spaces skipped as columns (right-aligned amounts)."""
    stripped = text.lstrip(" ")
    if stripped:
        x, y = field_position(line, column + len(text) - len(stripped), offset)
        pdf.text(x, y, latin1(stripped))


def _fill_page(
    pdf: FPDF,
    boxes: Mapping[str, str],
    rows: Sequence[tuple[int, Mapping[str, str]]],
    offset: tuple[float, float],
    page_label: str,
) -> None:
    pdf.set_font("Courier", size=FONT_SIZE)
    pdf.set_text_color(0, 0, 0)
    for box, value in boxes.items():
        if box in CHECKBOXES:
            line, columns = CHECKBOXES[box]
            if value in columns:
                _text(pdf, line, columns[value], "X", offset)
        elif box in LAYOUT and value:
            field = LAYOUT[box]
            if box == "28" and value == CONTINUED:
                _text(pdf, field.line, field.column, CONTINUED, offset)
            else:
                _text(pdf, field.line, field.column, printed(field, value), offset)
    for number, row in rows:
        for box, value in row.items():
            if box in LAYOUT and box not in NOT_PRINTED:
                field = LAYOUT[box]
                _text(pdf, ROW_LINES[number - 1], field.column, printed(field, value), offset)
    if page_label:
        _text(pdf, 4, 41, page_label, offset)


def cms1500_pdf(
    forms: Iterable[Cms1500],
    *,
    review: bool = False,
    offset: tuple[float, float] = (0.0, 0.0),
) -> bytes:
    """The CMS-1500 forms as one PDF: one page per 6 service lines, every form in turn.

    For printing onto the red pre-printed form (OCR paper), only the values are
    printed, in Courier 12 (10 pitch) on the form's 6-lines-per-inch grid. A
    form with more than 6 lines continues on further pages: the claim-level
    boxes are repeated on each, box 28 says ``CONTINUED`` and the total charge
    and amount paid are printed on the last page (NUCC, continued claims), which
    is marked ``PAGE n OF m`` in the carrier block.

    ``review=True`` draws the form itself (boxes, labels, shaded rows, in red)
    under the values, for checking on screen or on plain paper; never send it to
    a payer. ``offset`` moves every value ``(right, down)`` by that many points
    (1/72 inch; negative for left / up) to align a printer with the paper.

    :raises InvalidValue: ``pdf.offset`` when the offset is not two finite numbers within an inch.
    :raises SessionkitError: ``extra.missing`` without the ``pdf`` extra.
    """
    offset = _offset(offset)
    pdf = new_document("CMS-1500 claim forms", "Health insurance claim forms (CMS-1500 02/12)")
    count = 0
    for form in forms:
        pages = _pages(form)
        for n, (boxes, rows) in enumerate(pages, start=1):
            pdf.add_page()
            count += 1
            if review:
                from sessionkit.adapters.pdf._form import draw_form  # noqa: PLC0415 (only for review copies)

                draw_form(pdf)
            label = f"PAGE {n} OF {len(pages)}" if len(pages) > 1 else ""
            _fill_page(pdf, boxes, rows, offset, label)
    if count == 0:
        raise InvalidValue("there is no claim form to print", "pdf.no_forms", "forms")
    return output(pdf)


def _offset(offset: object) -> tuple[float, float]:
    x: Any
    y: Any
    try:
        x, y = offset  # type: ignore[misc]
        result = (float(x), float(y))  # a printer offset in points, not money
    except (TypeError, ValueError, OverflowError):
        result = (float("nan"), 0.0)
    if not all(-72.0 <= v <= 72.0 for v in result):
        raise InvalidValue(
            "the offset is two numbers of points, each within one inch (72) of zero", "pdf.offset", "offset"
        )
    return result
