#!/usr/bin/env bash
# Packaging, as a new adopter meets it (issue 21). Called from .ci/run; runs alone too:
#   bash .ci/package.sh
# 1. builds the sdist, then the wheel FROM the sdist (python -m build), and checks what is in them;
# 2. installs the wheel alone in a fresh venv: `sessionkit --help`, imports, a missing extra's one line;
# 3. installs it with [all] in a fresh venv and runs `sessionkit demo` in an empty folder;
# 4. runs the tests from the unpacked sdist against that wheel (with the testing extra);
# 5. runs the adapter contract suite from a throwaway package outside the repository;
# 6. builds the documentation site in strict mode (a broken link or reference fails).
# Exits non-zero on any failure. Prints the seconds each step took.
#
# Installs are what this check spends most of its time on (pip waits on the package index), so:
# the sdist and the wheel are built in one venv holding exactly pyproject's build-system.requires
# (python -m build --no-isolation, instead of a fresh isolated venv for each); the venvs of steps
# 3 and 6 install in the background while steps 1-2 run; and step 5 reuses the venv of step 2
# (the wheel alone, nothing else) rather than installing the same wheel into another fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-default}
python=${PACKAGE_PYTHON:-python3}
started=$SECONDS
last=$SECONDS

step() {
  echo "== package: $* (+$((SECONDS - last))s)"
  last=$SECONDS
}
fail() {
  echo "package: $*" >&2
  exit 1
}
pip_install() { # quiet: -qq hides the warnings of this machine's extra local indexes, not errors
  # The venvs have no pip of their own: $python's pip (22.3+) installs into them (pip --python).
  "$python" -m pip --python "$1/python" install -qq "${@:2}"
}
venv() { # a fresh venv without pip (seeding pip into each venv took longer than most installs)
  "$python" -m venv --without-pip "$work/$1"
  echo "$work/$1/bin"
}

step "build the sdist, then the wheel from it"
bin=$(venv build)
build_bin=$bin
# The build venv holds build and exactly the build-system requirements of pyproject.toml.
mapfile -t requires < <("$bin/python" - <<'EOF'
import ast
import re

text = open("pyproject.toml", encoding="utf-8").read()
try:
    import tomllib  # Python 3.11+
except ImportError:  # 3.10: the one line `requires = [...]` of [build-system]
    print(*ast.literal_eval(re.search(r"^\[build-system\]\s*requires = (\[.*?\])", text, re.M).group(1)), sep="\n")
else:
    print(*tomllib.loads(text)["build-system"]["requires"], sep="\n")
EOF
)
pip_install "$bin" "build>=1.2" "${requires[@]}"
"$bin/python" -m build -q --no-isolation --outdir "$work/dist" . >"$work/build.log" 2>&1 || {
  cat "$work/build.log"
  fail "python -m build failed"
}
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
echo "   $(basename "$sdist") $(basename "$wheel")"
"$bin/python" - "$sdist" "$wheel" <<'EOF'
import sys
import tarfile
import zipfile

sdist, wheel = sys.argv[1:]
names = [n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n]
for needed in ("LICENSE", "README.md", "CHANGELOG.md", "mkdocs.yml", "benchmarks/run.py", "docs/index.md",
               "tests/conftest.py", "src/sessionkit/codes/data/icd10cm_history.txt.gz"):
    assert needed in names, f"the sdist lacks {needed}"
with zipfile.ZipFile(wheel) as zf:
    files = zf.namelist()
    assert any(f.endswith(".dist-info/licenses/LICENSE") for f in files), "the wheel lacks LICENSE"
    assert "sessionkit/py.typed" in files and "sessionkit/data/sample_calendar.ics" in files
    assert not any(f.startswith(("tests/", "docs/", "benchmarks/")) for f in files), "the wheel ships tests"
    meta = zf.read(next(f for f in files if f.endswith(".dist-info/METADATA"))).decode()
for line in ("Name: sessionkit-billing", "License-Expression: MIT", "License-File: LICENSE",
             "Project-URL: Documentation", "Keywords:", "Provides-Extra: all", "Provides-Extra: testing"):
    assert line in meta, f"METADATA lacks {line!r}"
requires = [l for l in meta.splitlines() if l.startswith("Requires-Dist:")]
runtime = [r for r in requires if "extra ==" not in r]
assert any(r.startswith("Requires-Dist: tzdata") and ";" not in r for r in runtime), "tzdata must be unconditional"
all_extra = [r for r in requires if "extra == 'all'" in r or 'extra == "all"' in r]
assert not any(name in r for r in all_extra for name in ("pytest", "hypothesis", "pyx12", "Pygments")), all_extra
print("   sdist and wheel hold what they should;", len(runtime), "runtime requirements")
EOF

# The fresh venvs of steps 3 and 6 install while steps 1-2 run (their output in a log, shown on failure).
background_venv() { # background_venv NAME REQUIREMENT...: a fresh venv NAME with REQUIREMENTs, in the background
  (venv "$1" >/dev/null && pip_install "$work/$1/bin" "${@:2}") >"$work/$1.log" 2>&1 &
}
joined_venv() { # joined_venv NAME PID: wait for background_venv NAME (in this shell: not in $(...))
  wait "$2" || {
    cat "$work/$1.log" >&2
    fail "installing the $1 venv failed"
  }
}
background_venv all "${wheel}[all]"
all_pid=$!
background_venv docs "${wheel}[docs]"
docs_pid=$!

