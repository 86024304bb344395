"""Turning domain objects into JSON documents and back: the one module that owns cattrs.

In the style of :mod:`cattrs.preconf`, :func:`make_converter` builds a
:class:`cattrs.Converter` and :func:`configure_converter` adds sessionkit's
hooks to any converter:

* ``date`` as ISO text (``"2026-03-02"``), ``Decimal`` as text (``"1.5"``),
  :class:`~sessionkit.Money` as text with two places (``"140.00"``);
* enums as their values (``"automatic"``, ``"DN"``);
* the small code value objects as their code: a
  :class:`~sessionkit.DiagnosisCode` as ``"F41.1"`` (its description, which is
  the practice's own label and takes no part in equality, is not stored), a
  :class:`~sessionkit.Modifier` as ``"95"``, a
  :class:`~sessionkit.PlaceOfService` as ``"11"``;
* tuples and frozensets as JSON lists (frozensets sorted, so that the same
  object always gives the same text);
* strict primitives: a number where text is expected is refused, not turned
  into text;
* unknown keys are refused (``forbid_extra_keys``) and every bad field is
  reported (``detailed_validation``).

A stored document is a JSON object carrying ``"schema_version": 1`` beside the
object's own fields. A document that cannot be read raises
:class:`~sessionkit.DocumentError` whose ``problems`` name every bad field by
its path (``$.add_ons[1].code``) and a code, never by its value: documents hold
client data.

>>> from datetime import date
>>> from sessionkit import ClientSession
>>> s = ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 3, 2),
...                   billing_code="90834", charge="140", diagnoses=["f411"])
>>> doc = to_dict(s)
>>> doc["schema_version"], doc["charge"], doc["diagnoses"], doc["date_of_service"]
(1, '140.00', ['F41.1'], '2026-03-02')
>>> loads(dumps(s), ClientSession) == s
True
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import UnionType
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from sessionkit.domain import (
    ORIGINAL,
    AddOnLine,
    BillTo,
    ClientSession,
    DiagnosisCode,
    InsuranceOverrides,
    Modifier,
    PlaceOfService,
    ReferringProvider,
    Resubmission,
    SessionStatus,
)
from sessionkit.domain.values import _ONE
from sessionkit.errors import DocumentError, DocumentProblem, InvalidValue, SessionkitError
from sessionkit.money import Money

__all__ = [
    "SCHEMA_VERSION",
    "configure_converter",
    "dumps",
    "from_dict",
    "loads",
    "make_converter",
    "split_legacy_session",
    "to_dict",
]

T = TypeVar("T")

SCHEMA_VERSION: Final = 1
"""The version of the stored document layout this sessionkit writes and reads."""

_VERSION_KEY: Final = "schema_version"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _wrong_type(expected: str) -> InvalidValue:
    return InvalidValue(f"must be {expected}", "document.type")


# -- primitive and value-object hooks -------------------------------------------------


def _structure_str(value: object, type_: Any) -> Any:
    if type_ is not str:  # a str-based enum: singledispatch sends it here
        return _structure_enum(value, type_)
    if value.__class__ is str:
        return value
    raise _wrong_type("text")


def _structure_int(value: object, type_: Any) -> Any:
    if type_ is not int:  # an int-based enum
        return _structure_enum(value, type_)
    if value.__class__ is int:
        return value
    raise _wrong_type("a whole number")


def _structure_bool(value: object, _: object) -> bool:
    if value.__class__ is bool:
        return value
    raise _wrong_type("true or false")


def _structure_date(value: object, _: object) -> date:
    if value.__class__ is not str:
        raise _wrong_type("an ISO date text (YYYY-MM-DD)")
    if _ISO_DATE.fullmatch(value) is None:
        raise InvalidValue("must be an ISO date (YYYY-MM-DD)", "document.date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue("is not a calendar date", "document.date") from None


def _structure_datetime(value: object, _: object) -> datetime:
    """An ISO 8601 instant with its UTC offset (a time without one is refused: instants are aware)."""
    if type(value) is not str:
        raise _wrong_type("an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue("not an ISO 8601 date and time", "document.datetime") from None
    if parsed.utcoffset() is None:
        raise InvalidValue("the time has no UTC offset", "document.datetime")
    return parsed


def _unstructure_datetime(value: datetime) -> str:
    return value.isoformat()


def _unstructure_date(value: date) -> str:
    return value.isoformat()


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidValue("is not a decimal number", "document.decimal") from None


def _unstructure_decimal(value: Decimal) -> str:
    return str(value)


def _without_field(exc: SessionkitError) -> SessionkitError:
    """Drop the inner field name: in a document the value object is the field itself."""
    exc.field = None
    return exc


_MEMO_SIZE: Final = 4096
_MISSING: Final = object()


def _memoised(
    build: Callable[[str], T], expected: str, others: tuple[type, ...] = ()
) -> Callable[[object, object], T]:
    """A structure hook for an immutable object read from text, remembering recent results.

    Documents repeat the same codes and amounts over and over; sharing the
    frozen objects saves most of the work. The memory is bounded and holds
    only valid codes and amounts, never names or notes.
    """
    memo: dict[str, T] = {}

    def structure(value: object, _: object) -> T:
        if value.__class__ is str:
            hit = memo.get(value)
            if hit is not None:
                return hit
        elif value.__class__ not in others:
            raise _wrong_type(expected)
        try:
            result = build(value)  # type: ignore[arg-type]
        except SessionkitError as exc:
            raise _without_field(exc) from None
        if value.__class__ is str:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[value] = result
        return result

    return structure


def _money(value: str) -> Money:
    return Money(value)


def _diagnosis(value: str) -> DiagnosisCode:
    return DiagnosisCode(code=value)


_structure_decimal = _memoised(_decimal, "a decimal number as text", (int,))
# Money itself refuses a float, with its own code (money.float).
_structure_money = _memoised(_money, "an amount as text", (int, float))
_structure_diagnosis = _memoised(_diagnosis, "text")
_structure_modifier = _memoised(Modifier, "text")
_structure_pos = _memoised(PlaceOfService, "text")


def _unstructure_money(value: Money) -> str:
    return str(value.amount)


def _unstructure_code(value: DiagnosisCode | Modifier | PlaceOfService) -> str:
    return value.code


# -- hook factories ------------------------------------------------------------------


def _is_enum(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, enum.Enum)


_ENUM_VALUES: dict[type[enum.Enum], dict[object, enum.Enum]] = {}


def _structure_enum(value: object, type_: Any) -> Any:
    members = _ENUM_VALUES.get(type_)
    if members is None:
        members = _ENUM_VALUES[type_] = {m.value: m for m in type_}
    try:
        member = members.get(value)
    except TypeError:  # unhashable: a list or an object
        member = None
    if member is None or value.__class__ is bool:
        raise InvalidValue("is not one of the allowed values", "document.enum")
    return member


def _enum_unstructure_factory(_type: type[enum.Enum]) -> Callable[[enum.Enum], Any]:
    def unstructure(value: enum.Enum) -> Any:
        return value.value

    return unstructure


def _is_collection(type_: Any) -> bool:
    origin = get_origin(type_)
    if origin is frozenset:
        return True
    if origin is tuple:
        args = get_args(type_)
        return len(args) == 2 and args[1] is Ellipsis
    return False


def _collection_structure_factory(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    origin = get_origin(type_)
    element = get_args(type_)[0]
    hook = converter.get_structure_hook(element)

    def structure(value: object, _: object) -> Any:
        if value.__class__ is not list and value.__class__ is not tuple:
            raise _wrong_type("a list")
        try:
            return origin(hook(v, element) for v in value)
        except Exception:  # noqa: S110 - collect every bad element below, with its index
            pass
        errors: list[Exception] = []
        for i, item in enumerate(value):
            try:
                hook(item, element)
            except Exception as exc:
                notes = [
                    *getattr(exc, "__notes__", []),
                    IterableValidationNote("@ index", i, element),
                ]
                setattr(exc, "__notes__", notes)  # noqa: B010 - Python 3.10 exceptions declare no __notes__
                errors.append(exc)
        if not errors:  # pragma: no cover - the fast path failed, so an element fails
            errors.append(_wrong_type("a list"))
        raise IterableValidationError("While structuring a collection", errors, type_)

    return structure


def _collection_unstructure_factory(type_: Any, converter: cattrs.Converter) -> Callable[[Any], list[Any]]:
    element = get_args(type_)[0]
    hook = converter.get_unstructure_hook(element)
    if get_origin(type_) is frozenset:

        def unstructure_set(value: Any) -> list[Any]:
            return sorted(hook(v) for v in value)

        return unstructure_set

    def unstructure_tuple(value: Any) -> list[Any]:
        return [hook(v) for v in value]

    return unstructure_tuple


def _is_optional(type_: Any) -> bool:
    args = get_args(type_)
    return len(args) == 2 and type(None) in args and get_origin(type_) in (Union, UnionType)


def _optional_structure_factory(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    inner = next(a for a in get_args(type_) if a is not type(None))
    hook = converter.get_structure_hook(inner)

    def structure(value: object, _: object) -> Any:
        return None if value is None else hook(value, inner)

    return structure


def _is_text(type_: Any) -> bool:
    return type_ is str or set(get_args(type_)) == {str, type(None)}


def _through_converter(convert: Callable[[Any], Any]) -> Callable[[object, object], Any]:
    """Check a text field and run its attrs converter, so that a bad value is reported at its key."""

    memo: dict[str, Any] = {}

    def structure(value: object, _: object) -> Any:
        if value.__class__ is str:
            hit = memo.get(value, _MISSING)
            if hit is not _MISSING:
                return hit
        elif value is not None:
            raise _wrong_type("text")
        try:
            result = convert(value)
        except SessionkitError as exc:
            raise _without_field(exc) from None
        if value.__class__ is str:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[value] = result
        return result

    return structure


def _default_instance(type_: Any) -> Any:
    """Return ``type_()`` when every field has a default (e.g. the original Resubmission), else None."""
    if not all(a.default is not attrs.NOTHING for a in attrs.fields(type_) if a.init):
        return None
    try:
        instance = type_()
    except Exception:
        return None
    first = attrs.fields(type_)[0].name
    try:  # only a frozen object may be shared between documents
        setattr(instance, first, getattr(instance, first))
    except attrs.exceptions.FrozenInstanceError:
        return instance
    return None


def _attrs_structure_factory(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    attrs.resolve_types(type_)
    # A text field with a converter (or, for classes with a hand-written
    # __init__, a "sessionkit.convert" in its metadata) is checked at its own
    # key, so that every bad field of a document is reported, not the first.
    overrides = {
        a.name: override(struct_hook=_through_converter(convert))
        for a in attrs.fields(type_)
        if callable(convert := a.converter or a.metadata.get("sessionkit.convert")) and _is_text(a.type)
    }
    generated = make_dict_structure_fn(type_, converter, **overrides)  # type: ignore[arg-type]
    shared = _default_instance(type_) if attrs.fields(type_) else None
    shared_doc = converter.unstructure(shared) if shared is not None else _MISSING

    def structure(value: object, cl: object) -> Any:
        if value.__class__ is not dict and not isinstance(value, Mapping):
            raise _wrong_type("an object")
        if value == shared_doc:  # the all-defaults object (frozen, so it can be shared)
            return shared
        return generated(value, cl)

    return structure


# -- converter -------------------------------------------------------------------


def configure_converter(converter: cattrs.Converter) -> None:
    """Add sessionkit's hooks to ``converter`` (see the module documentation).

    Call it before the converter structures or unstructures anything: hooks
    for attrs classes are generated, and cached, on first use.
    """
    # Strict primitives. These go by singledispatch, which also sends str- and
    # int-based enums here: the hooks hand those to the enum's own constructor.
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(date, _unstructure_date)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, _unstructure_decimal)
    converter.register_structure_hook_func(_is_enum, _structure_enum)
    converter.register_unstructure_hook_factory(_is_enum, _enum_unstructure_factory)
    converter.register_structure_hook_factory(attrs.has, _attrs_structure_factory)
    converter.register_structure_hook_factory(_is_collection, _collection_structure_factory)
    converter.register_structure_hook_factory(_is_optional, _optional_structure_factory)
    converter.register_unstructure_hook_factory(_is_collection, _collection_unstructure_factory)
    converter.register_structure_hook(Money, _structure_money)
    converter.register_unstructure_hook(Money, _unstructure_money)
    converter.register_structure_hook(DiagnosisCode, _structure_diagnosis)
    converter.register_unstructure_hook(DiagnosisCode, _unstructure_code)
    converter.register_structure_hook(Modifier, _structure_modifier)
    converter.register_unstructure_hook(Modifier, _unstructure_code)
    converter.register_structure_hook(PlaceOfService, _structure_pos)
    converter.register_unstructure_hook(PlaceOfService, _unstructure_code)


def make_converter(**kwargs: Any) -> cattrs.Converter:
    """Return a new :class:`cattrs.Converter` configured for sessionkit documents.

    Keyword arguments go to :class:`cattrs.Converter`; ``detailed_validation``
    and ``forbid_extra_keys`` default to ``True``.
    """
    kwargs.setdefault("detailed_validation", True)
    kwargs.setdefault("forbid_extra_keys", True)
    converter = cattrs.Converter(**kwargs)
    configure_converter(converter)
    return converter


_CONVERTER: Final = make_converter()
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


# -- errors as problems ------------------------------------------------------------


def _join(path: str, field: str | None) -> str:
    if not field:
        return path
    return f"{path}{field}" if field.startswith("[") else f"{path}.{field}"


def _problems(exc: BaseException, path: str) -> Iterator[DocumentProblem]:
    """Walk a cattrs error tree, yielding one problem per bad field; never reads a value."""
    if isinstance(exc, ClassValidationError):
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            yield from _problems(sub, _join(path, note.name))
        for sub in others:
            yield from _problems(sub, path)
    elif isinstance(exc, IterableValidationError):
        with_index, others = exc.group_exceptions()
        for sub, index_note in with_index:
            index = index_note.index
            yield from _problems(sub, f"{path}[{index}]" if isinstance(index, int) else _join(path, index))
        for sub in others:
            yield from _problems(sub, path)
    elif isinstance(exc, BaseValidationError):
        for sub in exc.exceptions:
            yield from _problems(sub, path)
    elif isinstance(exc, ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield DocumentProblem(
                _join(path, key), "document.extra_key", "this key is not part of the document"
            )
    elif isinstance(exc, SessionkitError):
        yield DocumentProblem(_join(path, exc.field), exc.code, exc.message)
    elif isinstance(exc, KeyError) and _is_attribute_path(exc):
        yield DocumentProblem(path, "document.missing_field", "a required key is missing")
    elif isinstance(exc, TypeError):
        yield DocumentProblem(path, "document.type", "has the wrong type")
    else:
        yield DocumentProblem(path, "document.invalid", "is not valid")


def _is_attribute_path(exc: KeyError) -> bool:
    return any(isinstance(note, AttributeValidationNote) for note in getattr(exc, "__notes__", ()))


def _document_error(type_: type[Any], problems: list[DocumentProblem]) -> DocumentError:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return DocumentError(
        f"the document is not a valid {type_.__name__}: {count} {noun}",
        problems=problems,
    )


def _single(code: str, message: str, path: str = "$") -> DocumentError:
    return DocumentError(message, code, problems=[DocumentProblem(path, code, message)])


# -- public functions --------------------------------------------------------------


def to_dict(obj: Any) -> dict[str, Any]:
    """Return ``obj`` (a domain object) as plain data with ``schema_version`` at the top.

    >>> from sessionkit import Modifier, AddOnLine
    >>> to_dict(AddOnLine(code="90785", charge="20", modifiers=[Modifier("95")]))
    {'schema_version': 1, 'code': '90785', 'units': '1', 'charge': '20.00', 'modifiers': ['95']}
    """
    if obj.__class__ is ClientSession:
        return _session_to_dict(obj)
    if not attrs.has(obj.__class__):
        raise TypeError("to_dict takes a sessionkit domain object")
    data = _CONVERTER.unstructure(obj)
    if not isinstance(data, dict):
        # A value object (DiagnosisCode, Modifier, ...) unstructures to its code text.
        return {_VERSION_KEY: SCHEMA_VERSION, "value": data}
    return {_VERSION_KEY: SCHEMA_VERSION, **data}


def _check_version(data: Mapping[str, Any]) -> None:
    if _VERSION_KEY not in data:
        raise _single("document.schema_version", "the document has no schema_version", "$.schema_version")
    version = data[_VERSION_KEY]
    if version.__class__ is not int or version < 1:
        raise _single(
            "document.schema_version", "schema_version must be a whole number from 1", "$.schema_version"
        )
    if version > SCHEMA_VERSION:
        raise _single(
            "document.schema_version",
            f"the document was written by a newer sessionkit (schema_version above {SCHEMA_VERSION}); "
            "upgrade sessionkit to read it",
            "$.schema_version",
        )


_VALUE_TYPES: Final = (DiagnosisCode, Modifier, PlaceOfService, Money)


def from_dict(data: Mapping[str, Any], type_: type[T]) -> T:
    """Build a ``type_`` from plain data written by :func:`to_dict`.

    :raises DocumentError: the data is not a valid document; ``problems`` lists every bad field.

    >>> from sessionkit import Modifier
    >>> from_dict({"schema_version": 1, "value": "95"}, Modifier)
    Modifier(code='95')
    """
    if not isinstance(data, Mapping):
        raise _single("document.type", "the document must be a JSON object")
    _check_version(data)
    if type_ is ClientSession:
        if _LEGACY_DATES in data:
            data = _without_legacy_dates(data)
        fast = _session_from_dict(data)
        if fast is not None:
            return fast  # type: ignore[return-value]
    body = dict(data)
    del body[_VERSION_KEY]
    if issubclass(type_, _VALUE_TYPES):
        extra = sorted(set(body) - {"value"})
        if extra:
            problems = [
                DocumentProblem(f"$.{k}", "document.extra_key", "this key is not part of the document")
                for k in extra
            ]
            raise _document_error(type_, problems)
        if "value" not in body:
            raise _document_error(
                type_, [DocumentProblem("$.value", "document.missing_field", "a required key is missing")]
            )
        path, payload = "$.value", body["value"]
    else:
        path, payload = "$", body
    try:
        return _CONVERTER.structure(payload, type_)
    except Exception as exc:
        raise _document_error(type_, list(_problems(exc, path))) from None


# -- ClientSession fast paths ---------------------------------------------------------
#
# Sessions are by far the most numerous documents, so they get hand-written
# paths that give exactly what the generic cattrs hooks give (a property test
# compares them). Structuring takes the fast path only for a document whose
# every value has the expected type; anything else goes the generic way,
# which reports every bad field.

_SESSION_FIELDS: Final = tuple(a.name for a in attrs.fields(ClientSession))
_SESSION_KEY_COUNT: Final = len(_SESSION_FIELDS) + 1  # and schema_version
_DATES: dict[str, date] = {}
_ORIGINAL_DOC: Final = {"frequency": "1", "original_reference": None}
_BILL_TO: Final = {m.value: m for m in BillTo}
_STATUS: Final = {m.value: m for m in SessionStatus}


def _fast_date(text: str) -> date:
    hit = _DATES.get(text)
    if hit is None:
        hit = _structure_date(text, date)
        if len(_DATES) >= _MEMO_SIZE:
            _DATES.clear()
        _DATES[text] = hit
    return hit


def _session_to_dict(s: ClientSession) -> dict[str, Any]:
    unstructure = _CONVERTER.unstructure
    rp = s.referring_provider
    return {
        _VERSION_KEY: SCHEMA_VERSION,
        "id": s.id,
        "client_id": s.client_id,
        "date_of_service": s.date_of_service.isoformat(),
        "billing_code": s.billing_code,
        "minutes": s.minutes,
        "units": str(s.units),
        "charge": str(s.charge.amount),
        "diagnoses": [d.code for d in s.diagnoses],
        "modifiers": [m.code for m in s.modifiers],
        "place_of_service": s.place_of_service.code,
        "bill_to": s.bill_to.value,
        "paid_at_session": str(s.paid_at_session.amount),
        "referring_provider": None if rp is None else unstructure(rp),
        "line_note": s.line_note,
        "resubmission": dict(_ORIGINAL_DOC) if s.resubmission is ORIGINAL else unstructure(s.resubmission),
        "overrides": None if s.overrides is None else unstructure(s.overrides),
        "comments": s.comments,
        "add_ons": [unstructure(a) for a in s.add_ons],
        "appointment_key": s.appointment_key,
        "status": s.status.value,
        "version": s.version,
    }


def _session_from_dict(d: Mapping[str, Any]) -> ClientSession | None:
    """The session of a well-typed document, or None to take the generic path."""
    # Every field is read below (a missing one raises KeyError), so with the
    # version key checked before, the right count means no extra key.
    if len(d) != _SESSION_KEY_COUNT or type(d["id"]) is not str:  # a null id would mint a new one
        return None
    structure = _CONVERTER.structure
    try:
        diagnoses, modifiers, add_ons = d["diagnoses"], d["modifiers"], d["add_ons"]
        if not (type(diagnoses) is list and type(modifiers) is list):
            return None
        # Elements that are not text are refused by ClientSession itself (-> generic path).
        if type(add_ons) is not list:
            return None
        charge, paid, units = d["charge"], d["paid_at_session"], d["units"]
        if not (type(charge) is str and type(paid) is str and type(units) is str):
            return None
        rp, resub, overrides = d["referring_provider"], d["resubmission"], d["overrides"]
        return ClientSession(
            id=d["id"],
            client_id=d["client_id"],
            date_of_service=_fast_date(d["date_of_service"]),
            billing_code=d["billing_code"],
            minutes=d["minutes"],
            units=_ONE if units == "1" else structure(units, Decimal),
            charge=charge,
            diagnoses=tuple(diagnoses),
            modifiers=tuple(modifiers),
            place_of_service=d["place_of_service"],
            bill_to=_BILL_TO[d["bill_to"]],
            paid_at_session=paid,
            referring_provider=None if rp is None else structure(rp, ReferringProvider),
            line_note=d["line_note"],
            resubmission=ORIGINAL if resub == _ORIGINAL_DOC else structure(resub, Resubmission),
            overrides=None if overrides is None else structure(overrides, InsuranceOverrides),
            comments=d["comments"],
            add_ons=tuple(structure(a, AddOnLine) for a in add_ons) if add_ons else (),
            appointment_key=d["appointment_key"],
            status=_STATUS[d["status"]],
            version=d["version"],
        )
    except Exception:
        return None


_LEGACY_DATES: Final = "additional_dates"


def _without_legacy_dates(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A session document of an earlier sessionkit, without its empty ``additional_dates``."""
    if data[_LEGACY_DATES] not in ([], None):
        raise _single(
            "document.additional_dates",
            "the session has additional dates: since sessionkit 0.2 each date is its own session; "
            "split the document with sessionkit.serialization.split_legacy_session",
            f"$.{_LEGACY_DATES}",
        )
    return {k: v for k, v in data.items() if k != _LEGACY_DATES}


