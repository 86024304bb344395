"""ASC X12 837 professional claims, version 005010X222A1."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sessionkit.claims.model import BillingProvider, Claim, ClaimTarget, OtherPayer, Receiver, Submitter
from sessionkit.codes import usps, x12, zipcode
from sessionkit.domain.billing import ClaimRecord
from sessionkit.domain.parties import Client, CoverageRank, Payer, Relationship, Subscriber
from sessionkit.domain.payments import Adjustment
from sessionkit.domain.values import Address, EntityType, Frequency, ProviderQualifier, ReferringProvider
from sessionkit.errors import ClaimNotReady, InvalidValue
from sessionkit.money import Money

__all__ = ["IMPLEMENTATION_GUIDE", "line_control_number", "to_837p", "x12_text"]

IMPLEMENTATION_GUIDE = "005010X222A1"
_SEGMENT = "~"
_ELEMENT = "*"
_COMPONENT = ":"
_REPETITION = "^"
# The X12 basic character set, less the four delimiters this writer uses.
_BASIC = x12.BASIC_CHARACTERS
_ISA_ID = re.compile(r"[A-Z0-9][A-Z0-9 ]{1,14}")


def x12_text(value: str, max_len: int) -> str:
    """``value`` in the X12 basic character set: accents dropped, uppercase, other characters as spaces.

    Runs of spaces collapse and the result is cut to ``max_len`` characters.

    >>> x12_text("José O'Brien*Smith~", 60)
    "JOSE O'BRIEN SMITH"
    """
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    cleaned = "".join(c if c in _BASIC else " " for c in ascii_text)
    return " ".join(cleaned.split())[:max_len].rstrip()


def _amount(money: Money) -> str:
    return f"{money.amount.normalize():f}"


def _decimal(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


class _Writer:
    """Collects segments and counts those of the transaction set."""

    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, *elements: str) -> None:
        items = list(elements)
        while items and items[-1] == "":
            items.pop()
        self.segments.append(_ELEMENT.join(items))


def _required(value: str, max_len: int, field: str, min_len: int = 1) -> str:
    text = x12_text(value, max_len)
    if not text:
        raise ClaimNotReady(
            "a required value has no characters of the X12 basic character set", "x12.empty", field
        )
    if len(text) < min_len:
        raise ClaimNotReady(f"the 837P needs at least {min_len} characters here", "x12.too_short", field)
    return text


def _address(w: _Writer, address: Address | None, field: str, *, street: bool = False) -> None:
    """N3 and N4; ``street``: the guide wants a 9-digit ZIP and no post-office box (2010AA, 2310C)."""
    if address is None:
        raise ClaimNotReady("an address is required on the 837P", "x12.no_address", field)
    if not usps.is_valid(address.state):
        raise ClaimNotReady("the state is not a USPS code", "x12.state", f"{field}.state")
    if street and not zipcode.is_zip_plus_4(address.postal_code):
        raise ClaimNotReady(
            "this address needs the 9-digit ZIP code", "x12.zip_plus_4", f"{field}.postal_code"
        )
    if street and (usps.is_po_box(address.line1) or usps.is_po_box(address.line2)):
        raise ClaimNotReady(
            "this address must be a street address, not a post-office or lock box (use the pay-to address)",
            "x12.po_box",
            f"{field}.line1",
        )
    w.add("N3", _required(address.line1, 55, f"{field}.line1"), x12_text(address.line2, 55))
    w.add("N4", _required(address.city, 30, f"{field}.city", min_len=2), address.state, address.postal_code)


def _demographics(w: _Writer, person: Client | Subscriber, field: str) -> None:
    if person.date_of_birth is None:
        raise ClaimNotReady("a date of birth is required on the 837P", "x12.no_birth_date", field)
    w.add("DMG", "D8", _d8(person.date_of_birth), person.sex.value)


def _person_name(
    w: _Writer, entity: str, person: Client | Subscriber | ReferringProvider, field: str, *ids: str
) -> None:
    w.add(
        "NM1",
        entity,
        "1",
        _required(person.last_name, 60, f"{field}.last_name"),
        x12_text(person.first_name, 35),
        "",
        "",
        "",
        *ids,
    )


def _isa_id(value: str, field: str) -> str:
    text = x12_text(value, 15)
    if not _ISA_ID.fullmatch(text):
        raise InvalidValue("an interchange id must be 2-15 letters or digits", "x12.interchange_id", field)
    return text


def _control(value: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidValue(f"{field} must be a whole number from 1 to {high}", "x12.control_number", field)
    return value


def _claim_segments(w: _Writer, claim: Claim, field: str) -> None:
    bp = claim.billing_provider
    w.add(
        "CLM",
        claim.patient_control_number,
        _amount(claim.total_charge),
        "",
        "",
        _COMPONENT.join((claim.place_of_service, "B", claim.frequency.value)),
        "Y",
        "A" if bp.accept_assignment else "C",
        "Y" if bp.benefits_assigned else "N",
        bp.release_of_information.value,
    )
    if claim.amount_paid:
        w.add("AMT", "F5", _amount(claim.amount_paid))
    if claim.prior_authorization:
        w.add("REF", "G1", _required(claim.prior_authorization, 50, f"{field}.prior_authorization"))
    if claim.frequency is not Frequency.ORIGINAL:
        if not (claim.original_reference or "").strip():
            raise ClaimNotReady(
                "a corrected or void claim needs the payer's original claim number (REF*F8)",
                "x12.no_original_reference",
                f"{field}.original_reference",
            )
        w.add("REF", "F8", _required(claim.original_reference or "", 50, f"{field}.original_reference"))
    if not claim.diagnoses:
        raise ClaimNotReady("a claim needs a diagnosis", "x12.no_diagnosis", f"{field}.diagnoses")
    w.add(
        "HI",
        *(_COMPONENT.join(("ABK" if i == 0 else "ABF", d.x12)) for i, d in enumerate(claim.diagnoses)),
    )
    ref = claim.referring_provider
    if ref is not None and ref.complete and ref.npi and ref.qualifier is ProviderQualifier.REFERRING:
        _person_name(w, "DN", ref, f"{field}.referring_provider", "XX", ref.npi)
    if claim.rendering_provider is not None:
        rp = claim.rendering_provider
        w.add(
            "NM1",
            "82",
            "1",
            _required(rp.last_name, 60, f"{field}.rendering_provider.last_name"),
            x12_text(rp.first_name, 35),
            "",
            "",
            "",
            "XX",
            rp.npi,
        )
    if claim.service_facility is not None:
        sf = claim.service_facility
        ids = ("XX", sf.npi) if sf.npi else ()
        w.add(
            "NM1", "77", "2", _required(sf.name, 60, f"{field}.service_facility.name"), "", "", "", "", *ids
        )
        _address(w, sf.address, f"{field}.service_facility.address", street=True)
    if ref is not None and ref.complete and ref.npi and ref.qualifier is ProviderQualifier.SUPERVISING:
        _person_name(w, "DQ", ref, f"{field}.referring_provider", "XX", ref.npi)
    for k, other in enumerate(claim.other_payers):
        _other_payer(w, claim, other, f"{field}.other_payers[{k}]")
    payer_ids = {o.coverage.id: o.payer.payer_id or "" for o in claim.other_payers}
    for n, line in enumerate(claim.lines, start=1):
        w.add("LX", str(n))
        w.add(
            "SV1",
            _COMPONENT.join(("HC", line.code, *line.modifiers)),
            _amount(line.charge),
            "UN",
            _decimal(line.units),
            "" if line.place_of_service == claim.place_of_service else line.place_of_service,
            "",
            _COMPONENT.join(str(p) for p in line.diagnosis_pointers),
        )
        w.add("DTP", "472", "D8", _d8(line.date_of_service))
        w.add("REF", "6R", line_control_number(claim, n))
        note = x12_text(line.note, 80)
        if note:
            w.add("NTE", "ADD", note)
        if ref is not None and ref.complete and ref.npi and ref.qualifier is ProviderQualifier.ORDERING:
            _person_name(w, "DK", ref, f"{field}.referring_provider", "XX", ref.npi)
        for prior in line.prior:
            # 2430: the earlier payer's adjudication of the line; SVD01 is its 2330B NM109.
            w.add(
                "SVD",
                payer_ids[prior.coverage_id],
                _decimal(prior.paid),
                _COMPONENT.join(("HC", prior.code, *prior.modifiers)),
                "",
                _decimal(prior.units),
            )
            _adjustments(w, prior.adjustments)
            w.add("DTP", "573", "D8", _d8(prior.adjudicated_on))


def _adjustments(w: _Writer, adjustments: Sequence[Adjustment]) -> None:
    """CAS segments: one per group code, at most 6 reasons (amount, quantity) each."""
    groups: dict[str, list[Adjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group.value, []).append(a)
    for group, items in groups.items():
        for start in range(0, len(items), 6):
            elements: list[str] = []
            for a in items[start : start + 6]:
                elements += [a.reason, _decimal(a.amount), "" if a.quantity is None else _decimal(a.quantity)]
            w.add("CAS", group, *elements)


def _other_payer(w: _Writer, claim: Claim, other: OtherPayer, field: str) -> None:
    """Loops 2320 (SBR, CAS, AMT*D, OI), 2330A (NM1*IL other subscriber), 2330B (NM1*PR other payer)."""
    coverage = other.coverage
    payer = other.payer
    if not payer.payer_id:
        raise ClaimNotReady(
            "the other payer has no electronic payer id", "x12.no_payer_id", f"{field}.payer.payer_id"
        )
    _balance(claim, other, field)
    self_pays = coverage.relationship is Relationship.SELF
    w.add(
        "SBR",
        coverage.rank.value,
        coverage.relationship.value if not self_pays else "18",
        x12_text(coverage.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        payer.claim_filing_indicator.value,
    )
    _adjustments(w, other.adjustments)
    w.add("AMT", "D", _decimal(other.paid))
    bp = claim.billing_provider
    w.add("OI", "", "", "Y" if bp.benefits_assigned else "N", "", "", bp.release_of_information.value)
    subscriber: Client | Subscriber = claim.client
    if not self_pays:
        if coverage.subscriber is None:
            raise ClaimNotReady(
                "the other coverage names no subscriber though the client is not the policy holder",
                "x12.no_subscriber",
                f"{field}.coverage.subscriber",
            )
        subscriber = coverage.subscriber
    _person_name(
        w,
        "IL",
        subscriber,
        f"{field}.subscriber",
        "MI",
        _required(coverage.member_id, 80, f"{field}.coverage.member_id", 2),
    )
    _payer_name(w, payer, field)
    if not any(line.prior for line in claim.lines):
        w.add("DTP", "573", "D8", _d8(other.adjudicated_on))
    if other.payer_claim_number:
        w.add("REF", "F8", _required(other.payer_claim_number, 50, f"{field}.payer_claim_number"))


def _balance(claim: Claim, other: OtherPayer, field: str) -> None:
    """The guide's balancing (1.4.4): each line's charge is the payer's paid amount plus its line
    adjustments, and the claim's charge is the payer's paid amount plus every adjustment."""
    line_adjusted = Decimal("0.00")
    for n, line in enumerate(claim.lines):
        for prior in line.prior:
            if prior.coverage_id != other.coverage.id:
                continue
            if prior.paid + prior.adjusted != line.charge.amount:
                raise ClaimNotReady(
                    "the other payer's line adjudication does not balance with the line's charge",
                    "x12.cob_unbalanced",
                    f"{field}.lines[{n}]",
                )
            line_adjusted += prior.adjusted
    if other.paid + other.adjusted + line_adjusted != claim.total_charge.amount:
        raise ClaimNotReady(
            "the other payer's paid amount and adjustments do not add up to the claim's charge",
            "x12.cob_unbalanced",
            field,
        )


def to_837p(
    claims: Sequence[Claim],
    *,
    submitter: Submitter,
    receiver: Receiver,
    interchange_control_number: int,
    group_control_number: int,
    transaction_set_control_number: int = 1,
    created_at: datetime,
    usage: str,
    reference: str | None = None,
    acknowledgment_requested: bool = False,
    newlines: bool = False,
) -> str:
    """One ASC X12 005010X222A1 interchange holding ``claims`` in one transaction set.

    ``created_at`` (timezone-aware, injected so that output is reproducible) dates
    the ISA, GS and BHT; ``usage`` (ISA15, required) is ``"T"`` (test) or ``"P"``
    (production). ``reference`` is BHT03; by default it is derived from the
    control numbers, ``created_at`` and the claims, so that each batch has its own.
    ``newlines`` puts a line break after each segment terminator ``~``.

    :raises InvalidValue: bad control numbers, ids or ``created_at``; a claim built for another target.
    :raises ClaimNotReady: a claim lacks data the 837P requires (an address, a date of birth,
        a payer id, the original reference of a corrected or void claim), has a billing or
        facility address the guide refuses (5-digit ZIP, post-office box, unknown state),
        goes to a secondary or tertiary payer without the earlier payers' adjudication
        (``x12.secondary_payer``: never ``SBR*S`` without loops 2320/2330), or carries an
        earlier payer's adjudication that does not balance with its charges (``x12.cob_unbalanced``).
    """
    if not claims:
        raise InvalidValue("an 837P needs at least one claim", "x12.no_claims", "claims")
    if not isinstance(created_at, datetime) or created_at.utcoffset() is None:
        raise InvalidValue("created_at must be a timezone-aware datetime", "x12.created_at", "created_at")
    if usage not in {"T", "P"}:
        raise InvalidValue("usage must be T (test) or P (production)", "x12.usage", "usage")
    icn = _control(interchange_control_number, 999_999_999, "interchange_control_number")
    gcn = _control(group_control_number, 999_999_999, "group_control_number")
    stcn = _control(transaction_set_control_number, 999_999_999, "transaction_set_control_number")
    for i, claim in enumerate(claims):
        if claim.target is not ClaimTarget.X12_837P:
            raise InvalidValue("the claim was built for another target", "x12.target", f"claims[{i}].target")
    sender = _isa_id(submitter.id, "submitter.id")
    receiver_id = _isa_id(receiver.id, "receiver.id")
    st_control = f"{stcn:04d}"

    w = _Writer()
    w.add(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{sender:<15}",
        "ZZ",
        f"{receiver_id:<15}",
        created_at.strftime("%y%m%d"),
        created_at.strftime("%H%M"),
        _REPETITION,
        "00501",
        f"{icn:09d}",
        "1" if acknowledgment_requested else "0",
        usage,
        _COMPONENT,
    )
    w.add(
        "GS",
        "HC",
        sender,
        receiver_id,
        created_at.strftime("%Y%m%d"),
        created_at.strftime("%H%M"),
        str(gcn),
        "X",
        IMPLEMENTATION_GUIDE,
    )
    st_start = len(w.segments)
    w.add("ST", "837", st_control, IMPLEMENTATION_GUIDE)
    bht_ref = (
        _required(reference, 50, "reference")
        if reference is not None
        else _batch_reference(claims, created_at, icn, gcn, stcn)
    )
    w.add("BHT", "0019", "00", bht_ref, created_at.strftime("%Y%m%d"), created_at.strftime("%H%M"), "CH")
    w.add("NM1", "41", "2", _required(submitter.name, 60, "submitter.name"), "", "", "", "", "46", sender)
    phone = re.sub(r"\D", "", submitter.phone)
    if not 10 <= len(phone) <= 15:
        raise InvalidValue("submitter.phone must have 10 digits", "x12.phone", "submitter.phone")
    w.add("PER", "IC", _required(submitter.contact_name, 60, "submitter.contact_name"), "TE", phone)
    w.add("NM1", "40", "2", _required(receiver.name, 60, "receiver.name"), "", "", "", "", "46", receiver_id)

    hl = 0
    providers: dict[object, list[int]] = {}
    for i, claim in enumerate(claims):
        providers.setdefault(claim.billing_provider, []).append(i)
    for indexes in providers.values():
        bp = claims[indexes[0]].billing_provider
        field = f"claims[{indexes[0]}].billing_provider"
        hl += 1
        provider_hl = hl
        w.add("HL", str(provider_hl), "", "20", "1")
        if bp.taxonomy:
            w.add("PRV", "BI", "PXC", bp.taxonomy)
        _billing_provider(w, bp, field)

        parties: dict[tuple[str, str], list[int]] = {}
        for i in indexes:
            parties.setdefault((claims[i].client.id, claims[i].coverage.id), []).append(i)
        for members in parties.values():
            for start in range(0, len(members), 100):
                chunk = members[start : start + 100]
                hl = _subscriber_loops(w, claims, chunk, hl, provider_hl)

    segment_count = len(w.segments) - st_start + 1
    w.add("SE", str(segment_count), st_control)
    w.add("GE", "1", str(gcn))
    w.add("IEA", "1", f"{icn:09d}")
    terminator = _SEGMENT + ("\n" if newlines else "")
    return terminator.join(w.segments) + terminator


def _billing_provider(w: _Writer, bp: BillingProvider, field: str) -> None:
    """2010AA (NM1*85, N3, N4, REF*EI) and, when payments go elsewhere, 2010AB (NM1*87)."""
    if bp.entity_type is EntityType.PERSON:
        last = _required(bp.name, 60, f"{field}.name")
        w.add("NM1", "85", "1", last, x12_text(bp.first_name, 35), "", "", "", "XX", bp.npi)
    else:
        w.add("NM1", "85", "2", _required(bp.name, 60, f"{field}.name"), "", "", "", "", "XX", bp.npi)
    _address(w, bp.address, f"{field}.address", street=True)
    w.add("REF", "EI", bp.tax_id)
    if bp.pay_to_address is not None and bp.pay_to_address != bp.address:
        w.add("NM1", "87", bp.entity_type.value)
        _address(w, bp.pay_to_address, f"{field}.pay_to_address")


def _payer_name(w: _Writer, payer: Payer, field: str) -> None:
    """NM1*PR: the payer's name and id (2010BB for the payer billed, 2330B for an earlier one)."""
    w.add(
        "NM1",
        "PR",
        "2",
        _required(payer.name, 60, f"{field}.payer.name"),
        "",
        "",
        "",
        "",
        "PI",
        _required(payer.payer_id or "", 80, f"{field}.payer.payer_id", 2),
    )


