"""Claims out: grouping ready sessions into claims, the 837P writer and CMS-1500 box values."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    BillTo,
    Client,
    ClientSession,
    Coverage,
    InvalidValue,
    Money,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    Subscriber,
)
from sessionkit.claims import (
    Claim,
    ClaimContext,
    ClaimTarget,
    Receiver,
    Submitter,
    build_claims,
    claims_for_client,
    patient_control_number,
    to_837p,
    to_cms1500,
    x12_text,
)
from sessionkit.codes import npi as npi_codes
from sessionkit.domain import Frequency, InsuranceOverrides
from sessionkit.domain.payments import Adjudication, Adjustment, LineAdjudication
from sessionkit.errors import ClaimNotReady

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
REGEN = os.environ.get("SESSIONKIT_REGEN_GOLDEN") == "1"
BASIC = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()+,-./;?=")

ADDRESS = Address(
    line1="12 Elm Street", line2="Suite 4", city="Springfield", state="IL", postal_code="627011234"
)
PRACTICE = PracticeSetup(
    name="Calm Minds Counseling LLC",
    npi="1234567893",
    tax_id="12-3456789",
    taxonomy="101YM0800X",
    address=ADDRESS,
    time_zone="America/Chicago",
)
CLIENT = Client(
    id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 1, 2), sex="F", address=ADDRESS
)
PAYER = Payer(id="p1", name="Acme Health", payer_id="60054")
COVERAGE = Coverage(
    id="cov1",
    client_id="c1",
    payer_id="p1",
    member_id="W123456789",
    group_number="G77",
    effective=date(2025, 1, 1),
)
CHILD_COVERAGE = Coverage(
    id="cov2",
    client_id="c1",
    payer_id="p1",
    member_id="W999",
    effective=date(2025, 1, 1),
    relationship="19",
    subscriber=Subscriber(
        first_name="Bob", last_name="Byron", date_of_birth=date(1960, 5, 6), sex="M", address=ADDRESS
    ),
)
AUTH = Authorization(
    id="a1",
    client_id="c1",
    payer_id="p1",
    number="PA998877",
    start=date(2026, 1, 1),
    end=date(2026, 6, 30),
    sessions_authorized=12,
)
SUBMITTER = Submitter(name="Calm Minds", id="CALMMINDS01", contact_name="Bea Biller", phone="(217) 555-0100")
RECEIVER = Receiver(name="Example Clearinghouse", id="CLEARHOUSE")
CREATED = datetime(2026, 3, 10, 9, 30, tzinfo=timezone(timedelta(hours=-6)))
DOS = date(2026, 3, 2)


def ready(_session: ClientSession, _target: ClaimTarget) -> Sequence[Any]:
    """A readiness hook that finds nothing (the readiness rules are tested elsewhere)."""
    return ()


def context(coverage: Coverage = COVERAGE, **kwargs: Any) -> ClaimContext:
    return ClaimContext(practice=PRACTICE, clients=[CLIENT], coverages=[coverage], payers=[PAYER], **kwargs)


def session(**kwargs: Any) -> ClientSession:
    values: dict[str, Any] = {
        "id": "s1",
        "client_id": "c1",
        "date_of_service": DOS,
        "billing_code": "90834",
        "minutes": 45,
        "charge": "140.00",
        "diagnoses": ["F41.1"],
    }
    values.update(kwargs)
    return ClientSession(**values)


def claims_of(
    sessions: Sequence[ClientSession], target: ClaimTarget = ClaimTarget.X12_837P, **kwargs: Any
) -> tuple[Claim, ...]:
    return build_claims(sessions, context(**kwargs), target, readiness_check=ready)


def x12(claims: Sequence[Claim], **kwargs: Any) -> str:
    return to_837p(
        claims,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        interchange_control_number=kwargs.pop("icn", 42),
        group_control_number=kwargs.pop("gcn", 7),
        created_at=CREATED,
        usage=kwargs.pop("usage", "T"),
        **kwargs,
    )


def segments(text: str) -> list[list[str]]:
    return [seg.strip().split("*") for seg in text.split("~") if seg.strip()]


def seg_ids(text: str) -> list[str]:
    return [s[0] for s in segments(text)]


def first(text: str, *prefix: str) -> list[str]:
    for seg in segments(text):
        if seg[: len(prefix)] == list(prefix):
            return seg
    raise AssertionError(f"no segment starting {prefix}")


def all_of(text: str, *prefix: str) -> list[list[str]]:
    return [seg for seg in segments(text) if seg[: len(prefix)] == list(prefix)]


# -- one test per seed field (DOMAIN.md section 2) ------------------------------------------------


def test_referring_provider_goes_to_2310a_and_box_17() -> None:
    """A complete referring provider is NM1*DN in 2310A and box 17 (qualifier DN + name) with 17b NPI."""
    ref = ReferringProvider(first_name="Jane", last_name="Smith", npi="1245319599")
    text = x12(claims_of([session(referring_provider=ref)]))
    assert first(text, "NM1", "DN") == ["NM1", "DN", "1", "SMITH", "JANE", "", "", "", "XX", "1245319599"]
    ids = seg_ids(text)
    assert (
        ids.index("HI")
        < next(i for i, s in enumerate(segments(text)) if s[:2] == ["NM1", "DN"])
        < ids.index("LX")
    )
    form = to_cms1500(claims_of([session(referring_provider=ref)], ClaimTarget.CMS1500)[0])
    assert (form["17"], form["17.qualifier"], form["17b"]) == ("JANE SMITH", "DN", "1245319599")


def test_no_referring_provider_means_no_2310a_and_empty_box_17() -> None:
    """Without a referring provider there is no NM1*DN and no box 17."""
    text = x12(claims_of([session()]))
    assert all_of(text, "NM1", "DN") == []
    assert "17" not in to_cms1500(claims_of([session()], ClaimTarget.CMS1500)[0])


def test_line_note_is_nte_add_on_837p_and_absent_on_cms1500() -> None:
    """The line note becomes NTE*ADD after the line's DTP*472, and appears nowhere on the CMS-1500."""
    note = "Payer asked: telehealth, audio+video"
    text = x12(claims_of([session(line_note=note)]))
    ids = seg_ids(text)
    assert first(text, "NTE") == ["NTE", "ADD", "PAYER ASKED TELEHEALTH, AUDIO+VIDEO"]
    assert ids.index("NTE") == ids.index("DTP") + 2
    assert segments(text)[ids.index("DTP") + 1][:2] == ["REF", "6R"]
    form = to_cms1500(claims_of([session(line_note=note)], ClaimTarget.CMS1500)[0])
    printed = list(form.boxes.values()) + [v for line in form.lines for v in line.values()]
    assert all("telehealth" not in v.lower() for v in printed)


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_resubmission_carries_frequency_and_original_reference(frequency: str) -> None:
    """A replacement (7) or void (8) puts the code in CLM05-3 and box 22 with REF*F8 / the original ref."""
    resub = Resubmission(frequency=frequency, original_reference="ORIG12345")
    text = x12(claims_of([session(resubmission=resub)]))
    assert first(text, "CLM")[5] == f"11:B:{frequency}"
    assert first(text, "REF", "F8") == ["REF", "F8", "ORIG12345"]
    form = to_cms1500(claims_of([session(resubmission=resub)], ClaimTarget.CMS1500)[0])
    assert (form["22.code"], form["22.original_ref"]) == (frequency, "ORIG12345")


