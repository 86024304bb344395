"""Work queues and claim records: what is to bill, what was billed, corrections, invoices and balances."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sessionkit import (
    Address,
    BillingCode,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    Payer,
    PracticeSetup,
    Sex,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.billing import (
    bill,
    correct,
    invoice_client,
    record_answer,
    sessions_to_bill,
    sessions_to_invoice,
    statement,
)
from sessionkit.claims import Receiver, Submitter
from sessionkit.domain.billing import ClaimStatus, InvoiceLineKind
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
from sessionkit.errors import AlreadyExists, InvalidValue
from sessionkit.facts import client_share
from sessionkit.money import Money
from sessionkit.payments import pay_now, record_payment, set_paid_at_session
from sessionkit.testing.gateway import TIMEOUT_APPROVE, TestGateway

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
DAY = date(2026, 3, 2)
ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
SUBMITTER = Submitter(name="Calm Practice", id="CALM01", contact_name="Bea Biller", phone="2175550100")
RECEIVER = Receiver(name="Clearinghouse", id="CLEARHOUSE")
X12 = {"submitter": SUBMITTER, "receiver": RECEIVER, "usage": "T"}


def _client(cid: str) -> Client:
    return Client(
        id=cid,
        first_name="Ada",
        last_name="Byron",
        date_of_birth=date(1990, 1, 2),
        sex=Sex.FEMALE,
        address=ADDRESS,
    )


def _world() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork().seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone="America/Chicago",
            default_billing_code="90834",
            address=ADDRESS,
        ),
        clients=[_client("c1"), _client("c2"), _client("c3")],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054")],
        coverages=[
            Coverage(
                id=f"k{i}",
                client_id=f"c{i}",
                payer_id="p1",
                member_id=f"M{i}00",
                effective=date(2026, 1, 1),
                copay="25",
            )
            for i in (1, 2)
        ],
        billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140.00")],
    )


def _session(sid: str, client_id: str = "c1", day: date = DAY, **kw: object) -> ClientSession:
    fields: dict[str, object] = {
        "billing_code": "90834",
        "minutes": 45,
        "charge": "140.00",
        "diagnoses": ["F41.1"],
        **kw,
    }
    return ClientSession(id=sid, client_id=client_id, date_of_service=day, **fields)  # type: ignore[arg-type]


def _save(uow: InMemoryUnitOfWork, *sessions: ClientSession) -> None:
    with uow:
        uow.sessions.save_many(sessions)
        uow.commit()


def test_a_billing_run_records_each_claim_and_bills_nothing_twice() -> None:
    """Ready insured sessions go on claims once: records with unique control numbers; a second run is empty."""
    uow = _world()
    _save(uow, _session("s1"), _session("s2", day=DAY + timedelta(days=7)), _session("s3", "c2"))
    _save(uow, _session("s4", "c3"))  # no coverage: billed to the client, not to insurance
    with uow:
        assert [s.id for s in sessions_to_bill(uow, today=TODAY)] == ["s1", "s2", "s3"]
        run = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.commit()
    assert run.text is not None
    assert sorted(run.session_ids) == ["s1", "s2", "s3"]
    assert len(run.records) == 2  # one claim per client
    pcns = [r.patient_control_number for r in run.records]
    assert len(set(pcns)) == 2
    assert all(p.startswith("SK") and p in run.text for p in pcns)
    assert {r.interchange_control_number for r in run.records} == {1}
    assert f"*{run.records[0].interchange_control_number:09d}*" in run.text
    with uow:
        assert uow.claim_records.live_session_ids() == {"s1", "s2", "s3"}
        assert sessions_to_bill(uow, today=TODAY) == []
        again = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        assert (again.claims, again.records, again.text) == ((), (), None)
        second = bill(uow, today=TODAY, now=NOW, target="cms1500")
        assert second.forms == ()


def test_control_numbers_are_never_reused_even_when_a_run_is_not_committed() -> None:
    """A run rolled back keeps its numbers used: the next run gets new ones."""
    uow = _world()
    _save(uow, _session("s1"))
    with uow:
        first = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.rollback()
        second = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.commit()
    assert first.records[0].patient_control_number != second.records[0].patient_control_number
    assert first.records[0].interchange_control_number != second.records[0].interchange_control_number


def test_a_rejected_claim_frees_its_sessions_and_a_correction_quotes_the_payer_number() -> None:
    """Rejected: the sessions are to bill again. Accepted then corrected: frequency 7 with REF*F8."""
    uow = _world()
    _save(uow, _session("s1"))
    with uow:
        (record,) = bill(uow, today=TODAY, now=NOW, **X12).records  # type: ignore[arg-type]
        uow.commit()
    with uow:
        record_answer(uow, record.id, status="rejected")
        uow.commit()
    with uow:
        assert [s.id for s in sessions_to_bill(uow, today=TODAY)] == ["s1"]
        (rebilled,) = bill(uow, today=TODAY, now=NOW, **X12).records  # type: ignore[arg-type]
        uow.commit()
    with uow:
        with pytest.raises(InvalidValue) as info:
            correct(uow, rebilled.id)
        assert info.value.code == "claim_record.no_payer_claim_number"
        record_answer(uow, rebilled.id, status=ClaimStatus.ACCEPTED, payer_claim_number="PAYER778899")
        (corrected,) = correct(uow, rebilled.id)
        uow.commit()
    assert (corrected.resubmission.frequency.value, corrected.resubmission.original_reference) == (
        "7",
        "PAYER778899",
    )
    with uow:
        run = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.commit()
    assert run.text is not None
    assert "REF*F8*PAYER778899~" in run.text
    assert run.records[0].frequency.value == "7"
    with uow:
        statuses = sorted(r.status.value for r in uow.claim_records.for_session("s1"))
    assert statuses == ["rejected", "submitted", "void"]


def test_a_session_cannot_be_on_two_live_claims() -> None:
    """Two units billing the same session: the second commit raises claim_record.session_billed."""
    uow_a = _world()
    _save(uow_a, _session("s1"))
    uow_b = InMemoryUnitOfWork(uow_a.store)
    with uow_a, uow_b:
        bill(uow_a, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        bill(uow_b, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow_a.commit()
        with pytest.raises(AlreadyExists) as info:
            uow_b.commit()
    assert info.value.code == "claim_record.session_billed"
    with uow_a:
        assert len(uow_a.claim_records.list()) == 1


def test_invoices_list_shares_charges_and_payments_and_carry_the_balance() -> None:
    """Copay for insured sessions, the whole charge billed to the client, payments as credits; once each."""
    uow = _world()
    _save(
        uow,
        _session("s1"),
        _session("s2", day=DAY + timedelta(days=1), bill_to=BillTo.CLIENT),
        _session("s3", "c3"),
    )
    with uow:
        paid = set_paid_at_session(uow, "s1", "10.00", now=NOW)
        uow.commit()
    assert paid.paid_at_session == Money("10.00")
    with uow:
        assert [s.id for s in sessions_to_invoice(uow, client_id="c1")] == ["s1", "s2"]
        march = invoice_client(uow, "c1", start=date(2026, 3, 1), end=date(2026, 3, 31), now=NOW)
        uow.commit()
    assert march is not None
    kinds = [(line.session_id, line.kind, line.amount) for line in march.lines]
    assert kinds == [
        ("s1", InvoiceLineKind.CLIENT_SHARE, Decimal("25.00")),
        ("s2", InvoiceLineKind.CHARGE, Decimal("140.00")),
    ]
    assert [(p.method, p.amount, p.applied, p.at_session) for p in march.payments] == [
        ("cash", Decimal("10.00"), Decimal("10.00"), True)
    ]
    assert (march.total, march.balance, march.number) == (Decimal("155.00"), Decimal("155.00"), 1)
    _save(uow, _session("s5", day=date(2026, 4, 6)))
    with uow:
        assert invoice_client(uow, "c1", start=date(2026, 3, 1), end=date(2026, 3, 31), now=NOW) is None
        april = invoice_client(uow, "c1", start=date(2026, 4, 1), end=date(2026, 4, 30), now=NOW)
        uow.commit()
    assert april is not None
    assert (april.previous_balance, april.total, april.balance, april.number) == (
        Decimal("155.00"),
        Decimal("25.00"),
        Decimal("180.00"),
        2,
    )
    with uow:
        found = statement(uow, "c1")
    assert found.invoiced_balance == Decimal("180.00")
    # the account: three sessions of 140.00 charged, nothing from the payer yet, 10.00 paid
    assert (found.account.charges, found.account.client_paid, found.balance) == (
        Decimal("420.00"),
        Decimal("10.00"),
        Decimal("410.00"),
    )


class BillingMachine(RuleBasedStateMachine):
    """Random sessions, billing runs, payer answers, corrections, voids and invoices, in any order."""

    @initialize()
    def start(self) -> None:
        self.uow = _world()
        self.count = 0
        self.numbers: list[str] = []

    @rule(
        client=st.sampled_from(["c1", "c2", "c3"]),
        day=st.integers(0, 60),
        bill_to=st.sampled_from([BillTo.AUTOMATIC, BillTo.AUTOMATIC, BillTo.CLIENT]),
        paid=st.sampled_from(["0", "10.00", "25.00", "30.00"]),
    )
    def enter_session(self, client: str, day: int, bill_to: BillTo, paid: str) -> None:
        self.count += 1
        session = _session(f"s{self.count}", client, DAY + timedelta(days=day), bill_to=bill_to)
        _save(self.uow, session)
        with self.uow:
            set_paid_at_session(self.uow, session.id, paid, now=NOW)
            self.uow.commit()

    @rule(form=st.sampled_from(["837p", "cms1500"]))
    def billing_run(self, form: str) -> None:
        with self.uow:
            run = bill(self.uow, today=TODAY, now=NOW, target=form, **X12)  # type: ignore[arg-type]
            self.uow.commit()
            self.numbers.extend(r.patient_control_number for r in run.records)
            assert sessions_to_bill(self.uow, today=TODAY, target=form) == []

    @precondition(lambda self: self._records())
    @rule(data=st.data(), answer=st.sampled_from(["accepted", "rejected", "paid", "denied"]))
    def payer_answers(self, data: st.DataObject, answer: str) -> None:
        record = data.draw(st.sampled_from(self._records()))
        with self.uow:
            record_answer(
                self.uow, record.id, status=answer, payer_claim_number=f"P{record.patient_control_number}"
            )
            self.uow.commit()

    @precondition(lambda self: self._records(accepted=True))
    @rule(data=st.data(), void=st.booleans())
    def correct_or_void(self, data: st.DataObject, void: bool) -> None:
        record = data.draw(st.sampled_from(self._records(accepted=True)))
        with self.uow:
            correct(self.uow, record.id, void=void)
            self.uow.commit()

    @rule(client=st.sampled_from(["c1", "c2", "c3"]))
    def invoice(self, client: str) -> None:
        with self.uow:
            invoice_client(self.uow, client, start=DAY, end=DAY + timedelta(days=60), now=NOW)
            self.uow.commit()

    def _records(self, *, accepted: bool = False) -> list[attrs.AttrsInstance]:
        # In patient control number order: records made at the same instant are listed by their
        # random ids, and hypothesis needs the same choices in the same order when it replays.
        with self.uow:
            return sorted(
                (
                    r
                    for r in self.uow.claim_records.list()
                    if r.live and (not accepted or r.status is ClaimStatus.ACCEPTED)
                ),
                key=lambda r: r.patient_control_number,
            )

    @invariant()
    def no_session_on_two_live_claims_and_unique_numbers(self) -> None:
        with self.uow:
            live = [sid for r in self.uow.claim_records.list() if r.live for sid in r.session_ids]
            numbers = [r.patient_control_number for r in self.uow.claim_records.list()]
        assert len(live) == len(set(live))
        assert len(numbers) == len(set(numbers))

    @invariant()
    def each_invoiced_balance_is_shares_minus_payments_invoiced(self) -> None:
        with self.uow:
            invoiced = self.uow.invoices.invoiced_session_ids()
            for client in ("c1", "c2", "c3"):
                coverages = self.uow.coverages.for_client(client)
                sessions = [s for s in self.uow.sessions.by_client(client) if s.id in invoiced]
                owed = sum((client_share(s, coverages).amount for s in sessions), Decimal("0.00"))
                invoices = self.uow.invoices.for_client(client)
                listed = {pid for i in invoices for pid in i.payment_ids}
                paid = sum(
                    (p.amount.amount for p in self.uow.payments.for_client(client) if p.id in listed),
                    Decimal("0.00"),
                )
                found = statement(self.uow, client)
                assert found.invoiced_balance == owed - paid
                charges = sum(
                    (s.total_charge.amount for s in self.uow.sessions.by_client(client)), Decimal(0)
                )
                ledger = sum((p.amount.amount for p in self.uow.payments.for_client(client)), Decimal(0))
                assert found.balance == charges - ledger


TestBillingMachine = BillingMachine.TestCase
TestBillingMachine.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)


def _adjudication(sid: str, key: str, *, paid: str, pr: str, status: str = "1") -> Adjudication:
    sign = Decimal(-1) if status == "22" else Decimal(1)
    charge = Decimal("140.00") * sign
    return Adjudication(
        id=key,
        claim_record_id="r1",
        client_id="c1",
        payer_id="p1",
        patient_control_number="SK0000000001",
        status_code=status,
        charge=charge,
        paid=paid,
        lines=[
            LineAdjudication(
                session_id=sid,
                code="90834",
                charge=charge,
                paid=paid,
                adjustments=[
                    Adjustment(group="CO", reason="45", amount=charge - Decimal(paid) - Decimal(pr)),
                    Adjustment(group="PR", reason="1", amount=pr),
                ],
            )
        ],
        paid_on=date(2026, 4, 1),
        source_key=key,
        posted_at=NOW,
    )


def test_an_invoice_after_the_eob_shows_the_change_as_an_adjustment() -> None:
    """Invoiced at the copay estimate; the EOB's PR amount then adds the difference; a reversal takes it back."""
    uow = _world()
    _save(uow, _session("s1"))
    period = {"start": date(2026, 3, 1), "end": date(2026, 3, 31), "now": NOW}
    with uow:
        first = invoice_client(uow, "c1", **period)  # type: ignore[arg-type]
        uow.adjudications.add(_adjudication("s1", "eob-1", paid="70.00", pr="40.00"))
        second = invoice_client(uow, "c1", **period)  # type: ignore[arg-type]
        assert invoice_client(uow, "c1", **period) is None  # type: ignore[arg-type]  # nothing changed
        uow.adjudications.add(_adjudication("s1", "rev-1", paid="-70.00", pr="-40.00", status="22"))
        third = invoice_client(uow, "c1", **period)  # type: ignore[arg-type]
        uow.commit()
    assert first is not None
    assert second is not None
    assert third is not None
    assert [(a.session_id, a.kind, a.amount) for a in first.lines] == [
        ("s1", InvoiceLineKind.CLIENT_SHARE, Decimal("25.00"))
    ]
    assert (second.lines, [(a.kind, a.amount) for a in second.adjustments]) == (
        (),
        [(InvoiceLineKind.ADJUSTMENT, Decimal("15.00"))],
    )
    assert second.balance == Decimal("40.00")
    assert [a.amount for a in third.adjustments] == [Decimal("-15.00")]
    assert third.balance == Decimal("25.00")


