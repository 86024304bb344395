"""837P files from ready sessions pass pyx12, an independent implementation of 005010X222A1.

pyx12 writes a 999 acknowledgement: ``IK5*A`` means the transaction set was
accepted. Its errors go to the ``pyx12`` logger; they are shown when a test fails.
Each validation takes about 0.2 s, so the property tests run few examples.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from sessionkit import (
    AddOnLine,
    Address,
    Authorization,
    Client,
    ClientSession,
    Coverage,
    Money,
    Payer,
    PracticeSetup,
    ReferringProvider,
    Resubmission,
    Subscriber,
)
from sessionkit.claims import ClaimContext, ClaimTarget, Receiver, Submitter, build_claims, to_837p
from sessionkit.codes import npi as npi_codes
from sessionkit.domain import InsuranceOverrides

pytest.importorskip("pyx12", minversion="4.0", reason="pyx12 4 needs Python 3.11+")
x12n_document = pytest.importorskip("pyx12.x12n_document", reason="pyx12 4 needs Python 3.11+")
pyx12_params = pytest.importorskip("pyx12.params")

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
TODAY = date(2026, 7, 1)
CREATED = datetime(2026, 7, 1, 8, 15, tzinfo=timezone(timedelta(hours=-5)))
SUBMITTER = Submitter(name="Calm Minds", id="CALMMINDS01", contact_name="Bea Biller", phone="2175550100")
RECEIVER = Receiver(name="Example Clearinghouse", id="CLEARHOUSE")
MINUTES = {"90791": None, "90832": 30, "90834": 45, "90837": 60, "90847": 50}
DIAGNOSES = ["F41.1", "F32.9", "F43.23", "F33.1", "F90.0", "F40.10", "F42.2", "F43.10", "F34.1", "F60.3"]
MODIFIERS = ["95", "HO", "59", "HE", "U4", "KX", "AH"]


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


def assert_accepted(text: str, log: _Capture) -> None:
    """Validate ``text`` with pyx12; fail with its log and 999 unless the transaction is accepted."""
    del log.lines[:]
    ack = io.StringIO()
    valid = x12n_document.x12n_document(
        param=pyx12_params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None, fd_xmldoc=None
    )
    errors = [line for line in log.lines if line.startswith(("ERROR", "CRITICAL"))]
    detail = "\n".join(log.lines) + "\n--- 999 ---\n" + ack.getvalue() + "\n--- 837P ---\n" + text
    assert "IK5*A~" in ack.getvalue().replace("\n", ""), detail
    assert valid, detail
    assert errors == [], detail


def npis() -> st.SearchStrategy[str]:
    return st.from_regex(r"[12][0-9]{8}", fullmatch=True).map(lambda p: p + npi_codes.calc_check_digit(p))


LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Two letters first, then anything a person types: accents, apostrophes and the X12 delimiters.
names = st.builds(
    str.__add__,
    st.text(alphabet=LETTERS, min_size=2, max_size=8),
    st.text(alphabet=LETTERS + "éñüØ'-. *~:^", max_size=25),
)
cities = names.map(lambda c: c[:30]).filter(lambda c: len(c.strip()) >= 2)
addresses = st.builds(
    Address,
    line1=names,
    line2=st.one_of(st.just(""), names),
    city=cities,
    state=st.sampled_from(["IL", "NY", "CA", "TX"]),
    postal_code=st.from_regex(r"[0-9]{5}([0-9]{4})?", fullmatch=True),
)
# Billing provider and facility addresses: a street (never a PO box) and a ZIP+4, as the guide asks.
street_addresses = st.builds(
    Address,
    line1=st.builds(
        "{} {}".format,
        st.integers(1, 9999),
        st.sampled_from(["Elm St", "Oak Ave.", "O'Hare Rd", "Main Street"]),
    ),
    line2=st.just(""),
    city=cities,
    state=st.sampled_from(["IL", "NY", "CA", "TX", "PR", "DC"]),
    postal_code=st.from_regex(r"[0-9]{9}", fullmatch=True),
)
births = st.dates(date(1930, 1, 1), date(2020, 12, 31))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[ClaimContext, list[ClientSession]]:
    """A practice, 1-3 clients with a coverage each, and their sessions (valid by construction)."""
    practice = PracticeSetup(
        name=draw(names),
        npi=draw(npis()),
        tax_id=draw(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True)),
        taxonomy=draw(st.sampled_from([None, "101YM0800X", "103T00000X"])),
        address=draw(street_addresses),
        time_zone="America/Chicago",
    )
    payers = [Payer(id="p1", name=draw(names), payer_id=draw(st.from_regex(r"[A-Z0-9]{5}", fullmatch=True)))]
    clients, coverages, auths, sessions = [], [], [], []
    for c in range(draw(st.integers(1, 3))):
        client_id = f"c{c}"
        clients.append(
            Client(
                id=client_id,
                first_name=draw(names),
                last_name=draw(names),
                date_of_birth=draw(births),
                sex=draw(st.sampled_from("FMU")),
                address=draw(addresses),
            )
        )
        dependent = draw(st.booleans())
        coverages.append(
            Coverage(
                id=f"cov{c}",
                client_id=client_id,
                payer_id="p1",
                member_id=draw(st.from_regex(r"[A-Za-z0-9]{2,20}", fullmatch=True)),
                group_number=draw(st.one_of(st.just(""), st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True))),
                effective=date(2025, 1, 1),
                relationship=draw(st.sampled_from(["19", "01", "G8"])) if dependent else "18",
                subscriber=Subscriber(
                    first_name=draw(names),
                    last_name=draw(names),
                    date_of_birth=draw(births),
                    sex=draw(st.sampled_from("FMU")),
                    address=draw(addresses),
                )
                if dependent
                else None,
            )
        )
        if draw(st.booleans()):
            auths.append(
                Authorization(
                    id=f"a{c}",
                    client_id=client_id,
                    payer_id="p1",
                    number=draw(st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True)),
                    start=date(2025, 1, 1),
                    end=date(2026, 12, 31),
                    sessions_authorized=500,
                )
            )
        for i in range(draw(st.integers(1, 6))):
            code = draw(st.sampled_from(sorted(MINUTES)))
            dos = draw(st.dates(date(2025, 1, 1), date(2026, 6, 30)))
            referring = draw(
                st.one_of(
                    st.none(), st.builds(ReferringProvider, first_name=names, last_name=names, npi=npis())
                )
            )
            frequency = draw(st.sampled_from(["1", "7", "8"]))
            overrides = draw(
                st.one_of(
                    st.none(),
                    st.builds(
                        InsuranceOverrides,
                        billing_provider_name=st.one_of(st.none(), names),
                        billing_provider_npi=st.one_of(st.none(), npis()),
                        tax_id=st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{8}", fullmatch=True)),
                        rendering_provider_first_name=names,
                        rendering_provider_last_name=names,
                        rendering_provider_npi=st.one_of(st.none(), npis()),
                    ),
                    st.builds(
                        InsuranceOverrides,
                        facility_name=names,
                        facility_npi=npis(),
                        facility_address=street_addresses,
                    ),
                )
            )
            charge = Money(draw(st.decimals(1, 9999, places=2)))
            sessions.append(
                ClientSession(
                    id=f"{client_id}-s{i}",
                    client_id=client_id,
                    date_of_service=dos,
                    billing_code=code,
                    minutes=MINUTES[code],
                    charge=charge,
                    diagnoses=draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=4, unique=True)),
                    modifiers=draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True)),
                    place_of_service=draw(st.sampled_from(["11", "53", "12", "03"])),
                    paid_at_session=Money(draw(st.decimals(0, 10, places=2))),
                    line_note=draw(st.text(alphabet=st.characters(codec="ascii"), max_size=80)),
                    referring_provider=referring,
                    resubmission=Resubmission(
                        frequency=frequency,
                        original_reference=None
                        if frequency == "1"
                        else draw(st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True)),
                    ),
                    overrides=overrides,
                    add_ons=[AddOnLine(code="90785", charge="25")]
                    if code in {"90791", "90832", "90834", "90837"} and draw(st.booleans())
                    else [],
                )
            )
    context = ClaimContext(
        practice=practice,
        clients=clients,
        coverages=coverages,
        payers=payers,
        authorizations=auths,
        today=TODAY,
    )
    return context, sessions


def _nothing(_session: ClientSession, _target: ClaimTarget) -> Sequence[Any]:
    return ()


def render(claims: Any) -> str:
    return to_837p(
        claims,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        interchange_control_number=17,
        group_control_number=17,
        created_at=CREATED,
        usage="T",
        newlines=True,
    )


SLOW = settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a pyx12 failure takes minutes
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)


@pytest.mark.slow
@SLOW
@given(world=worlds())
def test_every_837p_from_valid_sessions_is_accepted(
    world: tuple[ClaimContext, list[ClientSession]], pyx12_log: _Capture
) -> None:
    """Claims from any valid sessions, dependants, overrides and resubmissions give an 837P pyx12 accepts."""
    context, sessions = world
    assert_accepted(
        render(build_claims(sessions, context, ClaimTarget.X12_837P, readiness_check=_nothing)), pyx12_log
    )


@pytest.mark.slow
@SLOW
@given(world=worlds())
def test_sessions_readiness_calls_ready_make_an_accepted_837p(
    world: tuple[ClaimContext, list[ClientSession]], pyx12_log: _Capture
) -> None:
    """The sessions sessionkit.readiness calls ready for 837P pass its own gate and give an accepted 837P."""
    readiness = pytest.importorskip("sessionkit.readiness")
    if not hasattr(readiness, "check"):
        pytest.skip("sessionkit.readiness.check is not available yet")
    context, sessions = world
    from sessionkit.claims import readiness_gate

    gate = readiness_gate(context, sessions)
    ready = [s for s in sessions if not gate(s, ClaimTarget.X12_837P)]
    assume(ready)
    assert_accepted(render(build_claims(ready, context, ClaimTarget.X12_837P)), pyx12_log)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.837p.x12")), ids=lambda p: p.name)
def test_golden_files_are_accepted(path: Path, pyx12_log: _Capture) -> None:
    """Every golden 837P file is accepted by pyx12."""
    assert_accepted(path.read_text(encoding="utf-8"), pyx12_log)


def test_a_broken_file_is_rejected(pyx12_log: _Capture) -> None:
    """The check can fail: an 837P without its HI segment is not accepted."""
    text = (GOLDEN / "simple.837p.x12").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("HI*")]
    count = int(next(ln for ln in lines if ln.startswith("SE*")).split("*")[1])
    broken = "\n".join(ln.replace(f"SE*{count}*", f"SE*{count - 1}*") for ln in lines) + "\n"
    with pytest.raises(AssertionError):
        assert_accepted(broken, pyx12_log)