def test_original_claim_has_frequency_1_and_no_reference() -> None:
    """An original claim has CLM05-3 = 1, no REF*F8 and an empty box 22."""
    text = x12(claims_of([session()]))
    assert first(text, "CLM")[5] == "11:B:1"
    assert all_of(text, "REF", "F8") == []
    form = to_cms1500(claims_of([session()], ClaimTarget.CMS1500)[0])
    assert (form["22.code"], form["22.original_ref"]) == ("", "")


def test_four_modifiers_land_in_sv101_and_24d() -> None:
    """Four modifiers follow the code in SV101-3..6 and in box 24D, in order."""
    s = session(modifiers=["95", "HO", "U4", "KX"])
    assert first(x12(claims_of([s])), "SV1")[1] == "HC:90834:95:HO:U4:KX"
    line = to_cms1500(claims_of([s], ClaimTarget.CMS1500)[0]).lines[0]
    assert (line["24D.code"], line["24D.modifiers"]) == ("90834", "95 HO U4 KX")


def test_four_diagnoses_land_in_hi_and_box_21_with_pointers() -> None:
    """Four diagnoses: HI ABK then 3 ABF without dots, SV107 1:2:3:4; box 21 A-D with dots, 24E ABCD."""
    s = session(diagnoses=["F41.1", "F32.9", "F43.23", "Z63.0"])
    text = x12(claims_of([s]))
    assert first(text, "HI") == ["HI", "ABK:F411", "ABF:F329", "ABF:F4323", "ABF:Z630"]
    assert first(text, "SV1")[7] == "1:2:3:4"
    form = to_cms1500(claims_of([s], ClaimTarget.CMS1500)[0])
    assert [form[f"21.{x}"] for x in "ABCD"] == ["F41.1", "F32.9", "F43.23", "Z63.0"]
    assert form["21.ICD_IND"] == "0"
    assert "21.E" not in form
    assert form.lines[0]["24E"] == "ABCD"


def test_add_ons_follow_their_primary_on_the_same_date() -> None:
    """Add-on codes are lines right after their primary, on its date, pointing to its diagnoses."""
    s = session(
        diagnoses=["F41.1", "F32.9"],
        add_ons=[
            AddOnLine(code="90785", charge="25.00"),
            AddOnLine(code="90863", charge="30", modifiers=["95"]),
        ],
    )
    (claim,) = claims_of([s])
    assert [(ln.code, ln.add_on, ln.date_of_service) for ln in claim.lines] == [
        ("90834", False, DOS),
        ("90785", True, DOS),
        ("90863", True, DOS),
    ]
    text = x12([claim])
    assert [seg[1] for seg in all_of(text, "SV1")] == ["HC:90834", "HC:90785", "HC:90863:95"]
    assert [seg[7] for seg in all_of(text, "SV1")] == ["1:2"] * 3
    assert first(text, "CLM")[2] == "195"


