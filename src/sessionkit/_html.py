"""Small HTML helpers for notebook display (``_repr_html_``); every value is escaped.

Private: the public face is the ``_repr_html_`` method of
:class:`~sessionkit.domain.ClientSession` and
:class:`~sessionkit.builder.SessionDraft`. This module imports nothing from
sessionkit at import time, so the domain can call it without an import cycle.
The session table is built from the session's attrs fields: a new field shows
without an edit here. The display keeps every value (a person opens it on
purpose); ``repr()`` is what redacts client data.

>>> table(("code", "note"), [("90834", "<b>")])
'<table><thead><tr><th>code</th><th>note</th></tr></thead><tbody><tr><td>90834</td><td>&lt;b&gt;</td></tr></tbody></table>'
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from sessionkit.builder import SessionDraft
    from sessionkit.domain import ClientSession

__all__ = ["cell", "draft_html", "fields_table", "session_html", "table"]


def _text(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, date):
        value = value.isoformat()
    return str(value)


def cell(value: object) -> str:
    """One value as escaped text: ``None`` is empty, enums show their value, dates ISO.

    >>> cell(None), cell(date(2026, 3, 2)), cell("a<b")
    ('', '2026-03-02', 'a&lt;b')
    """
    return "" if value is None else html.escape(_text(value))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, css_class: str = "") -> str:
    """An HTML table with a header row; every header and cell escaped."""
    cls = f' class="{html.escape(css_class)}"' if css_class else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fields_table(pairs: Iterable[tuple[str, object]], *, css_class: str = "") -> str:
    """A two-column field/value table, skipping empty values (``None``, ``""``, ``()``)."""
    rows = [(name, value) for name, value in pairs if value not in (None, "", ())]
    return table(("field", "value"), rows, css_class=css_class)


def _shown(value: object) -> object:
    """A field's value as the table shows it; nested objects as their non-default parts."""
    from sessionkit.domain import AddOnLine, DiagnosisCode, Modifier, PlaceOfService  # noqa: PLC0415 (no cycle)

    if isinstance(value, tuple):
        return ", ".join(str(_shown(v)) for v in value)
    if isinstance(value, (DiagnosisCode, Modifier)):
        return value.code
    if isinstance(value, PlaceOfService):
        return f"{value.code} {value.name}"
    if isinstance(value, AddOnLine):
        return f"{value.code} x{value.units} {value.charge}"
    cls: Any = type(value)
    if attrs.has(cls):
        parts = (
            _shown(getattr(value, a.name)) for a in attrs.fields(cls) if getattr(value, a.name) != a.default
        )
        return " ".join(_text(p) for p in parts if p not in (None, "", ())) or None
    return value


def _session_pairs(session: ClientSession) -> list[tuple[str, object]]:
    """Every field of the session (from its attrs declarations), then the total charge."""
    pairs = [(a.name, _shown(getattr(session, a.name))) for a in attrs.fields(type(session))]
    pairs.append(("total_charge", session.total_charge))
    return pairs


def session_html(session: ClientSession) -> str:
    """A client session as a field/value table."""
    title = html.escape(
        f"Session {session.id}: {session.billing_code} on {session.date_of_service.isoformat()}"
    )
    return f'<div class="sessionkit-session"><p>{title}</p>{fields_table(_session_pairs(session))}</div>'


def draft_html(draft: SessionDraft) -> str:
    """A session draft: the session, then warnings, insurance notes and authorizations."""
    s = draft.session
    state = "new session" if draft.is_new else f"editing session {s.id}"
    destinations = ", ".join(sorted(d.value for d in draft.destinations)) or "none"
    parts = [
        '<div class="sessionkit-draft">',
        f"<p>{html.escape(f'Draft ({state}) for {draft.client.full_name}')}</p>",
        f"<p>{html.escape(f'Billed to: {destinations}; client share {draft.client_share}')}</p>",
        fields_table(_session_pairs(s)),
    ]
    if draft.warnings:
        parts.append("<p>Warnings</p>")
        parts.append(
            table(
                ("code", "field", "message", "hint"),
                [(w.code, w.field, w.message, w.hint) for w in draft.warnings],
            )
        )
    if draft.insurance_notes:
        parts.append("<p>Insurance notes</p>")
        parts.append(table(("payer", "note"), [(n.payer_name, n.note) for n in draft.insurance_notes]))
    if draft.client_file_note:
        parts.append(f"<p>Client file note: {html.escape(draft.client_file_note)}</p>")
    if draft.authorizations:
        parts.append("<p>Authorizations</p>")
        parts.append(
            table(
                ("number", "start", "end", "authorized", "used", "remaining"),
                [
                    (
                        u.authorization.number,
                        u.authorization.start,
                        u.authorization.end,
                        u.sessions_authorized,
                        u.used,
                        u.remaining,
                    )
                    for u in draft.authorizations
                ],
            )
        )
    parts.append("</div>")
    return "".join(parts)
