"""Small value objects: codes, providers, resubmission, overrides, add-on lines."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import attrs

from sessionkit.codes import behavioral, ein, hcpcs, icd10, modifier, npi, pos
from sessionkit.domain import _checks
from sessionkit.errors import InvalidValue, SessionkitError
from sessionkit.money import Money, MoneyLike

__all__ = [
    "AddOnLine",
    "Address",
    "BillTo",
    "BillingCode",
    "ClaimFilingIndicator",
    "DiagnosisCode",
    "EntityType",
    "Frequency",
    "InsuranceOverrides",
    "Modifier",
    "OFFICE",
    "ORIGINAL",
    "PlaceOfService",
    "ProviderQualifier",
    "ReferringProvider",
    "ReleaseOfInformation",
    "Resubmission",
    "Sex",
    "redacted",
]


class BillTo(str, enum.Enum):
    """Who a session is billed to (the entry screen's *Bill To*)."""

    AUTOMATIC = "automatic"
    """Let the system decide: insurance when coverage is active on the date, else the client."""
    CLIENT = "client"
    """Bill the client directly, bypassing insurance (phone call, report writing)."""


class Frequency(str, enum.Enum):
    """Claim frequency code (CMS-1500 box 22, X12 CLM05-3)."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ProviderQualifier(str, enum.Enum):
    """CMS-1500 box 17 qualifier."""

    REFERRING = "DN"
    ORDERING = "DK"
    SUPERVISING = "DQ"


class ClaimFilingIndicator(str, enum.Enum):
    """The kind of insurance plan (X12 SBR09 claim filing indicator; CMS-1500 box 1 follows it)."""

    OTHER_NON_FEDERAL = "11"
    PPO = "12"
    POS = "13"
    """Point of service plan."""
    EPO = "14"
    INDEMNITY = "15"
    HMO_MEDICARE_RISK = "16"
    DENTAL_MAINTENANCE = "17"
    AUTOMOBILE_MEDICAL = "AM"
    BLUE_CROSS_BLUE_SHIELD = "BL"
    TRICARE = "CH"
    COMMERCIAL = "CI"
    DISABILITY = "DS"
    FEDERAL_EMPLOYEES = "FI"
    HMO = "HM"
    LIABILITY_MEDICAL = "LM"
    MEDICARE_PART_A = "MA"
    MEDICARE_PART_B = "MB"
    MEDICAID = "MC"
    OTHER_FEDERAL = "OF"
    TITLE_V = "TV"
    VETERANS_AFFAIRS = "VA"
    WORKERS_COMPENSATION = "WC"
    MUTUALLY_DEFINED = "ZZ"


class EntityType(str, enum.Enum):
    """Whose NPI it is (X12 NM102): a person's (type 1) or an organisation's (type 2)."""

    PERSON = "1"
    ORGANIZATION = "2"


class ReleaseOfInformation(str, enum.Enum):
    """X12 CLM09 / CMS-1500 box 12: how the patient allowed the release of medical data."""

    SIGNED = "Y"
    """A signed statement is on file (box 12 "SIGNATURE ON FILE")."""
    INFORMED = "I"
    """Informed consent without a signed statement (box 12 left blank)."""


class Sex(str, enum.Enum):
    """Administrative sex code of X12 DMG03."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


REDACTED = "<redacted>"


def redacted(value: object) -> str:
    """attrs ``repr`` of a field that may identify a person: ``<redacted>``, unless empty.

    Reprs end up in logs; the notebook display (``_repr_html_``), which a
    person opens on purpose, shows the values.

    >>> redacted("Ada"), redacted(""), redacted(None)
    ('<redacted>', "''", 'None')
    """
    if value is None or (type(value) in (str, tuple, dict) and not value):
        return repr(value)
    return REDACTED


# -- converters (named functions, so that mypy's attrs plugin types __init__) --


def _charge(value: MoneyLike) -> Money:
    return _checks.money(value, "charge")


def _default_charge(value: MoneyLike) -> Money:
    return _checks.money(value, "default_charge")


def _paid_at_session(value: MoneyLike) -> Money:
    return _checks.money(value, "paid_at_session")


def _copay(value: MoneyLike | None) -> Money | None:
    return None if value is None else _checks.money(value, "copay")


def _icd10(value: str) -> str:
    return _checks.normalise(icd10.validate, value, "code")


_HCPCS_OK: dict[str, str] = {}
_CACHE_MAX = 4096


def _cached_hcpcs(value: str, field: str) -> str:
    """A CPT/HCPCS code in normal form, naming ``field`` on failure.

    Valid codes are cached: a practice bills a handful of codes over and over.
    """
    code = _HCPCS_OK.get(value) if type(value) is str else None
    if code is None:
        code = _checks.normalise(hcpcs.validate, value, field)
        if len(_HCPCS_OK) < _CACHE_MAX:
            _HCPCS_OK[value] = code
    return code


def _hcpcs(value: str) -> str:
    return _cached_hcpcs(value, "code")


def _modifier(value: str) -> str:
    return _checks.normalise(modifier.validate, value, "code")


def _pos(value: str) -> str:
    return _checks.normalise(pos.validate, value, "code")


def _npi(value: str) -> str:
    return _checks.normalise(npi.validate, value, "npi")


def _optional_npi(value: str | None) -> str | None:
    return _checks.optional_npi(value, "npi")


def _billing_provider_npi(value: str | None) -> str | None:
    return _checks.optional_npi(value, "billing_provider_npi")


def _rendering_provider_npi(value: str | None) -> str | None:
    return _checks.optional_npi(value, "rendering_provider_npi")


def _facility_npi(value: str | None) -> str | None:
    return _checks.optional_npi(value, "facility_npi")


def _optional_address(
    _inst: object, attribute: attrs.Attribute[Address | None], value: Address | None
) -> None:
    if value is not None:
        _checks.instance(value, Address, attribute.name)


def _optional_ein(value: str | None) -> str | None:
    return None if value is None or value == "" else _checks.normalise(ein.validate, value, "tax_id")


_STATE = re.compile(r"[A-Z]{2}")
_ZIP = re.compile(r"\d{5}(\d{4})?")


def _state(value: str) -> str:
    state = _checks.text(value, "state").strip().upper()
    if not _STATE.fullmatch(state):
        raise InvalidValue("state must be a 2-letter code", "address.state", "state")
    return state


def _postal_code(value: str) -> str:
    code = _checks.text(value, "postal_code").strip().replace("-", "").replace(" ", "")
    if not _ZIP.fullmatch(code):
        raise InvalidValue("postal_code must be 5 or 9 digits", "address.postal_code", "postal_code")
    return code


def _street(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    # X12 N301/N302 and the CMS-1500 address lines hold at most 55 characters.
    _checks.text(value, attribute.name, required=attribute.name == "line1", max_len=55)


def _city(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    # X12 N401 is 2-30 characters.
    _checks.text(value, attribute.name, required=True, max_len=30)
    if len(value.strip()) < 2:
        raise InvalidValue("city must have at least 2 characters", "address.city", attribute.name)


@attrs.frozen(kw_only=True)
class Address:
    """A US postal address (X12 N3/N4, CMS-1500 boxes 5, 32, 33)."""

    line1: str = attrs.field(validator=_street, repr=redacted)
    line2: str = attrs.field(default="", validator=_street, repr=redacted)
    city: str = attrs.field(validator=_city, repr=redacted)
    state: str = attrs.field(converter=_state)
    postal_code: str = attrs.field(converter=_postal_code, repr=redacted)


@attrs.frozen(kw_only=True)
class DiagnosisCode:
    """An ICD-10-CM code in its canonical dotted form, e.g. ``F41.1``.

    The description is the practice's own label; it does not take part in equality.

    >>> DiagnosisCode(code="f411")
    DiagnosisCode(code='F41.1', description='')
    >>> DiagnosisCode(code="F41.1").x12
    'F411'
    """

    code: str = attrs.field(converter=_icd10)
    description: str = attrs.field(default="", eq=False, validator=_checks.is_text)

    @property
    def x12(self) -> str:
        """The code without the dot, as the X12 HI segment carries it."""
        return icd10.compact(self.code)

    @classmethod
    def of(cls, value: DiagnosisCode | str) -> DiagnosisCode:
        return value if isinstance(value, DiagnosisCode) else cls(code=value)


@attrs.frozen
class Modifier:
    """A billing code modifier: exactly 2 alphanumerics, e.g. ``95``.

    >>> Modifier("hn")
    Modifier(code='HN')
    """

    code: str = attrs.field(converter=_modifier)

    @property
    def meaning(self) -> str | None:
        """A short meaning for common modifiers, else None."""
        return modifier.describe(self.code)

    @classmethod
    def of(cls, value: Modifier | str) -> Modifier:
        return value if isinstance(value, Modifier) else cls(value)


@attrs.frozen
class PlaceOfService:
    """A CMS place-of-service code, e.g. ``11`` (office), ``10`` (telehealth at home)."""

    code: str = attrs.field(converter=_pos)

    @property
    def name(self) -> str:
        return pos.name(self.code)

    @property
    def is_telehealth(self) -> bool:
        return pos.is_telehealth(self.code)

    @classmethod
    def of(cls, value: PlaceOfService | str) -> PlaceOfService:
        return value if isinstance(value, PlaceOfService) else cls(value)


OFFICE = PlaceOfService("11")


_POS: dict[str, PlaceOfService] = {}


def _place_of_service(value: PlaceOfService | str) -> PlaceOfService:
    if type(value) is PlaceOfService:
        return value
    cached = _POS.get(value) if type(value) is str else None
    if cached is None:
        try:
            cached = PlaceOfService.of(value)
        except SessionkitError as exc:
            raise exc.at("place_of_service") from None
        if type(value) is str and len(_POS) < _CACHE_MAX:
            _POS[value] = cached
    return cached


_C = TypeVar("_C", "DiagnosisCode", "Modifier")


def _code_tuple(
    values: Iterable[_C | str], of: Callable[[_C | str], _C], cache: dict[str, _C], field: str, most: int
) -> tuple[_C, ...]:
    """Codes (objects or text) as a tuple of code objects, naming ``field[i]`` on failure.

    Objects are made once per text (``cache``): a practice uses a few codes.
    """
    out = []
    for i, value in enumerate(_checks.sequence(values, field, "codes")):
        cached = cache.get(value) if type(value) is str else None
        if cached is None:
            try:
                cached = of(value)
            except SessionkitError as exc:
                raise exc.at(f"{field}[{i}]") from None
            if type(value) is str and len(cache) < _CACHE_MAX:
                cache[value] = cached
        out.append(cached)
    result = tuple(out)
    _checks.count(result, field, most)
    return result


_MODIFIERS: dict[str, Modifier] = {}


def _modifiers(values: Iterable[Modifier | str]) -> tuple[Modifier, ...]:
    return () if values == () else _code_tuple(values, Modifier.of, _MODIFIERS, "modifiers", 4)


def _minutes(_inst: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None:
        _checks.whole(value, attribute.name, low=0, high=1440)


_MAX_VERSION = 2**62


def _version(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    """attrs validator of a stored record's version: a whole number from 0 (never stored)."""
    if type(value) is not int or not 0 <= value <= _MAX_VERSION:
        _checks.whole(value, attribute.name, low=0, high=_MAX_VERSION)


def _add_on_default(self: BillingCode) -> bool:
    return behavioral.is_add_on(self.code)


@attrs.frozen(kw_only=True)
class BillingCode:
    """A billing code of the practice's setup: the code and its defaults.

    ``add_on`` defaults to what the behavioural-health catalogue says of the code.
    ``version`` is the repository's optimistic-concurrency counter (0: never
    stored; each put stores ``version + 1``), as for sessions.

    >>> BillingCode(code="90834", default_minutes=45, default_charge="140").add_on
    False
    """

    code: str = attrs.field(converter=_hcpcs)
    description: str = attrs.field(default="", validator=_checks.is_text)
    default_minutes: int | None = attrs.field(default=None, validator=_minutes)
    default_charge: Money = attrs.field(converter=_default_charge)
    add_on: bool = attrs.field(
        default=attrs.Factory(_add_on_default, takes_self=True),
        validator=_checks.is_bool,
    )
    version: int = attrs.field(default=0, eq=False, validator=_version)


def _qualifier(value: ProviderQualifier | str) -> ProviderQualifier:
    try:
        return ProviderQualifier(value)
    except ValueError:
        raise InvalidValue("qualifier must be DN, DK or DQ", "provider.qualifier", "qualifier") from None


def _name35(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, max_len=35)


@attrs.frozen(kw_only=True)
class ReferringProvider:
    """The referring provider (CMS-1500 box 17/17b, X12 2310A).

    Any part may be missing while the biller gathers it; an NPI, when given,
    must be valid. The claim needs all three: a readiness finding says so.
    """

    first_name: str = attrs.field(default="", validator=_name35, repr=redacted)
    last_name: str = attrs.field(default="", validator=_name35, repr=redacted)
    npi: str | None = attrs.field(default=None, converter=_optional_npi)
    qualifier: ProviderQualifier = attrs.field(default=ProviderQualifier.REFERRING, converter=_qualifier)

    @property
    def complete(self) -> bool:
        """True when first name, last name and NPI are all present."""
        return bool(self.first_name.strip() and self.last_name.strip() and self.npi)


_REFERENCE = re.compile(r"[A-Za-z0-9]{1,50}")


def _frequency(value: Frequency | str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise InvalidValue("frequency must be 1, 7 or 8", "resubmission.frequency", "frequency") from None


def _reference(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value.strip()):
        raise InvalidValue(
            "original_reference must be 1-50 letters or digits",
            "resubmission.reference_format",
            "original_reference",
        )
    return value.strip()


@attrs.frozen(kw_only=True)
class Resubmission:
    """Claim frequency and the payer's original claim number (box 22, CLM05-3 + REF*F8).

    A replacement (7) or void (8) needs the original reference; an original
    (1) carries none. That pairing is a readiness finding, not an invariant,
    since the biller may not have the number yet.
    """

    frequency: Frequency = attrs.field(default=Frequency.ORIGINAL, converter=_frequency)
    original_reference: str | None = attrs.field(default=None, converter=_reference)


ORIGINAL = Resubmission()


def _optional_entity(value: EntityType | str | None) -> EntityType | None:
    if value is None:
        return None
    try:
        return EntityType(value)
    except ValueError:
        raise InvalidValue(
            "the NPI type must be 1 or 2", "value.entity_type", "billing_provider_type"
        ) from None


@attrs.frozen(kw_only=True)
class InsuranceOverrides:
    """Per-session overrides of the practice setup for the insurance claim. Rarely used."""

    billing_provider_name: str | None = attrs.field(default=None, validator=_checks.is_optional_text)
    billing_provider_npi: str | None = attrs.field(default=None, converter=_billing_provider_npi)
    tax_id: str | None = attrs.field(default=None, converter=_optional_ein)
    rendering_provider_first_name: str | None = attrs.field(default=None, validator=_checks.is_optional_text)
    rendering_provider_last_name: str | None = attrs.field(default=None, validator=_checks.is_optional_text)
    rendering_provider_npi: str | None = attrs.field(default=None, converter=_rendering_provider_npi)
    facility_name: str | None = attrs.field(default=None, validator=_checks.is_optional_text)
    facility_npi: str | None = attrs.field(default=None, converter=_facility_npi)
    facility_address: Address | None = attrs.field(default=None, validator=_optional_address)
    billing_provider_type: EntityType | None = attrs.field(default=None, converter=_optional_entity)
    """Whose the overriding billing NPI is; ``None``: an organisation's (``billing_provider_name``)."""
    billing_provider_first_name: str | None = attrs.field(default=None, validator=_checks.is_optional_text)
    """For a person's billing NPI: the first name (``billing_provider_name`` is then the last name)."""

    @property
    def empty(self) -> bool:
        return all(getattr(self, a.name) is None for a in attrs.fields(InsuranceOverrides))


_UNIT_MAX = Decimal("9999")


_ONE = Decimal(1)


def _units(value: Decimal | int | str) -> Decimal:
    if value is _ONE or (type(value) is int and value == 1):
        return _ONE
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise InvalidValue("units must be an int, str or Decimal", "units.type", "units")
    try:
        dec = Decimal(value)
    except InvalidOperation:
        raise InvalidValue("units is not a number", "units.format", "units") from None
    if not dec.is_finite() or not Decimal(0) < dec <= _UNIT_MAX:
        raise InvalidValue("units must be above 0 and at most 9999", "units.out_of_range", "units")
    if dec != dec.quantize(Decimal("0.001")):
        raise InvalidValue("units has more than 3 decimal places", "units.precision", "units")
    return dec.quantize(Decimal(1)) if dec == dec.to_integral_value() else dec.normalize()


@attrs.frozen(kw_only=True)
class AddOnLine:
    """An add-on code billed with a primary session (e.g. 90785, 90840)."""

    code: str = attrs.field(converter=_hcpcs)
    units: Decimal = attrs.field(default=_ONE, converter=_units)
    charge: Money = attrs.field(converter=_charge)
    modifiers: tuple[Modifier, ...] = attrs.field(default=(), converter=_modifiers)
