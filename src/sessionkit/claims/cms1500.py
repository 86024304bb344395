"""The values of each box of the CMS-1500 (02/12) paper claim form, per the NUCC 1500 instructions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from sessionkit.claims.model import POINTER_LETTERS, Claim, ClaimTarget
from sessionkit.codes import zipcode
from sessionkit.domain.parties import Client, Relationship, Subscriber
from sessionkit.domain.values import Address, ClaimFilingIndicator, Frequency, ReleaseOfInformation
from sessionkit.errors import InvalidValue
from sessionkit.money import Money

__all__ = ["Cms1500", "plan_type", "to_cms1500"]

_RELATIONSHIP = {
    Relationship.SELF: "SELF",
    Relationship.SPOUSE: "SPOUSE",
    Relationship.CHILD: "CHILD",
    Relationship.OTHER: "OTHER",
}
_PLAN = {
    ClaimFilingIndicator.MEDICARE_PART_A: "MEDICARE",
    ClaimFilingIndicator.MEDICARE_PART_B: "MEDICARE",
    ClaimFilingIndicator.MEDICAID: "MEDICAID",
    ClaimFilingIndicator.TRICARE: "TRICARE",
    ClaimFilingIndicator.VETERANS_AFFAIRS: "CHAMPVA",
    ClaimFilingIndicator.COMMERCIAL: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.BLUE_CROSS_BLUE_SHIELD: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.HMO: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.PPO: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.POS: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.EPO: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.INDEMNITY: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.HMO_MEDICARE_RISK: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.DENTAL_MAINTENANCE: "GROUP HEALTH PLAN",
    ClaimFilingIndicator.FEDERAL_EMPLOYEES: "GROUP HEALTH PLAN",
}
SIGNATURE_ON_FILE = "SIGNATURE ON FILE"


def plan_type(indicator: ClaimFilingIndicator) -> str:
    """Box 1 from the payer's claim filing indicator (X12 SBR09).

    >>> plan_type(ClaimFilingIndicator.MEDICARE_PART_B), plan_type(ClaimFilingIndicator.WORKERS_COMPENSATION)
    ('MEDICARE', 'OTHER')
    """
    return _PLAN.get(indicator, "OTHER")


class Cms1500(Mapping[str, str]):
    """What to print in each box of one CMS-1500 form: a read-only mapping of box to value.

    Header boxes are keyed by their number (``"1"``, ``"1a"``, ``"17b"``, ``"21.A"``,
    ``"33a"``), with a suffix for the parts of a box (``"3.birth_date"``, ``"5.city"``,
    ``"22.code"``). The box-24 rows are keyed ``"24A.from[1]"`` ... ``"24J[6]"`` (row
    number in brackets) and also available as :attr:`lines`. A box that does not apply
    to the claim is absent; one that applies but is empty holds ``""``. The line note
    is absent: the form has nowhere to print it.
    """

    __slots__ = ("_boxes", "_lines")

    def __init__(self, boxes: Mapping[str, str], lines: tuple[Mapping[str, str], ...] = ()) -> None:
        frozen_lines = tuple(MappingProxyType(dict(line)) for line in lines)
        everything = dict(boxes)
        for n, line in enumerate(frozen_lines, start=1):
            everything.update({f"{box}[{n}]": value for box, value in line.items()})
        self._boxes: Mapping[str, str] = MappingProxyType(everything)
        self._lines = frozen_lines

    @property
    def lines(self) -> tuple[Mapping[str, str], ...]:
        """The box-24 rows, each keyed by box (``"24A.from"``, ``"24J"``)."""
        return self._lines

    @property
    def boxes(self) -> Mapping[str, str]:
        """Every box, header and rows alike (the mapping itself, read-only)."""
        return self._boxes

    def header(self) -> dict[str, str]:
        """The boxes outside the box-24 rows."""
        return {k: v for k, v in self._boxes.items() if not k.endswith("]")}

    def __getitem__(self, box: str) -> str:
        return self._boxes[box]

    def __iter__(self) -> Iterator[str]:
        return iter(self._boxes)

    def __len__(self) -> int:
        return len(self._boxes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Cms1500):
            return dict(self._boxes) == dict(other._boxes)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # a mapping is not hashable

    def __repr__(self) -> str:
        # Box values are client data: show only which boxes are filled.
        return f"Cms1500(boxes={len(self._boxes)}, lines={len(self._lines)})"


def _mmddyy(day: date) -> str:
    return day.strftime("%m%d%y")


def _money(money: Money) -> str:
    return f"{money.amount:.2f}"


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _plain(text: str) -> str:
    """Uppercase letters, digits, spaces and hyphens only (NUCC: no punctuation in names and addresses)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    ascii_text = ascii_text.replace("'", "").replace(".", "")
    return " ".join(re.sub(r"[^A-Z0-9\- ]", " ", ascii_text).split())


def _name(last: str, first: str) -> str:
    """NUCC name: last name, comma, first name; no other punctuation."""
    parts = [p for p in (_plain(last), _plain(first)) if p]
    return ", ".join(parts)


