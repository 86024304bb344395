"""Tests for sessionkit.codes: identifiers, small code sets and behavioural-health rules."""

from __future__ import annotations

import importlib.util
import string
from datetime import date
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionkit.codes import behavioral, ein, hcpcs, icd10, modifier, npi, pos, usps, zipcode
from sessionkit.errors import (
    InvalidBillingCode,
    InvalidDiagnosisCode,
    InvalidEIN,
    InvalidModifier,
    InvalidNPI,
    InvalidPlaceOfService,
    InvalidValue,
)

MODULES: list[tuple[ModuleType, type[InvalidValue], str]] = [
    (npi, InvalidNPI, "npi"),
    (icd10, InvalidDiagnosisCode, "icd10"),
    (hcpcs, InvalidBillingCode, "hcpcs"),
    (modifier, InvalidModifier, "modifier"),
    (pos, InvalidPlaceOfService, "pos"),
    (ein, InvalidEIN, "ein"),
    (usps, InvalidValue, "usps"),
    (zipcode, InvalidValue, "zipcode"),
]
MODULE_IDS = [name for _, _, name in MODULES]

DIGITS = string.digits
ALNUM = string.ascii_letters + string.digits
SENTINEL = "ZZSECRET"

# --- strategies for well-formed codes (random case and separators where allowed) ---


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


@st.composite
def valid_npis(draw: st.DrawFn) -> str:
    """Draw a valid NPI."""
    first9 = draw(st.sampled_from("12")) + draw(_digits(8))
    return first9 + npi.calc_check_digit(first9)


valid_eins = _digits(9).flatmap(lambda d: st.sampled_from([d, f"{d[:2]}-{d[2:]}", f" {d} "]))
valid_hcpcs = st.one_of(
    _digits(5),
    st.tuples(_digits(4), st.sampled_from("FTUftu")).map("".join),
    st.tuples(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVabcdefghijklmnopqrstuv"), _digits(4)).map("".join),
)
valid_modifiers = st.text(ALNUM, min_size=2, max_size=2)
valid_pos = st.sampled_from(sorted(pos.NAMES))


@st.composite
def valid_icd10s(draw: st.DrawFn) -> str:
    """Draw a well-formed ICD-10-CM code, with or without the dot, in any case."""
    head = (
        draw(st.sampled_from(string.ascii_letters))
        + draw(st.sampled_from(DIGITS))
        + draw(st.sampled_from(ALNUM))
    )
    tail = draw(st.text(ALNUM, max_size=4))
    dot = "." if tail and draw(st.booleans()) else ""
    return head + dot + tail


VALID_STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "npi": valid_npis(),
    "icd10": valid_icd10s(),
    "hcpcs": valid_hcpcs,
    "modifier": valid_modifiers,
    "pos": valid_pos,
    "ein": valid_eins,
    "usps": st.sampled_from(sorted(usps.NAMES)).flatmap(lambda c: st.sampled_from([c, c.lower(), f" {c} "])),
    "zipcode": st.one_of(_digits(5), _digits(9), st.tuples(_digits(5), _digits(4)).map("-".join)),
}

anything = st.one_of(
    st.text(),
    st.integers(),
    st.none(),
    st.binary(),
    st.floats(allow_nan=True),
    st.lists(st.text(max_size=3), max_size=3),
    st.from_type(object),
)

# --- table-driven examples ---

VALID_EXAMPLES = [
    (npi, "1234567893", "1234567893", "1234567893"),
    (npi, " 1234-567-893 ", "1234567893", "1234567893"),
    (npi, "2000000002", "2000000002", "2000000002"),
    (ein, "12-3456789", "123456789", "12-3456789"),
    (ein, "123456789", "123456789", "12-3456789"),
    (hcpcs, "90837", "90837", "90837"),
    (hcpcs, " 0591t ", "0591T", "0591T"),
    (hcpcs, "g0444", "G0444", "G0444"),
    (hcpcs, "V2020", "V2020", "V2020"),
    (modifier, "95", "95", "95"),
    (modifier, "gt", "GT", "GT"),
    (modifier, " u4 ", "U4", "U4"),
    (pos, "11", "11", "11"),
    (pos, " 02 ", "02", "02"),
    (pos, "99", "99", "99"),
    (icd10, "f411", "F41.1", "F41.1"),
    (icd10, "F41.1", "F41.1", "F41.1"),
    (icd10, "F32A", "F32.A", "F32.A"),
    (icd10, "S72001A", "S72.001A", "S72.001A"),
    (icd10, "F41", "F41", "F41"),
    (icd10, "U07.1", "U07.1", "U07.1"),
    (icd10, " f43.23 ", "F43.23", "F43.23"),
    (usps, "ny", "NY", "NY"),
    (usps, " D.C. ", "DC", "DC"),
    (usps, "PR", "PR", "PR"),
    (usps, "ae", "AE", "AE"),
    (zipcode, "10001", "10001", "10001"),
    (zipcode, "10001-0001", "100010001", "10001-0001"),
    (zipcode, " 100010001 ", "100010001", "10001-0001"),
]

