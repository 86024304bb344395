"""Ready means accepted (issue 15): 837P files from ready sessions pass pyx12 AND the front-end edits.

pyx12 checks the implementation guide's syntax; clearinghouses also apply
edits pyx12 does not (ZIP+4 and a street address for the billing provider,
USPS states, SBR01 ``S`` only with the other payer's loops, a date of birth
before the date of service, diagnosis codes valid on the date ...). This module
writes 837P files from at least 200 drawn ready sessions and from hand-built
claims covering every feature, and checks each file with pyx12 and with
:class:`GuideChecker`, a small checker written from the guide here, sharing
no code with the writer. Many claims go in one file: pyx12 is slow per file.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    Address,
    Client,
    ClientSession,
    Coverage,
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
    to_837p,
)
from sessionkit.codes import icd10
from sessionkit.domain import InsuranceOverrides
from sessionkit.readiness import ReadinessContext, Severity, Target, check
from sessionkit.testing.readiness import ready_sessions

pytest.importorskip("pyx12", minversion="4.0", reason="pyx12 4 needs Python 3.11+")
x12n_document = pytest.importorskip("pyx12.x12n_document", reason="pyx12 4 needs Python 3.11+")
pyx12_params = pytest.importorskip("pyx12.params")

CREATED = datetime(2026, 9, 1, 8, 15, tzinfo=timezone(timedelta(hours=-5)))
SUBMITTER = Submitter(name="Calm Minds", id="CALMMINDS01", contact_name="Bea Biller", phone="2175550100")
RECEIVER = Receiver(name="Example Clearinghouse", id="CLEARHOUSE")
SEEN_BHT03: set[str] = set()

# -- the independent checker --------------------------------------------------------------------------

USPS = {
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "DC",
    "PR",
    "VI",
    "GU",
    "AS",
    "MP",
    "AA",
    "AE",
    "AP",
}
SBR09 = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "AM",
    "BL",
    "CH",
    "CI",
    "DS",
    "FI",
    "HM",
    "LM",
    "MA",
    "MB",
    "MC",
    "OF",
    "TV",
    "VA",
    "WC",
    "ZZ",
}
PER_SESSION = {"90791", "90792", "90832", "90834", "90837", "90839", "90846", "90847"}
PO_BOX = re.compile(
    r"\b(P\s*\.?\s*O\s*\.?\s*B(OX)?|POST\s+OFFICE\s+BOX|LOCK\s*BOX|DRAWER|CALLER)\b|^BOX\s*\d"
)


def luhn_npi(number: str) -> bool:
    """The NPI check digit: Luhn over 80840 + the first 9 digits (CMS)."""
    if not re.fullmatch(r"[12]\d{9}", number):
        return False
    digits = [int(c) for c in "80840" + number]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def d8(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


class GuideChecker:
    """Front-end edits of 005010X222A1 and the clearinghouses, on the text of one interchange."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.segments = [s.strip().split("*") for s in text.split("~") if s.strip()]
        self.problems: list[str] = []

    def fail(self, where: int, message: str) -> None:
        self.problems.append(f"segment {where + 1} {'*'.join(self.segments[where])[:60]}: {message}")

    def run(self) -> list[str]:
        segs = self.segments
        isa = segs[0]
        if isa[0] != "ISA" or isa[15] not in {"T", "P"}:
            self.fail(0, "ISA15 must be T or P")
        st_at = next(i for i, s in enumerate(segs) if s[0] == "ST")
        se_at = next(i for i, s in enumerate(segs) if s[0] == "SE")
        if int(segs[se_at][1]) != se_at - st_at + 1:
            self.fail(se_at, "SE01 is not the segment count")
        bht = segs[st_at + 1]
        if not 1 <= len(bht[3]) <= 50 or bht[3] in SEEN_BHT03:
            self.fail(st_at + 1, "BHT03 must be 1-50 characters and unique per batch")
        SEEN_BHT03.add(bht[3])
        loop = ""
        patient_is_subscriber = False
        birth: date | None = None
        claim_at = -1
        frequency = ""
        refs: set[str] = set()
        line_refs: list[str] = []
        lines = 0
        diagnoses: list[str] = []
        for i, seg in enumerate(segs):
            tag = seg[0]
            if tag == "HL":
                self.end_claim(claim_at, frequency, refs, line_refs)
                claim_at = -1
                loop = {"20": "2000A", "22": "2000B", "23": "2000C"}[seg[3]]
                if seg[3] == "22":
                    patient_is_subscriber = seg[4] == "0"
                    birth = None
            elif tag == "NM1":
                loop = {
                    "85": "2010AA",
                    "87": "2010AB",
                    "IL": "2010BA",
                    "PR": "2010BB",
                    "QC": "2010CA",
                    "DN": "2310A",
                    "82": "2310B",
                    "77": "2310C",
                    "DQ": "2310D",
                    "DK": "2420E",
                }.get(seg[1], loop)
                if seg[1] == "85":
                    if seg[2] not in {"1", "2"} or (seg[2] == "1" and len(seg) < 5):
                        self.fail(i, "NM102 1 needs last and first name")
                    if seg[8] != "XX" or not luhn_npi(seg[9]):
                        self.fail(i, "billing NPI fails its check digit")
                if seg[1] == "87" and segs[i + 1][0] != "N3":
                    self.fail(i, "2010AB needs N3/N4")
                if seg[1] in {"DN", "82", "DQ", "DK"} and not luhn_npi(seg[9]):
                    self.fail(i, "provider NPI fails its check digit")
            elif tag == "N3":
                if loop in {"2010AA", "2310C"} and any(PO_BOX.search(x) for x in seg[1:]):
                    self.fail(i, f"{loop} must be a street address, not a PO box")
            elif tag == "N4":
                if seg[2] not in USPS:
                    self.fail(i, "N402 is not a USPS state code")
                if loop in {"2010AA", "2310C"} and not re.fullmatch(r"\d{9}", seg[3]):
                    self.fail(i, f"{loop} N403 must be the 9-digit ZIP")
                elif not re.fullmatch(r"\d{5}(\d{4})?", seg[3]):
                    self.fail(i, "N403 must be 5 or 9 digits")
            elif tag == "SBR":
                if seg[1] != "P":
                    self.fail(i, "SBR01 other than P needs loops 2320/2330")
                if (seg[2] == "18") != patient_is_subscriber:
                    self.fail(i, "SBR02 18 exactly when the patient is the subscriber")
                if len(seg) < 10 or seg[9] not in SBR09:
                    self.fail(i, "SBR09 is not a claim filing indicator code")
            elif tag == "DMG":
                if loop == "2010BA" and not patient_is_subscriber:
                    self.fail(i, "2010BA DMG is not sent when the patient is not the subscriber")
                if loop in {"2010BA", "2010CA"}:
                    birth = d8(seg[2])
                    if seg[3] not in {"F", "M", "U"}:
                        self.fail(i, "DMG03 must be F, M or U")
            elif tag == "CLM":
                self.end_claim(claim_at, frequency, refs, line_refs)
                if lines > 50:
                    self.fail(claim_at, "more than 50 lines")
                claim_at, refs, line_refs, lines = i, set(), [], 0
                frequency = seg[5].split(":")[2]
                if frequency not in {"1", "7", "8"}:
                    self.fail(i, "CLM05-3 must be 1, 7 or 8")
                if seg[7] not in {"A", "B", "C"} or seg[8] not in {"Y", "N", "W"} or seg[9] not in {"Y", "I"}:
                    self.fail(i, "CLM07/08/09 codes")
                if birth is None:
                    self.fail(i, "no patient date of birth before the claim")
            elif tag == "REF" and claim_at >= 0:
                if seg[1] == "6R":
                    line_refs.append(seg[2])
                elif lines == 0:
                    refs.add(seg[1])
            elif tag == "HI":
                codes = [c.split(":") for c in seg[1:]]
                if codes[0][0] != "ABK" or any(q != "ABF" for q, _ in codes[1:]):
                    self.fail(i, "HI: ABK first, then ABF")
                diagnoses = [c for _, c in codes]
                for c in diagnoses:
                    if not re.fullmatch(r"[A-Z][0-9][A-Z0-9]{1,5}", c):
                        self.fail(i, "diagnosis not in X12 form (no dot)")
            elif tag == "SV1":
                lines += 1
                code = seg[1].split(":")[1]
                if code in PER_SESSION and Decimal(seg[4]) != 1:
                    self.fail(i, "a per-session code with more than one unit")
            elif tag == "DTP" and seg[1] == "472":
                day = d8(seg[3])
                if birth is not None and day < birth:
                    self.fail(i, "date of service before the patient's birth")
                for c in diagnoses:
                    if icd10.history().valid_on(c, day) is False:
                        self.fail(i, f"diagnosis {c} not valid on the date of service")
        self.end_claim(claim_at, frequency, refs, line_refs)
        return self.problems

    def end_claim(self, at: int, frequency: str, refs: set[str], line_refs: list[str]) -> None:
        if at < 0:
            return
        if frequency in {"7", "8"} and "F8" not in refs:
            self.fail(at, "frequency 7/8 without REF*F8")
        if frequency == "1" and "F8" in refs:
            self.fail(at, "an original claim carries REF*F8")
        if len(set(line_refs)) != len(line_refs) or not line_refs:
            self.fail(at, "every line needs its own REF*6R")