def split_legacy_session(data: Mapping[str, Any], ids: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """Split a session document that has ``additional_dates`` into one document per date.

    Earlier sessionkit releases stored the same service on several dates as
    one session. Each date is now its own session: the first document keeps
    the id, the appointment key, the add-ons and paid-at-session; each further
    date gets the id ``ids(original id, ISO date)``, no appointment key, no
    add-ons (they went with the first date's line) and nothing paid at the
    session. A document without additional dates comes back alone, unchanged.

    >>> doc = {"schema_version": 1, "id": "s1", "date_of_service": "2026-03-02",
    ...        "additional_dates": ["2026-03-09"], "appointment_key": "k", "paid_at_session": "25.00",
    ...        "add_ons": [], "version": 3}
    >>> [(d["id"], d["date_of_service"], d["appointment_key"], d["paid_at_session"])
    ...  for d in split_legacy_session(doc, lambda i, day: f"{i}-{day}")]
    [('s1', '2026-03-02', 'k', '25.00'), ('s1-2026-03-09', '2026-03-09', None, '0.00')]
    """
    first = {k: v for k, v in data.items() if k != _LEGACY_DATES}
    dates = data.get(_LEGACY_DATES) or []
    if not isinstance(dates, list) or not all(isinstance(d, str) for d in dates):
        raise _single(
            "document.additional_dates", "additional_dates must be a list of dates", "$.additional_dates"
        )
    out = [first]
    for day in dates:
        copy = dict(first)
        copy.update(
            id=ids(str(first.get("id")), day),
            date_of_service=day,
            appointment_key=None,
            add_ons=[],
            paid_at_session="0.00",
        )
        out.append(copy)
    return out


def dumps(obj: Any) -> str:
    """Return ``obj`` (a domain object) as JSON text carrying ``schema_version``.

    The same object always gives the same text.
    """
    return _ENCODER.encode(to_dict(obj))


def loads(text: str | bytes, type_: type[T]) -> T:
    """Build a ``type_`` from JSON text written by :func:`dumps`.

    :raises DocumentError: the text is not JSON (code ``document.json``, also for a
        number too long to read), is nested too deeply (``document.too_deep``) or is
        not a valid document; ``problems`` lists every bad field by path.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"the document is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        raise _single("document.json", message) from None
    except (UnicodeDecodeError, TypeError):
        raise _single("document.json", "the document is not valid JSON text") from None
    except RecursionError:
        raise _single("document.too_deep", "the document is nested too deeply") from None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise _single("document.json", "the document holds a number that cannot be read") from None
    try:
        return from_dict(data, type_)
    except RecursionError:
        raise _single("document.too_deep", "the document is nested too deeply") from None
