"""Calendar import: appointments become client sessions, once each, on the right date.

:func:`import_appointments` reads a :class:`~sessionkit.appointments.CalendarSource`
for a date range, asks a :class:`~sessionkit.appointments.ClientMatcher` whose
appointment each one is, and creates a session through the
:class:`~sessionkit.builder.SessionBuilder` for every new one. It answers an
:class:`ImportReport` with exactly one :class:`ImportOutcome` per item the
source yields (readable or not), in the source's order.

Rules, in the order they are applied to each appointment:

1. an item the source could not read is ``INVALID`` (its reason names the
   property at fault, and the line when known);
2. with ``select``, an appointment whose key is not selected is ``NOT_SELECTED``;
3. an appointment whose key (or one of its ``aliases``: the key it had
   before, e.g. as a single event since made weekly) a saved session already
   carries is ``ALREADY_IMPORTED``, or ``CHANGED`` when the calendar now differs
   from the saved session (another local date, other minutes, cancelled since):
   the saved session is never altered, billed data does not change silently;
4. a cancelled appointment is ``SKIPPED_CANCELLED``, an all-day event
   ``SKIPPED_ALL_DAY``;
5. an appointment without exactly one client is ``UNMATCHED_CLIENT`` (with the
   :class:`~sessionkit.appointments.MatchFailure`);
5a. an appointment from a source without stable ids (its ``slot`` is set: a CSV
   without a uid column) is ``CONFLICT`` when the same client already has a
   session on the same date under another key of the same slot (same source,
   same start): the title was edited, or the row was keyed differently; the
   saved session is named and nothing is created (a person decides);
6. otherwise a session is created with the builder's defaults, the date of
   service being the start's local date in the practice time zone and the
   minutes the appointment's duration: ``CREATED`` (``WOULD_CREATE`` in a dry
   run, which saves nothing). A save that fails (no default billing code, a
   client missing from the setup, ...) makes that one appointment ``INVALID``
   with the error's code; the rest go on. A save that loses a race with another
   import (the appointment key is unique) is ``ALREADY_IMPORTED``.

Reasons and the report's text never contain client data (titles, names,
emails): only keys, dates, kinds and error codes.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from sessionkit.appointments import (
    Appointment,
    CalendarSource,
    ClientMatcher,
    InvalidAppointment,
    MatchFailure,
)
from sessionkit.builder import SessionBuilder, SessionDraft
from sessionkit.domain import ClientSession, Coverage
from sessionkit.errors import ConcurrentUpdate, InvalidValue, SessionkitError
from sessionkit.facts import AuthorizationUse, active_coverages
from sessionkit.ports import AlreadyExists, UnitOfWork

__all__ = ["ImportOutcome", "ImportReport", "OutcomeKind", "import_appointments"]

KEY_TAKEN = "session.appointment_key_taken"
"""The error code a repository gives when another session carries the appointment key."""


class OutcomeKind(str, enum.Enum):
    """What the import did with one appointment."""

    CREATED = "created"
    """A session was created (``session_id``)."""
    WOULD_CREATE = "would_create"
    """Dry run: a session would be created; nothing was saved."""
    ALREADY_IMPORTED = "already_imported"
    """A saved session carries the appointment key and still agrees with the calendar."""
    CHANGED = "changed"
    """Imported before, but the calendar now differs (``changes``); the session was left as it is."""
    UNMATCHED_CLIENT = "unmatched_client"
    """No client, or more than one (``match_failure``)."""
    SKIPPED_ALL_DAY = "skipped_all_day"
    """An all-day event: not a session."""
    SKIPPED_CANCELLED = "skipped_cancelled"
    """Cancelled in the calendar before it was imported."""
    INVALID = "invalid"
    """Unreadable in the calendar, or the session could not be saved (``code``)."""
    NOT_SELECTED = "not_selected"
    """``select`` was given and did not include the key."""
    CONFLICT = "conflict"
    """Not created: the client has a session on that date from the same source and start
    under another key (``session_id``), e.g. a CSV row whose title was edited."""

    @property
    def label(self) -> str:
        """The kind as words, e.g. ``already imported``."""
        return self.value.replace("_", " ")


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """What happened to one appointment.

    :ivar key: the appointment's occurrence key (or the source's positional key).
    :ivar kind: the :class:`OutcomeKind`.
    :ivar session_id: the session created, or the saved one carrying the key
        (CREATED, ALREADY_IMPORTED, CHANGED; None in a dry run).
    :ivar client_id: the matched client, when there is one.
    :ivar date_of_service: the appointment's local start date in the practice
        zone (None for an unreadable item).
    :ivar minutes: the appointment's duration (None for an unreadable item).
    :ivar reason: plain text without client data.
    :ivar code: a stable code: the error's for INVALID (e.g.
        ``practice.no_default_billing_code``), else ``import.<kind>``.
    :ivar match_failure: for UNMATCHED_CLIENT, NO_MATCH or AMBIGUOUS.
    :ivar changes: for CHANGED, what differs: ``date_of_service``, ``minutes``, ``cancelled``.
    :ivar warnings: the codes of the draft's warnings (CREATED, WOULD_CREATE),
        e.g. ``billing_code.time_mismatch``.
    """

    key: str
    kind: OutcomeKind
    session_id: str | None = None
    client_id: str | None = None
    date_of_service: date | None = None
    minutes: int | None = None
    reason: str = ""
    code: str = ""
    match_failure: MatchFailure | None = None
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO text, enums as their values)."""
        return {
            "key": self.key,
            "kind": self.kind.value,
            "session_id": self.session_id,
            "client_id": self.client_id,
            "date_of_service": None if self.date_of_service is None else self.date_of_service.isoformat(),
            "minutes": self.minutes,
            "reason": self.reason,
            "code": self.code,
            "match_failure": None if self.match_failure is None else self.match_failure.value,
            "changes": list(self.changes),
            "warnings": list(self.warnings),
        }


