"""Posting 835 claim payments and hand-entered EOBs: matched, locked, paid or denied, and never twice."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionkit import Address, BillingCode, Client, ClientSession, Coverage, Payer, PracticeSetup, Sex
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.billing import bill, correct, record_answer
from sessionkit.claims import Receiver, Submitter
from sessionkit.domain import SessionStatus, new_id
from sessionkit.domain.billing import ClaimRecord, ClaimStatus
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
from sessionkit.errors import AlreadyExists, ConcurrentUpdate, InvalidValue, NotFound
from sessionkit.facts import account
from sessionkit.remittance import post_adjudication, post_remittance, read_835
from sessionkit.remittance.posting import source_key
from sessionkit.testing.x835 import Outcome, remittance_for, write_835

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
POSTED = datetime(2026, 6, 20, 10, 0, tzinfo=timezone.utc)
DAY = date(2026, 3, 2)
PAID_ON = date(2026, 6, 15)
ADDRESS = Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="627011234")
X12: dict[str, Any] = {
    "submitter": Submitter(name="Calm Practice", id="CALM01", contact_name="Bea Biller", phone="2175550100"),
    "receiver": Receiver(name="Clearinghouse", id="CLEARHOUSE"),
    "usage": "T",
}


def _world(clients: int = 4) -> InMemoryUnitOfWork:
    ids = [f"c{i}" for i in range(1, clients + 1)]
    return InMemoryUnitOfWork().seed(
        practice=PracticeSetup(
            name="Calm Practice",
            npi="1234567893",
            tax_id="123456789",
            time_zone="America/Chicago",
            default_billing_code="90834",
            address=ADDRESS,
        ),
        clients=[
            Client(
                id=cid,
                first_name="Ada",
                last_name="Byron",
                date_of_birth=date(1990, 1, 2),
                sex=Sex.FEMALE,
                address=ADDRESS,
            )
            for cid in ids
        ],
        payers=[Payer(id="p1", name="Acme Health", payer_id="60054")],
        coverages=[
            Coverage(
                id=f"k{cid}", client_id=cid, payer_id="p1", member_id=f"M{cid}", effective=date(2026, 1, 1)
            )
            for cid in ids
        ],
        billing_codes=[BillingCode(code="90834", default_minutes=45, default_charge="140.00")],
        sessions=[
            ClientSession(
                id=f"{cid}-{week}",
                client_id=cid,
                date_of_service=DAY + timedelta(days=7 * week),
                billing_code="90834",
                minutes=45,
                charge="140.00",
                diagnoses=["F41.1"],
            )
            for cid in ids
            for week in (0, 1)
        ],
    )


def _billed(clients: int = 4) -> tuple[InMemoryUnitOfWork, list[ClaimRecord]]:
    uow = _world(clients)
    with uow:
        run = bill(uow, today=TODAY, now=NOW, **X12)
        uow.commit()
    records = sorted(run.records, key=lambda r: r.client_id)
    assert len(records) == clients
    return uow, records


def _text(records: list[ClaimRecord], outcomes: list[Outcome], trace: str = "CHK1") -> str:
    remittance = remittance_for(records, outcomes, trace_number=trace, payment_date=PAID_ON)
    return write_835(remittance, created_at=POSTED)


def _post(uow: InMemoryUnitOfWork, text: Any, *, dry_run: bool = False) -> Any:
    with uow:
        report = post_remittance(uow, text, now=POSTED, dry_run=dry_run)
        uow.commit()
    return report


def _state(uow: InMemoryUnitOfWork) -> tuple[Any, ...]:
    with uow:
        return (
            sorted(uow.claim_records.list(), key=lambda r: r.id),
            uow.adjudications.list(),
            sorted(uow.sessions.list(), key=lambda s: s.id),
        )


OUTCOMES = [
    Outcome.paid(),
    Outcome.partly_paid(contractual="20", patient="25", reason="3"),
    Outcome.denied(group="CO", reason="197"),
    Outcome.partly_paid(contractual="0", patient="140", reason="1"),
]


def test_an_835_posts_paid_partly_paid_and_denied_claims() -> None:
    """Each claim payment: an adjudication with matched lines; the record paid or denied; the sessions locked."""
    uow, records = _billed()
    report = _post(uow, _text(records, OUTCOMES))
    assert [p.claim_status for p in report.posted] == [
        ClaimStatus.PAID,
        ClaimStatus.PAID,
        ClaimStatus.DENIED,
        ClaimStatus.PAID,
    ]
    assert (report.unmatched, report.skipped, report.problems) == ((), (), ())
    assert report.paid == Decimal("280.00") + Decimal("190.00")
    with uow:
        stored = {r.id: r for r in uow.claim_records.list()}
        for record, posted, paid in zip(
            records, report.posted, ["280.00", "190.00", "0.00", "0.00"], strict=True
        ):
            now = stored[record.id]
            assert now.payer_claim_number == f"PCN{record.patient_control_number}"
            assert now.payer_paid.amount == Decimal(paid)
            assert posted.claim_record_id == record.id
            assert set(posted.session_ids) == set(record.session_ids)
            (adjudication,) = uow.adjudications.for_claim(record.id)
            assert adjudication.id == posted.adjudication_id
            assert (adjudication.source, adjudication.coverage_id) == ("835", record.coverage_id)
            assert (adjudication.client_id, adjudication.payer_id) == (record.client_id, record.payer_id)
            assert adjudication.paid_on == PAID_ON
            assert adjudication.trace_number == "CHK1"
            assert [line.session_id for line in adjudication.lines] == [
                line.session_id for line in record.lines
            ]
            for session_id in record.session_ids:
                assert uow.sessions.get(session_id).status is SessionStatus.EOB_POSTED
        partly = uow.adjudications.for_claim(records[1].id)[0]
        assert partly.client_owes == Decimal("50.00")
        assert partly.written_off == Decimal("40.00")
        assert partly.lines[0].allowed == Decimal("120.00")
        sessions = uow.sessions.by_client(records[1].client_id)
        balance = account(sessions, uow.adjudications.for_client(records[1].client_id), []).balance
        assert balance == Decimal("50.00")  # what the client owes: the copays


def test_posting_the_same_835_twice_changes_nothing() -> None:
    """The second run skips every claim payment and leaves records, adjudications and sessions as they were."""
    uow, records = _billed()
    text = _text(records, OUTCOMES)
    first = _post(uow, text)
    before = _state(uow)
    again = _post(uow, text)
    assert again.posted == ()
    assert [s.claim for s in again.skipped] == [1, 2, 3, 4]
    assert [s.adjudication_id for s in again.skipped] == [p.adjudication_id for p in first.posted]
    assert _state(uow) == before


def test_a_claim_payment_twice_in_one_file_posts_once() -> None:
    """The same CLP repeated in a file (same payer, trace, claim and status) is skipped the second time."""
    uow, records = _billed(1)
    text = _text([records[0], records[0]], [Outcome.paid(), Outcome.paid()])
    report = _post(uow, text)
    assert [p.claim for p in report.posted] == [1]
    assert [(s.claim, s.adjudication_id) for s in report.skipped] == [(2, report.posted[0].adjudication_id)]
    with uow:
        assert len(uow.adjudications.list()) == 1


def test_a_dry_run_reports_and_writes_nothing() -> None:
    """dry_run: the report of what would be posted; no adjudication, record or session changes."""
    uow, records = _billed()
    before = _state(uow)
    report = _post(uow, _text(records, OUTCOMES), dry_run=True)
    assert report.dry_run
    assert [p.claim_status for p in report.posted] == [
        ClaimStatus.PAID,
        ClaimStatus.PAID,
        ClaimStatus.DENIED,
        ClaimStatus.PAID,
    ]
    assert _state(uow) == before


def test_an_unknown_claim_and_an_unmatched_line_are_reported_and_the_others_posted() -> None:
    """CLP01 of no record: unmatched; a line whose REF*6R and code match nothing: unmatched; the rest posts."""
    uow, records = _billed(3)
    stranger = attrs.evolve(records[0], patient_control_number="SK9999999999")
    remittance = remittance_for(
        [records[0], stranger, records[1], records[2]],
        [Outcome.paid()] * 4,
        trace_number="CHK2",
        payment_date=PAID_ON,
    )
    claims = list(remittance.claims)
    services = list(claims[2].services)
    services[1] = attrs.evolve(services[1], line_control_number="NOPE", code="90837")
    claims[2] = attrs.evolve(claims[2], services=tuple(services))
    text = write_835(attrs.evolve(remittance, claims=tuple(claims)), created_at=POSTED)
    report = _post(uow, text)
    assert [p.patient_control_number for p in report.posted] == [
        records[0].patient_control_number,
        records[2].patient_control_number,
    ]
    assert [(u.claim, u.code, u.line) for u in report.unmatched] == [
        (2, "remittance.unknown_claim", None),
        (3, "remittance.unmatched_line", 2),
    ]
    with uow:
        assert uow.claim_records.get(records[1].id).status is ClaimStatus.SUBMITTED
        assert uow.adjudications.for_claim(records[1].id) == []


def test_lines_without_a_line_control_number_match_by_code_date_and_charge() -> None:
    """No REF*6R: the line is matched by procedure code, date of service and charge, and the report says so."""
    uow, records = _billed(1)
    remittance = remittance_for(records, [Outcome.paid()], trace_number="CHK3", payment_date=PAID_ON)
    claim = remittance.claims[0]
    services = tuple(attrs.evolve(s, line_control_number=None) for s in reversed(claim.services))
    text = write_835(
        attrs.evolve(remittance, claims=(attrs.evolve(claim, services=services),)), created_at=POSTED
    )
    report = _post(uow, text)
    (posted,) = report.posted
    assert posted.fallback_lines == (1, 2)
    with uow:
        (adjudication,) = uow.adjudications.list()
    assert [line.session_id for line in adjudication.lines] == [
        records[0].lines[1].session_id,
        records[0].lines[0].session_id,
    ]


def test_a_reversal_puts_the_claim_back_to_accepted_and_a_new_payment_to_paid() -> None:
    """CLP02 22 with negated amounts: record accepted, nothing paid; the payer's corrected payment: paid again."""
    uow, records = _billed(1)
    _post(uow, _text(records, [Outcome.paid()], trace="CHK1"))
    reversal = _post(uow, _text(records, [Outcome.reversal(Outcome.paid())], trace="CHK2"))
    assert [p.claim_status for p in reversal.posted] == [ClaimStatus.ACCEPTED]
    assert [a.reason for a in reversal.provider_adjustments] == ["FB"]
    with uow:
        record = uow.claim_records.get(records[0].id)
        assert record.status is ClaimStatus.ACCEPTED
        assert record.payer_paid.amount == Decimal("0.00")
        sessions = uow.sessions.by_client(record.client_id)
        assert all(s.locked for s in sessions)
        assert account(sessions, uow.adjudications.list(), []).balance == Decimal("280.00")
    again = _post(uow, _text(records, [Outcome.partly_paid(contractual="40")], trace="CHK3"))
    assert [p.claim_status for p in again.posted] == [ClaimStatus.PAID]
    with uow:
        assert uow.claim_records.get(records[0].id).payer_paid.amount == Decimal("200.00")


