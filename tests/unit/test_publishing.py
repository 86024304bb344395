"""Ready to publish (issue 21): missing extras and zone data in one line, target spellings, JSON versions."""

from __future__ import annotations

import importlib
import json
import pickle
import re
import sys
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionkit import _extras, cli
from sessionkit._extras import MissingExtra, MissingZoneData, install_command
from sessionkit.errors import InvalidValue, SessionkitError
from sessionkit.ports import SystemClock
from sessionkit.readiness import Target

PIP_ICAL = "python -m pip install 'sessionkit-billing[ical]'"
PIP_TESTING = "python -m pip install 'sessionkit-billing[testing]'"


@pytest.fixture
def no_zone_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This Python as one without system zoneinfo and without the tzdata package."""
    for name in [n for n in sys.modules if n == "tzdata" or n.startswith("tzdata.")]:
        monkeypatch.delitem(sys.modules, name)  # loaded zone packages would still resolve
    monkeypatch.setitem(sys.modules, "tzdata", None)
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    _extras._zone_data_missing.cache_clear()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
        _extras._zone_data_missing.cache_clear()


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` unimportable and forget sessionkit modules that imported them."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("sessionkit.adapters.ics", "sessionkit.testing", "sessionkit.testing.contract"):
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.mark.parametrize(
    ("module", "missing", "command"),
    [
        ("sessionkit.adapters.ics", "icalendar", PIP_ICAL),
        ("sessionkit.adapters.ics", "recurring_ical_events", PIP_ICAL),
        ("sessionkit.testing", "hypothesis", PIP_TESTING),
        ("sessionkit.testing.contract", "pytest", PIP_TESTING),
    ],
)
def test_a_module_without_its_extra_names_the_pip_install(
    monkeypatch: pytest.MonkeyPatch, module: str, missing: str, command: str
) -> None:
    """Importing a module whose extra is missing raises MissingExtra (also an ImportError) naming the command."""
    _without(monkeypatch, missing)
    with pytest.raises(MissingExtra) as caught:
        importlib.import_module(module)
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, SessionkitError)
    assert caught.value.code == "extra.missing"
    assert caught.value.message.endswith(command)
    assert "\n" not in str(caught.value)


def test_an_unrelated_missing_module_is_not_blamed_on_an_extra() -> None:
    """reraise_missing leaves a ModuleNotFoundError of another module alone (the caller re-raises it)."""
    exc = ModuleNotFoundError("no module", name="somewhere_else")
    assert _extras.reraise_missing(exc, "ical", "x") is None
    with pytest.raises(MissingExtra):
        _extras.reraise_missing(ModuleNotFoundError("no", name="icalendar.cal"), "ical", "x")


def test_missing_extra_pickles_with_its_code_and_field() -> None:
    """MissingExtra survives pickling (code, field and message)."""
    error = MissingExtra(f"x needs the ical extra: {install_command('ical')}", field="ical")
    back = pickle.loads(pickle.dumps(error))
    assert (back.message, back.code, back.field) == (error.message, "extra.missing", "ical")


def test_require_passes_an_installed_extra_and_refuses_a_missing_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """require() passes for an installed extra and raises MissingExtra for one whose module is missing."""
    assert _extras.require("ical", "x") is None
    assert _extras.missing_modules("ical") == ()
    monkeypatch.setitem(sys.modules, "recurring_ical_events", None)
    assert _extras.missing_modules("ical") == ("recurring_ical_events",)
    with pytest.raises(MissingExtra) as caught:
        _extras.require("ical", "sessionkit demo")
    assert caught.value.message == f"sessionkit demo needs the ical extra: {PIP_ICAL}"
    assert caught.value.field == "ical"


def test_demo_without_the_ical_extra_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """demo checks its extra first: exit 2, one line naming the pip install, and no database file."""
    _without(monkeypatch, "icalendar")
    db = tmp_path / "demo.db"
    assert cli.main(["demo", "--db", str(db)]) == cli.EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert not db.exists()
    assert list(tmp_path.iterdir()) == []
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert PIP_ICAL in lines[0]
    assert "extra.missing" in lines[0]


def test_system_clock_names_an_unknown_zone() -> None:
    """An unknown zone name is an InvalidValue (time_zone.unknown), not a raw ZoneInfoNotFoundError."""
    with pytest.raises(InvalidValue) as caught:
        SystemClock("America/Nowhere")
    assert (caught.value.code, caught.value.field) == ("time_zone.unknown", "time_zone")
    assert SystemClock("America/Chicago").zone.key == "America/Chicago"


@pytest.mark.usefixtures("no_zone_data")
def test_system_clock_without_zone_data_says_install_tzdata() -> None:
    """With no zone data at all, SystemClock raises MissingZoneData naming tzdata."""
    with pytest.raises(MissingZoneData) as caught:
        SystemClock("America/Chicago")
    assert caught.value.code == "time_zone.no_data"
    assert "pip install tzdata" in caught.value.message
    assert isinstance(caught.value, zoneinfo.ZoneInfoNotFoundError)


def test_check_without_zone_data_is_not_a_damaged_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    """check on a good database with no zone data: one line saying install tzdata, not document.invalid."""
    db = tmp_path / "practice.db"
    assert cli.main(["demo", "--db", str(db)]) == 0
    capsys.readouterr()
    request.getfixturevalue("no_zone_data")
    assert cli.main(["check", "--db", str(db)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "time_zone.no_data" in err
    assert "pip install tzdata" in err
    assert "document.invalid" not in err


@pytest.mark.parametrize(
    ("spelling", "target"),
    [
        ("x12_837p", Target.X12_837P),
        ("837p", Target.X12_837P),
        ("837P", Target.X12_837P),
        ("cms1500", Target.CMS1500),
        ("cms-1500", Target.CMS1500),
        ("client_invoice", Target.CLIENT_INVOICE),
        ("invoice", Target.CLIENT_INVOICE),
    ],
)
def test_check_target_takes_the_api_spelling_and_its_aliases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str, target: Target
) -> None:
    """--target accepts the enum values (as JSON writes them) and the short command-line spellings."""
    db = tmp_path / "practice.db"
    assert cli.main(["demo", "--db", str(db)]) == 0
    capsys.readouterr()
    cli.main(["check", "--db", str(db), "--format", "json", "--target", spelling])
    document = json.loads(capsys.readouterr().out)
    assert list(document["targets"]) == [target.value]
    assert (document["format"], document["format_version"]) == ("sessionkit.check", cli.CHECK_FORMAT_VERSION)


def test_check_refuses_an_unknown_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --target is a usage error naming the accepted spellings."""
    assert cli.main(["check", "--db", str(tmp_path / "x.db"), "--target", "fax"]) == cli.EXIT_BAD_INPUT
    assert "x12_837p" in capsys.readouterr().err