# -- pyx12 ---------------------------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


@pytest.fixture
def pyx12_log() -> Iterator[_Capture]:
    capture = _Capture()
    logger = logging.getLogger("pyx12")
    logger.addHandler(capture)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)


def assert_conformant(text: str, log: _Capture) -> None:
    """pyx12 accepts the file (IK5*A, no error) and the independent checker finds nothing."""
    problems = GuideChecker(text).run()
    assert problems == [], "\n".join(problems[:20]) + "\n--- 837P ---\n" + text[:4000]
    del log.lines[:]
    ack = io.StringIO()
    valid = x12n_document.x12n_document(
        param=pyx12_params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None, fd_xmldoc=None
    )
    errors = [line for line in log.lines if line.startswith(("ERROR", "CRITICAL"))]
    detail = "\n".join(log.lines[:50]) + "\n--- 999 ---\n" + ack.getvalue()
    assert "IK5*A~" in ack.getvalue().replace("\n", ""), detail
    assert valid, detail
    assert errors == [], detail


_ICN = iter(range(100, 10**6))


def write(claims: Sequence[Claim], usage: str = "T") -> str:
    return to_837p(
        claims,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        interchange_control_number=next(_ICN),
        group_control_number=1,
        created_at=CREATED,
        usage=usage,
        newlines=True,
    )