def line_control_number(claim: Claim | ClaimRecord, line_number: int) -> str:
    """The 2400 REF*6R line item control number of a claim's line (1-based): the claim's patient
    control number and the line number in 3 digits.

    The one home of the formula: the 837P writer sends it, and a remittance
    (835 SVC with REF*6R) is matched back to the claim record's line with it.
    """
    return f"{claim.patient_control_number}{line_number:03d}"


def _batch_reference(claims: Sequence[Claim], created_at: datetime, icn: int, gcn: int, stcn: int) -> str:
    """BHT03: 20 letters and digits from the control numbers, the time and the claims."""
    digest = hashlib.sha256(f"{icn}|{gcn}|{stcn}|{created_at.isoformat()}".encode())
    for claim in claims:
        digest.update(claim.patient_control_number.encode())
    return "B" + base64.b32encode(digest.digest()).decode("ascii")[:19]


def _subscriber_loops(
    w: _Writer, claims: Sequence[Claim], chunk: list[int], hl: int, provider_hl: int
) -> int:
    first = claims[chunk[0]]
    field = f"claims[{chunk[0]}]"
    coverage = first.coverage
    self_pays = first.patient_is_subscriber
    if not self_pays and coverage.subscriber is None:
        raise ClaimNotReady(
            "the coverage names no subscriber though the client is not the policy holder",
            "x12.no_subscriber",
            f"{field}.coverage.subscriber",
        )
    payer = first.payer
    if not payer.payer_id:
        raise ClaimNotReady(
            "the payer has no electronic payer id", "x12.no_payer_id", f"{field}.payer.payer_id"
        )
    if coverage.rank is not CoverageRank.PRIMARY:
        for i in chunk:
            if not claims[i].other_payers:
                raise ClaimNotReady(
                    "claims to a secondary or tertiary payer need the earlier payer's adjudication "
                    "(loops 2320/2330)",
                    "x12.secondary_payer",
                    f"claims[{i}].other_payers",
                )
    hl += 1
    subscriber_hl = hl
    w.add("HL", str(subscriber_hl), str(provider_hl), "22", "0" if self_pays else "1")
    w.add(
        "SBR",
        coverage.rank.value,
        "18" if self_pays else "",
        x12_text(coverage.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        payer.claim_filing_indicator.value,
    )
    subscriber = first.subscriber
    _person_name(
        w,
        "IL",
        subscriber,
        f"{field}.subscriber",
        "MI",
        _required(coverage.member_id, 80, f"{field}.coverage.member_id", 2),
    )
    if self_pays:
        _address(w, subscriber.address, f"{field}.client.address")
        _demographics(w, subscriber, f"{field}.client.date_of_birth")
    elif subscriber.address is not None:
        # 2010BA N3/N4 are optional when the patient is not the subscriber; DMG is not sent then.
        _address(w, subscriber.address, f"{field}.coverage.subscriber.address")
    _payer_name(w, payer, field)
    if payer.address is not None:
        _address(w, payer.address, f"{field}.payer.address")
    if not self_pays:
        hl += 1
        w.add("HL", str(hl), str(subscriber_hl), "23", "0")
        w.add("PAT", coverage.relationship.value)
        client = first.client
        _person_name(w, "QC", client, f"{field}.client")
        _address(w, client.address, f"{field}.client.address")
        _demographics(w, client, f"{field}.client.date_of_birth")
    for i in chunk:
        _claim_segments(w, claims[i], f"claims[{i}]")
    return hl