def test_sessions_on_several_dates_become_their_own_lines() -> None:
    """Each session (one per date) is its own line with its own DTP*472; paid at session adds up."""
    days = [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    sessions = [session(id=f"s{i}", date_of_service=d, paid_at_session="10") for i, d in enumerate(days)]
    (claim,) = claims_of(sessions)
    assert [(ln.date_of_service, ln.code, ln.charge) for ln in claim.lines] == [
        (d, "90834", Money("140")) for d in days
    ]
    assert claim.total_charge == Money("420")
    text = x12([claim])
    assert [seg[3] for seg in all_of(text, "DTP", "472")] == ["20260302", "20260309", "20260316"]
    assert [seg[1] for seg in all_of(text, "LX")] == ["1", "2", "3"]
    form = to_cms1500(claims_of(sessions, ClaimTarget.CMS1500)[0])
    assert [ln["24A.from"] for ln in form.lines] == ["030226", "030926", "031626"]
    assert form["29"] == "30.00"


def test_overrides_replace_the_practice_setup() -> None:
    """Overrides change the billing provider (name, NPI, tax id), add a rendering provider and a facility."""
    facility = Address(line1="9 Oak Ave", city="Peoria", state="IL", postal_code="616021234")
    overrides = InsuranceOverrides(
        billing_provider_name="Group Practice Inc",
        billing_provider_npi="1245319599",
        tax_id="98-7654321",
        rendering_provider_first_name="Rita",
        rendering_provider_last_name="Render",
        rendering_provider_npi="1679576722",
        facility_name="Oak Clinic",
        facility_npi="1234567893",
        facility_address=facility,
    )
    s = session(overrides=overrides)
    text = x12(claims_of([s]))
    assert first(text, "NM1", "85") == [
        "NM1",
        "85",
        "2",
        "GROUP PRACTICE INC",
        "",
        "",
        "",
        "",
        "XX",
        "1245319599",
    ]
    assert first(text, "REF", "EI") == ["REF", "EI", "987654321"]
    assert first(text, "NM1", "82") == ["NM1", "82", "1", "RENDER", "RITA", "", "", "", "XX", "1679576722"]
    assert first(text, "NM1", "77") == ["NM1", "77", "2", "OAK CLINIC", "", "", "", "", "XX", "1234567893"]
    assert ["N4", "PEORIA", "IL", "616021234"] in segments(text)
    form = to_cms1500(claims_of([s], ClaimTarget.CMS1500)[0])
    assert form["25"] == "987654321"
    assert form["33.name"] == "GROUP PRACTICE INC"
    assert form["33a"] == "1245319599"
    assert (form["32.name"], form["32.street"], form["32.zip"]) == ("OAK CLINIC", "9 OAK AVE", "61602-1234")
    assert (form.lines[0]["24I"], form.lines[0]["24J"]) == ("NPI", "1679576722")
    assert form["24J[1]"] == "1679576722"


def test_without_overrides_the_practice_bills_and_there_is_no_2310b() -> None:
    """With no overrides the practice is the billing provider and no rendering or facility loop is written."""
    text = x12(claims_of([session()]))
    assert first(text, "NM1", "85")[3] == "CALM MINDS COUNSELING LLC"
    assert first(text, "PRV") == ["PRV", "BI", "PXC", "101YM0800X"]
    assert all_of(text, "NM1", "82") == all_of(text, "NM1", "77") == []


def test_rendering_same_as_billing_npi_is_not_repeated() -> None:
    """A rendering override with the billing provider's NPI adds no 2310B loop."""
    overrides = InsuranceOverrides(rendering_provider_last_name="Same", rendering_provider_npi="1234567893")
    assert all_of(x12(claims_of([session(overrides=overrides)])), "NM1", "82") == []


def test_paid_at_session_is_amt_f5_before_the_refs_and_box_29() -> None:
    """Paid at session sums into AMT*F5 (after CLM, before REF and HI) and box 29."""
    sessions = [
        session(paid_at_session="20.00"),
        session(id="s2", date_of_service=date(2026, 3, 3), paid_at_session="15.50"),
    ]
    text = x12(claims_of(sessions, authorizations=[AUTH]))
    assert first(text, "AMT") == ["AMT", "F5", "35.5"]
    ids = seg_ids(text)
    assert ids.index("CLM") < ids.index("AMT") < ids.index("HI")
    assert ids.index("AMT") < max(i for i, s in enumerate(segments(text)) if s[:2] == ["REF", "G1"])
    form = to_cms1500(claims_of(sessions, ClaimTarget.CMS1500)[0])
    assert form["29"] == "35.50"


def test_nothing_paid_means_no_amt() -> None:
    """No paid-at-session amount writes no AMT segment and box 29 shows 0.00."""
    assert all_of(x12(claims_of([session()])), "AMT") == []
    assert to_cms1500(claims_of([session()], ClaimTarget.CMS1500)[0])["29"] == "0.00"


def test_prior_authorization_is_ref_g1_and_box_23() -> None:
    """An authorization covering the date puts its number in REF*G1 and box 23; outside its dates, none."""
    text = x12(claims_of([session()], authorizations=[AUTH]))
    assert first(text, "REF", "G1") == ["REF", "G1", "PA998877"]
    assert (
        to_cms1500(claims_of([session()], ClaimTarget.CMS1500, authorizations=[AUTH])[0])["23"] == "PA998877"
    )
    later = session(date_of_service=date(2026, 8, 1))
    assert all_of(x12(claims_of([later], authorizations=[AUTH])), "REF", "G1") == []


def test_claims_for_client_takes_an_explicit_authorization_number() -> None:
    """claims_for_client builds from explicit parties and the given authorization number."""
    (claim,) = claims_for_client(
        [session()],
        practice=PRACTICE,
        client=CLIENT,
        coverage=COVERAGE,
        payer=PAYER,
        target=ClaimTarget.X12_837P,
        readiness_check=ready,
        authorization_number="XYZ1",
    )
    assert claim.prior_authorization == "XYZ1"
    assert first(x12([claim]), "REF", "G1") == ["REF", "G1", "XYZ1"]


# -- subscriber and patient loops ---------------------------------------------------------------


def test_self_subscriber_has_no_patient_loop() -> None:
    """When the client holds the policy: SBR02 18, client in 2010BA with DMG, no HL*23 or PAT."""
    text = x12(claims_of([session()]))
    assert first(text, "SBR") == ["SBR", "P", "18", "G77", "", "", "", "", "", "CI"]
    assert first(text, "NM1", "IL") == ["NM1", "IL", "1", "BYRON", "ADA", "", "", "", "MI", "W123456789"]
    assert first(text, "DMG") == ["DMG", "D8", "19900102", "F"]
    assert all_of(text, "PAT") == []
    assert [s[3] for s in all_of(text, "HL")] == ["20", "22"]


def test_dependent_patient_gets_2000c() -> None:
    """When the client is not the subscriber: HL*22*1, subscriber in 2010BA, HL*23 with PAT and NM1*QC."""
    text = x12(claims_of([session()], coverage=CHILD_COVERAGE))
    assert [s[1:] for s in all_of(text, "HL")] == [
        ["1", "", "20", "1"],
        ["2", "1", "22", "1"],
        ["3", "2", "23", "0"],
    ]
    assert first(text, "SBR")[2] == ""
    assert first(text, "NM1", "IL")[3:5] == ["BYRON", "BOB"]
    assert first(text, "PAT") == ["PAT", "19"]
    assert first(text, "NM1", "QC") == ["NM1", "QC", "1", "BYRON", "ADA"]
    ids = seg_ids(text)
    assert ids.index("PAT") < ids.index("CLM")
    form = to_cms1500(claims_of([session()], ClaimTarget.CMS1500, coverage=CHILD_COVERAGE)[0])
    assert (form["2"], form["4"], form["6"]) == ("BYRON, ADA", "BYRON, BOB", "CHILD")


# -- grouping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "size"), [(ClaimTarget.CMS1500, 6), (ClaimTarget.X12_837P, 50)])
def test_lines_split_at_the_targets_limit(target: ClaimTarget, size: int) -> None:
    """Sessions beyond the form's line limit go on further claims of at most that many lines."""
    sessions = [
        session(id=f"s{i:03d}", date_of_service=date(2025, 1, 1) + timedelta(days=i)) for i in range(size + 3)
    ]
    claims = claims_of(sessions, target)
    assert [len(c.lines) for c in claims] == [size, 3]
    assert sum(c.total_charge.amount for c in claims) == Decimal(140) * (size + 3)


def test_a_primary_and_its_add_ons_are_never_split() -> None:
    """A 5-line block (primary + 4 add-ons) starts a new CMS-1500 claim rather than split."""
    adds = [AddOnLine(code=c, charge="10") for c in ("90785", "90863", "90840", "90833")]
    sessions = [
        session(id="a", date_of_service=date(2026, 2, 27)),
        session(id="a2", date_of_service=date(2026, 2, 28)),
        session(id="b", add_ons=adds),
    ]
    claims = claims_of(sessions, ClaimTarget.CMS1500)
    assert [[ln.code for ln in c.lines] for c in claims] == [
        ["90834", "90834"],
        ["90834", "90785", "90863", "90840", "90833"],
    ]


def test_frequency_and_billing_provider_split_claims() -> None:
    """Different frequency codes, original references or billing providers never share a claim."""
    sessions = [
        session(id="a"),
        session(id="b", resubmission=Resubmission(frequency="7", original_reference="R1")),
        session(id="c", resubmission=Resubmission(frequency="7", original_reference="R2")),
        session(id="d", overrides=InsuranceOverrides(billing_provider_npi="1245319599")),
        session(id="e", date_of_service=date(2026, 3, 3)),
    ]
    claims = claims_of(sessions)
    assert sorted(c.session_ids for c in claims) == [("a", "e"), ("b",), ("c",), ("d",)]
    text = x12(claims)
    assert len(all_of(text, "CLM")) == 4
    assert [s[3] for s in all_of(text, "HL")].count("20") == 2


def test_thirteen_diagnoses_split_the_claim() -> None:
    """A claim holds at most 12 distinct diagnoses; the next session starts a new claim."""
    codes = [f"F4{i // 10}.{i % 10}" for i in range(10, 26)]
    sessions = [
        session(id=f"s{i}", date_of_service=date(2026, 3, 1 + i), diagnoses=codes[i * 4 : i * 4 + 4])
        for i in range(4)
    ]
    claims = claims_of(sessions)
    assert [len(c.diagnoses) for c in claims] == [12, 4]


def test_sessions_pick_the_coverage_in_effect() -> None:
    """Each session goes under the client's coverage in effect on its date; none in effect is not ready."""
    old = Coverage(
        id="old",
        client_id="c1",
        payer_id="p1",
        member_id="OLD1",
        effective=date(2024, 1, 1),
        termination=date(2025, 12, 31),
    )
    new = Coverage(id="new", client_id="c1", payer_id="p1", member_id="NEW1", effective=date(2026, 1, 1))
    ctx = ClaimContext(practice=PRACTICE, clients=[CLIENT], coverages=[old, new], payers=[PAYER])
    claims = build_claims(
        [session(id="a", date_of_service=date(2025, 6, 1)), session(id="b")],
        ctx,
        ClaimTarget.X12_837P,
        readiness_check=ready,
    )
    assert sorted((c.coverage.id, c.session_ids) for c in claims) == [("new", ("b",)), ("old", ("a",))]
    with pytest.raises(ClaimNotReady) as info:
        build_claims(
            [session(date_of_service=date(2023, 6, 1))], ctx, ClaimTarget.X12_837P, readiness_check=ready
        )
    assert info.value.code == "claim.no_coverage"


# -- the readiness gate -----------------------------------------------------------------------------


def test_not_ready_session_raises_with_its_findings() -> None:
    """A session with blocking findings is refused: ClaimNotReady carries the findings, no client data."""
    finding = object()
    with pytest.raises(ClaimNotReady) as info:
        build_claims(
            [session(line_note="secret note")],
            context(),
            ClaimTarget.X12_837P,
            readiness_check=lambda s, t: [finding],
        )
    assert info.value.findings == (finding,)
    assert info.value.field == "sessions[0]"
    assert "secret" not in str(info.value)


def test_hook_receives_each_session_and_the_target() -> None:
    """The readiness hook is asked about every session for the requested target."""
    seen: list[tuple[str, ClaimTarget]] = []

    def hook(s: ClientSession, t: ClaimTarget) -> Sequence[Any]:
        seen.append((s.id, t))
        return ()

    build_claims([session(id="a"), session(id="b")], context(), ClaimTarget.CMS1500, readiness_check=hook)
    assert seen == [("a", ClaimTarget.CMS1500), ("b", ClaimTarget.CMS1500)]


def test_billed_to_client_is_never_claimed() -> None:
    """A session billed to the client directly is refused for insurance claims."""
    with pytest.raises(ClaimNotReady) as info:
        claims_of([session(bill_to=BillTo.CLIENT)])
    assert (info.value.code, info.value.field) == ("claim.billed_to_client", "sessions[0].bill_to")


def test_default_gate_uses_sessionkit_readiness() -> None:
    """Without a hook, build_claims asks sessionkit.readiness and refuses a session it finds not ready."""
    readiness = pytest.importorskip("sessionkit.readiness")
    if not hasattr(readiness, "check"):
        pytest.skip("sessionkit.readiness.check is not available yet")
    not_ready = session(diagnoses=[])
    with pytest.raises(ClaimNotReady) as info:
        build_claims([not_ready], context(today=date(2026, 4, 1)), ClaimTarget.X12_837P)
    assert info.value.findings


def test_renderers_refuse_claims_built_for_the_other_target() -> None:
    """An 837P claim cannot be printed on a CMS-1500 and vice versa."""
    with pytest.raises(InvalidValue):
        to_cms1500(claims_of([session()])[0])
    with pytest.raises(InvalidValue) as info:
        x12(claims_of([session()], ClaimTarget.CMS1500))
    assert info.value.field == "claims[0].target"


def test_837p_needs_an_aware_creation_time() -> None:
    """A naive created_at is refused (the file's date and time must be unambiguous)."""
    with pytest.raises(InvalidValue):
        to_837p(
            claims_of([session()]),
            submitter=SUBMITTER,
            receiver=RECEIVER,
            interchange_control_number=1,
            group_control_number=1,
            created_at=datetime(2026, 3, 10, 9, 30),
            usage="T",
        )


def test_missing_patient_address_is_not_ready_for_837p() -> None:
    """The 837P needs the patient's address; its absence raises ClaimNotReady naming the field."""
    ctx = ClaimContext(
        practice=PRACTICE,
        clients=[Client(id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 1, 2))],
        coverages=[COVERAGE],
        payers=[PAYER],
    )
    claims = build_claims([session()], ctx, ClaimTarget.X12_837P, readiness_check=ready)
    with pytest.raises(ClaimNotReady) as info:
        x12(claims)
    assert info.value.field == "claims[0].client.address"


