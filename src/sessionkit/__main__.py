"""``python -m sessionkit``: the same as the ``sessionkit`` command."""

from __future__ import annotations

import sys

from sessionkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
