"""Run the doctests of every module of the sessionkit package."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import sessionkit

SKIP = {"sessionkit.cli"}
"""The command line is tested end to end, not by doctest."""


def _module_names() -> list[str]:
    names = [sessionkit.__name__]
    names += [m.name for m in pkgutil.walk_packages(sessionkit.__path__, prefix="sessionkit.")]
    return sorted(n for n in names if n not in SKIP)


@pytest.mark.parametrize("name", _module_names())
def test_module_doctests(name: str) -> None:
    """Every example in the module's docstrings gives the output it shows."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional extra (icalendar, pyx12, ...) is not installed
        if exc.name is not None and exc.name.split(".")[0] == "sessionkit":
            raise
        pytest.skip(f"optional dependency {exc.name} is not installed")
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0
