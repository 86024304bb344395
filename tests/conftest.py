"""Shared test setup: hypothesis profiles, and the PostgreSQL server of the tests.

``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) runs more examples; the default
profile keeps a local run fast.

``postgres_dsn`` names the PostgreSQL server of the integration and
end-to-end tests: ``SESSIONKIT_TEST_POSTGRES_DSN`` when set (``.ci/run``
starts one and sets it), else a throwaway server started with
``.ci/postgres.sh`` where PostgreSQL is installed; otherwise the PostgreSQL
tests are skipped, except under CI (``CI`` set), where they fail: there they
must run. The tests share that server, under ``pytest -n 2`` too: each keeps to
practice ids and schema names of its own. ``own_postgres`` starts a server for
one test alone (the one that restarts it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # no timing verdicts: the machine is shared
settings.register_profile(
    "ci",
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
# The packaging check reruns the unit tests from the sdist against the wheel: few examples suffice there.
settings.register_profile("quick", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgres.sh"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run under CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason} (set SESSIONKIT_TEST_POSTGRES_DSN to run these tests)")


def _start_server() -> tuple[str, str]:
    """Start a throwaway server with ``.ci/postgres.sh``: its folder and the DSN of its test database."""
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg (the postgres extra) is not installed")
    if not _SCRIPT.is_file() or shutil.which("bash") is None:
        _unavailable(f"{_SCRIPT.name} is not here to start one")
    folder = tempfile.mkdtemp(prefix="sessionkit-pg-")
    server = os.path.join(folder, "server")
    done = subprocess.run(
        ["bash", str(_SCRIPT), "start", server], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable("a throwaway server could not be started: " + done.stderr.strip()[-300:])
    return folder, done.stdout.strip().splitlines()[-1]


def _stop_server(folder: str) -> None:
    server = os.path.join(folder, "server")
    subprocess.run(["bash", str(_SCRIPT), "stop", server], capture_output=True, timeout=120, check=False)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The DSN of a PostgreSQL database for the tests, as a role subject to row-level security.

    Shared by every test of the run (and by both workers of ``pytest -n 2``): tests keep apart
    by practice ids and schema names of their own; none stops or restarts this server.
    """
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg (the postgres extra) is not installed")
    dsn = os.environ.get("SESSIONKIT_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    folder, dsn = _start_server()
    try:
        yield dsn
    finally:
        _stop_server(folder)


class OwnServer(NamedTuple):
    """A PostgreSQL server of one test: the DSN of its test database, and how to restart it."""

    dsn: str
    restart: Callable[[], None]


@pytest.fixture
def own_postgres() -> Iterator[OwnServer]:
    """A PostgreSQL server of this test alone, which ``restart()`` stops at once and starts again, as a crash would.

    Its own server, not the shared one of ``postgres_dsn``, so that the restart breaks no test
    running beside it (``pytest -n 2``). Needs PostgreSQL installed (``.ci/postgres.sh`` installs it).
    """
    folder, dsn = _start_server()
    server = os.path.join(folder, "server")

    def restart() -> None:
        done = subprocess.run(
            ["bash", str(_SCRIPT), "restart", server],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    try:
        yield OwnServer(dsn, restart)
    finally:
        _stop_server(folder)
