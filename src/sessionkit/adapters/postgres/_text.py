"""Text that PostgreSQL cannot hold as it is: the NUL character, escaped reversibly (private).

PostgreSQL's ``text`` and ``jsonb`` refuse U+0000, which sessionkit's records
may hold (a note pasted from anywhere). The adapter stores each NUL as
``ESC + "0"`` and each ``ESC`` (U+10FFFF, a noncharacter) as ``ESC + ESC``,
in column values and inside the strings of a JSON document, and reverses
it when reading; text holding neither, that is nearly all, is untouched and
costs a substring search.
"""

from __future__ import annotations

import json
from typing import Any, Final

from psycopg.adapt import Loader

__all__ = [
    "ESC",
    "JsonbTextLoader",
    "TextLoader",
    "doc_needs_escape",
    "escape",
    "escape_doc",
    "unescape",
    "unescape_doc",
]

ESC: Final = "\U0010ffff"
_NUL: Final = "\x00"


def escape(value: str) -> str:
    """``value`` with NUL and ESC escaped (the same string when it holds neither)."""
    if _NUL not in value and ESC not in value:
        return value
    return value.replace(ESC, ESC + ESC).replace(_NUL, ESC + "0")


def unescape(value: str) -> str:
    """The string :func:`escape` was given."""
    if ESC not in value:
        return value
    out = []
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch == ESC and i + 1 < n:
            out.append(_NUL if value[i + 1] == "0" else ESC)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _walk(data: Any, fix: Any) -> Any:
    if isinstance(data, str):
        return fix(data)
    if isinstance(data, list):
        return [_walk(v, fix) for v in data]
    if isinstance(data, dict):
        return {fix(k): _walk(v, fix) for k, v in data.items()}
    return data


def doc_needs_escape(text: str) -> bool:
    """Whether :func:`escape_doc` changes the JSON document(s) in ``text``: an ESC, or a NUL or an ESC
    written as a ``\\u`` escape (one test for a document or for a whole column of them)."""
    return ESC in text or ("\\u" in text and ("\\u0000" in text or "\\udbff\\udfff" in text.lower()))


def escape_doc(text: str) -> str:
    """A JSON document with NUL and ESC escaped inside its strings (the same text when there is none)."""
    if not doc_needs_escape(text):
        return text
    return json.dumps(_walk(json.loads(text), escape), ensure_ascii=False)


def unescape_doc(text: str) -> str:
    """The document :func:`escape_doc` was given (as JSON text)."""
    if ESC not in text:
        return text
    return json.dumps(_walk(json.loads(text), unescape), ensure_ascii=False)


class TextLoader(Loader):
    """``text`` columns read as :class:`str`, unescaped."""

    def load(self, data: Any) -> str:
        """Decode and unescape one value."""
        return unescape(bytes(data).decode())


class JsonbTextLoader(Loader):
    """``jsonb`` columns read as JSON text (decoded once, by :mod:`sessionkit.serialization`), unescaped."""

    def load(self, data: Any) -> str:
        """Decode and unescape one document."""
        return unescape_doc(bytes(data).decode())
