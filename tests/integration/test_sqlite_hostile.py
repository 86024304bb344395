"""Damaged, foreign and read-only database files: refused before anything is written, and file modes.

Every refusal test checks that the file's bytes are unchanged (SHA-256
before and after) and that no side file (``-wal``, ``-shm``, ``-journal``)
appeared beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionkit import Client, ClientSession, InvalidValue, Payer
from sessionkit.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteDatabase
from sessionkit.adapters.sqlite import database as sqlite_adapter
from sessionkit.adapters.sqlite.schema import _OWN_OBJECTS
from sessionkit.cli import main
from sessionkit.demo import sample_calendar
from sessionkit.errors import DatabaseError

DAY = date(2026, 3, 2)
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file of the folder by name, with the SHA-256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _side_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(SIDE_SUFFIXES))


def _make(path: Path, sessions: int = 300) -> None:
    """A closed sessionkit database holding ``sessions`` sessions and a client (no side file left)."""
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
        uow.sessions.save_many(
            ClientSession(
                id=f"s{i:04d}",
                client_id="c1",
                date_of_service=DAY + timedelta(days=i % 200),
                billing_code="90834",
                charge="140.00",
                appointment_key=f"cal-{i}",
            )
            for i in range(sessions)
        )
        uow.commit()
    assert _side_files(path.parent) == []


def _raw(path: Path, *statements: str) -> None:
    """Run statements on the file with plain sqlite3 (as another program would), leaving no side file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def _refused(path: Path, code: str, **kw: object) -> DatabaseError:
    """Open ``path``; assert DatabaseError ``code``, the same bytes and no side file; return the error."""
    assert _side_files(path.parent) == []
    before = _fingerprint(path.parent)
    with pytest.raises(DatabaseError) as info:
        SqliteDatabase(path, **kw)  # type: ignore[arg-type]
    assert info.value.code == code
    assert _fingerprint(path.parent) == before
    assert _side_files(path.parent) == []
    return info.value


def _corrupt_page(path: Path, table: str) -> None:
    """Overwrite cell pointers of the root page of ``table`` (the schema still reads: the file opens)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size + 12)
        f.write(b"\xff" * 8)


# -- damaged files ------------------------------------------------------------------------


def test_a_damaged_page_is_refused_untouched(tmp_path: Path) -> None:
    """A file whose sessions b-tree has a corrupted page (the schema reads fine) raises database.damaged, untouched."""
    path = tmp_path / "practice.sqlite"
    _make(path)
    _corrupt_page(path, "sessions")
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:  # the damage does not show when the file is merely opened and its schema read
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        conn.close()
    error = _refused(path, "database.damaged")
    assert "integrity check failed" in error.message
    _refused(path, "database.damaged", check="full")


def test_an_import_into_a_damaged_file_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sessionkit import` into a damaged database: exit 2, one line on stderr, the file unchanged, no side file."""
    path = tmp_path / "practice.sqlite"
    _make(path)
    _corrupt_page(path, "sessions_date")
    calendar = tmp_path.parent / f"{tmp_path.name}-calendar.ics"
    calendar.write_text(sample_calendar())
    before = _fingerprint(tmp_path)
    try:
        status = main(["import", str(calendar), "--db", str(path)])
    finally:
        calendar.unlink()
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "database.damaged" in err
    assert _fingerprint(tmp_path) == before
    assert _side_files(tmp_path) == []