def test_the_contract_suite_carries_its_own_hypothesis_settings() -> None:
    """Every hypothesis test of the contract suite runs without a deadline and without the too_slow check."""
    from hypothesis import HealthCheck

    from sessionkit.testing.contract import UnitOfWorkContract

    tests = [
        getattr(UnitOfWorkContract, name)
        for name in dir(UnitOfWorkContract)
        if name.startswith("test_") and hasattr(getattr(UnitOfWorkContract, name), "hypothesis")
    ]
    assert tests
    for test in tests:
        chosen = test._hypothesis_internal_use_settings
        assert chosen.deadline is None
        assert HealthCheck.too_slow in chosen.suppress_health_check
        assert HealthCheck.differing_executors in chosen.suppress_health_check


ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_links_only_to_absolute_addresses() -> None:
    """README links work on a package index page: every Markdown link is absolute."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links
    assert [link for link in links if not link.startswith("https://")] == []


def test_the_api_reference_gives_the_sqlite_schema_version_in_force() -> None:
    """docs/api.md names the SQLite schema version the code writes."""
    from sessionkit.adapters.sqlite import SCHEMA_VERSION

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert f"(`PRAGMA user_version`): `{SCHEMA_VERSION}`." in text


def test_the_distribution_metadata_keeps_production_installs_small() -> None:
    """pyproject: its own name, tzdata always, `all` without test tools, an upper cap only with a reason."""
    tomllib = pytest.importorskip("tomllib")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    assert project["name"] == "sessionkit-billing"
    assert project["license-files"] == ["LICENSE"]
    assert "tzdata" in project["dependencies"]
    extras = project["optional-dependencies"]
    runtime = " ".join(extras["all"])
    for tool in ("pytest", "hypothesis", "pyx12", "mypy", "ruff", "mkdocs", "testing", "dev", "docs"):
        assert tool not in runtime
    assert {"ical", "testing", "dev", "docs"} <= set(extras)
    for line in text.splitlines():
        if re.search(r'"[A-Za-z0-9_.\[\]-]+[^"]*<[0-9]', line):
            assert "#" in line, f"an upper cap without a reason beside it: {line.strip()}"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_changelog_has_one_heading_of_each_kind_in_order() -> None:
    """Under [Unreleased]: Added, Changed, Deprecated, Removed, Fixed, Security, each at most once, in that order."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    headings = re.findall(r"^### (.+)$", unreleased, flags=re.MULTILINE)
    order = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
    assert len(headings) == len(set(headings))
    assert headings == [h for h in order if h in headings]
