"""The session builder: the client-session entry screen as a service.

:class:`SessionBuilder` reads and writes through a
:class:`~sessionkit.ports.UnitOfWork`. ``start`` gives a :class:`SessionDraft`
holding a valid :class:`~sessionkit.domain.ClientSession` with the screen's
defaults and what the screen shows beside it (insurance notes, authorizations,
the client file note). Drafts are frozen: every ``with_*`` method returns a new
draft, and an edit that would break an invariant of ``ClientSession`` raises at
once, so a draft always holds a savable session. ``draft.warnings`` lists what
the biller should look at before saving; warnings never block a save.

``save(draft, action)`` saves in one unit of work and answers a
:class:`SaveResult`. See ``docs/entering-a-session.md`` for a walk-through.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, cast

import attrs

from sessionkit.codes import behavioral, hcpcs
from sessionkit.domain import (
    AddOnLine,
    Authorization,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    DiagnosisCode,
    InsuranceOverrides,
    Modifier,
    PlaceOfService,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    SessionStatus,
    _checks,
    new_id,
    refuse_locked_change,
)
from sessionkit.domain.payments import Payment, PaymentMethod
from sessionkit.errors import InvalidValue, NotFound, SessionkitError
from sessionkit.facts import AuthorizationUse, client_share, draws_on, over_payment
from sessionkit.money import Money, MoneyLike
from sessionkit.payments import PaymentGateway, pay_now, set_paid_at_session
from sessionkit.ports import (
    AdjudicationRepository,
    AuthorizationRepository,
    BillingCodeRepository,
    ClaimRecordRepository,
    ClientRepository,
    Clock,
    ControlNumbers,
    CoverageRepository,
    DiagnosisCodeRepository,
    InvoiceRepository,
    PayerRepository,
    PaymentRepository,
    PracticeRepository,
    SessionRepository,
    UnitOfWork,
)
from sessionkit.routing import Destination, route

__all__ = [
    "PROGRESS_NOTES",
    "AddOnDraft",
    "AuthorizationUsage",
    "DraftWarning",
    "InsuranceNote",
    "NextStep",
    "PayNowResult",
    "SaveAction",
    "SaveResult",
    "SessionBuilder",
    "SessionDraft",
    "authorization_usage",
]

PROGRESS_NOTES = "progress_notes"
"""The :attr:`NextStep.screen` of *Save and Add Note*: the client's progress notes."""


class SaveAction(str, enum.Enum):
    """The three save buttons of the entry screen."""

    SAVE = "save"
    """Save and go back to the list, ready for the next session."""
    SAVE_AND_ADD_NOTE = "save_and_add_note"
    """Save; the host app should then open progress notes for the client."""
    CREATE_ADD_ONS = "create_add_ons"
    """Save the primary session and go on to attach up to 4 add-on codes to it."""


@attrs.frozen(kw_only=True)
class DraftWarning:
    """Something the biller should look at before saving; it never blocks the save.

    :ivar code: stable dotted code, e.g. ``paid_at_session.over_payment``.
    :ivar field: path of the field concerned, e.g. ``add_ons[1].code``.
    :ivar message: plain text without client data.
    :ivar hint: what to do about it.
    :ivar amount: the money concerned (the credit an over-payment creates), if any.
    :ivar suggestion: the value suggested instead (the code the minutes fit), if any.
    """

    code: str
    field: str
    message: str
    hint: str = ""
    amount: Money | None = None
    suggestion: str | None = None


@attrs.frozen(kw_only=True)
class InsuranceNote:
    """The insurance note of a payer covering the client on the date of service."""

    payer_id: str
    payer_name: str
    note: str


AuthorizationUsage = AuthorizationUse
"""An authorization as the screen shows it: :class:`sessionkit.facts.AuthorizationUse`
(sessions authorized, ``used``, ``remaining``, ``over_used``), the same object readiness
and claims count with."""


def authorization_usage(
    authorization: Authorization, sessions: Iterable[ClientSession], coverages: Iterable[Coverage]
) -> AuthorizationUse:
    """Count ``sessions`` against ``authorization``: :meth:`sessionkit.facts.AuthorizationUse.count`.

    ``coverages`` are the client's coverages (they say which payer each
    session is billed to); other clients' sessions are skipped.
    """
    return AuthorizationUse.count(authorization, sessions, coverages)