# -- envelope ---------------------------------------------------------------------------------------


def test_envelope_counts_and_control_numbers() -> None:
    """ISA is 106 characters; SE counts ST..SE; GE/IEA repeat GS06/ISA13; BHT carries the reference."""
    text = x12(
        claims_of([session(), session(id="s2", date_of_service=date(2026, 3, 9))]),
        icn=123,
        gcn=45,
        reference="BATCH1",
    )
    assert text.index("~") + 1 == 106
    segs = segments(text)
    isa = segs[0]
    assert isa[13] == "000000123"
    assert (isa[11], isa[15], isa[16]) == ("^", "T", ":")
    assert segs[1] == ["GS", "HC", "CALMMINDS01", "CLEARHOUSE", "20260310", "0930", "45", "X", "005010X222A1"]
    assert segs[2] == ["ST", "837", "0001", "005010X222A1"]
    assert segs[3] == ["BHT", "0019", "00", "BATCH1", "20260310", "0930", "CH"]
    se = first(text, "SE")
    assert int(se[1]) == len(segs) - 2 - 2
    assert se[2] == "0001"
    assert first(text, "GE") == ["GE", "1", "45"]
    assert first(text, "IEA") == ["IEA", "1", "000000123"]


def test_newlines_only_add_line_breaks() -> None:
    """newlines=True differs from the wire form only by a line break after each terminator."""
    claims = claims_of([session()])
    assert x12(claims, newlines=True).replace("\n", "") == x12(claims)


