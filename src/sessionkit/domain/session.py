"""The client session: one billable service on a date."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Final, TypeVar

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
    redacted,
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

T = TypeVar("T")


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


# -- converters: each checks (and normalises) one field, naming it on failure -------
#
# ClientSession is the hot object (a practice holds hundreds of thousands), so
# each converter starts with a fast path for a value that is already good, and
# the normalised codes, amounts and whole tuples of codes are cached: most of
# a session's values repeat. The call inside each "if" raises the specific
# error (or normalises) otherwise.


def _session_id(value: str | None) -> str:
    if value is None:
        return new_id()
    if type(value) is not str or not value or len(value) > 64 or value.isspace():
        _checks.text(value, "id", required=True, max_len=64)
    return value


def _client_id(value: str) -> str:
    if type(value) is not str or not value or len(value) > 64 or value.isspace():
        _checks.text(value, "client_id", required=True, max_len=64)
    return value


def _date_of_service(value: date) -> date:
    if type(value) is not date:
        _checks.a_date(value, "date_of_service")
    return value


def _billing_code(value: str) -> str:
    code = _HCPCS_OK.get(value) if type(value) is str else None
    return code if code is not None else _cached_hcpcs(value, "billing_code")


def _minutes(value: int | None) -> int | None:
    if value is not None and (type(value) is not int or not 0 <= value <= 1440):
        _checks.whole(value, "minutes", low=0, high=1440)
    return value


def _session_units(value: Decimal | int | str) -> Decimal:
    return value if value is _ONE else _units(value)


def _session_charge(value: MoneyLike) -> Money:
    if type(value) is Money:
        return value
    cached = _MONEY.get(value) if type(value) is str else None
    return cached if cached is not None else _charge(value)


def _diagnoses(values: Iterable[DiagnosisCode | str]) -> tuple[DiagnosisCode, ...]:
    # Whole tuples of codes are cached too: sessions share the same few
    # diagnosis lists, and a shared tuple costs no allocation.
    if type(values) is tuple:
        if values and type(values[0]) is DiagnosisCode:
            if len(values) <= MAX_DIAGNOSES and all(type(x) is DiagnosisCode for x in values):
                return values  # another session's diagnoses, say: already code objects
        else:
            try:
                hit = _DX_TUPLES.get(values)
            except TypeError:  # an unhashable element: the slow path names it
                hit = None
            if hit is not None:
                return hit
    result = _code_tuple(values, DiagnosisCode.of, _DX, "diagnoses", MAX_DIAGNOSES)
    if type(values) is tuple and len(_DX_TUPLES) < _CACHE_MAX and all(type(x) is str for x in values):
        _DX_TUPLES[values] = result
    return result


def _session_modifiers(values: Iterable[Modifier | str]) -> tuple[Modifier, ...]:
    if type(values) is tuple:
        if values and type(values[0]) is Modifier:
            if len(values) <= MAX_MODIFIERS and all(type(x) is Modifier for x in values):
                return values  # already code objects
        else:
            try:
                hit = _MOD_TUPLES.get(values)
            except TypeError:  # an unhashable element: the slow path names it
                hit = None
            if hit is not None:
                return hit
    result = _modifiers(values)
    if type(values) is tuple and len(_MOD_TUPLES) < _CACHE_MAX and all(type(x) is str for x in values):
        _MOD_TUPLES[values] = result
    return result


def _session_place_of_service(value: PlaceOfService | str) -> PlaceOfService:
    if type(value) is PlaceOfService:
        return value
    cached = _POS.get(value) if type(value) is str else None
    return cached if cached is not None else _place_of_service(value)


def _bill_to(value: BillTo | str) -> BillTo:
    if type(value) is BillTo:
        return value
    try:
        return BillTo(value)
    except ValueError:
        raise InvalidValue("bill_to must be automatic or client", "session.bill_to", "bill_to") from None


def _paid_at_session_money(value: MoneyLike) -> Money:
    if type(value) is Money:
        return value
    cached = _MONEY.get(value) if type(value) is str else None
    return cached if cached is not None else _paid_at_session(value)


def _referring_provider(value: ReferringProvider | None) -> ReferringProvider | None:
    if value is not None and type(value) is not ReferringProvider:
        _checks.instance(value, ReferringProvider, "referring_provider")
    return value


def _line_note(value: str) -> str:
    if type(value) is not str or len(value) > LINE_NOTE_MAX:
        _checks.text(value, "line_note", max_len=LINE_NOTE_MAX)
    return value


def _resubmission(value: Resubmission) -> Resubmission:
    if type(value) is not Resubmission:
        _checks.instance(value, Resubmission, "resubmission")
    return value


def _overrides(value: InsuranceOverrides | None) -> InsuranceOverrides | None:
    if value is not None and type(value) is not InsuranceOverrides:
        _checks.instance(value, InsuranceOverrides, "overrides")
    return value


def _comments(value: str) -> str:
    if type(value) is not str or len(value) > 10_000:
        _checks.text(value, "comments", max_len=10_000)
    return value


def _add_ons(values: Iterable[AddOnLine]) -> tuple[AddOnLine, ...]:
    if values == ():
        return ()
    result = _checks.sequence(values, "add_ons", "add-on lines")
    for i, value in enumerate(result):
        _checks.instance(value, AddOnLine, f"add_ons[{i}]")
    _checks.count(result, "add_ons", MAX_ADD_ONS)
    return result


def _appointment_key(value: str | None) -> str | None:
    if value is not None and (type(value) is not str or not value or len(value) > 1_000 or value.isspace()):
        _checks.text(value, "appointment_key", required=True, max_len=1_000)
    return value


def _status(value: SessionStatus | str) -> SessionStatus:
    if type(value) is SessionStatus:
        return value
    try:
        return SessionStatus(value)
    except ValueError:
        raise InvalidValue("status is not a known status", "session.status", "status") from None


def _version(value: int) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_VERSION:
        _checks.whole(value, "version", low=0, high=_MAX_VERSION)
    return value


_ZERO = Money(0)


@attrs.frozen(kw_only=True)
class ClientSession:
    """One billable service for a client on a date: what the entry screen saves.

    Valid by construction: codes are well formed, at most 4 diagnoses,
    modifiers and add-ons, a line note of at most 80 characters. Whether the
    session can go on a claim is a separate question, answered by
    :mod:`sessionkit.readiness`. ``id`` left out (or ``None``) gets a fresh
    :func:`new_id`. The line note and comments print as ``<redacted>`` in
    ``repr()`` (they may name the client); the notebook display shows them.

    >>> from datetime import date
    >>> s = ClientSession(client_id="c1", date_of_service=date(2026, 3, 2),
    ...                   billing_code="90834", minutes=45, charge="140.00",
    ...                   diagnoses=["F41.1"], modifiers=["95"], place_of_service="10")
    >>> s.charge, s.diagnoses[0].code, s.place_of_service.is_telehealth
    (Money('140.00'), 'F41.1', True)
    """

    # Adding a field means declaring it here with its converter (and
    # repr=redacted if it may identify the client): attrs writes repr and eq,
    # _make_init and _make_copier below generate __init__ and with_version
    # from attrs.fields(), cattrs generates the documents from the same
    # declarations, and the notebook display reads them.
    id: str = attrs.field(default=None, converter=_session_id)
    client_id: str = attrs.field(converter=_client_id)
    date_of_service: date = attrs.field(converter=_date_of_service)
    billing_code: str = attrs.field(converter=_billing_code)
    minutes: int | None = attrs.field(default=None, converter=_minutes)
    units: Decimal = attrs.field(default=_ONE, converter=_session_units)
    charge: Money = attrs.field(converter=_session_charge)
    diagnoses: tuple[DiagnosisCode, ...] = attrs.field(default=(), converter=_diagnoses)
    modifiers: tuple[Modifier, ...] = attrs.field(default=(), converter=_session_modifiers)
    place_of_service: PlaceOfService = attrs.field(default=OFFICE, converter=_session_place_of_service)
    bill_to: BillTo = attrs.field(default=BillTo.AUTOMATIC, converter=_bill_to)
    paid_at_session: Money = attrs.field(default=_ZERO, converter=_paid_at_session_money)
    referring_provider: ReferringProvider | None = attrs.field(default=None, converter=_referring_provider)
    line_note: str = attrs.field(default="", converter=_line_note, repr=redacted)
    resubmission: Resubmission = attrs.field(default=ORIGINAL, converter=_resubmission)
    overrides: InsuranceOverrides | None = attrs.field(default=None, converter=_overrides)
    comments: str = attrs.field(default="", converter=_comments, repr=redacted)
    add_ons: tuple[AddOnLine, ...] = attrs.field(default=(), converter=_add_ons)
    appointment_key: str | None = attrs.field(default=None, converter=_appointment_key)
    status: SessionStatus = attrs.field(default=SessionStatus.OPEN, converter=_status)
    version: int = attrs.field(default=0, converter=_version)

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


def _make_copier(cls: type[T], changed: str) -> Callable[[T, Any], T]:
    """Generate ``copy(obj, value)``: ``obj`` with field ``changed`` set to ``value``, the others as they are.

    Built from :func:`attrs.fields` at import time, as attrs builds
    ``__init__``, so a new field is copied without anyone writing it here;
    ``value`` is not checked. The copy starts as an instance of a class with
    the very same slots which is not frozen, so each field is one
    attribute store (CPython does it in a few instructions; a call of the
    slot's descriptor or of ``object.__setattr__`` costs four times as much),
    and is then given ``cls`` as its class, which CPython allows between two
    classes of one slot layout; no one sees the object before. The plain
    class is a subclass of ``cls`` that adds no slot but takes back
    ``object``'s ``__setattr__`` and ``__delattr__``. Should CPython ever
    refuse the class change, a trial copy made here fails and the copy sets
    each slot through its descriptor instead.
    """
    names = [a.name for a in attrs.fields(cls)]  # type: ignore[arg-type]
    if "__slots__" in cls.__dict__:
        namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
        # A subclass adding no slot has the same layout; its own __setattr__ and __delattr__
        # (object's) make attribute stores plain ones.
        namespace["_open"] = type(
            f"_Open{cls.__name__}",
            (cls,),
            {"__slots__": (), "__setattr__": object.__setattr__, "__delattr__": object.__delattr__},
        )
        lines = ["def copy(obj, value):", "    new = _new(_open)"]
        lines.extend(f"    new.{name} = {'value' if name == changed else f'obj.{name}'}" for name in names)
        lines.extend(["    new.__class__ = _cls", "    return new"])
        exec("\n".join(lines), namespace)  # noqa: S102 - the text is built above from attrs field names only
        copier: Callable[[T, Any], T] = namespace["copy"]
        if _copies_every_field(cls, copier, names, changed):
            return copier
    return _make_descriptor_copier(cls, names, changed)  # pragma: no cover - ClientSession's layout allows it


def _make_descriptor_copier(cls: type[T], names: list[str], changed: str) -> Callable[[T, Any], T]:
    """``copy(obj, value)`` as straight-line calls of each slot's descriptor (for any slotted class)."""
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = ["def copy(obj, value):", "    new = _new(_cls)"]
    for i, name in enumerate(names):
        namespace[f"_set{i}"] = cls.__dict__[name].__set__
        source = "value" if name == changed else f"obj.{name}"
        lines.append(f"    _set{i}(new, {source})")
    lines.append("    return new")
    exec("\n".join(lines), namespace)  # noqa: S102 - the text is built above from attrs field names only
    copier: Callable[[T, Any], T] = namespace["copy"]
    return copier


def _copies_every_field(cls: type[T], copier: Callable[[T, Any], T], names: list[str], changed: str) -> bool:
    """Whether ``copier`` copies an object of ``cls`` whose fields hold distinct markers, field for field."""
    markers = {name: object() for name in names}
    original = object.__new__(cls)
    for name, marker in markers.items():
        object.__setattr__(original, name, marker)
    value = object()
    try:
        copy = copier(original, value)
    except (TypeError, AttributeError):  # pragma: no cover - e.g. "object layout differs"
        return False
    expected = {**markers, changed: value}
    return type(copy) is cls and all(getattr(copy, name) is expected[name] for name in names)


_copy_with_version = _make_copier(ClientSession, "version")


_TEXT_MEMOS: Final[dict[Callable[..., Any], dict[Any, Any]]] = {
    _billing_code: _HCPCS_OK,
    _session_charge: _MONEY,
    _paid_at_session_money: _MONEY,
    _session_place_of_service: _POS,
}
"""Converters whose answer for a ``str`` found in their memo is the memo's value (each one's own first
step): the generated ``__init__`` looks the text up itself, without the call."""


def _make_init(cls: type[T]) -> Callable[..., None]:
    """Generate a faster ``__init__`` for ``cls`` from :func:`attrs.fields`, or return attrs' own.

    It does what attrs' ``__init__`` does (every argument through its field's
    converter, in field order) with two shortcuts: an argument that *is* the
    field's default object takes the converted default computed here once
    (only when converting the default twice gives the very same object, so a
    default such as ``id=None``, which mints a new id each time, is converted
    every time), and slots are set through their descriptors rather than
    ``object.__setattr__``. It covers keyword-only fields with a plain default
    or none, a converter or none, and no validator, alias, factory or
    post-init hook; for any other class attrs' ``__init__`` stays (fail
    closed). A converter of :data:`_TEXT_MEMOS` has its memo read inline for a
    ``str``. ``tests/unit/test_domain.py`` compares the two.
    """
    plain: Callable[..., None] = cls.__init__
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return plain
    namespace: dict[str, Any] = {"_DEFAULTS": {}, "_str": str}
    params: list[str] = []
    body: list[str] = []
    for i, a in enumerate(fields):
        if (
            not a.init
            or not a.kw_only
            or a.validator is not None
            or a.alias != a.name
            or isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
            or (a.converter is not None and not callable(a.converter))
        ):
            return plain
        namespace[f"_set{i}"] = cls.__dict__[a.name].__set__
        convert = a.converter
        if a.converter is not None:
            namespace[f"_conv{i}"] = convert
        value = f"_conv{i}({a.name})" if convert is not None else a.name
        memo = _TEXT_MEMOS.get(convert) if convert is not None else None
        if memo is not None:
            namespace[f"_memo{i}"] = memo
            value = f"(x if {a.name}.__class__ is _str and (x := _memo{i}.get({a.name})) is not None else {value})"
        if a.default is attrs.NOTHING:
            params.append(a.name)
        else:
            namespace["_DEFAULTS"][a.name] = namespace[f"_default{i}"] = a.default
            params.append(f"{a.name}=_DEFAULTS[{a.name!r}]")
            if convert is None:
                converted: Any = a.default
            else:
                converted = convert(a.default)
                if convert(a.default) is not converted:
                    converted = _NOT_CONSTANT
            if converted is not _NOT_CONSTANT:
                namespace[f"_converted{i}"] = converted
                value = f"_converted{i} if {a.name} is _default{i} else {value}"
        body.append(f"    _set{i}(self, {value})")
    source = "\n".join(
        [
            "def make(_DEFAULTS):",
            f"  def __init__(self, *, {', '.join(params)}):",
            *("  " + line for line in body),
            "  return __init__",
        ]
    )
    exec(source, namespace)  # noqa: S102 - built above from attrs field names only
    init: Callable[..., None] = namespace["make"](namespace["_DEFAULTS"])
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(plain.__annotations__)
    init.__doc__ = plain.__doc__
    return init


_NOT_CONSTANT: Final = object()
_attrs_init = ClientSession.__init__
"""attrs' own ``__init__`` of ClientSession: the plain path the generated one is compared with."""
ClientSession.__init__ = _make_init(ClientSession)  # type: ignore[method-assign]


def with_version(session: ClientSession, version: int) -> ClientSession:
    """A copy of ``session`` with another version: what a repository stores on save.

    The same as ``attrs.evolve(session, version=version)`` but without
    converting again the fields that were valid already (adapters save many
    sessions at once): only the version goes through its converter.
    """
    if type(session) is not ClientSession:
        return attrs.evolve(session, version=version)
    if type(version) is not int or not 0 <= version <= _MAX_VERSION:  # _version's own test, without its call
        version = _version(version)  # raises
    return _copy_with_version(session, version)


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
