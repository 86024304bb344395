"""The top level: the names an app uses daily, and the moved names still resolving for one release."""

from __future__ import annotations

import importlib

import pytest

import sessionkit
import sessionkit.adapters.memory
import sessionkit.adapters.sqlite
import sessionkit.errors
import sessionkit.ports
import sessionkit.readiness
import sessionkit.readiness.registry
from sessionkit.adapters.memory import InMemoryUnitOfWork

MOVED = sorted(sessionkit._MOVED.items())


@pytest.mark.parametrize(("name", "module"), MOVED)
def test_a_moved_name_resolves_with_a_deprecation_warning(name: str, module: str) -> None:
    """sessionkit.<moved name> is still the object of its module, and warns naming that module."""
    with pytest.warns(DeprecationWarning, match=rf"sessionkit\.{name} is deprecated.*{module}"):
        value = getattr(sessionkit, name)
    assert value is getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("name", "module"), MOVED)
def test_from_import_of_a_moved_name_warns(name: str, module: str) -> None:
    """`from sessionkit import <moved name>` works for one release, with the warning."""
    namespace: dict[str, object] = {}
    with pytest.warns(DeprecationWarning, match=module):
        exec(f"from sessionkit import {name}", namespace)
    assert namespace[name] is getattr(importlib.import_module(module), name)


def test_moved_names_are_not_public_any_more() -> None:
    """No moved name is in __all__, so `import *` brings none of them (OFFICE no longer shadows users' names)."""
    assert set(sessionkit._MOVED).isdisjoint(sessionkit.__all__)
    namespace: dict[str, object] = {}
    exec("from sessionkit import *", namespace)
    assert "OFFICE" not in namespace
    assert "ORIGINAL" not in namespace
    assert set(namespace) - {"__builtins__"} == set(sessionkit.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    """A name sessionkit never had raises AttributeError, without a warning."""
    with pytest.raises(AttributeError, match="no_such_name"):
        sessionkit.no_such_name  # noqa: B018 -- the lookup is the test


def test_every_public_name_resolves_without_a_warning() -> None:
    """The daily names are plain attributes (pytest turns any warning into an error)."""
    assert sorted(sessionkit.__all__) == sessionkit.__all__
    for name in sessionkit.__all__:
        assert getattr(sessionkit, name) is not None


def test_errors_moved_to_sessionkit_errors_keep_their_old_paths() -> None:
    """AlreadyExists, TransactionError and RuleRegistryError are one class each, reachable from both homes."""
    assert sessionkit.ports.AlreadyExists is sessionkit.errors.AlreadyExists
    assert sessionkit.ports.TransactionError is sessionkit.errors.TransactionError
    assert sessionkit.readiness.RuleRegistryError is sessionkit.errors.RuleRegistryError
    assert sessionkit.readiness.registry.RuleRegistryError is sessionkit.errors.RuleRegistryError
    for cls in (
        sessionkit.errors.AlreadyExists,
        sessionkit.errors.TransactionError,
        sessionkit.errors.RuleRegistryError,
    ):
        assert issubclass(cls, sessionkit.SessionkitError)
        assert cls.__module__ == "sessionkit.errors"


def test_the_sqlite_package_keeps_its_public_names() -> None:
    """The SQLite adapter became a package; its public names import from the same place."""
    from sessionkit.adapters.sqlite import schema

    assert sessionkit.adapters.sqlite.MIGRATIONS is schema.MIGRATIONS
    assert len(schema.MIGRATIONS) == sessionkit.adapters.sqlite.SCHEMA_VERSION
    assert sessionkit.adapters.sqlite.APPLICATION_ID == 0x536B4954
    assert callable(sessionkit.adapters.sqlite.open_database)


def test_the_session_port_has_no_billing_policy() -> None:
    """Routing left the SessionRepository port; the adapters still satisfy it."""
    assert not hasattr(sessionkit.ports.SessionRepository, "by_destination")
    with InMemoryUnitOfWork() as uow:
        assert isinstance(uow.sessions, sessionkit.ports.SessionRepository)