# -- properties -------------------------------------------------------------------------------------


def npis() -> st.SearchStrategy[str]:
    return st.from_regex(r"[12][0-9]{8}", fullmatch=True).map(lambda p: p + npi_codes.calc_check_digit(p))


DIAGNOSES = [
    "F41.1",
    "F32.9",
    "F43.23",
    "F33.1",
    "F90.0",
    "F40.10",
    "F42.2",
    "F43.10",
    "F34.1",
    "Z63.0",
    "F60.3",
]
MODIFIERS = ["95", "HO", "GT", "59", "HE", "U4", "KX", "93"]


@st.composite
def sessions_strategy(draw: st.DrawFn, client_id: str = "c1") -> list[ClientSession]:
    count = draw(st.integers(1, 12))
    out = []
    for i in range(count):
        dos = draw(st.dates(date(2025, 1, 1), date(2026, 6, 30)))
        out.append(
            ClientSession(
                id=f"{client_id}-s{i}",
                client_id=client_id,
                date_of_service=dos,
                billing_code=draw(st.sampled_from(["90791", "90832", "90834", "90837", "90847"])),
                charge=Money(draw(st.decimals(1, 999, places=2))),
                units=draw(st.integers(1, 4)),
                diagnoses=draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=4, unique=True)),
                modifiers=draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True)),
                place_of_service=draw(st.sampled_from(["11", "02", "10", "53", "12"])),
                paid_at_session=Money(draw(st.decimals(0, 50, places=2))),
                line_note=draw(st.text(max_size=80)),
                resubmission=draw(
                    st.sampled_from([Resubmission(), Resubmission(frequency="7", original_reference="R7")])
                ),
                add_ons=[
                    AddOnLine(code=c, charge="20")
                    for c in draw(st.lists(st.sampled_from(["90785", "90863"]), max_size=2, unique=True))
                ],
            )
        )
    return out


@given(sessions=sessions_strategy(), target=st.sampled_from([ClaimTarget.CMS1500, ClaimTarget.X12_837P]))
def test_grouping_keeps_every_line_and_every_rule(sessions: list[ClientSession], target: ClaimTarget) -> None:
    """Claims hold every line once, within the line and diagnosis limits, with valid pointers and totals."""
    claims = claims_of(sessions, target)
    expected = sorted((s.id, s.date_of_service, s.billing_code) for s in sessions) + sorted(
        (s.id, s.date_of_service, a.code) for s in sessions for a in s.add_ons
    )
    got = [(ln.session_id, ln.date_of_service, ln.code) for c in claims for ln in c.lines]
    assert sorted(got) == sorted(expected)
    for claim in claims:
        assert 1 <= len(claim.lines) <= target.max_lines
        assert len(set(claim.diagnoses)) == len(claim.diagnoses) <= 12
        assert len({s.resubmission for s in sessions if s.id in claim.session_ids}) == 1
        for i, line in enumerate(claim.lines):
            session_of = next(s for s in sessions if s.id == line.session_id)
            assert [claim.diagnoses[p - 1] for p in line.diagnosis_pointers] == list(session_of.diagnoses)
            if line.add_on:
                assert claim.lines[i - 1].session_id == line.session_id
                assert claim.lines[i - 1].date_of_service == line.date_of_service
        assert re.fullmatch(r"[A-Z0-9]{1,20}", claim.patient_control_number)
    assert sum(c.total_charge.amount for c in claims) == sum(s.total_charge.amount for s in sessions)
    assert sum(c.amount_paid.amount for c in claims) == sum(s.paid_at_session.amount for s in sessions)
    assert len({c.patient_control_number for c in claims}) == len(claims)


@settings(max_examples=30)
@given(sessions=sessions_strategy())
def test_837p_is_well_formed(sessions: list[ClientSession]) -> None:
    """Every segment uses the basic character set, SE counts the transaction and CLM02 sums its SV102s."""
    text = x12(claims_of(sessions))
    segs = segments(text)
    for seg in segs[1:]:
        assert set("".join(seg)) <= BASIC | {":", "^"}
    assert int(first(text, "SE")[1]) == len(segs) - 4
    clm_total = sum(Decimal(s[2]) for s in all_of(text, "CLM"))
    assert clm_total == sum(Decimal(s[2]) for s in all_of(text, "SV1"))


@given(value=st.text(), max_len=st.integers(1, 80))
def test_x12_text_is_in_the_basic_character_set(value: str, max_len: int) -> None:
    """x12_text returns at most max_len basic characters, no delimiters, no edge spaces."""
    out = x12_text(value, max_len)
    assert len(out) <= max_len
    assert set(out) <= BASIC
    assert out == out.strip()


def test_patient_control_number_is_deterministic() -> None:
    """The same sessions give the same control number; other sessions give another."""
    a = claims_of([session()])[0].patient_control_number
    assert a == claims_of([session()])[0].patient_control_number
    assert a != claims_of([session(id="s9")])[0].patient_control_number
    assert a == patient_control_number(claims_of([session()])[0].lines)


# -- golden files ------------------------------------------------------------------------------------