INVALID_EXAMPLES = [
    (npi, "1234567890", "npi.checksum"),
    (npi, "123456789", "npi.length"),
    (npi, "12345678931", "npi.length"),
    (npi, "", "npi.format"),
    (npi, "12345678X3", "npi.format"),
    (npi, "١٢٣٤٥٦٧٨٩٣", "npi.format"),
    (npi, "3234567893", "npi.first_digit"),
    (ein, "12345678", "ein.length"),
    (ein, "12345678A", "ein.format"),
    (hcpcs, "9083", "hcpcs.length"),
    (hcpcs, "908371", "hcpcs.length"),
    (hcpcs, "9083X", "hcpcs.format"),
    (hcpcs, "W1234", "hcpcs.format"),
    (hcpcs, "A123B", "hcpcs.format"),
    (modifier, "9", "modifier.length"),
    (modifier, "959", "modifier.length"),
    (modifier, "9*", "modifier.format"),
    (pos, "3", "pos.length"),
    (pos, "011", "pos.length"),
    (pos, "1A", "pos.format"),
    (pos, "00", "pos.unassigned"),
    (pos, "30", "pos.unassigned"),
    (icd10, "F4", "icd10.length"),
    (icd10, "F41.12345", "icd10.length"),
    (icd10, "141.1", "icd10.format"),
    (icd10, "FA1.1", "icd10.format"),
    (icd10, "F4.11", "icd10.dot"),
    (icd10, "F41.", "icd10.dot"),
    (icd10, "F41..1", "icd10.dot"),
    (icd10, "garbage", "icd10.format"),
    (usps, "XX", "usps.unknown"),
    (usps, "QC", "usps.unknown"),
    (usps, "N", "usps.format"),
    (usps, "N1", "usps.format"),
    (usps, "NYC", "usps.format"),
    (zipcode, "1000", "zipcode.length"),
    (zipcode, "100011", "zipcode.length"),
    (zipcode, "1000A", "zipcode.format"),
]


@pytest.mark.parametrize(("module", "raw", "normal", "display"), VALID_EXAMPLES)
def test_valid_examples(module: ModuleType, raw: str, normal: str | None, display: str | None) -> None:
    """Known good values validate to their normal form and format to their display form."""
    assert module.is_valid(raw)
    if normal is not None:
        assert module.validate(raw) == normal
    if display is not None:
        assert module.format(raw) == display


@pytest.mark.parametrize(("module", "raw", "code"), INVALID_EXAMPLES)
def test_invalid_examples(module: ModuleType, raw: str, code: str) -> None:
    """Known bad values are rejected with the specific dotted error code."""
    assert not module.is_valid(raw)
    with pytest.raises(InvalidValue) as info:
        module.validate(raw)
    assert info.value.code == code


@pytest.mark.parametrize(("module", "error", "name"), MODULES, ids=MODULE_IDS)
@pytest.mark.parametrize("value", [None, 1234567893, b"11", 3.5, ["F41.1"]])
def test_non_str_raises_type_code(
    module: ModuleType, error: type[InvalidValue], name: str, value: object
) -> None:
    """Non-string input raises the module's error with code ``<module>.type``."""
    with pytest.raises(error) as info:
        module.validate(value)
    assert info.value.code == f"{name}.type"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("module", "error", "name"), MODULES, ids=MODULE_IDS)
@given(value=anything)
def test_is_valid_never_raises(
    module: ModuleType, error: type[InvalidValue], name: str, value: object
) -> None:
    """``is_valid`` returns a bool for any input whatsoever."""
    assert isinstance(module.is_valid(value), bool)


