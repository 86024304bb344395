"""Who is involved: clients, payers, coverages, authorizations, the practice."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from sessionkit.codes import ein, hcpcs, npi
from sessionkit.domain import _checks
from sessionkit.domain.values import (
    OFFICE,
    Address,
    ClaimFilingIndicator,
    EntityType,
    PlaceOfService,
    ReleaseOfInformation,
    Sex,
    _copay,
    _place_of_service,
    _version,
    redacted,
)
from sessionkit.errors import InvalidValue
from sessionkit.money import Money

__all__ = [
    "Authorization",
    "Client",
    "Coverage",
    "CoverageRank",
    "Payer",
    "PracticeSetup",
    "Relationship",
    "Subscriber",
]

_CENT = Decimal("0.01")
_NO_SHARE = Decimal("0.00")


class CoverageRank(str, enum.Enum):
    """Which payer pays first."""

    PRIMARY = "P"
    SECONDARY = "S"
    TERTIARY = "T"


class Relationship(str, enum.Enum):
    """The patient's relationship to the subscriber (X12 individual relationship code)."""

    SELF = "18"
    SPOUSE = "01"
    CHILD = "19"
    OTHER = "G8"


_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


def _id(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidValue(
            f"{attribute.name} must be 1-64 letters, digits or _ . : -", "id.format", attribute.name
        )


def _name(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=60)


def _note(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, max_len=10_000)


def _dob(_inst: object, attribute: attrs.Attribute[date | None], value: date | None) -> None:
    _checks.optional_date(value, attribute.name)


def _sex(value: Sex | str) -> Sex:
    try:
        return Sex(value)
    except ValueError:
        raise InvalidValue("sex must be F, M or U", "person.sex", "sex") from None


def _address(_inst: object, attribute: attrs.Attribute[Address | None], value: Address | None) -> None:
    if value is not None:
        _checks.instance(value, Address, attribute.name)


@attrs.frozen(kw_only=True)
class Client:
    """A client (patient) of the practice.

    ``version`` is the repository's optimistic-concurrency counter, as for
    sessions (and on :class:`Payer`, :class:`Coverage`, :class:`Authorization`
    and :class:`PracticeSetup`): 0 for a record never stored; each put stores
    ``version + 1``, and a put carrying another version than the stored one
    raises :class:`~sessionkit.errors.ConcurrentUpdate`.

    >>> Client(id="c1", first_name="Ada", last_name="Byron").full_name
    'Ada Byron'
    """

    id: str = attrs.field(validator=_id)
    first_name: str = attrs.field(validator=_name, repr=redacted)
    last_name: str = attrs.field(validator=_name, repr=redacted)
    date_of_birth: date | None = attrs.field(default=None, validator=_dob, repr=redacted)
    sex: Sex = attrs.field(default=Sex.UNKNOWN, converter=_sex)
    address: Address | None = attrs.field(default=None, validator=_address, repr=redacted)
    email: str = attrs.field(default="", validator=_note, repr=redacted)
    client_file_note: str = attrs.field(default="", validator=_note, repr=redacted)
    version: int = attrs.field(default=0, eq=False, validator=_version)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@attrs.frozen(kw_only=True)
class Subscriber:
    """The insured person when it is not the client (X12 2010BA)."""

    first_name: str = attrs.field(validator=_name, repr=redacted)
    last_name: str = attrs.field(validator=_name, repr=redacted)
    date_of_birth: date | None = attrs.field(default=None, validator=_dob, repr=redacted)
    sex: Sex = attrs.field(default=Sex.UNKNOWN, converter=_sex)
    address: Address | None = attrs.field(default=None, validator=_address, repr=redacted)


_PAYER_ID = re.compile(r"[A-Za-z0-9]{2,80}")


def _payer_id(_inst: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _PAYER_ID.fullmatch(value)):
        raise InvalidValue("payer_id must be 2-80 letters or digits", "payer.id_format", attribute.name)


def _filing_indicator(value: ClaimFilingIndicator | str) -> ClaimFilingIndicator:
    try:
        return ClaimFilingIndicator(value)
    except ValueError:
        raise InvalidValue(
            "claim_filing_indicator is not an X12 SBR09 code",
            "payer.claim_filing_indicator",
            "claim_filing_indicator",
        ) from None


@attrs.frozen(kw_only=True)
class Payer:
    """An insurance company of the practice's setup."""

    id: str = attrs.field(validator=_id)
    name: str = attrs.field(validator=_name)
    payer_id: str | None = attrs.field(default=None, validator=_payer_id)
    """The electronic payer id (X12 2010BB NM109)."""
    insurance_note: str = attrs.field(default="", validator=_note)
    requires_authorization: bool = attrs.field(default=False, validator=_checks.is_bool)
    requires_referring_provider: bool = attrs.field(default=False, validator=_checks.is_bool)
    address: Address | None = attrs.field(default=None, validator=_address)
    claim_filing_indicator: ClaimFilingIndicator = attrs.field(
        default=ClaimFilingIndicator.COMMERCIAL, converter=_filing_indicator
    )
    """The kind of plan (X12 SBR09; CMS-1500 box 1): commercial unless said otherwise."""
    version: int = attrs.field(default=0, eq=False, validator=_version)


def _coinsurance(value: Decimal | str | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):  # type: ignore[unreachable]  # callers without mypy
        raise InvalidValue(
            "coinsurance cannot be a float; pass a Decimal or str", "coverage.coinsurance_type", "coinsurance"
        )
    try:
        dec = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValue(
            "coinsurance is not a number", "coverage.coinsurance_format", "coinsurance"
        ) from None
    if not dec.is_finite() or not Decimal(0) <= dec <= Decimal(1):
        raise InvalidValue(
            "coinsurance must be a rate from 0 to 1", "coverage.coinsurance_range", "coinsurance"
        )
    return dec


_MEMBER = re.compile(r"[A-Za-z0-9\-]{2,80}")  # X12 NM109: 2-80 characters


def _member_id(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _MEMBER.fullmatch(value):
        raise InvalidValue(
            "member_id must be 2-80 letters, digits or hyphens", "coverage.member_id", attribute.name
        )


def _rank(value: CoverageRank | str) -> CoverageRank:
    try:
        return CoverageRank(value)
    except ValueError:
        raise InvalidValue("rank must be P, S or T", "coverage.rank", "rank") from None


def _relationship(value: Relationship | str) -> Relationship:
    try:
        return Relationship(value)
    except ValueError:
        raise InvalidValue(
            "relationship is not a known code", "coverage.relationship", "relationship"
        ) from None


@attrs.frozen(kw_only=True)
class Coverage:
    """A client's insurance policy with one payer, over a range of dates.

    The client's share of a session is the copay when there is one, else the
    coinsurance rate times the charge.
    """

    id: str = attrs.field(validator=_id)
    client_id: str = attrs.field(validator=_id)
    payer_id: str = attrs.field(validator=_id)
    member_id: str = attrs.field(validator=_member_id, repr=redacted)
    group_number: str = attrs.field(default="", validator=_note, repr=redacted)
    rank: CoverageRank = attrs.field(default=CoverageRank.PRIMARY, converter=_rank)
    effective: date = attrs.field()
    termination: date | None = attrs.field(default=None)
    copay: Money | None = attrs.field(default=None, converter=_copay)
    coinsurance: Decimal | None = attrs.field(default=None, converter=_coinsurance)
    relationship: Relationship = attrs.field(default=Relationship.SELF, converter=_relationship)
    subscriber: Subscriber | None = attrs.field(default=None, repr=redacted)
    version: int = attrs.field(default=0, eq=False, validator=_version)

    @effective.validator
    def _check_effective(self, attribute: attrs.Attribute[date], value: date) -> None:
        _checks.a_date(value, "effective")

    @termination.validator
    def _check_termination(self, attribute: attrs.Attribute[date | None], value: date | None) -> None:
        if _checks.optional_date(value, "termination") is not None and value < self.effective:  # type: ignore[operator]
            raise InvalidValue("termination is before effective", "coverage.dates", "termination")

    @subscriber.validator
    def _check_subscriber(
        self, attribute: attrs.Attribute[Subscriber | None], value: Subscriber | None
    ) -> None:
        if value is not None:
            _checks.instance(value, Subscriber, "subscriber")
            if self.relationship is Relationship.SELF:
                raise InvalidValue(
                    "a subscriber is given only when the relationship is not SELF",
                    "coverage.subscriber_self",
                    "subscriber",
                )

    def is_active(self, on: date) -> bool:
        """True when the coverage is in effect on ``on``."""
        return self.effective <= on and (self.termination is None or on <= self.termination)

    def client_share(self, charge: Money) -> Money:
        """What the client owes of ``charge``: the copay, else coinsurance, else nothing known (zero)."""
        return Money(self.share_of(charge.amount))

    def share_of(self, total: Decimal) -> Decimal:
        """:meth:`client_share` on a plain amount: the copay (at most ``total``), else the coinsurance
        rate times ``total`` rounded half up to the cent, else zero. The one home of the arithmetic."""
        if self.copay is not None:
            return min(self.copay.amount, total)
        if self.coinsurance is not None:
            return (total * self.coinsurance).quantize(_CENT, rounding=ROUND_HALF_UP)
        return _NO_SHARE


_AUTH_NUMBER = re.compile(r"[A-Za-z0-9]{1,50}")


def _auth_number(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _AUTH_NUMBER.fullmatch(value):
        raise InvalidValue(
            "number must be 1-50 letters or digits (no spaces or hyphens)",
            "authorization.number_format",
            attribute.name,
        )


def _codes(values: Iterable[str]) -> frozenset[str]:
    codes = _checks.sequence(values, "billing_codes", "codes")
    return frozenset(_checks.normalise(hcpcs.validate, v, "billing_codes") for v in codes)


def _sorted_repr(values: frozenset[str]) -> str:
    """A set's repr in sorted order: the same set always prints the same (logs can be compared)."""
    return f"frozenset({sorted(values)!r})" if values else "frozenset()"


@attrs.frozen(kw_only=True)
class Authorization:
    """A prior authorization: a number of sessions the payer allows over a range of dates.

    ``billing_codes`` lists the codes it covers; empty means every code.
    """

    id: str = attrs.field(validator=_id)
    client_id: str = attrs.field(validator=_id)
    payer_id: str = attrs.field(validator=_id)
    number: str = attrs.field(validator=_auth_number, repr=redacted)
    billing_codes: frozenset[str] = attrs.field(default=frozenset(), converter=_codes, repr=_sorted_repr)
    start: date = attrs.field()
    end: date = attrs.field()
    sessions_authorized: int = attrs.field()
    version: int = attrs.field(default=0, eq=False, validator=_version)

    @start.validator
    def _check_start(self, attribute: attrs.Attribute[date], value: date) -> None:
        _checks.a_date(value, "start")

    @end.validator
    def _check_end(self, attribute: attrs.Attribute[date], value: date) -> None:
        if _checks.a_date(value, "end") < self.start:
            raise InvalidValue("end is before start", "authorization.dates", "end")

    @sessions_authorized.validator
    def _check_sessions(self, attribute: attrs.Attribute[int], value: int) -> None:
        _checks.whole(value, "sessions_authorized", low=1, high=10_000)

    def is_active(self, on: date) -> bool:
        return self.start <= on <= self.end

    def covers(self, billing_code: str) -> bool:
        return not self.billing_codes or billing_code in self.billing_codes


def _time_zone(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidValue(
            "time_zone must be an IANA zone name", "practice.time_zone", attribute.name
        ) from None


def _practice_npi(value: str) -> str:
    return _checks.normalise(npi.validate, value, "npi")


def _tax_id(value: str) -> str:
    return _checks.normalise(ein.validate, value, "tax_id")


_TAXONOMY = re.compile(r"[0-9]{3}[A-Z0-9]{6}X")


def _taxonomy(_inst: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _TAXONOMY.fullmatch(value)):
        raise InvalidValue(
            "taxonomy must be a 10-character provider taxonomy code", "practice.taxonomy", attribute.name
        )


def _default_code(value: str | None) -> str | None:
    return None if value is None else _checks.normalise(hcpcs.validate, value, "default_billing_code")


def _entity_type(value: EntityType | str) -> EntityType:
    try:
        return EntityType(value)
    except ValueError:
        raise InvalidValue(
            "npi_type must be 1 (person) or 2 (organisation)", "practice.npi_type", "npi_type"
        ) from None


def _person_name(instance: PracticeSetup, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, max_len=60)
    if instance.npi_type is EntityType.PERSON and not value.strip():
        raise InvalidValue(
            "a type 1 (person) NPI needs the practitioner's last name",
            "practice.provider_name",
            attribute.name,
        )


def _release(value: ReleaseOfInformation | str) -> ReleaseOfInformation:
    try:
        return ReleaseOfInformation(value)
    except ValueError:
        raise InvalidValue(
            "release_of_information must be Y or I",
            "practice.release_of_information",
            "release_of_information",
        ) from None


def _phone(value: str) -> str:
    digits = re.sub(r"[\s().+-]", "", _checks.text(value, "phone"))
    if digits and not re.fullmatch(r"1?[0-9]{10}", digits):
        raise InvalidValue("phone must have 10 digits", "practice.phone", "phone")
    return digits[-10:]


@attrs.frozen(kw_only=True)
class PracticeSetup:
    """The practice: billing provider, its identifiers and the entry-screen defaults."""

    name: str = attrs.field(validator=_name)
    npi: str = attrs.field(converter=_practice_npi)
    tax_id: str = attrs.field(converter=_tax_id)
    taxonomy: str | None = attrs.field(default=None, validator=_taxonomy)
    address: Address | None = attrs.field(default=None, validator=_address)
    time_zone: str = attrs.field(validator=_time_zone)
    """IANA zone of the practice: dates of service are local dates in this zone."""
    default_place_of_service: PlaceOfService = attrs.field(default=OFFICE, converter=_place_of_service)
    default_billing_code: str | None = attrs.field(default=None, converter=_default_code)
    npi_type: EntityType = attrs.field(default=EntityType.ORGANIZATION, converter=_entity_type)
    """Whose ``npi`` is: an organisation's (type 2, the default) or the practitioner's own (type 1)."""
    provider_first_name: str = attrs.field(default="", validator=_note)
    """With a type 1 NPI: the practitioner's first name (X12 2010AA NM104)."""
    provider_last_name: str = attrs.field(default="", validator=_person_name)
    """With a type 1 NPI: the practitioner's last name (X12 2010AA NM103); required then."""
    phone: str = attrs.field(default="", converter=_phone)
    """The billing provider's phone, 10 digits or empty (CMS-1500 box 33)."""
    pay_to_address: Address | None = attrs.field(default=None, validator=_address)
    """Where payments go when not to ``address`` (a PO box or lock box; X12 2010AB)."""
    accept_assignment: bool = attrs.field(default=True, validator=_checks.is_bool)
    """The provider accepts assignment (X12 CLM07 ``A``, else ``C``; CMS-1500 box 27)."""
    benefits_assigned: bool = attrs.field(default=True, validator=_checks.is_bool)
    """The insured's signature assigning benefits to the provider is on file (CLM08 ``Y``/``N``; box 13)."""
    release_of_information: ReleaseOfInformation = attrs.field(
        default=ReleaseOfInformation.SIGNED, converter=_release
    )
    """How the patient allowed releasing claim data (CLM09 ``Y``/``I``; box 12)."""
    version: int = attrs.field(default=0, eq=False, validator=_version)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
