"""The 835 reader: every segment it reads, broken envelopes, bad claims that do not stop the others."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionkit.domain.billing import ClaimRecord, ClaimRecordLine
from sessionkit.domain.payments import Adjustment, AdjustmentGroup
from sessionkit.errors import SessionkitError
from sessionkit.money import Money
from sessionkit.remittance.x835 import ClaimPayment, RemittanceError, read_835
from sessionkit.testing.x835 import Outcome, remittance_for, write_835

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remittances"
CREATED = datetime(2026, 4, 15, 9, 30, tzinfo=timezone.utc)
PROFESSIONAL = (FIXTURES / "professional_example.835").read_text(encoding="ascii")
GUIDE = (FIXTURES / "guide_example.835").read_text(encoding="ascii")


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _join(segments: list[str]) -> str:
    return "~\n".join(segments) + "~\n"


def _recount(segments: list[str]) -> list[str]:
    """Fix SE01 after a test added or removed segments of the (only) transaction set."""
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    control = segments[se].split("*")[2]
    return [*segments[:se], f"SE*{se - st + 1}*{control}", *segments[se + 1 :]]


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_the_professional_example_reads_every_segment() -> None:
    """BPR, TRN, DTM*405, N1*PR (REF*2U), N1*PE, CLP, NM1*QC, DTM, SVC with modifiers, CAS triples, REF*6R, AMT*B6, LQ, PLB."""
    (r,) = read_835(PROFESSIONAL)
    assert (r.sender_id, r.receiver_id, r.interchange_control_number, r.usage) == (
        "ACMEHEALTH",
        "CALMPRACTICE",
        "000000042",
        "T",
    )
    assert (r.group_control_number, r.transaction_control_number) == ("42", "0042")
    assert (r.handling_code, r.total_paid, r.credit_debit, r.method) == ("I", Decimal("190.50"), "C", "CHK")
    assert r.payment_date == date(2026, 4, 15)
    assert (r.trace_number, r.payer_identifier, r.payer_id, r.payer_key) == (
        "CHK100042",
        "1999999999",
        "60054",
        "60054",
    )
    assert (r.payer_name, r.payee_name, r.payee_id_qualifier, r.payee_id) == (
        "ACME HEALTH",
        "CALM PRACTICE",
        "XX",
        "1234567893",
    )
    assert r.production_date == date(2026, 4, 14)
    assert r.problems == ()
    first, second = r.claims
    assert (first.position, first.patient_control_number, first.status_code) == (1, "SK0000000001", "1")
    assert (first.charge, first.paid, first.patient_responsibility) == (
        Decimal("280.00"),
        Decimal("180.00"),
        Decimal("50.00"),
    )
    assert (first.filing_indicator, first.payer_claim_number) == ("12", "ACME26100001")
    assert (first.patient_last_name, first.patient_first_name) == ("BYRON", "ADA")
    assert (first.statement_from, first.statement_to, first.received_on) == (
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 20),
    )
    line = first.services[0]
    assert (line.qualifier, line.code, line.modifiers) == ("HC", "90834", ("95",))
    assert (line.charge, line.paid, line.units, line.allowed) == (
        Decimal("140.00"),
        Decimal("90.00"),
        Decimal(1),
        Decimal("115.00"),
    )
    assert line.date_of_service == date(2026, 3, 2)
    assert line.line_control_number == "SK0000000001001"
    assert line.adjustments == (
        Adjustment(group=AdjustmentGroup.CO, reason="45", amount=Decimal("25.00")),
        Adjustment(group=AdjustmentGroup.PR, reason="2", amount=Decimal("20.00"), quantity=Decimal(1)),
        Adjustment(group=AdjustmentGroup.PR, reason="3", amount=Decimal("5.00")),
    )
    assert second.status_code == "4"
    assert second.services[0].adjustments[0].reason == "197"
    assert second.services[0].allowed is None
    (plb,) = r.provider_adjustments
    assert (plb.provider_id, plb.fiscal_period_end, plb.reason, plb.reference, plb.amount) == (
        "1234567893",
        date(2026, 12, 31),
        "L6",
        "",
        Decimal("-10.50"),
    )


def test_the_guide_example_reads_claims_without_lines_and_a_plb_with_a_reference() -> None:
    """The guide's example: ACH payment, LX/TS3 headers, claim-level CAS, MOA/MIA/QTY skipped, PLB CV:CP."""
    (r,) = read_835(GUIDE)
    assert r.method == "ACH"
    assert r.total_paid == Decimal("150000.00")
    assert [(c.patient_control_number, c.paid) for c in r.claims] == [
        ("666123", Decimal("138018.40")),
        ("777777", Decimal("11980.33")),
    ]
    assert r.claims[0].adjustments == (
        Adjustment(group=AdjustmentGroup.CO, reason="45", amount=Decimal("73348.57")),
    )
    assert r.claims[0].services == ()
    assert [(a.reason, a.reference, a.amount) for a in r.provider_adjustments] == [
        ("CV", "CP", Decimal("-1.27"))
    ]


