"""The CMS-1500 (02/12) form drawn in red for review copies (private).

Drawn by code on the same print grid as :data:`sessionkit.adapters.pdf.cms1500.LAYOUT`:
each box is a rectangle of print lines and columns with a short label in its
top-left corner. It follows the form's arrangement closely enough to check a
claim on screen; it is not a reproduction of the pre-printed form and must not
be sent to a payer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionkit.adapters.pdf.cms1500 import CHECKBOXES, COLUMN_PT, LINE_PT, ORIGIN, ROW_LINES

if TYPE_CHECKING:
    from fpdf import FPDF

RED = (200, 30, 40)
SHADE = (253, 226, 226)
LABEL_PT = 5.0

# (label, first line, last line, first column, last column)
BOXES: tuple[tuple[str, int, int, int, int], ...] = (
    ("1.", 7, 8, 1, 49),
    ("1a. INSURED'S I.D. NUMBER (For Program in Item 1)", 7, 8, 50, 79),
    ("2. PATIENT'S NAME (Last Name, First Name, Middle Initial)", 9, 10, 1, 30),
    ("3. PATIENT'S BIRTH DATE  MM DD YY      SEX", 9, 10, 31, 49),
    ("4. INSURED'S NAME (Last Name, First Name, Middle Initial)", 9, 10, 50, 79),
    ("5. PATIENT'S ADDRESS (No., Street)", 11, 12, 1, 30),
    ("CITY", 13, 14, 1, 25),
    ("STATE", 13, 14, 26, 30),
    ("ZIP CODE", 15, 16, 1, 13),
    ("TELEPHONE (Include Area Code)", 15, 16, 14, 30),
    ("6. PATIENT RELATIONSHIP TO INSURED", 11, 12, 31, 49),
    ("8. RESERVED FOR NUCC USE", 13, 16, 31, 49),
    ("7. INSURED'S ADDRESS (No., Street)", 11, 12, 50, 79),
    ("CITY", 13, 14, 50, 73),
    ("STATE", 13, 14, 74, 79),
    ("ZIP CODE", 15, 16, 50, 63),
    ("TELEPHONE (Include Area Code)", 15, 16, 64, 79),
    ("9. OTHER INSURED'S NAME", 17, 18, 1, 30),
    ("a. OTHER INSURED'S POLICY OR GROUP NUMBER", 19, 20, 1, 30),
    ("b. RESERVED FOR NUCC USE", 21, 22, 1, 30),
    ("c. RESERVED FOR NUCC USE", 23, 24, 1, 30),
    ("d. INSURANCE PLAN NAME OR PROGRAM NAME", 25, 26, 1, 30),
    ("10. IS PATIENT'S CONDITION RELATED TO:", 17, 18, 31, 49),
    ("a. EMPLOYMENT? (Current or Previous)", 19, 20, 31, 49),
    ("b. AUTO ACCIDENT?          PLACE (State)", 21, 22, 31, 49),
    ("c. OTHER ACCIDENT?", 23, 24, 31, 49),
    ("10d. CLAIM CODES (Designated by NUCC)", 25, 26, 31, 49),
    ("11. INSURED'S POLICY GROUP OR FECA NUMBER", 17, 18, 50, 79),
    ("a. INSURED'S DATE OF BIRTH   SEX", 19, 20, 50, 79),
    ("b. OTHER CLAIM ID (Designated by NUCC)", 21, 22, 50, 79),
    ("c. INSURANCE PLAN NAME OR PROGRAM NAME", 23, 24, 50, 79),
    ("d. IS THERE ANOTHER HEALTH BENEFIT PLAN?", 25, 26, 50, 79),
    ("12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE (release of information)", 27, 30, 1, 49),
    ("13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE (payment of benefits)", 27, 30, 50, 79),
    ("14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)", 31, 32, 1, 27),
    ("15. OTHER DATE", 31, 32, 28, 49),
    ("16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION", 31, 32, 50, 79),
    ("17. NAME OF REFERRING PROVIDER OR OTHER SOURCE", 33, 34, 1, 30),
    ("17a.", 33, 33, 31, 49),
    ("17b. NPI", 34, 34, 31, 49),
    ("18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES", 33, 34, 50, 79),
    ("19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)", 35, 36, 1, 49),
    ("20. OUTSIDE LAB?        $ CHARGES", 35, 36, 50, 79),
    (
        "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY  Relate A-L to service line below (24E)   ICD Ind.",
        37,
        40,
        1,
        49,
    ),
    ("22. RESUBMISSION CODE         ORIGINAL REF. NO.", 37, 38, 50, 79),
    ("23. PRIOR AUTHORIZATION NUMBER", 39, 40, 50, 79),
    ("24. A. DATE(S) OF SERVICE", 41, 42, 1, 18),
    ("B. POS", 41, 42, 19, 21),
    ("C. EMG", 41, 42, 22, 24),
    ("D. PROCEDURES, SERVICES, SUPPLIES", 41, 42, 25, 44),
    ("E. DX PTR", 41, 42, 45, 49),
    ("F.", 41, 42, 50, 59),
    ("G. UNITS", 41, 42, 60, 64),
    ("H.", 41, 42, 65, 66),
    ("I.", 41, 42, 67, 68),
    ("J. RENDERING PROV. ID", 41, 42, 69, 79),
    ("25. FEDERAL TAX I.D. NUMBER    SSN EIN", 55, 56, 1, 22),
    ("26. PATIENT'S ACCOUNT NO.", 55, 56, 23, 36),
    ("27. ACCEPT ASSIGNMENT?", 55, 56, 37, 49),
    ("28. TOTAL CHARGE", 55, 56, 50, 61),
    ("29. AMOUNT PAID", 55, 56, 62, 71),
    ("30. Rsvd for NUCC Use", 55, 56, 72, 79),
    ("31. SIGNATURE OF PHYSICIAN OR SUPPLIER", 57, 61, 1, 22),
    ("32. SERVICE FACILITY LOCATION INFORMATION", 57, 61, 23, 49),
    ("33. BILLING PROVIDER INFO & PH #", 57, 61, 50, 79),
)
"""The form's boxes on the print grid, with labels in sessionkit's abbreviation of the form's titles."""

