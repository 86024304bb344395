"""The print-claims and superbill commands on the demo database: private PDF files, one client per superbill."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
pytest.importorskip("icalendar", reason="the demo imports its sample calendar (ical extra)")
pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDFs back")

from sessionkit.cli import EXIT_BAD_INPUT, EXIT_OK, main  # noqa: E402

# simple-icd-10-cm's import warns (importlib.resources read_text, open_text) on some Pythons; with warnings as
# errors the code set cannot load and calls every diagnosis unknown. Run the commands as a user would.
pytestmark = pytest.mark.filterwarnings("ignore:(read|open)_text is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo practice, seeded once for the module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert main(["demo", "--db", str(path)]) == EXIT_OK
    return path


def text_of(path: Path) -> tuple[int, str]:
    """The page count and the text of a PDF file."""
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_print_claims_writes_a_private_pdf_of_the_ready_sessions(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """print-claims writes the CMS-1500 forms (mode 0600), says how many, and leaves out the sessions not ready."""
    out = tmp_path / "claims.pdf"
    assert main(["print-claims", "--db", str(demo_db), "--output", str(out)]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.startswith("wrote 2 claims (2 pages) to the output file; 5 sessions not ready left out")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    pages, text = text_of(out)
    assert pages == 2
    assert "HEALTH INSURANCE CLAIM FORM" not in text
    assert "SIGNATURE ON FILE" in text
    review = tmp_path / "review.pdf"
    assert (
        main(
            ["print-claims", "--db", str(demo_db), "--output", str(review), "--review", "--offset", "3.6,-6"]
        )
        == EXIT_OK
    )
    assert "HEALTH INSURANCE CLAIM FORM" in text_of(review)[1]


def test_superbill_has_one_client_only(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The superbill of the self-pay client names her and none of the other demo clients."""
    out = tmp_path / "superbill.pdf"
    command = [
        "superbill",
        "--db",
        str(demo_db),
        "--client",
        "c-1004",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
    ]
    assert main([*command, "--output", str(out), "--license", "LCPC 180.012345"]) == EXIT_OK
    assert capsys.readouterr().err == "wrote a superbill of 2 sessions to the output file\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    _, text = text_of(out)
    assert "Mary Jackson" in text
    assert "Billing NPI 1234567893" in text
    assert "licence LCPC 180.012345" in text
    assert "F43.23" in text
    assert "Adjustment disorder with mixed anxiety and depressed mood" in text  # the practice's own setup
    for other in ("Byron", "Hopper", "Turing", "ACM100200"):
        assert other not in text


def test_output_through_a_symlink_or_onto_the_database_is_refused(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A symbolic link as --output, or the database itself, is refused (exit 2) and nothing is written."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.pdf"
    link.symlink_to(victim)
    assert main(["print-claims", "--db", str(demo_db), "--output", str(link)]) == EXIT_BAD_INPUT
    assert victim.read_text() == "keep me"
    assert "symbolic link" in capsys.readouterr().err
    size = demo_db.stat().st_size
    assert main(["print-claims", "--db", str(demo_db), "--output", str(demo_db)]) == EXIT_BAD_INPUT
    assert demo_db.stat().st_size == size
    assert "the database being read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--client", "c-9999", "--from", "2026-02-01", "--to", "2026-03-31"],
            "no client has this id (argument --client)",
        ),
        (["--client", "c-1004", "--from", "2026-03-31", "--to", "2026-02-01"], "--from is after --to"),
    ],
)
def test_superbill_refuses_bad_input_without_echoing_it(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    """An unknown client id or a reversed period: exit 2, one line naming the argument, no PDF."""
    out = tmp_path / "s.pdf"
    assert main(["superbill", "--db", str(demo_db), *arguments, "--output", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert "c-9999" not in err
    assert not out.exists()


def test_superbill_for_a_period_without_sessions_writes_nothing(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No session in the period: exit 1 and no file."""
    out = tmp_path / "s.pdf"
    command = [
        "superbill",
        "--db",
        str(demo_db),
        "--client",
        "c-1004",
        "--from",
        "2020-01-01",
        "--to",
        "2020-01-31",
    ]
    assert main([*command, "--output", str(out)]) == 1
    assert "nothing written" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("offset", ["1", "a,b", "100,0", "1,2,3"])
def test_a_bad_offset_is_a_usage_error(demo_db: Path, tmp_path: Path, offset: str) -> None:
    """--offset takes two numbers of points within an inch of zero."""
    command = [
        "print-claims",
        "--db",
        str(demo_db),
        "--output",
        str(tmp_path / "c.pdf"),
        f"--offset={offset}",
    ]
    assert main(command) == EXIT_BAD_INPUT


def test_without_the_pdf_extra_the_command_says_what_to_install(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without fpdf2 both commands exit 2 naming the pip install of the pdf extra."""
    monkeypatch.setitem(sys.modules, "fpdf", None)
    out = tmp_path / "c.pdf"
    assert main(["print-claims", "--db", str(demo_db), "--output", str(out)]) == EXIT_BAD_INPUT
    assert "pip install 'sessionkit-billing[pdf]'" in capsys.readouterr().err
    assert not out.exists()
