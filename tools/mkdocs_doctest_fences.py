"""A griffe extension for the docs site: docstring examples (``>>>`` blocks) become fenced code.

sessionkit's docstrings hold doctests that pytest runs. Markdown does not know
``>>>`` blocks: it would run their lines together and read an output such as
``['s1']`` as a link. This extension, loaded by mkdocstrings (``mkdocs.yml``),
wraps each run of ``>>>`` lines and their output in a ``pycon`` code fence,
and turns reStructuredText ``::`` literal blocks into fences too.
"""

from __future__ import annotations

from typing import Any

import griffe


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def fence(text: str) -> str:
    """Return ``text`` with doctest runs and ``::`` literal blocks in fenced code."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            margin = " " * _indent(line)
            out.append(f"{margin}```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
            out.append(f"{margin}```")
            continue
        if stripped.endswith("::") and not stripped.startswith(("..", ":")):
            out.append(line[: len(line) - 1] if stripped != "::" else "")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            block: list[str] = []
            base = _indent(line)
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            if block:
                inner = min(_indent(b) for b in block if b.strip())
                margin = " " * base
                out.append("")
                out.append(f"{margin}```python")
                out.extend(margin + b[inner:] if b.strip() else "" for b in block)
                out.append(f"{margin}```")
                out.append("")
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring in place."""
        if obj.docstring is not None:
            obj.docstring.value = fence(obj.docstring.value)