def test_a_reversal_and_the_new_payment_in_one_file_post_in_order() -> None:
    """The usual correction: a reversal and the new adjudication of the same claim in one 835."""
    uow, records = _billed(1)
    _post(uow, _text(records, [Outcome.paid()], trace="CHK1"))
    text = _text(
        [records[0], records[0]],
        [Outcome.reversal(Outcome.paid()), Outcome.partly_paid(patient="10")],
        "CHK2",
    )
    report = _post(uow, text)
    assert [p.claim_status for p in report.posted] == [ClaimStatus.ACCEPTED, ClaimStatus.PAID]
    with uow:
        assert uow.claim_records.get(records[0].id).payer_paid.amount == Decimal("260.00")


def test_one_unreadable_claim_does_not_stop_the_others() -> None:
    """A claim that does not balance is a problem (position, segment, code); the other claims post."""
    uow, records = _billed(3)
    segments = [s for s in _text(records, [Outcome.paid()] * 3).split("~\n") if s]
    clp = next(i for i, s in enumerate(segments) if s.startswith(f"CLP*{records[1].patient_control_number}*"))
    segments.insert(clp + 1, "CAS*OA*23*1")
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = f"SE*{se - 1}*0001"
    report = _post(uow, "~\n".join(segments) + "~\n")
    assert [(p.claim, p.code, p.patient_control_number, p.segment) for p in report.problems] == [
        (2, "x835.unbalanced_claim", records[1].patient_control_number, clp + 1)
    ]
    assert [p.claim for p in report.posted] == [1, 3]


