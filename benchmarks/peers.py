"""The peers: the same session shape as a pydantic v2 model, a msgspec Struct and attrs classes read and
written by cattrs, for the benchmark.

Each peer gets the same keyword arguments as ``ClientSession`` (primitive
values: strings, ints, dates, tuples) and checks what it can declare: the
types, Decimal money with two places, code formats by pattern, lengths.
sessionkit checks more (NPI check digits, the CMS place-of-service list, the
HCPCS cache...), so the comparison favours the peers. Install pydantic and
msgspec for the benchmark only: ``pip install pydantic msgspec``; attrs and
cattrs are sessionkit's own dependencies, so that peer is always there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import attrs
from attrs import validators as v
from cattrs.preconf.json import make_converter

PEERS: dict[str, dict[str, Callable[..., Any]]] = {}


def _with_nested(args: dict[str, Any], ref: Callable[..., Any], add_on: Callable[..., Any]) -> dict[str, Any]:
    """``args`` with sessionkit's referring provider and add-ons as the peer's own classes ``ref`` and ``add_on``."""
    provider = args.get("referring_provider")
    if provider is not None:
        args["referring_provider"] = ref(
            first_name=provider.first_name, last_name=provider.last_name, npi=provider.npi
        )
    if "add_ons" in args:
        args["add_ons"] = tuple(add_on(code=a.code, charge=a.charge.amount) for a in args["add_ons"])
    return args


try:
    import pydantic
except ImportError:  # pragma: no cover - the peer is optional
    pydantic = None  # type: ignore[assignment]
try:
    import msgspec
except ImportError:  # pragma: no cover - the peer is optional
    msgspec = None  # type: ignore[assignment]


if pydantic is not None:
    Code = Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9]{4}[0-9FTU]$|^[A-V][0-9]{4}$")]
    Dx = Annotated[str, pydantic.StringConstraints(pattern=r"^[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?$")]
    Mod = Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9A-Z]{2}$")]
    Amount = Annotated[Decimal, pydantic.Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]

    class PRef(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
        first_name: str = ""
        last_name: str = ""
        npi: Annotated[str, pydantic.StringConstraints(pattern=r"^[12][0-9]{9}$")] | None = None
        qualifier: str = "DN"

    class PAddOn(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
        code: Code
        units: Decimal = Decimal(1)
        charge: Amount
        modifiers: tuple[Mod, ...] = ()

    class PSession(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
        id: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=64)]
        client_id: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=64)]
        date_of_service: date
        billing_code: Code
        minutes: Annotated[int, pydantic.Field(ge=0, le=1440)] | None = None
        units: Decimal = Decimal(1)
        charge: Amount
        diagnoses: Annotated[tuple[Dx, ...], pydantic.Field(max_length=4)] = ()
        modifiers: Annotated[tuple[Mod, ...], pydantic.Field(max_length=4)] = ()
        place_of_service: Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9]{2}$")] = "11"
        bill_to: str = "automatic"
        paid_at_session: Amount = Decimal("0.00")
        referring_provider: PRef | None = None
        line_note: Annotated[str, pydantic.StringConstraints(max_length=80)] = ""
        comments: str = ""
        add_ons: Annotated[tuple[PAddOn, ...], pydantic.Field(max_length=4)] = ()
        appointment_key: str | None = None
        status: str = "open"
        version: int = 0

    def _pydantic_args(raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        ref = out.get("referring_provider")
        if ref is not None:
            out["referring_provider"] = {
                "first_name": ref.first_name,
                "last_name": ref.last_name,
                "npi": ref.npi,
            }
        if "add_ons" in out:
            out["add_ons"] = tuple({"code": a.code, "charge": str(a.charge.amount)} for a in out["add_ons"])
        return out

    PEERS["pydantic v2"] = {
        "prepare": _pydantic_args,
        "build": lambda kw: PSession(**kw),
        "dumps": lambda s: s.model_dump_json(exclude_defaults=True),
        "loads": PSession.model_validate_json,
    }


if msgspec is not None:
    MCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}[0-9FTU]$|^[A-V][0-9]{4}$")]
    MDx = Annotated[str, msgspec.Meta(pattern=r"^[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?$")]
    MMod = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Z]{2}$")]

    class MRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
        first_name: str = ""
        last_name: str = ""
        npi: Annotated[str, msgspec.Meta(pattern=r"^[12][0-9]{9}$")] | None = None
        qualifier: str = "DN"

    class MAddOn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
        code: MCode
        charge: Decimal
        units: Decimal = Decimal(1)
        modifiers: tuple[MMod, ...] = ()

    class MSession(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
        id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
        client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
        date_of_service: date
        billing_code: MCode
        charge: Decimal
        minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | None = None
        units: Decimal = Decimal(1)
        diagnoses: Annotated[tuple[MDx, ...], msgspec.Meta(max_length=4)] = ()
        modifiers: Annotated[tuple[MMod, ...], msgspec.Meta(max_length=4)] = ()
        place_of_service: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}$")] = "11"
        bill_to: str = "automatic"
        paid_at_session: Decimal = Decimal("0.00")
        referring_provider: MRef | None = None
        line_note: Annotated[str, msgspec.Meta(max_length=80)] = ""
        comments: str = ""
        add_ons: tuple[MAddOn, ...] = ()
        appointment_key: str | None = None
        status: str = "open"
        version: int = 0

    _DECODER = msgspec.json.Decoder(MSession)
    _ENCODER = msgspec.json.Encoder(decimal_format="string")

    def _msgspec_args(raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        out["charge"] = Decimal(out["charge"])
        out["paid_at_session"] = Decimal(out["paid_at_session"])
        return _with_nested(out, MRef, MAddOn)

    def _msgspec_build(kw: dict[str, Any]) -> Any:
        # A Struct's __init__ does not validate: convert() checks the declared constraints, as a user would.
        return msgspec.convert(msgspec.to_builtins(MSession(**kw)), MSession)

    PEERS["msgspec"] = {
        "prepare": _msgspec_args,
        "build": _msgspec_build,
        "dumps": _ENCODER.encode,
        "loads": _DECODER.decode,
    }


# attrs + cattrs: frozen slotted classes whose validators check what the other peers declare, read and
# written by cattrs' preconfigured JSON converter (the standard library's json), defaults left out.
_A_CODE = v.matches_re(r"[0-9]{4}[0-9FTU]|[A-V][0-9]{4}")
_A_DX = v.matches_re(r"[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?")
_A_MOD = v.matches_re(r"[0-9A-Z]{2}")
_A_ID = v.and_(v.instance_of(str), v.min_len(1), v.max_len(64))
_A_MAX = Decimal("99999999.99")


def _a_amount(_instance: object, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    if not (0 <= value <= _A_MAX) or not isinstance(exponent, int) or exponent < -2:
        raise ValueError(f"{attribute.name}: an amount with at most two places")


def _a_codes(member: Any, most: int) -> Any:
    return v.deep_iterable(
        member_validator=member, iterable_validator=v.and_(v.instance_of(tuple), v.max_len(most))
    )


@attrs.frozen
class ARef:
    first_name: str = attrs.field(default="", validator=v.instance_of(str))
    last_name: str = attrs.field(default="", validator=v.instance_of(str))
    npi: str | None = attrs.field(default=None, validator=v.optional(v.matches_re(r"[12][0-9]{9}")))
    qualifier: str = attrs.field(default="DN", validator=v.instance_of(str))


@attrs.frozen
class AAddOn:
    code: str = attrs.field(validator=_A_CODE)
    charge: Decimal = attrs.field(converter=Decimal, validator=_a_amount)
    units: Decimal = attrs.field(default=Decimal(1), converter=Decimal)
    modifiers: tuple[str, ...] = attrs.field(default=(), validator=_a_codes(_A_MOD, 4))


@attrs.frozen
class ASession:
    id: str = attrs.field(validator=_A_ID)
    client_id: str = attrs.field(validator=_A_ID)
    date_of_service: date = attrs.field(validator=v.instance_of(date))
    billing_code: str = attrs.field(validator=_A_CODE)
    charge: Decimal = attrs.field(converter=Decimal, validator=_a_amount)
    minutes: int | None = attrs.field(
        default=None, validator=v.optional(v.and_(v.instance_of(int), v.ge(0), v.le(1440)))
    )
    units: Decimal = attrs.field(default=Decimal(1), converter=Decimal)
    diagnoses: tuple[str, ...] = attrs.field(default=(), validator=_a_codes(_A_DX, 4))
    modifiers: tuple[str, ...] = attrs.field(default=(), validator=_a_codes(_A_MOD, 4))
    place_of_service: str = attrs.field(default="11", validator=v.matches_re(r"[0-9]{2}"))
    bill_to: str = attrs.field(default="automatic", validator=v.instance_of(str))
    paid_at_session: Decimal = attrs.field(default=Decimal("0.00"), converter=Decimal, validator=_a_amount)
    referring_provider: ARef | None = attrs.field(default=None, validator=v.optional(v.instance_of(ARef)))
    line_note: str = attrs.field(default="", validator=v.and_(v.instance_of(str), v.max_len(80)))
    comments: str = attrs.field(default="", validator=v.instance_of(str))
    add_ons: tuple[AAddOn, ...] = attrs.field(default=(), validator=_a_codes(v.instance_of(AAddOn), 4))
    appointment_key: str | None = attrs.field(default=None, validator=v.optional(v.instance_of(str)))
    status: str = attrs.field(default="open", validator=v.instance_of(str))
    version: int = attrs.field(default=0, validator=v.instance_of(int))


_A_CONVERTER = make_converter(omit_if_default=True)
_A_CONVERTER.register_unstructure_hook(Decimal, str)
_A_CONVERTER.register_structure_hook(Decimal, lambda value, _: Decimal(value))


def _attrs_args(raw: dict[str, Any]) -> dict[str, Any]:
    return _with_nested(dict(raw), ARef, AAddOn)


PEERS["attrs + cattrs"] = {
    "prepare": _attrs_args,
    "build": lambda kw: ASession(**kw),
    "dumps": _A_CONVERTER.dumps,
    "loads": lambda text: _A_CONVERTER.loads(text, ASession),
}


def available() -> Iterator[str]:
    """The names of the peers installed here."""
    yield from PEERS


def _check_shapes() -> None:  # pragma: no cover - a manual sanity check
    print(json.dumps(sorted(PEERS)))