@pytest.mark.parametrize(("module", "error", "name"), MODULES, ids=MODULE_IDS)
@given(value=st.text())
def test_compact_never_raises_and_validate_raises_own_error(
    module: ModuleType, error: type[InvalidValue], name: str, value: str
) -> None:
    """``compact`` never raises for text; ``validate`` either succeeds or raises the module's error."""
    assert isinstance(module.compact(value), str)
    if module.is_valid(value):
        assert module.is_valid(module.validate(value))
    else:
        with pytest.raises(error) as info:
            module.validate(value)
        assert info.value.code.startswith(f"{name}.")


@pytest.mark.parametrize(("module", "error", "name"), MODULES, ids=MODULE_IDS)
@given(data=st.data())
def test_validate_idempotent_and_format_round_trips(
    module: ModuleType, error: type[InvalidValue], name: str, data: st.DataObject
) -> None:
    """For valid codes, validate is idempotent and validate(format(x)) == validate(x)."""
    value = data.draw(VALID_STRATEGIES[name])
    normal = module.validate(value)
    assert module.validate(normal) == normal
    assert module.validate(module.format(value)) == normal
    assert module.validate(module.compact(value)) == normal


@pytest.mark.parametrize(("module", "error", "name"), MODULES, ids=MODULE_IDS)
@given(extra=st.text(max_size=20), where=st.sampled_from(["prefix", "suffix", "alone"]))
def test_error_messages_never_contain_input(
    module: ModuleType, error: type[InvalidValue], name: str, extra: str, where: str
) -> None:
    """Error messages never echo the offending value (client data rule)."""
    value = {"prefix": SENTINEL + extra, "suffix": extra + SENTINEL, "alone": SENTINEL}[where]
    with pytest.raises(error) as info:
        module.validate(value)
    assert SENTINEL not in str(info.value)
    assert SENTINEL not in info.value.message
    assert SENTINEL not in repr(info.value)


# --- npi ---


@given(first9=st.sampled_from("12").flatmap(lambda d: _digits(8).map(lambda rest: d + rest)))
def test_npi_generated_check_digit_valid_and_single_digit_change_invalid(first9: str) -> None:
    """A prefix plus calc_check_digit is valid; changing any one digit makes it invalid."""
    number = first9 + npi.calc_check_digit(first9)
    assert npi.validate(number) == number
    for position in range(10):
        for digit in DIGITS:
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1 :]
            assert not npi.is_valid(changed)


@pytest.mark.parametrize(("first9", "code"), [("12345678", "npi.length"), ("12345678A", "npi.format")])
def test_npi_calc_check_digit_rejects_bad_prefix(first9: str, code: str) -> None:
    """calc_check_digit needs exactly 9 digits."""
    with pytest.raises(InvalidNPI) as info:
        npi.calc_check_digit(first9)
    assert info.value.code == code


# --- hcpcs ---


@pytest.mark.parametrize(
    ("code", "expected"),
    [("90837", "cpt"), ("0591T", "cpt"), ("3074F", "cpt"), ("G0444", "hcpcs"), ("h0031", "hcpcs")],
)
def test_hcpcs_kind(code: str, expected: str) -> None:
    """kind tells CPT codes from HCPCS Level II codes."""
    assert hcpcs.kind(code) == expected


# --- modifier ---


def test_modifier_common_covers_domain_list() -> None:
    """COMMON has a meaning for every modifier listed in DOMAIN.md section 5."""
    listed = {"95", "93", "FQ", "GT", "59", "XE", "XS", "XP", "XU", "25", "HO", "HN", "HP", "AH", "AJ"}
    listed |= {"HE", "HQ", "HR", "HS", "KX", "GA", "GY", "GZ", "52", "53", "76"}
    listed |= {f"U{c}" for c in "123456789ABCD"}
    assert set(modifier.COMMON) == listed
    assert all(modifier.is_valid(code) and modifier.COMMON[code] for code in listed)


@pytest.mark.parametrize(("code", "known"), [("95", True), (" gt", True), ("ZZ", False), ("bad!", False)])
def test_modifier_describe(code: str, known: bool) -> None:
    """describe returns a meaning for common modifiers and None otherwise."""
    assert (modifier.describe(code) is not None) is known


# --- pos ---


