"""The SQLite ``save_many`` bulk path for new sessions leaves the unit exactly as the one-by-one loop does."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import ClientSession, SessionkitError
from sessionkit.adapters.sqlite import SqliteDatabase

_SHM = Path("/dev/shm")
FAST_DIR = str(_SHM) if _SHM.is_dir() else None
DAY = date(2026, 3, 2)
IDS = ["s1", "s2", "s3", "n0", "n1"]
KEYS = st.none() | st.sampled_from(["k1", "k2"])


def _session(sid: str, client_id: str, key: str | None, version: int, day: int = 0) -> ClientSession:
    return ClientSession(
        id=sid,
        client_id=client_id,
        date_of_service=DAY + timedelta(days=day),
        billing_code="90834",
        charge="140.00",
        appointment_key=key,
        version=version,
    )


def _sessions(ids: list[str]) -> st.SearchStrategy[ClientSession]:
    return st.builds(
        _session,
        st.sampled_from(ids),
        st.sampled_from(["c1", "c2", "c3"]),
        KEYS,
        st.sampled_from([0, 0, 0, 1, 2]),
        st.integers(0, 3),
    )


SESSIONS = _sessions(IDS)
# Batches of new ids n<k>, n<k+1>, ... (some stored or written in the unit, a few repeating the first one),
# versions mostly 0, keys
# mostly of their own (b0, b1, ...) or none, some shared (k1, k2: with each other, the file or the unit).
NEW_BATCHES = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]),
        st.sampled_from(["none", "none", "own", "own", "shared"]),
        st.sampled_from([0] * 9 + [1]),
        st.integers(0, 3),
        st.sampled_from(["own"] * 7 + ["first"]),
    ),
    min_size=2,
    max_size=5,
).flatmap(
    lambda rows: st.tuples(st.integers(0, 4), *(st.sampled_from(["k1", "k2"]) for _ in rows)).map(
        lambda drawn: [
            _session(
                f"n{drawn[0] + (i if sid == 'own' else 0)}",
                client,
                {"none": None, "own": f"b{i}", "shared": drawn[1 + i]}[kind],
                version,
                day,
            )
            for i, (client, kind, version, day, sid) in enumerate(rows)
        ]
    )
)
# Earlier work in the unit: a save of one session (of any version) or a delete.
STEPS = st.lists(
    st.tuples(st.sampled_from(["save", "delete"]), _sessions(["n0", "n1", "n2", "s1"])), max_size=3
)


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except SessionkitError as exc:
        return ("refused", type(exc).__name__, exc.code)


def _run(
    stored: list[ClientSession],
    steps: list[tuple[str, ClientSession]],
    batch: list[ClientSession],
    *,
    bulk: bool,
) -> tuple[Any, ...]:
    """Store ``stored``, then in one unit run ``steps`` and save ``batch``; the unit's whole state and the file."""
    with (
        tempfile.TemporaryDirectory(dir=FAST_DIR) as folder,
        SqliteDatabase(Path(folder) / "db.sqlite") as db,
    ):
        with db.unit_of_work() as uow:
            for s in stored:
                _outcome(lambda s=s: uow.sessions.save(s))  # one at a time: never the bulk path
            uow.commit()
        with db.unit_of_work() as uow:
            repo = uow.sessions
            for action, s in steps:
                if action == "save":
                    _outcome(lambda s=s: repo.save(s))
                else:
                    _outcome(lambda s=s: repo.delete(s.id))
            if not bulk:
                repo._save_new = lambda batch: None  # type: ignore[method-assign]
            result = _outcome(lambda: repo.save_many(iter(batch)))
            state = (
                list(repo.writes.items()),
                list(repo.expected.items()),
                list(repo._keys.items()),
                list(repo._last.items()),
            )
            versions = [s.version for s in result[1]] if result[0] == "ok" else None
            committed = _outcome(uow.commit)
        conn = sqlite3.connect(Path(folder) / "db.sqlite")
        try:
            rows = conn.execute("SELECT * FROM sessions ORDER BY save_seq").fetchall()
        finally:
            conn.close()
        return result, versions, state, committed, rows


