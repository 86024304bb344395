"""Claim value objects: what a claim says, independent of the paper or electronic form."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.domain.parties import Client, Coverage, Payer, PracticeSetup, Relationship, Subscriber
from sessionkit.domain.payments import Adjustment
from sessionkit.domain.values import (
    Address,
    DiagnosisCode,
    EntityType,
    Frequency,
    InsuranceOverrides,
    ReferringProvider,
    ReleaseOfInformation,
)
from sessionkit.errors import InvalidValue
from sessionkit.money import Money
from sessionkit.readiness.findings import Target

__all__ = [
    "MAX_CLAIM_DIAGNOSES",
    "BillingProvider",
    "Claim",
    "ClaimLine",
    "ClaimTarget",
    "OtherPayer",
    "PriorLine",
    "Receiver",
    "RenderingProvider",
    "ServiceFacility",
    "Submitter",
]

MAX_CLAIM_DIAGNOSES = 12
"""A claim holds at most 12 diagnoses (box 21 A-L, one HI segment)."""
POINTER_LETTERS = "ABCDEFGHIJKL"
_ZERO = Money(0)


ClaimTarget = Target
"""The form a claim is built for: :class:`sessionkit.readiness.Target` (one enum for readiness and claims).

Claims are built for :attr:`Target.CMS1500` and :attr:`Target.X12_837P`.
"""


@attrs.frozen(kw_only=True)
class BillingProvider:
    """The billing provider after insurance overrides (box 33 / X12 2010AA), with the practice's claim settings.

    For an organisation's NPI (type 2) ``name`` is the organisation's name; for a
    person's (type 1) it is the last name and ``first_name`` the first name.
    """

    name: str
    npi: str
    tax_id: str
    taxonomy: str | None = None
    address: Address | None = None
    entity_type: EntityType = EntityType.ORGANIZATION
    """Whose the NPI is (X12 2010AA NM102)."""
    first_name: str = ""
    phone: str = ""
    """10 digits or empty (CMS-1500 box 33)."""
    pay_to_address: Address | None = None
    """Where payments go when not to ``address`` (X12 2010AB)."""
    accept_assignment: bool = True
    """X12 CLM07 ``A`` / ``C``; CMS-1500 box 27."""
    benefits_assigned: bool = True
    """X12 CLM08 ``Y`` / ``N``; CMS-1500 box 13."""
    release_of_information: ReleaseOfInformation = ReleaseOfInformation.SIGNED
    """X12 CLM09 ``Y`` / ``I``; CMS-1500 box 12."""

    @classmethod
    def for_practice(cls, practice: PracticeSetup, overrides: InsuranceOverrides | None) -> BillingProvider:
        """The practice as billing provider, with a session's insurance overrides applied.

        An override of the billing NPI or name bills as an organisation named
        ``billing_provider_name`` unless ``billing_provider_type`` says the NPI is a
        person's (then ``billing_provider_name`` is the last name). Without such an
        override the practice's own NPI type and names are used.
        """
        o = overrides or InsuranceOverrides()
        if o.billing_provider_npi is not None or o.billing_provider_name is not None:
            entity = o.billing_provider_type or EntityType.ORGANIZATION
            name = o.billing_provider_name or practice.name
            first = (o.billing_provider_first_name or "") if entity is EntityType.PERSON else ""
        else:
            entity = practice.npi_type
            person = entity is EntityType.PERSON
            name = practice.provider_last_name if person else practice.name
            first = practice.provider_first_name if person else ""
        return cls(
            name=name,
            npi=o.billing_provider_npi or practice.npi,
            tax_id=o.tax_id or practice.tax_id,
            taxonomy=practice.taxonomy,
            address=practice.address,
            entity_type=entity,
            first_name=first,
            phone=practice.phone,
            pay_to_address=practice.pay_to_address,
            accept_assignment=practice.accept_assignment,
            benefits_assigned=practice.benefits_assigned,
            release_of_information=practice.release_of_information,
        )


@attrs.frozen(kw_only=True)
class RenderingProvider:
    """A rendering provider different from the billing provider (box 24J / X12 2310B)."""

    first_name: str
    last_name: str
    npi: str


@attrs.frozen(kw_only=True)
class ServiceFacility:
    """Where the service was given, when overridden (box 32 / X12 2310C)."""

    name: str
    address: Address
    npi: str | None = None


@attrs.frozen(kw_only=True)
class Submitter:
    """Who sends the 837P file (X12 1000A, ISA06, GS02)."""

    name: str
    id: str
    """The submitter id the receiver assigned (ETIN): ISA06, GS02 and NM109."""
    contact_name: str
    phone: str
    """10 digits."""


@attrs.frozen(kw_only=True)
class Receiver:
    """Who receives the 837P file: the clearinghouse or payer (X12 1000B, ISA08, GS03)."""

    name: str
    id: str


def _pointers(values: Iterable[int]) -> tuple[int, ...]:
    result = tuple(values)
    if not 1 <= len(result) <= 4 or any(not 1 <= p <= MAX_CLAIM_DIAGNOSES for p in result):
        raise InvalidValue(
            "a line points to 1-4 diagnoses numbered 1-12", "claim.pointers", "diagnosis_pointers"
        )
    if len(set(result)) != len(result):
        raise InvalidValue("a line points to a diagnosis twice", "claim.pointers", "diagnosis_pointers")
    return result


@attrs.frozen(kw_only=True)
class PriorLine:
    """An earlier payer's adjudication of one claim line (X12 loop 2430: ``SVD``, ``CAS``, ``DTP*573``).

    Taken from the payer's :class:`~sessionkit.domain.payments.LineAdjudication`.
    """

    coverage_id: str
    """The earlier payer's coverage (its :class:`OtherPayer` on the claim)."""
    paid: Decimal
    """What that payer paid for the line (SVD02)."""
    code: str
    """The procedure code the payer adjudicated (SVD03)."""
    modifiers: tuple[str, ...] = ()
    units: Decimal
    """The units the payer paid for (SVD05)."""
    adjustments: tuple[Adjustment, ...] = ()
    """The line's adjustments (CAS), every group."""
    adjudicated_on: date
    """The payer's payment date (DTP*573)."""

    @property
    def adjusted(self) -> Decimal:
        """The sum of the line's adjustments."""
        return sum((a.amount for a in self.adjustments), Decimal("0.00"))