def golden_cases() -> dict[str, tuple[list[ClientSession], Coverage, list[Authorization]]]:
    full = session(
        diagnoses=["F41.1", "F32.9", "F43.23", "Z63.0"],
        modifiers=["95", "HO"],
        place_of_service="10",
        add_ons=[AddOnLine(code="90785", charge="25.00")],
        paid_at_session="20.00",
        line_note="Interpreter present",
        referring_provider=ReferringProvider(first_name="Jane", last_name="Smith", npi="1245319599"),
    )
    later = session(
        id="s3",
        date_of_service=date(2026, 3, 9),
        diagnoses=["F41.1", "F32.9"],
        modifiers=["95", "HO"],
        place_of_service="10",
        referring_provider=full.referring_provider,
    )
    replacement = session(
        id="s2",
        resubmission=Resubmission(frequency="7", original_reference="ORIG12345"),
        overrides=InsuranceOverrides(
            rendering_provider_first_name="Rita",
            rendering_provider_last_name="Render",
            rendering_provider_npi="1679576722",
        ),
    )
    return {
        "simple": ([session()], COVERAGE, []),
        "full": ([full, later], COVERAGE, [AUTH]),
        "dependent_replacement": ([replacement], CHILD_COVERAGE, []),
    }


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("case", ["simple", "full", "dependent_replacement"])
def test_golden_837p(case: str) -> None:
    """The 837P of representative claims matches its golden file (SESSIONKIT_REGEN_GOLDEN=1 rewrites)."""
    sessions, coverage, auths = golden_cases()[case]
    check_golden(
        f"{case}.837p.x12", x12(claims_of(sessions, coverage=coverage, authorizations=auths), newlines=True)
    )


@pytest.mark.parametrize("case", ["simple", "full", "dependent_replacement"])
def test_golden_cms1500(case: str) -> None:
    """The CMS-1500 boxes of representative claims match their golden file."""
    sessions, coverage, auths = golden_cases()[case]
    forms = [
        {"boxes": dict(sorted(f.header().items())), "lines": [dict(ln) for ln in f.lines]}
        for f in map(
            to_cms1500, claims_of(sessions, ClaimTarget.CMS1500, coverage=coverage, authorizations=auths)
        )
    ]
    check_golden(f"{case}.cms1500.json", json.dumps(forms, indent=2) + "\n")


def test_claims_take_any_target_spelling_and_refuse_the_invoice() -> None:
    """ "837p" and "cms-1500" name the claim forms; the client invoice is no claim (a SessionkitError)."""
    from sessionkit.errors import InvalidValue

    assert claims_of([session()], "837p")[0].target is ClaimTarget.X12_837P  # type: ignore[arg-type]
    assert claims_of([session()], "CMS-1500")[0].target is ClaimTarget.CMS1500  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as info:
        claims_of([session()], "client_invoice")  # type: ignore[arg-type]
    assert (info.value.code, info.value.field) == ("target.not_a_claim", "target")
    with pytest.raises(InvalidValue) as unknown:
        claims_of([session()], "paper-ish")  # type: ignore[arg-type]
    assert unknown.value.code == "target.unknown"


# -- issue 15: what clearinghouses check -------------------------------------------------------------


def practice_claims(practice: PracticeSetup, *sessions: ClientSession, **kwargs: Any) -> tuple[Claim, ...]:
    ctx = ClaimContext(
        practice=practice,
        clients=[CLIENT],
        coverages=[kwargs.pop("coverage", COVERAGE)],
        payers=[kwargs.pop("payer", PAYER)],
    )
    return build_claims(
        list(sessions) or [session()], ctx, kwargs.pop("target", ClaimTarget.X12_837P), readiness_check=ready
    )


def test_usage_is_required_and_checked() -> None:
    """ISA15 has no silent default: usage must be given, and be T or P."""
    claims = claims_of([session()])
    with pytest.raises(TypeError):
        to_837p(  # type: ignore[call-arg]
            claims,
            submitter=SUBMITTER,
            receiver=RECEIVER,
            interchange_control_number=1,
            group_control_number=1,
            created_at=CREATED,
        )
    with pytest.raises(InvalidValue) as info:
        x12(claims, usage="X")
    assert info.value.code == "x12.usage"
    assert first(x12(claims, usage="P"), "ISA")[15] == "P"


def test_bht03_differs_between_batches() -> None:
    """Each batch gets its own BHT03; the same batch written twice gets the same one."""
    claims = claims_of([session()])
    a = first(x12(claims, icn=1), "BHT")[3]
    assert a == first(x12(claims, icn=1), "BHT")[3]
    assert a != first(x12(claims, icn=2), "BHT")[3]
    assert a != first(x12(claims_of([session(id="s7")]), icn=1), "BHT")[3]
    assert 1 <= len(a) <= 50
    assert first(x12(claims, reference="MYBATCH1"), "BHT")[3] == "MYBATCH1"


@pytest.mark.parametrize(
    ("indicator", "box1"),
    [
        ("CI", "GROUP HEALTH PLAN"),
        ("MB", "MEDICARE"),
        ("MC", "MEDICAID"),
        ("CH", "TRICARE"),
        ("VA", "CHAMPVA"),
        ("WC", "OTHER"),
        ("BL", "GROUP HEALTH PLAN"),
    ],
)
def test_sbr09_and_box_1_come_from_the_payer(indicator: str, box1: str) -> None:
    """The payer's claim filing indicator is SBR09; box 1 is derived from it."""
    payer = Payer(id="p1", name="Acme Health", payer_id="60054", claim_filing_indicator=indicator)
    assert first(x12(practice_claims(PRACTICE, payer=payer)), "SBR")[9] == indicator
    form = to_cms1500(practice_claims(PRACTICE, payer=payer, target=ClaimTarget.CMS1500)[0])
    assert form["1"] == box1


def test_type_1_billing_npi_is_a_person() -> None:
    """A practice billing under the practitioner's own NPI writes NM1*85*1 with last and first name."""
    practice = attrs.evolve(PRACTICE, npi_type="1", provider_last_name="Rivera", provider_first_name="Ana")
    assert first(x12(practice_claims(practice)), "NM1", "85") == [
        "NM1",
        "85",
        "1",
        "RIVERA",
        "ANA",
        "",
        "",
        "",
        "XX",
        "1234567893",
    ]
    assert to_cms1500(practice_claims(practice, target=ClaimTarget.CMS1500)[0])["33.name"] == "RIVERA, ANA"


def test_override_of_a_persons_billing_npi() -> None:
    """An override naming a person's NPI bills as that person; without the type it is an organisation."""
    person = InsuranceOverrides(
        billing_provider_npi="1245319599",
        billing_provider_name="Lee",
        billing_provider_type="1",
        billing_provider_first_name="Sam",
    )
    text = x12(claims_of([session(overrides=person)]))
    assert first(text, "NM1", "85")[2:5] == ["1", "LEE", "SAM"]
    group = InsuranceOverrides(billing_provider_npi="1245319599", billing_provider_name="Group Inc")
    assert first(x12(claims_of([session(overrides=group)])), "NM1", "85")[2:5] == ["2", "GROUP INC", ""]