def test_a_full_check_also_compares_indexes_with_their_tables(tmp_path: Path) -> None:
    """An index whose entries no longer match its table passes quick_check (opens) but not check='full'."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=50)
    # Point the index's definition at other columns: its entries no longer match the table.
    _raw(
        path,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET sql = 'CREATE INDEX sessions_date ON sessions (client_id, id)'"
        " WHERE name = 'sessions_date'",
    )
    _refused(path, "database.damaged", check="full")
    SqliteDatabase(path).close()  # quick_check looks at pages and b-trees, not at what indexes hold


def test_a_writer_starting_during_the_check_gets_a_second_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that looked damaged read as immutable while a writer's -wal appeared is checked again through the log."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=3)
    real = sqlite_adapter._inspect_connection
    writers: list[sqlite3.Connection] = []

    def torn_then_real(conn: sqlite3.Connection, check: sqlite_adapter.Check) -> int:
        if writers:
            return real(conn, check)
        writer = sqlite3.connect(path)  # another process starts writing: its -wal and -shm appear
        writer.execute("SELECT count(*) FROM sessions").fetchone()
        writers.append(writer)
        assert _side_files(tmp_path) == ["practice.sqlite-shm", "practice.sqlite-wal"]
        raise sqlite_adapter._damaged()

    monkeypatch.setattr(sqlite_adapter, "_inspect_connection", torn_then_real)
    try:
        with SqliteDatabase(path) as db, db.unit_of_work() as uow:
            assert uow.sessions.count() == 3
    finally:
        writers[0].close()


def test_the_check_is_quick_or_full() -> None:
    """Any other check raises InvalidValue database.check before the file is looked at."""
    with pytest.raises(InvalidValue) as info:
        SqliteDatabase("never-created.sqlite", check="none")  # type: ignore[arg-type]
    assert (info.value.code, info.value.field) == ("database.check", "check")
    assert not Path("never-created.sqlite").exists()


# -- schema versions -----------------------------------------------------------------------

_NOT_WHOLE = st.one_of(
    st.text(max_size=4),
    st.floats(allow_nan=False),
    st.binary(max_size=4),
    st.integers(0, 9).map(str),
)


@settings(max_examples=15, deadline=None)
@given(value=_NOT_WHOLE)
def test_a_schema_version_that_is_not_a_whole_number_is_refused(value: object) -> None:
    """A schema version stored as text ('2'), a real or a blob is refused as database.damaged, untouched."""
    with tempfile.TemporaryDirectory() as folder:
        _refuse_schema_version(Path(folder) / "practice.sqlite", value)


def _refuse_schema_version(path: Path, value: object) -> None:
    _make(path, sessions=1)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE sessionkit_meta SET value = ? WHERE key = 'schema_version'", (value,))
        assert conn.execute(
            "SELECT typeof(value) FROM sessionkit_meta WHERE key = 'schema_version'"
        ).fetchone()[0] in {"text", "real", "blob"}
    finally:
        conn.close()
    error = _refused(path, "database.damaged")
    assert "not a whole number" in error.message


def test_the_schema_version_as_text_of_the_current_number_is_refused(tmp_path: Path) -> None:
    """Even the text of the right number ('2' for schema 2) is refused: it is not what sessionkit writes."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    _raw(path, f"UPDATE sessionkit_meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'")
    _refused(path, "database.damaged")


def test_two_different_schema_versions_are_refused(tmp_path: Path) -> None:
    """A file whose meta table and user_version disagree (both known versions) is database.damaged."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    _raw(path, f"UPDATE sessionkit_meta SET value = {SCHEMA_VERSION - 1} WHERE key = 'schema_version'")
    _refused(path, "database.damaged")


def test_a_missing_schema_version_is_refused(tmp_path: Path) -> None:
    """A sessionkit file whose meta table lost its schema version is database.damaged."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    _raw(path, "DELETE FROM sessionkit_meta WHERE key = 'schema_version'")
    _refused(path, "database.damaged")


# -- foreign files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW notes AS SELECT 1 AS x",
        "CREATE TRIGGER t AFTER INSERT ON other BEGIN SELECT 1; END",
        "CREATE INDEX other_x ON other (x)",
        "CREATE TABLE more (x)",
    ],
)
def test_a_file_with_only_foreign_objects_is_refused(tmp_path: Path, statement: str) -> None:
    """A file without sessionkit's id holding only a view (or any object) is database.foreign, untouched."""
    path = tmp_path / "other.sqlite"
    only_a_view = statement.startswith("CREATE VIEW")
    _raw(path, *([statement] if only_a_view else ["CREATE TABLE other (x)", statement]))
    if only_a_view:  # the case once taken for an empty file and turned into a sessionkit database
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            assert conn.execute("SELECT type FROM sqlite_master").fetchall() == [("view",)]
        finally:
            conn.close()
    _refused(path, "database.foreign")


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW client_names AS SELECT doc FROM clients",
        "CREATE TRIGGER copy_clients AFTER INSERT ON clients BEGIN SELECT 1; END",
        "CREATE INDEX clients_doc ON clients (doc)",
        "CREATE TABLE exfiltrate (doc TEXT)",
    ],
)
def test_a_sessionkit_file_with_a_foreign_object_is_refused(tmp_path: Path, statement: str) -> None:
    """sessionkit's id but a view, trigger, index or table sessionkit never creates: database.foreign, untouched."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    _raw(path, statement)
    error = _refused(path, "database.foreign")
    assert "did not create" in error.message


def test_a_new_file_holds_only_objects_of_the_migrations(tmp_path: Path) -> None:
    """Every table, index, view and trigger of a new file is one a step of MIGRATIONS creates (or SQLite's own)."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    conn = sqlite3.connect(path)
    try:
        objects = set(conn.execute("SELECT type, name FROM sqlite_master"))
    finally:
        conn.close()
    ours = {obj for obj in objects if not obj[1].startswith("sqlite_")}
    assert ours <= _OWN_OBJECTS
    assert ("table", "sessions") in ours
    assert ("index", "sessions_appointment_key") in ours


# -- read-only files and folders -----------------------------------------------------------


@contextlib.contextmanager
def _mode(path: Path, mode: int) -> Iterator[None]:
    old = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode)
    try:
        yield
    finally:
        path.chmod(old)