def test_a_session_owing_nothing_is_invoiced_once_the_eob_says_it_owes() -> None:
    """A session with no copay estimate goes on an invoice when the EOB puts a deductible on the client."""
    uow = _world()
    _save(uow, _session("s7"))
    with uow:
        coverage = uow.coverages.get("k1")
        uow.coverages.put(attrs.evolve(coverage, copay=None))
        uow.commit()
    with uow:
        assert sessions_to_invoice(uow, client_id="c1") == []
        uow.adjudications.add(_adjudication("s7", "eob-7", paid="0", pr="90.00"))
        made = invoice_client(uow, "c1", start=DAY, end=DAY, now=NOW)
    assert made is not None
    assert [(a.session_id, a.amount) for a in made.lines] == [("s7", Decimal("90.00"))]


def test_a_payment_corrected_after_its_invoice_is_listed_again_with_the_difference() -> None:
    """Paid at session 25 invoiced, then corrected to 0: the next invoice takes the 25 back, nothing else."""
    uow = _world()
    _save(uow, _session("s1"))
    period = {"start": DAY, "end": DAY, "now": NOW}
    with uow:
        set_paid_at_session(uow, "s1", "25", now=NOW)
        first = invoice_client(uow, "c1", **period)  # type: ignore[arg-type]
        set_paid_at_session(uow, "s1", "0", now=NOW)
        second = invoice_client(uow, "c1", **period)  # type: ignore[arg-type]
        uow.commit()
    assert first is not None
    assert second is not None
    assert (first.total, first.balance) == (Decimal("0.00"), Decimal("0.00"))
    assert [(p.amount, p.applied) for p in second.payments] == [(Decimal("-25.00"), Decimal("-25.00"))]
    assert second.balance == Decimal("25.00")
    with uow:
        found = statement(uow, "c1")
    assert (found.payments, found.credit, found.balance) == ((), Decimal("0.00"), Decimal("140.00"))