@attrs.frozen(kw_only=True)
class OtherPayer:
    """An earlier payer that adjudicated the claim's sessions (X12 loops 2320, 2330A and 2330B).

    A claim to a secondary (tertiary) payer carries one per earlier payer, in
    precedence order: the coverage (other subscriber, 2330A), the payer
    (2330B), what it paid for the claim's lines (``AMT*D``) and its
    claim-level adjustments (``CAS``). Claim-level adjustments are only
    carried when every line the payer adjudicated is on this claim (they
    cannot be split between claims).
    """

    coverage: Coverage
    payer: Payer
    paid: Decimal
    """What the payer paid for the claim's lines (2320 AMT*D), zero for a denial."""
    adjustments: tuple[Adjustment, ...] = ()
    """Claim-level adjustments (2320 CAS)."""
    payer_claim_number: str | None = None
    """The payer's claim control number (2330B REF*F8), when posted."""
    adjudicated_on: date
    """The payer's payment date (2330B DTP*573)."""
    adjudication_id: str = ""
    """The posted :class:`~sessionkit.domain.payments.Adjudication` this comes from."""

    @property
    def adjusted(self) -> Decimal:
        """The sum of the claim-level adjustments."""
        return sum((a.amount for a in self.adjustments), Decimal("0.00"))


@attrs.frozen(kw_only=True)
class ClaimLine:
    """One service line: a code on one date (box 24 / X12 loop 2400)."""

    session_id: str
    date_of_service: date
    code: str
    modifiers: tuple[str, ...] = ()
    charge: Money
    units: Decimal
    place_of_service: str
    diagnosis_pointers: tuple[int, ...] = attrs.field(converter=_pointers)
    """1-based positions in :attr:`Claim.diagnoses`, primary first."""
    note: str = ""
    """The line note (X12 NTE*ADD); the paper form cannot print it."""
    add_on: bool = False
    prior: tuple[PriorLine, ...] = ()
    """The earlier payers' adjudications of the line, in :attr:`Claim.other_payers` order (X12 2430)."""

    @property
    def pointer_letters(self) -> str:
        """The pointers as box 24E letters, e.g. ``"AB"``."""
        return "".join(POINTER_LETTERS[p - 1] for p in self.diagnosis_pointers)


@attrs.frozen(kw_only=True)
class Claim:
    """One claim: one client, coverage, billing provider and frequency code, with its lines.

    Built by :func:`sessionkit.claims.build_claims` from ready sessions; rendered by
    :func:`sessionkit.claims.to_837p` or :func:`sessionkit.claims.to_cms1500`.
    """

    target: ClaimTarget
    patient_control_number: str
    """Deterministic from the claim's sessions and lines: at most 20 letters and digits (box 26, CLM01)."""
    client: Client
    coverage: Coverage
    payer: Payer
    billing_provider: BillingProvider
    rendering_provider: RenderingProvider | None = None
    service_facility: ServiceFacility | None = None
    referring_provider: ReferringProvider | None = None
    diagnoses: tuple[DiagnosisCode, ...]
    lines: tuple[ClaimLine, ...]
    frequency: Frequency = Frequency.ORIGINAL
    original_reference: str | None = None
    prior_authorization: str | None = None
    amount_paid: Money = _ZERO
    """Sum of paid-at-session of the sessions whose primary line is on this claim (box 29, AMT*F5)."""
    session_ids: tuple[str, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()
    """The earlier payers and their adjudications (coordination of benefits): empty for the first payer."""

    @property
    def total_charge(self) -> Money:
        """Sum of the line charges (box 28, CLM02)."""
        return Money(sum((line.charge.amount for line in self.lines), Decimal(0)))

    @property
    def other_payers_paid(self) -> Decimal:
        """What the earlier payers paid for the claim's lines (CMS-1500 box 29 adds it to the client's)."""
        return sum((o.paid for o in self.other_payers), Decimal("0.00"))

    @property
    def place_of_service(self) -> str:
        """The claim's place of service (CLM05-1): that of the first line."""
        return self.lines[0].place_of_service

    @property
    def patient_is_subscriber(self) -> bool:
        """True when the client holds the policy (no X12 2000C patient loop)."""
        return self.coverage.relationship is Relationship.SELF

    @property
    def subscriber(self) -> Client | Subscriber:
        """The insured person: the client, or the coverage's subscriber."""
        if self.patient_is_subscriber or self.coverage.subscriber is None:
            return self.client
        return self.coverage.subscriber
