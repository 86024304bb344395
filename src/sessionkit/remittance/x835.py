"""A strict reader of X12 835 health care claim payment/advice files (005010X221A1).

:func:`read_835` reads an interchange (``ISA`` ... ``IEA``) and returns one
:class:`Remittance` per transaction set (``ST*835`` ... ``SE``): the payment
(``BPR``, ``TRN``), the payer and the payee (``N1*PR``, ``N1*PE``), the claim
payments (loop 2100, ``CLP``) with their service lines (loop 2110, ``SVC``)
and adjustments (``CAS``), and the provider-level adjustments (``PLB``).

Two kinds of trouble, kept apart:

* A broken **envelope** (no ``ISA``, bad delimiters, a count in ``SE``, ``GE``
  or ``IEA`` that does not match, a missing ``BPR``/``TRN``/payer/payee, a
  payment total that does not balance) makes the whole file unreadable: one
  :class:`RemittanceError` whose ``field`` names the segment position
  (``segment[12]``, 1-based in the interchange).
* A bad **claim** (an amount that is not a number, an unknown segment, a claim
  that does not balance) is a :class:`ClaimProblem` on the remittance; the
  other claims are read. A problem names the claim's position in the file
  (1-based) and the segment, never the claim's content.

The balancing rules of the implementation guide are checked: a service line's
charge less its paid amount equals its adjustments (``SVC02 - SVC03 = sum
CAS``); a claim's paid amount is the sum of its lines' less the claim-level
adjustments (``CLP04 = sum SVC03 - sum CAS``), or, without lines, its charge
less its adjustments; the payment is the sum of the claims' paid amounts less
the provider-level adjustments (``BPR02 = sum CLP04 - sum PLB``).

>>> from sessionkit.remittance.x835 import read_835
>>> read_835("not an 835")
Traceback (most recent call last):
...
sessionkit.remittance.x835.RemittanceError: the file is not an X12 interchange: it does not start with ISA [x835.not_x12 @ segment[1]]

Independent validation with pyx12 (the ``x12`` extra) is :func:`validate_with_pyx12`.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from sessionkit._extras import require
from sessionkit.domain.payments import Adjustment, AdjustmentGroup
from sessionkit.errors import InvalidValue

__all__ = [
    "ClaimPayment",
    "ClaimProblem",
    "ProviderAdjustment",
    "Remittance",
    "RemittanceError",
    "ServicePayment",
    "read_835",
    "validate_with_pyx12",
]

T = TypeVar("T")
_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_MAX_DIGITS = 18
_MAX_AMOUNT = Decimal("1e11")
_MAX_QUANTITY = Decimal("1e9")
CLAIM_STATUS_CODES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
"""``CLP02`` codes of 005010X221A1."""
ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "PR"})
"""``CAS01`` group codes of 005010X221A1."""
PAYMENT_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})
"""``BPR04`` payment method codes."""
HANDLING_CODES = frozenset({"C", "D", "H", "I", "P", "U", "X"})
"""``BPR01`` transaction handling codes."""
PRODUCT_QUALIFIERS = frozenset({"AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK"})
"""``SVC01-1`` product or service id qualifiers."""
_CLAIM_SEGMENTS = frozenset({"CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY"})
_LINE_SEGMENTS = frozenset({"DTM", "CAS", "REF", "AMT", "QTY", "LQ"})
_MAX_CAS_TRIPLES = 6


class RemittanceError(InvalidValue):
    """An 835 file that cannot be read at all: a broken envelope, or not an 835.

    ``code`` says what (``x835.not_x12``, ``x835.not_835``, ``x835.count``, ...)
    and ``field`` the segment position (``segment[12]``, or ``segment[12].SE01``).
    The message never contains the file's content.
    """

    default_code = "x835.invalid"


@attrs.frozen(kw_only=True)
class ClaimProblem:
    """A claim payment (loop 2100) that could not be read; the others were.

    ``claim`` is the claim's 1-based position in the file (its ``CLP``
    segments counted from the start of the interchange), ``segment`` the
    1-based position of the offending segment in the interchange, ``code`` a
    stable code and ``message`` a plain sentence without client data.
    ``patient_control_number`` is what the ``CLP`` carried (a number the
    practice handed out, not client data) or ``None`` when it was unreadable.
    """

    claim: int
    segment: int
    code: str
    message: str
    patient_control_number: str | None = None


@attrs.frozen(kw_only=True)
class ServicePayment:
    """One service line of a claim payment (loop 2110, ``SVC``).

    ``line_control_number`` is the ``REF*6R`` the 837P sent (the payer sends
    it back), ``allowed`` the ``AMT*B6`` allowed amount, ``adjustments`` the
    line's ``CAS``.
    """

    qualifier: str = "HC"
    code: str
    modifiers: tuple[str, ...] = ()
    charge: Decimal
    paid: Decimal
    units: Decimal | None = None
    date_of_service: date | None = None
    line_control_number: str | None = None
    allowed: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def adjusted(self) -> Decimal:
        """The sum of the line's adjustments."""
        return sum((a.amount for a in self.adjustments), _ZERO)