def test_bytes_with_a_byte_order_mark_and_crlf_read_the_same() -> None:
    """UTF-8 bytes with a BOM and CR LF between segments read as the text does."""
    data = ("\ufeff" + PROFESSIONAL.replace("~\n", "~\r\n")).encode("utf-8")
    assert read_835(data) == read_835(PROFESSIONAL)


def test_other_delimiters_from_the_isa_are_used() -> None:
    """Element, component and segment separators come from the ISA: | and > and newline-free ! work."""
    text = PROFESSIONAL.replace("*", "|").replace(":", ">").replace("~\n", "!")
    text = text.replace("|^|", "|^|", 1)
    assert read_835(text) == read_835(PROFESSIONAL)


def test_control_characters_as_delimiters_are_read() -> None:
    """Some translators use control characters (GS, US, newline) as delimiters: read as the usual ones."""
    text = PROFESSIONAL.replace("*", "\x1d").replace(":", "\x1f").replace("~\n", "\n")
    assert read_835(text) == read_835(PROFESSIONAL)


def _error(text: str | bytes) -> RemittanceError:
    with pytest.raises(RemittanceError) as info:
        read_835(text)
    error = info.value
    assert isinstance(error, SessionkitError)
    assert isinstance(error, ValueError)
    assert "BYRON" not in str(error)
    assert "SK000" not in str(error)
    return error


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("", "x835.not_x12", "segment[1]"),
        ("hello world", "x835.not_x12", "segment[1]"),
        ("ISA*00*", "x835.truncated", "segment[1]"),
        ("ISA" + "*" * 103, "x835.delimiters", "segment[1]"),
    ],
)
def test_what_is_not_an_interchange_is_one_error(text: str, code: str, field: str) -> None:
    """Empty, text, a truncated ISA, a malformed ISA: one RemittanceError naming the first segment."""
    error = _error(text)
    assert (error.code, error.field) == (code, field)


def test_a_truncated_file_is_refused_naming_the_segment() -> None:
    """A file cut in the middle (no IEA, or cut inside a segment) is one error, not a half-read file."""
    cut = PROFESSIONAL[: PROFESSIONAL.index("CLP*SK0000000002")]
    error = _error(cut)
    assert error.code == "x835.structure"
    assert error.field is not None
    assert error.field.startswith("segment[")
    assert _error(PROFESSIONAL[:-10]).code in {"x835.truncated", "x835.structure"}


def test_delimiters_that_are_letters_or_equal_are_refused() -> None:
    """A letter, or the same character twice, cannot delimit: refused at the ISA."""
    assert _error(PROFESSIONAL.replace("*:~", "*A~", 1)).code == "x835.delimiters"
    equal = PROFESSIONAL[:104] + "*" + PROFESSIONAL[105:]
    assert _error(equal).code == "x835.delimiters"


def test_an_837_is_not_an_835() -> None:
    """A claim file (GS01 HC, ST*837) is refused as not an 835."""
    text = _edit(PROFESSIONAL, "GS*HP*", "GS*HC*")
    assert (_error(text).code, _error(text).field) == ("x835.not_835", "segment[2].GS01")
    text = _edit(PROFESSIONAL, "ST*835*", "ST*837*")
    assert _error(text).code == "x835.not_835"
    assert _error(_edit(PROFESSIONAL, "005010X221A1", "005010X222A1")).code == "x835.version"