def test_statement_shows_credits_and_pending_charges() -> None:
    """A payment left on account is the statement's credit; a pending card charge counts nothing."""
    uow = _world()
    _save(uow, _session("s1"))
    gateway = TestGateway()
    with uow:
        record_payment(uow, client_id="c1", amount="100", method="check", now=NOW, apply_to=["s1"])
        pay_now(
            uow, gateway, client_id="c1", amount="10", token=TIMEOUT_APPROVE, idempotency_key="k", now=NOW
        )
        found = statement(uow, "c1")
    assert (found.credit, found.balance) == (Decimal("75.00"), Decimal("40.00"))
    assert [p.status.value for p in found.pending] == ["pending"]
    assert [p.amount for p in found.uninvoiced_payments] == [Money("100")]


def _primary_paid(
    session_id: str, *, paid: str = "100.00", reversal: bool = False, key: str = "a1"
) -> Adjudication:
    """The primary payer's (p1, coverage k1) posted answer for one 140.00 line of ``session_id``."""
    sign = -1 if reversal else 1
    amount = Decimal(paid) * sign
    write_off = (Decimal("140.00") - Decimal(paid)) * sign
    return Adjudication(
        id=key,
        claim_record_id="r1",
        client_id="c1",
        payer_id="p1",
        coverage_id="k1",
        patient_control_number="SK1",
        payer_claim_number="PCN1",
        status_code="22" if reversal else "1",
        charge=Decimal("140.00") * sign,
        paid=amount,
        lines=[
            LineAdjudication(
                session_id=session_id,
                code="90834",
                charge=Decimal("140.00") * sign,
                paid=amount,
                adjustments=[Adjustment(group="CO", reason="45", amount=write_off)],
            )
        ],
        paid_on=DAY + timedelta(days=30),
        source_key=key,
        posted_at=NOW + timedelta(minutes=len(key)),
    )