def test_pos_names_are_the_assigned_codes() -> None:
    """NAMES holds exactly the assigned CMS place-of-service codes."""
    assigned = {f"{n:02d}" for n in [*range(1, 28), 31, 32, 33, 34, 41, 42, *range(49, 59)]}
    assigned |= {"60", "61", "62", "65", "66", "71", "72", "81", "99"}
    assert set(pos.NAMES) == assigned
    assert pos.name("11") == "Office"
    assert pos.name("12") == "Home"
    assert pos.name("03") == "School"
    assert pos.name("53") == "Community Mental Health Center"


@pytest.mark.parametrize(
    ("code", "expected"), [("02", True), ("10", True), ("11", False), ("2", False), (None, False)]
)
def test_pos_is_telehealth(code: object, expected: bool) -> None:
    """Only 02 and 10 are telehealth places of service."""
    assert pos.is_telehealth(code) is expected
    assert frozenset({"02", "10"}) == pos.TELEHEALTH


def test_pos_name_rejects_unassigned() -> None:
    """name raises for an unassigned code."""
    with pytest.raises(InvalidPlaceOfService):
        pos.name("30")


# --- usps, zipcode, ein prefixes ---


def test_usps_codes_are_states_dc_territories_and_military() -> None:
    """The code set is the 50 states, DC, PR, VI, GU, AS, MP and AA/AE/AP."""
    assert len(usps.STATES) == 50
    assert set(usps.TERRITORIES) == {"DC", "PR", "VI", "GU", "AS", "MP"}
    assert set(usps.MILITARY) == {"AA", "AE", "AP"}
    assert len(usps.NAMES) == 59


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PO Box 12", True),
        ("P.O. Box 12", True),
        ("p o box 12", True),
        ("POB 77", True),
        ("Post Office Box 9", True),
        ("Lock Box 4410", True),
        ("Lockbox 4410", True),
        ("PO Drawer 5", True),
        ("Box 3", True),
        ("Firm Caller 8", True),
        ("12 Main St", False),
        ("12 Boxwood Lane", False),
        ("500 Post Rd", False),
        ("1 Boxer Rd", False),
        ("Pobox 12", True),
        ("Suite 200", False),
        ("", False),
        (None, False),
    ],
)
def test_usps_is_po_box(line: object, expected: bool) -> None:
    """Post-office boxes, lock boxes, drawers and caller services are recognised; streets are not."""
    assert usps.is_po_box(line) is expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("10001-0001", True), ("100010001", True), ("10001", False), ("x", False), (5, False)],
)
def test_zipcode_is_zip_plus_4(number: object, expected: bool) -> None:
    """Only a 9-digit ZIP is ZIP+4."""
    assert zipcode.is_zip_plus_4(number) is expected


def test_ein_prefixes() -> None:
    """EINs with prefixes the IRS issues pass has_irs_prefix; unissued prefixes and junk do not."""
    assert len(ein.PREFIXES) == 83
    assert ein.has_irs_prefix("12-3456789")
    assert ein.has_irs_prefix("990000000")
    for prefix in (
        "00",
        "07",
        "08",
        "09",
        "17",
        "18",
        "19",
        "28",
        "29",
        "49",
        "69",
        "70",
        "78",
        "79",
        "89",
        "96",
        "97",
    ):
        assert not ein.has_irs_prefix(f"{prefix}1234567")
    assert not ein.has_irs_prefix("12")
    assert not ein.has_irs_prefix(None)


# --- icd10 ---


@pytest.mark.parametrize(
    ("code", "x12"), [("F41.1", "F411"), ("f32.a", "F32A"), ("S72.001A", "S72001A"), ("F41", "F41")]
)
def test_icd10_to_x12_and_compact_have_no_dot(code: str, x12: str) -> None:
    """to_x12 and compact give the undotted form."""
    assert icd10.to_x12(code) == x12
    assert icd10.compact(code) == x12


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("S72.001S", True),
        ("s72001s", True),
        ("S72.001A", False),
        ("F41.1", False),
        ("bad", False),
        (7, False),
    ],
)
def test_icd10_is_sequela(code: object, expected: bool) -> None:
    """is_sequela is true only for 7-character codes ending in S."""
    assert icd10.is_sequela(code) is expected


