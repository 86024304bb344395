"""to_records: flat dicts for data frames, from sessions, drafts, reports and findings."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    ClientSession,
    Finding,
    ImportReport,
    Money,
    ReadinessReport,
    ReferringProvider,
    SessionBuilder,
    Severity,
    Target,
)
from sessionkit.adapters.memory import InMemoryUnitOfWork
from sessionkit.demo import seed_demo
from sessionkit.errors import InvalidType
from sessionkit.importing import ImportOutcome, OutcomeKind
from sessionkit.ports import FixedClock
from sessionkit.records import columns, flatten, to_records
from sessionkit.testing import sessions

SCALARS = (str, int, bool, Decimal, date, type(None))


def _session(**changes: object) -> ClientSession:
    values: dict[str, object] = {
        "id": "s1",
        "client_id": "c1",
        "date_of_service": date(2026, 3, 2),
        "billing_code": "90834",
        "minutes": 45,
        "charge": "140.00",
        "diagnoses": ["F41.1", "F32.1"],
    }
    values.update(changes)
    return ClientSession(**values)  # type: ignore[arg-type]


@given(sessions())
def test_session_records_hold_only_plain_values(session: ClientSession) -> None:
    """Every value of a session's record is a plain scalar: no Money, enum or nested object."""
    [row] = to_records([session])
    for key, value in row.items():
        assert isinstance(value, SCALARS), (key, type(value))
        assert not isinstance(value, (Money, enum.Enum))
    assert row["id"] == session.id
    assert row["charge"] == session.charge.amount
    assert row["date_of_service"] == session.date_of_service
    assert [row[f"diagnoses.{i}"] for i in range(len(session.diagnoses))] == [
        d.code for d in session.diagnoses
    ]
    assert f"diagnoses.{len(session.diagnoses)}" not in row


def test_nested_fields_are_flattened_with_dotted_names() -> None:
    """A referring provider, add-on lines and resubmission become dotted keys."""
    session = _session(
        referring_provider=ReferringProvider(first_name="Rita", last_name="Ref", npi="1234567893"),
        add_ons=[AddOnLine(code="90785", charge="25.00")],
        modifiers=["95"],
        place_of_service="10",
    )
    [row] = to_records([session])
    assert row["referring_provider.npi"] == "1234567893"
    assert row["referring_provider.qualifier"] == "DN"
    assert row["add_ons.0.code"] == "90785"
    assert row["add_ons.0.charge"] == Decimal("25.00")
    assert row["add_ons.0.units"] == Decimal(1)
    assert row["modifiers.0"] == "95"
    assert row["place_of_service"] == "10"
    assert row["resubmission.frequency"] == "1"
    assert row["resubmission.original_reference"] is None
    assert "referring_provider" not in row


def test_missing_nested_object_is_one_none_key() -> None:
    """A session without a referring provider has referring_provider = None."""
    [row] = to_records([_session()])
    assert row["referring_provider"] is None
    assert row["overrides"] is None


def test_readiness_report_gives_one_row_per_finding() -> None:
    """Each finding becomes a row carrying the session id, target and verdict."""
    findings = (
        Finding(code="a.one", severity=Severity.ERROR, field="diagnoses[0]", message="m1"),
        Finding(code="b.two", severity=Severity.WARNING, field="minutes", message="m2"),
    )
    report = ReadinessReport(session_id="s1", target=Target.X12_837P, findings=findings)
    rows = to_records([report])
    assert [(r["session_id"], r["target"], r["ready"], r["code"], r["severity"]) for r in rows] == [
        ("s1", "x12_837p", False, "a.one", "error"),
        ("s1", "x12_837p", False, "b.two", "warning"),
    ]


