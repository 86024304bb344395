"""The client session: one billable service on a date."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from sessionkit.domain import _checks
from sessionkit.domain.values import (
    _HCPCS_OK,
    _ONE,
    _POS,
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
    _cached_hcpcs,
    _charge,
    _code_tuple,
    _modifiers,
    _paid_at_session,
    _place_of_service,
    _units,
)
from sessionkit.errors import InvalidValue, SessionLocked
from sessionkit.money import _CACHE as _MONEY
from sessionkit.money import Money, MoneyLike

__all__ = ["ClientSession", "SessionStatus", "new_id", "refuse_locked_change", "with_version"]

MAX_DIAGNOSES = 4
"""Primary plus 3 additional diagnoses (a claim line points to at most 4)."""
MAX_ADD_ONS = 4
MAX_MODIFIERS = 4
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
    """A fresh random identifier: a version-4 UUID as 32 hex digits (``uuid.uuid4().hex``).

    >>> import uuid
    >>> uuid.UUID(new_id()).version
    4
    """
    # The bits uuid.uuid4() sets, without building a UUID object (four
    # times faster; every new session takes one).
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


_DX: dict[str, DiagnosisCode] = {}
_CACHE_MAX = 4096
_DX_TUPLES: dict[tuple[object, ...], tuple[DiagnosisCode, ...]] = {(): ()}
_MOD_TUPLES: dict[tuple[object, ...], tuple[Modifier, ...]] = {(): ()}


def _billing_code(value: str) -> str:
    return _cached_hcpcs(value, "billing_code")


def _diagnoses(values: Iterable[DiagnosisCode | str]) -> tuple[DiagnosisCode, ...]:
    return () if values == () else _code_tuple(values, DiagnosisCode.of, _DX, "diagnoses", MAX_DIAGNOSES)


def _add_ons(values: Iterable[AddOnLine]) -> tuple[AddOnLine, ...]:
    if values == ():
        return ()
    result = _checks.sequence(values, "add_ons", "add-on lines")
    for i, value in enumerate(result):
        _checks.instance(value, AddOnLine, f"add_ons[{i}]")
    _checks.count(result, "add_ons", MAX_ADD_ONS)
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
        (
            set_id, set_client_id, set_date_of_service, set_billing_code,
            set_minutes, set_units, set_charge, set_diagnoses, set_modifiers, set_place_of_service,
            set_bill_to, set_paid_at_session, set_referring_provider, set_line_note, set_resubmission,
            set_overrides, set_comments, set_add_ons, set_appointment_key, set_status, set_version,
        ) = _SETTERS  # fmt: skip
        # Each "if" below is the fast path for an already-good value; the call
        # inside it raises the specific error (or normalises) otherwise.
        if id is None:
            id = new_id()
        if type(id) is not str or not id or len(id) > 64 or id.isspace():
            _checks.text(id, "id", required=True, max_len=64)
        set_id(self, id)
        if type(client_id) is not str or not client_id or len(client_id) > 64 or client_id.isspace():
            _checks.text(client_id, "client_id", required=True, max_len=64)
        set_client_id(self, client_id)
        if type(date_of_service) is not date:
            _checks.a_date(date_of_service, "date_of_service")
        set_date_of_service(self, date_of_service)
        code = _HCPCS_OK.get(billing_code) if type(billing_code) is str else None
        set_billing_code(self, code if code is not None else _billing_code(billing_code))
        if minutes is not None and (type(minutes) is not int or not 0 <= minutes <= 1440):
            _checks.whole(minutes, "minutes", low=0, high=1440)
        set_minutes(self, minutes)
        set_units(self, units if units is _ONE else _units(units))
        if type(charge) is not Money:
            cached = _MONEY.get(charge) if type(charge) is str else None
            charge = cached if cached is not None else _charge(charge)
        set_charge(self, charge)
        # Whole tuples of codes are cached too: sessions share the same few
        # diagnosis lists, and a shared tuple costs no allocation.
        try:
            dx = _DX_TUPLES.get(diagnoses) if type(diagnoses) is tuple else None
        except TypeError:  # an unhashable element: the slow path names it
            dx = None
        if (
            dx is None
            and type(diagnoses) is tuple
            and 0 < len(diagnoses) <= MAX_DIAGNOSES
            and all(type(x) is DiagnosisCode for x in diagnoses)
        ):
            dx = diagnoses  # another session's diagnoses, say: already code objects
        if dx is None:
            dx = _diagnoses(diagnoses)
            if (
                type(diagnoses) is tuple
                and len(_DX_TUPLES) < _CACHE_MAX
                and all(type(x) is str for x in diagnoses)
            ):
                _DX_TUPLES[diagnoses] = dx
        set_diagnoses(self, dx)
        try:
            mods = _MOD_TUPLES.get(modifiers) if type(modifiers) is tuple else None
        except TypeError:  # an unhashable element: the slow path names it
            mods = None
        if mods is None:
            mods = _modifiers(modifiers)
            if (
                type(modifiers) is tuple
                and len(_MOD_TUPLES) < _CACHE_MAX
                and all(type(x) is str for x in modifiers)
            ):
                _MOD_TUPLES[modifiers] = mods
        set_modifiers(self, mods)
        if type(place_of_service) is not PlaceOfService:
            cached_pos = _POS.get(place_of_service) if type(place_of_service) is str else None
            place_of_service = cached_pos if cached_pos is not None else _place_of_service(place_of_service)
        set_place_of_service(self, place_of_service)
        set_bill_to(self, bill_to if type(bill_to) is BillTo else _bill_to(bill_to))
        if type(paid_at_session) is not Money:
            cached = _MONEY.get(paid_at_session) if type(paid_at_session) is str else None
            paid_at_session = cached if cached is not None else _paid_at_session(paid_at_session)
        set_paid_at_session(self, paid_at_session)
        if referring_provider is not None and type(referring_provider) is not ReferringProvider:
            _checks.instance(referring_provider, ReferringProvider, "referring_provider")
        set_referring_provider(self, referring_provider)
        if type(line_note) is not str or len(line_note) > LINE_NOTE_MAX:
            _checks.text(line_note, "line_note", max_len=LINE_NOTE_MAX)
        set_line_note(self, line_note)
        if type(resubmission) is not Resubmission:
            _checks.instance(resubmission, Resubmission, "resubmission")
        set_resubmission(self, resubmission)
        if overrides is not None and type(overrides) is not InsuranceOverrides:
            _checks.instance(overrides, InsuranceOverrides, "overrides")
        set_overrides(self, overrides)
        if type(comments) is not str or len(comments) > 10_000:
            _checks.text(comments, "comments", max_len=10_000)
        set_comments(self, comments)
        set_add_ons(self, () if add_ons == () else _add_ons(add_ons))
        if appointment_key is not None and (
            type(appointment_key) is not str
            or not appointment_key
            or len(appointment_key) > 1_000
            or appointment_key.isspace()
        ):
            _checks.text(appointment_key, "appointment_key", required=True, max_len=1_000)
        set_appointment_key(self, appointment_key)
        set_status(self, status if type(status) is SessionStatus else _status(status))
        if type(version) is not int or not 0 <= version <= _MAX_VERSION:
            _checks.whole(version, "version", low=0, high=_MAX_VERSION)
        set_version(self, version)

    @property
    def primary_diagnosis(self) -> DiagnosisCode | None:
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def locked(self) -> bool:
        """True once an insurance EOB is posted: paid-at-session can no longer change."""
        return self.status is SessionStatus.EOB_POSTED

    @property
    def total_charge(self) -> Money:
        """Charge of every line: the service plus its add-ons."""
        if not self.add_ons:
            return self.charge
        return Money(self.charge.amount + sum((a.charge.amount for a in self.add_ons), Decimal(0)))

    def _repr_html_(self) -> str:
        """The session as an HTML field/value table (Jupyter display)."""
        from sessionkit._html import session_html  # noqa: PLC0415 (the domain stays free of display code)

        return session_html(self)


# The slot descriptors' setters, in field order: setting a slot through its
# descriptor is about twice as fast as object.__setattr__ (ClientSession is
# frozen, so plain assignment is refused).
_SETTERS = tuple(ClientSession.__dict__[a.name].__set__ for a in attrs.fields(ClientSession))


def with_version(session: ClientSession, version: int) -> ClientSession:
    """A copy of ``session`` with another version: what a repository stores on save.

    The same as ``attrs.evolve(session, version=version)`` but without
    validating again the fields that were valid already (adapters save many
    sessions at once).
    """
    if type(session) is not ClientSession:
        return attrs.evolve(session, version=version)
    if type(version) is not int or not 0 <= version <= _MAX_VERSION:
        _checks.whole(version, "version", low=0, high=_MAX_VERSION)
    (
        set_id, set_client_id, set_date_of_service, set_billing_code,
        set_minutes, set_units, set_charge, set_diagnoses, set_modifiers, set_place_of_service,
        set_bill_to, set_paid_at_session, set_referring_provider, set_line_note, set_resubmission,
        set_overrides, set_comments, set_add_ons, set_appointment_key, set_status, set_version,
    ) = _SETTERS  # fmt: skip
    # Straight-line slot copies, in field order (a loop over the fields costs
    # three times as much); a test checks that every field is copied.
    copy = object.__new__(ClientSession)
    set_id(copy, session.id)
    set_client_id(copy, session.client_id)
    set_date_of_service(copy, session.date_of_service)
    set_billing_code(copy, session.billing_code)
    set_minutes(copy, session.minutes)
    set_units(copy, session.units)
    set_charge(copy, session.charge)
    set_diagnoses(copy, session.diagnoses)
    set_modifiers(copy, session.modifiers)
    set_place_of_service(copy, session.place_of_service)
    set_bill_to(copy, session.bill_to)
    set_paid_at_session(copy, session.paid_at_session)
    set_referring_provider(copy, session.referring_provider)
    set_line_note(copy, session.line_note)
    set_resubmission(copy, session.resubmission)
    set_overrides(copy, session.overrides)
    set_comments(copy, session.comments)
    set_add_ons(copy, session.add_ons)
    set_appointment_key(copy, session.appointment_key)
    set_status(copy, session.status)
    set_version(copy, version)
    return copy


def refuse_locked_change(stored: ClientSession | None, session: ClientSession) -> None:
    """Raise :class:`~sessionkit.errors.SessionLocked` when saving ``session`` over ``stored`` would
    change paid-at-session of a session whose insurance EOB is posted.

    The one home of the EOB lock: the session builder and every adapter's
    ``save`` call it, so the lock holds however a session is saved.
    """
    if stored is not None and stored.locked and session.paid_at_session != stored.paid_at_session:
        raise SessionLocked(
            "paid at session cannot change: an insurance EOB is posted for the session",
            "session.locked",
            "paid_at_session",
        )