def _address(boxes: dict[str, str], box: str, address: Address | None) -> None:
    """The address as the form's lines: street, city, state, ZIP (a ZIP+4 with its hyphen, as NUCC asks)."""
    if address is None:
        for part in ("street", "city", "state", "zip"):
            boxes[f"{box}.{part}"] = ""
        return
    street = " ".join(p for p in (_plain(address.line1), _plain(address.line2)) if p)
    boxes[f"{box}.street"] = street
    boxes[f"{box}.city"] = _plain(address.city)
    boxes[f"{box}.state"] = address.state
    boxes[f"{box}.zip"] = zipcode.format(address.postal_code)


def to_cms1500(claim: Claim, *, signed_on: date | None = None) -> Cms1500:
    """The box values of ``claim`` on a CMS-1500 form.

    Diagnoses keep their dot on paper (box 21, ICD indicator ``0``); line
    pointers are letters (24E); dates are MMDDYY; amounts have 2 decimals;
    names and addresses are uppercase without punctuation. ``signed_on`` dates
    box 31 (blank when not given).

    :raises InvalidValue: the claim was built for another target (the 837P allows 50 lines).
    """
    if claim.target is not ClaimTarget.CMS1500:
        raise InvalidValue("the claim was built for another target", "cms1500.target", "target")
    insured = claim.subscriber
    bp = claim.billing_provider
    client = claim.client
    boxes: dict[str, str] = {
        "carrier.name": _plain(claim.payer.name),
    }
    _address(boxes, "carrier", claim.payer.address)
    boxes.update(
        {
            "1": plan_type(claim.payer.claim_filing_indicator),
            "1a": claim.coverage.member_id,
            "2": _name(client.last_name, client.first_name),
            "3.birth_date": "" if client.date_of_birth is None else client.date_of_birth.strftime("%m%d%Y"),
            "3.sex": client.sex.value if client.sex.value in {"F", "M"} else "",
            "4": _name(insured.last_name, insured.first_name),
            "6": _RELATIONSHIP[claim.coverage.relationship],
            "10a": "NO",
            "10b": "NO",
            "10c": "NO",
            "11": _plain(claim.coverage.group_number),
            "11d": "NO",
            "12": SIGNATURE_ON_FILE if bp.release_of_information is ReleaseOfInformation.SIGNED else "",
            "13": SIGNATURE_ON_FILE if bp.benefits_assigned else "",
            "21.ICD_IND": "0",
            "22.code": "" if claim.frequency is Frequency.ORIGINAL else claim.frequency.value,
            "22.original_ref": ""
            if claim.frequency is Frequency.ORIGINAL
            else (claim.original_reference or ""),
            "23": claim.prior_authorization or "",
            "25": bp.tax_id,
            "25.type": "EIN",
            "26": claim.patient_control_number,
            "27": "YES" if bp.accept_assignment else "NO",
            "28": _money(claim.total_charge),
            "29": _money(Money(claim.amount_paid.amount + max(claim.other_payers_paid, Decimal(0)))),
            "31": SIGNATURE_ON_FILE,
            "31.date": "" if signed_on is None else _mmddyy(signed_on),
            "33.name": _plain(bp.name) if not bp.first_name else _name(bp.name, bp.first_name),
            "33.phone": bp.phone,
            "33a": bp.npi,
        }
    )
    if claim.other_payers:
        # NUCC 1500 items 9, 9a, 9d and 11d: the other (earlier) plan; box 29 adds what it paid.
        other = claim.other_payers[0]
        other_insured: Client | Subscriber = client
        if other.coverage.relationship is not Relationship.SELF and other.coverage.subscriber is not None:
            other_insured = other.coverage.subscriber
        boxes["9"] = _name(other_insured.last_name, other_insured.first_name)
        boxes["9a"] = _plain(other.coverage.group_number) or other.coverage.member_id
        boxes["9d"] = _plain(other.payer.name)
        boxes["11d"] = "YES"
    _address(boxes, "5", client.address)
    _address(boxes, "7", insured.address)
    _address(boxes, "33", bp.address)
    if bp.taxonomy:
        boxes["33b"] = f"ZZ{bp.taxonomy}"
    ref = claim.referring_provider
    if ref is not None and ref.complete:
        boxes["17"] = " ".join(p for p in (_plain(ref.first_name), _plain(ref.last_name)) if p)
        boxes["17.qualifier"] = ref.qualifier.value
        boxes["17b"] = ref.npi or ""
    for i, diagnosis in enumerate(claim.diagnoses):
        boxes[f"21.{POINTER_LETTERS[i]}"] = diagnosis.code
    if claim.service_facility is not None:
        sf = claim.service_facility
        boxes["32.name"] = _plain(sf.name)
        _address(boxes, "32", sf.address)
        boxes["32a"] = sf.npi or ""
    rendering = claim.rendering_provider
    show_rendering = rendering is not None and rendering.npi != bp.npi
    lines = []
    for line in claim.lines:
        row = {
            "24A.from": _mmddyy(line.date_of_service),
            "24A.to": _mmddyy(line.date_of_service),
            "24B": line.place_of_service,
            "24C": "",
            "24D.code": line.code,
            "24D.modifiers": " ".join(line.modifiers),
            "24E": line.pointer_letters,
            "24F": _money(line.charge),
            "24G": _units(line.units),
            "24H": "",
        }
        if show_rendering and rendering is not None:
            row["24I"] = "NPI"
            row["24J"] = rendering.npi
        lines.append(row)
    return Cms1500(boxes, tuple(lines))