@pytest.mark.parametrize(
    ("settings", "clm", "boxes"),
    [
        ({}, ["A", "Y", "Y"], ("SIGNATURE ON FILE", "SIGNATURE ON FILE", "YES")),
        (
            {"accept_assignment": False, "benefits_assigned": False, "release_of_information": "I"},
            ["C", "N", "I"],
            ("", "", "NO"),
        ),
    ],
)
def test_assignment_settings_reach_clm_and_boxes(
    settings: dict[str, Any], clm: list[str], boxes: tuple[str, str, str]
) -> None:
    """CLM07/CLM08/CLM09 and boxes 27/13/12 follow the practice's settings."""
    practice = attrs.evolve(PRACTICE, **settings)
    assert first(x12(practice_claims(practice)), "CLM")[7:10] == clm
    form = to_cms1500(practice_claims(practice, target=ClaimTarget.CMS1500)[0])
    assert (form["12"], form["13"], form["27"]) == boxes


def test_pay_to_address_is_2010ab() -> None:
    """A pay-to address different from the billing address is written as NM1*87 with N3/N4 after 2010AA."""
    lockbox = Address(line1="PO Box 4410", city="Springfield", state="IL", postal_code="62705")
    text = x12(practice_claims(attrs.evolve(PRACTICE, pay_to_address=lockbox)))
    ids = seg_ids(text)
    at = next(i for i, s in enumerate(segments(text)) if s[:2] == ["NM1", "87"])
    assert segments(text)[at] == ["NM1", "87", "2"]
    assert segments(text)[at + 1] == ["N3", "PO BOX 4410"]
    assert ids.index("REF") < at < ids.index("SBR")
    assert all_of(x12(claims_of([session()])), "NM1", "87") == []


@pytest.mark.parametrize(
    ("address", "code"),
    [
        (Address(line1="PO Box 12", city="Springfield", state="IL", postal_code="627011234"), "x12.po_box"),
        (
            Address(line1="12 Elm Street", city="Springfield", state="IL", postal_code="62701"),
            "x12.zip_plus_4",
        ),
        (
            Address(line1="12 Elm Street", city="Springfield", state="XX", postal_code="627011234"),
            "x12.state",
        ),
    ],
)
def test_writer_refuses_a_billing_address_the_guide_refuses(address: Address, code: str) -> None:
    """2010AA needs a street address with a 9-digit ZIP and a USPS state: the writer refuses otherwise."""
    with pytest.raises(ClaimNotReady) as info:
        x12(practice_claims(attrs.evolve(PRACTICE, address=address)))
    assert info.value.code == code
    assert info.value.field is not None
    assert info.value.field.startswith("claims[0].billing_provider.address")


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_writer_refuses_corrected_claim_without_original_reference(frequency: str) -> None:
    """Even past the readiness gate, a frequency 7/8 claim without REF*F8 is refused, not written."""
    claim = claims_of([session()])[0]
    bad = attrs.evolve(claim, frequency=Frequency(frequency), original_reference=None)
    with pytest.raises(ClaimNotReady) as info:
        x12([bad])
    assert (info.value.code, info.value.field) == (
        "x12.no_original_reference",
        "claims[0].original_reference",
    )
    good = attrs.evolve(claim, frequency=Frequency(frequency), original_reference="ORIG1")
    assert first(x12([good]), "REF", "F8") == ["REF", "F8", "ORIG1"]


@pytest.mark.parametrize("rank", ["S", "T"])
def test_writer_never_sends_a_secondary_claim_without_cob(rank: str) -> None:
    """SBR01 S/T needs loops 2320/2330: a claim without the earlier payer's adjudication is refused."""
    coverage = attrs.evolve(COVERAGE, rank=rank)
    with pytest.raises(ClaimNotReady) as info:
        x12(practice_claims(PRACTICE, coverage=coverage))
    assert info.value.code == "x12.secondary_payer"


def test_dependent_subscriber_has_no_dmg() -> None:
    """When the patient is not the subscriber, 2010BA carries no DMG; the patient's DMG is in 2010CA."""
    text = x12(claims_of([session()], coverage=CHILD_COVERAGE))
    dmgs = all_of(text, "DMG")
    assert dmgs == [["DMG", "D8", "19900102", "F"]]
    ids = seg_ids(text)
    assert ids.index("DMG") > ids.index("PAT")


def test_every_line_has_a_unique_line_item_control_number() -> None:
    """Each 2400 loop has REF*6R, unique within the file."""
    sessions = [session(id=f"s{i}", date_of_service=DOS + timedelta(days=i)) for i in range(5)]
    text = x12(claims_of(sessions))
    refs = [s[2] for s in all_of(text, "REF", "6R")]
    assert len(refs) == len(all_of(text, "LX")) == 5
    assert len(set(refs)) == 5