def test_icd10_default_code_set_is_the_shipped_table_even_without_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without simple-icd-10-cm the default code set is still there (the shipped history table, latest
    release); only SimpleIcd10CmCodeSet needs the package, and says which extra to install."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    code_set = icd10.default_code_set()
    assert code_set is icd10.history()
    assert (code_set.is_billable("F41.1"), code_set.is_billable("F41"), code_set.is_valid("F41")) == (
        True,
        False,
        True,
    )
    assert code_set.release == icd10.history().releases[-1].label
    with pytest.raises(ImportError, match=r"pip install 'sessionkit-billing\[icd10\]'"):
        icd10.SimpleIcd10CmCodeSet()


def test_icd10_simple_code_set() -> None:
    """The simple-icd-10-cm code set knows which codes exist and which are billable."""
    pytest.importorskip("simple_icd_10_cm")
    code_set = icd10.SimpleIcd10CmCodeSet()
    assert isinstance(code_set, icd10.DiagnosisCodeSet)
    assert code_set.release == "code-list-April-2026 (simple-icd-10-cm)"  # read from the package's file
    assert code_set.is_valid("F41.1")
    assert code_set.is_billable("F41.1")
    assert code_set.is_billable("f411")
    assert code_set.is_valid("F41")
    assert not code_set.is_billable("F41")
    assert code_set.is_valid("F43.2")
    assert not code_set.is_billable("F43.2")
    assert not code_set.is_valid("garbage")
    assert not code_set.is_billable("garbage")
    assert not code_set.is_valid("F40-F48")
    assert not code_set.is_valid(None)  # type: ignore[arg-type]


def test_icd10_history_f32a_from_fy2022() -> None:
    """F32.A is not billable while the FY2021 release was in force, and is in the 2025 and 2026 releases."""
    history = icd10.history()
    assert history.valid_on("F32.A", date(2021, 1, 1)) is False
    assert history.valid_on("F32.A", date(2021, 9, 30)) is False
    assert history.valid_on("f32a", date(2025, 4, 1)) is True
    assert history.valid_on("F32.A", date(2026, 9, 30)) is True
    # Between 2021-10 and 2025-03 the table saw it appear but not when: unknown, not a guess.
    assert history.valid_on("F32.A", date(2023, 6, 1)) is None


def test_icd10_history_releases_come_from_the_data() -> None:
    """The table knows its releases, oldest first, each in force until the next scheduled release."""
    releases = icd10.history().releases
    assert [r.effective for r in releases] == [date(2021, 1, 1), date(2025, 4, 1), date(2026, 4, 1)]
    assert [r.through for r in releases] == [date(2021, 9, 30), date(2025, 9, 30), date(2026, 9, 30)]
    assert releases[0].label.startswith("FY2021")
    assert releases[-1].label.startswith("FY2026")
    assert icd10.history().release == releases[-1].label
    assert icd10.history().release_on(date(2025, 5, 5)) == releases[1]
    assert icd10.history().release_on(date(2024, 5, 5)) is None


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("F41.1", date(2021, 3, 1), True),
        ("F41.1", date(2023, 3, 1), True),  # billable in the releases on both sides
        ("F41.1", date(2020, 12, 31), None),  # before the first release the table holds
        ("F41.1", date(2026, 10, 1), None),  # after the last
        ("F41", date(2025, 5, 1), False),  # a category, not billable
        ("F43.2", date(2025, 5, 1), False),
        ("Z20.822", date(2021, 2, 1), True),  # the January 2021 update
        ("R05", date(2021, 2, 1), True),  # billable in FY2021, expanded since
        ("R05", date(2025, 5, 1), False),
        ("R05", date(2023, 5, 1), None),  # changed between the releases: unknown
        ("ZZZ", date(2025, 5, 1), False),  # well-formed, never a code
        ("garbage!", date(2025, 5, 1), False),
    ],
)
def test_icd10_history_valid_on(code: str, day: date, expected: bool | None) -> None:
    """valid_on answers True/False inside what the table knows and None outside it."""
    assert icd10.history().valid_on(code, day) is expected


def test_icd10_history_exists_on_and_code_set() -> None:
    """exists_on counts non-billable codes; the history is a code set for the latest release."""
    history = icd10.history()
    assert history.exists_on("F41", date(2025, 5, 1)) is True
    assert history.exists_on("F32.A", date(2021, 5, 1)) is False
    assert isinstance(history, icd10.DiagnosisCodeSet)
    assert history.is_billable("F41.1")
    assert history.is_valid("F41")
    assert not history.is_billable("F41")
    assert not history.is_valid(None)  # type: ignore[arg-type]