@attrs.frozen(kw_only=True)
class ClaimPayment:
    """The payer's answer to one claim (loop 2100, ``CLP``) as the 835 carries it.

    ``status_code`` is ``CLP02`` (1/2/3 processed as primary/secondary/tertiary,
    4 denied, 22 reversal), ``patient_responsibility`` ``CLP05``,
    ``payer_claim_number`` ``CLP07``. The patient's name (``NM1*QC``) is
    client data: it is kept for display, out of the repr.
    """

    position: int = attrs.field(eq=False)
    """The claim's 1-based position in the file."""
    patient_control_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None = None
    filing_indicator: str = ""
    payer_claim_number: str = ""
    adjustments: tuple[Adjustment, ...] = ()
    services: tuple[ServicePayment, ...] = ()
    patient_last_name: str = attrs.field(default="", repr=False)
    patient_first_name: str = attrs.field(default="", repr=False)
    statement_from: date | None = None
    statement_to: date | None = None
    received_on: date | None = None


@attrs.frozen(kw_only=True)
class ProviderAdjustment:
    """One provider-level adjustment (``PLB``): positive amounts reduce the payment."""

    provider_id: str
    fiscal_period_end: date
    reason: str
    """``PLB03-1``: WO overpayment recovery, L6 interest, FB forwarding balance, ..."""
    reference: str = ""
    amount: Decimal


@attrs.frozen(kw_only=True)
class Remittance:
    """One 835 transaction set: a payment (or a notice) and the claims it pays."""

    sender_id: str
    receiver_id: str
    interchange_control_number: str
    usage: str
    """``ISA15``: ``P`` production, ``T`` test."""
    group_control_number: str
    transaction_control_number: str
    handling_code: str
    """``BPR01``: ``I`` remittance information and payment, ``H`` notification only, ..."""
    total_paid: Decimal
    """``BPR02``: the payment's amount."""
    credit_debit: str = "C"
    method: str
    """``BPR04``: ``CHK`` check, ``ACH`` EFT, ``NON`` no payment, ..."""
    payment_date: date
    """``BPR16``: the check's date or the EFT's effective date."""
    trace_number: str
    """``TRN02``: the check or EFT trace number."""
    payer_identifier: str
    """``TRN03``: the payer's identifier (``1`` and its EIN)."""
    payer_name: str
    payer_id: str = ""
    """``N1*PR`` ``N104``, else ``REF*2U``: the payer's id, when sent."""
    payee_name: str
    payee_id_qualifier: str = ""
    payee_id: str = ""
    """``N1*PE`` ``N104``: the practice's NPI (``XX``) or tax id (``FI``)."""
    production_date: date | None = None
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    problems: tuple[ClaimProblem, ...] = ()

    @property
    def payer_key(self) -> str:
        """Who paid, as the payer identifies itself: ``N1*PR`` id, else ``TRN03``."""
        return self.payer_id or self.payer_identifier


# -- segments ---------------------------------------------------------------------------------


@attrs.frozen
class _Segment:
    position: int
    elements: tuple[str, ...]
    """``elements[0]`` is the segment id; ``elements[n]`` is element n (``CLP01`` is ``elements[1]``)."""
    plain: bool = True
    """Every element is printable ASCII."""
    id: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "id", self.elements[0])

    def get(self, n: int) -> str:
        return self.elements[n] if n < len(self.elements) else ""