step "the wheel alone in a fresh venv"
bin=$(venv core)
pip_install "$bin" "$wheel"
"$bin/sessionkit" --help >/dev/null
"$bin/sessionkit" --version
mkdir "$work/core-demo"
(
  cd "$work/core-demo"
  "$bin/python" - <<'EOF'
import importlib
import importlib.util
import os
import subprocess
import sys

import sessionkit
import sessionkit.adapters.csv
import sessionkit.adapters.sqlite
import sessionkit.claims
import sessionkit.records
from sessionkit._extras import MissingExtra
from sessionkit.codes.icd10 import default_code_set

for absent in ("icalendar", "hypothesis", "pytest", "simple_icd_10_cm", "pyx12"):
    assert importlib.util.find_spec(absent) is None, f"{absent} came with the bare wheel"
assert default_code_set().release.startswith("FY"), "the shipped ICD-10-CM table answers without extras"
for module, extra in (("sessionkit.adapters.ics", "ical"), ("sessionkit.testing", "testing")):
    try:
        importlib.import_module(module)
    except MissingExtra as exc:
        assert f"pip install 'sessionkit-billing[{extra}]'" in exc.message, exc.message
    else:
        raise AssertionError(f"{module} imported without its extra")
done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "sessionkit"), "demo"],
                      capture_output=True, text=True)
assert done.returncode == 2, done
assert done.stderr.count("\n") == 1 and "pip install 'sessionkit-billing[ical]'" in done.stderr, done.stderr
assert os.listdir(".") == [], "demo without its extra wrote something"
print("   imports, the missing-extra line and the shipped ICD-10-CM table:", sessionkit.__version__)
EOF
)

core_bin=$bin

step "the wheel with [all] in a fresh venv: sessionkit demo in an empty folder"
joined_venv all "$all_pid"
bin=$work/all/bin
"$bin/python" -c "import importlib.util as u; assert not [m for m in ('pytest', 'hypothesis', 'pyx12') if u.find_spec(m)]"
mkdir "$work/demo"
(cd "$work/demo" && "$bin/sessionkit" demo >"$work/demo.out")
grep -q "8 created, 0 already imported" "$work/demo.out" || {
  cat "$work/demo.out"
  fail "sessionkit demo did not import the sample calendar"
}
(cd "$work/demo" && "$bin/sessionkit" check --db sessionkit-demo.db --target x12_837p --format json >"$work/check.json") || [ $? -eq 1 ]
"$bin/python" -c "import json, sys; d = json.load(open(sys.argv[1])); assert (d['format'], d['format_version']) == ('sessionkit.check', 1)" "$work/check.json"
echo "   $(grep -c . "$work/demo.out") lines of demo output; check --format json is versioned"

step "the tests of the unpacked sdist, against the installed wheel"
pip_install "$bin" "${wheel}[all,testing,icd10]"
mkdir "$work/sdist"
tar xzf "$sdist" -C "$work/sdist"
unpacked=$(ls -d "$work"/sdist/*/)
(
  cd "$unpacked"
  # src/ stays (the architecture tests read it) but is not on the path: the tests import the wheel.
  "$bin/python" -c "import sessionkit; assert 'site-packages' in sessionkit.__file__, sessionkit.__file__"
  # Every unit test, with few hypothesis examples: the main job ran them at the ci profile already.
  HYPOTHESIS_PROFILE=quick "$bin/python" -m pytest -q -x -p no:cacheprovider tests/unit tests/e2e/test_benchmarks.py tests/e2e/test_docs.py docs README.md
)

step "the contract suite from a throwaway package outside the repository"
outside="$work/outside/memory-adapter"
mkdir -p "$outside/src/memory_adapter" "$outside/tests"
cat >"$outside/pyproject.toml" <<'EOF'
[build-system]
requires = ["hatchling>=1.27"]
build-backend = "hatchling.build"

[project]
name = "memory-adapter"
version = "0.0.1"
dependencies = ["sessionkit-billing[testing]"]
EOF
cat >"$outside/src/memory_adapter/__init__.py" <<'EOF'
"""A third party's storage adapter: sessionkit's in-memory store behind a database-like object."""

from sessionkit.adapters.memory import InMemoryUnitOfWork, MemoryStore


class MemoryDatabase:
    def __init__(self):
        self.store = MemoryStore()

    def unit_of_work(self):
        return InMemoryUnitOfWork(self.store)

    def reopen(self):
        return self.unit_of_work
EOF
cat >"$outside/tests/test_contract.py" <<'EOF'
"""sessionkit's adapter contract suite, run from another package with no conftest and no settings."""

import contextlib

from memory_adapter import MemoryDatabase
from sessionkit.testing.contract import StoreUnderTest, UnitOfWorkContract


class TestMemoryDatabase(UnitOfWorkContract):
    @contextlib.contextmanager
    def open_store(self):
        db = MemoryDatabase()
        yield StoreUnderTest(db.unit_of_work, reopen=db.reopen)
EOF
# The venv of step 2 (the wheel alone, nothing else installed since) takes the outside package, whose
# [testing] brings pytest and hypothesis; the package's wheel is built in the build venv (hatchling).
"$build_bin/python" -m build -q --no-isolation --wheel --outdir "$work/outside-dist" "$outside" >"$work/build.log" 2>&1 || {
  cat "$work/build.log"
  fail "building the outside package failed"
}
bin=$core_bin
pip_install "$bin" "$wheel" "$work"/outside-dist/*.whl
(
  cd "$outside"
  HYPOTHESIS_PROFILE= "$bin/python" -m pytest -q -p no:cacheprovider -W error tests
)

step "the documentation site, strict"
joined_venv docs "$docs_pid"
bin=$work/docs/bin
NO_MKDOCS_2_WARNING=1 "$bin/mkdocs" build --strict --quiet -f "$root/mkdocs.yml" -d "$work/site"
test -f "$work/site/reference/storage/index.html" || fail "the generated API reference is missing"
echo "   $(find "$work/site" -name index.html | wc -l) pages"

step "packaging checks passed in $((SECONDS - started))s"