def test_ready_report_without_findings_gives_one_row() -> None:
    """A report with no findings still gives one row, its finding keys None."""
    rows = to_records(ReadinessReport(session_id="s9", target=Target.CMS1500))
    assert rows == [
        {
            "session_id": "s9",
            "target": "cms1500",
            "ready": True,
            "code": None,
            "severity": None,
            "field": None,
            "message": None,
            "hint": None,
            "source": None,
            "rule": None,
        }
    ]


def test_import_report_gives_one_row_per_outcome() -> None:
    """An import report expands to its outcomes; lists get indexed keys."""
    outcomes = (
        ImportOutcome(key="k1", kind=OutcomeKind.CREATED, session_id="s1", date_of_service=date(2026, 3, 2)),
        ImportOutcome(key="k2", kind=OutcomeKind.CHANGED, changes=("minutes",)),
    )
    report = ImportReport(outcomes=outcomes, start=date(2026, 3, 1), end=date(2026, 3, 31))
    rows = to_records(report)
    assert [r["key"] for r in rows] == ["k1", "k2"]
    assert rows[0]["kind"] == "created"
    assert rows[0]["date_of_service"] == date(2026, 3, 2)
    assert rows[1]["changes.0"] == "minutes"
    assert to_records([outcomes[0]]) == rows[:1]


def test_draft_row_is_the_session_plus_the_screen() -> None:
    """A draft gives its session's row plus is_new, client share, over-payment and warnings."""
    uow = InMemoryUnitOfWork()
    seed_demo(uow)
    builder = SessionBuilder(uow, FixedClock(date(2026, 3, 9)))
    draft = builder.start("c-1002", date(2026, 3, 5)).with_minutes(53)
    [row] = to_records([draft])
    assert row["client_id"] == "c-1002"
    assert row["billing_code"] == "90834"
    assert row["is_new"] is True
    assert row["client_share"] == Decimal("28.00")
    assert row["over_payment"] == Decimal("0.00")
    assert row["warnings.0"] == "billing_code.time_mismatch"
    assert "warnings.1" not in row


def test_findings_flatten_to_their_fields() -> None:
    """A finding's record is its seven fields, severity as its value."""
    finding = Finding(code="x.y", severity=Severity.INFO, field="f", message="m", hint="h")
    assert to_records([finding]) == [flatten(finding)]
    assert flatten(finding)["severity"] == "info"


def test_mappings_flatten_and_sets_sort() -> None:
    """Mappings give dotted keys; sets are listed in sorted order."""
    assert flatten({"a": {"b": 1}, "s": frozenset({"y", "x"})}) == {"a.b": 1, "s.0": "x", "s.1": "y"}


@pytest.mark.parametrize("bad", [["text"], [3], [object()]])
def test_unsupported_objects_are_refused(bad: list[object]) -> None:
    """Objects that are neither attrs instances nor mappings raise InvalidType."""
    with pytest.raises(InvalidType) as info:
        to_records(bad)
    assert info.value.code == "records.unsupported"


@pytest.mark.parametrize("bad", ["text", 3, {"a": 1}])
def test_objects_must_be_an_iterable_of_objects(bad: object) -> None:
    """A string, a number or a single mapping is not a collection of objects."""
    with pytest.raises(InvalidType):
        to_records(bad)  # type: ignore[arg-type]


def test_columns_keep_a_sequence_next_to_its_field() -> None:
    """columns() lists every key once; a key first seen in a later row goes where that row has it."""
    rows = to_records([_session(), _session(id="s2", modifiers=["95", "HO"], diagnoses=["F41.1", "F32.1"])])
    header = columns(rows)
    assert header[0] == "id"
    assert header == list(rows[1])  # the fuller row's own (declared) order
    assert header.index("modifiers.1") == header.index("modifiers.0") + 1
    assert header.index("diagnoses.1") == header.index("diagnoses.0") + 1
    assert len(header) == len(set(header))
    assert set(header) == set(rows[0]) | set(rows[1])