_HEADER_2 = (
    (1, "From  MM DD YY"),
    (10, "To  MM DD YY"),
    (25, "CPT/HCPCS"),
    (32, "MODIFIER"),
    (50, "$ CHARGES"),
    (60, "DAYS/UNITS"),
    (65, "EPSDT"),
    (67, "QUAL"),
)
"""The second line of box 24's column titles."""
_COLUMN_RULES = (1, 10, 19, 22, 25, 32, 35, 38, 41, 45, 50, 60, 65, 67, 69, 80)
"""Where box 24's columns start (and 80: the right edge), for the rules through its six rows."""
_CHECK_LABELS = {
    "1": {
        "MEDICARE": "Medicare",
        "MEDICAID": "Medicaid",
        "TRICARE": "TRICARE",
        "CHAMPVA": "CHAMPVA",
        "GROUP HEALTH PLAN": "Group Health Plan",
        "FECA BLK LUNG": "FECA Blk Lung",
        "OTHER": "Other",
    },
    "6": {"SELF": "Self", "SPOUSE": "Spouse", "CHILD": "Child", "OTHER": "Other"},
    "25.type": {"SSN": "", "EIN": ""},
}


def _x(column: int) -> float:
    return ORIGIN[0] + (column - 1) * COLUMN_PT


def _y(line: int) -> float:
    return ORIGIN[1] + (line - 1) * LINE_PT


def _label(pdf: FPDF, x: float, y: float, text: str) -> None:
    pdf.text(x, y, text)


def draw_form(pdf: FPDF) -> None:
    """Draw the empty form (red rules, labels, shaded box-24 halves) on the current page."""
    pdf.set_draw_color(*RED)
    pdf.set_text_color(*RED)
    pdf.set_line_width(0.6)
    pdf.set_font("Helvetica", "B", 11)
    pdf.text(_x(1), _y(6) + 2, "HEALTH INSURANCE CLAIM FORM")
    pdf.set_font("Helvetica", "", 6)
    pdf.text(
        _x(1),
        _y(6) + 9,
        "CMS-1500 (02/12) layout - REVIEW COPY drawn by sessionkit; print values only on the red form",
    )
    pdf.text(_x(33), _y(1) + 7, "CARRIER")
    # box-24 shaded halves first, so the rules go over them
    pdf.set_fill_color(*SHADE)
    for line in ROW_LINES:
        pdf.rect(_x(1), _y(line - 1), _x(80) - _x(1), LINE_PT, style="F")
    pdf.set_font("Helvetica", "", LABEL_PT)
    for label, top, bottom, left, right in BOXES:
        pdf.rect(_x(left), _y(top), _x(right + 1) - _x(left), _y(bottom + 1) - _y(top))
        _label(pdf, _x(left) + 1.5, _y(top) + LABEL_PT + 0.5, label)
    for column, text in _HEADER_2:
        _label(pdf, _x(column) + 1.5, _y(42) + 8, text)
    # box 24: rows and columns
    pdf.set_line_width(0.4)
    for line in ROW_LINES:
        pdf.line(_x(1), _y(line + 1), _x(80), _y(line + 1))
        pdf.text(_x(67) + 1, _y(line) + 8, "NPI")
    for column in _COLUMN_RULES:
        heavy = column in {1, 10, 19, 22, 25, 45, 50, 60, 65, 67, 69, 80}
        pdf.set_line_width(0.6 if heavy else 0.25)
        pdf.line(_x(column), _y(43), _x(column), _y(55))
    pdf.set_line_width(0.25)
    for column in (57, 69):  # dollars | cents in 24F and 28 (line 56), and in 29
        pdf.line(_x(column) - 2, _y(43) if column == 57 else _y(56), _x(column) - 2, _y(55))
    pdf.line(_x(58) - 2, _y(56), _x(58) - 2, _y(57))
    # box 21: the letters before each code
    for i, letter in enumerate("ABCDEFGHIJKL"):
        pdf.text(_x(1 + 13 * (i % 4)) + 2, _y(38 + i // 4) + 8, f"{letter}.")
    # check boxes, with their words where the label above does not say them
    for box, (line, columns) in CHECKBOXES.items():
        words = _CHECK_LABELS.get(box, {})
        for value, column in columns.items():
            pdf.rect(_x(column) - 0.5, _y(line) + 1.5, COLUMN_PT + 1, LINE_PT - 3)
            word = words.get(value, value if box not in _CHECK_LABELS else "")
            if word:
                _label(pdf, _x(column + 1) + 1.5, _y(line) + 8, word)
    pdf.set_line_width(1.0)
    pdf.rect(_x(1), _y(7), _x(80) - _x(1), _y(62) - _y(7))
    pdf.set_font("Helvetica", "", 6)
    pdf.text(_x(1), _y(63) + 2, "NUCC Instruction Manual: www.nucc.org")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
