"""Payers' remittances: reading X12 835 files and posting EOBs to claim records.

* :mod:`sessionkit.remittance.x835`: a strict reader of 835 (005010X221A1)
  files: :func:`~sessionkit.remittance.x835.read_835` returns typed
  :class:`~sessionkit.remittance.x835.Remittance` values, one per transaction
  set, with the problems of the claims it could not read.
* :mod:`sessionkit.remittance.posting`: :func:`~sessionkit.remittance.posting.post_remittance`
  matches each claim payment to its claim record and posts it once;
  :func:`~sessionkit.remittance.posting.post_adjudication` posts an EOB entered by hand.
"""

from __future__ import annotations

from sessionkit.remittance.posting import (
    PostedClaim,
    PostingProblem,
    PostingReport,
    SkippedClaim,
    UnmatchedClaim,
    post_adjudication,
    post_remittance,
)
from sessionkit.remittance.x835 import (
    ClaimPayment,
    ClaimProblem,
    ProviderAdjustment,
    Remittance,
    RemittanceError,
    ServicePayment,
    read_835,
    validate_with_pyx12,
)

__all__ = [
    "ClaimPayment",
    "ClaimProblem",
    "PostedClaim",
    "PostingProblem",
    "PostingReport",
    "ProviderAdjustment",
    "Remittance",
    "RemittanceError",
    "ServicePayment",
    "SkippedClaim",
    "UnmatchedClaim",
    "post_adjudication",
    "post_remittance",
    "read_835",
    "validate_with_pyx12",
]