def _with_secondary() -> InMemoryUnitOfWork:
    uow = _world()
    with uow:
        uow.payers.add(Payer(id="p2", name="Second Mutual", payer_id="22222"))
        uow.coverages.add(
            Coverage(
                id="k1s",
                client_id="c1",
                payer_id="p2",
                member_id="S100",
                rank="S",
                effective=date(2026, 1, 1),
            )
        )
        uow.commit()
    return uow


def test_a_session_whose_primary_answered_is_billed_again_to_the_secondary() -> None:
    """Once the primary's adjudication is posted, the session is offered to the secondary payer (and only
    to it: payer_id filters by the payer to bill), bill() records the claim to the secondary coverage and
    the 837P carries SBR*S with the primary's COB; a second run bills nothing."""
    uow = _with_secondary()
    _save(uow, _session("s1"))
    with uow:
        first = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.commit()
    assert [r.coverage_id for r in first.records] == ["k1"]
    assert first.text is not None
    assert "SBR*P*18" in first.text
    assert "AMT*D" not in first.text
    with uow:
        assert sessions_to_bill(uow, today=TODAY) == []  # the primary has not answered yet
        uow.adjudications.add(_primary_paid("s1"))
        uow.commit()
    with uow:
        assert [s.id for s in sessions_to_bill(uow, today=TODAY)] == ["s1"]
        assert sessions_to_bill(uow, today=TODAY, payer_id="p1") == []
        assert [s.id for s in sessions_to_bill(uow, today=TODAY, payer_id="p2")] == ["s1"]
        second = bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.commit()
    assert [(r.coverage_id, r.payer_id, r.session_ids) for r in second.records] == [("k1s", "p2", ("s1",))]
    assert second.text is not None
    assert "SBR*S*18" in second.text
    assert "SBR*P*18" in second.text
    assert "AMT*D*100~" in second.text
    assert "SVD*60054*100*HC:90834**1~" in second.text
    with uow:
        assert sessions_to_bill(uow, today=TODAY) == []