def _dates(values: Iterable[date], date_of_service: date) -> tuple[date, ...]:
    if isinstance(values, (str, date)) or not isinstance(values, Iterable):
        raise InvalidValue("additional dates must be a sequence of dates", "value.type", "additional_dates")
    result = tuple(values)
    for i, value in enumerate(result):
        _checks.a_date(value, f"additional_dates[{i}]")
    if len(set(result)) != len(result) or date_of_service in result:
        raise InvalidValue(
            "additional dates repeat a date (or the date of service)",
            "session.dates_repeated",
            "additional_dates",
        )
    return result


def _frozen_mapping(value: Mapping[str, BillingCode]) -> Mapping[str, BillingCode]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class SessionDraft:
    """A session being entered or edited, with what the entry screen shows beside it.

    ``session`` is always a valid :class:`ClientSession`. ``stored`` is the
    saved session this draft edits (None for a new one). The other fields are
    the context read when the draft was made: the client, the practice, the
    coverages active on the date of service, the payers' insurance notes, the
    authorizations active on the date with their usage, the codes setup and
    the diagnosis setup (plus diagnoses added to it from this draft, saved
    with the session).
    """

    session: ClientSession
    stored: ClientSession | None = attrs.field(default=None, repr=False)
    client: Client = attrs.field(repr=False)
    practice: PracticeSetup = attrs.field(repr=False)
    today: date = attrs.field(repr=False)
    coverages: tuple[Coverage, ...] = attrs.field(default=(), repr=False)
    insurance_notes: tuple[InsuranceNote, ...] = ()
    authorizations: tuple[AuthorizationUse, ...] = ()
    billing_code_setup: Mapping[str, BillingCode] = attrs.field(
        factory=dict, converter=_frozen_mapping, eq=False, repr=False
    )
    diagnosis_setup: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    new_diagnoses: tuple[DiagnosisCode, ...] = ()
    additional_dates: tuple[date, ...] = ()
    """Further dates of the same service: saving creates one session per date (see :meth:`with_additional_dates`)."""
    payment_method: PaymentMethod = attrs.field(default=PaymentMethod.CASH, converter=PaymentMethod)
    """How a change of paid at session was paid: the ledger records it so (see :meth:`with_paid_at_session`)."""
    payment_reference: str | None = attrs.field(default=None, repr=False)
    """The check number (or other reference) of that payment."""

    # -- what the screen shows ------------------------------------------------

    @property
    def is_new(self) -> bool:
        """True until the session has been saved."""
        return self.stored is None

    @property
    def client_file_note(self) -> str:
        """The client file note of the client's setup (read-only on the screen)."""
        return self.client.client_file_note

    @property
    def client_share(self) -> Money:
        """What the client owes for this session (see :func:`sessionkit.facts.client_share`)."""
        return client_share(self.session, self.coverages)

    @property
    def over_payment(self) -> Money:
        """The credit paid-at-session would create (zero when it does not exceed the client's share)."""
        return over_payment(self.session, self.coverages)

    @property
    def destinations(self) -> frozenset[Destination]:
        """Where the session would be billed if saved as it is."""
        return route(self.session, self.coverages)

    @property
    def warnings(self) -> tuple[DraftWarning, ...]:
        """Every draft-level finding, in a fixed order (date, time, add-ons, payment, authorizations)."""
        s = self.session
        out: list[DraftWarning] = []
        if s.date_of_service > self.today:
            out.append(
                DraftWarning(
                    code="date_of_service.future",
                    field="date_of_service",
                    message="the date of service is in the future",
                    hint="a claim cannot be sent before the service",
                )
            )
        out.extend(self._time_warnings())
        out.extend(_pairing_warnings(s))
        credit = self.over_payment
        if credit:
            out.append(
                DraftWarning(
                    code="paid_at_session.over_payment",
                    field="paid_at_session",
                    message=f"paid at session is above the client's share; it would create a credit of {credit}",
                    hint="enter no more than the client's share (copay or coinsurance)",
                    amount=credit,
                )
            )
        for i, usage in enumerate(self.authorizations):
            # The same verdict as readiness and the claims gate: this session is beyond the
            # units authorized (the earliest dates use them) once it is saved.
            if draws_on(usage.authorization, s, self.coverages) and not usage.with_session(
                s, self.coverages
            ).allows(s):
                out.append(
                    DraftWarning(
                        code="authorization.exhausted",
                        field=f"authorizations[{i}]",
                        message="the authorization has no sessions left for this date; this session over-uses it",
                        hint="ask the payer for more sessions or bill the client",
                    )
                )
            elif usage.over_used:
                out.append(
                    DraftWarning(
                        code="authorization.over_used",
                        field=f"authorizations[{i}]",
                        message=f"the authorization is over-used by {usage.over_used} session(s)",
                        hint="ask the payer for more sessions or bill the client",
                    )
                )
        return tuple(out)

    def _time_warnings(self) -> list[DraftWarning]:
        s = self.session
        if s.minutes is None:
            return []
        verdict = behavioral.time_verdict(s.billing_code, s.minutes)
        suggestion = verdict.suggestion
        if verdict.fit in (behavioral.TimeFit.FITS, behavioral.TimeFit.UNTIMED):
            return []
        if suggestion is not None:
            return [
                DraftWarning(
                    code="billing_code.time_mismatch",
                    field="billing_code",
                    message=f"{s.minutes} minutes do not fit {s.billing_code}; they fit {suggestion}",
                    hint=f"bill {suggestion} or correct the session length",
                    suggestion=suggestion,
                )
            ]
        return [
            DraftWarning(
                code="billing_code.minutes_out_of_range",
                field="minutes",
                message=f"{s.minutes} minutes are outside the time rule of {s.billing_code}",
                hint="correct the session length or the billing code",
            )
        ]

    # -- editing ----------------------------------------------------------------

    def _edit(self, **changes: Any) -> SessionDraft:
        return attrs.evolve(self, session=attrs.evolve(self.session, **changes))

    def setup_code(self, code: str) -> BillingCode | None:
        """The codes-setup entry of ``code`` (any spelling), or None."""
        return self.billing_code_setup.get(hcpcs.validate(code)) if hcpcs.is_valid(code) else None

    def with_billing_code(self, code: str) -> SessionDraft:
        """Change the billing code: minutes and charge reset to that code's defaults in the setup.

        Raises InvalidBillingCode for a malformed code and NotFound
        (``billing_code.not_in_setup``) for a code the setup does not have.
        """
        normal = _checks.normalise(hcpcs.validate, code, "billing_code")
        setup = self.billing_code_setup.get(normal)
        if setup is None:
            raise NotFound(
                "the billing code is not in the codes setup", "billing_code.not_in_setup", "billing_code"
            )
        return self._edit(billing_code=normal, minutes=setup.default_minutes, charge=setup.default_charge)

    def with_minutes(self, minutes: int | None) -> SessionDraft:
        """Set the session length (kept until the billing code changes)."""
        return self._edit(minutes=minutes)

    def with_units(self, units: Decimal | int | str) -> SessionDraft:
        """Set the units of the session line."""
        return self._edit(units=units)

    def with_charge(self, charge: MoneyLike) -> SessionDraft:
        """Set the charge (kept until the billing code changes)."""
        return self._edit(charge=charge)

    def add_diagnosis_to_setup(self, diagnosis: DiagnosisCode | str) -> SessionDraft:
        """Add a diagnosis to the practice's setup; it is saved with the session, in the same unit of work.

        It is not selected: pass it to :meth:`with_diagnoses`. Adding a code
        the setup already has changes nothing.
        """
        dx = _checks.instance(DiagnosisCode.of(diagnosis), DiagnosisCode, "diagnosis")
        if dx.code in self.diagnosis_setup or any(d.code == dx.code for d in self.new_diagnoses):
            return self
        return attrs.evolve(self, new_diagnoses=(*self.new_diagnoses, dx))

    def with_diagnoses(self, diagnoses: Iterable[DiagnosisCode | str]) -> SessionDraft:
        """Set the primary and up to 3 additional diagnoses, primary first.

        Each must be in the diagnosis setup or added by
        :meth:`add_diagnosis_to_setup`, else NotFound
        (``diagnosis.not_in_setup``, field ``diagnoses[i]``).
        """
        if isinstance(diagnoses, str):
            raise InvalidValue("diagnoses must be a sequence of codes", "value.type", "diagnoses")
        known = self.diagnosis_setup | {d.code for d in self.new_diagnoses}
        chosen = []
        for i, value in enumerate(diagnoses):
            try:
                dx = DiagnosisCode.of(value)
            except SessionkitError as exc:
                raise exc.at(f"diagnoses[{i}]") from None
            if dx.code not in known:
                raise NotFound(
                    "the diagnosis is not in the diagnosis setup; add it first",
                    "diagnosis.not_in_setup",
                    f"diagnoses[{i}]",
                )
            chosen.append(dx)
        return self._edit(diagnoses=chosen)

    def with_paid_at_session(
        self,
        amount: MoneyLike,
        *,
        method: PaymentMethod | str | None = None,
        reference: str | None = None,
    ) -> SessionDraft:
        """Set what the client paid at the session (``method``: cash unless said, ``reference``: a check number).

        Saving records the change in the payments ledger
        (:func:`sessionkit.payments.set_paid_at_session`), so the figure and
        the ledger never disagree. To charge a card, use
        :meth:`SessionBuilder.pay_now` instead. Raises SessionLocked (field
        ``paid_at_session``) when an insurance EOB is posted for the saved
        session and the amount differs from the saved one.
        """
        draft = self._edit(paid_at_session=amount)
        refuse_locked_change(self.stored, draft.session)
        if method is not None or reference is not None:
            draft = attrs.evolve(
                draft,
                payment_method=self.payment_method if method is None else method,
                payment_reference=reference,
            )
        return draft

    def with_modifiers(self, modifiers: Iterable[Modifier | str]) -> SessionDraft:
        """Set up to 4 two-character billing code modifiers."""
        return self._edit(modifiers=modifiers)

    def with_place_of_service(self, place: PlaceOfService | str) -> SessionDraft:
        """Set the location type (place of service)."""
        return self._edit(place_of_service=place)

    def with_bill_to(self, bill_to: BillTo | str) -> SessionDraft:
        """Set *Bill To*: AUTOMATIC, or CLIENT to bypass insurance."""
        return self._edit(bill_to=bill_to)

    def with_additional_dates(self, dates: Iterable[date]) -> SessionDraft:
        """Set further dates of the same service: saving creates one session per date.

        Each of those sessions has the same details as this one (code, length,
        charge, diagnoses, modifiers, paid at session, ...) on its own date, so
        each owes its own client share, uses its own authorization unit and is
        its own claim line. Raises InvalidValue (``session.dates_repeated``)
        for a date given twice or equal to the date of service.
        """
        return attrs.evolve(self, additional_dates=_dates(dates, self.session.date_of_service))

    def with_referring_provider(self, provider: ReferringProvider | None) -> SessionDraft:
        """Set (or clear, with None) the referring provider."""
        return self._edit(referring_provider=provider)

    def with_line_note(self, note: str) -> SessionDraft:
        """Set the line note (electronic claims only, at most 80 characters)."""
        return self._edit(line_note=note)

    def with_resubmission(self, resubmission: Resubmission) -> SessionDraft:
        """Set the resubmission code and original reference."""
        return self._edit(resubmission=resubmission)

    def with_overrides(self, overrides: InsuranceOverrides | None) -> SessionDraft:
        """Set (or clear, with None) the insurance company overrides."""
        return self._edit(overrides=overrides)

    def with_comments(self, comments: str) -> SessionDraft:
        """Set the administrative comments."""
        return self._edit(comments=comments)

    def with_appointment_key(self, key: str | None, *, minutes: int | None = None) -> SessionDraft:
        """Tie the session to a calendar appointment (set by the calendar import).

        ``minutes``, when given, also sets the session length (the
        appointment's duration) in the same edit.
        """
        if minutes is None:
            return self._edit(appointment_key=key)
        return self._edit(appointment_key=key, minutes=minutes)

    def with_add_on(
        self,
        code: str,
        units: Decimal | int | str = 1,
        charge: MoneyLike | None = None,
        modifiers: Iterable[Modifier | str] = (),
    ) -> SessionDraft:
        """Append an add-on line (at most 4).

        The code must be an add-on in the behavioural-health catalogue or in
        the codes setup, else InvalidValue (``add_on.not_an_add_on``). The
        charge defaults to the setup's default charge times ``units``
        (NotFound ``billing_code.not_in_setup`` when the setup lacks the code).
        """
        field = f"add_ons[{len(self.session.add_ons)}]"
        normal = _checks.normalise(hcpcs.validate, code, f"{field}.code")
        setup = self.billing_code_setup.get(normal)
        if not (behavioral.is_add_on(normal) or (setup is not None and setup.add_on)):
            raise InvalidValue(
                "the code is not an add-on code in the catalogue or the codes setup",
                "add_on.not_an_add_on",
                f"{field}.code",
            )
        if charge is None:
            if setup is None:
                raise NotFound(
                    "the add-on code is not in the codes setup; give its charge",
                    "billing_code.not_in_setup",
                    f"{field}.charge",
                )
            line = AddOnLine(code=normal, units=units, charge=Money(0), modifiers=modifiers)
            line = attrs.evolve(line, charge=setup.default_charge.times(line.units))
        else:
            line = AddOnLine(code=normal, units=units, charge=charge, modifiers=modifiers)
        return self._edit(add_ons=(*self.session.add_ons, line))

    def without_add_on(self, index: int) -> SessionDraft:
        """Remove the add-on line at ``index``."""
        lines = list(self.session.add_ons)
        if not 0 <= index < len(lines):
            raise InvalidValue("there is no add-on line at this index", "add_on.index", f"add_ons[{index}]")
        del lines[index]
        return self._edit(add_ons=lines)

    def _repr_html_(self) -> str:
        """The draft as HTML: the session, its warnings, insurance notes and authorizations (Jupyter display)."""
        from sessionkit._html import draft_html  # noqa: PLC0415 (display code is loaded only when used)

        return draft_html(self)


