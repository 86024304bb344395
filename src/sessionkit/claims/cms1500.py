"""The values of each box of the CMS-1500 (02/12) paper claim form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from sessionkit.claims.model import POINTER_LETTERS, Claim, ClaimTarget
from sessionkit.codes import ein
from sessionkit.domain.parties import Relationship
from sessionkit.domain.values import Address
from sessionkit.errors import InvalidValue
from sessionkit.money import Money

__all__ = ["Cms1500", "to_cms1500"]

_RELATIONSHIP = {
    Relationship.SELF: "self",
    Relationship.SPOUSE: "spouse",
    Relationship.CHILD: "child",
    Relationship.OTHER: "other",
}


def _freeze(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


def _freeze_lines(values: Any) -> tuple[Mapping[str, str], ...]:
    return tuple(dict(v) for v in values)


@attrs.frozen(kw_only=True, eq=True, unsafe_hash=False)
class Cms1500:
    """What to print in each box of one CMS-1500 form.

    ``boxes`` is keyed by box number (``"1a"``, ``"17"``, ``"17b"``, ``"21.A"``,
    ``"22.code"``, ``"28"`` ...); ``lines`` holds the box-24 rows keyed ``"24A.from"``,
    ``"24A.to"``, ``"24B"``, ``"24C"``, ``"24D.code"``, ``"24D.modifiers"``, ``"24E"``,
    ``"24F"``, ``"24G"``, ``"24J"``. ``form["17"]`` reads a header box. The line note
    is absent: the form has nowhere to print it.
    """

    boxes: Mapping[str, str] = attrs.field(converter=_freeze)
    lines: tuple[Mapping[str, str], ...] = attrs.field(converter=_freeze_lines)

    def __getitem__(self, box: str) -> str:
        return self.boxes[box]

    def __contains__(self, box: object) -> bool:
        return box in self.boxes


def _mmddyy(day: date) -> str:
    return day.strftime("%m%d%y")


def _money(money: Money) -> str:
    return f"{money.amount:.2f}"


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _address(address: Address | None) -> str:
    if address is None:
        return ""
    street = address.line1 + (f", {address.line2}" if address.line2 else "")
    return f"{street}, {address.city}, {address.state} {address.postal_code}"


def to_cms1500(claim: Claim) -> Cms1500:
    """The box values of ``claim`` on a CMS-1500 form.

    Diagnoses keep their dot on paper (box 21, ICD indicator ``0``); line
    pointers are letters (24E); dates are MMDDYY; amounts have 2 decimals.

    :raises InvalidValue: the claim was built for another target (the 837P allows 50 lines).
    """
    if claim.target is not ClaimTarget.CMS1500:
        raise InvalidValue("the claim was built for another target", "cms1500.target", "target")
    insured = claim.subscriber
    boxes: dict[str, str] = {
        "carrier.name": claim.payer.name,
        "carrier.address": _address(claim.payer.address),
        "1a": claim.coverage.member_id,
        "2": f"{claim.client.last_name}, {claim.client.first_name}",
        "3.birth_date": ""
        if claim.client.date_of_birth is None
        else claim.client.date_of_birth.strftime("%m%d%Y"),
        "3.sex": claim.client.sex.value,
        "4": f"{insured.last_name}, {insured.first_name}",
        "5": _address(claim.client.address),
        "6": _RELATIONSHIP[claim.coverage.relationship],
        "7": _address(insured.address),
        "11": claim.coverage.group_number,
        "21.ICD_IND": "0",
        "22.code": "" if claim.frequency.value == "1" else claim.frequency.value,
        "22.original_ref": (claim.original_reference or "") if claim.frequency.value != "1" else "",
        "23": claim.prior_authorization or "",
        "25": ein.format(claim.billing_provider.tax_id),
        "25.type": "EIN",
        "26": claim.patient_control_number,
        "27": "YES",
        "28": _money(claim.total_charge),
        "29": _money(claim.amount_paid),
        "33": f"{claim.billing_provider.name}, {_address(claim.billing_provider.address)}".rstrip(", "),
        "33a": claim.billing_provider.npi,
    }
    ref = claim.referring_provider
    if ref is not None and ref.complete:
        boxes["17"] = f"{ref.qualifier.value} {ref.first_name.strip()} {ref.last_name.strip()}"
        boxes["17.qualifier"] = ref.qualifier.value
        boxes["17b"] = ref.npi or ""
    for i, diagnosis in enumerate(claim.diagnoses):
        boxes[f"21.{POINTER_LETTERS[i]}"] = diagnosis.code
    if claim.service_facility is not None:
        sf = claim.service_facility
        boxes["32"] = f"{sf.name}, {_address(sf.address)}"
        boxes["32a"] = sf.npi or ""
    rendering_npi = claim.rendering_provider.npi if claim.rendering_provider else claim.billing_provider.npi
    lines = [
        {
            "24A.from": _mmddyy(line.date_of_service),
            "24A.to": _mmddyy(line.date_of_service),
            "24B": line.place_of_service,
            "24C": "",
            "24D.code": line.code,
            "24D.modifiers": " ".join(line.modifiers),
            "24E": line.pointer_letters,
            "24F": _money(line.charge),
            "24G": _units(line.units),
            "24J": rendering_npi,
        }
        for line in claim.lines
    ]
    return Cms1500(boxes=boxes, lines=lines)