def test_a_voided_claim_is_not_posted() -> None:
    """A record voided by a correction is a problem: post the answer to the claim that replaced it."""
    uow, records = _billed(1)
    with uow:
        record_answer(uow, records[0].id, status=ClaimStatus.ACCEPTED, payer_claim_number="ACME1")
        correct(uow, records[0].id)
        uow.commit()
    report = _post(uow, _text(records, [Outcome.paid()]))
    assert [p.code for p in report.problems] == ["remittance.claim_not_live"]
    assert report.posted == ()


def test_the_report_is_json_ready() -> None:
    """as_dict: the format name and version, amounts as text, every list."""
    uow, records = _billed(2)
    report = _post(uow, _text(records, [Outcome.paid(), Outcome.reversal(Outcome.paid())]))
    data = json.loads(json.dumps(report.as_dict()))
    assert (data["format"], data["format_version"], data["dry_run"]) == ("sessionkit.post_era", 1, False)
    assert data["paid"] == "0.00"
    assert [p["claim_status"] for p in data["posted"]] == ["paid", "accepted"]
    assert data["provider_adjustments"] == []


def test_a_remittance_value_or_a_list_of_them_posts_as_its_text_does() -> None:
    """post_remittance takes the text, one Remittance, or what read_835 returned."""
    uow, records = _billed(2)
    text = _text(records, [Outcome.paid(), Outcome.paid()])
    remittances = read_835(text)

    def summary(value: Any) -> list[tuple[Any, ...]]:
        report = _post(uow, value, dry_run=True)
        return [(p.claim, p.claim_record_id, p.claim_status, p.paid) for p in report.posted]

    expected = summary(text)
    assert len(expected) == 2
    assert summary(remittances[0]) == expected
    assert summary(list(remittances)) == expected
    assert summary(text.encode("ascii")) == expected