def _pairing_warnings(session: ClientSession) -> list[DraftWarning]:
    problems = behavioral.pairing_problems(session.billing_code, [a.code for a in session.add_ons])
    return [
        DraftWarning(
            code=code,
            field=f"add_ons[{i}].code",
            message=message,
            hint="remove the add-on or change the primary code",
        )
        for i, code, message in problems
    ]


@attrs.frozen(kw_only=True)
class AddOnDraft:
    """Add-on lines being attached to a saved primary session (*Create Add-On Codes*).

    Save it with :meth:`SessionBuilder.save_add_ons`.
    """

    draft: SessionDraft

    @property
    def primary(self) -> ClientSession:
        """The primary session, as it will be saved."""
        return self.draft.session

    @property
    def lines(self) -> tuple[AddOnLine, ...]:
        """The add-on lines."""
        return self.draft.session.add_ons

    @property
    def warnings(self) -> tuple[DraftWarning, ...]:
        """Pairing problems of the add-on lines with the primary code."""
        return tuple(_pairing_warnings(self.draft.session))

    def with_add_on(
        self,
        code: str,
        units: Decimal | int | str = 1,
        charge: MoneyLike | None = None,
        modifiers: Iterable[Modifier | str] = (),
    ) -> AddOnDraft:
        """Append an add-on line: see :meth:`SessionDraft.with_add_on`."""
        return AddOnDraft(draft=self.draft.with_add_on(code, units, charge, modifiers))

    def without_add_on(self, index: int) -> AddOnDraft:
        """Remove the add-on line at ``index``."""
        return AddOnDraft(draft=self.draft.without_add_on(index))


