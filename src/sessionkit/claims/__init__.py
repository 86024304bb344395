"""Claims out: ready sessions grouped into claims, written as X12 837P or CMS-1500 box values.

>>> from sessionkit.claims import ClaimTarget
>>> ClaimTarget.CMS1500.max_lines, ClaimTarget.X12_837P.max_lines
(6, 50)
"""

from sessionkit.claims.cms1500 import Cms1500, to_cms1500
from sessionkit.claims.grouping import (
    ClaimContext,
    ReadinessCheck,
    billing_provider_for,
    build_claims,
    claims_for_client,
    patient_control_number,
    readiness_gate,
    rendering_provider_for,
    service_facility_for,
)
from sessionkit.claims.model import (
    MAX_CLAIM_DIAGNOSES,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimTarget,
    Receiver,
    RenderingProvider,
    ServiceFacility,
    Submitter,
)
from sessionkit.claims.x837 import IMPLEMENTATION_GUIDE, to_837p, x12_text

__all__ = [
    "IMPLEMENTATION_GUIDE",
    "MAX_CLAIM_DIAGNOSES",
    "BillingProvider",
    "Claim",
    "ClaimContext",
    "ClaimLine",
    "ClaimTarget",
    "Cms1500",
    "ReadinessCheck",
    "Receiver",
    "RenderingProvider",
    "ServiceFacility",
    "Submitter",
    "billing_provider_for",
    "build_claims",
    "claims_for_client",
    "patient_control_number",
    "readiness_gate",
    "rendering_provider_for",
    "service_facility_for",
    "to_837p",
    "to_cms1500",
    "x12_text",
]