@attrs.frozen
class _Delimiters:
    element: str
    component: str
    segment: str
    repetition: str | None


class _ClaimError(Exception):
    def __init__(self, segment: _Segment, code: str, message: str) -> None:
        super().__init__(message)
        self.segment = segment
        self.code = code
        self.message = message


def _envelope_error(message: str, code: str, position: int, element: str | None = None) -> RemittanceError:
    where = f"segment[{position}]" + (f".{element}" if element else "")
    return RemittanceError(message, f"x835.{code}", where)


_ISA_LENGTH = 106


def _delimiters(text: str) -> _Delimiters:
    if not text.startswith("ISA"):
        raise _envelope_error("the file is not an X12 interchange: it does not start with ISA", "not_x12", 1)
    if len(text) < _ISA_LENGTH:
        raise _envelope_error("the interchange header (ISA) is truncated", "truncated", 1)
    element = text[3]
    parts = text[: _ISA_LENGTH - 1].split(element)
    segment = text[_ISA_LENGTH - 1]
    component = text[_ISA_LENGTH - 2]
    if len(parts) != 17 or len(parts[16]) != 1:
        raise _envelope_error(
            "the interchange header (ISA) does not have 16 fixed-length elements", "delimiters", 1
        )
    repetition = parts[11] if len(parts[11]) == 1 and not parts[11].isalnum() else None
    found = [element, component, segment] + ([repetition] if repetition else [])
    if len(set(found)) != len(found) or any(c.isalnum() or c == " " for c in found):
        raise _envelope_error(
            "the interchange delimiters are not distinct special characters", "delimiters", 1
        )
    return _Delimiters(element, component, segment, repetition)


def _segments(text: str, delimiters: _Delimiters) -> list[_Segment]:
    pieces = text.split(delimiters.segment)
    if pieces and not pieces[-1].strip():
        pieces.pop()
    else:
        raise _envelope_error(
            "the file does not end with a segment terminator (truncated?)", "truncated", len(pieces)
        )
    special = re.escape(delimiters.element + delimiters.component + delimiters.segment)
    all_plain = (
        re.search(f"[^\\x20-\\x7e\\r\\n{special}]", text) is None
    )  # the usual case: no check per segment
    found = []
    for n, piece in enumerate(pieces, 1):
        body = piece.strip("\r\n")
        elements = tuple(body.split(delimiters.element))
        if not body or not _SEGMENT_ID.fullmatch(elements[0]):
            raise _envelope_error("a segment has no valid segment id", "segment_id", n)
        plain = all_plain or all(
            (value := e.replace(delimiters.component, "")).isascii() and value.isprintable() for e in elements
        )
        found.append(_Segment(n, elements, plain))
    return found


def _ascii(segment: _Segment) -> bool:
    return segment.plain


def _whole(segment: _Segment, n: int, name: str) -> int:
    value = segment.get(n)
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise _envelope_error(f"{name} is not a count", "count", segment.position, name)
    return int(value)


class _Cursor:
    def __init__(self, segments: Sequence[_Segment]) -> None:
        self.segments = segments
        self.i = 0

    def peek(self) -> _Segment | None:
        return self.segments[self.i] if self.i < len(self.segments) else None

    def take(self) -> _Segment:
        segment = self.segments[self.i]
        self.i += 1
        return segment

    def expect(self, segment_id: str, what: str) -> _Segment:
        found = self.peek()
        if found is None or found.id != segment_id:
            position = found.position if found is not None else self._last() + 1
            raise _envelope_error(f"expected {what} ({segment_id})", "structure", position)
        return self.take()

    def _last(self) -> int:
        return self.segments[-1].position if self.segments else 0