@attrs.frozen(kw_only=True)
class NextStep:
    """Where the host app should go after saving: ``screen`` for ``client_id``."""

    screen: str
    client_id: str


@attrs.frozen(kw_only=True)
class SaveResult:
    """The outcome of a save.

    :ivar session: the session as stored (its version bumped).
    :ivar sessions: every session the save stored: ``session`` first, then one
        per additional date of the draft, in date order.
    :ivar action: the save button pressed.
    :ivar destinations: where the session is billed (see :func:`sessionkit.routing.route`).
    :ivar next_step: for SAVE_AND_ADD_NOTE, the client's progress notes.
    :ivar add_on_draft: for CREATE_ADD_ONS, the add-on draft bound to the saved session.
    """

    session: ClientSession
    action: SaveAction
    destinations: frozenset[Destination]
    sessions: tuple[ClientSession, ...] = ()
    next_step: NextStep | None = None
    add_on_draft: AddOnDraft | None = None


@attrs.frozen(kw_only=True)
class PayNowResult:
    """The outcome of :meth:`SessionBuilder.pay_now`.

    :ivar payment: the card payment as recorded: received, or pending when
        the gateway did not answer (see :func:`sessionkit.payments.resolve_pending`).
    :ivar draft: the session as stored afterwards, opened again (its paid at
        session includes the payment once received).
    """

    payment: Payment
    draft: SessionDraft