@settings(max_examples=80, deadline=None)
@given(
    stored=st.lists(SESSIONS.map(lambda s: _session(s.id, s.client_id, s.appointment_key, 0)), max_size=3),
    steps=STEPS,
    batch=st.one_of(NEW_BATCHES, NEW_BATCHES, st.lists(SESSIONS, min_size=2, max_size=5)),
)
def test_the_bulk_path_ends_where_the_loop_ends(
    stored: list[ClientSession], steps: list[tuple[str, ClientSession]], batch: list[ClientSession]
) -> None:
    """With the bulk path or only the loop, save_many returns the same sessions or the same refusal, leaves the
    same writes (in save order), expected versions, appointment keys and last saves, and commits the same rows;
    batches with repeated ids, clashing keys, stored sessions, versions not 0, deletes and earlier saves."""
    assert _run(stored, steps, batch, bulk=True) == _run(stored, steps, batch, bulk=False)


def _taken(
    stored: list[ClientSession], steps: list[tuple[str, ClientSession]], batch: list[ClientSession]
) -> bool:
    """Whether save_many of ``batch`` took the bulk path (after storing ``stored`` and running ``steps``)."""
    with (
        tempfile.TemporaryDirectory(dir=FAST_DIR) as folder,
        SqliteDatabase(Path(folder) / "db.sqlite") as db,
    ):
        with db.unit_of_work() as uow:
            for s in stored:
                uow.sessions.save(s)
            uow.commit()
        with db.unit_of_work() as uow:
            repo = uow.sessions
            for action, s in steps:
                repo.save(s) if action == "save" else repo.delete(s.id)
            taken: list[bool] = []
            bulk = repo._save_new

            def spy(b: list[ClientSession]) -> list[ClientSession] | None:
                answer = bulk(b)
                taken.append(answer is not None)
                return answer

            repo._save_new = spy  # type: ignore[method-assign]
            _outcome(lambda: repo.save_many(batch))
            return taken == [True]


NEW = [_session("n1", "c1", "k1", 0), _session("n2", "c2", None, 0), _session("n3", "c1", "k2", 0)]


@pytest.mark.parametrize(
    ("stored", "steps", "batch", "bulk"),
    [
        pytest.param([], [], NEW, True, id="new-to-an-empty-file"),
        pytest.param([_session("s1", "c1", "k9", 0)], [], NEW, True, id="new-beside-stored"),
        pytest.param([], [("save", _session("s1", "c1", "k9", 0))], NEW, True, id="new-after-saves"),
        pytest.param([], [], [*NEW, _session("n1", "c3", None, 0)], False, id="repeated-id"),
        pytest.param([], [], [*NEW, _session("n4", "c3", "k1", 0)], False, id="repeated-key"),
        pytest.param([], [], [*NEW[:2], _session("n4", "c3", None, 1)], False, id="version-not-0"),
        pytest.param([_session("n2", "c1", None, 0)], [], NEW, False, id="id-stored"),
        pytest.param([_session("s1", "c1", "k2", 0)], [], NEW, False, id="key-stored"),
        pytest.param([], [("save", _session("n2", "c1", None, 0))], NEW, False, id="id-saved-in-unit"),
        pytest.param([], [("save", _session("s1", "c1", "k1", 0))], NEW, False, id="key-saved-in-unit"),
        pytest.param(
            [_session("n3", "c1", None, 0)], [("delete", NEW[2])], NEW, False, id="id-deleted-in-unit"
        ),
    ],
)
def test_the_bulk_path_is_taken_only_for_proven_new_sessions(
    stored: list[ClientSession],
    steps: list[tuple[str, ClientSession]],
    batch: list[ClientSession],
    bulk: bool,
) -> None:
    """New ids and keys (of an empty file, beside stored sessions, after earlier saves) take the bulk path; a
    repeated id or key, a version not 0, an id or key stored or written in the unit leave the batch to the loop."""
    assert _taken(stored, steps, batch) is bulk