@pytest.mark.parametrize(
    ("old", "new", "code", "field"),
    [
        ("SE*38*0042", "SE*37*0042", "x835.count", "segment[40].SE01"),
        ("SE*38*0042", "SE*38*0043", "x835.control_number", "segment[40].SE02"),
        ("GE*1*42", "GE*2*42", "x835.count", "segment[41].GE01"),
        ("GE*1*42", "GE*1*43", "x835.control_number", "segment[41].GE02"),
        ("IEA*1*000000042", "IEA*2*000000042", "x835.count", "segment[42].IEA01"),
        ("IEA*1*000000042", "IEA*1*000000043", "x835.control_number", "segment[42].IEA02"),
        ("IEA*1*000000042", "IEA*x*000000042", "x835.count", "segment[42].IEA01"),
        ("BPR*I*190.5*", "BPR*I*190.49*", "x835.unbalanced_payment", "segment[4].BPR02"),
        ("BPR*I*190.5*", "BPR*I*abc*", "x835.number", "segment[4]"),
        ("BPR*I*190.5*C*CHK", "BPR*I*190.5*C*GOLD", "x835.payment", "segment[4].BPR04"),
        ("TRN*1*CHK100042", "TRN*2*CHK100042", "x835.trace", "segment[5]"),
        ("N1*PE*", "N1*XX*", "x835.structure", "segment[12]"),
        ("00501*000000042", "00401*000000042", "x835.version", "segment[1].ISA12"),
    ],
)
def test_a_broken_envelope_is_one_error_naming_the_segment(old: str, new: str, code: str, field: str) -> None:
    """Counts, control numbers, the payment total and the header loops: one error with the segment position."""
    error = _error(_edit(PROFESSIONAL, old, new))
    assert (error.code, error.field) == (code, field)


def test_a_segment_after_the_trailer_and_an_unknown_header_segment_are_refused() -> None:
    """Anything after IEA, or an unexpected segment before the claims, breaks the envelope."""
    assert _error(PROFESSIONAL + "ISA*junk~").code == "x835.structure"
    segments = _segments(PROFESSIONAL)
    segments.insert(5, "ZZZ*1")
    assert _error(_join(_recount(segments))).code == "x835.structure"
    assert _error(_edit(PROFESSIONAL, "TRN*", "trn*")).code == "x835.segment_id"


def test_the_errors_pickle_with_their_code_and_field() -> None:
    """RemittanceError keeps code and field through pickling (worker processes)."""
    error = _error(_edit(PROFESSIONAL, "SE*38*0042", "SE*37*0042"))
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.code, again.field) == (RemittanceError, "x835.count", "segment[40].SE01")


def _claim_problem(text: str) -> tuple[tuple[ClaimPayment, ...], str, int, int]:
    (r,) = read_835(text)
    assert len(r.problems) == 1, r.problems
    problem = r.problems[0]
    assert "BYRON" not in problem.message
    return r.claims, problem.code, problem.claim, problem.segment


