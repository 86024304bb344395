"""The client session: one billable service on a date."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.codes import hcpcs
from sessionkit.domain import _checks
from sessionkit.domain.values import (
    _ONE,
    OFFICE,
    ORIGINAL,
    AddOnLine,
    BillTo,
    DiagnosisCode,
    InsuranceOverrides,
    Modifier,
    PlaceOfService,
    ReferringProvider,
    Resubmission,
    _charge,
    _modifiers,
    _paid_at_session,
    _place_of_service,
    _units,
)
from sessionkit.errors import InvalidType, InvalidValue, SessionkitError
from sessionkit.money import Money, MoneyLike

__all__ = ["ClientSession", "SessionStatus", "new_id"]

MAX_DIAGNOSES = 4
"""Primary plus 3 additional diagnoses (a claim line points to at most 4)."""
MAX_ADD_ONS = 4
LINE_NOTE_MAX = 80


class SessionStatus(str, enum.Enum):
    """Where a session is in its life."""

    OPEN = "open"
    """Saved; paid-at-session may still change."""
    EOB_POSTED = "eob_posted"
    """An insurance EOB was posted: paid-at-session is locked."""


_MAX_VERSION = 2**62


def _check_text(value: object, field: str, max_len: int) -> None:
    if type(value) is not str or not value.strip() or len(value) > max_len:
        _checks.text(value, field, required=True, max_len=max_len)


def new_id() -> str:
    """A fresh random identifier."""
    return uuid.uuid4().hex


_DX: dict[str | DiagnosisCode, DiagnosisCode] = {}
_CACHE_MAX = 4096
_HCPCS_OK: dict[str, str] = {}
_DX_LOOKUP = _DX.__getitem__


def _billing_code(value: str) -> str:
    # Valid codes are cached: a practice bills a handful of codes over and over.
    code = _HCPCS_OK.get(value) if type(value) is str else None
    if code is None:
        code = _checks.normalise(hcpcs.validate, value, "billing_code")
        if len(_HCPCS_OK) < _CACHE_MAX:
            _HCPCS_OK[value] = code
    return code


def _diagnoses(values: Iterable[DiagnosisCode | str]) -> tuple[DiagnosisCode, ...]:
    if not values:
        if values is None:
            raise InvalidType("diagnoses must be a sequence of codes", "value.type", "diagnoses")
        return ()
    if isinstance(values, str):
        raise InvalidType("diagnoses must be a sequence of codes", "value.type", "diagnoses")
    if type(values) is tuple and len(values) <= MAX_DIAGNOSES:
        # Fast path: every element already a DiagnosisCode, or a string seen before.
        try:
            return tuple(map(_DX_LOOKUP, values))
        except (KeyError, TypeError):
            pass
    out = []
    for i, value in enumerate(values):
        if type(value) is DiagnosisCode:
            out.append(value)
            continue
        cached = _DX.get(value) if type(value) is str else None
        if cached is None:
            try:
                cached = DiagnosisCode.of(value)
            except SessionkitError as exc:
                raise exc.at(f"diagnoses[{i}]") from None
            if type(value) is str and len(_DX) < _CACHE_MAX:
                _DX[value] = cached
                _DX[cached] = cached
        out.append(cached)
    result = tuple(out)
    _checks.count(result, "diagnoses", MAX_DIAGNOSES)
    return result


def _add_ons(values: Iterable[AddOnLine]) -> tuple[AddOnLine, ...]:
    if values == ():
        return ()
    if values is None:
        raise InvalidType("add_ons must be a sequence of add-on lines", "value.type", "add_ons")
    result = tuple(values)
    for i, value in enumerate(result):
        _checks.instance(value, AddOnLine, f"add_ons[{i}]")
    _checks.count(result, "add_ons", MAX_ADD_ONS)
    return result


def _dates(values: Iterable[date]) -> tuple[date, ...]:
    if values == ():
        return ()
    if values is None:
        raise InvalidType("additional_dates must be a sequence of dates", "value.type", "additional_dates")
    result = tuple(values)
    for i, value in enumerate(result):
        _checks.a_date(value, f"additional_dates[{i}]")
    if len(set(result)) != len(result):
        raise InvalidValue("additional_dates has a date twice", "session.dates_repeated", "additional_dates")
    return result


def _bill_to(value: BillTo | str) -> BillTo:
    if type(value) is BillTo:
        return value
    try:
        return BillTo(value)
    except ValueError:
        raise InvalidValue("bill_to must be automatic or client", "session.bill_to", "bill_to") from None


def _status(value: SessionStatus | str) -> SessionStatus:
    if type(value) is SessionStatus:
        return value
    try:
        return SessionStatus(value)
    except ValueError:
        raise InvalidValue("status is not a known status", "session.status", "status") from None


_NO_DATES: tuple[date, ...] = ()
_ZERO = Money(0)


@attrs.frozen(kw_only=True, init=False)
class ClientSession:
    """One billable service for a client on a date: what the entry screen saves.

    Valid by construction: codes are well formed, at most 4 diagnoses,
    modifiers and add-ons, a line note of at most 80 characters. Whether the
    session can go on a claim is a separate question, answered by
    :mod:`sessionkit.readiness`.

    >>> from datetime import date
    >>> s = ClientSession(client_id="c1", date_of_service=date(2026, 3, 2),
    ...                   billing_code="90834", minutes=45, charge="140.00",
    ...                   diagnoses=["F41.1"], modifiers=["95"], place_of_service="10")
    >>> s.charge, s.diagnoses[0].code, s.place_of_service.is_telehealth
    (Money('140.00'), 'F41.1', True)
    """

    # ClientSession is the hot object (a practice holds hundreds of thousands),
    # so its __init__ is written by hand: one pass with fast paths for values
    # that are already normalised, instead of one converter and one validator
    # call per field. The field declarations below still give attrs (and so
    # evolve, cattrs and hypothesis) the names, types and defaults.
    id: str = attrs.field(factory=new_id)
    client_id: str
    date_of_service: date
    additional_dates: tuple[date, ...] = _NO_DATES
    billing_code: str = attrs.field(metadata={"sessionkit.convert": _billing_code})
    minutes: int | None = None
    units: Decimal = _ONE
    charge: Money
    diagnoses: tuple[DiagnosisCode, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    place_of_service: PlaceOfService = OFFICE
    bill_to: BillTo = BillTo.AUTOMATIC
    paid_at_session: Money = _ZERO
    referring_provider: ReferringProvider | None = None
    line_note: str = ""
    resubmission: Resubmission = ORIGINAL
    overrides: InsuranceOverrides | None = None
    comments: str = ""
    add_ons: tuple[AddOnLine, ...] = ()
    appointment_key: str | None = None
    status: SessionStatus = SessionStatus.OPEN
    version: int = 0

    def __init__(
        self,
        *,
        id: str | None = None,
        client_id: str,
        date_of_service: date,
        additional_dates: Iterable[date] = _NO_DATES,
        billing_code: str,
        minutes: int | None = None,
        units: Decimal | int | str = _ONE,
        charge: MoneyLike,
        diagnoses: Iterable[DiagnosisCode | str] = (),
        modifiers: Iterable[Modifier | str] = (),
        place_of_service: PlaceOfService | str = OFFICE,
        bill_to: BillTo | str = BillTo.AUTOMATIC,
        paid_at_session: MoneyLike = _ZERO,
        referring_provider: ReferringProvider | None = None,
        line_note: str = "",
        resubmission: Resubmission = ORIGINAL,
        overrides: InsuranceOverrides | None = None,
        comments: str = "",
        add_ons: Iterable[AddOnLine] = (),
        appointment_key: str | None = None,
        status: SessionStatus | str = SessionStatus.OPEN,
        version: int = 0,
    ) -> None:
        set_ = object.__setattr__
        if id is None:
            id = new_id()
        _check_text(id, "id", 64)
        set_(self, "id", id)
        _check_text(client_id, "client_id", 64)
        set_(self, "client_id", client_id)
        if type(date_of_service) is not date:
            _checks.a_date(date_of_service, "date_of_service")
        set_(self, "date_of_service", date_of_service)
        dates = _dates(additional_dates)
        if dates and date_of_service in dates:
            raise InvalidValue(
                "additional_dates repeats the date of service", "session.dates_repeated", "additional_dates"
            )
        set_(self, "additional_dates", dates)
        set_(self, "billing_code", _billing_code(billing_code))
        if minutes is not None and (type(minutes) is not int or not 0 <= minutes <= 1440):
            _checks.whole(minutes, "minutes", low=0, high=1440)
        set_(self, "minutes", minutes)
        set_(self, "units", units if units is _ONE else _units(units))
        set_(self, "charge", charge if type(charge) is Money else _charge(charge))
        set_(self, "diagnoses", _diagnoses(diagnoses))
        set_(self, "modifiers", _modifiers(modifiers))
        set_(
            self,
            "place_of_service",
            place_of_service
            if type(place_of_service) is PlaceOfService
            else _place_of_service(place_of_service),
        )
        set_(self, "bill_to", bill_to if type(bill_to) is BillTo else _bill_to(bill_to))
        set_(
            self,
            "paid_at_session",
            paid_at_session if type(paid_at_session) is Money else _paid_at_session(paid_at_session),
        )
        if referring_provider is not None:
            _checks.instance(referring_provider, ReferringProvider, "referring_provider")
        set_(self, "referring_provider", referring_provider)
        if type(line_note) is not str or len(line_note) > LINE_NOTE_MAX:
            _checks.text(line_note, "line_note", max_len=LINE_NOTE_MAX)
        set_(self, "line_note", line_note)
        if type(resubmission) is not Resubmission:
            _checks.instance(resubmission, Resubmission, "resubmission")
        set_(self, "resubmission", resubmission)
        if overrides is not None:
            _checks.instance(overrides, InsuranceOverrides, "overrides")
        set_(self, "overrides", overrides)
        if type(comments) is not str or len(comments) > 10_000:
            _checks.text(comments, "comments", max_len=10_000)
        set_(self, "comments", comments)
        set_(self, "add_ons", _add_ons(add_ons))
        if appointment_key is not None:
            _checks.text(appointment_key, "appointment_key", required=True, max_len=1_000)
        set_(self, "appointment_key", appointment_key)
        set_(self, "status", status if type(status) is SessionStatus else _status(status))
        if type(version) is not int or not 0 <= version <= _MAX_VERSION:
            _checks.whole(version, "version", low=0, high=_MAX_VERSION)
        set_(self, "version", version)

    @property
    def primary_diagnosis(self) -> DiagnosisCode | None:
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def dates(self) -> tuple[date, ...]:
        """The date of service followed by the additional dates: one claim line each."""
        return (self.date_of_service, *self.additional_dates)

    @property
    def locked(self) -> bool:
        """True once an insurance EOB is posted: paid-at-session can no longer change."""
        return self.status is SessionStatus.EOB_POSTED

    @property
    def total_charge(self) -> Money:
        """Charge of every line: the session on each of its dates plus its add-ons."""
        total = self.charge.amount * len(self.dates) + sum(
            (a.charge.amount for a in self.add_ons), Decimal(0)
        )
        return Money(total)

    def _repr_html_(self) -> str:
        """The session as an HTML field/value table (Jupyter display)."""
        from sessionkit._html import session_html  # noqa: PLC0415 (the domain stays free of display code)

        return session_html(self)