def read_835(text: str | bytes) -> tuple[Remittance, ...]:
    """Read an 835 interchange: one :class:`Remittance` per transaction set.

    :raises RemittanceError: the file is not an X12 interchange, not an 835,
        or its envelope is broken (the ``field`` names the segment position).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _envelope_error("the file is not UTF-8 or ASCII text", "encoding", 1) from None
    if not isinstance(text, str):
        raise RemittanceError("an 835 is text or bytes", "value.type", "text")
    text = text.lstrip("\ufeff \t\r\n")
    delimiters = _delimiters(text)
    cursor = _Cursor(_segments(text, delimiters))
    for segment in cursor.segments:
        if segment.id in {"ISA", "GS", "ST", "SE", "GE", "IEA", "BPR", "TRN", "N1"} and not _ascii(segment):
            raise _envelope_error(
                "an envelope segment holds a character outside ASCII", "character", segment.position
            )
    isa = cursor.take()
    if isa.id != "ISA":  # pragma: no cover - _delimiters checked the start
        raise _envelope_error("expected the interchange header (ISA)", "structure", isa.position)
    if isa.get(12) != "00501":
        raise _envelope_error("the interchange is not version 00501", "version", 1, "ISA12")
    remittances: list[Remittance] = []
    groups = 0
    claim_counter = [0]
    while (nxt := cursor.peek()) is not None and nxt.id == "GS":
        groups += 1
        remittances.extend(_group(cursor, isa, delimiters, claim_counter))
    iea = cursor.expect("IEA", "the interchange trailer")
    if groups == 0:
        raise _envelope_error("the interchange holds no functional group (GS)", "structure", iea.position)
    if _whole(iea, 1, "IEA01") != groups:
        raise _envelope_error("IEA01 does not count the functional groups", "count", iea.position, "IEA01")
    if iea.get(2) != isa.get(13):
        raise _envelope_error(
            "IEA02 does not repeat the interchange control number", "control_number", iea.position, "IEA02"
        )
    if (extra := cursor.peek()) is not None:
        raise _envelope_error("a segment follows the interchange trailer (IEA)", "structure", extra.position)
    return tuple(remittances)


def _group(
    cursor: _Cursor, isa: _Segment, delimiters: _Delimiters, claim_counter: list[int]
) -> Iterator[Remittance]:
    gs = cursor.take()
    if gs.get(1) != "HP":
        raise _envelope_error(
            "the functional group is not a claim payment/advice (GS01 is not HP): not an 835",
            "not_835",
            gs.position,
            "GS01",
        )
    if not gs.get(8).startswith("005010X221"):
        raise _envelope_error("the functional group is not 005010X221A1", "version", gs.position, "GS08")
    count = 0
    while (nxt := cursor.peek()) is not None and nxt.id == "ST":
        count += 1
        yield _transaction(cursor, isa, gs, delimiters, claim_counter)
    ge = cursor.expect("GE", "the functional group trailer")
    if count == 0:
        raise _envelope_error("the functional group holds no transaction set (ST)", "structure", ge.position)
    if _whole(ge, 1, "GE01") != count:
        raise _envelope_error("GE01 does not count the transaction sets", "count", ge.position, "GE01")
    if ge.get(2) != gs.get(6):
        raise _envelope_error(
            "GE02 does not repeat the group control number", "control_number", ge.position, "GE02"
        )


def _transaction(
    cursor: _Cursor, isa: _Segment, gs: _Segment, delimiters: _Delimiters, claim_counter: list[int]
) -> Remittance:
    st = cursor.take()
    if st.get(1) != "835":
        raise _envelope_error("the transaction set is not an 835", "not_835", st.position, "ST01")
    start = cursor.i
    while (nxt := cursor.peek()) is not None and nxt.id not in {"SE", "ST", "GE", "GS", "IEA"}:
        cursor.take()
    body = cursor.segments[start : cursor.i]
    se = cursor.expect("SE", "the transaction set trailer")
    if _whole(se, 1, "SE01") != len(body) + 2:
        raise _envelope_error(
            "SE01 does not count the transaction set's segments", "count", se.position, "SE01"
        )
    if se.get(2) != st.get(2):
        raise _envelope_error(
            "SE02 does not repeat the transaction set control number", "control_number", se.position, "SE02"
        )
    return _Transaction(body, delimiters, claim_counter, se.position).read(isa, gs, st)


# -- values -----------------------------------------------------------------------------------


def _number(segment: _Segment, n: int, limit: Decimal, places: int | None) -> Decimal:
    text = segment.get(n)
    name = f"{segment.id}{n:02d}"
    if not _NUMBER.fullmatch(text) or len(text) - text.startswith("-") - ("." in text) > _MAX_DIGITS:
        raise _ClaimError(segment, "x835.number", f"{name} is not a number")
    value = Decimal(text)
    if abs(value) >= limit:
        raise _ClaimError(segment, "x835.number_range", f"{name} is out of range")
    if places is not None:
        quantized = value.quantize(_CENT)
        if quantized != value:
            raise _ClaimError(segment, "x835.number_precision", f"{name} has more than 2 decimal places")
        return quantized + 0
    return value


def _money(segment: _Segment, n: int) -> Decimal:
    return _number(segment, n, _MAX_AMOUNT, 2)


def _optional_money(segment: _Segment, n: int) -> Decimal | None:
    return _money(segment, n) if segment.get(n) else None


def _d8(segment: _Segment, n: int) -> date:
    text = segment.get(n)
    name = f"{segment.id}{n:02d}"
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise _ClaimError(segment, "x835.date", f"{name} is not a CCYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _ClaimError(segment, "x835.date", f"{name} is not a calendar date") from None


def _required(segment: _Segment, n: int, max_len: int) -> str:
    value = segment.get(n)
    name = f"{segment.id}{n:02d}"
    if not value.strip():
        raise _ClaimError(segment, "x835.required", f"{name} is required")
    if len(value) > max_len:
        raise _ClaimError(segment, "x835.too_long", f"{name} is longer than {max_len} characters")
    return value


def _adjustments(segment: _Segment) -> list[Adjustment]:
    group = segment.get(1)
    if group not in ADJUSTMENT_GROUPS:
        raise _ClaimError(segment, "x835.adjustment_group", "CAS01 is not a claim adjustment group code")
    if len(segment.elements) > 2 + 3 * _MAX_CAS_TRIPLES:
        raise _ClaimError(segment, "x835.elements", "CAS has more than 6 adjustments")
    found = []
    for k in range(_MAX_CAS_TRIPLES):
        reason_at = 2 + 3 * k
        reason = segment.get(reason_at)
        if not reason:
            if segment.get(reason_at + 1) or segment.get(reason_at + 2):
                raise _ClaimError(segment, "x835.adjustment_reason", "a CAS amount has no reason code")
            continue
        if not (1 <= len(reason) <= 5 and reason.isascii() and reason.isalnum()):
            raise _ClaimError(segment, "x835.adjustment_reason", "a CAS reason is not a CARC code")
        amount = _money(segment, reason_at + 1)
        quantity = (
            _number(segment, reason_at + 2, _MAX_QUANTITY, None) if segment.get(reason_at + 2) else None
        )
        found.append(
            Adjustment(group=AdjustmentGroup(group), reason=reason, amount=amount, quantity=quantity)
        )
    if not found:
        raise _ClaimError(segment, "x835.adjustment_reason", "a CAS segment carries no adjustment")
    return found


def _header(fn: Callable[..., T], *args: Any) -> T:
    """Read a header value: a problem there breaks the whole transaction set (RemittanceError)."""
    try:
        return fn(*args)
    except _ClaimError as exc:
        raise _envelope_error(exc.message, exc.code.removeprefix("x835."), exc.segment.position) from None


def _unexpected(segment: _Segment, where: str) -> _ClaimError:
    return _ClaimError(segment, "x835.unexpected_segment", f"a segment {segment.id} is not expected {where}")


class _Transaction:
    """The body of one transaction set (between ST and SE)."""

    def __init__(
        self, body: Sequence[_Segment], delimiters: _Delimiters, claim_counter: list[int], se_position: int
    ) -> None:
        self.cursor = _Cursor(body)
        self.delimiters = delimiters
        self.claim_counter = claim_counter
        self.se_position = se_position
        self.unread_paid: list[_UnreadClaim] = []
        """The paid amounts (CLP04) of the claims that could not be read, for the payment's balance."""
        self.unread_unknown = False
        """A claim whose CLP04 could not be read: the payment cannot be balanced."""

    def _expect(self, segment_id: str, qualifier: str | None, what: str) -> _Segment:
        found = self.cursor.peek()
        if found is None or found.id != segment_id or (qualifier is not None and found.get(1) != qualifier):
            position = found.position if found is not None else self.se_position
            raise _envelope_error(f"expected {what}", "structure", position)
        return self.cursor.take()

    def read(self, isa: _Segment, gs: _Segment, st: _Segment) -> Remittance:
        bpr = self._expect("BPR", None, "the financial information (BPR)")
        if bpr.get(1) not in HANDLING_CODES:
            raise _envelope_error(
                "BPR01 is not a transaction handling code", "payment", bpr.position, "BPR01"
            )
        if bpr.get(3) not in {"C", "D"}:
            raise _envelope_error("BPR03 is not C or D", "payment", bpr.position, "BPR03")
        if bpr.get(4) not in PAYMENT_METHODS:
            raise _envelope_error("BPR04 is not a payment method code", "payment", bpr.position, "BPR04")
        total = _header(_money, bpr, 2)
        paid_on = _header(_d8, bpr, 16)
        trn = self._expect("TRN", None, "the reassociation trace number (TRN)")
        if trn.get(1) != "1" or not trn.get(2) or not trn.get(3):
            raise _envelope_error("TRN needs TRN01 1, a trace number and a payer id", "trace", trn.position)
        production: date | None = None
        while (nxt := self.cursor.peek()) is not None and nxt.id in {"CUR", "REF", "DTM"}:
            seg = self.cursor.take()
            if seg.id == "DTM" and seg.get(1) == "405":
                production = _header(_d8, seg, 2)
        payer = self._expect("N1", "PR", "the payer (N1*PR)")
        payer_id = payer.get(4)
        while (nxt := self.cursor.peek()) is not None and nxt.id in {"N3", "N4", "REF", "PER"}:
            seg = self.cursor.take()
            if seg.id == "REF" and seg.get(1) == "2U" and not payer_id:
                payer_id = seg.get(2)
        payee = self._expect("N1", "PE", "the payee (N1*PE)")
        while (nxt := self.cursor.peek()) is not None and nxt.id in {"N3", "N4", "REF", "RDM"}:
            self.cursor.take()
        claims, problems = self._detail()
        adjustments = self._footer()
        self._balance_payment(bpr, total, claims, adjustments)
        return Remittance(
            sender_id=isa.get(6).strip(),
            receiver_id=isa.get(8).strip(),
            interchange_control_number=isa.get(13),
            usage=isa.get(15),
            group_control_number=gs.get(6),
            transaction_control_number=st.get(2),
            handling_code=bpr.get(1),
            total_paid=total,
            credit_debit=bpr.get(3),
            method=bpr.get(4),
            payment_date=paid_on,
            trace_number=trn.get(2),
            payer_identifier=trn.get(3),
            payer_name=payer.get(2),
            payer_id=payer_id,
            payee_name=payee.get(2),
            payee_id_qualifier=payee.get(3),
            payee_id=payee.get(4),
            production_date=production,
            claims=tuple(claims),
            provider_adjustments=tuple(adjustments),
            problems=tuple(problems),
        )

    def _balance_payment(
        self,
        bpr: _Segment,
        total: Decimal,
        claims: list[ClaimPayment],
        adjustments: list[ProviderAdjustment],
    ) -> None:
        paid = sum((c.paid for c in claims), _ZERO) + sum((p.paid for p in self.unread_paid), _ZERO)
        if self.unread_unknown:
            return
        expected = paid - sum((a.amount for a in adjustments), _ZERO)
        signed = total if bpr.get(3) == "C" else -total
        if signed != expected:
            raise _envelope_error(
                "the payment (BPR02) is not the claims' paid amounts less the provider adjustments",
                "unbalanced_payment",
                bpr.position,
                "BPR02",
            )

    def _detail(self) -> tuple[list[ClaimPayment], list[ClaimProblem]]:
        claims: list[ClaimPayment] = []
        problems: list[ClaimProblem] = []
        while (nxt := self.cursor.peek()) is not None and nxt.id in {"LX", "TS3", "TS2", "CLP"}:
            if nxt.id != "CLP":
                self.cursor.take()
                continue
            start = self.cursor.i
            self.cursor.take()
            while (seg := self.cursor.peek()) is not None and seg.id not in {"CLP", "LX", "PLB"}:
                self.cursor.take()
            loop = self.cursor.segments[start : self.cursor.i]
            self.claim_counter[0] += 1
            position = self.claim_counter[0]
            try:
                claims.append(_claim(loop, position, self.delimiters))
            except _ClaimError as exc:
                clp = loop[0]
                pcn = clp.get(1) if clp.get(1) and _ascii(clp) and len(clp.get(1)) <= 38 else None
                problems.append(
                    ClaimProblem(
                        claim=position,
                        segment=exc.segment.position,
                        code=exc.code,
                        message=exc.message,
                        patient_control_number=pcn,
                    )
                )
                try:
                    self.unread_paid.append(_UnreadClaim(_money(clp, 4)))
                except _ClaimError:
                    self.unread_unknown = True
        return claims, problems

    def _footer(self) -> list[ProviderAdjustment]:
        found: list[ProviderAdjustment] = []
        while (seg := self.cursor.peek()) is not None:
            if seg.id != "PLB":
                raise _envelope_error(f"a segment {seg.id} is not expected here", "structure", seg.position)
            self.cursor.take()
            found.extend(_header(_plb, seg, self.delimiters))
        return found