def _row(o: ImportOutcome) -> tuple[str, str, str, str]:
    day = "" if o.date_of_service is None else o.date_of_service.isoformat()
    return (o.kind.label, day, o.key, o.reason)


@attrs.frozen(kw_only=True)
class ImportReport:
    """The outcome of every appointment of an import, in the source's order.

    :ivar outcomes: one :class:`ImportOutcome` per item the source yielded.
    :ivar start: first date of the range read.
    :ivar end: last date of the range read (inclusive).
    :ivar dry_run: True when nothing was saved.
    :ivar missing_selection: selected keys the source did not yield in the range.
    """

    outcomes: tuple[ImportOutcome, ...]
    start: date
    end: date
    dry_run: bool = False
    missing_selection: tuple[str, ...] = ()

    def counts(self) -> Mapping[OutcomeKind, int]:
        """How many outcomes of each kind, for every kind (zeros included), in enum order."""
        found = dict.fromkeys(OutcomeKind, 0)
        for o in self.outcomes:
            found[o.kind] += 1
        return found

    def by_kind(self, kind: OutcomeKind | str) -> tuple[ImportOutcome, ...]:
        """The outcomes of one kind, in order."""
        wanted = OutcomeKind(kind)
        return tuple(o for o in self.outcomes if o.kind is wanted)

    @property
    def created(self) -> tuple[ImportOutcome, ...]:
        """The outcomes that created a session."""
        return self.by_kind(OutcomeKind.CREATED)

    @property
    def session_ids(self) -> tuple[str, ...]:
        """The ids of the sessions this import created."""
        return tuple(o.session_id for o in self.created if o.session_id is not None)

    def _title(self) -> str:
        run = " (dry run: nothing saved)" if self.dry_run else ""
        n = len(self.outcomes)
        return (
            f"Import {self.start.isoformat()} to {self.end.isoformat()}{run}: "
            f"{n} appointment{'' if n == 1 else 's'}"
        )

    def __str__(self) -> str:
        """A plain-text summary: counts of the kinds that occur, then one line per appointment."""
        lines = [self._title()]
        lines += [f"  {kind.label:<18} {n:>4}" for kind, n in self.counts().items() if n]
        if self.outcomes:
            rows = [_row(o) for o in self.outcomes]
            kw = max(len(r[0]) for r in rows)
            keyw = max(len(r[2]) for r in rows)
            lines.append("")
            for kind, day, key, reason in rows:
                lines.append(f"  {kind:<{kw}}  {day:<10}  {key:<{keyw}}  {reason}".rstrip())
        if self.missing_selection:
            lines.append(f"  {len(self.missing_selection)} selected key(s) not found in the range")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks (every value escaped)."""
        e = html.escape
        counts = ", ".join(f"{e(k.label)}: {n}" for k, n in self.counts().items() if n)
        head = "".join(f"<th>{e(h)}</th>" for h in ("kind", "date", "key", "reason"))
        body = "".join(
            "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in _row(o)) + "</tr>" for o in self.outcomes
        )
        return (
            f"<div><p>{e(self._title())}</p><p>{counts}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: range, dry run, counts by kind value and every outcome."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "dry_run": self.dry_run,
            "counts": {k.value: n for k, n in self.counts().items()},
            "outcomes": [o.to_dict() for o in self.outcomes],
            "missing_selection": list(self.missing_selection),
        }


def _uow_of(builder: SessionBuilder) -> UnitOfWork:
    # The builder's unit of work (or a fresh one from its factory): the import
    # reads the practice and the appointment keys through the same storage.
    return builder.unit_of_work()


class _ClientDefaults:
    """What the builder gives every new session of one client in this import.

    Within one import the builder's defaults for a client do not change from
    one appointment to the next: the next draft takes the code, charge and
    diagnoses of the session just imported, which took them from the first
    draft, and the minutes are always the appointment's. So the first
    appointment of each client is drafted by the builder and the others copy
    its session, with their own id, date, key and minutes. Their warnings are
    the first draft's warnings for their date and minutes (cached by whether
    the date is in the future and by the minutes): a new session has no
    add-ons and nothing paid.

    A client with authorizations: their usage counts the sessions saved before,
    so each authorization's :class:`~sessionkit.facts.AuthorizationUse` is
    counted once, over the client's saved sessions, and updated with each
    session this import creates (:meth:`AuthorizationUse.with_session`); each
    appointment's warnings are the draft's with the authorizations and
    coverages active on its date. That is what the builder would count, without
    reading every saved session again for each appointment (which made such an
    import quadratic).
    """

    __slots__ = ("client_coverages", "draft", "fields", "uses", "warnings")

    def __init__(
        self,
        draft: SessionDraft,
        uses: tuple[AuthorizationUse, ...] | None = None,
        client_coverages: tuple[Coverage, ...] = (),
    ) -> None:
        self.draft = draft
        self.uses = uses
        """Every authorization of the client with its uses; None when the client has none."""
        self.client_coverages = client_coverages
        self.warnings: dict[tuple[bool, int], tuple[str, ...]] = {}
        template = draft.session
        # Every field of the first draft's session but those each appointment sets.
        self.fields: dict[str, Any] = {
            a.name: getattr(template, a.name) for a in attrs.fields(ClientSession) if a.name not in _OWN
        }

    def session(
        self, item: Appointment, dos: date, minutes: int, *, saved: bool = True
    ) -> tuple[ClientSession, tuple[str, ...]]:
        """The appointment's session and its warnings; ``saved``: it will be saved (it then counts)."""
        session = ClientSession(**self.fields, date_of_service=dos, minutes=minutes, appointment_key=item.key)
        if self.uses is not None:
            draft = attrs.evolve(
                self.draft,
                session=session,
                coverages=active_coverages(session.client_id, dos, self.client_coverages),
                authorizations=tuple(u for u in self.uses if u.authorization.is_active(dos)),
            )
            codes = tuple(w.code for w in draft.warnings)
            if saved:
                self.uses = tuple(u.with_session(session, self.client_coverages) for u in self.uses)
            return session, codes
        key = (dos > self.draft.today, minutes)
        warnings = self.warnings.get(key)
        if warnings is None:
            warnings = tuple(w.code for w in attrs.evolve(self.draft, session=session).warnings)
            self.warnings[key] = warnings
        return session, warnings


