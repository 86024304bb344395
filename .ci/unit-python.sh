#!/usr/bin/env bash
# The unit tests under another Python (.ci/run starts it for 3.10 and 3.13, beside the main job):
#   bash .ci/unit-python.sh MINOR WORKDIR
# A fresh venv in WORKDIR/venvMINOR, installed as the README's test command does, then tests/unit.
# The property tests run at the ci profile in the main job; here they check that the code runs on
# the other Python, with few examples each (the quick profile). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
minor=$1
work=$2
export PIP_DISABLE_PIP_VERSION_CHECK=1

py=""
if command -v pyenv >/dev/null 2>&1; then
  # The newest installed CPython of that minor version, from pyenv if present.
  py=$(pyenv root)/versions/$(pyenv versions --bare | grep -E "^${minor}\.[0-9]+$" | sort -V | tail -n 1)/bin/python
fi
if [ ! -x "$py" ]; then py=$(command -v "python$minor" || true); fi
if [ -z "$py" ]; then
  echo "Python $minor is not installed: cannot run its unit tests" >&2
  exit 1
fi
started=$SECONDS
# Without a pip of its own: that Python's pip installs into it (seeding pip took longer than most installs).
"$py" -m venv --without-pip "$work/venv$minor"
"$py" -m pip --python "$work/venv$minor/bin/python" install -q -e ".[dev]"
echo "== unit tests under $("$py" --version) (installed in $((SECONDS - started))s)"
HYPOTHESIS_PROFILE=quick "$work/venv$minor/bin/python" -m pytest -q -p no:cacheprovider \
  --basetemp "$work/pytest$minor" tests/unit