@given(anything)
def test_icd10_history_never_raises(value: object) -> None:
    """valid_on is False for anything that is not a well-formed code, never an exception."""
    if not icd10.is_valid(value):
        assert icd10.history().valid_on(value, date(2025, 5, 1)) is False  # type: ignore[arg-type]


def test_icd10_history_rejects_a_damaged_table() -> None:
    """A table without the header or with a cut record is refused."""
    with pytest.raises(ValueError, match="not a sessionkit"):
        icd10.IcdHistory("hello").releases  # noqa: B018 (the property loads)
    with pytest.raises(ValueError, match="damaged"):
        icd10.IcdHistory("#sessionkit icd10cm history 2\nR\t2025-04\tx\nF411   bb\n").releases  # noqa: B018


def test_icd10_history_agrees_with_simple_icd_10_cm() -> None:
    """The latest release in the table answers as the installed simple-icd-10-cm 1.5 does."""
    module = pytest.importorskip("simple_icd_10_cm")
    history = icd10.history()
    codes = module.get_all_codes(False)[::97]
    for code in codes:
        if module.is_chapter_or_block(code):
            continue
        assert history.is_billable(code) is bool(module.is_leaf(code)), code


def test_icd10_next_release_date() -> None:
    """Releases take effect October 1, and April 1 since 2023."""
    assert icd10.next_release_date(date(2021, 1, 1)) == date(2021, 10, 1)
    assert icd10.next_release_date(date(2021, 10, 1)) == date(2022, 10, 1)
    assert icd10.next_release_date(date(2022, 10, 1)) == date(2023, 4, 1)
    assert icd10.next_release_date(date(2025, 4, 1)) == date(2025, 10, 1)


def test_icd10_protocol_docstring() -> None:
    """The DiagnosisCodeSet protocol is documented as a protocol."""
    assert (icd10.DiagnosisCodeSet.__doc__ or "").startswith("**Protocol:**")


# --- behavioral ---


@pytest.mark.parametrize("minutes", range(601))
def test_suggest_psychotherapy_code_ranges(minutes: int) -> None:
    """suggest_psychotherapy_code follows 16-37 / 38-52 / 53+ minutes."""
    expected: str | None
    if minutes < 16:
        expected = None
    elif minutes <= 37:
        expected = "90832"
    elif minutes <= 52:
        expected = "90834"
    else:
        expected = "90837"
    assert behavioral.suggest_psychotherapy_code(minutes) == expected
    if expected is not None:
        assert behavioral.minutes_in_range(expected, minutes) is True
        assert behavioral.time_mismatch(expected, minutes) is None


@pytest.mark.parametrize(
    ("code", "minutes", "expected"),
    [
        ("90837", 45, "90834"),
        ("90834", 60, "90837"),
        ("90832", 45, "90834"),
        ("90834", 45, None),
        ("90834", 10, None),
        ("90838", 30, "90833"),
        ("90833", 55, "90838"),
        ("90836", 40, None),
        ("90839", 20, None),
        ("90839", 60, None),
        ("90791", 90, None),
        ("90853", 5, None),
        ("99213", 45, None),
    ],
)
def test_time_mismatch(code: str, minutes: int, expected: str | None) -> None:
    """time_mismatch suggests the code the minutes fit, within the code's family."""
    assert behavioral.time_mismatch(code, minutes) == expected


@pytest.mark.parametrize(
    ("code", "minutes", "expected"),
    [
        ("90832", 15, False),
        ("90832", 16, True),
        ("90839", 29, False),
        ("90839", 30, True),
        ("90839", 74, True),
        ("90846", 25, False),
        ("90847", 26, True),
        ("90791", 60, None),
        ("99213", 60, None),
    ],
)
def test_minutes_in_range(code: str, minutes: int, expected: bool | None) -> None:
    """minutes_in_range checks the time rule and is None for untimed codes."""
    assert behavioral.minutes_in_range(code, minutes) is expected


