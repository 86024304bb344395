"""Every CSV sessionkit writes neutralises cells a spreadsheet would run as a formula (OWASP)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sessionkit.records import csv_cell, write_csv

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@given(st.sampled_from(DANGEROUS), st.text(max_size=30))
def test_a_cell_starting_with_a_formula_character_gets_a_quote(first: str, rest: str) -> None:
    """= + - @ tab or CR at the start: the cell is written with a leading ' and otherwise unchanged
    (but for NUL, which becomes U+FFFD: not every Python's csv module can write it)."""
    assert csv_cell(first + rest) == ("'" + first + rest).replace("\x00", "\ufffd")


@given(st.text(max_size=30).filter(lambda t: not t.startswith(DANGEROUS)))
def test_other_text_is_written_as_it_is(text: str) -> None:
    """Text that does not start with a formula character is not changed (NUL aside: it becomes U+FFFD)."""
    assert csv_cell(text) == text.replace("\x00", "\ufffd")


def test_a_nul_character_becomes_the_replacement_character() -> None:
    """NUL, which the csv module of Python 3.10 cannot write, is written as U+FFFD on every Python."""
    out = io.StringIO(newline="")
    write_csv([{"a": "x\x00y"}], out)
    assert out.getvalue() == "a\nx\ufffdy\n"


def test_values_keep_their_plain_form() -> None:
    """None empty, booleans lower case, dates ISO, decimals and numbers as text; a negative amount is quoted."""
    assert [
        csv_cell(v) for v in (None, True, False, date(2026, 3, 2), Decimal("1.50"), 7, Decimal("-1"))
    ] == [
        "",
        "true",
        "false",
        "2026-03-02",
        "1.50",
        "7",
        "'-1",
    ]


def test_a_carriage_return_inside_a_cell_keeps_the_row_whole() -> None:
    """A lone CR in a cell (a calendar title can hold one) is quoted: the row reads back as one row."""
    out = io.StringIO(newline="")
    write_csv([{"a": "x\ry", "b": "\r"}], out)
    assert out.getvalue() == 'a,b\n"x\ry","\'\r"\n'
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [["a", "b"], ["x\ry", "'\r"]]


@given(st.lists(st.dictionaries(st.sampled_from(["a", "=b", "c"]), st.text(max_size=10)), max_size=4))
def test_write_csv_leaves_no_live_formula_and_reads_back(records: list[dict[str, str]]) -> None:
    """write_csv: header and cells all neutralised; stripping the added quote gives the values back."""
    out = io.StringIO(newline="")
    write_csv(records, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS)
    if records:
        header = rows[0]
        names = [h[1:] if h.startswith("'") else h for h in header]
        for record, row in zip(records, rows[1:], strict=True):
            for name, cell in zip(names, row, strict=True):
                value = record.get(name)
                assert cell == ("" if value is None else csv_cell(value))
