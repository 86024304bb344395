"""Run the installed ``sessionkit`` command as a subprocess, as a user would.

The console script beside the running interpreter is preferred (the installed
command); without it, ``python -m sessionkit``. ``PYTHONPATH`` points at the
repository's ``src`` so that the tests also run before the package is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

Run = Callable[..., subprocess.CompletedProcess[str]]


def command() -> list[str]:
    """How to start the command: the console script next to sys.executable, else ``-m``."""
    bindir = Path(sys.executable).parent
    for name in ("sessionkit", "sessionkit.exe"):
        script = bindir / name
        if script.is_file():
            return [str(script)]
    found = shutil.which("sessionkit", path=str(bindir))
    return [found] if found else [sys.executable, "-m", "sessionkit"]


def environment() -> dict[str, str]:
    """The caller's environment with the repository's src first on PYTHONPATH."""
    env = dict(os.environ)
    parts = [str(SRC), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("HYPOTHESIS_PROFILE", None)
    return env


@pytest.fixture(scope="session")
def run() -> Run:
    """Run ``sessionkit ARGS...`` in ``cwd``; returns the completed process (text output)."""
    base = command()
    env = environment()

    def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )

    return _run


@pytest.fixture(scope="session")
def command_line() -> tuple[list[str], dict[str, str]]:
    """The command's start (``[sessionkit]``) and environment, for tests that start it themselves."""
    return command(), environment()