def test_the_source_key_fits_the_model_and_names_payer_trace_and_claim() -> None:
    """Different trace numbers or statuses give different keys; the key is at most 64 characters."""
    _, records = _billed(1)
    a = remittance_for(records, [Outcome.paid()], trace_number="A" * 50, payment_date=PAID_ON)
    b = attrs.evolve(a, trace_number="B")
    keys = {source_key(a, a.claims[0]), source_key(b, b.claims[0])}
    assert len(keys) == 2
    assert all(len(k) <= 64 and k.startswith("835:") for k in keys)


# -- hand-entered EOBs ---------------------------------------------------------------------------


def _eob(record: ClaimRecord, key: str = "eob-1", **changes: Any) -> Adjudication:
    fields: dict[str, Any] = {
        "id": new_id(),
        "claim_record_id": record.id,
        "client_id": record.client_id,
        "payer_id": record.payer_id,
        "coverage_id": record.coverage_id,
        "patient_control_number": record.patient_control_number,
        "payer_claim_number": "ACME77",
        "status_code": "1",
        "charge": "280.00",
        "paid": "230.00",
        "patient_responsibility": "50.00",
        "lines": [
            LineAdjudication(
                session_id=line.session_id,
                code=line.code,
                charge="140.00",
                paid="115.00",
                adjustments=[Adjustment(group="PR", reason="3", amount="25.00")],
            )
            for line in record.lines
        ],
        "paid_on": PAID_ON,
        "source_key": key,
        "posted_at": POSTED,
    }
    fields.update(changes)
    return Adjudication(**fields)


