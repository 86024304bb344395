"""The fused checker: the default insurance rules in one pass, with identical findings (private).

Running 23 rule functions per session costs more than decoding the session
from JSON, although for a typical session almost every rule has nothing to
say. The fused checker gets the same findings cheaply:

* The rules that read the context but of the session only its client id,
  billing route and coverage (``client``, ``routing``, ``coverage``,
  ``practice``, ``payer_id``, ``patient``, ``subscriber``, and
  ``diagnosis_billable`` when there is no code set) give the same findings
  for every session with the same *key*: whether the session's client is
  the context's client (three cases), and which coverage (or none, or bill
  to client) applies. Their findings are computed once per key by the rule
  functions themselves and remembered on the context.
* Every other rule has a guard: a couple of attribute reads that prove it
  silent (the rule's own early return), or a remembered answer for the values
  the rule depends on alone (the billing codes, the referring provider's three
  parts, the code and the minutes). When a guard cannot prove silence the rule
  function itself runs, so a finding is always built by its rule.
* It fails closed. A plan declares the rules its body covers
  (:data:`COVERED`); a plan exists for a target only when the default rules
  of that target are exactly the covered ones, each being the very function
  the body was written for, and a rule set runs fused only when it is that
  plan's rule set. Any other rule set (a custom rule added, a rule replaced
  or disabled) goes through the plain checker, as do sessions outside the
  fused path's assumptions (no diagnosis). A test asserts that the default
  rules equal the covered ones, so a new default rule cannot be skipped
  silently: it either gets a guard here or turns the fused path off.

The findings are then ordered exactly as the plain checker orders them
(severity, then rule order, then the rule's own order); sessions with the same
findings objects get the same sorted tuple (:func:`merged`). A property test
compares the two paths on arbitrary sessions and contexts.

The 837P and the CMS-1500 share all their rules but ``payer_id``,
``line_note_x12``, ``line_note_paper`` and ``whole_units``: a combined plan
(:func:`plan_for_all`) runs the body once per session for both, each target
getting its own keyed findings and its own line-note and units findings. It
exists only when each target's rules are exactly its own plan's.

The targets billed to the client (the client invoice, the superbill) have a
*direct* plan each (:data:`DIRECT`): their four rules read a handful of values,
so the plain checker's findings are remembered per context under exactly those
values, and sessions alike share one findings tuple. It exists only when the
target's default rules are exactly the named functions, in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sessionkit.codes import icd10
from sessionkit.codes.behavioral import PER_SESSION
from sessionkit.domain import BillTo, ClientSession, Coverage, Frequency
from sessionkit.domain.values import _ONE, ORIGINAL
from sessionkit.readiness import rules as default_rules
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import Finding, Target
from sessionkit.readiness.registry import Rule, RuleCheck, _severity_rank, plain_findings

__all__ = ["COVERED", "DIRECT", "FusedCheck", "FusedChecks", "Plan", "covers", "plan_for", "plan_for_all"]

FusedCheck = Callable[[ClientSession], "tuple[Finding, ...] | None"]
"""A plan bound to a context: the sorted findings of a session, or ``None`` for the plain path."""
FusedChecks = Callable[[ClientSession], "tuple[tuple[Finding, ...], ...] | None"]
"""A plan of several targets bound to a context: the sorted findings of a session per target, or
``None`` for the plain path."""

_CACHE_MAX = 4096
_KEYED = ("client", "routing", "coverage", "practice", "payer_id", "patient", "subscriber")
_GUARDED = (
    "diagnoses",
    "diagnosis_billable",
    "date_of_service",
    "icd10_era",
    "billing_code",
    "charge",
    "modifiers",
    "referring_provider",
    "resubmission",
    "authorization",
    "paid_at_session",
    "add_on_pairing",
    "same_day",
    "session_time",
)
_KEYED_UNLESS_OVERRIDES = ("billing_address_street", "address_states", "secondary_payer")
"""Rules whose findings the key decides (client, coverage, practice, payers) unless the session has
insurance overrides (a facility address): remembered per key for sessions without overrides."""
_ALWAYS: tuple[str, ...] = ()
"""Rules the fused body would run for every session, as they are (no guard): none at present."""
_GUARDED_CONFORMANCE = ("service_after_birth", "diagnosis_on_date", "per_session_units")
"""Conformance rules with a guard: a date before birth, a per-session code with units, the diagnoses
and date (their answer remembered per diagnosis list and date)."""
COVERED: dict[Target, frozenset[str]] = {
    Target.X12_837P: frozenset(
        (*_KEYED, *_GUARDED, *_KEYED_UNLESS_OVERRIDES, *_GUARDED_CONFORMANCE, "line_note_x12")
    ),
    Target.CMS1500: frozenset(
        (
            *_KEYED,
            *_GUARDED,
            *_KEYED_UNLESS_OVERRIDES,
            *_GUARDED_CONFORMANCE,
            "line_note_paper",
            "whole_units",
        )
    )
    - {"payer_id"},
}
"""The rules the fused body runs, per target: a plan covers these and nothing else."""
_CLIENT = BillTo.CLIENT
_MISSING: Any = object()
# Shortcuts by identity for the shared default objects, each only if the guard it skips would be
# false for it (else None, which no session holds: the guard runs).
_ORIGINAL_CLAIM = (
    ORIGINAL if ORIGINAL.frequency is Frequency.ORIGINAL and not ORIGINAL.original_reference else None
)
_WHOLE_ONE = _ONE if _ONE.to_integral_value() == _ONE else None
_ORIGINAL = Frequency.ORIGINAL
_POSITION = itemgetter(0)

Pair = tuple[int, Finding]
Entry = tuple[
    tuple[Pair, ...],
    tuple[Finding, ...],
    tuple[Pair, ...],
    tuple[Finding, ...],
    "Coverage | None",
    bool,
    bool,
]
"""Per key: for the 837P, then for the CMS-1500 (empty for a target the plan does not run), the keyed
rules' (rule position, finding) pairs in rule order and the same findings sorted; the active coverage,
whether a referring provider is required, whether authorization is silent."""


def merge(base: tuple[Pair, ...], extra: list[tuple[int, Iterable[Finding]]]) -> tuple[Finding, ...]:
    """The findings of ``base`` and ``extra`` in the plain checker's order.

    Rule positions order the findings (stably, so a rule's own order stays),
    then severity does (stably, so rule order stays within a severity).
    """
    items = list(base)
    for position, found in extra:
        items.extend((position, f) for f in found)
    items.sort(key=_POSITION)
    ordered = [f for _, f in items]
    ordered.sort(key=_severity_rank)
    return tuple(ordered)


_MERGED: dict[tuple[int, ...], tuple[object, list[tuple[int, Iterable[Finding]]], tuple[Finding, ...]]] = {}
"""The answers of :func:`merge` by the identity of its inputs (base, then each extra's rule position and
findings object): each answer holds its inputs, so while it is remembered no other object has their ids,
and an equal key means the very same inputs, hence the same answer. The answers are shared (by every
context and plan): sessions with the same findings get the same tuple, which the command line then
counts and writes once."""
_MERGED_MAX = 8192


def merged(base: tuple[Pair, ...], extra: list[tuple[int, Iterable[Finding]]]) -> tuple[Finding, ...]:
    """``merge(base, extra)``, remembered by the identity of ``base`` and of each extra's findings."""
    if len(extra) == 1:  # the common case, without building a list
        key: tuple[int, ...] = (id(base), extra[0][0], id(extra[0][1]))
    else:
        key = (id(base), *[x for p, found in extra for x in (p, id(found))])
    hit = _MERGED.get(key)
    if hit is not None:
        return hit[2]
    result = merge(base, extra)
    if len(_MERGED) >= _MERGED_MAX:
        _MERGED.clear()
    _MERGED[key] = (base, extra, result)
    return result


def _remember(
    cache: dict[Any, tuple[Finding, ...]],
    key: object,
    check: RuleCheck,
    session: ClientSession,
    context: ReadinessContext,
) -> tuple[Finding, ...]:
    """Run ``check`` and remember its findings under ``key`` (what alone decides them)."""
    found = tuple(check(session, context))
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = found
    return found


class _Shared:
    """What one plan remembers of the answers that only the session, the billing codes setup and the
    code set decide: shared by every context with an equal setup and the same code set (the command
    line builds one context per client, so the per-client work is not redone for each client)."""

    __slots__ = (
        "billing_codes",
        "by_diagnoses",
        "charges",
        "code_set",
        "modifier_results",
        "modifiers_by_id",
        "pairings",
        "referrers",
        "same_days",
        "setup",
        "times",
    )

    def __init__(self, context: ReadinessContext) -> None:
        self.setup = dict(context.billing_codes)
        self.code_set = context.code_set
        self.by_diagnoses: dict[
            int, tuple[object, bool, tuple[Finding, ...], dict[Any, tuple[Finding, ...]]]
        ] = {}
        self.billing_codes: dict[str | tuple[str, ...], tuple[Finding, ...]] = {}
        self.pairings: dict[str | tuple[str, ...], tuple[Finding, ...]] = {}
        self.modifier_results: dict[tuple[str | tuple[str, ...] | None, ...], tuple[Finding, ...]] = {}
        self.modifiers_by_id: dict[tuple[str, int], tuple[object, tuple[Finding, ...]]] = {}
        self.referrers: dict[tuple[str, str, str | None], tuple[Finding, ...]] = {}
        self.times: dict[tuple[str, int | None], tuple[Finding, ...]] = {}
        self.charges: dict[tuple[Decimal, ...], tuple[Finding, ...]] = {}
        self.same_days: dict[tuple[object, tuple[str, ...]], tuple[Finding, ...]] = {}

    def serves(self, context: ReadinessContext) -> bool:
        """Whether ``context`` has this setup and code set (then every remembered answer holds for it)."""
        return context.code_set is self.code_set and self.setup == context.billing_codes


_SHARED_MAX = 8
_SHARED: dict[int, list[_Shared]] = {}
"""Per plan slot: the shared answers of the setups seen last, the latest first."""


def _shared_for(slot: int, context: ReadinessContext) -> _Shared:
    recent = _SHARED.setdefault(slot, [])
    for i, shared in enumerate(recent):
        if shared.serves(context):
            if i:
                recent.insert(0, recent.pop(i))
            return shared
    shared = _Shared(context)
    recent.insert(0, shared)
    del recent[_SHARED_MAX:]
    return shared


class _State:
    """What one plan remembers about one context (the context is immutable)."""

    __slots__ = (
        "address_entries",
        "billing_codes",
        "by_diagnoses",
        "charges",
        "covered_clients",
        "entries",
        "modifier_results",
        "modifiers_by_id",
        "pairings",
        "referrers",
        "same_days",
        "times",
    )

    def __init__(self, context: ReadinessContext, shared: _Shared) -> None:
        self.entries: dict[tuple[int, int], Entry] = {}
        self.address_entries: dict[tuple[int, int], tuple[tuple[int, tuple[Finding, ...]], ...]] = {}
        self.by_diagnoses = shared.by_diagnoses
        self.billing_codes = shared.billing_codes
        self.pairings = shared.pairings
        self.modifier_results = shared.modifier_results
        self.modifiers_by_id = shared.modifiers_by_id
        self.referrers = shared.referrers
        self.times = shared.times
        self.charges = shared.charges
        self.same_days = shared.same_days
        self.covered_clients = frozenset(c.client_id for c in context.coverages)


class Plan:
    """The fused checker of the default rules of one insurance target, or of both in one pass.

    Rule positions are positions in the union of the targets' rules (each target's rules are in
    that order: :func:`_plans` checks it), so a target's findings sort exactly as by its own rule
    positions.
    """

    def __init__(self, slot: int, rules: dict[Target, tuple[Rule, ...]], union: tuple[Rule, ...]) -> None:
        self.slot = slot
        self.targets = tuple(rules)
        self.target = self.targets[0]
        self.rules_of = rules
        self.checks = {t: tuple(r.check for r in rs) for t, rs in rules.items()}
        self.position = {r.name: i for i, r in enumerate(union)}
        self.check_of = {r.name: r.check for r in union}
        self.allowed = {t: frozenset(self.position[r.name] for r in rs) for t, rs in rules.items()}

    def matches(self, rules: tuple[Rule, ...], target: Target | None = None) -> bool:
        """Whether ``rules`` run exactly the functions of this plan for ``target``, in the same order."""
        target = self.target if target is None else target
        return rules is self.rules_of[target] or tuple(r.check for r in rules) == self.checks[target]

    def reused(self, context: ReadinessContext) -> bool:
        """Whether ``context`` was checked before by this plan (from now on it was).

        The fused path pays off from the second session of a context: its first
        session computes what the others reuse.
        """
        states = context._fused_state
        if self.slot in states:
            return True
        states[self.slot] = None
        return False

    def _body(self, context: ReadinessContext) -> Callable[[ClientSession], Any]:
        state: Any = context._fused_state.get(self.slot)
        if state is None:
            state = _State(context, _shared_for(self.slot, context))
            context._fused_state[self.slot] = state
        position = self.position
        keyed = [(position[name], self.check_of[name]) for name in _KEYED if name in position]
        if context.code_set is None:
            # With no code set the rule only says "unchecked" for any session with a diagnosis.
            keyed.append((position["diagnosis_billable"], default_rules.diagnosis_billable))
        keyed.sort(key=_POSITION)
        return _bind(self, context, state, tuple(keyed))

    def bind(self, context: ReadinessContext) -> FusedCheck:
        """The fused check of sessions against ``context`` (a plan of one target)."""
        if len(self.targets) != 1:
            raise TypeError("bind() is for a plan of one target: use bind_all()")
        fused: FusedCheck = self._body(context)
        return fused

    def bind_all(self, context: ReadinessContext) -> FusedChecks:
        """The fused check of sessions against ``context`` for every target of the plan at once (a plan
        of several targets): the sorted findings per target (in :attr:`targets` order), or ``None`` for
        the plain path."""
        if len(self.targets) == 1:
            raise TypeError("bind_all() is for a plan of several targets: use bind()")
        fused: FusedChecks = self._body(context)
        return fused


def _part(
    pairs: tuple[Pair, ...], allowed: frozenset[int] | None
) -> tuple[tuple[Pair, ...], tuple[Finding, ...]]:
    """The pairs of ``pairs`` whose rule a target runs (``allowed``), and their findings sorted."""
    if allowed is None:
        return (), ()
    own = tuple(pair for pair in pairs if pair[0] in allowed)
    ordered = [f for _, f in own]
    ordered.sort(key=_severity_rank)
    return own, tuple(ordered)


def _entry(  # noqa: PLR0917 (private; every argument is needed)
    session: ClientSession,
    context: ReadinessContext,
    keyed: tuple[tuple[int, RuleCheck], ...],
    cov: Coverage | None,
    allowed_x12: frozenset[int] | None,
    allowed_paper: frozenset[int] | None,
) -> Entry:
    pairs = tuple((p, f) for p, check in keyed for f in check(session, context))
    payer = None if cov is None else context.payers.get(cov.payer_id)
    referrer_required = payer is not None and payer.requires_referring_provider
    authorization_silent = payer is None or not payer.requires_authorization
    return (
        *_part(pairs, allowed_x12),
        *_part(pairs, allowed_paper),
        cov,
        referrer_required,
        authorization_silent,
    )


def _bind(
    plan: Plan,
    context: ReadinessContext,
    state: _State,
    keyed: tuple[tuple[int, RuleCheck], ...],
) -> Callable[[ClientSession], Any]:
    r = default_rules
    pos = plan.position
    want_x12 = Target.X12_837P in plan.targets
    want_paper = Target.CMS1500 in plan.targets
    both = want_x12 and want_paper
    allowed_x12 = plan.allowed.get(Target.X12_837P)
    allowed_paper = plan.allowed.get(Target.CMS1500)
    p_diagnoses = pos["diagnoses"]
    p_billable = pos["diagnosis_billable"]
    p_future = pos["date_of_service"]
    p_era = pos["icd10_era"]
    p_billing_code = pos["billing_code"]
    p_units = pos.get("whole_units", -1)
    p_charge = pos["charge"]
    p_modifiers = pos["modifiers"]
    p_referring = pos["referring_provider"]
    p_resubmission = pos["resubmission"]
    p_note_x12 = pos.get("line_note_x12", -1)
    p_note_paper = pos.get("line_note_paper", -1)
    p_authorization = pos["authorization"]
    p_paid = pos["paid_at_session"]
    p_add_ons = pos["add_on_pairing"]
    p_same_day = pos["same_day"]
    p_time = pos["session_time"]
    always = tuple((pos[name], plan.check_of[name]) for name in _ALWAYS if name in pos)
    by_key = tuple((pos[name], plan.check_of[name]) for name in _KEYED_UNLESS_OVERRIDES if name in pos)
    address_entries = state.address_entries

    entries = state.entries
    billing_codes = state.billing_codes
    pairings = state.pairings
    modifier_results = state.modifier_results
    modifiers_by_id = state.modifiers_by_id
    referrers = state.referrers
    times = state.times
    charges = state.charges
    covered_clients = state.covered_clients
    coverage_on = context.coverage_on
    coverage_cache = context._coverage_cache  # coverage_on's own answers, read without the call
    today = context.today
    person = context.client
    person_id = None if person is None else person.id
    person_dob = None if person is None else person.date_of_birth
    p_birth = pos.get("service_after_birth", -1)
    p_units_per_session = pos.get("per_session_units", -1)
    p_on_date = pos.get("diagnosis_on_date", -1)
    by_diagnoses = state.by_diagnoses
    same_days = state.same_days
    same_day_of = context.same_day_sessions
    history = icd10.history()
    icd_period = history.period
    periods = history._periods  # period's own answers per day, read without the call
    per_session = PER_SESSION
    check_billability = context.code_set is not None
    by_date = context._by_date  # the other sessions by date (same-day pre-check)
    # A session a payer answered may be billed to a later payer: the plain path decides (fail closed).
    adjudicated = context._adjudications_by_session
    icd10_start = r.ICD10_START
    telehealth_pos = r.TELEHEALTH_POS
    max_pointers = r.LINE_MAX_POINTERS

    def fused(session: ClientSession) -> Any:
        if not session.diagnoses or (adjudicated and session.id in adjudicated):
            return None
        client_id = session.client_id
        day = session.date_of_service
        cov: Coverage | None = None
        if session.bill_to is _CLIENT:
            cov_key = -1
        elif client_id in covered_clients:
            cov = coverage_cache.get((day, client_id), _MISSING)
            if cov is _MISSING:
                cov = coverage_on(day, client_id)
            cov_key = 0 if cov is None else id(cov)
        else:
            cov_key = 0
        key = (0 if person_id is None else 1 if person_id == client_id else 2, cov_key)
        entry = entries.get(key)
        if entry is None:
            entry = _entry(session, context, keyed, cov, allowed_x12, allowed_paper)
            if len(entries) >= _CACHE_MAX:
                entries.clear()
            entries[key] = entry
        base, base_sorted, paper_base, paper_sorted, cov, referrer_required, authorization_silent = entry

        extra: list[tuple[int, Iterable[Finding]]] = []
        found: Iterable[Finding] | None
        diagnoses = session.diagnoses
        # The diagnosis list alone decides whether the diagnoses rule can speak, and with the code set
        # (the same for every context sharing these answers) what diagnosis_billable says. Lists are
        # shared tuples: keyed by identity, checked against the tuple kept in the answer.
        dx = by_diagnoses.get(id(diagnoses))
        if dx is None or dx[0] is not diagnoses:
            first = diagnoses[0].code
            n = len(diagnoses)
            guard = (len(first) == 8 and first[7] == "S") or (
                n > 1 and (n > max_pointers or len({d.code for d in diagnoses}) != n)
            )
            billable = tuple(r.diagnosis_billable(session, context)) if check_billability else ()
            dx = (diagnoses, guard, billable, {})  # the last: diagnosis_on_date's findings by period
            if len(by_diagnoses) >= _CACHE_MAX:
                by_diagnoses.clear()
            by_diagnoses[id(diagnoses)] = dx
        if dx[1]:
            found = r.diagnoses(session, context)
            if found:
                extra.append((p_diagnoses, found))
        if dx[2]:
            extra.append((p_billable, dx[2]))
        if not icd10_start <= day <= today:
            found = r.date_of_service(session, context)
            if found:
                extra.append((p_future, found))
            found = r.icd10_era(session, context)
            if found:
                extra.append((p_era, found))
        add_ons = session.add_ons
        code = session.billing_code
        codes: str | tuple[str, ...] = code
        if add_ons:
            codes = (code, *[a.code for a in add_ons])
            # The codes and the setup alone decide both rules.
            found = pairings.get(codes)
            if found is None:
                found = _remember(pairings, codes, r.add_on_pairing, session, context)
            if found:
                extra.append((p_add_ons, found))
            amounts = (session.charge.amount, *[a.charge.amount for a in add_ons])
            found = charges.get(amounts)
            if found is None:  # the amounts alone decide
                found = _remember(charges, amounts, r.charge, session, context)
            if found:
                extra.append((p_charge, found))
            # The place, the line's modifier codes and each add-on's modifier codes alone decide (the
            # ``None`` keeps these keys apart from the keys of sessions without add-ons).
            mods_key = (
                session.place_of_service.code,
                *[m.code for m in session.modifiers],
                None,
                *[tuple([m.code for m in a.modifiers]) for a in add_ons],
            )
            found = modifier_results.get(mods_key)
            if found is None:
                found = _remember(modifier_results, mods_key, r.modifiers, session, context)
            if found:
                extra.append((p_modifiers, found))
        else:
            if not session.charge.amount:
                found = r.charge(session, context)
                if found:
                    extra.append((p_charge, found))
            modifiers = session.modifiers
            place = session.place_of_service.code
            if len(modifiers) > 1 or place in telehealth_pos:
                # The place and the modifier codes alone decide. Modifier tuples are shared: remembered
                # by identity first, checked against the tuple kept in the answer.
                mods_id = (place, id(modifiers))
                seen = modifiers_by_id.get(mods_id)
                if seen is not None and seen[0] is modifiers:
                    found = seen[1]
                else:
                    mods_key = (place, *[m.code for m in modifiers])
                    found = modifier_results.get(mods_key)
                    if found is None:
                        found = _remember(modifier_results, mods_key, r.modifiers, session, context)
                    if len(modifiers_by_id) >= _CACHE_MAX:
                        modifiers_by_id.clear()
                    modifiers_by_id[mods_id] = (modifiers, found)
                if found:
                    extra.append((p_modifiers, found))
        found = billing_codes.get(codes)
        if found is None:
            found = _remember(
                billing_codes, codes, r.billing_code, session, context
            )  # codes and setup decide
        if found:
            extra.append((p_billing_code, found))
        only_paper: list[tuple[int, Iterable[Finding]]] | None = None
        if p_units >= 0:
            units = session.units
            if add_ons or (units is not _WHOLE_ONE and units != units.to_integral_value()):
                found = r.whole_units(session, context)
                if found:
                    only_paper = [(p_units, found)]
        referrer = session.referring_provider
        if referrer is None:
            if referrer_required:
                found = r.referring_provider(session, context)
                if found:
                    extra.append((p_referring, found))
        else:
            parts = (referrer.first_name, referrer.last_name, referrer.npi)
            found = referrers.get(parts)
            if found is None:  # its three parts alone decide
                found = _remember(referrers, parts, r.referring_provider, session, context)
            if found:
                extra.append((p_referring, found))
        resubmission = session.resubmission
        if resubmission is not _ORIGINAL_CLAIM and (
            resubmission.frequency is not _ORIGINAL or resubmission.original_reference
        ):
            found = r.resubmission(session, context)
            if found:
                extra.append((p_resubmission, found))
        only_x12: list[tuple[int, Iterable[Finding]]] | None = None
        if session.line_note:
            if p_note_x12 >= 0:
                found = r.line_note_x12(session, context)
                if found:
                    only_x12 = [(p_note_x12, found)]
            if p_note_paper >= 0:
                found = r.line_note_paper(session, context)
                if found:
                    if only_paper is None:
                        only_paper = [(p_note_paper, found)]
                    else:
                        only_paper.append((p_note_paper, found))
        if not authorization_silent:
            found = r.authorization(session, context)
            if found:
                extra.append((p_authorization, found))
        if cov is not None:
            paid = session.paid_at_session.amount
            if paid:
                copay = cov.copay
                if copay is None or paid > copay.amount or paid > session.charge.amount:
                    found = r.paid_at_session(session, context)
                    if found:
                        extra.append((p_paid, found))
        same_day_sessions = by_date.get(day)
        if same_day_sessions is not None and (
            len(same_day_sessions) > 1 or same_day_sessions[0].id != session.id
        ):  # another session that day (the context's sessions may hold this one)
            others = same_day_of(session)
            if others:
                # The session's codes and the other sessions' codes that day alone decide.
                day_key = (
                    codes,
                    tuple([c for o in others for c in (o.billing_code, *[a.code for a in o.add_ons])]),
                )
                found = same_days.get(day_key)
                if found is None:
                    found = _remember(same_days, day_key, r.same_day, session, context)
                if found:
                    extra.append((p_same_day, found))
        minutes = (code, session.minutes)
        found = times.get(minutes)
        if found is None:  # the code and the minutes alone decide
            found = _remember(times, minutes, r.session_time, session, context)
        if found:
            extra.append((p_time, found))
        if by_key:
            if session.overrides is None:
                pairs = address_entries.get(key)
                if pairs is None:
                    pairs = tuple(
                        (p, found) for p, check in by_key if (found := tuple(check(session, context)))
                    )
                    if len(address_entries) >= _CACHE_MAX:
                        address_entries.clear()
                    address_entries[key] = pairs
                extra.extend(pairs)
            else:  # a facility address of its own: the rules run for this session
                for p_key, key_check in by_key:
                    found = key_check(session, context)
                    if found:
                        extra.append((p_key, found))
        if p_birth >= 0 and person_dob is not None and day < person_dob and person_id == client_id:
            found = r.service_after_birth(session, context)
            if found:
                extra.append((p_birth, found))
        if p_units_per_session >= 0 and code in per_session and session.units != 1:
            found = r.per_session_units(session, context)
            if found:
                extra.append((p_units_per_session, found))
        if p_on_date >= 0:
            # The diagnoses and the ICD-10-CM period of the date alone decide: remembered with the
            # diagnosis list's other answers (above), by period.
            period = periods.get(day)
            if period is None:
                period = icd_period(day)
            by_period = dx[3]  # this diagnosis list's answers (a release period has one answer)
            found = by_period.get(period)
            if found is None:
                found = by_period[period] = tuple(r.diagnosis_on_date(session, context))
            if found:
                extra.append((p_on_date, found))
        if always:
            for p_always, always_check in always:
                found = always_check(session, context)
                if found:
                    extra.append((p_always, found))
        if want_x12:
            if only_x12 is not None:
                x12 = merged(base, [*extra, *only_x12])
            elif extra:
                x12 = merged(base, extra)
            else:
                x12 = base_sorted
            if not both:
                return x12
        if only_paper is not None:
            paper = merged(paper_base, [*extra, *only_paper])
        elif extra:
            paper = merged(paper_base, extra)
        else:
            paper = paper_sorted
        if not both:
            return paper
        return (x12, paper)

    return fused


DIRECT: dict[Target, tuple[str, ...]] = {
    Target.CLIENT_INVOICE: ("client", "date_of_service", "charge", "invoice"),
    Target.SUPERBILL: ("client", "date_of_service", "charge", "superbill"),
}
"""The rules of the targets billed to the client, whose findings a few values decide alone (the direct
plans): whether the session's client is the context's client (``client``; the client's address and date
of birth for ``invoice`` and ``superbill``), whether the date is past (``date_of_service``), the line
and add-on charges (``charge``, and the total for ``invoice``), the amount paid and the coverage paying
first (``invoice``), and the diagnosis list (``superbill``; the practice and code set are the context's)."""


class _DirectPlan(Plan):
    """The fused checker of a target billed to the client (:data:`DIRECT`): the plain checker's findings
    remembered per context by the values that alone decide them, so sessions alike share one tuple."""

    def _body(self, context: ReadinessContext) -> Callable[[ClientSession], Any]:
        rules = self.rules_of[self.target]
        with_coverage = "invoice" in self.position
        with_diagnoses = "superbill" in self.position
        state: Any = context._fused_state.get(self.slot)
        if state is None:
            state = context._fused_state[self.slot] = {}
        answers: dict[tuple[object, ...], tuple[object, tuple[Finding, ...]]] = state
        today = context.today
        person = context.client
        person_id = None if person is None else person.id
        covered_clients = frozenset(c.client_id for c in context.coverages)
        coverage_on = context.coverage_on
        coverage_cache = context._coverage_cache  # coverage_on's own answers, read without the call

        def fused(session: ClientSession) -> tuple[Finding, ...]:
            client_id = session.client_id
            day = session.date_of_service
            cov_key = 0
            if with_coverage:  # the coverage paying first (first_coverage), by identity: the context holds it
                if session.bill_to is _CLIENT:
                    cov_key = -1
                elif client_id in covered_clients:
                    cov = coverage_cache.get((day, client_id), _MISSING)
                    if cov is _MISSING:
                        cov = coverage_on(day, client_id)
                    cov_key = 0 if cov is None else id(cov)
            add_ons = session.add_ons
            diagnoses = session.diagnoses if with_diagnoses else None
            key = (
                0 if person_id is None else 1 if person_id == client_id else 2,
                day <= today,
                cov_key,
                session.charge.amount,
                tuple([a.charge.amount for a in add_ons]) if add_ons else None,
                session.paid_at_session.amount if with_coverage else None,
                id(diagnoses),  # checked against the list kept in the answer
            )
            hit = answers.get(key)
            if hit is not None and hit[0] is diagnoses:
                return hit[1]
            found = plain_findings(session, context, rules)
            if len(answers) >= _CACHE_MAX:
                answers.clear()
            answers[key] = (diagnoses, found)
            return found

        return fused


def covers(rules: Iterable[Rule], target: Target) -> bool:
    """Whether the fused body runs exactly ``rules`` for ``target``: the covered names, each its own function."""
    rules = tuple(rules)
    names = [x.name for x in rules]
    return (
        len(set(names)) == len(names)
        and set(names) == COVERED.get(target, frozenset())
        and all(x.name in _ALWAYS or x.check is getattr(default_rules, x.name, None) for x in rules)
    )


_SPECIFIC = {
    Target.X12_837P: frozenset(("payer_id", "line_note_x12")),
    Target.CMS1500: frozenset(("line_note_paper", "whole_units")),
}
"""The rules the fused body runs for one insurance target only (``payer_id`` is keyed: its findings
are left out of the other target's base); every other covered rule runs once for both targets."""
_BOTH = (Target.X12_837P, Target.CMS1500)


def _in_order(rules: tuple[Rule, ...], union: tuple[Rule, ...]) -> bool:
    """Whether ``rules`` appear in ``union`` in their own order (positions then sort alike)."""
    position = {x.name: i for i, x in enumerate(union)}
    places = [position.get(x.name, -1) for x in rules]
    return -1 not in places and places == sorted(places)


def _default_rules_of(target: Target) -> tuple[Rule, ...]:
    """The default rules that run for ``target``, in rule order."""
    return tuple(x for x in default_rules.DEFAULT_RULES if x.enabled and target in x.targets)


def _direct(target: Target, slot: int) -> _DirectPlan | None:
    """The direct plan of ``target`` if its default rules are exactly :data:`DIRECT`'s, each the very
    function named, in that order; else ``None`` (every check is plain: fail closed)."""
    rules = _default_rules_of(target)
    if tuple(x.name for x in rules) != DIRECT[target] or any(
        x.check is not getattr(default_rules, x.name, None) for x in rules
    ):
        return None
    return _DirectPlan(slot, {target: rules}, rules)


def _plans() -> dict[tuple[Target, ...], Plan]:
    plans: dict[tuple[Target, ...], Plan] = {}
    for slot, target in enumerate(DIRECT, start=len(_BOTH) + 1):
        direct = _direct(target, slot)
        if direct is not None:
            plans[target,] = direct
    of: dict[Target, tuple[Rule, ...]] = {}
    for slot, target in enumerate(_BOTH):
        rules = _default_rules_of(target)
        if covers(rules, target):  # else: no plan, every check is plain (fail closed)
            plans[target,] = Plan(slot, {target: rules}, rules)
            of[target] = rules
    union = tuple(x for x in default_rules.DEFAULT_RULES if x.enabled and any(t in x.targets for t in of))
    if (
        len(of) == len(_BOTH)
        and all(_in_order(rules, union) for rules in of.values())
        and COVERED[_BOTH[0]] ^ COVERED[_BOTH[1]] == _SPECIFIC[_BOTH[0]] | _SPECIFIC[_BOTH[1]]
        and all(_SPECIFIC[t] <= COVERED[t] for t in _BOTH)
    ):  # else: no combined plan, each target runs on its own (fail closed)
        plans[_BOTH] = Plan(len(_BOTH), of, union)
    return plans


_PLANS = _plans()
_MATCHED: dict[int, tuple[tuple[Rule, ...], Target, Plan | None]] = {}


def plan_for(rules: tuple[Rule, ...], target: Target) -> Plan | None:
    """The fused plan running exactly ``rules`` for ``target``, or ``None`` (use the plain checker)."""
    seen = _MATCHED.get(id(rules))
    if seen is not None and seen[0] is rules and seen[1] is target:
        return seen[2]
    plan = _PLANS.get((target,))
    if plan is not None and not plan.matches(rules):
        plan = None
    if len(_MATCHED) >= 64:
        _MATCHED.clear()
    _MATCHED[id(rules)] = (rules, target, plan)  # holding ``rules`` keeps its id from being reused
    return plan


def plan_for_all(rules: dict[Target, tuple[Rule, ...]]) -> Plan | None:
    """The combined plan running exactly ``rules[target]`` for each of the 837P and the CMS-1500 in
    one pass, or ``None`` (check each target on its own). Its :attr:`Plan.targets` are in that order."""
    plan = _PLANS.get(_BOTH)
    if plan is None or any(t not in rules or not plan.matches(rules[t], t) for t in _BOTH):
        return None
    return plan
