"""The documentation a newcomer reads first: the API reference names everything public."""

from __future__ import annotations

import re
from pathlib import Path

import sessionkit

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _documented_names() -> set[str]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", text, flags=re.MULTILINE))


def test_every_public_name_is_in_the_api_reference() -> None:
    """Every name of sessionkit.__all__ has a row in docs/api.md."""
    missing = sorted(set(sessionkit.__all__) - _documented_names())
    assert missing == []


def test_api_reference_lists_to_records() -> None:
    """to_records, the notebook helper, is documented at the top level."""
    assert "to_records" in _documented_names()


def test_quick_start_and_cli_pages_are_linked_from_the_index() -> None:
    """The index links the quick start, command-line and API pages."""
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("cli.md", "api.md"):
        assert f"({page})" in index
    assert (DOCS / "quickstart.md").is_file()