@attrs.frozen
class _UnreadClaim:
    paid: Decimal


def _plb(segment: _Segment, delimiters: _Delimiters) -> list[ProviderAdjustment]:
    provider = _required(segment, 1, 50)
    period = _d8(segment, 2)
    found = []
    for k in range(6):
        at = 3 + 2 * k
        composite = segment.get(at)
        if not composite:
            if segment.get(at + 1):
                raise _ClaimError(segment, "x835.plb", "a PLB amount has no reason")
            continue
        reason, _, reference = composite.partition(delimiters.component)
        if not (2 <= len(reason) <= 2 and reason.isascii() and reason.isalnum()):
            raise _ClaimError(segment, "x835.plb", "a PLB reason is not an adjustment reason code")
        found.append(
            ProviderAdjustment(
                provider_id=provider,
                fiscal_period_end=period,
                reason=reason,
                reference=reference,
                amount=_money(segment, at + 1),
            )
        )
    if not found:
        raise _ClaimError(segment, "x835.plb", "a PLB segment carries no adjustment")
    return found


def _claim(loop: Sequence[_Segment], position: int, delimiters: _Delimiters) -> ClaimPayment:
    clp = loop[0]
    for segment in loop:
        if not _ascii(segment):
            raise _ClaimError(segment, "x835.character", "a segment holds a character outside ASCII")
    try:
        pcn = _required(clp, 1, 38)
        status = clp.get(2)
        if status not in CLAIM_STATUS_CODES:
            raise _ClaimError(clp, "x835.claim_status", "CLP02 is not a claim status code")
        charge = _money(clp, 3)
        paid = _money(clp, 4)
        responsibility = _optional_money(clp, 5)
        filing = _required(clp, 6, 2)
        payer_claim_number = _required(clp, 7, 50)
    except _ClaimError as exc:
        raise _ClaimError(
            exc.segment, "x835.clp" if exc.code != "x835.claim_status" else exc.code, exc.message
        ) from None
    adjustments: list[Adjustment] = []
    names: tuple[str, str] | None = None
    dates: dict[str, date] = {}
    i = 1
    while i < len(loop) and loop[i].id != "SVC":
        segment = loop[i]
        i += 1
        if segment.id not in _CLAIM_SEGMENTS:
            raise _unexpected(segment, "in a claim payment")
        if segment.id == "CAS":
            adjustments.extend(_adjustments(segment))
        elif segment.id == "NM1" and segment.get(1) == "QC":
            if names is not None:
                raise _ClaimError(segment, "x835.patient", "a claim payment has two patients (NM1*QC)")
            names = (segment.get(3), segment.get(4))
        elif segment.id == "DTM":
            dates[segment.get(1)] = _d8(segment, 2)
    if names is None:
        raise _ClaimError(clp, "x835.patient", "a claim payment has no patient (NM1*QC)")
    services = []
    while i < len(loop):
        svc = loop[i]
        i += 1
        if svc.id != "SVC":  # pragma: no cover - the loop above stops at SVC, the one below too
            raise _unexpected(svc, "in a claim payment")
        lines = []
        while i < len(loop) and loop[i].id != "SVC":
            if loop[i].id not in _LINE_SEGMENTS:
                raise _unexpected(loop[i], "in a service line")
            lines.append(loop[i])
            i += 1
        services.append(_service(svc, lines, delimiters))
    claim = ClaimPayment(
        position=position,
        patient_control_number=pcn,
        status_code=status,
        charge=charge,
        paid=paid,
        patient_responsibility=responsibility,
        filing_indicator=filing,
        payer_claim_number=payer_claim_number,
        adjustments=tuple(adjustments),
        services=tuple(services),
        patient_last_name=names[0],
        patient_first_name=names[1],
        statement_from=dates.get("232"),
        statement_to=dates.get("233"),
        received_on=dates.get("050"),
    )
    _balance_claim(clp, claim)
    return claim