_OWN = frozenset({"id", "date_of_service", "minutes", "appointment_key"})
"""The fields each appointment gives its session (a new id, its date, minutes and key)."""


class _Importer:
    """One run of :func:`import_appointments`.

    With ``bulk`` (inside a batch), new sessions are built from their client's
    first draft (authorization uses kept up to date) and saved all
    together by :meth:`flush`; ``pending`` holds them by appointment key so
    that a key listed twice is seen as imported. Without it, every session
    goes through the builder and is saved at once.
    """

    def __init__(  # noqa: PLR0917 -- private; one argument per option of the import
        self,
        matcher: ClientMatcher,
        builder: SessionBuilder,
        zone: ZoneInfo,
        select: frozenset[str] | None,
        dry_run: bool,
        bulk: bool = False,
    ) -> None:
        self.matcher = matcher
        self.builder = builder
        self.zone = zone
        self.select = select
        self.dry_run = dry_run
        self.bulk = bulk
        self.planned: set[str] = set()  # keys a dry run would create
        self.pending: dict[str, ClientSession] = {}  # bulk: created, saved by flush()
        self.defaults: dict[str, _ClientDefaults] = {}  # bulk: each client's first draft
        # (client, date, slot) -> (key, session id) of what this run created or would create
        self.slots: dict[tuple[str, date, str], tuple[str, str | None]] = {}

    def find(self, key: str) -> ClientSession | None:
        pending = self.pending.get(key)
        if pending is not None:
            return pending
        with _uow_of(self.builder) as uow:
            return uow.sessions.by_appointment_key(key)

    def flush(self) -> None:
        """Save the sessions built in bulk (in the unit of work of the batch)."""
        if self.pending:
            with _uow_of(self.builder) as uow:
                uow.sessions.save_many(self.pending.values())
            self.pending = {}

    def outcome(self, item: Appointment | InvalidAppointment) -> ImportOutcome:
        if isinstance(item, InvalidAppointment):
            where = "" if item.line is None else f" (line {item.line})"
            return ImportOutcome(
                key=item.key,
                kind=OutcomeKind.INVALID,
                reason=f"{item.reason}{where}",
                code="appointment.invalid",
            )
        dos = item.local_date(self.zone)
        minutes = item.duration_minutes
        base = ImportOutcome(
            key=item.key,
            kind=OutcomeKind.INVALID,
            date_of_service=dos,
            minutes=minutes,
        )
        if self.select is not None and item.key not in self.select:
            return _set(base, OutcomeKind.NOT_SELECTED, "not selected for import")
        stored = self.find(item.key)
        for alias in item.aliases:
            if stored is not None:
                break
            stored = self.find(alias)
        if stored is not None:
            return self.imported(base, item, stored)
        if self.dry_run and item.key in self.planned:
            return _set(base, OutcomeKind.ALREADY_IMPORTED, "the calendar lists this appointment twice")
        if item.cancelled:
            return _set(base, OutcomeKind.SKIPPED_CANCELLED, "cancelled in the calendar")
        if item.all_day:
            return _set(base, OutcomeKind.SKIPPED_ALL_DAY, "all-day event: not a session")
        try:
            match = self.matcher.match(item)
        except SessionkitError as exc:
            return _failed(base, exc)
        if match.client_id is None:
            failure = match.reason or MatchFailure.NO_MATCH
            reason = (
                "more than one client matches" if failure is MatchFailure.AMBIGUOUS else "no client matches"
            )
            return attrs.evolve(_set(base, OutcomeKind.UNMATCHED_CLIENT, reason), match_failure=failure)
        if item.slot is not None:
            clash = self.clash(item, match.client_id, dos, item.slot)
            if clash is not None:
                return attrs.evolve(
                    _set(
                        base,
                        OutcomeKind.CONFLICT,
                        "the client has a session on this date from the same calendar and start "
                        "under another key; nothing was created",
                    ),
                    client_id=match.client_id,
                    session_id=clash or None,
                )
        if self.bulk:
            outcome = self.create_bulk(base, item, match.client_id, dos, minutes)
        else:
            outcome = self.create(attrs.evolve(base, client_id=match.client_id), item, match.client_id)
        if item.slot is not None and outcome.kind in {OutcomeKind.CREATED, OutcomeKind.WOULD_CREATE}:
            self.slots.setdefault((match.client_id, dos, item.slot), (item.key, outcome.session_id))
        return outcome

    def clash(self, item: Appointment, client_id: str, dos: date, slot: str) -> str | None:
        """The id of another session of ``client_id`` on ``dos`` keyed in ``slot`` ('' in a dry run), or None."""
        mine = self.slots.get((client_id, dos, slot))
        if mine is not None and mine[0] != item.key:
            return mine[1] or ""
        with _uow_of(self.builder) as uow:
            saved = uow.sessions.between(dos, dos)
        for session in saved:
            key = session.appointment_key
            if (
                session.client_id == client_id
                and session.date_of_service == dos
                and key is not None
                and key != item.key
                and key.startswith(slot)
            ):
                return session.id
        return None

    def imported(self, base: ImportOutcome, item: Appointment, stored: ClientSession) -> ImportOutcome:
        base = attrs.evolve(base, session_id=stored.id, client_id=stored.client_id)
        changes: list[str] = []
        if stored.date_of_service != base.date_of_service:
            changes.append("date_of_service")
        if stored.minutes != base.minutes:
            changes.append("minutes")
        if item.cancelled:
            changes.append("cancelled")
        if not changes:
            return _set(base, OutcomeKind.ALREADY_IMPORTED, "imported before")
        words = {"date_of_service": "date of service", "minutes": "minutes", "cancelled": ""}
        moved = [words[c] for c in changes if words[c]]
        parts = []
        if moved:
            parts.append(f"{' and '.join(moved)} differ from the saved session")
        if item.cancelled:
            parts.append("cancelled in the calendar after import")
        reason = "; ".join(parts) + "; the saved session was left unchanged"
        return attrs.evolve(_set(base, OutcomeKind.CHANGED, reason), changes=tuple(changes))

    def client_defaults(self, client_id: str, dos: date) -> _ClientDefaults:
        """The client's defaults for bulk creation (its first draft, and its authorizations' uses).

        Raises what the builder's ``start`` raises (no default code, unknown client).
        """
        if client_id in self.defaults:
            return self.defaults[client_id]
        draft = self.builder.start(client_id, dos)
        with _uow_of(self.builder) as uow:
            authorizations = uow.authorizations.for_client(client_id)
            if authorizations:
                coverages = tuple(uow.coverages.for_client(client_id))
                sessions = uow.sessions.by_client(client_id)
                uses = tuple(AuthorizationUse.count(a, sessions, coverages) for a in authorizations)
                found = _ClientDefaults(draft, uses, coverages)
            else:
                found = _ClientDefaults(draft)
        self.defaults[client_id] = found
        return found

    def create_bulk(
        self, base: ImportOutcome, item: Appointment, client_id: str, dos: date, minutes: int
    ) -> ImportOutcome:
        try:
            defaults = self.client_defaults(client_id, dos)
            session, warnings = defaults.session(item, dos, minutes, saved=not self.dry_run)
        except SessionkitError as exc:
            return _failed(attrs.evolve(base, client_id=client_id), exc)
        key = item.key
        if self.dry_run:
            self.planned.add(key)
            kind, reason, session_id = OutcomeKind.WOULD_CREATE, "would be created (dry run)", None
        else:
            self.pending[key] = session
            kind, reason, session_id = OutcomeKind.CREATED, "session created", session.id
        return ImportOutcome(
            key=key,
            kind=kind,
            session_id=session_id,
            client_id=client_id,
            date_of_service=dos,
            minutes=minutes,
            reason=reason,
            code=f"import.{kind.value}",
            warnings=warnings,
        )

    def create(self, base: ImportOutcome, item: Appointment, client_id: str) -> ImportOutcome:
        key = item.key
        try:
            draft = self.builder.start(client_id, item.local_date(self.zone))
            draft = draft.with_appointment_key(key, minutes=item.duration_minutes)
            warnings = tuple(w.code for w in draft.warnings)
            if self.dry_run:
                self.planned.add(key)
                return attrs.evolve(
                    _set(base, OutcomeKind.WOULD_CREATE, "would be created (dry run)"), warnings=warnings
                )
            saved = self.builder.save(draft).session
        except AlreadyExists as exc:
            if exc.code != KEY_TAKEN:
                return _failed(base, exc)
            stored = self.find(key)
            return _set(
                attrs.evolve(
                    base,
                    session_id=None if stored is None else stored.id,
                    client_id=base.client_id if stored is None else stored.client_id,
                ),
                OutcomeKind.ALREADY_IMPORTED,
                "imported meanwhile by another import",
            )
        except SessionkitError as exc:
            return _failed(base, exc)
        return attrs.evolve(
            base,
            kind=OutcomeKind.CREATED,
            reason="session created",
            code=f"import.{OutcomeKind.CREATED.value}",
            session_id=saved.id,
            warnings=warnings,
        )