def test_a_reversed_primary_answer_sends_the_session_back_to_the_primary() -> None:
    """A reversal (CLP02 = 22) cancels the primary's answer: the secondary is not offered the session
    (and the session is on a live primary claim, so nothing is offered)."""
    uow = _with_secondary()
    _save(uow, _session("s1"))
    with uow:
        bill(uow, today=TODAY, now=NOW, **X12)  # type: ignore[arg-type]
        uow.adjudications.add(_primary_paid("s1"))
        uow.adjudications.add(_primary_paid("s1", reversal=True, key="a22"))
        uow.commit()
    with uow:
        assert sessions_to_bill(uow, today=TODAY) == []
        assert sessions_to_bill(uow, today=TODAY, payer_id="p2") == []


def test_a_billing_run_checks_each_session_once_and_the_claims_agree() -> None:
    """bill() reuses the readiness verdicts of sessions_to_bill: a rule runs once per session per run."""
    from sessionkit.readiness import ReadinessContext, Severity, Target, default_registry, define_rule

    calls: list[str] = []
    counted = define_rule("counted", targets=[Target.X12_837P], source="a test", description="counts")
    never = counted.code("test.never", Severity.ERROR, "never found")

    @counted.checks
    def count(session: ClientSession, context: ReadinessContext) -> list[object]:
        calls.append(session.id)
        return [never.at("id")] if session.id == "s2" else []

    registry = default_registry()
    registry.add(counted.rule)
    uow = _world()
    _save(uow, _session("s1"), _session("s2", day=DAY + timedelta(days=7)), _session("s3", "c2"))
    with uow:
        run = bill(uow, today=TODAY, now=NOW, rules=registry, **X12)  # type: ignore[arg-type]
    assert sorted(run.session_ids) == ["s1", "s3"]  # the rule keeps s2 off the claims
    assert sorted(calls) == ["s1", "s2", "s3"]  # and ran once per session