def blocking(session: ClientSession, context: ReadinessContext, target: ClaimTarget) -> list[Any]:
    return [f for f in check(session, context, Target(target.value)).findings if f.severity is Severity.ERROR]


# -- at least 200 drawn ready sessions -------------------------------------------------------------------


def claims_of_ready(index: int, pair: tuple[ClientSession, ReadinessContext]) -> tuple[Claim, ...]:
    """The 837P claims of one drawn ready session, its client and coverage renamed to be unique in the file."""
    session, original = pair
    context = original
    assert check(session, context, Target.X12_837P).ready
    client_id = f"c{index}"
    session = attrs.evolve(session, client_id=client_id)
    coverage = context.coverage_on(session.date_of_service, "c1")
    assert coverage is not None
    assert context.client is not None
    assert context.practice is not None
    coverage = attrs.evolve(coverage, id=f"cov{index}", client_id=client_id)
    client = attrs.evolve(context.client, id=client_id)
    context = attrs.evolve(context, client=client, coverages=(coverage,))
    auth = next(iter(context.authorizations), None)
    return claims_for_client(
        [session],
        practice=context.practice,
        client=client,
        coverage=coverage,
        payer=context.payers[coverage.payer_id],
        target=ClaimTarget.X12_837P,
        readiness_check=lambda s, t: blocking(attrs.evolve(s, client_id="c1"), original, t),
        authorization_number=None if auth is None else auth.authorization.number,
    )


DRAWN: list[int] = []
BATCH = 20


@settings(
    max_examples=12,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data())
def test_drawn_ready_sessions_make_conformant_837p(data: st.DataObject, pyx12_log: _Capture) -> None:
    """20 drawn ready sessions a file, 12 files (240 sessions): pyx12 and the guide checker accept every file."""
    claims: list[Claim] = []
    for i in range(BATCH):
        pair = data.draw(ready_sessions(), label=f"session {i}")
        claims.extend(claims_of_ready(len(DRAWN) + i, pair))
    DRAWN.extend(range(BATCH))
    assert_conformant(write(claims), pyx12_log)