@pytest.mark.parametrize(
    ("old", "new", "code", "segment"),
    [
        (
            "SVC*HC:90834*140*90**1~\nDTM*472*20260309",
            "SVC*HC:90834*140*91**1~\nDTM*472*20260309",
            "x835.unbalanced_line",
            25,
        ),
        ("CAS*PR*1*25~", "CAS*PR*1*24~", "x835.unbalanced_line", 25),
        ("CAS*PR*1*25~", "CAS*XX*1*25~", "x835.adjustment_group", 28),
        ("CAS*PR*1*25~", "CAS*PR*1*2x5~", "x835.number", 28),
        ("CAS*PR*1*25~", "CAS*PR*1*25.001~", "x835.number_precision", 28),
        ("CAS*PR*1*25~", "CAS*PR*1*99999999999999999~", "x835.number_range", 28),
        ("CAS*PR*1*25~", "CAS*PR*1*1234567890123456789~", "x835.number", 28),
        ("CAS*PR*1*25~", "CAS*PR***25~", "x835.adjustment_reason", 28),
        ("CAS*PR*1*25~", "CAS*PR*1-1*25~", "x835.adjustment_reason", 28),
        ("*ACME26100001~", "*ACME26100001~\nCAS*OA*23*1~", "x835.unbalanced_claim", 14),
        ("CLP*SK0000000001*1*", "CLP*SK0000000001*9*", "x835.claim_status", 14),
        ("CLP*SK0000000001*1*280*", "CLP*SK0000000001*1*2.8e2*", "x835.clp", 14),
        ("*12*ACME26100001", "**ACME26100001", "x835.clp", 14),
        ("DTM*472*20260302", "DTM*472*20260230", "x835.date", 20),
        ("DTM*472*20260302", "DTM*472*2026030", "x835.date", 20),
        ("SVC*HC:90834:95*", "SVC*ZZ:90834:95*", "x835.procedure", 19),
        ("SVC*HC:90834:95*", "SVC*HC:90834:955*", "x835.procedure", 19),
        ("SVC*HC:90834:95*", "SVC*HC*", "x835.procedure", 19),
        (
            "NM1*QC*1*BYRON*ADA****MI*M100~\nDTM*232*20260302~\nDTM*233",
            "NM1*IL*1*BYRON~\nDTM*232*20260302~\nDTM*233",
            "x835.patient",
            14,
        ),
        (
            "NM1*QC*1*BYRON*ADA****MI*M100~\nDTM*232*20260302~\nDTM*233",
            "NM1*QC*1*BYRÖN~\nDTM*232*20260302~\nDTM*233",
            "x835.character",
            15,
        ),
        ("AMT*B6*115~\nSVC*HC:90834*", "AMT*B6*115~\nZZZ*1~\nSVC*HC:90834*", "x835.unexpected_segment", 25),
        ("REF*6R*SK0000000001002~", "REF*6R*SK0000000001002~\nNM1*QC*1*X~", "x835.unexpected_segment", 30),
    ],
)
def test_one_bad_claim_is_a_problem_and_the_others_are_read(
    old: str, new: str, code: str, segment: int
) -> None:
    """A claim that does not balance, or holds a bad value or segment, is reported by position; the next claim is read."""
    text = _join(_recount(_segments(_edit(PROFESSIONAL, old, new))))
    claims, found_code, claim, found_segment = _claim_problem(text)
    assert (found_code, claim, found_segment) == (code, 1, segment)
    assert [c.patient_control_number for c in claims] == ["SK0000000002"]


def test_a_plb_that_does_not_parse_breaks_the_transaction() -> None:
    """Provider adjustments belong to the payment: a bad PLB is an envelope error."""
    assert _error(_edit(PROFESSIONAL, "*L6*-10.5", "*L6*ten")).code == "x835.number"
    assert _error(_edit(PROFESSIONAL, "*L6*-10.5", "*L66*-10.5")).code == "x835.plb"


def test_an_unreadable_paid_amount_skips_the_payment_balance_only() -> None:
    """When a claim's CLP04 itself cannot be read, the payment cannot be balanced: the other claims still read."""
    text = _edit(PROFESSIONAL, "CLP*SK0000000001*1*280*180*", "CLP*SK0000000001*1*280*x*")
    (r,) = read_835(text)
    assert [p.code for p in r.problems] == ["x835.clp"]
    assert r.problems[0].patient_control_number == "SK0000000001"
    assert [c.patient_control_number for c in r.claims] == ["SK0000000002"]


def test_a_claim_with_a_non_ascii_control_number_has_no_number_in_its_problem() -> None:
    """Non-ASCII in the CLP: a problem without the (unreadable) patient control number."""
    (r,) = read_835(_edit(PROFESSIONAL, "CLP*SK0000000001*", "CLP*SKÖ000000001*"))
    assert [(p.code, p.patient_control_number) for p in r.problems] == [("x835.character", None)]


def test_non_ascii_in_the_envelope_is_refused() -> None:
    """A non-ASCII character in an envelope segment, or bytes that are not UTF-8, refuse the file."""
    assert _error(_edit(PROFESSIONAL, "N1*PR*ACME HEALTH", "N1*PR*ACMÉ HEALTH")).code == "x835.character"
    assert _error(PROFESSIONAL.encode("ascii") + b"\xff").code == "x835.encoding"


def test_several_groups_and_transactions_read_in_order_with_claim_positions_across_them() -> None:
    """Two transaction sets in a group: two remittances; claim positions count through the file."""
    segments = _segments(PROFESSIONAL)
    st = segments.index("ST*835*0042")
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    second = [s.replace("0042", "0043") if s.startswith(("ST*", "SE*")) else s for s in segments[st : se + 1]]
    second = [s.replace("CHK100042", "CHK100043") for s in second]
    both = [*segments[: se + 1], *second, "GE*2*42", segments[-1]]
    first, other = read_835(_join(both))
    assert other.trace_number == "CHK100043"
    assert [c.position for c in first.claims + other.claims] == [1, 2, 3, 4]
    assert _error(_join([*segments[: se + 1], *second, "GE*1*42", segments[-1]])).code == "x835.count"


