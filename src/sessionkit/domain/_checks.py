"""Small helpers that raise sessionkit errors naming the field, never the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sessionkit.codes import npi
from sessionkit.errors import InvalidType, InvalidValue, SessionkitError
from sessionkit.money import Money

T = TypeVar("T")


def normalise(fn: Callable[[str], str], value: object, field: str) -> str:
    """Run a code module's ``validate`` on ``value``, naming ``field`` on failure."""
    try:
        return fn(value)  # type: ignore[arg-type]
    except SessionkitError as exc:
        raise exc.at(field) from None


def money(value: object, field: str) -> Money:
    """Turn ``value`` into Money, naming ``field`` on failure."""
    if type(value) is Money:
        return value
    try:
        return Money.of(value)  # type: ignore[arg-type]
    except SessionkitError as exc:
        exc.field = field
        raise exc from None


def text(value: object, field: str, *, max_len: int | None = None, required: bool = False) -> str:
    """Check a free-text field."""
    if not isinstance(value, str):
        raise InvalidType(f"{field} must be text", "value.type", field)
    if required and not value.strip():
        raise InvalidValue(f"{field} is required", "value.required", field)
    if max_len is not None and len(value) > max_len:
        raise InvalidValue(f"{field} is longer than {max_len} characters", "value.too_long", field)
    return value


def a_date(value: object, field: str) -> date:
    """Check a calendar date (a ``datetime`` is refused: dates of service are local dates)."""
    if isinstance(value, datetime):
        raise InvalidValue(
            f"{field} must be a date, not a datetime (use the practice's local date)",
            "value.datetime_not_date",
            field,
        )
    if not isinstance(value, date):
        raise InvalidType(f"{field} must be a date", "value.type", field)
    return value


def optional_date(value: object, field: str) -> date | None:
    return None if value is None else a_date(value, field)


def instance(value: T, cls: type | tuple[type, ...], field: str) -> T:
    if not isinstance(value, cls):
        raise InvalidType(f"{field} has the wrong type", "value.type", field)
    return value


def sequence(values: object, field: str, what: str = "values") -> tuple[Any, ...]:
    """``values`` as a tuple, or InvalidType naming ``field`` when it is not a collection.

    Text and bytes are refused too (a string is a sequence of characters, not of codes).
    """
    if values is None or isinstance(values, (str, bytes, bytearray)):
        raise InvalidType(f"{field} must be a sequence of {what}", "value.type", field)
    if type(values) is tuple:
        return values
    try:
        return tuple(values)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidType(f"{field} must be a sequence of {what}", "value.type", field) from None


def count(values: tuple[Any, ...], field: str, most: int) -> None:
    if len(values) > most:
        raise InvalidValue(f"{field} holds at most {most} entries", "value.too_many", field)


def whole(value: object, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{field} must be a whole number", "value.type", field)
    if not low <= value <= high:
        raise InvalidValue(f"{field} must be from {low} to {high}", "value.out_of_range", field)
    return value


def is_text(_inst: object, attribute: Any, value: object) -> None:
    """attrs validator: the value is a ``str`` (the message never shows the value)."""
    if type(value) is not str and not isinstance(value, str):
        raise InvalidType(f"{attribute.name} must be text", "value.type", attribute.name)


def is_optional_text(_inst: object, attribute: Any, value: object) -> None:
    """attrs validator: ``None`` or a ``str``."""
    if value is not None:
        is_text(_inst, attribute, value)


def is_bool(_inst: object, attribute: Any, value: object) -> None:
    """attrs validator: the value is a ``bool``."""
    if not isinstance(value, bool):
        raise InvalidType(f"{attribute.name} must be true or false", "value.type", attribute.name)


def optional_npi(value: object, field: str) -> str | None:
    """``None`` (or empty) or a valid NPI, naming ``field`` on failure."""
    if value is None or value == "":
        return None
    return normalise(npi.validate, value, field)