def test_at_least_200_drawn_sessions_were_written() -> None:
    """The drawn test above wrote at least 200 ready sessions (it runs first in this module)."""
    assert len(DRAWN) >= 200


# -- hand-built claims ---------------------------------------------------------------------------------

OFFICE = Address(
    line1="12 Elm Street", line2="Suite 4", city="Springfield", state="IL", postal_code="627011234"
)
HOME = Address(line1="7 Birch Rd", city="Peoria", state="IL", postal_code="61602")
LOCKBOX = Address(line1="PO Box 4410", city="Springfield", state="IL", postal_code="62705")
CLINIC = Address(line1="9 Oak Ave", city="San Juan", state="PR", postal_code="009011234")
GROUP = PracticeSetup(
    name="Calm Minds Counseling LLC",
    npi="1234567893",
    tax_id="12-3456789",
    taxonomy="101YM0800X",
    address=OFFICE,
    pay_to_address=LOCKBOX,
    phone="2175550100",
    time_zone="America/Chicago",
)
SOLO = attrs.evolve(
    GROUP,
    name="Ana Rivera LCSW",
    npi="1245319599",
    npi_type="1",
    provider_first_name="Ana",
    provider_last_name="Rivera",
    pay_to_address=None,
    accept_assignment=False,
    benefits_assigned=False,
    release_of_information="I",
)
ADA = Client(
    id="c1", first_name="Ada", last_name="Byron", date_of_birth=date(1990, 1, 2), sex="F", address=HOME
)
KID = Client(
    id="c2", first_name="Léa", last_name="O'Neil", date_of_birth=date(2014, 6, 1), sex="U", address=HOME
)
PAYERS = [
    Payer(id="p1", name="Acme Health", payer_id="60054"),
    Payer(id="p2", name="Medicare Part B", payer_id="00952", claim_filing_indicator="MB"),
    Payer(id="p3", name="State Medicaid", payer_id="77027", claim_filing_indicator="MC", address=OFFICE),
    Payer(id="p4", name="Blue Plan", payer_id="BCBSIL", claim_filing_indicator="BL"),
]
TODAY = date(2026, 8, 31)
REFERRER = ReferringProvider(first_name="Jane", last_name="Smith", npi="1679576722")


def coverage(client: Client, payer: str, **kwargs: Any) -> Coverage:
    return Coverage(
        id=f"cov-{client.id}-{payer}",
        client_id=client.id,
        payer_id=payer,
        member_id="W123456789",
        group_number="G77",
        effective=date(2025, 1, 1),
        **kwargs,
    )


def session(n: int, client: Client = ADA, **kwargs: Any) -> ClientSession:
    values: dict[str, Any] = {
        "id": f"{client.id}-s{n}",
        "client_id": client.id,
        "date_of_service": date(2026, 1, 1) + timedelta(days=n),
        "billing_code": "90834",
        "minutes": 45,
        "charge": "140.00",
        "diagnoses": ["F41.1"],
    }
    values.update(kwargs)
    return ClientSession(**values)


