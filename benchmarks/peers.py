"""The peers: the same session shape as a pydantic v2 model and a msgspec Struct, for the benchmark.

Each peer gets the same keyword arguments as ``ClientSession`` (primitive
values: strings, ints, dates, tuples) and checks what it can declare: the
types, Decimal money with two places, code formats by pattern, lengths.
sessionkit checks more (NPI check digits, the CMS place-of-service list, the
HCPCS cache...), so the comparison favours the peers. Install them for the
benchmark only: ``pip install pydantic msgspec``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

PEERS: dict[str, dict[str, Callable[..., Any]]] = {}

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
        ref = out.get("referring_provider")
        if ref is not None:
            out["referring_provider"] = MRef(first_name=ref.first_name, last_name=ref.last_name, npi=ref.npi)
        if "add_ons" in out:
            out["add_ons"] = tuple(MAddOn(code=a.code, charge=a.charge.amount) for a in out["add_ons"])
        return out

    def _msgspec_build(kw: dict[str, Any]) -> Any:
        # A Struct's __init__ does not validate: convert() checks the declared constraints, as a user would.
        return msgspec.convert(msgspec.to_builtins(MSession(**kw)), MSession)

    PEERS["msgspec"] = {
        "prepare": _msgspec_args,
        "build": _msgspec_build,
        "dumps": _ENCODER.encode,
        "loads": _DECODER.decode,
    }


def available() -> Iterator[str]:
    """The names of the peers installed here."""
    yield from PEERS


def _check_shapes() -> None:  # pragma: no cover - a manual sanity check
    print(json.dumps(sorted(PEERS)))
