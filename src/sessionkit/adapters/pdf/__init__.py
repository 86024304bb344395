"""Paper a person can hold: CMS-1500 claim forms, superbills and client statements as PDF.

Needs the ``pdf`` extra (``pip install 'sessionkit-billing[pdf]'``, which installs
fpdf2); the PDF library is imported only when a document is made, and a
missing extra raises :class:`~sessionkit.errors.SessionkitError` with code
``extra.missing``. Every function returns the PDF's bytes: write them to a
file created for the user alone (the ``sessionkit`` command creates its output
files with mode 0600). The documents' metadata (title, author, subject) never
holds client data.

* :func:`cms1500_pdf`: box values for the red pre-printed form, or a review
  copy with the form drawn under them;
* :func:`superbill_pdf`: the itemised bill a client files with an
  out-of-network payer;
* :func:`statement_pdf`: the client's invoices, payments and balance.
"""

from __future__ import annotations

from sessionkit.adapters.pdf.cms1500 import cms1500_pdf
from sessionkit.adapters.pdf.statement import StatementPayment, statement_balance, statement_pdf
from sessionkit.adapters.pdf.superbill import SuperbillRow, superbill_pdf, superbill_rows

__all__ = [
    "StatementPayment",
    "SuperbillRow",
    "cms1500_pdf",
    "statement_balance",
    "statement_pdf",
    "superbill_pdf",
    "superbill_rows",
]