def test_the_claim_payment_repr_leaves_the_patient_name_out() -> None:
    """The patient's name (NM1*QC) is client data: not in the repr."""
    (r,) = read_835(PROFESSIONAL)
    assert "BYRON" not in repr(r)
    assert "ADA" not in repr(r.claims[0])


# -- written by the test writer, read back ------------------------------------------------------

outcomes = st.one_of(
    st.just(Outcome.paid()),
    st.builds(
        Outcome.partly_paid,
        contractual=st.decimals("0", "200", places=2),
        patient=st.decimals("0", "200", places=2),
        reason=st.sampled_from(["1", "2", "3"]),
    ),
    st.builds(
        Outcome.denied, group=st.sampled_from(["CO", "PR", "OA"]), reason=st.sampled_from(["197", "96", "29"])
    ),
)
outcomes_and_reversals = st.one_of(outcomes, outcomes.map(Outcome.reversal))


@st.composite
def records(draw: st.DrawFn, n: int) -> ClaimRecord:
    lines = draw(
        st.lists(
            st.tuples(
                st.dates(date(2025, 1, 1), date(2026, 12, 31)),
                st.sampled_from(["90834", "90837", "90791", "90785"]),
                st.decimals("0.01", "99999.99", places=2),
                st.integers(1, 4),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return ClaimRecord(
        id=f"r{n}",
        client_id="c1",
        payer_id="p1",
        coverage_id="k1",
        target="x12_837p",
        patient_control_number=f"SK{n:010d}",
        session_ids=[f"s{n}-{i}" for i in range(len(lines))],
        lines=[
            ClaimRecordLine(
                session_id=f"s{n}-{i}",
                date_of_service=day,
                code=code,
                charge=Money(charge),
                units=Decimal(units),
            )
            for i, (day, code, charge, units) in enumerate(lines)
        ],
        total_charge=Money(sum((c for _, _, c, _ in lines), Decimal(0))),
        created_at=CREATED,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), count=st.integers(1, 5))
def test_remittances_written_by_the_test_writer_read_back_equal(data: st.DataObject, count: int) -> None:
    """Random claims and outcomes (paid, partly paid, denied, reversed), written then read: the same remittance."""
    claim_records = [data.draw(records(n)) for n in range(1, count + 1)]
    chosen = [data.draw(outcomes_and_reversals) for _ in claim_records]
    remittance = remittance_for(claim_records, chosen, trace_number="TRACE1", payment_date=date(2026, 5, 1))
    text = write_835(remittance, created_at=CREATED, newlines=data.draw(st.booleans()))
    assert read_835(text) == (remittance,)
    assert all(
        c.charge in {r.total_charge.amount, -r.total_charge.amount}
        for c, r in zip(remittance.claims, claim_records, strict=True)
    )


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_junk_is_refused_cleanly(junk: bytes | str) -> None:
    """Any bytes or text either read or raise RemittanceError: never another exception."""
    try:
        found = read_835(junk)
    except RemittanceError as exc:
        code = exc.code
    else:
        code = "x835.read"
        assert all(r.problems is not None for r in found)
    assert code.startswith("x835.")


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, len(PROFESSIONAL) - 2))
def test_every_truncation_is_refused(cut: int) -> None:
    """The professional example cut anywhere before its end is refused (RemittanceError), never half read."""
    with pytest.raises(RemittanceError):
        read_835(PROFESSIONAL[:cut].rstrip("\n") if cut else "")


@settings(max_examples=60, deadline=None)
@given(at=st.integers(106, len(PROFESSIONAL) - 1), char=st.sampled_from(list("*~:^x9é\x00")))
def test_a_changed_character_reads_or_is_refused(at: int, char: str) -> None:
    """One character changed anywhere after the ISA: a remittance (maybe with problems) or RemittanceError."""
    text = PROFESSIONAL[:at] + char + PROFESSIONAL[at + 1 :]
    try:
        found = read_835(text)
    except RemittanceError:
        return
    assert len(found) == 1