UnitOfWorkSource = UnitOfWork | Callable[[], UnitOfWork]
"""A unit of work, or a factory of fresh ones."""


class _SharedUnitOfWork:
    """The unit of work of :meth:`SessionBuilder.batch`, lent to each operation of the batch.

    Entering it gives it back without starting anything; its ``commit`` and
    ``rollback`` wait for the batch, which commits once at the end (or rolls
    everything back when it raises).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __enter__(self) -> _SharedUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        """Deferred to the end of the batch."""

    def rollback(self) -> None:
        """Deferred to the end of the batch."""

    @property
    def clients(self) -> ClientRepository:
        return self._uow.clients

    @property
    def payers(self) -> PayerRepository:
        return self._uow.payers

    @property
    def coverages(self) -> CoverageRepository:
        return self._uow.coverages

    @property
    def billing_codes(self) -> BillingCodeRepository:
        return self._uow.billing_codes

    @property
    def diagnoses(self) -> DiagnosisCodeRepository:
        return self._uow.diagnoses

    @property
    def authorizations(self) -> AuthorizationRepository:
        return self._uow.authorizations

    @property
    def sessions(self) -> SessionRepository:
        return self._uow.sessions

    @property
    def practice(self) -> PracticeRepository:
        return self._uow.practice

    @property
    def claim_records(self) -> ClaimRecordRepository:
        return self._uow.claim_records

    @property
    def invoices(self) -> InvoiceRepository:
        return self._uow.invoices

    @property
    def payments(self) -> PaymentRepository:
        return self._uow.payments

    @property
    def adjudications(self) -> AdjudicationRepository:
        return self._uow.adjudications

    @property
    def control_numbers(self) -> ControlNumbers:
        return self._uow.control_numbers


class SessionBuilder:
    """The entry-screen service over a unit of work and a clock.

    :param uow: a unit of work (entered once per operation) or a factory
        returning a fresh one per operation.
    :param clock: gives today's date (the default date of service and the
        future-date warning).
    :param gateway: the card gateway of :meth:`pay_now` (the screen's Pay Now button), if any.
    """

    def __init__(self, uow: UnitOfWorkSource, clock: Clock, gateway: PaymentGateway | None = None) -> None:
        self._source = uow
        self.clock = clock
        self.gateway = gateway

    @contextlib.contextmanager
    def batch(self) -> Iterator[SessionBuilder]:
        """A builder whose operations share one unit of work, committed once when the block ends.

        Use it to enter many sessions at once (the calendar import does):
        each ``save`` is staged in the shared unit and the block commits them
        all together, or none of them when it raises. Inside the block, every
        read sees the sessions saved earlier in it.

        >>> from datetime import date
        >>> from sessionkit import BillingCode, Client, FixedClock, PracticeSetup
        >>> from sessionkit.adapters.memory import InMemoryUnitOfWork
        >>> uow = InMemoryUnitOfWork().seed(
        ...     practice=PracticeSetup(name="P", npi="1234567893", tax_id="123456789",
        ...                            time_zone="America/New_York", default_billing_code="90834"),
        ...     clients=[Client(id="c1", first_name="Ada", last_name="Byron")],
        ...     billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140")])
        >>> builder = SessionBuilder(uow, FixedClock(date(2026, 3, 2)))
        >>> with builder.batch() as b:
        ...     for day in (2, 9, 16):
        ...         _ = b.save(b.start("c1", date(2026, 3, day)))
        >>> with uow:
        ...     uow.sessions.count()
        3
        """
        with self._uow() as uow:
            yield SessionBuilder(_SharedUnitOfWork(uow), self.clock, self.gateway)
            uow.commit()

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work over the builder's storage (a new one when built from a factory)."""
        return self._uow()

    def _uow(self) -> UnitOfWork:
        source = self._source
        if callable(source) and not hasattr(source, "__enter__"):
            return source()
        return cast(UnitOfWork, source)

    def start(self, client_id: str, date_of_service: date | None = None) -> SessionDraft:
        """A new draft for the client on the date (default: today) with the screen's defaults.

        Billing code: the code of the client's session saved last, else the
        practice default (NotFound ``practice.no_default_billing_code`` when
        there is neither). Minutes and charge: that code's defaults in the
        setup (the last session's own when the setup no longer has the code).
        Diagnoses: those of the last saved session. Place of service: the
        practice default. Bill to: AUTOMATIC. Raises NotFound for an unknown
        client or a practice not set up.
        """
        dos = self.clock.today() if date_of_service is None else date_of_service
        with self._uow() as uow:
            practice = uow.practice.get()
            client = uow.clients.get(client_id)
            last = uow.sessions.last_saved_for(client_id)
            code = last.billing_code if last is not None else practice.default_billing_code
            if code is None:
                raise NotFound(
                    "no billing code to default to: the practice has no default billing code",
                    "practice.no_default_billing_code",
                    "billing_code",
                )
            setup = uow.billing_codes.find(code)
            if setup is not None:
                minutes, charge = setup.default_minutes, setup.default_charge
            elif last is not None:
                minutes, charge = last.minutes, last.charge
            else:
                raise NotFound(
                    "the practice's default billing code is not in the codes setup",
                    "billing_code.not_in_setup",
                    "billing_code",
                )
            session = ClientSession(
                client_id=client_id,
                date_of_service=dos,
                billing_code=code,
                minutes=minutes,
                charge=charge,
                diagnoses=last.diagnoses if last is not None else (),
                place_of_service=practice.default_place_of_service,
                bill_to=BillTo.AUTOMATIC,
            )
            return self._draft(uow, session, None, practice, client)

    def open(self, session_id: str) -> SessionDraft:
        """A draft editing the saved session (NotFound ``session.not_found`` if there is none)."""
        with self._uow() as uow:
            stored = uow.sessions.get(session_id)
            return self._draft(uow, stored, stored)

    def _draft(
        self,
        uow: UnitOfWork,
        session: ClientSession,
        stored: ClientSession | None,
        practice: PracticeSetup | None = None,
        client: Client | None = None,
    ) -> SessionDraft:
        if client is None:
            client = uow.clients.get(session.client_id)
        dos = session.date_of_service
        coverages = tuple(uow.coverages.active_on(session.client_id, dos))
        notes: list[InsuranceNote] = []
        for coverage in coverages:
            payer = uow.payers.find(coverage.payer_id)
            if (
                payer is not None
                and payer.insurance_note.strip()
                and all(n.payer_id != payer.id for n in notes)
            ):
                notes.append(
                    InsuranceNote(payer_id=payer.id, payer_name=payer.name, note=payer.insurance_note)
                )
        active = uow.authorizations.active_on(session.client_id, dos)
        usages: tuple[AuthorizationUse, ...] = ()
        if active:  # the client's sessions are read only when an authorization needs counting
            sessions = uow.sessions.by_client(session.client_id)
            client_coverages = uow.coverages.for_client(session.client_id)
            usages = tuple(AuthorizationUse.count(a, sessions, client_coverages) for a in active)
        return SessionDraft(
            session=session,
            stored=stored,
            client=client,
            practice=uow.practice.get() if practice is None else practice,
            today=self.clock.today(),
            coverages=coverages,
            insurance_notes=tuple(notes),
            authorizations=usages,
            billing_code_setup={b.code: b for b in uow.billing_codes.list()},
            diagnosis_setup=frozenset(d.code for d in uow.diagnoses.list()),
        )

    def save(self, draft: SessionDraft, action: SaveAction = SaveAction.SAVE) -> SaveResult:
        """Save the draft's session in one unit of work and say what comes next.

        Diagnoses added to the setup from the draft are saved in the same unit
        of work. The stored version is bumped; a draft of a session saved by
        someone else since raises ConcurrentUpdate. Changing paid-at-session
        of a session whose EOB is posted raises SessionLocked. Nothing is
        written when an error is raised.

        A draft with additional dates saves one session per date (the
        draft's session on its own date first), all in the same unit of work;
        ``SaveResult.sessions`` lists them.
        """
        action = SaveAction(action)
        with self._uow() as uow:
            saved, others = self._save_draft(uow, draft)
            coverages = uow.coverages.active_on(saved.client_id, saved.date_of_service)
            uow.commit()
        next_step = None
        add_on_draft = None
        if action is SaveAction.SAVE_AND_ADD_NOTE:
            next_step = NextStep(screen=PROGRESS_NOTES, client_id=saved.client_id)
        elif action is SaveAction.CREATE_ADD_ONS:
            add_on_draft = AddOnDraft(draft=self.open(saved.id))
        return SaveResult(
            session=saved,
            sessions=(saved, *others),
            action=action,
            destinations=route(saved, coverages),
            next_step=next_step,
            add_on_draft=add_on_draft,
        )

    def _save_draft(self, uow: UnitOfWork, draft: SessionDraft) -> tuple[ClientSession, list[ClientSession]]:
        """Save the draft's sessions in ``uow`` (not committed); the ledger follows paid at session."""
        session = draft.session
        stored = uow.sessions.find(session.id)
        if stored is not None:
            refuse_locked_change(stored, session)
            session = attrs.evolve(session, status=stored.status)
        for dx in draft.new_diagnoses:
            if uow.diagnoses.find(dx.code) is None:
                uow.diagnoses.put(dx)
        saved = uow.sessions.save(session)
        others = [
            uow.sessions.save(
                attrs.evolve(
                    session,
                    id=new_id(),
                    date_of_service=day,
                    appointment_key=None,
                    status=SessionStatus.OPEN,
                    version=0,
                )
            )
            for day in sorted(draft.additional_dates)
        ]
        before = Money(0) if stored is None else stored.paid_at_session
        changed = [saved] if saved.paid_at_session != before else []
        changed += [s for s in others if s.paid_at_session]
        for s in changed:
            # One source of truth: the ledger's at-session payments add up to the figure saved.
            set_paid_at_session(
                uow,
                s.id,
                s.paid_at_session,
                method=draft.payment_method,
                reference=draft.payment_reference,
                now=self.clock.now(),
            )
        return saved, others

    def pay_now(
        self, draft: SessionDraft, amount: MoneyLike, *, token: str, idempotency_key: str
    ) -> PayNowResult:
        """The screen's Pay Now: save the draft, charge the card token, add the payment to paid at session.

        Goes through :func:`sessionkit.payments.pay_now` (``at_session=True``)
        with the builder's gateway, in one unit of work with the save.
        Approved: a received card payment, added to the session's paid at
        session. Declined: raises :class:`~sessionkit.payments.PaymentDeclined`
        and nothing is saved. No answer: a pending payment (paid at session
        grows once :func:`~sessionkit.payments.resolve_pending` hears it went
        through). A retry with the same ``idempotency_key`` returns the payment
        recorded and charges nothing (the draft is not saved again). InvalidValue
        (``builder.no_gateway``) when the builder has no gateway.
        """
        gateway = self.gateway
        if gateway is None:
            raise InvalidValue("the session builder has no card gateway", "builder.no_gateway", "gateway")
        with self._uow() as uow:
            session = draft.session
            if uow.payments.by_idempotency_key(idempotency_key) is None:
                session, _ = self._save_draft(uow, draft)
            payment = pay_now(
                uow,
                gateway,
                client_id=session.client_id,
                amount=amount,
                token=token,
                idempotency_key=idempotency_key,
                apply_to=(session.id,),
                now=self.clock.now(),
                at_session=True,
            )
            uow.commit()
        return PayNowResult(payment=payment, draft=self.open(session.id))

    def save_add_ons(self, add_on_draft: AddOnDraft) -> SaveResult:
        """Save the add-on lines onto their primary session (one unit of work, version bumped)."""
        return self.save(add_on_draft.draft, SaveAction.SAVE)

    def mark_eob_posted(self, session_id: str) -> ClientSession:
        """Record that an insurance EOB was posted for the session: paid-at-session is locked from now on.

        Returns the stored session (its version bumped; unchanged if already posted).
        """
        with self._uow() as uow:
            stored = uow.sessions.get(session_id)
            if stored.locked:
                return stored
            saved = uow.sessions.save(attrs.evolve(stored, status=SessionStatus.EOB_POSTED))
            uow.commit()
            return saved