def _service(svc: _Segment, lines: Sequence[_Segment], delimiters: _Delimiters) -> ServicePayment:
    composite = svc.get(1).split(delimiters.component)
    qualifier = composite[0]
    if qualifier not in PRODUCT_QUALIFIERS:
        raise _ClaimError(svc, "x835.procedure", "SVC01-1 is not a product or service id qualifier")
    code = composite[1] if len(composite) > 1 else ""
    if not (1 <= len(code) <= 48) or not code.isalnum():
        raise _ClaimError(svc, "x835.procedure", "SVC01-2 is not a procedure code")
    modifiers = tuple(m for m in composite[2:6] if m)
    if any(len(m) != 2 or not m.isalnum() for m in modifiers):
        raise _ClaimError(svc, "x835.procedure", "an SVC01 modifier is not 2 letters or digits")
    charge = _money(svc, 2)
    paid = _money(svc, 3)
    units = _number(svc, 5, _MAX_QUANTITY, None) if svc.get(5) else None
    adjustments: list[Adjustment] = []
    day: date | None = None
    control: str | None = None
    allowed: Decimal | None = None
    for segment in lines:
        if segment.id == "CAS":
            adjustments.extend(_adjustments(segment))
        elif segment.id == "DTM" and segment.get(1) in {"472", "150"}:
            day = _d8(segment, 2)
        elif segment.id == "REF" and segment.get(1) == "6R":
            control = _required(segment, 2, 50)
        elif segment.id == "AMT" and segment.get(1) == "B6":
            allowed = _money(segment, 2)
    service = ServicePayment(
        qualifier=qualifier,
        code=code,
        modifiers=modifiers,
        charge=charge,
        paid=paid,
        units=units,
        date_of_service=day,
        line_control_number=control,
        allowed=allowed,
        adjustments=tuple(adjustments),
    )
    if charge - paid != service.adjusted:
        raise _ClaimError(
            svc, "x835.unbalanced_line", "a service line's charge less its payment is not its adjustments"
        )
    return service


