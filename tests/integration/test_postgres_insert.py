"""The PostgreSQL adapter's bulk ``insert``: every column sent as one text, split by the server, exact rows."""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if not os.environ.get("CI"):  # under CI a missing extra fails (in postgres_dsn), never skips
    pytest.importorskip("psycopg")

import psycopg

from sessionkit.adapters.postgres._text import ESC, escape, unescape, unescape_doc
from sessionkit.adapters.postgres.repositories import insert

# The characters the column text's separator and null string are made of, NUL, and ordinary ones.
_TRICKY = st.text(
    alphabet=st.sampled_from(["\x00", ESC, "0", "1", "2", "\x01", "a", "é", "\\", '"']), max_size=6
)
_EDGES = st.sampled_from(["", "\x00", ESC, ESC + "1", ESC + "2", "\x01" + ESC + "1", ESC + ESC + "1", "\x01"])
_TEXT = _EDGES | _TRICKY
_ROW = st.tuples(
    _TEXT,  # a: text, never NULL
    st.none() | _TEXT,  # b: text or NULL
    st.integers(-(2**63), 2**63 - 1),  # v: bigint
    st.dates(),  # day: date
    st.dictionaries(_TEXT, st.none() | _TEXT | st.lists(_TEXT, max_size=2), max_size=3),  # doc: jsonb
)
_COLUMNS = (("a", "text"), ("b", "text"), ("v", "bigint"), ("day", "date"), ("doc", "jsonb"))


def test_insert_stores_exactly_the_values_given_in_the_order_given(postgres_dsn: str) -> None:
    """Texts with NUL, ESC, ESC+"1", ESC+"2", empty strings, NULLs, numbers, dates and documents
    round-trip exactly through ``insert`` (text columns stored escaped as one by one), in one-row
    batches as in longer ones, and the identity column numbers the rows in the batch's order.
    """
    with psycopg.connect(postgres_dsn, autocommit=True) as raw:
        raw.execute(
            "CREATE TEMP TABLE insert_probe (n bigint GENERATED ALWAYS AS IDENTITY,"
            " a text NOT NULL, b text, v bigint NOT NULL, day date NOT NULL, doc jsonb NOT NULL)"
        )

        @settings(max_examples=40)
        @given(st.lists(_ROW, min_size=1, max_size=6))
        def check(rows: list[tuple[str, str | None, int, date, dict[str, Any]]]) -> None:
            raw.execute("TRUNCATE insert_probe RESTART IDENTITY")
            insert(
                raw, "insert_probe", _COLUMNS, [(a, b, v, day, json.dumps(doc)) for a, b, v, day, doc in rows]
            )
            stored = raw.execute("SELECT n, a, b, v, day, doc::text FROM insert_probe ORDER BY n").fetchall()
            assert [row[0] for row in stored] == list(range(1, len(rows) + 1))
            assert [row[1:5] for row in stored] == [
                (escape(a), None if b is None else escape(b), v, day) for a, b, v, day, _ in rows
            ]
            assert [(unescape(row[1]), None if row[2] is None else unescape(row[2])) for row in stored] == [
                (a, b) for a, b, *_ in rows
            ]
            assert [json.loads(unescape_doc(row[5])) for row in stored] == [doc for *_, doc in rows]

        check()


def test_insert_keeps_the_batch_order_of_many_rows(postgres_dsn: str) -> None:
    """A batch of many rows lands in the order given: row k of the batch gets identity k."""
    keys = [f"k{i:05d}" for i in range(3000)][::-1]
    with psycopg.connect(postgres_dsn, autocommit=True) as raw:
        raw.execute(
            "CREATE TEMP TABLE order_probe (n bigint GENERATED ALWAYS AS IDENTITY, a text NOT NULL, v bigint)"
        )
        insert(raw, "order_probe", (("a", "text"), ("v", "bigint")), [(k, i) for i, k in enumerate(keys)])
        stored = raw.execute("SELECT n, a, v FROM order_probe ORDER BY n").fetchall()
    assert stored == [(i + 1, k, i) for i, k in enumerate(keys)]
