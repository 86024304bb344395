"""The layers of docs/architecture.md: imports point down, and the core never imports the outer rings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "sessionkit"

OUTER = ("sessionkit.adapters", "sessionkit.cli", "sessionkit.demo", "sessionkit.testing")
"""What the core may never import."""

CORE = (
    "sessionkit.appointments",
    "sessionkit.builder",
    "sessionkit.claims",
    "sessionkit.codes",
    "sessionkit.domain",
    "sessionkit.errors",
    "sessionkit.facts",
    "sessionkit.importing",
    "sessionkit.money",
    "sessionkit.ports",
    "sessionkit.readiness",
    "sessionkit.records",
    "sessionkit.routing",
    "sessionkit.serialization",
)

DOMAIN = ("sessionkit.codes", "sessionkit.domain", "sessionkit.errors", "sessionkit.money")
"""The bottom layer: it imports nothing above itself."""

DOMAIN_HELPERS = ("sessionkit._html",)
"""Private helpers the domain may use (the notebook display of its objects)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every sessionkit module imported by the code of ``path`` (docstring examples are not code)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("sessionkit")}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


PATHS = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
MODULES = sorted(PATHS.items())


@pytest.mark.parametrize("name", sorted(n for n in PATHS if _within(n, CORE)))
def test_the_core_never_imports_adapters_cli_or_testing(name: str) -> None:
    """A core module imports no adapter, no command line, no demo and no test helper."""
    path = PATHS[name]
    assert sorted(i for i in _imports(path) if _within(i, OUTER)) == []


@pytest.mark.parametrize("name", sorted(n for n in PATHS if _within(n, DOMAIN)))
def test_the_domain_imports_only_the_domain(name: str) -> None:
    """Domain objects, money, codes and errors know nothing of facts, services, ports or storage."""
    path = PATHS[name]
    assert sorted(i for i in _imports(path) if not _within(i, DOMAIN + DOMAIN_HELPERS)) == []


def test_facts_import_only_the_domain() -> None:
    """The billing facts are computed from domain objects alone."""
    imported = _imports(PACKAGE / "facts.py")
    assert sorted(i for i in imported if not _within(i, DOMAIN)) == []


def test_ports_carry_no_billing_policy() -> None:
    """The ports import no service: routing and queues are services over them."""
    imported = _imports(PACKAGE / "ports.py")
    services = ("sessionkit.routing", "sessionkit.facts", "sessionkit.readiness", "sessionkit.claims")
    assert sorted(i for i in imported if _within(i, services)) == []


def test_inside_the_package_names_come_from_their_module() -> None:
    """No module of the package imports a name from the top level (only submodules, e.g. serialization)."""
    submodules = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    offenders = []
    for name, path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sessionkit" and node.level == 0:
                offenders += [f"{name}: {a.name}" for a in node.names if a.name not in submodules]
    assert offenders == []
