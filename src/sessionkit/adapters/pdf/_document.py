"""The PDF library behind the ``pdf`` extra, imported lazily, and text the core fonts can print (private)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING

from sessionkit._extras import install_command, require

if TYPE_CHECKING:
    from fpdf import FPDF

INSTALL_HINT = install_command("pdf")
AUTHOR = "sessionkit"
"""The author of every PDF: never the client, never the practice's staff."""


def new_document(title: str, subject: str, *, orientation: str = "P") -> FPDF:
    """A letter-size document with fixed metadata (no client data), no automatic page breaks.

    :raises MissingExtra: (``extra.missing``) when fpdf2 is not installed, naming the ``pip install``.
    """
    require("pdf", "printing PDFs")
    from fpdf import FPDF  # noqa: PLC0415 (the pdf extra is optional; import only when printing)

    pdf = FPDF(orientation=orientation, unit="pt", format="letter")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_subject(subject)
    pdf.set_author(AUTHOR)
    pdf.set_creator(AUTHOR)
    pdf.set_keywords("")
    return pdf


def latin1(text: str) -> str:
    """``text`` as the PDF core fonts can print it: Latin-1, accents dropped only where needed.

    >>> latin1("José Łukasz \\u2018Ann\\u2019\\x07")
    "José Lukasz 'Ann'"
    """
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if not ch.isprintable():
            continue
        if ch in "\u2018\u2019":
            out.append("'")
        elif ch in "\u201c\u201d":
            out.append('"')
        elif ch in "\u2013\u2014":
            out.append("-")
        elif ord(ch) < 256:
            out.append(ch)
        else:
            base = unicodedata.normalize("NFKD", ch.replace("Ł", "L").replace("ł", "l"))
            plain = "".join(c for c in base if ord(c) < 128 and not unicodedata.combining(c))
            out.append(plain or "?")
    return "".join(out)


def money(amount: Decimal) -> str:
    """An amount with a thousands separator and 2 decimals, e.g. ``1,234.50`` (``-20.00`` for a credit)."""
    return f"{amount.quantize(Decimal('0.01')):,.2f}"


def output(pdf: FPDF) -> bytes:
    """The document's bytes."""
    return bytes(pdf.output())
