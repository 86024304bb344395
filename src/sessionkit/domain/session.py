"""The client session: one billable service on a date."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.domain import _checks
from sessionkit.domain.values import (
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
    _hcpcs,
    _modifiers,
    _paid_at_session,
    _place_of_service,
    _units,
)
from sessionkit.errors import InvalidValue, SessionkitError
from sessionkit.money import Money

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


def new_id() -> str:
    """A fresh random identifier."""
    return uuid.uuid4().hex


def _session_id(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _checks.text(value, attribute.name, required=True, max_len=64)


def _diagnoses(values: Iterable[DiagnosisCode | str]) -> tuple[DiagnosisCode, ...]:
    if isinstance(values, str):
        raise InvalidValue("diagnoses must be a sequence of codes", "value.type", "diagnoses")
    out = []
    for i, value in enumerate(values):
        try:
            out.append(DiagnosisCode.of(value))
        except SessionkitError as exc:
            raise exc.at(f"diagnoses[{i}]") from None
    result = tuple(out)
    _checks.count(result, "diagnoses", MAX_DIAGNOSES)
    return result


def _add_ons(values: Iterable[AddOnLine]) -> tuple[AddOnLine, ...]:
    result = tuple(values)
    for i, value in enumerate(result):
        _checks.instance(value, AddOnLine, f"add_ons[{i}]")
    _checks.count(result, "add_ons", MAX_ADD_ONS)
    return result


def _dates(values: Iterable[date]) -> tuple[date, ...]:
    result = tuple(values)
    for i, value in enumerate(result):
        _checks.a_date(value, f"additional_dates[{i}]")
    if len(set(result)) != len(result):
        raise InvalidValue("additional_dates has a date twice", "session.dates_repeated", "additional_dates")
    return result


def _bill_to(value: BillTo | str) -> BillTo:
    try:
        return BillTo(value)
    except ValueError:
        raise InvalidValue("bill_to must be automatic or client", "session.bill_to", "bill_to") from None


def _status(value: SessionStatus | str) -> SessionStatus:
    try:
        return SessionStatus(value)
    except ValueError:
        raise InvalidValue("status is not a known status", "session.status", "status") from None


@attrs.frozen(kw_only=True)
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

    id: str = attrs.field(factory=new_id, validator=_session_id)
    client_id: str = attrs.field(validator=_session_id)
    date_of_service: date = attrs.field()
    additional_dates: tuple[date, ...] = attrs.field(default=(), converter=_dates)
    billing_code: str = attrs.field(converter=_hcpcs)
    minutes: int | None = attrs.field(default=None)
    units: Decimal = attrs.field(default=Decimal(1), converter=_units)
    charge: Money = attrs.field(converter=_charge)
    diagnoses: tuple[DiagnosisCode, ...] = attrs.field(default=(), converter=_diagnoses)
    modifiers: tuple[Modifier, ...] = attrs.field(default=(), converter=_modifiers)
    place_of_service: PlaceOfService = attrs.field(default=OFFICE, converter=_place_of_service)
    bill_to: BillTo = attrs.field(default=BillTo.AUTOMATIC, converter=_bill_to)
    paid_at_session: Money = attrs.field(default=Money(0), converter=_paid_at_session)
    referring_provider: ReferringProvider | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(ReferringProvider))
    )
    line_note: str = attrs.field(default="")
    resubmission: Resubmission = attrs.field(
        default=ORIGINAL, validator=attrs.validators.instance_of(Resubmission)
    )
    overrides: InsuranceOverrides | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(InsuranceOverrides))
    )
    comments: str = attrs.field(default="")
    add_ons: tuple[AddOnLine, ...] = attrs.field(default=(), converter=_add_ons)
    appointment_key: str | None = attrs.field(default=None)
    status: SessionStatus = attrs.field(default=SessionStatus.OPEN, converter=_status)
    version: int = attrs.field(default=0)

    @date_of_service.validator
    def _check_dos(self, attribute: attrs.Attribute[date], value: date) -> None:
        _checks.a_date(value, "date_of_service")
        if value in self.additional_dates:
            raise InvalidValue(
                "additional_dates repeats the date of service", "session.dates_repeated", "additional_dates"
            )

    @minutes.validator
    def _check_minutes(self, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None:
            _checks.whole(value, "minutes", low=0, high=1440)

    @line_note.validator
    def _check_line_note(self, attribute: attrs.Attribute[str], value: str) -> None:
        _checks.text(value, "line_note", max_len=LINE_NOTE_MAX)

    @comments.validator
    def _check_comments(self, attribute: attrs.Attribute[str], value: str) -> None:
        _checks.text(value, "comments", max_len=10_000)

    @appointment_key.validator
    def _check_key(self, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None:
            _checks.text(value, "appointment_key", required=True, max_len=1_000)

    @version.validator
    def _check_version(self, attribute: attrs.Attribute[int], value: int) -> None:
        _checks.whole(value, "version", low=0, high=2**62)

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
