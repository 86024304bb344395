"""Start-up: the top-level names load on first use, and ``sessionkit check`` imports only what it uses."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sessionkit
from sessionkit.adapters.sqlite import open_database
from sessionkit.demo import seed_demo

SRC = Path(__file__).resolve().parents[2] / "src"
PUBLIC = sorted(sessionkit._PUBLIC.items())

NOT_FOR_CHECK = (
    "sessionkit.builder",
    "sessionkit.importing",
    "sessionkit.demo",
    "sessionkit.records",
    "sessionkit.payments",
    "sessionkit.billing",
    "sessionkit.claims",
    "sessionkit.remittance",
    "sessionkit.adapters.ics",
    "sessionkit.adapters.csv",
    "sessionkit.adapters.pdf",
    "sessionkit.adapters.postgres",
)
"""Modules ``sessionkit check`` has no use for: the calendar import, the builder, claims, PDF, ..."""


def _modules_after(code: str) -> list[str]:
    """The ``sessionkit`` modules loaded after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('sessionkit'))))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def test_the_table_is_all_of_the_public_names() -> None:
    """``__all__`` is the table's names and ``__version__``, sorted; no name is both public and moved."""
    assert sessionkit.__all__ == sorted([*sessionkit._PUBLIC, "__version__"])
    assert set(sessionkit._PUBLIC).isdisjoint(sessionkit._MOVED)


@pytest.mark.parametrize(("name", "module"), PUBLIC)
def test_a_public_name_is_the_object_of_its_module(name: str, module: str) -> None:
    """``sessionkit.<name>`` and ``from sessionkit import <name>`` give the defining module's object, without a warning."""
    expected = getattr(importlib.import_module(module), name)
    assert getattr(sessionkit, name) is expected
    namespace: dict[str, object] = {}
    exec(f"from sessionkit import {name}", namespace)
    assert namespace[name] is expected


def test_type_checkers_see_the_table() -> None:
    """The ``if TYPE_CHECKING:`` imports of ``sessionkit/__init__.py`` are exactly the table's names, each from its module."""
    tree = ast.parse((SRC / "sessionkit" / "__init__.py").read_text(encoding="utf-8"))
    guarded = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    assert len(guarded) == 1
    seen = {
        (alias.name, node.module)
        for node in guarded[0].body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == set(sessionkit._PUBLIC.items())
    assert all(isinstance(node, ast.ImportFrom) for node in guarded[0].body)


def test_import_sessionkit_loads_no_module_until_a_name_is_used() -> None:
    """``import sessionkit`` loads only its version; ``dir`` lists every name; using one loads its module."""
    before = _modules_after("import sessionkit\nassert set(sessionkit.__all__) <= set(dir(sessionkit))")
    assert before == ["sessionkit", "sessionkit._version"]
    after = _modules_after("import sessionkit\nsessionkit.Money")
    assert "sessionkit.money" in after
    assert "sessionkit.builder" not in after


def test_the_command_line_imports_no_module_only_other_commands_use(tmp_path: Path) -> None:
    """Importing ``sessionkit.cli`` and running ``check`` load no calendar import, builder, claims or PDF module."""
    path = tmp_path / "practice.db"
    with open_database(path) as database:
        seed_demo(database.unit_of_work())
    imported = _modules_after("import sessionkit.cli")
    checked = _modules_after(
        "import contextlib, io\nfrom sessionkit import cli\ncli._code_set = lambda: None\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = cli.main(['check', '--db', {str(path)!r}, '--format', 'json'])\n"
        "assert status in (0, 1), status"
    )
    assert "sessionkit.readiness" in imported
    assert "sessionkit.adapters.sqlite" in checked
    for module in NOT_FOR_CHECK:
        assert module not in imported, module
        assert module not in checked, module