def test_a_read_only_file_is_refused_before_any_side_file(tmp_path: Path) -> None:
    """A database file marked read-only (0444) raises database.read_only: no -wal/-shm appear, bytes the same."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=3)
    with _mode(path, 0o444):
        error = _refused(path, "database.read_only")
    assert "-wal and -shm" in error.message


def test_a_database_in_a_read_only_folder_is_refused_before_any_side_file(tmp_path: Path) -> None:
    """An existing database in a read-only folder (0555) raises database.read_only; nothing appears."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "practice.sqlite"
    _make(path, sessions=3)
    with _mode(folder, 0o555):
        _refused(path, "database.read_only")


def test_a_new_database_in_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    """A missing database in a read-only folder raises database.read_only and no file is created."""
    folder = tmp_path / "ro"
    folder.mkdir()
    with _mode(folder, 0o555):
        with pytest.raises(DatabaseError) as info:
            SqliteDatabase(folder / "practice.sqlite")
        assert info.value.code == "database.read_only"
        assert list(folder.iterdir()) == []


# -- file modes ----------------------------------------------------------------------------


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_a_new_database_and_its_side_files_are_owner_only(tmp_path: Path, mask: int) -> None:
    """The database file, its -wal and its -shm are created 0600 whatever the umask."""
    path = tmp_path / "practice.sqlite"
    with _umask(mask), SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.clients.put(Client(id="c1", first_name="Ada", last_name="Byron"))
        uow.commit()
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"practice.sqlite": 0o600, "practice.sqlite-wal": 0o600, "practice.sqlite-shm": 0o600}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    """An existing file's mode is its owner's choice: opening and writing do not change it."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    path.chmod(0o640)
    with SqliteDatabase(path) as db, db.unit_of_work() as uow:
        uow.clients.put(attrs.evolve(uow.clients.get("c1"), email="a@example.org"))
        uow.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- record versions in the stored documents ------------------------------------------------


def test_record_versions_live_in_the_documents(tmp_path: Path) -> None:
    """A put record's version is in its JSON document; the tables have no version column but sessions'."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    conn = sqlite3.connect(path)
    try:
        doc = json.loads(conn.execute("SELECT doc FROM clients WHERE id = 'c1'").fetchone()[0])
        columns = {row[1] for row in conn.execute("PRAGMA table_info(clients)")}
    finally:
        conn.close()
    assert doc["version"] == 1
    assert columns == {"id", "doc"}


def test_a_document_without_a_version_reads_as_0(tmp_path: Path) -> None:
    """Records written before they had versions read as version 0; a put of that copy stores version 1."""
    path = tmp_path / "practice.sqlite"
    _make(path, sessions=1)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        doc = json.loads(conn.execute("SELECT doc FROM clients WHERE id = 'c1'").fetchone()[0])
        del doc["version"]
        conn.execute("UPDATE clients SET doc = ? WHERE id = 'c1'", (json.dumps(doc),))
        conn.execute(
            "INSERT INTO payers (id, doc) VALUES ('p1', ?)",
            (json.dumps({"schema_version": 1, "id": "p1", "name": "Aetna"}),),
        )
    finally:
        conn.close()
    with SqliteDatabase(path) as db:
        with db.unit_of_work() as uow:
            old = uow.clients.get("c1")
            assert old.version == 0
            assert uow.payers.get("p1") == Payer(id="p1", name="Aetna")
            assert uow.payers.get("p1").version == 0
            uow.clients.put(attrs.evolve(old, email="a@example.org"))
            uow.commit()
        with db.unit_of_work() as uow:
            assert (uow.clients.get("c1").email, uow.clients.get("c1").version) == ("a@example.org", 1)