@given(
    st.lists(
        st.lists(st.sampled_from("abcdefgh"), unique=True).map(sorted),
        max_size=8,
    )
)
@settings(max_examples=50)
def test_columns_keep_every_row_order_rows_agree_on(key_lists: list[list[str]]) -> None:
    """When the rows agree on one order, columns() keeps each row's order, whatever keys rows lack."""
    rows = [dict.fromkeys(keys, 1) for keys in key_lists]
    header = columns(rows)
    assert sorted(header) == sorted({k for keys in key_lists for k in keys})
    for keys in key_lists:
        assert [k for k in header if k in keys] == keys


def test_columns_without_a_constraint_follow_first_appearance() -> None:
    """Keys no row orders against each other come in the order first seen; disagreeing rows still give every key."""
    assert columns([{"b": 1}, {"a": 1}]) == ["b", "a"]
    assert columns([{"a": 1, "b": 1}, {"b": 1, "a": 1}]) == ["a", "b"]


def test_records_feed_a_data_frame_shape() -> None:
    """Records are plain dicts with string keys (what pandas.DataFrame takes)."""
    rows = to_records([_session(), _session(id="s2")])
    assert all(type(r) is dict and all(isinstance(k, str) for k in r) for r in rows)
    assert [r["id"] for r in rows] == ["s1", "s2"]


def test_leaves_of_unknown_types_are_kept_and_private_fields_skipped() -> None:
    """An unknown leaf value is kept as it is; attrs fields with init=False or a leading _ are skipped."""
    import attrs

    @attrs.define
    class Holder:
        value: complex
        hidden: int = attrs.field(init=False, default=0)
        _private: int = 0

    assert flatten(Holder(value=1 + 2j)) == {"value": 1 + 2j}


# -- notebook display ------------------------------------------------------------------------------


def test_session_html_escapes_every_value() -> None:
    """A session's HTML is a field/value table with every text escaped."""
    session = _session(
        comments="<script>alert(1)</script> & more",
        referring_provider=ReferringProvider(first_name="Rita", last_name="O'Ref", npi="1234567893"),
        add_ons=[AddOnLine(code="90785", charge="25.00")],
    )
    page = session._repr_html_()
    assert page.startswith('<div class="sessionkit-session">')
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<td>diagnoses</td><td>F41.1, F32.1</td>" in page
    assert "<td>add_ons</td><td>90785 x1 $25.00</td>" in page
    assert "Rita O&#x27;Ref 1234567893" in page
    assert "<td>bill_to</td><td>automatic</td>" in page
    assert "<td>line_note</td>" not in page  # empty values are left out


def test_draft_html_shows_warnings_notes_and_authorizations() -> None:
    """A draft's HTML has the session, its warnings, the insurance note and the authorizations."""
    uow = InMemoryUnitOfWork()
    seed_demo(uow)
    builder = SessionBuilder(uow, FixedClock(date(2026, 3, 1)))
    draft = builder.start("c-1001", date(2026, 3, 3)).with_minutes(20)
    page = draft._repr_html_()
    assert page.startswith('<div class="sessionkit-draft">')
    assert "Draft (new session) for Ada Byron" in page
    assert "date_of_service.future" in page
    assert "billing_code.time_mismatch" in page
    assert "Acme Health Plan" in page
    assert "ACM2026A1" in page
    assert "Client file note: Prefers morning appointments" in page
    assert page.endswith("</div>")


def test_draft_html_without_extras() -> None:
    """A draft without warnings, notes or authorizations shows only the session."""
    uow = InMemoryUnitOfWork()
    seed_demo(uow)
    builder = SessionBuilder(uow, FixedClock(date(2026, 3, 9)))
    with uow:
        saved = uow.sessions.get("s-0002")
    draft = builder.open(saved.id)
    page = draft._repr_html_()
    assert "editing session s-0002" in page
    assert "Warnings" not in page
    assert "Insurance notes" not in page
    assert "Authorizations" not in page