def _set(base: ImportOutcome, kind: OutcomeKind, reason: str) -> ImportOutcome:
    return attrs.evolve(base, kind=kind, reason=reason, code=f"import.{kind.value}")


def _failed(base: ImportOutcome, exc: SessionkitError) -> ImportOutcome:
    where = f" ({exc.field})" if exc.field else ""
    return attrs.evolve(base, kind=OutcomeKind.INVALID, reason=f"{exc.message}{where}", code=exc.code)


def import_appointments(  # noqa: PLR0917 -- the signature the issue specifies: select is positional
    source: CalendarSource,
    start: date,
    end: date,
    matcher: ClientMatcher,
    builder: SessionBuilder,
    select: Iterable[str] | None = None,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Import the appointments of ``start..end`` (inclusive) as sessions; see the module docstring.

    :param source: the calendar.
    :param matcher: says which client each appointment is for.
    :param builder: creates the sessions (its defaults apply) and gives the storage
        the import reads the practice's time zone and the appointment keys from.
    :param select: the keys to import (the selection screen); None imports all.
    :param dry_run: build every draft but save nothing (``WOULD_CREATE`` instead of ``CREATED``).
    :raises NotFound: the practice is not set up (``practice.not_found``).
    :raises CalendarError: the calendar cannot be read at all.

    Re-running an import creates nothing new: every appointment it created
    before is ``ALREADY_IMPORTED`` (or ``CHANGED``).
    """
    if not all(isinstance(d, date) and not isinstance(d, datetime) for d in (start, end)):
        raise InvalidValue("start and end must be dates", "value.type", "start")
    if end < start:
        raise InvalidValue("end must not be before start", "import.range", "end")
    if isinstance(select, str):
        raise InvalidValue("select must be a collection of keys", "value.type", "select")
    chosen = None if select is None else frozenset(select)
    with _uow_of(builder) as uow:
        zone = uow.practice.get().zone
    outcomes = _run(source, start, end, matcher, builder, zone, chosen, dry_run, bulk=True)
    seen = {o.key for o in outcomes}
    missing = () if chosen is None else tuple(sorted(chosen - seen))
    return ImportReport(outcomes=outcomes, start=start, end=end, dry_run=dry_run, missing_selection=missing)


def _run(  # noqa: PLR0917 -- private; the arguments of import_appointments
    source: CalendarSource,
    start: date,
    end: date,
    matcher: ClientMatcher,
    builder: SessionBuilder,
    zone: ZoneInfo,
    chosen: frozenset[str] | None,
    dry_run: bool,
    *,
    bulk: bool,
) -> tuple[ImportOutcome, ...]:
    """The outcomes of the import; ``bulk=False`` drafts every session through the builder.

    Both ways give the same outcomes and the same saved sessions (but for
    their random ids): a property test compares them.
    """
    try:
        # One unit of work for the whole import: every session is committed
        # together (or none), which is also what makes a large import fast.
        with builder.batch() as batched:
            importer = _Importer(matcher, batched, zone, chosen, dry_run, bulk)
            outcomes = tuple(importer.outcome(item) for item in source.appointments(start, end))
            try:
                importer.flush()
            except SessionkitError as exc:
                raise _BulkSaveFailed from exc
    except (AlreadyExists, ConcurrentUpdate, _BulkSaveFailed):
        # Another import committed some of the same appointments meanwhile
        # (or the storage refused the sessions saved together): nothing of
        # this run was kept, so run again one appointment at a time, each
        # saved on its own (idempotent: what the other import created is
        # ALREADY_IMPORTED; a session the storage refuses is INVALID alone).
        importer = _Importer(matcher, builder, zone, chosen, dry_run)
        outcomes = tuple(importer.outcome(item) for item in source.appointments(start, end))
    return outcomes


class _BulkSaveFailed(Exception):
    """The sessions built in bulk could not be saved together: import one at a time instead."""