@pytest.mark.parametrize(
    ("primary", "add_ons", "problems"),
    [
        ("90839", ["90785"], [(0, "add_on.excluded_pair")]),
        ("99213", ["90833"], []),
        ("90834", ["90833"], [(0, "add_on.excluded_pair")]),
        ("90839", ["90840"], []),
        ("90834", ["90785"], []),
        ("99213", ["90785"], [(0, "add_on.primary_not_allowed")]),
        ("99213", ["90833", "90785"], []),
        ("90834", ["90840"], [(0, "add_on.excluded_pair")]),
        ("90791", ["90863"], [(0, "add_on.primary_not_allowed")]),
        ("90832", ["90863"], []),
        ("99213", ["90834"], [(0, "add_on.not_an_add_on")]),
        ("90847", ["90785"], [(0, "add_on.excluded_pair")]),
        (
            "90839",
            ["90840", "90785"],
            [(0, "add_on.excluded_pair"), (1, "add_on.excluded_pair"), (1, "add_on.excluded_pair")],
        ),
    ],
)
def test_pairing_problems(primary: str, add_ons: list[str], problems: list[tuple[int, str]]) -> None:
    """pairing_problems reports each add-on that may not go with its primary or its neighbours."""
    found = behavioral.pairing_problems(primary, add_ons)
    assert sorted((i, code) for i, code, _ in found) == sorted(problems)


def test_pairing_problem_with_two_add_ons_flags_both() -> None:
    """Two add-ons that exclude each other are both flagged."""
    found = behavioral.pairing_problems("90839", ["90840", "90785"])
    assert {(i, code) for i, code, _ in found} == {(0, "add_on.excluded_pair"), (1, "add_on.excluded_pair")}


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["90834", "90839"], [("90834", "90839", "same_day.excluded_pair")]),
        (["90839", "90839"], [("90839", "90839", "same_day.once_per_day")]),
        (["90791", "90834"], []),
        (["90791", "90840"], [("90791", "90840", "same_day.excluded_pair")]),
        (["99213", "90833"], []),
        (["90837", "90833"], [("90833", "90837", "same_day.excluded_pair")]),
        (["90834", "90834"], []),
    ],
)
def test_same_day_conflicts(codes: list[str], expected: list[tuple[str, str, str]]) -> None:
    """same_day_conflicts finds excluded pairs and repeated once-per-day codes."""
    assert behavioral.same_day_conflicts(codes) == expected


def test_catalogue_consistency() -> None:
    """The catalogue is complete, add-ons have primaries, exclusions are symmetric."""
    expected = {
        "90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90839",
        "90840", "90785", "90845", "90846", "90847", "90849", "90853", "90863",
    }  # fmt: skip
    assert set(behavioral.CATALOGUE) == expected
    for code, r in behavioral.CATALOGUE.items():
        assert r.code == code
        assert behavioral.is_add_on(code) is r.add_on
        assert bool(r.allowed_primaries) is r.add_on
        assert r.note
        for other in r.excluded_with:
            assert code in behavioral.CATALOGUE[other].excluded_with
    for code in ("90833", "90836", "90838"):
        allowed = behavioral.CATALOGUE[code].allowed_primaries
        assert {"99202", "99213", "99255", "99304", "99350"} <= allowed
        assert not {"99201", "99256", "99303", "99351", "90834"} & allowed
    assert behavioral.rule(" 90837 ") is behavioral.CATALOGUE["90837"]
    assert behavioral.rule("99213") is None
    assert not behavioral.is_add_on("99213")


@given(code=anything)
def test_behavioral_lookups_never_raise(code: object) -> None:
    """rule and is_add_on accept anything without raising."""
    assert isinstance(behavioral.is_add_on(code), bool)  # type: ignore[arg-type]
    behavioral.rule(code)  # type: ignore[arg-type]


@given(
    first=st.dates(date(2019, 1, 1), date(2028, 12, 31)),
    second=st.dates(date(2019, 1, 1), date(2028, 12, 31)),
    code=st.sampled_from(["F32.A", "F41.1", "F43.23", "F32.9", "F41", "Z63.0", "F32.89", "U07.1"]),
)
def test_days_of_one_icd10_period_give_one_answer(first: date, second: date, code: str) -> None:
    """IcdHistory.period groups days on which every code stands the same: the fused checker keys its
    remembered answers by it, so two days of one period must give the same answers."""
    history = icd10.history()
    if history.period(first) == history.period(second):
        assert history.valid_on(code, first) == history.valid_on(code, second)
        assert history.exists_on(code, first) == history.exists_on(code, second)
    assert (history.period(first) < history.period(second)) <= (first < second)