def hand_built(practice: PracticeSetup, payer: str) -> list[Claim]:
    kid_coverage = coverage(
        KID,
        payer,
        relationship="19",
        subscriber=Subscriber(
            first_name="Bob", last_name="O'Neil", date_of_birth=date(1980, 2, 3), sex="M", address=HOME
        ),
    )
    context = ClaimContext(
        practice=practice,
        clients=[ADA, KID],
        coverages=[coverage(ADA, payer), kid_coverage],
        payers=PAYERS,
        today=TODAY,
    )
    sessions = [
        session(1, referring_provider=REFERRER),
        session(2, resubmission=Resubmission(frequency="7", original_reference="PAYER123456")),
        session(3, resubmission=Resubmission(frequency="8", original_reference="PAYER654321")),
        session(4, line_note="Interpreter present; audio+video"),
        session(5, modifiers=["95", "HO", "59", "U4"], place_of_service="10"),
        session(6, diagnoses=["F41.1", "F32.A", "F43.23", "Z63.0"]),
        session(
            7,
            billing_code="90791",
            minutes=None,
            charge="200",
            add_ons=[AddOnLine(code="90785", charge="25")],
        ),
        session(
            8, billing_code="90839", minutes=100, charge="180", add_ons=[AddOnLine(code="90840", charge="90")]
        ),
        session(9, place_of_service="02", modifiers=["93"]),
        session(10, paid_at_session="20.00"),
        session(
            11,
            overrides=InsuranceOverrides(
                billing_provider_name="Rivera",
                billing_provider_npi="1245319599",
                billing_provider_type="1",
                billing_provider_first_name="Ana",
                rendering_provider_first_name="Rita",
                rendering_provider_last_name="Render",
                rendering_provider_npi="1679576722",
                facility_name="Oak Clinic",
                facility_npi="1234567893",
                facility_address=CLINIC,
            ),
        ),
        session(12, referring_provider=attrs.evolve(REFERRER, qualifier="DQ")),
        session(13, referring_provider=attrs.evolve(REFERRER, qualifier="DK")),
        session(
            14, billing_code="99214", minutes=30, charge="150", add_ons=[AddOnLine(code="90833", charge="80")]
        ),
        # several dates on one claim, and more than 50 lines for one client: claims of at most 50 lines
        *(session(100 + n, minutes=40) for n in range(60)),
        session(1, KID),
        session(2, KID, diagnoses=["F90.0", "F41.1"], billing_code="90837", minutes=60),
    ]
    return list(build_claims(sessions, context, ClaimTarget.X12_837P))


@pytest.mark.parametrize(("practice", "payer"), [(GROUP, "p1"), (SOLO, "p2"), (GROUP, "p3"), (SOLO, "p4")])
def test_hand_built_claims_make_conformant_837p(
    practice: PracticeSetup, payer: str, pyx12_log: _Capture
) -> None:
    """Every feature (referring, corrected and void, notes, 4 modifiers, 4 diagnoses, add-ons, a dependant,
    telehealth, >50 lines, paid at session, overrides, group and individual NPIs) gives an accepted file."""
    claims = hand_built(practice, payer)
    assert max(len(c.lines) for c in claims) == 50
    text = write(claims, usage="P")
    assert_conformant(text, pyx12_log)
    segments = [s.split("*") for s in text.replace("\n", "").split("~") if s]
    nm1_85 = [s for s in segments if s[:2] == ["NM1", "85"]]
    assert {s[2] for s in nm1_85} == ({"1"} if practice is SOLO else {"1", "2"})
    assert {s[9] for s in segments if s[0] == "SBR"} == {
        PAYERS[int(payer[1]) - 1].claim_filing_indicator.value
    }
    assert any(s[:2] == ["NM1", "87"] for s in segments) is (practice is GROUP)
    clm = {tuple(s[7:10]) for s in segments if s[0] == "CLM"}
    assert clm == ({("A", "Y", "Y")} if practice is GROUP else {("C", "N", "I")})


def test_the_checker_can_fail() -> None:
    """The independent checker finds what the writer would have got wrong."""
    text = write(hand_built(GROUP, "p1")[:3])
    broken = {
        "5-digit ZIP in 2010AA": text.replace("N4*SPRINGFIELD*IL*627011234", "N4*SPRINGFIELD*IL*62701", 1),
        "PO box in 2010AA": text.replace("N3*12 ELM STREET", "N3*PO BOX 12", 1),
        "secondary": text.replace("SBR*P*", "SBR*S*", 1),
        "no REF*F8": re.sub(r"REF\*F8\*[^~]*~\n", "", text),
        "unknown state": text.replace("*IL*", "*XX*", 1),
        "two units of 90834": text.replace("*UN*1*", "*UN*2*", 1),
        "subscriber DMG for a dependant": text,  # replaced below
    }
    kid_text = write([c for c in hand_built(GROUP, "p1") if c.client.id == "c2"])
    at = kid_text.index("NM1*PR")
    broken["subscriber DMG for a dependant"] = kid_text[:at] + "DMG*D8*19800203*M~\n" + kid_text[at:]
    for name, bad in broken.items():
        SEEN_BHT03.clear()
        assert GuideChecker(bad).run() != [], name
    SEEN_BHT03.clear()
    assert GuideChecker(text).run() == []