def test_cms1500_is_a_read_only_mapping() -> None:
    """Cms1500 is a Mapping of box to value that cannot be changed, header and rows alike."""
    from collections.abc import Mapping

    form = to_cms1500(claims_of([session()], ClaimTarget.CMS1500)[0])
    assert isinstance(form, Mapping)
    assert form["24D.code[1]"] == "90834"
    assert "24D.code[2]" not in form
    assert len(form) == len(list(form)) > 40
    with pytest.raises(TypeError):
        form["1"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        form.lines[0]["24F"] = "0"  # type: ignore[index]
    assert "BYRON" not in repr(form)


def test_cms1500_sex_blank_when_unknown_and_names_without_punctuation() -> None:
    """Box 3 sex is blank for U; names and addresses have no periods or apostrophes; box 25 has no hyphen."""
    client = Client(
        id="c1",
        first_name="J.R.",
        last_name="O'Neil",
        date_of_birth=date(1990, 1, 2),
        sex="U",
        address=Address(line1="1 N. Main St., #5", city="St. Louis", state="MO", postal_code="63101"),
    )
    ctx = ClaimContext(practice=PRACTICE, clients=[client], coverages=[COVERAGE], payers=[PAYER])
    form = to_cms1500(build_claims([session()], ctx, ClaimTarget.CMS1500, readiness_check=ready)[0])
    assert form["3.sex"] == ""
    assert form["2"] == "ONEIL, JR"
    assert (form["5.street"], form["5.city"], form["5.zip"]) == ("1 N MAIN ST 5", "ST LOUIS", "63101")
    assert form["25"] == "123456789"
    assert "24I" not in form.lines[0]
    assert "24J" not in form.lines[0]


# -- secondary claims: coordination of benefits ------------------------------------------------------

SECOND_PAYER = Payer(id="p2", name="Second Mutual", payer_id="22222")
SECONDARY = Coverage(
    id="cov9", client_id="c1", payer_id="p2", member_id="S555", rank="S", effective=date(2025, 1, 1)
)


def primary_answer(
    *sessions: ClientSession, paid: str = "100.00", claim_cas: str | None = None
) -> Adjudication:
    """The primary's answer: each line paid ``paid`` with CO-45 for the rest (less a claim-level OA-23)."""
    lines = [
        LineAdjudication(
            session_id=s.id,
            code=s.billing_code,
            charge=s.charge.amount,
            paid=paid,
            adjustments=[Adjustment(group="CO", reason="45", amount=s.charge.amount - Decimal(paid))],
        )
        for s in sessions
    ]
    line_paid = sum((line.paid for line in lines), Decimal("0.00"))
    claim_level = [] if claim_cas is None else [Adjustment(group="OA", reason="23", amount=claim_cas)]
    return Adjudication(
        id="a1",
        claim_record_id="r1",
        client_id="c1",
        payer_id="p1",
        coverage_id=COVERAGE.id,
        patient_control_number="SK1",
        payer_claim_number="PAYER123",
        status_code="1",
        charge=sum((line.charge for line in lines), Decimal("0.00")),
        paid=line_paid - Decimal(claim_cas or "0"),
        lines=lines,
        adjustments=claim_level,
        paid_on=date(2026, 3, 20),
        source_key="k1",
        posted_at=datetime(2026, 3, 20, 12, tzinfo=timezone.utc),
    )


def secondary_context(*adjudications: Adjudication) -> ClaimContext:
    return ClaimContext(
        practice=PRACTICE,
        clients=[CLIENT],
        coverages=[COVERAGE, SECONDARY],
        payers=[PAYER, SECOND_PAYER],
        adjudications=adjudications,
    )


def test_a_secondary_claim_carries_the_primary_adjudication_per_claim_and_line() -> None:
    """After the primary answered, build_claims bills the secondary: other_payers holds the primary's
    coverage, payer, paid amount and claim-level CAS, each line its SVD/CAS, and the 837P writes them."""
    s1, s2 = session(), session(id="s2", date_of_service=DOS + timedelta(days=7))
    answer = primary_answer(s1, s2, claim_cas="5.00")
    (claim,) = build_claims([s1, s2], secondary_context(answer), ClaimTarget.X12_837P, readiness_check=ready)
    assert claim.coverage == SECONDARY
    (other,) = claim.other_payers
    assert (other.coverage, other.payer, other.paid, other.adjusted) == (
        COVERAGE,
        PAYER,
        Decimal("195.00"),
        Decimal("5.00"),
    )
    assert [[(p.paid, p.adjusted) for p in line.prior] for line in claim.lines] == [
        [(Decimal("100.00"), Decimal("40.00"))]
    ] * 2
    text = x12([claim])
    assert first(text, "SBR", "S")[:2] == ["SBR", "S"]
    assert first(text, "SBR", "P")[:2] == ["SBR", "P"]
    assert first(text, "AMT", "D") == ["AMT", "D", "195"]
    assert first(text, "CAS", "OA") == ["CAS", "OA", "23", "5"]
    assert all_of(text, "SVD") == [["SVD", "60054", "100", "HC:90834", "", "1"]] * 2
    assert first(text, "NM1", "IL") == ["NM1", "IL", "1", "BYRON", "ADA", "", "", "", "MI", "S555"]
    # A subset of the primary's lines (s2 not billed now): claim-level CAS stays off, paid is the lines'.
    (part,) = build_claims([s1], secondary_context(answer), ClaimTarget.X12_837P, readiness_check=ready)
    assert (part.other_payers[0].paid, part.other_payers[0].adjustments) == (Decimal("100.00"), ())
    assert first(x12([part]), "AMT", "D") == ["AMT", "D", "100"]


def test_the_writer_refuses_an_unbalanced_prior_adjudication() -> None:
    """Paid plus adjustments must be the line's charge (guide 1.4.4): else x12.cob_unbalanced, no file."""
    s1 = session()
    answer = primary_answer(s1)
    bad_line = attrs.evolve(
        answer.lines[0], adjustments=[Adjustment(group="CO", reason="45", amount="39.99")]
    )
    (claim,) = build_claims(
        [s1],
        secondary_context(attrs.evolve(answer, lines=[bad_line])),
        ClaimTarget.X12_837P,
        readiness_check=ready,
    )
    with pytest.raises(ClaimNotReady) as info:
        x12([claim])
    assert (info.value.code, info.value.field) == ("x12.cob_unbalanced", "claims[0].other_payers[0].lines[0]")


def test_a_correction_of_the_primary_claim_goes_to_the_primary() -> None:
    """A replacement (7) quoting the primary's claim number goes back to the primary, without COB; one
    quoting a claim number no payer answered goes to the coverage to bill (the secondary)."""
    s1 = session(resubmission=Resubmission(frequency="7", original_reference="PAYER123"))
    answer = primary_answer(session())
    (claim,) = build_claims([s1], secondary_context(answer), ClaimTarget.X12_837P, readiness_check=ready)
    assert (claim.coverage, claim.other_payers) == (COVERAGE, ())
    other = session(resubmission=Resubmission(frequency="7", original_reference="SECOND1"))
    (claim,) = build_claims([other], secondary_context(answer), ClaimTarget.X12_837P, readiness_check=ready)
    assert claim.coverage == SECONDARY
    assert [o.adjudication_id for o in claim.other_payers] == ["a1"]


def test_a_paper_secondary_claim_names_the_other_plan() -> None:
    """CMS-1500 for the secondary: 11d YES, 9/9a/9d the primary's insured, plan and number; box 29 adds
    what the primary paid to what the client paid."""
    s1 = session(paid_at_session="20.00")
    (claim,) = build_claims(
        [s1], secondary_context(primary_answer(s1)), ClaimTarget.CMS1500, readiness_check=ready
    )
    form = to_cms1500(claim)
    assert (form["11d"], form["9"], form["9a"], form["9d"], form["29"]) == (
        "YES",
        "BYRON, ADA",
        "G77",
        "ACME HEALTH",
        "120.00",
    )
    assert form["1a"] == "S555"