def _balance_claim(clp: _Segment, claim: ClaimPayment) -> None:
    claim_adjusted = sum((a.amount for a in claim.adjustments), _ZERO)
    if claim.services:
        lines_paid = sum((s.paid for s in claim.services), _ZERO)
        if claim.paid != lines_paid - claim_adjusted:
            raise _ClaimError(
                clp,
                "x835.unbalanced_claim",
                "the claim's payment (CLP04) is not its lines' payments less the claim adjustments",
            )
    elif claim.charge - claim.paid != claim_adjusted:
        raise _ClaimError(
            clp, "x835.unbalanced_claim", "the claim's charge less its payment is not its adjustments"
        )


# -- pyx12 ------------------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def validate_with_pyx12(text: str) -> bool:
    """Whether pyx12 (the ``x12`` extra, Python 3.11+) accepts ``text`` as an 835: no error at all.

    pyx12 4.0 cannot write a 999 acknowledgement for an 835 (it takes the
    version from ``ST03``, which the 835 guide does not use), so the verdict
    is its return value and the absence of errors in its log. pyx12's own
    messages go to the ``pyx12`` logger and may quote the file: keep that
    logger away from shared logs.

    :raises sessionkit._extras.MissingExtra: pyx12 is not installed.
    """
    require("x12", "validating an 835 with pyx12")
    import pyx12.params  # noqa: PLC0415 (optional extra)
    import pyx12.x12n_document  # noqa: PLC0415

    capture = _Capture()
    logger = logging.getLogger("pyx12")
    logger.addHandler(capture)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_xmldoc=None
        )
    except Exception:  # pyx12 raises its own errors on input it cannot parse at all
        return False
    finally:
        logger.removeHandler(capture)
    return bool(valid) and capture.count == 0