def test_a_hand_entered_eob_posts_like_a_remittance() -> None:
    """post_adjudication: stored, the record paid with the payer's number, the sessions locked."""
    uow, records = _billed(1)
    with uow:
        stored = post_adjudication(uow, _eob(records[0]))
        uow.commit()
    assert stored.version == 1
    with uow:
        record = uow.claim_records.get(records[0].id)
        assert (record.status, record.payer_claim_number, record.payer_paid.amount) == (
            ClaimStatus.PAID,
            "ACME77",
            Decimal("230.00"),
        )
        assert all(uow.sessions.get(s).locked for s in record.session_ids)
        with pytest.raises(AlreadyExists) as info:
            post_adjudication(uow, _eob(records[0]))
        assert info.value.code == "adjudication.already_posted"


def test_a_hand_entered_eob_must_fit_its_claim_record() -> None:
    """An unknown record, another claim's number, or a session not on the claim are refused."""
    uow, records = _billed(2)
    with uow:
        with pytest.raises(NotFound):
            post_adjudication(uow, _eob(records[0], claim_record_id="nope"))
        with pytest.raises(InvalidValue) as info:
            post_adjudication(uow, _eob(records[0], patient_control_number=records[1].patient_control_number))
        assert info.value.code == "adjudication.claim_mismatch"
        other = _eob(records[1]).lines
        with pytest.raises(InvalidValue) as info:
            post_adjudication(uow, _eob(records[0], lines=other))
        assert (info.value.code, info.value.field) == ("adjudication.session_mismatch", "lines[0].session_id")
        assert uow.adjudications.list() == []


# -- properties ----------------------------------------------------------------------------------

simple_outcomes = st.one_of(
    st.just(Outcome.paid()),
    st.builds(
        Outcome.partly_paid,
        contractual=st.decimals("0", "150", places=2),
        patient=st.decimals("0", "150", places=2),
        reason=st.sampled_from(["1", "2", "3"]),
    ),
    st.builds(Outcome.denied, group=st.sampled_from(["CO", "PR"]), reason=st.sampled_from(["197", "96"])),
)
EXPECTED = {"paid": ClaimStatus.PAID, "partly_paid": ClaimStatus.PAID, "denied": ClaimStatus.DENIED}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chosen=st.lists(simple_outcomes, min_size=3, max_size=3),
    reverse=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_any_outcomes_post_once_and_balance(chosen: list[Outcome], reverse: list[bool]) -> None:
    """Random outcomes: statuses follow CLP02, each client's balance is charge - paid - write-offs, twice is once."""
    uow, records = _billed(3)
    _post(uow, _text(records, chosen, trace="T1"))
    reversals = [
        (r, Outcome.reversal(o)) for r, o, flag in zip(records, chosen, reverse, strict=True) if flag
    ]
    if reversals:
        _post(uow, _text([r for r, _ in reversals], [o for _, o in reversals], trace="T2"))
    before = _state(uow)
    _post(uow, _text(records, chosen, trace="T1"))
    assert _state(uow) == before
    with uow:
        for record, outcome, flag in zip(records, chosen, reverse, strict=True):
            stored = uow.claim_records.get(record.id)
            assert stored.status is (ClaimStatus.ACCEPTED if flag else EXPECTED[outcome.kind])
            adjudications = uow.adjudications.for_client(record.client_id)
            assert len(adjudications) == (2 if flag else 1)
            sessions = uow.sessions.by_client(record.client_id)
            balance = account(sessions, adjudications, []).balance
            owed = sum((a.client_owes for a in adjudications), Decimal("0.00"))
            assert balance == (Decimal("280.00") if flag else owed)


def test_two_units_of_work_posting_at_once_post_each_claim_once() -> None:
    """A concurrent post commits first: the other's commit is refused, and posting again skips everything."""
    uow, records = _billed(2)
    other = InMemoryUnitOfWork(uow.store)
    text = _text(records, [Outcome.paid(), Outcome.denied()])
    with uow, other:
        first = post_remittance(uow, text, now=POSTED)
        second = post_remittance(other, text, now=POSTED)
        assert len(first.posted) == len(second.posted) == 2
        uow.commit()
        with pytest.raises((AlreadyExists, ConcurrentUpdate)):
            other.commit()
    before = _state(uow)
    again = _post(other, text)
    assert (again.posted, len(again.skipped)) == ((), 2)
    assert _state(uow) == before
    with uow:
        assert len(uow.adjudications.list()) == 2
