"""The ``sessionkit`` command line: thin wiring over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sessionkit._version import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sessionkit`` command."""
    parser = argparse.ArgumentParser(
        prog="sessionkit",
        description="Client sessions and claims for behavioural-health practices.",
    )
    parser.add_argument("--version", action="version", version=f"sessionkit {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
